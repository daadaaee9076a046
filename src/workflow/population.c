/*
 * population.c - populations (the sets transitions carry), filters over them, test
 * conditions
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "query/query.h"
#include "store/schema.h"
#include "workflow/wf_int.h"

void cr__wf_output(struct cr__wf_exec *x, const char *name, int64_t pop, int64_t count)
{
    x->out = cr_xrealloc(x->out, (x->nout + 1) * sizeof *x->out);
    x->out[x->nout].name = name;
    x->out[x->nout].pop = pop;
    x->out[x->nout].count = count;
    x->nout++;
}

void cr__wf_pass(struct cr__wf_exec *x, const char *name)
{
    if (x->nin)
        cr__wf_output(x, name, x->in[0].pop, x->in[0].count);
    else
        cr__wf_output(x, name, 0, 0);
}

int cr__wf_pop_new(struct cr__wf_exec *x, const char *output, enum cr_wf_flow flow,
                   int64_t *pop)
{
    char ts[CR_TIME_BUFSZ];
    int rc = cr_store_query_int64(x->s, x->err, pop,
                                  "INSERT INTO population (run_id, from_activity, output, "
                                  "dimension, count, created_at, activity_run_id) "
                                  "VALUES (?, ?, ?, ?, 0, ?, ?) RETURNING id",
                                  "issssi", x->run_id, x->act->id, output,
                                  flow == CR_WF_FLOW_SUBSCRIPTION ? "subscription" : "profile",
                                  cr_time_format_sql(x->now, ts), x->arun_id);
    if (rc < 0)
        return rc;
    return *pop > 0 ? 0 : cr_err_set(x->err, CR_ESTORE, "population: no id returned");
}

int cr__wf_pop_count(struct cr__wf_exec *x, int64_t pop, int64_t *count)
{
    int rc = cr_store_query_int64(x->s, x->err, count,
                                  "SELECT count(*) FROM population_member WHERE population_id = ?",
                                  "i", pop);
    if (rc < 0)
        return rc;
    return cr_store_run(x->s, x->err, "UPDATE population SET count = ? WHERE id = ?", "ii",
                        *count, pop);
}

const char *cr__wf_members_from(enum cr_wf_flow flow)
{
    return flow == CR_WF_FLOW_SUBSCRIPTION
               ? "population_member m JOIN subscription s ON s.id = m.item_id "
                 "JOIN profile p ON p.id = s.profile_id"
               : "population_member m JOIN profile p ON p.id = m.item_id";
}

static int lower_eq(const char *a, size_t n, const char *b)
{
    return strlen(b) == n && strncasecmp(a, b, n) == 0;
}

int cr__wf_order_sql(struct cr_store *s, const char *order, enum cr_wf_flow flow, char **sql,
                     struct cr_err *err)
{
    struct cr_schema sc;
    struct cr_buf b = CR_BUF_INIT(4096);
    const char *alias = flow == CR_WF_FLOW_SUBSCRIPTION ? "s" : "p";
    const char *p = order;
    int rc = cr_schema_load(s, flow == CR_WF_FLOW_SUBSCRIPTION ? "subscription" : "profile",
                            &sc, err);
    *sql = NULL;
    if (rc)
        return rc;
    for (;;) {
        const char *w[3];
        size_t wn[3], nw = 0;
        while (*p == ' ')
            p++;
        while (*p && *p != ',' && nw < 3) {
            w[nw] = p;
            while (*p && *p != ' ' && *p != ',')
                p++;
            wn[nw] = (size_t)(p - w[nw]);
            nw++;
            while (*p == ' ')
                p++;
        }
        if (nw == 0 || nw > 2 || (*p && *p != ',')) {
            rc = cr_err_set(err, CR_EINVAL, "order is a list of columns, each optionally "
                            "followed by asc or desc: \"created_at desc, id\"");
            break;
        }
        const struct cr_column *c = cr_schema_find(&sc, w[0], wn[0]);
        if (!c) {
            rc = cr_err_set(err, CR_EINVAL, "order: unknown column '%.*s' for the %s dimension",
                            (int)wn[0], w[0], sc.dimension);
            break;
        }
        int desc = 0;
        if (nw == 2) {
            if (lower_eq(w[1], wn[1], "desc"))
                desc = 1;
            else if (!lower_eq(w[1], wn[1], "asc")) {
                rc = cr_err_set(err, CR_EINVAL, "order: '%.*s' is not asc or desc", (int)wn[1],
                                w[1]);
                break;
            }
        }
        cr_buf_printf(&b, "%s%s.\"%s\"%s", b.len ? ", " : "", alias, c->name,
                      desc ? " DESC" : "");
        if (*p != ',')
            break;
        p++;
    }
    if (!rc && b.len)
        cr_buf_printf(&b, ", %s.id", alias); /* ties in a stable order */
    cr_schema_release(&sc);
    if (!rc && b.err)
        rc = cr_err_set(err, b.err, "order is too long");
    if (rc)
        cr_buf_release(&b);
    else
        *sql = cr_buf_detach(&b, NULL);
    return rc;
}

int cr__wf_pop_fill(struct cr__wf_exec *x, const char *output, enum cr_wf_flow flow,
                    int64_t *pop, int64_t *count, const char *sql, const char *types, ...)
{
    struct cr_stmt *st = NULL;
    va_list ap;
    int rc, i = 2;
    if ((rc = cr__wf_pop_new(x, output, flow, pop)))
        return rc;
    if ((rc = cr_stmt_prepare(x->s, sql, &st, x->err)))
        return rc;
    cr_stmt_bind_int64(st, 1, *pop);
    va_start(ap, types);
    for (const char *t = types; *t; t++, i++) {
        switch (*t) {
        case 'i': cr_stmt_bind_int64(st, i, va_arg(ap, int64_t)); break;
        case 's': cr_stmt_bind_str(st, i, va_arg(ap, const char *)); break;
        default: CR_BUG("pop_fill type %c", *t);
        }
    }
    va_end(ap);
    rc = cr_stmt_step(st, x->err);
    cr_stmt_free(st);
    if (rc < 0)
        return rc;
    if ((rc = cr__wf_pop_count(x, *pop, count)))
        return rc;
    cr__wf_output(x, output, *pop, *count);
    return 0;
}

/* ---------------------------------------------------------------- filters in a run */

static int run_delivery(void *data, const char *name, int64_t *id, struct cr_err *err)
{
    struct cr__wf_exec *x = data;
    size_t i;
    const struct cr_wf_activity *a = cr_wf_def_find(x->def, name, &i);
    if (!a || !cr_wf_type_is_delivery(a->type))
        return 0;
    /* a recurring activity's fire in this run: the execution it added to */
    int rc = cr_store_query_int64(x->s, err, id,
                                  "SELECT coalesce((SELECT max(delivery_id) FROM delivery_fire "
                                  "WHERE run_id = ? AND activity_id = ?), (SELECT max(id) FROM "
                                  "delivery WHERE workflow_run_id = ? AND activity_id = ?))",
                                  "isis", x->run_id, name, x->run_id, name);
    if (rc < 0)
        return rc;
    if (rc == 0 || *id <= 0)
        return cr_err_set(err, CR_ESTATE, "delivery activity '%s' has not run in this run",
                          name);
    return 1;
}

int cr__wf_compile_filter(struct cr__wf_exec *x, const char *src, enum cr_wf_flow flow,
                          struct cr_query *q)
{
    struct cr_query_opts o = {0};
    o.dimension = flow == CR_WF_FLOW_SUBSCRIPTION ? CR_QUERY_SUBSCRIPTION : CR_QUERY_PROFILE;
    o.clock = x->clock;
    o.delivery = run_delivery;
    o.delivery_data = x;
    int rc = cr_query_compile_store(x->s, src, strlen(src), &o, q, x->err);
    if (rc && x->err->line) {
        /* keep the position in the message: it is shown without the source */
        char m[sizeof x->err->msg + 32];
        int n = snprintf(m, sizeof m, "%d:%d: ", x->err->line, x->err->col);
        memcpy(m + n, x->err->msg, sizeof x->err->msg);
        memcpy(x->err->msg, m, sizeof x->err->msg - 1);
        x->err->msg[sizeof x->err->msg - 1] = 0;
    }
    return rc;
}

/* ---------------------------------------------------------------- test conditions */

int cr__wf_var_name_ok(const char *n)
{
    if (!n || !((*n >= 'a' && *n <= 'z') || *n == '_') || strlen(n) > 63)
        return 0;
    for (; *n; n++)
        if (!((*n >= 'a' && *n <= 'z') || (*n >= '0' && *n <= '9') || *n == '_'))
            return 0;
    return 1;
}

static enum cr_coltype var_type(json_t *v)
{
    return json_is_integer(v) ? CR_COL_INTEGER
           : json_is_real(v)  ? CR_COL_REAL
           : json_is_boolean(v) ? CR_COL_BOOLEAN
                                : CR_COL_TEXT;
}

/*
 * The condition is the filter language over a one-row relation whose columns are count and
 * the variables: `count > 1000 and region = 'north'`. It compiles against a catalogue of
 * those columns and runs as SELECT 1 FROM (SELECT CAST(? AS ...) AS "count", ...) p WHERE
 * <condition>, so the same language and the same safety (values bound) apply.
 */
int cr__wf_test_eval(struct cr_store *s, struct cr_clock *clock, const char *src, int64_t count,
                     json_t *defaults, json_t *run_vars, struct cr_err *err)
{
    json_t *vars = json_object(), *v;
    const char *k;
    struct cr_schema sc = {0};
    struct cr_query_catalog cat;
    struct cr_query_opts o = {0};
    struct cr_query q = CR_QUERY_INIT;
    struct cr_buf sql = CR_BUF_INIT(0);
    struct cr_stmt *st = NULL;
    enum cr_dialect dl = cr_store_dialect(s);
    size_t i = 0;
    int rc, p;
    if (json_is_object(defaults))
        json_object_update(vars, defaults);
    if (json_is_object(run_vars))
        json_object_update(vars, run_vars);
    json_object_del(vars, "count");
    sc.dimension = (char *)"profile";
    sc.ncols = json_object_size(vars) + 1;
    sc.cols = cr_xcalloc(sc.ncols, sizeof *sc.cols);
    sc.cols[0].name = (char *)"count";
    sc.cols[0].type = CR_COL_INTEGER;
    cr_buf_printf(&sql, "SELECT 1 FROM (SELECT CAST(? AS %s) AS \"count\"",
                  cr_coltype_sql(CR_COL_INTEGER, dl));
    json_object_foreach(vars, k, v) {
        i++;
        sc.cols[i].name = (char *)k;
        sc.cols[i].type = var_type(v);
        cr_buf_printf(&sql, ", CAST(? AS %s) AS \"%s\"", cr_coltype_sql(sc.cols[i].type, dl), k);
    }
    cat.dialect = dl;
    cat.profile = &sc;
    cat.subscription = NULL;
    o.clock = clock;
    rc = cr_query_compile(&cat, src, strlen(src), &o, &q, err);
    if (rc)
        goto out;
    cr_buf_printf(&sql, ") p WHERE %s", q.where);
    if ((rc = cr_stmt_prepare(s, sql.data, &st, err)))
        goto out;
    cr_stmt_bind_int64(st, 1, count);
    p = 2;
    json_object_foreach(vars, k, v) {
        if (json_is_integer(v))
            cr_stmt_bind_int64(st, p, json_integer_value(v));
        else if (json_is_real(v))
            cr_stmt_bind_double(st, p, json_real_value(v));
        else if (json_is_boolean(v))
            cr_stmt_bind_bool(st, p, json_is_true(v));
        else
            cr_stmt_bind_str(st, p, json_string_value(v));
        p++;
    }
    if ((rc = cr_query_bind(st, p, &q, err)))
        goto out;
    rc = cr_stmt_step(st, err);
    if (rc >= 0)
        rc = rc > 0; /* a row: the condition holds */
out:
    cr_stmt_free(st);
    cr_query_release(&q);
    cr_buf_release(&sql);
    free(sc.cols);
    json_decref(vars);
    return rc;
}
