/*
 * store.h - crier's database: one interface, SQLite and PostgreSQL behind it
 *
 * A store is opened from a URL: "postgres://…" or "postgresql://…" (or a libpq key=value
 * string starting with "host=" / "dbname=") means PostgreSQL, anything else is a SQLite file
 * path. Statements are written once, with '?' placeholders, in the SQL both dialects share;
 * the PostgreSQL backend numbers the placeholders. Where the dialects differ, callers ask
 * cr_store_dialect() and say it explicitly.
 *
 * Values cross the interface as text, 64-bit integers, doubles or NULL. Booleans are bound
 * with cr_stmt_bind_bool() and read with cr_stmt_bool(), which understand both backends'
 * forms. Timestamps are text in the form of core/datetime.h, UTC.
 *
 * Ownership: a store owns its statements' backend resources; a cr_stmt must be freed before
 * its store is closed. Text returned by cr_stmt_text() lives until the next step, reset or
 * free of that statement. A store is used by one thread at a time.
 */
#ifndef CR_STORE_H
#define CR_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum cr_dialect { CR_DIALECT_SQLITE, CR_DIALECT_POSTGRES };

struct cr_store;
struct cr_stmt;

/* The URL crier uses when neither --db nor $CRIER_DB says: "crier.db". */
const char *cr_store_default_url(void);
/* Opens (creating a SQLite file if needed). Does not migrate: see cr_store_migrate(). */
int cr_store_open(const char *url, struct cr_store **out, struct cr_err *err) CR_WARN_UNUSED;
void cr_store_close(struct cr_store *s);
enum cr_dialect cr_store_dialect(const struct cr_store *s);
const char *cr_store_dialect_name(const struct cr_store *s);
/* The URL with any password replaced by "***", for messages. */
const char *cr_store_display_url(const struct cr_store *s);

/* Runs one or more statements without parameters or results. */
int cr_store_exec(struct cr_store *s, const char *sql, struct cr_err *err) CR_WARN_UNUSED;
/* Transactions do not nest. begin takes the write lock at once on SQLite (BEGIN IMMEDIATE),
 * so two writers queue instead of failing half-way. */
int cr_store_begin(struct cr_store *s, struct cr_err *err) CR_WARN_UNUSED;
int cr_store_commit(struct cr_store *s, struct cr_err *err) CR_WARN_UNUSED;
/* Never fails from the caller's point of view; safe to call with no transaction open. */
void cr_store_rollback(struct cr_store *s);
int cr_store_in_transaction(const struct cr_store *s);
/* The id of the row the last INSERT made, on backends that track it (SQLite) and 0 on those
 * that do not (PostgreSQL: use RETURNING id). For hot loops that avoid RETURNING. */
int64_t cr_store_last_insert_id(struct cr_store *s);

int cr_stmt_prepare(struct cr_store *s, const char *sql, struct cr_stmt **out,
                    struct cr_err *err) CR_WARN_UNUSED;
/* Parameters are numbered from 1. Text is copied. */
int cr_stmt_bind_null(struct cr_stmt *st, int i);
int cr_stmt_bind_int64(struct cr_stmt *st, int i, int64_t v);
int cr_stmt_bind_double(struct cr_stmt *st, int i, double v);
int cr_stmt_bind_text(struct cr_stmt *st, int i, const char *s, size_t n);
int cr_stmt_bind_str(struct cr_stmt *st, int i, const char *s); /* NULL binds NULL */
/* Binds without copying: s must stay valid until the statement has been stepped, reset,
 * rebound or freed. For hot loops (imports) over buffers the caller keeps. */
int cr_stmt_bind_text_ref(struct cr_stmt *st, int i, const char *s, size_t n);
int cr_stmt_bind_bool(struct cr_stmt *st, int i, int v);
/* Returns 1 when a row is ready, 0 when done, a negative CR_E* on failure. */
int cr_stmt_step(struct cr_stmt *st, struct cr_err *err) CR_WARN_UNUSED;
int cr_stmt_column_count(struct cr_stmt *st);
const char *cr_stmt_column_name(struct cr_stmt *st, int col);
int cr_stmt_is_null(struct cr_stmt *st, int col);
int64_t cr_stmt_int64(struct cr_stmt *st, int col);
double cr_stmt_double(struct cr_stmt *st, int col);
const char *cr_stmt_text(struct cr_stmt *st, int col); /* NULL for SQL NULL */
int cr_stmt_bool(struct cr_stmt *st, int col);
/* Ready to run again; bindings are kept. */
void cr_stmt_reset(struct cr_stmt *st);
void cr_stmt_clear_bindings(struct cr_stmt *st);
void cr_stmt_free(struct cr_stmt *st);
/* The SQL as the backend runs it (PostgreSQL: with $n placeholders). */
const char *cr_stmt_sql(const struct cr_stmt *st);

/*
 * Conveniences for one-shot statements. types has one letter per parameter:
 * 'i' int64_t, 'd' double, 's' const char * (NULL binds NULL), 'b' int as boolean,
 * 'n' NULL (no argument consumed).
 */
int cr_store_run(struct cr_store *s, struct cr_err *err, const char *sql, const char *types,
                 ...) CR_WARN_UNUSED;
/* Runs a query and reads column 0 of its first row. Returns 1 if there was a row (and *out
 * is set; NULL reads as 0), 0 if none, negative on error. */
int cr_store_query_int64(struct cr_store *s, struct cr_err *err, int64_t *out, const char *sql,
                         const char *types, ...) CR_WARN_UNUSED;
/* As above for text: *out is malloc'd (NULL for SQL NULL), the caller frees it. */
int cr_store_query_text(struct cr_store *s, struct cr_err *err, char **out, const char *sql,
                        const char *types, ...) CR_WARN_UNUSED;

#endif
