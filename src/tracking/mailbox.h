/*
 * mailbox.h - reading, and emptying, a bounce mailbox over POP3 or IMAP (libcurl)
 *
 * Each message is handed to a callback that says whether to delete it. POP3 deletions take
 * effect when the session ends (QUIT); IMAP ones are flagged \Deleted then expunged. With
 * plain pop3:// or imap:// the session upgrades to TLS when the server offers STARTTLS;
 * pop3s:// and imaps:// are TLS from the start; certificates are always verified.
 * Not here: parsing bounces (bounce.h) or applying them (events.h).
 */
#ifndef CR_TRACKING_MAILBOX_H
#define CR_TRACKING_MAILBOX_H

#include <stddef.h>

#include "core/err.h"

struct cr_mailbox_opts {
    const char *url; /* pop3[s]://host[:port]/ or imap[s]://host[:port]/MAILBOX (default INBOX) */
    const char *user, *password;
    const char *ca_file; /* extra trusted CA, may be NULL */
    int max;             /* messages per poll; 0: up to 10,000 */
};

/* fn: 1 to delete the message, 0 to keep it, negative to stop (that error is returned).
 * *seen receives the number of messages read. */
int cr_mailbox_poll(const struct cr_mailbox_opts *o,
                    int (*fn)(void *data, const char *msg, size_t len), void *data, size_t *seen,
                    struct cr_err *err) CR_WARN_UNUSED;

#endif
