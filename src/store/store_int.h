/*
 * store_int.h - what the store backends implement (store/ only)
 */
#ifndef CR_STORE_INT_H
#define CR_STORE_INT_H

#include "store/store.h"

struct cr_store_ops {
    const char *name;
    int (*open)(struct cr_store *s, const char *url, struct cr_err *err);
    void (*close)(struct cr_store *s);
    int (*exec)(struct cr_store *s, const char *sql, struct cr_err *err);
    int (*prepare)(struct cr_store *s, struct cr_stmt *st, const char *sql, struct cr_err *err);
    int (*bind_null)(struct cr_stmt *st, int i);
    int (*bind_int64)(struct cr_stmt *st, int i, int64_t v);
    int (*bind_double)(struct cr_stmt *st, int i, double v);
    /* copy = 0: p stays valid until the statement is stepped to completion, reset or rebound */
    int (*bind_text)(struct cr_stmt *st, int i, const char *p, size_t n, int copy);
    int (*bind_bool)(struct cr_stmt *st, int i, int v);
    int (*step)(struct cr_stmt *st, struct cr_err *err);
    int (*column_count)(struct cr_stmt *st);
    const char *(*column_name)(struct cr_stmt *st, int col);
    int (*is_null)(struct cr_stmt *st, int col);
    const char *(*text)(struct cr_stmt *st, int col);
    int64_t (*int64)(struct cr_stmt *st, int col);
    double (*dbl)(struct cr_stmt *st, int col);
    void (*reset)(struct cr_stmt *st);
    void (*clear_bindings)(struct cr_stmt *st);
    void (*finalize)(struct cr_stmt *st);
    int64_t (*last_insert_id)(struct cr_store *s); /* NULL: use RETURNING */
};

struct cr_store {
    const struct cr_store_ops *ops;
    enum cr_dialect dialect;
    char *display_url;
    int in_tx;
    void *conn;        /* sqlite3 * or PGconn * */
    unsigned long seq; /* names PostgreSQL prepared statements */
};

struct cr_stmt {
    struct cr_store *store;
    char *sql;
    void *impl;
};

extern const struct cr_store_ops cr__sqlite_ops;
extern const struct cr_store_ops cr__pg_ops;

#endif
