/*
 * filter.c - the filter tables and what the filter families share
 *
 * Filters are looked up by name once, at compile time; a filter call at render time is an
 * indirect call with its arguments already evaluated. The families live in filter_string.c,
 * filter_math.c, filter_array.c and filter_date.c, each with its own table.
 * Not here: any one filter's behaviour.
 */
#include "template/template_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct tfilter_def *const tables[] = {
    cr__tfilters_string,
    cr__tfilters_math,
    cr__tfilters_array,
    cr__tfilters_date,
};

const struct tfilter_def *cr__tfilter_find(const char *name, size_t n)
{
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++)
        for (const struct tfilter_def *d = tables[t]; d->name; d++)
            if (strlen(d->name) == n && memcmp(d->name, name, n) == 0)
                return d;
    return NULL;
}

int cr__tf_fail(struct trender *r, const struct tfilter *f, int code, const char *fmt, ...)
{
    char what[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return cr__trender_fail(r, code, f->file, f->line, f->col, "%s", what);
}

int cr__tf_str(struct trender *r, const struct tval *v, const char **p, size_t *n)
{
    struct tval s;
    int rc;
    switch (v->kind) {
    case TV_STR:
        *p = v->u.s.p;
        *n = v->u.s.n;
        return 0;
    case TV_NIL:
    case TV_EMPTY:
    case TV_BLANK:
        *p = "";
        *n = 0;
        return 0;
    default:
        break;
    }
    cr_buf_reset(r->sb);
    if (cr__tv_is_array(v) && v->kind != TV_RANGE)
        cr__tv_inspect(r->sb, v);
    else
        cr__tv_write(r->sb, v);
    if ((rc = cr__trender_sb_val(r, NULL, &s)))
        return rc;
    *p = s.u.s.p;
    *n = s.u.s.n;
    return 0;
}

struct tarr *cr__tf_new_arr(struct trender *r, size_t n)
{
    struct tarr *a;
    if (n > (SIZE_MAX - sizeof *a) / sizeof(struct tval))
        n = SIZE_MAX / 2; /* fails below */
    a = cr__trender_alloc(r, sizeof *a + n * sizeof(struct tval));
    if (!a)
        return NULL;
    a->n = n;
    a->v = (struct tval *)(a + 1);
    return a;
}

/* Members of v after flattening nested arrays; fills out when not NULL. */
static size_t flatten(const struct tval *v, struct tval *out, size_t at, unsigned depth)
{
    size_t n = cr__tv_len(v);
    for (size_t i = 0; i < n; i++) {
        struct tval e = cr__tv_index(v, i);
        if ((e.kind == TV_ARR || (e.kind == TV_JSON && json_is_array(e.u.j))) && depth < 64) {
            at = flatten(&e, out, at, depth + 1);
        } else {
            if (out)
                out[at] = e;
            at++;
        }
    }
    return at;
}

int cr__tf_iter(struct trender *r, const struct tfilter *f, const struct tval *v,
               struct tval *out)
{
    struct tarr *a;
    size_t n;
    if (v->kind == TV_ARR || (v->kind == TV_JSON && json_is_array(v->u.j))) {
        n = flatten(v, NULL, 0, 0);
        if (v->kind == TV_ARR && n == v->u.a->n) {
            *out = *v; /* already flat */
            return 0;
        }
        if (!(a = cr__tf_new_arr(r, n)))
            return CR_ETOOBIG;
        flatten(v, a->v, 0, 0);
    } else if (v->kind == TV_RANGE) {
        n = cr__tv_len(v);
        if (n > r->t->max_steps)
            return cr__tf_fail(r, f, CR_ETOOBIG, "range too large (%zu items)", n);
        if (!(a = cr__tf_new_arr(r, n)))
            return CR_ETOOBIG;
        for (size_t i = 0; i < n; i++)
            a->v[i] = cr__tv_index(v, i);
    } else if (v->kind == TV_NIL) {
        if (!(a = cr__tf_new_arr(r, 0)))
            return CR_ETOOBIG;
    } else {
        if (!(a = cr__tf_new_arr(r, 1)))
            return CR_ETOOBIG;
        a->v[0] = *v;
    }
    out->kind = TV_ARR;
    out->u.a = a;
    return 0;
}
