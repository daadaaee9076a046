/*
 * gsm.h - SMS text: choose the alphabet, split into parts, and decode received text
 *
 * Spec: 3GPP TS 23.038 §6.2.1 (GSM 7-bit default alphabet and its extension table), §6.1.2.1.1
 * (septet packing); TS 23.040 §9.2.3.24 (user data header), §9.2.3.24.1 (concatenation with an
 * 8-bit reference); SMPP v3.4 §5.2.19 (data_coding) and §5.2.12 (esm_class UDHI).
 * Not here: PDUs, sessions, national language shift tables (TS 23.038 §6.2.1.2.4), 8-bit data.
 *
 * Ownership: arguments are borrowed for the call. A struct cr_sms belongs to its caller, who
 * frees it with cr_sms_release(); its parts point into memory it owns.
 *
 * The choices:
 *  - GSM 7-bit when every character of the text is in the default alphabet or its extension
 *    table (written ESC 0x1B then the code, so it costs two septets), with exact code points
 *    only (no "ç" for "Ç", no "’" for "'"); else UCS-2, written as UTF-16BE so that characters
 *    beyond U+FFFF (emoji) travel as surrogate pairs. GSM 7-bit is never the larger of the two.
 *  - One part holds 160 septets or 70 UTF-16 units. A longer text is sent as up to 255 parts of
 *    153 septets or 67 units, each starting with the UDH 05 00 03 REF TOTAL SEQ (6 octets).
 *    Parts are filled greedily; an escape pair or a surrogate pair is never split, so a part may
 *    be one unit short.
 *  - GSM 7-bit parts are unpacked, one septet per octet, which is what SMPP's short_message
 *    carries for data_coding 0x00 (the SMSC packs them); with a UDH the septets follow it
 *    unpacked too. cr_sms_pack7() gives the air-interface form where that is needed.
 */
#ifndef CR_SMS_GSM_H
#define CR_SMS_GSM_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

/* The values are SMPP's data_coding for each alphabet. */
enum cr_sms_coding {
    CR_SMS_GSM7 = 0x00, /* SMSC default alphabet, taken to be GSM 7-bit */
    CR_SMS_UCS2 = 0x08,
};

#define CR_SMS_MAX_PARTS 255  /* the UDH numbers parts in one octet */
#define CR_SMS_UDH_CONCAT_LEN 6 /* 05 00 03 REF TOTAL SEQ */

struct cr_sms_part {
    unsigned char *data; /* short_message: the UDH (when udhi), then the text */
    size_t len;          /* at most 160 (one GSM 7-bit part), 159 (GSM 7-bit with UDH) or 140 */
};

struct cr_sms {
    enum cr_sms_coding coding; /* public, read-only: also the data_coding to send */
    int udhi;                  /* public, read-only: 1 when parts carry a UDH (esm_class 0x40) */
    size_t nparts;             /* public, read-only: 1 to 255 */
    struct cr_sms_part *parts; /* public, read-only; one allocation holds these and the bytes */
    size_t units;              /* public, read-only: septets (an escape counts 2) or UTF-16 units */
};

/* Encodes UTF-8 text (len bytes; NUL is an ordinary character) as SMS parts, numbered with the
 * concatenation reference ref (0-255; only its low 8 bits are used) when there is more than
 * one. An empty text is one empty part. Returns 0; CR_EINVAL for invalid UTF-8 (the message
 * names the byte offset); CR_ETOOBIG if it needs more than 255 parts. On error *out is zeroed
 * (there is nothing to release). */
int cr_sms_encode(const char *utf8, size_t len, unsigned ref, struct cr_sms *out,
                  struct cr_err *err) CR_WARN_UNUSED;

/* Frees the parts and zeroes s; a zeroed struct may be released. */
void cr_sms_release(struct cr_sms *s);

/* What cr_sms_encode() would give, without building it: the coding, the number of parts and the
 * units of the whole text. Any OUT pointer may be NULL. Returns 0, CR_EINVAL as encode does
 * (outputs untouched), or CR_ETOOBIG as encode does, with the outputs set to the real counts
 * (so a caller can report "needs 300 parts"). */
int cr_sms_count(const char *utf8,
                 size_t len,
                 enum cr_sms_coding *coding, /* OUT */
                 size_t *parts,              /* OUT */
                 size_t *units,              /* OUT */
                 struct cr_err *err);

/* Decodes received text (the short_message of a deliver_sm, after any UDH) to UTF-8 appended to
 * utf8. data_coding: 0x00 and 0xF0-0xF3 are GSM 7-bit, unpacked (an escape followed by a code
 * the extension table lacks gives the default-alphabet character, TS 23.038 §6.2.1.1; a
 * trailing escape, or an escape before an escape, gives a space), 0x01 ASCII, 0x03 Latin-1,
 * 0x08 UCS-2/UTF-16BE (an unpaired surrogate becomes U+FFFD). Returns 0; CR_EPROTO for bytes
 * the coding cannot hold (a septet above 0x7F, ASCII above 0x7F, an odd UCS-2 length);
 * CR_EUNSUPPORTED for another data_coding; or utf8->err. On error utf8 keeps its length. */
int cr_sms_decode(const unsigned char *data, size_t len, int data_coding, struct cr_buf *utf8,
                  struct cr_err *err);

/* A user data header (TS 23.040 §9.2.3.24), as parsed by cr_sms_udh_parse(). */
struct cr_sms_udh {
    size_t len;     /* octets of the header, the UDHL octet included: the text starts there */
    unsigned ref;   /* concatenation reference: 8-bit (IEI 00) or 16-bit (IEI 08) */
    unsigned total; /* number of parts; 0 when the header has no (valid) concatenation IE */
    unsigned seq;   /* 1-based number of this part */
};

/* Parses the UDH at the start of a short_message sent with UDHI set. A concatenation IE with a
 * zero total or seq, or seq > total, is ignored (TS 23.040 §9.2.3.24.1), a repeated one is
 * taken from its last occurrence, and other IEs are skipped. Returns 0, or CR_EPROTO when the
 * header or one of its IEs runs past its length. */
int cr_sms_udh_parse(const unsigned char *data,
                     size_t len,
                     struct cr_sms_udh *out, /* OUT */
                     struct cr_err *err);

/* Packs n septets (the low 7 bits of each byte) into octets as on the air interface: least
 * significant bit first, after fill_bits (0-6) zero bits. With a UDH of h octets (UDHL
 * included), fill_bits = (7 - h * 8 % 7) % 7 puts the first septet on a septet boundary of the
 * user data (1 for the 6-octet concatenation UDH). Writes and returns (fill_bits + 7n + 7) / 8
 * octets. */
size_t cr_sms_pack7(const unsigned char *septets, size_t n, unsigned fill_bits,
                    unsigned char *out);

#endif
