/*
 * smpp_send.c - cr_smpp_send_stream(): messages into submit_sm parts, a window of parts
 *               awaiting their resp, throttling back-off, resubmission after a drop, and one
 *               outcome per message; the connection itself is smpp.c's
 *
 * A message is taken from next() only when no message taken before has a part waiting to be
 * submitted, so at most window + 1 messages are held. Each part is in one state: PENDING
 * (to submit), INFLIGHT (a submit_sm awaits its resp, recorded in the window by sequence
 * number), DONE (resp ESME_ROK) or DROPPED (the message failed; not submitted). A message is
 * reported when it has nothing in flight and is either all DONE or failed.
 *
 * Throttling: ESME_RTHROTTLED and ESME_RMSGQFUL put the part back to PENDING and pause every
 * submission for 200 ms, doubling up to 5 s while throttling goes on; an ESME_ROK resets the
 * pause. A lost connection puts every INFLIGHT part back to PENDING (its resp never came) and
 * reconnects. Both count as a try of the message; after SMPP_MAX_TRIES it is SOFT.
 *
 * Rate: a token bucket of depth 1 on the monotonic clock, one token per submit_sm.
 *
 * Spec: SMPP v3.4 §4.4 (submit_sm), §5.1.3 (command_status), §5.2.12 (esm_class UDHI),
 * §5.2.17 (registered_delivery); 3GPP TS 23.040 §9.2.3.24.1 (concatenation, via gsm.h).
 */
#include "channel/sms/smpp.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel/sms/gsm.h"
#include "channel/sms/smpp_int.h"
#include "core/log.h"
#include "core/mem.h"

#define SMPP_MAX_TRIES 10
#define SMPP_BACKOFF_FIRST_MS 200
#define SMPP_BACKOFF_MAX_MS 5000
#define SMPP_RECONNECT_TRIES 3
#define SMPP_RECONNECT_PAUSE_MS 1000
#define SMPP_IDLE_WAIT_MS 1000

enum part_state { P_PENDING, P_INFLIGHT, P_DONE, P_DROPPED };

struct smsg {
    int64_t id;
    struct cr_sms sms;
    char to[CR_SMPP_ADDR_MAX], from[CR_SMPP_ADDR_MAX];
    uint8_t from_ton, from_npi;
    unsigned char *pstate;                /* enum part_state per part */
    char (*ids)[CR_SMPP_MESSAGE_ID_MAX];  /* message_id per part */
    size_t ndone, ninflight, npending;
    int tries;
    int failed;
    enum cr_smpp_outcome outcome;         /* when failed */
    uint32_t status;
    char reply[300];
};

struct inflight {
    uint32_t seq;
    struct smsg *m;
    size_t part;
    int64_t deadline;
};

struct sender {
    struct cr_smpp *s;
    struct smsg **act; /* messages taken from next() and not yet reported, in order */
    size_t nact;
    struct inflight *fl; /* the window: at most s->window entries */
    size_t nfl;
    size_t npending; /* PENDING parts across act */
    int64_t resume_at; /* throttled: no submit_sm before this */
    int64_t backoff_ms;
    void (*done)(void *data, const struct cr_smpp_result *r);
    void *data;
};

/* Marks m failed (the first failure decides) and drops its unsubmitted parts. */
static void fail(struct sender *sd, struct smsg *m, enum cr_smpp_outcome o, uint32_t status,
                 const char *reply)
{
    if (!m->failed) {
        m->failed = 1;
        m->outcome = o;
        m->status = status;
        snprintf(m->reply, sizeof m->reply, "%.*s", (int)(sizeof m->reply - 1), reply);
    }
    for (size_t i = 0; i < m->sms.nparts; i++) {
        if (m->pstate[i] == P_PENDING) {
            m->pstate[i] = P_DROPPED;
            m->npending--;
            sd->npending--;
        }
    }
}

/* Destination errors are HARD: resubmitting the same address cannot succeed. Everything else
 * (system errors, bad source, message length...) may be our configuration or the SMSC's
 * state, so it is SOFT: the delivery layer decides about retrying. */
static enum cr_smpp_outcome classify(uint32_t status)
{
    switch (status) {
    case CR_ESME_RINVDSTADR:
    case CR_ESME_RINVDSTTON:
    case CR_ESME_RINVDSTNPI:
    case CR_ESME_RX_P_APPN:
    case CR_ESME_RX_R_APPN:
        return CR_SMPP_HARD;
    default:
        return CR_SMPP_SOFT;
    }
}

/* smpp.c's hook: the resp (or generic_nack) for sequence number seq. */
static void on_resp(void *ctx, uint32_t seq, uint32_t status, const char *message_id)
{
    struct sender *sd = ctx;
    size_t i = 0;
    while (i < sd->nfl && sd->fl[i].seq != seq)
        i++;
    if (i == sd->nfl) {
        cr_log(CR_LOG_DEBUG, NULL, "smpp: resp for unknown sequence number %u ignored",
               (unsigned)seq);
        return;
    }
    struct smsg *m = sd->fl[i].m;
    size_t part = sd->fl[i].part;
    sd->fl[i] = sd->fl[--sd->nfl];
    m->ninflight--;
    if (status == CR_ESME_ROK) {
        m->pstate[part] = P_DONE;
        m->ndone++;
        snprintf(m->ids[part], sizeof m->ids[part], "%s", message_id);
        sd->backoff_ms = 0;
        return;
    }
    char reply[300];
    snprintf(reply, sizeof reply, "%s (%s)", cr_smpp_status_name(status),
             cr_smpp_status_text(status));
    if ((status == CR_ESME_RTHROTTLED || status == CR_ESME_RMSGQFUL) && !m->failed) {
        m->pstate[part] = P_PENDING;
        m->npending++;
        sd->npending++;
        sd->backoff_ms = sd->backoff_ms ? sd->backoff_ms * 2 : SMPP_BACKOFF_FIRST_MS;
        if (sd->backoff_ms > SMPP_BACKOFF_MAX_MS)
            sd->backoff_ms = SMPP_BACKOFF_MAX_MS;
        sd->resume_at = cr__smpp_now_ms() + sd->backoff_ms;
        if (++m->tries >= SMPP_MAX_TRIES)
            fail(sd, m, CR_SMPP_SOFT, status, reply);
        return;
    }
    m->pstate[part] = P_DROPPED;
    fail(sd, m, classify(status), status, reply);
}

/* Parses an E.164 "+digits" into its digits; 0 or -1. */
static int e164_digits(const char *a, char *out)
{
    if (!a || a[0] != '+')
        return -1;
    size_t n = strlen(a + 1);
    if (n < 1 || n > 15 || strspn(a + 1, "0123456789") != n)
        return -1;
    memcpy(out, a + 1, n + 1);
    return 0;
}

/* Takes a message from next(): encoded at once, so its strings are no longer needed. A
 * message crier cannot send (bad address, bad UTF-8, too long) is failed HARD here. */
static void add_msg(struct sender *sd, const struct cr_smpp_msg *in)
{
    struct cr_smpp *s = sd->s;
    struct smsg *m = cr_xcalloc(1, sizeof *m);
    m->id = in->id;
    sd->act = cr_xrealloc(sd->act, (sd->nact + 1) * sizeof *sd->act);
    sd->act[sd->nact++] = m;

    char why[300] = "";
    struct cr_err e = CR_ERR_INIT;
    if (e164_digits(in->to, m->to))
        snprintf(why, sizeof why, "invalid destination '%s': E.164 with '+' expected",
                 in->to ? in->to : "(null)");
    else if (in->from && e164_digits(in->from, m->from) == 0) {
        m->from_ton = 1; /* international */
        m->from_npi = 1; /* ISDN (E.164) */
    } else if (in->from && strlen(in->from) >= sizeof m->from)
        snprintf(why, sizeof why, "sender '%s' is longer than %zu characters", in->from,
                 sizeof m->from - 1);
    else {
        snprintf(m->from, sizeof m->from, "%s", in->from ? in->from : s->source_addr);
        m->from_ton = s->source_ton;
        m->from_npi = s->source_npi;
    }
    const char *text = in->text ? in->text : "";
    if (!*why && cr_sms_encode(text, strlen(text), s->ref++ & 0xFF, &m->sms, &e))
        snprintf(why, sizeof why, "message text: %s", cr_err_msg(&e));
    size_t np = *why ? 1 : m->sms.nparts;
    m->pstate = cr_xcalloc(np, 1);
    m->ids = cr_xcalloc(np, sizeof *m->ids);
    if (*why) {
        m->pstate[0] = P_DROPPED;
        fail(sd, m, CR_SMPP_HARD, 0, why);
        return;
    }
    m->npending = np;
    sd->npending += np;
}

/* Reports and frees the messages that are complete, keeping the others in order. */
static void report_finished(struct sender *sd)
{
    size_t k = 0;
    for (size_t i = 0; i < sd->nact; i++) {
        struct smsg *m = sd->act[i];
        int complete = m->ninflight == 0 && m->npending == 0 &&
                       (m->failed || m->ndone == m->sms.nparts);
        if (!complete) {
            sd->act[k++] = m;
            continue;
        }
        struct cr_smpp_result r = {
            .id = m->id,
            .outcome = m->failed ? m->outcome : CR_SMPP_SENT,
            .status = m->failed ? m->status : CR_ESME_ROK,
            .message_id = m->ids[0],
            .nparts = m->sms.nparts ? m->sms.nparts : 1,
            .part_ids = (const char(*)[CR_SMPP_MESSAGE_ID_MAX])m->ids,
            .reply = m->failed ? m->reply : "ok",
        };
        sd->done(sd->data, &r);
        cr_sms_release(&m->sms);
        free(m->pstate);
        free(m->ids);
        free(m);
    }
    sd->nact = k;
}

/* Fails every message still held SOFT (the connection is gone for good). */
static void fail_all(struct sender *sd, const char *why)
{
    for (size_t i = 0; i < sd->nact; i++) {
        struct smsg *m = sd->act[i];
        m->ninflight = 0;
        for (size_t p = 0; p < m->sms.nparts; p++)
            if (m->pstate[p] == P_INFLIGHT)
                m->pstate[p] = P_DROPPED;
        fail(sd, m, CR_SMPP_SOFT, 0, why);
    }
    sd->nfl = 0;
}

/* The connection dropped: every part without a resp goes back to PENDING. */
static void requeue_inflight(struct sender *sd)
{
    char why[400];
    snprintf(why, sizeof why, "connection lost: %s", sd->s->lost);
    for (size_t i = 0; i < sd->nfl; i++) {
        struct smsg *m = sd->fl[i].m;
        m->ninflight--;
        if (m->failed) { /* another part already decided: do not resubmit this one */
            m->pstate[sd->fl[i].part] = P_DROPPED;
            continue;
        }
        m->pstate[sd->fl[i].part] = P_PENDING;
        m->npending++;
        sd->npending++;
    }
    for (size_t i = 0; i < sd->nfl; i++) {
        struct smsg *m = sd->fl[i].m;
        if (++m->tries >= SMPP_MAX_TRIES)
            fail(sd, m, CR_SMPP_SOFT, 0, why);
    }
    sd->nfl = 0;
}

/* Milliseconds until a token is available (0: now), taking it when there is one. */
static int64_t take_token(struct cr_smpp *s, int64_t now)
{
    if (s->rate <= 0)
        return 0;
    s->tokens += (double)(now - s->tokens_ms) * s->rate / 1000.0;
    s->tokens_ms = now;
    if (s->tokens > 1)
        s->tokens = 1;
    if (s->tokens >= 1) {
        s->tokens -= 1;
        return 0;
    }
    int64_t wait = (int64_t)((1 - s->tokens) * 1000.0 / s->rate) + 1;
    return wait;
}

/* Submits PENDING parts in message order while the window, the back-off and the rate allow.
 * Returns how long to wait before the next submission is possible (or SMPP_IDLE_WAIT_MS). */
static int64_t submit_ready(struct sender *sd)
{
    struct cr_smpp *s = sd->s;
    for (size_t i = 0; i < sd->nact && s->state == CONN_BOUND; i++) {
        struct smsg *m = sd->act[i];
        for (size_t p = 0; p < m->sms.nparts && m->npending; p++) {
            if (m->pstate[p] != P_PENDING)
                continue;
            if (sd->nfl >= (size_t)s->window)
                return SMPP_IDLE_WAIT_MS; /* a resp will wake us up */
            int64_t now = cr__smpp_now_ms();
            if (now < sd->resume_at)
                return sd->resume_at - now;
            int64_t wait = take_token(s, now);
            if (wait)
                return wait;
            struct cr_smpp_pdu pdu = {.command_id = CR_SMPP_SUBMIT_SM, .seq = cr__smpp_seq(s)};
            struct cr_smpp_sm *sm = &pdu.sm;
            sm->source_addr_ton = m->from_ton;
            sm->source_addr_npi = m->from_npi;
            memcpy(sm->source_addr, m->from, sizeof sm->source_addr);
            sm->dest_addr_ton = 1;
            sm->dest_addr_npi = 1;
            memcpy(sm->destination_addr, m->to, sizeof sm->destination_addr);
            sm->esm_class = m->sms.udhi ? CR_SMPP_ESM_UDHI : 0;
            sm->registered_delivery = s->receipt ? CR_SMPP_REG_RECEIPT_FINAL : 0;
            sm->data_coding = (uint8_t)m->sms.coding;
            sm->sm_length = (uint8_t)m->sms.parts[p].len;
            memcpy(sm->short_message, m->sms.parts[p].data, m->sms.parts[p].len);
            struct cr_err e = CR_ERR_INIT;
            if (cr__smpp_queue(s, &pdu, &e)) {
                m->pstate[p] = P_DROPPED;
                m->npending--;
                sd->npending--;
                fail(sd, m, CR_SMPP_HARD, 0, cr_err_msg(&e));
                break;
            }
            m->pstate[p] = P_INFLIGHT;
            m->npending--;
            sd->npending--;
            m->ninflight++;
            sd->fl[sd->nfl++] = (struct inflight){pdu.seq, m, p, now + s->timeout_ms};
        }
    }
    return SMPP_IDLE_WAIT_MS;
}

/* Reopens the session after a drop: a few tries, a pause between them. */
static int reconnect(struct cr_smpp *s, struct cr_err *err)
{
    int rc = 0;
    for (int t = 0; t < SMPP_RECONNECT_TRIES; t++) {
        if (t)
            poll(NULL, 0, SMPP_RECONNECT_PAUSE_MS);
        struct cr_err e = CR_ERR_INIT;
        rc = cr__smpp_open(s, &e);
        if (rc == 0)
            return 0;
        cr_log(CR_LOG_WARN, NULL, "smpp: reconnect %d of %d: %s", t + 1, SMPP_RECONNECT_TRIES,
               e.msg);
        if (t == SMPP_RECONNECT_TRIES - 1)
            cr_err_set(err, rc, "%s", e.msg);
    }
    return rc;
}

int cr_smpp_send_stream(struct cr_smpp *s,
                        int (*next)(void *src, struct cr_smpp_msg *m, struct cr_err *err),
                        void *src, void (*done)(void *data, const struct cr_smpp_result *r),
                        void *data, struct cr_err *err)
{
    if (s->state == CONN_BOUND)
        cr__smpp_pump(s, 0); /* notice a connection the SMSC closed since the last call */
    if (s->state != CONN_BOUND) {
        int rc = cr__smpp_open(s, err);
        if (rc)
            return rc; /* nothing taken from next(), no done() */
    }
    struct sender sd = {.s = s, .done = done, .data = data};
    sd.fl = cr_xcalloc((size_t)s->window, sizeof *sd.fl);
    s->on_resp = on_resp;
    s->resp_ctx = &sd;
    int eof = 0, ret = 0;
    for (;;) {
        if (s->state != CONN_BOUND) {
            requeue_inflight(&sd);
            report_finished(&sd);
            int rc = reconnect(s, err);
            if (rc) {
                fail_all(&sd, cr_err_msg(err));
                report_finished(&sd);
                ret = CR_EIO;
                break;
            }
        }
        /* fill the window before waiting: submit what is pending, take the next message
         * while there is room and nothing held back (by the rate or a throttling pause) */
        int64_t wait;
        for (;;) {
            wait = submit_ready(&sd);
            report_finished(&sd);
            if (eof || sd.npending || sd.nfl >= (size_t)s->window || s->state != CONN_BOUND)
                break;
            struct cr_smpp_msg m = {0};
            int r = next(src, &m, err);
            if (r <= 0) {
                eof = 1;
                ret = r < 0 ? r : 0;
                break;
            }
            add_msg(&sd, &m);
            report_finished(&sd);
        }
        if (eof && sd.nact == 0)
            break;
        int64_t now = cr__smpp_now_ms();
        for (size_t i = 0; i < sd.nfl; i++)
            if (sd.fl[i].deadline - now < wait)
                wait = sd.fl[i].deadline - now;
        cr__smpp_pump(s, wait);
        now = cr__smpp_now_ms();
        for (size_t i = 0; i < sd.nfl && s->state == CONN_BOUND; i++)
            if (sd.fl[i].deadline <= now)
                cr__smpp_close(s, "no submit_sm_resp in time");
        report_finished(&sd);
    }
    s->on_resp = NULL;
    s->resp_ctx = NULL;
    free(sd.fl);
    free(sd.act);
    return ret;
}
