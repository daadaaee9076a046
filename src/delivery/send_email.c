/*
 * send_email.c - the email side of the sending loop: render each claimed row as a MIME
 *                message and stream it to SMTP (or the pickup folder); email proofs
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "delivery/send_int.h"

#define cache cr__send_cache

int cr__send_email_open(struct cr_store *s, struct cr_clock *clock, int64_t id,
                        const json_t *content, const struct cr_account *a, const char *label,
                        const json_t *options, json_t *campaign, struct cr_err *err)
{
    struct cr_email_opts o = {
        id, label, json_is_true(json_object_get(options, "strict")), clock, campaign, options, 0};
    cache.channel = SEND_EMAIL;
    return cr_email_channel_open(s, content, a, &cache.profile, &o, &cache.email, err);
}

static void on_result(void *data, const struct cr_email_result *r)
{
    cr__send_done(data, r->log_id,
                  r->outcome == CR_EMAIL_SENT   ? SEND_SENT
                  : r->outcome == CR_EMAIL_HARD ? SEND_HARD
                                                : SEND_SOFT,
                  r->code, r->reply, NULL);
}

/* Renders the next claimed row when a connection is free. */
static int produce(void *src, struct cr_email_out *out, struct cr_err *err)
{
    struct send_producer *p = src;
    size_t k;
    int got;
    while ((got = cr__send_next(p, &k, err)) == 1) {
        struct send_outcome_row *o = &p->b->o[k];
        char mid[160];
        struct cr_err e = CR_ERR_INIT;
        cr_buf_init(&p->msgs[k], 0);
        int rc =
            cr_email_render(cache.email, p->row, o->address, o->log_id, 0, &p->msgs[k], mid, &e);
        if (rc) {
            /* a personalisation error is final; a store error (a link not stored) is not */
            cr__send_done(p->b, o->log_id, rc == CR_EIO ? SEND_SOFT : SEND_HARD, 0, cr_err_msg(&e),
                          NULL);
            continue;
        }
        o->outcome = SEND_SOFT; /* until the transport says otherwise */
        o->message_id = cr_xstrdup(mid);
        o->mail_from = cr_xstrdup(cr_email_envelope_from(cache.email));
        out->log_id = o->log_id;
        out->mail_from = o->mail_from;
        out->rcpt = o->address;
        out->data = p->msgs[k].data;
        out->len = p->msgs[k].len;
        return 1;
    }
    return got;
}

int cr__send_email_claimed(struct cr_store *s, struct cr_clock *clock, int64_t id,
                           const int64_t *ids, const int64_t *att, size_t n, struct cr_err *err)
{
    struct send_batch b;
    struct send_producer p;
    cr_email_set_now(cache.email, cr_clock_now(clock)); /* one clock read per step */
    int rc = cr__send_start(&b, &p, s, clock, id, ids, att, n, err);
    if (!rc)
        rc = cr_email_send_stream(cache.email, produce, &p, on_result, &b, err);
    return cr__send_finish(&b, &p, rc, err);
}

/* ---------------------------------------------------------------- proofs */

struct proof_result {
    int sent;
    char error[300];
};

static void on_proof(void *data, const struct cr_email_result *r)
{
    struct proof_result *p = data;
    if (r->outcome == CR_EMAIL_SENT)
        p->sent++;
    else
        snprintf(p->error, sizeof p->error, "%d %s", r->code, r->reply ? r->reply : "");
}

int cr__send_email_proof(struct cr_store *s, struct cr_clock *clock, int64_t id, const char *list,
                         const char *const *row, int *sent, struct cr_err *err)
{
    char ts[CR_TIME_BUFSZ], *addrs = cr_xstrdup(list);
    struct cr_buf msg = CR_BUF_INIT(0);
    int rc = 0;
    cr_time_format_sql(cr_clock_now(clock), ts);
    for (char *save = NULL, *addr = strtok_r(addrs, ", ", &save); addr && !rc;
         addr = strtok_r(NULL, ", ", &save)) {
        char mid[160];
        int64_t log_id;
        struct proof_result pr = {0, ""};
        if ((rc = cr__send_proof_row(s, id, addr, ts, &log_id, err)))
            break;
        if ((rc = cr_email_render(cache.email, row, addr, log_id, 1, &msg, mid, err)))
            break;
        struct cr_email_out o = {log_id, NULL, addr, msg.data, msg.len};
        if ((rc = cr_email_send(cache.email, &o, 1, on_proof, &pr, err)))
            break;
        *sent += pr.sent;
        rc = cr__send_proof_done(s, log_id, addr, pr.sent, pr.error, mid, ts, err);
    }
    cr_buf_release(&msg);
    free(addrs);
    return rc < 0 ? rc : 0;
}
