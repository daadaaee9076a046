/* test_next.c - next fire times in UTC and in zones with DST, half-hour offsets, gaps, overlaps
 *
 * Every expected instant was worked out by hand and checked with a brute-force reference
 * written for these tests in Python (/usr/bin/python3, zoneinfo on the system tzdata 2025b): it
 * walks UTC minute by minute from `after`, converts each minute to local time with zoneinfo and
 * applies the rules of cron.h (a fixed-time job due in a gap fires at the gap's end, a repeated
 * local time fires once for fixed-time jobs, twice for wildcard ones). Transitions used:
 *   Europe/Paris 2026: 29 March 01:00Z (02:00 CET -> 03:00 CEST),
 *                      25 October 01:00Z (03:00 CEST -> 02:00 CET); 2040: 25 March, 28 October
 *                      (beyond the file's table: the footer's POSIX rule);
 *   America/New_York 2026: 8 March 07:00Z (02:00 EST -> 03:00 EDT),
 *                          1 November 06:00Z (02:00 EDT -> 01:00 EST);
 *   Australia/Sydney 2026: 4 April 16:00Z (03:00 AEDT -> 02:00 AEST),
 *                          3 October 16:00Z (02:00 AEST -> 03:00 AEDT);
 *   Asia/Kolkata: +05:30 all year.
 */
#include <string.h>

#include "tests.h"
#include "workflow/cron.h"

static cr_time_t T(const char *iso)
{
    cr_time_t t;
    struct cr_err e = CR_ERR_INIT;
    if (cr_time_parse(iso, strlen(iso), &t, &e))
        fail_msg("'%s': %s", iso, e.msg);
    return t;
}

static void check_next(const char *expr, const char *tz, const char *after, const char *want)
{
    struct cr_cron *c;
    struct cr_err e = CR_ERR_INIT;
    cr_time_t next;
    char buf[CR_TIME_BUFSZ];
    if (cr_cron_parse(expr, &c, &e))
        fail_msg("'%s': %s", expr, e.msg);
    if (cr_cron_next(c, tz, T(after), &next, &e))
        fail_msg("'%s' in %s after %s: %s", expr, tz ? tz : "NULL", after, e.msg);
    cr_cron_free(c);
    if (strcmp(cr_time_format_iso(next, buf), want) != 0)
        fail_msg("'%s' in %s after %s: got %s, want %s", expr, tz ? tz : "NULL", after, buf, want);
}

static void check_none(const char *expr, const char *tz, const char *after)
{
    struct cr_cron *c;
    struct cr_err e = CR_ERR_INIT;
    cr_time_t next = 42;
    if (cr_cron_parse(expr, &c, &e))
        fail_msg("'%s': %s", expr, e.msg);
    if (cr_cron_next(c, tz, T(after), &next, &e) != CR_ENOTFOUND)
        fail_msg("'%s' after %s: expected no fire time", expr, after);
    cr_cron_free(c);
    assert_string_equal(e.msg, "the cron schedule has no fire time within 1830 days");
    assert_true(next == 42);
}

static void test_utc_common(void **state)
{
    (void)state;
    check_next("*/15 * * * *", NULL, "2026-05-10T10:07:30Z", "2026-05-10T10:15:00Z");
    /* strictly after: an instant that is a fire time is not returned again */
    check_next("*/15 * * * *", "", "2026-05-10T10:15:00Z", "2026-05-10T10:30:00Z");
    check_next("*/15 * * * *", "UTC", "2026-05-10T10:14:59.999999Z", "2026-05-10T10:15:00Z");
    check_next("* * * * *", NULL, "2026-05-10T10:15:00.000001Z", "2026-05-10T10:16:00Z");
    check_next("0 9 * * 1-5", NULL, "2026-05-08T09:00:00Z", "2026-05-11T09:00:00Z"); /* Fri */
    check_next("0 9 * * MON-FRI", NULL, "2026-05-09T10:00:00Z", "2026-05-11T09:00:00Z");
    check_next("30 10 31 * *", NULL, "2026-04-01T00:00:00Z", "2026-05-31T10:30:00Z");
    check_next("10-50/20 8-17/4 * * *", NULL, "2026-05-10T16:51:00Z", "2026-05-11T08:10:00Z");
    check_next("0 12 * DEC,JAN SAT", NULL, "2026-05-10T00:00:00Z", "2026-12-05T12:00:00Z");
    check_next("@hourly", NULL, "2026-05-10T10:00:00Z", "2026-05-10T11:00:00Z");
    check_next("@daily", NULL, "2026-05-10T10:00:00Z", "2026-05-11T00:00:00Z");
    check_next("@weekly", NULL, "2026-05-10T10:00:00Z", "2026-05-17T00:00:00Z");
    check_next("@weekly", NULL, "2026-05-09T10:00:00Z", "2026-05-10T00:00:00Z");
    check_next("@monthly", NULL, "2026-05-10T10:00:00Z", "2026-06-01T00:00:00Z");
    check_next("@yearly", NULL, "2026-05-10T10:00:00Z", "2027-01-01T00:00:00Z");
    /* before the epoch */
    check_next("0 0 * * *", NULL, "1969-12-31T12:00:00Z", "1970-01-01T00:00:00Z");
}

static void test_year_rollover(void **state)
{
    (void)state;
    check_next("0 0 1 1 *", NULL, "2026-12-31T23:59:59Z", "2027-01-01T00:00:00Z");
    check_next("59 23 31 12 *", NULL, "2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z");
    check_next("* * * * *", NULL, "2026-12-31T23:59:30Z", "2027-01-01T00:00:00Z");
    /* in Kolkata the local new year comes 5h30 before UTC's */
    check_next("0 0 1 1 *", "Asia/Kolkata", "2026-12-31T12:00:00Z", "2026-12-31T18:30:00Z");
    /* and in New York 5 hours after */
    check_next("0 0 1 1 *", "America/New_York", "2027-01-01T00:00:00Z", "2027-01-01T05:00:00Z");
}

static void test_dom_dow(void **state)
{
    (void)state;
    /* both restricted: the 1st of the month OR a Monday (2026-06-01 is a Monday) */
    check_next("0 9 1 * MON", NULL, "2026-06-01T09:00:00Z", "2026-06-08T09:00:00Z");
    check_next("0 9 1 * MON", NULL, "2026-06-29T09:00:00Z", "2026-07-01T09:00:00Z");
    check_next("0 9 13 * 5", NULL, "2026-02-13T09:00:00Z", "2026-02-20T09:00:00Z");
    /* day-of-month `*`/2 counts as `*`: odd days AND Mondays */
    check_next("0 9 */2 * MON", NULL, "2026-06-01T00:00:00Z", "2026-06-01T09:00:00Z");
    check_next("0 9 */2 * MON", NULL, "2026-06-01T09:00:00Z", "2026-06-15T09:00:00Z");
    /* day-of-week `*`/7 (Sunday) counts as `*`: the first 7 days AND Sunday */
    check_next("0 9 1-7 * */7", NULL, "2026-06-02T00:00:00Z", "2026-06-07T09:00:00Z");
    /* day-of-week alone */
    check_next("0 9 * * 0", NULL, "2026-06-02T00:00:00Z", "2026-06-07T09:00:00Z");
    check_next("0 9 * * 7", NULL, "2026-06-02T00:00:00Z", "2026-06-07T09:00:00Z");
    /* Feb 29 or a Monday of February */
    check_next("0 0 29 2 1", NULL, "2026-03-01T00:00:00Z", "2027-02-01T00:00:00Z");
}

static void test_feb29_and_none(void **state)
{
    (void)state;
    check_next("0 12 29 2 *", NULL, "2026-01-01T00:00:00Z", "2028-02-29T12:00:00Z");
    check_next("0 12 29 2 *", NULL, "2028-02-29T12:00:00Z", "2032-02-29T12:00:00Z");
    /* 2100 is no leap year: from 2099 the next is 2104, still within 1830 days... */
    check_next("0 12 29 2 *", NULL, "2099-03-01T00:00:00Z", "2104-02-29T12:00:00Z");
    /* ...but not from 2096 */
    check_none("0 12 29 2 *", NULL, "2096-03-01T00:00:00Z");
    check_none("0 0 30 2 *", NULL, "2026-01-01T00:00:00Z");
    check_none("0 0 31 4,6,9,11 *", "Europe/Paris", "2026-01-01T00:00:00Z");
    check_none("* * * * *", NULL, "9999-12-31T23:59:00Z");
    check_next("* * * * *", NULL, "9999-12-31T23:58:00Z", "9999-12-31T23:59:00Z");
}

static void test_extreme_instants(void **state)
{
    struct cr_cron c;
    cr_time_t next;
    struct cr_err e = CR_ERR_INIT;
    char buf[CR_TIME_BUFSZ];
    (void)state;
    assert_int_equal(cr_cron_parse_into("* * * * *", &c, NULL), 0);
    assert_int_equal(cr_cron_next(&c, NULL, INT64_MAX, &next, &e), CR_ENOTFOUND);
    assert_int_equal(cr_cron_next(&c, "Europe/Paris", INT64_MIN, &next, NULL), 0);
    /* the search starts at year 1 (Paris then kept local mean time, +00:09:21) */
    assert_string_equal(cr_time_format_iso(next, buf), "0001-01-01T00:00:39Z");
    /* a hand-made schedule that matches nothing is refused, not searched */
    c.days = 1; /* bit 0: no day 0 */
    assert_int_equal(cr_cron_next(&c, NULL, 0, &next, NULL), CR_EINVAL);
}

static void test_paris_spring_forward(void **state)
{
    (void)state;
    check_next("0 9 * * *", "Europe/Paris", "2026-03-28T00:00:00Z", "2026-03-28T08:00:00Z");
    check_next("0 9 * * *", "Europe/Paris", "2026-03-28T08:00:00Z", "2026-03-29T07:00:00Z");
    /* 02:30 does not exist on the 29th: fires once at 03:00 CEST (the gap's end) */
    check_next("30 2 * * *", "Europe/Paris", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z");
    check_next("30 2 * * *", "Europe/Paris", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z");
    /* searching from the instant just before the gap's end, or a fraction before it */
    check_next("30 2 * * *", "Europe/Paris", "2026-03-29T00:59:59Z", "2026-03-29T01:00:00Z");
    check_next("30 2 * * *", "Europe/Paris", "2026-03-29T00:59:59.999999Z", "2026-03-29T01:00:00Z");
    /* two due times in the gap: one firing */
    check_next("0,30 2 * * *", "Europe/Paris", "2026-03-29T00:30:00Z", "2026-03-29T01:00:00Z");
    check_next("0,30 2 * * *", "Europe/Paris", "2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z");
    /* 03:00 exists, and is the same instant as the gap's end */
    check_next("0 3 * * *", "Europe/Paris", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z");
    check_next("0 2,3 * * *", "Europe/Paris", "2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z");
    /* wildcard jobs skip the missing times */
    check_next("30 * * * *", "Europe/Paris", "2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z");
    check_next("*/15 * * * *", "Europe/Paris", "2026-03-29T00:50:00Z", "2026-03-29T01:00:00Z");
    check_next("*/15 2 * * *", "Europe/Paris", "2026-03-28T12:00:00Z", "2026-03-30T00:00:00Z");
}

static void test_paris_fall_back(void **state)
{
    (void)state;
    /* 02:30 happens at 00:30Z (CEST) and 01:30Z (CET): fixed-time jobs fire at the first */
    check_next("30 2 * * *", "Europe/Paris", "2026-10-24T12:00:00Z", "2026-10-25T00:30:00Z");
    check_next("30 2 * * *", "Europe/Paris", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z");
    check_next("0 2 * * *", "Europe/Paris", "2026-10-24T12:00:00Z", "2026-10-25T00:00:00Z");
    check_next("0 3 * * *", "Europe/Paris", "2026-10-24T12:00:00Z", "2026-10-25T02:00:00Z");
    check_next("0 9 * * *", "Europe/Paris", "2026-10-25T00:00:00Z", "2026-10-25T08:00:00Z");
    /* wildcard jobs fire in both occurrences */
    check_next("30 * * * *", "Europe/Paris", "2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z");
    check_next("*/15 * * * *", "Europe/Paris", "2026-10-25T00:45:00Z", "2026-10-25T01:00:00Z");
    check_next("@hourly", "Europe/Paris", "2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z");
}

static void test_paris_footer_rule(void **state)
{
    (void)state;
    /* 2040 is beyond the table of the zone file: the footer's rule decides */
    check_next("30 2 * * *", "Europe/Paris", "2040-03-24T12:00:00Z", "2040-03-25T01:00:00Z");
    check_next("30 2 * * *", "Europe/Paris", "2040-10-27T12:00:00Z", "2040-10-28T00:30:00Z");
    check_next("30 2 * * *", "Europe/Paris", "2040-10-28T00:30:00Z", "2040-10-29T01:30:00Z");
}

static void test_new_york(void **state)
{
    (void)state;
    check_next("30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", "2026-03-08T07:00:00Z");
    check_next("30 2 * * *", "America/New_York", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z");
    check_next("30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", "2026-11-01T05:30:00Z");
    check_next("30 1 * * *", "America/New_York", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z");
    check_next("0 9 * * 1-5", "America/New_York", "2026-03-06T15:00:00Z", "2026-03-09T13:00:00Z");
    check_next("0 9 * * 1-5", "US/Eastern", "2026-03-06T13:00:00Z", "2026-03-06T14:00:00Z");
}

static void test_half_hour_and_south(void **state)
{
    (void)state;
    check_next("0 9 * * *", "Asia/Kolkata", "2026-05-10T00:00:00Z", "2026-05-10T03:30:00Z");
    check_next("*/45 * * * *", "Asia/Kolkata", "2026-05-10T03:40:00Z", "2026-05-10T04:15:00Z");
    /* Sydney: 02:30 twice on 5 April, missing on 4 October */
    check_next("30 2 * * *", "Australia/Sydney", "2026-04-04T12:00:00Z", "2026-04-04T15:30:00Z");
    check_next("30 2 * * *", "Australia/Sydney", "2026-10-03T12:00:00Z", "2026-10-03T16:00:00Z");
}

static void test_bad_zone(void **state)
{
    static const char *const bad[] = {"Mars/Olympus", "../../etc/passwd", "/etc/localtime",
                                      "Europe/Paris\n", "Europe"};
    struct cr_cron c;
    (void)state;
    assert_int_equal(cr_cron_parse_into("* * * * *", &c, NULL), 0);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_time_t next = 42;
        struct cr_err e = CR_ERR_INIT;
        assert_int_equal(cr_cron_next(&c, bad[i], 0, &next, &e), CR_EINVAL);
        assert_true(e.msg[0] != '\0');
        assert_true(next == 42);
    }
}

/* A loaded zone gives the same answers as the name; copies of the struct are fine. */
static void test_loaded_zone(void **state)
{
    struct cr_tz *z;
    struct cr_cron *c, copy;
    cr_time_t a, b;
    (void)state;
    assert_int_equal(cr_tz_open("Europe/Paris", &z, NULL), 0);
    assert_int_equal(cr_cron_parse("30 2 * * *", &c, NULL), 0);
    copy = *c;
    cr_cron_free(c);
    for (cr_time_t t = T("2026-01-01T00:00:00Z"); t < T("2027-01-01T00:00:00Z");
         t += 86400 * CR_USEC_PER_SEC / 2) {
        assert_int_equal(cr_cron_next_tz(&copy, z, t, &a, NULL), 0);
        assert_int_equal(cr_cron_next(&copy, "Europe/Paris", t, &b, NULL), 0);
        assert_true(a == b);
        assert_true(a > t && a - t <= 86400 * CR_USEC_PER_SEC);
    }
    cr_tz_free(z);
}

int run_next_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utc_common),       cmocka_unit_test(test_year_rollover),
        cmocka_unit_test(test_dom_dow),          cmocka_unit_test(test_feb29_and_none),
        cmocka_unit_test(test_extreme_instants), cmocka_unit_test(test_paris_spring_forward),
        cmocka_unit_test(test_paris_fall_back),  cmocka_unit_test(test_paris_footer_rule),
        cmocka_unit_test(test_new_york),         cmocka_unit_test(test_half_hour_and_south),
        cmocka_unit_test(test_bad_zone),         cmocka_unit_test(test_loaded_zone),
    };
    return cmocka_run_group_tests_name("cron next", tests, NULL, NULL);
}
