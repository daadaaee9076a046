/*
 * parse.c - the filter language's parser: tokens to a syntax tree
 *
 * Recursive descent with precedence climbing over a priority table [Lua subexpr()]:
 *   or < and < not < comparison (= != <> < <= > >= is in like ilike between) < + - < * / < -x
 * Comparisons do not chain (`a < b < c` is an error). Chains of `and` / `or` become one
 * n-ary node, so a long list of conditions is wide, not deep. Nesting is bounded by the
 * depth limit (CR_ETOOBIG), never by the C stack. Knows no names and no types: resolve.c.
 *
 * Spec: docs/filter-language.md §Grammar.
 *
 *   filter  -> expr EOF
 *   expr    -> unary { binop expr }          (precedence climbing, see priority[])
 *   unary   -> 'not' expr | '-' expr | '+' expr | primary
 *   primary -> INTEGER | DECIMAL | DURATION | STRING | 'true' | 'false' | 'null'
 *            | 'date' STRING | 'timestamp' STRING | 'interval' STRING
 *            | name [ '.' name ] | IDENT '(' [ expr { ',' expr } ] ')' | '(' expr ')'
 *   comparison tails: cmp expr | 'is' ['not'] 'null' | ['not'] 'in' '(' expr {',' expr} ')'
 *            | ['not'] ('like' | 'ilike') expr | ['not'] 'between' expr 'and' expr
 */
#include "query/query_int.h"

#include <stdio.h>
#include <string.h>

#include "core/datetime.h"

enum binop { /* ORDER: priority[] */
             B_NONE,
             B_OR,
             B_AND,
             B_EQ,
             B_NE,
             B_LT,
             B_LE,
             B_GT,
             B_GE,
             B_IS,
             B_IN,
             B_LIKE,
             B_ILIKE,
             B_BETWEEN,
             B_NOT_IN,
             B_NOT_LIKE,
             B_NOT_ILIKE,
             B_NOT_BETWEEN,
             B_ADD,
             B_SUB,
             B_MUL,
             B_DIV,
};

#define CMP_PRIORITY 4
static const struct {
    unsigned char left, right; /* left > limit to bind; right is the limit for the operand */
} priority[] = {
    /* ORDER: enum binop */
    {0, 0},                       /* none */
    {1, 1},                       /* or */
    {2, 2},                       /* and */
    {CMP_PRIORITY, CMP_PRIORITY}, /* = */
    {CMP_PRIORITY, CMP_PRIORITY}, /* != */
    {CMP_PRIORITY, CMP_PRIORITY}, /* < */
    {CMP_PRIORITY, CMP_PRIORITY}, /* <= */
    {CMP_PRIORITY, CMP_PRIORITY}, /* > */
    {CMP_PRIORITY, CMP_PRIORITY}, /* >= */
    {CMP_PRIORITY, CMP_PRIORITY}, /* is */
    {CMP_PRIORITY, CMP_PRIORITY}, /* in */
    {CMP_PRIORITY, CMP_PRIORITY}, /* like */
    {CMP_PRIORITY, CMP_PRIORITY}, /* ilike */
    {CMP_PRIORITY, CMP_PRIORITY}, /* between */
    {CMP_PRIORITY, CMP_PRIORITY}, /* not in */
    {CMP_PRIORITY, CMP_PRIORITY}, /* not like */
    {CMP_PRIORITY, CMP_PRIORITY}, /* not ilike */
    {CMP_PRIORITY, CMP_PRIORITY}, /* not between */
    {5, 5},                       /* + */
    {5, 5},                       /* - */
    {6, 6},                       /* * */
    {6, 6},                       /* / */
};
#define NOT_PRIORITY 3   /* not a = b is not (a = b); not a and b is (not a) and b */
#define MINUS_PRIORITY 7 /* -a * b is (-a) * b */

struct parser {
    struct lexer lx;
    struct cr__qctx *q;
    int level;     /* recursion depth */
    enum tok prev; /* the token before cur, for hints */
};

static int parse_expr(struct parser *ps, int limit, struct node **out);

static int next(struct parser *ps)
{
    ps->prev = ps->lx.cur.kind;
    return cr__lex_next(&ps->lx);
}

static const struct token *cur(struct parser *ps)
{
    return &ps->lx.cur;
}

static int enter(struct parser *ps)
{
    if (++ps->level > ps->q->max_depth)
        return cr__qerr(ps->q, CR_ETOOBIG, cur(ps)->line, cur(ps)->col,
                        "expression nested too deeply (more than %d levels)", ps->q->max_depth);
    return 0;
}

static int is_comparison(enum binop op)
{
    return priority[op].left == CMP_PRIORITY;
}

/* The binary operator at cur; `not` counts only before in/like/ilike/between. */
static enum binop binop_of(struct parser *ps)
{
    switch (cur(ps)->kind) {
    case TK_OR:
        return B_OR;
    case TK_AND:
        return B_AND;
    case TK_EQ:
        return B_EQ;
    case TK_NE:
        return B_NE;
    case TK_LT:
        return B_LT;
    case TK_LE:
        return B_LE;
    case TK_GT:
        return B_GT;
    case TK_GE:
        return B_GE;
    case TK_IS:
        return B_IS;
    case TK_IN:
        return B_IN;
    case TK_LIKE:
        return B_LIKE;
    case TK_ILIKE:
        return B_ILIKE;
    case TK_BETWEEN:
        return B_BETWEEN;
    case TK_PLUS:
        return B_ADD;
    case TK_MINUS:
        return B_SUB;
    case TK_STAR:
        return B_MUL;
    case TK_SLASH:
        return B_DIV;
    case TK_NOT:
        switch (cr__lex_peek(&ps->lx)->kind) {
        case TK_IN:
            return B_NOT_IN;
        case TK_LIKE:
            return B_NOT_LIKE;
        case TK_ILIKE:
            return B_NOT_ILIKE;
        case TK_BETWEEN:
            return B_NOT_BETWEEN;
        default:
            return B_NONE;
        }
    default:
        return B_NONE;
    }
}

/* "WHAT expected WHERE (found X)" at the current token. */
static int expected(struct parser *ps, const char *what, const char *where)
{
    char found[64];
    return cr__qerr(ps->q, CR_ESYNTAX, cur(ps)->line, cur(ps)->col, "%s expected%s (found %s)",
                    what, where, cr__tok_describe(cur(ps), found, sizeof found));
}

/* ---------------------------------------------------------------- primary */

/* date 'YYYY-MM-DD', timestamp '...', interval '...': the value is checked here, so a bad
 * literal is reported where it is written. */
static int typed_literal(struct parser *ps, struct node **out)
{
    struct cr_err e = CR_ERR_INIT;
    enum tok kw = cur(ps)->kind;
    struct node *n = cr__node_new(ps->q, N_CONST, cur(ps)->line, cur(ps)->col);
    const struct token *t;
    int rc;
    if ((rc = next(ps)))
        return rc;
    t = cur(ps);
    if (t->kind != TK_STRING) {
        char found[64];
        return cr__qerr(ps->q, CR_ESYNTAX, t->line, t->col,
                        "string expected after '%s' (found %s; write %s)", cr__tok_name(kw),
                        cr__tok_describe(t, found, sizeof found),
                        kw == TK_DATE        ? "date '2026-01-31'"
                        : kw == TK_TIMESTAMP ? "timestamp '2026-01-31 09:00:00'"
                                             : "interval '30 days'");
    }
    if (kw == TK_DATE) {
        n->val.type = CR_QT_DATE;
        if (cr_date_parse(t->s, t->slen, &n->val.i, &e))
            return cr__qerr(ps->q, CR_EINVAL, t->line, t->col, "%s", e.msg);
        if (n->val.i < CR__MIN_DAYS || n->val.i > CR__MAX_DAYS)
            return cr__qerr(ps->q, CR_EINVAL, t->line, t->col,
                            "date '%s' is out of range (years 1 to 9999)", t->s);
    } else if (kw == TK_TIMESTAMP) {
        n->val.type = CR_QT_TIMESTAMP;
        if (cr_time_parse(t->s, t->slen, &n->val.i, &e))
            return cr__qerr(ps->q, CR_EINVAL, t->line, t->col, "%s", e.msg);
        if (n->val.i < CR__MIN_DAYS * CR__USEC_PER_DAY ||
            n->val.i >= (CR__MAX_DAYS + 1) * CR__USEC_PER_DAY)
            return cr__qerr(ps->q, CR_EINVAL, t->line, t->col,
                            "timestamp '%.40s' is out of range (years 1 to 9999)", t->s);
    } else {
        n->val.type = CR_QT_INTERVAL;
        if ((rc = cr__lex_duration(ps->q, t->s, t->slen, t->line, t->col, &n->val.i)))
            return rc;
    }
    n->val.line = n->line;
    n->val.col = n->col;
    *out = n;
    return next(ps);
}

/* name '(' [ expr { ',' expr } ] ')' */
static int call(struct parser *ps, struct node *n)
{
    int line = cur(ps)->line, col = cur(ps)->col, rc;
    n->kind = N_CALL;
    if ((rc = next(ps))) /* ( */
        return rc;
    if (cur(ps)->kind == TK_RPAREN)
        return next(ps);
    for (;;) {
        struct node *arg;
        if ((rc = parse_expr(ps, 0, &arg)) || (rc = cr__node_add(ps->q, n, arg)))
            return rc;
        if (cur(ps)->kind == TK_COMMA) {
            if ((rc = next(ps)))
                return rc;
            continue;
        }
        if (cur(ps)->kind == TK_RPAREN)
            return next(ps);
        {
            char found[64];
            return cr__qerr(ps->q, CR_ESYNTAX, cur(ps)->line, cur(ps)->col,
                            "',' or ')' expected in the arguments of %s (opened at %d:%d; "
                            "found %s)",
                            n->name, line, col, cr__tok_describe(cur(ps), found, sizeof found));
        }
    }
}

static int primary(struct parser *ps, struct node **out)
{
    const struct token *t = cur(ps);
    struct node *n;
    int rc;
    switch (t->kind) {
    case TK_INTEGER:
    case TK_DECIMAL:
    case TK_DURATION:
    case TK_STRING:
    case TK_TRUE:
    case TK_FALSE:
    case TK_NULL:
        n = cr__node_new(ps->q, N_CONST, t->line, t->col);
        n->val.line = t->line;
        n->val.col = t->col;
        switch (t->kind) {
        case TK_INTEGER:
            n->val.type = CR_QT_INTEGER;
            n->val.i = t->i;
            break;
        case TK_DECIMAL:
            n->val.type = CR_QT_REAL;
            n->val.d = t->d;
            break;
        case TK_DURATION:
            n->val.type = CR_QT_INTERVAL;
            n->val.i = t->i;
            break;
        case TK_STRING:
            n->val.type = CR_QT_TEXT;
            n->val.text = t->s;
            n->val.len = t->slen;
            n->literal_string = 1;
            break;
        case TK_TRUE:
        case TK_FALSE:
            n->val.type = CR_QT_BOOLEAN;
            n->val.i = t->kind == TK_TRUE;
            break;
        default:
            n->val.type = CR_QT_NULL;
            break;
        }
        *out = n;
        return next(ps);
    case TK_DATE:
    case TK_TIMESTAMP:
    case TK_INTERVAL:
        return typed_literal(ps, out);
    case TK_IDENT:
    case TK_QIDENT: {
        int quoted = t->kind == TK_QIDENT;
        n = cr__node_new(ps->q, N_NAME, t->line, t->col);
        n->name = t->s;
        n->quoted = quoted;
        if ((rc = next(ps)))
            return rc;
        if (cur(ps)->kind == TK_LPAREN && !quoted) {
            *out = n;
            return call(ps, n);
        }
        if (cur(ps)->kind == TK_DOT) {
            if ((rc = next(ps)))
                return rc;
            if (cur(ps)->kind != TK_IDENT && cur(ps)->kind != TK_QIDENT)
                return expected(ps, "a column name", " after '.'");
            n->qual = n->name;
            n->name = cur(ps)->s;
            n->quoted = cur(ps)->kind == TK_QIDENT;
            if ((rc = next(ps)))
                return rc;
        }
        *out = n;
        return 0;
    }
    case TK_LPAREN: {
        int line = t->line, col = t->col;
        if ((rc = next(ps)) || (rc = parse_expr(ps, 0, &n)))
            return rc;
        if (cur(ps)->kind != TK_RPAREN) {
            char found[64];
            return cr__qerr(ps->q, CR_ESYNTAX, cur(ps)->line, cur(ps)->col,
                            "')' expected (to close '(' at %d:%d; found %s)", line, col,
                            cr__tok_describe(cur(ps), found, sizeof found));
        }
        n->parens = 1;
        *out = n;
        return next(ps);
    }
    default: {
        char found[64];
        return cr__qerr(ps->q, CR_ESYNTAX, t->line, t->col,
                        "a value, a name or '(' expected (found %s)",
                        cr__tok_describe(t, found, sizeof found));
    }
    }
}

/* ---------------------------------------------------------------- operators */

static enum tok cmp_tok(enum binop op)
{
    switch (op) {
    case B_EQ:
        return TK_EQ;
    case B_NE:
        return TK_NE;
    case B_LT:
        return TK_LT;
    case B_LE:
        return TK_LE;
    case B_GT:
        return TK_GT;
    case B_GE:
        return TK_GE;
    case B_ADD:
        return TK_PLUS;
    case B_SUB:
        return TK_MINUS;
    case B_MUL:
        return TK_STAR;
    case B_DIV:
        return TK_SLASH;
    case B_AND:
        return TK_AND;
    default:
        return TK_OR;
    }
}

/* Appends rhs to an and/or node, flattening same-operator chains. */
static int andor(struct parser *ps, enum binop op, int line, int col, struct node **e,
                 struct node *rhs)
{
    enum tok k = cmp_tok(op);
    struct node *n = *e;
    int rc;
    if (!(n->kind == N_ANDOR && n->op == (int)k)) {
        n = cr__node_new(ps->q, N_ANDOR, line, col);
        n->op = (int)k;
        if ((rc = cr__node_add(ps->q, n, *e)))
            return rc;
    }
    if (rhs->kind == N_ANDOR && rhs->op == (int)k) {
        for (int i = 0; i < rhs->nkid; i++)
            if ((rc = cr__node_add(ps->q, n, rhs->kid[i])))
                return rc;
    } else if ((rc = cr__node_add(ps->q, n, rhs))) {
        return rc;
    }
    *e = n;
    return 0;
}

/* The part of a comparison after its operator (already consumed). */
static int comparison(struct parser *ps, enum binop op, int line, int col, struct node **e)
{
    struct node *n, *rhs;
    int rc;
    switch (op) {
    case B_IS:
        n = cr__node_new(ps->q, N_ISNULL, line, col);
        if (cur(ps)->kind == TK_NOT) {
            n->negated = 1;
            if ((rc = next(ps)))
                return rc;
        }
        if (cur(ps)->kind != TK_NULL)
            return expected(ps, "'null'", n->negated ? " after 'is not'" : " after 'is'");
        if ((rc = next(ps)))
            return rc;
        break;
    case B_IN:
    case B_NOT_IN:
        n = cr__node_new(ps->q, N_IN, line, col);
        n->negated = op == B_NOT_IN;
        if ((rc = cr__node_add(ps->q, n, *e)))
            return rc;
        if (cur(ps)->kind != TK_LPAREN) {
            char found[64];
            return cr__qerr(ps->q, CR_ESYNTAX, cur(ps)->line, cur(ps)->col,
                            "'(' expected after 'in' (found %s; write country in ('FR', 'BE'))",
                            cr__tok_describe(cur(ps), found, sizeof found));
        }
        if ((rc = next(ps)))
            return rc;
        if (cur(ps)->kind == TK_RPAREN)
            return cr__qerr(ps->q, CR_ESYNTAX, cur(ps)->line, cur(ps)->col,
                            "empty list after 'in'");
        for (;;) {
            if ((rc = parse_expr(ps, 0, &rhs)) || (rc = cr__node_add(ps->q, n, rhs)))
                return rc;
            if (cur(ps)->kind == TK_COMMA) {
                if ((rc = next(ps)))
                    return rc;
                continue;
            }
            if (cur(ps)->kind != TK_RPAREN)
                return expected(ps, "',' or ')'", " in the list after 'in'");
            break;
        }
        *e = n;
        return next(ps);
    case B_LIKE:
    case B_ILIKE:
    case B_NOT_LIKE:
    case B_NOT_ILIKE:
        n = cr__node_new(ps->q, N_LIKE, line, col);
        n->op = op == B_LIKE || op == B_NOT_LIKE ? TK_LIKE : TK_ILIKE;
        n->negated = op == B_NOT_LIKE || op == B_NOT_ILIKE;
        if ((rc = cr__node_add(ps->q, n, *e)) || (rc = parse_expr(ps, CMP_PRIORITY, &rhs)) ||
            (rc = cr__node_add(ps->q, n, rhs)))
            return rc;
        *e = n;
        return 0;
    case B_BETWEEN:
    case B_NOT_BETWEEN:
        n = cr__node_new(ps->q, N_BETWEEN, line, col);
        n->negated = op == B_NOT_BETWEEN;
        if ((rc = cr__node_add(ps->q, n, *e)) || (rc = parse_expr(ps, CMP_PRIORITY, &rhs)) ||
            (rc = cr__node_add(ps->q, n, rhs)))
            return rc;
        if (cur(ps)->kind != TK_AND)
            return expected(ps, "'and'", " in 'between ... and ...'");
        if ((rc = next(ps)) || (rc = parse_expr(ps, CMP_PRIORITY, &rhs)) ||
            (rc = cr__node_add(ps->q, n, rhs)))
            return rc;
        *e = n;
        return 0;
    default:
        n = cr__node_new(ps->q, N_CMP, line, col);
        n->op = (int)cmp_tok(op);
        if ((rc = cr__node_add(ps->q, n, *e)) || (rc = parse_expr(ps, CMP_PRIORITY, &rhs)) ||
            (rc = cr__node_add(ps->q, n, rhs)))
            return rc;
        *e = n;
        return 0;
    }
    if ((rc = cr__node_add(ps->q, n, *e)))
        return rc;
    *e = n;
    return 0;
}

/* expr -> unary { binop expr }, binding only operators whose left priority > limit. */
static int parse_expr(struct parser *ps, int limit, struct node **out)
{
    struct node *e = NULL;
    enum binop op;
    int rc, compared = 0;
    if ((rc = enter(ps)))
        return rc;
    if (cur(ps)->kind == TK_NOT || cur(ps)->kind == TK_MINUS || cur(ps)->kind == TK_PLUS) {
        enum tok k = cur(ps)->kind;
        int line = cur(ps)->line, col = cur(ps)->col;
        struct node *operand;
        if ((rc = next(ps)) ||
            (rc = parse_expr(ps, k == TK_NOT ? NOT_PRIORITY : MINUS_PRIORITY, &operand)))
            return rc;
        if (k == TK_PLUS) {
            e = operand;
        } else {
            e = cr__node_new(ps->q, k == TK_NOT ? N_NOT : N_NEG, line, col);
            if ((rc = cr__node_add(ps->q, e, operand)))
                return rc;
        }
    } else if ((rc = primary(ps, &e))) {
        return rc;
    }
    while ((op = binop_of(ps)) != B_NONE && priority[op].left > limit) {
        int line = cur(ps)->line, col = cur(ps)->col;
        struct node *rhs;
        if (is_comparison(op) && compared)
            return cr__qerr(ps->q, CR_ESYNTAX, line, col,
                            "comparisons do not chain (use 'and': a < b and b < c)");
        if (op >= B_NOT_IN && op <= B_NOT_BETWEEN && (rc = next(ps))) /* not */
            return rc;
        if ((rc = next(ps)))
            return rc;
        if (is_comparison(op)) {
            rc = comparison(ps, op, line, col, &e);
        } else if (op == B_AND || op == B_OR) {
            if (!(rc = parse_expr(ps, priority[op].right, &rhs)))
                rc = andor(ps, op, line, col, &e, rhs);
        } else {
            struct node *n = cr__node_new(ps->q, N_ARITH, line, col);
            n->op = (int)cmp_tok(op);
            if (!(rc = cr__node_add(ps->q, n, e)) &&
                !(rc = parse_expr(ps, priority[op].right, &rhs)))
                rc = cr__node_add(ps->q, n, rhs);
            e = n;
        }
        if (rc)
            return rc;
        compared = is_comparison(op);
    }
    ps->level--;
    *out = e;
    return 0;
}

static const char *const keyword_words[] = {"and", "or",   "not",   "is",     "null",
                                            "in",  "like", "ilike", "between"};

static int is_unit(const char *w)
{
    static const char *const units[] = {"s",     "sec",   "secs",   "second",  "seconds", "m",
                                        "min",   "mins",  "minute", "minutes", "h",       "hour",
                                        "hours", "d",     "day",    "days",    "w",       "week",
                                        "weeks", "month", "months", "year",    "years"};
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (strcmp(w, units[i]) == 0)
            return 1;
    return 0;
}

/* What follows a complete expression must be the end: say what could have been meant. */
static int trailing(struct parser *ps)
{
    const struct token *t = cur(ps);
    char found[64];
    const char *near;
    cr__tok_describe(t, found, sizeof found);
    if (t->kind == TK_IDENT && (ps->prev == TK_INTEGER || ps->prev == TK_DECIMAL) && is_unit(t->s))
        return cr__qerr(ps->q, CR_ESYNTAX, t->line, t->col,
                        "unexpected %s (durations are written 30d, 12h, or interval '30 days')",
                        found);
    if (t->kind == TK_IDENT &&
        (near = cr__closest(t->s, keyword_words, sizeof keyword_words / sizeof *keyword_words)))
        return cr__qerr(ps->q, CR_ESYNTAX, t->line, t->col, "unexpected %s (did you mean '%s'?)",
                        found, near);
    if (t->kind == TK_RPAREN)
        return cr__qerr(ps->q, CR_ESYNTAX, t->line, t->col, "unexpected ')' (no '(' to close)");
    if (t->kind == TK_NOT)
        return cr__qerr(ps->q, CR_ESYNTAX, t->line, t->col,
                        "unexpected 'not' (write 'not' before a condition, or use not in, not "
                        "like, not between, is not null)");
    return cr__qerr(ps->q, CR_ESYNTAX, t->line, t->col,
                    "unexpected %s (expected 'and', 'or' or the end of the filter)", found);
}

int cr__parse(struct cr__qctx *q, struct node **out)
{
    struct parser ps;
    int rc;
    memset(&ps, 0, sizeof ps);
    ps.q = q;
    ps.prev = TK_EOF;
    if ((rc = cr__lex_init(&ps.lx, q)))
        return rc;
    if (cur(&ps)->kind == TK_EOF)
        return cr__qerr(q, CR_ESYNTAX, cur(&ps)->line, cur(&ps)->col,
                        "empty filter (write a condition, e.g. tier = 'gold')");
    if ((rc = parse_expr(&ps, 0, out)))
        return rc;
    if (cur(&ps)->kind != TK_EOF)
        return trailing(&ps);
    /* An error met while looking ahead is reported even if the rest parsed. */
    return q->err.code;
}
