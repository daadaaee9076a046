/*
 * receipt.h - read an SMSC delivery receipt from the text of a deliver_sm
 *
 * SMPP 3.4 Appendix B suggests, and most SMSCs send, a short_message (or message_payload) like
 *   id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD
 *   err:E text:...
 * The format is informal, so the parser forgives: keys in any case and order, missing fields,
 * "submit_date"/"submitdate" spellings, full-word states ("DELIVERED"), seconds in dates. It
 * does not decide which id to trust: a deliver_sm may also carry the receipted_message_id and
 * message_state TLVs (pdu.h), which the caller should prefer when present. Ids are kept as
 * text: some SMSCs write in decimal here what they gave in hex in submit_sm_resp, and only
 * the caller's configuration can say so.
 *
 * Ownership: the struct is filled by copy, except text, which points into the parsed bytes.
 */
#ifndef CR_SMPP_RECEIPT_H
#define CR_SMPP_RECEIPT_H

#include <stddef.h>

#include "channel/sms/pdu.h"
#include "core/buf.h"
#include "core/err.h"

struct cr_smpp_receipt {
    char id[CR_SMPP_MESSAGE_ID_MAX]; /* as sent (hex or decimal, untouched); "" if none */
    int stat;                        /* enum cr_smpp_state; CR_SMPP_STATE_NONE if no stat */
    char stat_text[16];              /* the stat value as sent (cut to 15), for logs */
    char err[16];                    /* the err value as sent ("000"), "" if none */
    int err_code;                    /* err as a decimal number, -1 if absent or not one */
    char sub[8], dlvrd[8];           /* as sent ("001"), "" if none */
    char submit_date[16];            /* YYMMDDhhmm[ss] as sent, "" if none */
    char done_date[16];
    struct cr_str text; /* the text: field to the end; ptr NULL if none */
};

/*
 * Parses n bytes of receipt text (no NUL needed; NUL bytes count as spaces). Fields before
 * "text:" are read in any order, the first of a repeated key wins, unknown keys are skipped;
 * "text:" takes the rest of the input, so a message text cannot pose as a field. Values other
 * than id longer than their arrays are cut.
 * Returns 0 when an id or a stat field was found; CR_ESYNTAX when neither was (not a
 * receipt); CR_EPROTO when the id is longer than 64 characters (r->id is then ""). r
 * is filled in every case.
 */
int cr_smpp_receipt_parse(const char *text, size_t n, struct cr_smpp_receipt *r,
                          struct cr_err *err) CR_WARN_UNUSED;

#endif
