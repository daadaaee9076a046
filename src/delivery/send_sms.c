/*
 * send_sms.c - the SMS side of the sending loop: render each claimed row's text and stream
 *              it to the SMSC (or the file sink); receipts and STOP replies; SMS proofs
 *
 * Receipts and replies arrive on the SMPP session at any time (while sending, while idle,
 * while unbinding); they are buffered here and applied to the store after each recorded
 * flush of outcomes, so a receipt finds its message's id already stored. A receipt that
 * matches nothing yet (a part's receipt before the message's last part was acknowledged)
 * is kept for RETAIN_MS and tried again; then dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/casefold.h"
#include "core/log.h"
#include "core/mem.h"
#include "delivery/send_int.h"
#include "store/config.h"
#include "tracking/events.h"

#define cache cr__send_cache
#define RETAIN_MS (INT64_C(5) * 60 * 1000)
#define MAX_EVENTS 100000 /* buffered receipts and replies; beyond, the oldest are dropped */
#define DEFAULT_STOP "STOP,ARRET,ARRÊT,UNSUBSCRIBE,STOPALL,END,QUIT,CANCEL"

struct event {
    int mo;      /* 0: receipt, 1: reply */
    char *a, *b; /* receipt: message id, err (may be NULL); reply: from, text */
    int state;
    int64_t account_id, first_ms;
};

static struct {
    struct event *v;
    size_t n, cap;
} events;

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void push_event(int mo, const char *a, const char *b, int state)
{
    if (events.n >= MAX_EVENTS && !mo) {
        /* a flood of receipts drops the oldest receipt, never a STOP reply: an opt-out must
         * not be lost */
        size_t i = 0;
        while (i < events.n && events.v[i].mo)
            i++;
        if (i < events.n) {
            cr_log_warn("SMS receipts: more than %d waiting; dropping the oldest", MAX_EVENTS);
            free(events.v[i].a);
            free(events.v[i].b);
            memmove(events.v + i, events.v + i + 1, (events.n - i - 1) * sizeof *events.v);
            events.n--;
        }
    }
    if (events.n == events.cap) {
        events.cap = events.cap ? events.cap * 2 : 256;
        events.v = cr_xrealloc(events.v, events.cap * sizeof *events.v);
    }
    events.v[events.n++] = (struct event){mo,    cr_xstrdup(a),    b ? cr_xstrdup(b) : NULL,
                                          state, cache.account_id, now_ms()};
}

static void on_receipt(void *data, const char *message_id, enum cr_smpp_state state,
                       const char *err)
{
    (void)data;
    push_event(0, message_id, err, (int)state);
}

static void on_mo(void *data, const char *from, const char *text)
{
    (void)data;
    push_event(1, from, text, 0);
}

void cr__send_sms_forget(void)
{
    /* receipts are only worth something with their session; STOP replies not yet applied
     * stay until the next engine step applies them */
    size_t kept = 0;
    for (size_t i = 0; i < events.n; i++) {
        if (events.v[i].mo) {
            events.v[kept++] = events.v[i];
            continue;
        }
        free(events.v[i].a);
        free(events.v[i].b);
    }
    events.n = kept;
    if (!kept) {
        free(events.v);
        memset(&events, 0, sizeof events);
    }
}

int cr__send_sms_open(struct cr_store *s, struct cr_clock *clock, int64_t id, const json_t *content,
                      const struct cr_account *a, const char *label, const json_t *options,
                      json_t *campaign, struct cr_err *err)
{
    struct cr_sms_opts o = {
        id, label, json_is_true(json_object_get(options, "strict")), clock, campaign, options, 0};
    cache.channel = SEND_SMS;
    int rc = cr_sms_channel_open(s, content, a, &cache.profile, &o, &cache.sms, err);
    if (!rc) {
        struct cr_sms_events ev = {on_receipt, on_mo, NULL};
        cr_sms_set_events(cache.sms, &ev);
    }
    return rc;
}

/* ------------------------------------------------------------------ receipts --- */

/* The statements receipts use, prepared once per pass (thousands of receipts a second
 * arrive while a large delivery sends). */
enum { R_FIND, R_DELIVERED, R_FAILED, R_QUARANTINE, R_N };
static const char *const receipt_sql[R_N] = {
    "SELECT l.id, l.status, l.address FROM delivery_log l JOIN delivery d ON d.id = "
    "l.delivery_id WHERE l.message_id = ? AND d.channel = 'sms' AND d.account_id = ? ORDER BY "
    "l.id DESC LIMIT 1",
    "UPDATE delivery_log SET status = 'delivered', delivered_at = ?, updated_at = ? WHERE id = ?",
    "UPDATE delivery_log SET status = 'failed', failure_type = ?, error = ?, updated_at = ? "
    "WHERE id = ?",
    "INSERT INTO quarantine (channel, address, reason, error_count, status, first_at, last_at) "
    "VALUES ('sms', ?, ?, 1, 'quarantined', ?, ?) ON CONFLICT (channel, address) DO UPDATE SET "
    "error_count = quarantine.error_count + 1, reason = excluded.reason, status = "
    "'quarantined', last_at = excluded.last_at"};

/* Applies one receipt: 1 if it matched a message, 0 if not (yet). */
static int apply_receipt(struct cr_stmt **q, const struct event *e, const char *ts,
                         struct cr_err *err)
{
    int64_t log_id = 0;
    char status[16] = "", address[64] = "";
    cr_stmt_reset(q[R_FIND]);
    cr_stmt_bind_str(q[R_FIND], 1, e->a);
    cr_stmt_bind_int64(q[R_FIND], 2, e->account_id);
    int rc = cr_stmt_step(q[R_FIND], err);
    if (rc == 1) {
        log_id = cr_stmt_int64(q[R_FIND], 0);
        snprintf(status, sizeof status, "%s", cr_stmt_text(q[R_FIND], 1));
        snprintf(address, sizeof address, "%s",
                 cr_stmt_text(q[R_FIND], 2) ? cr_stmt_text(q[R_FIND], 2) : "");
    }
    cr_stmt_reset(q[R_FIND]);
    if (rc <= 0)
        return rc;
    /* the first final receipt decides; intermediate states (ENROUTE, ACCEPTED) change
     * nothing */
    if (strcmp(status, "sent") != 0)
        return 1;
    char error[160];
    snprintf(error, sizeof error, "receipt: %s%s%s", cr_smpp_state_name(e->state),
             e->b ? " err:" : "", e->b ? e->b : "");
    struct cr_stmt *up = NULL;
    switch (e->state) {
    case CR_SMPP_STATE_DELIVERED:
        up = q[R_DELIVERED];
        cr_stmt_reset(up);
        cr_stmt_bind_str(up, 1, ts);
        cr_stmt_bind_str(up, 2, ts);
        cr_stmt_bind_int64(up, 3, log_id);
        break;
    case CR_SMPP_STATE_UNDELIVERABLE:
    case CR_SMPP_STATE_REJECTED:
    case CR_SMPP_STATE_EXPIRED:
    case CR_SMPP_STATE_DELETED: {
        int hard = e->state == CR_SMPP_STATE_UNDELIVERABLE || e->state == CR_SMPP_STATE_REJECTED;
        up = q[R_FAILED];
        cr_stmt_reset(up);
        cr_stmt_bind_str(up, 1, hard ? "hard" : "soft");
        cr_stmt_bind_str(up, 2, error);
        cr_stmt_bind_str(up, 3, ts);
        cr_stmt_bind_int64(up, 4, log_id);
        if (hard && address[0]) {
            struct cr_stmt *qu = q[R_QUARANTINE];
            cr_stmt_reset(qu);
            cr_stmt_bind_str(qu, 1, address);
            cr_stmt_bind_str(qu, 2, error);
            cr_stmt_bind_str(qu, 3, ts);
            cr_stmt_bind_str(qu, 4, ts);
            if ((rc = cr_stmt_step(qu, err)) < 0)
                return rc;
            cr_stmt_reset(qu);
        }
        break;
    }
    default:
        return 1;
    }
    rc = cr_stmt_step(up, err);
    cr_stmt_reset(up);
    return rc < 0 ? rc : 1;
}

/* ------------------------------------------------------------------ replies --- */

/* 1 if text (trimmed, any case) is a STOP keyword of the comma-separated list, alone or
 * followed by other words ("STOP promo"). */
static int is_stop(const char *text, const char *keywords)
{
    struct cr_buf t = CR_BUF_INIT(0), k = CR_BUF_INIT(0);
    const char *p = text;
    int hit = 0;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    cr_casefold(p, strlen(p), 1, &t);
    for (const char *kw = keywords; *kw && !hit;) {
        const char *end = strchr(kw, ',');
        size_t n = end ? (size_t)(end - kw) : strlen(kw);
        while (n && kw[0] == ' ')
            kw++, n--;
        while (n && kw[n - 1] == ' ')
            n--;
        cr_buf_reset(&k);
        cr_casefold(kw, n, 1, &k);
        if (k.len && t.len >= k.len && memcmp(t.data, k.data, k.len) == 0) {
            unsigned char c = (unsigned char)t.data[k.len];
            hit = c == 0 || c == ' ' || c == '.' || c == '!' || c == '\r' || c == '\n' || c == '\t';
        }
        kw = end ? end + 1 : kw + n;
    }
    cr_buf_release(&t);
    cr_buf_release(&k);
    return hit;
}

/* A reply: STOP opts the profile out of SMS (logged as an unsubscription of the latest SMS
 * it got); anything else is only logged. */
static int apply_mo(struct cr_store *s, struct cr_clock *clock, const struct event *e,
                    const char *keywords, const char *ts, struct cr_err *err)
{
    char from[40];
    snprintf(from, sizeof from, "%s%s", e->a[0] == '+' ? "" : "+", e->a);
    if (!is_stop(e->b ? e->b : "", keywords)) {
        cr_log_info("SMS reply from %s ignored (not a STOP keyword)", from);
        return 0;
    }
    struct cr_recipient r = {0};
    struct cr_stmt *st = NULL;
    int rc = cr_stmt_prepare(s,
                             "SELECT l.delivery_id, l.id, l.profile_id FROM delivery_log l JOIN "
                             "delivery d ON d.id = l.delivery_id WHERE l.address = ? AND "
                             "d.channel = 'sms' AND NOT l.proof AND l.profile_id IS NOT NULL "
                             "ORDER BY l.id DESC LIMIT 1",
                             &st, err);
    if (rc)
        return rc;
    cr_stmt_bind_str(st, 1, from);
    if ((rc = cr_stmt_step(st, err)) == 1) {
        r.delivery = cr_stmt_int64(st, 0);
        r.log = cr_stmt_int64(st, 1);
        r.profile = cr_stmt_int64(st, 2);
        snprintf(r.channel, sizeof r.channel, "sms");
    }
    cr_stmt_free(st);
    if (rc < 0)
        return rc;
    cr_log_info("SMS reply STOP from %s: opted out of SMS", from);
    if (rc == 1 && (rc = cr_track_unsubscribe(s, clock, &r, "sms reply", NULL, err)))
        return rc;
    /* every profile with that number, sent to or not */
    return cr_store_run(s, err,
                        "UPDATE profile SET sms_optout = ?, updated_at = ? WHERE "
                        "phone = ? AND (sms_optout IS NULL OR NOT sms_optout)",
                        "bss", 1, ts, from);
}

/* One pass over the buffer: receipts (mo 0) in one transaction, or replies (mo 1), each
 * in its own. Applied events leave the buffer; unmatched receipts stay for RETAIN_MS. */
static int apply_pass(struct cr_store *s, struct cr_clock *clock, int mo, const char *keywords,
                      const char *ts, struct cr_err *err)
{
    size_t kept = 0, i;
    int rc = 0, any = 0;
    struct cr_stmt *q[R_N] = {0};
    int64_t now = now_ms();
    for (i = 0; i < events.n; i++)
        any |= events.v[i].mo == mo;
    if (!any)
        return 0;
    if (!mo && (rc = cr_store_begin(s, err)))
        return rc;
    for (int k = 0; !mo && k < R_N && !rc; k++)
        rc = cr_stmt_prepare(s, receipt_sql[k], &q[k], err);
    if (rc) {
        for (int k = 0; k < R_N; k++)
            cr_stmt_free(q[k]);
        cr_store_rollback(s);
        return rc;
    }
    for (i = 0; i < events.n && rc >= 0; i++) {
        struct event *e = &events.v[i];
        if (e->mo != mo) {
            events.v[kept++] = *e;
            continue;
        }
        rc = mo ? apply_mo(s, clock, e, keywords, ts, err) : apply_receipt(q, e, ts, err);
        if (rc < 0) {
            events.v[kept++] = *e; /* stays for the next time */
            break;
        }
        if (rc == 0 && !mo && now - e->first_ms < RETAIN_MS) {
            events.v[kept++] = *e; /* not matched yet: later */
            continue;
        }
        if (rc == 0 && !mo)
            cr_log_debug("SMS receipt for unknown message id %s dropped", e->a);
        free(e->a);
        free(e->b);
    }
    if (rc < 0) /* the loop stopped at i: the rest stays as it is */
        for (i++; i < events.n; i++)
            events.v[kept++] = events.v[i];
    events.n = kept;
    for (int k = 0; k < R_N; k++)
        cr_stmt_free(q[k]);
    if (!mo) {
        if (rc < 0)
            cr_store_rollback(s);
        else
            rc = cr_store_commit(s, err);
    }
    return rc < 0 ? rc : 0;
}

int cr__send_sms_events(struct cr_store *s, struct cr_clock *clock, struct cr_err *err)
{
    char ts[CR_TIME_BUFSZ], *keywords = NULL;
    int rc, replies = 0;
    if (!events.n)
        return 0;
    cr_time_format_sql(cr_clock_now(clock), ts);
    for (size_t i = 0; i < events.n && !replies; i++)
        replies = events.v[i].mo;
    if (replies && (rc = cr_config_get(s, "sms.stop_keywords", &keywords, err)))
        return rc;
    if (!(rc = apply_pass(s, clock, 0, NULL, ts, err)) && replies)
        rc = apply_pass(s, clock, 1, keywords ? keywords : DEFAULT_STOP, ts, err);
    free(keywords);
    return rc;
}

/* ------------------------------------------------------------------ sending --- */

static int after_record(struct cr_store *s, struct cr_clock *clock, struct cr_err *err)
{
    return cr__send_sms_events(s, clock, err);
}

static void on_result(void *data, const struct cr_sms_result *r)
{
    cr__send_done(data, r->log_id,
                  r->outcome == CR_SMS_SENT   ? SEND_SENT
                  : r->outcome == CR_SMS_HARD ? SEND_HARD
                                              : SEND_SOFT,
                  (int)r->status, r->reply, r->message_id);
}

static int produce(void *src, struct cr_sms_out *out, struct cr_err *err)
{
    struct send_producer *p = src;
    size_t k;
    int got;
    while ((got = cr__send_next(p, &k, err)) == 1) {
        struct send_outcome_row *o = &p->b->o[k];
        struct cr_err e = CR_ERR_INIT;
        cr_buf_init(&p->msgs[k], 0);
        int rc = cr_sms_render(cache.sms, p->row, o->log_id, &p->msgs[k], &e);
        if (rc) {
            cr__send_done(p->b, o->log_id, rc == CR_EIO ? SEND_SOFT : SEND_HARD, 0, cr_err_msg(&e),
                          NULL);
            continue;
        }
        o->outcome = SEND_SOFT; /* until the transport says otherwise */
        out->log_id = o->log_id;
        out->to = o->address;
        out->text = p->msgs[k].data;
        return 1;
    }
    return got;
}

int cr__send_sms_claimed(struct cr_store *s, struct cr_clock *clock, int64_t id, const int64_t *ids,
                         const int64_t *att, size_t n, struct cr_err *err)
{
    struct send_batch b;
    struct send_producer p;
    int rc = cr__send_start(&b, &p, s, clock, id, ids, att, n, err);
    b.after_record = after_record;
    if (!rc)
        rc = cr_sms_send_stream(cache.sms, produce, &p, on_result, &b, err);
    return cr__send_finish(&b, &p, rc, err);
}

/* ---------------------------------------------------------------- proofs */

struct proof {
    const char *to, *text;
    int64_t log_id;
    int given, sent;
    char error[300], message_id[80];
};

static int proof_next(void *src, struct cr_sms_out *m, struct cr_err *err)
{
    struct proof *p = src;
    (void)err;
    if (p->given)
        return 0;
    p->given = 1;
    m->log_id = p->log_id;
    m->to = p->to;
    m->text = p->text;
    return 1;
}

static void proof_done(void *data, const struct cr_sms_result *r)
{
    struct proof *p = data;
    if (r->outcome == CR_SMS_SENT)
        p->sent = 1;
    else
        snprintf(p->error, sizeof p->error, "%u %s", (unsigned)r->status, r->reply);
    snprintf(p->message_id, sizeof p->message_id, "%s", r->message_id ? r->message_id : "");
}

/* Numbers are normalised as in preparation would ("+33 6 12…" → "+3312…"): only '+' and
 * digits are kept. */
int cr__send_sms_proof(struct cr_store *s, struct cr_clock *clock, int64_t id, const char *list,
                       const char *const *row, int *sent, struct cr_err *err)
{
    char ts[CR_TIME_BUFSZ], *nums = cr_xstrdup(list);
    struct cr_buf text = CR_BUF_INIT(0), marked = CR_BUF_INIT(0);
    int rc = 0;
    cr_time_format_sql(cr_clock_now(clock), ts);
    for (char *save = NULL, *num = strtok_r(nums, ",;", &save); num && !rc;
         num = strtok_r(NULL, ",;", &save)) {
        char to[40];
        size_t n = 0;
        for (const char *c = num; *c && n + 1 < sizeof to; c++)
            if ((*c >= '0' && *c <= '9') || (*c == '+' && n == 0))
                to[n++] = *c;
        to[n] = 0;
        if (n < 4 || to[0] != '+') {
            rc = cr_err_set(err, CR_EINVAL, "proof number '%s' is not in E.164 (+CC…)", num);
            break;
        }
        int64_t log_id;
        if ((rc = cr__send_proof_row(s, id, to, ts, &log_id, err)))
            break;
        if ((rc = cr_sms_render(cache.sms, row, log_id, &text, err)))
            break;
        cr_buf_reset(&marked);
        cr_buf_printf(&marked, "[PROOF] %s", text.data);
        struct proof p = {to, marked.data, log_id, 0, 0, "", ""};
        if ((rc = cr_sms_send_stream(cache.sms, proof_next, &p, proof_done, &p, err)))
            break;
        *sent += p.sent;
        rc = cr__send_proof_done(s, log_id, to, p.sent, p.error, p.message_id, ts, err);
    }
    cr_buf_release(&text);
    cr_buf_release(&marked);
    free(nums);
    return rc < 0 ? rc : 0;
}
