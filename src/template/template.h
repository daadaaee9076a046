/*
 * template.h - crier's Liquid-compatible template engine: compile once, render many
 *
 * A template is compiled once (per delivery) into an immutable program, then rendered per
 * recipient. The program may be shared by threads; everything a render changes lives in the
 * struct cr_tvars the caller passes (one per thread), so a thread renders without locks.
 * Rendering does not allocate per node: scratch memory (assigned strings, filter results,
 * loop state) comes from an arena kept inside the cr_tvars and reused by the next render.
 *
 * Not here: sending, signing tracking links (the caller's callbacks do it), storage (snippets
 * come through a loader callback; snippet.c has the two crier uses).
 *
 * Spec: Shopify Liquid as documented at shopify.github.io/liquid (tags, filters, truthiness,
 * integer/float arithmetic); docs/template-language.md lists where crier differs.
 *
 * Ownership: cr_template_* and cr_tvars_* borrow their arguments. Values bound into a
 * cr_tvars (strings, json_t trees, record rows) are borrowed too and must stay alive and
 * unchanged until the renders that use them return. A struct cr_links owns its strings.
 */
#ifndef CR_TEMPLATE_H
#define CR_TEMPLATE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "store/schema.h"

/* ===================================================================== compiling === */

struct cr_template;

/* Fills out (a buffer the compiler owns and resets) with the source of the snippet name.
 * Returns 0, CR_ENOTFOUND if there is no such snippet, or another CR_E* (with err set). */
typedef int (*cr_snippet_loader)(void *data, const char *name, struct cr_buf *out,
                                 struct cr_err *err);

struct cr_template_opts {
    /* Strict: an unknown filter fails compilation; an unknown variable fails the render.
     * Lax (0): unknown filters pass their input through, unknown variables are nil. */
    int strict;
    cr_snippet_loader load_snippet; /* NULL: `render`/`include` fail to compile */
    void *snippet_data;
    /* The date filter's "now" and "today"; NULL = the real clock. Read at most once per
     * render, from the rendering thread: a shared clock must allow that. */
    struct cr_clock *clock;
    /* Limits; 0 picks the default shown. Exceeding one gives CR_ETOOBIG. */
    size_t max_source;    /* bytes of one template or snippet source (1 MiB) */
    unsigned max_depth;   /* nesting of blocks and snippets while parsing/rendering (100) */
    uint64_t max_steps;   /* nodes, loop iterations and filter calls per render (10M) */
    size_t max_scratch;   /* bytes of scratch memory per render (64 MiB) */
};

/* Compiles src (len bytes, need not be NUL-terminated). opts may be NULL (lax, defaults).
 * Snippets named by `render`/`include` are loaded and compiled now, once each.
 * On error *out is NULL and err says what and where (line, column): CR_ESYNTAX for the
 * user's text, CR_ENOTFOUND for an unknown snippet, CR_ETOOBIG for a limit. */
int cr_template_compile(const char *src,
                        size_t len,
                        const struct cr_template_opts *opts,
                        struct cr_template **out, /* OUT: the program */
                        struct cr_err *err) CR_WARN_UNUSED;
void cr_template_free(struct cr_template *t);

/* 1 if the program reads the clock ("now"/"today" literals or a date filter on a variable). */
int cr_template_uses_clock(const struct cr_template *t);

/* ===================================================================== variables === */

/*
 * The variables of a render: named top-level values (profile, delivery, campaign,
 * unsubscribe_url, mirror_url, or the keys of a JSON context) plus the per-render scratch.
 * Binding a name again replaces its value. One cr_tvars is used by one thread at a time.
 */
struct cr_tvars;
struct cr_trecord;

struct cr_tvars *cr_tvars_new(void);
void cr_tvars_free(struct cr_tvars *v);
/* Forgets every binding (keeps the scratch memory for the next render). */
void cr_tvars_clear(struct cr_tvars *v);

/* A JSON value (object, array, string, number, boolean, null) under name. */
void cr_tvars_set_json(struct cr_tvars *v, const char *name, json_t *value);
/* Every key of a JSON object becomes a variable. CR_EINVAL if obj is not an object. */
int cr_tvars_set_json_object(struct cr_tvars *v, json_t *obj);
/* A string (s: len bytes, borrowed); s NULL binds nil. */
void cr_tvars_set_str(struct cr_tvars *v, const char *name, const char *s, size_t len);
void cr_tvars_set_int(struct cr_tvars *v, const char *name, int64_t i);
/* A record (see below) under name: profile.first_name reads its column first_name. */
void cr_tvars_set_record(struct cr_tvars *v, const char *name, struct cr_trecord *rec);

/*
 * A record is a row of typed text columns, the form a store statement gives: a delivery
 * makes one per dimension with the catalogue's column names and types, binds it once, then
 * only swaps the row's values per recipient - no JSON tree, no allocation. Text is converted
 * on read by the column's type: integer and real columns as numbers, boolean columns ("1",
 * "0", "t", "f", "true", "false") as booleans, NULL as nil, others as strings.
 */
struct cr_trecord *cr_trecord_new(const struct cr_column *cols, size_t ncols);
/* As cr_trecord_new, with parallel arrays of names and types. */
struct cr_trecord *cr_trecord_new_names(const char *const *names,
                                        const enum cr_coltype *types,
                                        size_t ncols);
void cr_trecord_free(struct cr_trecord *rec);
/* Sets column i to text (len bytes, borrowed; NULL = SQL NULL). */
void cr_trecord_set(struct cr_trecord *rec, size_t i, const char *text, size_t len);
/* Sets every column from NUL-terminated texts (borrowed; NULL entries are SQL NULL). */
void cr_trecord_set_row(struct cr_trecord *rec, const char *const *texts);
/* The index of column name, or -1. */
long cr_trecord_find(const struct cr_trecord *rec, const char *name);

/* ===================================================================== rendering === */

/* Renders t with the variables of v, appending to out (whose max bounds the output: going
 * past it fails with CR_ETOOBIG). Reuse one out (cr_buf_reset) per recipient.
 * On error out may hold partial output and err says what and where ("undefined variable
 * 'profile.nme' at line 3, column 9"). */
int cr_template_render(const struct cr_template *t,
                       struct cr_tvars *v,
                       struct cr_buf *out,
                       struct cr_err *err) CR_WARN_UNUSED;

/* ====================================================================== snippets === */

/* A loader reading DIR/NAME.liquid, data being the folder path (const char *). Names are
 * letters, digits, '_', '-' and '.' (not first), so a name never leaves the folder. */
int cr_snippet_load_dir(void *dir, const char *name, struct cr_buf *out, struct cr_err *err);
/* A loader reading the store's snippet table, data being the struct cr_store *. Compile
 * from the thread that owns the store. */
int cr_snippet_load_store(void *store, const char *name, struct cr_buf *out,
                          struct cr_err *err);
/* 1 if name is acceptable as a snippet name (see cr_snippet_load_dir). */
int cr_snippet_name_ok(const char *name, size_t len);

/* Appends s[0..n) to out with & < > " ' as HTML entities (as the escape filter does). */
void cr_html_escape(struct cr_buf *out, const char *s, size_t n);

/* ================================================================ the link pass === */

/*
 * Runs on rendered output, separately from rendering. In HTML every <a href="http(s)://…">
 * becomes the URL the rewrite callback returns (a click-tracking link), except links marked
 * data-notrack and non-http(s) ones (mailto:, tel:, anchors…); the pixel callback's HTML
 * goes before the last </body>, or at the end without one. In plain text (SMS) every
 * http(s) URL is offered to the callback. Either way the links found are listed.
 */
struct cr_link {
    int id;      /* 1-based, in order of appearance among the rewritten links */
    char *url;   /* as the recipient would follow it: entities decoded, spaces trimmed */
    char *label; /* data-label, else the link text (tags dropped, spaces collapsed), else
                    an image's alt text; "" for links found in plain text */
};

struct cr_links {
    struct cr_link *v; /* public, read-only */
    size_t n;
    size_t cap; /* private */
};
#define CR_LINKS_INIT {0, 0, 0}
void cr_links_release(struct cr_links *l);

struct cr_link_opts {
    /* Appends the replacement URL (raw: the pass escapes it for HTML) to out. Returning 1
     * keeps the original link (not listed); a negative CR_E* stops the pass with that
     * error. NULL: links are listed, not rewritten. */
    int (*rewrite)(void *data, const struct cr_link *link, struct cr_buf *out);
    /* Appends the open pixel's HTML to out; NULL = no pixel. HTML pass only. */
    int (*pixel)(void *data, struct cr_buf *out);
    void *data;
};

/* The HTML pass: writes the rewritten document to out and appends the links to links
 * (may be NULL). On error out and links are left partial and err says why. */
int cr_links_html(const char *html, size_t len, const struct cr_link_opts *o,
                  struct cr_buf *out, struct cr_links *links, struct cr_err *err) CR_WARN_UNUSED;
/* The plain-text pass (SMS): each http(s) URL (trailing punctuation excluded) is rewritten. */
int cr_links_text(const char *text, size_t len, const struct cr_link_opts *o,
                  struct cr_buf *out, struct cr_links *links, struct cr_err *err) CR_WARN_UNUSED;

#endif
