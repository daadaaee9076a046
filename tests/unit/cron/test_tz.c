/* test_tz.c - zone names, local <-> UTC, the TZif reader and POSIX TZ rules, hostile input
 *
 * Expected offsets of the hand-made TZif files were checked with Python's
 * zoneinfo.ZoneInfo.from_file() on the same bytes and with glibc (TZ='<rule>' date -d ...); for
 * the zero-based day form ("300") glibc and POSIX were followed: CPython puts it a day early.
 */
#include <stdio.h>
#include <stdlib.h>
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

static void test_names(void **state)
{
    static const char *const good[] = {
        "UTC",       "",           "Europe/Paris", "Etc/UTC",      "America/Argentina/Buenos_Aires",
        "Etc/GMT+5", "Etc/GMT-14", "US/Eastern",   "Asia/Kolkata",
    };
    static const struct {
        const char *name, *msg;
    } bad[] = {
        {"Mars/Olympus", "unknown time zone 'Mars/Olympus'"},
        {"Europe", "unknown time zone 'Europe'"},
        {"Europe/", "unknown time zone 'Europe/'"},
        {"europe/paris", "unknown time zone 'europe/paris'"},
        {"leapseconds", "time zone 'leapseconds': not a TZif file"},
        {"../../etc/passwd", "invalid time zone name '../../etc/passwd': must not contain '..'"},
        {"Europe/../../../etc/shadow",
         "invalid time zone name 'Europe/../../../etc/shadow': must not contain '..'"},
        {"/etc/passwd", "invalid time zone name '/etc/passwd': must not start with '/'"},
        {"/usr/share/zoneinfo/UTC",
         "invalid time zone name '/usr/share/zoneinfo/UTC': must not start with '/'"},
        {"Europe/Paris\n", "invalid time zone name 'Europe/Paris?': only letters, digits, '_', "
                           "'+', '-' and '/' are allowed"},
        {"Europe/Paris;rm -rf /", "invalid time zone name 'Europe/Paris;rm -rf /': only "
                                  "letters, digits, '_', '+', '-' and '/' are allowed"},
        {"%s%n%x", "invalid time zone name '%s%n%x': only letters, digits, '_', '+', '-' and "
                   "'/' are allowed"},
        {"zone.tab", "invalid time zone name 'zone.tab': only letters, digits, '_', '+', '-' "
                     "and '/' are allowed"},
        {"O'Brien", "invalid time zone name 'O?Brien': only letters, digits, '_', '+', '-' and "
                    "'/' are allowed"},
        {"Europe/Z\xc3\xbcrich", "invalid time zone name 'Europe/Z??rich': only letters, "
                                 "digits, '_', '+', '-' and '/' are allowed"},
        {"Europe/Pa\tris", "invalid time zone name 'Europe/Pa?ris': only letters, digits, '_', "
                           "'+', '-' and '/' are allowed"},
    };
    char longname[301];
    struct cr_err e = CR_ERR_INIT;
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        cr_err_clear(&e);
        if (cr_tz_check(good[i], &e))
            fail_msg("'%s': %s", good[i], e.msg);
    }
    assert_int_equal(cr_tz_check(NULL, NULL), 0);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_err_clear(&e);
        if (cr_tz_check(bad[i].name, &e) != CR_EINVAL)
            fail_msg("'%s' was accepted", bad[i].name);
        if (strcmp(e.msg, bad[i].msg) != 0)
            fail_msg("'%s': got '%s', want '%s'", bad[i].name, e.msg, bad[i].msg);
    }
    memset(longname, 'A', 300);
    longname[300] = '\0';
    cr_err_clear(&e);
    assert_int_equal(cr_tz_check(longname, &e), CR_EINVAL);
    assert_string_equal(e.msg, "invalid time zone name 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                               "AAAAAAAAAAAAAAAAAAAAAAAA...': too long");
    /* the other name-taking functions refuse the same way */
    {
        struct cr_civil c = {2026, 1, 1, 0, 0, 0, 0};
        cr_time_t t;
        struct cr_tz *z = (struct cr_tz *)1;
        assert_int_equal(cr_tz_to_local("../UTC", 0, &c, NULL), CR_EINVAL);
        assert_int_equal(cr_tz_from_local("Nowhere/Town", &c, &t, NULL), CR_EINVAL);
        assert_int_equal(cr_tz_open("Nowhere/Town", &z, NULL), CR_EINVAL);
        assert_null(z);
    }
}

static void check_local(const char *tz, const char *utc, const char *want)
{
    struct cr_civil c;
    struct cr_err e = CR_ERR_INIT;
    char got[64];
    if (cr_tz_to_local(tz, T(utc), &c, &e))
        fail_msg("%s: %s", tz, e.msg);
    snprintf(got, sizeof got, "%04d-%02d-%02d %02d:%02d:%02d.%06d", c.year, c.month, c.day, c.hour,
             c.min, c.sec, c.usec);
    if (strcmp(got, want) != 0)
        fail_msg("%s in %s: got %s, want %s", utc, tz ? tz : "NULL", got, want);
}

static void test_to_local(void **state)
{
    (void)state;
    check_local("Europe/Paris", "2026-03-29T00:59:59Z", "2026-03-29 01:59:59.000000");
    check_local("Europe/Paris", "2026-03-29T01:00:00Z", "2026-03-29 03:00:00.000000");
    check_local("Europe/Paris", "2026-10-25T00:59:59Z", "2026-10-25 02:59:59.000000");
    check_local("Europe/Paris", "2026-10-25T01:00:00Z", "2026-10-25 02:00:00.000000");
    check_local("Europe/Paris", "2040-07-01T12:00:00Z", "2040-07-01 14:00:00.000000");
    check_local("Asia/Kolkata", "2026-05-10T03:30:00.25Z", "2026-05-10 09:00:00.250000");
    check_local("America/New_York", "2026-11-01T05:30:00Z", "2026-11-01 01:30:00.000000");
    check_local("America/New_York", "2026-11-01T06:30:00Z", "2026-11-01 01:30:00.000000");
    check_local(NULL, "1969-12-31T23:59:59.5Z", "1969-12-31 23:59:59.500000");
    check_local("UTC", "2026-01-01T00:00:00Z", "2026-01-01 00:00:00.000000");
}

static void check_utc(const char *tz, int y, int mo, int d, int h, int mi, int s, int us,
                      const char *want)
{
    struct cr_civil c = {y, mo, d, h, mi, s, us};
    struct cr_err e = CR_ERR_INIT;
    cr_time_t t;
    char buf[CR_TIME_BUFSZ];
    if (cr_tz_from_local(tz, &c, &t, &e))
        fail_msg("%s: %s", tz, e.msg);
    if (strcmp(cr_time_format_iso(t, buf), want) != 0)
        fail_msg("%04d-%02d-%02d %02d:%02d in %s: got %s, want %s", y, mo, d, h, mi, tz, buf, want);
}

static void test_from_local(void **state)
{
    struct cr_civil bad[] = {
        {2026, 13, 1, 0, 0, 0, 0},      {2026, 4, 31, 0, 0, 0, 0}, {2026, 2, 29, 0, 0, 0, 0},
        {2026, 1, 1, 24, 0, 0, 0},      {2026, 1, 1, 0, 60, 0, 0}, {2026, 1, 1, 0, 0, 60, 0},
        {2026, 1, 1, 0, 0, 0, 1000000}, {0, 1, 1, 0, 0, 0, 0},     {10000, 1, 1, 0, 0, 0, 0},
        {2026, 1, 0, 0, 0, 0, 0},       {2026, 1, 1, -1, 0, 0, 0},
    };
    (void)state;
    check_utc("Europe/Paris", 2026, 7, 14, 12, 0, 0, 500000, "2026-07-14T10:00:00.5Z");
    check_utc("Europe/Paris", 2026, 3, 29, 1, 59, 59, 0, "2026-03-29T00:59:59Z");
    /* in the gap: the first instant after it */
    check_utc("Europe/Paris", 2026, 3, 29, 2, 0, 0, 0, "2026-03-29T01:00:00Z");
    check_utc("Europe/Paris", 2026, 3, 29, 2, 30, 0, 0, "2026-03-29T01:00:00Z");
    check_utc("Europe/Paris", 2026, 3, 29, 3, 0, 0, 0, "2026-03-29T01:00:00Z");
    /* twice: the first occurrence */
    check_utc("Europe/Paris", 2026, 10, 25, 2, 0, 0, 0, "2026-10-25T00:00:00Z");
    check_utc("Europe/Paris", 2026, 10, 25, 2, 30, 0, 0, "2026-10-25T00:30:00Z");
    check_utc("Europe/Paris", 2026, 10, 25, 3, 0, 0, 0, "2026-10-25T02:00:00Z");
    check_utc("America/New_York", 2026, 11, 1, 1, 30, 0, 0, "2026-11-01T05:30:00Z");
    check_utc("America/New_York", 2026, 3, 8, 2, 30, 0, 0, "2026-03-08T07:00:00Z");
    check_utc("Asia/Kolkata", 2026, 1, 1, 0, 0, 0, 0, "2025-12-31T18:30:00Z");
    check_utc("Australia/Sydney", 2026, 4, 5, 2, 30, 0, 0, "2026-04-04T15:30:00Z");
    check_utc(NULL, 1, 1, 1, 0, 0, 0, 0, "0001-01-01T00:00:00Z");
    check_utc("", 9999, 12, 31, 23, 59, 59, 999999, "9999-12-31T23:59:59.999999Z");
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_time_t t;
        struct cr_err e = CR_ERR_INIT;
        if (cr_tz_from_local("Europe/Paris", &bad[i], &t, &e) != CR_EINVAL)
            fail_msg("bad civil time %zu accepted", i);
        assert_true(strncmp(e.msg, "invalid local time ", 19) == 0);
    }
}

/* Every 10 minutes of 2026: local -> UTC -> local is the identity; UTC -> local -> UTC too,
 * except in the second occurrence of the repeated hour, which maps to the first. */
static void test_round_trip(void **state)
{
    static const char *const zones[] = {"Europe/Paris", "America/New_York", "Australia/Sydney",
                                        "Australia/Lord_Howe", "Asia/Kolkata"};
    (void)state;
    for (size_t zi = 0; zi < sizeof zones / sizeof *zones; zi++) {
        struct cr_tz *z;
        int repeated = 0;
        assert_int_equal(cr_tz_open(zones[zi], &z, NULL), 0);
        for (cr_time_t t = T("2026-01-01T00:00:00Z"); t < T("2027-01-01T00:00:00Z");
             t += 600 * CR_USEC_PER_SEC) {
            struct cr_civil c, c2;
            cr_time_t back;
            cr_tz_to_local_tz(z, t, &c);
            assert_int_equal(cr_tz_from_local_tz(z, &c, &back, NULL), 0);
            cr_tz_to_local_tz(z, back, &c2);
            assert_memory_equal(&c, &c2, sizeof c);
            if (back != t) {
                /* second occurrence: the first is one DST shift (1h, or 30 min) earlier */
                int32_t shift = cr_tz_offset(z, back) - cr_tz_offset(z, t);
                assert_true(shift == 3600 || shift == 1800);
                assert_true(back == t - shift * CR_USEC_PER_SEC);
                repeated++;
            }
        }
        /* Kolkata repeats nothing; the others repeat one hour (Lord Howe half an hour) */
        assert_int_equal(repeated, zi == 4 ? 0 : zi == 3 ? 3 : 6);
        cr_tz_free(z);
    }
}

/* --- hand-made TZif files */

struct tzif_spec {
    char version; /* 0 (v1 only) or '2' */
    size_t ntimes;
    const int64_t *times;
    const uint8_t *idx;
    size_t ntypes;
    const int32_t *utoff; /* isdst 0, abbreviation index 0 ("XX") */
    uint32_t leapcnt;
    const char *footer;
};

static void put32(uint8_t **p, uint32_t v)
{
    (*p)[0] = (uint8_t)(v >> 24);
    (*p)[1] = (uint8_t)(v >> 16);
    (*p)[2] = (uint8_t)(v >> 8);
    (*p)[3] = (uint8_t)v;
    *p += 4;
}

static uint8_t *tzif_block(uint8_t *p, const struct tzif_spec *s, int tsize)
{
    memcpy(p, "TZif", 4);
    p[4] = (uint8_t)s->version;
    memset(p + 5, 0, 15);
    p += 20;
    put32(&p, 0);
    put32(&p, 0);
    put32(&p, s->leapcnt);
    put32(&p, (uint32_t)s->ntimes);
    put32(&p, (uint32_t)s->ntypes);
    put32(&p, 3);
    for (size_t i = 0; i < s->ntimes; i++) {
        if (tsize == 8)
            put32(&p, (uint32_t)((uint64_t)s->times[i] >> 32));
        put32(&p, (uint32_t)s->times[i]);
    }
    for (size_t i = 0; i < s->ntimes; i++)
        *p++ = s->idx[i];
    for (size_t i = 0; i < s->ntypes; i++) {
        put32(&p, (uint32_t)s->utoff[i]);
        *p++ = 0;
        *p++ = 0;
    }
    memcpy(p, "XX", 3);
    p += 3;
    for (uint32_t i = 0; i < s->leapcnt; i++) {
        if (tsize == 8)
            put32(&p, 0);
        put32(&p, 100);
        put32(&p, 1);
    }
    return p;
}

/* Builds the file in buf (4 KiB); returns its size. */
static size_t tzif_make(uint8_t *buf, const struct tzif_spec *s)
{
    uint8_t *p = tzif_block(buf, s, 4);
    if (s->version) {
        p = tzif_block(p, s, 8);
        p += snprintf((char *)p, 4096 - (size_t)(p - buf), "\n%s\n", s->footer);
    }
    return (size_t)(p - buf);
}

static struct cr_tz *footer_zone(const char *footer)
{
    static const int32_t utc[] = {0};
    struct tzif_spec s = {'2', 0, NULL, NULL, 1, utc, 0, footer};
    uint8_t buf[4096];
    struct cr_tz *z;
    struct cr_err e = CR_ERR_INIT;
    if (cr_tz_open_tzif("test", buf, tzif_make(buf, &s), &z, &e))
        fail_msg("'%s': %s", footer, e.msg);
    return z;
}

static void check_offsets(const char *footer, const char *const *at, const int32_t *want, size_t n)
{
    struct cr_tz *z = footer_zone(footer);
    for (size_t i = 0; i < n; i++)
        if (cr_tz_offset(z, T(at[i])) != want[i])
            fail_msg("'%s' at %s: offset %d, want %d", footer, at[i], cr_tz_offset(z, T(at[i])),
                     want[i]);
    cr_tz_free(z);
}

static void test_footer_rules(void **state)
{
    (void)state;
    {
        /* the rule holds at the ends of cr_time_t (years -290308 and 294247, both winter) */
        struct cr_tz *z = footer_zone("CET-1CEST,M3.5.0,M10.5.0/3");
        struct cr_civil c;
        assert_int_equal(cr_tz_offset(z, INT64_MIN), 3600);
        assert_int_equal(cr_tz_offset(z, INT64_MAX), 3600);
        cr_tz_to_local_tz(z, INT64_MAX, &c);
        assert_int_equal(c.year, 294247);
        cr_tz_free(z);
    }
    {
        const char *at[] = {"2026-03-08T06:59:59Z", "2026-03-08T07:00:00Z", "2026-11-01T05:59:59Z",
                            "2026-11-01T06:00:00Z"};
        const int32_t want[] = {-18000, -14400, -14400, -18000};
        check_offsets("EST5EDT,M3.2.0,M11.1.0", at, want, 4);
        /* no rule: POSIX leaves it to the implementation; the US rule, as glibc */
        check_offsets("EST5EDT", at, want, 4);
    }
    {
        const char *at[] = {"1900-01-01T00:00:00Z", "2026-01-01T00:00:00Z"};
        const int32_t want[] = {19800, 19800};
        check_offsets("<+0530>-5:30", at, want, 2);
    }
    {
        /* all-year DST, as tzdata encodes it: the end of one year is the start of the next */
        const char *at[] = {"2026-01-01T00:00:00Z", "2026-07-01T00:00:00Z", "2026-12-31T23:00:00Z",
                            "2027-01-01T05:00:00Z"};
        const int32_t want[] = {-14400, -14400, -14400, -14400};
        check_offsets("EST5EDT,0/0,J365/25", at, want, 4);
    }
    {
        /* negative rule time (America/Nuuk since 2023) */
        const char *at[] = {"2026-03-29T00:59:59Z", "2026-03-29T01:00:00Z", "2026-10-25T00:59:59Z",
                            "2026-10-25T01:00:00Z"};
        const int32_t want[] = {-7200, -3600, -3600, -7200};
        check_offsets("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", at, want, 4);
    }
    {
        /* southern hemisphere: DST across the new year */
        const char *at[] = {"2026-01-15T00:00:00Z", "2026-07-15T00:00:00Z", "2026-04-04T15:59:59Z",
                            "2026-04-04T16:00:00Z", "2026-10-03T15:59:59Z", "2026-10-03T16:00:00Z"};
        const int32_t want[] = {39600, 36000, 39600, 36000, 36000, 39600};
        check_offsets("AEST-10AEDT,M10.1.0,M4.1.0/3", at, want, 6);
    }
    {
        /* Julian day without Feb 29 (J60 = 1 March), zero-based day with it (300 = 27 Oct
         * in a leap year) */
        const char *at[] = {"2028-03-01T02:59:59Z", "2028-03-01T03:00:00Z", "2028-10-27T03:59:59Z",
                            "2028-10-27T04:00:00Z", "2027-03-01T03:00:00Z", "2027-10-28T03:59:59Z",
                            "2027-10-28T04:00:00Z"};
        const int32_t want[] = {-10800, -7200, -7200, -10800, -7200, -7200, -10800};
        check_offsets("XXX3YYY,J60/0,300", at, want, 7);
    }
}

/* The EU rule in a footer-only file agrees with the table of the system's Europe/Paris for
 * every hour from 1996 (the rule's first year) to 2037 (the end of the table). */
static void test_footer_matches_table(void **state)
{
    struct cr_tz *rule = footer_zone("CET-1CEST,M3.5.0,M10.5.0/3"), *table;
    int changes = 0;
    (void)state;
    assert_int_equal(cr_tz_open("Europe/Paris", &table, NULL), 0);
    for (cr_time_t t = T("1996-01-01T00:00:00Z"); t < T("2038-01-01T00:00:00Z");
         t += 1800 * CR_USEC_PER_SEC) {
        int32_t a = cr_tz_offset(rule, t), b = cr_tz_offset(table, t);
        if (a != b)
            fail_msg("at %lld: rule %d, table %d", (long long)(t / CR_USEC_PER_SEC), a, b);
        changes += cr_tz_offset(rule, t - 1800 * CR_USEC_PER_SEC) != a;
    }
    assert_int_equal(changes, 42 * 2);
    cr_tz_free(rule);
    cr_tz_free(table);
}

static void test_tzif_versions(void **state)
{
    static const int64_t times[] = {1000000000, 2000000000};
    static const uint8_t idx[] = {1, 0};
    static const int32_t utoff[] = {0, 3600};
    uint8_t buf[4096];
    struct cr_tz *z;
    struct cr_err e = CR_ERR_INIT;
    struct tzif_spec s = {0, 2, times, idx, 2, utoff, 0, ""};
    (void)state;
    /* version 1: 32-bit table, no footer; the last offset holds after it */
    assert_int_equal(cr_tz_open_tzif("v1", buf, tzif_make(buf, &s), &z, &e), 0);
    assert_int_equal(cr_tz_offset(z, 999999999 * CR_USEC_PER_SEC), 0);
    assert_int_equal(cr_tz_offset(z, 1000000000 * CR_USEC_PER_SEC), 3600);
    assert_int_equal(cr_tz_offset(z, 2000000000 * CR_USEC_PER_SEC), 0);
    assert_int_equal(cr_tz_offset(z, INT64_MAX), 0);
    cr_tz_free(z);
    /* version 2 with an empty footer: the same */
    s.version = '2';
    assert_int_equal(cr_tz_open_tzif("v2", buf, tzif_make(buf, &s), &z, &e), 0);
    assert_int_equal(cr_tz_offset(z, 1500000000 * CR_USEC_PER_SEC), 3600);
    assert_int_equal(cr_tz_offset(z, INT64_MIN), 0);
    cr_tz_free(z);
    /* version 2, a footer taking over after the table */
    s.footer = "<+02>-2";
    assert_int_equal(cr_tz_open_tzif("v2", buf, tzif_make(buf, &s), &z, &e), 0);
    assert_int_equal(cr_tz_offset(z, 1999999999 * CR_USEC_PER_SEC), 3600);
    assert_int_equal(cr_tz_offset(z, 2000000000 * CR_USEC_PER_SEC), 7200);
    cr_tz_free(z);
    /* cr_tz_open("UTC") allocates a zone like any other */
    assert_int_equal(cr_tz_open("UTC", &z, NULL), 0);
    assert_int_equal(cr_tz_offset(z, 0), 0);
    cr_tz_free(z);
}

static void check_bad_tzif(const uint8_t *buf, size_t n, const char *want)
{
    struct cr_tz *z = (struct cr_tz *)1;
    struct cr_err e = CR_ERR_INIT;
    if (cr_tz_open_tzif("bad", buf, n, &z, &e) != CR_EINVAL)
        fail_msg("accepted, wanted '%s'", want);
    assert_null(z);
    if (want && strcmp(e.msg, want) != 0)
        fail_msg("got '%s', want '%s'", e.msg, want);
}

static void test_tzif_bad(void **state)
{
    static const int64_t times[] = {1000000000, 2000000000};
    static const uint8_t idx[] = {1, 0}, bad_idx[] = {1, 2};
    static const int32_t utoff[] = {0, 3600}, big[] = {0, 26 * 3600};
    static const char *const footers[] = {
        "CET-1CEST,M3.5.0",
        "CET-25",
        "CET-1CEST,M13.1.0,M10.5.0",
        "<CET-1",
        "CET-1CEST,J0,J10",
        "CET-1CEST,M3.6.0,M10.5.0",
        "CET-1CEST,M3.5.7,M10.5.0",
        "CET-1CEST,M3.5.0/168,M10.5.0",
        "CET-1x",
        "-1",
        "CET-1CEST,366,1",
        "CET-1:60",
        "CET-1CEST,M3.5.0,M10.5.0,",
    };
    uint8_t buf[4096];
    struct tzif_spec s = {'2', 2, times, idx, 2, utoff, 0, ""};
    size_t n;
    (void)state;
    check_bad_tzif((const uint8_t *)"", 0, "time zone 'bad': not a TZif file");
    check_bad_tzif((const uint8_t *)"TZif2", 5, "time zone 'bad': not a TZif file");
    n = tzif_make(buf, &s);
    buf[0] = 'X';
    check_bad_tzif(buf, n, "time zone 'bad': not a TZif file");
    n = tzif_make(buf, &s);
    /* the footer is "\n\n" */
    check_bad_tzif(buf, n - 1, "time zone 'bad': invalid TZif footer");
    check_bad_tzif(buf, n - 2, "time zone 'bad': invalid TZif footer");
    check_bad_tzif(buf, n - 3, "time zone 'bad': truncated TZif file");
    check_bad_tzif(buf, 60, "time zone 'bad': truncated TZif file");
    s.leapcnt = 1;
    check_bad_tzif(buf, tzif_make(buf, &s),
                   "time zone 'bad': time zones with leap seconds are not supported");
    s.leapcnt = 0;
    s.idx = bad_idx;
    check_bad_tzif(buf, tzif_make(buf, &s), "time zone 'bad': invalid TZif transition");
    s.idx = idx;
    {
        static const int64_t unsorted[] = {2000000000, 1000000000};
        s.times = unsorted;
        check_bad_tzif(buf, tzif_make(buf, &s), "time zone 'bad': invalid TZif transition");
        s.times = times;
    }
    s.utoff = big;
    check_bad_tzif(buf, tzif_make(buf, &s), "time zone 'bad': invalid TZif time type");
    s.utoff = utoff;
    s.ntypes = 0;
    s.ntimes = 0;
    check_bad_tzif(buf, tzif_make(buf, &s), "time zone 'bad': invalid TZif counts");
    s.ntypes = 2;
    s.ntimes = 2;
    for (size_t i = 0; i < sizeof footers / sizeof *footers; i++) {
        s.footer = footers[i];
        n = tzif_make(buf, &s);
        {
            struct cr_tz *z;
            struct cr_err e = CR_ERR_INIT;
            if (cr_tz_open_tzif("bad", buf, n, &z, &e) != CR_EINVAL)
                fail_msg("footer '%s' accepted", footers[i]);
            assert_string_equal(e.msg, "time zone 'bad': invalid TZ string in the TZif footer");
        }
    }
}

/* Every prefix and many one-byte corruptions of a real file: refused or read, never a crash
 * (the sanitizer build checks the reads) and never a hang. */
static void test_tzif_hostile(void **state)
{
    FILE *f = fopen("/usr/share/zoneinfo/Europe/Paris", "rb");
    uint8_t *data, *copy;
    long n;
    uint32_t rnd = 12345;
    struct cr_cron c;
    (void)state;
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = malloc((size_t)n);
    copy = malloc((size_t)n);
    assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    for (long len = 0; len < n; len++) {
        struct cr_tz *z;
        uint8_t *exact = malloc(len ? (size_t)len : 1); /* exact size: ASan sees over-reads */
        memcpy(exact, data, (size_t)len);
        if (cr_tz_open_tzif("cut", exact, (size_t)len, &z, NULL) == 0)
            fail_msg("a prefix of %ld bytes was accepted", len);
        free(exact);
    }
    assert_int_equal(cr_cron_parse_into("*/7 * * * *", &c, NULL), 0);
    for (int i = 0; i < 3000; i++) {
        struct cr_tz *z;
        memcpy(copy, data, (size_t)n);
        for (int k = 0; k < 1 + i % 3; k++) {
            rnd = rnd * 1103515245u + 12345u;
            copy[(rnd >> 8) % (uint32_t)n] ^= (uint8_t)(1u << (rnd >> 28 & 7));
        }
        if (cr_tz_open_tzif("flip", copy, (size_t)n, &z, NULL) == 0) {
            cr_time_t next;
            struct cr_civil l = {2026, 3, 29, 2, 30, 0, 0};
            (void)cr_tz_offset(z, T("2026-03-29T01:00:00Z"));
            (void)cr_cron_next_tz(&c, z, T("2026-03-28T23:00:00Z"), &next, NULL);
            (void)cr_tz_from_local_tz(z, &l, &next, NULL);
            cr_tz_free(z);
        }
    }
    free(data);
    free(copy);
}

int run_tz_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),         cmocka_unit_test(test_to_local),
        cmocka_unit_test(test_from_local),    cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_footer_rules),  cmocka_unit_test(test_footer_matches_table),
        cmocka_unit_test(test_tzif_versions), cmocka_unit_test(test_tzif_bad),
        cmocka_unit_test(test_tzif_hostile),
    };
    return cmocka_run_group_tests_name("cron tz", tests, NULL, NULL);
}
