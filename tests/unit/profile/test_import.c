/*
 * test_import.c - CSV imports on SQLite and PostgreSQL: upserts, rejected rows with their lines
 * and reasons, normalisation, custom columns, the initial-load path, export round trip
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/buf.h"
#include "core/clock.h"
#include "profile/import.h"
#include "profile/profile.h"
#include "store/schema.h"
#include "testdb.h"

static enum cr_dialect dialect_of(void **state)
{
    return (enum cr_dialect)(intptr_t)*state;
}

static struct cr_clock test_clock;

/* Imports csv; returns the call's status and fills res. */
static int import_text(struct cr_store *s, const char *what, const char *csv, const char *key,
                       struct cr_import_result *res, struct cr_err *err)
{
    struct cr_import_opts o = {.key = key, .default_country = "FR", .clock = &test_clock};
    FILE *f = fmemopen((void *)csv, strlen(csv), "r");
    int rc;
    memset(res, 0, sizeof *res);
    if (strcmp(what, "profiles") == 0)
        rc = cr_import_profiles(s, f, &o, res, err);
    else if (strcmp(what, "subscriptions") == 0)
        rc = cr_import_subscriptions(s, f, &o, res, err);
    else
        rc = cr_import_list(s, what, f, &o, res, err);
    fclose(f);
    return rc;
}

static char *text_of(struct cr_store *s, const char *sql, int64_t id)
{
    char *out = NULL;
    struct cr_err err = CR_ERR_INIT;
    if (cr_store_query_text(s, &err, &out, sql, "i", id) < 0)
        fail_msg("%s: %s", sql, err.msg);
    return out;
}

static int64_t count_of(struct cr_store *s, const char *sql)
{
    int64_t n = -1;
    struct cr_err err = CR_ERR_INIT;
    if (cr_store_query_int64(s, &err, &n, sql, NULL) != 1)
        fail_msg("%s: %s", sql, err.msg);
    return n;
}

static void expect_reject(const struct cr_import_result *r, size_t i, long line,
                          const char *reason_part)
{
    if (i >= r->nrejected)
        fail_msg("expected a rejected row %zu (line %ld), got %zu rejections", i, line,
                 r->nrejected);
    if (r->rejected[i].line != line || !strstr(r->rejected[i].reason, reason_part))
        fail_msg("rejection %zu: line %ld '%s', expected line %ld with '%s'", i,
                 r->rejected[i].line, r->rejected[i].reason, line, reason_part);
}

static const char *const first_file =
    "Email,first_name,last_name,phone,tier,country,birth_date,sms_optout\n"
    "Alice@Example.COM,Alice,Martin,06 12 34 56 78,gold,fr,1990-04-01,\n"     /* 2 */
    "bob@example.com,Bob,\"Dupont, Jr\",+33612345679,silver,FR,1985-13-01,\n" /* 3 bad date */
    ",No,Key,,,FR,,\n"                                                        /* 4 no key */
    "carol@example.com,Carol,\"Multi\nLine\",(650) 253-0000,gold,US,,yes\n"   /* 5-6 */
    "dave@example.com,Dave,X,12,gold,FR,,\n"                                  /* 7 bad phone */
    "erin@example.com,Erin,bad\"quote,,gold,FR,,\n"                           /* 8 bad csv */
    "fred@example.com,Fred,\xC3\x28,,gold,FR,,\n"                             /* 9 bad utf-8 */
    "gina@example.com,Gina,G,,gold,France,,\n"                                /* 10 country */
    "hugo@example.com,Hugo,H,,gold,BE,,maybe\n"                               /* 11 boolean */
    "ivan@example.com,Ivan,I,,gold,BE\n"                                      /* 12 fields */
    "Alice@example.com,Alicia,,,,,,\n";                                      /* 13 update */

static void test_profiles_rejects_and_loads(void **state)
{
    struct cr_store *s = testdb_open(dialect_of(state));
    struct cr_import_result r;
    struct cr_err err = CR_ERR_INIT;
    char *v;

    assert_int_equal(import_text(s, "profiles", first_file, NULL, &r, &err), 0);
    assert_int_equal(r.read, 11);
    /* Alice's domain is lower-cased, so line 13 updates her: 2 inserts (Alice, Carol). */
    assert_int_equal(r.inserted, 2);
    assert_int_equal(r.updated, 1);
    assert_int_equal(r.nrejected, 8);
    expect_reject(&r, 0, 3, "column 'birth_date': bad date '1985-13-01'");
    expect_reject(&r, 1, 4, "empty key 'email'");
    expect_reject(&r, 2, 7, "column 'phone': invalid phone number '12' (too short)");
    expect_reject(&r, 3, 8, "quote inside an unquoted field");
    expect_reject(&r, 4, 9, "column 'last_name': invalid UTF-8 at byte 1");
    expect_reject(&r, 5, 10, "column 'country': bad country 'France'");
    expect_reject(&r, 6, 11, "column 'sms_optout': bad boolean 'maybe'");
    expect_reject(&r, 7, 12, "expected 8 fields, found 6");
    cr_import_result_release(&r);

    assert_int_equal(count_of(s, "SELECT count(*) FROM profile"), 2);
    v = text_of(s, "SELECT email || '|' || phone || '|' || first_name || '|' || country FROM "
                   "profile WHERE id = ?",
                1);
    /* The update (line 13) changed first_name and set the other present columns to NULL. */
    assert_null(v);
    free(v);
    v = text_of(s, "SELECT email || '|' || first_name || '|' || coalesce(phone, '-') FROM profile "
                   "WHERE id = ?",
                1);
    assert_string_equal(v, "Alice@example.com|Alicia|-");
    free(v);
    v = text_of(s, "SELECT phone || '|' || last_name || '|' || sms_optout FROM profile WHERE id = ?",
                2);
    /* Carol's national US number read with her row's country; booleans as 1/true. */
    assert_true(strcmp(v, "+16502530000|Multi\nLine|1") == 0 ||
                strcmp(v, "+16502530000|Multi\nLine|true") == 0);
    free(v);
    testdb_close(s);
}

static void test_update_touches_only_present_columns(void **state)
{
    struct cr_store *s = testdb_open(dialect_of(state));
    struct cr_import_result r;
    struct cr_err err = CR_ERR_INIT;
    char *v;
    assert_int_equal(import_text(s, "profiles",
                                 "external_id,email,first_name,tier\nC1,a@x.org,Ann,gold\n"
                                 "C2,b@x.org,Ben,silver\n",
                                 "external_id", &r, &err),
                     0);
    cr_import_result_release(&r);
    /* Second file: only tier (and the key); first_name and email must stay. */
    assert_int_equal(import_text(s, "profiles", "external_id,tier\nC1,bronze\nC3,gold\n",
                                 "external_id", &r, &err),
                     0);
    assert_int_equal(r.inserted, 1);
    assert_int_equal(r.updated, 1);
    cr_import_result_release(&r);
    v = text_of(s, "SELECT email || '|' || first_name || '|' || tier FROM profile WHERE "
                   "external_id = 'C1' AND id = ?",
                1);
    assert_string_equal(v, "a@x.org|Ann|bronze");
    free(v);
    assert_int_equal(count_of(s, "SELECT count(*) FROM profile"), 3);
    testdb_close(s);
}

static void test_ambiguous_and_external_id_conflicts(void **state)
{
    struct cr_store *s = testdb_open(dialect_of(state));
    struct cr_import_result r;
    struct cr_err err = CR_ERR_INIT;
    /* Two profiles share an e-mail (allowed: a family address). */
    assert_int_equal(import_text(s, "profiles",
                                 "external_id,email\nA,fam@x.org\nB,fam@x.org\nC,c@x.org\n",
                                 "external_id", &r, &err),
                     0);
    cr_import_result_release(&r);
    assert_int_equal(import_text(s, "profiles",
                                 "email,first_name,external_id\nfam@x.org,Who,\n"
                                 "c@x.org,Cy,A\nc@x.org,Cy,C\n",
                                 "email", &r, &err),
                     0);
    assert_int_equal(r.nrejected, 2);
    expect_reject(&r, 0, 2, "matches several profiles");
    expect_reject(&r, 1, 3, "external_id 'A' already belongs to profile");
    assert_int_equal(r.updated, 1);
    cr_import_result_release(&r);
    testdb_close(s);
}

static void test_bad_headers_fail_whole_file(void **state)
{
    static const struct {
        const char *csv, *key, *msg;
    } cases[] = {
        {"email,teir\nx@y.z,gold\n", NULL, "unknown column 'teir'"},
        {"email,tier,tier\n", NULL, "column 'tier' appears twice"},
        {"first_name\nBob\n", NULL, "no 'email' column"},
        {"", NULL, "the file is empty"},
        {"email,\"bad\"x\n", NULL, "bad header"},
        {"email\nx@y.z\n", "nickname", "unknown key 'nickname'"},
    };
    struct cr_store *s = testdb_open(dialect_of(state));
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct cr_import_result r;
        struct cr_err err = CR_ERR_INIT;
        int rc = import_text(s, "profiles", cases[i].csv, cases[i].key, &r, &err);
        if (rc == 0 || !strstr(err.msg, cases[i].msg))
            fail_msg("case %zu: rc %d, message '%s', expected '%s'", i, rc, err.msg,
                     cases[i].msg);
        cr_import_result_release(&r);
    }
    assert_int_equal(count_of(s, "SELECT count(*) FROM profile"), 0);
    testdb_close(s);
}

static void test_custom_columns(void **state)
{
    struct cr_store *s = testdb_open(dialect_of(state));
    struct cr_import_result r;
    struct cr_err err = CR_ERR_INIT;
    char *v;
    assert_int_equal(cr_schema_add_column(s, "profile", "points", CR_COL_INTEGER, &err), 0);
    assert_int_equal(cr_schema_add_column(s, "profile", "vip", CR_COL_BOOLEAN, &err), 0);
    assert_int_equal(cr_schema_add_column(s, "profile", "last_order", CR_COL_TIMESTAMP, &err), 0);
    assert_int_equal(cr_schema_add_column(s, "profile", "score", CR_COL_REAL, &err), 0);
    assert_int_equal(import_text(s, "profiles",
                                 "email,points,vip,last_order,score\n"
                                 "a@x.org,120,true,2026-11-02T10:00:00+01:00,4.5\n"
                                 "b@x.org,12x,false,,\n"
                                 "c@x.org,,FALSE,2026-02-30,\n"
                                 "d@x.org,-3,no,2026-01-01,1e2\n",
                                 NULL, &r, &err),
                     0);
    assert_int_equal(r.inserted, 2);
    expect_reject(&r, 0, 3, "column 'points': bad integer '12x'");
    expect_reject(&r, 1, 4, "column 'last_order': bad timestamp '2026-02-30'");
    cr_import_result_release(&r);
    v = text_of(s, "SELECT (points + 1) || '|' || last_order FROM profile WHERE email = 'a@x.org' "
                   "AND id = ?",
                1);
    assert_string_equal(v, "121|2026-11-02 09:00:00");
    free(v);
    assert_int_equal(count_of(s, "SELECT count(*) FROM profile WHERE vip = true"), 1);
    assert_int_equal(count_of(s, "SELECT count(*) FROM profile WHERE score > 50"), 1);
    testdb_close(s);
}

static void test_initial_load_restores_indexes(void **state)
{
    enum cr_dialect d = dialect_of(state);
    struct cr_store *s = testdb_open(d);
    struct cr_import_result r;
    struct cr_err err = CR_ERR_INIT;
    const char *idx_sql = d == CR_DIALECT_SQLITE
                              ? "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
                                "tbl_name = 'profile' AND sql IS NOT NULL"
                              : "SELECT count(*) FROM pg_indexes WHERE tablename = 'profile' AND "
                                "indexname <> 'profile_pkey'";
    int64_t before = count_of(s, idx_sql);
    assert_true(before >= 3);
    /* Empty table: the initial-load path (duplicates in the file are updates). */
    assert_int_equal(import_text(s, "profiles",
                                 "external_id,email\nX1,a@x.org\nX2,b@x.org\nX1,a2@x.org\n",
                                 "external_id", &r, &err),
                     0);
    assert_int_equal(r.inserted, 2);
    assert_int_equal(r.updated, 1);
    cr_import_result_release(&r);
    assert_int_equal(count_of(s, idx_sql), before);
    /* The unique index is back and enforced. */
    assert_int_equal(cr_store_run(s, &err,
                                  "INSERT INTO profile (external_id, created_at, updated_at) "
                                  "VALUES ('X1', '2026-01-01', '2026-01-01')",
                                  NULL),
                     CR_EEXISTS);
    /* Non-empty table now: the upsert path gives the same answers. */
    cr_err_clear(&err);
    assert_int_equal(import_text(s, "profiles", "external_id,email\nX2,b2@x.org\nX3,c@x.org\n",
                                 "external_id", &r, &err),
                     0);
    assert_int_equal(r.inserted, 1);
    assert_int_equal(r.updated, 1);
    cr_import_result_release(&r);
    if (d == CR_DIALECT_SQLITE) {
        char *mode = NULL;
        assert_int_equal(cr_store_query_text(s, &err, &mode, "PRAGMA journal_mode", NULL), 1);
        assert_string_equal(mode, "wal");
        free(mode);
    }
    testdb_close(s);
}

static void test_large_file_batches(void **state)
{
    /* More rows than a pipeline batch and a commit batch, with bad rows spread through. */
    struct cr_store *s = testdb_open(dialect_of(state));
    struct cr_import_opts o = {.key = "external_id", .clock = &test_clock, .batch_rows = 700};
    struct cr_import_result r = {0};
    struct cr_err err = CR_ERR_INIT;
    struct cr_buf csv = CR_BUF_INIT(0);
    FILE *f;
    int n = dialect_of(state) == CR_DIALECT_SQLITE ? 5000 : 2500;
    cr_buf_puts(&csv, "external_id,email,birth_date\n");
    for (int i = 1; i <= n; i++)
        cr_buf_printf(&csv, "E%d,p%d@x.org,%s\n", i, i, i % 997 == 0 ? "bad" : "2000-01-01");
    /* twice: initial load, then upserts with small commit batches */
    for (int pass = 0; pass < 2; pass++) {
        f = fmemopen(csv.data, csv.len, "r");
        memset(&r, 0, sizeof r);
        assert_int_equal(cr_import_profiles(s, f, &o, &r, &err), 0);
        fclose(f);
        assert_int_equal(r.read, n);
        assert_int_equal(r.nrejected, n / 997);
        assert_int_equal(r.rejected[0].line, 998);
        assert_int_equal(pass ? r.updated : r.inserted, n - n / 997);
        cr_import_result_release(&r);
    }
    assert_int_equal(count_of(s, "SELECT count(*) FROM profile"), n - n / 997);
    cr_buf_release(&csv);
    testdb_close(s);
}

static void test_subscriptions_and_lists(void **state)
{
    struct cr_store *s = testdb_open(dialect_of(state));
    struct cr_import_result r;
    struct cr_err err = CR_ERR_INIT;
    assert_int_equal(import_text(s, "profiles",
                                 "email,phone\na@x.org,+33612345678\nb@x.org,\n", NULL, &r, &err),
                     0);
    cr_import_result_release(&r);
    assert_int_equal(import_text(s, "subscriptions",
                                 "email,app,platform,token\n"
                                 "a@x.org,shop,iOS,tok1\n"
                                 "a@x.org,shop,android,tok2\n"
                                 "nobody@x.org,shop,ios,tok3\n"
                                 "b@x.org,shop,windows,tok4\n"
                                 "b@x.org,shop,ios,tok1\n",
                                 NULL, &r, &err),
                     0);
    assert_int_equal(r.inserted, 2);
    assert_int_equal(r.updated, 1); /* tok1 moves to b */
    expect_reject(&r, 0, 4, "no profile with email 'nobody@x.org'");
    expect_reject(&r, 1, 5, "bad platform 'windows'");
    cr_import_result_release(&r);
    assert_int_equal(count_of(s, "SELECT count(*) FROM subscription WHERE platform = 'ios' AND "
                                 "profile_id = (SELECT id FROM profile WHERE email = 'b@x.org')"),
                     1);
    assert_int_equal(import_text(s, "subscriptions", "email,app\na@x.org,shop\n", NULL, &r, &err),
                     CR_EINVAL);
    assert_non_null(strstr(err.msg, "no 'platform' column"));
    cr_import_result_release(&r);

    /* Lists: keyed by phone, normalised with the default country. */
    cr_err_clear(&err);
    assert_int_equal(import_text(s, "vip", "phone,ignored\n06 12 34 56 78,x\n+33699999999,y\n"
                                           "06 12 34 56 78,z\n",
                                 "phone", &r, &err),
                     0);
    assert_int_equal(r.inserted, 1);
    assert_int_equal(r.updated, 1);
    expect_reject(&r, 0, 3, "no profile with phone '+33699999999'");
    cr_import_result_release(&r);
    assert_int_equal(count_of(s, "SELECT count(*) FROM list_member m JOIN list l ON l.id = "
                                 "m.list_id WHERE l.name = 'vip'"),
                     1);
    testdb_close(s);
}

static void test_export_round_trip(void **state)
{
    struct cr_store *s = testdb_open(dialect_of(state)), *t = testdb_open(dialect_of(state));
    struct cr_import_result r;
    struct cr_err err = CR_ERR_INIT;
    char *out1 = NULL, *out2 = NULL;
    size_t n1 = 0, n2 = 0;
    int64_t rows;
    FILE *f;
    json_t *p;
    assert_int_equal(import_text(s, "profiles", first_file, NULL, &r, &err), 0);
    cr_import_result_release(&r);
    f = open_memstream(&out1, &n1);
    assert_int_equal(cr_profile_export_csv(s, f, &rows, &err), 0);
    fclose(f);
    assert_int_equal(rows, 2);
    /* The export imports back into an empty database (ids and stamps are crier's own). */
    assert_int_equal(import_text(t, "profiles", out1, NULL, &r, &err), 0);
    assert_int_equal(r.inserted, 2);
    assert_int_equal(r.nrejected, 0);
    cr_import_result_release(&r);
    f = open_memstream(&out2, &n2);
    assert_int_equal(cr_profile_export_csv(t, f, &rows, &err), 0);
    fclose(f);
    assert_int_equal(n1, n2); /* same timestamps: same clock */
    assert_string_equal(out1, out2);
    free(out1);
    free(out2);
    assert_int_equal(cr_profile_get_json(s, 2, &p, &err), 0);
    assert_string_equal(json_string_value(json_object_get(p, "country")), "US");
    assert_true(json_is_true(json_object_get(p, "sms_optout")));
    assert_true(json_is_true(json_object_get(p, "tracking_consent")));
    assert_true(json_is_null(json_object_get(p, "birth_date")));
    assert_int_equal(json_integer_value(json_object_get(p, "id")), 2);
    json_decref(p);
    cr_err_clear(&err);
    assert_int_equal(cr_profile_get_json(s, 99, &p, &err), CR_ENOTFOUND);
    testdb_close(s);
    testdb_close(t);
}

static int setup(void **state)
{
    cr_time_t t;
    (void)state;
    cr_time_parse("2026-11-23T10:00:00Z", 20, &t, NULL);
    cr_clock_fixed_init(&test_clock, t);
    return 0;
}

#define BOTH(fn)                                                                             \
    cmocka_unit_test_prestate(fn, (void *)(intptr_t)CR_DIALECT_SQLITE),                       \
        cmocka_unit_test_prestate(fn, (void *)(intptr_t)CR_DIALECT_POSTGRES)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_profiles_rejects_and_loads), BOTH(test_update_touches_only_present_columns),
        BOTH(test_ambiguous_and_external_id_conflicts), BOTH(test_bad_headers_fail_whole_file),
        BOTH(test_custom_columns),            BOTH(test_initial_load_restores_indexes),
        BOTH(test_large_file_batches),        BOTH(test_subscriptions_and_lists),
        BOTH(test_export_round_trip),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
