/*
 * pdu.h - SMPP 3.4 PDUs as C structs: encode, decode, and find PDU boundaries in a stream
 *
 * Covers what an ESME (crier) sends and receives: bind_transmitter/receiver/transceiver and
 * their responses, submit_sm, deliver_sm and their responses, enquire_link, unbind and their
 * responses, and generic_nack. No I/O and no session state (sequence numbers, windows, timers
 * and throttling belong to the session); no text conversion (gsm.c); delivery receipt texts
 * are parsed in receipt.c.
 *
 * Ownership: decoded strings are copied into the fixed arrays below, sized by the spec's
 * maxima, so a decoded struct needs no allocation and no release. The one exception is
 * sm.message_payload, which points into the bytes given to cr_smpp_pdu_decode() and lives as
 * long as they do. For encoding, the caller fills the struct; message_payload is borrowed for
 * the call.
 *
 * Strings: every char array holds a NUL-terminated C-Octet String; its size is the spec's
 * maximum *including* the NUL (system_id 16 means at most 15 characters), for both directions.
 *
 * Spec: SMPP v3.4 (issue 1.2), §2.2.1 and §3.1 (header), §3.2 (field types), §4.1 (bind),
 * §4.2-4.3 (unbind, generic_nack), §4.4 (submit_sm), §4.6 (deliver_sm), §4.11 (enquire_link),
 * §5.1.2-5.1.3 (command ids and status codes), §5.3 (optional parameters, TLVs).
 */
#ifndef CR_SMPP_PDU_H
#define CR_SMPP_PDU_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/err.h"

#define CR_SMPP_HEADER_LEN 16
#define CR_SMPP_PDU_MAX 65536 /* command_length above this is refused (both directions) */
#define CR_SMPP_VERSION 0x34  /* interface_version */

/* Sizes of C-Octet String fields, NUL included (SMPP 3.4 §4). */
#define CR_SMPP_SYSTEM_ID_MAX 16
#define CR_SMPP_PASSWORD_MAX 9
#define CR_SMPP_SYSTEM_TYPE_MAX 13
#define CR_SMPP_ADDRESS_RANGE_MAX 41
#define CR_SMPP_SERVICE_TYPE_MAX 6
#define CR_SMPP_ADDR_MAX 21 /* source_addr, destination_addr */
#define CR_SMPP_TIME_MAX 17 /* schedule_delivery_time, validity_period: "" or 16 characters */
#define CR_SMPP_MESSAGE_ID_MAX 65
#define CR_SMPP_SM_MAX 254 /* short_message octets (sm_length) */

/* command_id values (§5.1.2). Decoding supports those marked "yes"; the others have names
 * for logs, and cr_smpp_pdu_decode() refuses them with CR_EUNSUPPORTED. */
#define CR_SMPP_COMMAND_MAP(XX)                                                                    \
    XX(GENERIC_NACK, 0x80000000u, "generic_nack", yes)                                             \
    XX(BIND_RECEIVER, 0x00000001u, "bind_receiver", yes)                                           \
    XX(BIND_RECEIVER_RESP, 0x80000001u, "bind_receiver_resp", yes)                                 \
    XX(BIND_TRANSMITTER, 0x00000002u, "bind_transmitter", yes)                                     \
    XX(BIND_TRANSMITTER_RESP, 0x80000002u, "bind_transmitter_resp", yes)                           \
    XX(QUERY_SM, 0x00000003u, "query_sm", no)                                                      \
    XX(QUERY_SM_RESP, 0x80000003u, "query_sm_resp", no)                                            \
    XX(SUBMIT_SM, 0x00000004u, "submit_sm", yes)                                                   \
    XX(SUBMIT_SM_RESP, 0x80000004u, "submit_sm_resp", yes)                                         \
    XX(DELIVER_SM, 0x00000005u, "deliver_sm", yes)                                                 \
    XX(DELIVER_SM_RESP, 0x80000005u, "deliver_sm_resp", yes)                                       \
    XX(UNBIND, 0x00000006u, "unbind", yes)                                                         \
    XX(UNBIND_RESP, 0x80000006u, "unbind_resp", yes)                                               \
    XX(REPLACE_SM, 0x00000007u, "replace_sm", no)                                                  \
    XX(REPLACE_SM_RESP, 0x80000007u, "replace_sm_resp", no)                                        \
    XX(CANCEL_SM, 0x00000008u, "cancel_sm", no)                                                    \
    XX(CANCEL_SM_RESP, 0x80000008u, "cancel_sm_resp", no)                                          \
    XX(BIND_TRANSCEIVER, 0x00000009u, "bind_transceiver", yes)                                     \
    XX(BIND_TRANSCEIVER_RESP, 0x80000009u, "bind_transceiver_resp", yes)                           \
    XX(OUTBIND, 0x0000000Bu, "outbind", no)                                                        \
    XX(ENQUIRE_LINK, 0x00000015u, "enquire_link", yes)                                             \
    XX(ENQUIRE_LINK_RESP, 0x80000015u, "enquire_link_resp", yes)                                   \
    XX(SUBMIT_MULTI, 0x00000021u, "submit_multi", no)                                              \
    XX(SUBMIT_MULTI_RESP, 0x80000021u, "submit_multi_resp", no)                                    \
    XX(ALERT_NOTIFICATION, 0x00000102u, "alert_notification", no)                                  \
    XX(DATA_SM, 0x00000103u, "data_sm", no)                                                        \
    XX(DATA_SM_RESP, 0x80000103u, "data_sm_resp", no)

enum cr_smpp_command {
#define XX(name, id, text, supported) CR_SMPP_##name = id,
    CR_SMPP_COMMAND_MAP(XX)
#undef XX
};
#define CR_SMPP_RESP_BIT 0x80000000u
#define CR_SMPP_RESP(command_id) ((uint32_t)(command_id) | CR_SMPP_RESP_BIT)

/* command_status values (§5.1.3). */
#define CR_SMPP_STATUS_MAP(XX)                                                                     \
    XX(ROK, 0x00, "no error")                                                                      \
    XX(RINVMSGLEN, 0x01, "message length is invalid")                                              \
    XX(RINVCMDLEN, 0x02, "command length is invalid")                                              \
    XX(RINVCMDID, 0x03, "invalid command id")                                                      \
    XX(RINVBNDSTS, 0x04, "incorrect bind status for given command")                                \
    XX(RALYBND, 0x05, "ESME already in bound state")                                               \
    XX(RINVPRTFLG, 0x06, "invalid priority flag")                                                  \
    XX(RINVREGDLVFLG, 0x07, "invalid registered delivery flag")                                    \
    XX(RSYSERR, 0x08, "system error")                                                              \
    XX(RINVSRCADR, 0x0A, "invalid source address")                                                 \
    XX(RINVDSTADR, 0x0B, "invalid destination address")                                            \
    XX(RINVMSGID, 0x0C, "message id is invalid")                                                   \
    XX(RBINDFAIL, 0x0D, "bind failed")                                                             \
    XX(RINVPASWD, 0x0E, "invalid password")                                                        \
    XX(RINVSYSID, 0x0F, "invalid system id")                                                       \
    XX(RCANCELFAIL, 0x11, "cancel_sm failed")                                                      \
    XX(RREPLACEFAIL, 0x13, "replace_sm failed")                                                    \
    XX(RMSGQFUL, 0x14, "message queue full")                                                       \
    XX(RINVSERTYP, 0x15, "invalid service type")                                                   \
    XX(RINVNUMDESTS, 0x33, "invalid number of destinations")                                       \
    XX(RINVDLNAME, 0x34, "invalid distribution list name")                                         \
    XX(RINVDESTFLAG, 0x40, "invalid destination flag")                                             \
    XX(RINVSUBREP, 0x42, "invalid submit with replace request")                                    \
    XX(RINVESMCLASS, 0x43, "invalid esm_class field data")                                         \
    XX(RCNTSUBDL, 0x44, "cannot submit to distribution list")                                      \
    XX(RSUBMITFAIL, 0x45, "submit_sm or submit_multi failed")                                      \
    XX(RINVSRCTON, 0x48, "invalid source address TON")                                             \
    XX(RINVSRCNPI, 0x49, "invalid source address NPI")                                             \
    XX(RINVDSTTON, 0x50, "invalid destination address TON")                                        \
    XX(RINVDSTNPI, 0x51, "invalid destination address NPI")                                        \
    XX(RINVSYSTYP, 0x53, "invalid system_type field")                                              \
    XX(RINVREPFLAG, 0x54, "invalid replace_if_present flag")                                       \
    XX(RINVNUMMSGS, 0x55, "invalid number of messages")                                            \
    XX(RTHROTTLED, 0x58, "throttling error (ESME exceeded allowed message limits)")                \
    XX(RINVSCHED, 0x61, "invalid scheduled delivery time")                                         \
    XX(RINVEXPIRY, 0x62, "invalid message validity period")                                        \
    XX(RINVDFTMSGID, 0x63, "predefined message invalid or not found")                              \
    XX(RX_T_APPN, 0x64, "ESME receiver temporary app error")                                       \
    XX(RX_P_APPN, 0x65, "ESME receiver permanent app error")                                       \
    XX(RX_R_APPN, 0x66, "ESME receiver reject message error")                                      \
    XX(RQUERYFAIL, 0x67, "query_sm request failed")                                                \
    XX(RINVOPTPARSTREAM, 0xC0, "error in the optional part of the PDU body")                       \
    XX(ROPTPARNOTALLWD, 0xC1, "optional parameter not allowed")                                    \
    XX(RINVPARLEN, 0xC2, "invalid parameter length")                                               \
    XX(RMISSINGOPTPARAM, 0xC3, "expected optional parameter missing")                              \
    XX(RINVOPTPARAMVAL, 0xC4, "invalid optional parameter value")                                  \
    XX(RDELIVERYFAILURE, 0xFE, "delivery failure")                                                 \
    XX(RUNKNOWNERR, 0xFF, "unknown error")

enum cr_smpp_status {
#define XX(name, code, text) CR_ESME_##name = code,
    CR_SMPP_STATUS_MAP(XX)
#undef XX
};

/* "submit_sm"; "unknown" for an id outside the table. */
const char *cr_smpp_command_name(uint32_t command_id);
/* "ESME_RTHROTTLED"; "unknown" for a code outside the table (log it with the number). */
const char *cr_smpp_status_name(uint32_t status);
/* "throttling error (...)": the spec's description; "unknown status" outside the table. */
const char *cr_smpp_status_text(uint32_t status);

/* esm_class (§5.2.12) and registered_delivery (§5.2.17) bits the ESME uses. */
#define CR_SMPP_ESM_TYPE_MASK 0x3C       /* message type bits of a deliver_sm */
#define CR_SMPP_ESM_SMSC_RECEIPT 0x04    /* deliver_sm carries a delivery receipt */
#define CR_SMPP_ESM_UDHI 0x40            /* short_message starts with a user data header */
#define CR_SMPP_REG_RECEIPT_FINAL 0x01   /* receipt on final outcome, success or failure */
#define CR_SMPP_REG_RECEIPT_FAILURE 0x02 /* receipt on failure only */

/* Optional parameter tags (§5.3.2) this codec reads and writes; others are skipped. */
#define CR_SMPP_TAG_RECEIPTED_MESSAGE_ID 0x001E
#define CR_SMPP_TAG_SAR_MSG_REF_NUM 0x020C
#define CR_SMPP_TAG_SAR_TOTAL_SEGMENTS 0x020E
#define CR_SMPP_TAG_SAR_SEGMENT_SEQNUM 0x020F
#define CR_SMPP_TAG_SC_INTERFACE_VERSION 0x0210
#define CR_SMPP_TAG_NETWORK_ERROR_CODE 0x0423
#define CR_SMPP_TAG_MESSAGE_PAYLOAD 0x0424
#define CR_SMPP_TAG_MESSAGE_STATE 0x0427

/* Bits of struct cr_smpp_sm.tlv: which optional parameters are present. */
enum {
    CR_SMPP_HAS_MESSAGE_PAYLOAD = 1 << 0,
    CR_SMPP_HAS_SAR_MSG_REF_NUM = 1 << 1,
    CR_SMPP_HAS_SAR_TOTAL_SEGMENTS = 1 << 2,
    CR_SMPP_HAS_SAR_SEGMENT_SEQNUM = 1 << 3,
    CR_SMPP_HAS_RECEIPTED_MESSAGE_ID = 1 << 4,
    CR_SMPP_HAS_MESSAGE_STATE = 1 << 5,
    CR_SMPP_HAS_NETWORK_ERROR_CODE = 1 << 6,
};

/* message_state values (§5.2.28), also what a receipt's stat: text maps to (receipt.h).
 * NONE and OTHER are crier's: no state given, and a state text no table knows. */
enum cr_smpp_state {
    CR_SMPP_STATE_NONE = 0,
    CR_SMPP_STATE_ENROUTE = 1,
    CR_SMPP_STATE_DELIVERED = 2,
    CR_SMPP_STATE_EXPIRED = 3,
    CR_SMPP_STATE_DELETED = 4,
    CR_SMPP_STATE_UNDELIVERABLE = 5,
    CR_SMPP_STATE_ACCEPTED = 6,
    CR_SMPP_STATE_UNKNOWN = 7,
    CR_SMPP_STATE_REJECTED = 8,
    CR_SMPP_STATE_OTHER = 255,
};
/* "DELIVERED", ..., "NONE", "OTHER" (also for values outside the enum). */
const char *cr_smpp_state_name(int state);

/* bind_transmitter, bind_receiver, bind_transceiver (§4.1.1, §4.1.3, §4.1.5). */
struct cr_smpp_bind {
    char system_id[CR_SMPP_SYSTEM_ID_MAX];
    char password[CR_SMPP_PASSWORD_MAX];
    char system_type[CR_SMPP_SYSTEM_TYPE_MAX];
    uint8_t interface_version; /* CR_SMPP_VERSION */
    uint8_t addr_ton, addr_npi;
    char address_range[CR_SMPP_ADDRESS_RANGE_MAX];
};

/* bind_*_resp (§4.1.2, §4.1.4, §4.1.6). The body is absent when status is not ESME_ROK:
 * decoding accepts it either way, encoding leaves it out. */
struct cr_smpp_bind_resp {
    char system_id[CR_SMPP_SYSTEM_ID_MAX];
    int has_sc_interface_version;
    uint8_t sc_interface_version; /* TLV 0x0210: the SMSC's SMPP version */
};

/* submit_sm (§4.4.1) and deliver_sm (§4.6.1): one body layout, fields in wire order. */
struct cr_smpp_sm {
    char service_type[CR_SMPP_SERVICE_TYPE_MAX];
    uint8_t source_addr_ton, source_addr_npi;
    char source_addr[CR_SMPP_ADDR_MAX];
    uint8_t dest_addr_ton, dest_addr_npi;
    char destination_addr[CR_SMPP_ADDR_MAX];
    uint8_t esm_class, protocol_id, priority_flag;
    char schedule_delivery_time[CR_SMPP_TIME_MAX]; /* "" in deliver_sm */
    char validity_period[CR_SMPP_TIME_MAX];        /* "" in deliver_sm */
    uint8_t registered_delivery, replace_if_present_flag, data_coding, sm_default_msg_id;
    uint8_t sm_length;                               /* 0..CR_SMPP_SM_MAX */
    unsigned char short_message[CR_SMPP_SM_MAX + 1]; /* decoded: NUL after sm_length bytes */

    /* Optional parameters: present when their CR_SMPP_HAS_* bit is set in tlv. */
    unsigned tlv;
    const unsigned char *message_payload; /* borrowed; sm_length must then be 0 (§5.3.2.32) */
    size_t message_payload_len;           /* at most 65535 */
    uint16_t sar_msg_ref_num;
    uint8_t sar_total_segments, sar_segment_seqnum;
    char receipted_message_id[CR_SMPP_MESSAGE_ID_MAX]; /* the id from submit_sm_resp */
    uint8_t message_state;                             /* enum cr_smpp_state */
    uint8_t network_error_type;                        /* 1 ANSI-136, 2 IS-95, 3 GSM, ... */
    uint16_t network_error_code;
};

/* submit_sm_resp (§4.4.2) and deliver_sm_resp (§4.6.2; message_id unused, ""). The body of
 * a submit_sm_resp is absent when status is not ESME_ROK: decoding accepts it either way,
 * encoding leaves it out. A deliver_sm_resp is always encoded with its body and decoded with
 * or without it (some ESMEs send a bare header). */
struct cr_smpp_sm_resp {
    char message_id[CR_SMPP_MESSAGE_ID_MAX];
};

/* One PDU. Requests carry status 0. generic_nack, enquire_link(_resp) and unbind(_resp)
 * have no body, so only the header fields matter for them. */
struct cr_smpp_pdu {
    uint32_t command_id; /* enum cr_smpp_command */
    uint32_t status;     /* command_status: enum cr_smpp_status */
    uint32_t seq;        /* sequence_number: 1..0x7FFFFFFF from the requester, echoed */
    union {
        struct cr_smpp_bind bind;           /* bind_transmitter/receiver/transceiver */
        struct cr_smpp_bind_resp bind_resp; /* bind_*_resp */
        struct cr_smpp_sm sm;               /* submit_sm, deliver_sm */
        struct cr_smpp_sm_resp sm_resp;     /* submit_sm_resp, deliver_sm_resp */
    };
};

/*
 * Appends the wire form of p to out (command_length is computed). Returns 0, CR_EINVAL
 * (naming the field) when a string does not fit its maximum, sm_length exceeds 254, both
 * short_message and message_payload are given, or the command is not one this codec
 * encodes; CR_ETOOBIG when the PDU would exceed CR_SMPP_PDU_MAX or out's limit.
 * On error, out keeps its former length (a CR_ETOOBIG from out's limit stays in out->err).
 */
int cr_smpp_pdu_encode(const struct cr_smpp_pdu *p, struct cr_buf *out,
                       struct cr_err *err) CR_WARN_UNUSED;

/*
 * Decodes one whole PDU: b holds exactly n bytes and n must equal its command_length (use
 * cr_smpp_pdu_frame() to cut a stream). p is zeroed first. Returns 0; CR_EUNSUPPORTED for a
 * command_id this codec does not decode (answer generic_nack, ESME_RINVCMDID); CR_EPROTO for
 * anything malformed, with a message naming the PDU and the field (a string longer than its
 * maximum or unterminated, a truncated field or TLV, a body where none belongs, bytes left
 * over). Unknown TLVs are skipped. Whenever n >= 16, p->command_id, status and seq hold the
 * header even on error, so the caller can answer with the right sequence number.
 */
int cr_smpp_pdu_decode(const unsigned char *b, size_t n, struct cr_smpp_pdu *p,
                       struct cr_err *err) CR_WARN_UNUSED;

/*
 * Framing for a byte stream: b holds the n bytes received so far. Returns the length of the
 * first PDU when all of it is in b; 0 when more bytes are needed (fewer than 4, or fewer than
 * command_length); CR_EPROTO when command_length is below 16 or above CR_SMPP_PDU_MAX (the
 * stream cannot be resynchronised: close the session).
 */
ssize_t cr_smpp_pdu_frame(const unsigned char *b, size_t n);

#endif
