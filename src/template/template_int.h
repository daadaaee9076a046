/*
 * template_int.h - what the files of src/template/ share: values, the compiled program's
 * nodes, the lexer's tokens, the render state
 *
 * Pipeline: lex.c (template text -> tokens; tag markup -> markup tokens) -> parse.c (tokens
 * -> nodes) -> program.c (the immutable program, names, snippets) -> render.c (nodes ->
 * output), with value.c (the value model), vars.c (bindings), filter*.c (the standard
 * filters) and arena.c (scratch memory). Nothing here is part of crier's public API.
 */
#ifndef CR_TEMPLATE_INT_H
#define CR_TEMPLATE_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/datetime.h"
#include "core/err.h"
#include "template/template.h"

#define T_DEFAULT_MAX_SOURCE ((size_t)1 << 20)
#define T_DEFAULT_MAX_DEPTH 100u
#define T_DEFAULT_MAX_STEPS UINT64_C(10000000)
#define T_DEFAULT_MAX_SCRATCH ((size_t)64 << 20)
#define T_MAX_ARGS 8      /* positional arguments of one filter call */
#define T_MAX_TOKEN 65536 /* bytes of one tag's markup or one string literal */

/* ========================================================================== arena === */

/* Bump allocation in chunks; reset keeps the chunks for the next use. */
struct tchunk {
    struct tchunk *next;
    size_t size, used;
    /* data follows, aligned to 16 */
};

struct tarena {
    struct tchunk *head; /* current chunk */
    struct tchunk *all;  /* every chunk, for reset and release */
    size_t total;        /* bytes held in chunks */
    size_t max;          /* 0 = unlimited */
};

void cr__tarena_init(struct tarena *a, size_t max);
void cr__tarena_release(struct tarena *a);
void cr__tarena_reset(struct tarena *a);
/* 8-aligned, uninitialised; NULL when max would be exceeded. */
void *cr__tarena_alloc(struct tarena *a, size_t n);
void *cr__tarena_dup(struct tarena *a, const void *p, size_t n); /* NUL-terminated copy */

/* ========================================================================= values === */

enum tv_kind {
    TV_NIL,
    TV_BOOL,
    TV_INT,
    TV_FLOAT,
    TV_STR,
    TV_EMPTY, /* the literal `empty` */
    TV_BLANK, /* the literal `blank` */
    TV_RANGE,
    TV_ARR,  /* an array built while rendering (split, map...) */
    TV_JSON, /* a JSON array or object (scalars are converted when read) */
    TV_REC,  /* a struct cr_trecord */
    TV_LOOP, /* forloop */
};

struct tval;
struct tarr {
    size_t n;
    struct tval *v;
};

struct tloop {
    int64_t index0, length;
    const char *name;
    size_t namelen;
    const struct tloop *parent;
};

struct tval {
    uint8_t kind; /* enum tv_kind */
    union {
        int b;
        int64_t i;
        double f;
        struct {
            const char *p;
            size_t n;
        } s;
        struct {
            int64_t lo, hi;
        } r;
        const struct tarr *a;
        json_t *j;
        const struct cr_trecord *rec;
        const struct tloop *loop;
    } u;
};

static inline struct tval tv_nil(void)
{
    struct tval v;
    v.kind = TV_NIL;
    v.u.i = 0;
    return v;
}
static inline struct tval tv_bool(int b)
{
    struct tval v;
    v.kind = TV_BOOL;
    v.u.b = !!b;
    return v;
}
static inline struct tval tv_int(int64_t i)
{
    struct tval v;
    v.kind = TV_INT;
    v.u.i = i;
    return v;
}
static inline struct tval tv_float(double f)
{
    struct tval v;
    v.kind = TV_FLOAT;
    v.u.f = f;
    return v;
}
static inline struct tval tv_str(const char *p, size_t n)
{
    struct tval v;
    v.kind = TV_STR;
    v.u.s.p = p;
    v.u.s.n = n;
    return v;
}

/* FNV-1a, for names and keys (compile time hashes the literals once). */
uint32_t cr__thash(const char *p, size_t n);

/* A JSON value as a template value (scalars converted; containers wrapped). */
struct tval cr__tv_from_json(json_t *j);
/* Record column i as a value, by the column's type. */
struct tval cr__tv_from_record(const struct cr_trecord *rec, size_t i);

int cr__tv_truthy(const struct tval *v);
/* Liquid's ==, including the `empty` and `blank` literals on either side. */
int cr__tv_equal(const struct tval *a, const struct tval *b);
/* 1 if v is blank (nil, false, whitespace-only string, empty collection). */
int cr__tv_is_blank(const struct tval *v);
/* 1 if v is an empty string, array or hash ("respond_to?(:empty?) && empty?"). */
int cr__tv_is_empty(const struct tval *v);
/* Appends v as Liquid prints it ({{ v }}). Returns the buffer's error. */
int cr__tv_write(struct cr_buf *b, const struct tval *v);
/* Appends Ruby's inspect form (hash and array members). */
int cr__tv_inspect(struct cr_buf *b, const struct tval *v);
/* Ruby Float#to_s: "2.5", "2.0", "1.0e+20", "1.0e-05", "Infinity", "NaN". out: 32 bytes. */
size_t cr__tfmt_float(double d, char *out);
/* Shortest round-trip digits of a finite non-zero |d|: digits (no dot), count, and the
 * decimal exponent such that d = 0.DIGITS x 10^decpt. */
int cr__tfloat_digits(double d, char *digits, int *decpt);
const char *cr__tv_kind_name(const struct tval *v);

/* Collections: arrays (native, JSON, ranges) and hashes (JSON objects, records, forloop). */
int cr__tv_is_array(const struct tval *v);
int cr__tv_is_hash(const struct tval *v);
size_t cr__tv_len(const struct tval *v); /* array length or number of hash entries */
/* Element i of an array-like value (0 <= i < len). */
struct tval cr__tv_index(const struct tval *v, size_t i);
/* A hash's member; returns 1 if the key exists. */
int cr__tv_member(const struct tval *v, const char *key, size_t n, uint32_t hash,
                  struct tval *out);
/* Iterates a hash's entries in order: init, then next until it returns 0. */
struct thiter {
    const struct tval *h;
    void *it;
    size_t i;
};
void cr__tv_hash_iter(struct thiter *it, const struct tval *h);
int cr__tv_hash_next(struct thiter *it, struct tval *key, struct tval *val);

/* Numbers for filters and comparisons (Liquid's Utils.to_number). */
struct tnum {
    int is_float;
    int64_t i;
    double f;
};
struct tnum cr__tv_to_number(const struct tval *v);
struct tval cr__tnum_val(struct tnum n);
/* Ruby's String#to_i: leading spaces, sign, digits; 0 when none. */
int64_t cr__tstr_to_i(const char *p, size_t n);

/* ================================================================= the program === */

enum tnode_kind {
    N_TEXT,
    N_OUTPUT, /* {{ }} and echo */
    N_IF,     /* if, unless */
    N_CASE,
    N_FOR,
    N_ASSIGN,
    N_CAPTURE,
    N_INCREMENT,
    N_DECREMENT,
    N_CYCLE,
    N_RENDER, /* render, include */
    N_BREAK,
    N_CONTINUE,
};

enum texpr_kind { X_LIT, X_VAR, X_RANGE };

struct texpr;

/* One lookup after the name: .key, [literal] or [expr]. */
struct tstep {
    struct tval key;     /* string or integer literal; unused when e is set */
    uint32_t hash;       /* of a string key */
    uint8_t command;     /* written with a dot: size, first, last may apply */
    struct texpr *e;     /* dynamic key */
    uint32_t srcend;     /* offset past this step in the expression's source */
};

struct texpr {
    uint8_t kind; /* enum texpr_kind */
    int line, col;
    const char *file; /* the snippet's name, NULL in the main template */
    struct tval lit; /* X_LIT */
    /* X_VAR */
    uint32_t slot;      /* the name's slot (program-wide); UINT32_MAX if dyn */
    struct texpr *dyn;  /* {{ [expr] }}: the name is computed */
    const char *name;
    uint32_t namelen, hash;
    struct tstep *steps;
    uint32_t nsteps;
    const char *src; /* the expression's text, for messages */
    uint32_t srclen;
    /* X_RANGE */
    struct texpr *lo, *hi;
};

struct trender;
struct tfilter;
typedef int (*tfilter_fn)(struct trender *r, const struct tfilter *f, struct tval *v,
                          const struct tval *args, const struct tval *kw);

struct tfilter_def {
    const char *name;
    tfilter_fn fn;
    uint8_t min, max; /* positional arguments */
    uint8_t kw;       /* takes keyword arguments (default: allow_false) */
};

struct tkwarg {
    const char *name;
    uint32_t namelen;
    uint32_t slot; /* render/include parameters */
    struct texpr *e;
};

struct tfilter {
    const struct tfilter_def *def; /* NULL: unknown filter in lax mode (passes through) */
    const char *name;
    uint32_t namelen;
    uint8_t nargs, nkw;
    struct texpr *args;
    struct tkwarg *kw;
    int line, col;
    const char *file;
};

struct tchain {
    struct texpr *e;
    struct tfilter *f;
    uint32_t nf;
};

enum tcmp { C_NONE, C_EQ, C_NE, C_LT, C_GT, C_LE, C_GE, C_CONTAINS };
enum tjoin { J_NONE, J_AND, J_OR };

/* a op b [and|or next...]: evaluated right to left, as Liquid does. */
struct tcond {
    struct texpr *l, *r;
    uint8_t op, join;
    struct tcond *next;
    int line, col;
};

struct tnode;
struct tblock {
    struct tnode *v;
    uint32_t n;
};

struct tbranch {
    struct tcond *cond; /* NULL: else */
    uint8_t negate;     /* unless */
    struct tblock body;
};

struct twhen {
    struct texpr *value; /* NULL: else */
    const struct tblock *body;
};

struct tfor {
    uint32_t var, reg; /* loop variable slot; offset:continue register */
    struct texpr *coll, *limit, *offset;
    uint8_t reversed, offset_continue;
    const char *name; /* "var-collection", forloop.name */
    uint32_t namelen;
    struct tblock body, els;
};

struct tcycle {
    struct texpr *group; /* NULL: the values' text identifies the cycle */
    const char *ident;
    uint32_t identlen;
    struct texpr *values;
    uint32_t nvalues;
};

struct tcall {
    uint32_t snippet;
    uint8_t isolated; /* render (1) or include (0) */
    uint8_t mode;     /* 0, 'w' (with), 'f' (for) */
    struct texpr *with;
    uint32_t alias; /* slot receiving the with/for value */
    uint32_t self;  /* slot of the snippet's own name (include without with) */
    struct tkwarg *args;
    uint32_t nargs;
    const char *name;
    uint32_t namelen;
};

struct tnode {
    uint8_t kind; /* enum tnode_kind */
    int line, col;
    const char *file;
    union {
        struct {
            const char *p;
            size_t n;
        } text;
        struct tchain out;
        struct {
            struct tbranch *v;
            uint32_t n;
        } ifs;
        struct {
            struct texpr *subject;
            struct twhen *v;
            uint32_t n;
        } cas;
        struct tfor *loop;
        struct {
            uint32_t slot;
            struct tchain val;
        } assign;
        struct {
            uint32_t slot;
            struct tblock body;
        } capture;
        struct {
            uint32_t slot;
        } counter;
        struct tcycle *cycle;
        struct tcall *call;
    } u;
};

struct tname {
    const char *p;
    uint32_t n, hash;
};

struct tsnippet {
    char *name;
    struct tblock body;
    int ready;
};

struct cr_template {
    struct tarena ar; /* nodes, expressions, copies of the sources */
    struct tblock root;
    struct tname *names; /* slots: every variable name assigned, looped or read */
    uint32_t nnames;
    struct tsnippet *snippets;
    uint32_t nsnippets;
    uint32_t nregs;   /* for-loop registers (offset: continue) */
    uint32_t forloop; /* the slot of `forloop` */
    int strict;
    int uses_clock;
    struct cr_clock *clock;
    unsigned max_depth;
    uint64_t max_steps;
    size_t max_scratch;
};

/* ========================================================================== lexer === */

enum ttok { T_TEXT, T_OUTPUT, T_TAG, T_EOF };

struct ttoken {
    enum ttok kind;
    const char *p; /* text, or the markup after the tag name / inside {{ }} */
    size_t n;
    const char *name; /* tag name (T_TAG) */
    size_t namelen;
    int line, col;   /* where the token starts ('{' for tags) */
    int mline, mcol; /* where p starts */
};

struct tlexer {
    const char *src, *p, *end;
    int line, col;
    int lstrip; /* the previous tag ended with '-': strip the next text's left */
    /* liquid-tag mode: each non-empty line of p..end is a tag */
    int lines;
    const char *file; /* for messages: the snippet's name or NULL */
};

void cr__tlex_init(struct tlexer *lx, const char *src, size_t n, int line, int col, int lines);
int cr__tlex_next(struct tlexer *lx, struct ttoken *tok, struct cr_err *err);
/* After {% raw %}: the body up to {% endraw %} (consumed). */
int cr__tlex_raw(struct tlexer *lx, const struct ttoken *open, int trim_open,
                struct ttoken *body, struct cr_err *err);

enum mtok {
    M_END,
    M_ID,
    M_STR,
    M_INT,
    M_FLOAT,
    M_DOT,
    M_DOTDOT,
    M_LBR,
    M_RBR,
    M_LP,
    M_RP,
    M_PIPE,
    M_COLON,
    M_COMMA,
    M_CMP, /* == != <> < > <= >= contains (cmp says which) */
    M_ASSIGN,
};

struct mtoken {
    enum mtok k;
    const char *p;
    size_t n;
    int line, col;
    int64_t i;
    double f;
    int cmp;
};

/* The markup lexer: one token of lookahead in cur. */
struct mlex {
    const char *p, *end;
    int line, col;
    struct mtoken cur;
    struct cr_err *err;
    const char *file;
};

void cr__tmlex_init(struct mlex *m, const char *p, size_t n, int line, int col,
                   struct cr_err *err);
int cr__tmlex_next(struct mlex *m);
/* The token after cur, without consuming. */
int cr__tmlex_peek(const struct mlex *m, struct mtoken *out);
const char *cr__tmtok_name(enum mtok k);

/* ========================================================================= parser === */

/* Builds the program from src (compile-time state lives in parse.c). */
int cr__tparse(struct cr_template *t, const char *src, size_t len,
              const struct cr_template_opts *opts, struct cr_err *err);

/* ======================================================================== filters === */

const struct tfilter_def *cr__tfilter_find(const char *name, size_t n);
/* One table per family, each ended by a NULL name. */
extern const struct tfilter_def cr__tfilters_string[];
extern const struct tfilter_def cr__tfilters_math[];
extern const struct tfilter_def cr__tfilters_array[];
extern const struct tfilter_def cr__tfilters_date[];

/* Ruby's to_s of a filter argument or input: strings as they are, nil "", arrays and
 * hashes in inspect form, numbers as printed. The view lives until the render ends. */
int cr__tf_str(struct trender *r, const struct tval *v, const char **p, size_t *n);
/* Liquid's InputIterator: arrays flattened, a hash as [hash], nil as [], else [v]; ranges
 * expanded. The result is a native array in the arena. */
int cr__tf_iter(struct trender *r, const struct tfilter *f, const struct tval *v,
               struct tval *out);
struct tarr *cr__tf_new_arr(struct trender *r, size_t n);
/* Utils.to_integer with the filter's position in messages. */
int cr__tfilter_to_integer(struct trender *r, const struct tfilter *f, const struct tval *v,
                          int64_t *out);
/* A filter error at the filter's position. */
int cr__tf_fail(struct trender *r, const struct tfilter *f, int code, const char *fmt, ...)
    CR_PRINTF(4, 5);

/* ===================================================================== the render === */

struct tslot {
    struct tval root, shadow;
    int64_t counter;
    uint8_t has_root, has_shadow, has_counter;
};

struct tcycle_state {
    const char *key;
    size_t keylen;
    int64_t pos;
};

struct trender {
    const struct cr_template *t;
    struct cr_tvars *vars;
    struct cr_buf *out;
    struct cr_err *err;
    struct tarena *ar;
    struct cr_buf *sb; /* filters build strings here, then copy them to the arena */
    struct tslot *slots;
    int64_t *regs;
    struct tcycle_state *cycles;
    size_t ncycles, cyclecap;
    const struct tloop *loop; /* the innermost forloop */
    unsigned depth;
    uint64_t steps;
    int interrupt; /* N_BREAK, N_CONTINUE, or 0 */
    int have_now;
    cr_time_t now;
};

/* Sets err to "<problem> at line L, column C" (" in snippet 'S'" before "at" inside a
 * snippet), then " (<hint>)" if hint is not NULL; returns code. */
int cr__terrf(struct cr_err *err, int code, const char *file, int line, int col,
             const char *hint, const char *fmt, ...) CR_PRINTF(7, 8);
/* Render errors: as cr__terrf on r->err; returns code. */
int cr__trender_fail(struct trender *r, int code, const char *file, int line, int col,
                    const char *fmt, ...) CR_PRINTF(6, 7);
/* Scratch memory for the render; NULL after setting err (limit reached). */
void *cr__trender_alloc(struct trender *r, size_t n);
/* The string in r->sb as a value in the arena. */
int cr__trender_sb_val(struct trender *r, const struct tfilter *f, struct tval *out);
cr_time_t cr__trender_now(struct trender *r);

/* The bindings (vars.c). */
int cr__tvars_get(const struct cr_tvars *v, const char *name, size_t n, uint32_t hash,
                  struct tval *out);
struct tarena *cr__tvars_arena(struct cr_tvars *v, size_t max);
struct cr_buf *cr__tvars_sb(struct cr_tvars *v);
void *cr__tvars_scratch(struct cr_tvars *v, size_t n); /* reusable zeroed block */
/* A record's member by name (hash from cr__thash). */
long cr__trecord_find(const struct cr_trecord *rec, const char *name, size_t n, uint32_t hash);
size_t cr__trecord_ncols(const struct cr_trecord *rec);
const char *cr__trecord_name(const struct cr_trecord *rec, size_t i, size_t *n);

/* Unicode case mapping (unicase.c): appends the mapped UTF-8; invalid bytes copied. */
enum tcase { CASE_UPPER, CASE_LOWER, CASE_TITLE };
int cr__tcase_map(struct cr_buf *b, const char *s, size_t n, enum tcase how);

/* Dates (filter_date.c). */
int cr__tdate_parse_loose(const char *s, size_t n, cr_time_t now, cr_time_t *out);
int cr__tstrftime(struct cr_buf *b, const char *fmt, size_t n, cr_time_t t);

/* Characters (code points) in a UTF-8 string; invalid bytes count as one each. */
size_t cr__tutf8_count(const char *s, size_t n);
/* Byte offset of the character index ci (clamped to n). */
size_t cr__tutf8_offset(const char *s, size_t n, size_t ci);

#endif
