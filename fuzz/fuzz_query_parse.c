/*
 * fuzz_query_parse.c - the filter compiler on arbitrary bytes, and its SQL through SQLite
 *
 * The first byte picks the mode: bit 0 the dialect (PostgreSQL when set), bit 1 the
 * subscription dimension, bit 2 a workflow's delivery names. The rest is the filter.
 * Checked beyond the sanitizers: a compiled filter has one parameter per '?', no statement
 * separator or comment in its SQL, and its SQLite form prepares on a real schema (so the
 * generator never writes SQL that SQLite's parser refuses, e.g. by overflowing its stack).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "fuzz.h"
#include "query/query.h"
#include "store/migrate.h"
#include "store/schema.h"
#include "store/store.h"

static struct cr_store *db;
static struct cr_schema prof, sub;

static void setup(void)
{
    static const struct {
        const char *dim, *name;
        enum cr_coltype type;
    } custom[] = {
        {"profile", "loyalty_points", CR_COL_INTEGER}, {"profile", "score", CR_COL_REAL},
        {"profile", "vip_since", CR_COL_DATE},         {"profile", "last_login", CR_COL_TIMESTAMP},
        {"profile", "newsletter", CR_COL_BOOLEAN},     {"profile", "nickname", CR_COL_TEXT},
        {"subscription", "app_version", CR_COL_TEXT},
    };
    struct cr_err err = CR_ERR_INIT;
    int from, to;
    if (cr_store_open(":memory:", &db, &err) || cr_store_migrate(db, &from, &to, &err))
        abort();
    for (size_t i = 0; i < sizeof custom / sizeof *custom; i++)
        if (cr_schema_add_column(db, custom[i].dim, custom[i].name, custom[i].type, &err))
            abort();
    if (cr_schema_load(db, "profile", &prof, &err) ||
        cr_schema_load(db, "subscription", &sub, &err))
        abort();
}

static int workflow(void *data, const char *name, int64_t *id, struct cr_err *err)
{
    (void)data;
    (void)err;
    *id = (int64_t)strlen(name) + 1;
    return name[0] != 'x';
}

/* The SQLite form must prepare and bind; running it on empty tables may still fail on a
 * value (a date out of range), as PostgreSQL would. */
static void run_on_sqlite(const struct cr_query *q)
{
    struct cr_buf sql = CR_BUF_INIT(0);
    struct cr_err err = CR_ERR_INIT;
    struct cr_stmt *st;
    cr_query_select_sql(q, CR_QUERY_SELECT_COUNT, &sql);
    if (cr_stmt_prepare(db, sql.data, &st, &err))
        __builtin_trap();
    if (cr_query_bind_at(st, 1, q, INT64_C(1773576000000000), &err) == 0)
        if (cr_stmt_step(st, &err) < 0)
            err.code = 0; /* a value error, as PostgreSQL would raise */
    cr_stmt_free(st);
    cr_buf_release(&sql);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cr_query_catalog cat;
    struct cr_query_opts o = {0};
    struct cr_query q = CR_QUERY_INIT;
    struct cr_err err = CR_ERR_INIT;
    struct cr_buf b = CR_BUF_INIT(0);
    struct cr_clock clock;
    const char *src;
    size_t n, marks = 0;
    if (!db)
        setup();
    if (size == 0)
        return 0;
    cat.dialect = data[0] & 1 ? CR_DIALECT_POSTGRES : CR_DIALECT_SQLITE;
    cat.profile = &prof;
    cat.subscription = &sub;
    o.dimension = data[0] & 2 ? CR_QUERY_SUBSCRIPTION : CR_QUERY_PROFILE;
    o.delivery = data[0] & 4 ? workflow : NULL;
    cr_clock_fixed_init(&clock, INT64_C(1773576000000000)); /* 2026-03-15 12:00 UTC */
    o.clock = &clock;
    src = (const char *)data + 1;
    n = size - 1;
    if (cr_query_compile(&cat, src, n, &o, &q, &err)) {
        if (!err.code || !err.msg[0])
            __builtin_trap();
        cr_query_format_error(src, n, &err, &b);
        cr_buf_release(&b);
        return 0;
    }
    for (const char *p = q.where, *quote = NULL; *p; p++) {
        if (quote) {
            if (*p == *quote)
                quote = NULL;
        } else if (*p == '\'' || *p == '"') {
            quote = p;
        } else if (*p == '?') {
            marks++;
        } else if (*p == ';' || (p[0] == '-' && p[1] == '-') || (p[0] == '/' && p[1] == '*')) {
            __builtin_trap();
        }
    }
    if (marks != q.nparams)
        __builtin_trap();
    cr_query_describe(&q, clock.fixed, &b);
    cr_buf_release(&b);
    if (cat.dialect == CR_DIALECT_SQLITE)
        run_on_sqlite(&q);
    cr_query_release(&q);
    return 0;
}
