/*
 * fuzz_datetime.c - timestamps, dates, durations and numbers from user text
 *
 * Also checks a round trip: a parsed timestamp formats and parses back to the same instant.
 */
#include <stdlib.h>
#include <string.h>

#include "core/datetime.h"
#include "core/mem.h"
#include "core/parse.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = cr_xmemdupz(data, size);
    cr_time_t t, back;
    int64_t days, us, i;
    double d;
    char buf[CR_TIME_BUFSZ];
    if (cr_time_parse(s, size, &t, NULL) == 0 && t > -INT64_C(30000000000000000) &&
        t < INT64_C(30000000000000000)) {
        cr_time_format_iso(t, buf);
        if (cr_time_parse(buf, strlen(buf), &back, NULL) != 0 || back != t)
            __builtin_trap();
    }
    if (cr_date_parse(s, size, &days, NULL) == 0)
        cr_date_format(days, buf);
    if (cr_duration_parse(s, size, &us, NULL) == 0)
        cr_duration_format(us, buf);
    (void)cr_parse_i64(s, size, &i);
    (void)cr_parse_double(s, size, &d);
    free(s);
    return 0;
}
