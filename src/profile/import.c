/*
 * import.c - CSV import plumbing, and the subscription and list-member imports (see import.h)
 *
 * Profiles have their own pipelined importer in import_profiles.c. Subscriptions and list
 * members name their profile by a key (email, phone or external_id); a key that matches no
 * profile, or several, rejects the row.
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
#include "profile/import_int.h"
#include "profile/normalize.h"

#define SHOW(n) (int)((n) > 60 ? 60 : (n))

/* ---------------------------------------------------------------- shared plumbing */

void cr__import_reject(struct cr_import_result *res, long line, const char *reason)
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

void cr__import_column_name(const char *s, size_t n, char *out, size_t cap)
{
    size_t i;
    cr_trim(&s, &n);
    for (i = 0; i < n && i + 1 < cap; i++)
        out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    out[i] = '\0';
}

int cr__import_header(struct cr_csv_reader *r, struct cr_err *err)
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

int cr__import_check_utf8(const char *s, size_t n, const char *column, struct cr_err *err)
{
    size_t bad;
    if (cr_utf8_valid(s, n, &bad))
        return 0;
    return cr_err_set(err, CR_ESYNTAX, "column '%s': invalid UTF-8 at byte %zu", column, bad + 1);
}

const char *cr__import_key(const struct cr_import_opts *o)
{
    return o->key && *o->key ? o->key : "email";
}

int cr__import_check_key(const char *key, struct cr_err *err)
{
    if (strcmp(key, "email") && strcmp(key, "phone") && strcmp(key, "external_id"))
        return cr_err_set(err, CR_EINVAL, "unknown key '%s' (keys: email, phone, external_id)",
                          key);
    return 0;
}

/* Reads records until the end, calling row() on each: 0 loaded (inserted says how), 1 rejected
 * with the reason in *reason, <0 a store failure that ends the import. Commits every
 * batch_rows rows, so a long import holds the write lock in short turns. */
static int import_loop(struct cr_store *s, struct cr_csv_reader *r, const struct cr_import_opts *o,
                       struct cr_import_result *res, struct cr_buf *reason,
                       int (*row)(void *ctx, struct cr_csv_reader *r, int *inserted,
                                  struct cr_err *err),
                       void *ctx, struct cr_err *err)
{
    long limit = o->batch_rows > 0 ? o->batch_rows : CR__IMPORT_BATCH, pending = 0;
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
            break;
        }
        res->read++;
        if (rc < 0) {
            /* "line N: problem": the line is reported separately. */
            const char *m = strchr(rowerr.msg, ':');
            cr__import_reject(res, r->record_line, m ? m + 2 : rowerr.msg);
            continue;
        }
        cr_buf_reset(reason);
        rc = row(ctx, r, &inserted, err);
        if (rc < 0) {
            cr_err_prefix(err, "line %ld: ", r->record_line);
            break;
        }
        if (rc == 1) {
            cr__import_reject(res, r->record_line, reason->data);
            continue;
        }
        if (inserted)
            res->inserted++;
        else
            res->updated++;
        if (++pending >= limit) {
            pending = 0;
            if ((rc = cr_store_commit(s, err)) < 0 || (rc = cr_store_begin(s, err)) < 0)
                break;
        }
        rc = 0;
    }
    if (rc < 0) {
        if (cr_store_in_transaction(s))
            cr_store_rollback(s);
        return rc;
    }
    return cr_store_commit(s, err);
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
        cr__import_column_name(raw, n, name, sizeof name);
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
    if (cr__import_check_utf8(v, n, ki->o->key, &e))
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
    if (cr__import_check_utf8(app, an, "app", &e) || cr__import_check_utf8(token, tn, "token", &e)) {
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
    opts.key = cr__import_key(o);
    if ((rc = cr__import_check_key(opts.key, err)))
        return rc;
    cr_csv_reader_init(&r, in, o->separator ? o->separator : ',');
    rc = cr__import_header(&r, err);
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
            cr__import_column_name(raw, n, name, sizeof name);
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
    opts.key = cr__import_key(o);
    if ((rc = cr__import_check_key(opts.key, err)))
        return rc;
    if (!*name || strlen(name) > 200)
        return cr_err_set(err, CR_EINVAL, "a list name must be 1 to 200 characters");
    cr_csv_reader_init(&r, in, o->separator ? o->separator : ',');
    rc = cr__import_header(&r, err);
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
