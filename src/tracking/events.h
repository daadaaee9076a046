/*
 * events.h - what recipients and mailboxes tell us, applied to the store
 *
 * Unsubscribing opts the profile out of the delivery's channel and logs it; withdrawing
 * tracking consent clears profile.tracking_consent. A bounce or complaint (from a DSN, the
 * webhook, or a mailbox) is matched to the message it answers by Message-ID, else to the
 * latest message sent to that address: a hard bounce fails that recipient and quarantines
 * the address; a soft one fails it and counts an error against the address, which is
 * quarantined at the bounce.soft_limit-th (default 3); a complaint opts the profile out.
 * Proofs are never acted on.
 */
#ifndef CR_TRACKING_EVENTS_H
#define CR_TRACKING_EVENTS_H

#include <stdint.h>

#include "core/clock.h"
#include "core/err.h"
#include "store/store.h"

struct cr_recipient {
    int64_t delivery, log, profile;
    int proof;
    char channel[16];
};

/* The recipient a token names: CR_ENOTFOUND when its row is gone or not of that delivery. */
int cr_track_recipient(struct cr_store *s, int64_t delivery, int64_t log, struct cr_recipient *r,
                       struct cr_err *err) CR_WARN_UNUSED;
int cr_track_unsubscribe(struct cr_store *s, struct cr_clock *clock, const struct cr_recipient *r,
                         const char *user_agent, const char *ip,
                         struct cr_err *err) CR_WARN_UNUSED;
int cr_track_withdraw_consent(struct cr_store *s, const struct cr_recipient *r,
                              struct cr_err *err) CR_WARN_UNUSED;

enum cr_mail_event_type { CR_EVENT_HARD, CR_EVENT_SOFT, CR_EVENT_COMPLAINT };
struct cr_mail_event {
    enum cr_mail_event_type type;
    const char *recipient, *message_id; /* either may be NULL, not both */
    const char *status, *diagnostic;    /* may be NULL */
};
struct cr_mail_event_result {
    int64_t delivery, log; /* 0 when unmatched */
    const char *action;    /* static: "quarantined", "soft_error", "opted_out", "unmatched",
                              "proof" */
};
/* Applies one event in its own transaction. */
int cr_track_mail_event(struct cr_store *s, struct cr_clock *clock, const struct cr_mail_event *ev,
                        struct cr_mail_event_result *res, struct cr_err *err) CR_WARN_UNUSED;

#endif
