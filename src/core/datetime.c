/*
 * datetime.c - civil calendar arithmetic, ISO 8601 parsing and formatting, durations
 *
 * Calendar conversions use Howard Hinnant's days_from_civil algorithms (proleptic Gregorian).
 */
#include "core/datetime.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

int64_t cr_days_from_civil(int y, int m, int d)
{
    int64_t yy = (int64_t)y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void cr_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp, yy;
    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    yy = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

int cr_days_in_month(int y, int m)
{
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return m >= 1 && m <= 12 ? dim[m - 1] : 0;
}

cr_time_t cr_time_from_civil(const struct cr_civil *c)
{
    /* Years beyond 0..9999 would overflow the microsecond count: they saturate. */
    int year = c->year < 0 ? 0 : c->year > 9999 ? 9999 : c->year;
    int64_t days = cr_days_from_civil(year, c->month, c->day);
    return ((days * 86400 + c->hour * 3600 + c->min * 60 + c->sec) * CR_USEC_PER_SEC) + c->usec;
}

void cr_time_to_civil(cr_time_t t, struct cr_civil *c)
{
    int64_t secs = t / CR_USEC_PER_SEC, us = t % CR_USEC_PER_SEC;
    int64_t days, rem;
    if (us < 0) {
        us += CR_USEC_PER_SEC;
        secs--;
    }
    days = secs / 86400;
    rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    cr_civil_from_days(days, &c->year, &c->month, &c->day);
    c->hour = (int)(rem / 3600);
    c->min = (int)(rem / 60 % 60);
    c->sec = (int)(rem % 60);
    c->usec = (int)us;
}

/* Reads exactly `width` digits at *p. */
static int scan_digits(const char **p, const char *end, int width, int *out)
{
    int v = 0;
    for (int i = 0; i < width; i++) {
        if (*p >= end || !isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return 0;
}

static int scan_date(const char **p, const char *end, int *y, int *m, int *d)
{
    if (scan_digits(p, end, 4, y) || *p >= end || **p != '-')
        return -1;
    (*p)++;
    if (scan_digits(p, end, 2, m) || *p >= end || **p != '-')
        return -1;
    (*p)++;
    if (scan_digits(p, end, 2, d))
        return -1;
    return 0;
}

int cr_date_parse(const char *s, size_t n, int64_t *days, struct cr_err *err)
{
    const char *p = s, *end = s + n;
    int y, m, d;
    if (scan_date(&p, end, &y, &m, &d) || p != end)
        return cr_err_set(err, CR_ESYNTAX, "bad date '%.*s' (expected YYYY-MM-DD)", (int)n, s);
    if (m < 1 || m > 12 || d < 1 || d > cr_days_in_month(y, m))
        return cr_err_set(err, CR_ESYNTAX, "bad date '%.*s' (no such day)", (int)n, s);
    *days = cr_days_from_civil(y, m, d);
    return 0;
}

int cr_time_parse(const char *s, size_t n, cr_time_t *out, struct cr_err *err)
{
    const char *p = s, *end = s + n;
    struct cr_civil c = {0};
    int offset_min = 0;

    if (scan_date(&p, end, &c.year, &c.month, &c.day))
        goto bad;
    if (c.month < 1 || c.month > 12 || c.day < 1 || c.day > cr_days_in_month(c.year, c.month))
        return cr_err_set(err, CR_ESYNTAX, "bad timestamp '%.*s' (no such day)", (int)n, s);
    if (p < end && (*p == 'T' || *p == 't' || *p == ' ')) {
        p++;
        if (scan_digits(&p, end, 2, &c.hour) || p >= end || *p != ':')
            goto bad;
        p++;
        if (scan_digits(&p, end, 2, &c.min))
            goto bad;
        if (p < end && *p == ':') {
            p++;
            if (scan_digits(&p, end, 2, &c.sec))
                goto bad;
            if (p < end && (*p == '.' || *p == ',')) {
                int scale = 100000, digits = 0;
                p++;
                while (p < end && isdigit((unsigned char)*p)) {
                    if (scale) {
                        c.usec += (*p - '0') * scale;
                        scale /= 10;
                    }
                    p++;
                    digits++;
                }
                if (!digits)
                    goto bad;
            }
        }
        if (c.hour > 23 || c.min > 59 || c.sec > 60)
            return cr_err_set(err, CR_ESYNTAX, "bad timestamp '%.*s' (time out of range)",
                              (int)n, s);
        if (c.sec == 60) /* a leap second reads as the next second */
            c.sec = 59, c.usec = 999999;
        if (p < end && (*p == 'Z' || *p == 'z')) {
            p++;
        } else if (p < end && (*p == '+' || *p == '-')) {
            int sign = *p == '-' ? -1 : 1, oh, om = 0;
            p++;
            if (scan_digits(&p, end, 2, &oh))
                goto bad;
            if (p < end && *p == ':')
                p++;
            if (p < end && scan_digits(&p, end, 2, &om))
                goto bad;
            if (oh > 23 || om > 59)
                goto bad;
            offset_min = sign * (oh * 60 + om);
        }
    }
    if (p != end)
        goto bad;
    *out = cr_time_from_civil(&c) - (int64_t)offset_min * 60 * CR_USEC_PER_SEC;
    return 0;
bad:
    return cr_err_set(err, CR_ESYNTAX,
                      "bad timestamp '%.*s' (expected YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM])",
                      (int)(n > 64 ? 64 : n), s);
}

static char *format_time(cr_time_t t, char *out, char sep, const char *zone)
{
    struct cr_civil c;
    int n;
    cr_time_to_civil(t, &c);
    n = snprintf(out, CR_TIME_BUFSZ, "%04d-%02d-%02d%c%02d:%02d:%02d", c.year, c.month, c.day,
                 sep, c.hour, c.min, c.sec);
    if (c.usec && n > 0 && n < CR_TIME_BUFSZ) {
        int k = snprintf(out + n, (size_t)(CR_TIME_BUFSZ - n), ".%06d", c.usec);
        n += k;
        while (out[n - 1] == '0')
            n--;
        out[n] = '\0';
    }
    if (n > 0 && n < CR_TIME_BUFSZ)
        snprintf(out + n, (size_t)(CR_TIME_BUFSZ - n), "%s", zone);
    return out;
}

char *cr_time_format_iso(cr_time_t t, char *out)
{
    return format_time(t, out, 'T', "Z");
}

char *cr_time_format_sql(cr_time_t t, char *out)
{
    return format_time(t, out, ' ', "");
}

char *cr_date_format(int64_t days, char *out)
{
    int y, m, d;
    cr_civil_from_days(days, &y, &m, &d);
    snprintf(out, CR_TIME_BUFSZ, "%04d-%02d-%02d", y, m, d);
    return out;
}

static const struct {
    const char *name;
    int64_t usec;
} duration_units[] = {
    {"w", 7 * 86400 * CR_USEC_PER_SEC},     {"week", 7 * 86400 * CR_USEC_PER_SEC},
    {"weeks", 7 * 86400 * CR_USEC_PER_SEC}, {"d", 86400 * CR_USEC_PER_SEC},
    {"day", 86400 * CR_USEC_PER_SEC},       {"days", 86400 * CR_USEC_PER_SEC},
    {"h", 3600 * CR_USEC_PER_SEC},          {"hour", 3600 * CR_USEC_PER_SEC},
    {"hours", 3600 * CR_USEC_PER_SEC},      {"m", 60 * CR_USEC_PER_SEC},
    {"min", 60 * CR_USEC_PER_SEC},          {"mins", 60 * CR_USEC_PER_SEC},
    {"minute", 60 * CR_USEC_PER_SEC},       {"minutes", 60 * CR_USEC_PER_SEC},
    {"s", CR_USEC_PER_SEC},                 {"sec", CR_USEC_PER_SEC},
    {"secs", CR_USEC_PER_SEC},              {"second", CR_USEC_PER_SEC},
    {"seconds", CR_USEC_PER_SEC},
};

int cr_duration_parse(const char *s, size_t n, int64_t *usec, struct cr_err *err)
{
    const char *p = s, *end = s + n;
    int64_t total = 0;
    int parts = 0;
    while (p < end) {
        int64_t v = 0;
        const char *u;
        size_t ulen, i;
        while (p < end && isspace((unsigned char)*p))
            p++;
        if (p == end)
            break;
        if (!isdigit((unsigned char)*p))
            goto bad;
        while (p < end && isdigit((unsigned char)*p)) {
            if (v > CR_DURATION_MAX / CR_USEC_PER_SEC)
                goto too_long;
            v = v * 10 + (*p++ - '0');
        }
        while (p < end && *p == ' ')
            p++;
        u = p;
        while (p < end && isalpha((unsigned char)*p))
            p++;
        ulen = (size_t)(p - u);
        for (i = 0; i < sizeof duration_units / sizeof *duration_units; i++)
            if (strlen(duration_units[i].name) == ulen &&
                strncasecmp(u, duration_units[i].name, ulen) == 0)
                break;
        if (i == sizeof duration_units / sizeof *duration_units) {
            if ((ulen >= 3 && strncasecmp(u, "mon", 3) == 0) ||
                (ulen >= 1 && tolower((unsigned char)*u) == 'y'))
                return cr_err_set(err, CR_ESYNTAX,
                                  "bad duration '%.*s' (months and years vary in length; use "
                                  "days or a date)",
                                  (int)n, s);
            goto bad;
        }
        if (v > (CR_DURATION_MAX - total) / duration_units[i].usec)
            goto too_long;
        total += v * duration_units[i].usec;
        parts++;
        while (p < end && (isspace((unsigned char)*p) || *p == ','))
            p++;
    }
    if (!parts)
        goto bad;
    *usec = total;
    return 0;
too_long:
    return cr_err_set(err, CR_ETOOBIG, "duration '%.*s' is too long (at most 100 years)",
                      (int)(n > 64 ? 64 : n), s);
bad:
    return cr_err_set(err, CR_ESYNTAX,
                      "bad duration '%.*s' (expected a number and a unit: 30s, 15m, 12h, 3d, 2w)",
                      (int)(n > 64 ? 64 : n), s);
}

char *cr_duration_format(int64_t usec, char *out)
{
    static const struct {
        char unit;
        int64_t usec;
    } parts[] = {{'d', 86400 * CR_USEC_PER_SEC},
                 {'h', 3600 * CR_USEC_PER_SEC},
                 {'m', 60 * CR_USEC_PER_SEC},
                 {'s', CR_USEC_PER_SEC}};
    size_t len = 0;
    if (usec < 0) {
        out[len++] = '-';
        usec = -usec;
    }
    for (size_t i = 0; i < 4; i++) {
        int64_t v = usec / parts[i].usec;
        if (v) {
            len += (size_t)snprintf(out + len, CR_TIME_BUFSZ - len, "%lld%c", (long long)v,
                                    parts[i].unit);
            usec -= v * parts[i].usec;
        }
    }
    if (len == 0 || (len == 1 && out[0] == '-'))
        len = (size_t)snprintf(out, CR_TIME_BUFSZ, "0s");
    out[len] = '\0';
    return out;
}

cr_time_t cr_time_real_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (cr_time_t)tv.tv_sec * CR_USEC_PER_SEC + tv.tv_usec;
}
