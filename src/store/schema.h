/*
 * schema.h - the catalogue of columns each dimension (profile, subscription) offers
 *
 * Built-in columns are recorded by the migrations, custom ones by cr_schema_add_column(),
 * which also adds a real column to the table so filters stay plain SQL. The filter language,
 * imports, exports and templates all read this catalogue, so a custom column is usable
 * everywhere a built-in one is.
 */
#ifndef CR_SCHEMA_H
#define CR_SCHEMA_H

#include <stddef.h>

#include "store/store.h"

enum cr_coltype {
    CR_COL_TEXT,
    CR_COL_INTEGER,
    CR_COL_REAL,
    CR_COL_BOOLEAN,
    CR_COL_DATE,
    CR_COL_TIMESTAMP,
};

struct cr_column {
    char *name;
    enum cr_coltype type;
    int builtin;
};

struct cr_schema {
    char *dimension;
    struct cr_column *cols; /* in position order */
    size_t ncols;
};

#define CR_SCHEMA_NAME_MAX 63

/* Loads the columns of dimension ("profile" or "subscription"). */
int cr_schema_load(struct cr_store *s, const char *dimension, struct cr_schema *out,
                   struct cr_err *err) CR_WARN_UNUSED;
void cr_schema_release(struct cr_schema *sc);
const struct cr_column *cr_schema_find(const struct cr_schema *sc, const char *name, size_t len);

/* Adds a custom column. Fails with CR_EEXISTS if the name is taken, CR_EINVAL if it is not
 * an identifier ([a-z_][a-z0-9_]*, at most 63 bytes) or is reserved. */
int cr_schema_add_column(struct cr_store *s, const char *dimension, const char *name,
                         enum cr_coltype type, struct cr_err *err) CR_WARN_UNUSED;
/* 0 if name can name a custom column; else CR_EINVAL with the reason in err. */
int cr_schema_check_name(const char *name, struct cr_err *err);

const char *cr_coltype_name(enum cr_coltype t);
int cr_coltype_parse(const char *name, enum cr_coltype *out);
/* The SQL type of a custom column on the store's backend. */
const char *cr_coltype_sql(enum cr_coltype t, enum cr_dialect d);

#endif
