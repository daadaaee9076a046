/* test_csv.c - the RFC 4180 reader: quoting, line ends, errors that lose nothing else */
#include <string.h>

#include "core/csv.h"
#include "tests.h"

/* Reads all of src and renders each record as "line:f1|f2|…" or "line:!reason", joined by
 * newlines, so a case reads as one string. */
static void render(const char *src, size_t n, char sep, struct cr_buf *out)
{
    struct cr_csv_reader r;
    int rc;
    cr_csv_reader_init_mem(&r, src, n, sep);
    while (1) {
        struct cr_err e = CR_ERR_INIT;
        rc = cr_csv_next(&r, &e);
        if (rc == 0)
            break;
        cr_buf_printf(out, "%s%ld:", out->len ? "\n" : "", r.record_line);
        if (rc < 0) {
            cr_buf_printf(out, "!%s", strchr(e.msg, ':') + 2);
            continue;
        }
        for (size_t i = 0; i < r.nfields; i++) {
            size_t len;
            const char *f = cr_csv_field(&r, i, &len);
            cr_buf_printf(out, "%s%.*s", i ? "|" : "", (int)len, f);
        }
    }
    cr_csv_reader_release(&r);
}

static void check(const char *src, const char *want)
{
    struct cr_buf out = CR_BUF_INIT(0);
    render(src, strlen(src), ',', &out);
    if (strcmp(out.data, want) != 0)
        fail_msg("input:\n%s\ngot:\n%s\nwant:\n%s", src, out.data, want);
    cr_buf_release(&out);
}

static void test_rfc4180(void **state)
{
    (void)state;
    check("a,b,c\r\n1,2,3\r\n", "1:a|b|c\n2:1|2|3");
    check("a,b\n1,2", "1:a|b\n2:1|2");                       /* LF, no final line end */
    check("\"x, y\",\"he said \"\"hi\"\"\"\n", "1:x, y|he said \"hi\"");
    check("\"multi\nline\",z\nnext,row\n", "1:multi\nline|z\n3:next|row");
    check("a,,c\n,\n", "1:a||c\n2:|");                        /* empty fields */
    check("\xEF\xBB\xBF" "email\nx@y\n", "1:email\n2:x@y");     /* BOM skipped */
    check("\"\"\n", "1:");                                      /* one empty quoted field */
    check("a\r\n\r\nb\r\n", "1:a\n2:\n3:b");                  /* blank line = one empty field */
    check("a,\"b\r\nc\"\r\n", "1:a|b\r\nc");                    /* CRLF inside quotes kept */
}

static void test_errors_resync(void **state)
{
    (void)state;
    check("a\"b,c\nok,1\n", "1:!quote inside an unquoted field\n2:ok|1");
    check("\"x\"y,z\nok,2\n", "1:!text after a closing quote\n2:ok|2");
    check("ok,1\n\"never closed\nmore\n", "1:ok|1\n2:!unterminated quoted field");
}

static void test_separators_and_limits(void **state)
{
    struct cr_buf out = CR_BUF_INIT(0);
    struct cr_csv_reader r;
    struct cr_err e = CR_ERR_INIT;
    char big[300];
    (void)state;
    render("a;\"b;c\";d\n", 10, ';', &out);
    assert_string_equal(out.data, "1:a|b;c|d");
    cr_buf_release(&out);
    render("a\tb\n", 4, '\t', &out);
    assert_string_equal(out.data, "1:a|b");
    cr_buf_release(&out);

    memset(big, 'x', sizeof big);
    big[sizeof big - 1] = '\n';
    cr_csv_reader_init_mem(&r, big, sizeof big, ',');
    r.max_field = 100;
    assert_int_equal(cr_csv_next(&r, &e), CR_ETOOBIG);
    assert_non_null(strstr(e.msg, "field too long"));
    assert_int_equal(cr_csv_next(&r, NULL), 0);
    cr_csv_reader_release(&r);

    /* a NUL byte is refused, not silently cut */
    cr_csv_reader_init_mem(&r, "a\0b,c\n", 6, ',');
    assert_int_equal(cr_csv_next(&r, NULL), CR_ESYNTAX);
    cr_csv_reader_release(&r);
}

static void test_writer(void **state)
{
    struct cr_buf b = CR_BUF_INIT(0);
    (void)state;
    cr_csv_put_field(&b, "plain", 5, ',', 0);
    cr_buf_putc(&b, ',');
    cr_csv_put_field(&b, "a,b", 3, ',', 0);
    cr_buf_putc(&b, ',');
    cr_csv_put_field(&b, "say \"x\"", 7, ',', 0);
    cr_buf_putc(&b, ',');
    cr_csv_put_field(&b, "l1\nl2", 5, ',', 0);
    assert_string_equal(b.data, "plain,\"a,b\",\"say \"\"x\"\"\",\"l1\nl2\"");
    cr_buf_release(&b);
}

int run_csv_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4180),
        cmocka_unit_test(test_errors_resync),
        cmocka_unit_test(test_separators_and_limits),
        cmocka_unit_test(test_writer),
    };
    return cmocka_run_group_tests_name("csv", tests, NULL, NULL);
}
