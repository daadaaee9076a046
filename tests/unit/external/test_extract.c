/* test_extract.c - extraction files: exact bytes for each option (CSV quoting, separators,
 * quotes, header, line endings, fixed width and alignment, BOM, ISO-8859-1 and all of
 * Windows-1252's specials), gzip inflated back, counters, and every error of the format check
 * and of the rows (unencodable characters, invalid UTF-8, too long, line breaks, I/O) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "channel/external/extract.h"
#include "core/buf.h"

/* ---- helpers ---- */

static const char END[] = "\x01(end of rows)";
#define ROWS(...) ((const char *const[]){__VA_ARGS__, END})
#define NOROWS ((const char *const[]){END})

static json_t *load(const char *json, int line)
{
    json_error_t je;
    json_t *f = json_loads(json, 0, &je);
    if (!f)
        fail_msg("line %d: bad test JSON %s: %s", line, json, je.text);
    return f;
}

static size_t ncols_of(const json_t *f)
{
    return json_array_size(json_object_get(f, "columns"));
}

/* Writes the rows (ncols values each, from the format) into memory; returns the bytes. */
static char *write_file(const char *fmt, const char *const *vals, size_t *len, int64_t *rows,
                        int64_t *bytes, int line)
{
    json_t *f = load(fmt, line);
    struct cr_err e = CR_ERR_INIT;
    struct cr_extract *x;
    char *p = NULL;
    size_t n = 0, nc = ncols_of(f);
    FILE *out = open_memstream(&p, &n);
    int rc = cr_extract_open(f, out, &x, &e);
    if (rc)
        fail_msg("line %d: open: %s %s", line, cr_errname(rc), e.msg);
    for (size_t i = 0; vals[i] != END; i += nc) {
        rc = cr_extract_row(x, vals + i, nc, &e);
        if (rc)
            fail_msg("line %d: row %zu: %s %s", line, i / nc + 1, cr_errname(rc), e.msg);
    }
    rc = cr_extract_close(x, rows, bytes, &e);
    if (rc)
        fail_msg("line %d: close: %s %s", line, cr_errname(rc), e.msg);
    fclose(out);
    json_decref(f);
    *len = n;
    return p;
}

static void show_diff(const char *got, size_t glen, const char *want, size_t wlen, int line)
{
    size_t i = 0;
    while (i < glen && i < wlen && got[i] == want[i])
        i++;
    print_error("line %d: output differs at byte %zu (got %zu bytes, want %zu)\n", line, i,
                glen, wlen);
    print_error("got:  ");
    for (size_t k = 0; k < glen && k < 400; k++)
        print_error(got[k] >= 0x20 && got[k] < 0x7F ? "%c" : "\\x%02x", (unsigned char)got[k]);
    print_error("\nwant: ");
    for (size_t k = 0; k < wlen && k < 400; k++)
        print_error(want[k] >= 0x20 && want[k] < 0x7F ? "%c" : "\\x%02x",
                    (unsigned char)want[k]);
    print_error("\n");
}

/* The file written from fmt and the rows is exactly want (a literal: NULs allowed). */
#define assert_out(fmt, rows, want) check_out(fmt, rows, want, sizeof(want) - 1, __LINE__)
static void check_out(const char *fmt, const char *const *vals, const char *want, size_t wlen,
                      int line)
{
    size_t n;
    int64_t rows = -1, bytes = -1, nrows = 0;
    char *got = write_file(fmt, vals, &n, &rows, &bytes, line);
    json_t *f = load(fmt, line);
    for (size_t i = 0; vals[i] != END; i += ncols_of(f))
        nrows++;
    json_decref(f);
    if (n != wlen || memcmp(got, want, n) != 0) {
        show_diff(got, n, want, wlen, line);
        fail_msg("line %d: unexpected output", line);
    }
    if (rows != nrows || bytes != (int64_t)n)
        fail_msg("line %d: counters %lld rows %lld bytes, want %lld and %zu", line,
                 (long long)rows, (long long)bytes, (long long)nrows, n);
    free(got);
}

/* cr_extract_check (and cr_extract_open) refuse fmt with exactly msg. */
#define assert_check_err(fmt, msg) check_check_err(fmt, msg, __LINE__)
static void check_check_err(const char *fmt, const char *msg, int line)
{
    json_t *f = load(fmt, line);
    struct cr_err e = CR_ERR_INIT, e2 = CR_ERR_INIT;
    struct cr_extract *x = (struct cr_extract *)1;
    int rc = cr_extract_check(f, &e);
    if (rc != CR_EINVAL || e.code != CR_EINVAL || strcmp(e.msg, msg) != 0)
        fail_msg("line %d: check gave %s '%s', want EINVAL '%s'", line, cr_errname(rc), e.msg,
                 msg);
    rc = cr_extract_open(f, stdout, &x, &e2);
    if (rc != CR_EINVAL || strcmp(e2.msg, msg) != 0 || x != NULL)
        fail_msg("line %d: open gave %s '%s'", line, cr_errname(rc), e2.msg);
    assert_int_equal(cr_extract_check(f, NULL), CR_EINVAL); /* err is optional */
    json_decref(f);
}

#define assert_check_ok(fmt) check_check_ok(fmt, __LINE__)
static void check_check_ok(const char *fmt, int line)
{
    json_t *f = load(fmt, line);
    struct cr_err e = CR_ERR_INIT;
    int rc = cr_extract_check(f, &e);
    if (rc)
        fail_msg("line %d: check gave %s '%s'", line, cr_errname(rc), e.msg);
    json_decref(f);
}

/* The rows fail (at some row) with code and exactly msg. want is the good rows before it: the
 * file holds a prefix of them (they may still be buffered), nothing of the failed row. */
#define assert_row_err(fmt, rows, code, msg, want) \
    check_row_err(fmt, rows, code, msg, want, sizeof(want) - 1, __LINE__)
static void check_row_err(const char *fmt, const char *const *vals, int code, const char *msg,
                          const char *want, size_t wlen, int line)
{
    json_t *f = load(fmt, line);
    struct cr_err e = CR_ERR_INIT, e2 = CR_ERR_INIT;
    struct cr_extract *x;
    char *p = NULL;
    size_t n = 0, nc = ncols_of(f), i;
    FILE *out = open_memstream(&p, &n);
    int rc = cr_extract_open(f, out, &x, &e);
    int64_t rows = -1;
    if (rc)
        fail_msg("line %d: open: %s %s", line, cr_errname(rc), e.msg);
    for (i = 0; vals[i] != END; i += nc) {
        rc = cr_extract_row(x, vals + i, nc, &e);
        if (rc)
            break;
    }
    if (rc != code || e.code != code || strcmp(e.msg, msg) != 0)
        fail_msg("line %d: rows gave %s '%s', want %s '%s'", line, cr_errname(rc), e.msg,
                 cr_errname(code), msg);
    /* the writer refuses to go on, and close reports that the file is unfinished */
    assert_int_equal(cr_extract_row(x, vals, nc, &e2), CR_ESTATE);
    cr_err_clear(&e2);
    assert_int_equal(cr_extract_close(x, &rows, NULL, &e2), CR_ESTATE);
    assert_string_equal(e2.msg, "the extraction file was not finished: a row failed");
    assert_int_equal(rows, (int64_t)(i / nc));
    fclose(out);
    if (n > wlen || memcmp(p, want, n) != 0) {
        show_diff(p, n, want, wlen, line);
        fail_msg("line %d: a failed file holds more than it should", line);
    }
    free(p);
    json_decref(f);
}

/* ---- CSV ---- */

static void test_csv_defaults(void **state)
{
    (void)state;
    assert_out("{\"columns\": [{\"label\": \"Name\", \"value\": \"first_name\"},"
               " {\"label\": \"City\"}]}",
               ROWS("Ann", "Paris", "Bob", NULL), "Name,City\r\nAnn,Paris\r\nBob,\r\n");
    /* a header alone */
    assert_out("{\"columns\": [{\"label\": \"A\"}, {\"label\": \"B\"}]}", NOROWS, "A,B\r\n");
    /* every key given with its default value */
    assert_out("{\"format\": \"csv\", \"header\": true, \"separator\": \",\", \"quote\": \"\\\"\","
               " \"quoting\": \"minimal\", \"encoding\": \"utf-8\", \"line_ending\": \"crlf\","
               " \"gzip\": false, \"columns\": [{\"label\": \"A\"}, {\"label\": \"B\"}]}",
               ROWS("1", "2"), "A,B\r\n1,2\r\n");
}

static void test_csv_minimal_quoting(void **state)
{
    (void)state;
    /* separator, quote, LF, CR, CRLF, leading and trailing space or tab: quoted; inner
     * spaces, empty and NULL: not */
    assert_out("{\"header\": false, \"columns\": [{\"label\": \"v\"}, {\"label\": \"w\"}]}",
               ROWS("a,b", "say \"hi\"",               /**/
                    "l1\nl2", "c\rd",                  /**/
                    "e\r\nf", "\"",                    /**/
                    " lead", "trail ",                 /**/
                    "\ttab", "tab\t",                  /**/
                    "in side", "",                     /**/
                    NULL, "x;y|z'w",                   /**/
                    "Zoë 😀", "\"\"",                  /**/
                    " ", "à,é"),
               "\"a,b\",\"say \"\"hi\"\"\"\r\n"
               "\"l1\nl2\",\"c\rd\"\r\n"
               "\"e\r\nf\",\"\"\"\"\r\n"
               "\" lead\",\"trail \"\r\n"
               "\"\ttab\",\"tab\t\"\r\n"
               "in side,\r\n"
               ",x;y|z'w\r\n"
               "Zoë 😀,\"\"\"\"\"\"\r\n"
               "\" \",\"à,é\"\r\n");
}

static void test_csv_leading_bom_character(void **state)
{
    (void)state;
    /* U+FEFF first in a value is quoted: first in the file, readers would drop it as a BOM */
    assert_out("{\"columns\": [{\"label\": \"\\ufeffId\"}, {\"label\": \"B\"}]}",
               ROWS("\xEF\xBB\xBFx", "a\xEF\xBB\xBF"),
               "\"\xEF\xBB\xBFId\",B\r\n\"\xEF\xBB\xBFx\",a\xEF\xBB\xBF\r\n");
}

static void test_csv_quoting_all(void **state)
{
    (void)state;
    /* every value and label quoted; NULL stays an unquoted empty field, unlike "" */
    assert_out("{\"quoting\": \"all\", \"columns\": [{\"label\": \"A\"}, {\"label\": \"B\"},"
               " {\"label\": \"C\"}]}",
               ROWS("a", "", NULL, "say \"hi\"", "x,y", "1"),
               "\"A\",\"B\",\"C\"\r\n\"a\",\"\",\r\n\"say \"\"hi\"\"\",\"x,y\",\"1\"\r\n");
}

static void test_csv_separators_and_quotes(void **state)
{
    (void)state;
    assert_out("{\"separator\": \";\", \"quote\": \"'\", \"header\": false,"
               " \"columns\": [{\"label\": \"a\"}, {\"label\": \"b\"}, {\"label\": \"c\"}]}",
               ROWS("a;b", "it's", "x,y \"z\""), "'a;b';'it''s';x,y \"z\"\r\n");
    assert_out("{\"separator\": \"\\t\", \"header\": false,"
               " \"columns\": [{\"label\": \"a\"}, {\"label\": \"b\"}]}",
               ROWS("a\tb", "c,d", "e f", "g"), "\"a\tb\"\tc,d\r\ne f\tg\r\n");
    assert_out("{\"separator\": \"|\", \"line_ending\": \"lf\","
               " \"columns\": [{\"label\": \"x|y\"}, {\"label\": \"z\"}]}",
               ROWS("1|2", "3"), "\"x|y\"|z\n\"1|2\"|3\n");
}

static void test_csv_line_endings_and_header(void **state)
{
    (void)state;
    assert_out("{\"line_ending\": \"lf\", \"columns\": [{\"label\": \"A\"}, {\"label\": \"B\"}]}",
               ROWS("1", "2", "3", "4"), "A,B\n1,2\n3,4\n");
    assert_out("{\"line_ending\": \"crlf\", \"header\": false,"
               " \"columns\": [{\"label\": \"A\"}, {\"label\": \"B\"}]}",
               ROWS("1", "2"), "1,2\r\n");
    assert_out("{\"header\": false, \"columns\": [{\"label\": \"A\"}]}", NOROWS, "");
    /* values are case-insensitive */
    assert_out("{\"line_ending\": \"LF\", \"quoting\": \"ALL\", \"header\": false,"
               " \"columns\": [{\"label\": \"A\"}]}",
               ROWS("1"), "\"1\"\n");
}

static void test_csv_labels_needing_quotes(void **state)
{
    (void)state;
    assert_out("{\"columns\": [{\"label\": \"Name, first\"}, {\"label\": \"Say \\\"x\\\"\"},"
               " {\"label\": \" pad\"}, {\"label\": \"two\\nlines\"}, {\"label\": \"\"}]}",
               ROWS("a", "b", "c", "d", "e"),
               "\"Name, first\",\"Say \"\"x\"\"\",\" pad\",\"two\nlines\",\r\na,b,c,d,e\r\n");
}

static void test_csv_single_column(void **state)
{
    (void)state;
    /* an empty only field is quoted, or the line would be blank (readers skip those) */
    assert_out("{\"columns\": [{\"label\": \"Email\"}]}", ROWS("a@x.fr", "", NULL, "b"),
               "Email\r\na@x.fr\r\n\"\"\r\n\"\"\r\nb\r\n");
    assert_out("{\"columns\": [{\"label\": \"\"}]}", ROWS("x"), "\"\"\r\nx\r\n");
}

/* ---- encodings ---- */

static void test_bom(void **state)
{
    (void)state;
    assert_out("{\"encoding\": \"utf-8-bom\", \"columns\": [{\"label\": \"Prénom\"}]}",
               ROWS("Zoë"), "\xEF\xBB\xBFPr\xC3\xA9nom\r\nZo\xC3\xAB\r\n");
    /* the BOM comes first even without a header, and an empty file is the BOM */
    assert_out("{\"encoding\": \"utf-8-bom\", \"header\": false,"
               " \"columns\": [{\"label\": \"A\"}]}",
               ROWS("x"), "\xEF\xBB\xBFx\r\n");
    assert_out("{\"encoding\": \"utf-8-bom\", \"header\": false,"
               " \"columns\": [{\"label\": \"A\"}]}",
               NOROWS, "\xEF\xBB\xBF");
    /* plain utf-8: no BOM, every code point kept */
    assert_out("{\"encoding\": \"utf-8\", \"header\": false, \"columns\": [{\"label\": \"A\"}]}",
               ROWS("\x7F\xC2\x80\xF4\x8F\xBF\xBF😀"), "\x7F\xC2\x80\xF4\x8F\xBF\xBF😀\r\n");
}

static void test_iso_8859_1(void **state)
{
    (void)state;
    assert_out("{\"encoding\": \"iso-8859-1\", \"columns\": [{\"label\": \"Prénom\"},"
               " {\"label\": \"Ville\"}]}",
               ROWS("Zoë", "Besançon", "\xC2\x80\xC2\x9F\xC2\xA0ÿ", "ASCII, \"q\""),
               "Pr\xE9nom,Ville\r\nZo\xEB,Besan\xE7on\r\n\x80\x9F\xA0\xFF,\"ASCII, \"\"q\"\"\"\r\n");
    /* U+0001..U+00FF all map to their byte */
    {
        char in[512], want[300], *got;
        size_t o = 0, n;
        int64_t rows, bytes;
        for (unsigned cp = 1; cp < 0x100; cp++) {
            if (cp == ',' || cp == '"' || cp == '\r' || cp == '\n')
                continue;
            if (cp < 0x80) {
                in[o++] = (char)cp;
            } else {
                in[o++] = (char)(0xC0 | (cp >> 6));
                in[o++] = (char)(0x80 | (cp & 0x3F));
            }
        }
        in[o] = '\0';
        n = 0;
        for (unsigned cp = 1; cp < 0x100; cp++)
            if (cp != ',' && cp != '"' && cp != '\r' && cp != '\n')
                want[n++] = (char)cp;
        memcpy(want + n, "\r\n", 2);
        n += 2;
        {
            const char *vals[] = {in, END};
            size_t glen;
            got = write_file("{\"encoding\": \"iso-8859-1\", \"header\": false,"
                             " \"columns\": [{\"label\": \"A\"}]}",
                             vals, &glen, &rows, &bytes, __LINE__);
            assert_int_equal(glen, n);
            assert_memory_equal(got, want, n);
            free(got);
        }
    }
}

/* The 27 characters Windows-1252 puts in 0x80-0x9F, in byte order. */
static const char cp1252_specials[] = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ";
static const char cp1252_bytes[] = "\x80\x82\x83\x84\x85\x86\x87\x88\x89\x8A\x8B\x8C\x8E"
                                   "\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9A\x9B\x9C\x9E\x9F";

static void test_windows_1252(void **state)
{
    (void)state;
    assert_int_equal(sizeof cp1252_bytes - 1, 27);
    assert_out("{\"encoding\": \"windows-1252\", \"header\": false,"
               " \"columns\": [{\"label\": \"A\"}, {\"label\": \"B\"}]}",
               ROWS(cp1252_specials, "Zoë à ÿ\xC2\xA0"),
               "\x80\x82\x83\x84\x85\x86\x87\x88\x89\x8A\x8B\x8C\x8E"
               "\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9A\x9B\x9C\x9E\x9F,Zo\xEB \xE0 \xFF\xA0\r\n");
    /* one by one, so each mapping is checked on its own */
    for (size_t i = 0, k = 0; i < sizeof cp1252_specials - 1; k++) {
        size_t len = ((unsigned char)cp1252_specials[i] >> 4) == 0xE ? 3 : 2;
        char one[5] = {0}, *got;
        const char *vals[] = {one, END};
        size_t n;
        int64_t rows, bytes;
        memcpy(one, cp1252_specials + i, len);
        got = write_file("{\"encoding\": \"windows-1252\", \"header\": false,"
                         " \"line_ending\": \"lf\", \"columns\": [{\"label\": \"A\"}]}",
                         vals, &n, &rows, &bytes, __LINE__);
        assert_int_equal(n, 2);
        assert_int_equal((unsigned char)got[0], (unsigned char)cp1252_bytes[k]);
        free(got);
        i += len;
    }
    /* the labels are encoded too */
    assert_out("{\"encoding\": \"windows-1252\", \"columns\": [{\"label\": \"Œuvre €\"}]}",
               ROWS("x"), "\x8Cuvre \x80\r\nx\r\n");
}

static void test_unencodable(void **state)
{
    (void)state;
    /* the message names the row (data rows, 1-based), the column, the value and the character */
    assert_row_err("{\"encoding\": \"windows-1252\", \"columns\": [{\"label\": \"Id\"},"
                   " {\"label\": \"Name\"}]}",
                   ROWS("1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f", "7", "g", "8",
                        "h", "9", "i", "10", "j", "11", "k", "12", "Zoë 😀", "13", "m"),
                   CR_EINVAL,
                   "row 12, column 'Name': 'Zoë 😀' has U+1F600 (character 5), which "
                   "windows-1252 cannot hold",
                   "Id,Name\r\n1,a\r\n2,b\r\n3,c\r\n4,d\r\n5,e\r\n6,f\r\n7,g\r\n8,h\r\n9,i\r\n"
                   "10,j\r\n11,k\r\n");
    assert_row_err("{\"encoding\": \"iso-8859-1\", \"header\": false,"
                   " \"columns\": [{\"label\": \"Price\"}]}",
                   ROWS("12 €"), CR_EINVAL,
                   "row 1, column 'Price': '12 €' has U+20AC (character 4), which iso-8859-1 "
                   "cannot hold",
                   "");
    /* the five bytes Windows-1252 leaves undefined hold nothing: U+0081 has no byte */
    assert_row_err("{\"encoding\": \"windows-1252\", \"header\": false,"
                   " \"columns\": [{\"label\": \"A\"}]}",
                   ROWS("ok", "\xC2\x81"), CR_EINVAL,
                   "row 2, column 'A': '\xC2\x81' has U+0081 (character 1), which windows-1252 "
                   "cannot hold",
                   "ok\r\n");
    static const char *const undefined[] = {"\xC2\x81", "\xC2\x8D", "\xC2\x8F", "\xC2\x90",
                                            "\xC2\x9D", "\xC2\x80", "\xC2\x9F", "Ā"};
    for (size_t i = 0; i < sizeof undefined / sizeof *undefined; i++) {
        json_t *f = load("{\"encoding\": \"windows-1252\", \"columns\": [{\"label\": \"A\"}]}",
                         __LINE__);
        struct cr_extract *x;
        FILE *out = fopen("/dev/null", "w");
        struct cr_err e = CR_ERR_INIT;
        assert_int_equal(cr_extract_open(f, out, &x, NULL), 0);
        assert_int_equal(cr_extract_row(x, &undefined[i], 1, &e), CR_EINVAL);
        assert_non_null(strstr(e.msg, "which windows-1252 cannot hold"));
        cr_extract_abort(x);
        fclose(out);
        json_decref(f);
    }
    /* a fixed-width file too; a long value is cut in the message */
    assert_row_err("{\"format\": \"fixed\", \"encoding\": \"iso-8859-1\", \"header\": false,"
                   " \"columns\": [{\"label\": \"T\", \"width\": 100}]}",
                   ROWS("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ “quoted”"), CR_EINVAL,
                   "row 1, column 'T': 'abcdefghijklmnopqrstuvwxyz0123456789ABCD...' has "
                   "U+201C (character 48), which iso-8859-1 cannot hold",
                   "");
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    assert_row_err("{\"columns\": [{\"label\": \"A\"}, {\"label\": \"Name\"}]}",
                   ROWS("1", "ok", "2", "ab\xFF"
                                        "c"),
                   CR_EINVAL,
                   "row 2, column 'Name': 'ab\\xffc' is not valid UTF-8 (byte 0xff at offset 2)",
                   "A,Name\r\n1,ok\r\n");
    /* overlong, surrogate, truncated: every encoding checks */
    assert_row_err("{\"encoding\": \"iso-8859-1\", \"header\": false,"
                   " \"columns\": [{\"label\": \"A\"}]}",
                   ROWS("\xC0\xAF"), CR_EINVAL,
                   "row 1, column 'A': '\\xc0\\xaf' is not valid UTF-8 (byte 0xc0 at offset 0)",
                   "");
    assert_row_err("{\"encoding\": \"windows-1252\", \"header\": false,"
                   " \"columns\": [{\"label\": \"A\"}]}",
                   ROWS("x\xED\xA0\x80"), CR_EINVAL,
                   "row 1, column 'A': 'x\\xed\\xa0\\x80' is not valid UTF-8 (byte 0xed at "
                   "offset 1)",
                   "");
    assert_row_err("{\"format\": \"fixed\", \"header\": false,"
                   " \"columns\": [{\"label\": \"A\", \"width\": 9}]}",
                   ROWS("é\xC3"), CR_EINVAL,
                   "row 1, column 'A': 'é\\xc3' is not valid UTF-8 (byte 0xc3 at offset 2)", "");
}

/* ---- fixed width ---- */

static const char fixed2[] =
    "{\"format\": \"fixed\", \"columns\": [{\"label\": \"Name\", \"width\": 6},"
    " {\"label\": \"Amt\", \"width\": 5, \"align\": \"right\"}]}";

static void test_fixed(void **state)
{
    (void)state;
    /* widths in characters (code points), spaces around, the header aligned the same way */
    assert_out(fixed2, ROWS("Zoë", "12", NULL, "3", "", "", "abcdef", "12345", "Zoë😀ab", "é"),
               "Name    Amt\r\n"
               "Zoë      12\r\n"
               "          3\r\n"
               "           \r\n"
               "abcdef12345\r\n"
               "Zoë😀ab    é\r\n");
    assert_out("{\"format\": \"fixed\", \"header\": false, \"line_ending\": \"lf\","
               " \"encoding\": \"windows-1252\", \"columns\": [{\"label\": \"N\", \"width\": 4,"
               " \"align\": \"left\"}, {\"label\": \"P\", \"width\": 3, \"align\": \"right\"}]}",
               ROWS("Zoë", "€", "a,\"b", "\t"), "Zo\xEB   \x80\na,\"b  \t\n");
    assert_out("{\"format\": \"fixed\", \"encoding\": \"utf-8-bom\","
               " \"columns\": [{\"label\": \"Id\", \"width\": 3, \"align\": \"right\"}]}",
               ROWS("7"), "\xEF\xBB\xBF Id\r\n  7\r\n");
    /* no header: labels need not fit */
    assert_out("{\"format\": \"fixed\", \"header\": false,"
               " \"columns\": [{\"label\": \"Long label\", \"width\": 2}]}",
               ROWS("ab"), "ab\r\n");
}

static void test_fixed_errors(void **state)
{
    (void)state;
    assert_row_err(fixed2, ROWS("Ann", "1", "Bartholomew", "2"), CR_EINVAL,
                   "row 2, column 'Name': 'Bartholomew' is 11 characters, longer than the "
                   "width 6",
                   "Name    Amt\r\nAnn      1\r\n");
    assert_row_err(fixed2, ROWS("Ann", "123456"), CR_EINVAL,
                   "row 1, column 'Amt': '123456' is 6 characters, longer than the width 5",
                   "Name    Amt\r\n");
    assert_row_err(fixed2, ROWS("a\nb", "1"), CR_EINVAL,
                   "row 1, column 'Name': 'a\\nb' has a line break, which a fixed-width file "
                   "cannot hold",
                   "Name    Amt\r\n");
    assert_row_err(fixed2, ROWS("ab", "1\r"), CR_EINVAL,
                   "row 1, column 'Amt': '1\\r' has a line break, which a fixed-width file "
                   "cannot hold",
                   "Name    Amt\r\n");
}

/* ---- rows, counters, big values, I/O ---- */

static void test_row_errors(void **state)
{
    (void)state;
    json_t *f = load("{\"columns\": [{\"label\": \"A\"}, {\"label\": \"B\"}]}", __LINE__);
    struct cr_extract *x;
    struct cr_err e = CR_ERR_INIT;
    const char *vals[] = {"1", "2", "3"};
    char *p = NULL;
    size_t n = 0;
    int64_t rows = -1, bytes = -1;
    FILE *out = open_memstream(&p, &n);
    assert_int_equal(cr_extract_open(f, out, &x, &e), 0);
    assert_int_equal(cr_extract_row(x, vals, 2, &e), 0);
    assert_int_equal(cr_extract_row(x, vals, 3, &e), CR_EINVAL);
    assert_string_equal(e.msg, "row 2 has 3 values; the format has 2 columns");
    cr_err_clear(&e);
    assert_int_equal(cr_extract_row(x, vals, 2, &e), CR_ESTATE);
    assert_string_equal(e.msg, "the extraction file already failed; it cannot go on");
    assert_int_equal(cr_extract_close(x, &rows, &bytes, NULL), CR_ESTATE);
    assert_int_equal(rows, 1);
    assert_int_equal(bytes, 0); /* nothing reached the file */
    fclose(out);
    assert_int_equal(n, 0);
    free(p);
    json_decref(f);
    cr_extract_abort(NULL);
}

static void test_many_rows_and_big_values(void **state)
{
    (void)state;
    /* rows that cross the buffer's flush point many times, and one value bigger than it */
    struct cr_buf want = CR_BUF_INIT(0);
    size_t nvals = 3 * 40000 + 3, n;
    const char **vals = calloc(nvals + 1, sizeof *vals);
    char (*nums)[24] = calloc(40000, sizeof *nums);
    char *big = malloc(1 << 20), *got;
    int64_t rows, bytes;
    memset(big, '"', (1 << 20) - 1);
    big[(1 << 20) - 1] = '\0';
    cr_buf_puts(&want, "n,text,empty\r\n");
    for (int i = 0; i < 40000; i++) {
        snprintf(nums[i], sizeof nums[i], "%d", i);
        vals[3 * i] = nums[i];
        vals[3 * i + 1] = i % 3 ? "plain text here" : "needs, quoting";
        vals[3 * i + 2] = i % 2 ? NULL : "";
        cr_buf_printf(&want, "%d,%s,\r\n", i, i % 3 ? "plain text here" : "\"needs, quoting\"");
    }
    vals[3 * 40000] = "last";
    vals[3 * 40000 + 1] = big;
    vals[3 * 40000 + 2] = "end";
    vals[nvals] = END;
    cr_buf_puts(&want, "last,\"");
    for (int i = 0; i < 2 * ((1 << 20) - 1); i++)
        cr_buf_putc(&want, '"');
    cr_buf_puts(&want, "\",end\r\n");
    assert_int_equal(want.err, 0);
    got = write_file("{\"columns\": [{\"label\": \"n\"}, {\"label\": \"text\"},"
                     " {\"label\": \"empty\"}]}",
                     vals, &n, &rows, &bytes, __LINE__);
    assert_int_equal(rows, 40001);
    assert_int_equal(bytes, (int64_t)n);
    assert_int_equal(n, want.len);
    assert_memory_equal(got, want.data, n);
    free(got);
    /* a bad last row after many flushes: the file holds good rows only, none of the bad one */
    {
        json_t *f = load("{\"columns\": [{\"label\": \"n\"}, {\"label\": \"text\"},"
                         " {\"label\": \"empty\"}]}",
                         __LINE__);
        struct cr_extract *x;
        char *p = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&p, &len);
        int rc = 0;
        vals[3 * 40000 + 1] = "bad \xFF";
        assert_int_equal(cr_extract_open(f, out, &x, NULL), 0);
        for (size_t i = 0; i < nvals && rc == 0; i += 3)
            rc = cr_extract_row(x, vals + i, 3, NULL);
        assert_int_equal(rc, CR_EINVAL);
        cr_extract_abort(x);
        fclose(out);
        assert_true(len > 0 && len < want.len - (1 << 21));
        assert_memory_equal(p, want.data, len);
        assert_int_equal(p[len - 1], '\n');
        free(p);
        json_decref(f);
    }
    free(big);
    free(nums);
    free(vals);
    cr_buf_release(&want);
}

static void test_write_error(void **state)
{
    (void)state;
    json_t *f = load("{\"columns\": [{\"label\": \"A\"}]}", __LINE__);
    struct cr_extract *x;
    struct cr_err e = CR_ERR_INIT;
    const char *v[] = {"0123456789012345678901234567890123456789"};
    FILE *out = fopen("/dev/full", "w");
    int rc = 0;
    if (!out)
        skip();
    assert_int_equal(cr_extract_open(f, out, &x, &e), 0);
    for (int i = 0; i < 20000 && rc == 0; i++) /* 840 KB: several flushes */
        rc = cr_extract_row(x, v, 1, &e);
    if (rc == 0)
        rc = cr_extract_close(x, NULL, NULL, &e);
    else
        cr_extract_abort(x);
    assert_int_equal(rc, CR_EIO);
    assert_non_null(strstr(e.msg, "cannot write the extraction file"));
    fclose(out);
    json_decref(f);
}

/* ---- gzip ---- */

static char *inflate_all(const char *p, size_t n, size_t *out_len)
{
    z_stream z;
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    int rc;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK); /* gzip only, not raw zlib */
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)n;
    do {
        if (cap - len < 4096) {
            cap *= 2;
            out = realloc(out, cap);
        }
        z.next_out = (Bytef *)out + len;
        z.avail_out = (uInt)(cap - len);
        rc = inflate(&z, Z_NO_FLUSH);
        len = cap - z.avail_out;
    } while (rc == Z_OK);
    assert_int_equal(rc, Z_STREAM_END);
    assert_int_equal(z.avail_in, 0); /* one member, nothing after it */
    inflateEnd(&z);
    *out_len = len;
    return out;
}

static void test_gzip(void **state)
{
    (void)state;
    static const char plain_fmt[] = "{\"encoding\": \"windows-1252\", \"columns\": [{\"label\":"
                                    " \"N\"}, {\"label\": \"Name\"}, {\"label\": \"Note\"}]}";
    static const char gz_fmt[] = "{\"gzip\": true, \"encoding\": \"windows-1252\", \"columns\":"
                                 " [{\"label\": \"N\"}, {\"label\": \"Name\"},"
                                 " {\"label\": \"Note\"}]}";
    size_t nrows = 30000, n1, n2, n3;
    const char **vals = calloc(3 * nrows + 1, sizeof *vals);
    char (*nums)[24] = calloc(nrows, sizeof *nums);
    char *plain, *gz, *back;
    int64_t rows1, bytes1, rows2, bytes2;
    uint32_t seed = 12345;
    for (size_t i = 0; i < nrows; i++) {
        seed = seed * 1103515245 + 12345;
        snprintf(nums[i], sizeof nums[i], "%u", seed); /* less compressible */
        vals[3 * i] = nums[i];
        vals[3 * i + 1] = i % 2 ? "Zoë “Œuvre”" : "Jean, Paul";
        vals[3 * i + 2] = i % 5 ? NULL : "line\nbreak";
    }
    vals[3 * nrows] = END;
    plain = write_file(plain_fmt, vals, &n1, &rows1, &bytes1, __LINE__);
    gz = write_file(gz_fmt, vals, &n2, &rows2, &bytes2, __LINE__);
    assert_int_equal(rows1, (int64_t)nrows);
    assert_int_equal(rows2, (int64_t)nrows);
    assert_int_equal(bytes1, (int64_t)n1);
    assert_int_equal(bytes2, (int64_t)n2); /* what reached the FILE: compressed */
    assert_true(n2 < n1 / 2);
    assert_int_equal((unsigned char)gz[0], 0x1F);
    assert_int_equal((unsigned char)gz[1], 0x8B);
    back = inflate_all(gz, n2, &n3);
    assert_int_equal(n3, n1);
    assert_memory_equal(back, plain, n1);
    free(back);
    free(plain);
    free(gz);
    /* tiny and empty files are valid gzip too, the BOM inside */
    gz = write_file("{\"gzip\": true, \"encoding\": \"utf-8-bom\", \"header\": false,"
                    " \"columns\": [{\"label\": \"A\"}]}",
                    NOROWS, &n2, &rows2, &bytes2, __LINE__);
    back = inflate_all(gz, n2, &n3);
    assert_int_equal(n3, 3);
    assert_memory_equal(back, "\xEF\xBB\xBF", 3);
    assert_int_equal(rows2, 0);
    assert_int_equal(bytes2, (int64_t)n2);
    free(back);
    free(gz);
    {
        const char *v[] = {"a", NULL, END};
        gz = write_file("{\"gzip\": true, \"line_ending\": \"lf\", \"columns\": [{\"label\":"
                        " \"A\"}, {\"label\": \"B\"}]}",
                        v, &n2, &rows2, &bytes2, __LINE__);
        back = inflate_all(gz, n2, &n3);
        assert_int_equal(n3, 7);
        assert_memory_equal(back, "A,B\na,\n", 7);
        free(back);
        free(gz);
    }
    free(nums);
    free(vals);
}

/* ---- the format check ---- */

static void test_check_ok(void **state)
{
    (void)state;
    assert_check_ok("{\"columns\": [{\"label\": \"A\"}]}");
    assert_check_ok("{\"columns\": [{\"label\": \"A\", \"value\": {\"any\": [\"thing\"]}}]}");
    assert_check_ok("{\"format\": \"fixed\", \"columns\": [{\"label\": \"A\", \"width\": 10000,"
                    " \"align\": \"right\"}, {\"label\": \"B\", \"width\": 1}]}");
    assert_check_ok("{\"separator\": \" \", \"quote\": \"'\", \"columns\": [{\"label\": \"A\"}]}");
    assert_check_ok("{\"encoding\": \"Windows-1252\", \"columns\": [{\"label\": \"Œ\"}]}");
    assert_check_ok("{\"encoding\": \"iso-8859-1\", \"columns\": [{\"label\": \"ÿ\"}]}");
    assert_check_ok("{\"format\": \"fixed\", \"header\": false,"
                    " \"columns\": [{\"label\": \"a\\nb\", \"width\": 1}]}");
    /* 1000 columns */
    {
        json_t *f = json_object(), *cols = json_array();
        struct cr_err e = CR_ERR_INIT;
        for (int i = 0; i < 1000; i++)
            json_array_append_new(cols, json_pack("{s:s}", "label", "c"));
        json_object_set_new(f, "columns", cols);
        assert_int_equal(cr_extract_check(f, &e), 0);
        json_array_append_new(cols, json_pack("{s:s}", "label", "c"));
        assert_int_equal(cr_extract_check(f, &e), CR_EINVAL);
        assert_string_equal(e.msg, "'columns' has 1001 columns; at most 1000 are allowed");
        json_decref(f);
    }
}

#define COLS "\"columns\": [{\"label\": \"A\"}]"
#define FCOL(w) "\"format\": \"fixed\", \"columns\": [{\"label\": \"A\", \"width\": " w "}]"

static void test_check_errors(void **state)
{
    (void)state;
    assert_check_err("[]", "the file format must be a JSON object");
    assert_check_err("{\"delimiter\": \";\", " COLS "}",
                     "unknown key 'delimiter' (keys: format, header, separator, quote, quoting, "
                     "encoding, line_ending, gzip, columns)");
    assert_check_err("{\"format\": \"xml\", " COLS "}",
                     "'format' must be one of csv, fixed, not \"xml\"");
    assert_check_err("{\"format\": 1, " COLS "}", "'format' must be a string (one of csv, fixed)");
    assert_check_err("{\"header\": \"yes\", " COLS "}", "'header' must be true or false");
    assert_check_err("{\"header\": 1, " COLS "}", "'header' must be true or false");
    assert_check_err("{\"gzip\": null, " COLS "}", "'gzip' must be true or false");
    assert_check_err("{\"separator\": \";;\", " COLS "}",
                     "'separator' must be one ASCII character other than CR and LF, not \";;\"");
    assert_check_err("{\"separator\": \"\", " COLS "}",
                     "'separator' must be one ASCII character other than CR and LF, not \"\"");
    assert_check_err("{\"separator\": \"\\n\", " COLS "}",
                     "'separator' must be one ASCII character other than CR and LF, not \"\\n\"");
    assert_check_err("{\"separator\": \"§\", " COLS "}",
                     "'separator' must be one ASCII character other than CR and LF, not \"§\"");
    assert_check_err("{\"separator\": 44, " COLS "}",
                     "'separator' must be a string of one character");
    assert_check_err("{\"quote\": \"\\r\", " COLS "}",
                     "'quote' must be one ASCII character other than CR and LF, not \"\\r\"");
    assert_check_err("{\"quote\": \"''\", " COLS "}",
                     "'quote' must be one ASCII character other than CR and LF, not \"''\"");
    assert_check_err("{\"quote\": \",\", " COLS "}",
                     "'quote' and 'separator' must differ (both ',')");
    assert_check_err("{\"separator\": \"\\\"\", " COLS "}",
                     "'quote' and 'separator' must differ (both '\"')");
    assert_check_err("{\"quote\": \" \", " COLS "}", "'quote' cannot be a space");
    assert_check_err("{\"quoting\": \"some\", " COLS "}",
                     "'quoting' must be one of minimal, all, not \"some\"");
    assert_check_err("{\"encoding\": \"latin1\", " COLS "}",
                     "'encoding' must be one of utf-8, utf-8-bom, iso-8859-1, windows-1252, not "
                     "\"latin1\"");
    assert_check_err("{\"line_ending\": \"cr\", " COLS "}",
                     "'line_ending' must be one of crlf, lf, not \"cr\"");
    /* columns */
    assert_check_err("{}", "'columns' is missing (a list of {\"label\": ...})");
    assert_check_err("{\"columns\": []}",
                     "'columns' must be a non-empty list of {\"label\": ...} objects");
    assert_check_err("{\"columns\": {\"label\": \"A\"}}",
                     "'columns' must be a non-empty list of {\"label\": ...} objects");
    assert_check_err("{\"columns\": [{\"label\": \"A\"}, \"B\"]}",
                     "columns[1] must be an object with a \"label\"");
    assert_check_err("{\"columns\": [{\"value\": \"email\"}]}", "columns[0] has no 'label'");
    assert_check_err("{\"columns\": [{\"label\": 5}]}", "columns[0]: 'label' must be a string");
    assert_check_err("{\"columns\": [{\"label\": null}]}", "columns[0]: 'label' must be a string");
    assert_check_err("{\"columns\": [{\"label\": \"A\", \"title\": \"x\"}]}",
                     "columns[0]: unknown key 'title' (keys: label, value, width, align)");
    assert_check_err("{\"columns\": [{\"label\": \"A\", \"width\": 5}]}",
                     "columns[0]: 'width' is for fixed-width files (\"format\": \"fixed\")");
    assert_check_err("{\"columns\": [{\"label\": \"A\", \"align\": \"left\"}]}",
                     "columns[0]: 'align' is for fixed-width files (\"format\": \"fixed\")");
    /* fixed */
    assert_check_err("{\"format\": \"fixed\", \"columns\": [{\"label\": \"A\"}]}",
                     "columns[0]: 'width' is required in a fixed-width file");
    assert_check_err("{" FCOL("0") "}", "columns[0]: 'width' must be an integer from 1 to 10000");
    assert_check_err("{" FCOL("10001") "}",
                     "columns[0]: 'width' must be an integer from 1 to 10000");
    assert_check_err("{" FCOL("-3") "}", "columns[0]: 'width' must be an integer from 1 to 10000");
    assert_check_err("{" FCOL("5.0") "}", "columns[0]: 'width' must be an integer from 1 to 10000");
    assert_check_err("{" FCOL("\"5\"") "}",
                     "columns[0]: 'width' must be an integer from 1 to 10000");
    assert_check_err("{\"format\": \"fixed\", \"columns\": [{\"label\": \"A\", \"width\": 3},"
                     " {\"label\": \"B\", \"width\": 3, \"align\": \"center\"}]}",
                     "columns[1]: 'align' must be one of left, right, not \"center\"");
    assert_check_err("{\"separator\": \";\", " FCOL("3") "}",
                     "'separator' is for csv files; this format is fixed width");
    assert_check_err("{\"quote\": \"'\", " FCOL("3") "}",
                     "'quote' is for csv files; this format is fixed width");
    assert_check_err("{\"quoting\": \"all\", " FCOL("3") "}",
                     "'quoting' is for csv files; this format is fixed width");
    assert_check_err("{\"format\": \"fixed\", \"columns\": [{\"label\": \"Mobile\", \"width\": 3}]}",
                     "columns[0]: label 'Mobile' is 6 characters, longer than its width 3 (widen "
                     "the column or set \"header\": false)");
    assert_check_err("{\"format\": \"fixed\", \"columns\": [{\"label\": \"a\\nb\", \"width\": 5}]}",
                     "columns[0]: label 'a\\nb' has a line break, which a fixed-width header "
                     "cannot hold");
    /* labels the encoding cannot hold */
    assert_check_err("{\"encoding\": \"iso-8859-1\", \"columns\": [{\"label\": \"A\"},"
                     " {\"label\": \"Prix €\"}]}",
                     "columns[1]: label 'Prix €' has U+20AC (character 6), which iso-8859-1 "
                     "cannot hold");
    assert_check_err("{\"encoding\": \"windows-1252\", \"columns\": [{\"label\": \"😀\"}]}",
                     "columns[0]: label '😀' has U+1F600 (character 1), which windows-1252 "
                     "cannot hold");
    {
        char fmt[1200];
        snprintf(fmt, sizeof fmt, "{\"columns\": [{\"label\": \"%01025d\"}]}", 0);
        assert_check_err(fmt, "columns[0]: 'label' is longer than 1024 bytes");
    }
}

int main(void)
{
    const struct CMUnitTest csv[] = {
        cmocka_unit_test(test_csv_defaults),
        cmocka_unit_test(test_csv_minimal_quoting),
        cmocka_unit_test(test_csv_leading_bom_character),
        cmocka_unit_test(test_csv_quoting_all),
        cmocka_unit_test(test_csv_separators_and_quotes),
        cmocka_unit_test(test_csv_line_endings_and_header),
        cmocka_unit_test(test_csv_labels_needing_quotes),
        cmocka_unit_test(test_csv_single_column),
    };
    const struct CMUnitTest enc[] = {
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_iso_8859_1),
        cmocka_unit_test(test_windows_1252),
        cmocka_unit_test(test_unencodable),
        cmocka_unit_test(test_invalid_utf8),
    };
    const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_fixed),
        cmocka_unit_test(test_fixed_errors),
    };
    const struct CMUnitTest io[] = {
        cmocka_unit_test(test_row_errors),
        cmocka_unit_test(test_many_rows_and_big_values),
        cmocka_unit_test(test_write_error),
        cmocka_unit_test(test_gzip),
    };
    const struct CMUnitTest check[] = {
        cmocka_unit_test(test_check_ok),
        cmocka_unit_test(test_check_errors),
    };
    int failed = cmocka_run_group_tests_name("extract csv", csv, NULL, NULL);
    failed += cmocka_run_group_tests_name("extract encodings", enc, NULL, NULL);
    failed += cmocka_run_group_tests_name("extract fixed width", fixed, NULL, NULL);
    failed += cmocka_run_group_tests_name("extract rows, gzip, i/o", io, NULL, NULL);
    failed += cmocka_run_group_tests_name("extract format check", check, NULL, NULL);
    return failed ? 1 : 0;
}
