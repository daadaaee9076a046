/*
 * test_gsm_wire.c - the forms text takes on the wire: septet packing, decoding, UDH parsing
 *
 * Vector sources:
 *  - "hellohello" packed = e8 32 9b fd 46 97 d9 ec 37: the classic TS 23.038 §6.1.2.1.1 example
 *    (dreamfabric's SMS PDU tutorial, repeated in many PDU encoders).
 *  - "This ~is a ^test for GSM7 {decoder}." packed = 54 74 7a 0e ...: the example in the README
 *    of the npm package gsm7 (an independent encoder); it has four extension-table escapes.
 *  - The same "hellohello" after the 6-octet concatenation UDH with 1 fill bit: the stream
 *    above shifted left by one bit, d0 65 36 fb 8d 2e b3 d9 6f (checked with a bit-by-bit
 *    Python packer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "gsm_tests.h"

static void test_pack_vectors(void **state)
{
    static const unsigned char hello[] = {0xe8, 0x32, 0x9b, 0xfd, 0x46, 0x97, 0xd9, 0xec, 0x37};
    static const unsigned char hello_fill1[] = {0xd0, 0x65, 0x36, 0xfb, 0x8d,
                                                0x2e, 0xb3, 0xd9, 0x6f};
    static const unsigned char gsm7_readme[] = {
        0x54, 0x74, 0x7A, 0x0E, 0xDA, 0xF4, 0xD2, 0x73, 0x50, 0x18, 0xB4, 0xA1,
        0xD0, 0xCB, 0x73, 0x3A, 0xC8, 0xFC, 0x96, 0x83, 0x8E, 0xD3, 0xE6, 0x0D,
        0xB4, 0x41, 0x91, 0xCB, 0xE3, 0x37, 0xB9, 0x2C, 0xDF, 0xA4, 0x5C};
    const char *text = "This ~is a ^test for GSM7 {decoder}.";
    unsigned char out[200];
    struct cr_sms s;
    (void)state;
    memset(out, 0xAA, sizeof out);
    assert_int_equal(cr_sms_pack7((const unsigned char *)"hellohello", 10, 0, out), 9);
    assert_memory_equal(out, hello, 9);
    assert_int_equal(out[9], 0xAA); /* nothing past the count */

    assert_int_equal(cr_sms_encode(text, strlen(text), 0, &s, NULL), 0);
    assert_int_equal(s.units, 40); /* 36 characters, 4 of them escaped */
    assert_int_equal(cr_sms_pack7(s.parts[0].data, s.parts[0].len, 0, out), 35);
    assert_memory_equal(out, gsm7_readme, 35);
    cr_sms_release(&s);

    /* sizes: (fill + 7n + 7) / 8 */
    assert_int_equal(cr_sms_pack7(NULL, 0, 0, out), 0);
    assert_int_equal(cr_sms_pack7((const unsigned char *)"\x7f", 1, 0, out), 1);
    assert_int_equal(out[0], 0x7f);
    assert_int_equal(cr_sms_pack7((const unsigned char *)"\x7f", 1, 6, out), 2);
    assert_int_equal(out[0], 0xC0); /* six zero fill bits, then the septet's low two bits */
    assert_int_equal(out[1], 0x1F);
    assert_int_equal(cr_sms_pack7((const unsigned char *)"aaaaaaaa", 8, 0, out), 7);
    assert_int_equal(cr_sms_pack7((const unsigned char *)"aaaaaaaa", 8, 1, out), 8);
    /* only the low 7 bits of each byte count */
    assert_int_equal(cr_sms_pack7((const unsigned char *)"\xff\xff", 2, 0, out), 2);
    assert_int_equal(out[0], 0xFF);
    assert_int_equal(out[1], 0x3F);

    /* After the 6-octet UDH, (7 - 48 % 7) % 7 = 1 fill bit. */
    assert_int_equal((7 - 6 * 8 % 7) % 7, 1);
    assert_int_equal(cr_sms_pack7((const unsigned char *)"hellohello", 10, 1, out), 9);
    assert_memory_equal(out, hello_fill1, 9);
}

/* A concatenated part of 153 septets is exactly 140 octets on air: 6 UDH octets, 1 fill bit,
 * 1071 bits of septets; the second part here ends with "hellohello" after the fill bit. */
static void test_concat_packed(void **state)
{
    static const unsigned char hello_fill1[] = {0xd0, 0x65, 0x36, 0xfb, 0x8d,
                                                0x2e, 0xb3, 0xd9, 0x6f};
    struct cr_buf b = CR_BUF_INIT(0);
    struct cr_sms s;
    unsigned char air[200];
    size_t n;
    (void)state;
    sms_rep(&b, "a", 153);
    cr_buf_puts(&b, "hellohello");
    sms_encode_ok(&b, 0x42, &s);
    assert_int_equal(s.nparts, 2);
    sms_check_udh(&s, 0x42);
    assert_int_equal(s.parts[0].len, 6 + 153);
    memcpy(air, s.parts[0].data, 6);
    n = cr_sms_pack7(s.parts[0].data + 6, 153, 1, air + 6);
    assert_int_equal(6 + n, 140);
    assert_int_equal(s.parts[1].len, 6 + 10);
    n = cr_sms_pack7(s.parts[1].data + 6, 10, 1, air + 6);
    assert_int_equal(n, 9);
    assert_memory_equal(air + 6, hello_fill1, 9);
    cr_sms_release(&s);

    /* and one unconcatenated part of 160 septets is 140 octets */
    cr_buf_reset(&b);
    sms_rep(&b, "a", 160);
    sms_encode_ok(&b, 0, &s);
    assert_int_equal(cr_sms_pack7(s.parts[0].data, s.parts[0].len, 0, air), 140);
    cr_sms_release(&s);
    cr_buf_release(&b);
}

static void decode_is(const char *data, size_t len, int dc, const char *want)
{
    struct cr_buf out = CR_BUF_INIT(0);
    struct cr_err err = CR_ERR_INIT;
    assert_int_equal(cr_sms_decode((const unsigned char *)data, len, dc, &out, &err), 0);
    assert_int_equal(out.len, strlen(want));
    assert_memory_equal(out.data, want, out.len);
    cr_buf_release(&out);
}

static void decode_fails(const char *data, size_t len, int dc, int code, const char *msg)
{
    struct cr_buf out = CR_BUF_INIT(0);
    struct cr_err err = CR_ERR_INIT;
    cr_buf_puts(&out, "kept");
    assert_int_equal(cr_sms_decode((const unsigned char *)data, len, dc, &out, &err), code);
    assert_non_null(strstr(err.msg, msg));
    assert_string_equal(out.data, "kept"); /* nothing half-decoded is left */
    cr_buf_release(&out);
}

static void test_decode(void **state)
{
    char septets[128];
    char latin1[256];
    struct cr_buf out = CR_BUF_INIT(0);
    size_t n = 0;
    (void)state;
    for (unsigned c = 0; c < 128; c++)
        if (c != 0x1B)
            septets[n++] = (char)c;
    decode_is(septets, n, 0x00, sms_alphabet);
    decode_is(septets, n, 0xF1, sms_alphabet); /* GSM 7-bit, message class 1 */
    decode_is("\x1B\x0A\x1B\x14\x1B\x28\x1B\x29\x1B\x2F\x1B\x3C\x1B\x3D\x1B\x3E\x1B\x40\x1B\x65",
              20, 0x00, sms_extension);
    decode_is("\x1B\x41", 2, 0x00, "A");   /* not in the extension table: the main one */
    decode_is("ab\x1B", 3, 0x00, "ab ");   /* a trailing escape */
    decode_is("\033\033b", 3, 0x00, " b"); /* escape to a further table: a space */
    decode_fails("ab\x80", 3, 0x00, CR_EPROTO, "0x80 at offset 2");
    decode_fails("\x1B\xE5", 2, 0x00, CR_EPROTO, "offset 1");

    decode_is("\x00H\x00\xE9\xD8\x3D\xDE\x00\x20\xAC", 10, 0x08, "Hé😀€");
    decode_is("\xD8\x3D\x00x", 4, 0x08, "\xEF\xBF\xBDx"); /* lone high surrogate: U+FFFD */
    decode_is("\xDE\x00", 2, 0x08, "\xEF\xBF\xBD");       /* lone low surrogate */
    decode_is("\xD8\x3D", 2, 0x08, "\xEF\xBF\xBD");       /* high surrogate at the end */
    decode_fails("\x00H\x00", 3, 0x08, CR_EPROTO, "odd length");

    for (unsigned c = 0; c < 256; c++)
        latin1[c] = (char)c;
    assert_int_equal(cr_sms_decode((unsigned char *)latin1, 256, 0x03, &out, NULL), 0);
    assert_int_equal(out.len, 128 + 2 * 128);
    assert_memory_equal(out.data + 128 + 2 * (0xE9 - 0x80), "\xC3\xA9", 2); /* é */
    assert_true(cr_utf8_valid(out.data, out.len, NULL));
    cr_buf_release(&out);
    decode_is("caf\xE9", 4, 0x03, "café");

    decode_is("plain", 5, 0x01, "plain");
    decode_fails("pl\xE9", 3, 0x01, CR_EPROTO, "not ASCII");
    decode_fails("x", 1, 0x04, CR_EUNSUPPORTED, "data_coding 0x04");
    decode_fails("x", 1, 0xF4, CR_EUNSUPPORTED, "0xf4");

    /* the buffer's limit */
    cr_buf_init(&out, 3);
    assert_int_equal(cr_sms_decode((const unsigned char *)"abcd", 4, 0, &out, NULL), CR_ETOOBIG);
    assert_int_equal(out.len, 0);
    cr_buf_release(&out);
}

static void test_udh_parse(void **state)
{
    struct cr_sms_udh u;
    struct cr_err err = CR_ERR_INIT;
    (void)state;
    /* 16-bit reference */
    assert_int_equal(
        cr_sms_udh_parse((const unsigned char *)"\x06\x08\x04\x12\x34\x03\x02x", 8, &u, NULL), 0);
    assert_int_equal(u.len, 7);
    assert_int_equal(u.ref, 0x1234);
    assert_int_equal(u.total, 3);
    assert_int_equal(u.seq, 2);
    /* another IE first (national language single shift), then the 8-bit one */
    assert_int_equal(cr_sms_udh_parse((const unsigned char *)"\x08\x24\x01\x01\x00\x03\xAA\x02\x01",
                                      9, &u, NULL),
                     0);
    assert_int_equal(u.len, 9);
    assert_int_equal(u.ref, 0xAA);
    assert_int_equal(u.total, 2);
    assert_int_equal(u.seq, 1);
    /* seq > total is ignored; a repeated IE: the last counts */
    assert_int_equal(
        cr_sms_udh_parse((const unsigned char *)"\x05\x00\x03\x01\x02\x03", 6, &u, NULL), 0);
    assert_int_equal(u.total, 0);
    assert_int_equal(u.len, 6);
    assert_int_equal(cr_sms_udh_parse((const unsigned char *)"\x0A\x00\x03\x01\x02\x01\x00\x03"
                                                             "\x07\x04\x04",
                                      11, &u, NULL),
                     0);
    assert_int_equal(u.ref, 7);
    assert_int_equal(u.total, 4);
    assert_int_equal(u.seq, 4);
    /* a header or an element that runs past its length */
    assert_int_equal(cr_sms_udh_parse((const unsigned char *)"\x05\x00\x03\x01\x02", 5, &u, &err),
                     CR_EPROTO);
    assert_non_null(strstr(err.msg, "length 5 runs past the 5-octet message"));
    cr_err_clear(&err);
    assert_int_equal(
        cr_sms_udh_parse((const unsigned char *)"\x04\x00\x03\x01\x02\x01", 6, &u, &err),
        CR_EPROTO);
    assert_non_null(strstr(err.msg, "element at octet 1"));
    assert_int_equal(u.len, 0);
    assert_int_equal(cr_sms_udh_parse((const unsigned char *)"\x01\x00", 2, &u, NULL), CR_EPROTO);
    assert_int_equal(cr_sms_udh_parse((const unsigned char *)"", 0, &u, NULL), CR_EPROTO);
}

int run_gsm_wire_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pack_vectors),
        cmocka_unit_test(test_concat_packed),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_udh_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
