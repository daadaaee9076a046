/*
 * store.c - the store interface: picks a backend from the URL and forwards to it
 */
#include "store/store_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"

const char *cr_store_default_url(void)
{
    return "crier.db";
}

static int is_postgres_url(const char *url)
{
    return strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0 ||
           strncmp(url, "host=", 5) == 0 || strncmp(url, "dbname=", 7) == 0;
}

/* Hides the password of "scheme://user:password@host…" and of "password=…". */
static char *mask_url(const char *url)
{
    struct cr_buf b = CR_BUF_INIT(0);
    const char *scheme = strstr(url, "://");
    const char *kv = strstr(url, "password=");
    if (scheme) {
        const char *at = strchr(scheme + 3, '@');
        const char *colon = strchr(scheme + 3, ':');
        if (at && colon && colon < at) {
            cr_buf_append(&b, url, (size_t)(colon + 1 - url));
            cr_buf_puts(&b, "***");
            cr_buf_puts(&b, at);
            return cr_buf_detach(&b, NULL);
        }
    }
    if (kv) {
        const char *end = kv + 9;
        while (*end && *end != ' ')
            end++;
        cr_buf_append(&b, url, (size_t)(kv + 9 - url));
        cr_buf_puts(&b, "***");
        cr_buf_puts(&b, end);
        return cr_buf_detach(&b, NULL);
    }
    return cr_xstrdup(url);
}

int cr_store_open(const char *url, struct cr_store **out, struct cr_err *err)
{
    struct cr_store *s;
    int rc;
    *out = NULL;
    if (!url || !*url)
        url = cr_store_default_url();
    s = cr_xcalloc(1, sizeof *s);
    s->display_url = mask_url(url);
    if (is_postgres_url(url)) {
        s->ops = &cr__pg_ops;
        s->dialect = CR_DIALECT_POSTGRES;
    } else {
        s->ops = &cr__sqlite_ops;
        s->dialect = CR_DIALECT_SQLITE;
    }
    rc = s->ops->open(s, url, err);
    if (rc) {
        free(s->display_url);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void cr_store_close(struct cr_store *s)
{
    if (!s)
        return;
    if (s->in_tx)
        cr_store_rollback(s);
    s->ops->close(s);
    free(s->display_url);
    free(s);
}

enum cr_dialect cr_store_dialect(const struct cr_store *s)
{
    return s->dialect;
}

const char *cr_store_dialect_name(const struct cr_store *s)
{
    return s->ops->name;
}

const char *cr_store_display_url(const struct cr_store *s)
{
    return s->display_url;
}

int cr_store_exec(struct cr_store *s, const char *sql, struct cr_err *err)
{
    return s->ops->exec(s, sql, err);
}

int cr_store_begin(struct cr_store *s, struct cr_err *err)
{
    int rc;
    if (s->in_tx)
        CR_BUG("transactions do not nest");
    rc = s->ops->exec(s, s->dialect == CR_DIALECT_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN", err);
    if (!rc)
        s->in_tx = 1;
    return rc;
}

int cr_store_commit(struct cr_store *s, struct cr_err *err)
{
    int rc = s->ops->exec(s, "COMMIT", err);
    if (rc)
        cr_store_rollback(s);
    s->in_tx = 0;
    return rc;
}

void cr_store_rollback(struct cr_store *s)
{
    (void)s->ops->exec(s, "ROLLBACK", NULL);
    s->in_tx = 0;
}

int cr_store_in_transaction(const struct cr_store *s)
{
    return s->in_tx;
}

int64_t cr_store_last_insert_id(struct cr_store *s)
{
    return s->ops->last_insert_id ? s->ops->last_insert_id(s) : 0;
}

int cr_stmt_prepare(struct cr_store *s, const char *sql, struct cr_stmt **out,
                    struct cr_err *err)
{
    struct cr_stmt *st = cr_xcalloc(1, sizeof *st);
    int rc;
    st->store = s;
    st->sql = cr_xstrdup(sql);
    rc = s->ops->prepare(s, st, sql, err);
    if (rc) {
        free(st->sql);
        free(st);
        *out = NULL;
        return rc;
    }
    *out = st;
    return 0;
}

int cr_stmt_bind_null(struct cr_stmt *st, int i)
{
    return st->store->ops->bind_null(st, i);
}

int cr_stmt_bind_int64(struct cr_stmt *st, int i, int64_t v)
{
    return st->store->ops->bind_int64(st, i, v);
}

int cr_stmt_bind_double(struct cr_stmt *st, int i, double v)
{
    return st->store->ops->bind_double(st, i, v);
}

int cr_stmt_bind_text(struct cr_stmt *st, int i, const char *s, size_t n)
{
    return st->store->ops->bind_text(st, i, s, n, 1);
}

int cr_stmt_bind_text_ref(struct cr_stmt *st, int i, const char *s, size_t n)
{
    return st->store->ops->bind_text(st, i, s, n, 0);
}

int cr_stmt_bind_str(struct cr_stmt *st, int i, const char *s)
{
    return s ? cr_stmt_bind_text(st, i, s, strlen(s)) : cr_stmt_bind_null(st, i);
}

int cr_stmt_bind_bool(struct cr_stmt *st, int i, int v)
{
    return st->store->ops->bind_bool(st, i, v);
}

int cr_stmt_step(struct cr_stmt *st, struct cr_err *err)
{
    return st->store->ops->step(st, err);
}

int cr_stmt_column_count(struct cr_stmt *st)
{
    return st->store->ops->column_count(st);
}

const char *cr_stmt_column_name(struct cr_stmt *st, int col)
{
    return st->store->ops->column_name(st, col);
}

int cr_stmt_is_null(struct cr_stmt *st, int col)
{
    return st->store->ops->is_null(st, col);
}

int64_t cr_stmt_int64(struct cr_stmt *st, int col)
{
    return st->store->ops->int64(st, col);
}

double cr_stmt_double(struct cr_stmt *st, int col)
{
    return st->store->ops->dbl(st, col);
}

const char *cr_stmt_text(struct cr_stmt *st, int col)
{
    return st->store->ops->text(st, col);
}

int cr_stmt_bool(struct cr_stmt *st, int col)
{
    const char *t = cr_stmt_text(st, col);
    if (!t)
        return 0;
    return t[0] == 't' || t[0] == 'T' || (t[0] >= '1' && t[0] <= '9') || t[0] == 'y';
}

void cr_stmt_reset(struct cr_stmt *st)
{
    st->store->ops->reset(st);
}

void cr_stmt_clear_bindings(struct cr_stmt *st)
{
    st->store->ops->clear_bindings(st);
}

void cr_stmt_free(struct cr_stmt *st)
{
    if (!st)
        return;
    st->store->ops->finalize(st);
    free(st->sql);
    free(st);
}

const char *cr_stmt_sql(const struct cr_stmt *st)
{
    return st->sql;
}

static int bind_va(struct cr_stmt *st, const char *types, va_list ap)
{
    int i = 1, rc = 0;
    for (const char *t = types; *t && !rc; t++, i++) {
        switch (*t) {
        case 'i':
            rc = cr_stmt_bind_int64(st, i, va_arg(ap, int64_t));
            break;
        case 'd':
            rc = cr_stmt_bind_double(st, i, va_arg(ap, double));
            break;
        case 's':
            rc = cr_stmt_bind_str(st, i, va_arg(ap, const char *));
            break;
        case 'b':
            rc = cr_stmt_bind_bool(st, i, va_arg(ap, int));
            break;
        case 'n':
            rc = cr_stmt_bind_null(st, i);
            break;
        default:
            CR_BUG("bad bind type '%c'", *t);
        }
    }
    return rc;
}

static int prepare_bound(struct cr_store *s, struct cr_err *err, struct cr_stmt **st,
                         const char *sql, const char *types, va_list ap)
{
    int rc = cr_stmt_prepare(s, sql, st, err);
    if (rc)
        return rc;
    rc = bind_va(*st, types ? types : "", ap);
    if (rc) {
        cr_stmt_free(*st);
        *st = NULL;
        return cr_err_set(err, rc, "cannot bind parameters of: %s", sql);
    }
    return 0;
}

int cr_store_run(struct cr_store *s, struct cr_err *err, const char *sql, const char *types,
                 ...)
{
    struct cr_stmt *st;
    va_list ap;
    int rc;
    va_start(ap, types);
    rc = prepare_bound(s, err, &st, sql, types, ap);
    va_end(ap);
    if (rc)
        return rc;
    while ((rc = cr_stmt_step(st, err)) == 1)
        ;
    cr_stmt_free(st);
    return rc;
}

int cr_store_query_int64(struct cr_store *s, struct cr_err *err, int64_t *out, const char *sql,
                         const char *types, ...)
{
    struct cr_stmt *st;
    va_list ap;
    int rc;
    va_start(ap, types);
    rc = prepare_bound(s, err, &st, sql, types, ap);
    va_end(ap);
    if (rc)
        return rc;
    rc = cr_stmt_step(st, err);
    if (rc == 1)
        *out = cr_stmt_int64(st, 0);
    cr_stmt_free(st);
    return rc;
}

int cr_store_query_text(struct cr_store *s, struct cr_err *err, char **out, const char *sql,
                        const char *types, ...)
{
    struct cr_stmt *st;
    va_list ap;
    int rc;
    va_start(ap, types);
    rc = prepare_bound(s, err, &st, sql, types, ap);
    va_end(ap);
    if (rc)
        return rc;
    rc = cr_stmt_step(st, err);
    if (rc == 1) {
        const char *t = cr_stmt_text(st, 0);
        *out = t ? cr_xstrdup(t) : NULL;
    }
    cr_stmt_free(st);
    return rc;
}
