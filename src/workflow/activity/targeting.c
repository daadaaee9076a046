/*
 * targeting.c - activities that build populations: query, read_list, split, union,
 * intersection, exclusion, dedup
 *
 * Each is one or a few INSERT ... SELECT statements into population_member, so the work
 * stays inside the database (bench/workflow compares them with the same SQL run by sqlite3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "query/query.h"
#include "store/schema.h"
#include "workflow/activity/activity.h"

/* Runs `INSERT INTO population_member ... SELECT ?, ... WHERE <q> ...` with the new
 * population first, then pre (n_pre int64 values), then q's parameters. PostgreSQL types
 * that first parameter from the INSERT's target column, so it needs no cast. */
static int fill_with_query(struct cr__wf_exec *x, const char *output, enum cr_wf_flow flow,
                           const char *sql, const int64_t *pre, int n_pre,
                           const struct cr_query *q, int64_t *pop_out)
{
    struct cr_stmt *st = NULL;
    int64_t pop, count;
    int rc, i;
    if ((rc = cr__wf_pop_new(x, output, flow, &pop)))
        return rc;
    if ((rc = cr_stmt_prepare(x->s, sql, &st, x->err)))
        return rc;
    cr_stmt_bind_int64(st, 1, pop);
    for (i = 0; i < n_pre; i++)
        cr_stmt_bind_int64(st, 2 + i, pre[i]);
    if (q && (rc = cr_query_bind_at(st, 2 + n_pre, q, x->now, x->err)))
        goto out;
    rc = cr_stmt_step(st, x->err);
    if (rc < 0)
        goto out;
    if ((rc = cr__wf_pop_count(x, pop, &count)))
        goto out;
    cr__wf_output(x, output, pop, count);
    if (pop_out)
        *pop_out = pop;
out:
    cr_stmt_free(st);
    return rc;
}

int cr__wf_query(struct cr__wf_exec *x)
{
    struct cr_query q = CR_QUERY_INIT;
    struct cr_buf sql = CR_BUF_INIT(0);
    char *order = NULL;
    long long limit = cr_wf_int(x->act, "limit", -1);
    int sub = x->act->flow == CR_WF_FLOW_SUBSCRIPTION;
    int rc = cr__wf_compile_filter(x, cr_wf_str(x->act, "filter"), x->act->flow, &q);
    if (rc)
        return rc;
    if (limit >= 0 && cr_wf_str(x->act, "order") &&
        (rc = cr__wf_order_sql(x->s, cr_wf_str(x->act, "order"), x->act->flow, &order, x->err)))
        goto out;
    cr_buf_puts(&sql, "INSERT INTO population_member (population_id, item_id, profile_id) ");
    if (sub)
        cr_buf_printf(&sql, "SELECT ?, s.id, s.profile_id FROM subscription s%s WHERE %s",
                      q.uses_profile ? " JOIN profile p ON p.id = s.profile_id" : "", q.where);
    else
        cr_buf_printf(&sql, "SELECT ?, p.id, p.id FROM profile p WHERE %s", q.where);
    if (limit >= 0)
        cr_buf_printf(&sql, " ORDER BY %s LIMIT %lld", order ? order : sub ? "s.id" : "p.id",
                      limit);
    rc = fill_with_query(x, "default", x->act->flow, sql.data, NULL, 0, &q, NULL);
out:
    free(order);
    cr_buf_release(&sql);
    cr_query_release(&q);
    return rc;
}

int cr__wf_read_list(struct cr__wf_exec *x)
{
    const char *name = cr_wf_str(x->act, "list");
    int64_t list_id, pop, count;
    int rc = cr_store_query_int64(x->s, x->err, &list_id, "SELECT id FROM list WHERE name = ?",
                                  "s", name);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return cr_err_set(x->err, CR_ENOTFOUND, "no list named '%s'", name);
    return cr__wf_pop_fill(x, "default", CR_WF_FLOW_PROFILE, &pop, &count,
                           "INSERT INTO population_member (population_id, item_id, profile_id) "
                           "SELECT ?, profile_id, profile_id FROM list_member WHERE list_id = ?",
                           "i", list_id);
}

/*
 * Segments in order. Without overlap, a member already taken by an earlier segment is not
 * offered to later ones (so what a limit leaves out flows on to the next segments), and the
 * complement is what no segment took.
 */
int cr__wf_split(struct cr__wf_exec *x)
{
    json_t *segs = json_object_get(x->act->json, "segments"), *seg;
    int overlap = cr_wf_bool(x->act, "overlap", 0);
    enum cr_wf_flow flow = x->act->in_flow;
    int64_t in = x->in[0].pop;
    size_t nseg = json_array_size(segs), i, j;
    int64_t *pops = cr_xcalloc(nseg + 1, sizeof *pops);
    int rc = 0;
    json_array_foreach(segs, i, seg) {
        const char *name = json_string_value(json_object_get(seg, "name"));
        const char *filter = json_string_value(json_object_get(seg, "filter"));
        const char *order_src = json_string_value(json_object_get(seg, "order"));
        const char *sampling = json_string_value(json_object_get(seg, "sampling"));
        json_t *lim = json_object_get(seg, "limit");
        struct cr_query q = CR_QUERY_INIT;
        struct cr_buf sql = CR_BUF_INIT(0);
        char *order = NULL;
        int64_t *pre = cr_xcalloc(nseg + 1, sizeof *pre);
        int npre = 0;
        if (filter && (rc = cr__wf_compile_filter(x, filter, flow, &q)))
            goto next;
        if (lim && order_src && !(sampling && strcmp(sampling, "random") == 0) &&
            (rc = cr__wf_order_sql(x->s, order_src, flow, &order, x->err)))
            goto next;
        cr_buf_printf(&sql, "INSERT INTO population_member (population_id, item_id, profile_id)"
                            " SELECT ?, m.item_id, m.profile_id FROM %s WHERE m.population_id = ?",
                      q.where || order ? cr__wf_members_from(flow) : "population_member m");
        pre[npre++] = in;
        for (j = 0; !overlap && j < i; j++) {
            cr_buf_puts(&sql, " AND NOT EXISTS (SELECT 1 FROM population_member x WHERE "
                              "x.population_id = ? AND x.item_id = m.item_id)");
            pre[npre++] = pops[j];
        }
        if (q.where)
            cr_buf_printf(&sql, " AND %s", q.where);
        if (lim) {
            if (sampling && strcmp(sampling, "random") == 0)
                cr_buf_puts(&sql, " ORDER BY random()");
            else
                cr_buf_printf(&sql, " ORDER BY %s", order ? order : "m.item_id");
            cr_buf_printf(&sql, " LIMIT %lld", (long long)json_integer_value(lim));
        }
        rc = fill_with_query(x, name, flow, sql.data, pre, npre, q.where ? &q : NULL, &pops[i]);
    next:
        free(pre);
        free(order);
        cr_buf_release(&sql);
        cr_query_release(&q);
        if (rc)
            break;
    }
    if (!rc && cr_wf_bool(x->act, "complement", 0)) {
        struct cr_buf sql = CR_BUF_INIT(0);
        int64_t *pre = cr_xcalloc(nseg + 1, sizeof *pre);
        int npre = 0;
        cr_buf_puts(&sql, "INSERT INTO population_member (population_id, item_id, profile_id)"
                          " SELECT ?, m.item_id, m.profile_id FROM population_member m"
                          " WHERE m.population_id = ?");
        pre[npre++] = in;
        for (j = 0; j < nseg; j++) {
            cr_buf_puts(&sql, " AND NOT EXISTS (SELECT 1 FROM population_member x WHERE "
                              "x.population_id = ? AND x.item_id = m.item_id)");
            pre[npre++] = pops[j];
        }
        rc = fill_with_query(x, "complement", flow, sql.data, pre, npre, NULL, NULL);
        free(pre);
        cr_buf_release(&sql);
    }
    free(pops);
    return rc;
}

/* The inputs of a join in the order of the activity's incoming transitions. */
static int64_t input_pop(struct cr__wf_exec *x, size_t k)
{
    size_t t = x->act->in[k];
    for (size_t i = 0; i < x->nin; i++)
        if (x->in[i].trans == t)
            return x->in[i].pop;
    return 0;
}

int cr__wf_union(struct cr__wf_exec *x)
{
    int64_t pop, count;
    int rc = cr__wf_pop_new(x, "default", x->act->flow, &pop);
    for (size_t k = 0; !rc && k < x->act->nin; k++)
        rc = cr_store_run(x->s, x->err,
                          "INSERT INTO population_member (population_id, item_id, profile_id) "
                          "SELECT ?, item_id, profile_id FROM population_member "
                          "WHERE population_id = ? ON CONFLICT DO NOTHING",
                          "ii", pop, input_pop(x, k));
    if (!rc && !(rc = cr__wf_pop_count(x, pop, &count)))
        cr__wf_output(x, "default", pop, count);
    return rc;
}

/* Intersection keeps what every input has; exclusion keeps the kept input's members that
 * no other input has. Both read the first (or kept) input and probe the others. */
static int probe_others(struct cr__wf_exec *x, size_t first, int exists)
{
    struct cr_buf sql = CR_BUF_INIT(0);
    int64_t *pre = cr_xcalloc(x->act->nin + 1, sizeof *pre);
    int npre = 0, rc;
    cr_buf_puts(&sql, "INSERT INTO population_member (population_id, item_id, profile_id) "
                      "SELECT ?, m.item_id, m.profile_id FROM population_member m "
                      "WHERE m.population_id = ?");
    pre[npre++] = input_pop(x, first);
    for (size_t k = 0; k < x->act->nin; k++) {
        if (k == first)
            continue;
        cr_buf_printf(&sql, " AND %sEXISTS (SELECT 1 FROM population_member o WHERE "
                            "o.population_id = ? AND o.item_id = m.item_id)",
                      exists ? "" : "NOT ");
        pre[npre++] = input_pop(x, k);
    }
    rc = fill_with_query(x, "default", x->act->flow, sql.data, pre, npre, NULL, NULL);
    free(pre);
    cr_buf_release(&sql);
    return rc;
}

int cr__wf_intersection(struct cr__wf_exec *x)
{
    return probe_others(x, 0, 1);
}

int cr__wf_exclusion(struct cr__wf_exec *x)
{
    const char *keep = cr_wf_str(x->act, "keep");
    for (size_t k = 0; k < x->act->nin; k++)
        if (strcmp(x->def->acts[x->def->trans[x->act->in[k]].from].id, keep) == 0)
            return probe_others(x, k, 0);
    return cr_err_set(x->err, CR_EINVAL, "exclusion: '%s' does not lead here", keep);
}

/* One member per value of key (the lowest id); members whose key is null are all kept,
 * since null matches nothing. */
int cr__wf_dedup(struct cr__wf_exec *x)
{
    const char *key = cr_wf_str(x->act, "key");
    enum cr_wf_flow flow = x->act->in_flow;
    const char *alias = flow == CR_WF_FLOW_SUBSCRIPTION ? "s" : "p";
    struct cr_buf sql = CR_BUF_INIT(0);
    int64_t pre[2] = {x->in[0].pop, x->in[0].pop};
    struct cr_schema sc;
    int rc = cr_schema_load(x->s, flow == CR_WF_FLOW_SUBSCRIPTION ? "subscription" : "profile",
                            &sc, x->err);
    if (rc)
        return rc;
    /* the key becomes an identifier in the SQL: only a column of the catalogue may */
    if (!cr_schema_find(&sc, key, strlen(key)))
        rc = cr_err_set(x->err, CR_EINVAL, "dedup: unknown column '%s'", key);
    cr_schema_release(&sc);
    if (rc)
        return rc;
    cr_buf_printf(&sql,
                  "INSERT INTO population_member (population_id, item_id, profile_id) "
                  "SELECT ?, m.item_id, m.profile_id FROM %s WHERE m.population_id = ? AND "
                  "(%s.\"%s\" IS NULL OR m.item_id IN (SELECT min(m.item_id) FROM %s WHERE "
                  "m.population_id = ? AND %s.\"%s\" IS NOT NULL GROUP BY %s.\"%s\"))",
                  cr__wf_members_from(flow), alias, key, cr__wf_members_from(flow), alias, key,
                  alias, key);
    rc = fill_with_query(x, "default", flow, sql.data, pre, 2, NULL, NULL);
    cr_buf_release(&sql);
    return rc;
}
