/*
 * test_query_cli.c - `crier query` end to end on both backends: count, ids, SQL, dimension,
 * errors and exit statuses, with the store's virtual clock
 */
#include "test_query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "store/clock_store.h"
#include "testdb.h"

struct run {
    char out[8192], err[8192];
    int status;
};

static void shell_quote(struct cr_buf *b, const char *s)
{
    cr_buf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            cr_buf_puts(b, "'\\''");
        else
            cr_buf_putc(b, *s);
    }
    cr_buf_putc(b, '\'');
}

static void slurp(const char *path, char *out, size_t size)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(out, 1, size - 1, f) : 0;
    out[n] = '\0';
    if (f)
        fclose(f);
}

/* Runs crier --db URL query ARGS...; NULL ends the list. */
static void crier(struct run *r, const char *url, ...)
{
    struct cr_buf cmd = CR_BUF_INIT(0);
    char out[] = "/tmp/crier-q-out-XXXXXX", err[] = "/tmp/crier-q-err-XXXXXX";
    int fo = mkstemp(out), fe = mkstemp(err), st;
    va_list ap;
    const char *a;
    assert_true(fo >= 0 && fe >= 0);
    close(fo);
    close(fe);
    cr_buf_puts(&cmd, CRIER_BINARY " --db ");
    shell_quote(&cmd, url);
    cr_buf_puts(&cmd, " query");
    va_start(ap, url);
    while ((a = va_arg(ap, const char *))) {
        cr_buf_putc(&cmd, ' ');
        shell_quote(&cmd, a);
    }
    va_end(ap);
    cr_buf_printf(&cmd, " >%s 2>%s", out, err);
    st = system(cmd.data);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    slurp(out, r->out, sizeof r->out);
    slurp(err, r->err, sizeof r->err);
    unlink(out);
    unlink(err);
    cr_buf_release(&cmd);
}

static struct cr_store *open_seeded(enum cr_dialect d)
{
    struct cr_store *s = testdb_open(d);
    struct cr_err err = CR_ERR_INIT;
    tq_seed(s);
    if (cr_store_clock_set(s, tq_now(), &err))
        fail_msg("%s", err.msg);
    return s;
}

static void test_cli(void **state)
{
    enum cr_dialect d = (enum cr_dialect)(intptr_t)*state;
    struct cr_store *s = open_seeded(d);
    const char *url = testdb_url(s);
    struct run r;

    crier(&r, url, "tier = 'gold'", NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "3\n");
    crier(&r, url, "tier = 'gold'", "--count", NULL);
    assert_string_equal(r.out, "3\n");
    crier(&r, url, "--ids", "tier = 'gold' or in_list('vip')", NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "1\n6\n9\n11\n");
    /* now() is the store's virtual clock */
    crier(&r, url, "created_at > now() - 30d", "--ids", NULL);
    assert_string_equal(r.out, "1\n3\n8\n9\n12\n");
    /* custom columns */
    crier(&r, url, "loyalty_points > 100 and newsletter", NULL);
    assert_string_equal(r.out, "2\n");
    crier(&r, url, "--dimension", "subscription", "platform = 'ios' and active", "--ids", NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "1\n4\n6\n");
    crier(&r, url, "--dimension=subscription", "profile.tier = 'gold'", NULL);
    assert_string_equal(r.out, "3\n");
    crier(&r, url, "tier = 'gold' and created_at > now() - 30d", "--sql", NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out,
                        d == CR_DIALECT_SQLITE
                            ? "SELECT p.id FROM profile p WHERE ((p.\"tier\" = ?) AND "
                              "(p.\"created_at\" > ?)) ORDER BY p.id\n"
                              "-- ?1 text 'gold'\n"
                              "-- ?2 timestamp '2026-02-13 12:00:00' (now() - 30d)\n"
                            : "SELECT p.id FROM profile p WHERE ((p.\"tier\" = CAST(? AS text)) "
                              "AND (p.\"created_at\" > CAST(? AS timestamp))) ORDER BY p.id\n"
                              "-- ?1 text 'gold'\n"
                              "-- ?2 timestamp '2026-02-13 12:00:00' (now() - 30d)\n");
    crier(&r, url, "--dimension", "subscription", "app = 'shop-app'", "--sql", NULL);
    assert_string_equal(r.out, d == CR_DIALECT_SQLITE
                                   ? "SELECT s.id FROM subscription s WHERE (s.\"app\" = ?) "
                                     "ORDER BY s.id\n-- ?1 text 'shop-app'\n"
                                   : "SELECT s.id FROM subscription s WHERE (s.\"app\" = CAST(? "
                                     "AS text)) ORDER BY s.id\n-- ?1 text 'shop-app'\n");

    /* errors: exit 2, the message with its position, the line and a caret */
    crier(&r, url, "teir = 'gold'", NULL);
    assert_int_equal(r.status, 2);
    assert_string_equal(r.out, "");
    assert_string_equal(r.err, "crier: 1:1: unknown column 'teir' (did you mean 'tier'?)\n"
                               "  teir = 'gold'\n"
                               "  ^\n");
    crier(&r, url, "tier = 'gold' and\nbirth_date > 3", NULL);
    assert_int_equal(r.status, 2);
    assert_string_equal(r.err, "crier: 2:12: cannot compare date with integer (write date "
                               "'2026-01-31', or compare year(...), month(...), day(...))\n"
                               "  birth_date > 3\n"
                               "             ^\n");
    crier(&r, url, "opened(offer)", NULL);
    assert_int_equal(r.status, 2);
    crier(&r, url, "tier = 'a'; DROP TABLE profile", NULL);
    assert_int_equal(r.status, 2);
    crier(&r, url, "tier = 'x'", "--count", "--ids", NULL);
    assert_int_equal(r.status, 2);
    crier(&r, url, "tier = 'x'", "--dimension", "list", NULL);
    assert_int_equal(r.status, 2);
    assert_string_equal(r.err, "crier: unknown dimension 'list' (dimensions: profile, "
                               "subscription)\n");
    crier(&r, url, NULL);
    assert_int_equal(r.status, 2);
    crier(&r, url, "a", "b", NULL);
    assert_int_equal(r.status, 2);
    crier(&r, url, "tier = 'x'", "--bogus", NULL);
    assert_int_equal(r.status, 2);
    /* still all there */
    crier(&r, url, "true", NULL);
    assert_string_equal(r.out, "12\n");
    testdb_close(s);
}

const struct CMUnitTest tq_cli_tests[] = {
    cmocka_unit_test_prestate(test_cli, (void *)(intptr_t)CR_DIALECT_SQLITE),
    cmocka_unit_test_prestate(test_cli, (void *)(intptr_t)CR_DIALECT_POSTGRES),
};
const size_t tq_cli_ntests = sizeof tq_cli_tests / sizeof *tq_cli_tests;
