/*
 * filter_array.c - join, first, last, size, slice, sort, sort_natural, uniq, reverse,
 * compact, map, where, concat, and default
 *
 * Inputs go through Liquid's InputIterator (cr__tf_iter): nested arrays are flattened, a
 * hash counts as one item, nil as none. Results are new arrays in the render's arena whose
 * items borrow from the input. Sorting is a stable merge sort whose comparison can fail
 * ("cannot sort values of incompatible types"), nils last, as in Liquid.
 * Not here: split (filter_string.c), the value model (value.c).
 *
 * Spec: Shopify Liquid StandardFilters (liquid 5.x) and Ruby's Array methods they call.
 */
#include "template/template_int.h"

#include <string.h>

/* ------------------------------------------------------------------- helpers --- */

static struct tval arr_val(struct tarr *a)
{
    struct tval v;
    v.kind = TV_ARR;
    v.u.a = a;
    return v;
}

/* item[property] for map, where, sort: hashes by key; strings answer the property itself
 * when they contain it (Ruby's String#[]); anything else nil. */
static int property(struct trender *r, const struct tfilter *f, const struct tval *item,
                    const struct tval *prop, struct tval *out)
{
    const char *p;
    size_t n;
    int rc;
    *out = tv_nil();
    if (item->kind == TV_NIL)
        return 0;
    if ((rc = cr__tf_str(r, prop, &p, &n)))
        return rc;
    if (cr__tv_is_hash(item)) {
        cr__tv_member(item, p, n, cr__thash(p, n), out);
        return 0;
    }
    if (item->kind == TV_STR) {
        if (n <= item->u.s.n) {
            for (size_t i = 0; i + n <= item->u.s.n; i++) {
                if (memcmp(item->u.s.p + i, p, n) == 0) {
                    *out = tv_str(p, n);
                    break;
                }
            }
        }
        return 0;
    }
    if (item->kind == TV_BOOL || item->kind == TV_EMPTY || item->kind == TV_BLANK)
        return 0;
    return cr__tf_fail(r, f, CR_EINVAL, "cannot select the property '%.*s'",
                      n > 60 ? 60 : (int)n, p);
}

/* ---------------------------------------------------------------------- join --- */

static int f_join(struct trender *r, const struct tfilter *f, struct tval *v,
                  const struct tval *a, const struct tval *kw)
{
    const char *glue = " ";
    size_t gn = 1;
    struct tval it;
    int rc;
    (void)kw;
    if (f->nargs && (rc = cr__tf_str(r, &a[0], &glue, &gn)))
        return rc;
    if ((rc = cr__tf_iter(r, f, v, &it)))
        return rc;
    cr_buf_reset(r->sb);
    for (size_t i = 0; i < it.u.a->n; i++) {
        if (i)
            cr_buf_append(r->sb, glue, gn);
        if (cr__tv_is_array(&it.u.a->v[i]) && it.u.a->v[i].kind != TV_RANGE)
            cr__tv_write(r->sb, &it.u.a->v[i]);
        else if (cr__tv_is_hash(&it.u.a->v[i]))
            cr__tv_inspect(r->sb, &it.u.a->v[i]);
        else
            cr__tv_write(r->sb, &it.u.a->v[i]);
    }
    return cr__trender_sb_val(r, f, v);
}

/* --------------------------------------------------------------- first, last --- */

static int first_last(struct trender *r, struct tval *v, int last)
{
    if (cr__tv_is_array(v)) {
        size_t n = cr__tv_len(v);
        *v = n ? cr__tv_index(v, last ? n - 1 : 0) : tv_nil();
        return 0;
    }
    if (cr__tv_is_hash(v) && !last) {
        struct thiter it;
        struct tval k, val;
        struct tarr *pair;
        cr__tv_hash_iter(&it, v);
        if (!cr__tv_hash_next(&it, &k, &val)) {
            *v = tv_nil();
            return 0;
        }
        if (!(pair = cr__tf_new_arr(r, 2)))
            return CR_ETOOBIG;
        pair->v[0] = k;
        pair->v[1] = val;
        *v = arr_val(pair);
        return 0;
    }
    *v = tv_nil(); /* strings and scalars have no first or last in Liquid */
    return 0;
}

static int f_first(struct trender *r, const struct tfilter *f, struct tval *v,
                   const struct tval *a, const struct tval *kw)
{
    (void)f, (void)a, (void)kw;
    return first_last(r, v, 0);
}

static int f_last(struct trender *r, const struct tfilter *f, struct tval *v,
                  const struct tval *a, const struct tval *kw)
{
    (void)f, (void)a, (void)kw;
    return first_last(r, v, 1);
}

static int f_size(struct trender *r, const struct tfilter *f, struct tval *v,
                  const struct tval *a, const struct tval *kw)
{
    (void)r, (void)f, (void)a, (void)kw;
    if (v->kind == TV_STR)
        *v = tv_int((int64_t)cr__tutf8_count(v->u.s.p, v->u.s.n));
    else if (cr__tv_is_array(v) || cr__tv_is_hash(v))
        *v = tv_int((int64_t)cr__tv_len(v));
    else if (v->kind == TV_INT)
        *v = tv_int(8); /* Ruby's Integer#size */
    else
        *v = tv_int(0);
    return 0;
}

/* ---------------------------------------------------------------------- slice --- */

/* Ruby's slice(start, length) bounds: 0 if nil (out of range). */
static int slice_bounds(int64_t size, int64_t start, int64_t len, int64_t *b, int64_t *n)
{
    if (start < 0)
        start += size;
    if (start < 0 || start > size || len < 0)
        return 0;
    if (len > size - start)
        len = size - start;
    *b = start;
    *n = len;
    return 1;
}

static int f_slice(struct trender *r, const struct tfilter *f, struct tval *v,
                   const struct tval *a, const struct tval *kw)
{
    int64_t start, len = 1, b, n;
    int rc;
    (void)kw;
    if ((rc = cr__tfilter_to_integer(r, f, &a[0], &start)))
        return rc;
    if (f->nargs > 1 && (rc = cr__tfilter_to_integer(r, f, &a[1], &len)))
        return rc;
    if (v->kind == TV_ARR || (v->kind == TV_JSON && json_is_array(v->u.j))) {
        struct tarr *out;
        if (!slice_bounds((int64_t)cr__tv_len(v), start, len, &b, &n))
            n = 0, b = 0;
        if (!(out = cr__tf_new_arr(r, (size_t)n)))
            return CR_ETOOBIG;
        for (int64_t i = 0; i < n; i++)
            out->v[i] = cr__tv_index(v, (size_t)(b + i));
        *v = arr_val(out);
        return 0;
    }
    {
        const char *p;
        size_t pn, ob, oe;
        if ((rc = cr__tf_str(r, v, &p, &pn)))
            return rc;
        if (!slice_bounds((int64_t)cr__tutf8_count(p, pn), start, len, &b, &n)) {
            *v = tv_str("", 0);
            return 0;
        }
        ob = cr__tutf8_offset(p, pn, (size_t)b);
        oe = ob + cr__tutf8_offset(p + ob, pn - ob, (size_t)n);
        *v = tv_str(p + ob, oe - ob);
        return 0;
    }
}

/* ---------------------------------------------------------------------- sorting --- */

struct sorter {
    struct trender *r;
    const struct tfilter *f;
    int natural;
    int failed;
};

static int ascii_casecmp(const char *a, size_t an, const char *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + 32);
        if (x != y)
            return x < y ? -1 : 1;
    }
    return an < bn ? -1 : an > bn;
}

/* Ruby's <=>; returns 2 when the values do not compare. */
static int spaceship(const struct tval *a, const struct tval *b)
{
    int an = a->kind == TV_INT || a->kind == TV_FLOAT, bn = b->kind == TV_INT || b->kind == TV_FLOAT;
    if (an && bn) {
        if (a->kind == TV_INT && b->kind == TV_INT)
            return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
        {
            double x = a->kind == TV_INT ? (double)a->u.i : a->u.f;
            double y = b->kind == TV_INT ? (double)b->u.i : b->u.f;
            if (x != x || y != y)
                return 2;
            return x < y ? -1 : x > y;
        }
    }
    if (a->kind == TV_STR && b->kind == TV_STR) {
        size_t n = a->u.s.n < b->u.s.n ? a->u.s.n : b->u.s.n;
        int c = n ? memcmp(a->u.s.p, b->u.s.p, n) : 0;
        if (c)
            return c < 0 ? -1 : 1;
        return a->u.s.n < b->u.s.n ? -1 : a->u.s.n > b->u.s.n;
    }
    if (a->kind == TV_NIL && b->kind == TV_NIL)
        return 0;
    if (a->kind == TV_BOOL && b->kind == TV_BOOL && a->u.b == b->u.b)
        return 0;
    if (cr__tv_is_array(a) && cr__tv_is_array(b)) {
        size_t na = cr__tv_len(a), nb = cr__tv_len(b);
        for (size_t i = 0; i < na && i < nb; i++) {
            struct tval x = cr__tv_index(a, i), y = cr__tv_index(b, i);
            int c = spaceship(&x, &y);
            if (c)
                return c;
        }
        return na < nb ? -1 : na > nb;
    }
    return 2;
}

static int sort_cmp(struct sorter *s, const struct tval *a, const struct tval *b)
{
    if (s->natural) {
        const char *p, *q;
        size_t pn, qn;
        if (a->kind == TV_NIL || b->kind == TV_NIL)
            return a->kind == TV_NIL ? 1 : -1;
        if (cr__tf_str(s->r, a, &p, &pn) || cr__tf_str(s->r, b, &q, &qn)) {
            s->failed = CR_ETOOBIG;
            return 0;
        }
        return ascii_casecmp(p, pn, q, qn);
    }
    {
        int c = spaceship(a, b);
        if (c != 2)
            return c;
        if (a->kind == TV_NIL)
            return 1;
        if (b->kind == TV_NIL)
            return -1;
        if (!s->failed)
            s->failed = cr__tf_fail(s->r, s->f, CR_EINVAL,
                                   "cannot sort values of incompatible types");
        return 0;
    }
}

/* Stable merge sort of items by keys (parallel arrays). */
static void merge_sort(struct sorter *s, struct tval *items, struct tval *keys, struct tval *ti,
                       struct tval *tk, size_t n)
{
    size_t mid, i, j, k;
    if (n < 2 || s->failed)
        return;
    mid = n / 2;
    merge_sort(s, items, keys, ti, tk, mid);
    merge_sort(s, items + mid, keys + mid, ti, tk, n - mid);
    for (i = 0, j = mid, k = 0; i < mid && j < n; k++) {
        if (sort_cmp(s, &keys[j], &keys[i]) < 0) {
            ti[k] = items[j];
            tk[k] = keys[j++];
        } else {
            ti[k] = items[i];
            tk[k] = keys[i++];
        }
    }
    for (; i < mid; k++, i++) {
        ti[k] = items[i];
        tk[k] = keys[i];
    }
    for (; j < n; k++, j++) {
        ti[k] = items[j];
        tk[k] = keys[j];
    }
    memcpy(items, ti, n * sizeof *items);
    memcpy(keys, tk, n * sizeof *keys);
}

static int sort(struct trender *r, const struct tfilter *f, struct tval *v, const struct tval *a,
                int natural)
{
    struct sorter s = {r, f, natural, 0};
    struct tval it;
    struct tarr *out, *keys, *ti, *tk;
    size_t n;
    int rc;
    if ((rc = cr__tf_iter(r, f, v, &it)))
        return rc;
    n = it.u.a->n;
    if (!(out = cr__tf_new_arr(r, n)) || !(keys = cr__tf_new_arr(r, n)) ||
        !(ti = cr__tf_new_arr(r, n)) || !(tk = cr__tf_new_arr(r, n)))
        return CR_ETOOBIG;
    memcpy(out->v, it.u.a->v, n * sizeof *out->v);
    for (size_t i = 0; i < n; i++) {
        if (f->nargs) {
            if (!cr__tv_is_hash(&out->v[i]) && out->v[i].kind != TV_STR &&
                !cr__tv_is_array(&out->v[i])) {
                *v = tv_nil(); /* Liquid sorts by property only when every item has [] */
                return 0;
            }
            if ((rc = property(r, f, &out->v[i], &a[0], &keys->v[i])))
                return rc;
        } else {
            keys->v[i] = out->v[i];
        }
    }
    merge_sort(&s, out->v, keys->v, ti->v, tk->v, n);
    if (s.failed)
        return s.failed;
    *v = arr_val(out);
    return 0;
}

static int f_sort(struct trender *r, const struct tfilter *f, struct tval *v,
                  const struct tval *a, const struct tval *kw)
{
    (void)kw;
    return sort(r, f, v, a, 0);
}

static int f_sort_natural(struct trender *r, const struct tfilter *f, struct tval *v,
                          const struct tval *a, const struct tval *kw)
{
    (void)kw;
    return sort(r, f, v, a, 1);
}

/* Ruby's eql?: 1 and 1.0 differ. */
static int eql(const struct tval *a, const struct tval *b)
{
    if ((a->kind == TV_INT) != (b->kind == TV_INT) || (a->kind == TV_FLOAT) != (b->kind == TV_FLOAT))
        return 0;
    return cr__tv_equal(a, b);
}

static int f_uniq(struct trender *r, const struct tfilter *f, struct tval *v,
                  const struct tval *a, const struct tval *kw)
{
    struct tval it;
    struct tarr *out, *keys;
    size_t n, k = 0;
    int rc;
    (void)kw;
    if ((rc = cr__tf_iter(r, f, v, &it)))
        return rc;
    n = it.u.a->n;
    if (!(out = cr__tf_new_arr(r, n)) || !(keys = cr__tf_new_arr(r, n)))
        return CR_ETOOBIG;
    for (size_t i = 0; i < n; i++) {
        struct tval key = it.u.a->v[i];
        size_t j;
        if (f->nargs && (rc = property(r, f, &it.u.a->v[i], &a[0], &key)))
            return rc;
        if (r->steps + k > r->t->max_steps)
            return cr__tf_fail(r, f, CR_ETOOBIG, "uniq on too many items");
        r->steps += k;
        for (j = 0; j < k; j++)
            if (eql(&keys->v[j], &key))
                break;
        if (j < k)
            continue;
        keys->v[k] = key;
        out->v[k++] = it.u.a->v[i];
    }
    out->n = k;
    *v = arr_val(out);
    return 0;
}

static int f_reverse(struct trender *r, const struct tfilter *f, struct tval *v,
                     const struct tval *a, const struct tval *kw)
{
    struct tval it;
    struct tarr *out;
    size_t n;
    int rc;
    (void)a, (void)kw;
    if ((rc = cr__tf_iter(r, f, v, &it)))
        return rc;
    n = it.u.a->n;
    if (!(out = cr__tf_new_arr(r, n)))
        return CR_ETOOBIG;
    for (size_t i = 0; i < n; i++)
        out->v[i] = it.u.a->v[n - 1 - i];
    *v = arr_val(out);
    return 0;
}

static int f_compact(struct trender *r, const struct tfilter *f, struct tval *v,
                     const struct tval *a, const struct tval *kw)
{
    struct tval it;
    struct tarr *out;
    size_t k = 0;
    int rc;
    (void)kw;
    if ((rc = cr__tf_iter(r, f, v, &it)))
        return rc;
    if (!(out = cr__tf_new_arr(r, it.u.a->n)))
        return CR_ETOOBIG;
    for (size_t i = 0; i < it.u.a->n; i++) {
        struct tval key = it.u.a->v[i];
        if (f->nargs && (rc = property(r, f, &it.u.a->v[i], &a[0], &key)))
            return rc;
        if (key.kind != TV_NIL)
            out->v[k++] = it.u.a->v[i];
    }
    out->n = k;
    *v = arr_val(out);
    return 0;
}

static int f_map(struct trender *r, const struct tfilter *f, struct tval *v,
                 const struct tval *a, const struct tval *kw)
{
    struct tval it;
    struct tarr *out;
    int rc;
    (void)kw;
    if ((rc = cr__tf_iter(r, f, v, &it)))
        return rc;
    if (!(out = cr__tf_new_arr(r, it.u.a->n)))
        return CR_ETOOBIG;
    for (size_t i = 0; i < it.u.a->n; i++)
        if ((rc = property(r, f, &it.u.a->v[i], &a[0], &out->v[i])))
            return rc;
    *v = arr_val(out);
    return 0;
}

static int f_where(struct trender *r, const struct tfilter *f, struct tval *v,
                   const struct tval *a, const struct tval *kw)
{
    struct tval it;
    struct tarr *out;
    size_t k = 0;
    int rc, with_target = f->nargs > 1 && a[1].kind != TV_NIL;
    (void)kw;
    if ((rc = cr__tf_iter(r, f, v, &it)))
        return rc;
    if (!(out = cr__tf_new_arr(r, it.u.a->n)))
        return CR_ETOOBIG;
    for (size_t i = 0; i < it.u.a->n; i++) {
        struct tval key;
        if ((rc = property(r, f, &it.u.a->v[i], &a[0], &key)))
            return rc;
        if (with_target ? cr__tv_equal(&key, &a[1]) : cr__tv_truthy(&key))
            out->v[k++] = it.u.a->v[i];
    }
    out->n = k;
    *v = arr_val(out);
    return 0;
}

static int f_concat(struct trender *r, const struct tfilter *f, struct tval *v,
                    const struct tval *a, const struct tval *kw)
{
    struct tval it;
    struct tarr *out;
    size_t n, m;
    int rc;
    (void)kw;
    if (!(a[0].kind == TV_ARR || (a[0].kind == TV_JSON && json_is_array(a[0].u.j))))
        return cr__tf_fail(r, f, CR_EINVAL, "concat filter requires an array argument");
    if ((rc = cr__tf_iter(r, f, v, &it)))
        return rc;
    n = it.u.a->n;
    m = cr__tv_len(&a[0]);
    if (!(out = cr__tf_new_arr(r, n + m)))
        return CR_ETOOBIG;
    memcpy(out->v, it.u.a->v, n * sizeof *out->v);
    for (size_t i = 0; i < m; i++)
        out->v[n + i] = cr__tv_index(&a[0], i);
    *v = arr_val(out);
    return 0;
}

/* default: the argument when the input is nil, false or empty (allow_false keeps false). */
static int f_default(struct trender *r, const struct tfilter *f, struct tval *v,
                     const struct tval *a, const struct tval *kw)
{
    int allow_false = 0, use;
    (void)r;
    for (uint32_t i = 0; i < f->nkw && i < 8; i++)
        if (f->kw[i].namelen == 11 && memcmp(f->kw[i].name, "allow_false", 11) == 0)
            allow_false = cr__tv_truthy(&kw[i]);
    use = allow_false ? v->kind == TV_NIL : !cr__tv_truthy(v);
    if (use || cr__tv_is_empty(v))
        *v = f->nargs ? a[0] : tv_str("", 0);
    return 0;
}

const struct tfilter_def cr__tfilters_array[] = {
    {"join", f_join, 0, 1, 0},
    {"first", f_first, 0, 0, 0},
    {"last", f_last, 0, 0, 0},
    {"size", f_size, 0, 0, 0},
    {"slice", f_slice, 1, 2, 0},
    {"sort", f_sort, 0, 1, 0},
    {"sort_natural", f_sort_natural, 0, 1, 0},
    {"uniq", f_uniq, 0, 1, 0},
    {"reverse", f_reverse, 0, 0, 0},
    {"compact", f_compact, 0, 1, 0},
    {"map", f_map, 1, 1, 0},
    {"where", f_where, 1, 2, 0},
    {"concat", f_concat, 1, 1, 0},
    {"default", f_default, 0, 1, 1},
    {NULL, NULL, 0, 0, 0},
};
