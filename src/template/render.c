/*
 * render.c - walks a compiled program with one recipient's variables, appending output
 *
 * State lives in struct trender on the stack and in the cr_tvars' scratch: slots for
 * locals (assign, capture, loop variables, counters), for-loop registers, cycle positions,
 * and an arena for strings that filters make. Nothing is allocated per node; a warm render
 * allocates nothing at all. Every node, loop turn and filter call counts one step against
 * max_steps, and block and snippet nesting against max_depth, so no template runs forever.
 * Not here: the filters (filter*.c), the value model (value.c).
 *
 * Spec: Shopify Liquid's render semantics: assign and capture write the outermost scope,
 * loop variables and include parameters shadow it for their body; render isolates the
 * snippet (it sees the bound variables, not the caller's locals); conditions evaluate left
 * to right with and/or short-circuiting (`a or b and c` is `a or (b and c)`).
 */
#include "template/template_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cr__trender_fail(struct trender *r, int code, const char *file, int line, int col,
                    const char *fmt, ...)
{
    char what[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return cr__terrf(r->err, code, file, line, col, NULL, "%s", what);
}

void *cr__trender_alloc(struct trender *r, size_t n)
{
    void *p = cr__tarena_alloc(r->ar, n);
    if (!p)
        cr_err_set(r->err, CR_ETOOBIG, "template needs more than %zu bytes of scratch memory",
                   r->t->max_scratch);
    return p;
}

int cr__trender_sb_val(struct trender *r, const struct tfilter *f, struct tval *out)
{
    char *p;
    if (r->sb->err)
        return cr__trender_fail(r, CR_ETOOBIG, f ? f->file : NULL, f ? f->line : 0,
                               f ? f->col : 0, "filter result exceeds %zu bytes", r->sb->max);
    p = cr__trender_alloc(r, r->sb->len + 1);
    if (!p)
        return CR_ETOOBIG;
    memcpy(p, r->sb->data, r->sb->len + 1);
    *out = tv_str(p, r->sb->len);
    return 0;
}

cr_time_t cr__trender_now(struct trender *r)
{
    if (!r->have_now) {
        r->now = cr_clock_now(r->t->clock);
        r->have_now = 1;
    }
    return r->now;
}

static int step(struct trender *r, const char *file, int line, int col)
{
    if (++r->steps > r->t->max_steps)
        return cr__trender_fail(r, CR_ETOOBIG, file, line, col,
                               "render exceeds %llu steps", (unsigned long long)r->t->max_steps);
    return 0;
}

/* ================================================================ expressions === */

static int eval(struct trender *r, const struct texpr *e, struct tval *out);

/* Ruby's Integer(): whole string, optional sign, digits (and 0x, 0b, 0o, 0 prefixes). */
static int parse_ruby_integer(const char *p, size_t n, int64_t *out)
{
    size_t i = 0, e = n;
    int neg = 0, base = 10, digits = 0;
    uint64_t v = 0;
    while (i < e && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    while (e > i && (p[e - 1] == ' ' || p[e - 1] == '\t' || p[e - 1] == '\n' || p[e - 1] == '\r'))
        e--;
    if (i < e && (p[i] == '+' || p[i] == '-'))
        neg = p[i++] == '-';
    if (e - i >= 2 && p[i] == '0') {
        char c = (char)(p[i + 1] | 0x20);
        if (c == 'x' || c == 'b' || c == 'o') {
            base = c == 'x' ? 16 : c == 'b' ? 2 : 8;
            i += 2;
        } else {
            base = 8;
        }
    }
    for (; i < e; i++) {
        int d;
        char c = p[i];
        if (c == '_' && digits && i + 1 < e && p[i + 1] != '_')
            continue;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (c | 0x20) - 'a' + 10;
        else
            return -1;
        if (d >= base)
            return -1;
        if (v > (UINT64_C(9223372036854775807) - (uint64_t)d) / (uint64_t)base)
            return -1;
        v = v * (uint64_t)base + (uint64_t)d;
        digits++;
    }
    if (!digits && base != 8)
        return -1;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

/* Liquid's Utils.to_integer: integers pass, anything else goes through Integer(to_s). */
static int to_integer(struct trender *r, const struct tval *v, const char *file, int line,
                      int col, int64_t *out)
{
    char tmp[40];
    const char *p;
    size_t n;
    if (v->kind == TV_INT) {
        *out = v->u.i;
        return 0;
    }
    if (v->kind == TV_STR) {
        p = v->u.s.p;
        n = v->u.s.n;
    } else if (v->kind == TV_FLOAT) {
        n = cr__tfmt_float(v->u.f, tmp);
        p = tmp;
    } else if (v->kind == TV_BOOL) {
        p = v->u.b ? "true" : "false";
        n = strlen(p);
    } else {
        p = "";
        n = 0;
    }
    if (parse_ruby_integer(p, n, out))
        return cr__trender_fail(r, CR_EINVAL, file, line, col, "invalid integer '%.*s'",
                               n > 40 ? 40 : (int)n, p);
    return 0;
}

int cr__tfilter_to_integer(struct trender *r, const struct tfilter *f, const struct tval *v,
                          int64_t *out)
{
    return to_integer(r, v, f->file, f->line, f->col, out);
}

static int undefined(struct trender *r, const struct texpr *e, uint32_t srcend)
{
    return cr__trender_fail(r, CR_ENOTFOUND, e->file, e->line, e->col,
                           "undefined variable '%.*s'", (int)(srcend > 200 ? 200 : srcend),
                           e->src);
}

/* One lookup step: hash member, array index, or the size/first/last commands. */
static int lookup(struct trender *r, const struct texpr *e, const struct tstep *st,
                  struct tval *cur)
{
    struct tval key = st->key;
    uint32_t hash = st->hash;
    int rc;
    if (st->e) {
        if ((rc = eval(r, st->e, &key)))
            return rc;
        if (key.kind == TV_STR)
            hash = cr__thash(key.u.s.p, key.u.s.n);
    }
    if (cur->kind == TV_NIL) /* crier: a lookup on nil is nil, even in strict mode */
        return 0;
    if (key.kind == TV_INT) {
        if (cr__tv_is_array(cur)) {
            int64_t len = (int64_t)cr__tv_len(cur), i = key.u.i;
            if (i < 0)
                i += len;
            *cur = (i >= 0 && i < len) ? cr__tv_index(cur, (size_t)i) : tv_nil();
            return 0;
        }
        if (cr__tv_is_hash(cur)) {
            *cur = tv_nil();
            return 0;
        }
    } else if (key.kind == TV_STR) {
        const char *k = key.u.s.p;
        size_t n = key.u.s.n;
        int cmd = st->command && !st->e;
        if (cr__tv_is_hash(cur)) {
            struct tval m;
            if (cr__tv_member(cur, k, n, hash, &m)) {
                *cur = m;
                return 0;
            }
            if (cmd && n == 4 && memcmp(k, "size", 4) == 0) {
                *cur = tv_int((int64_t)cr__tv_len(cur));
                return 0;
            }
            if (cmd && n == 5 && memcmp(k, "first", 5) == 0) {
                struct thiter it;
                struct tval kv, vv;
                struct tarr *pair;
                cr__tv_hash_iter(&it, cur);
                if (!cr__tv_hash_next(&it, &kv, &vv)) {
                    *cur = tv_nil();
                    return 0;
                }
                pair = cr__trender_alloc(r, sizeof *pair + 2 * sizeof(struct tval));
                if (!pair)
                    return CR_ETOOBIG;
                pair->n = 2;
                pair->v = (struct tval *)(pair + 1);
                pair->v[0] = kv;
                pair->v[1] = vv;
                cur->kind = TV_ARR;
                cur->u.a = pair;
                return 0;
            }
        } else if (cmd && cr__tv_is_array(cur)) {
            size_t len = cr__tv_len(cur);
            if (n == 4 && memcmp(k, "size", 4) == 0) {
                *cur = tv_int((int64_t)len);
                return 0;
            }
            if (n == 5 && memcmp(k, "first", 5) == 0) {
                *cur = len ? cr__tv_index(cur, 0) : tv_nil();
                return 0;
            }
            if (n == 4 && memcmp(k, "last", 4) == 0) {
                *cur = len ? cr__tv_index(cur, len - 1) : tv_nil();
                return 0;
            }
        } else if (cmd && n == 4 && memcmp(k, "size", 4) == 0) {
            if (cur->kind == TV_STR) {
                *cur = tv_int((int64_t)cr__tutf8_count(cur->u.s.p, cur->u.s.n));
                return 0;
            }
            if (cur->kind == TV_INT) {
                *cur = tv_int(8); /* Ruby's Integer#size: bytes in a machine word */
                return 0;
            }
        }
    }
    if (r->t->strict)
        return undefined(r, e, st->srcend);
    *cur = tv_nil();
    return 0;
}

static uint32_t find_slot(const struct cr_template *t, const char *p, size_t n, uint32_t hash)
{
    for (uint32_t i = 0; i < t->nnames; i++)
        if (t->names[i].hash == hash && t->names[i].n == n && memcmp(t->names[i].p, p, n) == 0)
            return i;
    return UINT32_MAX;
}

/* A top-level name: the loop/include shadow, the assigned value, the counter, then the
 * bound variables. Returns 1 if found. */
static int find_var(const struct trender *r, uint32_t slot, const char *name, size_t n,
                    uint32_t hash, struct tval *out)
{
    if (slot != UINT32_MAX) {
        const struct tslot *s = &r->slots[slot];
        if (s->has_shadow) {
            *out = s->shadow;
            return 1;
        }
        if (s->has_root) {
            *out = s->root;
            return 1;
        }
        if (s->has_counter) {
            *out = tv_int(s->counter);
            return 1;
        }
    }
    return cr__tvars_get(r->vars, name, n, hash, out);
}

static int eval_var(struct trender *r, const struct texpr *e, struct tval *out)
{
    const char *name = e->name;
    size_t n = e->namelen;
    uint32_t hash = e->hash, slot = e->slot;
    int rc;
    if (e->dyn) {
        struct tval nv;
        if ((rc = eval(r, e->dyn, &nv)))
            return rc;
        if (nv.kind != TV_STR) {
            *out = tv_nil();
            if (r->t->strict)
                return undefined(r, e, e->srclen);
            return 0;
        }
        name = nv.u.s.p;
        n = nv.u.s.n;
        hash = cr__thash(name, n);
        slot = find_slot(r->t, name, n, hash);
    }
    if (!find_var(r, slot, name, n, hash, out)) {
        *out = tv_nil();
        if (r->t->strict)
            return cr__trender_fail(r, CR_ENOTFOUND, e->file, e->line, e->col,
                                   "undefined variable '%.*s'", (int)(n > 200 ? 200 : n), name);
    }
    for (uint32_t i = 0; i < e->nsteps; i++)
        if ((rc = lookup(r, e, &e->steps[i], out)))
            return rc;
    return 0;
}

/* Range bounds: nil and strings by to_i, other values by Integer(). */
static int range_bound(struct trender *r, const struct texpr *e, int64_t *out)
{
    struct tval v;
    int rc;
    if ((rc = eval(r, e, &v)))
        return rc;
    if (v.kind == TV_NIL) {
        *out = 0;
        return 0;
    }
    if (v.kind == TV_STR) {
        *out = cr__tstr_to_i(v.u.s.p, v.u.s.n);
        return 0;
    }
    return to_integer(r, &v, e->file, e->line, e->col, out);
}

static int eval(struct trender *r, const struct texpr *e, struct tval *out)
{
    int rc;
    switch (e->kind) {
    case X_LIT:
        *out = e->lit;
        return 0;
    case X_VAR:
        return eval_var(r, e, out);
    default:
        out->kind = TV_RANGE;
        if ((rc = range_bound(r, e->lo, &out->u.r.lo)) || (rc = range_bound(r, e->hi, &out->u.r.hi)))
            return rc;
        return 0;
    }
}

static int eval_chain(struct trender *r, const struct tchain *c, struct tval *out)
{
    struct tval args[T_MAX_ARGS], kw[8];
    int rc;
    if ((rc = eval(r, c->e, out)))
        return rc;
    for (uint32_t i = 0; i < c->nf; i++) {
        const struct tfilter *f = &c->f[i];
        if ((rc = step(r, f->file, f->line, f->col)))
            return rc;
        if (!f->def)
            continue; /* lax: an unknown filter passes its input through */
        for (uint32_t a = 0; a < f->nargs; a++)
            if ((rc = eval(r, &f->args[a], &args[a])))
                return rc;
        for (uint32_t k = 0; k < f->nkw && k < 8; k++)
            if ((rc = eval(r, f->kw[k].e, &kw[k])))
                return rc;
        if ((rc = f->def->fn(r, f, out, args, kw)))
            return rc;
    }
    return 0;
}

/* ================================================================ conditions === */

static int compare(struct trender *r, const struct tcond *c, const struct tval *a,
                   const struct tval *b, int *res)
{
    int anum = a->kind == TV_INT || a->kind == TV_FLOAT;
    int bnum = b->kind == TV_INT || b->kind == TV_FLOAT;
    int cmp;
    if (anum && bnum) {
        if (a->kind == TV_INT && b->kind == TV_INT) {
            cmp = a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
        } else {
            double x = a->kind == TV_INT ? (double)a->u.i : a->u.f;
            double y = b->kind == TV_INT ? (double)b->u.i : b->u.f;
            if (isnan(x) || isnan(y)) {
                *res = 0;
                return 0;
            }
            cmp = x < y ? -1 : x > y;
        }
    } else if (a->kind == TV_STR && b->kind == TV_STR) {
        size_t n = a->u.s.n < b->u.s.n ? a->u.s.n : b->u.s.n;
        cmp = n ? memcmp(a->u.s.p, b->u.s.p, n) : 0;
        if (!cmp)
            cmp = a->u.s.n < b->u.s.n ? -1 : a->u.s.n > b->u.s.n;
    } else if ((anum || a->kind == TV_STR) && (bnum || b->kind == TV_STR)) {
        return cr__trender_fail(r, CR_EINVAL, c->l->file, c->line, c->col,
                               "comparison of %s with %s failed", cr__tv_kind_name(a),
                               cr__tv_kind_name(b));
    } else {
        *res = 0; /* nil, booleans, arrays, hashes: no order */
        return 0;
    }
    switch (c->op) {
    case C_LT:
        *res = cmp < 0;
        break;
    case C_GT:
        *res = cmp > 0;
        break;
    case C_LE:
        *res = cmp <= 0;
        break;
    default:
        *res = cmp >= 0;
        break;
    }
    return 0;
}

static int contains(struct trender *r, const struct tval *a, const struct tval *b)
{
    if (!cr__tv_truthy(a) || !cr__tv_truthy(b))
        return 0;
    if (a->kind == TV_STR) {
        const char *needle;
        size_t nn;
        if (b->kind == TV_STR) {
            needle = b->u.s.p;
            nn = b->u.s.n;
        } else {
            cr_buf_reset(r->sb);
            cr__tv_write(r->sb, b);
            needle = r->sb->data;
            nn = r->sb->len;
        }
        if (nn == 0)
            return 1;
        if (nn > a->u.s.n)
            return 0;
        for (size_t i = 0; i + nn <= a->u.s.n; i++)
            if (a->u.s.p[i] == needle[0] && memcmp(a->u.s.p + i, needle, nn) == 0)
                return 1;
        return 0;
    }
    if (a->kind == TV_RANGE) {
        double x;
        if (b->kind == TV_INT)
            return b->u.i >= a->u.r.lo && b->u.i <= a->u.r.hi;
        if (b->kind != TV_FLOAT)
            return 0;
        x = b->u.f;
        return x >= (double)a->u.r.lo && x <= (double)a->u.r.hi;
    }
    if (cr__tv_is_array(a)) {
        size_t n = cr__tv_len(a);
        for (size_t i = 0; i < n; i++) {
            struct tval e = cr__tv_index(a, i);
            if (cr__tv_equal(&e, b))
                return 1;
        }
        return 0;
    }
    if (cr__tv_is_hash(a) && b->kind == TV_STR) {
        struct tval m;
        return cr__tv_member(a, b->u.s.p, b->u.s.n, cr__thash(b->u.s.p, b->u.s.n), &m);
    }
    return 0;
}

static int eval_cond(struct trender *r, const struct tcond *c, int *res)
{
    int rc;
    for (; c; c = c->next) {
        struct tval a, b;
        int t = 0;
        if ((rc = eval(r, c->l, &a)))
            return rc;
        if (c->op == C_NONE) {
            t = cr__tv_truthy(&a);
        } else {
            if ((rc = eval(r, c->r, &b)))
                return rc;
            switch (c->op) {
            case C_EQ:
                t = cr__tv_equal(&a, &b);
                break;
            case C_NE:
                t = !cr__tv_equal(&a, &b);
                break;
            case C_CONTAINS:
                t = contains(r, &a, &b);
                break;
            default:
                if ((rc = compare(r, c, &a, &b, &t)))
                    return rc;
                break;
            }
        }
        *res = t;
        if (c->join == J_OR && t)
            return 0;
        if (c->join == J_AND && !t)
            return 0;
        if (c->join == J_NONE)
            return 0;
    }
    return 0;
}

/* ===================================================================== nodes === */

static int render_block(struct trender *r, const struct tblock *b);

static int render_if(struct trender *r, const struct tnode *n)
{
    for (uint32_t i = 0; i < n->u.ifs.n; i++) {
        const struct tbranch *b = &n->u.ifs.v[i];
        int t = 1, rc;
        if (b->cond) {
            if ((rc = eval_cond(r, b->cond, &t)))
                return rc;
            if (b->negate)
                t = !t;
        }
        if (t)
            return render_block(r, &b->body);
    }
    return 0;
}

static int render_case(struct trender *r, const struct tnode *n)
{
    struct tval subject;
    int else_ok = 1, rc;
    if ((rc = eval(r, n->u.cas.subject, &subject)))
        return rc;
    for (uint32_t i = 0; i < n->u.cas.n; i++) {
        const struct twhen *w = &n->u.cas.v[i];
        if (!w->value) {
            if (else_ok && (rc = render_block(r, w->body)))
                return rc;
        } else {
            struct tval v;
            if ((rc = eval(r, w->value, &v)))
                return rc;
            if (cr__tv_equal(&v, &subject)) {
                else_ok = 0;
                if ((rc = render_block(r, w->body)))
                    return rc;
            }
        }
        if (r->interrupt)
            return 0;
    }
    return 0;
}

/* A hash's entries as [key, value] pairs (for loops over hashes). */
static int hash_pairs(struct trender *r, const struct tval *h, struct tval *out)
{
    size_t n = cr__tv_len(h), i = 0;
    struct tarr *a = cr__trender_alloc(r, sizeof *a + n * (sizeof(struct tval) + sizeof(struct tarr) +
                                                          2 * sizeof(struct tval)));
    struct thiter it;
    struct tval k, v;
    char *mem;
    if (!a)
        return CR_ETOOBIG;
    a->v = (struct tval *)(a + 1);
    mem = (char *)(a->v + n);
    cr__tv_hash_iter(&it, h);
    while (i < n && cr__tv_hash_next(&it, &k, &v)) {
        struct tarr *pair = (struct tarr *)mem;
        mem += sizeof *pair + 2 * sizeof(struct tval);
        pair->n = 2;
        pair->v = (struct tval *)(pair + 1);
        pair->v[0] = k;
        pair->v[1] = v;
        a->v[i].kind = TV_ARR;
        a->v[i].u.a = pair;
        i++;
    }
    a->n = i;
    out->kind = TV_ARR;
    out->u.a = a;
    return 0;
}

static int render_for(struct trender *r, const struct tnode *n)
{
    const struct tfor *f = n->u.loop;
    struct tval coll, lim;
    int64_t from = 0, to = INT64_MAX, len, start, count;
    struct tslot *var = &r->slots[f->var], *fl = &r->slots[r->t->forloop];
    struct tslot saved_var = *var, saved_fl = *fl;
    struct tloop *loop;
    const struct tloop *saved_loop = r->loop;
    int single = 0, rc = 0;
    if ((rc = eval(r, f->coll, &coll)))
        return rc;
    if (f->offset_continue) {
        from = r->regs[f->reg];
    } else if (f->offset) {
        struct tval ov;
        if ((rc = eval(r, f->offset, &ov)))
            return rc;
        if (ov.kind != TV_NIL &&
            (rc = to_integer(r, &ov, f->offset->file, f->offset->line, f->offset->col, &from)))
            return rc;
    }
    if (f->limit) {
        int64_t l;
        if ((rc = eval(r, f->limit, &lim)))
            return rc;
        if (lim.kind != TV_NIL) {
            if ((rc = to_integer(r, &lim, f->limit->file, f->limit->line, f->limit->col, &l)))
                return rc;
            to = (l > 0 && from > INT64_MAX - l) ? INT64_MAX : (l < 0 && from < INT64_MIN - l) ? INT64_MIN : from + l;
        }
    }
    if (cr__tv_is_hash(&coll) && (rc = hash_pairs(r, &coll, &coll)))
        return rc;
    if (coll.kind == TV_STR) {
        /* Liquid iterates a string once, whole, whatever the offset and limit. */
        len = coll.u.s.n ? 1 : 0;
        start = 0;
        count = len;
        single = 1;
    } else if (cr__tv_is_array(&coll)) {
        len = (int64_t)cr__tv_len(&coll);
        start = from > 0 ? from : 0;
        if (start > len)
            start = len;
        count = (to < len ? to : len) - start;
        if (count < 0)
            count = 0;
    } else {
        len = count = start = 0;
    }
    r->regs[f->reg] = from + count;
    if (count == 0)
        return render_block(r, &f->els);
    loop = cr__trender_alloc(r, sizeof *loop);
    if (!loop)
        return CR_ETOOBIG;
    loop->length = count;
    loop->name = f->name;
    loop->namelen = f->namelen;
    loop->parent = r->loop;
    r->loop = loop;
    fl->has_shadow = 1;
    fl->shadow.kind = TV_LOOP;
    fl->shadow.u.loop = loop;
    var->has_shadow = 1;
    for (int64_t i = 0; i < count; i++) {
        int64_t at = f->reversed ? start + count - 1 - i : start + i;
        if ((rc = step(r, n->file, n->line, n->col)))
            break;
        loop->index0 = i;
        var->shadow = single ? coll : cr__tv_index(&coll, (size_t)at);
        /* The body may have run a nested loop that saved and restored these slots. */
        fl->has_shadow = 1;
        fl->shadow.kind = TV_LOOP;
        fl->shadow.u.loop = loop;
        if ((rc = render_block(r, &f->body)))
            break;
        if (r->interrupt == N_BREAK) {
            r->interrupt = 0;
            break;
        }
        r->interrupt = 0;
    }
    var->shadow = saved_var.shadow;
    var->has_shadow = saved_var.has_shadow;
    fl->shadow = saved_fl.shadow;
    fl->has_shadow = saved_fl.has_shadow;
    r->loop = saved_loop;
    return rc;
}

static int render_capture(struct trender *r, const struct tnode *n)
{
    size_t mark = r->out->len;
    struct tslot *s = &r->slots[n->u.capture.slot];
    char *p;
    int rc;
    if ((rc = render_block(r, &n->u.capture.body)))
        return rc;
    if (r->out->err)
        return 0; /* reported by the caller */
    p = cr__trender_alloc(r, r->out->len - mark + 1);
    if (!p)
        return CR_ETOOBIG;
    memcpy(p, r->out->data + mark, r->out->len - mark);
    p[r->out->len - mark] = '\0';
    s->root = tv_str(p, r->out->len - mark);
    s->has_root = 1;
    cr_buf_truncate(r->out, mark);
    return 0;
}

static int render_cycle(struct trender *r, const struct tnode *n)
{
    const struct tcycle *c = n->u.cycle;
    const char *key = c->ident;
    size_t keylen = c->identlen, i;
    struct tcycle_state *st = NULL;
    struct tval v;
    int rc;
    if (c->group) {
        struct tval g;
        if ((rc = eval(r, c->group, &g)))
            return rc;
        cr_buf_reset(r->sb);
        cr_buf_putc(r->sb, '\x1e'); /* named groups never meet unnamed identities */
        cr__tv_write(r->sb, &g);
        if ((rc = cr__trender_sb_val(r, NULL, &g)))
            return rc;
        key = g.u.s.p;
        keylen = g.u.s.n;
    }
    for (i = 0; i < r->ncycles; i++) {
        if (r->cycles[i].keylen == keylen && memcmp(r->cycles[i].key, key, keylen) == 0) {
            st = &r->cycles[i];
            break;
        }
    }
    if (!st) {
        if (r->ncycles == r->cyclecap) {
            size_t cap = r->cyclecap ? r->cyclecap * 2 : 8;
            struct tcycle_state *nc = cr__trender_alloc(r, cap * sizeof *nc);
            if (!nc)
                return CR_ETOOBIG;
            if (r->ncycles)
                memcpy(nc, r->cycles, r->ncycles * sizeof *nc);
            r->cycles = nc;
            r->cyclecap = cap;
        }
        st = &r->cycles[r->ncycles++];
        st->key = key;
        st->keylen = keylen;
        st->pos = 0;
    }
    if ((rc = eval(r, &c->values[st->pos], &v)))
        return rc;
    cr__tv_write(r->out, &v);
    st->pos = (st->pos + 1) % c->nvalues;
    return 0;
}

static int render_snippet_isolated(struct trender *r, const struct tnode *n,
                                   const struct tval *args, const struct tval *var,
                                   struct tloop *loop)
{
    const struct tcall *c = n->u.call;
    struct tslot *saved = r->slots, *fresh;
    const struct tloop *saved_loop = r->loop;
    int rc;
    fresh = cr__trender_alloc(r, r->t->nnames * sizeof *fresh);
    if (!fresh)
        return CR_ETOOBIG;
    memset(fresh, 0, r->t->nnames * sizeof *fresh);
    if (loop) {
        fresh[r->t->forloop].has_root = 1;
        fresh[r->t->forloop].root.kind = TV_LOOP;
        fresh[r->t->forloop].root.u.loop = loop;
    }
    for (uint32_t i = 0; i < c->nargs; i++) {
        fresh[c->args[i].slot].root = args[i];
        fresh[c->args[i].slot].has_root = 1;
    }
    if (var && var->kind != TV_NIL) {
        fresh[c->alias].root = *var;
        fresh[c->alias].has_root = 1;
    }
    r->slots = fresh;
    r->loop = NULL;
    rc = render_block(r, &r->t->snippets[c->snippet].body);
    r->slots = saved;
    r->loop = saved_loop;
    r->interrupt = 0; /* a break inside a rendered snippet stays there */
    return rc;
}

static int render_call(struct trender *r, const struct tnode *n)
{
    const struct tcall *c = n->u.call;
    struct tval val = tv_nil(), *args = NULL;
    int rc;
    if (c->nargs) {
        args = cr__trender_alloc(r, c->nargs * sizeof *args);
        if (!args)
            return CR_ETOOBIG;
        for (uint32_t i = 0; i < c->nargs; i++)
            if ((rc = eval(r, c->args[i].e, &args[i])))
                return rc;
    }
    if (c->with && (rc = eval(r, c->with, &val)))
        return rc;
    if (c->isolated) {
        if (c->mode == 'f' && (cr__tv_is_array(&val) || cr__tv_is_hash(&val))) {
            struct tloop *loop = cr__trender_alloc(r, sizeof *loop);
            size_t len;
            if (!loop)
                return CR_ETOOBIG;
            if (cr__tv_is_hash(&val) && (rc = hash_pairs(r, &val, &val)))
                return rc;
            len = cr__tv_len(&val);
            memset(loop, 0, sizeof *loop);
            loop->length = (int64_t)len;
            loop->name = c->name;
            loop->namelen = c->namelen;
            for (size_t i = 0; i < len; i++) {
                struct tval item = cr__tv_index(&val, i);
                if ((rc = step(r, n->file, n->line, n->col)))
                    return rc;
                loop->index0 = (int64_t)i;
                if ((rc = render_snippet_isolated(r, n, args, &item, loop)))
                    return rc;
            }
            return 0;
        }
        return render_snippet_isolated(r, n, args, c->mode ? &val : NULL, NULL);
    }
    /* include: the caller's scope, with parameters shadowing for the snippet's time. */
    {
        struct tslot *saved = cr__trender_alloc(r, (c->nargs + 1) * sizeof *saved);
        if (!saved)
            return CR_ETOOBIG;
        if (!c->mode && !find_var(r, c->self, c->name, c->namelen, cr__thash(c->name, c->namelen),
                                  &val))
            val = tv_nil(); /* Liquid looks the snippet's own name up without complaint */
        for (uint32_t i = 0; i < c->nargs; i++)
            saved[i] = r->slots[c->args[i].slot];
        saved[c->nargs] = r->slots[c->alias];
        for (uint32_t i = 0; i < c->nargs; i++) {
            r->slots[c->args[i].slot].shadow = args[i];
            r->slots[c->args[i].slot].has_shadow = 1;
        }
        r->slots[c->alias].has_shadow = 1;
        rc = 0;
        if (val.kind == TV_ARR || (val.kind == TV_JSON && json_is_array(val.u.j))) {
            size_t len = cr__tv_len(&val);
            for (size_t i = 0; i < len && !rc && !r->interrupt; i++) {
                r->slots[c->alias].shadow = cr__tv_index(&val, i);
                r->slots[c->alias].has_shadow = 1;
                if (!(rc = step(r, n->file, n->line, n->col)))
                    rc = render_block(r, &r->t->snippets[c->snippet].body);
            }
        } else {
            r->slots[c->alias].shadow = val;
            rc = render_block(r, &r->t->snippets[c->snippet].body);
        }
        /* Restore the shadows only: assigns made by the snippet stay, as in Liquid. */
        for (uint32_t i = c->nargs + 1; i-- > 0;) {
            uint32_t s = i == c->nargs ? c->alias : c->args[i].slot;
            r->slots[s].shadow = saved[i].shadow;
            r->slots[s].has_shadow = saved[i].has_shadow;
        }
        return rc;
    }
}

static int render_node(struct trender *r, const struct tnode *n)
{
    struct tval v;
    struct tslot *s;
    int rc;
    switch (n->kind) {
    case N_TEXT:
        cr_buf_append(r->out, n->u.text.p, n->u.text.n);
        return 0;
    case N_OUTPUT:
        if ((rc = eval_chain(r, &n->u.out, &v)))
            return rc;
        cr__tv_write(r->out, &v);
        return 0;
    case N_IF:
        return render_if(r, n);
    case N_CASE:
        return render_case(r, n);
    case N_FOR:
        return render_for(r, n);
    case N_ASSIGN:
        if ((rc = eval_chain(r, &n->u.assign.val, &v)))
            return rc;
        s = &r->slots[n->u.assign.slot];
        s->root = v;
        s->has_root = 1;
        return 0;
    case N_CAPTURE:
        return render_capture(r, n);
    case N_INCREMENT:
    case N_DECREMENT:
        s = &r->slots[n->u.counter.slot];
        if (!s->has_counter) {
            s->has_counter = 1;
            s->counter = 0;
        }
        if (n->kind == N_DECREMENT)
            s->counter--;
        cr_buf_printf(r->out, "%lld", (long long)s->counter);
        if (n->kind == N_INCREMENT)
            s->counter++;
        return 0;
    case N_CYCLE:
        return render_cycle(r, n);
    case N_RENDER:
        return render_call(r, n);
    case N_BREAK:
    case N_CONTINUE:
        r->interrupt = n->kind;
        return 0;
    }
    return 0;
}

static int render_block(struct trender *r, const struct tblock *b)
{
    int rc = 0;
    if (++r->depth > r->t->max_depth) {
        rc = cr__trender_fail(r, CR_ETOOBIG, b->n ? b->v[0].file : NULL, b->n ? b->v[0].line : 0,
                             b->n ? b->v[0].col : 0, "nesting too deep (more than %u levels)",
                             r->t->max_depth);
        r->depth--;
        return rc;
    }
    for (uint32_t i = 0; i < b->n; i++) {
        const struct tnode *n = &b->v[i];
        if ((rc = step(r, n->file, n->line, n->col)))
            break;
        if ((rc = render_node(r, n)))
            break;
        if (r->out->err || r->interrupt)
            break;
    }
    r->depth--;
    return rc;
}

int cr_template_render(const struct cr_template *t, struct cr_tvars *v, struct cr_buf *out,
                       struct cr_err *err)
{
    struct trender r;
    size_t slots = t->nnames * sizeof(struct tslot), regs = t->nregs * sizeof(int64_t);
    char *scratch;
    int rc;
    memset(&r, 0, sizeof r);
    r.t = t;
    r.vars = v;
    r.out = out;
    r.err = err;
    r.ar = cr__tvars_arena(v, t->max_scratch);
    r.sb = cr__tvars_sb(v);
    r.sb->max = t->max_scratch;
    cr_buf_reset(r.sb);
    scratch = cr__tvars_scratch(v, slots + regs);
    r.slots = (struct tslot *)scratch;
    r.regs = (int64_t *)(scratch + slots);
    rc = render_block(&r, &t->root);
    if (!rc && out->err) {
        if (out->err == CR_ETOOBIG)
            return cr_err_set(err, CR_ETOOBIG, "output exceeds %zu bytes", out->max);
        return cr_err_set(err, out->err, "%s", cr_strerror(out->err));
    }
    if (rc && err && !err->code)
        cr_err_set(err, rc, "%s", cr_strerror(rc));
    return rc;
}
