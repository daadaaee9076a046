/*
 * pdu.c - decode SMPP 3.4 PDUs and cut them from a stream (encoding: pdu_encode.c; receipt
 *         texts: receipt.c; no I/O, no session state)
 *
 * Spec: SMPP v3.4 §3.1-3.2, §4.1-4.6, §4.11, §5.1-5.3 (see pdu.h for the PDUs covered).
 * Decoders read only through struct rd, which checks bounds on every read and keeps the first
 * error: a malformed PDU gives CR_EPROTO naming the PDU and field, never an overread. The
 * encoder holds strings to the same maxima, so whatever decodes also encodes
 * (fuzz_smpp_pdu.c holds the two to that).
 *
 * Wire layout; integers are big-endian, "Cn" is a C-Octet String of at most n bytes with its
 * NUL, "n" a fixed field of n bytes:
 *
 *   header (§3.1)   off 0   4  command_length   whole PDU, header included; 16..65536
 *                   off 4   4  command_id
 *                   off 8   4  command_status   0 in requests
 *                   off 12  4  sequence_number
 *   bind_*          C16 system_id, C9 password, C13 system_type, 1 interface_version,
 *                   1 addr_ton, 1 addr_npi, C41 address_range
 *   bind_*_resp     C16 system_id, TLVs         body absent when command_status != 0
 *   submit_sm,      C6 service_type, 1 source_addr_ton, 1 source_addr_npi, C21 source_addr,
 *   deliver_sm      1 dest_addr_ton, 1 dest_addr_npi, C21 destination_addr, 1 esm_class,
 *                   1 protocol_id, 1 priority_flag, C17 schedule_delivery_time,
 *                   C17 validity_period, 1 registered_delivery, 1 replace_if_present_flag,
 *                   1 data_coding, 1 sm_default_msg_id, 1 sm_length,
 *                   sm_length short_message (0..254), TLVs
 *   submit_sm_resp, C65 message_id              body absent when command_status != 0
 *   deliver_sm_resp                             (deliver_sm_resp: some peers send none)
 *   enquire_link, unbind, their _resp, generic_nack: no body
 *   TLV (§5.3.1)    2 tag, 2 length, length bytes of value; unknown tags are skipped
 *
 * Trailing bytes after the mandatory fields are read as TLVs for every PDU that has a body,
 * as SMPP 5.0 peers add TLVs to PDUs that had none in 3.4 (bind, *_resp).
 */
#include "channel/sms/pdu.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- names */

const char *cr_smpp_command_name(uint32_t command_id)
{
    switch (command_id) {
#define XX(name, id, text, supported)                                                              \
    case id:                                                                                       \
        return text;
        CR_SMPP_COMMAND_MAP(XX)
#undef XX
    }
    return "unknown";
}

const char *cr_smpp_status_name(uint32_t status)
{
    switch (status) {
#define XX(name, code, text)                                                                       \
    case code:                                                                                     \
        return "ESME_" #name;
        CR_SMPP_STATUS_MAP(XX)
#undef XX
    }
    return "unknown";
}

const char *cr_smpp_status_text(uint32_t status)
{
    switch (status) {
#define XX(name, code, text)                                                                       \
    case code:                                                                                     \
        return text;
        CR_SMPP_STATUS_MAP(XX)
#undef XX
    }
    return "unknown status";
}

const char *cr_smpp_state_name(int state)
{
    static const char *const names[] = {"NONE",     "ENROUTE", "DELIVERED",
                                        "EXPIRED",  "DELETED", "UNDELIVERABLE",
                                        "ACCEPTED", "UNKNOWN", "REJECTED"};
    if (state >= 0 && (size_t)state < sizeof names / sizeof *names)
        return names[state];
    return "OTHER";
}

/* ---------------------------------------------------------------- reader */

/* A bounded cursor over one PDU (or one TLV value). The first failure is kept in err and
 * turns every later read into a no-op returning 0, so a decoder reads all its fields and
 * checks once. */
struct rd {
    const unsigned char *p, *end;
    int err;
    const char *pdu; /* the command's name, for messages */
    struct cr_err *e;
};

static void rd_fail(struct rd *r, const char *fmt, ...) CR_PRINTF(2, 3);
static void rd_fail(struct rd *r, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    if (r->err)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->err = cr_err_set(r->e, CR_EPROTO, "%s: %s", r->pdu, msg);
}

static size_t rd_left(const struct rd *r)
{
    return (size_t)(r->end - r->p);
}

/* An unsigned big-endian integer of size bytes (1, 2 or 4). */
static uint32_t rd_uint(struct rd *r, size_t size, const char *field)
{
    uint32_t v = 0;
    if (r->err)
        return 0;
    if (rd_left(r) < size) {
        rd_fail(r, "truncated at %s", field);
        return 0;
    }
    for (size_t i = 0; i < size; i++)
        v = v << 8 | r->p[i];
    r->p += size;
    return v;
}

static uint8_t rd_u8(struct rd *r, const char *field)
{
    return (uint8_t)rd_uint(r, 1, field);
}

/* A C-Octet String into dst[max] (max counts the NUL, as the spec does). */
static void rd_cstr(struct rd *r, char *dst, size_t max, const char *field)
{
    size_t left = rd_left(r);
    const unsigned char *nul;
    if (r->err)
        return;
    nul = memchr(r->p, 0, left < max ? left : max);
    if (!nul) {
        if (left < max)
            rd_fail(r, "%s not terminated (the PDU ends first)", field);
        else
            rd_fail(r, "%s longer than %zu characters", field, max - 1);
        return;
    }
    memcpy(dst, r->p, (size_t)(nul - r->p) + 1);
    r->p = nul + 1;
}

/* ---------------------------------------------------------------- TLVs */

static const char *tag_name(unsigned tag)
{
    switch (tag) {
    case CR_SMPP_TAG_RECEIPTED_MESSAGE_ID:
        return "receipted_message_id";
    case CR_SMPP_TAG_SAR_MSG_REF_NUM:
        return "sar_msg_ref_num";
    case CR_SMPP_TAG_SAR_TOTAL_SEGMENTS:
        return "sar_total_segments";
    case CR_SMPP_TAG_SAR_SEGMENT_SEQNUM:
        return "sar_segment_seqnum";
    case CR_SMPP_TAG_SC_INTERFACE_VERSION:
        return "sc_interface_version";
    case CR_SMPP_TAG_NETWORK_ERROR_CODE:
        return "network_error_code";
    case CR_SMPP_TAG_MESSAGE_PAYLOAD:
        return "message_payload";
    case CR_SMPP_TAG_MESSAGE_STATE:
        return "message_state";
    }
    return "?";
}

/* A fixed-size TLV value: its length must be exactly size (§5.3.2 gives one per tag). */
static uint32_t tlv_uint(struct rd *v, size_t size, unsigned tag)
{
    if (rd_left(v) != size) {
        rd_fail(v, "TLV %s has length %zu, expected %zu", tag_name(tag), rd_left(v), size);
        return 0;
    }
    return rd_uint(v, size, tag_name(tag));
}

/* A C-Octet String TLV value. Some SMSCs leave out the NUL in receipted_message_id; the
 * value is then the whole TLV, as long as it fits. A NUL must end the value if present. */
static void tlv_cstr(struct rd *v, char *dst, size_t max, unsigned tag)
{
    size_t len = rd_left(v);
    const unsigned char *nul = memchr(v->p, 0, len);
    if (nul && nul != v->end - 1) {
        rd_fail(v, "TLV %s has bytes after its NUL", tag_name(tag));
        return;
    }
    if (nul)
        len--;
    if (len >= max) {
        rd_fail(v, "TLV %s longer than %zu characters", tag_name(tag), max - 1);
        return;
    }
    memcpy(dst, v->p, len);
    dst[len] = '\0';
}

/* Which PDU's TLVs a loop reads: the ones this codec knows differ per body. */
enum tlv_owner { TLV_NONE, TLV_BIND_RESP, TLV_SM };

static void rd_tlv_one(struct rd *v, unsigned tag, enum tlv_owner owner, struct cr_smpp_pdu *p)
{
    struct cr_smpp_sm *sm = &p->sm;
    if (owner == TLV_BIND_RESP && tag == CR_SMPP_TAG_SC_INTERFACE_VERSION) {
        p->bind_resp.sc_interface_version = (uint8_t)tlv_uint(v, 1, tag);
        p->bind_resp.has_sc_interface_version = 1;
        return;
    }
    if (owner != TLV_SM)
        return;
    switch (tag) {
    case CR_SMPP_TAG_MESSAGE_PAYLOAD:
        sm->message_payload = v->p;
        sm->message_payload_len = rd_left(v);
        sm->tlv |= CR_SMPP_HAS_MESSAGE_PAYLOAD;
        break;
    case CR_SMPP_TAG_SAR_MSG_REF_NUM:
        sm->sar_msg_ref_num = (uint16_t)tlv_uint(v, 2, tag);
        sm->tlv |= CR_SMPP_HAS_SAR_MSG_REF_NUM;
        break;
    case CR_SMPP_TAG_SAR_TOTAL_SEGMENTS:
        sm->sar_total_segments = (uint8_t)tlv_uint(v, 1, tag);
        sm->tlv |= CR_SMPP_HAS_SAR_TOTAL_SEGMENTS;
        break;
    case CR_SMPP_TAG_SAR_SEGMENT_SEQNUM:
        sm->sar_segment_seqnum = (uint8_t)tlv_uint(v, 1, tag);
        sm->tlv |= CR_SMPP_HAS_SAR_SEGMENT_SEQNUM;
        break;
    case CR_SMPP_TAG_RECEIPTED_MESSAGE_ID:
        tlv_cstr(v, sm->receipted_message_id, sizeof sm->receipted_message_id, tag);
        sm->tlv |= CR_SMPP_HAS_RECEIPTED_MESSAGE_ID;
        break;
    case CR_SMPP_TAG_MESSAGE_STATE:
        sm->message_state = (uint8_t)tlv_uint(v, 1, tag);
        sm->tlv |= CR_SMPP_HAS_MESSAGE_STATE;
        break;
    case CR_SMPP_TAG_NETWORK_ERROR_CODE: {
        uint32_t nec = tlv_uint(v, 3, tag);
        sm->network_error_type = (uint8_t)(nec >> 16);
        sm->network_error_code = (uint16_t)nec;
        sm->tlv |= CR_SMPP_HAS_NETWORK_ERROR_CODE;
        break;
    }
    }
}

/* Reads TLVs to the end of the PDU. A repeated tag overwrites the earlier one. */
static void rd_tlvs(struct rd *r, enum tlv_owner owner, struct cr_smpp_pdu *p)
{
    while (!r->err && r->p < r->end) {
        unsigned tag, len;
        struct rd v;
        if (rd_left(r) < 4) {
            rd_fail(r, "truncated TLV header (%zu bytes left)", rd_left(r));
            return;
        }
        tag = rd_uint(r, 2, "TLV tag");
        len = rd_uint(r, 2, "TLV length");
        if (len > rd_left(r)) {
            rd_fail(r, "TLV 0x%04X truncated (length %u, %zu bytes left)", tag, len, rd_left(r));
            return;
        }
        v = (struct rd){r->p, r->p + len, 0, r->pdu, r->e};
        r->p += len;
        rd_tlv_one(&v, tag, owner, p);
        r->err = v.err;
    }
}

/* ---------------------------------------------------------------- decoders */

static void rd_bind(struct rd *r, struct cr_smpp_bind *b)
{
    rd_cstr(r, b->system_id, sizeof b->system_id, "system_id");
    rd_cstr(r, b->password, sizeof b->password, "password");
    rd_cstr(r, b->system_type, sizeof b->system_type, "system_type");
    b->interface_version = rd_u8(r, "interface_version");
    b->addr_ton = rd_u8(r, "addr_ton");
    b->addr_npi = rd_u8(r, "addr_npi");
    rd_cstr(r, b->address_range, sizeof b->address_range, "address_range");
}

static void rd_sm(struct rd *r, struct cr_smpp_sm *sm)
{
    rd_cstr(r, sm->service_type, sizeof sm->service_type, "service_type");
    sm->source_addr_ton = rd_u8(r, "source_addr_ton");
    sm->source_addr_npi = rd_u8(r, "source_addr_npi");
    rd_cstr(r, sm->source_addr, sizeof sm->source_addr, "source_addr");
    sm->dest_addr_ton = rd_u8(r, "dest_addr_ton");
    sm->dest_addr_npi = rd_u8(r, "dest_addr_npi");
    rd_cstr(r, sm->destination_addr, sizeof sm->destination_addr, "destination_addr");
    sm->esm_class = rd_u8(r, "esm_class");
    sm->protocol_id = rd_u8(r, "protocol_id");
    sm->priority_flag = rd_u8(r, "priority_flag");
    rd_cstr(r, sm->schedule_delivery_time, sizeof sm->schedule_delivery_time,
            "schedule_delivery_time");
    rd_cstr(r, sm->validity_period, sizeof sm->validity_period, "validity_period");
    sm->registered_delivery = rd_u8(r, "registered_delivery");
    sm->replace_if_present_flag = rd_u8(r, "replace_if_present_flag");
    sm->data_coding = rd_u8(r, "data_coding");
    sm->sm_default_msg_id = rd_u8(r, "sm_default_msg_id");
    sm->sm_length = rd_u8(r, "sm_length");
    if (r->err)
        return;
    if (sm->sm_length > CR_SMPP_SM_MAX) {
        rd_fail(r, "sm_length %u exceeds %d", sm->sm_length, CR_SMPP_SM_MAX);
        return;
    }
    if (rd_left(r) < sm->sm_length) {
        rd_fail(r, "short_message truncated (sm_length %u, %zu bytes left)", sm->sm_length,
                rd_left(r));
        return;
    }
    memcpy(sm->short_message, r->p, sm->sm_length);
    r->p += sm->sm_length;
}

/* The checks between fields, after the TLVs are read. */
static void rd_sm_check(struct rd *r, const struct cr_smpp_sm *sm)
{
    if ((sm->tlv & CR_SMPP_HAS_MESSAGE_PAYLOAD) && sm->sm_length)
        rd_fail(r, "both short_message and message_payload given (sm_length must be 0)");
}

int cr_smpp_pdu_decode(const unsigned char *b, size_t n, struct cr_smpp_pdu *p, struct cr_err *err)
{
    struct rd r = {b, b + n, 0, "PDU", err};
    uint32_t len;
    memset(p, 0, sizeof *p);
    if (n < CR_SMPP_HEADER_LEN)
        return cr_err_set(err, CR_EPROTO, "PDU truncated: %zu bytes, a header needs 16", n);
    len = rd_uint(&r, 4, "command_length");
    p->command_id = rd_uint(&r, 4, "command_id");
    p->status = rd_uint(&r, 4, "command_status");
    p->seq = rd_uint(&r, 4, "sequence_number");
    r.pdu = cr_smpp_command_name(p->command_id);
    if (strcmp(r.pdu, "unknown") == 0)
        r.pdu = "PDU";
    if (len < CR_SMPP_HEADER_LEN || len > CR_SMPP_PDU_MAX)
        rd_fail(&r, "command_length %u out of range (16..%d)", len, CR_SMPP_PDU_MAX);
    else if (len != n)
        rd_fail(&r, "command_length is %u but %zu bytes given", len, n);
    if (r.err)
        return r.err;

    switch (p->command_id) {
    case CR_SMPP_GENERIC_NACK:
    case CR_SMPP_ENQUIRE_LINK:
    case CR_SMPP_ENQUIRE_LINK_RESP:
    case CR_SMPP_UNBIND:
    case CR_SMPP_UNBIND_RESP:
        if (r.p != r.end)
            rd_fail(&r, "unexpected %zu-byte body (none belongs)", rd_left(&r));
        break;
    case CR_SMPP_BIND_RECEIVER:
    case CR_SMPP_BIND_TRANSMITTER:
    case CR_SMPP_BIND_TRANSCEIVER:
        rd_bind(&r, &p->bind);
        rd_tlvs(&r, TLV_NONE, p);
        break;
    case CR_SMPP_BIND_RECEIVER_RESP:
    case CR_SMPP_BIND_TRANSMITTER_RESP:
    case CR_SMPP_BIND_TRANSCEIVER_RESP:
        if (p->status != CR_ESME_ROK && r.p == r.end)
            break;
        rd_cstr(&r, p->bind_resp.system_id, sizeof p->bind_resp.system_id, "system_id");
        rd_tlvs(&r, TLV_BIND_RESP, p);
        break;
    case CR_SMPP_SUBMIT_SM:
    case CR_SMPP_DELIVER_SM:
        rd_sm(&r, &p->sm);
        rd_tlvs(&r, TLV_SM, p);
        if (!r.err)
            rd_sm_check(&r, &p->sm);
        break;
    case CR_SMPP_SUBMIT_SM_RESP:
    case CR_SMPP_DELIVER_SM_RESP:
        if ((p->status != CR_ESME_ROK || p->command_id == CR_SMPP_DELIVER_SM_RESP) && r.p == r.end)
            break;
        rd_cstr(&r, p->sm_resp.message_id, sizeof p->sm_resp.message_id, "message_id");
        rd_tlvs(&r, TLV_NONE, p);
        break;
    default:
        return cr_err_set(err, CR_EUNSUPPORTED, "unsupported command %s (0x%08X)",
                          cr_smpp_command_name(p->command_id), p->command_id);
    }
    if (r.err) {
        /* keep the header for the caller's nack; drop what was half decoded */
        struct cr_smpp_pdu h = {.command_id = p->command_id, .status = p->status, .seq = p->seq};
        *p = h;
    }
    return r.err;
}

ssize_t cr_smpp_pdu_frame(const unsigned char *b, size_t n)
{
    uint32_t len;
    if (n < 4)
        return 0;
    len = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    if (len < CR_SMPP_HEADER_LEN || len > CR_SMPP_PDU_MAX)
        return CR_EPROTO;
    return n < len ? 0 : (ssize_t)len;
}
