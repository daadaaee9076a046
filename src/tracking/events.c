/*
 * events.c - unsubscriptions, consent, bounces and complaints
 */
#include "tracking/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "store/config.h"

int cr_track_recipient(struct cr_store *s, int64_t delivery, int64_t log, struct cr_recipient *r,
                       struct cr_err *err)
{
    struct cr_stmt *st = NULL;
    int rc = cr_stmt_prepare(s,
                             "SELECT l.profile_id, l.proof, d.channel FROM delivery_log l "
                             "JOIN delivery d ON d.id = l.delivery_id "
                             "WHERE l.id = ? AND l.delivery_id = ?",
                             &st, err);
    memset(r, 0, sizeof *r);
    if (rc)
        return rc;
    cr_stmt_bind_int64(st, 1, log);
    cr_stmt_bind_int64(st, 2, delivery);
    if ((rc = cr_stmt_step(st, err)) == 1) {
        r->delivery = delivery;
        r->log = log;
        r->profile = cr_stmt_is_null(st, 0) ? 0 : cr_stmt_int64(st, 0);
        r->proof = cr_stmt_bool(st, 1);
        snprintf(r->channel, sizeof r->channel, "%s", cr_stmt_text(st, 2));
        rc = 0;
    } else if (rc == 0) {
        rc = CR_ENOTFOUND;
    }
    cr_stmt_free(st);
    return rc;
}

static const char *optout_column(const char *channel)
{
    return strcmp(channel, "sms") == 0    ? "sms_optout"
           : strcmp(channel, "push") == 0 ? "push_optout"
                                          : "email_optout";
}

static int log_event(struct cr_store *s, struct cr_clock *clock, int64_t delivery, int64_t log,
                     int64_t profile, const char *kind, const char *ua, const char *ip,
                     const char *detail, struct cr_err *err)
{
    char ts[CR_TIME_BUFSZ];
    cr_time_format_sql(cr_clock_now(clock), ts);
    return cr_store_run(s, err,
                        "INSERT INTO tracking_log (delivery_id, profile_id, log_id, kind, at, "
                        "user_agent, ip, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        "iiisssss", delivery, profile, log, kind, ts, ua, ip, detail);
}

int cr_track_unsubscribe(struct cr_store *s, struct cr_clock *clock, const struct cr_recipient *r,
                         const char *user_agent, const char *ip, struct cr_err *err)
{
    char sql[128];
    int rc;
    if (r->proof || !r->profile)
        return 0;
    snprintf(sql, sizeof sql, "UPDATE profile SET %s = ?, updated_at = ? WHERE id = ?",
             optout_column(r->channel));
    char ts[CR_TIME_BUFSZ];
    cr_time_format_sql(cr_clock_now(clock), ts);
    if ((rc = cr_store_begin(s, err)))
        return rc;
    if ((rc = cr_store_run(s, err, sql, "bsi", 1, ts, r->profile)) ||
        (rc = log_event(s, clock, r->delivery, r->log, r->profile, "unsubscribe", user_agent, ip,
                        r->channel, err))) {
        cr_store_rollback(s);
        return rc;
    }
    return cr_store_commit(s, err);
}

int cr_track_withdraw_consent(struct cr_store *s, const struct cr_recipient *r, struct cr_err *err)
{
    if (r->proof || !r->profile)
        return 0;
    return cr_store_run(s, err, "UPDATE profile SET tracking_consent = ? WHERE id = ?", "bi", 0,
                        r->profile);
}

/* The message an event answers: by Message-ID, else the latest sent to the address. */
static int match(struct cr_store *s, const struct cr_mail_event *ev, int64_t *log,
                 int64_t *delivery, int64_t *profile, int *proof, char **address,
                 struct cr_err *err)
{
    struct cr_stmt *st = NULL;
    int rc = 0;
    for (int pass = 0; pass < 2 && rc == 0; pass++) {
        const char *key = pass == 0 ? ev->message_id : ev->recipient;
        if (!key || !*key)
            continue;
        if ((rc = cr_stmt_prepare(s,
                                  pass == 0
                                      ? "SELECT id, delivery_id, profile_id, proof, address FROM "
                                        "delivery_log WHERE message_id = ? ORDER BY id DESC "
                                        "LIMIT 1"
                                      : "SELECT id, delivery_id, profile_id, proof, address FROM "
                                        "delivery_log WHERE address = ? AND status IN ('sent', "
                                        "'delivered', 'failed') AND sent_at IS NOT NULL "
                                        "ORDER BY sent_at DESC, id DESC LIMIT 1",
                                  &st, err)))
            return rc;
        cr_stmt_bind_str(st, 1, key);
        if ((rc = cr_stmt_step(st, err)) == 1) {
            *log = cr_stmt_int64(st, 0);
            *delivery = cr_stmt_int64(st, 1);
            *profile = cr_stmt_is_null(st, 2) ? 0 : cr_stmt_int64(st, 2);
            *proof = cr_stmt_bool(st, 3);
            *address = cr_xstrdup(cr_stmt_text(st, 4) ? cr_stmt_text(st, 4) : "");
        }
        cr_stmt_free(st);
    }
    return rc;
}

static int soft_limit(struct cr_store *s, struct cr_err *err, int64_t *limit)
{
    char *v = NULL;
    int rc = cr_config_get(s, "bounce.soft_limit", &v, err);
    *limit = v ? strtoll(v, NULL, 10) : 3;
    if (*limit < 1)
        *limit = 3;
    free(v);
    return rc;
}

static int apply(struct cr_store *s, struct cr_clock *clock, const struct cr_mail_event *ev,
                 struct cr_mail_event_result *res, struct cr_err *err)
{
    int64_t log = 0, delivery = 0, profile = 0, limit;
    int proof = 0, rc;
    char *address = NULL, ts[CR_TIME_BUFSZ], detail[1200];
    cr_time_format_sql(cr_clock_now(clock), ts);
    if ((rc = match(s, ev, &log, &delivery, &profile, &proof, &address, err)) < 0)
        goto out;
    rc = 0;
    if (!log) {
        res->action = "unmatched";
        goto out;
    }
    res->log = log;
    res->delivery = delivery;
    if (proof) {
        res->action = "proof";
        goto out;
    }
    snprintf(detail, sizeof detail, "%s%s%s%s",
             ev->type == CR_EVENT_HARD   ? "hard"
             : ev->type == CR_EVENT_SOFT ? "soft"
                                         : "complaint",
             ev->status && *ev->status ? " " : "", ev->status ? ev->status : "",
             ev->diagnostic && *ev->diagnostic ? ": " : "");
    snprintf(detail + strlen(detail), sizeof detail - strlen(detail), "%.1000s",
             ev->diagnostic ? ev->diagnostic : "");
    if (ev->type == CR_EVENT_COMPLAINT) {
        res->action = "opted_out";
        if ((profile && (rc = cr_store_run(s, err,
                                           "UPDATE profile SET email_optout = ?, updated_at = ? "
                                           "WHERE id = ?",
                                           "bsi", 1, ts, profile))) ||
            (rc =
                 log_event(s, clock, delivery, log, profile, "complaint", NULL, NULL, detail, err)))
            goto out;
        goto out;
    }
    int hard = ev->type == CR_EVENT_HARD;
    if ((rc = soft_limit(s, err, &limit)) ||
        (rc = cr_store_run(s, err,
                           "UPDATE delivery_log SET status = 'failed', failure_type = ?, "
                           "error = ?, updated_at = ? WHERE id = ?",
                           "sssi", hard ? "hard" : "soft", detail, ts, log)) ||
        (rc = cr_store_run(s, err,
                           "INSERT INTO quarantine (channel, address, reason, error_count, "
                           "status, first_at, last_at) VALUES ('email', ?, ?, 1, ?, ?, ?) "
                           "ON CONFLICT (channel, address) DO UPDATE SET "
                           "error_count = quarantine.error_count + 1, reason = excluded.reason, "
                           "status = CASE WHEN ? OR quarantine.error_count + 1 >= ? "
                           "THEN 'quarantined' ELSE quarantine.status END, "
                           "last_at = excluded.last_at",
                           "sssssbi", address, detail,
                           hard || limit <= 1 ? "quarantined" : "to_retry", ts, ts, hard, limit)) ||
        (rc = log_event(s, clock, delivery, log, profile, "bounce", NULL, NULL, detail, err)))
        goto out;
    int64_t count = 0;
    if ((rc = cr_store_query_int64(s, err, &count,
                                   "SELECT count(*) FROM quarantine WHERE channel = 'email' AND "
                                   "address = ? AND status = 'quarantined'",
                                   "s", address)) < 0)
        goto out;
    rc = 0;
    res->action = count ? "quarantined" : "soft_error";
out:
    free(address);
    return rc;
}

int cr_track_mail_event(struct cr_store *s, struct cr_clock *clock, const struct cr_mail_event *ev,
                        struct cr_mail_event_result *res, struct cr_err *err)
{
    int rc;
    memset(res, 0, sizeof *res);
    if ((!ev->message_id || !*ev->message_id) && (!ev->recipient || !*ev->recipient))
        return cr_err_set(err, CR_EINVAL, "an event needs a message id or a recipient");
    if ((rc = cr_store_begin(s, err)))
        return rc;
    if ((rc = apply(s, clock, ev, res, err))) {
        cr_store_rollback(s);
        return rc;
    }
    return cr_store_commit(s, err);
}
