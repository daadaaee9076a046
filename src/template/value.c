/*
 * value.c - the template value model: truthiness, equality, printing, numbers, collections
 *
 * Values follow Shopify Liquid's Ruby semantics: only nil and false are falsy; 1 == 1.0;
 * integers print as integers and floats as Ruby's Float#to_s ("2.0", "1.0e+20"); arrays
 * print as the join of their flattened members, hashes in Ruby's inspect form.
 * Not here: arithmetic (filter_math.c), lookups by path (render.c).
 */
#include "template/template_int.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

uint32_t cr__thash(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 16777619u;
    }
    return h;
}

struct tval cr__tv_from_json(json_t *j)
{
    struct tval v = tv_nil();
    if (!j)
        return v;
    switch (json_typeof(j)) {
    case JSON_STRING:
        return tv_str(json_string_value(j), json_string_length(j));
    case JSON_INTEGER:
        return tv_int((int64_t)json_integer_value(j));
    case JSON_REAL:
        return tv_float(json_real_value(j));
    case JSON_TRUE:
        return tv_bool(1);
    case JSON_FALSE:
        return tv_bool(0);
    case JSON_NULL:
        return v;
    case JSON_ARRAY:
    case JSON_OBJECT:
        v.kind = TV_JSON;
        v.u.j = j;
        return v;
    }
    return v;
}

int cr__tv_truthy(const struct tval *v)
{
    return !(v->kind == TV_NIL || (v->kind == TV_BOOL && !v->u.b));
}

/* ------------------------------------------------------------------ collections --- */

int cr__tv_is_array(const struct tval *v)
{
    return v->kind == TV_ARR || v->kind == TV_RANGE || (v->kind == TV_JSON && json_is_array(v->u.j));
}

int cr__tv_is_hash(const struct tval *v)
{
    return v->kind == TV_REC || v->kind == TV_LOOP ||
           (v->kind == TV_JSON && json_is_object(v->u.j));
}

static const char *const loop_keys[] = {"index",  "index0", "rindex",     "rindex0", "first",
                                        "last",   "length", "parentloop", "name"};
#define NLOOP_KEYS (sizeof loop_keys / sizeof *loop_keys)

size_t cr__tv_len(const struct tval *v)
{
    switch (v->kind) {
    case TV_ARR:
        return v->u.a->n;
    case TV_RANGE:
        return v->u.r.hi >= v->u.r.lo ? (size_t)(v->u.r.hi - v->u.r.lo) + 1 : 0;
    case TV_JSON:
        return json_is_array(v->u.j) ? json_array_size(v->u.j) : json_object_size(v->u.j);
    case TV_REC:
        return cr__trecord_ncols(v->u.rec);
    case TV_LOOP:
        return NLOOP_KEYS;
    default:
        return 0;
    }
}

struct tval cr__tv_index(const struct tval *v, size_t i)
{
    switch (v->kind) {
    case TV_ARR:
        return v->u.a->v[i];
    case TV_RANGE:
        return tv_int(v->u.r.lo + (int64_t)i);
    case TV_JSON:
        return cr__tv_from_json(json_array_get(v->u.j, i));
    default:
        return tv_nil();
    }
}

static struct tval loop_member(const struct tloop *l, size_t k)
{
    struct tval v;
    switch (k) {
    case 0:
        return tv_int(l->index0 + 1);
    case 1:
        return tv_int(l->index0);
    case 2:
        return tv_int(l->length - l->index0);
    case 3:
        return tv_int(l->length - l->index0 - 1);
    case 4:
        return tv_bool(l->index0 == 0);
    case 5:
        return tv_bool(l->index0 == l->length - 1);
    case 6:
        return tv_int(l->length);
    case 7:
        if (!l->parent)
            return tv_nil();
        v.kind = TV_LOOP;
        v.u.loop = l->parent;
        return v;
    default:
        return tv_str(l->name, l->namelen);
    }
}

int cr__tv_member(const struct tval *v, const char *key, size_t n, uint32_t hash,
                  struct tval *out)
{
    if (v->kind == TV_JSON && json_is_object(v->u.j)) {
        json_t *m = json_object_getn(v->u.j, key, n);
        if (!m)
            return 0;
        *out = cr__tv_from_json(m);
        return 1;
    }
    if (v->kind == TV_REC) {
        long i = cr__trecord_find(v->u.rec, key, n, hash);
        if (i < 0)
            return 0;
        *out = cr__tv_from_record(v->u.rec, (size_t)i);
        return 1;
    }
    if (v->kind == TV_LOOP) {
        for (size_t k = 0; k < NLOOP_KEYS; k++) {
            if (strlen(loop_keys[k]) == n && memcmp(loop_keys[k], key, n) == 0) {
                *out = loop_member(v->u.loop, k);
                return 1;
            }
        }
    }
    return 0;
}

void cr__tv_hash_iter(struct thiter *it, const struct tval *h)
{
    it->h = h;
    it->i = 0;
    it->it = h->kind == TV_JSON ? json_object_iter(h->u.j) : NULL;
}

int cr__tv_hash_next(struct thiter *it, struct tval *key, struct tval *val)
{
    const struct tval *h = it->h;
    if (h->kind == TV_JSON) {
        if (!it->it)
            return 0;
        *key = tv_str(json_object_iter_key(it->it), json_object_iter_key_len(it->it));
        *val = cr__tv_from_json(json_object_iter_value(it->it));
        it->it = json_object_iter_next(h->u.j, it->it);
        return 1;
    }
    if (h->kind == TV_REC) {
        size_t n;
        const char *name;
        if (it->i >= cr__trecord_ncols(h->u.rec))
            return 0;
        name = cr__trecord_name(h->u.rec, it->i, &n);
        *key = tv_str(name, n);
        *val = cr__tv_from_record(h->u.rec, it->i);
        it->i++;
        return 1;
    }
    if (h->kind == TV_LOOP) {
        if (it->i >= NLOOP_KEYS)
            return 0;
        *key = tv_str(loop_keys[it->i], strlen(loop_keys[it->i]));
        *val = loop_member(h->u.loop, it->i);
        it->i++;
        return 1;
    }
    return 0;
}

/* -------------------------------------------------------------------- equality --- */

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int cr__tv_is_empty(const struct tval *v)
{
    if (v->kind == TV_STR)
        return v->u.s.n == 0;
    if ((cr__tv_is_array(v) && v->kind != TV_RANGE) || cr__tv_is_hash(v))
        return cr__tv_len(v) == 0;
    return 0;
}

int cr__tv_is_blank(const struct tval *v)
{
    if (v->kind == TV_NIL || (v->kind == TV_BOOL && !v->u.b))
        return 1;
    if (v->kind == TV_STR) {
        for (size_t i = 0; i < v->u.s.n; i++)
            if (!is_space((unsigned char)v->u.s.p[i]))
                return 0;
        return 1;
    }
    return cr__tv_is_empty(v);
}

static int num_equal(const struct tval *a, const struct tval *b)
{
    if (a->kind == TV_INT && b->kind == TV_INT)
        return a->u.i == b->u.i;
    if (a->kind == TV_FLOAT && b->kind == TV_FLOAT)
        return a->u.f == b->u.f;
    {
        int64_t i = a->kind == TV_INT ? a->u.i : b->u.i;
        double f = a->kind == TV_FLOAT ? a->u.f : b->u.f;
        /* Exact: a large integer is not equal to a float that merely rounds to it. */
        if (!(f >= -9223372036854775808.0 && f < 9223372036854775808.0) || f != floor(f))
            return 0;
        return (int64_t)f == i;
    }
}

static int hash_equal(const struct tval *a, const struct tval *b)
{
    struct thiter it;
    struct tval k, va, vb;
    if (cr__tv_len(a) != cr__tv_len(b))
        return 0;
    cr__tv_hash_iter(&it, a);
    while (cr__tv_hash_next(&it, &k, &va)) {
        if (!cr__tv_member(b, k.u.s.p, k.u.s.n, cr__thash(k.u.s.p, k.u.s.n), &vb))
            return 0;
        if (!cr__tv_equal(&va, &vb))
            return 0;
    }
    return 1;
}

int cr__tv_equal(const struct tval *a, const struct tval *b)
{
    if (a->kind == TV_EMPTY || a->kind == TV_BLANK) {
        if (b->kind == TV_EMPTY || b->kind == TV_BLANK)
            return 0; /* neither answers empty? */
        return a->kind == TV_EMPTY ? cr__tv_is_empty(b) : cr__tv_is_blank(b);
    }
    if (b->kind == TV_EMPTY || b->kind == TV_BLANK)
        return cr__tv_equal(b, a);
    if ((a->kind == TV_INT || a->kind == TV_FLOAT) && (b->kind == TV_INT || b->kind == TV_FLOAT))
        return num_equal(a, b);
    if (a->kind == TV_RANGE || b->kind == TV_RANGE)
        return a->kind == b->kind && a->u.r.lo == b->u.r.lo && a->u.r.hi == b->u.r.hi;
    if (cr__tv_is_array(a) && cr__tv_is_array(b)) {
        size_t n = cr__tv_len(a);
        if (n != cr__tv_len(b))
            return 0;
        for (size_t i = 0; i < n; i++) {
            struct tval x = cr__tv_index(a, i), y = cr__tv_index(b, i);
            if (!cr__tv_equal(&x, &y))
                return 0;
        }
        return 1;
    }
    if (cr__tv_is_hash(a) && cr__tv_is_hash(b)) {
        if (a->kind == TV_LOOP || b->kind == TV_LOOP)
            return a->kind == b->kind && a->u.loop == b->u.loop;
        return hash_equal(a, b);
    }
    if (a->kind != b->kind)
        return 0;
    switch (a->kind) {
    case TV_NIL:
        return 1;
    case TV_BOOL:
        return a->u.b == b->u.b;
    case TV_STR:
        return a->u.s.n == b->u.s.n && (a->u.s.n == 0 || memcmp(a->u.s.p, b->u.s.p, a->u.s.n) == 0);
    default:
        return 0;
    }
}

const char *cr__tv_kind_name(const struct tval *v)
{
    switch (v->kind) {
    case TV_NIL:
        return "nil";
    case TV_BOOL:
        return "boolean";
    case TV_INT:
        return "integer";
    case TV_FLOAT:
        return "float";
    case TV_STR:
        return "string";
    case TV_RANGE:
        return "range";
    case TV_EMPTY:
    case TV_BLANK:
        return "literal";
    default:
        return cr__tv_is_array(v) ? "array" : "hash";
    }
}

/* --------------------------------------------------------------------- numbers --- */

int cr__tfloat_digits(double d, char *digits, int *decpt)
{
    static const double p10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
    char buf[40], *e;
    int prec, n = 0;
    d = fabs(d);
    /* Fast path for prices and the like: if r / 10^k gives back d for a small k, then "r"
     * with k decimals round-trips, and the smallest such k is the shortest form. Both r and
     * 10^k are exact doubles, so the division is correctly rounded like strtod. */
    if (d >= 1e-4 && d < 1e15) {
        for (int k = 0; k < 9; k++) {
            double m = d * p10[k];
            int64_t r;
            if (m >= 9e15)
                break;
            r = (int64_t)(m + 0.5);
            if (r > 0 && (double)r / p10[k] == d) {
                char tmp[24];
                int len = 0;
                while (r) {
                    tmp[len++] = (char)('0' + (int)(r % 10));
                    r /= 10;
                }
                *decpt = len - k;
                while (len) /* reverse */
                    digits[n++] = tmp[--len];
                while (n > 1 && digits[n - 1] == '0')
                    n--;
                digits[n] = '\0';
                return n;
            }
        }
    }
    /* A double whose shortest form has at most 15 digits prints that form at %.15e (DBL_DIG
     * digits are always exact), padded with zeros: one try is enough for most values. */
    for (prec = d < DBL_MIN ? 1 : 15; prec <= 17; prec++) { /* subnormals: fewer bits */
        snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    /* buf is "D.DDDDe[+-]XX" */
    for (e = buf; *e && *e != 'e'; e++)
        if (*e >= '0' && *e <= '9')
            digits[n++] = *e;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    *decpt = (int)strtol(e + 1, NULL, 10) + 1;
    return n;
}

size_t cr__tfmt_float(double d, char *out)
{
    char dig[24];
    int nd, decpt, len = 0;
    if (isnan(d))
        return (size_t)snprintf(out, 32, "NaN");
    if (isinf(d))
        return (size_t)snprintf(out, 32, "%s", d < 0 ? "-Infinity" : "Infinity");
    if (signbit(d))
        out[len++] = '-';
    if (d == 0) {
        memcpy(out + len, "0.0", 4);
        return (size_t)len + 3;
    }
    nd = cr__tfloat_digits(d, dig, &decpt);
    if (decpt > 0 && decpt <= 16) {
        if (nd <= decpt) {
            memcpy(out + len, dig, (size_t)nd);
            len += nd;
            for (int i = nd; i < decpt; i++)
                out[len++] = '0';
            out[len++] = '.';
            out[len++] = '0';
        } else {
            memcpy(out + len, dig, (size_t)decpt);
            len += decpt;
            out[len++] = '.';
            memcpy(out + len, dig + decpt, (size_t)(nd - decpt));
            len += nd - decpt;
        }
    } else if (decpt <= 0 && decpt > -4) {
        out[len++] = '0';
        out[len++] = '.';
        for (int i = decpt; i < 0; i++)
            out[len++] = '0';
        memcpy(out + len, dig, (size_t)nd);
        len += nd;
    } else {
        out[len++] = dig[0];
        out[len++] = '.';
        if (nd > 1) {
            memcpy(out + len, dig + 1, (size_t)(nd - 1));
            len += nd - 1;
        } else {
            out[len++] = '0';
        }
        len += snprintf(out + len, 8, "e%c%02d", decpt - 1 < 0 ? '-' : '+', abs(decpt - 1));
    }
    out[len] = '\0';
    return (size_t)len;
}

int64_t cr__tstr_to_i(const char *p, size_t n)
{
    size_t i = 0;
    int neg = 0;
    uint64_t v = 0;
    while (i < n && is_space((unsigned char)p[i]))
        i++;
    if (i < n && (p[i] == '+' || p[i] == '-'))
        neg = p[i++] == '-';
    for (; i < n; i++) {
        if (p[i] == '_' && i + 1 < n && p[i + 1] >= '0' && p[i + 1] <= '9' && i > 0 &&
            p[i - 1] >= '0' && p[i - 1] <= '9')
            continue;
        if (p[i] < '0' || p[i] > '9')
            break;
        if (v > (UINT64_C(9223372036854775808) - (uint64_t)(p[i] - '0')) / 10) {
            v = UINT64_C(9223372036854775808); /* saturate; Ruby would make a bignum */
            break;
        }
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    if (neg)
        return v >= UINT64_C(9223372036854775808) ? INT64_MIN : -(int64_t)v;
    return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* /\A-?\d+\.\d+\z/ on the stripped string: Liquid's test for a decimal string. */
static int decimal_string(const char *p, size_t n, double *out)
{
    size_t b = 0, e = n, i, d1 = 0, d2 = 0;
    char tmp[64];
    while (b < e && is_space((unsigned char)p[b]))
        b++;
    while (e > b && (is_space((unsigned char)p[e - 1]) || p[e - 1] == '\0'))
        e--;
    i = b;
    if (i < e && p[i] == '-')
        i++;
    while (i < e && p[i] >= '0' && p[i] <= '9')
        i++, d1++;
    if (!d1 || i >= e || p[i] != '.')
        return 0;
    i++;
    while (i < e && p[i] >= '0' && p[i] <= '9')
        i++, d2++;
    if (!d2 || i != e)
        return 0;
    if (e - b >= sizeof tmp) {
        memcpy(tmp, p + b, sizeof tmp - 1);
        tmp[sizeof tmp - 1] = '\0';
    } else {
        memcpy(tmp, p + b, e - b);
        tmp[e - b] = '\0';
    }
    *out = strtod(tmp, NULL);
    return 1;
}

struct tnum cr__tv_to_number(const struct tval *v)
{
    struct tnum n = {0, 0, 0};
    if (v->kind == TV_INT) {
        n.i = v->u.i;
    } else if (v->kind == TV_FLOAT) {
        n.is_float = 1;
        n.f = v->u.f;
    } else if (v->kind == TV_STR) {
        if (decimal_string(v->u.s.p, v->u.s.n, &n.f))
            n.is_float = 1;
        else
            n.i = cr__tstr_to_i(v->u.s.p, v->u.s.n);
    }
    return n;
}

struct tval cr__tnum_val(struct tnum n)
{
    return n.is_float ? tv_float(n.f) : tv_int(n.i);
}

/* -------------------------------------------------------------------- printing --- */

int cr__tv_write(struct cr_buf *b, const struct tval *v)
{
    char tmp[40];
    size_t n;
    switch (v->kind) {
    case TV_NIL:
    case TV_EMPTY:
    case TV_BLANK:
    case TV_LOOP:
        return b->err;
    case TV_BOOL:
        return v->u.b ? cr_buf_append(b, "true", 4) : cr_buf_append(b, "false", 5);
    case TV_INT: {
        /* By hand: integers are the most printed values and snprintf is slow. */
        uint64_t u = v->u.i < 0 ? (uint64_t)0 - (uint64_t)v->u.i : (uint64_t)v->u.i;
        char *p = tmp + sizeof tmp;
        do {
            *--p = (char)('0' + (int)(u % 10));
            u /= 10;
        } while (u);
        if (v->u.i < 0)
            *--p = '-';
        return cr_buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
    }
    case TV_FLOAT:
        n = cr__tfmt_float(v->u.f, tmp);
        return cr_buf_append(b, tmp, n);
    case TV_STR:
        return cr_buf_append(b, v->u.s.p, v->u.s.n);
    case TV_RANGE:
        return cr_buf_printf(b, "%lld..%lld", (long long)v->u.r.lo, (long long)v->u.r.hi);
    default:
        break;
    }
    if (cr__tv_is_array(v)) {
        size_t len = cr__tv_len(v);
        for (size_t i = 0; i < len && !b->err; i++) {
            struct tval e = cr__tv_index(v, i);
            cr__tv_write(b, &e);
        }
        return b->err;
    }
    return cr__tv_inspect(b, v);
}

static void inspect_str(struct cr_buf *b, const char *s, size_t n)
{
    size_t i = 0;
    cr_buf_putc(b, '"');
    while (i < n && !b->err) {
        unsigned char c = (unsigned char)s[i];
        size_t len;
        const char *esc = NULL;
        switch (c) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\v':
            esc = "\\v";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\a':
            esc = "\\a";
            break;
        case 27:
            esc = "\\e";
            break;
        case '#':
            if (i + 1 < n && (s[i + 1] == '{' || s[i + 1] == '$' || s[i + 1] == '@'))
                esc = "\\#";
            break;
        default:
            break;
        }
        if (esc) {
            cr_buf_puts(b, esc);
            i++;
            continue;
        }
        if (c < 0x20) {
            cr_buf_printf(b, "\\u%04X", c);
            i++;
            continue;
        }
        if (c == 0x7f) {
            cr_buf_puts(b, "\\x7F");
            i++;
            continue;
        }
        len = c < 0x80 ? 1 : cr_utf8_seq_len(s + i, n - i);
        if (!len) {
            cr_buf_printf(b, "\\x%02X", c);
            i++;
            continue;
        }
        cr_buf_append(b, s + i, len);
        i += len;
    }
    cr_buf_putc(b, '"');
}

int cr__tv_inspect(struct cr_buf *b, const struct tval *v)
{
    switch (v->kind) {
    case TV_NIL:
        return cr_buf_append(b, "nil", 3);
    case TV_STR:
        inspect_str(b, v->u.s.p, v->u.s.n);
        return b->err;
    case TV_BOOL:
    case TV_INT:
    case TV_FLOAT:
    case TV_RANGE:
        return cr__tv_write(b, v);
    case TV_EMPTY:
    case TV_BLANK:
        return b->err;
    default:
        break;
    }
    if (cr__tv_is_array(v)) {
        size_t len = cr__tv_len(v);
        cr_buf_putc(b, '[');
        for (size_t i = 0; i < len && !b->err; i++) {
            struct tval e = cr__tv_index(v, i);
            if (i)
                cr_buf_append(b, ", ", 2);
            cr__tv_inspect(b, &e);
        }
        return cr_buf_putc(b, ']');
    }
    if (v->kind == TV_LOOP)
        return cr_buf_puts(b, "#<Liquid::ForloopDrop>");
    {
        struct thiter it;
        struct tval k, val;
        int first = 1;
        cr_buf_putc(b, '{');
        cr__tv_hash_iter(&it, v);
        while (!b->err && cr__tv_hash_next(&it, &k, &val)) {
            if (!first)
                cr_buf_append(b, ", ", 2);
            first = 0;
            cr__tv_inspect(b, &k);
            cr_buf_append(b, "=>", 2);
            cr__tv_inspect(b, &val);
        }
        return cr_buf_putc(b, '}');
    }
}

/* ------------------------------------------------------------------------ UTF-8 --- */

size_t cr__tutf8_count(const char *s, size_t n)
{
    size_t i = 0, count = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : cr_utf8_seq_len(s + i, n - i);
        i += len ? len : 1;
        count++;
    }
    return count;
}

size_t cr__tutf8_offset(const char *s, size_t n, size_t ci)
{
    size_t i = 0;
    while (i < n && ci > 0) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : cr_utf8_seq_len(s + i, n - i);
        i += len ? len : 1;
        ci--;
    }
    return i;
}
