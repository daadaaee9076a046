/*
 * test_gsm.c - SMS text encoding: the alphabet tables, part boundaries, UDH numbering, limits
 *
 * The alphabet strings are the TS 23.038 §6.2.1 and §6.2.1.1 tables read in code order. The
 * part counts and split points below agree with Twilio's sms-segments-calculator (npm), an
 * independent implementation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "gsm_tests.h"

/* TS 23.038 §6.2.1, septets 0x00-0x7F in order, ESC (0x1B) left out. */
const char sms_alphabet[] = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
                            "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/* TS 23.038 §6.2.1.1, the extension table in code order, and its codes. */
const char sms_extension[] = "\f^{}\\[~]|€";
static const unsigned char extension_codes[] = {0x0A, 0x14, 0x28, 0x29, 0x2F,
                                                0x3C, 0x3D, 0x3E, 0x40, 0x65};

/* Appends n copies of s. */
void sms_rep(struct cr_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cr_buf_puts(b, s);
    assert_int_equal(b->err, 0);
}

void sms_encode_ok(const struct cr_buf *b, unsigned ref, struct cr_sms *s)
{
    struct cr_err err = CR_ERR_INIT;
    enum cr_sms_coding coding;
    size_t parts, units;
    assert_int_equal(cr_sms_encode(b->data, b->len, ref, s, &err), 0);
    /* counting alone gives the same answer */
    assert_int_equal(cr_sms_count(b->data, b->len, &coding, &parts, &units, &err), 0);
    assert_int_equal(coding, s->coding);
    assert_int_equal(parts, s->nparts);
    assert_int_equal(units, s->units);
    assert_int_equal(s->udhi, s->nparts > 1);
}

/* The UDH 05 00 03 REF TOTAL SEQ on every part, numbered from 1. */
void sms_check_udh(const struct cr_sms *s, unsigned ref)
{
    for (size_t i = 0; i < s->nparts; i++) {
        const unsigned char want[6] = {
            0x05, 0x00, 0x03, (unsigned char)ref, (unsigned char)s->nparts, (unsigned char)(i + 1)};
        struct cr_sms_udh udh;
        assert_true(s->parts[i].len >= 6);
        assert_memory_equal(s->parts[i].data, want, 6);
        assert_int_equal(cr_sms_udh_parse(s->parts[i].data, s->parts[i].len, &udh, NULL), 0);
        assert_int_equal(udh.len, 6);
        assert_int_equal(udh.ref, ref);
        assert_int_equal(udh.total, s->nparts);
        assert_int_equal(udh.seq, i + 1);
    }
}

/* Decodes every part (after its UDH) and checks the whole gives back text. */
void sms_check_round_trip(const struct cr_sms *s, const char *text, size_t len)
{
    struct cr_buf out = CR_BUF_INIT(0);
    for (size_t i = 0; i < s->nparts; i++) {
        size_t skip = s->udhi ? 6 : 0;
        assert_int_equal(cr_sms_decode(s->parts[i].data + skip, s->parts[i].len - skip,
                                       (int)s->coding, &out, NULL),
                         0);
    }
    assert_int_equal(out.len, len);
    assert_memory_equal(out.data, text, len);
    cr_buf_release(&out);
}

static void test_alphabet_tables(void **state)
{
    struct cr_buf b = CR_BUF_INIT(0);
    struct cr_sms s;
    unsigned char want[128];
    size_t n = 0;
    (void)state;
    for (unsigned c = 0; c < 128; c++)
        if (c != 0x1B)
            want[n++] = (unsigned char)c;
    cr_buf_puts(&b, sms_alphabet);
    sms_encode_ok(&b, 0, &s);
    assert_int_equal(s.coding, CR_SMS_GSM7);
    assert_int_equal(s.nparts, 1);
    assert_int_equal(s.units, 127);
    assert_int_equal(s.parts[0].len, 127);
    assert_memory_equal(s.parts[0].data, want, 127);
    sms_check_round_trip(&s, b.data, b.len);
    cr_sms_release(&s);

    cr_buf_reset(&b);
    cr_buf_puts(&b, sms_extension);
    sms_encode_ok(&b, 0, &s);
    assert_int_equal(s.coding, CR_SMS_GSM7);
    assert_int_equal(s.units, 20);
    assert_int_equal(s.parts[0].len, 20);
    for (size_t i = 0; i < 10; i++) {
        assert_int_equal(s.parts[0].data[2 * i], 0x1B);
        assert_int_equal(s.parts[0].data[2 * i + 1], extension_codes[i]);
    }
    sms_check_round_trip(&s, b.data, b.len);
    cr_sms_release(&s);

    /* € alone is 1B 65, two septets */
    cr_buf_reset(&b);
    cr_buf_puts(&b, "€");
    sms_encode_ok(&b, 0, &s);
    assert_int_equal(s.units, 2);
    assert_int_equal(s.parts[0].len, 2);
    assert_memory_equal(s.parts[0].data, "\x1B\x65", 2);
    cr_sms_release(&s);
    cr_buf_release(&b);
}

/* Over every code point: exactly the 127 + 10 characters of the two tables are GSM 7-bit (so
 * no look-alike such as ç, ` or a curly quote sneaks in), and each decodes back to itself. */
static void test_alphabet_exhaustive(void **state)
{
    size_t basic = 0, ext = 0;
    struct cr_buf out = CR_BUF_INIT(0);
    (void)state;
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        char u[4];
        size_t n, parts, units;
        enum cr_sms_coding coding;
        struct cr_sms s;
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        n = cr_utf8_encode(cp, u);
        assert_int_equal(cr_sms_count(u, n, &coding, &parts, &units, NULL), 0);
        assert_int_equal(parts, 1);
        if (coding == CR_SMS_UCS2) {
            assert_int_equal(units, cp >= 0x10000 ? 2 : 1);
            continue;
        }
        assert_true(units == 1 || units == 2);
        if (units == 1)
            basic++;
        else
            ext++;
        assert_int_equal(cr_sms_encode(u, n, 0, &s, NULL), 0);
        cr_buf_reset(&out);
        assert_int_equal(cr_sms_decode(s.parts[0].data, s.parts[0].len, 0, &out, NULL), 0);
        assert_int_equal(out.len, n);
        assert_memory_equal(out.data, u, n);
        cr_sms_release(&s);
    }
    assert_int_equal(basic, 127);
    assert_int_equal(ext, 10);
    cr_buf_release(&out);
}

static void test_gsm7_boundaries(void **state)
{
    struct cr_buf b = CR_BUF_INIT(0);
    struct cr_sms s;
    (void)state;
    sms_rep(&b, "a", 160);
    sms_encode_ok(&b, 7, &s);
    assert_int_equal(s.coding, CR_SMS_GSM7);
    assert_int_equal(s.nparts, 1);
    assert_int_equal(s.udhi, 0);
    assert_int_equal(s.units, 160);
    assert_int_equal(s.parts[0].len, 160);
    assert_int_equal(s.parts[0].data[0], 'a');
    cr_sms_release(&s);

    cr_buf_puts(&b, "b"); /* 161 septets: 153 + 8 */
    sms_encode_ok(&b, 7, &s);
    assert_int_equal(s.nparts, 2);
    assert_int_equal(s.units, 161);
    sms_check_udh(&s, 7);
    assert_int_equal(s.parts[0].len, 6 + 153);
    assert_int_equal(s.parts[1].len, 6 + 8);
    assert_memory_equal(s.parts[1].data + 6, "aaaaaaab", 8);
    sms_check_round_trip(&s, b.data, b.len);
    cr_sms_release(&s);

    /* 80 € are 160 septets: one part; one more septet makes two */
    cr_buf_reset(&b);
    sms_rep(&b, "€", 80);
    sms_encode_ok(&b, 0, &s);
    assert_int_equal(s.nparts, 1);
    assert_int_equal(s.units, 160);
    cr_sms_release(&s);
    cr_buf_puts(&b, "a");
    sms_encode_ok(&b, 0, &s);
    assert_int_equal(s.nparts, 2);
    assert_int_equal(s.parts[0].len, 6 + 152); /* 76 €; the 77th would straddle */
    assert_int_equal(s.parts[1].len, 6 + 9);   /* 4 € and the a */
    sms_check_round_trip(&s, b.data, b.len);
    cr_sms_release(&s);
    cr_buf_release(&b);
}

/* An escape pair that would straddle septet 153 moves whole to the next part. */
static void test_escape_straddle(void **state)
{
    struct cr_buf b = CR_BUF_INIT(0);
    struct cr_sms s;
    (void)state;
    sms_rep(&b, "a", 152);
    cr_buf_puts(&b, "€bbbbbbbbbb");
    sms_encode_ok(&b, 1, &s);
    assert_int_equal(s.units, 164);
    assert_int_equal(s.nparts, 2);
    assert_int_equal(s.parts[0].len, 6 + 152);
    assert_int_equal(s.parts[0].data[6 + 151], 'a');
    assert_int_equal(s.parts[1].len, 6 + 12);
    assert_memory_equal(s.parts[1].data + 6, "\033ebbbbbbbbbb", 12);
    sms_check_round_trip(&s, b.data, b.len);
    cr_sms_release(&s);

    /* one 'a' fewer: the pair ends the first part exactly at 153 */
    cr_buf_reset(&b);
    sms_rep(&b, "a", 151);
    cr_buf_puts(&b, "€bbbbbbbbbb");
    sms_encode_ok(&b, 1, &s);
    assert_int_equal(s.nparts, 2);
    assert_int_equal(s.parts[0].len, 6 + 153);
    assert_memory_equal(s.parts[0].data + 6 + 151, "\x1B\x65", 2);
    assert_int_equal(s.parts[1].len, 6 + 10);
    cr_sms_release(&s);
    cr_buf_release(&b);
}

static void test_ucs2_boundaries(void **state)
{
    struct cr_buf b = CR_BUF_INIT(0);
    struct cr_sms s;
    (void)state;
    sms_rep(&b, "ж", 70); /* U+0436 */
    sms_encode_ok(&b, 9, &s);
    assert_int_equal(s.coding, CR_SMS_UCS2);
    assert_int_equal(s.nparts, 1);
    assert_int_equal(s.units, 70);
    assert_int_equal(s.parts[0].len, 140);
    assert_memory_equal(s.parts[0].data, "\x04\x36\x04\x36", 4);
    cr_sms_release(&s);

    cr_buf_puts(&b, "ж"); /* 71 units: 67 + 4 */
    sms_encode_ok(&b, 9, &s);
    assert_int_equal(s.nparts, 2);
    sms_check_udh(&s, 9);
    assert_int_equal(s.parts[0].len, 6 + 134);
    assert_int_equal(s.parts[1].len, 6 + 8);
    sms_check_round_trip(&s, b.data, b.len);
    cr_sms_release(&s);

    /* one non-GSM character makes the whole text UCS-2, ASCII included */
    cr_buf_reset(&b);
    sms_rep(&b, "a", 69);
    cr_buf_puts(&b, "ç"); /* U+00E7: TS 23.038 has only Ç */
    sms_encode_ok(&b, 0, &s);
    assert_int_equal(s.coding, CR_SMS_UCS2);
    assert_int_equal(s.nparts, 1);
    assert_int_equal(s.parts[0].len, 140);
    assert_memory_equal(s.parts[0].data, "\x00\x61", 2);
    assert_memory_equal(s.parts[0].data + 138, "\x00\xE7", 2);
    cr_sms_release(&s);
    cr_buf_release(&b);
}

/* A surrogate pair that would straddle unit 67 moves whole to the next part. */
static void test_emoji_boundary(void **state)
{
    struct cr_buf b = CR_BUF_INIT(0);
    struct cr_sms s;
    (void)state;
    sms_rep(&b, "ж", 66);
    cr_buf_puts(&b, "😀xxxxx"); /* U+1F600 = D83D DE00 */
    sms_encode_ok(&b, 3, &s);
    assert_int_equal(s.units, 73);
    assert_int_equal(s.nparts, 2);
    assert_int_equal(s.parts[0].len, 6 + 132);
    assert_int_equal(s.parts[1].len, 6 + 14);
    assert_memory_equal(s.parts[1].data + 6, "\xD8\x3D\xDE\x00\x00x", 6);
    sms_check_round_trip(&s, b.data, b.len);
    cr_sms_release(&s);

    cr_buf_reset(&b);
    sms_rep(&b, "ж", 65);
    cr_buf_puts(&b, "😀xxxxx"); /* the pair ends the first part at unit 67 */
    sms_encode_ok(&b, 3, &s);
    assert_int_equal(s.nparts, 2);
    assert_int_equal(s.parts[0].len, 6 + 134);
    assert_memory_equal(s.parts[0].data + 6 + 130, "\xD8\x3D\xDE\x00", 4);
    cr_sms_release(&s);

    /* 68 + a pair = 70 units, one part; 69 + a pair = 71, two */
    cr_buf_reset(&b);
    sms_rep(&b, "ж", 68);
    cr_buf_puts(&b, "😀");
    sms_encode_ok(&b, 3, &s);
    assert_int_equal(s.nparts, 1);
    assert_int_equal(s.units, 70);
    assert_int_equal(s.parts[0].len, 140);
    cr_sms_release(&s);
    cr_buf_reset(&b);
    sms_rep(&b, "ж", 69);
    cr_buf_puts(&b, "😀");
    sms_encode_ok(&b, 3, &s);
    assert_int_equal(s.nparts, 2);
    assert_int_equal(s.parts[0].len, 6 + 134);
    assert_int_equal(s.parts[1].len, 6 + 8); /* two ж and the pair */
    sms_check_round_trip(&s, b.data, b.len);
    cr_sms_release(&s);
    cr_buf_release(&b);
}

static void test_numbering_and_limits(void **state)
{
    struct cr_buf b = CR_BUF_INIT(0);
    struct cr_err err = CR_ERR_INIT;
    struct cr_sms s;
    size_t parts = 0;
    (void)state;
    sms_rep(&b, "a", 153 * 3);
    sms_encode_ok(&b, 0x1A7, &s); /* only the low 8 bits: 0xA7 */
    assert_int_equal(s.nparts, 3);
    sms_check_udh(&s, 0xA7);
    cr_sms_release(&s);
    cr_buf_puts(&b, "a");
    sms_encode_ok(&b, 0, &s);
    assert_int_equal(s.nparts, 4);
    assert_int_equal(s.parts[3].len, 6 + 1);
    sms_check_udh(&s, 0);
    cr_sms_release(&s);

    /* 255 parts are the most; one septet more is refused, with the count reported */
    cr_buf_reset(&b);
    sms_rep(&b, "a", 153 * 255);
    sms_encode_ok(&b, 5, &s);
    assert_int_equal(s.nparts, 255);
    sms_check_udh(&s, 5);
    sms_check_round_trip(&s, b.data, b.len);
    cr_sms_release(&s);
    cr_buf_puts(&b, "a");
    s.nparts = 99;
    assert_int_equal(cr_sms_encode(b.data, b.len, 5, &s, &err), CR_ETOOBIG);
    assert_non_null(strstr(err.msg, "256 parts"));
    assert_null(s.parts);
    assert_int_equal(s.nparts, 0);
    cr_sms_release(&s); /* a zeroed struct may be released */
    assert_int_equal(cr_sms_count(b.data, b.len, NULL, &parts, NULL, NULL), CR_ETOOBIG);
    assert_int_equal(parts, 256);

    cr_buf_reset(&b);
    sms_rep(&b, "ж", 67 * 255);
    assert_int_equal(cr_sms_count(b.data, b.len, NULL, &parts, NULL, NULL), 0);
    assert_int_equal(parts, 255);
    cr_buf_puts(&b, "ж");
    cr_err_clear(&err);
    assert_int_equal(cr_sms_encode(b.data, b.len, 5, &s, &err), CR_ETOOBIG);
    assert_non_null(strstr(err.msg, "UTF-16 units"));
    cr_buf_release(&b);
}

static void test_edge_texts(void **state)
{
    struct cr_sms s;
    struct cr_buf b = CR_BUF_INIT(0);
    (void)state;
    sms_encode_ok(&b, 0, &s); /* empty: one empty part */
    assert_int_equal(s.coding, CR_SMS_GSM7);
    assert_int_equal(s.nparts, 1);
    assert_int_equal(s.parts[0].len, 0);
    assert_int_equal(s.units, 0);
    cr_sms_release(&s);

    cr_buf_append(&b, "a\0b", 3); /* NUL is a character, and not a GSM one */
    sms_encode_ok(&b, 0, &s);
    assert_int_equal(s.coding, CR_SMS_UCS2);
    assert_int_equal(s.parts[0].len, 6);
    assert_memory_equal(s.parts[0].data, "\x00\x61\x00\x00\x00\x62", 6);
    sms_check_round_trip(&s, b.data, b.len);
    cr_sms_release(&s);
    cr_buf_release(&b);
}

static void test_invalid_utf8(void **state)
{
    static const struct {
        const char *text;
        size_t len, at;
    } cases[] = {
        {"ab\xC3(", 4, 2},             /* bad continuation */
        {"\xC0\x80", 2, 0},            /* overlong NUL */
        {"x\xED\xA0\x80", 4, 1},       /* an encoded surrogate */
        {"€\xE2\x82", 5, 3},           /* truncated at the end */
        {"abc\xF4\x90\x80\x80", 7, 3}, /* beyond U+10FFFF */
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct cr_err err = CR_ERR_INIT;
        struct cr_sms s;
        char want[64];
        size_t parts = 77;
        assert_int_equal(cr_sms_encode(cases[i].text, cases[i].len, 0, &s, &err), CR_EINVAL);
        snprintf(want, sizeof want, "byte offset %zu ", cases[i].at);
        assert_non_null(strstr(err.msg, want));
        assert_null(s.parts);
        assert_int_equal(cr_sms_count(cases[i].text, cases[i].len, NULL, &parts, NULL, NULL),
                         CR_EINVAL);
        assert_int_equal(parts, 77);
    }
}

static void test_round_trips(void **state)
{
    static const char *texts[] = {
        "Bonjour Zoé, votre commande 42 est expédiée : 12,50 € (code {A7}).",
        "ΔΦΓΛΩΠΨΣΘΞ ÆæßÉ ÄÖÑÜ§ ¿¡ äöñüà @£$¥ [~] ^|\\",
        "Привет! Ваш код: 4821. Не сообщайте его никому. 🙂",
        "混合テキスト and emoji 👍🏽 with a ZWJ family 👨‍👩‍👧",
        "line one\nline two\r\nform\ffeed",
    };
    (void)state;
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        struct cr_buf b = CR_BUF_INIT(0);
        struct cr_sms s;
        for (size_t k = 1; k <= 9; k += 4) { /* once, then long enough to split */
            cr_buf_reset(&b);
            sms_rep(&b, texts[i], k);
            sms_encode_ok(&b, (unsigned)i, &s);
            assert_int_equal(s.coding, i == 0 || i == 1 || i == 4 ? CR_SMS_GSM7 : CR_SMS_UCS2);
            if (s.nparts > 1)
                sms_check_udh(&s, (unsigned)i);
            sms_check_round_trip(&s, b.data, b.len);
            cr_sms_release(&s);
        }
        cr_buf_release(&b);
    }
}

int run_gsm_encode_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alphabet_tables),      cmocka_unit_test(test_alphabet_exhaustive),
        cmocka_unit_test(test_gsm7_boundaries),      cmocka_unit_test(test_escape_straddle),
        cmocka_unit_test(test_ucs2_boundaries),      cmocka_unit_test(test_emoji_boundary),
        cmocka_unit_test(test_numbering_and_limits), cmocka_unit_test(test_edge_texts),
        cmocka_unit_test(test_invalid_utf8),         cmocka_unit_test(test_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

int main(void)
{
    int failed = 0;
    failed += run_gsm_encode_tests();
    failed += run_gsm_wire_tests();
    return failed ? 1 : 0;
}
