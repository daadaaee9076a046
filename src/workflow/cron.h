/*
 * cron.h - cron expressions and time zones: when the workflow "scheduler" activity fires
 *
 * An expression has the 5 classic fields, minute hour day-of-month month day-of-week:
 *
 *     minute        0-59
 *     hour          0-23
 *     day-of-month  1-31
 *     month         1-12 or JAN-DEC
 *     day-of-week   0-7 or SUN-SAT (0 and 7 are both Sunday)
 *
 * Each field is a comma-separated list of items: `*`, a value `5`, a range `1-5`, a step over
 * everything `*\/15` or over a range `10-50/10` (in this file `*\/` stands for star-slash,
 * which would end the comment). Names are 3 letters, any case, and may be range ends
 * ("MON-FRI"; "FRI-SUN" ends on Sunday 7); steps are numbers. A reversed range ("5-1"), a step
 * on a single value ("5/15": write "5-59/15"), a zero step and a step beyond the field's
 * maximum ("*\/60") are refused. Spaces or tabs
 * separate the fields. Macros: @yearly = @annually = "0 0 1 1 *", @monthly = "0 0 1 * *",
 * @weekly = "0 0 * * 0", @daily = @midnight = "0 0 * * *", @hourly = "0 * * * *" (any case;
 * @reboot has no meaning here and is refused).
 *
 * Days follow Vixie cron: when both day-of-month and day-of-week are restricted, a day matches
 * if EITHER does ("0 9 1 * MON": the 1st of each month and every Monday). As in Vixie cron and
 * cronie, a field counts as unrestricted when its text starts with `*`, so "0 0 *\/2 * MON" is
 * "odd days that are Mondays" (AND).
 *
 * Time zones come from the system tz database (/usr/share/zoneinfo, Debian package tzdata),
 * read by crier's own TZif reader (see cron.c for why not TZ/tzset). NULL, "" and "UTC" are
 * UTC without reading any file. Names are checked before the file system is touched: at most
 * 255 characters from [A-Za-z0-9_+-/], no "..", no leading "/" (symbolic links inside the
 * zone folder, such as US/Eastern, are the system's and are followed).
 *
 * Daylight saving time, as cronie (Vixie cron's heir on Linux) handles it. A job is
 * "fixed-time" unless its minute or hour field starts with `*` (then it is a "wildcard" job:
 * "*\/15 * * * *", "30 * * * *", @hourly):
 *  - a local time that does not exist (spring forward, Paris 2026-03-29 02:00-02:59): a
 *    fixed-time job due then fires once, at the first instant after the gap (03:00 CEST, i.e.
 *    the transition instant); several due times in the same gap make one firing. Wildcard jobs
 *    just skip the missing times ("30 * * * *" next fires at 03:30; "*\/15 2 * * *" not at
 *    all that day).
 *  - a local time that happens twice (fall back, Paris 2026-10-25 02:00-02:59 happens in CEST
 *    and again in CET): a fixed-time job fires once, at the first occurrence. Wildcard jobs
 *    fire at both: "*\/15 * * * *" keeps firing every 15 minutes of real time through the
 *    repeated hour rather than pausing for an hour.
 * Unlike cronie, which only catches up jumps of less than 3 hours (it cannot tell them from a
 * clock being set), these rules hold for any gap or overlap in the tz database.
 * cr_tz_from_local() maps local times with the same rules as fixed-time jobs.
 */
#ifndef CR_WORKFLOW_CRON_H
#define CR_WORKFLOW_CRON_H

#include <stdint.h>

#include "core/datetime.h"
#include "core/err.h"

/* Fire times are looked for up to this far after `after` (a little more than 5 years). */
#define CR_CRON_HORIZON_DAYS (5 * 366)

/* Flags of struct cr_cron: which fields started with `*` (Vixie's *_STAR). */
#define CR_CRON_MIN_STAR 1u
#define CR_CRON_HOUR_STAR 2u
#define CR_CRON_DOM_STAR 4u
#define CR_CRON_DOW_STAR 8u

/* A parsed expression: public, read-only; plain data (copy it freely). */
struct cr_cron {
    uint64_t minutes; /* bit m: minute m (0-59) */
    uint32_t hours;   /* bit h: hour h (0-23) */
    uint32_t days;    /* bit d: day of month d (1-31) */
    uint16_t months;  /* bit m: month m (1-12) */
    uint8_t weekdays; /* bit d: weekday d, 0 = Sunday .. 6 = Saturday (7 is folded into 0) */
    unsigned flags;   /* CR_CRON_*_STAR */
};

/* Parses an expression (see above) into a new struct cr_cron (free with cr_cron_free).
 * Errors: CR_ESYNTAX with err->msg naming the field ("cron field 2 (hour): 25 is out of range
 * 0-23"), err->line 1 and err->col the 1-based column where the bad field starts (for a
 * missing field, the column just after the text). */
int cr_cron_parse(const char *expr, struct cr_cron **out, struct cr_err *err);
/* The same into caller-owned storage (no allocation). */
int cr_cron_parse_into(const char *expr, struct cr_cron *out, struct cr_err *err);
void cr_cron_free(struct cr_cron *c);

/* The first fire time strictly after `after`, evaluated in zone tz (NULL, "" or "UTC": UTC).
 * Fire times are whole local minutes. Returns 0 and *next; CR_ENOTFOUND if there is none within
 * CR_CRON_HORIZON_DAYS (e.g. "0 0 30 2 *") or before the year 10000; CR_EINVAL for a bad or
 * unknown zone. Reads the zone's file on each call: hold a struct cr_tz and call
 * cr_cron_next_tz() to avoid that. Cost: at most a few thousand cheap steps (days, not
 * minutes, are skipped), whatever the expression. */
int cr_cron_next(const struct cr_cron *c, const char *tz, cr_time_t after, cr_time_t *next,
                 struct cr_err *err);

/* A loaded time zone: immutable, so one may be shared by threads. Nothing here keeps global
 * state: every function is thread-safe. */
struct cr_tz;

/* Loads zone `name` (NULL, "" or "UTC": UTC, no file read). CR_EINVAL with a message for a
 * refused name, an unknown zone or a file that is not a valid TZif file. */
int cr_tz_open(const char *name, struct cr_tz **out, struct cr_err *err);
/* Loads a zone from the bytes of a TZif file (RFC 8536, versions 1 to 4); name is only used in
 * messages. Files with leap seconds ("right/...") are refused. */
int cr_tz_open_tzif(const char *name, const void *data, size_t n, struct cr_tz **out,
                    struct cr_err *err);
void cr_tz_free(struct cr_tz *tz);
/* The zone's offset from UTC, in seconds east, at instant t. */
int32_t cr_tz_offset(const struct cr_tz *tz, cr_time_t t);

/* As cr_cron_next(), in a loaded zone; CR_EINVAL also for a hand-made struct cr_cron with a
 * field that matches nothing. */
int cr_cron_next_tz(const struct cr_cron *c, const struct cr_tz *tz, cr_time_t after,
                    cr_time_t *next, struct cr_err *err);

/* Checks a time zone name exists (validation of workflow files): 0 or CR_EINVAL with a message
 * naming the zone. */
int cr_tz_check(const char *tz, struct cr_err *err);

/* Local civil time <-> UTC in zone tz (NULL, "" or "UTC": UTC). */
int cr_tz_to_local(const char *tz, cr_time_t t, struct cr_civil *out, struct cr_err *err);
/* A local time that does not exist maps to the first instant after the gap, one that happens
 * twice to its first occurrence (as fixed-time cron jobs). CR_EINVAL for an impossible civil
 * time (month 13, 31 April, 24:00, a year outside 1-9999...) or a bad zone. */
int cr_tz_from_local(const char *tz, const struct cr_civil *local, cr_time_t *out,
                     struct cr_err *err);
void cr_tz_to_local_tz(const struct cr_tz *tz, cr_time_t t, struct cr_civil *out);
int cr_tz_from_local_tz(const struct cr_tz *tz, const struct cr_civil *local, cr_time_t *out,
                        struct cr_err *err);

#endif
