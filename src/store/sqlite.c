/*
 * sqlite.c - the SQLite backend of the store (the embedded default)
 *
 * A file opened in WAL mode with a busy timeout, so several crier processes on one machine
 * (a server and CLI commands) share it: readers never block, writers queue.
 */
#include "store/store_int.h"

#include <pthread.h>
#include <sqlite3.h>
#include <string.h>

#include "store/sqlite_fn.h"

#define SQLITE_BUSY_MS 30000

static int sqlite_error(sqlite3 *db, int rc, struct cr_err *err, const char *what)
{
    int code = CR_ESTORE;
    int prim = rc & 0xFF;
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        code = CR_EEXISTS;
    else if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
        code = CR_EBUSY;
    else if (prim == SQLITE_NOMEM)
        code = CR_ENOMEM;
    else if (prim == SQLITE_IOERR || prim == SQLITE_FULL || prim == SQLITE_CANTOPEN)
        code = CR_EIO;
    return cr_err_set(err, code, "sqlite: %s%s%s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc),
                      what ? " in " : "", what ? what : "");
}

/* Process-wide settings, before SQLite initialises: no memory statistics (their mutex costs
 * on every allocation, and crier does not read them). */
static void sqlite_configure(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int sqlite_open(struct cr_store *s, const char *url, struct cr_err *err)
{
    sqlite3 *db = NULL;
    const char *path = url;
    int rc;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, sqlite_configure);
    if (strncmp(path, "sqlite://", 9) == 0)
        path += 9;
    else if (strncmp(path, "sqlite:", 7) == 0)
        path += 7;
    rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                               SQLITE_OPEN_NOMUTEX,
                         NULL);
    if (rc != SQLITE_OK) {
        cr_err_set(err, CR_EIO, "cannot open database '%s': %s", path,
                   db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return CR_EIO;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, SQLITE_BUSY_MS);
    s->conn = db;
    rc = sqlite3_exec(db,
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                      "PRAGMA foreign_keys=ON; "
                      "PRAGMA temp_store=MEMORY; PRAGMA threads=2;",
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        int code = sqlite_error(db, rc, err, "opening");
        sqlite3_close(db);
        s->conn = NULL;
        return code;
    }
    return cr__sqlite_register_functions(db, err);
}

static void sqlite_close(struct cr_store *s)
{
    sqlite3_close_v2(s->conn);
    s->conn = NULL;
}

static int sqlite_exec(struct cr_store *s, const char *sql, struct cr_err *err)
{
    int rc = sqlite3_exec(s->conn, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : sqlite_error(s->conn, rc, err, NULL);
}

static int sqlite_prepare(struct cr_store *s, struct cr_stmt *st, const char *sql,
                          struct cr_err *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(s->conn, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return sqlite_error(s->conn, rc, err, "preparing a statement");
    st->impl = stmt;
    return 0;
}

#define STMT(st) ((sqlite3_stmt *)(st)->impl)

static int bind_rc(int rc)
{
    return rc == SQLITE_OK ? 0 : rc == SQLITE_RANGE ? CR_EINVAL : CR_ESTORE;
}

static int sqlite_bind_null(struct cr_stmt *st, int i)
{
    return bind_rc(sqlite3_bind_null(STMT(st), i));
}

static int sqlite_bind_int64(struct cr_stmt *st, int i, int64_t v)
{
    return bind_rc(sqlite3_bind_int64(STMT(st), i, v));
}

static int sqlite_bind_double(struct cr_stmt *st, int i, double v)
{
    return bind_rc(sqlite3_bind_double(STMT(st), i, v));
}

static int sqlite_bind_text(struct cr_stmt *st, int i, const char *p, size_t n, int copy)
{
    return bind_rc(
        sqlite3_bind_text64(STMT(st), i, p, n, copy ? SQLITE_TRANSIENT : SQLITE_STATIC, SQLITE_UTF8));
}

static int sqlite_bind_bool(struct cr_stmt *st, int i, int v)
{
    return bind_rc(sqlite3_bind_int(STMT(st), i, v ? 1 : 0));
}

static int sqlite_step(struct cr_stmt *st, struct cr_err *err)
{
    int rc = sqlite3_step(STMT(st));
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    /* The statement's own error code is more precise than the step's. */
    int code = sqlite_error(st->store->conn, sqlite3_extended_errcode(st->store->conn), err, NULL);
    sqlite3_reset(STMT(st));
    return code;
}

static int sqlite_column_count(struct cr_stmt *st)
{
    return sqlite3_column_count(STMT(st));
}

static const char *sqlite_column_name(struct cr_stmt *st, int col)
{
    return sqlite3_column_name(STMT(st), col);
}

static int sqlite_is_null(struct cr_stmt *st, int col)
{
    return sqlite3_column_type(STMT(st), col) == SQLITE_NULL;
}

static const char *sqlite_text(struct cr_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(STMT(st), col);
}

static int64_t sqlite_get_int64(struct cr_stmt *st, int col)
{
    return sqlite3_column_int64(STMT(st), col);
}

static double sqlite_dbl(struct cr_stmt *st, int col)
{
    return sqlite3_column_double(STMT(st), col);
}

static void sqlite_reset(struct cr_stmt *st)
{
    sqlite3_reset(STMT(st));
}

static void sqlite_clear_bindings(struct cr_stmt *st)
{
    sqlite3_clear_bindings(STMT(st));
}

static void sqlite_finalize(struct cr_stmt *st)
{
    sqlite3_finalize(STMT(st));
}

static int64_t sqlite_last_insert_id(struct cr_store *s)
{
    return sqlite3_last_insert_rowid(s->conn);
}

const struct cr_store_ops cr__sqlite_ops = {
    .name = "sqlite",
    .open = sqlite_open,
    .close = sqlite_close,
    .exec = sqlite_exec,
    .prepare = sqlite_prepare,
    .bind_null = sqlite_bind_null,
    .bind_int64 = sqlite_bind_int64,
    .bind_double = sqlite_bind_double,
    .bind_text = sqlite_bind_text,
    .bind_bool = sqlite_bind_bool,
    .step = sqlite_step,
    .column_count = sqlite_column_count,
    .column_name = sqlite_column_name,
    .is_null = sqlite_is_null,
    .text = sqlite_text,
    .int64 = sqlite_get_int64,
    .dbl = sqlite_dbl,
    .reset = sqlite_reset,
    .clear_bindings = sqlite_clear_bindings,
    .finalize = sqlite_finalize,
    .last_insert_id = sqlite_last_insert_id,
};
