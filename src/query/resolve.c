/*
 * resolve.c - the filter's meaning: names against the catalogue, types, conversions, folding
 *
 * Input: the tree of parse.c. Output: the same tree where every name is a catalogue column
 * or a known function, every node has a type, implicit conversions are explicit N_CAST nodes
 * (a date compared with a timestamp, a string literal compared with a date), and constant
 * date and time arithmetic is folded (`now() - 30d` becomes one clock-relative value, so the
 * SQL compares a column with a parameter and can use an index). Type errors are reported
 * here, at the operator, before any SQL exists. Writes no SQL: sqlgen.c.
 *
 * Spec: docs/filter-language.md §Types, §Functions, §Predicates.
 */
#include "query/query_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/datetime.h"

static const struct {
    const char *name;
    int min, max; /* arguments */
} funcs[] = {
    /* ORDER: enum qfn */
    {"lower", 1, 1},      {"upper", 1, 1},      {"trim", 1, 1},    {"length", 1, 1},
    {"coalesce", 2, 100}, {"concat", 2, 100},   {"now", 0, 0},     {"today", 0, 0},
    {"age", 1, 1},        {"year", 1, 1},       {"month", 1, 1},   {"day", 1, 1},
    {"in_list", 1, 1},    {"subscribed", 1, 2}, {"sent", 1, 1},    {"delivered", 1, 1},
    {"opened", 1, 1},     {"clicked", 1, 2},    {"bounced", 1, 1}, {"unsubscribed", 1, 1},
};
#define NFUNCS ((int)(sizeof funcs / sizeof *funcs))

const char *cr__fn_name(int fn)
{
    return funcs[fn].name;
}

static int resolve(struct cr__qctx *q, struct node **np);

static const char *tname(enum cr_query_type t)
{
    return cr_query_type_name(t);
}

static int is_num(enum cr_query_type t)
{
    return t == CR_QT_INTEGER || t == CR_QT_REAL;
}

static int is_time(enum cr_query_type t)
{
    return t == CR_QT_DATE || t == CR_QT_TIMESTAMP;
}

/* A string literal not yet read as anything else. */
static int is_lit(const struct node *n)
{
    return n->kind == N_CONST && n->literal_string;
}

/* A constant with a value (not null). */
static int is_value(const struct node *n)
{
    return n->kind == N_CONST && n->val.type != CR_QT_NULL;
}

static int err_at(struct cr__qctx *q, const struct node *n, int code, const char *fmt, ...)
    CR_PRINTF(4, 5);
static int err_at(struct cr__qctx *q, const struct node *n, int code, const char *fmt, ...)
{
    char msg[sizeof q->err.msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cr__qerr(q, code, n->line, n->col, "%s", msg);
}

/* ---------------------------------------------------------------- time arithmetic */

static int time_range_error(struct cr__qctx *q, const struct node *n)
{
    return err_at(q, n, CR_EINVAL, "date arithmetic goes outside years 1 to 9999");
}

static int check_days(struct cr__qctx *q, const struct node *n, enum cr_query_base base, int64_t d)
{
    if (base == CR_QB_ABSOLUTE ? (d < CR__MIN_DAYS || d > CR__MAX_DAYS)
                               : (d < -CR__MAX_OFFSET_USEC / CR__USEC_PER_DAY ||
                                  d > CR__MAX_OFFSET_USEC / CR__USEC_PER_DAY))
        return time_range_error(q, n);
    return 0;
}

static int check_usec(struct cr__qctx *q, const struct node *n, enum cr_query_base base, int64_t t)
{
    if (base == CR_QB_ABSOLUTE
            ? (t < CR__MIN_DAYS * CR__USEC_PER_DAY || t >= (CR__MAX_DAYS + 1) * CR__USEC_PER_DAY)
            : (t < -CR__MAX_OFFSET_USEC || t > CR__MAX_OFFSET_USEC))
        return time_range_error(q, n);
    return 0;
}

/* ---------------------------------------------------------------- conversions */

/* Reads string literal n as a date, timestamp or interval, where it is written. */
static int read_literal_as(struct cr__qctx *q, struct node *n, enum cr_query_type t)
{
    struct cr_err e = CR_ERR_INIT;
    int64_t v;
    int rc;
    switch (t) {
    case CR_QT_DATE:
        if (cr_date_parse(n->val.text, n->val.len, &v, &e))
            return err_at(q, n, CR_EINVAL, "%s", e.msg);
        if ((rc = check_days(q, n, CR_QB_ABSOLUTE, v)))
            return rc;
        break;
    case CR_QT_TIMESTAMP:
        if (cr_time_parse(n->val.text, n->val.len, &v, &e))
            return err_at(q, n, CR_EINVAL, "%s", e.msg);
        if ((rc = check_usec(q, n, CR_QB_ABSOLUTE, v)))
            return rc;
        break;
    case CR_QT_INTERVAL:
        if ((rc = cr__lex_duration(q, n->val.text, n->val.len, n->line, n->col, &v)))
            return rc;
        break;
    default:
        CR_BUG("read_literal_as %d", (int)t);
    }
    n->val.type = t;
    n->val.base = CR_QB_ABSOLUTE;
    n->val.i = v;
    n->val.text = NULL;
    n->val.len = 0;
    n->literal_string = 0;
    n->type = t;
    return 0;
}

static int wrap_cast(struct cr__qctx *q, struct node **np, enum cr_query_type t)
{
    struct node *c = cr__node_new(q, N_CAST, (*np)->line, (*np)->col);
    int rc = cr__node_add(q, c, *np);
    c->type = t;
    *np = c;
    return rc;
}

/*
 * Converts *np to type t, which the caller checked it can take: null takes t, a string
 * literal is read as t, a date becomes a timestamp (midnight), a timestamp becomes a date
 * (its day), an integer becomes a real only when numeric is set (elsewhere SQL compares and
 * computes mixed numbers the same way on both backends).
 */
static int coerce(struct cr__qctx *q, struct node **np, enum cr_query_type t, int numeric)
{
    struct node *n = *np;
    if (n->type == t)
        return 0;
    if (n->type == CR_QT_NULL) {
        if (n->kind == N_CONST) {
            n->type = t;
            return 0;
        }
        return wrap_cast(q, np, t);
    }
    if (is_lit(n) && (t == CR_QT_DATE || t == CR_QT_TIMESTAMP || t == CR_QT_INTERVAL))
        return read_literal_as(q, n, t);
    if (n->type == CR_QT_DATE && t == CR_QT_TIMESTAMP) {
        if (is_value(n)) {
            n->val.type = CR_QT_TIMESTAMP;
            n->val.i *= CR__USEC_PER_DAY; /* bounded by the day range */
            n->type = t;
            return 0;
        }
        return wrap_cast(q, np, t);
    }
    if (n->type == CR_QT_TIMESTAMP && t == CR_QT_DATE) {
        if (is_value(n) && n->val.base == CR_QB_ABSOLUTE) {
            n->val.type = CR_QT_DATE;
            n->val.i = cr__floor_div(n->val.i, CR__USEC_PER_DAY);
            n->type = t;
            return 0;
        }
        return wrap_cast(q, np, t);
    }
    if (n->type == CR_QT_INTEGER && t == CR_QT_REAL) {
        if (!numeric)
            return 0;
        if (is_value(n)) {
            n->val.type = CR_QT_REAL;
            n->val.d = (double)n->val.i;
            n->type = t;
            return 0;
        }
        return wrap_cast(q, np, t);
    }
    return err_at(q, n, CR_EINVAL, "cannot use a %s value as %s", tname(n->type), tname(t));
}

/* The type a and b compare as, or -1. */
static int join(enum cr_query_type a, enum cr_query_type b)
{
    if (a == CR_QT_NULL)
        return (int)b;
    if (b == CR_QT_NULL || a == b)
        return (int)a;
    if (is_num(a) && is_num(b))
        return CR_QT_REAL;
    if (is_time(a) && is_time(b))
        return CR_QT_TIMESTAMP;
    return -1;
}

static const char *mismatch_hint(enum cr_query_type a, enum cr_query_type b)
{
    if ((is_time(a) && is_num(b)) || (is_num(a) && is_time(b)))
        return " (write date '2026-01-31', or compare year(...), month(...), day(...))";
    if ((a == CR_QT_TEXT && is_num(b)) || (is_num(a) && b == CR_QT_TEXT))
        return " (numbers are written without quotes)";
    if (a == CR_QT_BOOLEAN || b == CR_QT_BOOLEAN)
        return " (booleans are true and false)";
    if (a == CR_QT_INTERVAL || b == CR_QT_INTERVAL)
        return " (durations are written 30d or interval '30 days')";
    return "";
}

/* fmt takes the two type names and the hint. */
static int mismatch(struct cr__qctx *q, const struct node *at, const char *fmt,
                    enum cr_query_type a, enum cr_query_type b)
{
    char msg[256];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(msg, sizeof msg, fmt, tname(a), tname(b), mismatch_hint(a, b));
#pragma GCC diagnostic pop
    return err_at(q, at, CR_EINVAL, "%s", msg);
}

static int unify_as(struct cr__qctx *q, struct node **kids, int n, const struct node *at,
                    int numeric, const char *fmt, enum cr_query_type *out);

/*
 * Makes kids[0..n) comparable with each other and converts them; *out receives the common
 * type. String literals take the type of the others when that is a date, timestamp or
 * interval; what is left null stays null (compared as text).
 */
static int unify(struct cr__qctx *q, struct node **kids, int n, const struct node *at, int numeric,
                 enum cr_query_type *out)
{
    return unify_as(q, kids, n, at, numeric, "cannot compare %s with %s%s", out);
}

static int unify_as(struct cr__qctx *q, struct node **kids, int n, const struct node *at,
                    int numeric, const char *fmt, enum cr_query_type *out)
{
    enum cr_query_type t = CR_QT_NULL;
    int has_lit = 0, rc;
    for (int i = 0; i < n; i++) {
        int j;
        if (is_lit(kids[i])) {
            has_lit = 1;
            continue;
        }
        j = join(t, kids[i]->type);
        if (j < 0)
            return mismatch(q, at, fmt, t, kids[i]->type);
        t = (enum cr_query_type)j;
    }
    if (has_lit) {
        if (t == CR_QT_NULL)
            t = CR_QT_TEXT;
        if (t != CR_QT_TEXT && t != CR_QT_DATE && t != CR_QT_TIMESTAMP && t != CR_QT_INTERVAL)
            return mismatch(q, at, fmt, t, CR_QT_TEXT);
    }
    for (int i = 0; i < n; i++)
        if ((rc = coerce(q, &kids[i], t, numeric)))
            return rc;
    *out = t;
    return 0;
}

/* ---------------------------------------------------------------- names */

static const struct cr_column *find(const struct cr_schema *sc, const char *name)
{
    return sc ? cr_schema_find(sc, name, strlen(name)) : NULL;
}

/* Candidate names for hints, qualified when the dimension has two tables. */
static const char *closest_column(struct cr__qctx *q, const char *name)
{
    const char *cands[512];
    size_t n = 0;
    const struct cr_schema *tabs[2] = {q->cat->profile, NULL};
    if (q->dimension == CR_QUERY_SUBSCRIPTION)
        tabs[1] = q->cat->subscription;
    for (int t = 0; t < 2; t++)
        for (size_t i = 0; tabs[t] && i < tabs[t]->ncols && n < 512; i++)
            cands[n++] = tabs[t]->cols[i].name;
    return cr__closest(name, cands, n);
}

static int resolve_name(struct cr__qctx *q, struct node *n)
{
    const struct cr_schema *prof = q->cat->profile, *sub = q->cat->subscription;
    const struct cr_column *c = NULL;
    char alias = 'p';
    const char *near;
    if (n->qual) {
        if (strcmp(n->qual, "profile") == 0) {
            c = find(prof, n->name);
        } else if (strcmp(n->qual, "subscription") == 0) {
            if (q->dimension != CR_QUERY_SUBSCRIPTION)
                return err_at(q, n, CR_EINVAL,
                              "subscription fields need the subscription dimension (on "
                              "profiles, use subscribed('app'))");
            c = find(sub, n->name);
            alias = 's';
        } else {
            return err_at(q, n, CR_EINVAL,
                          "unknown table '%.64s' (fields are name, profile.name or "
                          "subscription.name)",
                          n->qual);
        }
    } else if (q->dimension == CR_QUERY_SUBSCRIPTION && (c = find(sub, n->name))) {
        alias = 's';
    } else {
        c = find(prof, n->name);
    }
    if (!c) {
        const char *qual = n->qual ? n->qual : "", *dot = n->qual ? "." : "";
        if (q->dimension == CR_QUERY_PROFILE && !n->qual && find(sub, n->name))
            return err_at(q, n, CR_EINVAL,
                          "'%s' is a subscription field (filter the subscription dimension, "
                          "or use subscribed('app'))",
                          n->name);
        near = closest_column(q, n->name);
        if (near)
            return err_at(q, n, CR_EINVAL, "unknown column '%s%s%.64s' (did you mean '%s'?)", qual,
                          dot, n->name, near);
        if (!n->quoted && !n->qual)
            return err_at(q, n, CR_EINVAL,
                          "unknown column '%.64s' (text goes in single quotes: '%.64s')", n->name,
                          n->name);
        return err_at(q, n, CR_EINVAL, "unknown column '%s%s%.64s'", qual, dot, n->name);
    }
    n->kind = N_COLUMN;
    n->column = c;
    n->alias = alias;
    if (alias == 'p' && q->dimension == CR_QUERY_SUBSCRIPTION)
        q->uses_profile = 1;
    switch (c->type) {
    case CR_COL_TEXT:
        n->type = CR_QT_TEXT;
        break;
    case CR_COL_INTEGER:
        n->type = CR_QT_INTEGER;
        break;
    case CR_COL_REAL:
        n->type = CR_QT_REAL;
        break;
    case CR_COL_BOOLEAN:
        n->type = CR_QT_BOOLEAN;
        break;
    case CR_COL_DATE:
        n->type = CR_QT_DATE;
        break;
    case CR_COL_TIMESTAMP:
        n->type = CR_QT_TIMESTAMP;
        break;
    }
    return 0;
}

/* ---------------------------------------------------------------- functions */

static int want_literal(struct cr__qctx *q, struct node *call, int i, const char *what)
{
    struct node *a = call->kid[i];
    if (!is_lit(a))
        return err_at(q, a, CR_EINVAL, "%s takes %s in quotes, as in %s", call->name, what,
                      call->fn == F_IN_LIST      ? "in_list('vip')"
                      : call->fn == F_SUBSCRIBED ? "subscribed('shop-app', 'ios')"
                                                 : "clicked(42, 'offer')");
    return 0;
}

/* The delivery of a behaviour predicate: an id, or a name the caller's callback knows. */
static int delivery_arg(struct cr__qctx *q, struct node *call)
{
    struct node *a = call->kid[0];
    const char *name;
    int64_t id = 0;
    int rc;
    if (a->kind != N_NAME && !is_lit(a)) {
        if ((rc = resolve(q, &call->kid[0])))
            return rc;
        a = call->kid[0];
    }
    if (a->kind == N_CONST && a->val.type == CR_QT_INTEGER) {
        if (a->val.i <= 0)
            return err_at(q, a, CR_EINVAL, "delivery ids are positive (found %lld)",
                          (long long)a->val.i);
        call->delivery = a->val.i;
        return 0;
    }
    if (a->kind == N_NAME && !a->qual)
        name = a->name;
    else if (is_lit(a))
        name = a->val.text;
    else
        return err_at(q, a, CR_EINVAL,
                      "%s takes a delivery: its id, or inside a workflow the name of a "
                      "delivery activity, as in %s(offer)",
                      call->name, call->name);
    if (!q->opts->delivery)
        return err_at(q, a, CR_EINVAL,
                      "unknown delivery '%.64s' (outside a workflow, give the delivery's id, "
                      "as in %s(42))",
                      name, call->name);
    {
        struct cr_err e = CR_ERR_INIT;
        rc = q->opts->delivery(q->opts->delivery_data, name, &id, &e);
        if (rc < 0)
            return err_at(q, a, rc, "%s", e.code ? e.msg : cr_strerror(rc));
    }
    if (rc == 0)
        return err_at(q, a, CR_EINVAL, "unknown delivery '%.64s'", name);
    if (id <= 0)
        return err_at(q, a, CR_EINVAL, "delivery '%.64s' has no id yet", name);
    call->delivery = id;
    return 0;
}

/* age(), year(), month(), day() read a date; a timestamp gives its day. */
static int date_arg(struct cr__qctx *q, struct node *call)
{
    struct node **a = &call->kid[0];
    if (is_lit(*a))
        return read_literal_as(q, *a, CR_QT_DATE);
    if ((*a)->type == CR_QT_NULL || is_time((*a)->type))
        return coerce(q, a, CR_QT_DATE, 0);
    return err_at(q, *a, CR_EINVAL, "%s takes a date (found %s)", call->name, tname((*a)->type));
}

static int resolve_call(struct cr__qctx *q, struct node **np)
{
    struct node *n = *np;
    int fn, rc, behaviour;
    for (fn = 0; fn < NFUNCS; fn++)
        if (strcmp(funcs[fn].name, n->name) == 0)
            break;
    if (fn == NFUNCS) {
        const char *names[NFUNCS];
        const char *near;
        for (int i = 0; i < NFUNCS; i++)
            names[i] = funcs[i].name;
        if (find(q->cat->profile, n->name) ||
            (q->dimension == CR_QUERY_SUBSCRIPTION && find(q->cat->subscription, n->name)))
            return err_at(q, n, CR_EINVAL, "'%.64s' is a column, not a function", n->name);
        near = cr__closest(n->name, names, NFUNCS);
        if (near)
            return err_at(q, n, CR_EINVAL, "unknown function '%.64s' (did you mean '%s'?)", n->name,
                          near);
        return err_at(q, n, CR_EINVAL, "unknown function '%.64s'", n->name);
    }
    n->fn = fn;
    if (n->nkid < funcs[fn].min || n->nkid > funcs[fn].max) {
        int min = funcs[fn].min, max = funcs[fn].max;
        if (min == max)
            return err_at(q, n, CR_EINVAL, "%s takes %d argument%s (found %d)", n->name, min,
                          min == 1 ? "" : "s", n->nkid);
        if (max == min + 1)
            return err_at(q, n, CR_EINVAL, "%s takes %d or %d arguments (found %d)", n->name, min,
                          max, n->nkid);
        if (n->nkid < min)
            return err_at(q, n, CR_EINVAL, "%s takes at least %d arguments (found %d)", n->name,
                          min, n->nkid);
        return err_at(q, n, CR_EINVAL, "%s takes at most %d arguments (found %d)", n->name, max,
                      n->nkid);
    }
    behaviour = fn >= F_SENT;
    /* Arguments: predicates read theirs as names and literals, functions as expressions. */
    if (fn >= F_IN_LIST) {
        for (int i = behaviour ? 1 : 0; i < n->nkid; i++) {
            if ((rc = want_literal(q, n, i,
                                   fn == F_IN_LIST      ? "a list name"
                                   : fn == F_SUBSCRIBED ? (i ? "a platform" : "an application")
                                                        : "a link label or URL")))
                return rc;
            n->kid[i]->type = CR_QT_TEXT;
        }
        if (behaviour && (rc = delivery_arg(q, n)))
            return rc;
        if (fn == F_SUBSCRIBED && n->nkid == 2 && strcmp(n->kid[1]->val.text, "ios") != 0 &&
            strcmp(n->kid[1]->val.text, "android") != 0)
            return err_at(q, n->kid[1], CR_EINVAL,
                          "platform must be 'ios' or 'android' (found '%.64s')",
                          n->kid[1]->val.text);
        n->type = CR_QT_BOOLEAN;
        return 0;
    }
    for (int i = 0; i < n->nkid; i++)
        if ((rc = resolve(q, &n->kid[i])))
            return rc;
    switch (fn) {
    case F_LOWER:
    case F_UPPER:
    case F_TRIM:
    case F_LENGTH:
        if (n->kid[0]->type != CR_QT_TEXT && n->kid[0]->type != CR_QT_NULL)
            return err_at(q, n->kid[0], CR_EINVAL, "%s takes text (found %s)", n->name,
                          tname(n->kid[0]->type));
        if ((rc = coerce(q, &n->kid[0], CR_QT_TEXT, 0)))
            return rc;
        n->type = fn == F_LENGTH ? CR_QT_INTEGER : CR_QT_TEXT;
        return 0;
    case F_COALESCE: {
        enum cr_query_type t;
        if ((rc = unify_as(q, n->kid, n->nkid, n, 1, "coalesce cannot mix %s and %s%s", &t)))
            return rc;
        n->type = t == CR_QT_NULL ? CR_QT_TEXT : t;
        if (t == CR_QT_NULL)
            for (int i = 0; i < n->nkid; i++)
                if ((rc = coerce(q, &n->kid[i], CR_QT_TEXT, 1)))
                    return rc;
        return 0;
    }
    case F_CONCAT: /* text only: a number's text would differ between the backends */
        for (int i = 0; i < n->nkid; i++) {
            if (n->kid[i]->type != CR_QT_TEXT && n->kid[i]->type != CR_QT_NULL)
                return err_at(q, n->kid[i], CR_EINVAL, "concat takes text (found %s)",
                              tname(n->kid[i]->type));
            if ((rc = coerce(q, &n->kid[i], CR_QT_TEXT, 0)))
                return rc;
        }
        n->type = CR_QT_TEXT;
        return 0;
    case F_NOW:
    case F_TODAY:
        /* A clock-relative constant, so arithmetic on it folds. */
        n->kind = N_CONST;
        n->nkid = 0;
        n->type = fn == F_NOW ? CR_QT_TIMESTAMP : CR_QT_DATE;
        n->val.type = n->type;
        n->val.base = fn == F_NOW ? CR_QB_NOW : CR_QB_TODAY;
        n->val.i = 0;
        n->val.line = n->line;
        n->val.col = n->col;
        return 0;
    default: /* age, year, month, day */
        if ((rc = date_arg(q, n)))
            return rc;
        n->type = CR_QT_INTEGER;
        return 0;
    }
}

/* ---------------------------------------------------------------- operators */

static const char *arith_verb(int op)
{
    switch (op) {
    case TK_PLUS:
        return "add";
    case TK_MINUS:
        return "subtract";
    case TK_STAR:
        return "multiply";
    default:
        return "divide";
    }
}

/* Folds constant date and time arithmetic (both operands values, after conversions). */
static int fold_arith(struct cr__qctx *q, struct node **np)
{
    struct node *n = *np, *a = n->kid[0], *b = n->kid[1];
    struct cr_query_param v = {0};
    int sub = n->op == TK_MINUS, rc;
    int64_t r;
    if (!is_value(a) || !is_value(b) || a->literal_string || b->literal_string)
        return 0;
    v.line = n->line;
    v.col = n->col;
    if (n->type == CR_QT_INTERVAL && a->val.type == CR_QT_INTERVAL) {
        if (__builtin_add_overflow(a->val.i, sub ? -b->val.i : b->val.i, &r) ||
            r > CR__MAX_OFFSET_USEC || r < -CR__MAX_OFFSET_USEC)
            return err_at(q, n, CR_EINVAL, "interval out of range");
        v.type = CR_QT_INTERVAL;
        v.i = r;
    } else if (n->type == CR_QT_DATE && a->val.type == CR_QT_DATE && b->val.type == CR_QT_INTEGER) {
        if (b->val.i > CR__MAX_OFFSET_USEC / CR__USEC_PER_DAY ||
            b->val.i < -CR__MAX_OFFSET_USEC / CR__USEC_PER_DAY)
            return time_range_error(q, n);
        v.type = CR_QT_DATE;
        v.base = a->val.base;
        v.i = a->val.i + (sub ? -b->val.i : b->val.i);
        if ((rc = check_days(q, n, v.base, v.i)))
            return rc;
    } else if (n->type == CR_QT_TIMESTAMP && b->val.type == CR_QT_INTERVAL &&
               is_time(a->val.type)) {
        int64_t base = a->val.type == CR_QT_DATE ? a->val.i * CR__USEC_PER_DAY : a->val.i;
        v.type = CR_QT_TIMESTAMP;
        v.base = a->val.base;
        v.i = base + (sub ? -b->val.i : b->val.i); /* both far inside int64 */
        if ((rc = check_usec(q, n, v.base, v.i)))
            return rc;
    } else if (sub && n->type == CR_QT_INTEGER && a->val.type == CR_QT_DATE &&
               b->val.type == CR_QT_DATE && a->val.base == b->val.base) {
        v.type = CR_QT_INTEGER;
        v.i = a->val.i - b->val.i;
    } else if (sub && n->type == CR_QT_INTERVAL && a->val.type == CR_QT_TIMESTAMP &&
               b->val.type == CR_QT_TIMESTAMP && a->val.base == b->val.base) {
        v.type = CR_QT_INTERVAL;
        v.i = a->val.i - b->val.i;
    } else {
        return 0;
    }
    n->kind = N_CONST;
    n->nkid = 0;
    n->val = v;
    n->type = v.type;
    return 0;
}

static int resolve_arith(struct cr__qctx *q, struct node **np)
{
    struct node *n = *np;
    enum cr_query_type ta = n->kid[0]->type, tb = n->kid[1]->type, r = CR_QT_NULL;
    int op = n->op, ok = 1, rc;
    if (is_lit(n->kid[0]) || is_lit(n->kid[1]))
        return err_at(q, n, CR_EINVAL,
                      "cannot %s text (for times write date '...', timestamp '...' or "
                      "interval '...')",
                      arith_verb(op));
    /* null takes the type its partner works with */
    if (ta == CR_QT_NULL && tb == CR_QT_NULL)
        ta = tb = CR_QT_INTEGER;
    else if (ta == CR_QT_NULL)
        ta = is_time(tb) && op == TK_PLUS ? CR_QT_INTERVAL : tb;
    else if (tb == CR_QT_NULL)
        tb = ta == CR_QT_DATE ? CR_QT_INTEGER : ta == CR_QT_TIMESTAMP ? CR_QT_INTERVAL : ta;
    if (is_num(ta) && is_num(tb)) {
        r = ta == CR_QT_INTEGER && tb == CR_QT_INTEGER ? CR_QT_INTEGER : CR_QT_REAL;
    } else if (op == TK_PLUS || op == TK_MINUS) {
        /* Put the date or time first: integer + date is date + integer. */
        if (op == TK_PLUS && !is_time(ta) && is_time(tb)) {
            struct node *t = n->kid[0];
            enum cr_query_type tt = ta;
            n->kid[0] = n->kid[1];
            n->kid[1] = t;
            ta = tb;
            tb = tt;
        }
        if (ta == CR_QT_DATE && tb == CR_QT_INTEGER)
            r = CR_QT_DATE;
        else if (is_time(ta) && tb == CR_QT_INTERVAL)
            r = CR_QT_TIMESTAMP;
        else if (op == TK_MINUS && ta == CR_QT_DATE && tb == CR_QT_DATE)
            r = CR_QT_INTEGER;
        else if (op == TK_MINUS && is_time(ta) && is_time(tb)) {
            r = CR_QT_INTERVAL;
            ta = tb = CR_QT_TIMESTAMP;
        } else if (ta == CR_QT_INTERVAL && tb == CR_QT_INTERVAL)
            r = CR_QT_INTERVAL;
        else
            ok = 0;
    } else {
        ok = 0;
    }
    if (!ok) {
        const char *hint = "";
        if ((ta == CR_QT_INTERVAL || tb == CR_QT_INTERVAL) && (op == TK_STAR || op == TK_SLASH))
            hint = " (durations are only added and subtracted)";
        else if (ta == CR_QT_TEXT || tb == CR_QT_TEXT)
            hint = " (text has no arithmetic)";
        else if (ta == CR_QT_TIMESTAMP && tb == CR_QT_INTEGER)
            hint = " (add a duration: 3d, interval '3 days')";
        return err_at(q, n, CR_EINVAL, "cannot %s %s %s %s%s", arith_verb(op),
                      tname(op == TK_MINUS ? tb : ta),
                      op == TK_PLUS    ? "and"
                      : op == TK_MINUS ? "from"
                                       : "by",
                      tname(op == TK_MINUS ? ta : tb), hint);
    }
    if ((rc = coerce(q, &n->kid[0], ta, 0)) || (rc = coerce(q, &n->kid[1], tb, 0)))
        return rc;
    n->type = r;
    return fold_arith(q, np);
}

static int want_condition(struct cr__qctx *q, struct node **np, const char *where)
{
    struct node *n = *np;
    if (n->type == CR_QT_BOOLEAN)
        return 0;
    if (n->type == CR_QT_NULL)
        return coerce(q, np, CR_QT_BOOLEAN, 0);
    return err_at(q, n, CR_EINVAL, "condition expected %s (found %s %s)", where,
                  n->type == CR_QT_INTEGER ? "an" : "a",
                  n->type == CR_QT_TEXT && is_lit(n) ? "text value" : tname(n->type));
}

static int resolve(struct cr__qctx *q, struct node **np)
{
    struct node *n = *np;
    enum cr_query_type t = CR_QT_NULL;
    int rc;
    if (n->kind == N_CALL)
        return resolve_call(q, np);
    if (n->kind == N_NAME)
        return resolve_name(q, n);
    if (n->kind == N_CONST) {
        n->type = n->val.type;
        return 0;
    }
    for (int i = 0; i < n->nkid; i++)
        if ((rc = resolve(q, &n->kid[i])))
            return rc;
    switch (n->kind) {
    case N_NEG: {
        struct node *a = n->kid[0];
        if (a->type == CR_QT_NULL && (rc = coerce(q, &n->kid[0], CR_QT_INTEGER, 0)))
            return rc;
        a = n->kid[0];
        if (!is_num(a->type) && a->type != CR_QT_INTERVAL)
            return err_at(q, n, CR_EINVAL, "cannot negate %s", tname(a->type));
        n->type = a->type;
        if (is_value(a) && !is_lit(a)) {
            if (a->val.type == CR_QT_REAL)
                a->val.d = -a->val.d;
            else if (a->val.i == INT64_MIN)
                return err_at(q, n, CR_EINVAL, "integer out of range");
            else
                a->val.i = -a->val.i;
            a->line = n->line;
            a->col = n->col;
            a->val.line = n->line;
            a->val.col = n->col;
            *np = a;
        }
        return 0;
    }
    case N_NOT:
        n->type = CR_QT_BOOLEAN;
        return want_condition(q, &n->kid[0], "after 'not'");
    case N_ANDOR:
        n->type = CR_QT_BOOLEAN;
        for (int i = 0; i < n->nkid; i++)
            if ((rc = want_condition(q, &n->kid[i],
                                     i == 0 ? (n->op == TK_AND ? "before 'and'" : "before 'or'")
                                            : (n->op == TK_AND ? "after 'and'" : "after 'or'"))))
                return rc;
        return 0;
    case N_ARITH:
        return resolve_arith(q, np);
    case N_CMP:
        if ((rc = unify(q, n->kid, 2, n, 0, &t)))
            return rc;
        if (t == CR_QT_BOOLEAN && n->op != TK_EQ && n->op != TK_NE)
            return err_at(q, n, CR_EINVAL, "'%s' cannot order booleans (use = or !=)",
                          cr__tok_name((enum tok)n->op));
        n->type = CR_QT_BOOLEAN;
        return 0;
    case N_IN:
        if ((rc = unify(q, n->kid, n->nkid, n, 0, &t)))
            return rc;
        n->type = CR_QT_BOOLEAN;
        return 0;
    case N_BETWEEN:
        if ((rc = unify(q, n->kid, 3, n, 0, &t)))
            return rc;
        if (t == CR_QT_BOOLEAN)
            return err_at(q, n, CR_EINVAL, "between cannot order booleans");
        n->type = CR_QT_BOOLEAN;
        return 0;
    case N_ISNULL:
        n->type = CR_QT_BOOLEAN;
        return 0;
    case N_LIKE: {
        const char *op = n->op == TK_LIKE ? "like" : "ilike";
        for (int i = 0; i < 2; i++) {
            if (n->kid[i]->type != CR_QT_TEXT && n->kid[i]->type != CR_QT_NULL)
                return err_at(q, n, CR_EINVAL, "%s compares text (found %s)%s", op,
                              tname(n->kid[i]->type),
                              is_time(n->kid[i]->type)
                                  ? " (compare dates with < and >, or use year(), month())"
                                  : "");
            if ((rc = coerce(q, &n->kid[i], CR_QT_TEXT, 0)))
                return rc;
        }
        if (is_value(n->kid[1])) {
            const struct node *p = n->kid[1];
            size_t k = 0;
            /* SQLite refuses patterns over 50000 bytes; a GLOB form can triple the text. */
            if (p->val.len > 16000)
                return err_at(q, p, CR_ETOOBIG, "%s pattern too long (%zu bytes, at most 16000)",
                              op, p->val.len);
            while (k < p->val.len) {
                if (p->val.text[k] == '\\' && k + 1 == p->val.len)
                    return err_at(q, p, CR_EINVAL,
                                  "%s pattern ends with an escape '\\' (write '\\\\' for a "
                                  "backslash)",
                                  op);
                k += p->val.text[k] == '\\' ? 2 : 1;
            }
        }
        n->type = CR_QT_BOOLEAN;
        return 0;
    }
    default:
        CR_BUG("resolve: node kind %d", (int)n->kind);
    }
}

int cr__resolve(struct cr__qctx *q, struct node **root)
{
    int rc = resolve(q, root);
    if (rc)
        return rc;
    if (q->opts->value) /* a value of any type: the caller reads it */
        return 0;
    if ((*root)->type == CR_QT_NULL)
        return coerce(q, root, CR_QT_BOOLEAN, 0);
    if ((*root)->type != CR_QT_BOOLEAN) {
        const struct node *n = *root;
        return err_at(q, n, CR_EINVAL,
                      "the filter must be a condition, not %s %s value (as in tier = 'gold')",
                      n->type == CR_QT_INTEGER || n->type == CR_QT_INTERVAL ? "an" : "a",
                      tname(n->type));
    }
    return 0;
}
