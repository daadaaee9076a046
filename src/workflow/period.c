/*
 * period.c - period keys of recurring deliveries (see period.h)
 */
#include "workflow/period.h"

#include <stdio.h>
#include <string.h>

#include "workflow/cron.h"

static const char *const aggregations[] = {"none", "day", "week", "month", "year", NULL};

int cr_period_valid(const char *aggregation)
{
    for (int i = 0; aggregation && aggregations[i]; i++)
        if (strcmp(aggregation, aggregations[i]) == 0)
            return 1;
    return 0;
}

/* ISO 8601 week of a date: the week (Monday to Sunday) belongs to the year holding its
 * Thursday. */
static void iso_week(int y, int m, int d, int *wy, int *w)
{
    int64_t days = cr_days_from_civil(y, m, d);
    int dow = (int)(((days + 3) % 7 + 7) % 7); /* 0 = Monday (1970-01-01 was a Thursday) */
    int64_t thursday = days - dow + 3;
    int ty, tm, td;
    cr_civil_from_days(thursday, &ty, &tm, &td);
    *wy = ty;
    *w = (int)((thursday - cr_days_from_civil(ty, 1, 1)) / 7 + 1);
}

int cr_period_key(const char *aggregation, const char *tz, cr_time_t t,
                  char out[CR_PERIOD_BUFSZ], struct cr_err *err)
{
    struct cr_civil c;
    int rc, wy, w;
    if (!cr_period_valid(aggregation))
        return cr_err_set(err, CR_EINVAL, "aggregation is none, day, week, month or year, not "
                          "'%s'", aggregation ? aggregation : "");
    if ((rc = cr_tz_to_local(tz, t, &c, err)))
        return rc;
    switch (aggregation[0]) {
    case 'd': snprintf(out, CR_PERIOD_BUFSZ, "%04d-%02d-%02d", c.year, c.month, c.day); break;
    case 'w':
        iso_week(c.year, c.month, c.day, &wy, &w);
        snprintf(out, CR_PERIOD_BUFSZ, "%04d-W%02d", wy, w);
        break;
    case 'm': snprintf(out, CR_PERIOD_BUFSZ, "%04d-%02d", c.year, c.month); break;
    case 'y': snprintf(out, CR_PERIOD_BUFSZ, "%04d", c.year); break;
    default: /* none */
        snprintf(out, CR_PERIOD_BUFSZ, "%04d-%02d-%02dT%02d:%02d", c.year, c.month, c.day,
                 c.hour, c.min);
    }
    return 0;
}
