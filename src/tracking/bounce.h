/*
 * bounce.h - reading the bounces and complaints that come back for sent messages
 *
 * cr_bounce_parse() turns one returned message into events: which recipient failed, hard or
 * soft, or complained, and which of our messages it was about. It is a pure parser: it does not
 * look the recipient or the message up in the store, and it decides nothing about suppression.
 *
 * Formats, tried in this order (report->format names the one that answered):
 *   "dsn"       RFC 3464 delivery status notifications (multipart/report with a
 *               message/delivery-status part, RFC 6533 message/global-delivery-status too);
 *               one event per recipient whose Action is "failed". A DSN whose recipients were
 *               all delayed, delivered, relayed or expanded gives no event (CR_EINVAL).
 *   "arf"       RFC 5965 feedback reports (message/feedback-report part): one complaint.
 *   "exim"      Exim's plain-text bounce (X-Failed-Recipients, "This message was created
 *               automatically by mail delivery software").
 *   "qmail"     qmail-send's bounce ("Hi. This is the qmail-send program").
 *   "heuristic" anything else that looks like a bounce (From mailer-daemon or postmaster, or a
 *               Subject such as "Undeliverable" or "failure notice"): the first SMTP reply in
 *               its text and the address nearest to it; one event.
 *
 * The original's Message-ID comes from the enclosed message/rfc822 or text/rfc822-headers part,
 * else from a DSN's X-Original-Message-ID (Gmail, Exchange), else, in a plain-text bounce, from
 * the first Message-ID field of the copy that follows the report.
 *
 * Classification (see cr__bounce_classify() in bounce.c):
 *   - an enhanced status code (RFC 3463) decides: 4.x.x soft, 5.x.x hard, except 5.2.2
 *     (mailbox full) and 5.4.7 (delivery time expired), which are soft because the address
 *     itself is fine. A DSN's Status wins over the code in its Diagnostic-Code, unless it is
 *     the generic x.0.0 and the diagnostic has a code of the same class; 5.0.0 with text
 *     saying the mailbox is full is soft;
 *   - else the SMTP reply: text saying "mailbox full", "mailbox is full" or "quota" is soft,
 *     then 5xx hard and 4xx soft;
 *   - else the format's default: a DSN "failed", Exim and qmail are permanent failures (hard).
 *
 * Limits: at most CR_BOUNCE_MAX_EVENTS events (the rest are dropped), MIME multiparts nested at
 * most CR_BOUNCE_MAX_DEPTH deep (deeper parts are not looked at), diagnostics at most
 * CR_BOUNCE_MAX_DIAG bytes. Work is linear in the size of the message.
 *
 * Ownership: cr_bounce_parse borrows msg. The report owns every string in it;
 * cr_bounce_report_release() frees them. Strings are valid UTF-8 without control characters.
 */
#ifndef CR_TRACKING_BOUNCE_H
#define CR_TRACKING_BOUNCE_H

#include <stddef.h>

#include "core/err.h"

#define CR_BOUNCE_MAX_EVENTS 1000
#define CR_BOUNCE_MAX_DEPTH 8
#define CR_BOUNCE_MAX_DIAG 1000

enum cr_bounce_type { CR_BOUNCE_HARD, CR_BOUNCE_SOFT, CR_BOUNCE_COMPLAINT };

struct cr_bounce {
    enum cr_bounce_type type;
    char *recipient;  /* the failed (or complaining) address, without <>, domain lower-cased;
                       * NULL if unknown */
    char *message_id; /* Message-ID of the original message, without <>; NULL if not found */
    char status[16];  /* enhanced status code such as "5.1.1" (RFC 3463); "" when none */
    char *diagnostic; /* the remote server's reply or the MTA's reason, one line of at most
                       * CR_BOUNCE_MAX_DIAG bytes (a DSN's "smtp;" type removed); for a
                       * complaint, the ARF Feedback-Type ("abuse"); NULL if none */
};

struct cr_bounce_report {
    struct cr_bounce *v;
    size_t n;
    const char *format; /* static: "dsn", "arf", "exim", "qmail", "heuristic"; NULL if empty */
};

/* Parses msg, a whole RFC 5322 message (headers and body, len bytes, no NUL needed, CRLF, LF or
 * CR line endings). Returns 0 with at least one event in *out, or CR_EINVAL with err saying why
 * when msg is not a bounce or complaint crier can read, or reports no failure (a delay notice).
 * On error *out is empty, and releasing it is harmless. */
int cr_bounce_parse(const char *msg, size_t len, struct cr_bounce_report *out,
                    struct cr_err *err) CR_WARN_UNUSED;
/* Frees the events and empties r. */
void cr_bounce_report_release(struct cr_bounce_report *r);
/* "hard", "soft" or "complaint". */
const char *cr_bounce_type_name(enum cr_bounce_type t);

#endif
