/*
 * pg.c - the PostgreSQL backend of the store (libpq)
 *
 * Parameters travel as text with server-inferred types; results come back as text. A statement
 * runs with PQexecParams the first time and is prepared on the server only when it runs again,
 * so one-shot statements cost one round trip and loops reuse a plan. Sessions use UTC and
 * UTF-8 whatever the server's defaults. libpq is loaded on first use (pq_load.h).
 */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/pq_load.h"

struct pg_stmt {
    char name[32];
    int prepared, runs;
    int nparams;
    char **values; /* owned copies; NULL = SQL NULL */
    int *lengths;
    PGresult *res;
    int row, nrows;
    int executed;
};

#define PG(s) ((PGconn *)(s)->conn)
#define PST(st) ((struct pg_stmt *)(st)->impl)

static int pg_code(const char *sqlstate)
{
    if (!sqlstate)
        return CR_ESTORE;
    if (strcmp(sqlstate, "23505") == 0)
        return CR_EEXISTS;
    if (strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0 ||
        strcmp(sqlstate, "55P03") == 0)
        return CR_EBUSY;
    if (strncmp(sqlstate, "08", 2) == 0)
        return CR_EIO;
    return CR_ESTORE;
}

static int pg_result_error(PGconn *c, PGresult *r, struct cr_err *err)
{
    const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(c);
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        n--;
    return cr_err_set(err, pg_code(state), "postgres: %.*s", (int)n, msg);
}

static void pg_notice(void *arg, const char *message)
{
    (void)arg;
    cr_log_debug("postgres: %s", message);
}

static int pg_open(struct cr_store *s, const char *url, struct cr_err *err)
{
    PGconn *c;
    PGresult *r;
    int rc = cr__pq_load(err);
    if (rc)
        return rc;
    c = PQconnectdb(url);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        const char *m = c ? PQerrorMessage(c) : "out of memory";
        size_t n = strlen(m);
        while (n && m[n - 1] == '\n')
            n--;
        cr_err_set(err, CR_EIO, "cannot connect to %s: %.*s", s->display_url, (int)n, m);
        PQfinish(c);
        return CR_EIO;
    }
    PQsetNoticeProcessor(c, pg_notice, NULL);
    r = PQexec(c, "SET client_encoding = 'UTF8'; SET TimeZone = 'UTC'; "
                  "SET client_min_messages = warning; SET DateStyle = 'ISO, YMD'; "
                  "SET IntervalStyle = 'postgres'; SET extra_float_digits = 1");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        int code = pg_result_error(c, r, err);
        PQclear(r);
        PQfinish(c);
        return code;
    }
    PQclear(r);
    s->conn = c;
    return 0;
}

static void pg_close(struct cr_store *s)
{
    PQfinish(PG(s));
    s->conn = NULL;
}

static int pg_exec(struct cr_store *s, const char *sql, struct cr_err *err)
{
    PGresult *r = PQexec(PG(s), sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = pg_result_error(PG(s), r, err);
    PQclear(r);
    return rc;
}

/* Rewrites '?' placeholders as $1, $2… outside quotes, identifiers and comments. */
static char *number_placeholders(const char *sql, int *nparams)
{
    struct cr_buf b = CR_BUF_INIT(0);
    const char *p = sql;
    int n = 0;
    while (*p) {
        if (*p == '\'' || *p == '"') {
            char q = *p;
            cr_buf_putc(&b, *p++);
            while (*p) {
                if (*p == q && p[1] == q) {
                    cr_buf_append(&b, p, 2);
                    p += 2;
                    continue;
                }
                if (*p == q)
                    break;
                cr_buf_putc(&b, *p++);
            }
            if (*p)
                cr_buf_putc(&b, *p++);
        } else if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                cr_buf_putc(&b, *p++);
        } else if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            size_t len = e ? (size_t)(e + 2 - p) : strlen(p);
            cr_buf_append(&b, p, len);
            p += len;
        } else if (*p == '?') {
            cr_buf_printf(&b, "$%d", ++n);
            p++;
        } else {
            cr_buf_putc(&b, *p++);
        }
    }
    *nparams = n;
    return cr_buf_detach(&b, NULL);
}

static int pg_prepare(struct cr_store *s, struct cr_stmt *st, const char *sql,
                      struct cr_err *err)
{
    struct pg_stmt *ps = cr_xcalloc(1, sizeof *ps);
    (void)err;
    free(st->sql);
    st->sql = number_placeholders(sql, &ps->nparams);
    snprintf(ps->name, sizeof ps->name, "cr%lu", ++s->seq);
    if (ps->nparams) {
        ps->values = cr_xcalloc((size_t)ps->nparams, sizeof *ps->values);
        ps->lengths = cr_xcalloc((size_t)ps->nparams, sizeof *ps->lengths);
    }
    st->impl = ps;
    return 0;
}

static int set_param(struct cr_stmt *st, int i, const char *p, size_t n)
{
    struct pg_stmt *ps = PST(st);
    if (i < 1 || i > ps->nparams)
        return CR_EINVAL;
    free(ps->values[i - 1]);
    ps->values[i - 1] = p ? cr_xmemdupz(p, n) : NULL;
    ps->lengths[i - 1] = (int)n;
    return 0;
}

static int pg_bind_null(struct cr_stmt *st, int i)
{
    return set_param(st, i, NULL, 0);
}

static int pg_bind_int64(struct cr_stmt *st, int i, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    return set_param(st, i, tmp, (size_t)n);
}

static int pg_bind_double(struct cr_stmt *st, int i, double v)
{
    char tmp[40];
    int n = snprintf(tmp, sizeof tmp, "%.17g", v);
    return set_param(st, i, tmp, (size_t)n);
}

static int pg_bind_text(struct cr_stmt *st, int i, const char *p, size_t n, int copy)
{
    (void)copy; /* libpq sends at execution: always copied here */
    return set_param(st, i, p ? p : "", p ? n : 0);
}

static int pg_bind_bool(struct cr_stmt *st, int i, int v)
{
    return set_param(st, i, v ? "true" : "false", v ? 4 : 5);
}

static int pg_run(struct cr_stmt *st, struct cr_err *err)
{
    struct pg_stmt *ps = PST(st);
    PGconn *c = PG(st->store);
    PGresult *r;
    ExecStatusType status;
    const char *const *vals = (const char *const *)ps->values;

    if (ps->runs >= 1 && !ps->prepared) {
        r = PQprepare(c, ps->name, st->sql, ps->nparams, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            int code = pg_result_error(c, r, err);
            PQclear(r);
            return code;
        }
        PQclear(r);
        ps->prepared = 1;
    }
    if (ps->prepared)
        r = PQexecPrepared(c, ps->name, ps->nparams, vals, ps->lengths, NULL, 0);
    else
        r = PQexecParams(c, st->sql, ps->nparams, NULL, vals, ps->lengths, NULL, 0);
    ps->runs++;
    status = PQresultStatus(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        int code = pg_result_error(c, r, err);
        PQclear(r);
        return code;
    }
    ps->res = r;
    ps->row = -1;
    ps->nrows = status == PGRES_TUPLES_OK ? PQntuples(r) : 0;
    ps->executed = 1;
    return 0;
}

static int pg_step(struct cr_stmt *st, struct cr_err *err)
{
    struct pg_stmt *ps = PST(st);
    if (!ps->executed) {
        int rc = pg_run(st, err);
        if (rc)
            return rc;
    }
    if (ps->row + 1 < ps->nrows) {
        ps->row++;
        return 1;
    }
    ps->row = ps->nrows;
    return 0;
}

static int pg_column_count(struct cr_stmt *st)
{
    return PST(st)->res ? PQnfields(PST(st)->res) : 0;
}

static const char *pg_column_name(struct cr_stmt *st, int col)
{
    return PST(st)->res ? PQfname(PST(st)->res, col) : NULL;
}

static int valid_cell(struct pg_stmt *ps, int col)
{
    return ps->res && ps->row >= 0 && ps->row < ps->nrows && col >= 0 &&
           col < PQnfields(ps->res);
}

static int pg_is_null(struct cr_stmt *st, int col)
{
    struct pg_stmt *ps = PST(st);
    return !valid_cell(ps, col) || PQgetisnull(ps->res, ps->row, col);
}

static const char *pg_text(struct cr_stmt *st, int col)
{
    struct pg_stmt *ps = PST(st);
    if (!valid_cell(ps, col) || PQgetisnull(ps->res, ps->row, col))
        return NULL;
    return PQgetvalue(ps->res, ps->row, col);
}

static int64_t pgst_int64(struct cr_stmt *st, int col)
{
    const char *t = pg_text(st, col);
    if (!t)
        return 0;
    if (t[0] == 't' && t[1] == '\0')
        return 1;
    return strtoll(t, NULL, 10);
}

static double pg_dbl(struct cr_stmt *st, int col)
{
    const char *t = pg_text(st, col);
    return t ? strtod(t, NULL) : 0.0;
}

static void pg_reset(struct cr_stmt *st)
{
    struct pg_stmt *ps = PST(st);
    PQclear(ps->res);
    ps->res = NULL;
    ps->executed = 0;
    ps->row = -1;
    ps->nrows = 0;
}

static void pg_clear_bindings(struct cr_stmt *st)
{
    struct pg_stmt *ps = PST(st);
    for (int i = 0; i < ps->nparams; i++) {
        free(ps->values[i]);
        ps->values[i] = NULL;
        ps->lengths[i] = 0;
    }
}

static void pg_finalize(struct cr_stmt *st)
{
    struct pg_stmt *ps = PST(st);
    if (!ps)
        return;
    pg_reset(st);
    if (ps->prepared && st->store->conn && PQstatus(PG(st->store)) == CONNECTION_OK) {
        char sql[64];
        PGresult *r;
        snprintf(sql, sizeof sql, "DEALLOCATE %s", ps->name);
        r = PQexec(PG(st->store), sql);
        PQclear(r);
    }
    pg_clear_bindings(st);
    free(ps->values);
    free(ps->lengths);
    free(ps);
    st->impl = NULL;
}

const struct cr_store_ops cr__pg_ops = {
    .name = "postgres",
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .prepare = pg_prepare,
    .bind_null = pg_bind_null,
    .bind_int64 = pg_bind_int64,
    .bind_double = pg_bind_double,
    .bind_text = pg_bind_text,
    .bind_bool = pg_bind_bool,
    .step = pg_step,
    .column_count = pg_column_count,
    .column_name = pg_column_name,
    .is_null = pg_is_null,
    .text = pg_text,
    .int64 = pgst_int64,
    .dbl = pg_dbl,
    .reset = pg_reset,
    .clear_bindings = pg_clear_bindings,
    .finalize = pg_finalize,
};
