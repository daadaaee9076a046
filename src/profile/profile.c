/*
 * profile.c - profiles out: count, show as JSON, export as CSV
 */
#include "profile/profile.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/csv.h"
#include "core/parse.h"

int cr_profile_count(struct cr_store *s, int64_t *count, struct cr_err *err)
{
    int rc = cr_store_query_int64(s, err, count, "SELECT count(*) FROM profile", NULL);
    return rc < 0 ? rc : 0;
}

static int truthy(const char *t)
{
    return t[0] == 't' || t[0] == 'T' || (t[0] >= '1' && t[0] <= '9');
}

json_t *cr_value_json(enum cr_coltype type, const char *text)
{
    int64_t i;
    double d;
    if (!text)
        return json_null();
    switch (type) {
    case CR_COL_INTEGER:
        if (cr_parse_i64(text, strlen(text), &i) == 0)
            return json_integer(i);
        break;
    case CR_COL_REAL:
        if (cr_parse_double(text, strlen(text), &d) == 0)
            return json_real(d);
        break;
    case CR_COL_BOOLEAN:
        return json_boolean(truthy(text));
    default:
        break;
    }
    {
        /* The store holds only valid UTF-8 (imports check); be safe all the same. */
        json_t *j = json_string(text);
        return j ? j : json_string("\xEF\xBF\xBD");
    }
}

const char *cr_value_text(enum cr_coltype type, const char *text)
{
    if (!text)
        return "";
    if (type == CR_COL_BOOLEAN)
        return truthy(text) ? "true" : "false";
    return text;
}

static void select_columns(struct cr_buf *sql, const struct cr_schema *sc)
{
    cr_buf_puts(sql, "SELECT ");
    for (size_t i = 0; i < sc->ncols; i++)
        cr_buf_printf(sql, "%s\"%s\"", i ? ", " : "", sc->cols[i].name);
}

static int add_subscriptions(struct cr_store *s, int64_t id, json_t *obj, struct cr_err *err)
{
    struct cr_stmt *st;
    json_t *arr = json_array();
    int rc = cr_stmt_prepare(s,
                             "SELECT id, app, platform, token, active FROM subscription "
                             "WHERE profile_id = ? ORDER BY id",
                             &st, err);
    if (rc) {
        json_decref(arr);
        return rc;
    }
    cr_stmt_bind_int64(st, 1, id);
    while ((rc = cr_stmt_step(st, err)) == 1)
        json_array_append_new(arr, json_pack("{s:I, s:s?, s:s?, s:s?, s:b}", "id",
                                             (json_int_t)cr_stmt_int64(st, 0), "app",
                                             cr_stmt_text(st, 1), "platform", cr_stmt_text(st, 2),
                                             "token", cr_stmt_text(st, 3), "active",
                                             cr_stmt_bool(st, 4)));
    cr_stmt_free(st);
    json_object_set_new(obj, "subscriptions", arr);
    return rc < 0 ? rc : 0;
}

static int add_lists(struct cr_store *s, int64_t id, json_t *obj, struct cr_err *err)
{
    struct cr_stmt *st;
    json_t *arr = json_array();
    int rc = cr_stmt_prepare(s,
                             "SELECT l.name FROM list_member m JOIN list l ON l.id = m.list_id "
                             "WHERE m.profile_id = ? ORDER BY l.name",
                             &st, err);
    if (rc) {
        json_decref(arr);
        return rc;
    }
    cr_stmt_bind_int64(st, 1, id);
    while ((rc = cr_stmt_step(st, err)) == 1)
        json_array_append_new(arr, json_string(cr_stmt_text(st, 0)));
    cr_stmt_free(st);
    json_object_set_new(obj, "lists", arr);
    return rc < 0 ? rc : 0;
}

int cr_profile_get_json(struct cr_store *s, int64_t id, json_t **out, struct cr_err *err)
{
    struct cr_schema sc;
    struct cr_buf sql = CR_BUF_INIT(0);
    struct cr_stmt *st = NULL;
    json_t *obj = NULL;
    int rc;
    *out = NULL;
    if ((rc = cr_schema_load(s, "profile", &sc, err)))
        return rc;
    select_columns(&sql, &sc);
    cr_buf_puts(&sql, " FROM profile WHERE id = ?");
    rc = cr_stmt_prepare(s, sql.data, &st, err);
    if (!rc) {
        cr_stmt_bind_int64(st, 1, id);
        rc = cr_stmt_step(st, err);
        if (rc == 0)
            rc = cr_err_set(err, CR_ENOTFOUND, "no profile with id %lld", (long long)id);
    }
    if (rc == 1) {
        obj = json_object();
        for (size_t i = 0; i < sc.ncols; i++)
            json_object_set_new(obj, sc.cols[i].name,
                                cr_value_json(sc.cols[i].type, cr_stmt_text(st, (int)i)));
        rc = 0;
    }
    cr_stmt_free(st);
    cr_buf_release(&sql);
    cr_schema_release(&sc);
    if (!rc)
        rc = add_subscriptions(s, id, obj, err);
    if (!rc)
        rc = add_lists(s, id, obj, err);
    if (rc) {
        json_decref(obj);
        return rc;
    }
    *out = obj;
    return 0;
}

int cr_profile_export_csv(struct cr_store *s, FILE *out, int64_t *rows, struct cr_err *err)
{
    struct cr_schema sc;
    struct cr_buf sql = CR_BUF_INIT(0), line = CR_BUF_INIT(0);
    struct cr_stmt *st = NULL;
    int rc;
    *rows = 0;
    if ((rc = cr_schema_load(s, "profile", &sc, err)))
        return rc;
    select_columns(&sql, &sc);
    cr_buf_puts(&sql, " FROM profile ORDER BY id");
    rc = cr_stmt_prepare(s, sql.data, &st, err);
    for (size_t i = 0; !rc && i < sc.ncols; i++) {
        if (i)
            cr_buf_putc(&line, ',');
        cr_csv_put_field(&line, sc.cols[i].name, strlen(sc.cols[i].name), ',', 0);
    }
    cr_buf_puts(&line, "\r\n");
    while (!rc && (rc = cr_stmt_step(st, err)) == 1) {
        for (size_t i = 0; i < sc.ncols; i++) {
            const char *v = cr_value_text(sc.cols[i].type, cr_stmt_text(st, (int)i));
            if (i)
                cr_buf_putc(&line, ',');
            cr_csv_put_field(&line, v, strlen(v), ',', 0);
        }
        cr_buf_puts(&line, "\r\n");
        ++*rows;
        if (line.len > 1 << 16) {
            if (fwrite(line.data, 1, line.len, out) != line.len)
                rc = cr_err_set(err, CR_EIO, "cannot write the export");
            cr_buf_reset(&line);
        }
        rc = rc == 1 ? 0 : rc;
    }
    if (rc == 0 && line.len && fwrite(line.data, 1, line.len, out) != line.len)
        rc = cr_err_set(err, CR_EIO, "cannot write the export");
    cr_stmt_free(st);
    cr_buf_release(&sql);
    cr_buf_release(&line);
    cr_schema_release(&sc);
    return rc < 0 ? rc : 0;
}
