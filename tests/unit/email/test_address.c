/* test_address.c - recipient address rules (cr_email_check): a table of valid addresses with
 * their normal form, and of invalid ones with the exact reason */
#include <stdlib.h>
#include <string.h>

#include "channel/email/address.h"
#include "core/buf.h"
#include "tests.h"

static const struct {
    const char *in, *want;
} valid[] = {
    {"jean@example.com", "jean@example.com"},
    {"  Jean.Dupont@Example.COM \t", "Jean.Dupont@example.com"}, /* local case kept */
    {"a@b.co", "a@b.co"},
    {"first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk"},
    {"!#$%&'*+-/=?^_`{|}~@example.com", "!#$%&'*+-/=?^_`{|}~@example.com"},
    {"\"john doe\"@example.com", "\"john doe\"@example.com"},
    {"\"a@b\"@example.com", "\"a@b\"@example.com"},
    {"\"quote\\\"inside\"@example.com", "\"quote\\\"inside\"@example.com"},
    {"\"\"@example.com", "\"\"@example.com"},
    {"user@[192.0.2.1]", "user@[192.0.2.1]"},
    {"user@[0.0.0.0]", "user@[0.0.0.0]"},
    {"user@a-b.example", "user@a-b.example"},
    {"user@123.example", "user@123.example"},
    {"user@example.xn--p1ai", "user@example.xn--p1ai"},
    /* IDN: converted to punycode, lower-cased through UTS #46 */
    {"jean@bücher.de", "jean@xn--bcher-kva.de"},
    {"jean@BÜCHER.DE", "jean@xn--bcher-kva.de"},
    {"info@例え.jp", "info@xn--r8jz45g.jp"},
    {"info@пример.рф", "info@xn--e1afmkfd.xn--p1ai"},
    {"a@xn--bcher-kva.de", "a@xn--bcher-kva.de"},
    {"a@straße.de", "a@xn--strae-oqa.de"}, /* non-transitional: ß kept */
    /* sizes at their limits */
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.com",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.com"},
    {"a@bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.com",
     "a@bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.com"},
};

static const struct {
    const char *in, *reason;
} invalid[] = {
    {"", "the address is empty"},
    {"   ", "the address is empty"},
    {"jean.example.com", "missing '@'"},
    {"@example.com", "the local part is empty"},
    {"jean@", "the domain is empty"},
    {"a@b@example.com", "the address has more than one '@' (quote the local part if it has "
                        "one: \"a@b\"@example.com)"},
    {"jean@exa mple.com", "the domain 'exa mple.com' has a space"},
    {"je an@example.com", "the local part 'je an' has a space"},
    {".jean@example.com", "the local part starts with a dot"},
    {"jean.@example.com", "the local part ends with a dot"},
    {"je..an@example.com", "the local part has two dots in a row"},
    {"je,an@example.com", "the local part has the character ',', which is only allowed in a "
                          "quoted local part (\"...\")"},
    {"jé@example.com", "the local part has a non-ASCII character (internationalised local parts "
                       "are not supported)"},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.com",
     "the local part is longer than 64 octets (65)"},
    {"\"unclosed@example.com", "the quoted local part has no closing '\"'"},
    {"\"a\"b@example.com", "the quoted local part is followed by 'b' instead of '@'"},
    {"\"a\tb\"@example.com", "the quoted local part has a tab"},
    {"\"a\\\tb\"@example.com", "the quoted local part has a tab"},
    {"Jean <jean@example.com>", "the address has an angle bracket (give the bare address, "
                                "user@example.com, without a display name or '<>')"},
    {"jean@localhost", "the domain 'localhost' has no dot"},
    {"jean@.example.com", "the domain '.example.com' starts with a dot"},
    {"jean@example.com.", "the domain 'example.com.' ends with a dot"},
    {"jean@example..com", "the domain 'example..com' has two dots in a row"},
    {"jean@exa_mple.com", "the domain 'exa_mple.com' has the character '_'"},
    {"jean@-example.com", "the domain label '-example' starts with a hyphen"},
    {"jean@example-.com", "the domain label 'example-' ends with a hyphen"},
    {"jean@example.123", "the top-level domain '123' is all digits (write an IP address as a "
                         "literal: user@[192.0.2.1])"},
    {"jean@192.0.2.1", "the top-level domain '1' is all digits (write an IP address as a "
                       "literal: user@[192.0.2.1])"},
    {"jean@[192.0.2.256]", "the address literal '[192.0.2.256]' is not an IPv4 address such as "
                           "[192.0.2.1] (IPv6 literals are not supported)"},
    {"jean@[01.0.2.1]", "the address literal '[01.0.2.1]' is not an IPv4 address such as "
                        "[192.0.2.1] (IPv6 literals are not supported)"},
    {"jean@[IPv6:2001:db8::1]", "the address literal '[IPv6:2001:db8::1]' is not an IPv4 address "
                                "such as [192.0.2.1] (IPv6 literals are not supported)"},
    {"jean@[1.2.3]", "the address literal '[1.2.3]' is not an IPv4 address such as [192.0.2.1] "
                     "(IPv6 literals are not supported)"},
    {"jean@xn--zz.com", "the domain label 'xn--zz' is not a valid punycode (xn--) label"},
    {"jean@ex\x01mple.com", "the address has a control character (0x01) at offset 7"},
    {"jean@example.com\x7f", "the address has a control character (0x7F) at offset 16"},
    {"jean@exa\xFFmple.com", "the domain is not valid UTF-8"},
    {"a@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
     "the domain label 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' is "
     "longer "
     "than 63 octets"},
};

static void test_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof valid / sizeof *valid; i++) {
        struct cr_buf b = CR_BUF_INIT(0);
        struct cr_err err = CR_ERR_INIT;
        if (cr_email_check(valid[i].in, &b, &err) != 0)
            fail_msg("'%s' refused: %s", valid[i].in, err.msg);
        if (strcmp(b.data, valid[i].want) != 0)
            fail_msg("'%s' -> '%s', not '%s'", valid[i].in, b.data, valid[i].want);
        /* the normal form is a fixed point */
        {
            struct cr_buf again = CR_BUF_INIT(0);
            assert_int_equal(cr_email_check(b.data, &again, &err), 0);
            assert_string_equal(again.data, b.data);
            cr_buf_release(&again);
        }
        cr_buf_release(&b);
    }
}

static void test_invalid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++) {
        struct cr_buf b = CR_BUF_INIT(0);
        struct cr_err err = CR_ERR_INIT;
        cr_buf_puts(&b, "keep");
        if (cr_email_check(invalid[i].in, &b, &err) != CR_EINVAL)
            fail_msg("'%s' accepted as '%s'", invalid[i].in, b.data);
        if (strcmp(err.msg, invalid[i].reason) != 0)
            fail_msg("'%s': reason '%s', not '%s'", invalid[i].in, err.msg, invalid[i].reason);
        assert_string_equal(b.data, "keep");
        cr_buf_release(&b);
    }
}

static void test_lengths(void **state)
{
    struct cr_buf in = CR_BUF_INIT(0), out = CR_BUF_INIT(0);
    struct cr_err err = CR_ERR_INIT;
    (void)state;
    /* a domain of 4 x 63-octet labels and a 1-octet one: 257 octets */
    cr_buf_puts(&in, "a@");
    for (int l = 0; l < 4; l++) {
        for (int i = 0; i < 63; i++)
            cr_buf_putc(&in, 'b');
        cr_buf_putc(&in, '.');
    }
    cr_buf_puts(&in, "c");
    assert_int_equal(cr_email_check(in.data, &out, &err), CR_EINVAL);
    assert_string_equal(err.msg, "the domain is longer than 253 octets (257)");
    /* 64 + 1 + 192 octets: each part within its limit, the whole beyond 254 */
    cr_buf_reset(&in);
    for (int i = 0; i < 64; i++)
        cr_buf_putc(&in, 'a');
    cr_buf_putc(&in, '@');
    for (int l = 0; l < 3; l++) {
        for (int i = 0; i < 62; i++)
            cr_buf_putc(&in, 'b');
        cr_buf_putc(&in, '.');
    }
    cr_buf_puts(&in, "com");
    cr_err_clear(&err);
    assert_int_equal(cr_email_check(in.data, &out, &err), CR_EINVAL);
    assert_string_equal(err.msg, "the address is longer than 254 octets (257)");
    /* very long input is refused before any work */
    cr_buf_reset(&in);
    for (int i = 0; i < 5000; i++)
        cr_buf_putc(&in, 'a');
    cr_err_clear(&err);
    assert_int_equal(cr_email_check(in.data, &out, &err), CR_EINVAL);
    assert_string_equal(err.msg, "the address is longer than 254 octets (5000)");
    cr_err_clear(&err);
    assert_int_equal(cr_email_check(NULL, &out, &err), CR_EINVAL);
    assert_string_equal(err.msg, "the address is missing");
    /* appends; out's limit is honoured */
    cr_buf_reset(&out);
    cr_buf_puts(&out, "x=");
    assert_int_equal(cr_email_check("a@b.fr", &out, NULL), 0);
    assert_string_equal(out.data, "x=a@b.fr");
    cr_buf_release(&out);
    cr_buf_init(&out, 4);
    assert_int_equal(cr_email_check("a@b.fr", &out, NULL), CR_ETOOBIG);
    assert_int_equal(out.len, 0);
    cr_buf_release(&out);
    cr_buf_release(&in);
}

static void test_idn_errors(void **state)
{
    struct cr_buf out = CR_BUF_INIT(0);
    struct cr_err err = CR_ERR_INIT;
    (void)state;
    /* a disallowed code point (U+2615 is allowed; U+FFFD is not) */
    assert_int_equal(cr_email_check("a@b\xEF\xBF\xBD.com", &out, &err), CR_EINVAL);
    assert_non_null(strstr(err.msg, "the domain 'b\xEF\xBF\xBD.com' is not a valid "
                                    "internationalised domain name ("));
    cr_buf_release(&out);
}

int run_address_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_idn_errors),
    };
    return cmocka_run_group_tests_name("address", tests, NULL, NULL);
}
