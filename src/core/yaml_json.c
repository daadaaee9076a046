/*
 * yaml_json.c - YAML (libyaml events) into jansson values; loading a JSON-or-YAML file
 *
 * libyaml's event parser (not its document loader, which forgets whether a scalar was plain
 * or tagged) drives a stack of open collections. Anchors keep a reference to their finished
 * node and what it cost (values, bytes, height), so an alias is checked against the limits
 * before it is copied: a "billion laughs" fails at the first alias that would cross one.
 */
#include "core/yaml_json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/parse.h"
#include "core/strmap.h"

/* ---- positions: open addressing on (node, key); key NULL for a node's own position ---- */

struct pos_slot {
    uint64_t hash; /* 0 = empty */
    const json_t *node;
    char *key;
    int line, col;
};

struct cr_yaml_pos {
    struct pos_slot *slots;
    size_t cap, count;
};

static uint64_t pos_hash(const json_t *node, const char *key)
{
    uint64_t h = (uint64_t)(uintptr_t)node;
    if (key) {
        uint64_t f = 0xcbf29ce484222325u; /* FNV-1a */
        for (; *key; key++)
            f = (f ^ (unsigned char)*key) * 0x100000001b3u;
        h ^= f * 0x9e3779b97f4a7c15u;
    }
    h ^= h >> 33; /* splitmix64's finaliser */
    h *= 0xff51afd7ed558ccdu;
    h ^= h >> 33;
    return h ? h : 1;
}

static struct pos_slot *pos_find(const struct cr_yaml_pos *p, const json_t *node,
                                 const char *key, uint64_t h)
{
    size_t i = h & (p->cap - 1);
    for (;; i = (i + 1) & (p->cap - 1)) {
        struct pos_slot *s = &p->slots[i];
        if (!s->hash || (s->hash == h && s->node == node && !s->key == !key &&
                         (!key || strcmp(s->key, key) == 0)))
            return s;
    }
}

static void pos_put(struct cr_yaml_pos *p, const json_t *node, const char *key, int line,
                    int col)
{
    uint64_t h = pos_hash(node, key);
    struct pos_slot *s;
    if ((p->count + 1) * 2 > p->cap) {
        struct cr_yaml_pos bigger = {cr_xcalloc(p->cap ? p->cap * 2 : 64, sizeof *s),
                                     p->cap ? p->cap * 2 : 64, p->count};
        for (size_t i = 0; i < p->cap; i++)
            if (p->slots[i].hash)
                *pos_find(&bigger, p->slots[i].node, p->slots[i].key, p->slots[i].hash) =
                    p->slots[i];
        free(p->slots);
        *p = bigger;
    }
    s = pos_find(p, node, key, h);
    if (!s->hash) {
        s->hash = h;
        s->node = node;
        s->key = key ? cr_xstrdup(key) : NULL;
        p->count++;
    }
    s->line = line;
    s->col = col;
}

static int pos_lookup(const struct cr_yaml_pos *p, const json_t *node, const char *key,
                      int *line, int *col)
{
    const struct pos_slot *s = NULL;
    if (p && p->cap && node)
        s = pos_find(p, node, key, pos_hash(node, key));
    *line = s && s->hash ? s->line : 0;
    *col = s && s->hash ? s->col : 0;
    return s && s->hash ? 0 : CR_ENOTFOUND;
}

int cr_yaml_pos_get(const struct cr_yaml_pos *pos, const json_t *node, int *line, int *col)
{
    return pos_lookup(pos, node, NULL, line, col);
}

int cr_yaml_pos_get_key(const struct cr_yaml_pos *pos, const json_t *obj, const char *key,
                        int *line, int *col)
{
    return pos_lookup(pos, key ? obj : NULL, key, line, col);
}

void cr_yaml_pos_free(struct cr_yaml_pos *pos)
{
    if (!pos)
        return;
    for (size_t i = 0; i < pos->cap; i++)
        free(pos->slots[i].key);
    free(pos->slots);
    free(pos);
}

/* ---- scalars: tags and the core schema ---- */

#define YAML_TAG_PREFIX "tag:yaml.org,2002:"

enum kind { K_UNTAGGED, K_NONSPECIFIC, K_STR, K_INT, K_FLOAT, K_BOOL, K_NULL, K_MAP, K_SEQ, K_OTHER };

static enum kind tag_kind(const char *tag)
{
    static const char *const names[] = {"str", "int", "float", "bool", "null", "map", "seq"};
    if (!tag)
        return K_UNTAGGED;
    if (strcmp(tag, "!") == 0)
        return K_NONSPECIFIC;
    if (strncmp(tag, YAML_TAG_PREFIX, strlen(YAML_TAG_PREFIX)) == 0)
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strcmp(tag + strlen(YAML_TAG_PREFIX), names[i]) == 0)
                return (enum kind)(K_STR + i);
    return K_OTHER;
}

/* "tag:yaml.org,2002:x" is written !!x; other tags as they are. */
static void tag_show(const char *tag, char *buf, size_t size)
{
    if (strncmp(tag, YAML_TAG_PREFIX, strlen(YAML_TAG_PREFIX)) == 0)
        snprintf(buf, size, "!!%.60s", tag + strlen(YAML_TAG_PREFIX));
    else
        snprintf(buf, size, "%.60s", tag);
}

static int is_one_of(const char *s, size_t n, const char *const *words)
{
    for (; *words; words++)
        if (strlen(*words) == n && memcmp(s, *words, n) == 0)
            return 1;
    return 0;
}

static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const true_words[] = {"true", "True", "TRUE", NULL};
static const char *const false_words[] = {"false", "False", "FALSE", NULL};
static const char *const inf_words[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF",
                                        "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN", NULL};

static int digit_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return 99;
}

/* 0 and *out; 1 if not an integer's form; -1 if out of range. */
static int parse_int(const char *s, size_t n, int64_t *out)
{
    size_t i = n > 0 && (s[0] == '+' || s[0] == '-');
    if (n > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
        unsigned base = s[1] == 'o' ? 8 : 16;
        uint64_t v = 0;
        for (i = 2; i < n; i++) {
            unsigned d = (unsigned)digit_value(s[i]);
            if (d >= base)
                return 1;
            if (v > ((uint64_t)INT64_MAX - d) / base)
                return -1;
            v = v * base + d;
        }
        *out = (int64_t)v;
        return 0;
    }
    if (i == n)
        return 1;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 1;
    return cr_parse_i64(s, n, out) ? -1 : 0;
}

/* 0 and *out; 1 if not a float's form; -1 if it overflows; 2 for .inf and .nan. */
static int parse_float(const char *s, size_t n, double *out)
{
    size_t i = 0, digits = 0;
    char *tmp;
    if (is_one_of(s, n, inf_words))
        return 2;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
        digits++;
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            digits++;
    if (!digits)
        return 1;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t e = 0;
        if (++i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            e++;
        if (!e)
            return 1;
    }
    if (i != n)
        return 1;
    tmp = cr_xmemdupz(s, n);
    *out = strtod(tmp, NULL);
    free(tmp);
    return isfinite(*out) ? 0 : -1;
}

/* ---- the builder ---- */

struct anchor {
    json_t *value; /* NULL while its node is still open */
    char *text;    /* a scalar's text, so an alias can be a key; else NULL */
    size_t nodes, bytes;
    int height;
};

struct frame {
    json_t *c;
    int is_map;
    char *key; /* a mapping's key waiting for its value */
    int key_line, key_col;
    int line, col;
    long anchor; /* index into anchors, or -1 */
    size_t nodes0, bytes0;
    int height; /* of the tallest child so far */
};

struct ctx {
    yaml_parser_t parser;
    struct cr_err *err;
    struct cr_yaml_pos *pos;
    struct frame stack[CR_YAML_MAX_DEPTH];
    int depth;
    json_t *root;
    struct anchor *anchors;
    size_t nanchors, anchors_cap;
    struct cr_strmap anchor_ix;
    size_t nodes, bytes;
};

#define LINE(m) ((int)(m).line + 1)
#define COL(m) ((int)(m).column + 1)

static int at(struct ctx *c, int code, yaml_mark_t m, const char *fmt, ...) CR_PRINTF(4, 5);
static int at(struct ctx *c, int code, yaml_mark_t m, const char *fmt, ...)
{
    char msg[sizeof c->err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cr_err_at(c->err, code, LINE(m), COL(m), "%s", msg);
}

static int parser_error(struct ctx *c, const char *text, size_t len)
{
    const yaml_parser_t *p = &c->parser;
    const char *problem = p->problem ? p->problem : "cannot parse the YAML";
    if (p->error == YAML_MEMORY_ERROR)
        return cr_err_set(c->err, CR_ENOMEM, "out of memory while parsing YAML");
    if (p->error == YAML_READER_ERROR) {
        /* No mark: count lines and characters up to the byte offset. */
        int line = 1, col = 1;
        for (size_t i = 0; i < p->problem_offset && i < len; i++) {
            if (text[i] == '\n')
                line++, col = 1;
            else if (((unsigned char)text[i] & 0xc0) != 0x80)
                col++;
        }
        return cr_err_at(c->err, CR_ESYNTAX, line, col, "%s", problem);
    }
    if (p->context)
        return cr_err_at(c->err, CR_ESYNTAX, LINE(p->problem_mark), COL(p->problem_mark),
                         "%s (%s from %d:%d)", problem, p->context, LINE(p->context_mark),
                         COL(p->context_mark));
    return cr_err_at(c->err, CR_ESYNTAX, LINE(p->problem_mark), COL(p->problem_mark), "%s",
                     problem);
}

static int count(struct ctx *c, size_t nodes, size_t bytes, yaml_mark_t m)
{
    if (c->nodes + nodes > CR_YAML_MAX_NODES)
        return at(c, CR_ETOOBIG, m,
                  "the document is too large: more than %d values after expanding aliases",
                  CR_YAML_MAX_NODES);
    if (c->bytes + bytes > CR_YAML_MAX_BYTES)
        return at(c, CR_ETOOBIG, m,
                  "the document is too large: more than %u MiB of text after expanding "
                  "aliases",
                  CR_YAML_MAX_BYTES >> 20);
    c->nodes += nodes;
    c->bytes += bytes;
    return 0;
}

static int is_singleton(const json_t *v)
{
    return json_is_null(v) || json_is_boolean(v);
}

/* A deep copy that carries the positions along. */
static json_t *copy_node(struct ctx *c, json_t *v)
{
    json_t *r;
    int line, col;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *m;
        r = json_object();
        json_object_foreach(v, k, m) {
            json_object_set_new(r, k, copy_node(c, m));
            if (c->pos && pos_lookup(c->pos, v, k, &line, &col) == 0)
                pos_put(c->pos, r, k, line, col);
        }
        break;
    }
    case JSON_ARRAY:
        r = json_array();
        for (size_t i = 0; i < json_array_size(v); i++)
            json_array_append_new(r, copy_node(c, json_array_get(v, i)));
        break;
    case JSON_STRING:
        r = json_stringn_nocheck(json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        r = json_integer(json_integer_value(v));
        break;
    case JSON_REAL:
        r = json_real(json_real_value(v));
        break;
    default:
        return v; /* null, true, false: singletons */
    }
    if (!r)
        CR_BUG("out of memory copying a YAML alias");
    if (c->pos && pos_lookup(c->pos, v, NULL, &line, &col) == 0)
        pos_put(c->pos, r, NULL, line, col);
    return r;
}

/* Hands v (a new reference) to the innermost open collection, or makes it the root. */
static int attach(struct ctx *c, json_t *v, int height, int line, int col)
{
    struct frame *f;
    if (c->pos && !is_singleton(v))
        pos_put(c->pos, v, NULL, line, col);
    if (c->depth == 0) {
        c->root = v;
        return 0;
    }
    f = &c->stack[c->depth - 1];
    if (height > f->height)
        f->height = height;
    if (!f->is_map) {
        if (json_array_append_new(f->c, v))
            return cr_err_set(c->err, CR_ENOMEM, "out of memory building a YAML sequence");
        return 0;
    }
    if (json_object_set_new(f->c, f->key, v))
        return cr_err_set(c->err, CR_ENOMEM, "out of memory building a YAML mapping");
    if (c->pos)
        pos_put(c->pos, f->c, f->key, f->key_line, f->key_col);
    free(f->key);
    f->key = NULL;
    return 0;
}

static int expecting_key(const struct ctx *c)
{
    return c->depth > 0 && c->stack[c->depth - 1].is_map && !c->stack[c->depth - 1].key;
}

static int set_key(struct ctx *c, const char *s, size_t n, yaml_mark_t m)
{
    struct frame *f = &c->stack[c->depth - 1];
    int rc;
    if (memchr(s, '\0', n))
        return at(c, CR_EINVAL, m, "a key must not contain a NUL character");
    if (json_object_get(f->c, s))
        return at(c, CR_ESYNTAX, m, "duplicate key '%.80s' in a mapping", s);
    if ((rc = count(c, 0, n, m)))
        return rc;
    f->key = cr_xmemdupz(s, n);
    f->key_line = LINE(m);
    f->key_col = COL(m);
    return 0;
}

/* Records an anchor whose node is not finished yet; *ix is its index. */
static int new_anchor(struct ctx *c, const char *name, yaml_mark_t m, long *ix)
{
    size_t n = strlen(name);
    int rc;
    if ((rc = count(c, 0, n, m)))
        return rc;
    if (c->nanchors == c->anchors_cap) {
        c->anchors_cap = c->anchors_cap ? c->anchors_cap * 2 : 16;
        c->anchors = cr_xrealloc(c->anchors, c->anchors_cap * sizeof *c->anchors);
    }
    memset(&c->anchors[c->nanchors], 0, sizeof *c->anchors);
    cr_strmap_put(&c->anchor_ix, name, n, (int64_t)c->nanchors); /* a later one hides it */
    *ix = (long)c->nanchors++;
    return 0;
}

/* The value of a scalar event, by its tag, or by its style and the core schema. */
static int scalar_value(struct ctx *c, const yaml_event_t *ev, json_t **out)
{
    const char *s = (const char *)ev->data.scalar.value, *tag = (const char *)ev->data.scalar.tag;
    size_t n = ev->data.scalar.length;
    enum kind k = tag_kind(tag);
    char shown[80];
    int64_t i;
    double d;
    int rc;
    *out = NULL;
    if (k == K_UNTAGGED && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        if (is_one_of(s, n, null_words))
            k = K_NULL;
        else if (is_one_of(s, n, true_words) || is_one_of(s, n, false_words))
            k = K_BOOL;
        else if (parse_int(s, n, &i) <= 0)
            k = K_INT;
        else if (parse_float(s, n, &d) != 1)
            k = K_FLOAT;
    }
    switch (k) {
    case K_NULL:
        if (!is_one_of(s, n, null_words))
            break;
        *out = json_null();
        return 0;
    case K_BOOL:
        if (!is_one_of(s, n, true_words) && !is_one_of(s, n, false_words))
            break;
        *out = json_boolean(is_one_of(s, n, true_words));
        return 0;
    case K_INT:
        if ((rc = parse_int(s, n, &i)) < 0)
            return at(c, CR_EINVAL, ev->start_mark,
                      "integer %.40s is out of range (64 bits); quote it to keep it as text",
                      s);
        if (rc > 0)
            break;
        *out = json_integer(i);
        return 0;
    case K_FLOAT:
        if ((rc = parse_float(s, n, &d)) == 2)
            return at(c, CR_EINVAL, ev->start_mark,
                      "%s is not a number JSON can hold; quote it to keep it as text", s);
        if (rc < 0)
            return at(c, CR_EINVAL, ev->start_mark,
                      "number %.40s is out of range; quote it to keep it as text", s);
        if (rc > 0)
            break;
        *out = json_real(d);
        return 0;
    case K_UNTAGGED:
    case K_NONSPECIFIC:
    case K_STR:
        if (memchr(s, '\0', n))
            return at(c, CR_EINVAL, ev->start_mark, "a string must not contain a NUL character");
        if (!(*out = json_stringn(s, n)))
            return at(c, CR_EINVAL, ev->start_mark, "a string is not valid UTF-8");
        return 0;
    case K_MAP:
    case K_SEQ:
        tag_show(tag, shown, sizeof shown);
        return at(c, CR_EINVAL, ev->start_mark, "misplaced tag %s on a scalar", shown);
    case K_OTHER:
        tag_show(tag, shown, sizeof shown);
        return at(c, CR_EINVAL, ev->start_mark,
                  "unsupported tag %s (crier reads !!str, !!int, !!float, !!bool, !!null, "
                  "!!map, !!seq)",
                  shown);
    }
    tag_show(tag, shown, sizeof shown);
    return at(c, CR_EINVAL, ev->start_mark, "'%.40s' does not fit its tag %s", s, shown);
}

static int on_scalar(struct ctx *c, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    const char *anchor = (const char *)ev->data.scalar.anchor;
    size_t n = ev->data.scalar.length;
    json_t *v = NULL;
    long a;
    int rc, is_key = expecting_key(c);
    if (is_key) {
        enum kind k = tag_kind((const char *)ev->data.scalar.tag);
        if (k == K_MAP || k == K_SEQ || k == K_OTHER)
            return scalar_value(c, ev, &v); /* reports the tag */
        if ((rc = set_key(c, s, n, ev->start_mark)))
            return rc;
        if (!anchor)
            return 0;
    }
    if ((rc = scalar_value(c, ev, &v)))
        return rc;
    if ((rc = count(c, 1, json_is_string(v) ? n : 0, ev->start_mark))) {
        json_decref(v);
        return rc;
    }
    if (anchor) {
        if ((rc = new_anchor(c, anchor, ev->start_mark, &a))) {
            json_decref(v);
            return rc;
        }
        c->anchors[a].value = json_incref(v);
        c->anchors[a].text = memchr(s, '\0', n) ? NULL : cr_xmemdupz(s, n);
        c->anchors[a].nodes = 1;
        c->anchors[a].bytes = json_is_string(v) ? n : 0;
    }
    if (is_key) { /* an anchored key: its value waits for an alias */
        json_decref(v);
        return 0;
    }
    return attach(c, v, 0, LINE(ev->start_mark), COL(ev->start_mark));
}

static int on_alias(struct ctx *c, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    const struct anchor *a;
    int64_t ix;
    int rc;
    if (!cr_strmap_get(&c->anchor_ix, name, strlen(name), &ix))
        return at(c, CR_ESYNTAX, ev->start_mark, "unknown alias *%.80s (no anchor &%.80s before it)",
                  name, name);
    a = &c->anchors[ix];
    if (!a->value)
        return at(c, CR_ESYNTAX, ev->start_mark,
                  "alias *%.80s is inside the node it names (a recursive alias)", name);
    if (expecting_key(c)) {
        if (!a->text)
            return at(c, CR_ESYNTAX, ev->start_mark,
                      "alias *%.80s names a collection and cannot be a key", name);
        return set_key(c, a->text, strlen(a->text), ev->start_mark);
    }
    if (c->depth + a->height > CR_YAML_MAX_DEPTH)
        return at(c, CR_ETOOBIG, ev->start_mark, "nesting deeper than %d levels",
                  CR_YAML_MAX_DEPTH);
    if ((rc = count(c, a->nodes, a->bytes, ev->start_mark)))
        return rc;
    return attach(c, copy_node(c, a->value), a->height, LINE(ev->start_mark),
                  COL(ev->start_mark));
}

static int on_start(struct ctx *c, const yaml_event_t *ev, int is_map)
{
    const char *anchor, *tag;
    struct frame *f;
    enum kind k;
    char shown[80];
    int rc;
    if (is_map) {
        anchor = (const char *)ev->data.mapping_start.anchor;
        tag = (const char *)ev->data.mapping_start.tag;
    } else {
        anchor = (const char *)ev->data.sequence_start.anchor;
        tag = (const char *)ev->data.sequence_start.tag;
    }
    if (expecting_key(c))
        return at(c, CR_ESYNTAX, ev->start_mark, "a key must be a scalar, not a %s",
                  is_map ? "mapping" : "sequence");
    k = tag_kind(tag);
    if (k != K_UNTAGGED && k != K_NONSPECIFIC && k != (is_map ? K_MAP : K_SEQ)) {
        tag_show(tag, shown, sizeof shown);
        return at(c, CR_EINVAL, ev->start_mark, "%s tag %s on a %s",
                  k == K_OTHER ? "unsupported" : "misplaced", shown,
                  is_map ? "mapping" : "sequence");
    }
    if (c->depth == CR_YAML_MAX_DEPTH)
        return at(c, CR_ETOOBIG, ev->start_mark, "nesting deeper than %d levels",
                  CR_YAML_MAX_DEPTH);
    if ((rc = count(c, 1, 0, ev->start_mark)))
        return rc;
    f = &c->stack[c->depth];
    memset(f, 0, sizeof *f);
    f->anchor = -1;
    if (anchor && (rc = new_anchor(c, anchor, ev->start_mark, &f->anchor)))
        return rc;
    f->c = is_map ? json_object() : json_array();
    if (!f->c)
        return cr_err_set(c->err, CR_ENOMEM, "out of memory building a YAML collection");
    f->is_map = is_map;
    f->line = LINE(ev->start_mark);
    f->col = COL(ev->start_mark);
    f->nodes0 = c->nodes - 1;
    f->bytes0 = c->bytes;
    c->depth++;
    return 0;
}

static int on_end(struct ctx *c)
{
    struct frame *f = &c->stack[--c->depth];
    json_t *v = f->c;
    int height = f->height + 1;
    f->c = NULL;
    free(f->key); /* libyaml gives every key a value; this is for safety */
    f->key = NULL;
    if (f->anchor >= 0) {
        struct anchor *a = &c->anchors[f->anchor];
        a->value = json_incref(v);
        a->nodes = c->nodes - f->nodes0;
        a->bytes = c->bytes - f->bytes0;
        a->height = height;
    }
    return attach(c, v, height, f->line, f->col);
}

static int run(struct ctx *c, const char *text, size_t len)
{
    int docs = 0, rc = 0, done = 0;
    while (!rc && !done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&c->parser, &ev))
            return parser_error(c, text, len);
        switch (ev.type) {
        case YAML_DOCUMENT_START_EVENT:
            if (docs++)
                rc = at(c, CR_ESYNTAX, ev.start_mark,
                        "a second YAML document; the input must hold exactly one");
            break;
        case YAML_STREAM_END_EVENT:
            if (!docs) /* only blanks and comments: the whole input is the problem */
                rc = cr_err_at(c->err, CR_ESYNTAX, 1, 1, "no YAML document in the input");
            done = 1;
            break;
        case YAML_SCALAR_EVENT:
            rc = on_scalar(c, &ev);
            break;
        case YAML_ALIAS_EVENT:
            rc = on_alias(c, &ev);
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            rc = on_start(c, &ev, ev.type == YAML_MAPPING_START_EVENT);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            rc = on_end(c);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    return rc;
}

int cr_yaml_to_json_pos(const char *text, size_t len, json_t **out, struct cr_yaml_pos **pos,
                        struct cr_err *err)
{
    struct ctx *c = cr_xcalloc(1, sizeof *c);
    int rc;
    *out = NULL;
    if (pos)
        *pos = NULL;
    if (!yaml_parser_initialize(&c->parser)) {
        free(c);
        return cr_err_set(err, CR_ENOMEM, "out of memory starting the YAML parser");
    }
    yaml_parser_set_input_string(&c->parser, (const unsigned char *)text, len);
    c->err = err;
    if (pos)
        c->pos = cr_xcalloc(1, sizeof *c->pos);
    cr_strmap_init(&c->anchor_ix);
    rc = run(c, text, len);
    if (!rc && !c->root) /* not reached: a document always has a node */
        rc = cr_err_set(err, CR_ESYNTAX, "no YAML document in the input");
    if (rc && err && !err->code) /* every path sets err; keep the contract if one forgets */
        cr_err_set(err, rc, "%s", cr_strerror(rc));
    for (int i = 0; i < c->depth; i++) {
        json_decref(c->stack[i].c);
        free(c->stack[i].key);
    }
    for (size_t i = 0; i < c->nanchors; i++) {
        json_decref(c->anchors[i].value);
        free(c->anchors[i].text);
    }
    free(c->anchors);
    cr_strmap_release(&c->anchor_ix);
    yaml_parser_delete(&c->parser);
    if (rc) {
        json_decref(c->root);
        cr_yaml_pos_free(c->pos);
    } else {
        *out = c->root;
        if (pos)
            *pos = c->pos;
    }
    free(c);
    return rc;
}

int cr_yaml_to_json(const char *text, size_t len, json_t **out, struct cr_err *err)
{
    return cr_yaml_to_json_pos(text, len, out, NULL, err);
}

/* ---- files ---- */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static int read_file(const char *path, struct cr_buf *b, struct cr_err *err)
{
    FILE *f = fopen(path, "rb");
    char chunk[65536];
    size_t n;
    if (!f)
        return cr_err_set(err, errno == ENOENT ? CR_ENOTFOUND : CR_EIO,
                          "%s: cannot open the file: %s", path, strerror(errno));
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (cr_buf_append(b, chunk, n)) {
            fclose(f);
            return cr_err_set(err, CR_ETOOBIG, "%s: the file is larger than %u MiB", path,
                              CR_YAML_MAX_FILE >> 20);
        }
    if (ferror(f)) {
        int e = errno;
        fclose(f);
        return cr_err_set(err, CR_EIO, "%s: cannot read the file: %s", path, strerror(e));
    }
    fclose(f);
    return 0;
}

int cr_load_json_or_yaml_file_pos(const char *path, json_t **out, struct cr_yaml_pos **pos,
                                  struct cr_err *err)
{
    struct cr_buf b = CR_BUF_INIT(CR_YAML_MAX_FILE);
    int rc, json;
    *out = NULL;
    if (pos)
        *pos = NULL;
    if ((rc = read_file(path, &b, err))) {
        cr_buf_release(&b);
        return rc;
    }
    if (ends_with(path, ".json"))
        json = 1;
    else if (ends_with(path, ".yaml") || ends_with(path, ".yml"))
        json = 0;
    else {
        size_t i = strspn(b.data, " \t\r\n");
        json = b.data[i] == '{' || b.data[i] == '[';
    }
    if (json) {
        json_error_t je;
        *out = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
        if (!*out) {
            int line = je.line > 0 ? je.line : 0, col = je.column > 0 ? je.column : 0;
            rc = json_error_code(&je) == json_error_out_of_memory ? CR_ENOMEM : CR_ESYNTAX;
            if (line && col)
                cr_err_at(err, rc, line, col, "%s:%d:%d: %s", path, line, col, je.text);
            else if (line)
                cr_err_at(err, rc, line, 0, "%s:%d: %s", path, line, je.text);
            else
                cr_err_set(err, rc, "%s: %s", path, je.text);
        }
    } else {
        struct cr_err e = CR_ERR_INIT;
        if ((rc = cr_yaml_to_json_pos(b.data, b.len, out, pos, &e))) {
            if (e.line)
                cr_err_at(err, rc, e.line, e.col, "%s:%d:%d: %s", path, e.line, e.col, e.msg);
            else
                cr_err_set(err, rc, "%s: %s", path, e.msg);
        }
    }
    cr_buf_release(&b);
    return rc;
}

int cr_load_json_or_yaml_file(const char *path, json_t **out, struct cr_err *err)
{
    return cr_load_json_or_yaml_file_pos(path, out, NULL, err);
}
