/*
 * test_query.c - the filter language's test runner and shared fixtures (test_query.h)
 */
#include "test_query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

cr_time_t tq_now(void)
{
    cr_time_t t = 0;
    if (cr_time_parse(TQ_NOW_TEXT, strlen(TQ_NOW_TEXT), &t, NULL))
        abort();
    return t;
}

struct cr_clock *tq_clock(void)
{
    static struct cr_clock c;
    cr_clock_fixed_init(&c, tq_now());
    return &c;
}

static const struct {
    const char *dim, *name;
    enum cr_coltype type;
} columns[] = {
    {"profile", "id", CR_COL_INTEGER},
    {"profile", "external_id", CR_COL_TEXT},
    {"profile", "email", CR_COL_TEXT},
    {"profile", "phone", CR_COL_TEXT},
    {"profile", "first_name", CR_COL_TEXT},
    {"profile", "last_name", CR_COL_TEXT},
    {"profile", "tier", CR_COL_TEXT},
    {"profile", "country", CR_COL_TEXT},
    {"profile", "language", CR_COL_TEXT},
    {"profile", "birth_date", CR_COL_DATE},
    {"profile", "created_at", CR_COL_TIMESTAMP},
    {"profile", "updated_at", CR_COL_TIMESTAMP},
    {"profile", "email_optout", CR_COL_BOOLEAN},
    {"profile", "sms_optout", CR_COL_BOOLEAN},
    {"profile", "push_optout", CR_COL_BOOLEAN},
    {"profile", "tracking_consent", CR_COL_BOOLEAN},
    {"profile", "loyalty_points", CR_COL_INTEGER},
    {"profile", "score", CR_COL_REAL},
    {"profile", "vip_since", CR_COL_DATE},
    {"profile", "last_login", CR_COL_TIMESTAMP},
    {"profile", "newsletter", CR_COL_BOOLEAN},
    {"profile", "nickname", CR_COL_TEXT},
    {"subscription", "id", CR_COL_INTEGER},
    {"subscription", "profile_id", CR_COL_INTEGER},
    {"subscription", "app", CR_COL_TEXT},
    {"subscription", "platform", CR_COL_TEXT},
    {"subscription", "token", CR_COL_TEXT},
    {"subscription", "active", CR_COL_BOOLEAN},
    {"subscription", "created_at", CR_COL_TIMESTAMP},
    {"subscription", "updated_at", CR_COL_TIMESTAMP},
    {"subscription", "app_version", CR_COL_TEXT},
};
#define NCOLUMNS (sizeof columns / sizeof *columns)

static struct cr_column cols[NCOLUMNS];
static struct cr_schema prof = {"profile", NULL, 0}, sub = {"subscription", NULL, 0};

const struct cr_query_catalog *tq_catalog(enum cr_dialect d)
{
    static struct cr_query_catalog cat[2];
    if (!prof.cols) {
        size_t np = 0;
        for (size_t i = 0; i < NCOLUMNS; i++) {
            cols[i].name = (char *)columns[i].name;
            cols[i].type = columns[i].type;
            cols[i].builtin = 1;
            if (strcmp(columns[i].dim, "profile") == 0)
                np++;
        }
        prof.cols = cols;
        prof.ncols = np;
        sub.cols = cols + np;
        sub.ncols = NCOLUMNS - np;
    }
    cat[d].dialect = d;
    cat[d].profile = &prof;
    cat[d].subscription = &sub;
    return &cat[d];
}

int tq_compile(enum cr_dialect d, enum cr_query_dimension dim, const char *src, struct cr_query *q,
               struct cr_err *err)
{
    struct cr_query_opts o = {0};
    o.dimension = dim;
    o.clock = tq_clock();
    return cr_query_compile(tq_catalog(d), src, strlen(src), &o, q, err);
}

const char *tq_error(const char *src)
{
    static char out[2048];
    struct cr_query q = CR_QUERY_INIT;
    struct cr_err err = CR_ERR_INIT;
    struct cr_buf b = CR_BUF_INIT(0);
    if (tq_compile(CR_DIALECT_SQLITE, CR_QUERY_PROFILE, src, &q, &err) == 0) {
        cr_query_release(&q);
        fail_msg("filter compiled, an error was expected: %s", src);
    }
    cr_query_format_error(src, strlen(src), &err, &b);
    snprintf(out, sizeof out, "%s", b.data);
    cr_buf_release(&b);
    return out;
}

int main(void)
{
    size_t n = tq_compile_ntests + tq_backend_ntests + tq_cli_ntests, k = 0;
    struct CMUnitTest *all = cr_xcalloc(n, sizeof *all);
    int rc;
    for (size_t i = 0; i < tq_compile_ntests; i++)
        all[k++] = tq_compile_tests[i];
    for (size_t i = 0; i < tq_backend_ntests; i++)
        all[k++] = tq_backend_tests[i];
    for (size_t i = 0; i < tq_cli_ntests; i++)
        all[k++] = tq_cli_tests[i];
    rc = _cmocka_run_group_tests("query", all, n, NULL, NULL);
    free(all);
    return rc;
}
