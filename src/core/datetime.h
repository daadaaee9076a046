/*
 * datetime.h - UTC instants as microseconds since the Unix epoch; ISO 8601 in and out
 *
 * crier keeps every time in UTC. In the store a timestamp is written "YYYY-MM-DD HH:MM:SS"
 * with ".ffffff" (trailing zeros trimmed) only when there is a fraction: the text SQLite's
 * date functions use and PostgreSQL's `timestamp` prints, so both backends compare the same.
 * Dates are "YYYY-MM-DD". Durations are microseconds too ("3d", "12h", "1d12h", "30 days").
 */
#ifndef CR_DATETIME_H
#define CR_DATETIME_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef int64_t cr_time_t; /* microseconds since 1970-01-01T00:00:00Z */

#define CR_USEC_PER_SEC INT64_C(1000000)
#define CR_TIME_BUFSZ 40
/* Durations longer than 100 years are refused (CR_ETOOBIG). */
#define CR_DURATION_MAX (INT64_C(36525) * 86400 * CR_USEC_PER_SEC)

struct cr_civil {
    int year, month, day, hour, min, sec, usec;
};

/* Days since 1970-01-01 for a proleptic Gregorian date (valid or not: no checks). */
int64_t cr_days_from_civil(int y, int m, int d);
void cr_civil_from_days(int64_t z, int *y, int *m, int *d);
int cr_days_in_month(int y, int m);
/* Years outside 0..9999 saturate to those bounds (the microsecond count must not overflow). */
cr_time_t cr_time_from_civil(const struct cr_civil *c);
void cr_time_to_civil(cr_time_t t, struct cr_civil *c);

/* Parses ISO 8601 / SQL forms: "YYYY-MM-DD", "YYYY-MM-DD[T ]HH:MM[:SS[.f…]]" with an optional
 * "Z" or "±HH[:MM]" offset (none means UTC). Returns 0 or CR_ESYNTAX with a message naming the
 * bad part. */
int cr_time_parse(const char *s, size_t n, cr_time_t *out, struct cr_err *err);
/* Parses exactly "YYYY-MM-DD" (a real calendar day). */
int cr_date_parse(const char *s, size_t n, int64_t *days, struct cr_err *err);

/* "2026-12-01T09:00:00Z" (fraction only when non-zero). out needs CR_TIME_BUFSZ bytes. */
char *cr_time_format_iso(cr_time_t t, char *out);
/* "2026-12-01 09:00:00" (fraction only when non-zero): the store's text form. */
char *cr_time_format_sql(cr_time_t t, char *out);
/* "2026-12-01". */
char *cr_date_format(int64_t days, char *out);

/* Parses "3d", "12h", "30m", "45s", "2w", "1d12h", "30 days", "1 hour 30 minutes".
 * Months and years are refused: their length varies. */
int cr_duration_parse(const char *s, size_t n, int64_t *usec, struct cr_err *err);
/* "3d", "1d12h", "90s" ("0s" for zero). out needs CR_TIME_BUFSZ bytes. */
char *cr_duration_format(int64_t usec, char *out);

/* Wall-clock now from the OS. */
cr_time_t cr_time_real_now(void);

#endif
