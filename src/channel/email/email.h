/*
 * email.h - the email channel: a delivery's templates compiled once, a message rendered per
 * recipient (MIME, DKIM), and the account's transport (SMTP, or .eml files in a pickup
 * folder)
 */
#ifndef CR_CHANNEL_EMAIL_H
#define CR_CHANNEL_EMAIL_H

#include <jansson.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "delivery/account.h"
#include "store/schema.h"
#include "store/store.h"

struct cr_email_channel;

struct cr_email_opts {
    int64_t delivery_id;
    const char *label;
    int strict;  /* unknown variables are errors (personalisation errors) */
    struct cr_clock *clock;
    json_t *campaign; /* bound as `campaign` (borrowed, may be NULL): {"name","label"} */
    /* the delivery's options (borrowed, may be NULL); read: "tracking": "all" (the
     * default) | "no_opens" | "none" */
    const json_t *options;
    int render_only; /* no transport: the mirror page */
};

/* Compiles content (an email template's JSON) and opens the account's transport. profile
 * gives the columns the recipient's row will have (borrowed; must outlive the channel). */
int cr_email_channel_open(struct cr_store *s, const json_t *content,
                          const struct cr_account *acct, const struct cr_schema *profile,
                          const struct cr_email_opts *o, struct cr_email_channel **out,
                          struct cr_err *err) CR_WARN_UNUSED;
void cr_email_channel_close(struct cr_email_channel *ch);

/* Renders the message for one recipient: row holds the profile's column texts (in the
 * schema's order), to the address. proof marks the subject. message_id receives the id
 * (at least 160 bytes). Personalisation errors are CR_EINVAL with err naming the field. */
int cr_email_render(struct cr_email_channel *ch, const char *const *row, const char *to,
                    int64_t log_id, int proof, struct cr_buf *msg, char *message_id,
                    struct cr_err *err) CR_WARN_UNUSED;

/* The HTML a recipient's message shows (its text part as <pre> without HTML), its links
 * tracked as in the message, without the open pixel: the mirror page. */
int cr_email_render_page(struct cr_email_channel *ch, const char *const *row, int64_t log_id,
                         struct cr_buf *out, struct cr_err *err) CR_WARN_UNUSED;

struct cr_email_out {
    int64_t log_id;
    const char *mail_from; /* envelope sender; NULL: that of the last message rendered */
    const char *rcpt;
    const char *data;
    size_t len;
};
enum cr_email_outcome { CR_EMAIL_SENT, CR_EMAIL_SOFT, CR_EMAIL_HARD };
struct cr_email_result {
    int64_t log_id;
    enum cr_email_outcome outcome;
    int code;
    const char *reply; /* valid during the callback */
};
/* Sends n rendered messages through the account's transport; done() once per message. */
int cr_email_send(struct cr_email_channel *ch, const struct cr_email_out *msgs, size_t n,
                  void (*done)(void *data, const struct cr_email_result *r), void *data,
                  struct cr_err *err) CR_WARN_UNUSED;

/* As cr_email_send, the messages produced on demand by next (1: *out filled, its strings
 * valid until done() reports it; 0: no more; negative: stop with err set), so rendering
 * overlaps with sending. */
int cr_email_send_stream(struct cr_email_channel *ch,
                         int (*next)(void *src, struct cr_email_out *out, struct cr_err *err),
                         void *src, void (*done)(void *data, const struct cr_email_result *r),
                         void *data, struct cr_err *err) CR_WARN_UNUSED;

/* The envelope sender of the message rendered last (the address of its From), valid until
 * the next render. */
const char *cr_email_envelope_from(struct cr_email_channel *ch);
/* Fixes the Date of the messages rendered from now on (a batch reads the clock once);
 * 0 goes back to reading the clock per message. */
void cr_email_set_now(struct cr_email_channel *ch, cr_time_t now);

/* The address part of "Name <a@b>" (or the text itself), copied into out. */
int cr_email_addr_spec(const char *from, struct cr_buf *out);

#endif
