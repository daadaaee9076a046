/*
 * query.h - the filter language: a condition over profiles or subscriptions, compiled to
 * parameterised SQL for SQLite and PostgreSQL
 *
 * cr_query_compile() turns `tier = 'gold' and created_at > now() - 30d` into a boolean SQL
 * expression over fixed table aliases, with '?' placeholders and a typed parameter list:
 *
 *   dimension profile       the condition reads `profile p`
 *   dimension subscription  the condition reads `subscription s` and, when q->uses_profile,
 *                           `profile p` joined on p.id = s.profile_id
 *
 * so a caller can embed it in its own statement with its own parameters before and after:
 *
 *   SELECT p.id FROM profile p
 *    WHERE p.id IN (SELECT profile_id FROM population_member WHERE population_id = ?)
 *      AND <q.where>                       -- then cr_query_bind(st, 2, &q, &err)
 *
 * Invariants: every literal of the filter is a bound parameter; identifiers in the SQL come
 * only from the schema catalogue (quoted), never from the filter's text; q.where is
 * self-contained (parenthesised). now() and today() are parameters too, computed from the
 * clock of the options when the query is bound, not when it is compiled, so a compiled query
 * reused later (a recurring workflow) sees the time of each run, and the virtual clock drives
 * filters. The language is described in docs/filter-language.md.
 *
 * Ownership: cr_query_compile() borrows its arguments; the catalogue's schemas need not
 * outlive the call. The struct cr_query belongs to the caller: cr_query_release() frees what
 * it holds; it keeps the opts' clock pointer (which must outlive it, or be NULL for the real
 * clock). On failure the output is left released (safe to release again).
 */
#ifndef CR_QUERY_H
#define CR_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "store/schema.h"
#include "store/store.h"

enum cr_query_dimension {
    CR_QUERY_PROFILE,      /* default: one row per profile, alias p */
    CR_QUERY_SUBSCRIPTION, /* one row per subscription (alias s) with its profile (alias p) */
};

/* The types of the language, of its expressions and of the parameters. */
enum cr_query_type {             /* ORDER: type_names in query.c */
                     CR_QT_NULL, /* the literal null, before it takes its neighbour's type */
                     CR_QT_BOOLEAN,
                     CR_QT_INTEGER, /* 64-bit */
                     CR_QT_REAL,    /* double */
                     CR_QT_TEXT,
                     CR_QT_DATE,      /* a calendar day, UTC */
                     CR_QT_TIMESTAMP, /* an instant, UTC, microseconds */
                     CR_QT_INTERVAL, /* a duration, microseconds (no months: their length varies) */
};

/* What a date or timestamp parameter counts from. */
enum cr_query_base {
    CR_QB_ABSOLUTE,  /* i is the value itself */
    CR_QB_NOW,       /* TIMESTAMP: now() + i microseconds, read from the clock at bind time */
    CR_QB_TODAY,     /* DATE: today() + i days; TIMESTAMP: today() at 00:00 + i microseconds */
    CR_QB_YEARS_AGO, /* DATE, SQLite only: today() with its year lowered by i, the month and
                      * day kept even where that year lacks the day (2027-02-29): a text
                      * bound for age() comparisons, which compare dates as text */
};

struct cr_query_param {
    enum cr_query_type type; /* read-only */
    enum cr_query_base base; /* read-only: DATE and TIMESTAMP only */
    int64_t i;  /* INTEGER; BOOLEAN 0/1; DATE days since 1970-01-01 (or offset); TIMESTAMP and
                 * INTERVAL microseconds (TIMESTAMP since the epoch, or offset) */
    double d;   /* REAL */
    char *text; /* TEXT: owned, NUL-terminated, len bytes (may not contain NUL) */
    size_t len;
    int line, col; /* where in the filter the value comes from (0 for generated ones) */
};

struct cr_query {
    enum cr_dialect dialect;           /* read-only */
    enum cr_query_dimension dimension; /* read-only */
    char *where;                       /* read-only: the condition, owned */
    struct cr_query_param *params;     /* read-only: one per '?' of where, in order */
    size_t nparams;
    int uses_profile;       /* read-only: where reads alias p (subscriptions) */
    struct cr_clock *clock; /* borrowed from the options; NULL = real time */
    enum cr_query_type type; /* read-only: BOOLEAN, or the value's type with opts.value */
};
#define CR_QUERY_INIT                                                                              \
    {                                                                                              \
        CR_DIALECT_SQLITE, CR_QUERY_PROFILE, NULL, NULL, 0, 0, NULL, CR_QT_BOOLEAN                 \
    }

/* The columns a filter may name. dialect picks the SQL; profile is required, subscription is
 * required for the subscription dimension (and improves hints on the profile one). */
struct cr_query_catalog {
    enum cr_dialect dialect;
    const struct cr_schema *profile;
    const struct cr_schema *subscription;
};

/* Maps a delivery named in a behaviour predicate (`opened(offer)`) to its id. Returns 1 and
 * sets *id when found, 0 when unknown (the compiler reports the name), or a negative CR_E*
 * with err set, which fails the compilation with that error. */
typedef int (*cr_query_delivery_fn)(void *data, const char *name, int64_t *id, struct cr_err *err);

#define CR_QUERY_DEFAULT_MAX_DEPTH 100
#define CR_QUERY_HARD_MAX_DEPTH 200
#define CR_QUERY_DEFAULT_MAX_SOURCE (256 * 1024)
#define CR_QUERY_DEFAULT_MAX_PARAMS 20000

struct cr_query_opts {
    enum cr_query_dimension dimension;
    struct cr_clock *clock;        /* now() and today(); NULL = the OS clock */
    cr_query_delivery_fn delivery; /* NULL: delivery names are an error, ids only */
    void *delivery_data;
    int max_depth;     /* nesting limit, 0 = default, at most CR_QUERY_HARD_MAX_DEPTH */
    size_t max_source; /* bytes of filter text, 0 = default */
    size_t max_params; /* parameters (values), 0 = default */
    int value;         /* 1: an expression of any type (an extraction column, `upper(name)`),
                        * not a condition; its type goes to cr_query.type */
};

/*
 * Compiles src (len bytes, UTF-8; need not be NUL-terminated) into out.
 * Errors: CR_ESYNTAX for text that is not the language, CR_EINVAL for names and types that do
 * not fit the catalogue, CR_ETOOBIG past a limit, or the delivery callback's code; err gets
 * the first error with its line and column (1-based, columns in characters) and a hint where
 * one exists. On error out is released.
 */
int cr_query_compile(const struct cr_query_catalog *cat, const char *src, size_t len,
                     const struct cr_query_opts *opts, struct cr_query *out /* OUT */,
                     struct cr_err *err) CR_WARN_UNUSED;
/* As cr_query_compile with the catalogue of s (its dialect, profile and subscription
 * columns, custom ones included). */
int cr_query_compile_store(struct cr_store *s, const char *src, size_t len,
                           const struct cr_query_opts *opts, struct cr_query *out /* OUT */,
                           struct cr_err *err) CR_WARN_UNUSED;
void cr_query_release(struct cr_query *q);

/* Binds q's parameters to st as parameters first .. first + q->nparams - 1, reading now()
 * from q->clock once. Fails with CR_EINVAL if a date computed from the clock falls outside
 * years 1 to 9999, or with the store's code. */
int cr_query_bind(struct cr_stmt *st, int first, const struct cr_query *q,
                  struct cr_err *err) CR_WARN_UNUSED;
/* As cr_query_bind with an explicit now. */
int cr_query_bind_at(struct cr_stmt *st, int first, const struct cr_query *q, cr_time_t now,
                     struct cr_err *err) CR_WARN_UNUSED;

enum cr_query_select {
    CR_QUERY_SELECT_COUNT, /* SELECT count(*) ... */
    CR_QUERY_SELECT_IDS,   /* SELECT <id> ... ORDER BY <id>: profile or subscription ids */
};
/* Appends the whole SELECT statement for q to out; its parameters are q's, from 1.
 * Returns 0 or out->err. */
int cr_query_select_sql(const struct cr_query *q, enum cr_query_select what, struct cr_buf *out);
/* Runs the count. */
int cr_query_count(struct cr_store *s, const struct cr_query *q, int64_t *n /* OUT */,
                   struct cr_err *err) CR_WARN_UNUSED;
/* Runs the ids statement and calls each(data, id) per row in id order; a non-zero return
 * from each stops the walk and is returned. */
int cr_query_ids(struct cr_store *s, const struct cr_query *q, int (*each)(void *data, int64_t id),
                 void *data, struct cr_err *err) CR_WARN_UNUSED;

/* Appends a human-readable view of q: the condition, then one line per parameter
 * ("-- ?1 text 'gold'"), clock-relative values computed at now with their formula.
 * Returns 0 or out->err. */
int cr_query_describe(const struct cr_query *q, cr_time_t now, struct cr_buf *out);
/* Appends err as the three-line message users see: "L:C: message", the source line, a caret
 * under the column. Without a position, just the message. Returns 0 or out->err. */
int cr_query_format_error(const char *src, size_t len, const struct cr_err *err,
                          struct cr_buf *out);

const char *cr_query_type_name(enum cr_query_type t);
const char *cr_query_dimension_name(enum cr_query_dimension d);
/* "profile" or "subscription"; returns 0, or CR_EINVAL with a message in err. */
int cr_query_dimension_parse(const char *name, enum cr_query_dimension *out, struct cr_err *err);

#endif
