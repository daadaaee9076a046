/*
 * parse.c - tokens to the program's nodes: tags, expressions, filter chains, snippets
 *
 * A hand-written recursive-descent parser over the two lexers of lex.c. Each tag has one
 * function, headed by its grammar; block tags parse their bodies with parse_block(), which
 * bounds nesting (CR_ETOOBIG). Variable names are interned into program-wide slots so the
 * renderer finds locals by index; snippets named by render/include are loaded through the
 * caller's loader and compiled once into the same program. Everything is allocated in the
 * program's arena, so an error path frees nothing by hand.
 * Not here: evaluation (render.c), the filters themselves (filter*.c).
 *
 * Spec: Shopify Liquid's strict parser (Liquid::Parser, the tags' strict_parse), with the
 * blank-body rule: a block whose bodies hold only whitespace and silent tags (assign,
 * capture, comments) drops that whitespace, as Liquid's remove_blank_strings does.
 */
#include "template/template_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

/* ============================================================= compile state === */

struct interner {
    struct tname *v;
    uint32_t n, cap;
    uint32_t *idx; /* open addressing: index + 1 */
    size_t isize;
};

struct pstate {
    struct cr_template *t;
    const struct cr_template_opts *opts;
    struct cr_err *err;
    unsigned depth, max_depth;
    size_t max_source;
    struct interner names, regs;
    struct tsnippet *snips;
    uint32_t nsnips, capsnips;
    struct cr_buf load;
};

struct pctx {
    struct pstate *ps;
    struct tlexer lx;
    const char *file;    /* snippet name, NULL for the main template */
    const char *endname; /* how the end of a markup is called in messages */
};

/* A growable array in the arena: growth abandons the old copy (at most doubles use). */
struct nvec {
    struct tnode *v;
    uint32_t n, cap;
    int blank;
};

static void *palloc(struct pstate *ps, size_t n)
{
    void *p = cr__tarena_alloc(&ps->t->ar, n);
    memset(p, 0, n); /* the program arena has no limit: never NULL */
    return p;
}

static void *pgrow(struct pstate *ps, void *old, uint32_t n, uint32_t *cap, size_t elsize)
{
    void *p;
    if (n < *cap)
        return old;
    *cap = *cap ? *cap * 2 : 4;
    p = palloc(ps, (size_t)*cap * elsize);
    if (n)
        memcpy(p, old, (size_t)n * elsize);
    return p;
}

static uint32_t intern(struct interner *in, const char *p, size_t n)
{
    uint32_t h = cr__thash(p, n);
    size_t s;
    if (in->isize) {
        for (s = h & (in->isize - 1); in->idx[s]; s = (s + 1) & (in->isize - 1)) {
            struct tname *e = &in->v[in->idx[s] - 1];
            if (e->hash == h && e->n == n && memcmp(e->p, p, n) == 0)
                return in->idx[s] - 1;
        }
    }
    if (in->n == in->cap) {
        in->cap = in->cap ? in->cap * 2 : 16;
        in->v = cr_xrealloc(in->v, in->cap * sizeof *in->v);
    }
    in->v[in->n].p = p;
    in->v[in->n].n = (uint32_t)n;
    in->v[in->n].hash = h;
    in->n++;
    if (in->n * 2 > in->isize) {
        free(in->idx);
        in->isize = in->isize ? in->isize * 2 : 32;
        while (in->isize < in->n * 2)
            in->isize *= 2;
        in->idx = cr_xcalloc(in->isize, sizeof *in->idx);
        for (uint32_t i = 0; i < in->n; i++) {
            for (s = in->v[i].hash & (in->isize - 1); in->idx[s]; s = (s + 1) & (in->isize - 1))
                ;
            in->idx[s] = i + 1;
        }
    } else {
        for (s = h & (in->isize - 1); in->idx[s]; s = (s + 1) & (in->isize - 1))
            ;
        in->idx[s] = in->n;
    }
    return in->n - 1;
}

/* ==================================================================== errors === */

static int perr(struct pctx *pc, int code, int line, int col, const char *hint, const char *what)
{
    return cr__terrf(pc->ps->err, code, pc->file, line, col, hint, "%s", what);
}

/* "<what> expected (found <token>)" at the current token. */
static int m_fail(struct pctx *pc, struct mlex *m, const char *what)
{
    char found[96];
    const struct mtoken *t = &m->cur;
    if (t->k == M_END)
        snprintf(found, sizeof found, "found %s", pc->endname);
    else if (t->k == M_STR)
        snprintf(found, sizeof found, "found string '%.*s'", t->n > 40 ? 40 : (int)t->n, t->p);
    else
        snprintf(found, sizeof found, "found '%.*s'", t->n > 40 ? 40 : (int)t->n, t->p);
    return cr__terrf(pc->ps->err, CR_ESYNTAX, pc->file, t->line, t->col, found, "%s expected",
                    what);
}

static int m_begin(struct pctx *pc, struct mlex *m, const struct ttoken *tok)
{
    cr__tmlex_init(m, tok->p, tok->n, tok->mline, tok->mcol, pc->ps->err);
    m->file = pc->file;
    return cr__tmlex_next(m);
}

static int m_next(struct mlex *m)
{
    return cr__tmlex_next(m);
}

static int m_end(struct pctx *pc, struct mlex *m)
{
    if (m->cur.k != M_END)
        return m_fail(pc, m, pc->endname);
    return 0;
}

static int m_is_id(const struct mlex *m, const char *word)
{
    return m->cur.k == M_ID && m->cur.n == strlen(word) && memcmp(m->cur.p, word, m->cur.n) == 0;
}

static int enter(struct pctx *pc, int line, int col)
{
    if (++pc->ps->depth > pc->ps->max_depth) {
        char hint[64];
        snprintf(hint, sizeof hint, "more than %u levels", pc->ps->max_depth);
        return perr(pc, CR_ETOOBIG, line, col, hint, "nesting too deep");
    }
    return 0;
}

static void leave(struct pctx *pc)
{
    pc->ps->depth--;
}

/* =============================================================== expressions === */

static struct texpr *new_expr(struct pctx *pc, int kind, int line, int col)
{
    struct texpr *e = palloc(pc->ps, sizeof *e);
    e->kind = (uint8_t)kind;
    e->line = line;
    e->col = col;
    e->file = pc->file;
    e->slot = UINT32_MAX;
    return e;
}

static int p_expr(struct pctx *pc, struct mlex *m, struct texpr **out);

/* Ruby's to_i on a literal range bound. */
static int64_t lit_to_i(const struct tval *v)
{
    if (v->kind == TV_INT)
        return v->u.i;
    if (v->kind == TV_FLOAT)
        return v->u.f >= 9.2e18 ? INT64_MAX : v->u.f <= -9.2e18 ? INT64_MIN : (int64_t)v->u.f;
    if (v->kind == TV_STR)
        return cr__tstr_to_i(v->u.s.p, v->u.s.n);
    return 0;
}

/* steps -> { '.' id | '[' expression ']' } */
static int p_steps(struct pctx *pc, struct mlex *m, struct texpr *e, const char **endp)
{
    uint32_t cap = 0;
    int rc;
    while (m->cur.k == M_DOT || m->cur.k == M_LBR) {
        struct tstep *st;
        e->steps = pgrow(pc->ps, e->steps, e->nsteps, &cap, sizeof *e->steps);
        st = &e->steps[e->nsteps];
        memset(st, 0, sizeof *st);
        if (m->cur.k == M_DOT) {
            if ((rc = m_next(m)))
                return rc;
            if (m->cur.k != M_ID)
                return m_fail(pc, m, "name");
            st->key = tv_str(m->cur.p, m->cur.n);
            st->hash = cr__thash(m->cur.p, m->cur.n);
            st->command = 1;
            *endp = m->cur.p + m->cur.n;
            if ((rc = m_next(m)))
                return rc;
        } else {
            struct texpr *k;
            if ((rc = m_next(m)) || (rc = p_expr(pc, m, &k)))
                return rc;
            if (m->cur.k != M_RBR)
                return m_fail(pc, m, "']'");
            *endp = m->cur.p + 1;
            if ((rc = m_next(m)))
                return rc;
            if (k->kind == X_LIT && (k->lit.kind == TV_STR || k->lit.kind == TV_INT)) {
                st->key = k->lit;
                if (k->lit.kind == TV_STR)
                    st->hash = cr__thash(k->lit.u.s.p, k->lit.u.s.n);
            } else {
                st->e = k;
            }
        }
        st->srcend = (uint32_t)(*endp - e->src);
        e->nsteps++;
    }
    return 0;
}

/*
 * expression -> string | number | '(' expression '..' expression ')'
 *             | (id | '[' expression ']') steps
 * The names true, false, nil, null, empty and blank are literals when no step follows.
 */
static int p_expr(struct pctx *pc, struct mlex *m, struct texpr **out)
{
    struct mtoken t = m->cur;
    struct texpr *e;
    const char *endp;
    int rc;
    if ((rc = enter(pc, t.line, t.col)))
        return rc;
    switch (t.k) {
    case M_STR:
        e = new_expr(pc, X_LIT, t.line, t.col);
        e->lit = tv_str(t.p, t.n);
        rc = m_next(m);
        break;
    case M_INT:
        e = new_expr(pc, X_LIT, t.line, t.col);
        e->lit = tv_int(t.i);
        rc = m_next(m);
        break;
    case M_FLOAT:
        e = new_expr(pc, X_LIT, t.line, t.col);
        e->lit = tv_float(t.f);
        rc = m_next(m);
        break;
    case M_LP:
        e = new_expr(pc, X_RANGE, t.line, t.col);
        if ((rc = m_next(m)) || (rc = p_expr(pc, m, &e->lo)))
            break;
        if (m->cur.k != M_DOTDOT) {
            rc = m_fail(pc, m, "'..'");
            break;
        }
        if ((rc = m_next(m)) || (rc = p_expr(pc, m, &e->hi)))
            break;
        if (m->cur.k != M_RP) {
            rc = m_fail(pc, m, "')'");
            break;
        }
        if ((rc = m_next(m)))
            break;
        if (e->lo->kind == X_LIT && e->hi->kind == X_LIT) {
            struct tval r;
            r.kind = TV_RANGE;
            r.u.r.lo = lit_to_i(&e->lo->lit);
            r.u.r.hi = lit_to_i(&e->hi->lit);
            e->kind = X_LIT;
            e->lit = r;
        }
        break;
    case M_ID:
    case M_LBR:
        e = new_expr(pc, X_VAR, t.line, t.col);
        e->src = t.p;
        if (t.k == M_ID) {
            static const char *const lits[] = {"true", "false", "nil", "null", "empty", "blank"};
            if ((rc = m_next(m)))
                break;
            if (m->cur.k != M_DOT && m->cur.k != M_LBR) {
                for (size_t i = 0; i < sizeof lits / sizeof *lits; i++) {
                    if (t.n == strlen(lits[i]) && memcmp(t.p, lits[i], t.n) == 0) {
                        e->kind = X_LIT;
                        e->lit = i == 0   ? tv_bool(1)
                                 : i == 1 ? tv_bool(0)
                                 : i < 4  ? tv_nil()
                                          : tv_nil();
                        if (i == 4)
                            e->lit.kind = TV_EMPTY;
                        if (i == 5)
                            e->lit.kind = TV_BLANK;
                        break;
                    }
                }
                if (e->kind == X_LIT)
                    break;
            }
            e->name = t.p;
            e->namelen = (uint32_t)t.n;
            endp = t.p + t.n;
        } else {
            struct texpr *k;
            if ((rc = m_next(m)) || (rc = p_expr(pc, m, &k)))
                break;
            if (m->cur.k != M_RBR) {
                rc = m_fail(pc, m, "']'");
                break;
            }
            endp = m->cur.p + 1;
            if ((rc = m_next(m)))
                break;
            if (k->kind == X_LIT && k->lit.kind == TV_STR) {
                e->name = k->lit.u.s.p;
                e->namelen = (uint32_t)k->lit.u.s.n;
            } else {
                e->dyn = k;
            }
        }
        if (!e->dyn) {
            e->hash = cr__thash(e->name, e->namelen);
            e->slot = intern(&pc->ps->names, e->name, e->namelen);
        }
        rc = p_steps(pc, m, e, &endp);
        e->srclen = (uint32_t)(endp - e->src);
        break;
    default:
        rc = m_fail(pc, m, "a value");
        e = NULL;
        break;
    }
    leave(pc);
    *out = e;
    return rc;
}

/* ================================================================== filters === */

/* argument -> [id ':'] expression */
static int p_filter_args(struct pctx *pc, struct mlex *m, struct tfilter *f)
{
    uint32_t capa = 0, capk = 0, na = 0, nk = 0;
    int rc;
    for (;;) {
        struct mtoken peek;
        if (m->cur.k == M_ID && cr__tmlex_peek(m, &peek) == 0 && peek.k == M_COLON) {
            struct tkwarg *kw;
            f->kw = pgrow(pc->ps, f->kw, nk, &capk, sizeof *f->kw);
            kw = &f->kw[nk++];
            kw->name = m->cur.p;
            kw->namelen = (uint32_t)m->cur.n;
            if ((rc = m_next(m)) || (rc = m_next(m)) || (rc = p_expr(pc, m, &kw->e)))
                return rc;
        } else {
            struct texpr *a;
            if ((rc = p_expr(pc, m, &a)))
                return rc;
            if (na >= T_MAX_ARGS)
                return perr(pc, CR_ESYNTAX, a->line, a->col, NULL, "too many filter arguments");
            f->args = pgrow(pc->ps, f->args, na, &capa, sizeof *f->args);
            f->args[na++] = *a;
        }
        if (m->cur.k != M_COMMA)
            break;
        if ((rc = m_next(m)))
            return rc;
    }
    f->nargs = (uint8_t)na;
    f->nkw = (uint8_t)(nk > 255 ? 255 : nk);
    return 0;
}

static int check_filter(struct pctx *pc, struct tfilter *f)
{
    char what[160], hint[64];
    unsigned given;
    f->def = cr__tfilter_find(f->name, f->namelen);
    if (f->namelen == 4 && memcmp(f->name, "date", 4) == 0)
        pc->ps->t->uses_clock = 1;
    if (!f->def) {
        if (!pc->ps->opts->strict)
            return 0;
        snprintf(what, sizeof what, "unknown filter '%.*s'", (int)f->namelen, f->name);
        return perr(pc, CR_ESYNTAX, f->line, f->col, NULL, what);
    }
    if (f->nkw && !f->def->kw) {
        snprintf(what, sizeof what, "filter '%s' takes no keyword argument", f->def->name);
        snprintf(hint, sizeof hint, "'%.*s:' given", (int)(f->kw[0].namelen > 40 ? 40 : f->kw[0].namelen),
                 f->kw[0].name);
        return perr(pc, CR_ESYNTAX, f->line, f->col, hint, what);
    }
    given = f->nargs;
    if (given < f->def->min || given > f->def->max) {
        snprintf(what, sizeof what, "wrong number of arguments for filter '%s'", f->def->name);
        if (f->def->min == f->def->max)
            snprintf(hint, sizeof hint, "given %u, expected %u", given, f->def->min);
        else
            snprintf(hint, sizeof hint, "given %u, expected %u..%u", given, f->def->min,
                     f->def->max);
        return perr(pc, CR_ESYNTAX, f->line, f->col, hint, what);
    }
    return 0;
}

/* chain -> expression { '|' id [':' argument { ',' argument }] } */
static int p_chain(struct pctx *pc, struct mlex *m, struct tchain *out)
{
    uint32_t cap = 0;
    int rc;
    memset(out, 0, sizeof *out);
    if ((rc = p_expr(pc, m, &out->e)))
        return rc;
    while (m->cur.k == M_PIPE) {
        struct tfilter *f;
        if ((rc = m_next(m)))
            return rc;
        if (m->cur.k != M_ID)
            return m_fail(pc, m, "filter name");
        out->f = pgrow(pc->ps, out->f, out->nf, &cap, sizeof *out->f);
        f = &out->f[out->nf++];
        memset(f, 0, sizeof *f);
        f->name = m->cur.p;
        f->namelen = (uint32_t)m->cur.n;
        f->line = m->cur.line;
        f->col = m->cur.col;
        f->file = pc->file;
        if ((rc = m_next(m)))
            return rc;
        if (m->cur.k == M_COLON) {
            if ((rc = m_next(m)) || (rc = p_filter_args(pc, m, f)))
                return rc;
        }
        if ((rc = check_filter(pc, f)))
            return rc;
    }
    return 0;
}

/* condition -> expression [comparison expression] { ('and' | 'or') condition } */
static int p_cond(struct pctx *pc, struct mlex *m, struct tcond **out)
{
    struct tcond *first = NULL, **link = &first;
    int rc;
    for (;;) {
        struct tcond *c = palloc(pc->ps, sizeof *c);
        c->line = m->cur.line;
        c->col = m->cur.col;
        if ((rc = p_expr(pc, m, &c->l)))
            return rc;
        if (m->cur.k == M_CMP) {
            c->op = (uint8_t)m->cur.cmp;
            if ((rc = m_next(m)) || (rc = p_expr(pc, m, &c->r)))
                return rc;
        }
        *link = c;
        link = &c->next;
        if (m_is_id(m, "and"))
            c->join = J_AND;
        else if (m_is_id(m, "or"))
            c->join = J_OR;
        else
            break;
        if ((rc = m_next(m)))
            return rc;
    }
    *out = first;
    return 0;
}

/* ==================================================================== bodies === */

static struct tnode *nv_push(struct pctx *pc, struct nvec *nv, int kind, int line, int col)
{
    struct tnode *n;
    nv->v = pgrow(pc->ps, nv->v, nv->n, &nv->cap, sizeof *nv->v);
    n = &nv->v[nv->n++];
    memset(n, 0, sizeof *n);
    n->kind = (uint8_t)kind;
    n->line = line;
    n->col = col;
    n->file = pc->file;
    return n;
}

static int is_blank_text(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r' || p[i] == '\f' ||
              p[i] == '\v'))
            return 0;
    return 1;
}

/* Liquid's remove_blank_strings: a blank block renders no whitespace. */
static void strip_text(struct tblock *b)
{
    uint32_t j = 0;
    for (uint32_t i = 0; i < b->n; i++)
        if (b->v[i].kind != N_TEXT)
            b->v[j++] = b->v[i];
    b->n = j;
}

static int in_list(const struct ttoken *tok, const char *const *names)
{
    for (; names && *names; names++)
        if (strlen(*names) == tok->namelen && memcmp(*names, tok->name, tok->namelen) == 0)
            return 1;
    return 0;
}

static int tok_is(const struct ttoken *tok, const char *name)
{
    return strlen(name) == tok->namelen && memcmp(name, tok->name, tok->namelen) == 0;
}

static int parse_body(struct pctx *pc, struct nvec *nv, const char *const *ends,
                      const struct ttoken *opener, struct ttoken *endtok);

/* Parses a block body up to one of ends; an end of input is an error naming opener. */
static int parse_block(struct pctx *pc, const struct ttoken *opener, const char *const *ends,
                       struct tblock *out, int *blank, struct ttoken *endtok)
{
    struct nvec nv = {NULL, 0, 0, 1};
    int rc;
    if ((rc = enter(pc, opener->line, opener->col)))
        return rc;
    rc = parse_body(pc, &nv, ends, opener, endtok);
    leave(pc);
    if (rc)
        return rc;
    out->v = nv.v;
    out->n = nv.n;
    if (blank)
        *blank = nv.blank;
    return 0;
}

/* ====================================================================== tags === */

typedef int (*tag_fn)(struct pctx *pc, const struct ttoken *tok, struct nvec *nv);

/* if condition ... {elsif condition ...} [else ...] endif  (unless: the first is negated) */
static int tag_if(struct pctx *pc, const struct ttoken *tok, struct nvec *nv)
{
    int unless = tok_is(tok, "unless");
    const char *const ends[] = {"elsif", "else", unless ? "endunless" : "endif", NULL};
    const char *const end_only[] = {ends[2], NULL};
    struct tbranch *br = NULL;
    uint32_t nb = 0, cap = 0;
    struct ttoken cur = *tok, endtok;
    int all_blank = 1, rc, done = 0;
    struct tnode *n;
    while (!done) {
        struct tbranch *b;
        int blank = 1, is_else = !tok_is(&cur, "if") && !tok_is(&cur, "unless") &&
                                 !tok_is(&cur, "elsif");
        br = pgrow(pc->ps, br, nb, &cap, sizeof *br);
        b = &br[nb++];
        memset(b, 0, sizeof *b);
        if (!is_else) {
            struct mlex m;
            if ((rc = m_begin(pc, &m, &cur)))
                return rc;
            if (m.cur.k == M_END)
                return m_fail(pc, &m, "a condition");
            if ((rc = p_cond(pc, &m, &b->cond)) || (rc = m_end(pc, &m)))
                return rc;
            b->negate = (uint8_t)(nb == 1 && unless);
        }
        if ((rc = parse_block(pc, tok, is_else ? end_only : ends, &b->body, &blank, &endtok)))
            return rc;
        all_blank &= blank;
        done = tok_is(&endtok, ends[2]);
        cur = endtok;
    }
    if (all_blank)
        for (uint32_t i = 0; i < nb; i++)
            strip_text(&br[i].body);
    nv->blank &= all_blank;
    n = nv_push(pc, nv, N_IF, tok->line, tok->col);
    n->u.ifs.v = br;
    n->u.ifs.n = nb;
    return 0;
}

/* case expression {when value {(',' | 'or') value} ...} [else ...] endcase */
static int tag_case(struct pctx *pc, const struct ttoken *tok, struct nvec *nv)
{
    static const char *const ends[] = {"when", "else", "endcase", NULL};
    struct mlex m;
    struct texpr *subject;
    struct twhen *w = NULL;
    uint32_t nw = 0, cap = 0;
    struct ttoken endtok;
    struct tblock ignored;
    int all_blank = 1, rc;
    struct tnode *n;
    if ((rc = m_begin(pc, &m, tok)))
        return rc;
    if ((rc = p_expr(pc, &m, &subject)) || (rc = m_end(pc, &m)))
        return rc;
    /* Whatever stands before the first when is parsed and dropped, as Liquid does. */
    if ((rc = parse_block(pc, tok, ends, &ignored, NULL, &endtok)))
        return rc;
    while (!tok_is(&endtok, "endcase")) {
        struct ttoken head = endtok;
        struct tblock *body = palloc(pc->ps, sizeof *body);
        int blank = 1;
        uint32_t first = nw;
        if (tok_is(&head, "when")) {
            if ((rc = m_begin(pc, &m, &head)))
                return rc;
            for (;;) {
                w = pgrow(pc->ps, w, nw, &cap, sizeof *w);
                if ((rc = p_expr(pc, &m, &w[nw].value)))
                    return rc;
                nw++;
                if (m.cur.k == M_COMMA || m_is_id(&m, "or")) {
                    if ((rc = m_next(&m)))
                        return rc;
                    continue;
                }
                break;
            }
            if ((rc = m_end(pc, &m)))
                return rc;
        } else {
            w = pgrow(pc->ps, w, nw, &cap, sizeof *w);
            w[nw++].value = NULL;
        }
        if ((rc = parse_block(pc, tok, ends, body, &blank, &endtok)))
            return rc;
        all_blank &= blank;
        for (uint32_t i = first; i < nw; i++)
            w[i].body = body;
    }
    if (all_blank)
        for (uint32_t i = 0; i < nw; i++)
            strip_text((struct tblock *)w[i].body);
    nv->blank &= all_blank;
    n = nv_push(pc, nv, N_CASE, tok->line, tok->col);
    n->u.cas.subject = subject;
    n->u.cas.v = w;
    n->u.cas.n = nw;
    return 0;
}

/* for id in expression [reversed] {[','] (limit | offset) ':' (expression | continue)}
 *   ... [else ...] endfor */
static int tag_for(struct pctx *pc, const struct ttoken *tok, struct nvec *nv)
{
    static const char *const ends[] = {"else", "endfor", NULL};
    static const char *const end_only[] = {"endfor", NULL};
    struct tfor *f = palloc(pc->ps, sizeof *f);
    struct mlex m;
    struct ttoken endtok;
    const char *var, *cstart;
    size_t varlen, clen;
    int blank = 1, eblank = 1, rc;
    struct tnode *n;
    char *name;
    if ((rc = m_begin(pc, &m, tok)))
        return rc;
    if (m.cur.k != M_ID)
        return m_fail(pc, &m, "loop variable name");
    var = m.cur.p;
    varlen = m.cur.n;
    f->var = intern(&pc->ps->names, var, varlen);
    if ((rc = m_next(&m)))
        return rc;
    if (!m_is_id(&m, "in"))
        return m_fail(pc, &m, "'in'");
    if ((rc = m_next(&m)))
        return rc;
    cstart = m.cur.k == M_STR ? m.cur.p - 1 : m.cur.p;
    if ((rc = p_expr(pc, &m, &f->coll)))
        return rc;
    clen = (size_t)((m.cur.k == M_END ? m.end : m.cur.p) - cstart);
    while (clen && (cstart[clen - 1] == ' ' || cstart[clen - 1] == '\t' ||
                    cstart[clen - 1] == '\n' || cstart[clen - 1] == '\r'))
        clen--;
    if (m_is_id(&m, "reversed")) {
        f->reversed = 1;
        if ((rc = m_next(&m)))
            return rc;
    }
    while (m.cur.k == M_COMMA || m.cur.k == M_ID) {
        int limit;
        if (m.cur.k == M_COMMA && (rc = m_next(&m)))
            return rc;
        if (!m_is_id(&m, "limit") && !m_is_id(&m, "offset"))
            return m_fail(pc, &m, "'limit' or 'offset'");
        limit = m_is_id(&m, "limit");
        if ((rc = m_next(&m)))
            return rc;
        if (m.cur.k != M_COLON)
            return m_fail(pc, &m, "':'");
        if ((rc = m_next(&m)))
            return rc;
        if (!limit && m_is_id(&m, "continue")) {
            struct mtoken peek;
            cr__tmlex_peek(&m, &peek);
            if (peek.k != M_DOT && peek.k != M_LBR) {
                f->offset_continue = 1;
                f->offset = NULL;
                if ((rc = m_next(&m)))
                    return rc;
                continue;
            }
        }
        if ((rc = p_expr(pc, &m, limit ? &f->limit : &f->offset)))
            return rc;
        if (!limit)
            f->offset_continue = 0;
    }
    if ((rc = m_end(pc, &m)))
        return rc;
    name = palloc(pc->ps, varlen + 1 + clen + 1);
    memcpy(name, var, varlen);
    name[varlen] = '-';
    memcpy(name + varlen + 1, cstart, clen);
    f->name = name;
    f->namelen = (uint32_t)(varlen + 1 + clen);
    f->reg = intern(&pc->ps->regs, f->name, f->namelen);
    if ((rc = parse_block(pc, tok, ends, &f->body, &blank, &endtok)))
        return rc;
    if (tok_is(&endtok, "else") &&
        (rc = parse_block(pc, tok, end_only, &f->els, &eblank, &endtok)))
        return rc;
    if (blank && eblank) {
        strip_text(&f->body);
        strip_text(&f->els);
    }
    nv->blank &= blank && eblank;
    n = nv_push(pc, nv, N_FOR, tok->line, tok->col);
    n->u.loop = f;
    return 0;
}

/* assign id '=' chain */
static int tag_assign(struct pctx *pc, const struct ttoken *tok, struct nvec *nv)
{
    struct mlex m;
    struct tnode *n;
    uint32_t slot;
    int rc;
    if ((rc = m_begin(pc, &m, tok)))
        return rc;
    if (m.cur.k != M_ID)
        return m_fail(pc, &m, "variable name");
    slot = intern(&pc->ps->names, m.cur.p, m.cur.n);
    if ((rc = m_next(&m)))
        return rc;
    if (m.cur.k != M_ASSIGN)
        return m_fail(pc, &m, "'='");
    if ((rc = m_next(&m)))
        return rc;
    n = nv_push(pc, nv, N_ASSIGN, tok->line, tok->col);
    n->u.assign.slot = slot;
    if ((rc = p_chain(pc, &m, &n->u.assign.val)) || (rc = m_end(pc, &m)))
        return rc;
    return 0;
}

/* capture (id | string) ... endcapture */
static int tag_capture(struct pctx *pc, const struct ttoken *tok, struct nvec *nv)
{
    static const char *const ends[] = {"endcapture", NULL};
    struct mlex m;
    struct ttoken endtok;
    struct tnode *n;
    uint32_t slot;
    struct tblock body;
    int rc;
    if ((rc = m_begin(pc, &m, tok)))
        return rc;
    if (m.cur.k != M_ID && m.cur.k != M_STR)
        return m_fail(pc, &m, "variable name");
    slot = intern(&pc->ps->names, m.cur.p, m.cur.n);
    if ((rc = m_next(&m)) || (rc = m_end(pc, &m)))
        return rc;
    if ((rc = parse_block(pc, tok, ends, &body, NULL, &endtok)))
        return rc;
    n = nv_push(pc, nv, N_CAPTURE, tok->line, tok->col);
    n->u.capture.slot = slot;
    n->u.capture.body = body;
    return 0;
}

/* increment id | decrement id */
static int tag_counter(struct pctx *pc, const struct ttoken *tok, struct nvec *nv)
{
    struct mlex m;
    struct tnode *n;
    uint32_t slot;
    int rc;
    if ((rc = m_begin(pc, &m, tok)))
        return rc;
    if (m.cur.k != M_ID)
        return m_fail(pc, &m, "variable name");
    slot = intern(&pc->ps->names, m.cur.p, m.cur.n);
    if ((rc = m_next(&m)) || (rc = m_end(pc, &m)))
        return rc;
    nv->blank = 0;
    n = nv_push(pc, nv, tok_is(tok, "increment") ? N_INCREMENT : N_DECREMENT, tok->line,
                tok->col);
    n->u.counter.slot = slot;
    return 0;
}

/* cycle [expression ':'] expression {',' expression} */
static int tag_cycle(struct pctx *pc, const struct ttoken *tok, struct nvec *nv)
{
    struct tcycle *c = palloc(pc->ps, sizeof *c);
    struct mlex m;
    struct texpr *first;
    uint32_t cap = 0;
    struct cr_buf id = CR_BUF_INIT(0);
    struct tnode *n;
    int rc;
    if ((rc = m_begin(pc, &m, tok)))
        return rc;
    if (m.cur.k == M_END)
        return m_fail(pc, &m, "a value");
    if ((rc = p_expr(pc, &m, &first)))
        return rc;
    if (m.cur.k == M_COLON) {
        c->group = first;
        if ((rc = m_next(&m)) || (rc = p_expr(pc, &m, &first)))
            return rc;
    }
    for (;;) {
        c->values = pgrow(pc->ps, c->values, c->nvalues, &cap, sizeof *c->values);
        c->values[c->nvalues++] = *first;
        if (m.cur.k != M_COMMA)
            break;
        if ((rc = m_next(&m)) || (rc = p_expr(pc, &m, &first)))
            return rc;
    }
    if ((rc = m_end(pc, &m)))
        return rc;
    /* Unnamed cycles with the same values share their position, as in Liquid. */
    for (uint32_t i = 0; i < c->nvalues; i++) {
        const struct texpr *v = &c->values[i];
        if (v->kind == X_VAR)
            cr_buf_printf(&id, "v%.*s\x1f", (int)v->srclen, v->src);
        else if (v->kind == X_LIT && v->lit.kind == TV_STR)
            cr_buf_printf(&id, "s%.*s\x1f", (int)v->lit.u.s.n, v->lit.u.s.p);
        else
            cr_buf_printf(&id, "l%d:%d\x1f", v->line, v->col);
    }
    if (id.err) {
        cr_buf_release(&id);
        return perr(pc, CR_ETOOBIG, tok->line, tok->col, NULL, "cycle too long");
    }
    c->ident = cr__tarena_dup(&pc->ps->t->ar, id.data, id.len);
    c->identlen = (uint32_t)id.len;
    cr_buf_release(&id);
    nv->blank = 0;
    n = nv_push(pc, nv, N_CYCLE, tok->line, tok->col);
    n->u.cycle = c;
    return 0;
}

static int tag_raw(struct pctx *pc, const struct ttoken *tok, struct nvec *nv)
{
    struct ttoken body;
    struct mlex m;
    int rc;
    if (pc->lx.lines)
        return perr(pc, CR_ESYNTAX, tok->line, tok->col, NULL,
                    "'raw' is not allowed in a 'liquid' tag");
    if ((rc = m_begin(pc, &m, tok)) || (rc = m_end(pc, &m)))
        return rc;
    if ((rc = cr__tlex_raw(&pc->lx, tok, pc->lx.lstrip, &body, pc->ps->err)))
        return rc;
    if (body.n) {
        struct tnode *n = nv_push(pc, nv, N_TEXT, body.line, body.col);
        n->u.text.p = body.p;
        n->u.text.n = body.n;
        nv->blank = 0;
    }
    return 0;
}

/* comment ... endcomment: skipped, nested comments and raw bodies included. */
static int tag_comment(struct pctx *pc, const struct ttoken *tok, struct nvec *nv)
{
    int level = 1, rc;
    (void)nv;
    while (level) {
        struct ttoken t;
        if ((rc = cr__tlex_next(&pc->lx, &t, pc->ps->err)))
            return rc;
        if (t.kind == T_EOF)
            return perr(pc, CR_ESYNTAX, tok->line, tok->col, "'endcomment' expected",
                        "unterminated 'comment'");
        if (t.kind != T_TAG)
            continue;
        if (tok_is(&t, "comment")) {
            level++;
        } else if (tok_is(&t, "endcomment")) {
            level--;
        } else if (tok_is(&t, "raw") && !pc->lx.lines) {
            struct ttoken body;
            if ((rc = cr__tlex_raw(&pc->lx, &t, 0, &body, pc->ps->err)))
                return rc;
        }
    }
    return 0;
}

/* # comment: every line of it must start with '#'. */
static int tag_inline_comment(struct pctx *pc, const struct ttoken *tok, struct nvec *nv)
{
    int line = tok->mline;
    (void)nv;
    for (size_t i = 0; i < tok->n; i++) {
        if (tok->p[i] != '\n')
            continue;
        line++;
        while (i + 1 < tok->n && (tok->p[i + 1] == ' ' || tok->p[i + 1] == '\t' ||
                                  tok->p[i + 1] == '\r'))
            i++;
        if (i + 1 < tok->n && tok->p[i + 1] != '#' && tok->p[i + 1] != '\n')
            return perr(pc, CR_ESYNTAX, line, 1, NULL,
                        "every line of a '#' comment must start with '#'");
    }
    return 0;
}

/* echo chain */
static int tag_echo(struct pctx *pc, const struct ttoken *tok, struct nvec *nv)
{
    struct mlex m;
    struct tnode *n;
    int rc;
    nv->blank = 0;
    if ((rc = m_begin(pc, &m, tok)))
        return rc;
    if (m.cur.k == M_END)
        return 0;
    n = nv_push(pc, nv, N_OUTPUT, tok->line, tok->col);
    if ((rc = p_chain(pc, &m, &n->u.out)) || (rc = m_end(pc, &m)))
        return rc;
    return 0;
}

static int tag_break(struct pctx *pc, const struct ttoken *tok, struct nvec *nv)
{
    struct mlex m;
    int rc;
    if ((rc = m_begin(pc, &m, tok)) || (rc = m_end(pc, &m)))
        return rc;
    nv->blank = 0;
    nv_push(pc, nv, tok_is(tok, "break") ? N_BREAK : N_CONTINUE, tok->line, tok->col);
    return 0;
}

static int compile_snippet(struct pctx *pc, const char *name, size_t len, int line, int col,
                           uint32_t *out);

/*
 * render string [(with | for) expression] [as id] {[','] id ':' expression}
 * include string [(with | for) expression] [as id] {[','] id ':' expression}
 */
static int tag_render(struct pctx *pc, const struct ttoken *tok, struct nvec *nv)
{
    struct tcall *c = palloc(pc->ps, sizeof *c);
    struct mlex m;
    struct mtoken name;
    const char *vname;
    size_t vlen;
    uint32_t cap = 0;
    struct tnode *n;
    int rc;
    c->isolated = (uint8_t)tok_is(tok, "render");
    if ((rc = m_begin(pc, &m, tok)))
        return rc;
    if (m.cur.k != M_STR)
        return m_fail(pc, &m, "snippet name (a quoted string)");
    name = m.cur;
    if (!cr_snippet_name_ok(name.p, name.n))
        return perr(pc, CR_ESYNTAX, name.line, name.col,
                    "letters, digits, '_', '-' and '.' (not first)", "invalid snippet name");
    c->name = name.p;
    c->namelen = (uint32_t)name.n;
    if ((rc = m_next(&m)))
        return rc;
    if (m_is_id(&m, "with") || m_is_id(&m, "for")) {
        c->mode = m_is_id(&m, "with") ? 'w' : 'f';
        if ((rc = m_next(&m)) || (rc = p_expr(pc, &m, &c->with)))
            return rc;
    }
    vname = name.p;
    vlen = name.n;
    if (m_is_id(&m, "as")) {
        if ((rc = m_next(&m)))
            return rc;
        if (m.cur.k != M_ID)
            return m_fail(pc, &m, "variable name");
        vname = m.cur.p;
        vlen = m.cur.n;
        if ((rc = m_next(&m)))
            return rc;
    }
    c->alias = intern(&pc->ps->names, vname, vlen);
    c->self = intern(&pc->ps->names, name.p, name.n);
    while (m.cur.k == M_COMMA || m.cur.k == M_ID) {
        struct tkwarg *a;
        if (m.cur.k == M_COMMA && (rc = m_next(&m)))
            return rc;
        if (m.cur.k != M_ID)
            return m_fail(pc, &m, "parameter name");
        c->args = pgrow(pc->ps, c->args, c->nargs, &cap, sizeof *c->args);
        a = &c->args[c->nargs++];
        a->name = m.cur.p;
        a->namelen = (uint32_t)m.cur.n;
        a->slot = intern(&pc->ps->names, m.cur.p, m.cur.n);
        if ((rc = m_next(&m)))
            return rc;
        if (m.cur.k != M_COLON)
            return m_fail(pc, &m, "':'");
        if ((rc = m_next(&m)) || (rc = p_expr(pc, &m, &a->e)))
            return rc;
    }
    if ((rc = m_end(pc, &m)))
        return rc;
    if ((rc = compile_snippet(pc, name.p, name.n, name.line, name.col, &c->snippet)))
        return rc;
    nv->blank = 0;
    n = nv_push(pc, nv, N_RENDER, tok->line, tok->col);
    n->u.call = c;
    return 0;
}

static int tag_liquid(struct pctx *pc, const struct ttoken *tok, struct nvec *nv)
{
    struct pctx sub = *pc;
    struct ttoken endtok;
    int rc;
    cr__tlex_init(&sub.lx, tok->p, tok->n, tok->mline, tok->mcol, 1);
    sub.lx.file = pc->file;
    sub.endname = "end of line";
    if ((rc = enter(pc, tok->line, tok->col)))
        return rc;
    rc = parse_body(&sub, nv, NULL, NULL, &endtok);
    leave(pc);
    return rc;
}

static const struct {
    const char *name;
    tag_fn fn;
} tags[] = {
    {"if", tag_if},
    {"unless", tag_if},
    {"case", tag_case},
    {"for", tag_for},
    {"assign", tag_assign},
    {"capture", tag_capture},
    {"increment", tag_counter},
    {"decrement", tag_counter},
    {"cycle", tag_cycle},
    {"raw", tag_raw},
    {"comment", tag_comment},
    {"#", tag_inline_comment},
    {"echo", tag_echo},
    {"liquid", tag_liquid},
    {"render", tag_render},
    {"include", tag_render},
    {"break", tag_break},
    {"continue", tag_break},
};

static const char *const closing_tags[] = {
    "elsif",  "else",         "when",       "endif",      "endunless", "endcase", "endfor",
    "endcapture", "endcomment", "endraw", NULL,
};

/* body -> { text | output | tag } up to one of ends (or the end of input when ends is NULL) */
static int parse_body(struct pctx *pc, struct nvec *nv, const char *const *ends,
                      const struct ttoken *opener, struct ttoken *endtok)
{
    int rc;
    for (;;) {
        struct ttoken tok;
        char what[128], hint[128];
        size_t i;
        if ((rc = cr__tlex_next(&pc->lx, &tok, pc->ps->err)))
            return rc;
        switch (tok.kind) {
        case T_EOF:
            if (ends) {
                snprintf(what, sizeof what, "unterminated '%.*s'", (int)opener->namelen,
                         opener->name);
                for (i = 0; ends[i + 1] && strncmp(ends[i], "end", 3) != 0; i++)
                    ;
                snprintf(hint, sizeof hint, "'%s' expected", ends[i]);
                return perr(pc, CR_ESYNTAX, opener->line, opener->col, hint, what);
            }
            *endtok = tok;
            return 0;
        case T_TEXT: {
            struct tnode *n = nv_push(pc, nv, N_TEXT, tok.line, tok.col);
            n->u.text.p = tok.p;
            n->u.text.n = tok.n;
            if (nv->blank && !is_blank_text(tok.p, tok.n))
                nv->blank = 0;
            break;
        }
        case T_OUTPUT: {
            struct mlex m;
            struct pctx out = *pc;
            out.endname = "'}}'";
            nv->blank = 0;
            if ((rc = m_begin(&out, &m, &tok)))
                return rc;
            if (m.cur.k == M_END)
                break; /* {{ }} prints nothing */
            {
                struct tnode *n = nv_push(pc, nv, N_OUTPUT, tok.line, tok.col);
                if ((rc = p_chain(&out, &m, &n->u.out)) || (rc = m_end(&out, &m)))
                    return rc;
            }
            break;
        }
        case T_TAG:
            if (ends && in_list(&tok, ends)) {
                *endtok = tok;
                return 0;
            }
            for (i = 0; i < sizeof tags / sizeof *tags; i++)
                if (tok_is(&tok, tags[i].name))
                    break;
            if (i < sizeof tags / sizeof *tags) {
                struct pctx tp = *pc;
                if (!pc->lx.lines)
                    tp.endname = "'%}'";
                rc = tags[i].fn(&tp, &tok, nv);
                pc->lx = tp.lx;
                if (rc)
                    return rc;
                break;
            }
            snprintf(what, sizeof what, "%s '%.*s'",
                     in_list(&tok, closing_tags) ? "unexpected" : "unknown tag",
                     (int)(tok.namelen > 40 ? 40 : tok.namelen), tok.name);
            if (opener && in_list(&tok, closing_tags)) {
                snprintf(hint, sizeof hint, "inside '%.*s' at line %d, column %d",
                         (int)opener->namelen, opener->name, opener->line, opener->col);
                return perr(pc, CR_ESYNTAX, tok.line, tok.col, hint, what);
            }
            return perr(pc, CR_ESYNTAX, tok.line, tok.col, NULL, what);
        }
    }
}

/* ================================================================== snippets === */

static int parse_source(struct pstate *ps, const char *src, size_t len, const char *file,
                        struct tblock *out)
{
    struct pctx pc;
    struct nvec nv = {NULL, 0, 0, 1};
    struct ttoken endtok;
    int rc;
    memset(&pc, 0, sizeof pc);
    pc.ps = ps;
    pc.file = file;
    pc.endname = "'%}'";
    cr__tlex_init(&pc.lx, src, len, 1, 1, 0);
    pc.lx.file = file;
    rc = parse_body(&pc, &nv, NULL, NULL, &endtok);
    if (rc)
        return rc;
    out->v = nv.v;
    out->n = nv.n;
    return 0;
}

/* Loads and compiles the snippet name once; recursion finds the table entry. */
static int compile_snippet(struct pctx *pc, const char *name, size_t len, int line, int col,
                           uint32_t *out)
{
    struct pstate *ps = pc->ps;
    struct tsnippet *s;
    char *src, *copy;
    size_t srclen;
    uint32_t idx;
    int rc;
    for (uint32_t i = 0; i < ps->nsnips; i++) {
        if (strlen(ps->snips[i].name) == len && memcmp(ps->snips[i].name, name, len) == 0) {
            *out = i;
            return 0;
        }
    }
    if (!ps->opts->load_snippet)
        return cr__terrf(ps->err, CR_ENOTFOUND, pc->file, line, col, "no snippet source",
                        "unknown snippet '%.*s'", (int)len, name);
    copy = cr__tarena_dup(&ps->t->ar, name, len);
    cr_buf_reset(&ps->load);
    {
        struct cr_err lerr = CR_ERR_INIT;
        rc = ps->opts->load_snippet(ps->opts->snippet_data, copy, &ps->load, &lerr);
        if (!rc && ps->load.err)
            rc = ps->load.err;
        if (rc == CR_ENOTFOUND)
            return cr__terrf(ps->err, rc, pc->file, line, col, NULL, "unknown snippet '%s'",
                            copy);
        if (rc == CR_ETOOBIG)
            return cr__terrf(ps->err, rc, pc->file, line, col, NULL,
                            "snippet '%s' exceeds %zu bytes", copy, ps->max_source);
        if (rc)
            return cr__terrf(ps->err, rc, pc->file, line, col, cr_err_msg(&lerr),
                            "cannot load snippet '%s'", copy);
    }
    srclen = ps->load.len;
    src = cr__tarena_dup(&ps->t->ar, ps->load.data, srclen);
    if (ps->nsnips == ps->capsnips) {
        ps->capsnips = ps->capsnips ? ps->capsnips * 2 : 4;
        ps->snips = cr_xrealloc(ps->snips, ps->capsnips * sizeof *ps->snips);
    }
    idx = ps->nsnips++;
    s = &ps->snips[idx];
    memset(s, 0, sizeof *s);
    s->name = copy;
    if ((rc = enter(pc, line, col)))
        return rc;
    {
        struct tblock body = {NULL, 0};
        rc = parse_source(ps, src, srclen, copy, &body);
        ps->snips[idx].body = body; /* snips may have moved */
        ps->snips[idx].ready = 1;
    }
    leave(pc);
    *out = idx;
    return rc;
}

/* ===================================================================== entry === */

int cr__tparse(struct cr_template *t, const char *src, size_t len,
              const struct cr_template_opts *opts, struct cr_err *err)
{
    struct pstate ps;
    int rc;
    memset(&ps, 0, sizeof ps);
    ps.t = t;
    ps.opts = opts;
    ps.err = err;
    ps.max_depth = opts->max_depth ? opts->max_depth : T_DEFAULT_MAX_DEPTH;
    ps.max_source = opts->max_source ? opts->max_source : T_DEFAULT_MAX_SOURCE;
    cr_buf_init(&ps.load, ps.max_source);
    t->forloop = intern(&ps.names, "forloop", 7);
    rc = parse_source(&ps, src, len, NULL, &t->root);
    cr_buf_release(&ps.load);
    t->names = ps.names.v;
    t->nnames = ps.names.n;
    free(ps.names.idx);
    t->nregs = ps.regs.n;
    free(ps.regs.v);
    free(ps.regs.idx);
    t->snippets = ps.snips;
    t->nsnippets = ps.nsnips;
    return rc;
}
