/*
 * gsm.c - SMS text encoding and segmentation (GSM 7-bit or UCS-2), decoding, UDH parsing
 *
 * Spec: 3GPP TS 23.038 §6.2.1 and §6.2.1.1 (the tables below), §6.1.2.1.1 (packing);
 * TS 23.040 §9.2.3.24 (UDH), §9.2.3.24.1 (concatenation); SMPP v3.4 §5.2.19 (data_coding).
 * Not here: PDUs and sessions (smpp_*.c), national language shift tables, 8-bit data.
 *
 * Encoding reads the text twice: tally_text() validates it and counts septets, UTF-16 units and
 * greedy parts for both alphabets at once, so cr_sms_count() never allocates; cr_sms_encode()
 * then sizes one block and writes the parts, splitting with the same greedy rule.
 */
#include "channel/sms/gsm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/utf8.h"

#define GSM_ESC 0x1B
#define GSM_SINGLE 160 /* septets in a part without UDH: 140 octets * 8 / 7 */
#define GSM_MULTI 153  /* (140 - 6 UDH octets) * 8 = 1072 bits, less 1 fill bit, / 7 */
#define UCS_SINGLE 70  /* UTF-16 units: 140 octets / 2 */
#define UCS_MULTI 67   /* (140 - 6) / 2 */

/* TS 23.038 §6.2.1: the default alphabet, septet -> code point. ESC (0x1B) is decoded apart;
 * its entry is what a lone or doubled escape displays (§6.2.1.1: "a space"). */
static const uint16_t gsm_basic[128] = {
    0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, /* @ £ $ ¥ è é ù ì */
    0x00F2, 0x00C7, 0x000A, 0x00D8, 0x00F8, 0x000D, 0x00C5, 0x00E5, /* ò Ç LF Ø ø CR Å å */
    0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8, /* Δ _ Φ Γ Λ Ω Π Ψ */
    0x03A3, 0x0398, 0x039E, 0x0020, 0x00C6, 0x00E6, 0x00DF, 0x00C9, /* Σ Θ Ξ ESC Æ æ ß É */
    0x0020, 0x0021, 0x0022, 0x0023, 0x00A4, 0x0025, 0x0026, 0x0027, /* SP ! " # ¤ % & ' */
    0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F, /* ( ) * + , - . / */
    0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037, /* 0-7 */
    0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F, /* 8 9 : ; < = > ? */
    0x00A1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047, /* ¡ A-G */
    0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D, 0x004E, 0x004F, /* H-O */
    0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057, /* P-W */
    0x0058, 0x0059, 0x005A, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7, /* X Y Z Ä Ö Ñ Ü § */
    0x00BF, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067, /* ¿ a-g */
    0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F, /* h-o */
    0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077, /* p-w */
    0x0078, 0x0079, 0x007A, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0, /* x y z ä ö ñ ü à */
};

/* TS 23.038 §6.2.1.1: the extension table, code after ESC -> code point (0: not defined). */
static const uint16_t gsm_ext[128] = {
    [0x0A] = 0x000C, /* form feed */
    [0x14] = 0x005E, /* ^ */
    [0x28] = 0x007B, /* { */
    [0x29] = 0x007D, /* } */
    [0x2F] = 0x005C, /* \ */
    [0x3C] = 0x005B, /* [ */
    [0x3D] = 0x007E, /* ~ */
    [0x3E] = 0x005D, /* ] */
    [0x40] = 0x007C, /* | */
    [0x65] = 0x20AC, /* € */
};

#define EXT 0x80 /* in gsm_lookup()'s result: write ESC, then the low 7 bits */

/* The reverse of the two tables above (test_gsm.c checks it is exactly that, over every code
 * point): the septet for cp, EXT | code for the extension table, or -1. A switch, so each
 * character costs one jump, not a scan of the table. */
static int gsm_lookup(uint32_t cp)
{
    /* one line per character, read as the table it is */
    /* clang-format off */
    switch (cp) {
    case '\n': case '\r': case ' ': case '!': case '"': case '#':
    case '%' ... '?':
    case 'A' ... 'Z':
    case 'a' ... 'z': return (int)cp;
    case '@': return 0x00;
    case 0x00A3: return 0x01; /* £ */
    case '$': return 0x02;
    case 0x00A5: return 0x03; /* ¥ */
    case 0x00E8: return 0x04; /* è */
    case 0x00E9: return 0x05; /* é */
    case 0x00F9: return 0x06; /* ù */
    case 0x00EC: return 0x07; /* ì */
    case 0x00F2: return 0x08; /* ò */
    case 0x00C7: return 0x09; /* Ç */
    case 0x00D8: return 0x0B; /* Ø */
    case 0x00F8: return 0x0C; /* ø */
    case 0x00C5: return 0x0E; /* Å */
    case 0x00E5: return 0x0F; /* å */
    case 0x0394: return 0x10; /* Δ */
    case '_': return 0x11;
    case 0x03A6: return 0x12; /* Φ */
    case 0x0393: return 0x13; /* Γ */
    case 0x039B: return 0x14; /* Λ */
    case 0x03A9: return 0x15; /* Ω */
    case 0x03A0: return 0x16; /* Π */
    case 0x03A8: return 0x17; /* Ψ */
    case 0x03A3: return 0x18; /* Σ */
    case 0x0398: return 0x19; /* Θ */
    case 0x039E: return 0x1A; /* Ξ */
    case 0x00C6: return 0x1C; /* Æ */
    case 0x00E6: return 0x1D; /* æ */
    case 0x00DF: return 0x1E; /* ß */
    case 0x00C9: return 0x1F; /* É */
    case 0x00A4: return 0x24; /* ¤ */
    case 0x00A1: return 0x40; /* ¡ */
    case 0x00C4: return 0x5B; /* Ä */
    case 0x00D6: return 0x5C; /* Ö */
    case 0x00D1: return 0x5D; /* Ñ */
    case 0x00DC: return 0x5E; /* Ü */
    case 0x00A7: return 0x5F; /* § */
    case 0x00BF: return 0x60; /* ¿ */
    case 0x00E4: return 0x7B; /* ä */
    case 0x00F6: return 0x7C; /* ö */
    case 0x00F1: return 0x7D; /* ñ */
    case 0x00FC: return 0x7E; /* ü */
    case 0x00E0: return 0x7F; /* à */
    case '\f': return EXT | 0x0A;
    case '^': return EXT | 0x14;
    case '{': return EXT | 0x28;
    case '}': return EXT | 0x29;
    case '\\': return EXT | 0x2F;
    case '[': return EXT | 0x3C;
    case '~': return EXT | 0x3D;
    case ']': return EXT | 0x3E;
    case '|': return EXT | 0x40;
    case 0x20AC: return EXT | 0x65; /* € */
    }
    /* clang-format on */
    return -1;
}

/* ---------------------------------------------------------------- counting */

/* A greedy split into parts of at most limit units: a character that does not fit whole
 * starts the next part. */
struct split {
    size_t parts, fill;
};

static void split_add(struct split *s, size_t w, size_t limit)
{
    if (s->fill + w > limit) {
        s->parts++;
        s->fill = 0;
    }
    s->fill += w;
}

struct tally {
    int gsm;                           /* every character so far is in GSM 7-bit */
    size_t septets, units;             /* septets counted while gsm holds */
    struct split gsm_split, ucs_split; /* into 153-septet and 67-unit parts */
};

static int tally_text(const char *s, size_t len, struct tally *t, struct cr_err *err)
{
    size_t i = 0;
    memset(t, 0, sizeof *t);
    t->gsm = 1;
    t->gsm_split.parts = t->ucs_split.parts = 1;
    while (i < len) {
        size_t n = cr_utf8_seq_len(s + i, len - i);
        uint32_t cp;
        size_t w;
        if (!n)
            return cr_err_set(err, CR_EINVAL, "invalid UTF-8 at byte offset %zu of the SMS text",
                              i);
        cp = cr_utf8_decode(s + i, n);
        w = cp >= 0x10000 ? 2 : 1;
        t->units += w;
        split_add(&t->ucs_split, w, UCS_MULTI);
        if (t->gsm) {
            int code = gsm_lookup(cp);
            if (code < 0) {
                t->gsm = 0;
            } else {
                w = (code & EXT) ? 2 : 1;
                t->septets += w;
                split_add(&t->gsm_split, w, GSM_MULTI);
            }
        }
        i += n;
    }
    return 0;
}

static void tally_result(const struct tally *t, enum cr_sms_coding *coding, size_t *parts,
                         size_t *units)
{
    *coding = t->gsm ? CR_SMS_GSM7 : CR_SMS_UCS2;
    *units = t->gsm ? t->septets : t->units;
    if (t->gsm)
        *parts = t->septets <= GSM_SINGLE ? 1 : t->gsm_split.parts;
    else
        *parts = t->units <= UCS_SINGLE ? 1 : t->ucs_split.parts;
}

static int too_big(struct cr_err *err, enum cr_sms_coding coding, size_t parts)
{
    return cr_err_set(err, CR_ETOOBIG,
                      "SMS text too long: it needs %zu parts of up to %d %s (at most %d parts)",
                      parts, coding == CR_SMS_GSM7 ? GSM_MULTI : UCS_MULTI,
                      coding == CR_SMS_GSM7 ? "septets" : "UTF-16 units", CR_SMS_MAX_PARTS);
}

int cr_sms_count(const char *utf8, size_t len, enum cr_sms_coding *coding, size_t *parts,
                 size_t *units, struct cr_err *err)
{
    struct tally t;
    enum cr_sms_coding c;
    size_t p, u;
    int rc = tally_text(utf8, len, &t, err);
    if (rc)
        return rc;
    tally_result(&t, &c, &p, &u);
    if (coding)
        *coding = c;
    if (parts)
        *parts = p;
    if (units)
        *units = u;
    return p > CR_SMS_MAX_PARTS ? too_big(err, c, p) : 0;
}

/* ---------------------------------------------------------------- encoding */

int cr_sms_encode(const char *utf8, size_t len, unsigned ref, struct cr_sms *out,
                  struct cr_err *err)
{
    struct tally t;
    size_t nparts, limit, hdr, cap, part = 0, fill = 0, i = 0;
    unsigned char *bytes;
    int rc;
    memset(out, 0, sizeof *out);
    rc = tally_text(utf8, len, &t, err);
    if (rc)
        return rc;
    tally_result(&t, &out->coding, &nparts, &out->units);
    if (nparts > CR_SMS_MAX_PARTS) {
        rc = too_big(err, out->coding, nparts);
        memset(out, 0, sizeof *out);
        return rc;
    }
    if (out->coding == CR_SMS_GSM7)
        limit = nparts > 1 ? GSM_MULTI : GSM_SINGLE;
    else
        limit = nparts > 1 ? UCS_MULTI : UCS_SINGLE;
    hdr = nparts > 1 ? CR_SMS_UDH_CONCAT_LEN : 0;
    cap = hdr + (out->coding == CR_SMS_GSM7 ? limit : 2 * limit);

    /* One block: the part array, then cap octets for each part. */
    out->parts = cr_xmalloc(nparts * (sizeof *out->parts + cap));
    bytes = (unsigned char *)(out->parts + nparts);
    out->nparts = nparts;
    out->udhi = nparts > 1;
    for (size_t p = 0; p < nparts; p++) {
        unsigned char *d = bytes + p * cap;
        out->parts[p].data = d;
        out->parts[p].len = hdr;
        if (hdr) {
            d[0] = 0x05; /* UDHL: the IE that follows */
            d[1] = 0x00; /* IEI: concatenated short messages, 8-bit reference */
            d[2] = 0x03; /* IEDL */
            d[3] = (unsigned char)(ref & 0xFF);
            d[4] = (unsigned char)nparts;
            d[5] = (unsigned char)(p + 1);
        }
    }

    while (i < len) {
        size_t n = cr_utf8_seq_len(utf8 + i, len - i); /* tally_text() checked it */
        uint32_t cp = cr_utf8_decode(utf8 + i, n);
        unsigned char u[4];
        size_t w, nb;
        if (out->coding == CR_SMS_GSM7) {
            int code = gsm_lookup(cp);
            if (code & EXT) {
                u[0] = GSM_ESC;
                u[1] = (unsigned char)(code & 0x7F);
                w = nb = 2;
            } else {
                u[0] = (unsigned char)code;
                w = nb = 1;
            }
        } else if (cp >= 0x10000) {
            uint32_t hi = 0xD800 + ((cp - 0x10000) >> 10), lo = 0xDC00 + (cp & 0x3FF);
            u[0] = (unsigned char)(hi >> 8);
            u[1] = (unsigned char)hi;
            u[2] = (unsigned char)(lo >> 8);
            u[3] = (unsigned char)lo;
            w = 2;
            nb = 4;
        } else {
            u[0] = (unsigned char)(cp >> 8);
            u[1] = (unsigned char)cp;
            w = 1;
            nb = 2;
        }
        if (fill + w > limit) { /* the same greedy rule as split_add() */
            part++;
            fill = 0;
            if (part >= nparts)
                CR_BUG("SMS split disagrees with its count (%zu parts)", nparts);
        }
        memcpy(out->parts[part].data + out->parts[part].len, u, nb);
        out->parts[part].len += nb;
        fill += w;
        i += n;
    }
    if (part + 1 != nparts)
        CR_BUG("SMS split gave %zu parts, its count %zu", part + 1, nparts);
    return 0;
}

void cr_sms_release(struct cr_sms *s)
{
    free(s->parts);
    memset(s, 0, sizeof *s);
}

size_t cr_sms_pack7(const unsigned char *septets, size_t n, unsigned fill_bits, unsigned char *out)
{
    uint32_t acc = 0;          /* bits not yet written, least significant first */
    unsigned bits = fill_bits; /* how many; the fill bits are zeros already in acc */
    size_t o = 0;
    if (fill_bits > 6)
        CR_BUG("fill_bits %u is not 0-6", fill_bits);
    for (size_t i = 0; i < n; i++) {
        acc |= (uint32_t)(septets[i] & 0x7F) << bits;
        bits += 7;
        while (bits >= 8) {
            out[o++] = (unsigned char)acc;
            acc >>= 8;
            bits -= 8;
        }
    }
    if (bits)
        out[o++] = (unsigned char)acc;
    return o;
}

/* ---------------------------------------------------------------- decoding */

static void put_cp(struct cr_buf *b, uint32_t cp)
{
    char u[4];
    cr_buf_append(b, u, cr_utf8_encode(cp, u));
}

static int decode_gsm7(const unsigned char *d, size_t len, struct cr_buf *b, struct cr_err *err)
{
    for (size_t i = 0; i < len; i++) {
        unsigned c = d[i];
        if (c > 0x7F)
            return cr_err_set(err, CR_EPROTO,
                              "octet 0x%02x at offset %zu is not a GSM 7-bit septet", c, i);
        if (c == GSM_ESC && i + 1 < len) {
            unsigned x = d[++i];
            if (x > 0x7F)
                return cr_err_set(err, CR_EPROTO,
                                  "octet 0x%02x at offset %zu is not a GSM 7-bit septet", x, i);
            put_cp(b, gsm_ext[x] ? gsm_ext[x] : gsm_basic[x]);
        } else {
            put_cp(b, gsm_basic[c]);
        }
    }
    return 0;
}

static int decode_ucs2(const unsigned char *d, size_t len, struct cr_buf *b, struct cr_err *err)
{
    if (len % 2)
        return cr_err_set(err, CR_EPROTO, "UCS-2 text has an odd length (%zu octets)", len);
    for (size_t i = 0; i < len; i += 2) {
        uint32_t u = (uint32_t)d[i] << 8 | d[i + 1];
        if (u >= 0xD800 && u <= 0xDBFF && i + 3 < len) {
            uint32_t lo = (uint32_t)d[i + 2] << 8 | d[i + 3];
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                put_cp(b, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
                i += 2;
                continue;
            }
        }
        put_cp(b, u >= 0xD800 && u <= 0xDFFF ? 0xFFFD : u);
    }
    return 0;
}

int cr_sms_decode(const unsigned char *data, size_t len, int data_coding, struct cr_buf *utf8,
                  struct cr_err *err)
{
    size_t start = utf8->len;
    int rc = 0;
    switch (data_coding) {
    case 0x00:
    case 0xF0 ... 0xF3: /* TS 23.038 §4 coding group 1111: bit 2 clear = GSM 7-bit, any class */
        rc = decode_gsm7(data, len, utf8, err);
        break;
    case 0x01:
        for (size_t i = 0; i < len && !rc; i++) {
            if (data[i] > 0x7F)
                rc = cr_err_set(err, CR_EPROTO, "octet 0x%02x at offset %zu is not ASCII", data[i],
                                i);
        }
        if (!rc)
            cr_buf_append(utf8, data, len);
        break;
    case 0x03:
        for (size_t i = 0; i < len; i++)
            put_cp(utf8, data[i]);
        break;
    case 0x08:
        rc = decode_ucs2(data, len, utf8, err);
        break;
    default:
        return cr_err_set(err, CR_EUNSUPPORTED,
                          "data_coding 0x%02x is not supported (0x00, 0x01, 0x03, 0x08, "
                          "0xf0-0xf3 are)",
                          (unsigned)data_coding);
    }
    if (!rc && utf8->err)
        rc = cr_err_set(err, utf8->err, "decoded SMS text does not fit its buffer");
    if (rc)
        cr_buf_truncate(utf8, start);
    return rc;
}

/* ---------------------------------------------------------------- user data header */

int cr_sms_udh_parse(const unsigned char *d, size_t len, struct cr_sms_udh *out, struct cr_err *err)
{
    size_t end, i;
    memset(out, 0, sizeof *out);
    if (len == 0)
        return cr_err_set(err, CR_EPROTO, "user data header expected in an empty message");
    end = (size_t)d[0] + 1;
    if (end > len)
        return cr_err_set(err, CR_EPROTO,
                          "user data header length %u runs past the %zu-octet message", d[0], len);
    for (i = 1; i < end;) {
        const unsigned char *ie;
        unsigned ref, total, seq;
        if (end - i < 2 || end - i - 2 < d[i + 1]) {
            memset(out, 0, sizeof *out);
            return cr_err_set(err, CR_EPROTO,
                              "user data header element at octet %zu runs past the header", i);
        }
        ie = d + i + 2;
        if (d[i] == 0x00 && d[i + 1] == 3) {
            ref = ie[0];
            total = ie[1];
            seq = ie[2];
        } else if (d[i] == 0x08 && d[i + 1] == 4) {
            ref = (unsigned)ie[0] << 8 | ie[1];
            total = ie[2];
            seq = ie[3];
        } else {
            total = 0;
            ref = seq = 0;
        }
        if (total && seq && seq <= total) {
            out->ref = ref;
            out->total = total;
            out->seq = seq;
        }
        i += 2 + (size_t)d[i + 1];
    }
    out->len = end;
    return 0;
}
