/*
 * test_cli.c - `crier template render`: context, snippets folder, strict mode, a stored
 * profile, errors on stderr with exit status 2
 */
#include "tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "store/store.h"
#include "testdb.h"

struct run {
    int status;
    char out[4096], err[4096];
};

static char dir[] = "/tmp/crier-tpl-cli-XXXXXX";

static void put(const char *name, const char *text)
{
    char path[256];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    if (!f)
        fail_msg("cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static void slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
}

/* Runs `crier [--db URL] template render ARGS` in dir (args are trusted test text). */
static void crier(struct run *r, const char *db, const char *args)
{
    struct cr_buf cmd = CR_BUF_INIT(0);
    char out[300], err[300];
    int st;
    snprintf(out, sizeof out, "%s/stdout", dir);
    snprintf(err, sizeof err, "%s/stderr", dir);
    cr_buf_printf(&cmd, "cd '%s' && %s %s%s%s template render %s >stdout 2>stderr", dir,
                  CRIER_BINARY, db ? "--db '" : "--db ./none.db", db ? db : "", db ? "'" : "",
                  args);
    st = system(cmd.data);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    slurp(out, r->out, sizeof r->out);
    slurp(err, r->err, sizeof r->err);
    cr_buf_release(&cmd);
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    mkdir("/tmp", 0777);
    put("hello.liquid", "Hello {{ name | default: 'there' }}{% render 'sig' %}");
    put("ctx.json", "{\"name\": \"Ada\", \"items\": [1, 2]}");
    put("bad.json", "{\"name\": ");
    put("list.json", "[1, 2]");
    put("strict.liquid", "Hi\n  {{ nmae }}");
    put("syntax.liquid", "{% if %}");
    put("prof.liquid", "{{ profile.first_name }} {{ profile.tier | upcase }} {{ profile.id }}");
    mkdir("/tmp", 0777);
    {
        char snip[300];
        snprintf(snip, sizeof snip, "%s/snippets", dir);
        mkdir(snip, 0777);
        put("snippets/sig.liquid", " -- crier");
    }
    return 0;
}

static int teardown(void **state)
{
    struct cr_buf cmd = CR_BUF_INIT(0);
    (void)state;
    cr_buf_printf(&cmd, "rm -rf '%s'", dir);
    if (system(cmd.data) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    cr_buf_release(&cmd);
    return 0;
}

static void test_render_context(void **state)
{
    struct run r;
    (void)state;
    crier(&r, NULL, "hello.liquid --context ctx.json --snippets snippets");
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "Hello Ada -- crier");
    crier(&r, NULL, "hello.liquid --snippets snippets");
    assert_string_equal(r.out, "Hello there -- crier");
    crier(&r, NULL, "- --snippets snippets --context ctx.json < hello.liquid");
    assert_string_equal(r.out, "Hello Ada -- crier");
}

static void test_errors(void **state)
{
    struct run r;
    (void)state;
    crier(&r, NULL, "hello.liquid");
    assert_int_equal(r.status, 2);
    assert_string_equal(r.err, "crier: hello.liquid: unknown snippet 'sig' at line 1, column "
                               "46 (no snippet source)\n");
    crier(&r, NULL, "strict.liquid --strict");
    assert_int_equal(r.status, 2);
    assert_string_equal(r.out, "");
    assert_string_equal(r.err, "crier: strict.liquid: undefined variable 'nmae' at line 2, "
                               "column 6\n");
    crier(&r, NULL, "strict.liquid");
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "Hi\n  ");
    crier(&r, NULL, "syntax.liquid");
    assert_int_equal(r.status, 2);
    assert_string_equal(r.err, "crier: syntax.liquid: a condition expected at line 1, column 7 "
                               "(found '%}')\n");
    crier(&r, NULL, "strict.liquid --context bad.json");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "bad.json:1:"));
    crier(&r, NULL, "strict.liquid --context list.json");
    assert_int_equal(r.status, 2);
    assert_string_equal(r.err, "crier: list.json: the context must be a JSON object\n");
    crier(&r, NULL, "missing.liquid");
    assert_int_equal(r.status, 2);
    crier(&r, NULL, "");
    assert_int_equal(r.status, 2);
    crier(&r, NULL, "hello.liquid --bogus");
    assert_int_equal(r.status, 2);
}

static void test_profile(void **state)
{
    struct cr_store *s = testdb_open(CR_DIALECT_SQLITE);
    struct cr_err err = CR_ERR_INIT;
    struct run r;
    int64_t id = 0;
    char args[128];
    (void)state;
    if (cr_store_query_int64(s, &err, &id,
                             "INSERT INTO profile (email, first_name, tier, created_at, "
                             "updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
                             "sssss", "ada@x.test", "Ada", "gold", "2026-01-01 00:00:00",
                             "2026-01-01 00:00:00") != 1)
        fail_msg("insert: %s", err.msg);
    snprintf(args, sizeof args, "prof.liquid --profile %lld", (long long)id);
    crier(&r, testdb_url(s), args);
    assert_int_equal(r.status, 0);
    snprintf(args, sizeof args, "Ada GOLD %lld", (long long)id);
    assert_string_equal(r.out, args);
    crier(&r, testdb_url(s), "prof.liquid --profile 999999");
    assert_int_equal(r.status, 2);
    crier(&r, testdb_url(s), "prof.liquid --profile abc");
    assert_int_equal(r.status, 2);
    testdb_close(s);
}

int run_cli_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_context),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_profile),
    };
    return cmocka_run_group_tests_name("template cli", tests, setup, teardown);
}
