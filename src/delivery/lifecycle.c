/*
 * lifecycle.c - creating deliveries, moving them between statuses, showing them
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/datetime.h"
#include "core/mem.h"
#include "delivery/account.h"
#include "delivery/delivery.h"
#include "delivery/delivery_int.h"
#include "delivery/external.h"
#include "delivery/dtemplate.h"

int cr_delivery_create(struct cr_store *s, struct cr_clock *clock, const struct cr_delivery_new *n,
                       int64_t *id, struct cr_err *err)
{
    struct cr_account acct;
    char *channel = NULL, ts[CR_TIME_BUFSZ];
    json_t *content = NULL, *opts;
    int64_t tid;
    int rc = cr_dtemplate_get(s, n->template_name, &tid, &channel, &content, err);
    if (rc)
        return rc;
    if ((rc = cr_account_get(s, n->account_name, 0, &acct, err)))
        goto out;
    /* an external template goes with a routing account (mode external), of any channel */
    int ext_t = strcmp(channel, "external") == 0, ext_a = strcmp(acct.mode, "external") == 0;
    if (ext_t != ext_a || (!ext_t && strcmp(acct.channel, channel) != 0)) {
        rc = ext_t   ? cr_err_set(err, CR_EINVAL,
                                  "template '%s' is an extraction file: it needs "
                                    "a routing account (crier account add routing), not '%s'",
                                  n->template_name, acct.name)
             : ext_a ? cr_err_set(err, CR_EINVAL,
                                  "account '%s' exports files: it needs an "
                                  "external template, not '%s' (%s)",
                                  acct.name, n->template_name, channel)
                     : cr_err_set(err, CR_EINVAL,
                                  "account '%s' sends %s, template '%s' is for "
                                  "%s",
                                  acct.name, acct.channel, n->template_name, channel);
        goto out_acct;
    }
    /* a push account serves one platform (apns: ios, fcm: android) */
    const char *want =
        n->options ? json_string_value(json_object_get(n->options, "platform")) : NULL;
    const char *serves = json_string_value(json_object_get(acct.settings, "platform"));
    if (want && serves && strcmp(want, serves) != 0) {
        rc = cr_err_set(err, CR_EINVAL, "account '%s' sends to %s devices, not %s", acct.name,
                        serves, want);
        goto out_acct;
    }
    opts = n->options ? json_deep_copy(n->options) : json_object();
    json_object_set_new(opts, "confirm", json_boolean(n->confirm));
    char *otext = json_dumps(opts, JSON_COMPACT | JSON_SORT_KEYS);
    char *ctext = json_dumps(content, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(opts);
    cr_time_format_sql(cr_clock_now(clock), ts);
    /* the content is copied: editing the template later does not change this delivery */
    rc = cr_store_query_int64(s, err, id,
                              "INSERT INTO delivery (label, channel, template_id, account_id, "
                              "activity_id, status, filter, content, options, created_at, "
                              "updated_at) VALUES (?, ?, ?, ?, ?, 'draft', ?, ?, ?, ?, ?) "
                              "RETURNING id",
                              "ssiissssss", n->label ? n->label : n->template_name, channel, tid,
                              acct.id, n->activity_id, n->filter, ctext, otext, ts, ts);
    free(otext);
    free(ctext);
    rc = rc < 0 ? rc : 0;
    if (!rc && n->population_id)
        rc = cr_store_run(s, err, "UPDATE delivery SET population_id = ? WHERE id = ?", "ii",
                          n->population_id, *id);
    if (!rc && n->workflow_run_id)
        rc = cr_store_run(s, err, "UPDATE delivery SET workflow_run_id = ? WHERE id = ?", "ii",
                          n->workflow_run_id, *id);
    if (!rc && n->campaign_id)
        rc = cr_store_run(s, err, "UPDATE delivery SET campaign_id = ? WHERE id = ?", "ii",
                          n->campaign_id, *id);
out_acct:
    cr_account_release(&acct);
out:
    free(channel);
    json_decref(content);
    return rc;
}

void cr__delivery_profile_columns(struct cr_buf *sql, const struct cr_schema *profile)
{
    for (size_t i = 0; i < profile->ncols; i++)
        cr_buf_printf(sql, "%sp.\"%s\"", i ? ", " : "", profile->cols[i].name);
}

int cr__delivery_campaign(struct cr_store *s, int64_t id, json_t **out, struct cr_err *err)
{
    struct cr_stmt *st = NULL;
    int rc = cr_stmt_prepare(s,
                             "SELECT c.name, c.label FROM campaign c JOIN delivery d ON "
                             "d.campaign_id = c.id WHERE d.id = ?",
                             &st, err);
    *out = NULL;
    if (rc)
        return rc;
    cr_stmt_bind_int64(st, 1, id);
    if ((rc = cr_stmt_step(st, err)) == 1)
        *out = json_pack("{ss ss?}", "name", cr_stmt_text(st, 0), "label", cr_stmt_text(st, 1));
    cr_stmt_free(st);
    return rc < 0 ? rc : 0;
}

int cr__delivery_status(struct cr_store *s, int64_t id, char **status, struct cr_err *err)
{
    int rc =
        cr_store_query_text(s, err, status, "SELECT status FROM delivery WHERE id = ?", "i", id);
    if (rc == 0)
        return cr_err_set(err, CR_ENOTFOUND, "no delivery %lld", (long long)id);
    return rc < 0 ? rc : 0;
}

int cr__delivery_set_status(struct cr_store *s, struct cr_clock *clock, int64_t id,
                            const char *status, struct cr_err *err)
{
    char ts[CR_TIME_BUFSZ];
    cr_time_format_sql(cr_clock_now(clock), ts);
    return cr_store_run(s, err, "UPDATE delivery SET status = ?, updated_at = ? WHERE id = ?",
                        "ssi", status, ts, id);
}

/* Runs fn inside a transaction unless the caller already holds one. */
int cr__delivery_tx(struct cr_store *s, struct cr_err *err,
                    int (*fn)(struct cr_store *, void *, struct cr_err *), void *data)
{
    int own = !cr_store_in_transaction(s), rc;
    if (own && (rc = cr_store_begin(s, err)))
        return rc;
    rc = fn(s, data, err);
    if (!own)
        return rc;
    if (rc) {
        cr_store_rollback(s);
        return rc;
    }
    return cr_store_commit(s, err);
}

struct confirm_args {
    struct cr_clock *clock;
    int64_t id;
    const char *by;
};

static int confirm_tx(struct cr_store *s, void *data, struct cr_err *err)
{
    struct confirm_args *a = data;
    char *status = NULL, ts[CR_TIME_BUFSZ];
    int rc = cr__delivery_status(s, a->id, &status, err);
    if (rc)
        return rc;
    char *channel = NULL;
    if ((rc = cr_store_query_text(s, err, &channel, "SELECT channel FROM delivery WHERE id = ?",
                                  "i", a->id)) < 0) {
        free(status);
        return rc;
    }
    if (strcmp(status, "ready") != 0)
        rc = cr_err_set(err, CR_ESTATE,
                        "delivery %lld is %s: only a prepared (ready) delivery "
                        "can be confirmed%s",
                        (long long)a->id, status,
                        strcmp(status, "draft") == 0 ? " (run: crier delivery prepare)" : "");
    else if (!channel || (strcmp(channel, "email") != 0 && strcmp(channel, "sms") != 0 &&
                          strcmp(channel, "push") != 0 && strcmp(channel, "external") != 0))
        rc = cr_err_set(err, CR_EUNSUPPORTED,
                        "delivery %lld: sending %s deliveries is not "
                        "supported",
                        (long long)a->id, channel ? channel : "these");
    else
        rc = cr_store_run(s, err,
                          "UPDATE delivery SET status = 'sending', confirmed_at = ?, "
                          "confirmed_by = ?, started_at = ?, updated_at = ? WHERE id = ?",
                          "ssssi", cr_time_format_sql(cr_clock_now(a->clock), ts), a->by, ts, ts,
                          a->id);
    /* an execution of a recurring delivery: what its fires prepared is released */
    if (!rc)
        rc = cr_store_run(s, err,
                          "UPDATE delivery_fire SET confirmed_at = ? WHERE delivery_id = ? AND "
                          "prepared_at IS NOT NULL AND confirmed_at IS NULL",
                          "si", ts, a->id);
    free(status);
    free(channel);
    return rc;
}

int cr_delivery_confirm(struct cr_store *s, struct cr_clock *clock, int64_t id, const char *by,
                        struct cr_err *err)
{
    struct confirm_args a = {clock, id, by};
    return cr__delivery_tx(s, err, confirm_tx, &a);
}

struct control_args {
    struct cr_clock *clock;
    int64_t id;
    enum cr_delivery_control what;
};

static int control_tx(struct cr_store *s, void *data, struct cr_err *err)
{
    struct control_args *a = data;
    char *status = NULL;
    int rc = cr__delivery_status(s, a->id, &status, err);
    if (rc)
        return rc;
    switch (a->what) {
    case CR_DELIVERY_PAUSE:
        rc = strcmp(status, "sending") != 0
                 ? cr_err_set(err, CR_ESTATE, "delivery %lld is %s, not sending", (long long)a->id,
                              status)
                 : cr__delivery_set_status(s, a->clock, a->id, "paused", err);
        break;
    case CR_DELIVERY_RESUME:
        rc = strcmp(status, "paused") != 0
                 ? cr_err_set(err, CR_ESTATE, "delivery %lld is %s, not paused", (long long)a->id,
                              status)
                 : cr__delivery_set_status(s, a->clock, a->id, "sending", err);
        break;
    case CR_DELIVERY_STOP:
        if (strcmp(status, "sent") == 0 || strcmp(status, "stopped") == 0 ||
            strcmp(status, "failed") == 0)
            rc =
                cr_err_set(err, CR_ESTATE, "delivery %lld is already %s", (long long)a->id, status);
        else if (!(rc = cr__delivery_set_status(s, a->clock, a->id, "stopped", err)))
            rc = cr__delivery_finished(s, a->clock, a->id, err);
        break;
    }
    free(status);
    return rc;
}

int cr_delivery_control(struct cr_store *s, struct cr_clock *clock, int64_t id,
                        enum cr_delivery_control what, struct cr_err *err)
{
    struct control_args a = {clock, id, what};
    return cr__delivery_tx(s, err, control_tx, &a);
}

/* A delivery a workflow is waiting for has reached an end: wake its activity up, and for an
 * execution of a recurring delivery, the activities of every fire added to it (each run of
 * a scheduler's fires has its own). */
int cr__delivery_finished(struct cr_store *s, struct cr_clock *clock, int64_t id,
                          struct cr_err *err)
{
    char ts[CR_TIME_BUFSZ];
    cr_time_format_sql(cr_clock_now(clock), ts);
    int rc = cr_store_run(s, err,
                          "UPDATE activity_run SET wake_at = ? WHERE status = 'waiting' AND "
                          "wake_at IS NULL AND run_id = (SELECT workflow_run_id FROM delivery "
                          "WHERE id = ?) AND activity_id = (SELECT activity_id FROM delivery "
                          "WHERE id = ?)",
                          "sii", ts, id, id);
    return rc ? rc
              : cr_store_run(s, err,
                             "UPDATE activity_run SET wake_at = ? WHERE status = 'waiting' AND "
                             "wake_at IS NULL AND EXISTS (SELECT 1 FROM delivery_fire f WHERE "
                             "f.delivery_id = ? AND f.run_id = activity_run.run_id AND "
                             "f.activity_id = activity_run.activity_id)",
                             "si", ts, id);
}

static json_t *text_or_null(struct cr_stmt *st, int col)
{
    return cr_stmt_text(st, col) ? json_string(cr_stmt_text(st, col)) : json_null();
}

static json_t *int_or_null(struct cr_stmt *st, int col)
{
    return cr_stmt_is_null(st, col) ? json_null() : json_integer(cr_stmt_int64(st, col));
}

static json_t *json_col(struct cr_stmt *st, int col)
{
    json_t *j = cr_stmt_text(st, col) ? json_loads(cr_stmt_text(st, col), 0, NULL) : NULL;
    return j ? j : json_null();
}

static json_t *time_col(struct cr_stmt *st, int col)
{
    cr_time_t t;
    char buf[CR_TIME_BUFSZ];
    struct cr_err e = CR_ERR_INIT;
    const char *v = cr_stmt_text(st, col);
    if (!v || cr_time_parse(v, strlen(v), &t, &e))
        return json_null();
    return json_string(cr_time_format_iso(t, buf));
}

int cr_delivery_show(struct cr_store *s, int64_t id, json_t **out, struct cr_err *err)
{
    struct cr_stmt *st = NULL;
    json_t *j = NULL, *kpis = NULL;
    int rc = cr_stmt_prepare(
        s,
        "SELECT d.id, d.label, d.channel, d.status, t.name, a.name, c.name, d.parent_id, "
        "d.period, d.options, d.preparation, d.error, d.created_at, d.prepared_at, "
        "d.confirmed_at, d.confirmed_by, d.started_at, d.sent_at, d.workflow_run_id, "
        "d.activity_id, d.filter, d.population_id FROM delivery d "
        "LEFT JOIN template t ON t.id = d.template_id LEFT JOIN account a ON a.id = d.account_id "
        "LEFT JOIN campaign c ON c.id = d.campaign_id WHERE d.id = ?",
        &st, err);
    *out = NULL;
    if (rc)
        return rc;
    cr_stmt_bind_int64(st, 1, id);
    rc = cr_stmt_step(st, err);
    if (rc == 0)
        rc = cr_err_set(err, CR_ENOTFOUND, "no delivery %lld", (long long)id);
    if (rc < 0)
        goto out;
    j = json_object();
    json_object_set_new(j, "id", json_integer(id));
    json_object_set_new(j, "label", text_or_null(st, 1));
    json_object_set_new(j, "channel", text_or_null(st, 2));
    json_object_set_new(j, "status", text_or_null(st, 3));
    json_object_set_new(j, "template", text_or_null(st, 4));
    json_object_set_new(j, "account", text_or_null(st, 5));
    json_object_set_new(j, "campaign", text_or_null(st, 6));
    json_object_set_new(j, "parent", int_or_null(st, 7));
    json_object_set_new(j, "period", text_or_null(st, 8));
    json_object_set_new(j, "options", json_col(st, 9));
    json_object_set_new(j, "preparation", json_col(st, 10));
    json_object_set_new(j, "error", text_or_null(st, 11));
    json_object_set_new(j, "created_at", time_col(st, 12));
    json_object_set_new(j, "prepared_at", time_col(st, 13));
    json_object_set_new(j, "confirmed_at", time_col(st, 14));
    json_object_set_new(j, "confirmed_by", text_or_null(st, 15));
    json_object_set_new(j, "started_at", time_col(st, 16));
    json_object_set_new(j, "sent_at", time_col(st, 17));
    json_object_set_new(j, "workflow_run", int_or_null(st, 18));
    json_object_set_new(j, "activity", text_or_null(st, 19));
    json_object_set_new(j, "filter", text_or_null(st, 20));
    json_object_set_new(j, "population", int_or_null(st, 21));
    cr_stmt_free(st);
    st = NULL;
    if ((rc = cr_delivery_kpis(s, id, &kpis, err)))
        goto out;
    json_object_set_new(j, "kpis", kpis);
    if ((rc = cr__delivery_show_recurring(s, id, j, err)))
        goto out;
    if (strcmp(json_string_value(json_object_get(j, "channel")), "external") == 0) {
        /* the extraction file: exported rows in the KPIs, where the file is and went */
        json_t *ex = NULL;
        if ((rc = cr_external_export_json(s, id, &ex, err)))
            goto out;
        json_object_set_new(
            kpis, "exported",
            json_integer(ex && !strcmp(json_string_value(json_object_get(ex, "status")), "exported")
                             ? json_integer_value(json_object_get(ex, "rows"))
                             : 0));
        json_object_set_new(j, "export", ex ? ex : json_null());
    }
    *out = j;
    j = NULL;
    rc = 0;
out:
    cr_stmt_free(st);
    json_decref(j);
    return rc;
}

int cr_delivery_list(struct cr_store *s, int all, json_t **out, struct cr_err *err)
{
    struct cr_stmt *st = NULL;
    json_t *arr = json_array();
    int rc = cr_stmt_prepare(s,
                             all ? "SELECT id, label, channel, status, parent_id, period FROM "
                                   "delivery ORDER BY id"
                                 : "SELECT id, label, channel, status, parent_id, period FROM "
                                   "delivery WHERE parent_id IS NULL AND status NOT IN "
                                   "('sent', 'stopped', 'failed') ORDER BY id",
                             &st, err);
    *out = NULL;
    if (rc) {
        json_decref(arr);
        return rc;
    }
    while ((rc = cr_stmt_step(st, err)) == 1) {
        json_t *d = json_object();
        json_object_set_new(d, "id", json_integer(cr_stmt_int64(st, 0)));
        json_object_set_new(d, "label", text_or_null(st, 1));
        json_object_set_new(d, "channel", text_or_null(st, 2));
        json_object_set_new(d, "status", text_or_null(st, 3));
        json_object_set_new(d, "parent", int_or_null(st, 4));
        json_object_set_new(d, "period", text_or_null(st, 5));
        json_array_append_new(arr, d);
    }
    cr_stmt_free(st);
    for (size_t i = 0; rc == 0 && i < json_array_size(arr); i++) {
        json_t *d = json_array_get(arr, i), *k;
        if (!(rc = cr_delivery_kpis(s, json_integer_value(json_object_get(d, "id")), &k, err)))
            json_object_set_new(d, "kpis", k);
    }
    if (rc < 0) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return 0;
}

int cr_delivery_logs(struct cr_store *s, int64_t id, const char *status, int64_t offset,
                     int64_t limit, json_t **out, struct cr_err *err)
{
    struct cr_stmt *st = NULL;
    json_t *arr = json_array();
    char *dummy = NULL;
    int rc = cr__delivery_status(s, id, &dummy, err);
    free(dummy);
    *out = NULL;
    if (!rc)
        rc = cr_stmt_prepare(
            s,
            "SELECT id, profile_id, address, status, reason, failure_type, "
            "attempts, error, sent_at, message_id, proof, fire_id, delivery_id FROM "
            "delivery_log WHERE delivery_id IN " CR__DELIVERY_FAMILY " AND "
            "(CAST(? AS TEXT) IS NULL OR status = ?) ORDER BY id "
            "LIMIT ? OFFSET ?",
            &st, err);
    if (rc) {
        json_decref(arr);
        return rc;
    }
    cr_stmt_bind_int64(st, 1, id);
    cr_stmt_bind_int64(st, 2, id);
    cr_stmt_bind_str(st, 3, status);
    cr_stmt_bind_str(st, 4, status);
    cr_stmt_bind_int64(st, 5, limit);
    cr_stmt_bind_int64(st, 6, offset);
    while ((rc = cr_stmt_step(st, err)) == 1) {
        json_t *l = json_object();
        json_object_set_new(l, "id", json_integer(cr_stmt_int64(st, 0)));
        json_object_set_new(l, "profile", int_or_null(st, 1));
        json_object_set_new(l, "address", text_or_null(st, 2));
        json_object_set_new(l, "status", text_or_null(st, 3));
        json_object_set_new(l, "reason", text_or_null(st, 4));
        json_object_set_new(l, "failure_type", text_or_null(st, 5));
        json_object_set_new(l, "attempts", json_integer(cr_stmt_int64(st, 6)));
        json_object_set_new(l, "error", text_or_null(st, 7));
        json_object_set_new(l, "sent_at", time_col(st, 8));
        json_object_set_new(l, "message_id", text_or_null(st, 9));
        json_object_set_new(l, "proof", json_boolean(cr_stmt_bool(st, 10)));
        json_object_set_new(l, "fire", int_or_null(st, 11));
        json_object_set_new(l, "delivery", json_integer(cr_stmt_int64(st, 12)));
        json_array_append_new(arr, l);
    }
    cr_stmt_free(st);
    if (rc < 0) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return 0;
}

static double rate(int64_t n, int64_t d)
{
    return d > 0 ? (double)n * 100.0 / (double)d : 0.0;
}

/* Clicks per link, grouped by label (else URL): a personalised link is one link with one
 * URL per recipient, and a report lists links, not recipients. At most 100, in the order
 * the message shows them. */
static int link_kpis(struct cr_store *s, int64_t id, json_t **out, struct cr_err *err)
{
    struct cr_stmt *st = NULL;
    json_t *a = json_array();
    int rc = cr_stmt_prepare(
        s,
        "SELECT coalesce(nullif(u.label, ''), u.url), min(u.url), "
        "min(u.link_id), count(t.id), count(DISTINCT t.log_id), "
        "count(DISTINCT u.url) FROM delivery_url u LEFT JOIN "
        "tracking_log t ON t.delivery_id = u.delivery_id AND t.kind = "
        "'click' AND t.link_id = u.link_id WHERE u.delivery_id IN " CR__DELIVERY_FAMILY " "
        "GROUP BY coalesce(nullif(u.label, ''), u.url) "
        "ORDER BY min(u.link_id) LIMIT 100",
        &st, err);
    *out = NULL;
    if (rc) {
        json_decref(a);
        return rc;
    }
    cr_stmt_bind_int64(st, 1, id);
    cr_stmt_bind_int64(st, 2, id);
    while ((rc = cr_stmt_step(st, err)) == 1)
        json_array_append_new(a, json_pack("{ss ss sI sI sI}", "label", cr_stmt_text(st, 0), "url",
                                           cr_stmt_text(st, 1), "urls",
                                           (json_int_t)cr_stmt_int64(st, 5), "clicks",
                                           (json_int_t)cr_stmt_int64(st, 3), "unique_clicks",
                                           (json_int_t)cr_stmt_int64(st, 4)));
    cr_stmt_free(st);
    if (rc < 0) {
        json_decref(a);
        return rc;
    }
    *out = a;
    return 0;
}

int cr_delivery_kpis(struct cr_store *s, int64_t id, json_t **out, struct cr_err *err)
{
    struct cr_stmt *st = NULL;
    json_t *k = json_object(), *excluded = json_object();
    int64_t targeted = 0, sent = 0, delivered = 0, hard = 0, soft = 0, pending = 0;
    int rc = cr_stmt_prepare(s,
                             "SELECT status, reason, failure_type, count(*) FROM delivery_log "
                             "WHERE delivery_id IN " CR__DELIVERY_FAMILY " AND NOT proof GROUP "
                             "BY status, reason, failure_type",
                             &st, err);
    *out = NULL;
    if (rc)
        goto fail;
    cr_stmt_bind_int64(st, 1, id);
    cr_stmt_bind_int64(st, 2, id);
    while ((rc = cr_stmt_step(st, err)) == 1) {
        const char *status = cr_stmt_text(st, 0), *reason = cr_stmt_text(st, 1);
        const char *ft = cr_stmt_text(st, 2);
        int64_t n = cr_stmt_int64(st, 3);
        if (strcmp(status, "excluded") == 0) {
            const char *r = reason ? reason : "other";
            json_object_set_new(excluded, r,
                                json_integer(json_integer_value(json_object_get(excluded, r)) + n));
            continue;
        }
        targeted += n;
        if (strcmp(status, "sent") == 0)
            sent += n;
        else if (strcmp(status, "delivered") == 0)
            sent += n, delivered += n;
        else if (strcmp(status, "failed") == 0 && ft && strcmp(ft, "hard") == 0)
            hard += n;
        else if (strcmp(status, "failed") == 0)
            soft += n;
        else
            pending += n;
    }
    cr_stmt_free(st);
    if (rc < 0)
        goto fail;
    json_object_set_new(k, "targeted", json_integer(targeted));
    json_object_set_new(k, "excluded", excluded);
    excluded = NULL;
    json_object_set_new(k, "sent", json_integer(sent));
    json_object_set_new(k, "delivered", json_integer(delivered));
    json_object_set_new(k, "failed_hard", json_integer(hard));
    json_object_set_new(k, "failed_soft", json_integer(soft));
    json_object_set_new(k, "pending", json_integer(pending));
    /* tracking: counted from tracking_log (filled by the tracking server and bounces) */
    static const char *const kinds[] = {"open", "click", "unsubscribe", "bounce", "complaint"};
    int64_t total[5] = {0}, uniq[5] = {0}, prefetch[5] = {0}, unique_opens = 0;
    if ((rc = cr_stmt_prepare(s,
                              "SELECT kind, count(*), count(DISTINCT log_id), "
                              "sum(CASE WHEN prefetch THEN 1 ELSE 0 END) FROM "
                              "tracking_log WHERE delivery_id IN " CR__DELIVERY_FAMILY
                              " GROUP BY kind",
                              &st, err)))
        goto fail;
    cr_stmt_bind_int64(st, 1, id);
    cr_stmt_bind_int64(st, 2, id);
    while ((rc = cr_stmt_step(st, err)) == 1)
        for (int i = 0; i < 5; i++)
            if (strcmp(cr_stmt_text(st, 0), kinds[i]) == 0) {
                total[i] = cr_stmt_int64(st, 1);
                uniq[i] = cr_stmt_int64(st, 2);
                prefetch[i] = cr_stmt_int64(st, 3);
            }
    cr_stmt_free(st);
    /* a click proves the message was opened, images shown or not */
    if (rc >= 0)
        rc = cr_store_query_int64(s, err, &unique_opens,
                                  "SELECT count(DISTINCT log_id) FROM tracking_log WHERE "
                                  "delivery_id IN " CR__DELIVERY_FAMILY " AND kind IN ('open', "
                                  "'click')",
                                  "ii", id, id);
    if (rc < 0)
        goto fail;
    json_object_set_new(k, "opens", json_integer(total[0]));
    json_object_set_new(k, "unique_opens", json_integer(unique_opens));
    json_object_set_new(k, "clicks", json_integer(total[1]));
    json_object_set_new(k, "unique_clicks", json_integer(uniq[1]));
    json_object_set_new(k, "unsubscriptions", json_integer(uniq[2]));
    json_object_set_new(k, "bounces", json_integer(total[3]));
    json_object_set_new(k, "complaints", json_integer(total[4]));
    json_object_set_new(k, "prefetched_opens", json_integer(prefetch[0]));
    json_object_set_new(k, "prefetched_clicks", json_integer(prefetch[1]));
    json_t *links = NULL;
    if ((rc = link_kpis(s, id, &links, err)))
        goto fail;
    json_object_set_new(k, "links", links);
    json_t *rates = json_object();
    json_object_set_new(rates, "sent", json_real(rate(sent, targeted)));
    json_object_set_new(rates, "delivered", json_real(rate(delivered, targeted)));
    json_object_set_new(rates, "failed", json_real(rate(hard + soft, targeted)));
    json_object_set_new(rates, "opens", json_real(rate(unique_opens, sent)));
    json_object_set_new(rates, "clicks", json_real(rate(uniq[1], sent)));
    json_object_set_new(rates, "unsubscriptions", json_real(rate(uniq[2], sent)));
    json_object_set_new(k, "rates", rates);
    *out = k;
    return 0;
fail:
    json_decref(excluded);
    json_decref(k);
    return rc;
}
