/*
 * smtp.h - the email channel's SMTP transport: many messages over a few reused connections
 *
 * One struct cr_smtp talks to one relay (a URL) over up to cfg->connections parallel
 * connections that stay open between messages and between calls, started at most cfg->rate
 * messages per second. Each message has one envelope recipient, plus an optional archive
 * recipient (bcc) whose refusal does not fail it. Every message gets exactly one outcome:
 * sent, soft failure (retry later) or hard failure (the address is refused). This file does
 * not build messages (mime.c), sign them (dkim.c) or decide about retries and quarantine
 * (delivery/).
 *
 * Ownership: cr_smtp_new() copies what it needs from the config; messages are borrowed for
 * the duration of cr_smtp_send(). A struct cr_smtp is used by one thread at a time, and done()
 * must not call back into the same struct cr_smtp.
 *
 * Spec: RFC 5321 (SMTP), RFC 3207 (STARTTLS), RFC 8314 (implicit TLS), RFC 4954 (AUTH); the
 * protocol itself is libcurl's (multi interface).
 */
#ifndef CR_SMTP_H
#define CR_SMTP_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum cr_smtp_tls {
    CR_SMTP_TLS_NONE,     /* plain smtp:// (AUTH, if any, goes in clear: loopback and tests) */
    CR_SMTP_TLS_STARTTLS, /* smtp:// upgraded with STARTTLS; refusing it fails the message */
    CR_SMTP_TLS_IMPLICIT  /* smtps:// (TLS from the first byte, port 465) */
};

struct cr_smtp_config {
    const char *url;             /* smtp://host:port (implicit TLS: smtps://); no path */
    enum cr_smtp_tls tls;
    const char *user, *password; /* optional AUTH (PLAIN or LOGIN, as the server offers) */
    const char *ca_file;         /* optional: trust this CA (tests); verification always on */
    int connections;             /* parallel connections, reused across messages (0: 4) */
    double rate;                 /* messages per second across all connections, 0 = unlimited */
    long timeout_ms;             /* per message, connection included (0: 60000) */
    const char *helo;            /* optional EHLO name (default: this host's name) */
};

/* One message to one recipient. */
struct cr_smtp_msg {
    int64_t id;            /* caller's id (delivery_log row), copied into the result */
    const char *mail_from; /* envelope sender; "" is the null sender <> */
    const char *rcpt;      /* envelope recipient */
    const char *bcc;       /* optional extra RCPT TO (archiving); its failure is ignored */
    const char *data;      /* the whole message, CRLF line endings, ending with CRLF */
    size_t len;
};

enum cr_smtp_outcome {
    CR_SMTP_SENT, /* the server accepted the message for rcpt (2xx after the data) */
    CR_SMTP_SOFT, /* 4xx anywhere, or a connection, TLS, AUTH or time-out problem: retry later */
    CR_SMTP_HARD  /* 5xx to MAIL FROM, RCPT TO (of rcpt, not bcc) or the data */
};

struct cr_smtp_result {
    int64_t id;
    enum cr_smtp_outcome outcome;
    int code;        /* the deciding SMTP reply code, or 0 when no reply decided (connection) */
    char reply[300]; /* that reply's text after the code ("2.0.0 Ok: queued as 4F2A"), lines
                      * joined by a space, truncated; or curl's error message when code is 0 */
};

struct cr_smtp;

/* Checks the config (URL scheme against tls, connections 1..64, rate >= 0) and prepares the
 * connection pool; connects nothing yet. Returns 0 or CR_EINVAL; *out is set only on success.
 * Calls curl_global_init() once per process. */
int cr_smtp_new(const struct cr_smtp_config *cfg, struct cr_smtp **out, struct cr_err *err)
    CR_WARN_UNUSED;

/* Closes the open connections (QUIT) and frees s. NULL is allowed. */
void cr_smtp_free(struct cr_smtp *s);

/*
 * Sends n messages over up to cfg->connections connections in parallel, reusing the open
 * ones, starting at most cfg->rate messages per second (token bucket on the monotonic clock,
 * shared across calls). Calls done(data, &result) once per message, in the caller's thread,
 * as soon as its outcome is known, in any order.
 *
 * Returns 0 when every message has an outcome (SMTP refusals are outcomes, not errors).
 * Returns CR_EINVAL, before anything is sent and without calling done(), when a message is
 * malformed (no rcpt, CR or LF in an address, a bare CR or LF in data). Returns CR_EIO if
 * libcurl's event loop fails: messages already reported keep their outcome, the others have
 * none and may or may not have been delivered.
 */
int cr_smtp_send(struct cr_smtp *s,
                 const struct cr_smtp_msg *msgs,
                 size_t n,
                 void (*done)(void *data, const struct cr_smtp_result *r),
                 void *data,
                 struct cr_err *err) CR_WARN_UNUSED;

/* As cr_smtp_send, with the messages produced on demand, when a connection is free: next
 * returns 1 and fills *m (whose strings must stay valid until done() reports m->id), 0 when
 * there are no more, or a negative CR_E* (err set) to stop. Lets a caller render a message
 * while others are on the wire. */
int cr_smtp_send_stream(struct cr_smtp *s,
                        int (*next)(void *src, struct cr_smtp_msg *m, struct cr_err *err),
                        void *src, void (*done)(void *data, const struct cr_smtp_result *r),
                        void *data, struct cr_err *err) CR_WARN_UNUSED;
const char *cr_smtp_outcome_name(enum cr_smtp_outcome o); /* "sent", "soft", "hard" */

#endif
