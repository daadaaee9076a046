/*
 * sqlite_fn.c - SQL functions registered on every SQLite connection
 *
 * SQLite lacks a few functions PostgreSQL has; crier's generated SQL may call these names on
 * SQLite and the built-in ones on PostgreSQL. Each is deterministic and NULL in, NULL out.
 *
 * The filter language's functions (query/sqlgen.c) work on the store's text forms of dates
 * ("YYYY-MM-DD") and timestamps ("YYYY-MM-DD HH:MM:SS[.ffffff]", UTC) and on intervals as
 * integer microseconds, and give the answers PostgreSQL gives on DATE, TIMESTAMP and
 * INTERVAL; text that is not a date or timestamp reads as NULL. Results outside years 1 to
 * 9999 are an error (the text form has four-digit years):
 *   cr_ts_add(ts, usec)       timestamp + interval        -> timestamp text
 *   cr_ts_diff(a, b)          timestamp - timestamp       -> microseconds
 *   cr_date_add(d, days)      date + integer              -> date text
 *   cr_date_diff(a, b)        date - date                 -> days
 *   cr_age(d, today)          date_part('year', age(today, d)), negative ages included
 *   cr_lower(x), cr_upper(x)  the case mapping of query/casefold.h
 *   cr_like(x, pattern)       PostgreSQL's LIKE: case-sensitive, '\' escapes, '_' is one
 *                             character; a pattern ending in a lone '\' is an error
 *   cr_ilike(x, pattern)      the same on both sides folded by cr_lower()
 */
#include "store/sqlite_fn.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/datetime.h"
#include "core/utf8.h"
#include "core/casefold.h"

/* cr_age_years(date_text, today_text): whole years between a date and today, as
 * PostgreSQL's date_part('year', age(today, d)) gives. */
static void fn_age_years(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const char *d, *t;
    int64_t dd, td;
    int dy, dm, dday, ty, tm, tday, years;
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL)
        return;
    d = (const char *)sqlite3_value_text(argv[0]);
    t = (const char *)sqlite3_value_text(argv[1]);
    if (!d || !t || strlen(d) < 10 || strlen(t) < 10)
        return;
    if (cr_date_parse(d, 10, &dd, NULL) || cr_date_parse(t, 10, &td, NULL))
        return;
    cr_civil_from_days(dd, &dy, &dm, &dday);
    cr_civil_from_days(td, &ty, &tm, &tday);
    years = ty - dy;
    if (tm < dm || (tm == dm && tday < dday))
        years--;
    sqlite3_result_int(ctx, years);
}

#define MIN_DAYS INT64_C(-719162) /* 0001-01-01 */
#define MAX_DAYS INT64_C(2932896)  /* 9999-12-31 */
#define USEC_PER_DAY (INT64_C(86400) * CR_USEC_PER_SEC)

static int arg_null(int argc, sqlite3_value **argv)
{
    for (int i = 0; i < argc; i++)
        if (sqlite3_value_type(argv[i]) == SQLITE_NULL)
            return 1;
    return 0;
}

/* A timestamp or date argument; -1 if it is not one. */
static int arg_time(sqlite3_value *v, cr_time_t *t)
{
    const char *s = (const char *)sqlite3_value_text(v);
    return s && cr_time_parse(s, (size_t)sqlite3_value_bytes(v), t, NULL) == 0 ? 0 : -1;
}

static int arg_date(sqlite3_value *v, int64_t *days)
{
    const char *s = (const char *)sqlite3_value_text(v);
    return s && cr_date_parse(s, (size_t)sqlite3_value_bytes(v), days, NULL) == 0 ? 0 : -1;
}

static void fn_ts_add(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    char out[CR_TIME_BUFSZ];
    cr_time_t t;
    int64_t r;
    if (arg_null(argc, argv) || arg_time(argv[0], &t))
        return;
    if (__builtin_add_overflow(t, sqlite3_value_int64(argv[1]), &r) ||
        r < MIN_DAYS * USEC_PER_DAY || r >= (MAX_DAYS + 1) * USEC_PER_DAY) {
        sqlite3_result_error(ctx, "cr_ts_add: timestamp out of range (years 1 to 9999)", -1);
        return;
    }
    sqlite3_result_text(ctx, cr_time_format_sql(r, out), -1, SQLITE_TRANSIENT);
}

static void fn_ts_diff(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    cr_time_t a, b;
    if (arg_null(argc, argv) || arg_time(argv[0], &a) || arg_time(argv[1], &b))
        return;
    sqlite3_result_int64(ctx, a - b); /* both within years 1 to 9999: no overflow */
}

static void fn_date_add(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    char out[CR_TIME_BUFSZ];
    int64_t d, n = 0, r;
    if (arg_null(argc, argv) || arg_date(argv[0], &d))
        return;
    n = sqlite3_value_int64(argv[1]);
    if (__builtin_add_overflow(d, n, &r) || r < MIN_DAYS || r > MAX_DAYS) {
        sqlite3_result_error(ctx, "cr_date_add: date out of range (years 1 to 9999)", -1);
        return;
    }
    sqlite3_result_text(ctx, cr_date_format(r, out), -1, SQLITE_TRANSIENT);
}

static void fn_date_diff(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    int64_t a, b;
    if (arg_null(argc, argv) || arg_date(argv[0], &a) || arg_date(argv[1], &b))
        return;
    sqlite3_result_int64(ctx, a - b);
}

/* Whole years from day `from` to day `to` (from <= to). */
static int years_between(int64_t from, int64_t to)
{
    int fy, fm, fd, ty, tm, td, y;
    cr_civil_from_days(from, &fy, &fm, &fd);
    cr_civil_from_days(to, &ty, &tm, &td);
    y = ty - fy;
    if (tm < fm || (tm == fm && td < fd))
        y--;
    return y;
}

/* cr_age(d, today): PostgreSQL's date_part('year', age(today, d)); a date after today gives
 * minus the years from today to it, as PostgreSQL's negative intervals do. */
static void fn_age(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    int64_t d, t;
    if (arg_null(argc, argv) || arg_date(argv[0], &d) || arg_date(argv[1], &t))
        return;
    sqlite3_result_int(ctx, d <= t ? years_between(d, t) : -years_between(t, d));
}

static void fold(sqlite3_context *ctx, sqlite3_value *v, int upper)
{
    const char *s = (const char *)sqlite3_value_text(v);
    size_t n = (size_t)sqlite3_value_bytes(v);
    struct cr_buf b = CR_BUF_INIT(0);
    if (!s)
        return;
    if (!cr_casefold_changes(s, n, upper)) {
        sqlite3_result_text(ctx, s, (int)n, SQLITE_TRANSIENT);
        return;
    }
    cr_casefold(s, n, upper, &b);
    sqlite3_result_text(ctx, b.data, (int)b.len, SQLITE_TRANSIENT);
    cr_buf_release(&b);
}

static void fn_lower(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (!arg_null(argc, argv))
        fold(ctx, argv[0], 0);
}

static void fn_upper(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (!arg_null(argc, argv))
        fold(ctx, argv[0], 1);
}

/* The character at *s (advancing it): a code point, or for a byte that is not valid UTF-8
 * that byte with the high bit set, so it equals only itself. Folded to lower case if fold. */
static inline uint32_t next_char(const char **s, const char *end, int fold)
{
    unsigned char c = (unsigned char)**s;
    size_t k;
    uint32_t cp;
    if (c < 0x80) { /* the common case, without a call */
        (*s)++;
        return fold && c >= 'A' && c <= 'Z' ? (uint32_t)(c - 'A' + 'a') : c;
    }
    k = cr_utf8_seq_len(*s, (size_t)(end - *s));
    if (k == 0) {
        cp = 0x80000000u | (unsigned char)**s;
        (*s)++;
        return cp;
    }
    cp = cr_utf8_decode(*s, k);
    *s += k;
    return fold ? cr_casefold_cp(cp, 0) : cp;
}

/* After a '%': the first place from s where the pattern's next character, when it is a plain
 * ASCII one, occurs (ASCII bytes never occur inside a multi-byte UTF-8 sequence). */
static const char *skip_to(const char *s, const char *se, const char *p, const char *pe,
                           int fold)
{
    unsigned char c;
    if (p >= pe)
        return s;
    c = (unsigned char)*p;
    if (c == '\\' && p + 1 < pe)
        c = (unsigned char)p[1];
    else if (c == '_' || c == '%')
        return s;
    if (c >= 0x80)
        return s;
    if (fold && c >= 'A' && c <= 'Z')
        c = (unsigned char)(c - 'A' + 'a');
    if (!fold || c < 'a' || c > 'z') {
        const char *f = memchr(s, c, (size_t)(se - s));
        return f ? f : se;
    }
    while (s < se && (unsigned char)(*s | 0x20) != c)
        s++;
    return s;
}

/* LIKE with '%', '_' and '\' escapes, character by character (folded if fold); iterative,
 * backtracking to the last '%' only. The pattern has no lone trailing '\'. */
static int like_match(const char *s, const char *se, const char *p, const char *pe, int fold)
{
    const char *star_p = NULL, *star_s = NULL;
    while (s < se) {
        if (p < pe && *p == '%') {
            while (p < pe && *p == '%')
                p++;
            if (p == pe)
                return 1;
            star_p = p;
            star_s = s = skip_to(s, se, p, pe, fold);
            continue;
        }
        if (p < pe) {
            const char *pp = p, *ss = s;
            uint32_t pc;
            if (*pp == '_') {
                pp++;
                (void)next_char(&ss, se, 0);
                p = pp;
                s = ss;
                continue;
            }
            if (*pp == '\\')
                pp++;
            pc = next_char(&pp, pe, fold);
            if (pc == next_char(&ss, se, fold)) {
                p = pp;
                s = ss;
                continue;
            }
        }
        if (!star_p)
            return 0;
        (void)next_char(&star_s, se, 0);
        star_s = skip_to(star_s, se, star_p, pe, fold);
        s = star_s;
        p = star_p;
    }
    while (p < pe && *p == '%')
        p++;
    return p == pe;
}

static void like(sqlite3_context *ctx, sqlite3_value **argv, int fold)
{
    const char *s = (const char *)sqlite3_value_text(argv[0]);
    size_t ns = (size_t)sqlite3_value_bytes(argv[0]);
    const char *p = (const char *)sqlite3_value_text(argv[1]);
    size_t np = (size_t)sqlite3_value_bytes(argv[1]);
    if (!s || !p)
        return;
    for (size_t i = 0; i < np; i += p[i] == '\\' ? 2 : 1)
        if (p[i] == '\\' && i + 1 == np) {
            sqlite3_result_error(ctx, "LIKE pattern must not end with escape character", -1);
            return;
        }
    sqlite3_result_int(ctx, like_match(s, s + ns, p, p + np, fold));
}

static void fn_like(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (!arg_null(argc, argv))
        like(ctx, argv, 0);
}

static void fn_ilike(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (!arg_null(argc, argv))
        like(ctx, argv, 1);
}

int cr__sqlite_register_functions(sqlite3 *db, struct cr_err *err)
{
    static const struct {
        const char *name;
        int nargs;
        void (*fn)(sqlite3_context *, int, sqlite3_value **);
    } fns[] = {
        {"cr_age_years", 2, fn_age_years}, {"cr_ts_add", 2, fn_ts_add},
        {"cr_ts_diff", 2, fn_ts_diff},     {"cr_date_add", 2, fn_date_add},
        {"cr_date_diff", 2, fn_date_diff}, {"cr_age", 2, fn_age},
        {"cr_lower", 1, fn_lower},         {"cr_upper", 1, fn_upper},
        {"cr_like", 2, fn_like},           {"cr_ilike", 2, fn_ilike},
    };
    for (size_t i = 0; i < sizeof fns / sizeof *fns; i++) {
        int rc = sqlite3_create_function(db, fns[i].name, fns[i].nargs,
                                         SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                         NULL, fns[i].fn, NULL, NULL);
        if (rc != SQLITE_OK)
            return cr_err_set(err, CR_ESTORE, "sqlite: cannot register functions: %s",
                              sqlite3_errmsg(db));
    }
    return 0;
}
