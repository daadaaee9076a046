/*
 * sms.h - the SMS channel: a delivery's text compiled once, rendered per recipient with its
 *         links tracked, and the account's transport (an SMSC over SMPP, or a file sink)
 *
 * The text is a Liquid template over `profile`, `delivery` and `campaign`. When the store
 * has a public URL (crier config set public_url) and the delivery's "tracking" option is not
 * "none", every http(s) URL of the rendered text becomes PUBLIC/c/TOKEN, its link id stored
 * in delivery_url before the message leaves, as in emails (no open tracking: SMS has none).
 *
 * Transports: `smpp` (smpp.h: one session, kept open between batches, receipts and replies
 * reported through the events) and `file` (each message one JSON line appended to
 * DIR/DELIVERY.jsonl, flushed to disk before its outcome is reported; message id
 * "file-LOG"). Ownership: the channel copies what it needs from the account and content.
 */
#ifndef CR_CHANNEL_SMS_H
#define CR_CHANNEL_SMS_H

#include <jansson.h>
#include <stdint.h>

#include "channel/sms/pdu.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "delivery/account.h"
#include "store/schema.h"
#include "store/store.h"

struct cr_sms_channel;

struct cr_sms_opts {
    int64_t delivery_id;
    const char *label;
    int strict;             /* unknown variables are errors */
    struct cr_clock *clock;
    json_t *campaign;       /* bound as `campaign` (borrowed, may be NULL) */
    const json_t *options;  /* the delivery's options (borrowed): "tracking": "none" */
    int render_only;        /* no transport (preparation counts parts) */
};

/* Compiles content ({"text","sender",...}) and, unless render_only, opens the account's
 * transport (connecting nothing yet). profile must outlive the channel. */
int cr_sms_channel_open(struct cr_store *s, const json_t *content, const struct cr_account *acct,
                        const struct cr_schema *profile, const struct cr_sms_opts *o,
                        struct cr_sms_channel **out, struct cr_err *err) CR_WARN_UNUSED;
/* Unbinds (reporting the receipts that arrive meanwhile) and frees. NULL is allowed. */
void cr_sms_channel_close(struct cr_sms_channel *ch);

/* The recipient's text into out (reset first), links tracked for log_id. Personalisation
 * errors are CR_EINVAL; a link that could not be stored is CR_EIO (try again later). */
int cr_sms_render(struct cr_sms_channel *ch, const char *const *row, int64_t log_id,
                  struct cr_buf *out, struct cr_err *err) CR_WARN_UNUSED;

/* The template's sender, or NULL for the account's source address. */
const char *cr_sms_sender(const struct cr_sms_channel *ch);

struct cr_sms_out {
    int64_t log_id;
    const char *to;   /* E.164 with '+' */
    const char *text; /* UTF-8, NUL-terminated */
};
enum cr_sms_outcome { CR_SMS_SENT, CR_SMS_SOFT, CR_SMS_HARD };
struct cr_sms_result {
    int64_t log_id;
    enum cr_sms_outcome outcome;
    uint32_t status;        /* the SMSC's command_status (0 when it did not decide) */
    const char *message_id; /* the SMSC's id of the first part; "" when not sent */
    size_t parts;
    const char *reply;      /* valid during the callback */
};

/* Sends the messages next() produces (1: *m filled, its strings valid until next is called
 * again; 0: no more; negative: stop); done() once per message. Returns 0, or CR_EIO/CR_EPROTO
 * when the SMSC cannot be reached or refuses the bind (nothing reported then), or next()'s
 * error. */
int cr_sms_send_stream(struct cr_sms_channel *ch,
                       int (*next)(void *src, struct cr_sms_out *m, struct cr_err *err),
                       void *src, void (*done)(void *data, const struct cr_sms_result *r),
                       void *data, struct cr_err *err) CR_WARN_UNUSED;

/* What the SMSC sends back on its own: delivery receipts (the id of a part as given at
 * submission, its final state, the receipt's err field or NULL) and mobile-originated
 * messages (a reply like STOP). Both may arrive during any send or poll. */
struct cr_sms_events {
    void (*receipt)(void *data, const char *message_id, enum cr_smpp_state state,
                    const char *err);
    void (*mo)(void *data, const char *from, const char *text);
    void *data;
};
void cr_sms_set_events(struct cr_sms_channel *ch, const struct cr_sms_events *ev);

/* 1 when the transport is an SMPP session worth reading while idle (receipts, replies). */
int cr_sms_listens(const struct cr_sms_channel *ch);
/* Reads the session for up to timeout_ms; 0, or CR_EIO/CR_EPROTO. A file sink returns 0. */
int cr_sms_poll(struct cr_sms_channel *ch, int timeout_ms, struct cr_err *err) CR_WARN_UNUSED;

#endif
