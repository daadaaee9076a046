/*
 * send.c - the sending engine: claim a batch, render, send, record; and proofs
 *
 * A batch is claimed in one transaction (status sending, claimed_by this process, a lease),
 * sent outside any transaction, and its outcomes recorded in another. A process that dies
 * mid-batch leaves rows in sending: the next engine on this host takes back the claims of
 * dead processes at once, and anyone takes back expired leases, so those recipients are sent
 * again (the in-flight window) and nobody is skipped. The channel-specific part (render,
 * transport) is in send_email.c and send_sms.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "delivery/account.h"
#include "delivery/external.h"
#include "delivery/send_int.h"

#define BATCH 500
#define LEASE (INT64_C(300) * CR_USEC_PER_SEC)
#define DEFAULT_VALIDITY (INT64_C(5) * 86400 * CR_USEC_PER_SEC)

struct send_cache cr__send_cache;
#define cache cr__send_cache
static char owner[128];
static int released_dead;
/* the store and clock of the last engine step: late SMS receipts are applied there */
static struct cr_store *last_store;
static struct cr_clock *last_clock;

const char *cr__send_me(void)
{
    if (!owner[0]) {
        char host[64] = "";
        gethostname(host, sizeof host - 1);
        snprintf(owner, sizeof owner, "%s:%ld", host, (long)getpid());
    }
    return owner;
}
#define me cr__send_me

static void cache_drop(void)
{
    cr_email_channel_close(cache.email);
    cr_sms_channel_close(cache.sms); /* unbinding: the last receipts are buffered */
    if (cache.sms && last_store) {
        struct cr_err e = CR_ERR_INIT;
        if (cr__send_sms_events(last_store, last_clock, &e))
            cr_log_warn("SMS receipts: %s", cr_err_msg(&e));
    }
    cr__send_sms_forget();
    cr_push_msgs_close(cache.push);
    cr_push_transport_free(cache.push_transport);
    free(cache.push_file);
    cr__send_push_forget();
    cr_schema_release(&cache.profile);
    free(cache.started);
    memset(&cache, 0, sizeof cache);
}

/* Claims of processes of this host that are gone go back to pending. */
static int release_dead_claims(struct cr_store *s, struct cr_err *err)
{
    struct cr_stmt *st = NULL;
    char host[64] = "", **dead = NULL;
    size_t ndead = 0;
    int rc;
    gethostname(host, sizeof host - 1);
    if ((rc = cr_stmt_prepare(s,
                              "SELECT DISTINCT claimed_by FROM delivery_log WHERE status = "
                              "'sending'",
                              &st, err)))
        return rc;
    while ((rc = cr_stmt_step(st, err)) == 1) {
        const char *c = cr_stmt_text(st, 0), *colon = c ? strrchr(c, ':') : NULL;
        if (!colon || (size_t)(colon - c) != strlen(host) || strncmp(c, host, strlen(host)))
            continue;
        long pid = strtol(colon + 1, NULL, 10);
        if (pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
            dead = cr_xrealloc(dead, (ndead + 1) * sizeof *dead);
            dead[ndead++] = cr_xstrdup(c);
        }
    }
    cr_stmt_free(st);
    for (size_t i = 0; rc >= 0 && i < ndead; i++) {
        cr_log_info("taking back the sending claims of %s (gone)", dead[i]);
        rc = cr_store_run(s, err,
                          "UPDATE delivery_log SET status = 'pending', claimed_by = NULL, "
                          "lease_until = NULL WHERE status = 'sending' AND claimed_by = ?",
                          "s", dead[i]);
    }
    for (size_t i = 0; i < ndead; i++)
        free(dead[i]);
    free(dead);
    return rc < 0 ? rc : 0;
}

/* Opens (or reuses) the channel of delivery id. */
static int open_channel(struct cr_store *s, struct cr_clock *clock, int64_t id, struct cr_err *err)
{
    struct cr_stmt *st = NULL;
    struct cr_account a;
    json_t *content = NULL, *options = NULL, *campaign = NULL;
    char *label = NULL, *channel = NULL;
    int64_t account_id = 0;
    cr_time_t started = 0;
    /* a recurring execution starts again with each fire: its validity counts from then */
    char *started_text = NULL;
    int rc = cr_store_query_text(s, err, &started_text,
                                 "SELECT started_at FROM delivery WHERE id = ?", "i", id);
    if (rc < 0)
        return rc;
    if ((cache.email || cache.sms || cache.push) && cache.delivery_id == id &&
        !strcmp(started_text ? started_text : "", cache.started ? cache.started : "")) {
        free(started_text);
        return 0;
    }
    cache_drop();
    cache.started = started_text;
    rc = cr_stmt_prepare(s,
                         "SELECT content, options, account_id, label, started_at, "
                         "channel FROM delivery WHERE id = ?",
                         &st, err);
    if (rc)
        return rc;
    cr_stmt_bind_int64(st, 1, id);
    if ((rc = cr_stmt_step(st, err)) == 1) {
        content = json_loads(cr_stmt_text(st, 0) ? cr_stmt_text(st, 0) : "{}", 0, NULL);
        options = json_loads(cr_stmt_text(st, 1) ? cr_stmt_text(st, 1) : "{}", 0, NULL);
        account_id = cr_stmt_is_null(st, 2) ? 0 : cr_stmt_int64(st, 2);
        label = cr_stmt_text(st, 3) ? cr_xstrdup(cr_stmt_text(st, 3)) : NULL;
        if (cr_stmt_text(st, 4)) {
            struct cr_err e = CR_ERR_INIT;
            if (cr_time_parse(cr_stmt_text(st, 4), strlen(cr_stmt_text(st, 4)), &started, &e))
                started = 0;
        }
        channel = cr_xstrdup(cr_stmt_text(st, 5) ? cr_stmt_text(st, 5) : "");
        rc = 0;
    } else if (rc == 0) {
        rc = cr_err_set(err, CR_ENOTFOUND, "no delivery %lld", (long long)id);
    }
    cr_stmt_free(st);
    if (rc)
        goto out;
    if (!account_id) {
        rc = cr_err_set(err, CR_EINVAL, "delivery %lld has no account", (long long)id);
        goto out;
    }
    if (strcmp(channel, "email") && strcmp(channel, "sms") && strcmp(channel, "push")) {
        rc = cr_err_set(err, CR_EUNSUPPORTED,
                        "delivery %lld: sending %s deliveries is not "
                        "supported yet",
                        (long long)id, channel);
        goto out;
    }
    if ((rc = cr__delivery_campaign(s, id, &campaign, err)))
        goto out;
    if ((rc = cr_account_get_id(s, account_id, 1, &a, err)))
        goto out;
    if (!(rc = cr_schema_load(s, "profile", &cache.profile, err)))
        rc = strcmp(channel, "sms") == 0
                 ? cr__send_sms_open(s, clock, id, content, &a, label, options, campaign, err)
             : strcmp(channel, "push") == 0
                 ? cr__send_push_open(s, clock, id, content, &a, label, options, campaign, err)
                 : cr__send_email_open(s, clock, id, content, &a, label, options, campaign, err);
    cr_account_release(&a);
    if (rc) {
        cache_drop();
        goto out;
    }
    int64_t validity = DEFAULT_VALIDITY;
    const char *v = json_string_value(json_object_get(options, "validity"));
    struct cr_err e = CR_ERR_INIT;
    if (v && cr_duration_parse(v, strlen(v), &validity, &e))
        validity = DEFAULT_VALIDITY;
    cache.delivery_id = id;
    cache.account_id = account_id;
    cache.validity_end = (started ? started : cr_clock_now(clock)) + validity;
out:
    json_decref(content);
    json_decref(options);
    json_decref(campaign);
    free(label);
    free(channel);
    return rc;
}

/* Outcomes are recorded as they come, FLUSH at a time, so a crash loses (and sends again)
 * only what was sent since the last flush: the in-flight window is the transport's share
 * plus FLUSH, not the whole batch. */
#define FLUSH 32

static int record(struct send_batch *b, struct cr_err *err);

void cr__send_done(struct send_batch *b, int64_t log_id, enum send_outcome outcome, int code,
                   const char *reply, const char *message_id)
{
    char key[24];
    int64_t i;
    int n = snprintf(key, sizeof key, "%lld", (long long)log_id);
    if (cr_strmap_get(&b->where, key, (size_t)n, &i) && !b->o[i].done) {
        struct send_outcome_row *o = &b->o[i];
        o->outcome = outcome;
        o->code = code;
        free(o->reply);
        o->reply = cr_xstrdup(reply ? reply : "");
        if (message_id && *message_id) {
            free(o->message_id);
            o->message_id = cr_xstrdup(message_id);
        }
        o->done = 1;
        b->unrecorded++;
    }
    if (b->unrecorded >= FLUSH && !b->rc)
        b->rc = record(b, b->err);
}

static int64_t backoff(int64_t attempts)
{
    int64_t m = INT64_C(15) * 60 * CR_USEC_PER_SEC;
    for (int64_t i = 1; i < attempts && m < INT64_C(4) * 3600 * CR_USEC_PER_SEC; i++)
        m *= 2;
    return m;
}

/* A hard failure the server decided quarantines the address: an SMTP 5xx, or an SMSC
 * refusing the destination (any non-zero status; 0 is a message crier itself refused). */
static int quarantines(const struct send_outcome_row *o)
{
    if (o->outcome != SEND_HARD || !o->address || cache.channel == SEND_PUSH)
        return 0; /* push: the subscription is deactivated instead (send_push.c) */
    return cache.channel == SEND_SMS ? o->code != 0 : o->code >= 500;
}

/* Records the outcomes that are known and not yet recorded. */
static int record(struct send_batch *b, struct cr_err *err)
{
    struct cr_store *s = b->s;
    cr_time_t now = cr_clock_now(b->clock);
    char ts[CR_TIME_BUFSZ], next[CR_TIME_BUFSZ];
    int rc;
    if (!b->unrecorded)
        return 0;
    cr_time_format_sql(now, ts);
    if (!b->up &&
        (rc = cr_stmt_prepare(s,
                              "UPDATE delivery_log SET status = ?, failure_type = ?, error = ?, "
                              "next_attempt_at = ?, sent_at = ?, message_id = ?, updated_at = ?, "
                              "claimed_by = NULL, lease_until = NULL WHERE id = ? AND "
                              "claimed_by = ?",
                              &b->up, err)))
        return rc;
    struct cr_stmt *up = b->up;
    const char *channel = cache.channel == SEND_SMS ? "sms" : "email";
    /* (push never quarantines: quarantines() says why) */
    if ((rc = cr_store_begin(s, err)))
        return rc;
    for (size_t i = b->low; i < b->n; i++) {
        const struct send_outcome_row *o = &b->o[i];
        const char *status = "sent", *ft = NULL, *na = NULL;
        char error[400] = "";
        if (!o->done || o->recorded)
            continue;
        if (o->outcome != SEND_SENT)
            snprintf(error, sizeof error, "%d %s", o->code, o->reply ? o->reply : "");
        if (o->outcome == SEND_HARD) {
            status = "failed";
            ft = "hard";
        } else if (o->outcome == SEND_SOFT) {
            cr_time_t t = now + backoff(o->attempts);
            if (t > cache.validity_end) {
                status = "failed";
                ft = "soft";
            } else {
                status = "pending";
                na = cr_time_format_sql(t, next);
            }
        }
        cr_stmt_reset(up);
        cr_stmt_bind_str(up, 1, status);
        cr_stmt_bind_str(up, 2, ft);
        cr_stmt_bind_str(up, 3, error[0] ? error : NULL);
        cr_stmt_bind_str(up, 4, na);
        cr_stmt_bind_str(up, 5, o->outcome == SEND_SENT ? ts : NULL);
        cr_stmt_bind_str(up, 6, o->outcome == SEND_SENT ? o->message_id : NULL);
        cr_stmt_bind_str(up, 7, ts);
        cr_stmt_bind_int64(up, 8, o->log_id);
        cr_stmt_bind_str(up, 9, me()); /* a claim another process took over is its own */
        if ((rc = cr_stmt_step(up, err)) < 0)
            goto fail;
        if (quarantines(o) &&
            (rc =
                 cr_store_run(s, err,
                              "INSERT INTO quarantine (channel, address, reason, error_count, "
                              "status, first_at, last_at) VALUES (?, ?, ?, 1, "
                              "'quarantined', ?, ?) ON CONFLICT (channel, address) DO UPDATE "
                              "SET error_count = quarantine.error_count + 1, reason = "
                              "excluded.reason, status = 'quarantined', last_at = excluded.last_at",
                              "sssss", channel, o->address, error, ts, ts)))
            goto fail;
    }
    cr_stmt_reset(up);
    /* the claims still being sent stay ours: a slow transport (a low rate, throttling) must
     * not let the lease expire under them and another engine send them again */
    char lease[CR_TIME_BUFSZ];
    if ((rc = cr_store_run(s, err,
                           "UPDATE delivery_log SET lease_until = ? WHERE delivery_id = ? AND "
                           "status = 'sending' AND claimed_by = ?",
                           "sis", cr_time_format_sql(now + LEASE, lease), cache.delivery_id, me())))
        goto fail;
    if ((rc = cr_store_commit(s, err)))
        return rc;
    for (size_t i = b->low; i < b->n; i++)
        if (b->o[i].done)
            b->o[i].recorded = 1;
    while (b->low < b->n && b->o[b->low].recorded)
        b->low++;
    b->unrecorded = 0;
    return b->after_record ? b->after_record(s, b->clock, err) : 0;
fail:
    cr_store_rollback(s);
    return rc;
}

/* Claims up to BATCH due recipients of delivery id; *n is how many. */
static int claim(struct cr_store *s, cr_time_t now, int64_t id, int64_t **ids, int64_t **att,
                 size_t *n, struct cr_err *err)
{
    struct cr_stmt *st = NULL, *up = NULL;
    char ts[CR_TIME_BUFSZ], lease[CR_TIME_BUFSZ];
    char sql[600];
    int rc;
    *n = 0;
    cr_time_format_sql(now, ts);
    cr_time_format_sql(now + LEASE, lease);
    /* two walks of the (delivery, status, next attempt) index, each stopping at the limit:
     * one statement with an OR, or an ORDER BY, would read every row of the delivery, sent
     * ones included, for each batch (quadratic in the delivery's size) */
    static const char *const due[2] = {
        "SELECT id, attempts FROM delivery_log WHERE delivery_id = ? AND status = 'pending' "
        "AND NOT proof AND (next_attempt_at IS NULL OR next_attempt_at <= ?) LIMIT ",
        "SELECT id, attempts FROM delivery_log WHERE delivery_id = ? AND status = 'sending' "
        "AND NOT proof AND lease_until <= ? LIMIT "};
    *ids = cr_xcalloc(BATCH, sizeof **ids);
    *att = cr_xcalloc(BATCH, sizeof **att);
    for (int k = 0; k < 2 && *n < BATCH; k++) {
        snprintf(sql, sizeof sql, "%s%d%s", due[k], BATCH - (int)*n,
                 cr_store_dialect(s) == CR_DIALECT_POSTGRES ? " FOR UPDATE SKIP LOCKED" : "");
        if ((rc = cr_stmt_prepare(s, sql, &st, err)))
            return rc;
        cr_stmt_bind_int64(st, 1, id);
        cr_stmt_bind_str(st, 2, ts);
        while ((rc = cr_stmt_step(st, err)) == 1 && *n < BATCH) {
            (*ids)[*n] = cr_stmt_int64(st, 0);
            (*att)[*n] = cr_stmt_int64(st, 1) + 1;
            (*n)++;
        }
        cr_stmt_free(st);
        st = NULL;
        if (rc < 0)
            return rc;
    }
    if ((rc = cr_stmt_prepare(s,
                              "UPDATE delivery_log SET status = 'sending', claimed_by = ?, "
                              "lease_until = ?, attempts = attempts + 1, updated_at = ? "
                              "WHERE id = ?",
                              &up, err)))
        return rc;
    for (size_t i = 0; i < *n && rc >= 0; i++) {
        cr_stmt_reset(up);
        cr_stmt_bind_str(up, 1, me());
        cr_stmt_bind_str(up, 2, lease);
        cr_stmt_bind_str(up, 3, ts);
        cr_stmt_bind_int64(up, 4, (*ids)[i]);
        rc = cr_stmt_step(up, err);
    }
    cr_stmt_free(up);
    return rc < 0 ? rc : 0;
}

/* How many batches one engine step streams before it returns (so workflows get turns). */
#define STREAM_BATCHES 20

/* Reads this process's claimed rows of the delivery that are not known yet. */
static int fetch(struct send_producer *p, const int64_t *ids, const int64_t *att, size_t n,
                 struct cr_err *err)
{
    struct send_batch *b = p->b;
    struct cr_stmt *st = NULL;
    struct cr_buf sql = CR_BUF_INIT(0);
    int rc;
    if (b->n + n > b->cap) {
        size_t cap = b->n + n + 64;
        b->o = cr_xrealloc(b->o, cap * sizeof *b->o);
        memset(b->o + b->cap, 0, (cap - b->cap) * sizeof *b->o);
        p->cells = cr_xrealloc(p->cells, (cap * p->ncols + 1) * sizeof *p->cells);
        p->msgs = cr_xrealloc(p->msgs, cap * sizeof *p->msgs);
        memset(p->msgs + b->cap, 0, (cap - b->cap) * sizeof *p->msgs);
        b->cap = cap;
    }
    cr_buf_puts(&sql, "SELECT l.id, l.address, ");
    cr__delivery_profile_columns(&sql, &cache.profile);
    cr_buf_puts(&sql, " FROM delivery_log l JOIN profile p ON p.id = l.profile_id WHERE "
                      "l.delivery_id = ? AND l.status = 'sending' AND l.claimed_by = ? "
                      "ORDER BY l.id");
    rc = cr_stmt_prepare(p->s, sql.data, &st, err);
    cr_buf_release(&sql);
    if (rc)
        return rc;
    cr_stmt_bind_int64(st, 1, p->id);
    cr_stmt_bind_str(st, 2, me());
    while (b->n < b->cap && (rc = cr_stmt_step(st, err)) == 1) {
        char key[24];
        int64_t known, log_id = cr_stmt_int64(st, 0);
        int kn = snprintf(key, sizeof key, "%lld", (long long)log_id);
        if (cr_strmap_get(&b->where, key, (size_t)kn, &known))
            continue; /* an earlier batch's, still on its way */
        struct send_outcome_row *o = &b->o[b->n];
        o->log_id = log_id;
        for (size_t i = 0; i < n; i++)
            if (ids[i] == log_id)
                o->attempts = att[i];
        o->address = cr_xstrdup(cr_stmt_text(st, 1) ? cr_stmt_text(st, 1) : "");
        for (size_t c = 0; c < p->ncols; c++) {
            const char *v = cr_stmt_text(st, (int)c + 2);
            p->cells[b->n * p->ncols + c] = v ? cr_xstrdup(v) : NULL;
        }
        cr_strmap_put(&b->where, key, (size_t)kn, (int64_t)b->n);
        b->n++;
    }
    cr_stmt_free(st);
    return rc < 0 ? rc : 0;
}

/* Claims and reads the next batch, if the delivery is still sending. Returns 1 if it got
 * recipients, 0 if none, negative on error. */
static int next_batch(struct send_producer *p, struct cr_err *err)
{
    int64_t *ids = NULL, *att = NULL;
    size_t n = 0;
    char *status = NULL;
    int rc;
    if (p->batches >= STREAM_BATCHES)
        return 0;
    if ((rc = cr_store_begin(p->s, err)))
        return rc;
    rc = cr__delivery_status(p->s, p->id, &status, err);
    if (!rc && strcmp(status, "sending") == 0)
        rc = claim(p->s, cr_clock_now(p->clock), p->id, &ids, &att, &n, err);
    free(status);
    if (rc) {
        cr_store_rollback(p->s);
    } else if (!(rc = cr_store_commit(p->s, err)) && n) {
        p->batches++;
        rc = fetch(p, ids, att, n, err);
    }
    free(ids);
    free(att);
    return rc < 0 ? rc : n > 0;
}

/* Renews the lease of this process's claims of the delivery, and gives up the rows read but
 * not yet sent whose claim another process took over (its lease had run out: a slow
 * transport, a clock that jumped): that process sends them. */
static int renew(struct send_producer *p, struct cr_err *err)
{
    struct send_batch *b = p->b;
    struct cr_stmt *st = NULL;
    char lease[CR_TIME_BUFSZ];
    cr_time_t now = cr_clock_now(p->clock);
    int rc = cr_store_run(p->s, err,
                          "UPDATE delivery_log SET lease_until = ? WHERE delivery_id = ? AND "
                          "status = 'sending' AND claimed_by = ?",
                          "sis", cr_time_format_sql(now + LEASE, lease), p->id, me());
    if (rc || (rc = cr_stmt_prepare(p->s,
                                    "SELECT id FROM delivery_log WHERE delivery_id = ? AND "
                                    "status = 'sending' AND claimed_by = ?",
                                    &st, err)))
        return rc;
    p->renewed = now;
    for (size_t i = p->i; i < b->n; i++)
        b->o[i].lost = !b->o[i].done;
    cr_stmt_bind_int64(st, 1, p->id);
    cr_stmt_bind_str(st, 2, me());
    while ((rc = cr_stmt_step(st, err)) == 1) {
        char key[24];
        int64_t i;
        int n = snprintf(key, sizeof key, "%lld", (long long)cr_stmt_int64(st, 0));
        if (cr_strmap_get(&b->where, key, (size_t)n, &i) && (size_t)i >= p->i)
            b->o[i].lost = 0;
    }
    cr_stmt_free(st);
    return rc < 0 ? rc : 0;
}

int cr__send_next(struct send_producer *p, size_t *k, struct cr_err *err)
{
    for (;;) {
        while (p->i == p->b->n) {
            int got = next_batch(p, err);
            if (got <= 0)
                return got;
        }
        int rc;
        if (cr_clock_now(p->clock) - p->renewed >= LEASE / 2 && (rc = renew(p, err)))
            return rc;
        struct send_outcome_row *o = &p->b->o[p->i];
        if (o->lost) { /* another process has it now */
            o->done = o->recorded = 1;
            p->i++;
            continue;
        }
        *k = p->i++;
        for (size_t c = 0; c < p->ncols; c++)
            p->row[c] = p->cells[*k * p->ncols + c];
        return 1;
    }
}

int cr__send_start(struct send_batch *b, struct send_producer *p, struct cr_store *s,
                   struct cr_clock *clock, int64_t id, const int64_t *ids, const int64_t *att,
                   size_t n, struct cr_err *err)
{
    memset(b, 0, sizeof *b);
    memset(p, 0, sizeof *p);
    b->s = s;
    b->clock = clock;
    b->err = err;
    cr_strmap_init(&b->where);
    p->b = b;
    p->ncols = cache.profile.ncols;
    p->row = cr_xcalloc(p->ncols + 1, sizeof *p->row);
    p->s = s;
    p->clock = clock;
    p->id = id;
    p->batches = 1;
    p->renewed = cr_clock_now(clock); /* the claim has just set the lease */
    return fetch(p, ids, att, n, err);
}

int cr__send_finish(struct send_batch *b, struct send_producer *p, int rc, struct cr_err *err)
{
    /* the outcomes known are recorded even when the sending stopped on an error: messages
     * the server accepted must not go back to pending (they would be sent again) */
    if (!rc)
        rc = b->rc;
    struct cr_err e2 = CR_ERR_INIT;
    int rrc = b->rc ? 0 : record(b, rc ? &e2 : err);
    if (!rc)
        rc = rrc;
    else if (rrc)
        cr_log_warn("recording outcomes after an error: %s", cr_err_msg(&e2));
    for (size_t i = 0; i < b->n; i++) {
        if (p->msgs)
            cr_buf_release(&p->msgs[i]);
        free(b->o[i].reply);
        free(b->o[i].message_id);
        free(b->o[i].address);
        free(b->o[i].mail_from);
        for (size_t c = 0; c < p->ncols; c++)
            free(p->cells[i * p->ncols + c]);
    }
    cr_stmt_free(b->up);
    cr_strmap_release(&b->where);
    free(b->o);
    free(p->cells);
    free(p->msgs);
    free(p->row);
    return rc;
}

/* Ends a sending delivery with nothing left to send. Returns 1 if it did. */
static int maybe_finish(struct cr_store *s, struct cr_clock *clock, int64_t id, struct cr_err *err)
{
    int64_t left;
    char ts[CR_TIME_BUFSZ];
    int rc = cr_store_query_int64(s, err, &left,
                                  "SELECT count(*) FROM delivery_log WHERE delivery_id = ? AND "
                                  "NOT proof AND status IN ('pending', 'sending')",
                                  "i", id);
    if (rc < 0 || left > 0)
        return rc < 0 ? rc : 0;
    cr_time_format_sql(cr_clock_now(clock), ts);
    if ((rc = cr_store_run(s, err,
                           "UPDATE delivery SET status = 'sent', sent_at = ?, updated_at = ? "
                           "WHERE id = ? AND status = 'sending'",
                           "ssi", ts, ts, id)) ||
        (rc = cr__delivery_finished(s, clock, id, err)))
        return rc;
    return 1;
}

/* A batch stopped on an error; the outcomes it had were recorded (cr__send_finish). A server
 * that cannot be reached (CR_EIO: connection refused or lost) is a temporary problem: this
 * process's claims go back to pending, due again in a minute, and the delivery goes on
 * sending. Anything else (an account gone, a template broken, credentials or a bind refused)
 * needs a person: the delivery fails with the reason, unless someone paused or stopped it
 * meanwhile. */
static int batch_failed(struct cr_store *s, struct cr_clock *clock, int64_t id, int why,
                        struct cr_err *err)
{
    struct cr_err e2 = CR_ERR_INIT;
    char ts[CR_TIME_BUFSZ], next[CR_TIME_BUFSZ];
    cr_time_t now = cr_clock_now(clock);
    int temporary = why == CR_EIO && now < cache.validity_end;
    cr_log_warn("delivery %lld: %s%s", (long long)id, cr_err_msg(err),
                temporary ? " (trying again in a minute)" : "");
    cr_time_format_sql(now, ts);
    cr_time_format_sql(now + 60 * CR_USEC_PER_SEC, next);
    if (cr_store_run(s, &e2,
                     "UPDATE delivery_log SET status = 'pending', claimed_by = NULL, "
                     "lease_until = NULL, next_attempt_at = ? WHERE delivery_id = ? AND "
                     "status = 'sending' AND claimed_by = ?",
                     "sis", temporary ? next : NULL, id, me()) ||
        (!temporary &&
         (cr_store_run(s, &e2,
                       "UPDATE delivery SET status = 'failed', error = ?, updated_at = ? WHERE "
                       "id = ? AND status = 'sending'",
                       "ssi", cr_err_msg(err), ts, id) ||
          cr__delivery_finished(s, clock, id, &e2)))) /* its workflow learns it */
        cr_log_warn("delivery %lld: %s", (long long)id, cr_err_msg(&e2));
    cache_drop();
    return 0;
}

int cr_delivery_engine_step(struct cr_store *s, struct cr_clock *clock, int *did,
                            struct cr_err *err)
{
    struct cr_stmt *st = NULL;
    int64_t *ids = NULL, *att = NULL, id = 0;
    size_t n = 0;
    int rc;
    cr_time_t now = cr_clock_now(clock);
    *did = 0;
    last_store = s;
    last_clock = clock;
    if (!released_dead) {
        if ((rc = release_dead_claims(s, err)))
            return rc;
        released_dead = 1;
    }
    if ((rc = cr__send_sms_events(s, clock, err))) /* cheap when none wait */
        return rc;
    if ((rc = cr_store_begin(s, err)))
        return rc;
    if ((rc = cr_stmt_prepare(s,
                              "SELECT id, channel = 'external' FROM delivery WHERE status = "
                              "'sending' ORDER BY id",
                              &st, err)))
        goto fail;
    int64_t cand[64], ext[64];
    size_t ncand = 0, next = 0;
    while (ncand < 64 && next < 64 && (rc = cr_stmt_step(st, err)) == 1) {
        if (cr_stmt_bool(st, 1))
            ext[next++] = cr_stmt_int64(st, 0); /* a file, not messages: external.c */
        else
            cand[ncand++] = cr_stmt_int64(st, 0);
    }
    cr_stmt_free(st);
    if (rc < 0)
        goto fail;
    if (next) {
        if ((rc = cr_store_commit(s, err)))
            goto out;
        for (size_t i = 0; i < next && !*did; i++) {
            /* one broken extraction (an account gone, the store refusing) fails that
             * delivery, not the engine: the other deliveries and workflows go on */
            if (cr_external_step(s, clock, ext[i], did, err)) {
                batch_failed(s, clock, ext[i], err->code ? err->code : CR_EIO, err);
                cr_err_clear(err);
                *did = 1;
            }
        }
        if (*did)
            goto out;
        if ((rc = cr_store_begin(s, err)))
            goto out;
    }
    for (size_t i = 0; i < ncand && !n; i++) {
        free(ids);
        free(att);
        ids = att = NULL;
        if ((rc = claim(s, now, cand[i], &ids, &att, &n, err)))
            goto fail;
        if (n)
            id = cand[i];
        else if ((rc = maybe_finish(s, clock, cand[i], err)) < 0)
            goto fail;
        else if (rc == 1)
            *did = 1;
    }
    if ((rc = cr_store_commit(s, err)))
        goto out;
    if (n) {
        *did = 1;
        if ((rc = open_channel(s, clock, id, err)) == 0)
            rc = cache.channel == SEND_SMS ? cr__send_sms_claimed(s, clock, id, ids, att, n, err)
                 : cache.channel == SEND_PUSH
                     ? cr__send_push_claimed(s, clock, id, ids, att, n, err)
                     : cr__send_email_claimed(s, clock, id, ids, att, n, err);
        if (rc)
            rc = batch_failed(s, clock, id, rc, err);
    }
    goto out;
fail:
    cr_store_rollback(s);
out:
    free(ids);
    free(att);
    return rc;
}

int cr_delivery_engine_idle(struct cr_store *s, struct cr_clock *clock, int timeout_ms,
                            struct cr_err *err)
{
    last_store = s;
    last_clock = clock;
    if (!cache.sms || !cr_sms_listens(cache.sms))
        return 0;
    struct cr_err e = CR_ERR_INIT;
    if (cr_sms_poll(cache.sms, timeout_ms, &e)) {
        /* the SMSC went away while idle: receipts wait until the next session */
        cr_log_warn("SMS receipts: %s", cr_err_msg(&e));
        cache_drop();
        return 0;
    }
    if (cr__send_sms_events(s, clock, err))
        return err->code;
    return 1;
}

void cr_delivery_engine_close(void)
{
    cache_drop();
    last_store = NULL;
    last_clock = NULL;
}

/* ---------------------------------------------------------------- proofs */

int cr__send_proof_row(struct cr_store *s, int64_t id, const char *addr, const char *ts,
                       int64_t *log_id, struct cr_err *err)
{
    int rc = cr_store_query_int64(s, err, log_id,
                                  "INSERT INTO delivery_log (delivery_id, address, status, proof, "
                                  "created_at, updated_at) VALUES (?, ?, 'pending', ?, ?, ?) "
                                  "RETURNING id",
                                  "isbss", id, addr, 1, ts, ts);
    return rc < 0 ? rc : 0;
}

int cr__send_proof_done(struct cr_store *s, int64_t log_id, const char *to, int sent,
                        const char *why, const char *message_id, const char *ts, struct cr_err *err)
{
    int rc = cr_store_run(s, err,
                          "UPDATE delivery_log SET status = ?, error = ?, sent_at = ?, "
                          "message_id = ? WHERE id = ?",
                          "ssssi", sent ? "sent" : "failed", sent ? NULL : why, sent ? ts : NULL,
                          message_id && *message_id ? message_id : NULL, log_id);
    if (!rc && !sent)
        rc = cr_err_set(err, CR_EIO, "proof to %s: %s", to, why);
    return rc;
}

int cr_delivery_proof(struct cr_store *s, struct cr_clock *clock, int64_t id, const char *to,
                      int *sent, struct cr_err *err)
{
    char *status = NULL, *content_text = NULL;
    json_t *content = NULL;
    struct cr_buf list = CR_BUF_INIT(0);
    struct cr_stmt *st = NULL;
    const char **row = NULL;
    int rc = cr__delivery_status(s, id, &status, err);
    *sent = 0;
    if (rc)
        return rc;
    if ((rc = cr_store_query_text(s, err, &content_text,
                                  "SELECT content FROM delivery WHERE id = ?", "i", id)) < 0)
        goto out;
    content = json_loads(content_text ? content_text : "{}", 0, NULL);
    if (to) {
        cr_buf_puts(&list, to);
    } else {
        json_t *v;
        size_t i;
        json_array_foreach(json_object_get(content, "proof_to"), i, v)
        {
            cr_buf_printf(&list, "%s%s", list.len ? "," : "", json_string_value(v));
        }
    }
    if (!list.len) {
        rc = cr_err_set(err, CR_EINVAL,
                        "no proof addresses: give --to, or proof_to in the "
                        "template");
        goto out;
    }
    last_store = s;
    last_clock = clock;
    if ((rc = open_channel(s, clock, id, err)))
        goto out;
    /* proofs show the first targeted recipient's data (or the first profile) */
    struct cr_buf sql = CR_BUF_INIT(0);
    cr_buf_puts(&sql, "SELECT ");
    cr__delivery_profile_columns(&sql, &cache.profile);
    /* COALESCE: SQLite sorts NULLs first, which would pick a profile not targeted */
    cr_buf_puts(&sql, " FROM profile p ORDER BY COALESCE((SELECT min(l.id) FROM delivery_log l "
                      "WHERE l.delivery_id = ? AND l.profile_id = p.id AND l.status <> "
                      "'excluded'), 9223372036854775807), p.id LIMIT 1");
    rc = cr_stmt_prepare(s, sql.data, &st, err);
    cr_buf_release(&sql);
    if (rc)
        goto out;
    cr_stmt_bind_int64(st, 1, id);
    if ((rc = cr_stmt_step(st, err)) < 0)
        goto out;
    row = cr_xcalloc(cache.profile.ncols + 1, sizeof *row);
    for (size_t i = 0; rc == 1 && i < cache.profile.ncols; i++)
        row[i] = cr_stmt_text(st, (int)i);
    rc = cache.channel == SEND_SMS ? cr__send_sms_proof(s, clock, id, list.data, row, sent, err)
         : cache.channel == SEND_PUSH
             ? cr__send_push_proof(s, clock, id, list.data, row, sent, err)
             : cr__send_email_proof(s, clock, id, list.data, row, sent, err);
out:
    free(row);
    cr_stmt_free(st);
    cr_buf_release(&list);
    json_decref(content);
    free(content_text);
    free(status);
    return rc;
}
