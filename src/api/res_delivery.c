/*
 * res_delivery.c - /deliveries: create, list, show, KPIs, logs, opens and clicks over time,
 *                  an external delivery's file preview, and the lifecycle actions (prepare,
 *                  proof, confirm, pause, resume, stop), answered with the delivery as
 *                  `crier delivery show --json` prints it
 *
 * Creating checks more than `crier delivery create` does before storing: the filter is
 * compiled (a mistake answers 400 with its line and column) and the validity parsed, so
 * that a delivery the API made never fails later on a typo.
 */
#include "api/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/campaign.h"
#include "core/buf.h"
#include "core/datetime.h"
#include "delivery/account.h"
#include "delivery/delivery.h"
#include "delivery/dtemplate.h"
#include "delivery/external.h"
#include "query/query.h"

#define LOGS_DEFAULT 100

static void show(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    json_t *j;
    int rc = cr_delivery_show(x->s, x->id, &j, &err);
    if (rc)
        cr__api_fail(x, rc, &err, NULL);
    else
        cr__api_reply(x, MHD_HTTP_OK, j);
}

void cr__api_deliveries(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    const char *all = cr__api_arg(x, "all");
    json_t *j;
    int a = 0;
    if (all) {
        if (!strcmp(all, "1") || !strcmp(all, "true"))
            a = 1;
        else if (strcmp(all, "0") && strcmp(all, "false")) {
            cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "all", "all is 1 or 0");
            return;
        }
    }
    int rc = cr_delivery_list(x->s, a, &j, &err);
    if (rc)
        cr__api_fail(x, rc, &err, NULL);
    else
        cr__api_reply(x, MHD_HTTP_OK, j);
}

void cr__api_delivery(struct cr_api_ctx *x)
{
    show(x);
}

void cr__api_delivery_kpis(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    json_t *j;
    int64_t n = 0;
    int rc = cr_store_query_int64(x->s, &err, &n, "SELECT count(*) FROM delivery WHERE id = ?",
                                  "i", x->id);
    if (rc >= 0 && !n)
        rc = cr_err_set(&err, CR_ENOTFOUND, "no delivery with id %lld", (long long)x->id);
    if (rc < 0 || (rc = cr_delivery_kpis(x->s, x->id, &j, &err)))
        cr__api_fail(x, rc, &err, NULL);
    else
        cr__api_reply(x, MHD_HTTP_OK, j);
}

void cr__api_delivery_logs(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    static const char *const statuses[] = {"pending", "sending", "sent", "delivered",
                                           "failed", "excluded"};
    const char *status = cr__api_arg(x, "status");
    int64_t offset, limit;
    json_t *j;
    if (cr__api_arg_int(x, "offset", 0, INT64_MAX / 2, 0, &offset) ||
        cr__api_arg_int(x, "limit", 1, CR_API_PAGE_MAX, LOGS_DEFAULT, &limit))
        return;
    if (status) {
        size_t i;
        for (i = 0; i < sizeof statuses / sizeof *statuses && strcmp(status, statuses[i]); i++)
            ;
        if (i == sizeof statuses / sizeof *statuses) {
            cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "status",
                          "status is pending, sending, sent, delivered, failed or excluded");
            return;
        }
    }
    int rc = cr_delivery_logs(x->s, x->id, status, offset, limit, &j, &err);
    if (rc)
        cr__api_fail(x, rc, &err, NULL);
    else
        cr__api_reply(x, MHD_HTTP_OK, j);
}

void cr__api_delivery_prepare(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    int rc = cr_delivery_prepare(x->s, &x->clock, x->id, &err);
    if (rc)
        cr__api_fail(x, rc, &err, NULL);
    else
        show(x);
}

/* The body's "to" (an array of addresses, or one comma-separated string) as the library's
 * comma-separated list in *to; 0, or -1 with a 400 reply. */
static int proof_to(struct cr_api_ctx *x, json_t *body, struct cr_buf *to)
{
    json_t *v = json_object_get(body, "to"), *e;
    size_t i;
    if (!v)
        return 0;
    if (json_is_string(v)) {
        cr_buf_puts(to, json_string_value(v));
    } else if (json_is_array(v) && json_array_size(v)) {
        json_array_foreach(v, i, e)
        {
            const char *s = json_string_value(e);
            if (!s || !*s || strchr(s, ',')) {
                cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "to",
                              "to[%zu]: an address (a non-empty string without commas)", i);
                return -1;
            }
            if (i)
                cr_buf_putc(to, ',');
            cr_buf_puts(to, s);
        }
    } else {
        cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "to",
                      "to is an array of addresses");
        return -1;
    }
    return 0;
}

void cr__api_delivery_proof(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    struct cr_buf to = CR_BUF_INIT(64 * 1024);
    char *channel = NULL;
    int rc, sent = 0;
    json_t *body = cr__api_body(x, 1);
    if (!body || proof_to(x, body, &to))
        goto out;
    if (to.err) {
        cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "to", "too many addresses");
        goto out;
    }
    rc = cr_store_query_text(x->s, &err, &channel, "SELECT channel FROM delivery WHERE id = ?",
                             "i", x->id);
    if (rc == 0)
        rc = cr_err_set(&err, CR_ENOTFOUND, "no delivery with id %lld", (long long)x->id);
    if (rc < 0) {
        cr__api_fail(x, rc, &err, NULL);
        goto out;
    }
    if (channel && strcmp(channel, "external") == 0) {
        /* an external proof is a sample file in the spool: clients never choose a path */
        char *path = NULL;
        if (to.len) {
            cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "to",
                          "an external delivery's proof is a file in crier's spool: no \"to\"");
            goto out;
        }
        if ((rc = cr_external_proof(x->s, &x->clock, x->id, NULL, &path, &err)))
            cr__api_fail(x, rc, &err, NULL);
        else
            cr__api_reply(x, MHD_HTTP_OK, json_pack("{ss}", "file", path));
        free(path);
        goto out;
    }
    rc = cr_delivery_proof(x->s, &x->clock, x->id, to.len ? to.data : NULL, &sent, &err);
    if (rc)
        cr__api_fail(x, rc, &err, "to");
    else
        cr__api_reply(x, MHD_HTTP_OK, json_pack("{si}", "sent", sent));
out:
    free(channel);
    cr_buf_release(&to);
    json_decref(body);
}

void cr__api_delivery_confirm(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    int rc = cr_delivery_confirm(x->s, &x->clock, x->id, x->user.name, &err);
    if (rc)
        cr__api_fail(x, rc, &err, NULL);
    else
        show(x);
}

static void control(struct cr_api_ctx *x, enum cr_delivery_control what)
{
    struct cr_err err = CR_ERR_INIT;
    int rc = cr_delivery_control(x->s, &x->clock, x->id, what, &err);
    if (rc)
        cr__api_fail(x, rc, &err, NULL);
    else
        show(x);
}

void cr__api_delivery_pause(struct cr_api_ctx *x)
{
    control(x, CR_DELIVERY_PAUSE);
}

void cr__api_delivery_resume(struct cr_api_ctx *x)
{
    control(x, CR_DELIVERY_RESUME);
}

void cr__api_delivery_stop(struct cr_api_ctx *x)
{
    control(x, CR_DELIVERY_STOP);
}

/* ------------------------------------------------------------------ create --- */

/* A boolean member of body: 0 and *out (def when absent), or -1 with a 400 reply. */
static int body_bool(struct cr_api_ctx *x, json_t *body, const char *name, int def, int *out)
{
    json_t *v = json_object_get(body, name);
    *out = def;
    if (!v)
        return 0;
    if (!json_is_boolean(v)) {
        cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", name, "%s is true or false", name);
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}

/* The body's "campaign": a name (created when new, as `crier delivery create --campaign`
 * does) or the id of an existing campaign. 0 and *id (0: none), or -1 with the reply. */
static int campaign_of(struct cr_api_ctx *x, json_t *body, int64_t *id)
{
    struct cr_err err = CR_ERR_INIT;
    json_t *v = json_object_get(body, "campaign");
    int rc = 0;
    *id = 0;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_string(v)) {
        rc = cr_campaign_ensure(x->s, &x->clock, json_string_value(v), id, &err);
    } else if (json_is_integer(v) && json_integer_value(v) > 0) {
        struct cr_campaign c;
        char num[24];
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        if (!(rc = cr_campaign_get(x->s, &x->clock, num, &c, &err))) {
            *id = c.id;
            cr_campaign_release(&c);
        }
    } else {
        cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "campaign",
                      "campaign is a campaign's name or id");
        return -1;
    }
    if (rc == CR_ENOTFOUND) /* a body's reference, not the URL: 400 */
        rc = CR_EINVAL;
    if (rc) {
        cr__api_fail(x, rc, &err, "campaign");
        return -1;
    }
    return 0;
}

void cr__api_delivery_create(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    struct cr_delivery_new n = {0};
    struct cr_query q = CR_QUERY_INIT;
    struct cr_query_opts qo = {0};
    struct cr_account acct = {0};
    char *channel = NULL;
    json_t *content = NULL;
    int64_t tid, usec;
    int bad, rc, strict, in_tx = 0;
    json_t *body = cr__api_body(x, 0);
    if (!body)
        return;
    n.template_name = cr__api_body_str(x, body, "template", 1, &bad);
    n.account_name = bad ? NULL : cr__api_body_str(x, body, "account", 1, &bad);
    n.filter = bad ? NULL : cr__api_body_str(x, body, "filter", 1, &bad);
    n.label = bad ? NULL : cr__api_body_str(x, body, "label", 0, &bad);
    const char *validity = bad ? NULL : cr__api_body_str(x, body, "validity", 0, &bad);
    const char *tracking = bad ? NULL : cr__api_body_str(x, body, "tracking", 0, &bad);
    if (bad || body_bool(x, body, "confirm", 1, &n.confirm) ||
        body_bool(x, body, "strict", 0, &strict))
        goto out;
    if (n.label && !*n.label)
        n.label = NULL;
    if (tracking && strcmp(tracking, "all") && strcmp(tracking, "no_opens") &&
        strcmp(tracking, "none")) {
        cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "tracking",
                      "tracking is all, no_opens or none");
        goto out;
    }
    if (validity && cr_duration_parse(validity, strlen(validity), &usec, &err)) {
        cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "validity", "validity: %s",
                      cr_err_msg(&err));
        goto out;
    }
    /* the references first, each named; then the filter, with its place */
    rc = cr_dtemplate_get(x->s, n.template_name, &tid, &channel, &content, &err);
    if (rc) {
        cr__api_fail(x, rc == CR_ENOTFOUND ? CR_EINVAL : rc, &err, "template");
        goto out;
    }
    if ((rc = cr_account_get(x->s, n.account_name, 0, &acct, &err))) {
        cr__api_fail(x, rc == CR_ENOTFOUND ? CR_EINVAL : rc, &err, "account");
        goto out;
    }
    qo.clock = &x->clock;
    if ((rc = cr_query_compile_store(x->s, n.filter, strlen(n.filter), &qo, &q, &err))) {
        cr__api_fail(x, rc, &err, "filter");
        goto out;
    }
    cr_query_release(&q);
    n.options = json_object();
    if (strict)
        json_object_set_new(n.options, "strict", json_true());
    if (validity)
        json_object_set_new(n.options, "validity", json_string(validity));
    if (tracking)
        json_object_set_new(n.options, "tracking", json_string(tracking));
    if ((rc = cr_store_begin(x->s, &err))) {
        cr__api_fail(x, rc, &err, NULL);
        goto out;
    }
    in_tx = 1;
    if (campaign_of(x, body, &n.campaign_id))
        goto out;
    if ((rc = cr_delivery_create(x->s, &x->clock, &n, &x->id, &err))) {
        /* what is left is a template that does not go with the account */
        cr__api_fail(x, rc, &err, "account");
        goto out;
    }
    if ((rc = cr_store_commit(x->s, &err))) {
        cr__api_fail(x, rc, &err, NULL);
        goto out;
    }
    in_tx = 0;
    show(x);
out:
    if (in_tx)
        cr_store_rollback(x->s);
    if (acct.name)
        cr_account_release(&acct);
    json_decref(n.options);
    json_decref(content);
    free(channel);
    json_decref(body);
}

/* ----------------------------------------------------------------- preview --- */

/* The media type of an external template's file: text/csv or text/plain (fixed width),
 * with the file's charset. */
static void file_type(const json_t *content, char *out, size_t n)
{
    const char *format = json_string_value(json_object_get(content, "format"));
    const char *enc = json_string_value(json_object_get(content, "encoding"));
    const char *charset = !enc || !strncmp(enc, "utf-8", 5) ? "utf-8" : enc;
    snprintf(out, n, "%s; charset=%s",
             format && strcmp(format, "fixed") == 0 ? "text/plain" : "text/csv", charset);
}

void cr__api_delivery_preview(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    char *text = NULL, *data = NULL, type[64];
    size_t len = 0;
    int64_t rows;
    if (cr__api_arg_int(x, "rows", 1, CR_API_PAGE_MAX, 10, &rows))
        return;
    int rc = cr_store_query_text(x->s, &err, &text, "SELECT content FROM delivery WHERE id = ?",
                                 "i", x->id);
    if (rc == 0)
        rc = cr_err_set(&err, CR_ENOTFOUND, "no delivery with id %lld", (long long)x->id);
    if (rc < 0) {
        cr__api_fail(x, rc, &err, NULL);
        return;
    }
    json_t *content = json_loads(text ? text : "{}", 0, NULL);
    file_type(content, type, sizeof type);
    json_decref(content);
    free(text);
    FILE *f = open_memstream(&data, &len);
    if (!f) {
        cr__api_fail(x, CR_ENOMEM, &err, NULL);
        return;
    }
    rc = cr_external_preview(x->s, &x->clock, x->id, rows, f, &err);
    if (fclose(f) && !rc)
        rc = cr_err_set(&err, CR_ENOMEM, "preview: out of memory");
    if (rc) {
        free(data);
        cr__api_fail(x, rc, &err, NULL);
        return;
    }
    cr__api_reply_raw(x, MHD_HTTP_OK, type, data, len);
}

/* ---------------------------------------------------------------- timeline --- */

#define TIMELINE_FILL_MAX 10000 /* buckets; a longer span lists only those with hits */

static json_t *bucket_json(const char *at, int64_t o, int64_t uo, int64_t c, int64_t uc)
{
    return json_pack("{ss sI sI sI sI}", "at", at, "opens", (json_int_t)o, "unique_opens",
                     (json_int_t)uo, "clicks", (json_int_t)c, "unique_clicks", (json_int_t)uc);
}

void cr__api_delivery_timeline(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    struct cr_stmt *st = NULL;
    const char *bucket = cr__api_arg(x, "bucket");
    int64_t n = 0;
    int day;
    if (!bucket)
        bucket = "hour";
    if (strcmp(bucket, "hour") && strcmp(bucket, "day")) {
        cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "bucket", "bucket is hour or day");
        return;
    }
    day = bucket[0] == 'd';
    int rc = cr_store_query_int64(x->s, &err, &n, "SELECT count(*) FROM delivery WHERE id = ?",
                                  "i", x->id);
    if (rc >= 0 && !n)
        rc = cr_err_set(&err, CR_ENOTFOUND, "no delivery with id %lld", (long long)x->id);
    if (rc < 0) {
        cr__api_fail(x, rc, &err, NULL);
        return;
    }
    /* the bucket's start as the store's text form, in UTC (timestamps are stored in UTC) */
    const char *trunc;
    if (cr_store_dialect(x->s) == CR_DIALECT_POSTGRES)
        trunc = day ? "to_char(date_trunc('day', at), 'YYYY-MM-DD HH24:MI:SS')"
                    : "to_char(date_trunc('hour', at), 'YYYY-MM-DD HH24:MI:SS')";
    else
        trunc = day ? "strftime('%Y-%m-%d 00:00:00', at)" : "strftime('%Y-%m-%d %H:00:00', at)";
    struct cr_buf sql = CR_BUF_INIT(0);
    /* a click proves an open, as the KPIs count unique opens */
    cr_buf_printf(&sql,
                  "SELECT %s AS b, sum(CASE WHEN kind = 'open' THEN 1 ELSE 0 END), "
                  "count(DISTINCT log_id), sum(CASE WHEN kind = 'click' THEN 1 ELSE 0 END), "
                  "count(DISTINCT CASE WHEN kind = 'click' THEN log_id END) FROM tracking_log "
                  "WHERE delivery_id IN (SELECT id FROM delivery WHERE id = ? OR parent_id = ?) "
                  "AND kind IN ('open', 'click') GROUP BY b ORDER BY b",
                  trunc);
    rc = sql.err ? CR_ENOMEM : cr_stmt_prepare(x->s, sql.data, &st, &err);
    cr_buf_release(&sql);
    if (rc) {
        cr__api_fail(x, rc, &err, NULL);
        return;
    }
    cr_stmt_bind_int64(st, 1, x->id);
    cr_stmt_bind_int64(st, 2, x->id);
    json_t *items = json_array();
    int64_t step = (day ? 86400 : 3600) * CR_USEC_PER_SEC;
    cr_time_t next = 0, first = 0;
    while ((rc = cr_stmt_step(st, &err)) == 1) {
        const char *b = cr_stmt_text(st, 0);
        cr_time_t t;
        struct cr_err e2 = CR_ERR_INIT;
        char iso[CR_TIME_BUFSZ];
        if (!b || cr_time_parse(b, strlen(b), &t, &e2))
            continue;
        if (!first)
            first = t;
        /* buckets without hits in between, at zero: a chart's axis without holes */
        while (next && next < t && (t - first) / step < TIMELINE_FILL_MAX) {
            json_array_append_new(items, bucket_json(cr_time_format_iso(next, iso), 0, 0, 0, 0));
            next += step;
        }
        json_array_append_new(items, bucket_json(cr_time_format_iso(t, iso),
                                                 cr_stmt_int64(st, 1), cr_stmt_int64(st, 2),
                                                 cr_stmt_int64(st, 3), cr_stmt_int64(st, 4)));
        next = t + step;
    }
    cr_stmt_free(st);
    if (rc < 0) {
        json_decref(items);
        cr__api_fail(x, rc, &err, NULL);
        return;
    }
    cr__api_reply(x, MHD_HTTP_OK,
                  json_pack("{sI ss so}", "delivery", (json_int_t)x->id, "bucket", bucket,
                            "items", items));
}
