/*
 * filter_date.c - the date filter: reading dates, and a strftime of our own
 *
 * Input: "now" and "today" (the render's clock), integers and digit strings as Unix
 * seconds, crier's timestamps and ISO 8601 (core/datetime.h), and the loose forms people
 * type ("March 14, 2016", "14 Mar 2016 10:30", "Mon, 14 Mar 2016 10:00:00 +0000",
 * "14/03/2016", day first as Ruby reads it). Anything else comes out unchanged, as in
 * Liquid. Output is always UTC.
 * The formatter is written here, not the C library's strftime, so the output never depends
 * on the process's locale or time zone.
 * Not here: time arithmetic (core/datetime.c).
 *
 * Spec: Shopify Liquid StandardFilters#date and Utils.to_date; Ruby's Time#strftime
 * (flags - _ 0 ^ #, widths, %:z) for the conversions.
 */
#include "template/template_int.h"

#include <stdio.h>
#include <string.h>

static const char *const wdays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                    "Thursday", "Friday", "Saturday"};
static const char *const months[] = {"January", "February", "March",     "April",
                                     "May",     "June",     "July",      "August",
                                     "September", "October", "November", "December"};

/* ===================================================================== parsing === */

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int word_is(const char *p, size_t n, const char *full, size_t minlen)
{
    size_t fl = strlen(full);
    if (n < minlen || n > fl)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)p[i]) != full[i])
            return 0;
    return 1;
}

static int month_of(const char *p, size_t n)
{
    static const char *const lower_months[] = {"january", "february", "march",     "april",
                                               "may",     "june",     "july",      "august",
                                               "september", "october", "november", "december"};
    for (int i = 0; i < 12; i++)
        if (word_is(p, n, lower_months[i], 3))
            return i + 1;
    if (n == 4 && word_is(p, n, "sept", 4))
        return 9;
    return 0;
}

static int is_weekday(const char *p, size_t n)
{
    static const char *const lw[] = {"sunday",   "monday", "tuesday", "wednesday",
                                     "thursday", "friday", "saturday"};
    for (int i = 0; i < 7; i++)
        if (word_is(p, n, lw[i], 3))
            return 1;
    return 0;
}

static int digits(const char *p, size_t n, size_t *i, int max, int *out)
{
    int v = 0, k = 0;
    while (*i < n && p[*i] >= '0' && p[*i] <= '9' && k < max) {
        v = v * 10 + (p[*i] - '0');
        (*i)++;
        k++;
    }
    *out = v;
    return k;
}

/*
 * Loose date forms: words (month and weekday names, am/pm, UTC/GMT/Z), numbers (a 4-digit
 * year, a day), y-m-d or m/d/y groups, a h:m[:s[.f]] time and a ±hh[:]mm offset.
 * Returns 0 and the instant, or -1 when the text does not read as a date.
 */
static int parse_loose(const char *p, size_t n, cr_time_t now, cr_time_t *out)
{
    struct cr_civil c, today;
    int year = -1, mon = -1, day = -1, hour = -1, min = 0, sec = 0, usec = 0, pm = -1;
    int offset = 0, seen = 0;
    int nums[4], nnum = 0;
    size_t i = 0;
    cr_time_to_civil(now, &today);
    while (i < n) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == ' ' || ch == ',' || ch == '\t') {
            i++;
            continue;
        }
        if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z') {
            size_t b = i;
            int m;
            while (i < n && ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'z'))
                i++;
            if (i < n && p[i] == '.')
                i++; /* "Mar." */
            if ((m = month_of(p + b, i - b - (p[i - 1] == '.'))) != 0) {
                if (mon > 0)
                    return -1;
                mon = m;
            } else if (is_weekday(p + b, i - b - (p[i - 1] == '.'))) {
                ;
            } else if (word_is(p + b, i - b, "am", 2) || word_is(p + b, i - b, "a.m.", 4)) {
                pm = 0;
            } else if (word_is(p + b, i - b, "pm", 2)) {
                pm = 1;
            } else if (word_is(p + b, i - b, "utc", 3) || word_is(p + b, i - b, "gmt", 3) ||
                       word_is(p + b, i - b, "z", 1)) {
                offset = 0;
            } else if (word_is(p + b, i - b, "t", 1) || word_is(p + b, i - b, "at", 2) ||
                       word_is(p + b, i - b, "of", 2) || word_is(p + b, i - b, "the", 3) ||
                       word_is(p + b, i - b, "st", 2) || word_is(p + b, i - b, "nd", 2) ||
                       word_is(p + b, i - b, "rd", 2) || word_is(p + b, i - b, "th", 2)) {
                ;
            } else {
                return -1;
            }
            seen = 1;
            continue;
        }
        if ((ch == '+' || ch == '-') && i + 1 < n && p[i + 1] >= '0' &&
            p[i + 1] <= '9' && (hour >= 0 || (year >= 0 && mon > 0 && day > 0))) {
            int sign = ch == '-' ? -1 : 1, hh, mm = 0;
            i++;
            if (digits(p, n, &i, 2, &hh) != 2)
                return -1;
            if (i < n && p[i] == ':')
                i++;
            digits(p, n, &i, 2, &mm);
            offset = sign * (hh * 3600 + mm * 60);
            continue;
        }
        if (ch >= '0' && ch <= '9') {
            size_t b = i;
            int v, k = digits(p, n, &i, 9, &v);
            if (i < n && p[i] == ':') {
                /* a time */
                if (hour >= 0 || k > 2)
                    return -1;
                hour = v;
                i++;
                if (digits(p, n, &i, 2, &min) != 2)
                    return -1;
                if (i < n && p[i] == ':') {
                    i++;
                    if (digits(p, n, &i, 2, &sec) != 2)
                        return -1;
                    if (i < n && p[i] == '.') {
                        int f, fk;
                        i++;
                        fk = digits(p, n, &i, 6, &f);
                        while (fk++ < 6)
                            f *= 10;
                        usec = f;
                        while (i < n && p[i] >= '0' && p[i] <= '9')
                            i++;
                    }
                }
                seen = 1;
                continue;
            }
            if (i < n && (p[i] == '-' || p[i] == '/' || p[i] == '.') && i + 1 < n &&
                p[i + 1] >= '0' && p[i + 1] <= '9') {
                /* y-m-d, y/m/d, or d/m/y, d.m.y, d-m-y as Ruby's Date._parse reads them */
                char sep = p[i];
                int a = v, bb, cc = -1, ka = k, kc = 0;
                i++;
                digits(p, n, &i, 2, &bb);
                if (i < n && p[i] == sep) {
                    i++;
                    kc = digits(p, n, &i, 4, &cc);
                }
                if (ka == 4) {
                    year = a;
                    mon = bb;
                    day = cc < 0 ? 1 : cc;
                } else if (kc) {
                    day = a;
                    mon = bb;
                    year = kc <= 2 ? (cc >= 69 ? 1900 + cc : 2000 + cc) : cc;
                } else {
                    return -1;
                }
                if (i < n && (p[i] == 'T' || p[i] == 't'))
                    i++;
                seen = 1;
                continue;
            }
            (void)b;
            if (nnum >= 4)
                return -1;
            nums[nnum++] = k >= 3 ? -v - 1 : v; /* negative marks a year-like number */
            if (i < n && p[i] == '.')
                i++;
            seen = 1;
            continue;
        }
        return -1;
    }
    if (!seen)
        return -1;
    for (int k = 0; k < nnum; k++) {
        int v = nums[k];
        if (v < 0) {
            if (year >= 0)
                return -1;
            year = -v - 1;
        } else if (day < 0 && v >= 1 && v <= 31 && (mon > 0 || nnum > 1)) {
            day = v;
        } else if (year < 0 && mon > 0 && day > 0) {
            year = v < 69 ? 2000 + v : v < 100 ? 1900 + v : v;
        } else {
            return -1;
        }
    }
    if (mon < 0 && day < 0 && year < 0 && hour < 0)
        return -1;
    if (mon < 0 && day < 0 && year < 0) {
        year = today.year;
        mon = today.month;
        day = today.day;
    }
    if (year < 0)
        year = today.year;
    if (mon < 0)
        mon = 1;
    if (day < 0)
        day = 1;
    /* Like Ruby's Time.local, a day past the month's end rolls over ("Feb 30" is Mar 1). */
    if (mon < 1 || mon > 12 || day < 1 || day > 31 || year < 1 || year > 9999)
        return -1;
    if (hour < 0)
        hour = 0;
    if (pm == 1 && hour < 12)
        hour += 12;
    else if (pm == 0 && hour == 12)
        hour = 0;
    if (hour > 23 || min > 59 || sec > 60)
        return -1;
    c.year = year;
    c.month = mon;
    c.day = day;
    c.hour = hour;
    c.min = min;
    c.sec = sec;
    c.usec = usec;
    *out = cr_time_from_civil(&c) - (cr_time_t)offset * CR_USEC_PER_SEC;
    return 0;
}

int cr__tdate_parse_loose(const char *s, size_t n, cr_time_t now, cr_time_t *out)
{
    while (n && (*s == ' ' || *s == '\t' || *s == '\n'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n'))
        n--;
    if (n == 0 || n > 200)
        return -1;
    if (cr_time_parse(s, n, out, NULL) == 0)
        return 0;
    return parse_loose(s, n, now, out);
}

/* ================================================================== formatting === */

/* Ruby's strftime padding: flags and width on a number. */
static void put_num(struct cr_buf *b, int64_t v, int width, char pad, char flagpad, int flagwidth)
{
    char tmp[32];
    int len, neg = v < 0;
    uint64_t u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    len = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)u);
    if (flagpad)
        pad = flagpad;
    if (flagwidth >= 0)
        width = flagwidth;
    if (pad == '-')
        width = 0;
    if (neg)
        cr_buf_putc(b, '-'), width--;
    if (pad == '_')
        pad = ' ';
    for (int i = len; i < width && i < 1024; i++)
        cr_buf_putc(b, pad);
    cr_buf_append(b, tmp, (size_t)len);
}

static void put_str(struct cr_buf *b, const char *s, size_t n, int upper, int swap, char flagpad,
                    int width)
{
    size_t chars = n;
    if (flagpad != '-' && width > 0)
        for (size_t i = chars; i < (size_t)width && i < 1024; i++)
            cr_buf_putc(b, flagpad == '0' ? '0' : ' ');
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        /* Ruby: '^' upcases; '#' changes case, which for names means upcase too. */
        if ((upper || swap) && c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        cr_buf_putc(b, c);
    }
}

/* ISO 8601 week-based year and week of the date. */
static void iso_week(int64_t days, int *year, int *week)
{
    struct cr_civil c;
    int wday = (int)(((days % 7) + 10) % 7); /* Monday = 0; 1970-01-01 was a Thursday */
    int64_t thursday = days - wday + 3, jan1;
    cr_time_to_civil(thursday * 86400 * CR_USEC_PER_SEC, &c);
    jan1 = cr_days_from_civil(c.year, 1, 1);
    *year = c.year;
    *week = (int)((thursday - jan1) / 7) + 1;
}

int cr__tstrftime(struct cr_buf *b, const char *fmt, size_t n, cr_time_t t)
{
    struct cr_civil c;
    int64_t days, secs;
    int wday, yday;
    cr_time_to_civil(t, &c);
    secs = t >= 0 ? t / CR_USEC_PER_SEC : -((-t + CR_USEC_PER_SEC - 1) / CR_USEC_PER_SEC);
    days = cr_days_from_civil(c.year, c.month, c.day);
    wday = (int)(((days % 7) + 11) % 7); /* Sunday = 0; 1970-01-01 was a Thursday */
    yday = (int)(days - cr_days_from_civil(c.year, 1, 1));
    for (size_t i = 0; i < n && !b->err; i++) {
        size_t start = i;
        char pad = 0;
        int upper = 0, swap = 0, width = -1, colons = 0;
        if (fmt[i] != '%' || i + 1 >= n) {
            cr_buf_putc(b, fmt[i]);
            continue;
        }
        i++;
        for (; i < n; i++) {
            if (fmt[i] == '-' || fmt[i] == '_' || fmt[i] == '0')
                pad = fmt[i];
            else if (fmt[i] == '^')
                upper = 1;
            else if (fmt[i] == '#')
                swap = 1;
            else
                break;
        }
        if (i < n && fmt[i] >= '1' && fmt[i] <= '9') {
            width = 0;
            while (i < n && fmt[i] >= '0' && fmt[i] <= '9' && width < 1000)
                width = width * 10 + (fmt[i++] - '0');
        }
        while (i < n && fmt[i] == ':' && colons < 3)
            colons++, i++;
        if (i >= n) {
            cr_buf_append(b, fmt + start, n - start);
            break;
        }
        if (colons && fmt[i] != 'z') {
            cr_buf_append(b, fmt + start, i - start + 1);
            continue;
        }
        switch (fmt[i]) {
        case 'Y':
            put_num(b, c.year, c.year < 0 ? 5 : 4, '0', pad, width);
            break;
        case 'C':
            put_num(b, c.year >= 0 ? c.year / 100 : -((-c.year + 99) / 100), 2, '0', pad, width);
            break;
        case 'y':
            put_num(b, ((c.year % 100) + 100) % 100, 2, '0', pad, width);
            break;
        case 'm':
            put_num(b, c.month, 2, '0', pad, width);
            break;
        case 'd':
            put_num(b, c.day, 2, '0', pad, width);
            break;
        case 'e':
            put_num(b, c.day, 2, ' ', pad, width);
            break;
        case 'j':
            put_num(b, yday + 1, 3, '0', pad, width);
            break;
        case 'H':
            put_num(b, c.hour, 2, '0', pad, width);
            break;
        case 'k':
            put_num(b, c.hour, 2, ' ', pad, width);
            break;
        case 'I':
            put_num(b, c.hour % 12 ? c.hour % 12 : 12, 2, '0', pad, width);
            break;
        case 'l':
            put_num(b, c.hour % 12 ? c.hour % 12 : 12, 2, ' ', pad, width);
            break;
        case 'M':
            put_num(b, c.min, 2, '0', pad, width);
            break;
        case 'S':
            put_num(b, c.sec, 2, '0', pad, width);
            break;
        case 'L':
        case 'N': {
            /* Fraction digits: 3 (L) or 9 (N) unless a width says how many. */
            char frac[16];
            int w = width > 0 ? width : fmt[i] == 'L' ? 3 : 9;
            snprintf(frac, sizeof frac, "%06d000", c.usec);
            for (int k = 0; k < w; k++)
                cr_buf_putc(b, k < 9 ? frac[k] : '0');
            break;
        }
        case 'z': {
            if (colons == 0)
                put_str(b, "+0000", 5, 0, 0, pad, width);
            else if (colons == 1)
                put_str(b, "+00:00", 6, 0, 0, pad, width);
            else
                put_str(b, "+00:00:00", 9, 0, 0, pad, width);
            break;
        }
        case 'Z':
            put_str(b, "UTC", 3, upper, swap, pad, width);
            break;
        case 'A':
            put_str(b, wdays[wday], strlen(wdays[wday]), upper, swap, pad, width);
            break;
        case 'a':
            put_str(b, wdays[wday], 3, upper, swap, pad, width);
            break;
        case 'B':
            put_str(b, months[c.month - 1], strlen(months[c.month - 1]), upper, swap, pad, width);
            break;
        case 'b':
        case 'h':
            put_str(b, months[c.month - 1], 3, upper, swap, pad, width);
            break;
        case 'p':
            if (swap)
                put_str(b, c.hour < 12 ? "am" : "pm", 2, 0, 0, pad, width);
            else
                put_str(b, c.hour < 12 ? "AM" : "PM", 2, upper, 0, pad, width);
            break;
        case 'P':
            put_str(b, c.hour < 12 ? "am" : "pm", 2, upper, 0, pad, width);
            break;
        case 'u':
            put_num(b, wday ? wday : 7, 1, '0', pad, width);
            break;
        case 'w':
            put_num(b, wday, 1, '0', pad, width);
            break;
        case 'U':
            put_num(b, (yday + 7 - wday) / 7, 2, '0', pad, width);
            break;
        case 'W':
            put_num(b, (yday + 7 - (wday + 6) % 7) / 7, 2, '0', pad, width);
            break;
        case 'G':
        case 'g':
        case 'V': {
            int iy, iw;
            iso_week(days, &iy, &iw);
            if (fmt[i] == 'G')
                put_num(b, iy, 4, '0', pad, width);
            else if (fmt[i] == 'g')
                put_num(b, ((iy % 100) + 100) % 100, 2, '0', pad, width);
            else
                put_num(b, iw, 2, '0', pad, width);
            break;
        }
        case 's':
            put_num(b, secs, 1, '0', pad, width);
            break;
        case 'n':
            cr_buf_putc(b, '\n');
            break;
        case 't':
            cr_buf_putc(b, '\t');
            break;
        case '%':
            cr_buf_putc(b, '%');
            break;
        case 'c':
        case 'D':
        case 'x':
        case 'F':
        case 'T':
        case 'X':
        case 'r':
        case 'R':
        case 'v': {
            const char *sub = fmt[i] == 'c'   ? "%a %b %e %H:%M:%S %Y"
                              : fmt[i] == 'D' ? "%m/%d/%y"
                              : fmt[i] == 'x' ? "%m/%d/%y"
                              : fmt[i] == 'F' ? "%Y-%m-%d"
                              : fmt[i] == 'T' ? "%H:%M:%S"
                              : fmt[i] == 'X' ? "%H:%M:%S"
                              : fmt[i] == 'r' ? "%I:%M:%S %p"
                              : fmt[i] == 'R' ? "%H:%M"
                                              : "%e-%^b-%Y";
            size_t mark = b->len;
            cr__tstrftime(b, sub, strlen(sub), t);
            if (upper) {
                for (size_t k = mark; k < b->len; k++)
                    if (b->data[k] >= 'a' && b->data[k] <= 'z')
                        b->data[k] = (char)(b->data[k] - 32);
            }
            break;
        }
        default:
            cr_buf_append(b, fmt + start, i - start + 1);
            break;
        }
    }
    return b->err;
}

/* ====================================================================== filter === */

static int f_date(struct trender *r, const struct tfilter *f, struct tval *v,
                  const struct tval *a, const struct tval *kw)
{
    const char *fmt;
    size_t fn;
    cr_time_t t;
    int rc;
    (void)kw;
    if ((rc = cr__tf_str(r, &a[0], &fmt, &fn)))
        return rc;
    if (fn == 0)
        return 0;
    if (v->kind == TV_INT) {
        if (v->u.i > INT64_MAX / CR_USEC_PER_SEC || v->u.i < INT64_MIN / CR_USEC_PER_SEC)
            return 0;
        t = v->u.i * CR_USEC_PER_SEC;
    } else if (v->kind == TV_STR) {
        const char *p = v->u.s.p;
        size_t n = v->u.s.n, k;
        if (n == 0)
            return 0;
        for (k = 0; k < n && p[k] >= '0' && p[k] <= '9'; k++)
            ;
        if (word_is(p, n, "now", 3) || word_is(p, n, "today", 5)) {
            t = cr__trender_now(r);
        } else if (k == n) {
            int64_t s = cr__tstr_to_i(p, n);
            if (s > INT64_MAX / CR_USEC_PER_SEC)
                return 0;
            t = s * CR_USEC_PER_SEC;
        } else if (cr_time_parse(p, n, &t, NULL) != 0 &&
                   cr__tdate_parse_loose(p, n, cr__trender_now(r), &t) != 0) {
            return 0; /* not a date: Liquid returns the input */
        }
    } else {
        return 0;
    }
    cr_buf_reset(r->sb);
    cr__tstrftime(r->sb, fmt, fn, t);
    return cr__trender_sb_val(r, f, v);
}

const struct tfilter_def cr__tfilters_date[] = {
    {"date", f_date, 1, 1, 0},
    {NULL, NULL, 0, 0, 0},
};
