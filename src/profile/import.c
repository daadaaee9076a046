/*
 * import.c - CSV imports of profiles, subscriptions and list members (see import.h)
 *
 * Profiles are upserted on a key: the row's key value is looked up (the key columns are
 * indexed), then the profile is updated (only the columns the file has) or inserted. Lookups
 * rather than ON CONFLICT because e-mail and phone are not unique: several profiles may share
 * one, and such a row is rejected as ambiguous instead of picking one.
 */
#include "profile/import.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/csv.h"
#include "core/datetime.h"
#include "core/json_esc.h"
#include "core/mem.h"
#include "core/utf8.h"
#include "profile/normalize.h"
#include "store/schema.h"

#define DEFAULT_BATCH 50000
#define SHOW(n) (int)((n) > 60 ? 60 : (n))

/* ---------------------------------------------------------------- shared plumbing */

static void add_reject(struct cr_import_result *res, long line, const char *reason)
{
    if (res->nrejected == res->cap) {
        res->cap = res->cap ? res->cap * 2 : 16;
        res->rejected = cr_xrealloc(res->rejected, res->cap * sizeof *res->rejected);
    }
    res->rejected[res->nrejected].line = line;
    res->rejected[res->nrejected].reason = cr_xstrdup(reason);
    res->nrejected++;
}

void cr_import_result_release(struct cr_import_result *res)
{
    for (size_t i = 0; i < res->nrejected; i++)
        free(res->rejected[i].reason);
    free(res->rejected);
    memset(res, 0, sizeof *res);
}

char *cr_import_result_json(const struct cr_import_result *res)
{
    struct cr_buf b = CR_BUF_INIT(0);
    cr_buf_printf(&b, "{\"read\":%ld,\"inserted\":%ld,\"updated\":%ld,\"rejected\":[", res->read,
                  res->inserted, res->updated);
    for (size_t i = 0; i < res->nrejected; i++) {
        cr_buf_printf(&b, "%s{\"line\":%ld,\"reason\":", i ? "," : "", res->rejected[i].line);
        cr_json_escape(&b, res->rejected[i].reason, strlen(res->rejected[i].reason));
        cr_buf_putc(&b, '}');
    }
    cr_buf_puts(&b, "]}");
    return cr_buf_detach(&b, NULL);
}

static void lower_name(const char *s, size_t n, char *out, size_t cap)
{
    size_t i;
    cr_trim(&s, &n);
    for (i = 0; i < n && i + 1 < cap; i++)
        out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    out[i] = '\0';
}

struct batch {
    struct cr_store *s;
    long rows, limit;
};

static int batch_row_done(struct batch *b, struct cr_err *err)
{
    int rc;
    if (++b->rows < b->limit)
        return 0;
    b->rows = 0;
    rc = cr_store_commit(b->s, err);
    return rc ? rc : cr_store_begin(b->s, err);
}

/* Reads the header; fails the whole import when it is missing or malformed. */
static int read_header(struct cr_csv_reader *r, struct cr_err *err)
{
    int rc = cr_csv_next(r, err);
    if (rc == 0)
        return cr_err_set(err, CR_ESYNTAX, "the file is empty (a header line is required)");
    if (rc < 0) {
        cr_err_prefix(err, "bad header: ");
        return rc;
    }
    return 0;
}

static int check_utf8(const char *s, size_t n, const char *column, struct cr_err *err)
{
    size_t bad;
    if (cr_utf8_valid(s, n, &bad))
        return 0;
    return cr_err_set(err, CR_ESYNTAX, "column '%s': invalid UTF-8 at byte %zu", column, bad + 1);
}

/* ---------------------------------------------------------------- profiles */

enum special { SP_NONE, SP_EMAIL, SP_PHONE, SP_COUNTRY, SP_LANGUAGE };

struct pcol {
    char name[CR_SCHEMA_NAME_MAX + 1];
    enum cr_coltype type;
    enum special special;
    int not_null_default; /* -1: nullable; else the default of a NOT NULL flag */
    size_t field;         /* index in the CSV record */
    struct cr_buf scratch;
    /* this row's value */
    int is_null;
    const char *text;
    size_t len;
    int64_t i;
    double d;
};

struct profile_import {
    struct cr_store *s;
    const struct cr_import_opts *o;
    struct pcol *cols;              /* the columns written, in header order */
    size_t nfields;                 /* fields a record must have */
    size_t ncols, key, country_col; /* indexes into cols; country_col = ncols if absent */
    size_t ext_col;                 /* external_id column when it is not the key, else ncols */
    struct cr_stmt *lookup, *lookup_ext, *update, *insert;
    char now[CR_TIME_BUFSZ];
    struct cr_buf reason;
};

/* Columns crier sets itself: accepted in a header (so an export imports back) and ignored. */
static const char *const managed[] = {"id", "created_at", "updated_at"};

static int flag_default(const char *name)
{
    if (strcmp(name, "email_optout") == 0 || strcmp(name, "sms_optout") == 0 ||
        strcmp(name, "push_optout") == 0)
        return 0;
    if (strcmp(name, "tracking_consent") == 0)
        return 1;
    return -1;
}

static int is_managed(const char *name)
{
    for (size_t k = 0; k < sizeof managed / sizeof *managed; k++)
        if (strcmp(name, managed[k]) == 0)
            return 1;
    return 0;
}

static int profile_header(struct profile_import *pi, struct cr_csv_reader *r,
                          const struct cr_schema *sc, struct cr_err *err)
{
    char seen[4096 / 8] = {0};
    pi->cols = cr_xcalloc(r->nfields, sizeof *pi->cols);
    pi->nfields = r->nfields;
    for (size_t f = 0; f < r->nfields; f++) {
        size_t n;
        const char *raw = cr_csv_field(r, f, &n);
        struct pcol *pc = &pi->cols[pi->ncols];
        const struct cr_column *col;
        size_t idx;
        lower_name(raw, n, pc->name, sizeof pc->name);
        if (!pc->name[0])
            return cr_err_set(err, CR_ESYNTAX, "bad header: column %zu has no name", f + 1);
        col = cr_schema_find(sc, pc->name, strlen(pc->name));
        if (!col) {
            struct cr_buf known = CR_BUF_INIT(0);
            int rc;
            for (size_t k = 0; k < sc->ncols; k++)
                if (!is_managed(sc->cols[k].name))
                    cr_buf_printf(&known, "%s%s", known.len ? ", " : "", sc->cols[k].name);
            rc = cr_err_set(err, CR_EINVAL, "bad header: unknown column '%.*s' (columns: %s)",
                            SHOW(n), raw, known.data);
            cr_buf_release(&known);
            return rc;
        }
        idx = (size_t)(col - sc->cols);
        if (idx < sizeof seen * 8) {
            if (seen[idx / 8] & (1 << (idx % 8)))
                return cr_err_set(err, CR_EINVAL, "bad header: column '%s' appears twice",
                                  pc->name);
            seen[idx / 8] |= (char)(1 << (idx % 8));
        }
        if (is_managed(pc->name))
            continue;
        pc->type = col->type;
        pc->field = f;
        pc->not_null_default = flag_default(pc->name);
        cr_buf_init(&pc->scratch, 4096);
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

static int profile_prepare(struct profile_import *pi, struct cr_err *err)
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
    cr_buf_puts(&sql, "?, ?)");
    if (!rc)
        rc = cr_stmt_prepare(pi->s, sql.data, &pi->insert, err);
    cr_buf_release(&sql);
    return rc;
}

/* Converts one field to its stored value; on failure writes the reason into pi->reason. */
static int convert_field(struct profile_import *pi, struct pcol *pc, const char *v, size_t n,
                         const char *region)
{
    struct cr_err e = CR_ERR_INIT;
    int rc = 0, b;
    cr_buf_reset(&pc->scratch);
    pc->is_null = 0;
    cr_trim(&v, &n);
    if (n == 0) {
        pc->is_null = 1;
        if (pc->not_null_default >= 0) {
            pc->is_null = 0;
            pc->i = pc->not_null_default;
        }
        return 0;
    }
    switch (pc->type) {
    case CR_COL_TEXT:
        rc = check_utf8(v, n, pc->name, &e);
        if (rc)
            break;
        if (pc->special == SP_EMAIL)
            rc = cr_normalize_email(v, n, &pc->scratch, &e);
        else if (pc->special == SP_PHONE)
            rc = cr_normalize_phone(v, n, region, &pc->scratch, &e);
        else if (pc->special == SP_COUNTRY)
            rc = cr_normalize_country(v, n, &pc->scratch, &e);
        else if (pc->special == SP_LANGUAGE) {
            for (size_t i = 0; i < n; i++)
                cr_buf_putc(&pc->scratch, v[i] >= 'A' && v[i] <= 'Z' ? (char)(v[i] + 32) : v[i]);
        } else {
            pc->text = v;
            pc->len = n;
            return 0;
        }
        break;
    case CR_COL_INTEGER:
        rc = cr_normalize_int(v, n, &pc->i, &e);
        break;
    case CR_COL_REAL:
        rc = cr_normalize_real(v, n, &pc->d, &e);
        break;
    case CR_COL_BOOLEAN:
        rc = cr_normalize_bool(v, n, &b, &e);
        pc->i = b;
        break;
    case CR_COL_DATE:
        rc = cr_normalize_date(v, n, &pc->scratch, &e);
        break;
    case CR_COL_TIMESTAMP:
        rc = cr_normalize_timestamp(v, n, &pc->scratch, &e);
        break;
    }
    if (rc) {
        if (strncmp(e.msg, "column '", 8) == 0)
            cr_buf_puts(&pi->reason, e.msg);
        else
            cr_buf_printf(&pi->reason, "column '%s': %s", pc->name, e.msg);
        return -1;
    }
    pc->text = pc->scratch.data;
    pc->len = pc->scratch.len;
    return 0;
}

static int bind_col(struct cr_stmt *st, int i, const struct pcol *pc)
{
    if (pc->is_null)
        return cr_stmt_bind_null(st, i);
    switch (pc->type) {
    case CR_COL_INTEGER:
        return cr_stmt_bind_int64(st, i, pc->i);
    case CR_COL_REAL:
        return cr_stmt_bind_double(st, i, pc->d);
    case CR_COL_BOOLEAN:
        return cr_stmt_bind_bool(st, i, (int)pc->i);
    default:
        return cr_stmt_bind_text(st, i, pc->text, pc->len);
    }
}

/* Runs a lookup statement bound to one value; *id = the match, *count = 0, 1 or 2 (= more). */
static int run_lookup(struct cr_stmt *st, const struct pcol *pc, int64_t *id, int *count,
                      struct cr_err *err)
{
    int rc;
    *count = 0;
    cr_stmt_reset(st);
    bind_col(st, 1, pc);
    while ((rc = cr_stmt_step(st, err)) == 1) {
        if (++*count == 1)
            *id = cr_stmt_int64(st, 0);
    }
    cr_stmt_reset(st);
    return rc;
}

/* 0: row loaded; 1: row rejected (reason in pi->reason); <0: store failure. */
static int profile_row(struct profile_import *pi, struct cr_csv_reader *r, int *inserted,
                       struct cr_err *err)
{
    char region[3] = "";
    struct pcol *key = &pi->cols[pi->key];
    struct cr_stmt *st;
    int64_t id = 0, ext_owner = 0;
    int count, rc, p = 1;

    if (r->nfields != pi->nfields) {
        cr_buf_printf(&pi->reason, "expected %zu fields, found %zu", pi->nfields, r->nfields);
        return 1;
    }
    /* The row's own country decides how its national phone numbers read. */
    if (pi->country_col < pi->ncols) {
        struct pcol *cc = &pi->cols[pi->country_col];
        size_t n;
        const char *v = cr_csv_field(r, cc->field, &n);
        if (convert_field(pi, cc, v, n, NULL))
            return 1;
        if (!cc->is_null)
            memcpy(region, cc->text, 2);
    }
    if (!region[0] && pi->o->default_country)
        snprintf(region, sizeof region, "%s", pi->o->default_country);
    for (size_t i = 0; i < pi->ncols; i++) {
        size_t n;
        const char *v;
        if (i == pi->country_col)
            continue;
        v = cr_csv_field(r, pi->cols[i].field, &n);
        if (convert_field(pi, &pi->cols[i], v, n, region))
            return 1;
    }
    if (key->is_null) {
        cr_buf_printf(&pi->reason, "empty key '%s'", key->name);
        return 1;
    }
    rc = run_lookup(pi->lookup, key, &id, &count, err);
    if (rc < 0)
        return rc;
    if (count > 1) {
        cr_buf_printf(&pi->reason,
                      "%s '%.*s' matches several profiles (import with --key external_id)",
                      key->name, SHOW(key->len), key->text);
        return 1;
    }
    /* external_id is unique: refuse a row that would give another profile's id. */
    if (pi->lookup_ext && !pi->cols[pi->ext_col].is_null) {
        int ext_count;
        rc = run_lookup(pi->lookup_ext, &pi->cols[pi->ext_col], &ext_owner, &ext_count, err);
        if (rc < 0)
            return rc;
        if (ext_count && (!count || ext_owner != id)) {
            cr_buf_printf(&pi->reason, "external_id '%.*s' already belongs to profile %lld",
                          SHOW(pi->cols[pi->ext_col].len), pi->cols[pi->ext_col].text,
                          (long long)ext_owner);
            return 1;
        }
    }
    st = count ? pi->update : pi->insert;
    cr_stmt_reset(st);
    for (size_t i = 0; i < pi->ncols; i++)
        bind_col(st, p++, &pi->cols[i]);
    if (count) {
        cr_stmt_bind_str(st, p++, pi->now);
        cr_stmt_bind_int64(st, p++, id);
    } else {
        cr_stmt_bind_str(st, p++, pi->now);
        cr_stmt_bind_str(st, p++, pi->now);
    }
    rc = cr_stmt_step(st, err);
    cr_stmt_reset(st);
    if (rc < 0)
        return rc;
    *inserted = !count;
    return 0;
}

static void profile_import_release(struct profile_import *pi)
{
    for (size_t i = 0; i < pi->ncols; i++)
        cr_buf_release(&pi->cols[i].scratch);
    free(pi->cols);
    cr_stmt_free(pi->lookup);
    cr_stmt_free(pi->lookup_ext);
    cr_stmt_free(pi->update);
    cr_stmt_free(pi->insert);
    cr_buf_release(&pi->reason);
}

static const char *key_or_default(const struct cr_import_opts *o)
{
    return o->key && *o->key ? o->key : "email";
}

static int check_key(const char *key, struct cr_err *err)
{
    if (strcmp(key, "email") && strcmp(key, "phone") && strcmp(key, "external_id"))
        return cr_err_set(err, CR_EINVAL, "unknown key '%s' (keys: email, phone, external_id)",
                          key);
    return 0;
}

/* Reads records until the end, calling row() on each; rejects and batches for all imports. */
static int import_loop(struct cr_store *s, struct cr_csv_reader *r, const struct cr_import_opts *o,
                       struct cr_import_result *res, struct cr_buf *reason,
                       int (*row)(void *ctx, struct cr_csv_reader *r, int *inserted,
                                  struct cr_err *err),
                       void *ctx, struct cr_err *err)
{
    struct batch b = {s, 0, o->batch_rows > 0 ? o->batch_rows : DEFAULT_BATCH};
    int rc = cr_store_begin(s, err);
    if (rc)
        return rc;
    for (;;) {
        struct cr_err rowerr = CR_ERR_INIT;
        int inserted = 0;
        rc = cr_csv_next(r, &rowerr);
        if (rc == 0)
            break;
        if (rc == CR_EIO) {
            *err = rowerr;
            rc = CR_EIO;
            break;
        }
        res->read++;
        if (rc < 0) {
            /* "line N: problem": the line is reported separately. */
            const char *m = strchr(rowerr.msg, ':');
            add_reject(res, r->record_line, m ? m + 2 : rowerr.msg);
            continue;
        }
        cr_buf_reset(reason);
        rc = row(ctx, r, &inserted, err);
        if (rc < 0) {
            cr_err_prefix(err, "line %ld: ", r->record_line);
            break;
        }
        if (rc == 1) {
            add_reject(res, r->record_line, reason->data);
            continue;
        }
        if (inserted)
            res->inserted++;
        else
            res->updated++;
        if ((rc = batch_row_done(&b, err)) < 0)
            break;
        rc = 0;
    }
    if (rc < 0) {
        cr_store_rollback(s);
        return rc;
    }
    return cr_store_commit(s, err);
}

static int profile_row_cb(void *ctx, struct cr_csv_reader *r, int *inserted, struct cr_err *err)
{
    return profile_row(ctx, r, inserted, err);
}

int cr_import_profiles(struct cr_store *s, FILE *in, const struct cr_import_opts *o,
                       struct cr_import_result *res, struct cr_err *err)
{
    struct cr_import_opts opts = *o;
    struct profile_import pi = {0};
    struct cr_csv_reader r;
    struct cr_schema sc;
    int rc;

    opts.key = key_or_default(o);
    if ((rc = check_key(opts.key, err)))
        return rc;
    if ((rc = cr_schema_load(s, "profile", &sc, err)))
        return rc;
    pi.s = s;
    pi.o = &opts;
    cr_buf_init(&pi.reason, 1024);
    cr_time_format_sql(cr_clock_now(o->clock), pi.now);
    cr_csv_reader_init(&r, in, o->separator ? o->separator : ',');
    rc = read_header(&r, err);
    if (!rc)
        rc = profile_header(&pi, &r, &sc, err);
    if (!rc)
        rc = profile_prepare(&pi, err);
    if (!rc)
        rc = import_loop(s, &r, &opts, res, &pi.reason, profile_row_cb, &pi, err);
    profile_import_release(&pi);
    cr_csv_reader_release(&r);
    cr_schema_release(&sc);
    return rc;
}

/* ---------------------------------------------------------------- keyed lookups */

/* What subscription and list imports share: the key column and its lookup. */
struct keyed_import {
    struct cr_store *s;
    const struct cr_import_opts *o;
    size_t key_field, nfields;
    struct cr_stmt *lookup;
    struct cr_buf reason, keyval;
    char now[CR_TIME_BUFSZ];
};

static int keyed_init(struct keyed_import *ki, struct cr_store *s, const struct cr_import_opts *o,
                      struct cr_csv_reader *r, struct cr_err *err)
{
    char sql[128];
    int found = 0;
    ki->s = s;
    ki->o = o;
    ki->nfields = r->nfields;
    cr_buf_init(&ki->reason, 1024);
    cr_buf_init(&ki->keyval, 4096);
    cr_time_format_sql(cr_clock_now(o->clock), ki->now);
    for (size_t f = 0; f < r->nfields; f++) {
        char name[64];
        size_t n;
        const char *raw = cr_csv_field(r, f, &n);
        lower_name(raw, n, name, sizeof name);
        if (strcmp(name, o->key) == 0) {
            ki->key_field = f;
            found = 1;
        }
    }
    if (!found)
        return cr_err_set(err, CR_EINVAL, "bad header: no '%s' column (the profile key; choose "
                                          "another with --key email|phone|external_id)",
                          o->key);
    snprintf(sql, sizeof sql, "SELECT id FROM profile WHERE \"%s\" = ? LIMIT 2", o->key);
    return cr_stmt_prepare(s, sql, &ki->lookup, err);
}

static void keyed_release(struct keyed_import *ki)
{
    cr_stmt_free(ki->lookup);
    cr_buf_release(&ki->reason);
    cr_buf_release(&ki->keyval);
}

/* 0 and *id; 1 with a reason when the key is empty, unknown or ambiguous; <0 store error. */
static int keyed_profile(struct keyed_import *ki, struct cr_csv_reader *r, int64_t *id,
                         struct cr_err *err)
{
    struct cr_err e = CR_ERR_INIT;
    const char *v;
    size_t n;
    int count = 0, rc;
    if (r->nfields != ki->nfields) {
        cr_buf_printf(&ki->reason, "expected %zu fields, found %zu", ki->nfields, r->nfields);
        return 1;
    }
    v = cr_csv_field(r, ki->key_field, &n);
    cr_trim(&v, &n);
    cr_buf_reset(&ki->keyval);
    if (n == 0) {
        cr_buf_printf(&ki->reason, "empty key '%s'", ki->o->key);
        return 1;
    }
    if (check_utf8(v, n, ki->o->key, &e))
        rc = -1;
    else if (strcmp(ki->o->key, "email") == 0)
        rc = cr_normalize_email(v, n, &ki->keyval, &e);
    else if (strcmp(ki->o->key, "phone") == 0)
        rc = cr_normalize_phone(v, n, ki->o->default_country, &ki->keyval, &e);
    else
        rc = cr_buf_append(&ki->keyval, v, n);
    if (rc) {
        cr_buf_printf(&ki->reason, "column '%s': %s", ki->o->key, cr_err_msg(&e));
        return 1;
    }
    cr_stmt_reset(ki->lookup);
    cr_stmt_bind_text(ki->lookup, 1, ki->keyval.data, ki->keyval.len);
    while ((rc = cr_stmt_step(ki->lookup, err)) == 1)
        if (++count == 1)
            *id = cr_stmt_int64(ki->lookup, 0);
    cr_stmt_reset(ki->lookup);
    if (rc < 0)
        return rc;
    if (count == 0) {
        cr_buf_printf(&ki->reason, "no profile with %s '%.*s'", ki->o->key, SHOW(ki->keyval.len),
                      ki->keyval.data);
        return 1;
    }
    if (count > 1) {
        cr_buf_printf(&ki->reason, "%s '%.*s' matches several profiles (use --key external_id)",
                      ki->o->key, SHOW(ki->keyval.len), ki->keyval.data);
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- subscriptions */

struct sub_import {
    struct keyed_import k;
    size_t app, platform, token, active; /* field indexes; active = nfields if absent */
    struct cr_stmt *find, *insert, *update;
};

static int sub_row(void *ctx, struct cr_csv_reader *r, int *inserted, struct cr_err *err)
{
    struct sub_import *si = ctx;
    struct cr_err e = CR_ERR_INIT;
    const char *app, *platform, *token;
    size_t an, pn, tn;
    int64_t profile_id = 0, sub_id = 0;
    int rc, active = 1, found = 0;

    rc = keyed_profile(&si->k, r, &profile_id, err);
    if (rc)
        return rc;
    app = cr_csv_field(r, si->app, &an);
    platform = cr_csv_field(r, si->platform, &pn);
    token = cr_csv_field(r, si->token, &tn);
    cr_trim(&app, &an);
    cr_trim(&platform, &pn);
    cr_trim(&token, &tn);
    if (!an || !tn) {
        cr_buf_printf(&si->k.reason, "empty %s", !an ? "app" : "token");
        return 1;
    }
    if (check_utf8(app, an, "app", &e) || check_utf8(token, tn, "token", &e)) {
        cr_buf_puts(&si->k.reason, e.msg);
        return 1;
    }
    if (!((pn == 3 && strncasecmp(platform, "ios", 3) == 0) ||
          (pn == 7 && strncasecmp(platform, "android", 7) == 0))) {
        cr_buf_printf(&si->k.reason, "column 'platform': bad platform '%.*s' (ios or android)",
                      SHOW(pn), platform);
        return 1;
    }
    if (si->active < si->k.nfields) {
        size_t n;
        const char *v = cr_csv_field(r, si->active, &n);
        cr_trim(&v, &n);
        if (n && cr_normalize_bool(v, n, &active, &e)) {
            cr_buf_printf(&si->k.reason, "column 'active': %s", e.msg);
            return 1;
        }
    }
    cr_stmt_reset(si->find);
    cr_stmt_bind_text(si->find, 1, app, an);
    cr_stmt_bind_str(si->find, 2, pn == 3 ? "ios" : "android");
    cr_stmt_bind_text(si->find, 3, token, tn);
    while ((rc = cr_stmt_step(si->find, err)) == 1) {
        sub_id = cr_stmt_int64(si->find, 0);
        found = 1;
    }
    cr_stmt_reset(si->find);
    if (rc < 0)
        return rc;
    if (found) {
        struct cr_stmt *st = si->update;
        cr_stmt_reset(st);
        cr_stmt_bind_int64(st, 1, profile_id);
        cr_stmt_bind_bool(st, 2, active);
        cr_stmt_bind_str(st, 3, si->k.now);
        cr_stmt_bind_int64(st, 4, sub_id);
        rc = cr_stmt_step(st, err);
        cr_stmt_reset(st);
    } else {
        struct cr_stmt *st = si->insert;
        cr_stmt_reset(st);
        cr_stmt_bind_int64(st, 1, profile_id);
        cr_stmt_bind_text(st, 2, app, an);
        cr_stmt_bind_str(st, 3, pn == 3 ? "ios" : "android");
        cr_stmt_bind_text(st, 4, token, tn);
        cr_stmt_bind_bool(st, 5, active);
        cr_stmt_bind_str(st, 6, si->k.now);
        cr_stmt_bind_str(st, 7, si->k.now);
        rc = cr_stmt_step(st, err);
        cr_stmt_reset(st);
    }
    if (rc < 0)
        return rc;
    *inserted = !found;
    return 0;
}

int cr_import_subscriptions(struct cr_store *s, FILE *in, const struct cr_import_opts *o,
                            struct cr_import_result *res, struct cr_err *err)
{
    struct cr_import_opts opts = *o;
    struct sub_import si = {0};
    struct cr_csv_reader r;
    int rc;
    opts.key = key_or_default(o);
    if ((rc = check_key(opts.key, err)))
        return rc;
    cr_csv_reader_init(&r, in, o->separator ? o->separator : ',');
    rc = read_header(&r, err);
    if (!rc)
        rc = keyed_init(&si.k, s, &opts, &r, err);
    if (!rc) {
        size_t *slots[] = {&si.app, &si.platform, &si.token, &si.active};
        const char *names[] = {"app", "platform", "token", "active"};
        for (size_t k = 0; k < 4; k++)
            *slots[k] = r.nfields;
        for (size_t f = 0; f < r.nfields && !rc; f++) {
            char name[64];
            size_t n, k;
            const char *raw = cr_csv_field(&r, f, &n);
            lower_name(raw, n, name, sizeof name);
            for (k = 0; k < 4; k++)
                if (strcmp(name, names[k]) == 0) {
                    *slots[k] = f;
                    break;
                }
            if (k == 4 && strcmp(name, opts.key) != 0)
                rc = cr_err_set(err, CR_EINVAL,
                                "bad header: unknown column '%.*s' (columns: %s, app, platform, "
                                "token, active)",
                                SHOW(n), raw, opts.key);
        }
        for (size_t k = 0; k < 3 && !rc; k++)
            if (*slots[k] == r.nfields)
                rc = cr_err_set(err, CR_EINVAL, "bad header: no '%s' column", names[k]);
    }
    if (!rc)
        rc = cr_stmt_prepare(s,
                             "SELECT id FROM subscription WHERE app = ? AND platform = ? AND "
                             "token = ?",
                             &si.find, err);
    if (!rc)
        rc = cr_stmt_prepare(s,
                             "INSERT INTO subscription (profile_id, app, platform, token, active, "
                             "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             &si.insert, err);
    if (!rc)
        rc = cr_stmt_prepare(s,
                             "UPDATE subscription SET profile_id = ?, active = ?, updated_at = ?, "
                             "deactivated_at = NULL, deactivation_reason = NULL WHERE id = ?",
                             &si.update, err);
    if (!rc)
        rc = import_loop(s, &r, &opts, res, &si.k.reason, sub_row, &si, err);
    cr_stmt_free(si.find);
    cr_stmt_free(si.insert);
    cr_stmt_free(si.update);
    keyed_release(&si.k);
    cr_csv_reader_release(&r);
    return rc;
}

/* ---------------------------------------------------------------- list members */

struct list_import {
    struct keyed_import k;
    int64_t list_id;
    struct cr_stmt *find, *insert;
};

static int list_row(void *ctx, struct cr_csv_reader *r, int *inserted, struct cr_err *err)
{
    struct list_import *li = ctx;
    int64_t profile_id = 0;
    int rc, found = 0;
    rc = keyed_profile(&li->k, r, &profile_id, err);
    if (rc)
        return rc;
    cr_stmt_reset(li->find);
    cr_stmt_bind_int64(li->find, 1, li->list_id);
    cr_stmt_bind_int64(li->find, 2, profile_id);
    while ((rc = cr_stmt_step(li->find, err)) == 1)
        found = 1;
    cr_stmt_reset(li->find);
    if (rc < 0)
        return rc;
    if (!found) {
        cr_stmt_reset(li->insert);
        cr_stmt_bind_int64(li->insert, 1, li->list_id);
        cr_stmt_bind_int64(li->insert, 2, profile_id);
        cr_stmt_bind_str(li->insert, 3, li->k.now);
        rc = cr_stmt_step(li->insert, err);
        cr_stmt_reset(li->insert);
        if (rc < 0)
            return rc;
    }
    *inserted = !found;
    return 0;
}

int cr_import_list(struct cr_store *s, const char *name, FILE *in, const struct cr_import_opts *o,
                   struct cr_import_result *res, struct cr_err *err)
{
    struct cr_import_opts opts = *o;
    struct list_import li = {0};
    struct cr_csv_reader r;
    int rc;
    opts.key = key_or_default(o);
    if ((rc = check_key(opts.key, err)))
        return rc;
    if (!*name || strlen(name) > 200)
        return cr_err_set(err, CR_EINVAL, "a list name must be 1 to 200 characters");
    cr_csv_reader_init(&r, in, o->separator ? o->separator : ',');
    rc = read_header(&r, err);
    if (!rc)
        rc = keyed_init(&li.k, s, &opts, &r, err);
    if (!rc) {
        /* Created up front so an import of only bad rows still leaves the (empty) list. */
        rc = cr_store_run(s, err,
                          "INSERT INTO list (name, created_at, updated_at) VALUES (?, ?, ?) "
                          "ON CONFLICT (name) DO NOTHING",
                          "sss", name, li.k.now, li.k.now);
    }
    if (!rc && cr_store_query_int64(s, err, &li.list_id, "SELECT id FROM list WHERE name = ?", "s",
                                    name) != 1)
        rc = err && err->code ? err->code : CR_ESTORE;
    if (!rc)
        rc = cr_stmt_prepare(s, "SELECT 1 FROM list_member WHERE list_id = ? AND profile_id = ?",
                             &li.find, err);
    if (!rc)
        rc = cr_stmt_prepare(s,
                             "INSERT INTO list_member (list_id, profile_id, added_at) "
                             "VALUES (?, ?, ?)",
                             &li.insert, err);
    if (!rc)
        rc = import_loop(s, &r, &opts, res, &li.k.reason, list_row, &li, err);
    cr_stmt_free(li.find);
    cr_stmt_free(li.insert);
    keyed_release(&li.k);
    cr_csv_reader_release(&r);
    return rc;
}
