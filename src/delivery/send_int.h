/*
 * send_int.h - what the sending loop (send.c) shares with its channels (send_email.c,
 *              send_sms.c)
 *
 * send.c claims batches of recipients, reads their rows, records outcomes and ends
 * deliveries; a channel renders each claimed row, hands it to its transport and reports
 * each outcome into the batch (cr__send_done), which records them FLUSH at a time.
 */
#ifndef CR_DELIVERY_SEND_INT_H
#define CR_DELIVERY_SEND_INT_H

#include <jansson.h>
#include <stdint.h>

#include "channel/email/email.h"
#include "channel/push/push.h"
#include "channel/push/transport.h"
#include "channel/sms/sms.h"
#include "core/buf.h"
#include "core/strmap.h"
#include "delivery/delivery_int.h"
#include "store/schema.h"

enum send_channel { SEND_EMAIL, SEND_SMS, SEND_PUSH };
enum send_outcome { SEND_SENT, SEND_SOFT, SEND_HARD };

/* The channel of the delivery being sent stays open between batches (its SMTP connections
 * or SMPP session are reused); one per process, the engine being single-threaded. */
struct send_cache {
    int64_t delivery_id, account_id;
    enum send_channel channel;
    struct cr_email_channel *email;
    struct cr_sms_channel *sms;
    struct cr_push_msgs *push;
    struct cr_push_transport *push_transport; /* or, for a file sink: */
    char *push_file;
    struct cr_schema profile;
    cr_time_t validity_end;
    char *started; /* the delivery's started_at when opened: a new start reopens */
};
extern struct send_cache cr__send_cache;

struct send_outcome_row {
    int64_t log_id;
    enum send_outcome outcome;
    int code;          /* SMTP reply code, or SMPP command_status */
    char *reply;
    char *message_id;
    char *address;
    char *mail_from;   /* email: the envelope sender of this recipient's message */
    int64_t attempts;
    int done, recorded;
    int lost; /* its claim was taken over by another process: not ours to send */
};

struct send_batch {
    struct send_outcome_row *o;
    size_t n, cap, unrecorded, low; /* low: no unrecorded outcome below it */
    struct cr_strmap where;          /* log id -> index in o */
    struct cr_stmt *up;              /* the outcome UPDATE, prepared once per batch */
    struct cr_store *s;
    struct cr_clock *clock;
    int rc;
    struct cr_err *err;
    /* after each recorded flush (sms: apply the receipts that arrived), may be NULL */
    int (*after_record)(struct cr_store *s, struct cr_clock *clock, struct cr_err *err);
};

/* The claimed rows, read before they are sent, and claimed further from inside the sending
 * loop so the transport never idles between batches. */
struct send_producer {
    struct send_batch *b;
    char **cells; /* b->cap rows of ncols column texts (owned; NULL = SQL NULL) */
    size_t ncols, i;
    struct cr_buf *msgs; /* per row: the rendered message */
    const char **row;
    struct cr_store *s;
    struct cr_clock *clock;
    int64_t id;
    int batches;
    cr_time_t renewed; /* when the claims' lease was last renewed */
};

/* The claim owner of this process ("host:pid"). */
const char *cr__send_me(void);
/* Sets up b and p for delivery id and reads the first claimed rows. */
int cr__send_start(struct send_batch *b, struct send_producer *p, struct cr_store *s,
                   struct cr_clock *clock, int64_t id, const int64_t *ids, const int64_t *att,
                   size_t n, struct cr_err *err);
/* The index of the next row to send (its profile columns in p->row), claiming the next
 * batch when these run out: 1 and *k, 0 when there are no more, or an error. */
int cr__send_next(struct send_producer *p, size_t *k, struct cr_err *err);
/* Reports row log_id's outcome (once; later reports are ignored); records every FLUSH. */
void cr__send_done(struct send_batch *b, int64_t log_id, enum send_outcome outcome, int code,
                   const char *reply, const char *message_id);
/* Records what is known and frees b and p. rc: the sending's result so far. */
int cr__send_finish(struct send_batch *b, struct send_producer *p, int rc, struct cr_err *err);

int cr__send_email_open(struct cr_store *s, struct cr_clock *clock, int64_t id,
                        const json_t *content, const struct cr_account *a, const char *label,
                        const json_t *options, json_t *campaign, struct cr_err *err);
int cr__send_email_claimed(struct cr_store *s, struct cr_clock *clock, int64_t id,
                           const int64_t *ids, const int64_t *att, size_t n, struct cr_err *err);
int cr__send_sms_open(struct cr_store *s, struct cr_clock *clock, int64_t id,
                      const json_t *content, const struct cr_account *a, const char *label,
                      const json_t *options, json_t *campaign, struct cr_err *err);
int cr__send_sms_claimed(struct cr_store *s, struct cr_clock *clock, int64_t id,
                         const int64_t *ids, const int64_t *att, size_t n, struct cr_err *err);
/* Applies the receipts and replies that arrived (sms). */
int cr__send_sms_events(struct cr_store *s, struct cr_clock *clock, struct cr_err *err);
/* Drops what the SMS events buffer holds (the channel is closing). */
void cr__send_sms_forget(void);

int cr__send_push_open(struct cr_store *s, struct cr_clock *clock, int64_t id,
                       const json_t *content, const struct cr_account *a, const char *label,
                       const json_t *options, json_t *campaign, struct cr_err *err);
int cr__send_push_claimed(struct cr_store *s, struct cr_clock *clock, int64_t id,
                          const int64_t *ids, const int64_t *att, size_t n, struct cr_err *err);
/* Drops the unregistered tokens not yet applied (the channel is closing). */
void cr__send_push_forget(void);
int cr__send_push_proof(struct cr_store *s, struct cr_clock *clock, int64_t id,
                        const char *list, const char *const *row, int *sent, struct cr_err *err);

/* A proof's log row to addr (flagged, never counted): *log_id. */
int cr__send_proof_row(struct cr_store *s, int64_t id, const char *addr, const char *ts,
                       int64_t *log_id, struct cr_err *err);
/* Its outcome recorded; a proof not sent is an error naming to and why. */
int cr__send_proof_done(struct cr_store *s, int64_t log_id, const char *to, int sent,
                        const char *why, const char *message_id, const char *ts,
                        struct cr_err *err);

int cr__send_email_proof(struct cr_store *s, struct cr_clock *clock, int64_t id,
                         const char *list, const char *const *row, int *sent,
                         struct cr_err *err);
int cr__send_sms_proof(struct cr_store *s, struct cr_clock *clock, int64_t id,
                       const char *list, const char *const *row, int *sent, struct cr_err *err);

#endif
