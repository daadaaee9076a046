/*
 * pdu_encode.c - write SMPP 3.4 PDUs from struct cr_smpp_pdu (the wire layout is in pdu.c)
 *
 * Strings are held to the same maxima the decoder applies, and TLVs go out in one fixed
 * order, so the encoding is canonical: decode(encode(p)) gives p back, and whatever
 * pdu.c decodes encodes again (fuzz_smpp_pdu.c checks both). No I/O.
 */
#include "channel/sms/pdu.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- writer */

/* Appends to a cr_buf and keeps the first failure, like struct rd in pdu.c. */
struct wr {
    struct cr_buf *b;
    int err;
    const char *pdu;
    struct cr_err *e;
};

static void wr_fail(struct wr *w, int code, const char *fmt, ...) CR_PRINTF(3, 4);
static void wr_fail(struct wr *w, int code, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    if (w->err)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    w->err = cr_err_set(w->e, code, "%s: %s", w->pdu, msg);
}

static void wr_uint(struct wr *w, uint32_t v, size_t size)
{
    unsigned char tmp[4];
    for (size_t i = 0; i < size; i++)
        tmp[i] = (unsigned char)(v >> 8 * (size - 1 - i));
    if (!w->err && cr_buf_append(w->b, tmp, size))
        wr_fail(w, CR_ETOOBIG, "output buffer limit reached");
}

static void wr_bytes(struct wr *w, const void *p, size_t n)
{
    if (!w->err && n && cr_buf_append(w->b, p, n))
        wr_fail(w, CR_ETOOBIG, "output buffer limit reached");
}

/* A C-Octet String from s, which must fit max bytes with its NUL. */
static void wr_cstr(struct wr *w, const char *s, size_t max, const char *field)
{
    size_t n = strnlen(s, max);
    if (n == max) {
        wr_fail(w, CR_EINVAL, "%s longer than %zu characters", field, max - 1);
        return;
    }
    wr_bytes(w, s, n + 1);
}

static void wr_tlv_uint(struct wr *w, unsigned tag, uint32_t v, size_t size)
{
    wr_uint(w, tag, 2);
    wr_uint(w, (uint32_t)size, 2);
    wr_uint(w, v, size);
}

/* ---------------------------------------------------------------- encoders */

static void wr_bind(struct wr *w, const struct cr_smpp_bind *b)
{
    wr_cstr(w, b->system_id, sizeof b->system_id, "system_id");
    wr_cstr(w, b->password, sizeof b->password, "password");
    wr_cstr(w, b->system_type, sizeof b->system_type, "system_type");
    wr_uint(w, b->interface_version, 1);
    wr_uint(w, b->addr_ton, 1);
    wr_uint(w, b->addr_npi, 1);
    wr_cstr(w, b->address_range, sizeof b->address_range, "address_range");
}

static void wr_sm(struct wr *w, const struct cr_smpp_sm *sm)
{
    if (sm->sm_length > CR_SMPP_SM_MAX)
        wr_fail(w, CR_EINVAL, "sm_length %u exceeds %d", sm->sm_length, CR_SMPP_SM_MAX);
    if ((sm->tlv & CR_SMPP_HAS_MESSAGE_PAYLOAD) && sm->sm_length)
        wr_fail(w, CR_EINVAL, "both short_message and message_payload given");
    if ((sm->tlv & CR_SMPP_HAS_MESSAGE_PAYLOAD) && sm->message_payload_len > 0xFFFF)
        wr_fail(w, CR_ETOOBIG, "message_payload of %zu bytes exceeds 65535",
                sm->message_payload_len);
    wr_cstr(w, sm->service_type, sizeof sm->service_type, "service_type");
    wr_uint(w, sm->source_addr_ton, 1);
    wr_uint(w, sm->source_addr_npi, 1);
    wr_cstr(w, sm->source_addr, sizeof sm->source_addr, "source_addr");
    wr_uint(w, sm->dest_addr_ton, 1);
    wr_uint(w, sm->dest_addr_npi, 1);
    wr_cstr(w, sm->destination_addr, sizeof sm->destination_addr, "destination_addr");
    wr_uint(w, sm->esm_class, 1);
    wr_uint(w, sm->protocol_id, 1);
    wr_uint(w, sm->priority_flag, 1);
    wr_cstr(w, sm->schedule_delivery_time, sizeof sm->schedule_delivery_time,
            "schedule_delivery_time");
    wr_cstr(w, sm->validity_period, sizeof sm->validity_period, "validity_period");
    wr_uint(w, sm->registered_delivery, 1);
    wr_uint(w, sm->replace_if_present_flag, 1);
    wr_uint(w, sm->data_coding, 1);
    wr_uint(w, sm->sm_default_msg_id, 1);
    wr_uint(w, sm->sm_length, 1);
    wr_bytes(w, sm->short_message, sm->sm_length);

    /* TLVs in one fixed order, so encoding is canonical */
    if (sm->tlv & CR_SMPP_HAS_SAR_MSG_REF_NUM)
        wr_tlv_uint(w, CR_SMPP_TAG_SAR_MSG_REF_NUM, sm->sar_msg_ref_num, 2);
    if (sm->tlv & CR_SMPP_HAS_SAR_TOTAL_SEGMENTS)
        wr_tlv_uint(w, CR_SMPP_TAG_SAR_TOTAL_SEGMENTS, sm->sar_total_segments, 1);
    if (sm->tlv & CR_SMPP_HAS_SAR_SEGMENT_SEQNUM)
        wr_tlv_uint(w, CR_SMPP_TAG_SAR_SEGMENT_SEQNUM, sm->sar_segment_seqnum, 1);
    if (sm->tlv & CR_SMPP_HAS_MESSAGE_PAYLOAD) {
        wr_uint(w, CR_SMPP_TAG_MESSAGE_PAYLOAD, 2);
        wr_uint(w, (uint32_t)sm->message_payload_len, 2);
        wr_bytes(w, sm->message_payload, sm->message_payload_len);
    }
    if (sm->tlv & CR_SMPP_HAS_RECEIPTED_MESSAGE_ID) {
        size_t n = strnlen(sm->receipted_message_id, sizeof sm->receipted_message_id);
        wr_uint(w, CR_SMPP_TAG_RECEIPTED_MESSAGE_ID, 2);
        wr_uint(w, (uint32_t)(n + 1), 2);
        wr_cstr(w, sm->receipted_message_id, sizeof sm->receipted_message_id,
                "receipted_message_id");
    }
    if (sm->tlv & CR_SMPP_HAS_MESSAGE_STATE)
        wr_tlv_uint(w, CR_SMPP_TAG_MESSAGE_STATE, sm->message_state, 1);
    if (sm->tlv & CR_SMPP_HAS_NETWORK_ERROR_CODE)
        wr_tlv_uint(w, CR_SMPP_TAG_NETWORK_ERROR_CODE,
                    (uint32_t)sm->network_error_type << 16 | sm->network_error_code, 3);
}

int cr_smpp_pdu_encode(const struct cr_smpp_pdu *p, struct cr_buf *out, struct cr_err *err)
{
    struct wr w = {out, 0, cr_smpp_command_name(p->command_id), err};
    size_t start = out->len, len;
    if (out->err)
        return cr_err_set(err, out->err, "%s: output buffer already failed", w.pdu);
    wr_uint(&w, 0, 4); /* command_length, patched below */
    wr_uint(&w, p->command_id, 4);
    wr_uint(&w, p->status, 4);
    wr_uint(&w, p->seq, 4);
    switch (p->command_id) {
    case CR_SMPP_GENERIC_NACK:
    case CR_SMPP_ENQUIRE_LINK:
    case CR_SMPP_ENQUIRE_LINK_RESP:
    case CR_SMPP_UNBIND:
    case CR_SMPP_UNBIND_RESP:
        break;
    case CR_SMPP_BIND_RECEIVER:
    case CR_SMPP_BIND_TRANSMITTER:
    case CR_SMPP_BIND_TRANSCEIVER:
        wr_bind(&w, &p->bind);
        break;
    case CR_SMPP_BIND_RECEIVER_RESP:
    case CR_SMPP_BIND_TRANSMITTER_RESP:
    case CR_SMPP_BIND_TRANSCEIVER_RESP:
        if (p->status != CR_ESME_ROK)
            break; /* §4.1.2: no body with an error status */
        wr_cstr(&w, p->bind_resp.system_id, sizeof p->bind_resp.system_id, "system_id");
        if (p->bind_resp.has_sc_interface_version)
            wr_tlv_uint(&w, CR_SMPP_TAG_SC_INTERFACE_VERSION, p->bind_resp.sc_interface_version, 1);
        break;
    case CR_SMPP_SUBMIT_SM:
    case CR_SMPP_DELIVER_SM:
        wr_sm(&w, &p->sm);
        break;
    case CR_SMPP_SUBMIT_SM_RESP:
    case CR_SMPP_DELIVER_SM_RESP:
        if (p->status != CR_ESME_ROK && p->command_id == CR_SMPP_SUBMIT_SM_RESP)
            break; /* §4.4.2: no body with an error status */
        wr_cstr(&w, p->sm_resp.message_id, sizeof p->sm_resp.message_id, "message_id");
        break;
    default:
        wr_fail(&w, CR_EINVAL, "cannot encode command 0x%08X", p->command_id);
    }
    len = out->len - start;
    if (!w.err && len > CR_SMPP_PDU_MAX)
        wr_fail(&w, CR_ETOOBIG, "PDU of %zu bytes exceeds %d", len, CR_SMPP_PDU_MAX);
    if (w.err) {
        cr_buf_truncate(out, start);
        return w.err;
    }
    for (int i = 0; i < 4; i++)
        out->data[start + (size_t)i] = (char)(len >> 8 * (3 - i));
    return 0;
}
