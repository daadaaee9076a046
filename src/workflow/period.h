/*
 * period.h - the aggregation periods of recurring deliveries
 *
 * A fire of a recurring delivery activity adds its sends to the execution of the period its
 * fire time falls in, calendar periods in the workflow's time zone: day "2026-12-01", ISO
 * 8601 week "2026-W49" (weeks start on Monday; a week belongs to the year of its Thursday, so
 * 2026-12-28 is in 2026-W53 and 2027-01-04 starts 2027-W01), month "2026-12", year "2026".
 * "none" gives each fire an execution of its own, keyed by its local time "2026-12-01T09:00".
 */
#ifndef CR_WORKFLOW_PERIOD_H
#define CR_WORKFLOW_PERIOD_H

#include "core/datetime.h"
#include "core/err.h"

#define CR_PERIOD_BUFSZ 64

/* Is aggregation one of none, day, week, month, year? */
int cr_period_valid(const char *aggregation);
/* The key of the period holding t in zone tz (NULL, "" or "UTC": UTC) into out. CR_EINVAL
 * for an unknown aggregation or zone. */
int cr_period_key(const char *aggregation, const char *tz, cr_time_t t,
                  char out[CR_PERIOD_BUFSZ], struct cr_err *err);

#endif
