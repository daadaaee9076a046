/* test_misc.c - UTF-8, strict numbers, the string map, JSON escaping, randomness */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json_esc.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/random.h"
#include "core/strmap.h"
#include "core/utf8.h"
#include "tests.h"

static void test_utf8(void **state)
{
    size_t bad = 0;
    char enc[4];
    (void)state;
    assert_true(cr_utf8_valid("héllo €𝄞", strlen("héllo €𝄞"), NULL));
    assert_false(cr_utf8_valid("a\xC0\xAF", 3, &bad)); /* overlong '/' */
    assert_int_equal(bad, 1);
    assert_false(cr_utf8_valid("\xED\xA0\x80", 3, NULL)); /* surrogate */
    assert_false(cr_utf8_valid("\xF4\x90\x80\x80", 4, NULL)); /* above U+10FFFF */
    assert_false(cr_utf8_valid("\xE2\x82", 2, NULL)); /* truncated */
    assert_int_equal(cr_utf8_decode("€", 3), 0x20AC);
    assert_int_equal(cr_utf8_encode(0x1D11E, enc), 4);
    assert_memory_equal(enc, "𝄞", 4);
}

static void test_numbers(void **state)
{
    int64_t v;
    double d;
    (void)state;
    assert_int_equal(cr_parse_i64("9223372036854775807", 19, &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(cr_parse_i64("-9223372036854775808", 20, &v), 0);
    assert_true(v == INT64_MIN);
    assert_int_equal(cr_parse_i64("9223372036854775808", 19, &v), -1);
    assert_int_equal(cr_parse_i64("12a", 3, &v), -1);
    assert_int_equal(cr_parse_i64(" 1", 2, &v), -1);
    assert_int_equal(cr_parse_i64("-", 1, &v), -1);
    assert_int_equal(cr_parse_double("1.5e3", 5, &d), 0);
    assert_true(d == 1500.0);
    assert_int_equal(cr_parse_double(".5", 2, &d), 0);
    assert_int_equal(cr_parse_double("0x10", 4, &d), -1);
    assert_int_equal(cr_parse_double("inf", 3, &d), -1);
    assert_int_equal(cr_parse_double("1e999", 5, &d), -1);
    assert_int_equal(cr_parse_double("1,5", 3, &d), -1);
}

static void test_strmap(void **state)
{
    struct cr_strmap m;
    char key[32];
    int64_t v;
    (void)state;
    cr_strmap_init(&m);
    assert_int_equal(cr_strmap_get(&m, "x", 1, &v), 0);
    for (int i = 0; i < 100000; i++) {
        int n = snprintf(key, sizeof key, "k%d", i);
        cr_strmap_put(&m, key, (size_t)n, i);
    }
    cr_strmap_put(&m, "k42", 3, -1); /* replace */
    cr_strmap_put(&m, "", 0, 7);     /* the empty key is a key */
    assert_int_equal(m.count, 100001);
    for (int i = 0; i < 100000; i++) {
        int n = snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(cr_strmap_get(&m, key, (size_t)n, &v), 1);
        assert_true(v == (i == 42 ? -1 : i));
    }
    assert_int_equal(cr_strmap_get(&m, "", 0, &v), 1);
    assert_true(v == 7);
    assert_int_equal(cr_strmap_get(&m, "k100000", 7, &v), 0);
    cr_strmap_release(&m);
}

static void test_json_escape(void **state)
{
    struct cr_buf b = CR_BUF_INIT(0);
    (void)state;
    cr_json_escape(&b, "a\"b\\c\n\x01é\xFF", 10);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001é\xEF\xBF\xBD\"");
    cr_buf_release(&b);
}

static void test_random(void **state)
{
    char a[65], b[65];
    (void)state;
    assert_int_equal(cr_random_hex(a, 32), 0);
    assert_int_equal(cr_random_hex(b, 32), 0);
    assert_int_equal(strlen(a), 64);
    assert_string_not_equal(a, b);
}

static void test_log_levels_and_json(void **state)
{
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    struct cr_log_ctx ctx = {"preparing delivery", 42, 0};
    (void)state;
    cr_log_stream = f;
    cr_log_level = CR_LOG_INFO;
    cr_log_json = 0;
    cr_log(CR_LOG_DEBUG, NULL, "hidden %d", 1);
    cr_log(CR_LOG_INFO, &ctx, "sent %d messages", 3);
    cr_log_json = 1;
    cr_log(CR_LOG_WARN, &ctx, "quote \" and newline\n");
    fflush(f);
    assert_null(strstr(out, "hidden"));
    assert_non_null(strstr(out, "info  sent 3 messages while preparing delivery [delivery 42]\n"));
    assert_non_null(strstr(out, "\"level\":\"warn\",\"msg\":\"quote \\\" and newline\\n\","
                                "\"action\":\"preparing delivery\",\"delivery\":42}\n"));
    cr_log_stream = NULL;
    cr_log_json = 0;
    cr_log_level = CR_LOG_WARN;
    fclose(f);
    free(out);
    assert_int_equal(cr_log_level_parse("DEBUG"), CR_LOG_DEBUG);
    assert_int_equal(cr_log_level_parse("loud"), -1);
}

int run_misc_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8),     cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_strmap),   cmocka_unit_test(test_json_escape),
        cmocka_unit_test(test_random),   cmocka_unit_test(test_log_levels_and_json),
    };
    return cmocka_run_group_tests_name("misc", tests, NULL, NULL);
}
