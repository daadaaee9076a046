/*
 * schema.c - column catalogue and custom columns
 */
#include "store/schema.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/datetime.h"
#include "core/mem.h"
#include "store/migrate.h"

static const struct {
    const char *name, *sqlite, *postgres;
} coltypes[] = {
    /* ORDER: enum cr_coltype */
    {"text", "TEXT", "TEXT"},
    {"integer", "INTEGER", "BIGINT"},
    {"real", "REAL", "DOUBLE PRECISION"},
    {"boolean", "INTEGER", "BOOLEAN"},
    {"date", "TEXT", "DATE"},
    {"timestamp", "TEXT", "TIMESTAMP"},
};

const char *cr_coltype_name(enum cr_coltype t)
{
    return coltypes[t].name;
}

int cr_coltype_parse(const char *name, enum cr_coltype *out)
{
    for (size_t i = 0; i < sizeof coltypes / sizeof *coltypes; i++)
        if (strcmp(name, coltypes[i].name) == 0) {
            *out = (enum cr_coltype)i;
            return 0;
        }
    return -1;
}

const char *cr_coltype_sql(enum cr_coltype t, enum cr_dialect d)
{
    return d == CR_DIALECT_SQLITE ? coltypes[t].sqlite : coltypes[t].postgres;
}

static int valid_dimension(const char *d)
{
    return strcmp(d, "profile") == 0 || strcmp(d, "subscription") == 0;
}

int cr_schema_load(struct cr_store *s, const char *dimension, struct cr_schema *out,
                   struct cr_err *err)
{
    struct cr_stmt *st;
    size_t cap = 0;
    int rc;
    memset(out, 0, sizeof *out);
    if (!valid_dimension(dimension))
        return cr_err_set(err, CR_EINVAL, "unknown dimension '%s' (dimensions: profile, "
                                          "subscription)", dimension);
    rc = cr_stmt_prepare(s,
                         "SELECT name, type, builtin FROM schema_column WHERE dimension = ? "
                         "ORDER BY position",
                         &st, err);
    if (rc)
        return rc;
    cr_stmt_bind_str(st, 1, dimension);
    out->dimension = cr_xstrdup(dimension);
    while ((rc = cr_stmt_step(st, err)) == 1) {
        struct cr_column *c;
        enum cr_coltype t = CR_COL_TEXT;
        if (out->ncols == cap) {
            cap = cap ? cap * 2 : 32;
            out->cols = cr_xrealloc(out->cols, cap * sizeof *out->cols);
        }
        c = &out->cols[out->ncols++];
        c->name = cr_xstrdup(cr_stmt_text(st, 0));
        (void)cr_coltype_parse(cr_stmt_text(st, 1), &t);
        c->type = t;
        c->builtin = cr_stmt_bool(st, 2);
    }
    cr_stmt_free(st);
    if (rc < 0) {
        cr_schema_release(out);
        return rc;
    }
    return 0;
}

void cr_schema_release(struct cr_schema *sc)
{
    for (size_t i = 0; i < sc->ncols; i++)
        free(sc->cols[i].name);
    free(sc->cols);
    free(sc->dimension);
    memset(sc, 0, sizeof *sc);
}

const struct cr_column *cr_schema_find(const struct cr_schema *sc, const char *name, size_t len)
{
    for (size_t i = 0; i < sc->ncols; i++)
        if (strlen(sc->cols[i].name) == len && memcmp(sc->cols[i].name, name, len) == 0)
            return &sc->cols[i];
    return NULL;
}

/* Names a custom column may not take: SQL keywords the two dialects reserve, and names the
 * filter and template languages give a meaning of their own. */
static const char *const reserved[] = {
    "all", "and", "as", "asc", "between", "by", "case", "cast", "check", "collate", "column",
    "constraint", "create", "current_date", "current_time", "current_timestamp", "default",
    "delete", "desc", "distinct", "drop", "else", "end", "except", "exists", "false", "for",
    "foreign", "from", "group", "having", "ilike", "in", "index", "insert", "intersect",
    "interval", "into", "is", "isnull", "join", "like", "limit", "not", "notnull", "null",
    "offset", "on", "or", "order", "primary", "references", "select", "set", "table", "then",
    "to", "true", "union", "unique", "update", "user", "using", "when", "where", "with",
    "date", "timestamp", "profile", "subscription", "delivery", "campaign", "count", "rowid",
    "oid", "xmin", "xmax", "ctid", "tableoid", "cmin", "cmax",
};

int cr_schema_check_name(const char *name, struct cr_err *err)
{
    size_t n = strlen(name);
    if (n == 0 || n > CR_SCHEMA_NAME_MAX)
        return cr_err_set(err, CR_EINVAL, "column name '%s' must be 1 to %d characters", name,
                          CR_SCHEMA_NAME_MAX);
    if (!(islower((unsigned char)name[0]) || name[0] == '_'))
        return cr_err_set(err, CR_EINVAL,
                          "column name '%s' must start with a lower-case letter or '_'", name);
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) ||
              name[i] == '_'))
            return cr_err_set(err, CR_EINVAL,
                              "column name '%s' may hold only a-z, 0-9 and '_' (found '%c')",
                              name, name[i]);
    if (strncmp(name, "cr_", 3) == 0 || strncmp(name, "pg_", 3) == 0 ||
        strncmp(name, "sqlite_", 7) == 0)
        return cr_err_set(err, CR_EINVAL, "column name '%s' uses a reserved prefix", name);
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        if (strcmp(name, reserved[i]) == 0)
            return cr_err_set(err, CR_EINVAL, "column name '%s' is a reserved word", name);
    return 0;
}

int cr_schema_add_column(struct cr_store *s, const char *dimension, const char *name,
                         enum cr_coltype type, struct cr_err *err)
{
    struct cr_buf sql = CR_BUF_INIT(0);
    int64_t exists = 0, pos = 0;
    int rc;
    if (!valid_dimension(dimension))
        return cr_err_set(err, CR_EINVAL,
                          "unknown dimension '%s' (dimensions: profile, subscription)", dimension);
    rc = cr_schema_check_name(name, err);
    if (rc)
        return rc;
    rc = cr_store_begin(s, err);
    if (rc)
        return rc;
    rc = cr_store_query_int64(s, err, &exists,
                              "SELECT count(*) FROM schema_column WHERE dimension = ? AND name = ?",
                              "ss", dimension, name);
    if (rc >= 0 && exists)
        rc = cr_err_set(err, CR_EEXISTS, "%s already has a column named '%s'", dimension, name);
    if (rc >= 0)
        rc = cr_store_query_int64(s, err, &pos,
                                  "SELECT coalesce(max(position), 0) + 1 FROM schema_column "
                                  "WHERE dimension = ?",
                                  "s", dimension);
    if (rc >= 0) {
        /* The name was checked above: an identifier, so quoting it is enough. */
        cr_buf_printf(&sql, "ALTER TABLE %s ADD COLUMN \"%s\" %s", dimension, name,
                      cr_coltype_sql(type, cr_store_dialect(s)));
        rc = cr_store_exec(s, sql.data, err);
        cr_buf_release(&sql);
    }
    if (rc >= 0)
        rc = cr_store_run(s, err,
                          "INSERT INTO schema_column (dimension, name, type, builtin, position) "
                          "VALUES (?, ?, ?, ?, ?)",
                          "sssbi", dimension, name, cr_coltype_name(type), 0, pos);
    if (rc < 0) {
        cr_store_rollback(s);
        return rc;
    }
    return cr_store_commit(s, err);
}
