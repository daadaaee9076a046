/*
 * import_profiles.c - the profile CSV import: a reader thread and a writer, in a pipeline
 *
 * The reader thread parses records and turns each field into its stored value (UTF-8 check,
 * e-mail and phone normalisation, dates, numbers) into batches; the calling thread takes the
 * batches in order and writes them: the row's key is looked up (key columns are indexed), then
 * the profile is updated (only the columns the file has) or inserted. Lookups rather than
 * ON CONFLICT because e-mail and phone are not unique: several profiles may share one, and such
 * a row is rejected as ambiguous instead of picking one. Only the calling thread touches the
 * store.
 *
 * Initial load: when the profile table is empty at the start, the whole import is one
 * transaction that drops the table's indexes, looks keys up in memory, and builds the indexes
 * again at the end (sorting once beats a million random index inserts); a failure rolls all of
 * it back, indexes included. Otherwise rows are committed every CR__IMPORT_BATCH rows.
 */
#include "profile/import.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/csv.h"
#include "core/datetime.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/strmap.h"
#include "profile/import_int.h"
#include "profile/normalize.h"
#include "store/schema.h"

#define SHOW(n) (int)((n) > 60 ? 60 : (n))
#define BATCH_ROWS 1024
#define NBATCHES 3

enum special { SP_NONE, SP_EMAIL, SP_PHONE, SP_COUNTRY, SP_LANGUAGE };
enum vkind { V_NULL, V_INT, V_REAL, V_BOOL, V_TEXT };

struct pcol {
    char name[CR_SCHEMA_NAME_MAX + 1];
    enum cr_coltype type;
    enum special special;
    int not_null_default; /* -1: nullable; else the default of a NOT NULL flag */
    size_t field;         /* index in the CSV record */
};

/* One converted value; text lives in the batch's arena. */
struct pval {
    enum vkind kind;
    int64_t i;
    double d;
    size_t off, len;
};

struct prow {
    long line;
    int rejected;       /* reason at reason_off in the arena */
    size_t reason_off;
};

struct pbatch {
    size_t nrows;
    long read; /* records read, malformed ones included */
    struct prow rows[BATCH_ROWS];
    struct pval *vals; /* nrows x ncols */
    struct cr_buf arena;
    int last;          /* no batch follows */
    int err;           /* the reader failed: errdetail says why */
    struct cr_err errdetail;
};

struct pipeline {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct pbatch batches[NBATCHES];
    size_t produced, consumed; /* batch sequence numbers; slot = seq % NBATCHES */
    int stop;                  /* the writer gave up: the reader ends */
};

struct profile_import {
    struct cr_store *s;
    const struct cr_import_opts *o;
    struct cr_csv_reader *r;
    struct pcol *cols;              /* the columns written, in header order */
    size_t nfields;                 /* fields a record must have */
    size_t ncols, key, country_col; /* indexes into cols; country_col = ncols if absent */
    size_t ext_col;                 /* external_id column when it is not the key, else ncols */
    struct cr_stmt *lookup, *lookup_ext, *update, *insert;
    char now[CR_TIME_BUFSZ];
    struct pipeline pl;
    /* Initial load: keys (and external ids) of the rows written so far, to their profile ids,
     * standing in for the indexes dropped until the end. */
    int bulk;
    struct cr_strmap keys, exts;
};

/* ---------------------------------------------------------------- header */

/* Columns crier sets itself: accepted in a header (so an export imports back) and ignored. */
static const char *const managed[] = {"id", "created_at", "updated_at"};

static int is_managed(const char *name)
{
    for (size_t k = 0; k < sizeof managed / sizeof *managed; k++)
        if (strcmp(name, managed[k]) == 0)
            return 1;
    return 0;
}

static int flag_default(const char *name)
{
    if (strcmp(name, "email_optout") == 0 || strcmp(name, "sms_optout") == 0 ||
        strcmp(name, "push_optout") == 0)
        return 0;
    if (strcmp(name, "tracking_consent") == 0)
        return 1;
    return -1;
}

static int unknown_column(const struct cr_schema *sc, const char *raw, size_t n,
                          struct cr_err *err)
{
    struct cr_buf known = CR_BUF_INIT(0);
    int rc;
    for (size_t k = 0; k < sc->ncols; k++)
        if (!is_managed(sc->cols[k].name))
            cr_buf_printf(&known, "%s%s", known.len ? ", " : "", sc->cols[k].name);
    rc = cr_err_set(err, CR_EINVAL, "bad header: unknown column '%.*s' (columns: %s)", SHOW(n),
                    raw, known.data);
    cr_buf_release(&known);
    return rc;
}

static int read_columns(struct profile_import *pi, const struct cr_schema *sc, struct cr_err *err)
{
    struct cr_csv_reader *r = pi->r;
    unsigned char *seen = cr_xcalloc(sc->ncols ? sc->ncols : 1, 1);
    int rc = 0;
    pi->cols = cr_xcalloc(r->nfields, sizeof *pi->cols);
    pi->nfields = r->nfields;
    for (size_t f = 0; f < r->nfields && !rc; f++) {
        size_t n;
        const char *raw = cr_csv_field(r, f, &n);
        struct pcol *pc = &pi->cols[pi->ncols];
        const struct cr_column *col;
        cr__import_column_name(raw, n, pc->name, sizeof pc->name);
        if (!pc->name[0]) {
            rc = cr_err_set(err, CR_ESYNTAX, "bad header: column %zu has no name", f + 1);
            break;
        }
        col = cr_schema_find(sc, pc->name, strlen(pc->name));
        if (!col) {
            rc = unknown_column(sc, raw, n, err);
            break;
        }
        if (seen[col - sc->cols]++) {
            rc = cr_err_set(err, CR_EINVAL, "bad header: column '%s' appears twice", pc->name);
            break;
        }
        if (is_managed(pc->name))
            continue;
        pc->type = col->type;
        pc->field = f;
        pc->not_null_default = flag_default(pc->name);
        if (strcmp(pc->name, "email") == 0)
            pc->special = SP_EMAIL;
        else if (strcmp(pc->name, "phone") == 0)
            pc->special = SP_PHONE;
        else if (strcmp(pc->name, "country") == 0)
            pc->special = SP_COUNTRY;
        else if (strcmp(pc->name, "language") == 0)
            pc->special = SP_LANGUAGE;
        pi->ncols++;
    }
    free(seen);
    if (rc)
        return rc;
    pi->key = pi->country_col = pi->ext_col = pi->ncols;
    for (size_t i = 0; i < pi->ncols; i++) {
        if (strcmp(pi->cols[i].name, pi->o->key) == 0)
            pi->key = i;
        if (pi->cols[i].special == SP_COUNTRY)
            pi->country_col = i;
        if (strcmp(pi->cols[i].name, "external_id") == 0 && strcmp(pi->o->key, "external_id"))
            pi->ext_col = i;
    }
    if (pi->key == pi->ncols)
        return cr_err_set(err, CR_EINVAL, "bad header: no '%s' column (the import key; choose "
                                          "another with --key email|phone|external_id)",
                          pi->o->key);
    return 0;
}

static int prepare_statements(struct profile_import *pi, struct cr_err *err)
{
    struct cr_buf sql = CR_BUF_INIT(0);
    int rc;

    cr_buf_printf(&sql, "SELECT id FROM profile WHERE \"%s\" = ? LIMIT 2", pi->o->key);
    rc = cr_stmt_prepare(pi->s, sql.data, &pi->lookup, err);
    if (!rc && pi->ext_col < pi->ncols)
        rc = cr_stmt_prepare(pi->s, "SELECT id FROM profile WHERE external_id = ?",
                             &pi->lookup_ext, err);

    cr_buf_reset(&sql);
    cr_buf_puts(&sql, "UPDATE profile SET ");
    for (size_t i = 0; i < pi->ncols; i++)
        cr_buf_printf(&sql, "\"%s\" = ?, ", pi->cols[i].name);
    cr_buf_puts(&sql, "updated_at = ? WHERE id = ?");
    if (!rc)
        rc = cr_stmt_prepare(pi->s, sql.data, &pi->update, err);

    cr_buf_reset(&sql);
    cr_buf_puts(&sql, "INSERT INTO profile (");
    for (size_t i = 0; i < pi->ncols; i++)
        cr_buf_printf(&sql, "\"%s\", ", pi->cols[i].name);
    cr_buf_puts(&sql, "created_at, updated_at) VALUES (");
    for (size_t i = 0; i < pi->ncols; i++)
        cr_buf_puts(&sql, "?, ");
    /* The initial load keeps each new id for its key map; SQLite tells it without RETURNING. */
    cr_buf_puts(&sql, pi->bulk && cr_store_dialect(pi->s) == CR_DIALECT_POSTGRES
                          ? "?, ?) RETURNING id"
                          : "?, ?)");
    if (!rc)
        rc = cr_stmt_prepare(pi->s, sql.data, &pi->insert, err);
    cr_buf_release(&sql);
    return rc;
}

/* ---------------------------------------------------------------- reader thread: conversion */

/* Converts one field into v (text appended to the arena). On failure appends the reason to the
 * arena at *reason_off and returns -1. */
static int convert_field(const struct pcol *pc, const char *v, size_t n, const char *region,
                         struct cr_buf *arena, struct pval *out, size_t *reason_off)
{
    struct cr_err e = CR_ERR_INIT;
    int rc = 0, b;
    size_t start;
    cr_trim(&v, &n);
    if (n == 0) {
        out->kind = V_NULL;
        if (pc->not_null_default >= 0) {
            out->kind = V_BOOL;
            out->i = pc->not_null_default;
        }
        return 0;
    }
    start = arena->len;
    switch (pc->type) {
    case CR_COL_TEXT:
        out->kind = V_TEXT;
        rc = cr__import_check_utf8(v, n, pc->name, &e);
        if (rc)
            break;
        if (pc->special == SP_EMAIL)
            rc = cr_normalize_email(v, n, arena, &e);
        else if (pc->special == SP_PHONE)
            rc = cr_normalize_phone(v, n, region, arena, &e);
        else if (pc->special == SP_COUNTRY)
            rc = cr_normalize_country(v, n, arena, &e);
        else if (pc->special == SP_LANGUAGE)
            for (size_t i = 0; i < n; i++)
                cr_buf_putc(arena, v[i] >= 'A' && v[i] <= 'Z' ? (char)(v[i] + 32) : v[i]);
        else
            cr_buf_append(arena, v, n);
        break;
    case CR_COL_INTEGER:
        out->kind = V_INT;
        rc = cr_normalize_int(v, n, &out->i, &e);
        break;
    case CR_COL_REAL:
        out->kind = V_REAL;
        rc = cr_normalize_real(v, n, &out->d, &e);
        break;
    case CR_COL_BOOLEAN:
        out->kind = V_BOOL;
        rc = cr_normalize_bool(v, n, &b, &e);
        out->i = b;
        break;
    case CR_COL_DATE:
        out->kind = V_TEXT;
        rc = cr_normalize_date(v, n, arena, &e);
        break;
    case CR_COL_TIMESTAMP:
        out->kind = V_TEXT;
        rc = cr_normalize_timestamp(v, n, arena, &e);
        break;
    }
    if (rc) {
        cr_buf_truncate(arena, start);
        *reason_off = arena->len;
        if (strncmp(e.msg, "column '", 8) == 0)
            cr_buf_puts(arena, e.msg);
        else
            cr_buf_printf(arena, "column '%s': %s", pc->name, e.msg);
        cr_buf_putc(arena, '\0');
        return -1;
    }
    out->off = start;
    out->len = arena->len - start;
    cr_buf_putc(arena, '\0');
    return 0;
}

static void reject_row(struct pbatch *b, struct prow *row, const char *fmt, ...)
    CR_PRINTF(3, 4);

static void reject_row(struct pbatch *b, struct prow *row, const char *fmt, ...)
{
    va_list ap;
    row->rejected = 1;
    row->reason_off = b->arena.len;
    va_start(ap, fmt);
    cr_buf_vprintf(&b->arena, fmt, ap);
    va_end(ap);
    cr_buf_putc(&b->arena, '\0');
}

/* Converts the reader's current record into row number b->nrows of the batch. */
static void convert_record(struct profile_import *pi, struct pbatch *b)
{
    struct cr_csv_reader *r = pi->r;
    struct prow *row = &b->rows[b->nrows];
    struct pval *vals = &b->vals[b->nrows * pi->ncols];
    char region[3] = "";
    row->line = r->record_line;
    row->rejected = 0;
    b->nrows++;
    if (r->nfields != pi->nfields) {
        reject_row(b, row, "expected %zu fields, found %zu", pi->nfields, r->nfields);
        return;
    }
    /* The row's own country decides how its national phone numbers read. */
    if (pi->country_col < pi->ncols) {
        const struct pcol *cc = &pi->cols[pi->country_col];
        struct pval *v = &vals[pi->country_col];
        size_t n;
        const char *f = cr_csv_field(r, cc->field, &n);
        if (convert_field(cc, f, n, NULL, &b->arena, v, &row->reason_off)) {
            row->rejected = 1;
            return;
        }
        if (v->kind == V_TEXT)
            memcpy(region, b->arena.data + v->off, 2);
    }
    if (!region[0] && pi->o->default_country)
        snprintf(region, sizeof region, "%s", pi->o->default_country);
    for (size_t i = 0; i < pi->ncols; i++) {
        size_t n;
        const char *f;
        if (i == pi->country_col)
            continue;
        f = cr_csv_field(r, pi->cols[i].field, &n);
        if (convert_field(&pi->cols[i], f, n, region, &b->arena, &vals[i], &row->reason_off)) {
            row->rejected = 1;
            return;
        }
    }
    if (vals[pi->key].kind == V_NULL)
        reject_row(b, row, "empty key '%s'", pi->cols[pi->key].name);
}

/* Fills one batch from the reader. */
static void fill_batch(struct profile_import *pi, struct pbatch *b)
{
    b->nrows = 0;
    b->read = 0;
    b->last = 0;
    b->err = 0;
    cr_err_clear(&b->errdetail);
    cr_buf_reset(&b->arena);
    while (b->nrows < BATCH_ROWS) {
        struct cr_err rowerr = CR_ERR_INIT;
        int rc = cr_csv_next(pi->r, &rowerr);
        if (rc == 0) {
            b->last = 1;
            return;
        }
        if (rc == CR_EIO) {
            b->err = rc;
            b->errdetail = rowerr;
            b->last = 1;
            return;
        }
        b->read++;
        if (rc < 0) {
            /* A malformed record: "line N: problem"; the line is reported separately. */
            const char *m = strchr(rowerr.msg, ':');
            struct prow *row = &b->rows[b->nrows++];
            row->line = pi->r->record_line;
            reject_row(b, row, "%s", m ? m + 2 : rowerr.msg);
            continue;
        }
        convert_record(pi, b);
    }
}

static void *reader_main(void *arg)
{
    struct profile_import *pi = arg;
    struct pipeline *pl = &pi->pl;
    for (;;) {
        struct pbatch *b;
        pthread_mutex_lock(&pl->mu);
        while (!pl->stop && pl->produced - pl->consumed == NBATCHES)
            pthread_cond_wait(&pl->cv, &pl->mu);
        if (pl->stop) {
            pthread_mutex_unlock(&pl->mu);
            return NULL;
        }
        b = &pl->batches[pl->produced % NBATCHES];
        pthread_mutex_unlock(&pl->mu);

        fill_batch(pi, b);

        pthread_mutex_lock(&pl->mu);
        pl->produced++;
        pthread_cond_broadcast(&pl->cv);
        pthread_mutex_unlock(&pl->mu);
        if (b->last)
            return NULL;
    }
}

/* ---------------------------------------------------------------- writer: the store */

static int bind_val(struct cr_stmt *st, int i, const struct pval *v, const struct pbatch *b)
{
    switch (v->kind) {
    case V_NULL:
        return cr_stmt_bind_null(st, i);
    case V_INT:
        return cr_stmt_bind_int64(st, i, v->i);
    case V_REAL:
        return cr_stmt_bind_double(st, i, v->d);
    case V_BOOL:
        return cr_stmt_bind_bool(st, i, (int)v->i);
    case V_TEXT:
        /* The batch outlives the statement's use of it: no copy. */
        return cr_stmt_bind_text_ref(st, i, b->arena.data + v->off, v->len);
    }
    return CR_EINVAL;
}

/* Runs a lookup bound to one value; *id = the match, *count = 0, 1 or 2 (= more). */
static int run_lookup(struct cr_stmt *st, const struct pval *v, const struct pbatch *b,
                      int64_t *id, int *count, struct cr_err *err)
{
    int rc;
    *count = 0;
    cr_stmt_reset(st);
    bind_val(st, 1, v, b);
    while ((rc = cr_stmt_step(st, err)) == 1)
        if (++*count == 1)
            *id = cr_stmt_int64(st, 0);
    cr_stmt_reset(st);
    return rc;
}

/* 0: written (*inserted says how); 1: rejected (reason appended to the arena); <0: failure. */
static int write_row(struct profile_import *pi, struct pbatch *b, size_t k, int *inserted,
                     struct cr_err *err)
{
    const struct pval *vals = &b->vals[k * pi->ncols], *key = &vals[pi->key];
    struct prow *row = &b->rows[k];
    struct cr_stmt *st;
    int64_t id = 0, owner = 0;
    int count, rc, p = 1;

    if (pi->bulk) {
        count = cr_strmap_get(&pi->keys, b->arena.data + key->off, key->len, &id);
    } else {
        rc = run_lookup(pi->lookup, key, b, &id, &count, err);
        if (rc < 0)
            return rc;
    }
    if (count > 1) {
        reject_row(b, row, "%s '%.*s' matches several profiles (import with --key external_id)",
                   pi->cols[pi->key].name, SHOW(key->len), b->arena.data + key->off);
        return 1;
    }
    /* external_id is unique: refuse a row that would give this profile another's id. */
    if (pi->lookup_ext && vals[pi->ext_col].kind != V_NULL) {
        const struct pval *ext = &vals[pi->ext_col];
        int owners;
        if (pi->bulk) {
            owners = cr_strmap_get(&pi->exts, b->arena.data + ext->off, ext->len, &owner);
        } else {
            rc = run_lookup(pi->lookup_ext, ext, b, &owner, &owners, err);
            if (rc < 0)
                return rc;
        }
        if (owners && (!count || owner != id)) {
            reject_row(b, row, "external_id '%.*s' already belongs to profile %lld",
                       SHOW(ext->len), b->arena.data + ext->off, (long long)owner);
            return 1;
        }
    }
    st = count ? pi->update : pi->insert;
    cr_stmt_reset(st);
    for (size_t i = 0; i < pi->ncols; i++)
        bind_val(st, p++, &vals[i], b);
    cr_stmt_bind_str(st, p++, pi->now);
    if (count)
        cr_stmt_bind_int64(st, p++, id);
    else
        cr_stmt_bind_str(st, p++, pi->now);
    rc = cr_stmt_step(st, err);
    if (rc == 1 && !count)
        id = cr_stmt_int64(st, 0);
    else if (rc == 0 && !count && pi->bulk)
        id = cr_store_last_insert_id(pi->s);
    cr_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (pi->bulk) {
        if (!count)
            cr_strmap_put(&pi->keys, b->arena.data + key->off, key->len, id);
        if (pi->ext_col < pi->ncols && vals[pi->ext_col].kind == V_TEXT)
            cr_strmap_put(&pi->exts, b->arena.data + vals[pi->ext_col].off, vals[pi->ext_col].len,
                          id);
    }
    *inserted = !count;
    return 0;
}

struct deferred_index {
    char *name, *create_sql;
};

/* Initial load: every index of profile that no constraint owns, read from the catalogue so any
 * index a migration adds is covered. The key map and the external-id map stand in for them
 * until they are built again, unique ones included, at the end of the load. */
static int drop_secondary_indexes(struct profile_import *pi, struct deferred_index **out,
                                  size_t *nout, struct cr_err *err)
{
    struct cr_stmt *st;
    int rc;
    *out = NULL;
    *nout = 0;
    rc = cr_stmt_prepare(pi->s,
                         cr_store_dialect(pi->s) == CR_DIALECT_SQLITE
                             ? "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                               "tbl_name = 'profile' AND sql IS NOT NULL"
                             : "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                               "JOIN pg_class i ON i.oid = x.indexrelid "
                               "JOIN pg_class t ON t.oid = x.indrelid "
                               "WHERE t.relname = 'profile' "
                               "AND t.relnamespace = current_schema()::regnamespace "
                               "AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                               "WHERE c.conindid = i.oid)",
                         &st, err);
    if (rc)
        return rc;
    while ((rc = cr_stmt_step(st, err)) == 1) {
        const char *name = cr_stmt_text(st, 0), *sql = cr_stmt_text(st, 1);
        if (!name || !sql)
            continue;
        *out = cr_xrealloc(*out, (*nout + 1) * sizeof **out);
        (*out)[*nout].name = cr_xstrdup(name);
        (*out)[*nout].create_sql = cr_xstrdup(sql);
        ++*nout;
    }
    cr_stmt_free(st);
    for (size_t i = 0; rc == 0 && i < *nout; i++) {
        struct cr_buf sql = CR_BUF_INIT(0);
        cr_buf_printf(&sql, "DROP INDEX \"%s\"", (*out)[i].name);
        rc = cr_store_exec(pi->s, sql.data, err);
        cr_buf_release(&sql);
    }
    return rc;
}

static void free_deferred(struct deferred_index *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(d[i].name);
        free(d[i].create_sql);
    }
    free(d);
}

/* The writer: takes batches in order until the last; returns 0 or the first failure. */
static int write_batches(struct profile_import *pi, struct cr_import_result *res, int bulk,
                         struct cr_err *err)
{
    struct pipeline *pl = &pi->pl;
    long since_commit = 0;
    long limit = pi->o->batch_rows > 0 ? pi->o->batch_rows : CR__IMPORT_BATCH;
    int rc = 0;
    for (;;) {
        struct pbatch *b;
        int last;
        pthread_mutex_lock(&pl->mu);
        while (pl->produced == pl->consumed)
            pthread_cond_wait(&pl->cv, &pl->mu);
        b = &pl->batches[pl->consumed % NBATCHES];
        pthread_mutex_unlock(&pl->mu);

        res->read += b->read;
        for (size_t k = 0; k < b->nrows && !rc; k++) {
            struct prow *row = &b->rows[k];
            int inserted = 0;
            if (!row->rejected) {
                rc = write_row(pi, b, k, &inserted, err);
                if (rc < 0) {
                    cr_err_prefix(err, "line %ld: ", row->line);
                    break;
                }
            }
            if (row->rejected) {
                rc = 0;
                cr__import_reject(res, row->line, b->arena.data + row->reason_off);
                continue;
            }
            if (inserted)
                res->inserted++;
            else
                res->updated++;
            if (!bulk && ++since_commit >= limit) {
                since_commit = 0;
                if ((rc = cr_store_commit(pi->s, err)) == 0)
                    rc = cr_store_begin(pi->s, err);
            }
        }
        if (!rc && b->err) {
            *err = b->errdetail;
            rc = b->err;
        }
        last = b->last;
        pthread_mutex_lock(&pl->mu);
        pl->consumed++;
        if (rc)
            pl->stop = 1;
        pthread_cond_broadcast(&pl->cv);
        pthread_mutex_unlock(&pl->mu);
        if (rc || last)
            return rc;
    }
}

static int run_pipeline(struct profile_import *pi, struct cr_import_result *res,
                        struct cr_err *err)
{
    struct pipeline *pl = &pi->pl;
    struct deferred_index *deferred = NULL;
    size_t ndeferred = 0;
    pthread_t reader;
    int64_t existing = 0;
    int rc, bulk, journal_switched = 0;

    /* An initial load into SQLite writes every page once with a rollback journal instead of
     * twice through the WAL. SQLite grants the switch only when no other connection has the
     * database open; otherwise the load goes through the WAL as usual. */
    if (cr_store_dialect(pi->s) == CR_DIALECT_SQLITE &&
        cr_store_query_int64(pi->s, NULL, &existing,
                             "SELECT count(*) FROM (SELECT 1 FROM profile LIMIT 1) t", NULL) == 1 &&
        existing == 0) {
        char *mode = NULL;
        if (cr_store_query_text(pi->s, NULL, &mode, "PRAGMA journal_mode = DELETE", NULL) == 1 &&
            mode && strcmp(mode, "delete") == 0)
            journal_switched = 1;
        free(mode);
    }
    rc = cr_store_begin(pi->s, err);
    if (rc)
        return rc;
    rc = cr_store_query_int64(pi->s, err, &existing,
                              "SELECT count(*) FROM (SELECT 1 FROM profile LIMIT 1) t", NULL);
    bulk = pi->bulk = rc == 1 && existing == 0;
    rc = rc < 0 ? rc : 0;
    if (!rc && bulk)
        rc = drop_secondary_indexes(pi, &deferred, &ndeferred, err);
    /* A load larger than the page cache would spill to the WAL and read pages back. */
    if (!rc && cr_store_dialect(pi->s) == CR_DIALECT_SQLITE)
        rc = cr_store_exec(pi->s, "PRAGMA cache_size = -524288", err);
    if (!rc)
        rc = prepare_statements(pi, err);
    if (rc) {
        cr_store_rollback(pi->s);
        free_deferred(deferred, ndeferred);
        return rc;
    }

    pthread_mutex_init(&pl->mu, NULL);
    pthread_cond_init(&pl->cv, NULL);
    for (int i = 0; i < NBATCHES; i++) {
        pl->batches[i].vals = cr_xcalloc(BATCH_ROWS * (pi->ncols ? pi->ncols : 1),
                                         sizeof *pl->batches[i].vals);
        cr_buf_init(&pl->batches[i].arena, 0);
    }
    if (pthread_create(&reader, NULL, reader_main, pi) != 0) {
        rc = cr_err_set(err, CR_EIO, "cannot start the import's reader thread");
    } else {
        rc = write_batches(pi, res, bulk, err);
        pthread_join(reader, NULL);
    }
    cr_log_debug("import: rows written (%s)", bulk ? "initial load" : "upserts");
    for (size_t i = 0; !rc && i < ndeferred; i++) {
        rc = cr_store_exec(pi->s, deferred[i].create_sql, err);
        cr_log_debug("import: index %s built", deferred[i].name);
    }
    if (rc)
        cr_store_rollback(pi->s);
    else
        rc = cr_store_commit(pi->s, err);
    cr_log_debug("import: committed");
    if (cr_store_dialect(pi->s) == CR_DIALECT_SQLITE &&
        cr_store_exec(pi->s, "PRAGMA cache_size = -2000", NULL))
        cr_log_debug("could not restore the page cache size");
    if (journal_switched) {
        char *mode = NULL;
        if (cr_store_query_text(pi->s, NULL, &mode, "PRAGMA journal_mode = WAL", NULL) != 1 ||
            !mode || strcmp(mode, "wal") != 0)
            cr_log_warn("could not switch the database back to WAL mode after the import; "
                        "the next crier command will");
        free(mode);
    }
    for (int i = 0; i < NBATCHES; i++) {
        free(pl->batches[i].vals);
        cr_buf_release(&pl->batches[i].arena);
    }
    pthread_cond_destroy(&pl->cv);
    pthread_mutex_destroy(&pl->mu);
    free_deferred(deferred, ndeferred);
    return rc;
}

int cr_import_profiles(struct cr_store *s, FILE *in, const struct cr_import_opts *o,
                       struct cr_import_result *res, struct cr_err *err)
{
    struct cr_import_opts opts = *o;
    struct profile_import pi = {0};
    struct cr_csv_reader r;
    struct cr_schema sc;
    int rc;

    opts.key = cr__import_key(o);
    if ((rc = cr__import_check_key(opts.key, err)))
        return rc;
    if ((rc = cr_schema_load(s, "profile", &sc, err)))
        return rc;
    pi.s = s;
    pi.o = &opts;
    pi.r = &r;
    cr_strmap_init(&pi.keys);
    cr_strmap_init(&pi.exts);
    cr_time_format_sql(cr_clock_now(o->clock), pi.now);
    cr_csv_reader_init(&r, in, o->separator ? o->separator : ',');
    rc = cr__import_header(&r, err);
    if (!rc)
        rc = read_columns(&pi, &sc, err);
    if (!rc)
        rc = run_pipeline(&pi, res, err);
    free(pi.cols);
    cr_stmt_free(pi.lookup);
    cr_stmt_free(pi.lookup_ext);
    cr_stmt_free(pi.update);
    cr_stmt_free(pi.insert);
    cr_strmap_release(&pi.keys);
    cr_strmap_release(&pi.exts);
    cr_csv_reader_release(&r);
    cr_schema_release(&sc);
    return rc;
}
