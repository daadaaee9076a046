/*
 * bounce.c - bounce and complaint messages into events (formats and rules: bounce.h): the
 * entry point, the RFC 3464 and RFC 5965 readers, classification
 *
 * Not here: fetching the messages (IMAP, a pipe from the MTA), finding the delivery an event
 * belongs to, suppression policy; nothing touches the store. The MIME walk is in
 * bounce_mime.c, addresses, replies and diagnostics in bounce_value.c, the plain-text formats
 * (Exim, qmail, the heuristic) in bounce_text.c; bounce_int.h says how they fit together.
 *
 * Specs: RFC 3464 (delivery status notifications), RFC 3463 (enhanced status codes), RFC 5965
 * (ARF), RFC 6533 (message/global-delivery-status).
 */
#include "tracking/bounce.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/mem.h"
#include "tracking/bounce_int.h"

/* ================================================================ classification */

static int says_mailbox_full(const char *diag)
{
    size_t n = diag ? strlen(diag) : 0;
    return contains_ci(diag, n, "mailbox full") || contains_ci(diag, n, "mailbox is full") ||
           contains_ci(diag, n, "quota");
}

/* The rules of bounce.h: the enhanced code first, then the reply's text and code, then the
 * format's default. 5.2.2 (mailbox full) and 5.4.7 (delivery time expired) are soft although
 * permanent for that message: the address is good and a later message may well arrive. 5.0.0
 * says no more than "permanent", so the text may still say the mailbox is full. */
enum cr_bounce_type cr__bounce_classify(const char *status, int code, const char *diag,
                                        enum cr_bounce_type dflt)
{
    if (!strcmp(status, "5.0.0") && says_mailbox_full(diag))
        return CR_BOUNCE_SOFT;
    if (status[0] == '5')
        return !strcmp(status, "5.2.2") || !strcmp(status, "5.4.7") ? CR_BOUNCE_SOFT
                                                                    : CR_BOUNCE_HARD;
    if (status[0] == '4')
        return CR_BOUNCE_SOFT;
    if (says_mailbox_full(diag))
        return CR_BOUNCE_SOFT;
    if (code / 100 == 5)
        return CR_BOUNCE_HARD;
    if (code / 100 == 4)
        return CR_BOUNCE_SOFT;
    return dflt;
}

/* ================================================================ events */

/* Adds an event, taking rcpt and diag (either may be NULL); past CR_BOUNCE_MAX_EVENTS they are
 * dropped. */
void cr__bounce_add_event(struct ctx *c, enum cr_bounce_type type, char *rcpt, const char *status,
                          char *diag)
{
    struct cr_bounce *b;
    if (c->out->n == CR_BOUNCE_MAX_EVENTS) {
        free(rcpt);
        free(diag);
        return;
    }
    if (c->out->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 4;
        c->out->v = cr_xrealloc(c->out->v, c->cap * sizeof *c->out->v);
    }
    b = &c->out->v[c->out->n++];
    b->type = type;
    b->recipient = rcpt;
    b->message_id = c->msgid ? cr_xstrdup(c->msgid) : NULL;
    snprintf(b->status, sizeof b->status, "%s", status);
    b->diagnostic = diag;
}

int cr__bounce_has_recipient(const struct ctx *c, const char *addr)
{
    for (size_t i = 0; i < c->out->n; i++)
        if (c->out->v[i].recipient && !strcmp(c->out->v[i].recipient, addr))
            return 1;
    return 0;
}

/* ================================================================ RFC 3464 DSN */

/* A Diagnostic-Code value without its type ("smtp; 550 ..." gives "550 ..."). */
static struct cr_str strip_diag_type(struct cr_str v)
{
    const char *p = v.ptr, *end = v.ptr + v.len, *q, *r;
    while (p < end && is_space(*p))
        p++;
    for (q = p; q < end && q - p < 32 && (is_alnum(*q) || *q == '-' || *q == '_'); q++)
        ;
    for (r = q; r < end && is_wsp(*r); r++)
        ;
    if (q > p && r < end && *r == ';')
        p = r + 1;
    return (struct cr_str){p, (size_t)(end - p)};
}

struct dsn_count {
    size_t recipients, delayed, other; /* per-recipient blocks; those not "failed" */
};

/* One event per per-recipient block whose Action is "failed" (RFC 3464 §2.3). Blocks are
 * field groups separated by blank lines; the first normally holds the per-message fields, but
 * any group with a recipient or an Action counts, for MTAs that leave out the blank line. */
static void read_dsn(struct ctx *c, struct cr_str dsn, struct dsn_count *k)
{
    struct lines ls = lines_of(dsn);
    struct field f;
    if (!c->msgid) { /* Exchange and Gmail say it among the per-message fields */
        while (cr__bounce_next_field(&ls, &f))
            if (cr_str_ieq(f.name, "x-original-message-id")) {
                c->msgid = cr__bounce_norm_msgid(f.value);
                break;
            }
        ls = lines_of(dsn);
    }
    while (ls.p < ls.end) {
        struct cr_str fr = {0}, orc = {0}, act = {0}, st = {0}, dc = {0}, d;
        char action[16], status[16] = "", *rcpt, *diag;
        struct reply rp = {0, "", 0};
        while (cr__bounce_next_field(&ls, &f)) {
            struct cr_str *slot = cr_str_ieq(f.name, "final-recipient")      ? &fr
                                  : cr_str_ieq(f.name, "original-recipient") ? &orc
                                  : cr_str_ieq(f.name, "action")             ? &act
                                  : cr_str_ieq(f.name, "status")             ? &st
                                  : cr_str_ieq(f.name, "diagnostic-code")    ? &dc
                                                                             : NULL;
            if (slot && !slot->ptr)
                *slot = f.value;
        }
        if (!fr.ptr && !orc.ptr && !act.ptr)
            continue;
        k->recipients++;
        cr__bounce_unfold(act, action, sizeof action, NULL);
        action[strcspn(action, " (;")] = '\0';
        if (strcasecmp(action, "failed") != 0) {
            if (!strcasecmp(action, "delayed"))
                k->delayed++;
            else
                k->other++;
            continue;
        }
        rcpt = fr.ptr ? cr__bounce_dsn_addr(fr) : NULL;
        if (!rcpt && orc.ptr)
            rcpt = cr__bounce_dsn_addr(orc);
        if (st.ptr) {
            d = trim(st);
            cr__bounce_scan_enhanced(d.ptr, d.ptr + d.len, 1, status);
        }
        diag = dc.ptr ? cr__bounce_make_diag(strip_diag_type(dc), 1) : NULL;
        if (diag)
            cr__bounce_find_reply((struct cr_str){diag, strlen(diag)}, &rp);
        /* a generic Status ("5.0.0", Exim's) gives way to the reply's code of the same class */
        if (status[0] && !strcmp(status + 1, ".0.0") && rp.status[0] == status[0])
            status[0] = '\0';
        cr__bounce_add_event(
            c, cr__bounce_classify(status[0] ? status : rp.status, rp.code, diag, CR_BOUNCE_HARD),
            rcpt, status[0] ? status : rp.status, diag);
    }
}

/* ================================================================ RFC 5965 ARF */

/* One complaint: the recipient from Original-Rcpt-To, else the original's To. */
static void read_arf(struct ctx *c, struct cr_str arf, struct cr_str orig_head)
{
    struct lines ls = lines_of(arf);
    struct field f;
    struct cr_str type = {0}, rcpt_to = {0}, to;
    char *rcpt = NULL;
    while (ls.p < ls.end)
        while (cr__bounce_next_field(&ls, &f)) {
            if (!type.ptr && cr_str_ieq(f.name, "feedback-type"))
                type = f.value;
            else if (!rcpt_to.ptr && cr_str_ieq(f.name, "original-rcpt-to"))
                rcpt_to = f.value;
        }
    if (rcpt_to.ptr)
        rcpt = cr__bounce_first_addr(rcpt_to);
    if (!rcpt && cr__bounce_field_get(orig_head, "to", &to))
        rcpt = cr__bounce_first_addr(to);
    cr__bounce_add_event(c, CR_BOUNCE_COMPLAINT, rcpt, "",
                         type.ptr ? cr__bounce_make_diag(type, 1) : NULL);
}

/* ================================================================ entry point */

/* Tries the formats in the order of bounce.h: the structured reports here, then the plain-text
 * formats on the readable text (text/plain, else text/html). */
static int read_report(struct ctx *c, struct walk *w, struct cr_str head, struct cr_err *err)
{
    struct cr_bounce_report *out = c->out;
    struct cr_str v, ohead, obody, text;
    if (w->has_orig) {
        cr__bounce_split_message((struct cr_str){w->orig.data, w->orig.len}, &ohead, &obody);
        if (cr__bounce_field_get(ohead, "message-id", &v))
            c->msgid = cr__bounce_norm_msgid(v);
    } else {
        ohead = (struct cr_str){"", 0};
    }
    if (w->has_dsn) {
        struct dsn_count k = {0, 0, 0};
        read_dsn(c, (struct cr_str){w->dsn.data, w->dsn.len}, &k);
        out->format = "dsn";
        if (out->n)
            return 0;
        if (k.recipients)
            return cr_err_set(err, CR_EINVAL,
                              "delivery status notification reports no failed recipient "
                              "(%zu delayed, %zu delivered, relayed or expanded)",
                              k.delayed, k.other);
    }
    if (w->has_arf) {
        read_arf(c, (struct cr_str){w->arf.data, w->arf.len}, ohead);
        out->format = "arf";
        return 0;
    }
    text = w->text.len ? (struct cr_str){w->text.data, w->text.len}
                       : (struct cr_str){w->html.data, w->html.len};
    return cr__bounce_read_text(c, head, text, err);
}

int cr_bounce_parse(const char *msg, size_t len, struct cr_bounce_report *out, struct cr_err *err)
{
    struct cr_str head, body;
    struct walk w;
    struct ctx c = {out, 0, NULL};
    int rc;
    memset(out, 0, sizeof *out);
    cr__bounce_walk_init(&w);
    cr__bounce_split_message((struct cr_str){msg ? msg : "", msg ? len : 0}, &head, &body);
    cr__bounce_walk(&w, head, body);
    rc = read_report(&c, &w, head, err);
    cr__bounce_walk_release(&w);
    free(c.msgid);
    if (rc)
        cr_bounce_report_release(out);
    return rc;
}

void cr_bounce_report_release(struct cr_bounce_report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].recipient);
        free(r->v[i].message_id);
        free(r->v[i].diagnostic);
    }
    free(r->v);
    memset(r, 0, sizeof *r);
}

const char *cr_bounce_type_name(enum cr_bounce_type t)
{
    switch (t) {
    case CR_BOUNCE_HARD:
        return "hard";
    case CR_BOUNCE_SOFT:
        return "soft";
    case CR_BOUNCE_COMPLAINT:
        return "complaint";
    }
    return "?";
}
