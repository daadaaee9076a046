/*
 * filter_math.c - plus, minus, times, divided_by, modulo, round, ceil, floor, abs,
 * at_least, at_most
 *
 * Integers stay integers (divided_by floors, as Ruby does); as soon as a float takes part
 * the result is a float. Liquid turns floats into BigDecimal from their shortest decimal
 * form before adding, multiplying or taking a modulo, so 0.1 + 0.2 is 0.3 and 2.675
 * rounds to 2.68: crier does the same with a 128-bit decimal (mantissa, exponent), falling
 * back to doubles when a value does not fit. Integer overflow gives a float where Ruby
 * would make a bignum.
 * Not here: parsing numbers out of strings (value.c, cr__tv_to_number).
 *
 * Spec: Shopify Liquid StandardFilters#apply_operation, round, ceil, floor, at_least,
 * at_most; Ruby's Integer#/ and #% (floored), BigDecimal ROUND_HALF_UP.
 */
#include "template/template_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef __int128 i128;

#define I128_LIMIT ((i128)1 << 120) /* stay well inside the type when scaling */

struct dec {
    i128 m;
    int e; /* value = m * 10^e */
};

/* A finite double as its shortest decimal (Ruby's BigDecimal(f.to_s)). */
static void dec_from_double(double d, struct dec *out)
{
    char dig[24];
    int decpt, nd;
    i128 m = 0;
    if (d == 0) {
        out->m = 0;
        out->e = 0;
        return;
    }
    nd = cr__tfloat_digits(d, dig, &decpt);
    for (int i = 0; i < nd; i++)
        m = m * 10 + (dig[i] - '0');
    out->m = d < 0 ? -m : m;
    out->e = decpt - nd;
}

static void dec_from_num(struct tnum n, struct dec *out)
{
    if (n.is_float) {
        dec_from_double(n.f, out);
    } else {
        out->m = n.i;
        out->e = 0;
    }
}

static double dec_to_double(const struct dec *d)
{
    char buf[64], *p = buf + sizeof buf;
    i128 m = d->m;
    int neg = m < 0;
    unsigned __int128 u = neg ? (unsigned __int128)(-(m + 1)) + 1 : (unsigned __int128)m;
    char tail[16];
    size_t tl = (size_t)snprintf(tail, sizeof tail, "e%d", d->e);
    *--p = '\0';
    p -= tl;
    memcpy(p, tail, tl);
    do {
        *--p = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    if (neg)
        *--p = '-';
    return strtod(p, NULL);
}

/* Multiplies m by 10^k; 0 on overflow. */
static int scale(i128 *m, int k)
{
    while (k-- > 0) {
        if (*m > I128_LIMIT / 10 || *m < -I128_LIMIT / 10)
            return 0;
        *m *= 10;
    }
    return 1;
}

static int align(struct dec *a, struct dec *b)
{
    if (a->e > b->e) {
        if (a->e - b->e > 40 || !scale(&a->m, a->e - b->e))
            return 0;
        a->e = b->e;
    } else if (b->e > a->e) {
        if (b->e - a->e > 40 || !scale(&b->m, b->e - a->e))
            return 0;
        b->e = a->e;
    }
    return 1;
}

static double as_double(struct tnum n)
{
    return n.is_float ? n.f : (double)n.i;
}

enum op { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD };

static int arith(struct trender *r, const struct tfilter *f, struct tval *v,
                 const struct tval *arg, enum op op)
{
    struct tnum a = cr__tv_to_number(v), b = cr__tv_to_number(arg);
    if (!a.is_float && !b.is_float) {
        int64_t x = a.i, y = b.i, res;
        switch (op) {
        case OP_ADD:
            if (!__builtin_add_overflow(x, y, &res)) {
                *v = tv_int(res);
                return 0;
            }
            break;
        case OP_SUB:
            if (!__builtin_sub_overflow(x, y, &res)) {
                *v = tv_int(res);
                return 0;
            }
            break;
        case OP_MUL:
            if (!__builtin_mul_overflow(x, y, &res)) {
                *v = tv_int(res);
                return 0;
            }
            break;
        case OP_DIV:
        case OP_MOD:
            if (y == 0)
                return cr__tf_fail(r, f, CR_EINVAL, "divided by 0");
            if (x == INT64_MIN && y == -1) {
                *v = op == OP_DIV ? tv_float(9223372036854775808.0) : tv_int(0);
                return 0;
            }
            res = op == OP_DIV ? x / y : x % y;
            if (op == OP_DIV && (x % y != 0) && ((x < 0) != (y < 0)))
                res--; /* floor, as Ruby */
            if (op == OP_MOD && res != 0 && ((res < 0) != (y < 0)))
                res += y;
            *v = tv_int(res);
            return 0;
        }
        /* Integer overflow: continue as floats. */
        a.is_float = b.is_float = 1;
        a.f = (double)x;
        b.f = (double)y;
    }
    if ((a.is_float && !isfinite(a.f)) || (b.is_float && !isfinite(b.f))) {
        double x = as_double(a), y = as_double(b);
        if ((op == OP_MOD) && y == 0)
            return cr__tf_fail(r, f, CR_EINVAL, "divided by 0");
        *v = tv_float(op == OP_ADD   ? x + y
                      : op == OP_SUB ? x - y
                      : op == OP_MUL ? x * y
                      : op == OP_DIV ? x / y
                                     : fmod(x, y));
        return 0;
    }
    if (op == OP_DIV) {
        /* BigDecimal division by zero gives Infinity or NaN, as Liquid prints them. */
        *v = tv_float(as_double(a) / as_double(b));
        return 0;
    }
    {
        struct dec x, y, z;
        dec_from_num(a, &x);
        dec_from_num(b, &y);
        if (op == OP_MOD && y.m == 0)
            return cr__tf_fail(r, f, CR_EINVAL, "divided by 0");
        if (op == OP_MUL) {
            z.m = x.m * y.m; /* both below 10^19: fits */
            z.e = x.e + y.e;
        } else if (!align(&x, &y)) {
            double dx = as_double(a), dy = as_double(b);
            *v = tv_float(op == OP_ADD   ? dx + dy
                          : op == OP_SUB ? dx - dy
                                         : dx - dy * floor(dx / dy));
            return 0;
        } else {
            z.e = x.e;
            if (op == OP_ADD) {
                z.m = x.m + y.m;
            } else if (op == OP_SUB) {
                z.m = x.m - y.m;
            } else {
                z.m = x.m % y.m;
                if (z.m != 0 && ((z.m < 0) != (y.m < 0)))
                    z.m += y.m;
            }
        }
        *v = tv_float(dec_to_double(&z));
        return 0;
    }
}

static int f_plus(struct trender *r, const struct tfilter *f, struct tval *v,
                  const struct tval *a, const struct tval *kw)
{
    (void)kw;
    return arith(r, f, v, &a[0], OP_ADD);
}

static int f_minus(struct trender *r, const struct tfilter *f, struct tval *v,
                   const struct tval *a, const struct tval *kw)
{
    (void)kw;
    return arith(r, f, v, &a[0], OP_SUB);
}

static int f_times(struct trender *r, const struct tfilter *f, struct tval *v,
                   const struct tval *a, const struct tval *kw)
{
    (void)kw;
    return arith(r, f, v, &a[0], OP_MUL);
}

static int f_divided_by(struct trender *r, const struct tfilter *f, struct tval *v,
                        const struct tval *a, const struct tval *kw)
{
    (void)kw;
    return arith(r, f, v, &a[0], OP_DIV);
}

static int f_modulo(struct trender *r, const struct tfilter *f, struct tval *v,
                    const struct tval *a, const struct tval *kw)
{
    (void)kw;
    return arith(r, f, v, &a[0], OP_MOD);
}

/* Rounds m*10^e half away from zero to a multiple of 10^-digits; 0 if out of range. */
static int dec_round(struct dec *d, int digits)
{
    int shift = -digits - d->e;
    i128 q, rem, p10 = 1;
    if (shift <= 0)
        return 1;
    if (shift > 36) {
        d->m = 0;
        d->e = -digits;
        return 1;
    }
    for (int i = 0; i < shift; i++)
        p10 *= 10;
    q = d->m / p10;
    rem = d->m % p10;
    if (rem < 0)
        rem = -rem;
    if (rem * 2 >= p10)
        q += d->m < 0 ? -1 : 1;
    d->m = q;
    d->e = -digits;
    return 1;
}

static int f_round(struct trender *r, const struct tfilter *f, struct tval *v,
                   const struct tval *a, const struct tval *kw)
{
    struct tnum x = cr__tv_to_number(v), nd = {0, 0, 0};
    int64_t digits;
    struct dec d;
    (void)kw;
    if (f->nargs)
        nd = cr__tv_to_number(&a[0]);
    digits = nd.is_float ? (int64_t)nd.f : nd.i;
    if (digits > 400)
        digits = 400;
    if (digits < -400)
        digits = -400;
    if (x.is_float && !isfinite(x.f))
        return cr__tf_fail(r, f, CR_EINVAL, "cannot round %s",
                          isnan(x.f) ? "NaN" : x.f < 0 ? "-Infinity" : "Infinity");
    if (!x.is_float && digits >= 0) {
        *v = tv_int(x.i);
        return 0;
    }
    dec_from_num(x, &d);
    dec_round(&d, (int)digits);
    if (digits <= 0) {
        /* An integer result (Ruby: Integer#round, or BigDecimal#round without digits). */
        i128 m = d.m;
        if (scale(&m, d.e) && m <= INT64_MAX && m >= INT64_MIN) {
            *v = tv_int((int64_t)m);
            return 0;
        }
        *v = tv_float(dec_to_double(&d));
        return 0;
    }
    *v = tv_float(dec_to_double(&d));
    return 0;
}

static int to_int_result(struct tval *v, double d)
{
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0)
        *v = tv_int((int64_t)d);
    else
        *v = tv_float(d);
    return 0;
}

static int f_ceil(struct trender *r, const struct tfilter *f, struct tval *v,
                  const struct tval *a, const struct tval *kw)
{
    struct tnum x = cr__tv_to_number(v);
    (void)a, (void)kw;
    if (!x.is_float) {
        *v = tv_int(x.i);
        return 0;
    }
    if (!isfinite(x.f))
        return cr__tf_fail(r, f, CR_EINVAL, "cannot round %s", isnan(x.f) ? "NaN" : "Infinity");
    return to_int_result(v, ceil(x.f));
}

static int f_floor(struct trender *r, const struct tfilter *f, struct tval *v,
                   const struct tval *a, const struct tval *kw)
{
    struct tnum x = cr__tv_to_number(v);
    (void)a, (void)kw;
    if (!x.is_float) {
        *v = tv_int(x.i);
        return 0;
    }
    if (!isfinite(x.f))
        return cr__tf_fail(r, f, CR_EINVAL, "cannot round %s", isnan(x.f) ? "NaN" : "Infinity");
    return to_int_result(v, floor(x.f));
}

static int f_abs(struct trender *r, const struct tfilter *f, struct tval *v,
                 const struct tval *a, const struct tval *kw)
{
    struct tnum x = cr__tv_to_number(v);
    (void)r, (void)f, (void)a, (void)kw;
    if (x.is_float)
        *v = tv_float(fabs(x.f));
    else if (x.i == INT64_MIN)
        *v = tv_float(9223372036854775808.0);
    else
        *v = tv_int(x.i < 0 ? -x.i : x.i);
    return 0;
}

static int num_cmp(struct tnum a, struct tnum b)
{
    if (!a.is_float && !b.is_float)
        return a.i < b.i ? -1 : a.i > b.i;
    {
        double x = as_double(a), y = as_double(b);
        return x < y ? -1 : x > y;
    }
}

static int f_at_least(struct trender *r, const struct tfilter *f, struct tval *v,
                      const struct tval *a, const struct tval *kw)
{
    struct tnum x = cr__tv_to_number(v), m = cr__tv_to_number(&a[0]);
    (void)r, (void)f, (void)kw;
    *v = cr__tnum_val(num_cmp(x, m) >= 0 ? x : m);
    return 0;
}

static int f_at_most(struct trender *r, const struct tfilter *f, struct tval *v,
                     const struct tval *a, const struct tval *kw)
{
    struct tnum x = cr__tv_to_number(v), m = cr__tv_to_number(&a[0]);
    (void)r, (void)f, (void)kw;
    *v = cr__tnum_val(num_cmp(x, m) <= 0 ? x : m);
    return 0;
}

const struct tfilter_def cr__tfilters_math[] = {
    {"plus", f_plus, 1, 1, 0},
    {"minus", f_minus, 1, 1, 0},
    {"times", f_times, 1, 1, 0},
    {"divided_by", f_divided_by, 1, 1, 0},
    {"modulo", f_modulo, 1, 1, 0},
    {"round", f_round, 0, 1, 0},
    {"ceil", f_ceil, 0, 0, 0},
    {"floor", f_floor, 0, 0, 0},
    {"abs", f_abs, 0, 0, 0},
    {"at_least", f_at_least, 1, 1, 0},
    {"at_most", f_at_most, 1, 1, 0},
    {NULL, NULL, 0, 0, 0},
};
