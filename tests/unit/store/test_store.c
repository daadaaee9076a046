/*
 * test_store.c - the store interface on both backends: statements, types, transactions,
 * migrations, the schema catalogue, config and the shared virtual clock
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/datetime.h"
#include "store/clock_store.h"
#include "store/config.h"
#include "store/migrate.h"
#include "store/schema.h"
#include "testdb.h"

static enum cr_dialect dialect_of(void **state)
{
    return (enum cr_dialect)(intptr_t)*state;
}

static void test_types_roundtrip(void **state)
{
    struct cr_store *s = testdb_open(dialect_of(state));
    struct cr_err err = CR_ERR_INIT;
    struct cr_stmt *st;
    int64_t id = 0;

    assert_int_equal(cr_store_query_int64(s, &err, &id,
                                          "INSERT INTO profile (email, first_name, created_at, "
                                          "updated_at, sms_optout, birth_date) VALUES (?, ?, ?, "
                                          "?, ?, ?) RETURNING id",
                                          "ssssbs", "a@x.org", "Zoé 'quoted' ?",
                                          "2026-01-02 03:04:05", "2026-01-02 03:04:05", 1,
                                          "1990-02-28"),
                     1);
    assert_true(id > 0);
    assert_int_equal(cr_stmt_prepare(s,
                                     "SELECT first_name, sms_optout, email_optout, birth_date, "
                                     "created_at, language FROM profile WHERE id = ?",
                                     &st, &err),
                     0);
    cr_stmt_bind_int64(st, 1, id);
    assert_int_equal(cr_stmt_step(st, &err), 1);
    /* A '?' inside a literal must not become a placeholder, and text comes back intact. */
    assert_string_equal(cr_stmt_text(st, 0), "Zoé 'quoted' ?");
    assert_int_equal(cr_stmt_bool(st, 1), 1);
    assert_int_equal(cr_stmt_bool(st, 2), 0);
    assert_string_equal(cr_stmt_text(st, 3), "1990-02-28");
    assert_string_equal(cr_stmt_text(st, 4), "2026-01-02 03:04:05");
    assert_true(cr_stmt_is_null(st, 5));
    assert_null(cr_stmt_text(st, 5));
    assert_int_equal(cr_stmt_step(st, &err), 0);
    cr_stmt_free(st);
    testdb_close(s);
}

static void test_reuse_statement(void **state)
{
    /* The PostgreSQL backend prepares on the second run: both runs must give rows. */
    struct cr_store *s = testdb_open(dialect_of(state));
    struct cr_err err = CR_ERR_INIT;
    struct cr_stmt *ins, *sel;
    char email[32];
    assert_int_equal(cr_stmt_prepare(s,
                                     "INSERT INTO profile (email, created_at, updated_at) "
                                     "VALUES (?, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
                                     &ins, &err),
                     0);
    for (int i = 0; i < 5; i++) {
        snprintf(email, sizeof email, "p%d@x.org", i);
        cr_stmt_reset(ins);
        cr_stmt_bind_str(ins, 1, email);
        assert_int_equal(cr_stmt_step(ins, &err), 0);
    }
    cr_stmt_free(ins);
    assert_int_equal(cr_stmt_prepare(s, "SELECT count(*) FROM profile WHERE email LIKE ?", &sel,
                                     &err),
                     0);
    for (int i = 0; i < 3; i++) {
        cr_stmt_reset(sel);
        cr_stmt_bind_str(sel, 1, "p%");
        assert_int_equal(cr_stmt_step(sel, &err), 1);
        assert_int_equal(cr_stmt_int64(sel, 0), 5);
    }
    cr_stmt_free(sel);
    testdb_close(s);
}

static void test_transactions(void **state)
{
    struct cr_store *s = testdb_open(dialect_of(state));
    struct cr_err err = CR_ERR_INIT;
    int64_t n = -1;
    assert_int_equal(cr_store_begin(s, &err), 0);
    assert_int_equal(cr_store_run(s, &err, "INSERT INTO list (name, created_at, updated_at) "
                                           "VALUES ('a', '2026-01-01', '2026-01-01')",
                                  NULL),
                     0);
    cr_store_rollback(s);
    assert_int_equal(cr_store_query_int64(s, &err, &n, "SELECT count(*) FROM list", NULL), 1);
    assert_int_equal(n, 0);
    /* A unique violation is CR_EEXISTS on both backends. */
    assert_int_equal(cr_store_run(s, &err, "INSERT INTO list (name, created_at, updated_at) "
                                           "VALUES ('a', '2026-01-01', '2026-01-01')",
                                  NULL),
                     0);
    assert_int_equal(cr_store_run(s, &err, "INSERT INTO list (name, created_at, updated_at) "
                                           "VALUES ('a', '2026-01-01', '2026-01-01')",
                                  NULL),
                     CR_EEXISTS);
    assert_non_null(strstr(err.msg, s == NULL ? "" : ""));
    testdb_close(s);
}

static void test_migrate_idempotent(void **state)
{
    struct cr_store *s = testdb_open(dialect_of(state));
    struct cr_err err = CR_ERR_INIT;
    int from = -1, to = -1, v = -1;
    assert_int_equal(cr_store_migrate(s, &from, &to, &err), 0);
    assert_int_equal(from, cr_store_latest_version());
    assert_int_equal(to, cr_store_latest_version());
    assert_int_equal(cr_store_schema_version(s, &v, &err), 0);
    assert_int_equal(v, cr_store_latest_version());
    assert_int_equal(cr_store_require_current(s, &err), 0);
    testdb_close(s);
}

static void test_unmigrated_refused(void **state)
{
    char *url = testdb_new_url(dialect_of(state));
    struct cr_store *s;
    struct cr_err err = CR_ERR_INIT;
    assert_int_equal(cr_store_open(url, &s, &err), 0);
    assert_int_equal(cr_store_require_current(s, &err), CR_ESTATE);
    assert_non_null(strstr(err.msg, "crier init"));
    cr_store_close(s);
    testdb_drop_url(url);
}

static void test_custom_column(void **state)
{
    struct cr_store *s = testdb_open(dialect_of(state));
    struct cr_err err = CR_ERR_INIT;
    struct cr_schema sc;
    const struct cr_column *c;
    int64_t n = 0;
    assert_int_equal(cr_schema_add_column(s, "profile", "loyalty_points", CR_COL_INTEGER, &err), 0);
    cr_err_clear(&err);
    assert_int_equal(cr_schema_add_column(s, "profile", "loyalty_points", CR_COL_TEXT, &err),
                     CR_EEXISTS);
    cr_err_clear(&err);
    assert_int_equal(cr_schema_add_column(s, "profile", "email", CR_COL_TEXT, &err), CR_EEXISTS);
    cr_err_clear(&err);
    assert_int_equal(cr_schema_add_column(s, "profile", "Bad-Name", CR_COL_TEXT, &err),
                     CR_EINVAL);
    cr_err_clear(&err);
    assert_int_equal(cr_schema_add_column(s, "profile", "select", CR_COL_TEXT, &err), CR_EINVAL);
    cr_err_clear(&err);
    assert_int_equal(cr_schema_add_column(s, "nowhere", "x", CR_COL_TEXT, &err), CR_EINVAL);
    cr_err_clear(&err);
    assert_int_equal(cr_schema_load(s, "profile", &sc, &err), 0);
    c = cr_schema_find(&sc, "loyalty_points", 14);
    assert_non_null(c);
    assert_int_equal(c->type, CR_COL_INTEGER);
    assert_false(c->builtin);
    assert_non_null(cr_schema_find(&sc, "tier", 4));
    assert_null(cr_schema_find(&sc, "teir", 4));
    cr_schema_release(&sc);
    /* The column is real: SQL can use it. */
    assert_int_equal(cr_store_run(s, &err,
                                  "INSERT INTO profile (email, loyalty_points, created_at, "
                                  "updated_at) VALUES ('a@b.c', ?, '2026-01-01', '2026-01-01')",
                                  "i", (int64_t)42),
                     0);
    assert_int_equal(cr_store_query_int64(s, &err, &n,
                                          "SELECT loyalty_points + 1 FROM profile", NULL),
                     1);
    assert_int_equal(n, 43);
    testdb_close(s);
}

static void test_config_and_clock(void **state)
{
    struct cr_store *s = testdb_open(dialect_of(state));
    struct cr_err err = CR_ERR_INIT;
    struct cr_clock clk;
    char *v = NULL;
    cr_time_t t, now;
    int virt = -1;
    assert_int_equal(cr_config_get(s, "public_url", &v, &err), 0);
    assert_null(v);
    assert_int_equal(cr_config_set(s, "public_url", "https://t.example", &err), 0);
    assert_int_equal(cr_config_set(s, "public_url", "https://u.example", &err), 0);
    assert_int_equal(cr_config_get(s, "public_url", &v, &err), 0);
    assert_string_equal(v, "https://u.example");
    free(v);

    assert_int_equal(cr_store_clock_get(s, &now, &virt, &err), 0);
    assert_int_equal(virt, 0);
    assert_int_equal(cr_time_parse("2026-12-01T09:00:00Z", 20, &t, &err), 0);
    assert_int_equal(cr_store_clock_set(s, t, &err), 0);
    cr_store_clock_init(&clk, s);
    assert_true(cr_clock_now(&clk) == t);
    assert_int_equal(cr_store_clock_advance(s, 3 * 86400 * CR_USEC_PER_SEC, &now, &err), 0);
    assert_true(now == t + 3 * 86400 * CR_USEC_PER_SEC);
    assert_true(cr_clock_now(&clk) == now);
    assert_int_equal(cr_store_clock_advance(s, -1, &now, &err), CR_EINVAL);
    assert_int_equal(cr_store_clock_real(s, &err), 0);
    assert_int_equal(cr_store_clock_get(s, &now, &virt, &err), 0);
    assert_int_equal(virt, 0);
    testdb_close(s);
}

static void test_bad_sql_reports(void **state)
{
    struct cr_store *s = testdb_open(dialect_of(state));
    struct cr_err err = CR_ERR_INIT;
    assert_int_not_equal(cr_store_run(s, &err, "SELECT nope FROM nowhere", NULL), 0);
    assert_true(err.msg[0] != '\0');
    testdb_close(s);
}

#define BOTH(fn)                                                                             \
    cmocka_unit_test_prestate(fn, (void *)(intptr_t)CR_DIALECT_SQLITE),                       \
        cmocka_unit_test_prestate(fn, (void *)(intptr_t)CR_DIALECT_POSTGRES)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_types_roundtrip),   BOTH(test_reuse_statement), BOTH(test_transactions),
        BOTH(test_migrate_idempotent), BOTH(test_unmigrated_refused), BOTH(test_custom_column),
        BOTH(test_config_and_clock),  BOTH(test_bad_sql_reports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
