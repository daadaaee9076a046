/*
 * parse.c - strict number parsing
 */
#include "core/parse.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int cr_parse_i64(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    uint64_t v = 0, limit;
    if (n == 0)
        return -1;
    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        i++;
    }
    if (i == n)
        return -1;
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        unsigned d;
        if (!isdigit((unsigned char)s[i]))
            return -1;
        d = (unsigned)(s[i] - '0');
        if (v > (limit - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int cr_parse_double(const char *s, size_t n, double *out)
{
    char tmp[64];
    char *end;
    size_t i = 0;
    int digits = 0;
    double v;
    if (n == 0 || n >= sizeof tmp)
        return -1;
    /* Validate the shape ourselves: strtod also takes hex, inf, nan and leading spaces. */
    if (s[i] == '+' || s[i] == '-')
        i++;
    while (i < n && isdigit((unsigned char)s[i]))
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && isdigit((unsigned char)s[i]))
            i++, digits++;
    }
    if (!digits)
        return -1;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        int ed = 0;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        while (i < n && isdigit((unsigned char)s[i]))
            i++, ed++;
        if (!ed)
            return -1;
    }
    if (i != n)
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    v = strtod(tmp, &end);
    if (*end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}
