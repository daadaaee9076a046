/*
 * sqlgen.c - the filter's SQL: a resolved tree to a parameterised condition, per dialect
 *
 * Writes only three kinds of text: SQL of its own (operators, function names, table and
 * alias names, a few constants such as 'open'), column names from the catalogue (quoted),
 * and '?' for every value. Nothing of the filter's text is copied. Every composite
 * expression is parenthesised, so no two generated pieces can fuse into a comment or change
 * precedence.
 *
 * Where the backends differ, the SQL says how to agree (docs/filter-language.md §Backends):
 *   - like is case-sensitive: SQLite GLOB (literal patterns, translated) or cr_like();
 *   - lower, upper, ilike fold the same letters: cr_lower()/cr_upper() on SQLite,
 *     translate(lower(x COLLATE "C"), …) on PostgreSQL (query/casefold.h);
 *   - text orders by code point: COLLATE "C" on PostgreSQL, SQLite's BINARY;
 *   - x / 0 is null on both (NULLIF), integer / integer truncates on both;
 *   - dates and timestamps are text on SQLite (cr_date_add(), cr_ts_add(), ... from
 *     store/sqlite_fn.c) and DATE / TIMESTAMP on PostgreSQL; parameters carry explicit CASTs
 *     there, since they travel as untyped text.
 *
 * SQLite's parser has a fixed stack (YYSTACKDEPTH, 100 entries) that deep SQL overflows long
 * before any other limit, at a depth that depends on the construct (a parenthesis costs one
 * entry, the second argument of a function five). The generator keeps an upper bound of that
 * stack while it writes the SQLite form (stack_scan()) and refuses, with the position of the
 * node, a filter that would come near it. PostgreSQL output is checked against the SQLite form
 * too, so a filter is accepted by both backends or by neither.
 */
#include "query/query_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/casefold.h"

#define MAX_SQL (16 * 1024 * 1024)

#define STACK_BUDGET 80 /* estimated SQLite parser entries; the real ones stay under ~65 */
#define MAX_LEVELS 256
#define FLAT_CHAIN 64 /* and/or terms written flat, within SQLite's expression depth */

struct level {
    unsigned char fn;    /* a function call's parenthesis */
    unsigned char infix; /* operators, keywords and commas met at this level */
};

struct gen {
    struct cr__qctx *q;
    int pg;
    int check;              /* SQLite form: estimate the parser stack */
    const struct node *cur; /* the node being written, for the error position */
    struct level levels[MAX_LEVELS];
    int nlevels, cost;
    char quote;    /* inside '...' or "..." of our own */
    int prev_word; /* the last token was a name (a '(' after it opens a call) */
    int prev_op;   /* the last character was an operator character */
    struct cr_buf sql;
    struct cr_query_param *params;
    size_t nparams, cap;
    struct cr_buf lower_from, lower_to, upper_from, upper_to; /* PostgreSQL fold sets */
};

static int expr(struct gen *g, const struct node *n);

static int level_cost(const struct level *l)
{
    return 2 + 3 * l->fn + 2 * (l->infix < 2 ? l->infix : 2);
}

static void over_budget(struct gen *g)
{
    if (g->cost > STACK_BUDGET && g->cur)
        cr__qerr(g->q, CR_ETOOBIG, g->cur->line, g->cur->col,
                 "expression nested too deeply for the database (simplify it)");
}

static void infix(struct gen *g)
{
    struct level *l;
    if (g->nlevels == 0)
        return;
    l = &g->levels[g->nlevels - 1];
    if (l->infix < 2) {
        g->cost += 2;
        over_budget(g);
    }
    if (l->infix < 255)
        l->infix++;
}

static int is_keyword(const char *w, size_t n)
{
    static const char *const kw[] = {"AND",     "OR",    "NOT",  "IN", "IS",
                                     "BETWEEN", "LIKE",  "GLOB", "AS", "SELECT",
                                     "FROM",    "WHERE", "JOIN", "ON", "COLLATE"};
    for (size_t i = 0; i < sizeof kw / sizeof *kw; i++)
        if (strlen(kw[i]) == n && memcmp(kw[i], w, n) == 0)
            return 1;
    return 0;
}

/*
 * Follows the SQLite text as its parser would stack it, as an upper bound: each open
 * parenthesis costs 2, 3 more for a call, and 2 for each of the first two operators,
 * keywords or commas inside it (measured: a call's second argument costs 5 entries, the right
 * side of a comparison 3, a parenthesis 1).
 */
static void stack_scan(struct gen *g, const char *s)
{
    for (; *s; s++) {
        char c = *s;
        if (g->quote) {
            if (c == g->quote)
                g->quote = 0; /* a doubled quote reopens at once: same state */
            continue;
        }
        if (c == '\'' || c == '"') {
            g->quote = c;
            g->prev_word = 0;
            g->prev_op = 0;
            continue;
        }
        if (c == '(') {
            struct level l = {(unsigned char)g->prev_word, 0};
            if (g->nlevels == MAX_LEVELS) {
                g->cost += STACK_BUDGET;
                over_budget(g);
                return;
            }
            g->levels[g->nlevels++] = l;
            g->cost += level_cost(&l);
            over_budget(g);
        } else if (c == ')') {
            if (g->nlevels > 0)
                g->cost -= level_cost(&g->levels[--g->nlevels]);
        } else if (c == ',') {
            infix(g);
        } else if (strchr("=<>!+-*/|", c)) {
            if (!g->prev_op)
                infix(g);
            g->prev_op = 1;
            g->prev_word = 0;
            continue;
        } else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_') {
            const char *w = s;
            while ((s[1] >= 'A' && s[1] <= 'Z') || (s[1] >= 'a' && s[1] <= 'z') ||
                   (s[1] >= '0' && s[1] <= '9') || s[1] == '_')
                s++;
            if (is_keyword(w, (size_t)(s - w + 1))) {
                infix(g);
                g->prev_word = 0;
            } else {
                g->prev_word = 1;
            }
            g->prev_op = 0;
            continue;
        }
        if (c != ' ')
            g->prev_word = 0;
        g->prev_op = 0;
    }
}

static void put(struct gen *g, const char *s)
{
    cr_buf_puts(&g->sql, s);
    if (g->check)
        stack_scan(g, s);
}

static void putf(struct gen *g, const char *fmt, ...) CR_PRINTF(2, 3);
static void putf(struct gen *g, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    put(g, tmp);
}

static const char *pg_type(enum cr_query_type t)
{
    switch (t) {
    case CR_QT_BOOLEAN:
        return "boolean";
    case CR_QT_INTEGER:
        return "bigint";
    case CR_QT_REAL:
        return "double precision";
    case CR_QT_DATE:
        return "date";
    case CR_QT_TIMESTAMP:
        return "timestamp";
    case CR_QT_INTERVAL:
        return "interval";
    default:
        return "text";
    }
}

/* Appends a parameter holding v (text copied), typed as t for PostgreSQL. */
static int param(struct gen *g, const struct cr_query_param *v, enum cr_query_type t)
{
    struct cr_query_param *p;
    if (g->nparams >= g->q->max_params)
        return cr__qerr(g->q, CR_ETOOBIG, v->line, v->col,
                        "too many values in the filter (more than %zu)", g->q->max_params);
    if (g->nparams == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 16;
        g->params = cr_xrealloc(g->params, g->cap * sizeof *g->params);
    }
    p = &g->params[g->nparams++];
    *p = *v;
    if (v->type == CR_QT_TEXT)
        p->text = cr_xmemdupz(v->text, v->len);
    if (g->pg) {
        putf(g, "CAST(? AS %s)", pg_type(t));
    } else {
        put(g, "?");
    }
    return 0;
}

static int text_param(struct gen *g, const char *s, size_t n, int line, int col)
{
    struct cr_query_param v = {0};
    v.type = CR_QT_TEXT;
    v.text = (char *)s;
    v.len = n;
    v.line = line;
    v.col = col;
    return param(g, &v, CR_QT_TEXT);
}

static int int_param(struct gen *g, int64_t i, int line, int col)
{
    struct cr_query_param v = {0};
    v.type = CR_QT_INTEGER;
    v.i = i;
    v.line = line;
    v.col = col;
    return param(g, &v, CR_QT_INTEGER);
}

/* alias."name", the name from the catalogue, quoted. */
static void column(struct gen *g, const struct node *n)
{
    struct cr_buf b = CR_BUF_INIT(0);
    cr_buf_printf(&b, "%c.\"", n->alias);
    for (const char *c = n->column->name; *c; c++) {
        if (*c == '"')
            cr_buf_putc(&b, '"');
        cr_buf_putc(&b, *c);
    }
    cr_buf_putc(&b, '"');
    put(g, b.data);
    cr_buf_release(&b);
}

/* ---------------------------------------------------------------- text */

static const struct cr_buf *fold_set(struct gen *g, int upper, int to)
{
    struct cr_buf *from_b = upper ? &g->upper_from : &g->lower_from;
    struct cr_buf *to_b = upper ? &g->upper_to : &g->lower_to;
    if (from_b->len == 0)
        cr_casefold_sets(upper, from_b, to_b);
    return to ? to_b : from_b;
}

/* lower(x) / upper(x) with the same letters on both backends. */
static int fold(struct gen *g, const struct node *x, int upper)
{
    int rc;
    if (!g->pg) {
        put(g, upper ? "cr_upper(" : "cr_lower(");
        if ((rc = expr(g, x)))
            return rc;
        put(g, ")");
        return 0;
    }
    put(g, upper ? "translate(upper(" : "translate(lower(");
    if ((rc = expr(g, x)))
        return rc;
    put(g, " COLLATE \"C\"), '");
    put(g, fold_set(g, upper, 0)->data);
    put(g, "', '");
    put(g, fold_set(g, upper, 1)->data);
    put(g, "')");
    return 0;
}

/* A like pattern (backslash escapes, as PostgreSQL's default) as an SQLite GLOB pattern. */
static void like_to_glob(const char *s, size_t n, struct cr_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            cr_buf_putc(out, '*');
            continue;
        }
        if (c == '_') {
            cr_buf_putc(out, '?');
            continue;
        }
        if (c == '\\' && i + 1 < n)
            c = s[++i];
        if (c == '*' || c == '?' || c == '[') {
            cr_buf_putc(out, '[');
            cr_buf_putc(out, c);
            cr_buf_putc(out, ']');
        } else {
            cr_buf_putc(out, c);
        }
    }
}

static int like(struct gen *g, const struct node *n)
{
    const struct node *x = n->kid[0], *pat = n->kid[1];
    int ilike = n->op == TK_ILIKE, rc;
    if (ilike && !g->pg) {
        /* One pass that folds as it matches, as fast as SQLite's own LIKE. */
        put(g, n->negated ? "(NOT cr_ilike(" : "(cr_ilike(");
        if ((rc = expr(g, x)))
            return rc;
        put(g, ", ");
        if (pat->kind == N_CONST && pat->val.type == CR_QT_TEXT) {
            struct cr_buf folded = CR_BUF_INIT(0);
            cr_casefold(pat->val.text, pat->val.len, 0, &folded);
            rc = text_param(g, folded.data, folded.len, pat->line, pat->col);
            cr_buf_release(&folded);
        } else {
            rc = expr(g, pat);
        }
        put(g, "))");
        return rc;
    }
    if (pat->kind == N_CONST && pat->val.type == CR_QT_TEXT) {
        /* A literal pattern: folded (ilike) and translated (SQLite) here, once. */
        struct cr_buf folded = CR_BUF_INIT(0), glob = CR_BUF_INIT(0);
        const char *p = pat->val.text;
        size_t len = pat->val.len;
        if (ilike) {
            cr_casefold(p, len, 0, &folded);
            p = folded.data;
            len = folded.len;
        }
        put(g, n->negated && !g->pg ? "(NOT (" : "(");
        rc = ilike ? fold(g, x, 0) : expr(g, x);
        if (!rc && g->pg) {
            put(g, n->negated ? " NOT LIKE " : " LIKE ");
            rc = text_param(g, p, len, pat->line, pat->col);
        } else if (!rc) {
            like_to_glob(p, len, &glob);
            put(g, " GLOB ");
            rc = text_param(g, glob.data, glob.len, pat->line, pat->col);
        }
        cr_buf_release(&folded);
        cr_buf_release(&glob);
        put(g, n->negated && !g->pg ? "))" : ")");
        return rc;
    }
    /* Any other pattern is computed per row. */
    if (g->pg) {
        put(g, "(");
        if ((rc = ilike ? fold(g, x, 0) : expr(g, x)))
            return rc;
        put(g, n->negated ? " NOT LIKE " : " LIKE ");
        if ((rc = ilike ? fold(g, pat, 0) : expr(g, pat)))
            return rc;
        put(g, ")");
        return 0;
    }
    put(g, n->negated ? "(NOT cr_like(" : "(cr_like(");
    if ((rc = ilike ? fold(g, x, 0) : expr(g, x)))
        return rc;
    put(g, ", ");
    if ((rc = ilike ? fold(g, pat, 0) : expr(g, pat)))
        return rc;
    put(g, "))");
    return 0;
}

/* ---------------------------------------------------------------- operators */

static const char *cmp_sql(int op)
{
    switch (op) {
    case TK_EQ:
        return " = ";
    case TK_NE:
        return " <> ";
    case TK_LT:
        return " < ";
    case TK_LE:
        return " <= ";
    case TK_GT:
        return " > ";
    default:
        return " >= ";
    }
}

/* Text orders by code point on both backends: "C" on PostgreSQL, BINARY on SQLite. */
static void collate_c(struct gen *g, enum cr_query_type t)
{
    if (g->pg && t == CR_QT_TEXT)
        put(g, " COLLATE \"C\"");
}

static int two(struct gen *g, const char *open, const struct node *a, const char *mid,
               const struct node *b, const char *close)
{
    int rc;
    put(g, open);
    if ((rc = expr(g, a)))
        return rc;
    put(g, mid);
    if ((rc = expr(g, b)))
        return rc;
    put(g, close);
    return 0;
}

static int arith(struct gen *g, const struct node *n)
{
    const struct node *a = n->kid[0], *b = n->kid[1];
    int sub = n->op == TK_MINUS;
    enum cr_query_type ta = a->type;
    if (n->type == CR_QT_INTEGER || n->type == CR_QT_REAL) {
        if (ta == CR_QT_DATE) /* date - date: days */
            return g->pg ? two(g, "(", a, " - ", b, ")") : two(g, "cr_date_diff(", a, ", ", b, ")");
        if (n->op == TK_SLASH) /* x / 0 is null on both, not an error on one */
            return two(g, "(", a, " / NULLIF(", b, ", 0))");
        return two(g, "(", a, n->op == TK_PLUS ? " + " : n->op == TK_MINUS ? " - " : " * ", b, ")");
    }
    switch (n->type) {
    case CR_QT_DATE: /* date +- integer days */
        if (g->pg)
            return two(g, "(", a, sub ? " - CAST(" : " + CAST(", b, " AS integer))");
        return two(g, "cr_date_add(", a, sub ? ", -(" : ", (", b, "))");
    case CR_QT_TIMESTAMP: /* date or timestamp +- interval */
        if (g->pg)
            return two(g, "(", a, sub ? " - " : " + ", b, ")");
        return two(g, "cr_ts_add(", a, sub ? ", -(" : ", (", b, "))");
    case CR_QT_INTERVAL:
        if (ta == CR_QT_TIMESTAMP) /* timestamp - timestamp */
            return g->pg ? two(g, "(", a, " - ", b, ")") : two(g, "cr_ts_diff(", a, ", ", b, ")");
        return two(g, "(", a, sub ? " - " : " + ", b, ")");
    default:
        CR_BUG("arith of type %d", (int)n->type);
    }
}

/* Implicit conversions made explicit by resolve.c. */
static int conversion(struct gen *g, const struct node *n)
{
    const struct node *x = n->kid[0];
    int rc;
    if (x->type == CR_QT_NULL) {
        if (!g->pg)
            return expr(g, x);
        put(g, "CAST(");
        if ((rc = expr(g, x)))
            return rc;
        putf(g, " AS %s)", pg_type(n->type));
        return 0;
    }
    if (x->type == CR_QT_DATE && n->type == CR_QT_TIMESTAMP) /* midnight */
        return g->pg ? two(g, "CAST(", x, " AS timestamp)", NULL, "")
                     : two(g, "(", x, " || ' 00:00:00')", NULL, "");
    if (x->type == CR_QT_TIMESTAMP && n->type == CR_QT_DATE) /* its day */
        return g->pg ? two(g, "CAST(", x, " AS date)", NULL, "")
                     : two(g, "substr(", x, ", 1, 10)", NULL, "");
    if (x->type == CR_QT_INTEGER && n->type == CR_QT_REAL)
        return g->pg ? two(g, "CAST(", x, " AS double precision)", NULL, "")
                     : two(g, "CAST(", x, " AS REAL)", NULL, "");
    CR_BUG("conversion from %d to %d", (int)x->type, (int)n->type);
}

/* ---------------------------------------------------------------- functions, predicates */

static int today_param(struct gen *g, const struct node *n)
{
    struct cr_query_param v = {0};
    v.type = CR_QT_DATE;
    v.base = CR_QB_TODAY;
    v.line = n->line;
    v.col = n->col;
    return param(g, &v, CR_QT_DATE);
}

static int function(struct gen *g, const struct node *n)
{
    const struct node *x = n->nkid ? n->kid[0] : NULL;
    int rc;
    switch (n->fn) {
    case F_LOWER:
    case F_UPPER:
        return fold(g, x, n->fn == F_UPPER);
    case F_TRIM:
        return two(g, "trim(", x, ")", NULL, "");
    case F_LENGTH:
        return two(g, "length(", x, ")", NULL, "");
    case F_COALESCE:
        put(g, "coalesce(");
        for (int i = 0; i < n->nkid; i++) {
            if (i)
                put(g, ", ");
            if ((rc = expr(g, n->kid[i])))
                return rc;
        }
        put(g, ")");
        return 0;
    case F_CONCAT: /* a null part is empty, as PostgreSQL's concat() has it */
        put(g, "(");
        for (int i = 0; i < n->nkid; i++) {
            put(g, i ? " || coalesce(" : "coalesce(");
            if ((rc = expr(g, n->kid[i])))
                return rc;
            put(g, ", '')");
        }
        put(g, ")");
        return 0;
    case F_AGE: /* whole years, as PostgreSQL's age() counts them */
        if (g->pg) {
            put(g, "CAST(date_part('year', age(");
            if ((rc = today_param(g, n)))
                return rc;
            return two(g, ", ", x, ")) AS bigint)", NULL, "");
        }
        if ((rc = two(g, "cr_age(", x, ", ", NULL, "")))
            return rc;
        if ((rc = today_param(g, n)))
            return rc;
        put(g, ")");
        return 0;
    case F_YEAR:
    case F_MONTH:
    case F_DAY:
        if (g->pg)
            return two(g,
                       n->fn == F_YEAR    ? "CAST(EXTRACT(YEAR FROM "
                       : n->fn == F_MONTH ? "CAST(EXTRACT(MONTH FROM "
                                          : "CAST(EXTRACT(DAY FROM ",
                       x, ") AS bigint)", NULL, "");
        return two(g, "CAST(substr(", x,
                   n->fn == F_YEAR    ? ", 1, 4) AS INTEGER)"
                   : n->fn == F_MONTH ? ", 6, 2) AS INTEGER)"
                                      : ", 9, 2) AS INTEGER)",
                   NULL, "");
    default:
        CR_BUG("function %d", n->fn);
    }
}

/*
 * Membership and behaviour: `pid IN (subquery)`, which both backends run as one semi-join
 * (SQLite builds the subquery's set once) rather than a probe per row. The subqueries never
 * yield NULL, so `not opened(D)` is true for everyone who did not open.
 */
static int predicate(struct gen *g, const struct node *n)
{
    const char *pid = g->q->dimension == CR_QUERY_SUBSCRIPTION ? "s.profile_id" : "p.id";
    const struct node *a = n->kid[0];
    int rc = 0;
    putf(g, "(%s IN (", pid);
    switch (n->fn) {
    case F_IN_LIST:
        put(g, "SELECT cr_lm.profile_id FROM list_member cr_lm WHERE cr_lm.list_id = "
               "(SELECT cr_l.id FROM list cr_l WHERE cr_l.name = ");
        rc = text_param(g, a->val.text, a->val.len, a->line, a->col);
        put(g, ")");
        break;
    case F_SUBSCRIBED:
        put(g, "SELECT cr_sb.profile_id FROM subscription cr_sb WHERE cr_sb.app = ");
        rc = text_param(g, a->val.text, a->val.len, a->line, a->col);
        if (!rc && n->nkid == 2) {
            put(g, " AND cr_sb.platform = ");
            rc = text_param(g, n->kid[1]->val.text, n->kid[1]->val.len, n->kid[1]->line,
                            n->kid[1]->col);
        }
        put(g, " AND cr_sb.active");
        break;
    case F_SENT:
    case F_DELIVERED:
    case F_BOUNCED:
        put(g, "SELECT cr_dl.profile_id FROM delivery_log cr_dl WHERE cr_dl.delivery_id = ");
        rc = int_param(g, n->delivery, a->line, a->col);
        put(g, n->fn == F_SENT        ? " AND cr_dl.status IN ('sent', 'delivered')"
               : n->fn == F_DELIVERED ? " AND cr_dl.status = 'delivered'"
                                      : " AND cr_dl.status = 'failed'");
        put(g, " AND cr_dl.profile_id IS NOT NULL");
        break;
    case F_OPENED:
    case F_CLICKED:
    case F_UNSUBSCRIBED:
        put(g, "SELECT cr_tl.profile_id FROM tracking_log cr_tl WHERE cr_tl.delivery_id = ");
        rc = int_param(g, n->delivery, a->line, a->col);
        /* a click proves an open, images shown or not */
        put(g, n->fn == F_OPENED    ? " AND cr_tl.kind IN ('open', 'click')"
               : n->fn == F_CLICKED ? " AND cr_tl.kind = 'click'"
                                    : " AND cr_tl.kind = 'unsubscribe'");
        put(g, " AND cr_tl.profile_id IS NOT NULL");
        if (!rc && n->fn == F_CLICKED && n->nkid == 2) {
            const struct node *link = n->kid[1];
            put(g, " AND cr_tl.link_id IN (SELECT cr_du.link_id FROM delivery_url cr_du "
                   "WHERE cr_du.delivery_id = ");
            if (!(rc = int_param(g, n->delivery, a->line, a->col))) {
                put(g, " AND (cr_du.label = ");
                rc = text_param(g, link->val.text, link->val.len, link->line, link->col);
            }
            if (!rc) {
                put(g, " OR cr_du.url = ");
                rc = text_param(g, link->val.text, link->val.len, link->line, link->col);
            }
            put(g, "))");
        }
        break;
    default:
        CR_BUG("predicate %d", n->fn);
    }
    put(g, "))");
    return rc;
}

/* ---------------------------------------------------------------- age() on SQLite */

/* age(x) compared with a constant N >= 1, as a comparison of x with a bound: for N >= 1,
 * age(x) >= N exactly when x <= today() with its year lowered by N, compared as text (the
 * day kept even where that year lacks it), which is how cr_age() counts. The same answers
 * without a function call per row, and an index on x can serve it. */
static const struct node *age_of(const struct node *n)
{
    return n->kind == N_CALL && n->fn == F_AGE ? n->kid[0] : NULL;
}

static int small_years(const struct node *n, int64_t *v)
{
    if (n->kind != N_CONST || n->val.type != CR_QT_INTEGER || n->val.i < 1 || n->val.i > 9000)
        return 0;
    *v = n->val.i;
    return 1;
}

static int years_ago(struct gen *g, const struct node *at, int64_t years)
{
    struct cr_query_param v = {0};
    v.type = CR_QT_DATE;
    v.base = CR_QB_YEARS_AGO;
    v.i = years;
    v.line = at->line;
    v.col = at->col;
    return param(g, &v, CR_QT_DATE);
}

/* (x <= bound(lo)) and/or (x > bound(hi + 1)), for age >= lo and age <= hi (0: no bound). */
static int age_range(struct gen *g, const struct node *at, const struct node *x, int64_t lo,
                     int64_t hi, int negated)
{
    int rc;
    put(g, negated ? "(NOT (" : "(");
    if (lo) {
        if ((rc = expr(g, x)))
            return rc;
        put(g, " <= ");
        if ((rc = years_ago(g, at, lo)))
            return rc;
    }
    if (lo && hi)
        put(g, " AND ");
    if (hi) {
        if ((rc = expr(g, x)))
            return rc;
        put(g, " > ");
        if ((rc = years_ago(g, at, hi + 1)))
            return rc;
    }
    put(g, negated ? "))" : ")");
    return 0;
}

/* Returns 1 (and *rc) when n was written this way, 0 to write it the general way. */
static int age_compare(struct gen *g, const struct node *n, int *rc)
{
    const struct node *x;
    int64_t a, b;
    int op = n->op;
    if (g->pg)
        return 0;
    if (n->kind == N_BETWEEN) {
        if (!(x = age_of(n->kid[0])) || !small_years(n->kid[1], &a) || !small_years(n->kid[2], &b))
            return 0;
        *rc = age_range(g, n, x, a, b, n->negated);
        return 1;
    }
    if ((x = age_of(n->kid[0])) && small_years(n->kid[1], &a)) {
        /* age(x) op N */
    } else if ((x = age_of(n->kid[1])) && small_years(n->kid[0], &a)) {
        /* N op age(x): the operator seen from age(x) */
        op = op == TK_LT   ? TK_GT
             : op == TK_GT ? TK_LT
             : op == TK_LE ? TK_GE
             : op == TK_GE ? TK_LE
                           : op;
    } else {
        return 0;
    }
    switch (op) {
    case TK_GE:
        *rc = age_range(g, n, x, a, 0, 0);
        break;
    case TK_GT:
        *rc = age_range(g, n, x, a + 1, 0, 0);
        break;
    case TK_LT: /* age <= N - 1; N - 1 may be 0: then x > bound(1) */
        *rc = a > 1 ? age_range(g, n, x, 0, a - 1, 0) : age_range(g, n, x, 1, 0, 1);
        break;
    case TK_LE:
        *rc = age_range(g, n, x, 0, a, 0);
        break;
    case TK_EQ:
        *rc = age_range(g, n, x, a, a, 0);
        break;
    default: /* != */
        *rc = age_range(g, n, x, a, a, 1);
        break;
    }
    return 1;
}

/* ---------------------------------------------------------------- expressions */

/* Up to FLAT_CHAIN terms as (a OR b OR c), which SQLite parses with a constant stack; longer
 * chains as a balanced tree of such groups, so neither the parser stack nor the expression
 * depth grows with the number of terms. */
static int andor(struct gen *g, const struct node *n, int lo, int hi)
{
    const char *op = n->op == TK_AND ? " AND " : " OR ";
    int rc;
    if (hi - lo == 1)
        return expr(g, n->kid[lo]);
    put(g, "(");
    if (hi - lo <= FLAT_CHAIN) {
        for (int i = lo; i < hi; i++) {
            if (i > lo)
                put(g, op);
            if ((rc = expr(g, n->kid[i])))
                return rc;
        }
    } else {
        int mid = lo + (hi - lo) / 2;
        if ((rc = andor(g, n, lo, mid)))
            return rc;
        put(g, op);
        if ((rc = andor(g, n, mid, hi)))
            return rc;
    }
    put(g, ")");
    return 0;
}

static int expr_node(struct gen *g, const struct node *n);

static int expr(struct gen *g, const struct node *n)
{
    const struct node *outer = g->cur;
    int rc;
    if (!n) /* two() with no second operand */
        return 0;
    g->cur = n;
    rc = expr_node(g, n);
    g->cur = outer;
    if (!rc && g->q->err.code) /* the stack estimate went over the budget */
        rc = g->q->err.code;
    return rc;
}

static int expr_node(struct gen *g, const struct node *n)
{
    int rc;
    if (g->sql.err)
        return cr__qerr(g->q, CR_ETOOBIG, n->line, n->col,
                        "the filter's SQL is too long (more than %d bytes)", MAX_SQL);
    switch (n->kind) {
    case N_CONST:
        return param(g, &n->val, n->type);
    case N_COLUMN:
        column(g, n);
        return 0;
    case N_NEG:
        return two(g, "(-(", n->kid[0], "))", NULL, "");
    case N_NOT:
        return two(g, "(NOT ", n->kid[0], ")", NULL, "");
    case N_ANDOR:
        return andor(g, n, 0, n->nkid);
    case N_ARITH:
        return arith(g, n);
    case N_CMP:
        if (age_compare(g, n, &rc))
            return rc;
        put(g, "(");
        if ((rc = expr(g, n->kid[0])))
            return rc;
        collate_c(g, n->op == TK_EQ || n->op == TK_NE ? CR_QT_NULL : n->kid[0]->type);
        return two(g, "", NULL, cmp_sql(n->op), n->kid[1], ")");
    case N_ISNULL:
        return two(g, "(", n->kid[0], n->negated ? " IS NOT NULL)" : " IS NULL)", NULL, "");
    case N_IN:
        put(g, "(");
        if ((rc = expr(g, n->kid[0])))
            return rc;
        put(g, n->negated ? " NOT IN (" : " IN (");
        for (int i = 1; i < n->nkid; i++) {
            if (i > 1)
                put(g, ", ");
            if ((rc = expr(g, n->kid[i])))
                return rc;
        }
        put(g, "))");
        return 0;
    case N_BETWEEN:
        if (age_compare(g, n, &rc))
            return rc;
        put(g, "(");
        if ((rc = expr(g, n->kid[0])))
            return rc;
        collate_c(g, n->kid[0]->type);
        put(g, n->negated ? " NOT BETWEEN " : " BETWEEN ");
        return two(g, "", n->kid[1], " AND ", n->kid[2], ")");
    case N_LIKE:
        return like(g, n);
    case N_CAST:
        return conversion(g, n);
    case N_CALL:
        return n->fn >= F_IN_LIST ? predicate(g, n) : function(g, n);
    case N_NAME:
        break;
    }
    CR_BUG("sqlgen: node kind %d", (int)n->kind);
}

int cr__sqlgen(struct cr__qctx *q, const struct node *root, enum cr_dialect dialect,
               struct cr_query *out)
{
    struct gen g;
    int rc, atom;
    memset(&g, 0, sizeof g);
    g.q = q;
    g.pg = dialect == CR_DIALECT_POSTGRES;
    g.check = !g.pg;
    cr_buf_init(&g.sql, MAX_SQL);
    cr_buf_init(&g.lower_from, 0);
    cr_buf_init(&g.lower_to, 0);
    cr_buf_init(&g.upper_from, 0);
    cr_buf_init(&g.upper_to, 0);
    /* where is self-contained: atoms (a boolean column, a value, a call) get parentheses. */
    atom = root->kind == N_CONST || root->kind == N_COLUMN || root->kind == N_CAST ||
           (root->kind == N_CALL && root->fn < F_IN_LIST);
    if (atom)
        put(&g, "(");
    rc = expr(&g, root);
    if (atom)
        put(&g, ")");
    if (!rc && g.sql.err)
        rc = cr__qerr(q, CR_ETOOBIG, root->line, root->col,
                      "the filter's SQL is too long (more than %d bytes)", MAX_SQL);
    cr_buf_release(&g.lower_from);
    cr_buf_release(&g.lower_to);
    cr_buf_release(&g.upper_from);
    cr_buf_release(&g.upper_to);
    out->params = g.params;
    out->nparams = g.nparams;
    if (rc) {
        cr_buf_release(&g.sql);
        return rc;
    }
    out->where = cr_buf_detach(&g.sql, NULL);
    return 0;
}
