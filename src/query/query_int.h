/*
 * query_int.h - what the stages of the filter compiler share (query/ only)
 *
 * Pipeline, one file per stage: lex.c (text -> tokens) -> parse.c (tokens -> AST) ->
 * resolve.c (names, types, implicit conversions, constant folding) -> sqlgen.c (AST -> SQL
 * and parameters, per dialect); query.c is the public face. Nodes and strings live in one
 * arena per compilation (ast.c), freed at once, so error paths leak nothing.
 */
#ifndef CR_QUERY_INT_H
#define CR_QUERY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "query/query.h"

/* ---------------------------------------------------------------- compilation context */

struct cr__arena_block;
struct cr__arena {
    struct cr__arena_block *head;
};

struct cr__qctx {
    struct cr_err err; /* the first error; copied to the caller's at the end */
    struct cr__arena arena;
    const struct cr_query_catalog *cat;
    const struct cr_query_opts *opts;
    enum cr_dialect dialect;
    enum cr_query_dimension dimension;
    const char *src; /* the filter, len bytes */
    size_t len;
    int max_depth;
    size_t max_params;
    int uses_profile; /* set by resolve: the condition reads alias p (subscription dimension) */
};

/* Records an error at a position (first one wins); returns code. */
int cr__qerr(struct cr__qctx *q, int code, int line, int col, const char *fmt, ...) CR_PRINTF(5, 6);

void *cr__arena_alloc(struct cr__arena *a, size_t n);
char *cr__arena_strndup(struct cr__arena *a, const char *s, size_t n);
void cr__arena_release(struct cr__arena *a);

/* ---------------------------------------------------------------- lexer (lex.c) */

enum tok { /* ORDER: tok_names in lex.c */
           TK_EOF,
           TK_IDENT,  /* a name, folded to lower case */
           TK_QIDENT, /* a "quoted name", exact */
           TK_STRING, /* 'text' */
           TK_INTEGER,
           TK_DECIMAL,
           TK_DURATION, /* 30d, 12h, 1d12h */
           TK_LPAREN,
           TK_RPAREN,
           TK_COMMA,
           TK_DOT,
           TK_PLUS,
           TK_MINUS,
           TK_STAR,
           TK_SLASH,
           TK_EQ,
           TK_NE,
           TK_LT,
           TK_LE,
           TK_GT,
           TK_GE,
           /* keywords, case-insensitive */
           TK_AND,
           TK_OR,
           TK_NOT,
           TK_IS,
           TK_NULL,
           TK_IN,
           TK_LIKE,
           TK_ILIKE,
           TK_BETWEEN,
           TK_TRUE,
           TK_FALSE,
           TK_DATE,
           TK_TIMESTAMP,
           TK_INTERVAL,
};

struct token {
    enum tok kind;
    struct cr_str raw; /* the source bytes of the token */
    int line, col;
    int64_t i; /* TK_INTEGER; TK_DURATION in microseconds */
    double d;  /* TK_DECIMAL */
    char *s;   /* TK_IDENT (lower case), TK_QIDENT, TK_STRING: the value, in the arena */
    size_t slen;
};

struct lexer {
    struct cr__qctx *q;
    const char *p, *end;
    int line, col;
    struct token cur, ahead;
    int have_ahead;
};

/* Checks the whole text (limits, NUL, UTF-8) and reads the first token. */
int cr__lex_init(struct lexer *lx, struct cr__qctx *q);
/* Advances to the next token; returns 0 or the error. */
int cr__lex_next(struct lexer *lx);
/* The token after cur (one token of lookahead). */
const struct token *cr__lex_peek(struct lexer *lx);
/* "'and'", "'gold'", "the end of the filter": for messages. */
const char *cr__tok_describe(const struct token *t, char *buf, size_t size);
const char *cr__tok_name(enum tok k);
/* Parses a duration string (interval '…' or 30d) without integer overflow. */
int cr__lex_duration(struct cr__qctx *q, const char *s, size_t n, int line, int col, int64_t *usec);

/* ---------------------------------------------------------------- AST (ast.c) */

enum nkind {
    N_CONST,   /* a value: val */
    N_NAME,    /* an unresolved name: qual.name (qual may be NULL) */
    N_COLUMN,  /* a catalogue column: column, alias */
    N_NEG,     /* -kid[0] */
    N_NOT,     /* not kid[0] */
    N_ARITH,   /* kid[0] op kid[1], op in + - * / */
    N_CMP,     /* kid[0] op kid[1], op in = != < <= > >= */
    N_ANDOR,   /* kid[0] op kid[1] op ... (n-ary), op TK_AND or TK_OR */
    N_ISNULL,  /* kid[0] is [not] null */
    N_IN,      /* kid[0] [not] in (kid[1], ...) */
    N_LIKE,    /* kid[0] [not] like|ilike kid[1] (op TK_LIKE or TK_ILIKE) */
    N_BETWEEN, /* kid[0] [not] between kid[1] and kid[2] */
    N_CALL,    /* name(kid...): a function or a predicate, fn once resolved */
    N_CAST,    /* implicit conversion of kid[0] to type (inserted by resolve) */
};

struct node {
    enum nkind kind;
    int op;      /* enum tok of the operator (N_ARITH, N_CMP, N_ANDOR, N_LIKE) */
    int negated; /* not in, not like, not between, is not null */
    int line, col;
    int height;              /* 1 + the tallest kid */
    int parens;              /* written in parentheses (for messages) */
    enum cr_query_type type; /* set by resolve */
    struct node **kid;
    int nkid, cap;
    /* N_NAME, N_CALL */
    const char *qual, *name;
    int quoted;
    /* N_COLUMN */
    const struct cr_column *column;
    char alias; /* 'p' or 's' */
    /* N_CONST */
    struct cr_query_param val;
    int literal_string; /* a string literal, which may read as a date, timestamp, interval */
    /* N_CALL, once resolved */
    int fn;
    int64_t delivery; /* behaviour predicates: the delivery id */
};

struct node *cr__node_new(struct cr__qctx *q, enum nkind kind, int line, int col);
/* Appends a kid and updates the height; returns 0 or CR_ETOOBIG (too deep). */
int cr__node_add(struct cr__qctx *q, struct node *n, struct node *kid);
/* Checks n's height against the depth limit. */
int cr__node_check_height(struct cr__qctx *q, struct node *n);
/* Appends an S-expression of the tree, for tests: (and (= tier 'gold') (is-null email)). */
void cr__node_dump(const struct node *n, struct cr_buf *out);

/* ---------------------------------------------------------------- the stages */

/* parse.c: the whole filter; *out is the root. */
int cr__parse(struct cr__qctx *q, struct node **out);
/* resolve.c: names, types, conversions, folding; the root must be a condition. */
int cr__resolve(struct cr__qctx *q, struct node **root);
/* sqlgen.c: the SQL of dialect into out->where and out->params. The SQLite form also checks
 * that SQLite's parser can take it (CR_ETOOBIG otherwise). */
int cr__sqlgen(struct cr__qctx *q, const struct node *root, enum cr_dialect dialect,
               struct cr_query *out);

/* Functions and predicates (resolve.c), for sqlgen. ORDER: funcs[] in resolve.c */
enum qfn {
    F_LOWER,
    F_UPPER,
    F_TRIM,
    F_LENGTH,
    F_COALESCE,
    F_CONCAT,
    F_NOW,
    F_TODAY,
    F_AGE,
    F_YEAR,
    F_MONTH,
    F_DAY,
    F_IN_LIST,
    F_SUBSCRIBED,
    F_SENT,
    F_DELIVERED,
    F_OPENED,
    F_CLICKED,
    F_BOUNCED,
    F_UNSUBSCRIBED,
};
const char *cr__fn_name(int fn);
/* Levenshtein-style closest candidate within a small distance, or NULL. */
const char *cr__closest(const char *word, const char *const *cands, size_t n);

/* Time helpers shared by resolve.c and query.c. */
#define CR__USEC_PER_DAY (INT64_C(86400) * CR_USEC_PER_SEC)
#define CR__MIN_DAYS INT64_C(-719162) /* 0001-01-01 */
#define CR__MAX_DAYS INT64_C(2932896) /* 9999-12-31 */
/* Offsets from now() or today() are bounded so that binding cannot overflow. */
#define CR__MAX_OFFSET_USEC (INT64_C(10000) * 366 * CR__USEC_PER_DAY)
int64_t cr__floor_div(int64_t a, int64_t b);

#endif
