/*
 * fuzz_cron.c - cron expressions, time zone names and TZif files
 *
 * An input starting with "TZif" is a zone file: it is read and, when accepted, queried.
 * Otherwise line 1 is a cron expression and line 2 (optional) a zone name. Checked properties,
 * in any zone: the next fire time is later than `after`, and asking again from one microsecond
 * before it gives it back (nothing fires in between); a local time maps to an instant whose
 * local time is the same or, in a gap, later.
 */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "fuzz.h"
#include "workflow/cron.h"

static int civil_cmp(const struct cr_civil *a, const struct cr_civil *b)
{
    const int x[] = {a->year, a->month, a->day, a->hour, a->min, a->sec, a->usec};
    const int y[] = {b->year, b->month, b->day, b->hour, b->min, b->sec, b->usec};
    for (int i = 0; i < 7; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

static void exercise(const struct cr_cron *c, const struct cr_tz *z)
{
    /* 2026-03-28T23:00Z, 2026-10-24T23:00Z, 1960-01-01, 2045-06-01 */
    static const cr_time_t afters[] = {INT64_C(1774738800000000), INT64_C(1792882800000000),
                                       INT64_C(-315619200000000), INT64_C(2379974400000000)};
    static const struct cr_civil locals[] = {
        {2026, 3, 29, 2, 30, 0, 0}, {2026, 10, 25, 2, 30, 0, 0}, {2026, 11, 1, 1, 30, 0, 0},
        {1900, 1, 1, 0, 0, 0, 0},   {2045, 3, 26, 2, 0, 0, 5},
    };
    for (size_t i = 0; i < sizeof afters / sizeof *afters; i++) {
        cr_time_t next, again;
        if (cr_cron_next_tz(c, z, afters[i], &next, NULL) != 0)
            continue;
        if (next <= afters[i] || cr_cron_next_tz(c, z, next - 1, &again, NULL) != 0 ||
            again != next)
            __builtin_trap();
    }
    for (size_t i = 0; i < sizeof locals / sizeof *locals; i++) {
        cr_time_t t;
        struct cr_civil back;
        if (cr_tz_from_local_tz(z, &locals[i], &t, NULL) != 0)
            __builtin_trap();
        cr_tz_to_local_tz(z, t, &back);
        if (civil_cmp(&back, &locals[i]) < 0)
            __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cr_cron c;
    struct cr_tz *z;
    if (size >= 4 && memcmp(data, "TZif", 4) == 0) {
        if (cr_tz_open_tzif("fuzz", data, size, &z, NULL) == 0) {
            if (cr_cron_parse_into("*/20 1-3 * * *", &c, NULL) == 0)
                exercise(&c, z);
            if (cr_cron_parse_into("30 2 * * *", &c, NULL) == 0)
                exercise(&c, z);
            cr_tz_free(z);
        }
        return 0;
    }
    {
        char *s = cr_xmemdupz(data, size);
        char *nl = strchr(s, '\n');
        const char *zone = NULL;
        if (nl) {
            *nl = '\0';
            zone = nl + 1;
            if ((nl = strchr(nl + 1, '\n')))
                *nl = '\0';
        }
        if (cr_cron_parse_into(s, &c, NULL) == 0 && cr_tz_open(zone, &z, NULL) == 0) {
            exercise(&c, z);
            cr_tz_free(z);
        }
        free(s);
    }
    return 0;
}
