/* test_parse.c - cron expression syntax: every form, every error (message and column) */
#include <stdlib.h>
#include <string.h>

#include "tests.h"
#include "workflow/cron.h"

/* Bits lo..hi every step. */
static uint64_t span(int lo, int hi, int step)
{
    uint64_t b = 0;
    for (int v = lo; v <= hi; v += step)
        b |= UINT64_C(1) << v;
    return b;
}

static struct cr_cron parse_ok(const char *expr)
{
    struct cr_cron c;
    struct cr_err e = CR_ERR_INIT;
    if (cr_cron_parse_into(expr, &c, &e))
        fail_msg("'%s': %s", expr, e.msg);
    return c;
}

static void test_stars(void **state)
{
    struct cr_cron c = parse_ok("* * * * *");
    (void)state;
    assert_true(c.minutes == span(0, 59, 1));
    assert_true(c.hours == span(0, 23, 1));
    assert_true(c.days == span(1, 31, 1));
    assert_true(c.months == span(1, 12, 1));
    assert_true(c.weekdays == 0x7f);
    assert_int_equal(c.flags,
                     CR_CRON_MIN_STAR | CR_CRON_HOUR_STAR | CR_CRON_DOM_STAR | CR_CRON_DOW_STAR);
}

static void test_values_lists_ranges_steps(void **state)
{
    struct cr_cron c;
    (void)state;
    c = parse_ok("5 1,5 1-5 */3 2");
    assert_true(c.minutes == span(5, 5, 1));
    assert_true(c.hours == (span(1, 1, 1) | span(5, 5, 1)));
    assert_true(c.days == span(1, 5, 1));
    assert_true(c.months == (span(1, 1, 1) | span(4, 4, 1) | span(7, 7, 1) | span(10, 10, 1)));
    assert_true(c.weekdays == span(2, 2, 1));
    assert_int_equal(c.flags, 0); /* a month starting with `*` sets no flag */
    c = parse_ok("10-50/10 */6 1,15,28-31 2-11/3 1-5");
    assert_true(c.minutes == span(10, 50, 10));
    assert_true(c.hours == (span(0, 0, 1) | span(6, 6, 1) | span(12, 12, 1) | span(18, 18, 1)));
    assert_true(c.days == (span(1, 1, 1) | span(15, 15, 1) | span(28, 31, 1)));
    assert_true(c.months == (span(2, 2, 1) | span(5, 5, 1) | span(8, 8, 1) | span(11, 11, 1)));
    assert_true(c.weekdays == span(1, 5, 1));
    assert_int_equal(c.flags, CR_CRON_HOUR_STAR);
    /* extremes of each field, a step larger than the range, lists mixing forms */
    c = parse_ok("0,59 0,23 1,31 1,12 0,6");
    assert_true(c.minutes == (span(0, 0, 1) | span(59, 59, 1)));
    assert_true(c.hours == (span(0, 0, 1) | span(23, 23, 1)));
    assert_true(c.days == (span(1, 1, 1) | span(31, 31, 1)));
    assert_true(c.months == (span(1, 1, 1) | span(12, 12, 1)));
    assert_true(c.weekdays == (span(0, 0, 1) | span(6, 6, 1)));
    assert_int_equal(c.flags, 0);
    c = parse_ok("*/59 0-5/20,7 * * *"); /* a step past the range end: its start only */
    assert_true(c.minutes == (span(0, 0, 1) | span(59, 59, 1)));
    assert_true(c.hours == (span(0, 0, 1) | span(7, 7, 1)));
    /* leading zeros, tabs and surrounding blanks */
    c = parse_ok(" \t05\t 09  *  *  *\t ");
    assert_true(c.minutes == span(5, 5, 1));
    assert_true(c.hours == span(9, 9, 1));
}

static void test_names(void **state)
{
    struct cr_cron c;
    (void)state;
    c = parse_ok("0 0 * JAN,feb,Mar,APR,may,jun,JUL,aug,SEP,oct,NOV,dec *");
    assert_true(c.months == span(1, 12, 1));
    c = parse_ok("0 0 * Jun-AUG sun,MON,tue,Wed,THU,fri,sat");
    assert_true(c.months == span(6, 8, 1));
    assert_true(c.weekdays == 0x7f);
    c = parse_ok("0 0 * jan-dec/2 MON-FRI");
    assert_true(c.months == span(1, 11, 2));
    assert_true(c.weekdays == span(1, 5, 1));
    assert_int_equal(c.flags, CR_CRON_DOM_STAR);
    /* names and numbers mix; a range ending on SUN ends on Sunday 7 */
    c = parse_ok("0 0 * 3-JUN FRI-SUN");
    assert_true(c.months == span(3, 6, 1));
    assert_true(c.weekdays == (span(5, 6, 1) | 1));
}

static void test_sunday(void **state)
{
    (void)state;
    assert_true(parse_ok("0 0 * * 0").weekdays == 1);
    assert_true(parse_ok("0 0 * * 7").weekdays == 1);
    assert_true(parse_ok("0 0 * * SUN").weekdays == 1);
    assert_true(parse_ok("0 0 * * 5-7").weekdays == (span(5, 6, 1) | 1));
    assert_true(parse_ok("0 0 * * 0-7").weekdays == 0x7f);
    assert_true(parse_ok("0 0 * * 1-7/2").weekdays == (span(1, 5, 2) | 1));
    /* `*` /2 over 0-7: 0 2 4 6 */
    assert_true(parse_ok("0 0 * * */2").weekdays == span(0, 6, 2));
}

static void test_star_flags(void **state)
{
    (void)state;
    /* Vixie: a field starting with `*` is unrestricted for the day rule and the DST rules */
    assert_int_equal(parse_ok("*/5 9 */2 * MON").flags, CR_CRON_MIN_STAR | CR_CRON_DOM_STAR);
    assert_int_equal(parse_ok("0 * 1 * */2").flags, CR_CRON_HOUR_STAR | CR_CRON_DOW_STAR);
    assert_int_equal(parse_ok("0-59 0-23 1-31 * 0-7").flags, 0);
}

static void test_macros(void **state)
{
    static const char *const pairs[][2] = {
        {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
        {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
        {"@hourly", "0 * * * *"}, {"@DAILY", "0 0 * * *"},    {"  @Weekly\t", "0 0 * * 0"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
        struct cr_cron a = parse_ok(pairs[i][0]), b = parse_ok(pairs[i][1]);
        if (memcmp(&a, &b, sizeof a) != 0)
            fail_msg("%s differs from %s", pairs[i][0], pairs[i][1]);
    }
}

static void test_alloc(void **state)
{
    struct cr_cron *c = (struct cr_cron *)1;
    struct cr_err e = CR_ERR_INIT;
    (void)state;
    assert_int_equal(cr_cron_parse("15 10 * * *", &c, &e), 0);
    assert_non_null(c);
    assert_true(c->minutes == span(15, 15, 1));
    cr_cron_free(c);
    cr_cron_free(NULL);
    assert_int_equal(cr_cron_parse("61 10 * * *", &c, &e), CR_ESYNTAX);
    assert_null(c);
}

static void test_errors(void **state)
{
    static const struct {
        const char *expr;
        int col;
        const char *msg;
    } bad[] = {
        {"", 1, "empty cron expression"},
        {" \t ", 1, "empty cron expression"},
        {"60 * * * *", 1, "cron field 1 (minute): 60 is out of range 0-59"},
        {"0 25 * * *", 3, "cron field 2 (hour): 25 is out of range 0-23"},
        {"0 0 0 * *", 5, "cron field 3 (day-of-month): 0 is out of range 1-31"},
        {"0 0 32 * *", 5, "cron field 3 (day-of-month): 32 is out of range 1-31"},
        {"0 0 * 0 *", 7, "cron field 4 (month): 0 is out of range 1-12"},
        {"0 0 * 13 *", 7, "cron field 4 (month): 13 is out of range 1-12"},
        {"0 0 * * 8", 9, "cron field 5 (day-of-week): 8 is out of range 0-7"},
        {"0  0  1-40 * *", 7, "cron field 3 (day-of-month): 40 is out of range 1-31"},
        {"99999999999 * * * *", 1, "cron field 1 (minute): 99999999999 is out of range 0-59"},
        {"1,2,70 * * * *", 1, "cron field 1 (minute): 70 is out of range 0-59"},
        {"* * * FOO *", 7, "cron field 4 (month): unknown month name 'FOO' (JAN-DEC)"},
        {"* * * MON *", 7, "cron field 4 (month): unknown month name 'MON' (JAN-DEC)"},
        {"* * * January *", 7, "cron field 4 (month): unknown month name 'January' (JAN-DEC)"},
        {"* * * * MONDAY", 9, "cron field 5 (day-of-week): unknown day name 'MONDAY' (SUN-SAT)"},
        {"* * * * JAN", 9, "cron field 5 (day-of-week): unknown day name 'JAN' (SUN-SAT)"},
        {"abc * * * *", 1, "cron field 1 (minute): expected a number, found 'abc'"},
        {"* * L * *", 5, "cron field 3 (day-of-month): expected a number, found 'L'"},
        {"0 9 ? * MON", 5, "cron field 3 (day-of-month): expected a number, found '?'"},
        {"0 9 * * 1#2", 9, "cron field 5 (day-of-week): unexpected '#'"},
        {"0 9 * * 1-", 9, "cron field 5 (day-of-week): expected a number or a name"},
        {"1-* * * * *", 1, "cron field 1 (minute): expected a number, found '*'"},
        {"*5 * * * *", 1, "cron field 1 (minute): unexpected '5'"},
        {"0\x01 * * * *", 1, "cron field 1 (minute): unexpected \\x01"},
        {"5-1 * * * *", 1, "cron field 1 (minute): range 5-1 is reversed"},
        {"0 0 * * SAT-MON", 9, "cron field 5 (day-of-week): range 6-1 is reversed"},
        {"*/0 * * * *", 1, "cron field 1 (minute): step 0 is not allowed"},
        {"*/60 * * * *", 1, "cron field 1 (minute): step 60 is out of range 1-59"},
        {"0 */24 * * *", 3, "cron field 2 (hour): step 24 is out of range 1-23"},
        {"*/ * * * *", 1, "cron field 1 (minute): expected a step number after '/'"},
        {"0 0 * JAN-MAR/FEB *", 7, "cron field 4 (month): expected a step number after '/'"},
        {"5/15 * * * *", 1,
         "cron field 1 (minute): a step needs a range or *: write 5-59/... for 5/..."},
        {"1,,2 * * * *", 1, "cron field 1 (minute): empty list item"},
        {"1, * * * *", 1, "cron field 1 (minute): empty list item"},
        {"0 ,3 * * *", 3, "cron field 2 (hour): empty list item"},
        {"* * * *", 8,
         "cron expression has 4 fields, expected 5 (minute hour day-of-month month "
         "day-of-week): day-of-week is missing"},
        {"*", 2,
         "cron expression has 1 field, expected 5 (minute hour day-of-month month "
         "day-of-week): hour is missing"},
        {"* * * * * *", 11,
         "cron expression has 6 fields, expected 5 (minute hour day-of-month month "
         "day-of-week)"},
        {"0 0 1 1 * 2026 x", 11,
         "cron expression has 7 fields, expected 5 (minute hour day-of-month month "
         "day-of-week)"},
        {"@reboot", 1,
         "unknown cron macro '@reboot' (@yearly @annually @monthly @weekly @daily @midnight "
         "@hourly)"},
        {"  @every", 3,
         "unknown cron macro '@every' (@yearly @annually @monthly @weekly @daily @midnight "
         "@hourly)"},
        {"@daily 5", 8, "unexpected text after @daily"},
        {"@d\x7f'ly", 1,
         "unknown cron macro '@d??ly' (@yearly @annually @monthly @weekly @daily @midnight "
         "@hourly)"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct cr_cron c;
        struct cr_err e = CR_ERR_INIT;
        int rc = cr_cron_parse_into(bad[i].expr, &c, &e);
        if (rc != CR_ESYNTAX)
            fail_msg("'%s': returned %d", bad[i].expr, rc);
        if (strcmp(e.msg, bad[i].msg) != 0 || e.col != bad[i].col || e.line != 1)
            fail_msg("'%s': got col %d '%s', want col %d '%s'", bad[i].expr, e.col, e.msg,
                     bad[i].col, bad[i].msg);
    }
    /* NULL is empty; a NULL err is allowed */
    {
        struct cr_cron c;
        struct cr_err e = CR_ERR_INIT;
        assert_int_equal(cr_cron_parse_into(NULL, &c, &e), CR_ESYNTAX);
        assert_string_equal(e.msg, "empty cron expression");
        assert_int_equal(cr_cron_parse_into("x", &c, NULL), CR_ESYNTAX);
    }
}

int run_parse_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stars),      cmocka_unit_test(test_values_lists_ranges_steps),
        cmocka_unit_test(test_names),      cmocka_unit_test(test_sunday),
        cmocka_unit_test(test_star_flags), cmocka_unit_test(test_macros),
        cmocka_unit_test(test_alloc),      cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests_name("cron parse", tests, NULL, NULL);
}
