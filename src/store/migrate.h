/*
 * migrate.h - versioned schema migrations, the same data model on both backends
 *
 * Each migration is applied once, in its own transaction, and recorded in schema_version.
 * Migrations are written once with dialect tokens (@ID@, @TS@, @BOOL@…) that become each
 * backend's types, so the two schemas cannot drift.
 */
#ifndef CR_MIGRATE_H
#define CR_MIGRATE_H

#include "store/store.h"

/* Applies every pending migration. *from and *to (optional) receive the version before and
 * after; equal when nothing was pending. */
int cr_store_migrate(struct cr_store *s, int *from, int *to, struct cr_err *err) CR_WARN_UNUSED;
/* The current version, 0 for an empty database. */
int cr_store_schema_version(struct cr_store *s, int *version, struct cr_err *err) CR_WARN_UNUSED;
/* The version this build of crier migrates to. */
int cr_store_latest_version(void);
/* Fails with a hint to run `crier init` unless the database is at the latest version. */
int cr_store_require_current(struct cr_store *s, struct cr_err *err) CR_WARN_UNUSED;
/* Replaces the dialect tokens of sql for s's backend; the caller frees the result. */
char *cr_store_dialect_sql(const struct cr_store *s, const char *sql);

#endif
