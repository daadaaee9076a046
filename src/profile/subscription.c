/*
 * subscription.c - listing and (de)activating subscriptions
 */
#include "profile/subscription.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/datetime.h"

static json_t *text_or_null(struct cr_stmt *st, int i)
{
    const char *v = cr_stmt_text(st, i);
    return v ? json_string(v) : json_null();
}

/* Timestamps leave as ISO 8601 in UTC, as in every JSON crier prints. */
static json_t *time_or_null(struct cr_stmt *st, int i)
{
    cr_time_t t;
    char buf[CR_TIME_BUFSZ];
    struct cr_err e = CR_ERR_INIT;
    const char *v = cr_stmt_text(st, i);
    if (!v || cr_time_parse(v, strlen(v), &t, &e))
        return json_null();
    return json_string(cr_time_format_iso(t, buf));
}

int cr_subscription_list(struct cr_store *s, const struct cr_subscription_filter *f,
                         json_t **out, struct cr_err *err)
{
    struct cr_buf sql = CR_BUF_INIT(0);
    struct cr_stmt *st = NULL;
    int n = 0, rc;
    json_t *arr = json_array();
    cr_buf_puts(&sql, "SELECT id, profile_id, app, platform, token, active, created_at, "
                      "deactivated_at, deactivation_reason FROM subscription WHERE 1 = 1");
    if (f->app)
        cr_buf_puts(&sql, " AND app = ?");
    if (f->platform)
        cr_buf_puts(&sql, " AND platform = ?");
    if (f->profile)
        cr_buf_puts(&sql, " AND profile_id = ?");
    if (f->active >= 0)
        cr_buf_puts(&sql, f->active ? " AND active" : " AND NOT active");
    cr_buf_printf(&sql, " ORDER BY id LIMIT %lld OFFSET %lld",
                  (long long)(f->limit > 0 ? f->limit : 1000),
                  (long long)(f->offset > 0 ? f->offset : 0));
    rc = cr_stmt_prepare(s, sql.data, &st, err);
    cr_buf_release(&sql);
    if (rc) {
        json_decref(arr);
        return rc;
    }
    if (f->app)
        cr_stmt_bind_str(st, ++n, f->app);
    if (f->platform)
        cr_stmt_bind_str(st, ++n, f->platform);
    if (f->profile)
        cr_stmt_bind_int64(st, ++n, f->profile);
    while ((rc = cr_stmt_step(st, err)) == 1) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(cr_stmt_int64(st, 0)));
        json_object_set_new(o, "profile", json_integer(cr_stmt_int64(st, 1)));
        json_object_set_new(o, "app", text_or_null(st, 2));
        json_object_set_new(o, "platform", text_or_null(st, 3));
        json_object_set_new(o, "token", text_or_null(st, 4));
        json_object_set_new(o, "active", json_boolean(cr_stmt_bool(st, 5)));
        json_object_set_new(o, "created_at", time_or_null(st, 6));
        json_object_set_new(o, "deactivated_at", time_or_null(st, 7));
        json_object_set_new(o, "deactivation_reason", text_or_null(st, 8));
        json_array_append_new(arr, o);
    }
    cr_stmt_free(st);
    if (rc < 0) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return 0;
}

int cr_subscription_set_active(struct cr_store *s, struct cr_clock *clock, int64_t id,
                               int active, const char *reason, struct cr_err *err)
{
    char ts[CR_TIME_BUFSZ];
    int64_t found;
    int rc = cr_store_query_int64(s, err, &found, "SELECT id FROM subscription WHERE id = ?",
                                  "i", id);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return cr_err_set(err, CR_ENOTFOUND, "no subscription %lld", (long long)id);
    cr_time_format_sql(cr_clock_now(clock), ts);
    return active ? cr_store_run(s, err,
                                 "UPDATE subscription SET active = ?, deactivated_at = NULL, "
                                 "deactivation_reason = NULL, updated_at = ? WHERE id = ?",
                                 "bsi", 1, ts, id)
                  : cr_store_run(s, err,
                                 "UPDATE subscription SET active = ?, deactivated_at = ?, "
                                 "deactivation_reason = ?, updated_at = ? WHERE id = ? AND "
                                 "active",
                                 "bsssi", 0, ts, reason ? reason : "manual", ts, id);
}
