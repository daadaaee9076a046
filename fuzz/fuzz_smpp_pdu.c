/*
 * fuzz_smpp_pdu.c - SMPP PDU decoding (cr_smpp_pdu_decode) and receipt texts on arbitrary bytes
 *
 * The input is one PDU as read from the socket. Properties: framing agrees with decoding (a
 * PDU that decodes is exactly one frame); whatever decodes also encodes, and that encoding
 * decodes to the same fields and encodes to the same bytes again (an oracle: decode and encode
 * must agree on the layout). The same bytes also go through the receipt parser, which must
 * accept or refuse without reading past them, as must the receipt text of a decoded deliver_sm.
 */
#include <string.h>

#include "channel/sms/pdu.h"
#include "channel/sms/receipt.h"
#include "fuzz.h"

static void receipt(const unsigned char *b, size_t n)
{
    struct cr_smpp_receipt r;
    int rc = cr_smpp_receipt_parse((const char *)b, n, &r, NULL);
    if (rc != 0 && rc != CR_ESYNTAX && rc != CR_EPROTO)
        __builtin_trap();
    if (strlen(r.id) >= sizeof r.id || strlen(r.err) >= sizeof r.err)
        __builtin_trap();
    if (r.text.ptr &&
        (r.text.ptr < (const char *)b || r.text.ptr + r.text.len != (const char *)b + n))
        __builtin_trap();
}

/* The fields that the byte comparison below would not catch if both passes dropped them. */
static int same_fields(const struct cr_smpp_pdu *a, const struct cr_smpp_pdu *b)
{
    if (a->command_id != b->command_id || a->status != b->status || a->seq != b->seq)
        return 0;
    if (a->command_id == CR_SMPP_SUBMIT_SM || a->command_id == CR_SMPP_DELIVER_SM) {
        const struct cr_smpp_sm *x = &a->sm, *y = &b->sm;
        if (x->tlv != y->tlv || x->sm_length != y->sm_length ||
            memcmp(x->short_message, y->short_message, x->sm_length) != 0 ||
            strcmp(x->source_addr, y->source_addr) != 0 ||
            strcmp(x->destination_addr, y->destination_addr) != 0 ||
            strcmp(x->receipted_message_id, y->receipted_message_id) != 0)
            return 0;
        if ((x->tlv & CR_SMPP_HAS_MESSAGE_PAYLOAD) &&
            (x->message_payload_len != y->message_payload_len ||
             memcmp(x->message_payload, y->message_payload, x->message_payload_len) != 0))
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cr_smpp_pdu p, q;
    struct cr_buf e1 = CR_BUF_INIT(0), e2 = CR_BUF_INIT(0);
    ssize_t frame = cr_smpp_pdu_frame(data, size);
    int rc;

    receipt(data, size);
    rc = cr_smpp_pdu_decode(data, size, &p, NULL);
    if (rc != 0) {
        if (rc != CR_EPROTO && rc != CR_EUNSUPPORTED)
            __builtin_trap();
        return 0;
    }
    if (frame != (ssize_t)size)
        __builtin_trap();
    if (p.command_id == CR_SMPP_DELIVER_SM) {
        receipt(p.sm.short_message, p.sm.sm_length);
        if (p.sm.tlv & CR_SMPP_HAS_MESSAGE_PAYLOAD)
            receipt(p.sm.message_payload, p.sm.message_payload_len);
    }

    /* Canonical encoding may grow a PDU by a byte (a NUL added to receipted_message_id, a
     * body to an empty deliver_sm_resp): only a PDU at the very limit may then not fit. */
    rc = cr_smpp_pdu_encode(&p, &e1, NULL);
    if (rc == CR_ETOOBIG && size > CR_SMPP_PDU_MAX - 8)
        goto out;
    if (rc != 0)
        __builtin_trap();
    if (cr_smpp_pdu_decode((const unsigned char *)e1.data, e1.len, &q, NULL) != 0)
        __builtin_trap();
    if (!same_fields(&p, &q))
        __builtin_trap();
    if (cr_smpp_pdu_encode(&q, &e2, NULL) != 0)
        __builtin_trap();
    if (e1.len != e2.len || memcmp(e1.data, e2.data, e1.len) != 0)
        __builtin_trap();
out:
    cr_buf_release(&e1);
    cr_buf_release(&e2);
    return 0;
}
