/*
 * external.c - extraction files of external deliveries: the template's columns compiled (a
 *              filter-language expression each, or a delivery field), the recipients' rows
 *              read and written with the extraction writer; template checks, preview, proofs
 */
#include "delivery/external.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "channel/external/extract.h"
#include "core/datetime.h"
#include "core/mem.h"
#include "delivery/delivery_int.h"
#include "delivery/external_int.h"
#include "query/query.h"
#include "store/config.h"

enum col_kind {
    C_EXPR,
    C_DELIVERY_ID,
    C_DELIVERY_LABEL,
    C_DELIVERY_DATE,
    C_RECIPIENT_ID,
    C_RECIPIENT_ADDRESS
};

static const struct {
    const char *name;
    enum col_kind kind;
} fields[] = {{"delivery.id", C_DELIVERY_ID},
              {"delivery.label", C_DELIVERY_LABEL},
              {"delivery.date", C_DELIVERY_DATE},
              {"recipient.id", C_RECIPIENT_ID},
              {"recipient.address", C_RECIPIENT_ADDRESS}};

struct xcol {
    enum col_kind kind;
    struct cr_query q; /* C_EXPR */
};

struct xcols {
    struct xcol *v;
    size_t n;
};

static void cols_release(struct xcols *c)
{
    for (size_t i = 0; i < c->n; i++)
        cr_query_release(&c->v[i].q);
    free(c->v);
    c->v = NULL;
    c->n = 0;
}

static int cols_compile(struct cr_store *s, struct cr_clock *clock, const json_t *content,
                        struct xcols *c, struct cr_err *err)
{
    json_t *cols = json_object_get(content, "columns"), *col;
    size_t i;
    c->n = json_array_size(cols);
    c->v = cr_xcalloc(c->n ? c->n : 1, sizeof *c->v);
    json_array_foreach(cols, i, col)
    {
        const char *v = json_string_value(json_object_get(col, "value"));
        const char *label = json_string_value(json_object_get(col, "label"));
        struct xcol *x = &c->v[i];
        x->q = (struct cr_query)CR_QUERY_INIT;
        x->kind = C_EXPR;
        if (!v || !*v)
            return cr_err_set(err, CR_EINVAL,
                              "columns[%zu] '%s': a column needs a value (a "
                              "profile field, an expression, or delivery.id, delivery.label, "
                              "delivery.date, recipient.id, recipient.address)",
                              i, label ? label : "");
        for (size_t k = 0; k < sizeof fields / sizeof *fields; k++)
            if (strcmp(v, fields[k].name) == 0)
                x->kind = fields[k].kind;
        if (x->kind != C_EXPR)
            continue;
        struct cr_query_opts o = {0};
        o.clock = clock;
        o.value = 1;
        int rc = cr_query_compile_store(s, v, strlen(v), &o, &x->q, err);
        if (rc) {
            cr_err_prefix(err, "columns[%zu] '%s': ", i, label ? label : "");
            return rc;
        }
    }
    return 0;
}

int cr_external_template_check(struct cr_store *s, const json_t *content, struct cr_err *err)
{
    struct xcols c = {0};
    int rc = cr_extract_check(content, err);
    if (!rc)
        rc = cols_compile(s, NULL, content, &c, err);
    cols_release(&c);
    return rc;
}

/* A value as the file shows it: booleans true/false and timestamps in ISO 8601 (UTC) on
 * both backends. */
static const char *cell(const struct xcol *x, const char *v, char *buf, size_t n)
{
    if (!v)
        return NULL;
    if (x->q.type == CR_QT_BOOLEAN)
        return strcmp(v, "1") == 0 || strcmp(v, "t") == 0 || strcmp(v, "true") == 0 ? "true"
                                                                                    : "false";
    if (x->q.type == CR_QT_TIMESTAMP) {
        cr_time_t t;
        struct cr_err e = CR_ERR_INIT;
        if (n >= CR_TIME_BUFSZ && !cr_time_parse(v, strlen(v), &t, &e))
            return cr_time_format_iso(t, buf);
    }
    return v;
}

int cr__external_write(struct cr_store *s, struct cr_clock *clock, int64_t id,
                       const json_t *content, const char *label, const char *status, int64_t limit,
                       int plain, const char *path, int64_t *rows, int64_t *bytes,
                       int64_t *max_log_id, struct cr_err *err)
{
    struct xcols c = {0};
    struct cr_buf sql = CR_BUF_INIT(0);
    struct cr_stmt *st = NULL;
    struct cr_extract *x = NULL;
    json_t *format = json_deep_copy(content);
    const char **vals = NULL;
    char tmp[4096] = "", date[16], idtext[24];
    int rc, first = 1;
    cr_time_t now = cr_clock_now(clock);
    FILE *f = NULL;
    *rows = *bytes = *max_log_id = 0;
    if (plain)
        json_object_set_new(format, "gzip", json_false());
    if ((rc = cols_compile(s, clock, content, &c, err)))
        goto out;
    cr_buf_puts(&sql, "SELECT l.id, l.address");
    for (size_t i = 0; i < c.n; i++) {
        if (c.v[i].kind == C_EXPR)
            cr_buf_printf(&sql, ", %s", c.v[i].q.where);
        else
            cr_buf_puts(&sql, ", NULL");
    }
    cr_buf_puts(&sql, " FROM delivery_log l JOIN profile p ON p.id = l.profile_id WHERE "
                      "l.delivery_id = ? AND l.status = ? AND NOT l.proof ORDER BY l.id");
    if (limit > 0)
        cr_buf_printf(&sql, " LIMIT %lld", (long long)limit);
    if ((rc = cr_stmt_prepare(s, sql.data, &st, err)))
        goto out;
    for (size_t i = 0; i < c.n && !rc; i++) {
        if (c.v[i].kind != C_EXPR)
            continue;
        rc = cr_query_bind_at(st, first, &c.v[i].q, now, err);
        first += (int)c.v[i].q.nparams;
    }
    if (rc)
        goto out;
    cr_stmt_bind_int64(st, first, id);
    cr_stmt_bind_str(st, first + 1, status);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()); /* one per process */
    if (!(f = fopen(tmp, "wb"))) {
        rc = cr_err_set(err, CR_EIO, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    if ((rc = cr_extract_open(format, f, &x, err)))
        goto out;
    vals = cr_xcalloc(c.n + 1, sizeof *vals);
    struct cr_civil cv;
    cr_time_to_civil(now, &cv);
    snprintf(date, sizeof date, "%04d-%02d-%02d", cv.year, cv.month, cv.day);
    char(*bufs)[CR_TIME_BUFSZ] = cr_xcalloc(c.n + 1, sizeof *bufs);
    while ((rc = cr_stmt_step(st, err)) == 1) {
        int64_t log_id = cr_stmt_int64(st, 0);
        snprintf(idtext, sizeof idtext, "%lld", (long long)log_id);
        for (size_t i = 0; i < c.n; i++) {
            switch (c.v[i].kind) {
            case C_EXPR:
                vals[i] = cell(&c.v[i], cr_stmt_text(st, (int)i + 2), bufs[i], sizeof bufs[i]);
                break;
            case C_DELIVERY_ID:
                snprintf(bufs[i], sizeof bufs[i], "%lld", (long long)id);
                vals[i] = bufs[i];
                break;
            case C_DELIVERY_LABEL:
                vals[i] = label ? label : "";
                break;
            case C_DELIVERY_DATE:
                vals[i] = date;
                break;
            case C_RECIPIENT_ID:
                vals[i] = idtext;
                break;
            case C_RECIPIENT_ADDRESS:
                vals[i] = cr_stmt_text(st, 1);
                break;
            }
        }
        if ((rc = cr_extract_row(x, vals, c.n, err)))
            break;
        *max_log_id = log_id;
    }
    free(bufs);
    if (rc < 0 || rc > 1)
        goto out;
    rc = cr_extract_close(x, rows, bytes, err);
    x = NULL;
    if (!rc && (fflush(f) != 0 || fsync(fileno(f)) != 0))
        rc = cr_err_set(err, CR_EIO, "%s: %s", tmp, strerror(errno));
    if (fclose(f) != 0 && !rc)
        rc = cr_err_set(err, CR_EIO, "%s: %s", tmp, strerror(errno));
    f = NULL;
    if (!rc && rename(tmp, path) != 0)
        rc = cr_err_set(err, CR_EIO, "%s: %s", path, strerror(errno));
out:
    cr_extract_abort(x);
    if (f)
        fclose(f);
    if (rc && tmp[0])
        unlink(tmp);
    free(vals);
    cr_stmt_free(st);
    cr_buf_release(&sql);
    cols_release(&c);
    json_decref(format);
    return rc < 0 ? rc : 0;
}

int cr__external_spool(struct cr_store *s, char **dir, struct cr_err *err)
{
    char *v = NULL;
    int rc = cr_config_get(s, "external.spool_dir", &v, err);
    if (rc)
        return rc;
    if (!v) {
        struct cr_buf b = CR_BUF_INIT(0);
        if (cr_store_dialect(s) == CR_DIALECT_SQLITE)
            cr_buf_printf(&b, "%s.spool", cr_store_display_url(s));
        else
            cr_buf_puts(&b, "/var/tmp/crier-spool");
        v = cr_xstrdup(b.data);
        cr_buf_release(&b);
    }
    if (mkdir(v, 0700) != 0 && errno != EEXIST) {
        rc = cr_err_set(err, CR_EIO,
                        "spool folder %s: %s (crier config set external.spool_dir "
                        "DIR)",
                        v, strerror(errno));
        free(v);
        return rc;
    }
    *dir = v;
    return 0;
}

char *cr__external_file_name(const char *pattern, int64_t id, const char *label, cr_time_t now,
                             const json_t *content)
{
    struct cr_buf b = CR_BUF_INIT(0);
    struct cr_civil cv;
    const char *fmt = json_string_value(json_object_get(content, "format"));
    int gz = json_is_true(json_object_get(content, "gzip"));
    cr_time_to_civil(now, &cv);
    for (const char *p = pattern ? pattern : "crier-{delivery}-{date}-{time}.{ext}"; *p; p++) {
        if (strncmp(p, "{delivery}", 10) == 0) {
            cr_buf_printf(&b, "%lld", (long long)id);
            p += 9;
        } else if (strncmp(p, "{label}", 7) == 0) {
            /* a label is the user's text: only what is safe in a file name */
            for (const char *l = label ? label : ""; *l; l++)
                cr_buf_putc(&b, (*l >= 'a' && *l <= 'z') || (*l >= 'A' && *l <= 'Z') ||
                                        (*l >= '0' && *l <= '9') || *l == '-' || *l == '_'
                                    ? *l
                                    : '_');
            p += 6;
        } else if (strncmp(p, "{date}", 6) == 0) {
            cr_buf_printf(&b, "%04d%02d%02d", cv.year, cv.month, cv.day);
            p += 5;
        } else if (strncmp(p, "{time}", 6) == 0) {
            cr_buf_printf(&b, "%02d%02d%02d", cv.hour, cv.min, cv.sec);
            p += 5;
        } else if (strncmp(p, "{ext}", 5) == 0) {
            cr_buf_printf(&b, "%s%s", fmt && strcmp(fmt, "fixed") == 0 ? "txt" : "csv",
                          gz ? ".gz" : "");
            p += 4;
        } else {
            cr_buf_putc(&b, *p);
        }
    }
    char *out = cr_xstrdup(b.data);
    cr_buf_release(&b);
    return out;
}

/* The content and label of delivery id, checked to be external. */
static int load(struct cr_store *s, int64_t id, json_t **content, char **label, struct cr_err *err)
{
    char *channel = NULL, *text = NULL;
    int rc =
        cr_store_query_text(s, err, &channel, "SELECT channel FROM delivery WHERE id = ?", "i", id);
    if (rc < 0)
        return rc;
    if (rc == 0 || !channel || strcmp(channel, "external") != 0) {
        rc = cr_err_set(err, rc == 0 ? CR_ENOTFOUND : CR_EINVAL,
                        rc == 0 ? "no delivery %lld" : "delivery %lld is not an external one",
                        (long long)id);
        free(channel);
        return rc;
    }
    free(channel);
    if ((rc = cr_store_query_text(s, err, &text, "SELECT content FROM delivery WHERE id = ?", "i",
                                  id)) < 0 ||
        (rc = cr_store_query_text(s, err, label, "SELECT label FROM delivery WHERE id = ?", "i",
                                  id)) < 0) {
        free(text);
        return rc;
    }
    *content = json_loads(text ? text : "{}", 0, NULL);
    free(text);
    return 0;
}

int cr_external_preview(struct cr_store *s, struct cr_clock *clock, int64_t id, int64_t rows,
                        FILE *out, struct cr_err *err)
{
    json_t *content = NULL;
    char *label = NULL, *dir = NULL;
    int64_t n, bytes, max;
    struct cr_buf path = CR_BUF_INIT(0);
    int rc = load(s, id, &content, &label, err);
    if (!rc && !(rc = cr__external_spool(s, &dir, err))) {
        cr_buf_printf(&path, "%s/preview-%lld-%ld", dir, (long long)id, (long)getpid());
        rc = cr__external_write(s, clock, id, content, label, "pending", rows > 0 ? rows : 10, 1,
                                path.data, &n, &bytes, &max, err);
    }
    if (!rc) {
        FILE *f = fopen(path.data, "rb");
        char buf[65536];
        size_t k;
        while (f && (k = fread(buf, 1, sizeof buf, f)) > 0)
            fwrite(buf, 1, k, out);
        if (f)
            fclose(f);
        unlink(path.data);
    }
    cr_buf_release(&path);
    json_decref(content);
    free(label);
    free(dir);
    return rc;
}

int cr_external_proof(struct cr_store *s, struct cr_clock *clock, int64_t id, const char *path,
                      char **written, struct cr_err *err)
{
    json_t *content = NULL;
    char *label = NULL, *dir = NULL, *name = NULL;
    int64_t n, bytes, max;
    struct cr_buf p = CR_BUF_INIT(0);
    int rc = load(s, id, &content, &label, err);
    *written = NULL;
    if (rc)
        return rc;
    if (path) {
        cr_buf_puts(&p, path);
    } else if (!(rc = cr__external_spool(s, &dir, err))) {
        name = cr__external_file_name("proof-{delivery}-{date}-{time}.{ext}", id, label,
                                      cr_clock_now(clock), content);
        cr_buf_printf(&p, "%s/%s", dir, name);
    }
    if (!rc)
        rc = cr__external_write(s, clock, id, content, label, "pending", 10, 0, p.data, &n, &bytes,
                                &max, err);
    if (!rc)
        *written = cr_xstrdup(p.data);
    cr_buf_release(&p);
    json_decref(content);
    free(label);
    free(dir);
    free(name);
    return rc;
}
