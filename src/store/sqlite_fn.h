/*
 * sqlite_fn.h - SQL functions crier adds to SQLite so both dialects speak alike (store/ only)
 */
#ifndef CR_SQLITE_FN_H
#define CR_SQLITE_FN_H

#include <sqlite3.h>

#include "core/err.h"

int cr__sqlite_register_functions(sqlite3 *db, struct cr_err *err);

#endif
