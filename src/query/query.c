/*
 * query.c - the filter language's public face: compile, bind, run, describe, report errors
 *
 * Drives the stages (lex/parse -> resolve -> sqlgen) over one arena, owns the limits, and
 * turns clock-relative parameters into values at bind time. Knows no grammar and no SQL of
 * its own beyond the SELECT around a condition.
 */
#include "query/query_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/datetime.h"
#include "core/mem.h"
#include "core/utf8.h"

static const char *const type_names[] = {
    /* ORDER: enum cr_query_type */
    "null", "boolean", "integer", "real", "text", "date", "timestamp", "interval",
};

const char *cr_query_type_name(enum cr_query_type t)
{
    return (unsigned)t < sizeof type_names / sizeof *type_names ? type_names[t] : "?";
}

const char *cr_query_dimension_name(enum cr_query_dimension d)
{
    return d == CR_QUERY_SUBSCRIPTION ? "subscription" : "profile";
}

int cr_query_dimension_parse(const char *name, enum cr_query_dimension *out, struct cr_err *err)
{
    if (strcmp(name, "profile") == 0) {
        *out = CR_QUERY_PROFILE;
        return 0;
    }
    if (strcmp(name, "subscription") == 0) {
        *out = CR_QUERY_SUBSCRIPTION;
        return 0;
    }
    return cr_err_set(err, CR_EINVAL,
                      "unknown dimension '%.64s' (dimensions: profile, subscription)", name);
}

/* ---------------------------------------------------------------- shared helpers */

int cr__qerr(struct cr__qctx *q, int code, int line, int col, const char *fmt, ...)
{
    va_list ap;
    if (q->err.code)
        return q->err.code;
    q->err.code = code;
    q->err.line = line;
    q->err.col = col;
    va_start(ap, fmt);
    vsnprintf(q->err.msg, sizeof q->err.msg, fmt, ap);
    va_end(ap);
    return code;
}

int64_t cr__floor_div(int64_t a, int64_t b)
{
    int64_t d = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        d--;
    return d;
}

/* Optimal string alignment distance (edits and swaps of neighbours), or limit + 1. */
static int distance(const char *a, const char *b, int limit)
{
    int la = (int)strlen(a), lb = (int)strlen(b);
    int d[33][33];
    if (la > 32 || lb > 32 || abs(la - lb) > limit)
        return limit + 1;
    for (int i = 0; i <= la; i++)
        d[i][0] = i;
    for (int j = 0; j <= lb; j++)
        d[0][j] = j;
    for (int i = 1; i <= la; i++)
        for (int j = 1; j <= lb; j++) {
            int v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < v)
                v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[la][lb] > limit ? limit + 1 : d[la][lb];
}

const char *cr__closest(const char *word, const char *const *cands, size_t n)
{
    int limit = strlen(word) <= 4 ? 1 : 2, best = limit + 1;
    const char *found = NULL;
    for (size_t i = 0; i < n; i++) {
        int d = distance(word, cands[i], limit);
        if (d > 0 && d < best) {
            best = d;
            found = cands[i];
        }
    }
    return found;
}

/* ---------------------------------------------------------------- compile */

void cr_query_release(struct cr_query *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->nparams; i++)
        free(q->params[i].text);
    free(q->params);
    free(q->where);
    q->params = NULL;
    q->nparams = 0;
    q->where = NULL;
    q->uses_profile = 0;
}

int cr_query_compile(const struct cr_query_catalog *cat, const char *src, size_t len,
                     const struct cr_query_opts *opts, struct cr_query *out, struct cr_err *err)
{
    static const struct cr_query_opts defaults;
    struct cr__qctx q;
    struct node *root = NULL;
    int rc;

    memset(out, 0, sizeof *out);
    if (!opts)
        opts = &defaults;
    if (!cat || !cat->profile)
        return cr_err_set(err, CR_EINVAL, "query: no profile columns in the catalogue");
    if (opts->dimension == CR_QUERY_SUBSCRIPTION && !cat->subscription)
        return cr_err_set(err, CR_EINVAL, "query: no subscription columns in the catalogue");
    memset(&q, 0, sizeof q);
    q.cat = cat;
    q.opts = opts;
    q.dialect = cat->dialect;
    q.dimension = opts->dimension;
    q.src = src ? src : "";
    q.len = src ? len : 0;
    q.max_depth = opts->max_depth > 0 ? opts->max_depth : CR_QUERY_DEFAULT_MAX_DEPTH;
    if (q.max_depth > CR_QUERY_HARD_MAX_DEPTH)
        q.max_depth = CR_QUERY_HARD_MAX_DEPTH;
    q.max_params = opts->max_params ? opts->max_params : CR_QUERY_DEFAULT_MAX_PARAMS;
    out->dialect = q.dialect;
    out->dimension = q.dimension;
    out->clock = opts->clock;

    if (q.len > (opts->max_source ? opts->max_source : CR_QUERY_DEFAULT_MAX_SOURCE))
        rc = cr__qerr(&q, CR_ETOOBIG, 0, 0, "filter is too long (%zu bytes, at most %zu)", q.len,
                      opts->max_source ? opts->max_source : CR_QUERY_DEFAULT_MAX_SOURCE);
    else if (!(rc = cr__parse(&q, &root)) && !(rc = cr__resolve(&q, &root))) {
        /* The SQLite form decides what is too deep, for both backends alike. */
        if (q.dialect == CR_DIALECT_POSTGRES) {
            struct cr_query probe = CR_QUERY_INIT;
            rc = cr__sqlgen(&q, root, CR_DIALECT_SQLITE, &probe);
            cr_query_release(&probe);
        }
        if (!rc)
            rc = cr__sqlgen(&q, root, q.dialect, out);
        if (!rc)
            out->type = root->type;
    }
    cr__arena_release(&q.arena);
    if (rc) {
        cr_query_release(out);
        if (err && !err->code)
            *err = q.err;
        return q.err.code ? q.err.code : rc;
    }
    out->uses_profile = q.uses_profile;
    return 0;
}

int cr_query_compile_store(struct cr_store *s, const char *src, size_t len,
                           const struct cr_query_opts *opts, struct cr_query *out,
                           struct cr_err *err)
{
    struct cr_schema prof, sub;
    struct cr_query_catalog cat;
    int rc;
    memset(out, 0, sizeof *out);
    if ((rc = cr_schema_load(s, "profile", &prof, err)))
        return rc;
    if ((rc = cr_schema_load(s, "subscription", &sub, err))) {
        cr_schema_release(&prof);
        return rc;
    }
    cat.dialect = cr_store_dialect(s);
    cat.profile = &prof;
    cat.subscription = &sub;
    rc = cr_query_compile(&cat, src, len, opts, out, err);
    cr_schema_release(&prof);
    cr_schema_release(&sub);
    return rc;
}

/* ---------------------------------------------------------------- bind */

/* The text of a CR_QB_YEARS_AGO parameter at now; 0, or -1 outside years 1 to 9999. */
static int years_ago(const struct cr_query_param *p, cr_time_t now, char *out)
{
    int y, m, d;
    cr_civil_from_days(cr__floor_div(now, CR__USEC_PER_DAY), &y, &m, &d);
    if (p->i < 0 || p->i >= y)
        return -1;
    snprintf(out, CR_TIME_BUFSZ, "%04d-%02d-%02d", y - (int)p->i, m, d);
    return 0;
}

/* The value of a date or timestamp parameter at now; 0, or -1 outside years 1 to 9999. */
static int param_time(const struct cr_query_param *p, cr_time_t now, int64_t *v)
{
    int64_t today = cr__floor_div(now, CR__USEC_PER_DAY);
    if (p->type == CR_QT_DATE) {
        *v = p->base == CR_QB_ABSOLUTE ? p->i : today + p->i;
        return *v < CR__MIN_DAYS || *v > CR__MAX_DAYS ? -1 : 0;
    }
    *v = p->base == CR_QB_ABSOLUTE ? p->i
         : p->base == CR_QB_NOW    ? now + p->i
                                   : today * CR__USEC_PER_DAY + p->i;
    return *v < CR__MIN_DAYS * CR__USEC_PER_DAY || *v >= (CR__MAX_DAYS + 1) * CR__USEC_PER_DAY ? -1
                                                                                               : 0;
}

static int needs_clock(const struct cr_query *q)
{
    for (size_t i = 0; i < q->nparams; i++)
        if (q->params[i].base != CR_QB_ABSOLUTE)
            return 1;
    return 0;
}

int cr_query_bind_at(struct cr_stmt *st, int first, const struct cr_query *q, cr_time_t now,
                     struct cr_err *err)
{
    /* now must be a real instant for the offsets (bounded at compile time) to add safely. */
    if (now < CR__MIN_DAYS * CR__USEC_PER_DAY || now > (CR__MAX_DAYS + 1) * CR__USEC_PER_DAY)
        return cr_err_set(err, CR_EINVAL, "the clock is outside years 1 to 9999");
    for (size_t i = 0; i < q->nparams; i++) {
        const struct cr_query_param *p = &q->params[i];
        int idx = first + (int)i, rc = 0;
        char tmp[CR_TIME_BUFSZ];
        int64_t v;
        switch (p->type) {
        case CR_QT_NULL:
            rc = cr_stmt_bind_null(st, idx);
            break;
        case CR_QT_BOOLEAN:
            rc = cr_stmt_bind_bool(st, idx, (int)p->i);
            break;
        case CR_QT_INTEGER:
            rc = cr_stmt_bind_int64(st, idx, p->i);
            break;
        case CR_QT_REAL:
            rc = cr_stmt_bind_double(st, idx, p->d);
            break;
        case CR_QT_TEXT:
            rc = cr_stmt_bind_text(st, idx, p->text, p->len);
            break;
        case CR_QT_DATE:
        case CR_QT_TIMESTAMP:
            if (p->base == CR_QB_YEARS_AGO) {
                if (years_ago(p, now, tmp))
                    return cr_err_at(err, CR_EINVAL, p->line, p->col,
                                     "age() bound goes outside years 1 to 9999");
                rc = cr_stmt_bind_str(st, idx, tmp);
                break;
            }
            if (param_time(p, now, &v))
                return cr_err_at(err, CR_EINVAL, p->line, p->col,
                                 "%s goes outside years 1 to 9999 at the current time",
                                 p->base == CR_QB_NOW ? "now() arithmetic" : "today() arithmetic");
            if (p->type == CR_QT_DATE)
                cr_date_format(v, tmp);
            else
                cr_time_format_sql(v, tmp);
            rc = cr_stmt_bind_str(st, idx, tmp);
            break;
        case CR_QT_INTERVAL:
            if (q->dialect == CR_DIALECT_POSTGRES) {
                snprintf(tmp, sizeof tmp, "%lld microseconds", (long long)p->i);
                rc = cr_stmt_bind_str(st, idx, tmp);
            } else {
                rc = cr_stmt_bind_int64(st, idx, p->i);
            }
            break;
        }
        if (rc)
            return cr_err_set(err, rc, "cannot bind parameter %d of the filter", idx);
    }
    return 0;
}

int cr_query_bind(struct cr_stmt *st, int first, const struct cr_query *q, struct cr_err *err)
{
    return cr_query_bind_at(st, first, q, needs_clock(q) ? cr_clock_now(q->clock) : 0, err);
}

/* ---------------------------------------------------------------- run */

int cr_query_select_sql(const struct cr_query *q, enum cr_query_select what, struct cr_buf *out)
{
    int subs = q->dimension == CR_QUERY_SUBSCRIPTION;
    const char *id = subs ? "s.id" : "p.id";
    if (what == CR_QUERY_SELECT_COUNT)
        cr_buf_puts(out, "SELECT count(*)");
    else
        cr_buf_printf(out, "SELECT %s", id);
    if (subs)
        cr_buf_puts(out, q->uses_profile
                             ? " FROM subscription s JOIN profile p ON p.id = s.profile_id"
                             : " FROM subscription s");
    else
        cr_buf_puts(out, " FROM profile p");
    cr_buf_printf(out, " WHERE %s", q->where ? q->where : "(1 = 0)");
    if (what == CR_QUERY_SELECT_IDS)
        cr_buf_printf(out, " ORDER BY %s", id);
    return out->err;
}

static int prepare(struct cr_store *s, const struct cr_query *q, enum cr_query_select what,
                   struct cr_stmt **st, struct cr_err *err)
{
    struct cr_buf sql = CR_BUF_INIT(0);
    int rc;
    if (cr_store_dialect(s) != q->dialect)
        return cr_err_set(err, CR_EINVAL, "query compiled for %s, store is %s",
                          q->dialect == CR_DIALECT_POSTGRES ? "postgres" : "sqlite",
                          cr_store_dialect_name(s));
    if (cr_query_select_sql(q, what, &sql)) {
        cr_buf_release(&sql);
        return cr_err_set(err, CR_ETOOBIG, "query statement too long");
    }
    rc = cr_stmt_prepare(s, sql.data, st, err);
    cr_buf_release(&sql);
    if (rc)
        return rc;
    if ((rc = cr_query_bind(*st, 1, q, err))) {
        cr_stmt_free(*st);
        *st = NULL;
    }
    return rc;
}

int cr_query_count(struct cr_store *s, const struct cr_query *q, int64_t *n, struct cr_err *err)
{
    struct cr_stmt *st;
    int rc = prepare(s, q, CR_QUERY_SELECT_COUNT, &st, err);
    if (rc)
        return rc;
    rc = cr_stmt_step(st, err);
    if (rc == 1) {
        *n = cr_stmt_int64(st, 0);
        rc = 0;
    } else if (rc == 0) {
        rc = cr_err_set(err, CR_ESTORE, "count returned no row");
    }
    cr_stmt_free(st);
    return rc;
}

int cr_query_ids(struct cr_store *s, const struct cr_query *q, int (*each)(void *data, int64_t id),
                 void *data, struct cr_err *err)
{
    struct cr_stmt *st;
    int rc = prepare(s, q, CR_QUERY_SELECT_IDS, &st, err);
    if (rc)
        return rc;
    while ((rc = cr_stmt_step(st, err)) == 1)
        if ((rc = each(data, cr_stmt_int64(st, 0))) != 0)
            break;
    cr_stmt_free(st);
    return rc;
}

/* ---------------------------------------------------------------- describe */

static void describe_text(const char *s, size_t n, struct cr_buf *out)
{
    cr_buf_putc(out, '\'');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\'')
            cr_buf_puts(out, "''");
        else if (c < 0x20 || c == 0x7F)
            cr_buf_printf(out, "\\x%02x", c);
        else
            cr_buf_putc(out, (char)c);
    }
    cr_buf_putc(out, '\'');
}

static void describe_offset(const struct cr_query_param *p, struct cr_buf *out)
{
    char tmp[CR_TIME_BUFSZ];
    int64_t off = p->i < 0 ? -p->i : p->i;
    cr_buf_puts(out, p->base == CR_QB_NOW ? " (now()" : " (today()");
    if (p->i != 0) {
        if (p->type == CR_QT_DATE)
            cr_buf_printf(out, " %c %lld", p->i < 0 ? '-' : '+', (long long)off);
        else
            cr_buf_printf(out, " %c %s", p->i < 0 ? '-' : '+', cr_duration_format(off, tmp));
    }
    cr_buf_putc(out, ')');
}

int cr_query_describe(const struct cr_query *q, cr_time_t now, struct cr_buf *out)
{
    cr_buf_puts(out, q->where ? q->where : "");
    for (size_t i = 0; i < q->nparams; i++) {
        const struct cr_query_param *p = &q->params[i];
        char tmp[CR_TIME_BUFSZ];
        int64_t v;
        double d;
        cr_buf_printf(out, "\n-- ?%zu %s ", i + 1, cr_query_type_name(p->type));
        switch (p->type) {
        case CR_QT_NULL:
            cr_buf_puts(out, "null");
            break;
        case CR_QT_BOOLEAN:
            cr_buf_puts(out, p->i ? "true" : "false");
            break;
        case CR_QT_INTEGER:
            cr_buf_printf(out, "%lld", (long long)p->i);
            break;
        case CR_QT_REAL:
            /* the shortest form that reads back the same */
            snprintf(tmp, sizeof tmp, "%.15g", p->d);
            if (sscanf(tmp, "%lf", &d) != 1 || d != p->d)
                snprintf(tmp, sizeof tmp, "%.17g", p->d);
            cr_buf_puts(out, tmp);
            break;
        case CR_QT_TEXT:
            describe_text(p->text, p->len, out);
            break;
        case CR_QT_DATE:
        case CR_QT_TIMESTAMP:
            if (p->base == CR_QB_YEARS_AGO) {
                if (years_ago(p, now, tmp))
                    cr_buf_puts(out, "(out of range)");
                else
                    cr_buf_printf(out, "'%s'", tmp);
                cr_buf_printf(out, " (today() - %lld years)", (long long)p->i);
                break;
            }
            if (param_time(p, now, &v))
                cr_buf_puts(out, "(out of range)");
            else if (p->type == CR_QT_DATE)
                cr_buf_printf(out, "'%s'", cr_date_format(v, tmp));
            else
                cr_buf_printf(out, "'%s'", cr_time_format_sql(v, tmp));
            if (p->base != CR_QB_ABSOLUTE)
                describe_offset(p, out);
            break;
        case CR_QT_INTERVAL:
            cr_buf_printf(out, "'%s%s'", p->i < 0 ? "-" : "",
                          cr_duration_format(p->i < 0 ? -p->i : p->i, tmp));
            break;
        }
    }
    return out->err;
}

/* ---------------------------------------------------------------- error display */

#define SHOW_WIDTH 100 /* characters of the source line shown around the column */

int cr_query_format_error(const char *src, size_t len, const struct cr_err *err, struct cr_buf *out)
{
    const char *p = src, *end = src + len, *line_end;
    size_t units = 0, first = 0, last, u;
    int line = 1;
    if (!err->line) {
        cr_buf_puts(out, cr_err_msg(err));
        return out->err;
    }
    cr_buf_printf(out, "%d:%d: %s", err->line, err->col, cr_err_msg(err));
    if (!src)
        return out->err;
    /* Find the line; \r\n, \n and \r end lines as in the lexer. */
    while (p < end && line < err->line) {
        if (*p == '\r' && p + 1 < end && p[1] == '\n')
            p++;
        if (*p == '\n' || *p == '\r')
            line++;
        p++;
    }
    line_end = p;
    while (line_end < end && *line_end != '\n' && *line_end != '\r')
        line_end++;
    /* Count characters (a lead byte and its continuation bytes), as the lexer does. */
    for (const char *c = p; c < line_end; c++)
        if (((unsigned char)*c & 0xC0) != 0x80)
            units++;
    if (err->col > 1 && (size_t)(err->col - 1) > SHOW_WIDTH / 2)
        first = (size_t)(err->col - 1) - SHOW_WIDTH / 2;
    last = first + SHOW_WIDTH;
    cr_buf_puts(out, "\n  ");
    if (first > 0)
        cr_buf_puts(out, "...");
    u = 0;
    for (const char *c = p; c < line_end;) {
        const char *next = c + 1;
        size_t k;
        while (next < line_end && ((unsigned char)*next & 0xC0) == 0x80)
            next++;
        if (u >= first && u < last) {
            unsigned char b = (unsigned char)*c;
            k = cr_utf8_seq_len(c, (size_t)(next - c));
            if (b == '\t')
                cr_buf_putc(out, '\t');
            else if (b < 0x20 || b == 0x7F || k != (size_t)(next - c))
                cr_buf_putc(out, '?');
            else
                cr_buf_append(out, c, k);
        }
        u++;
        c = next;
    }
    if (last < units)
        cr_buf_puts(out, "...");
    /* The caret, under the column; tabs copied so it lines up. */
    cr_buf_puts(out, "\n  ");
    if (first > 0)
        cr_buf_puts(out, "   ");
    u = 0;
    for (const char *c = p; c < line_end && u + 1 < (size_t)err->col;) {
        const char *next = c + 1;
        while (next < line_end && ((unsigned char)*next & 0xC0) == 0x80)
            next++;
        if (u >= first)
            cr_buf_putc(out, *c == '\t' ? '\t' : ' ');
        u++;
        c = next;
    }
    while (u + 1 < (size_t)err->col) { /* past the end of the line */
        cr_buf_putc(out, ' ');
        u++;
    }
    cr_buf_putc(out, '^');
    return out->err;
}
