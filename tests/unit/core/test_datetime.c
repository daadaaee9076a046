/* test_datetime.c - civil calendar, ISO 8601 parsing and formatting, durations */
#include <string.h>

#include "core/datetime.h"
#include "tests.h"

static cr_time_t parse_ok(const char *s)
{
    cr_time_t t;
    struct cr_err e = CR_ERR_INIT;
    if (cr_time_parse(s, strlen(s), &t, &e))
        fail_msg("'%s': %s", s, e.msg);
    return t;
}

static void test_parse_forms(void **state)
{
    char buf[CR_TIME_BUFSZ];
    (void)state;
    assert_true(parse_ok("1970-01-01T00:00:00Z") == 0);
    assert_string_equal(cr_time_format_iso(parse_ok("2026-12-01T09:00:00Z"), buf),
                        "2026-12-01T09:00:00Z");
    assert_string_equal(cr_time_format_iso(parse_ok("2026-12-01 09:00"), buf),
                        "2026-12-01T09:00:00Z");
    assert_string_equal(cr_time_format_iso(parse_ok("2026-12-01"), buf), "2026-12-01T00:00:00Z");
    /* offsets move the instant to UTC */
    assert_string_equal(cr_time_format_iso(parse_ok("2026-12-01T10:30:00+01:30"), buf),
                        "2026-12-01T09:00:00Z");
    assert_string_equal(cr_time_format_iso(parse_ok("2026-12-01T09:00:00-0500"), buf),
                        "2026-12-01T14:00:00Z");
    assert_string_equal(cr_time_format_sql(parse_ok("2026-12-01T09:00:00.250Z"), buf),
                        "2026-12-01 09:00:00.25");
    assert_string_equal(cr_time_format_sql(parse_ok("2024-02-29 23:59:59"), buf),
                        "2024-02-29 23:59:59");
    /* before the epoch */
    assert_string_equal(cr_time_format_iso(parse_ok("1969-12-31T23:59:59.5Z"), buf),
                        "1969-12-31T23:59:59.5Z");
}

static void test_parse_errors(void **state)
{
    static const char *const bad[] = {
        "", "2026", "2026-13-01", "2026-02-29", "2026-04-31", "2026-01-01T25:00", "2026-01-01T10",
        "2026-01-01x", "26-01-01", "2026-01-01T10:00:00+25:00", "2026-01-01T10:00:00.Z",
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_time_t t;
        struct cr_err e = CR_ERR_INIT;
        if (cr_time_parse(bad[i], strlen(bad[i]), &t, &e) != CR_ESYNTAX)
            fail_msg("'%s' was accepted", bad[i]);
        assert_true(e.msg[0] != '\0');
    }
}

static void test_dates(void **state)
{
    int64_t d;
    char buf[CR_TIME_BUFSZ];
    int y, m, day;
    (void)state;
    assert_int_equal(cr_date_parse("2000-02-29", 10, &d, NULL), 0);
    assert_string_equal(cr_date_format(d, buf), "2000-02-29");
    assert_int_equal(cr_date_parse("1900-02-29", 10, &d, NULL), CR_ESYNTAX);
    assert_int_equal(cr_date_parse("2026-1-01", 9, &d, NULL), CR_ESYNTAX);
    /* every day for 800 years round-trips */
    for (int64_t z = -100000; z < 200000; z += 7) {
        cr_civil_from_days(z, &y, &m, &day);
        assert_true(cr_days_from_civil(y, m, day) == z);
    }
}

static void test_durations(void **state)
{
    static const struct {
        const char *in;
        int64_t secs;
    } ok[] = {
        {"3d", 3 * 86400},   {"12h", 12 * 3600},      {"30m", 1800},          {"45s", 45},
        {"2w", 14 * 86400},  {"1d12h", 36 * 3600},    {"30 days", 30 * 86400}, {"1 hour 30 minutes", 5400},
        {"0s", 0},
    };
    static const char *const bad[] = {"", "3", "d", "3x", "1 month", "2y", "-3d", "3d 4",
                                      "0mO", "99999999999w", "36600d", "36500d 36500d"};
    char buf[CR_TIME_BUFSZ];
    (void)state;
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        int64_t us;
        struct cr_err e = CR_ERR_INIT;
        if (cr_duration_parse(ok[i].in, strlen(ok[i].in), &us, &e))
            fail_msg("'%s': %s", ok[i].in, e.msg);
        assert_true(us == ok[i].secs * CR_USEC_PER_SEC);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int64_t us;
        if (cr_duration_parse(bad[i], strlen(bad[i]), &us, NULL) == 0)
            fail_msg("'%s' was accepted", bad[i]);
    }
    assert_string_equal(cr_duration_format(36 * 3600 * CR_USEC_PER_SEC, buf), "1d12h");
    assert_string_equal(cr_duration_format(0, buf), "0s");
    assert_string_equal(cr_duration_format(90 * CR_USEC_PER_SEC, buf), "1m30s");
}

int run_datetime_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_durations),
    };
    return cmocka_run_group_tests_name("datetime", tests, NULL, NULL);
}
