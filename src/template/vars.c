/*
 * vars.c - the variables of a render (struct cr_tvars) and typed rows (struct cr_trecord)
 *
 * A cr_tvars maps top-level names to values through a small open-addressing table keyed by
 * the same FNV hash the compiler stores with each name, so a lookup is one probe and one
 * memcmp. It also carries the per-render scratch (arena, string builder, slot array) that
 * render.c reuses, which is why one cr_tvars serves one thread.
 * Not here: JSON parsing (the caller's), the store (a delivery fills records from rows).
 */
#include "template/template_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/parse.h"

struct tvar {
    char *name;
    size_t len;
    uint32_t hash;
    struct tval v;
};

struct cr_tvars {
    struct tvar *v;
    size_t n, cap;
    uint32_t *index; /* slot -> var index + 1, 0 = empty; size is a power of two */
    size_t isize;
    struct tarena ar;
    struct cr_buf sb;
    void *scratch;
    size_t scratch_cap;
};

struct cr_trecord {
    size_t n;
    char **names;
    size_t *nlen;
    uint32_t *hash;
    enum cr_coltype *types;
    const char **vals;
    size_t *vlen;
    uint32_t *index;
    size_t isize;
};

/* ------------------------------------------------------------------- the index --- */

static uint32_t *index_build(size_t n, size_t *isize_out, const uint32_t *hashes)
{
    size_t isize = 8;
    uint32_t *idx;
    while (isize < n * 2)
        isize *= 2;
    idx = cr_xcalloc(isize, sizeof *idx);
    for (size_t i = 0; i < n; i++) {
        size_t s = hashes[i] & (isize - 1);
        while (idx[s])
            s = (s + 1) & (isize - 1);
        idx[s] = (uint32_t)i + 1;
    }
    *isize_out = isize;
    return idx;
}

/* ------------------------------------------------------------------- variables --- */

struct cr_tvars *cr_tvars_new(void)
{
    struct cr_tvars *v = cr_xcalloc(1, sizeof *v);
    cr__tarena_init(&v->ar, 0);
    cr_buf_init(&v->sb, 0);
    return v;
}

void cr_tvars_clear(struct cr_tvars *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->v[i].name);
    v->n = 0;
    if (v->index)
        memset(v->index, 0, v->isize * sizeof *v->index);
}

void cr_tvars_free(struct cr_tvars *v)
{
    if (!v)
        return;
    cr_tvars_clear(v);
    free(v->v);
    free(v->index);
    cr__tarena_release(&v->ar);
    cr_buf_release(&v->sb);
    free(v->scratch);
    free(v);
}

static long vars_find(const struct cr_tvars *v, const char *name, size_t n, uint32_t hash)
{
    size_t s;
    if (!v->isize)
        return -1;
    for (s = hash & (v->isize - 1); v->index[s]; s = (s + 1) & (v->isize - 1)) {
        const struct tvar *e = &v->v[v->index[s] - 1];
        if (e->hash == hash && e->len == n && memcmp(e->name, name, n) == 0)
            return (long)(v->index[s] - 1);
    }
    return -1;
}

static void vars_set(struct cr_tvars *v, const char *name, size_t n, struct tval val)
{
    uint32_t hash = cr__thash(name, n);
    long i = vars_find(v, name, n, hash);
    if (i >= 0) {
        v->v[i].v = val;
        return;
    }
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 8;
        v->v = cr_xrealloc(v->v, v->cap * sizeof *v->v);
    }
    v->v[v->n].name = cr_xmemdupz(name, n);
    v->v[v->n].len = n;
    v->v[v->n].hash = hash;
    v->v[v->n].v = val;
    v->n++;
    if (v->n * 2 > v->isize) {
        uint32_t *hashes = cr_xmalloc(v->n * sizeof *hashes);
        for (size_t k = 0; k < v->n; k++)
            hashes[k] = v->v[k].hash;
        free(v->index);
        v->index = index_build(v->n, &v->isize, hashes);
        free(hashes);
    } else {
        size_t s = hash & (v->isize - 1);
        while (v->index[s])
            s = (s + 1) & (v->isize - 1);
        v->index[s] = (uint32_t)v->n;
    }
}

void cr_tvars_set_json(struct cr_tvars *v, const char *name, json_t *value)
{
    vars_set(v, name, strlen(name), cr__tv_from_json(value));
}

int cr_tvars_set_json_object(struct cr_tvars *v, json_t *obj)
{
    const char *key;
    size_t klen;
    json_t *val;
    if (!json_is_object(obj))
        return CR_EINVAL;
    json_object_keylen_foreach(obj, key, klen, val)
    {
        vars_set(v, key, klen, cr__tv_from_json(val));
    }
    return 0;
}

void cr_tvars_set_str(struct cr_tvars *v, const char *name, const char *s, size_t len)
{
    vars_set(v, name, strlen(name), s ? tv_str(s, len) : tv_nil());
}

void cr_tvars_set_int(struct cr_tvars *v, const char *name, int64_t i)
{
    vars_set(v, name, strlen(name), tv_int(i));
}

void cr_tvars_set_record(struct cr_tvars *v, const char *name, struct cr_trecord *rec)
{
    struct tval val = tv_nil();
    if (rec) {
        val.kind = TV_REC;
        val.u.rec = rec;
    }
    vars_set(v, name, strlen(name), val);
}

int cr__tvars_get(const struct cr_tvars *v, const char *name, size_t n, uint32_t hash,
                  struct tval *out)
{
    long i = vars_find(v, name, n, hash);
    if (i < 0)
        return 0;
    *out = v->v[i].v;
    return 1;
}

struct tarena *cr__tvars_arena(struct cr_tvars *v, size_t max)
{
    v->ar.max = max;
    cr__tarena_reset(&v->ar);
    return &v->ar;
}

struct cr_buf *cr__tvars_sb(struct cr_tvars *v)
{
    return &v->sb;
}

void *cr__tvars_scratch(struct cr_tvars *v, size_t n)
{
    if (n > v->scratch_cap) {
        free(v->scratch);
        v->scratch = cr_xmalloc(n);
        v->scratch_cap = n;
    }
    if (n)
        memset(v->scratch, 0, n);
    return v->scratch;
}

/* --------------------------------------------------------------------- records --- */

struct cr_trecord *cr_trecord_new_names(const char *const *names, const enum cr_coltype *types,
                                        size_t ncols)
{
    struct cr_trecord *r = cr_xcalloc(1, sizeof *r);
    r->n = ncols;
    r->names = cr_xcalloc(ncols ? ncols : 1, sizeof *r->names);
    r->nlen = cr_xcalloc(ncols ? ncols : 1, sizeof *r->nlen);
    r->hash = cr_xcalloc(ncols ? ncols : 1, sizeof *r->hash);
    r->types = cr_xcalloc(ncols ? ncols : 1, sizeof *r->types);
    r->vals = cr_xcalloc(ncols ? ncols : 1, sizeof *r->vals);
    r->vlen = cr_xcalloc(ncols ? ncols : 1, sizeof *r->vlen);
    for (size_t i = 0; i < ncols; i++) {
        r->names[i] = cr_xstrdup(names[i]);
        r->nlen[i] = strlen(names[i]);
        r->hash[i] = cr__thash(names[i], r->nlen[i]);
        r->types[i] = types ? types[i] : CR_COL_TEXT;
    }
    r->index = index_build(ncols, &r->isize, r->hash);
    return r;
}

struct cr_trecord *cr_trecord_new(const struct cr_column *cols, size_t ncols)
{
    const char **names = cr_xcalloc(ncols ? ncols : 1, sizeof *names);
    enum cr_coltype *types = cr_xcalloc(ncols ? ncols : 1, sizeof *types);
    struct cr_trecord *r;
    for (size_t i = 0; i < ncols; i++) {
        names[i] = cols[i].name;
        types[i] = cols[i].type;
    }
    r = cr_trecord_new_names(names, types, ncols);
    free(names);
    free(types);
    return r;
}

void cr_trecord_free(struct cr_trecord *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        free(r->names[i]);
    free(r->names);
    free(r->nlen);
    free(r->hash);
    free(r->types);
    free(r->vals);
    free(r->vlen);
    free(r->index);
    free(r);
}

void cr_trecord_set(struct cr_trecord *r, size_t i, const char *text, size_t len)
{
    if (i >= r->n)
        CR_BUG("record column %zu of %zu", i, r->n);
    r->vals[i] = text;
    r->vlen[i] = text ? len : 0;
}

void cr_trecord_set_row(struct cr_trecord *r, const char *const *texts)
{
    for (size_t i = 0; i < r->n; i++) {
        r->vals[i] = texts[i];
        r->vlen[i] = texts[i] ? strlen(texts[i]) : 0;
    }
}

long cr__trecord_find(const struct cr_trecord *r, const char *name, size_t n, uint32_t hash)
{
    size_t s;
    for (s = hash & (r->isize - 1); r->index[s]; s = (s + 1) & (r->isize - 1)) {
        size_t i = r->index[s] - 1;
        if (r->hash[i] == hash && r->nlen[i] == n && memcmp(r->names[i], name, n) == 0)
            return (long)i;
    }
    return -1;
}

long cr_trecord_find(const struct cr_trecord *r, const char *name)
{
    size_t n = strlen(name);
    return cr__trecord_find(r, name, n, cr__thash(name, n));
}

size_t cr__trecord_ncols(const struct cr_trecord *r)
{
    return r->n;
}

const char *cr__trecord_name(const struct cr_trecord *r, size_t i, size_t *n)
{
    *n = r->nlen[i];
    return r->names[i];
}

static int text_is(const char *p, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    if (l != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != lit[i])
            return 0;
    }
    return 1;
}

struct tval cr__tv_from_record(const struct cr_trecord *r, size_t i)
{
    const char *p = r->vals[i];
    size_t n = r->vlen[i];
    int64_t iv;
    double dv;
    if (!p)
        return tv_nil();
    switch (r->types[i]) {
    case CR_COL_INTEGER:
        if (cr_parse_i64(p, n, &iv) == 0)
            return tv_int(iv);
        break;
    case CR_COL_REAL:
        if (cr_parse_double(p, n, &dv) == 0)
            return tv_float(dv);
        break;
    case CR_COL_BOOLEAN:
        if (text_is(p, n, "1") || text_is(p, n, "t") || text_is(p, n, "true"))
            return tv_bool(1);
        if (text_is(p, n, "0") || text_is(p, n, "f") || text_is(p, n, "false"))
            return tv_bool(0);
        break;
    default:
        break;
    }
    return tv_str(p, n);
}
