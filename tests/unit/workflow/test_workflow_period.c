/*
 * test_workflow_period.c - period keys of recurring deliveries: calendar periods in a time
 * zone, ISO 8601 weeks across year ends and daylight saving changes
 *
 * Expected keys were computed with Python's datetime.astimezone(zoneinfo.ZoneInfo(zone))
 * and date.isocalendar(), not with crier.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "workflow/period.h"

static const struct {
    const char *at, *tz, *day, *week, *month, *year, *none;
} cases[] = {
    {"2026-12-01T08:00:00Z", "Europe/Paris", "2026-12-01", "2026-W49", "2026-12", "2026", "2026-12-01T09:00"},
    {"2026-12-27T22:59:00Z", "Europe/Paris", "2026-12-27", "2026-W52", "2026-12", "2026", "2026-12-27T23:59"},
    {"2026-12-27T23:00:00Z", "Europe/Paris", "2026-12-28", "2026-W53", "2026-12", "2026", "2026-12-28T00:00"},
    {"2027-01-03T22:59:00Z", "Europe/Paris", "2027-01-03", "2026-W53", "2027-01", "2027", "2027-01-03T23:59"},
    {"2027-01-03T23:00:00Z", "Europe/Paris", "2027-01-04", "2027-W01", "2027-01", "2027", "2027-01-04T00:00"},
    {"2025-12-29T00:00:00Z", "UTC", "2025-12-29", "2026-W01", "2025-12", "2025", "2025-12-29T00:00"},
    {"2025-12-28T23:59:00Z", "UTC", "2025-12-28", "2025-W52", "2025-12", "2025", "2025-12-28T23:59"},
    {"2021-01-03T12:00:00Z", "UTC", "2021-01-03", "2020-W53", "2021-01", "2021", "2021-01-03T12:00"},
    {"2020-12-31T12:00:00Z", NULL, "2020-12-31", "2020-W53", "2020-12", "2020", "2020-12-31T12:00"},
    /* spring forward: Monday 00:30 CEST is still Sunday in UTC */
    {"2026-03-29T22:30:00Z", "Europe/Paris", "2026-03-30", "2026-W14", "2026-03", "2026", "2026-03-30T00:30"},
    {"2026-03-29T21:59:00Z", "Europe/Paris", "2026-03-29", "2026-W13", "2026-03", "2026", "2026-03-29T23:59"},
    {"2026-03-29T22:00:00Z", "Europe/Paris", "2026-03-30", "2026-W14", "2026-03", "2026", "2026-03-30T00:00"},
    /* fall back */
    {"2026-10-25T22:59:00Z", "Europe/Paris", "2026-10-25", "2026-W43", "2026-10", "2026", "2026-10-25T23:59"},
    {"2026-10-25T23:00:00Z", "Europe/Paris", "2026-10-26", "2026-W44", "2026-10", "2026", "2026-10-26T00:00"},
    {"2026-12-31T23:30:00Z", "Europe/Paris", "2027-01-01", "2026-W53", "2027-01", "2027", "2027-01-01T00:30"},
    {"2026-12-31T23:30:00Z", "", "2026-12-31", "2026-W53", "2026-12", "2026", "2026-12-31T23:30"},
    {"2024-02-29T12:00:00Z", "America/New_York", "2024-02-29", "2024-W09", "2024-02", "2024", "2024-02-29T07:00"},
    {"2027-01-01T03:00:00Z", "America/New_York", "2026-12-31", "2026-W53", "2026-12", "2026", "2026-12-31T22:00"},
};

static void test_keys(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cr_time_t t;
        struct cr_err e = CR_ERR_INIT;
        char key[CR_PERIOD_BUFSZ];
        assert_int_equal(cr_time_parse(cases[i].at, strlen(cases[i].at), &t, &e), 0);
        const char *aggs[] = {"day", "week", "month", "year", "none"};
        const char *want[] = {cases[i].day, cases[i].week, cases[i].month, cases[i].year,
                              cases[i].none};
        for (int k = 0; k < 5; k++) {
            assert_int_equal(cr_period_key(aggs[k], cases[i].tz, t, key, &e), 0);
            if (strcmp(key, want[k]) != 0)
                fail_msg("%s in %s by %s: %s, expected %s", cases[i].at,
                         cases[i].tz ? cases[i].tz : "(null)", aggs[k], key, want[k]);
        }
    }
}

static void test_refused(void **state)
{
    struct cr_err e = CR_ERR_INIT;
    char key[CR_PERIOD_BUFSZ];
    (void)state;
    assert_int_equal(cr_period_key("fortnight", NULL, 0, key, &e), CR_EINVAL);
    assert_non_null(strstr(e.msg, "'fortnight'"));
    cr_err_clear(&e);
    assert_int_equal(cr_period_key("week", "Mars/Olympus", 0, key, &e), CR_EINVAL);
    assert_false(cr_period_valid(NULL) || cr_period_valid("") || cr_period_valid("Week"));
    assert_true(cr_period_valid("none") && cr_period_valid("year"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_keys),
                                       cmocka_unit_test(test_refused)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
