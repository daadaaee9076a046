/*
 * cron.c - cron expressions, TZif time zones, next fire time
 *
 * Time zones are read from TZif files by the small reader below rather than through
 * setenv("TZ") + tzset() + localtime_r()/mktime() under a mutex: TZ is process-wide, so a mutex
 * of ours would not stop other threads (logging, libpq, ICU, anything calling localtime) from
 * seeing the switched zone, and setenv() racing getenv() is undefined behaviour. mktime() also
 * resolves nonexistent and repeated local times by guessing from tm_isdst and says nothing of
 * where a gap starts, which the DST rules of cron.h need. The reader is bounds-checked, keeps
 * no global state, and gives transition instants directly.
 *
 * A zone is a table of instants where the UTC offset changes (only real offset changes are
 * kept; a change of abbreviation or of the isdst flag alone is dropped), the offset before the
 * first, and the POSIX TZ rule of the file's footer for instants after the table (tzdata
 * "slim" files end their tables in 2007, "fat" ones in 2037).
 *
 * The next fire time is searched segment by segment, a segment being a span of UTC during
 * which the offset does not change: in it, local time is UTC plus a constant, so the first
 * matching local minute is found with calendar arithmetic that skips whole months, days and
 * hours. Between segments, the DST rules of cron.h decide about gaps and repeated times.
 */
#include "workflow/cron.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mem.h"

#define TZ_DIR "/usr/share/zoneinfo"
#define TZ_NAME_MAX 255
#define TZ_FILE_MAX (1024 * 1024)
#define MAX_ABS_OFFSET (26 * 3600) /* offsets are refused from there (RFC 8536: -89999..93599) */
#define MIN_SEC (INT64_C(-719162) * 86400)     /* 0001-01-01T00:00:00Z */
#define MAX_SEC (INT64_C(2932897) * 86400 - 1) /* 9999-12-31T23:59:59Z */
#define NONE INT64_MIN

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* ------------------------------------------------------------------ cron expressions */

static const char *const field_names[5] = {"minute", "hour", "day-of-month", "month",
                                           "day-of-week"};
static const int field_lo[5] = {0, 0, 1, 1, 0};
static const int field_hi[5] = {59, 23, 31, 12, 7};
static const char *const month_names[12] = {"jan", "feb", "mar", "apr", "may", "jun",
                                            "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const day_names[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

struct field_ctx {
    int field; /* 0..4 */
    int col;   /* 1-based column where the field starts */
    struct cr_err *err;
};

static int field_err(const struct field_ctx *f, const char *fmt, ...) CR_PRINTF(2, 3);
static int field_err(const struct field_ctx *f, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return cr_err_at(f->err, CR_ESYNTAX, 1, f->col, "cron field %d (%s): %s", f->field + 1,
                     field_names[f->field], what);
}

/* A character as a message shows it: itself if printable, else \xNN. */
static const char *char_repr(unsigned char c, char buf[8])
{
    if (c > 0x20 && c < 0x7f && c != '\'')
        snprintf(buf, 8, "'%c'", c);
    else if (c == ' ')
        snprintf(buf, 8, "a space");
    else
        snprintf(buf, 8, "\\x%02x", c);
    return buf;
}

/* Reads a number or a name at *p (before end). *is_name says which. */
static int parse_value(const struct field_ctx *f, const char **p, const char *end, int *v,
                       int *is_name)
{
    const char *s = *p, *q = s;
    char cb[8];
    *is_name = 0;
    if (q < end && isdigit((unsigned char)*q)) {
        long n = 0;
        while (q < end && isdigit((unsigned char)*q)) {
            if (n < 1000000)
                n = n * 10 + (*q - '0');
            q++;
        }
        if (n < field_lo[f->field] || n > field_hi[f->field])
            return field_err(f, "%.*s is out of range %d-%d", (int)(q - s > 20 ? 20 : q - s), s,
                             field_lo[f->field], field_hi[f->field]);
        *v = (int)n;
        *p = q;
        return 0;
    }
    if (q < end && isalpha((unsigned char)*q)) {
        const char *const *names = f->field == 3 ? month_names : f->field == 4 ? day_names : NULL;
        int count = f->field == 3 ? 12 : 7;
        while (q < end && isalnum((unsigned char)*q))
            q++;
        if (!names)
            return field_err(f, "expected a number, found '%.*s'", (int)(q - s > 20 ? 20 : q - s),
                             s);
        if (q - s == 3)
            for (int i = 0; i < count; i++)
                if (strncasecmp(s, names[i], 3) == 0) {
                    *v = f->field == 3 ? i + 1 : i;
                    *is_name = 1;
                    *p = q;
                    return 0;
                }
        return field_err(f, "unknown %s name '%.*s' (%s)", f->field == 3 ? "month" : "day",
                         (int)(q - s > 20 ? 20 : q - s), s, f->field == 3 ? "JAN-DEC" : "SUN-SAT");
    }
    if (q >= end)
        return field_err(f, "expected a number%s", f->field >= 3 ? " or a name" : "");
    return field_err(f, "expected a number%s, found %s", f->field >= 3 ? " or a name" : "",
                     char_repr((unsigned char)*q, cb));
}

/* One list item: `*`, `*` /step, value, value-value, value-value/step. */
static int parse_item(const struct field_ctx *f, const char *s, const char *end, uint64_t *bits)
{
    const char *p = s;
    int lo = field_lo[f->field], hi = field_hi[f->field], a, b, step = 1, rc, name_a, name_b;
    int range = 0;
    char cb[8];
    if (p == end)
        return field_err(f, "empty list item");
    if (*p == '*') {
        a = lo;
        b = hi;
        range = 1;
        p++;
    } else {
        if ((rc = parse_value(f, &p, end, &a, &name_a)))
            return rc;
        b = a;
        if (p < end && *p == '-') {
            p++;
            if ((rc = parse_value(f, &p, end, &b, &name_b)))
                return rc;
            /* "FRI-SUN": a range that ends on Sunday ends on 7. */
            if (f->field == 4 && name_b && b == 0 && a > 0)
                b = 7;
            if (a > b)
                return field_err(f, "range %d-%d is reversed", a, b);
            range = 1;
        }
    }
    if (p < end && *p == '/') {
        const char *st = ++p;
        long n = 0;
        if (!range)
            return field_err(f, "a step needs a range or *: write %d-%d/... for %d/...", a, hi, a);
        while (p < end && isdigit((unsigned char)*p)) {
            if (n < 1000000)
                n = n * 10 + (*p - '0');
            p++;
        }
        if (p == st)
            return field_err(f, "expected a step number after '/'");
        if (n == 0)
            return field_err(f, "step 0 is not allowed");
        if (n > hi)
            return field_err(f, "step %.*s is out of range 1-%d", (int)(p - st > 20 ? 20 : p - st),
                             st, hi);
        step = (int)n;
    }
    if (p < end)
        return field_err(f, "unexpected %s", char_repr((unsigned char)*p, cb));
    for (int v = a; v <= b; v += step)
        *bits |= UINT64_C(1) << v;
    return 0;
}

static int parse_field(const struct field_ctx *f, const char *s, const char *end, uint64_t *bits)
{
    *bits = 0;
    for (;;) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *item_end = comma ? comma : end;
        int rc = parse_item(f, s, item_end, bits);
        if (rc)
            return rc;
        if (!comma)
            return 0;
        s = comma + 1;
    }
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static const struct {
    const char *name, *expansion;
} macros[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

static int clamp_col(ptrdiff_t off)
{
    return off >= 0x7ffffffe ? 0x7fffffff : (int)off + 1;
}

int cr_cron_parse_into(const char *expr, struct cr_cron *out, struct cr_err *err)
{
    const char *p = expr ? expr : "";
    uint64_t bits[5];
    unsigned flags = 0;
    int nfields = 0;
    while (is_blank(*p))
        p++;
    if (!*p)
        return cr_err_at(err, CR_ESYNTAX, 1, 1, "empty cron expression");
    if (*p == '@') {
        const char *w = p, *q = p;
        size_t n;
        while (*q && !is_blank(*q))
            q++;
        n = (size_t)(q - w);
        while (is_blank(*q))
            q++;
        for (size_t i = 0; i < sizeof macros / sizeof *macros; i++)
            if (strlen(macros[i].name) == n && strncasecmp(w, macros[i].name, n) == 0) {
                if (*q)
                    return cr_err_at(err, CR_ESYNTAX, 1, clamp_col(q - expr),
                                     "unexpected text after %s", macros[i].name);
                return cr_cron_parse_into(macros[i].expansion, out, NULL);
            }
        {
            char shown[24];
            size_t k = 0;
            for (; k < n && k < 20; k++)
                shown[k] = w[k] > 0x20 && w[k] < 0x7f && w[k] != '\'' ? w[k] : '?';
            shown[k] = '\0';
            return cr_err_at(err, CR_ESYNTAX, 1, clamp_col(w - expr),
                             "unknown cron macro '%s' (@yearly @annually @monthly @weekly @daily "
                             "@midnight @hourly)",
                             shown);
        }
    }
    while (*p) {
        const char *start = p;
        while (*p && !is_blank(*p))
            p++;
        if (nfields < 5) {
            struct field_ctx f = {nfields, clamp_col(start - expr), err};
            int rc = parse_field(&f, start, p, &bits[nfields]);
            if (rc)
                return rc;
            if (*start == '*')
                flags |= 1u << nfields; /* MIN, HOUR, DOM, _, DOW: fixed below */
        } else if (nfields == 5) {
            int extra = 1;
            for (const char *q = p; *q;) {
                while (is_blank(*q))
                    q++;
                if (!*q)
                    break;
                extra++;
                while (*q && !is_blank(*q))
                    q++;
            }
            return cr_err_at(err, CR_ESYNTAX, 1, clamp_col(start - expr),
                             "cron expression has %d fields, expected 5 (minute hour "
                             "day-of-month month day-of-week)",
                             5 + extra);
        }
        nfields++;
        while (is_blank(*p))
            p++;
    }
    if (nfields < 5)
        return cr_err_at(err, CR_ESYNTAX, 1, clamp_col(p - expr),
                         "cron expression has %d field%s, expected 5 (minute hour day-of-month "
                         "month day-of-week): %s is missing",
                         nfields, nfields == 1 ? "" : "s", field_names[nfields]);
    out->minutes = bits[0];
    out->hours = (uint32_t)bits[1];
    out->days = (uint32_t)bits[2];
    out->months = (uint16_t)bits[3];
    out->weekdays = (uint8_t)((bits[4] | bits[4] >> 7) & 0x7f);
    out->flags = (flags & 1 ? CR_CRON_MIN_STAR : 0) | (flags & 2 ? CR_CRON_HOUR_STAR : 0) |
                 (flags & 4 ? CR_CRON_DOM_STAR : 0) | (flags & 16 ? CR_CRON_DOW_STAR : 0);
    return 0;
}

int cr_cron_parse(const char *expr, struct cr_cron **out, struct cr_err *err)
{
    struct cr_cron c;
    int rc = cr_cron_parse_into(expr, &c, err);
    *out = NULL;
    if (rc)
        return rc;
    *out = cr_xmalloc(sizeof c);
    **out = c;
    return 0;
}

void cr_cron_free(struct cr_cron *c)
{
    free(c);
}

/* ------------------------------------------------------------------ time zones */

/* A date of a POSIX TZ rule: 'J' Julian day 1-365 without Feb 29, 'D' day 0-365 counting it,
 * 'M' month.week.weekday; secs is the local time of day (-167h..167h, RFC 8536). */
struct tz_rule_date {
    char kind;
    int a, b, c;
    int32_t secs;
};

struct cr_tz {
    int64_t *at;  /* instants (s) where the offset changes, increasing */
    int32_t *off; /* offset (s east) from at[i] on */
    size_t n;
    int32_t off0; /* before at[0] */
    int has_rule; /* the footer rule applies from rule_from on */
    int64_t rule_from;
    int has_dst;
    int32_t std_off, dst_off;
    struct tz_rule_date start, end;
    int32_t offsets[258]; /* every offset the zone uses, distinct */
    size_t noffsets;
    int32_t min_off, max_off;
};

static const struct cr_tz utc_zone = {
    .offsets = {0},
    .noffsets = 1,
};

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int weekday(int64_t days) /* 0 = Sunday */
{
    return (int)(((days + 4) % 7 + 7) % 7);
}

static int64_t year_of(int64_t secs)
{
    int y, m, d;
    cr_civil_from_days(floor_div(secs, 86400), &y, &m, &d);
    return y;
}

static int64_t rule_day(const struct tz_rule_date *r, int y)
{
    int64_t jan1 = cr_days_from_civil(y, 1, 1), first, day;
    int dim;
    switch (r->kind) {
    case 'J':
        return jan1 + r->a - 1 + (is_leap(y) && r->a >= 60);
    case 'D':
        return jan1 + r->a;
    default:
        first = cr_days_from_civil(y, r->a, 1);
        dim = cr_days_in_month(y, r->a);
        day = first + (r->c - weekday(first) + 7) % 7 + (int64_t)(r->b - 1) * 7;
        while (day >= first + dim)
            day -= 7;
        return day;
    }
}

/* The DST start and end of year y, as UTC instants. */
static void rule_year(const struct cr_tz *z, int64_t y, int64_t *s, int64_t *e)
{
    *s = rule_day(&z->start, (int)y) * 86400 + z->start.secs - z->std_off;
    *e = rule_day(&z->end, (int)y) * 86400 + z->end.secs - z->dst_off;
}

static int32_t rule_offset(const struct cr_tz *z, int64_t t)
{
    int64_t y0 = year_of(t), best = INT64_MIN;
    int dst = 0;
    if (!z->has_dst)
        return z->std_off;
    for (int64_t y = y0 - 2; y <= y0 + 1; y++) {
        int64_t s, e;
        rule_year(z, y, &s, &e);
        if (s <= t && s >= best) { /* on a tie, the start wins (all-year DST rules) */
            best = s;
            dst = 1;
        }
        if (e <= t && e > best) {
            best = e;
            dst = 0;
        }
    }
    return dst ? z->dst_off : z->std_off;
}

static int64_t rule_next(const struct cr_tz *z, int64_t t)
{
    int64_t y0 = year_of(t), best = INT64_MAX;
    if (!z->has_dst)
        return INT64_MAX;
    for (int64_t y = y0 - 1; y <= y0 + 2; y++) {
        int64_t s, e;
        rule_year(z, y, &s, &e);
        if (s > t && s < best)
            best = s;
        if (e > t && e < best)
            best = e;
    }
    return best;
}

/* Index of the last at[] <= t, or -1. */
static ptrdiff_t table_index(const struct cr_tz *z, int64_t t)
{
    size_t lo = 0, hi = z->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->at[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (ptrdiff_t)lo - 1;
}

static int32_t zone_offset(const struct cr_tz *z, int64_t t)
{
    ptrdiff_t i;
    if (z->has_rule && t >= z->rule_from)
        return rule_offset(z, t);
    i = table_index(z, t);
    return i < 0 ? z->off0 : z->off[i];
}

/* The first instant after t where the offset may change (INT64_MAX if none). */
static int64_t zone_next_raw(const struct cr_tz *z, int64_t t)
{
    int64_t best = INT64_MAX;
    ptrdiff_t i;
    if (z->has_rule && t >= z->rule_from)
        return rule_next(z, t);
    i = table_index(z, t) + 1;
    if ((size_t)i < z->n)
        best = z->at[i];
    if (z->has_rule && z->rule_from > t && z->rule_from < best)
        best = z->rule_from;
    return best;
}

/* The first instant after t where the offset changes, or limit if none comes before. */
static int64_t zone_next_change(const struct cr_tz *z, int64_t t, int64_t limit)
{
    int32_t cur = zone_offset(z, t);
    int64_t x = t;
    for (;;) {
        x = zone_next_raw(z, x);
        if (x >= limit)
            return limit;
        if (zone_offset(z, x) != cur)
            return x;
    }
}

static void add_offset(struct cr_tz *z, int32_t o)
{
    for (size_t i = 0; i < z->noffsets; i++)
        if (z->offsets[i] == o)
            return;
    z->offsets[z->noffsets++] = o;
    if (z->noffsets == 1 || o < z->min_off)
        z->min_off = o;
    if (z->noffsets == 1 || o > z->max_off)
        z->max_off = o;
}

/* --- POSIX TZ strings (the TZif footer) */

static int tzs_name(const char **pp)
{
    const char *p = *pp, *s;
    if (*p == '<') {
        s = ++p;
        while (isalnum((unsigned char)*p) || *p == '+' || *p == '-')
            p++;
        if (*p != '>' || p - s < 3)
            return -1;
        *pp = p + 1;
        return 0;
    }
    s = p;
    while (isalpha((unsigned char)*p))
        p++;
    if (p - s < 3)
        return -1;
    *pp = p;
    return 0;
}

/* [+-]h[h[h]][:mm[:ss]], hours at most max_h; returns seconds (sign as written). */
static int tzs_time(const char **pp, int max_h, int32_t *out)
{
    const char *p = *pp;
    int sign = 1, h = 0, m = 0, s = 0, nd = 0;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    while (isdigit((unsigned char)*p) && nd < 3) {
        h = h * 10 + (*p++ - '0');
        nd++;
    }
    if (nd == 0 || isdigit((unsigned char)*p) || h > max_h)
        return -1;
    if (*p == ':') {
        p++;
        if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
            return -1;
        m = (p[0] - '0') * 10 + (p[1] - '0');
        p += 2;
        if (*p == ':') {
            p++;
            if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
                return -1;
            s = (p[0] - '0') * 10 + (p[1] - '0');
            p += 2;
        }
        if (m > 59 || s > 59)
            return -1;
    }
    *out = sign * (h * 3600 + m * 60 + s);
    *pp = p;
    return 0;
}

static int tzs_num(const char **pp, int lo, int hi, int *out)
{
    const char *p = *pp;
    int v = 0, nd = 0;
    while (isdigit((unsigned char)*p) && nd < 4) {
        v = v * 10 + (*p++ - '0');
        nd++;
    }
    if (nd == 0 || v < lo || v > hi)
        return -1;
    *out = v;
    *pp = p;
    return 0;
}

static int tzs_date(const char **pp, struct tz_rule_date *d)
{
    const char *p = *pp;
    memset(d, 0, sizeof *d);
    if (*p == 'J') {
        p++;
        d->kind = 'J';
        if (tzs_num(&p, 1, 365, &d->a))
            return -1;
    } else if (*p == 'M') {
        p++;
        d->kind = 'M';
        if (tzs_num(&p, 1, 12, &d->a) || *p++ != '.' || tzs_num(&p, 1, 5, &d->b) || *p++ != '.' ||
            tzs_num(&p, 0, 6, &d->c))
            return -1;
    } else {
        d->kind = 'D';
        if (tzs_num(&p, 0, 365, &d->a))
            return -1;
    }
    d->secs = 7200;
    if (*p == '/') {
        p++;
        if (tzs_time(&p, 167, &d->secs))
            return -1;
    }
    *pp = p;
    return 0;
}

static int parse_posix_tz(const char *s, struct cr_tz *z)
{
    const char *p = s;
    int32_t o;
    if (tzs_name(&p) || tzs_time(&p, 24, &o))
        return -1;
    z->std_off = -o;
    z->dst_off = z->std_off;
    z->has_rule = 1;
    if (!*p)
        return 0;
    if (tzs_name(&p))
        return -1;
    z->has_dst = 1;
    z->dst_off = z->std_off + 3600;
    if (*p && *p != ',') {
        if (tzs_time(&p, 24, &o))
            return -1;
        z->dst_off = -o;
    }
    if (!*p) { /* POSIX leaves the default rule to the implementation: the US rule */
        const char *def = "M3.2.0,M11.1.0";
        return tzs_date(&def, &z->start) || *def++ != ',' || tzs_date(&def, &z->end) ? -1 : 0;
    }
    if (*p++ != ',' || tzs_date(&p, &z->start) || *p++ != ',' || tzs_date(&p, &z->end) || *p)
        return -1;
    return 0;
}

/* --- TZif files (RFC 8536) */

struct tzif_hdr {
    char version;
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int tzif_hdr(const unsigned char *p, size_t n, struct tzif_hdr *h)
{
    if (n < 44 || memcmp(p, "TZif", 4) != 0)
        return -1;
    h->version = (char)p[4];
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    return 0;
}

static uint64_t tzif_block_size(const struct tzif_hdr *h, unsigned tsize)
{
    return (uint64_t)h->timecnt * tsize + h->timecnt + (uint64_t)h->typecnt * 6 + h->charcnt +
           (uint64_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

static void sanitize_name(const char *name, char out[80])
{
    size_t i = 0;
    for (; name[i] && i < 64; i++) {
        unsigned char c = (unsigned char)name[i];
        out[i] = c >= 0x20 && c < 0x7f && c != '\'' ? (char)c : '?';
    }
    if (name[i])
        out[i++] = '.', out[i++] = '.', out[i++] = '.';
    out[i] = '\0';
}

static int tzif_err(struct cr_err *err, const char *name, const char *what)
{
    char sn[80];
    sanitize_name(name ? name : "", sn);
    return cr_err_set(err, CR_EINVAL, "time zone '%s': %s", sn, what);
}

int cr_tz_open_tzif(const char *name, const void *data, size_t n, struct cr_tz **out,
                    struct cr_err *err)
{
    const unsigned char *base = data, *p;
    struct tzif_hdr h;
    uint64_t size;
    unsigned tsize = 4;
    struct cr_tz *z;
    int32_t types[256];
    const unsigned char *times, *idx;
    *out = NULL;
    if (tzif_hdr(base, n, &h))
        return tzif_err(err, name, "not a TZif file");
    p = base + 44;
    if (h.version != 0) {
        size = tzif_block_size(&h, 4);
        if (size > n - 44 || tzif_hdr(p + size, n - 44 - (size_t)size, &h))
            return tzif_err(err, name, "truncated TZif file");
        p += size + 44;
        tsize = 8;
    }
    size = tzif_block_size(&h, tsize);
    if (size > (uint64_t)(base + n - p))
        return tzif_err(err, name, "truncated TZif file");
    if (h.typecnt == 0 || h.typecnt > 256 || (h.isstdcnt && h.isstdcnt != h.typecnt) ||
        (h.isutcnt && h.isutcnt != h.typecnt))
        return tzif_err(err, name, "invalid TZif counts");
    if (h.leapcnt)
        return tzif_err(err, name, "time zones with leap seconds are not supported");
    times = p;
    idx = times + (size_t)h.timecnt * tsize;
    p = idx + h.timecnt;
    for (uint32_t i = 0; i < h.typecnt; i++, p += 6) {
        int32_t o = (int32_t)be32(p);
        if (o <= -MAX_ABS_OFFSET || o >= MAX_ABS_OFFSET || p[4] > 1 || p[5] >= h.charcnt)
            return tzif_err(err, name, "invalid TZif time type");
        types[i] = o;
    }
    p += h.charcnt + h.isstdcnt + h.isutcnt; /* no leap records (refused above) */

    z = cr_xcalloc(1, sizeof *z);
    z->at = cr_xmalloc((h.timecnt ? h.timecnt : 1) * sizeof *z->at);
    z->off = cr_xmalloc((h.timecnt ? h.timecnt : 1) * sizeof *z->off);
    z->off0 = types[0];
    for (uint32_t i = 0; i < h.typecnt; i++)
        add_offset(z, types[i]);
    {
        int32_t prev = z->off0;
        int64_t last = 0;
        for (uint32_t i = 0; i < h.timecnt; i++) {
            int64_t t = tsize == 8 ? be64(times + (size_t)i * 8)
                                   : (int64_t)(int32_t)be32(times + (size_t)i * 4);
            if (idx[i] >= h.typecnt || (i > 0 && t <= last)) {
                cr_tz_free(z);
                return tzif_err(err, name, "invalid TZif transition");
            }
            last = t;
            if (types[idx[i]] != prev) {
                z->at[z->n] = t;
                z->off[z->n++] = prev = types[idx[i]];
            }
        }
        z->rule_from = h.timecnt ? last : INT64_MIN;
    }
    if (tsize == 8) { /* footer: \n TZ string \n; empty means no rule */
        const unsigned char *end = base + n, *nl;
        char tzs[256];
        if (p >= end || *p != '\n' || !(nl = memchr(p + 1, '\n', (size_t)(end - p - 1))) ||
            nl - p - 1 >= (ptrdiff_t)sizeof tzs) {
            cr_tz_free(z);
            return tzif_err(err, name, "invalid TZif footer");
        }
        memcpy(tzs, p + 1, (size_t)(nl - p - 1));
        tzs[nl - p - 1] = '\0';
        if (tzs[0] && parse_posix_tz(tzs, z)) {
            cr_tz_free(z);
            return tzif_err(err, name, "invalid TZ string in the TZif footer");
        }
        if (z->has_rule) {
            add_offset(z, z->std_off);
            add_offset(z, z->dst_off);
        }
    }
    *out = z;
    return 0;
}

void cr_tz_free(struct cr_tz *z)
{
    if (!z || z == &utc_zone)
        return;
    free(z->at);
    free(z->off);
    free(z);
}

static int is_utc_name(const char *name)
{
    return !name || !*name || strcmp(name, "UTC") == 0;
}

static int tz_name_check(const char *name, struct cr_err *err)
{
    char sn[80];
    const char *why = NULL;
    size_t len = strlen(name);
    if (len > TZ_NAME_MAX)
        why = "too long";
    else if (name[0] == '/')
        why = "must not start with '/'";
    else if (strstr(name, ".."))
        why = "must not contain '..'";
    else
        for (const char *p = name; *p; p++)
            if (!isalnum((unsigned char)*p) && !strchr("_+-/", *p)) {
                why = "only letters, digits, '_', '+', '-' and '/' are allowed";
                break;
            }
    if (!why)
        return 0;
    sanitize_name(name, sn);
    return cr_err_set(err, CR_EINVAL, "invalid time zone name '%s': %s", sn, why);
}

int cr_tz_open(const char *name, struct cr_tz **out, struct cr_err *err)
{
    char path[sizeof TZ_DIR + TZ_NAME_MAX + 2], sn[80];
    struct stat st;
    unsigned char *buf;
    ssize_t got = 0;
    int fd, rc;
    *out = NULL;
    if (is_utc_name(name)) {
        *out = cr_xcalloc(1, sizeof **out);
        **out = utc_zone;
        return 0;
    }
    if ((rc = tz_name_check(name, err)))
        return rc;
    sanitize_name(name, sn);
    snprintf(path, sizeof path, "%s/%s", TZ_DIR, name);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return cr_err_set(err, CR_EINVAL, "unknown time zone '%s'", sn);
        return cr_err_set(err, CR_EINVAL, "time zone '%s': cannot open %s: %s", sn, path,
                          strerror(errno));
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > TZ_FILE_MAX) {
        close(fd);
        return cr_err_set(err, CR_EINVAL, "unknown time zone '%s'", sn);
    }
    buf = cr_xmalloc(st.st_size > 0 ? (size_t)st.st_size : 1);
    while (got < st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)(st.st_size - got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += r;
    }
    close(fd);
    if (got != st.st_size) {
        free(buf);
        return cr_err_set(err, CR_EINVAL, "time zone '%s': cannot read %s", sn, path);
    }
    rc = cr_tz_open_tzif(name, buf, (size_t)got, out, err);
    free(buf);
    return rc;
}

/* For the name-taking functions: UTC without allocation, else a loaded zone. */
static int zone_get(const char *name, const struct cr_tz **z, struct cr_err *err)
{
    struct cr_tz *loaded;
    int rc;
    if (is_utc_name(name)) {
        *z = &utc_zone;
        return 0;
    }
    rc = cr_tz_open(name, &loaded, err);
    *z = loaded;
    return rc;
}

static void zone_put(const struct cr_tz *z)
{
    cr_tz_free((struct cr_tz *)z);
}

int cr_tz_check(const char *tz, struct cr_err *err)
{
    const struct cr_tz *z;
    int rc = zone_get(tz, &z, err);
    if (!rc)
        zone_put(z);
    return rc;
}

int32_t cr_tz_offset(const struct cr_tz *tz, cr_time_t t)
{
    return zone_offset(tz, floor_div(t, CR_USEC_PER_SEC));
}

void cr_tz_to_local_tz(const struct cr_tz *tz, cr_time_t t, struct cr_civil *out)
{
    int64_t s = floor_div(t, CR_USEC_PER_SEC), l = s + zone_offset(tz, s);
    int64_t days = floor_div(l, 86400), rem = l - days * 86400;
    cr_civil_from_days(days, &out->year, &out->month, &out->day);
    out->hour = (int)(rem / 3600);
    out->min = (int)(rem / 60 % 60);
    out->sec = (int)(rem % 60);
    out->usec = (int)(t - s * CR_USEC_PER_SEC);
}

int cr_tz_to_local(const char *tz, cr_time_t t, struct cr_civil *out, struct cr_err *err)
{
    const struct cr_tz *z;
    int rc = zone_get(tz, &z, err);
    if (rc)
        return rc;
    cr_tz_to_local_tz(z, t, out);
    zone_put(z);
    return 0;
}

/* The first instant whose local time is l, or the first instant after the gap l falls in. */
static int64_t zone_from_local(const struct cr_tz *z, int64_t l)
{
    int64_t t = l - z->max_off - 1, limit = l - z->min_off + 1;
    for (;;) {
        int32_t off = zone_offset(z, t);
        int64_t end = zone_next_change(z, t, limit);
        if (l - off < end)
            return l - off >= t ? l - off : t;
        t = end;
    }
}

int cr_tz_from_local_tz(const struct cr_tz *tz, const struct cr_civil *c, cr_time_t *out,
                        struct cr_err *err)
{
    int64_t l;
    if (c->year < 1 || c->year > 9999 || c->month < 1 || c->month > 12 || c->day < 1 ||
        c->day > cr_days_in_month(c->year, c->month) || c->hour < 0 || c->hour > 23 || c->min < 0 ||
        c->min > 59 || c->sec < 0 || c->sec > 59 || c->usec < 0 || c->usec > 999999)
        return cr_err_set(err, CR_EINVAL, "invalid local time %04d-%02d-%02d %02d:%02d:%02d.%06d",
                          c->year, c->month, c->day, c->hour, c->min, c->sec, c->usec);
    l = cr_days_from_civil(c->year, c->month, c->day) * 86400 + c->hour * 3600 + c->min * 60 +
        c->sec;
    *out = zone_from_local(tz, l) * CR_USEC_PER_SEC + c->usec;
    return 0;
}

int cr_tz_from_local(const char *tz, const struct cr_civil *local, cr_time_t *out,
                     struct cr_err *err)
{
    const struct cr_tz *z;
    int rc = zone_get(tz, &z, err);
    if (rc)
        return rc;
    rc = cr_tz_from_local_tz(z, local, out, err);
    zone_put(z);
    return rc;
}

/* ------------------------------------------------------------------ next fire time */

static int day_matches(const struct cr_cron *c, int64_t days, int dom)
{
    int dom_ok = (c->days >> dom) & 1, dow_ok = (c->weekdays >> weekday(days)) & 1;
    if (c->flags & (CR_CRON_DOM_STAR | CR_CRON_DOW_STAR))
        return dom_ok && dow_ok;
    return dom_ok || dow_ok;
}

/* The first local time (s, a whole minute) >= l and < lim that c matches, or NONE. Local time
 * is counted like UTC: seconds since 1970-01-01 00:00 on the local calendar. */
static int64_t match_from(const struct cr_cron *c, int64_t l, int64_t lim)
{
    l = floor_div(l + 59, 60) * 60;
    while (l < lim) {
        int64_t days = floor_div(l, 86400), sod = l - days * 86400;
        int y, m, d, h = (int)(sod / 3600), mi = (int)(sod % 3600 / 60);
        uint32_t hm;
        uint64_t mm;
        cr_civil_from_days(days, &y, &m, &d);
        if (!((c->months >> m) & 1)) {
            int nm = m + 1;
            while (nm <= 12 && !((c->months >> nm) & 1))
                nm++;
            l = nm <= 12 ? cr_days_from_civil(y, nm, 1) * 86400
                         : cr_days_from_civil(y + 1, 1, 1) * 86400;
            continue;
        }
        if (!day_matches(c, days, d)) {
            l = (days + 1) * 86400;
            continue;
        }
        hm = c->hours & ~((UINT32_C(1) << h) - 1);
        if (!hm) {
            l = (days + 1) * 86400;
            continue;
        }
        if (__builtin_ctz(hm) != h) {
            l = days * 86400 + __builtin_ctz(hm) * 3600;
            continue;
        }
        mm = c->minutes & ~((UINT64_C(1) << mi) - 1);
        if (!mm) {
            l = days * 86400 + (h + 1) * 3600;
            continue;
        }
        l = days * 86400 + h * 3600 + __builtin_ctzll(mm) * 60;
        return l < lim ? l : NONE;
    }
    return NONE;
}

/* Whether local time l, met at offset off, already happened at a larger offset. */
static int repeated_earlier(const struct cr_tz *z, int64_t l, int32_t off)
{
    for (size_t i = 0; i < z->noffsets; i++)
        if (z->offsets[i] > off && zone_offset(z, l - z->offsets[i]) == z->offsets[i])
            return 1;
    return 0;
}

int cr_cron_next_tz(const struct cr_cron *c, const struct cr_tz *z, cr_time_t after,
                    cr_time_t *next, struct cr_err *err)
{
    int fixed = !(c->flags & (CR_CRON_MIN_STAR | CR_CRON_HOUR_STAR));
    int64_t t = floor_div(after, CR_USEC_PER_SEC) + 1, limit;
    if (!(c->minutes & ((UINT64_C(1) << 60) - 1)) || !(c->hours & 0xffffff) ||
        !(c->days & 0xfffffffe) || !(c->months & 0x1ffe) || !(c->weekdays & 0x7f))
        return cr_err_set(err, CR_EINVAL, "invalid cron schedule: a field matches nothing");
    if (t < MIN_SEC)
        t = MIN_SEC;
    limit = t + (int64_t)CR_CRON_HORIZON_DAYS * 86400;
    if (limit > MAX_SEC + 1)
        limit = MAX_SEC + 1;
    if (fixed && t < limit) { /* t may be the end of a gap: the loop below sees later ones */
        int32_t before = zone_offset(z, t - 1), off = zone_offset(z, t);
        if (off > before && match_from(c, t + before, t + off) != NONE) {
            *next = t * CR_USEC_PER_SEC;
            return 0;
        }
    }
    while (t < limit) {
        int32_t off = zone_offset(z, t), off2;
        int64_t end = zone_next_change(z, t, limit), l = t + off;
        while ((l = match_from(c, l, end + off)) != NONE) {
            if (!fixed || !repeated_earlier(z, l, off)) {
                *next = (l - off) * CR_USEC_PER_SEC;
                return 0;
            }
            l += 60;
        }
        if (end >= limit)
            break;
        off2 = zone_offset(z, end);
        /* A gap: fixed-time jobs due in it fire at its end. */
        if (fixed && off2 > off && match_from(c, end + off, end + off2) != NONE) {
            *next = end * CR_USEC_PER_SEC;
            return 0;
        }
        t = end;
    }
    return cr_err_set(err, CR_ENOTFOUND, "the cron schedule has no fire time within %d days",
                      CR_CRON_HORIZON_DAYS);
}

int cr_cron_next(const struct cr_cron *c, const char *tz, cr_time_t after, cr_time_t *next,
                 struct cr_err *err)
{
    const struct cr_tz *z;
    int rc = zone_get(tz, &z, err);
    if (rc)
        return rc;
    rc = cr_cron_next_tz(c, z, after, next, err);
    zone_put(z);
    return rc;
}
