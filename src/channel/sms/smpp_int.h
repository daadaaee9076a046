/*
 * smpp_int.h - what smpp.c (the session: socket, bind, PDU dispatch, keep-alive) shares with
 *              smpp_send.c (the message window); not for use outside src/channel/sms/
 *
 * smpp.c owns the connection and reads every PDU; a submit_sm_resp (or a generic_nack that is
 * not for one of its own requests) goes to the on_resp hook that smpp_send.c installs for the
 * duration of cr_smpp_send_stream(). A lost connection shows as state CONN_DOWN after a call
 * to cr__smpp_pump(), with the reason in lost[]; smpp_send.c then requeues what had no resp.
 */
#ifndef CR_SMPP_INT_H
#define CR_SMPP_INT_H

#include <stdint.h>

#include "channel/sms/smpp.h"
#include "core/buf.h"

enum conn_state { CONN_DOWN, CONN_BINDING, CONN_BOUND };

struct cr_smpp {
    /* configuration, copied by cr_smpp_new() */
    char host[256];
    int port;
    char system_id[CR_SMPP_SYSTEM_ID_MAX], password[CR_SMPP_PASSWORD_MAX];
    char system_type[CR_SMPP_SYSTEM_TYPE_MAX], source_addr[CR_SMPP_ADDR_MAX];
    uint8_t source_ton, source_npi;
    int transceiver, window;
    double rate;
    int64_t enquire_ms, timeout_ms;

    /* the connection (private to smpp.c) */
    int fd;
    enum conn_state state;
    uint32_t next_seq;        /* last sequence number used, 1..0x7FFFFFFF */
    struct cr_buf out;        /* PDUs queued for writing */
    unsigned char *in;        /* bytes read, not yet framed (CR_SMPP_PDU_MAX) */
    size_t in_len;
    int64_t last_io_ms;       /* last PDU sent or received: the idle clock of enquire_link */
    uint32_t enquire_seq;     /* an enquire_link awaiting its resp, or 0 */
    int64_t enquire_sent_ms;
    uint32_t bind_seq, unbind_seq;
    int64_t bind_status;      /* -1 until the bind_resp (or a generic_nack) arrives */
    int unbound;              /* unbind_resp received */
    char lost[300];           /* why the connection went down */

    /* hooks */
    void (*receipt)(void *data, const char *message_id, enum cr_smpp_state state,
                    const char *err);
    void *receipt_data;
    void (*mo)(void *data, const char *from, const char *text);
    void *mo_data;
    void (*on_resp)(void *ctx, uint32_t seq, uint32_t status, const char *message_id);
    void *resp_ctx;

    /* token bucket for cfg->rate (private to smpp_send.c) */
    double tokens;
    int64_t tokens_ms;
    unsigned ref; /* concatenation reference of the next multi-part message */
};

/* Milliseconds on CLOCK_MONOTONIC (not cr_clock: a virtual clock would stand still). */
int64_t cr__smpp_now_ms(void);

/* Connects and binds (closing any old connection first). Returns 0 with state CONN_BOUND;
 * CR_EIO (connect failed, no answer in time, connection closed) or CR_EPROTO (bind refused),
 * with err naming the host, port and bind command. */
int cr__smpp_open(struct cr_smpp *s, struct cr_err *err);

/* Returns the next sequence number. */
uint32_t cr__smpp_seq(struct cr_smpp *s);

/* Encodes p onto the output queue (written by the next pump). Returns 0, or the encoder's
 * CR_EINVAL / CR_ETOOBIG (nothing queued). */
int cr__smpp_queue(struct cr_smpp *s, const struct cr_smpp_pdu *p, struct cr_err *err);

/* Writes what is queued, waits up to wait_ms for input (less when an enquire_link falls due),
 * and dispatches every complete PDU. On a broken connection, the state becomes CONN_DOWN and
 * lost[] says why. */
void cr__smpp_pump(struct cr_smpp *s, int64_t wait_ms);

/* Closes the connection (no unbind), recording why. */
void cr__smpp_close(struct cr_smpp *s, const char *why);

#endif
