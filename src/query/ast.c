/*
 * ast.c - the filter's syntax tree: nodes in a per-compilation arena, heights, a dump
 *
 * Does not interpret anything: parse.c builds the tree, resolve.c types it, sqlgen.c writes
 * it. Every node records its height so that no later (recursive) stage can be driven deeper
 * than the configured limit, whatever shape the text has.
 */
#include "query/query_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

/* ---------------------------------------------------------------- arena */

struct cr__arena_block {
    struct cr__arena_block *next;
    size_t used, size;
    max_align_t data[]; /* size bytes */
};

#define ARENA_BLOCK 8192

void *cr__arena_alloc(struct cr__arena *a, size_t n)
{
    struct cr__arena_block *b = a->head;
    void *p;
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (!b || b->size - b->used < n) {
        size_t size = n > ARENA_BLOCK / 2 ? n : ARENA_BLOCK;
        struct cr__arena_block *nb = cr_xmalloc(sizeof *nb + size);
        nb->used = 0;
        nb->size = size;
        if (b && size == n) {
            /* A big piece gets a block of its own behind the current one, which keeps its
             * free space. */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->head = nb;
        }
        b = nb;
    }
    p = (char *)b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

char *cr__arena_strndup(struct cr__arena *a, const char *s, size_t n)
{
    char *p = cr__arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void cr__arena_release(struct cr__arena *a)
{
    struct cr__arena_block *b = a->head;
    while (b) {
        struct cr__arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

/* ---------------------------------------------------------------- nodes */

struct node *cr__node_new(struct cr__qctx *q, enum nkind kind, int line, int col)
{
    struct node *n = cr__arena_alloc(&q->arena, sizeof *n);
    n->kind = kind;
    n->line = line;
    n->col = col;
    n->height = 1;
    return n;
}

int cr__node_check_height(struct cr__qctx *q, struct node *n)
{
    if (n->height > q->max_depth)
        return cr__qerr(q, CR_ETOOBIG, n->line, n->col,
                        "expression nested too deeply (more than %d levels)", q->max_depth);
    return 0;
}

int cr__node_add(struct cr__qctx *q, struct node *n, struct node *kid)
{
    if (n->nkid == n->cap) {
        int cap = n->cap ? n->cap * 2 : 2;
        struct node **k = cr__arena_alloc(&q->arena, (size_t)cap * sizeof *k);
        if (n->nkid)
            memcpy(k, n->kid, (size_t)n->nkid * sizeof *k);
        n->kid = k;
        n->cap = cap;
    }
    n->kid[n->nkid++] = kid;
    if (kid->height + 1 > n->height) {
        n->height = kid->height + 1;
        return cr__node_check_height(q, n);
    }
    return 0;
}

/* ---------------------------------------------------------------- dump (tests) */

static void dump_value(const struct cr_query_param *v, struct cr_buf *out)
{
    char tmp[CR_TIME_BUFSZ];
    switch (v->type) {
    case CR_QT_NULL:
        cr_buf_puts(out, "null");
        break;
    case CR_QT_BOOLEAN:
        cr_buf_puts(out, v->i ? "true" : "false");
        break;
    case CR_QT_INTEGER:
        cr_buf_printf(out, "%lld", (long long)v->i);
        break;
    case CR_QT_REAL:
        cr_buf_printf(out, "%.17g", v->d);
        break;
    case CR_QT_TEXT:
        cr_buf_putc(out, '\'');
        for (size_t i = 0; i < v->len; i++) {
            if (v->text[i] == '\'')
                cr_buf_putc(out, '\'');
            cr_buf_putc(out, v->text[i]);
        }
        cr_buf_putc(out, '\'');
        break;
    case CR_QT_DATE:
        if (v->base == CR_QB_TODAY)
            cr_buf_printf(out, "today%+lldd", (long long)v->i);
        else
            cr_buf_printf(out, "date:%s", cr_date_format(v->i, tmp));
        break;
    case CR_QT_TIMESTAMP:
        if (v->base == CR_QB_ABSOLUTE)
            cr_buf_printf(out, "ts:%s", cr_time_format_sql(v->i, tmp));
        else
            cr_buf_printf(out, "%s%s%s", v->base == CR_QB_NOW ? "now" : "today",
                          v->i < 0 ? "-" : "+", cr_duration_format(v->i < 0 ? -v->i : v->i, tmp));
        break;
    case CR_QT_INTERVAL:
        cr_buf_printf(out, "%s%s", v->i < 0 ? "-" : "",
                      cr_duration_format(v->i < 0 ? -v->i : v->i, tmp));
        break;
    }
}

void cr__node_dump(const struct node *n, struct cr_buf *out)
{
    const char *head = NULL;
    switch (n->kind) {
    case N_CONST:
        dump_value(&n->val, out);
        return;
    case N_NAME:
        if (n->qual)
            cr_buf_printf(out, "%s.", n->qual);
        cr_buf_puts(out, n->name);
        return;
    case N_COLUMN:
        cr_buf_printf(out, "%c.%s", n->alias, n->column->name);
        return;
    case N_NEG:
        head = "neg";
        break;
    case N_NOT:
        head = "not";
        break;
    case N_ARITH:
    case N_CMP:
    case N_ANDOR:
        head = cr__tok_name((enum tok)n->op);
        break;
    case N_ISNULL:
        head = n->negated ? "is-not-null" : "is-null";
        break;
    case N_IN:
        head = n->negated ? "not-in" : "in";
        break;
    case N_LIKE:
        head = n->op == TK_ILIKE ? (n->negated ? "not-ilike" : "ilike")
                                 : (n->negated ? "not-like" : "like");
        break;
    case N_BETWEEN:
        head = n->negated ? "not-between" : "between";
        break;
    case N_CALL:
        head = n->name;
        break;
    case N_CAST:
        head = cr_query_type_name(n->type);
        break;
    }
    cr_buf_printf(out, "(%s", head);
    for (int i = 0; i < n->nkid; i++) {
        cr_buf_putc(out, ' ');
        cr__node_dump(n->kid[i], out);
    }
    cr_buf_putc(out, ')');
}
