/*
 * normalize.c - imported field values to their stored form
 */
#include "profile/normalize.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "core/datetime.h"
#include "core/parse.h"
#include "profile/phone.h"

#define SHOW(n) (int)((n) > 60 ? 60 : (n))

void cr_trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t' || **s == '\r' || **s == '\n')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r' ||
                  (*s)[*n - 1] == '\n'))
        (*n)--;
}

int cr_normalize_email(const char *s, size_t n, struct cr_buf *out, struct cr_err *err)
{
    const char *at = NULL;
    (void)err;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '@')
            at = s + i;
    if (!at)
        return cr_buf_append(out, s, n);
    cr_buf_append(out, s, (size_t)(at - s));
    for (const char *p = at; p < s + n; p++)
        cr_buf_putc(out, (char)tolower((unsigned char)*p));
    return out->err;
}

int cr_normalize_phone(const char *s, size_t n, const char *region, struct cr_buf *out,
                       struct cr_err *err)
{
    char e164[CR_PHONE_MAX];
    const char *reason;
    if (cr_phone_normalize(s, n, region, e164, &reason))
        return cr_err_set(err, CR_ESYNTAX, "invalid phone number '%.*s' (%s)", SHOW(n), s,
                          reason);
    return cr_buf_puts(out, e164);
}

int cr_normalize_country(const char *s, size_t n, struct cr_buf *out, struct cr_err *err)
{
    if (n != 2 || !isalpha((unsigned char)s[0]) || !isalpha((unsigned char)s[1]))
        return cr_err_set(err, CR_ESYNTAX,
                          "bad country '%.*s' (expected an ISO 3166 alpha-2 code such as FR)",
                          SHOW(n), s);
    cr_buf_putc(out, (char)toupper((unsigned char)s[0]));
    return cr_buf_putc(out, (char)toupper((unsigned char)s[1]));
}

int cr_normalize_bool(const char *s, size_t n, int *out, struct cr_err *err)
{
    static const char *const yes[] = {"true", "t", "yes", "y", "1", "on"};
    static const char *const no[] = {"false", "f", "no", "n", "0", "off"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (strlen(yes[i]) == n && strncasecmp(s, yes[i], n) == 0) {
            *out = 1;
            return 0;
        }
        if (strlen(no[i]) == n && strncasecmp(s, no[i], n) == 0) {
            *out = 0;
            return 0;
        }
    }
    return cr_err_set(err, CR_ESYNTAX, "bad boolean '%.*s' (expected true or false)", SHOW(n), s);
}

int cr_normalize_date(const char *s, size_t n, struct cr_buf *out, struct cr_err *err)
{
    int64_t days;
    char buf[CR_TIME_BUFSZ];
    if (cr_date_parse(s, n, &days, NULL))
        return cr_err_set(err, CR_ESYNTAX, "bad date '%.*s' (expected YYYY-MM-DD)", SHOW(n), s);
    return cr_buf_puts(out, cr_date_format(days, buf));
}

int cr_normalize_timestamp(const char *s, size_t n, struct cr_buf *out, struct cr_err *err)
{
    cr_time_t t;
    char buf[CR_TIME_BUFSZ];
    if (cr_time_parse(s, n, &t, NULL))
        return cr_err_set(err, CR_ESYNTAX,
                          "bad timestamp '%.*s' (expected YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM])",
                          SHOW(n), s);
    return cr_buf_puts(out, cr_time_format_sql(t, buf));
}

int cr_normalize_int(const char *s, size_t n, int64_t *out, struct cr_err *err)
{
    if (cr_parse_i64(s, n, out))
        return cr_err_set(err, CR_ESYNTAX, "bad integer '%.*s'", SHOW(n), s);
    return 0;
}

int cr_normalize_real(const char *s, size_t n, double *out, struct cr_err *err)
{
    if (cr_parse_double(s, n, out))
        return cr_err_set(err, CR_ESYNTAX, "bad number '%.*s'", SHOW(n), s);
    return 0;
}
