/*
 * smpp.h - the SMS channel's SMPP transport: one ESME session to one SMSC, messages in, outcomes
 *          and delivery receipts out
 *
 * One struct cr_smpp is one TCP connection to one SMSC, bound as a transceiver (receipts come
 * back on the same connection) or a transmitter. It connects and binds on first use, keeps a
 * window of submit_sm awaiting their submit_sm_resp, backs off when the SMSC throttles,
 * answers the SMSC's enquire_link and deliver_sm, and reconnects after a drop, resubmitting
 * what had no answer. Every message gets exactly one outcome: sent (every part accepted), soft
 * failure (retry later) or hard failure (the destination is refused). Plain sockets and
 * poll(2), no threads. This file does not choose the account, store outcomes, or decide about
 * retries later on (delivery/); text encoding is gsm.h, PDUs pdu.h, receipt texts receipt.h.
 *
 * Ownership: cr_smpp_new() copies what it needs from the config. A message's strings are
 * borrowed until next() is called again (they are encoded at once). Strings in a result or a
 * receipt callback live for the duration of the callback. A struct cr_smpp is used by one thread
 * at a time, and no callback may call back into the same struct cr_smpp.
 *
 * Spec: SMPP v3.4 §2.3-2.4 (sessions and binding), §2.8 (enquire_link), §4.4 (submit_sm),
 * §4.6 (deliver_sm), §5.2.12 (esm_class), §5.2.17 (registered_delivery), Appendix B (receipts).
 */
#ifndef CR_SMPP_H
#define CR_SMPP_H

#include <stddef.h>
#include <stdint.h>

#include "channel/sms/pdu.h"
#include "core/err.h"

struct cr_smpp_config {
    const char *host;        /* SMSC host name or address */
    int port;                /* 1..65535 */
    const char *system_id;   /* at most 15 characters */
    const char *password;    /* at most 8 characters; may be NULL ("") */
    const char *system_type; /* optional, at most 12 characters */
    const char *source_addr; /* default sender (a message's from overrides it) */
    int source_ton, source_npi; /* TON/NPI of source_addr (e.g. 5/0 alphanumeric, 1/1 E.164) */
    int transceiver;         /* 1: bind_transceiver (receipts arrive here); 0: bind_transmitter */
    int window;              /* submit_sm awaiting their resp at once, 1..1000 (0: 10) */
    double rate;             /* submit_sm per second (each part counts), 0 = unlimited */
    int enquire_secs;        /* enquire_link after this many idle seconds (0: 30) */
    int timeout_secs;        /* connect, bind, and each resp or enquire_link_resp (0: 30) */
};

/* One text message to one recipient. */
struct cr_smpp_msg {
    int64_t id;       /* caller's id, copied into the result */
    const char *to;   /* E.164 with '+': "+4915112345678" (sent as TON 1, NPI 1, without '+') */
    const char *from; /* NULL: the config's source_addr; "+digits" is sent as TON 1, NPI 1,
                       * anything else with the config's source_ton/npi */
    const char *text; /* UTF-8; GSM 7-bit or UCS-2, split into concatenated parts (gsm.h) */
};

enum cr_smpp_outcome {
    CR_SMPP_SENT, /* every part's submit_sm_resp was ESME_ROK */
    CR_SMPP_SOFT, /* throttled too often, a temporary SMSC error, or the connection failed */
    CR_SMPP_HARD  /* the destination (or the message itself) was refused: do not retry */
};

struct cr_smpp_result {
    int64_t id;
    enum cr_smpp_outcome outcome;
    uint32_t status;        /* the deciding command_status (ESME_ROK when sent; 0 when no
                             * resp decided: connection failure or a message crier refused) */
    const char *message_id; /* the SMSC's id for the first part; "" if it was not accepted */
    size_t nparts;          /* parts of the message */
    const char (*part_ids)[CR_SMPP_MESSAGE_ID_MAX]; /* each part's id ("" if not accepted) */
    const char *reply;      /* "ESME_RINVDSTADR (invalid destination address)", or the
                             * connection problem, or "ok" */
};

struct cr_smpp;

/* Checks the config (host, port, system_id and strings against SMPP's maxima, window, rate,
 * TON/NPI 0..255) and copies it; connects nothing yet. Returns 0 or CR_EINVAL naming the
 * field; *out is set only on success. */
int cr_smpp_new(const struct cr_smpp_config *cfg, struct cr_smpp **out, struct cr_err *err)
    CR_WARN_UNUSED;

/* When bound, sends unbind and waits up to 2 s for unbind_resp (answering deliver_sm meanwhile,
 * so receipts still reach the handler); then closes and frees. NULL is allowed. */
void cr_smpp_free(struct cr_smpp *s);

/* Delivery receipts (deliver_sm with esm_class receipt bits) are answered with deliver_sm_resp
 * and reported here, during any call that reads the connection: message_id is the SMSC's id
 * of a part (receipted_message_id TLV, else the text's id: field), state its final state
 * (message_state TLV, else the text's stat:), err the text's err: field or NULL. With a
 * handler set, submit_sm asks for receipts (registered_delivery 1); without one it does not.
 * Other deliver_sm (mobile-originated messages) go to the MO handler. */
void cr_smpp_set_receipt_handler(struct cr_smpp *s,
                                 void (*receipt)(void *data, const char *message_id,
                                                 enum cr_smpp_state state, const char *err),
                                 void *data);

/* Mobile-originated messages (a reply such as "STOP"): from is the sender's number as sent
 * (with '+' when its TON is international), text its UTF-8 text (after any UDH; a part of a
 * concatenated reply is reported alone). Without a handler they are acknowledged and dropped;
 * a text that does not decode is dropped with a warning. */
void cr_smpp_set_mo_handler(struct cr_smpp *s,
                            void (*mo)(void *data, const char *from, const char *text),
                            void *data);

/*
 * Sends messages produced on demand: next returns 1 and fills *m, 0 when there are no more, or
 * a negative CR_E* (err set) to stop. Connects and binds first if needed. Calls done(data,
 * &result) once per message, as soon as its outcome is known (in order of completion).
 *
 * Throttling (ESME_RTHROTTLED, ESME_RMSGQFUL) pauses all submissions for 200 ms, doubling to
 * 5 s while it lasts, and resubmits the same part; after 10 tries a message is SOFT. A dropped
 * connection is reopened (3 tries, 1 s apart) and every part without a resp is resubmitted
 * (an SMSC that lost the resp may then hold that part twice; one that sent it did not). A
 * message is SENT only when each part's resp said ESME_ROK.
 *
 * Returns 0 when every message has an outcome (refusals are outcomes, not errors). Returns
 * CR_EIO or CR_EPROTO (err says which peer and step) without calling done() when the first
 * connect or bind fails, e.g. "SMPP bind_transceiver to 127.0.0.1:2775 refused:
 * ESME_RINVPASWD (invalid password)". If the connection is lost for good later, the messages
 * in progress are reported SOFT and CR_EIO is returned; messages not yet taken from next()
 * have no outcome. When next() fails, the messages in flight are finished first and its
 * error is returned.
 */
int cr_smpp_send_stream(struct cr_smpp *s,
                        int (*next)(void *src, struct cr_smpp_msg *m, struct cr_err *err),
                        void *src, void (*done)(void *data, const struct cr_smpp_result *r),
                        void *data, struct cr_err *err) CR_WARN_UNUSED;

/* Reads the connection for timeout_ms (connecting and binding first if needed): answers the
 * SMSC's requests and reports receipts; a transmitter bind receives none. Returns 0, or
 * CR_EIO / CR_EPROTO as cr_smpp_send_stream() does for its connection. */
int cr_smpp_poll(struct cr_smpp *s, int timeout_ms, struct cr_err *err) CR_WARN_UNUSED;

const char *cr_smpp_outcome_name(enum cr_smpp_outcome o); /* "sent", "soft", "hard" */

#endif
