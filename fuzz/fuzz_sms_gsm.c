/*
 * fuzz_sms_gsm.c - SMS text encoding and segmentation (cr_sms_encode), decoding and UDH parsing
 * on arbitrary bytes
 *
 * The first byte is the concatenation reference, the rest the text. Properties:
 *  - invalid UTF-8 is refused with CR_EINVAL naming the first bad byte's offset; cr_sms_count()
 *    agrees with cr_sms_encode() on every input, counts included;
 *  - every part fits 140 octets (packed, for GSM 7-bit), carries the UDH with this reference
 *    and its number, splits no escape or surrogate pair, and is full (the next part's first
 *    character would not have fitted); UCS-2 is chosen only when some character needs it;
 *  - decoding the parts one by one and joining them gives back the text exactly;
 *  - cr_sms_pack7() agrees with a bit-by-bit packer;
 *  - decoding the raw bytes in each data_coding either fails leaving the buffer alone or gives
 *    valid UTF-8, and GSM 7-bit output is again GSM 7-bit text; a parsed UDH lies inside the
 *    input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel/sms/gsm.h"
#include "core/mem.h"
#include "core/utf8.h"
#include "fuzz.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

/* The reference packer: septet k takes bits fill + 7k ... fill + 7k + 6 of the stream, bit b
 * being bit b % 8 of octet b / 8 (TS 23.038 §6.1.2.1.1). */
static size_t pack_bits(const unsigned char *s, size_t n, unsigned fill, unsigned char *out)
{
    size_t octets = (fill + 7 * n + 7) / 8;
    memset(out, 0, octets);
    for (size_t k = 0; k < n; k++)
        for (unsigned j = 0; j < 7; j++)
            if (s[k] >> j & 1) {
                size_t b = fill + 7 * k + j;
                out[b / 8] |= (unsigned char)(1u << (b % 8));
            }
    return octets;
}

/* Units that the part's first character takes: 2 for an escape or a high surrogate. */
static size_t first_width(const unsigned char *p, size_t len, enum cr_sms_coding coding)
{
    if (coding == CR_SMS_GSM7)
        return p[0] == 0x1B ? 2 : 1;
    CHECK(len >= 2);
    return p[0] >= 0xD8 && p[0] <= 0xDB ? 2 : 1;
}

static void check_parts(const struct cr_sms *s, const char *text, size_t len, unsigned ref)
{
    struct cr_buf joined = CR_BUF_INIT(0);
    size_t hdr = s->udhi ? 6 : 0, units = 0;
    size_t limit = s->coding == CR_SMS_GSM7 ? (s->udhi ? 153 : 160) : (s->udhi ? 67 : 70);
    CHECK(s->nparts >= 1 && s->nparts <= CR_SMS_MAX_PARTS);
    CHECK(s->udhi == (s->nparts > 1));
    for (size_t i = 0; i < s->nparts; i++) {
        const struct cr_sms_part *p = &s->parts[i];
        const unsigned char *t = p->data + hdr;
        size_t n = p->len - hdr, u;
        CHECK(p->len >= hdr);
        if (s->udhi) {
            struct cr_sms_udh udh;
            CHECK(cr_sms_udh_parse(p->data, p->len, &udh, NULL) == 0);
            CHECK(udh.len == 6 && udh.ref == (ref & 0xFF) && udh.total == s->nparts &&
                  udh.seq == i + 1);
        }
        if (s->coding == CR_SMS_GSM7) {
            unsigned char a[160], b[160];
            size_t na, nb;
            for (size_t k = 0; k < n; k++) {
                CHECK(t[k] <= 0x7F);
                if (t[k] == 0x1B)
                    CHECK(++k < n); /* an escape never ends a part */
            }
            u = n;
            na = cr_sms_pack7(t, n, s->udhi ? 1 : 0, a);
            nb = pack_bits(t, n, s->udhi ? 1 : 0, b);
            CHECK(na == nb && memcmp(a, b, na) == 0);
            CHECK(hdr + na <= 140);
        } else {
            CHECK(n % 2 == 0 && hdr + n <= 140);
            u = n / 2;
            if (n) {
                CHECK(!(t[0] >= 0xDC && t[0] <= 0xDF));         /* no low surrogate first */
                CHECK(!(t[n - 2] >= 0xD8 && t[n - 2] <= 0xDB)); /* no high surrogate last */
            }
        }
        CHECK(u <= limit);
        if (i + 1 < s->nparts) { /* full: the next character would not have fitted */
            const struct cr_sms_part *q = &s->parts[i + 1];
            CHECK(q->len > hdr);
            CHECK(u + first_width(q->data + hdr, q->len - hdr, s->coding) > limit);
        }
        units += u;
        CHECK(cr_sms_decode(t, n, (int)s->coding, &joined, NULL) == 0);
    }
    CHECK(units == s->units);
    CHECK(joined.len == len && memcmp(joined.data, text, len) == 0);
    cr_buf_release(&joined);

    if (s->coding == CR_SMS_UCS2) { /* some character must need it */
        int needed = 0;
        for (size_t i = 0; i < len && !needed;) {
            size_t n = cr_utf8_seq_len(text + i, len - i);
            enum cr_sms_coding c;
            CHECK(n && cr_sms_count(text + i, n, &c, NULL, NULL, NULL) == 0);
            needed = c == CR_SMS_UCS2;
            i += n;
        }
        CHECK(needed);
    }
}

static void check_decoders(const unsigned char *d, size_t n)
{
    static const int codings[] = {0x00, 0x01, 0x03, 0x08};
    struct cr_sms_udh udh;
    for (size_t i = 0; i < sizeof codings / sizeof *codings; i++) {
        struct cr_buf out = CR_BUF_INIT(0);
        cr_buf_puts(&out, "x");
        if (cr_sms_decode(d, n, codings[i], &out, NULL) == 0) {
            CHECK(cr_utf8_valid(out.data, out.len, NULL));
            if (codings[i] == 0x00) {
                enum cr_sms_coding c = CR_SMS_UCS2;
                int rc = cr_sms_count(out.data, out.len, &c, NULL, NULL, NULL);
                CHECK((rc == 0 || rc == CR_ETOOBIG) && c == CR_SMS_GSM7);
            }
        } else {
            CHECK(out.len == 1);
        }
        cr_buf_release(&out);
    }
    if (cr_sms_udh_parse(d, n, &udh, NULL) == 0)
        CHECK(udh.len >= 1 && udh.len <= n && udh.seq <= udh.total);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cr_err err = CR_ERR_INIT, cerr = CR_ERR_INIT;
    struct cr_sms s;
    enum cr_sms_coding coding;
    size_t parts = 0, units = 0, bad = 0;
    const char *text;
    unsigned ref;
    int rc, crc, valid;
    if (size == 0)
        return 0;
    ref = data[0];
    text = (const char *)data + 1;
    size--;
    valid = cr_utf8_valid(text, size, &bad);
    rc = cr_sms_encode(text, size, ref, &s, &err);
    crc = cr_sms_count(text, size, &coding, &parts, &units, &cerr);
    CHECK(rc == crc);
    if (!valid) {
        char want[64];
        snprintf(want, sizeof want, "byte offset %zu ", bad);
        CHECK(rc == CR_EINVAL && strstr(err.msg, want) && s.parts == NULL);
    } else if (rc == CR_ETOOBIG) {
        CHECK(parts > CR_SMS_MAX_PARTS && s.parts == NULL && s.nparts == 0);
        CHECK(strstr(err.msg, "parts"));
    } else {
        CHECK(rc == 0);
        CHECK(coding == s.coding && parts == s.nparts && units == s.units);
        check_parts(&s, text, size, ref);
        cr_sms_release(&s);
    }
    check_decoders(data + 1, size);
    return 0;
}
