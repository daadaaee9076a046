/*
 * testdb.h - fresh, migrated databases for tests, on SQLite and on the throwaway PostgreSQL
 *
 * SQLite databases are files in a new temporary folder; PostgreSQL ones are new databases on
 * the cluster scripts/pg-test-cluster started (its URL is in the file $CRIER_TEST_PG_FILE),
 * named uniquely so test executables may run in parallel. testdb_close() deletes either.
 * Failures end the test (cmocka fail_msg), so callers need not check.
 */
#ifndef CR_TESTDB_H
#define CR_TESTDB_H

#include "store/store.h"

/* 1 when the PostgreSQL test cluster is available. */
int testdb_have_pg(void);
/* A new empty database (not migrated); the caller frees the URL with testdb_drop_url(). */
char *testdb_new_url(enum cr_dialect d);
void testdb_drop_url(char *url);
/* A new database, migrated to the latest schema, opened. */
struct cr_store *testdb_open(enum cr_dialect d);
/* Closes and deletes a store from testdb_open(). */
void testdb_close(struct cr_store *s);
/* The URL testdb_open() used for s (for running the CLI against the same database). */
const char *testdb_url(struct cr_store *s);
const char *testdb_dialect_name(enum cr_dialect d);

#endif
