/*
 * arena.c - bump allocation for compiled programs and per-render scratch
 *
 * Not a general allocator: nothing is freed alone. A render resets its arena, which keeps
 * the chunks it grew, so a warm render allocates nothing. The max bounds what a template's
 * loops and filters may take from outside input (CR_ETOOBIG upstream).
 */
#include "template/template_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define CHUNK_MIN 4096
#define CHUNK_HDR ((sizeof(struct tchunk) + 15) & ~(size_t)15)

static char *chunk_data(struct tchunk *c)
{
    return (char *)c + CHUNK_HDR;
}

void cr__tarena_init(struct tarena *a, size_t max)
{
    a->head = NULL;
    a->all = NULL;
    a->total = 0;
    a->max = max;
}

void cr__tarena_release(struct tarena *a)
{
    struct tchunk *c = a->all, *next;
    for (; c; c = next) {
        next = c->next;
        free(c);
    }
    cr__tarena_init(a, a->max);
}

/* Chunks stay linked in `all` in allocation order; head walks forward through them. */
void cr__tarena_reset(struct tarena *a)
{
    struct tchunk *c;
    for (c = a->all; c; c = c->next)
        c->used = 0;
    a->head = a->all;
}

void *cr__tarena_alloc(struct tarena *a, size_t n)
{
    struct tchunk *c = a->head, *nc, **link;
    size_t size;
    n = (n + 7) & ~(size_t)7;
    if (n == 0)
        n = 8;
    while (c) {
        if (c->size - c->used >= n) {
            void *p = chunk_data(c) + c->used;
            c->used += n;
            return p;
        }
        /* Reuse a later chunk kept from a previous render if it fits. */
        if (!c->next)
            break;
        c = c->next;
        a->head = c;
    }
    size = CHUNK_MIN;
    if (a->total > size)
        size = a->total; /* double the arena each time it grows */
    if (size < n)
        size = n;
    if (a->max && (a->total + size > a->max)) {
        if (a->total + n > a->max)
            return NULL;
        size = a->max - a->total;
    }
    nc = cr_xmalloc(CHUNK_HDR + size);
    nc->next = NULL;
    nc->size = size;
    nc->used = n;
    a->total += size;
    for (link = &a->all; *link; link = &(*link)->next)
        ;
    *link = nc;
    a->head = nc;
    return chunk_data(nc);
}

void *cr__tarena_dup(struct tarena *a, const void *p, size_t n)
{
    char *q = cr__tarena_alloc(a, n + 1);
    if (!q)
        return NULL;
    if (n)
        memcpy(q, p, n);
    q[n] = '\0';
    return q;
}
