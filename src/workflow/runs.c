/*
 * runs.c - what users do to runs and see of them: pause, resume, stop, status, list
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/datetime.h"
#include "core/mem.h"
#include "workflow/engine.h"
#include "workflow/wf_int.h"

/* A run and the runs its schedulers started, transitively. */
#define TREE                                                                                       \
    "WITH RECURSIVE tree(id) AS (SELECT id FROM workflow_run WHERE id = ? UNION ALL "              \
    "SELECT r.id FROM workflow_run r JOIN tree t ON r.parent_run_id = t.id) "

static json_t *iso_or_null(const char *sql_ts)
{
    cr_time_t t;
    char buf[CR_TIME_BUFSZ];
    struct cr_err e = CR_ERR_INIT;
    if (!sql_ts || cr_time_parse(sql_ts, strlen(sql_ts), &t, &e))
        return json_null();
    return json_string(cr_time_format_iso(t, buf));
}

static int run_row(struct cr_store *s, int64_t run, char **status, int64_t *wid,
                   struct cr_err *err)
{
    int rc = cr_store_query_text(s, err, status, "SELECT status FROM workflow_run WHERE id = ?",
                                 "i", run);
    if (rc == 0)
        return cr_err_set(err, CR_ENOTFOUND, "no workflow run %lld", (long long)run);
    if (rc < 0)
        return rc;
    rc = cr_store_query_int64(s, err, wid, "SELECT workflow_id FROM workflow_run WHERE id = ?",
                              "i", run);
    return rc < 0 ? rc : 0;
}

static int control_tx(struct cr_store *s, cr_time_t now, int64_t run, enum cr_wf_control what,
                      struct cr_err *err)
{
    char *status = NULL, ts[CR_TIME_BUFSZ];
    int64_t wid;
    int rc = run_row(s, run, &status, &wid, err);
    if (rc)
        return rc;
    cr_time_format_sql(now, ts);
    switch (what) {
    case CR_WF_PAUSE:
        if (strcmp(status, "running") != 0)
            rc = cr_err_set(err, CR_ESTATE, "run %lld is %s, not running", (long long)run,
                            status);
        else
            rc = cr_store_run(s, err,
                              TREE "UPDATE workflow_run SET status = 'paused' WHERE id IN "
                                   "(SELECT id FROM tree) AND status = 'running'",
                              "i", run);
        break;
    case CR_WF_RESUME:
        if (strcmp(status, "paused") != 0)
            rc = cr_err_set(err, CR_ESTATE, "run %lld is %s, not paused", (long long)run, status);
        else if (!(rc = cr_store_run(s, err,
                                     TREE "UPDATE activity_run SET status = 'pending', "
                                          "wake_at = ?, error = NULL WHERE run_id IN "
                                          "(SELECT id FROM tree) AND status = 'failed'",
                                     "is", run, ts)))
            rc = cr_store_run(s, err,
                              TREE "UPDATE workflow_run SET status = 'running', error = NULL "
                                   "WHERE id IN (SELECT id FROM tree) AND status = 'paused'",
                              "i", run);
        break;
    case CR_WF_STOP:
        if (strcmp(status, "running") != 0 && strcmp(status, "paused") != 0)
            rc = cr_err_set(err, CR_ESTATE, "run %lld is already %s", (long long)run, status);
        else if (!(rc = cr_store_run(s, err,
                                     TREE "UPDATE activity_run SET status = 'stopped', "
                                          "ended_at = ? WHERE run_id IN (SELECT id FROM tree) "
                                          "AND status IN ('pending', 'waiting', 'collecting', "
                                          "'failed')",
                                     "is", run, ts)))
            rc = cr_store_run(s, err,
                              TREE "UPDATE workflow_run SET status = 'stopped', ended_at = ? "
                                   "WHERE id IN (SELECT id FROM tree) AND status IN "
                                   "('running', 'paused')",
                              "is", run, ts);
        break;
    }
    if (!rc)
        rc = cr__wf_sync_status(s, wid, now, err);
    free(status);
    return rc;
}

int cr_wf_control(struct cr_store *s, struct cr_clock *clock, int64_t run,
                  enum cr_wf_control what, struct cr_err *err)
{
    int rc = cr_store_begin(s, err);
    if (rc)
        return rc;
    if ((rc = control_tx(s, cr_clock_now(clock), run, what, err))) {
        cr_store_rollback(s);
        return rc;
    }
    return cr_store_commit(s, err);
}

/* Folds the executions of one activity into its entry: counts add up, outputs add up per
 * name, and the status says what is still to happen (failed first, then live states). */
static void fold(json_t *entry, const char *status, int64_t in, int64_t out, const char *outputs,
                 const char *error, const char *wake_at)
{
    static const char *const rank[] = {"idle",    "skipped",    "stopped", "done",
                                       "waiting", "collecting", "pending", "failed", NULL};
    const char *cur = json_string_value(json_object_get(entry, "status"));
    int rc_cur = 0, rc_new = 0;
    for (int i = 0; rank[i]; i++) {
        if (strcmp(rank[i], cur) == 0)
            rc_cur = i;
        if (strcmp(rank[i], status) == 0)
            rc_new = i;
    }
    if (rc_new >= rc_cur)
        json_object_set_new(entry, "status", json_string(status));
    json_object_set_new(entry, "count_in",
                        json_integer(json_integer_value(json_object_get(entry, "count_in")) + in));
    json_object_set_new(entry, "count_out",
                        json_integer(json_integer_value(json_object_get(entry, "count_out")) +
                                     out));
    json_object_set_new(entry, "executions",
                        json_integer(json_integer_value(json_object_get(entry, "executions")) +
                                     1));
    json_t *o = json_loads(outputs ? outputs : "{}", 0, NULL), *v;
    json_t *acc = json_object_get(entry, "outputs");
    const char *k;
    json_object_foreach(o, k, v) {
        json_int_t n = json_integer_value(json_object_get(v, "count"));
        json_object_set_new(acc, k, json_integer(json_integer_value(json_object_get(acc, k)) + n));
    }
    json_decref(o);
    if (error)
        json_object_set_new(entry, "error", json_string(error));
    if (wake_at && strcmp(status, "waiting") == 0)
        json_object_set_new(entry, "wake_at", iso_or_null(wake_at));
}

static int status_activities(struct cr_store *s, int64_t run, const struct cr_wf_def *d,
                             json_t *out, struct cr_err *err)
{
    json_t *acts = json_array(), *trans = json_array();
    struct cr_stmt *st = NULL;
    int rc;
    for (size_t i = 0; i < d->nacts; i++)
        json_array_append_new(acts, json_pack("{ss ss ss sI sI so sI}", "id", d->acts[i].id,
                                              "type", cr_wf_type_name(d->acts[i].type), "status",
                                              "idle", "count_in", (json_int_t)0, "count_out",
                                              (json_int_t)0, "outputs", json_object(),
                                              "executions", (json_int_t)0));
    if ((rc = cr_stmt_prepare(s,
                              "SELECT activity_id, status, count_in, count_out, outputs, error, "
                              "wake_at FROM activity_run WHERE run_id = ? ORDER BY id",
                              &st, err)))
        goto out;
    cr_stmt_bind_int64(st, 1, run);
    while ((rc = cr_stmt_step(st, err)) == 1) {
        size_t i;
        if (cr_wf_def_find(d, cr_stmt_text(st, 0), &i))
            fold(json_array_get(acts, i), cr_stmt_text(st, 1), cr_stmt_int64(st, 2),
                 cr_stmt_int64(st, 3), cr_stmt_text(st, 4), cr_stmt_text(st, 5),
                 cr_stmt_text(st, 6));
    }
    cr_stmt_free(st);
    if (rc < 0)
        goto out;
    rc = 0;
    for (size_t t = 0; t < d->ntrans; t++) {
        const struct cr_wf_transition *tr = &d->trans[t];
        json_t *from = json_array_get(acts, tr->from);
        json_t *n = json_object_get(json_object_get(from, "outputs"), tr->output);
        char name[160];
        snprintf(name, sizeof name, "%s.%s", d->acts[tr->from].id, tr->output);
        json_array_append_new(trans, json_pack("{ss ss sO}", "from", name, "to",
                                               d->acts[tr->to].id, "count",
                                               n ? n : json_null()));
    }
    json_object_set(out, "activities", acts);
    json_object_set(out, "transitions", trans);
out:
    json_decref(acts);
    json_decref(trans);
    return rc;
}

int cr_wf_status(struct cr_store *s, int64_t run, json_t **out, struct cr_err *err)
{
    struct cr_stmt *st = NULL;
    struct cr_wf_problems probs = {0};
    struct cr_wf_def *d = NULL;
    json_t *j = NULL;
    int rc = cr_stmt_prepare(s,
                             "SELECT w.name, r.status, r.started_at, r.ended_at, r.error, "
                             "r.parent_run_id, r.cause, r.definition, r.version, r.vars "
                             "FROM workflow_run r JOIN workflow w ON w.id = r.workflow_id "
                             "WHERE r.id = ?",
                             &st, err);
    *out = NULL;
    if (rc)
        return rc;
    cr_stmt_bind_int64(st, 1, run);
    rc = cr_stmt_step(st, err);
    if (rc == 0)
        rc = cr_err_set(err, CR_ENOTFOUND, "no workflow run %lld", (long long)run);
    if (rc < 0)
        goto out;
    j = json_pack("{sI ss ss sI}", "run", (json_int_t)run, "workflow", cr_stmt_text(st, 0),
                  "status", cr_stmt_text(st, 1), "version", (json_int_t)cr_stmt_int64(st, 8));
    json_object_set_new(j, "started_at", iso_or_null(cr_stmt_text(st, 2)));
    json_object_set_new(j, "ended_at", iso_or_null(cr_stmt_text(st, 3)));
    json_object_set_new(j, "error", cr_stmt_text(st, 4) ? json_string(cr_stmt_text(st, 4))
                                                        : json_null());
    json_object_set_new(j, "parent", cr_stmt_is_null(st, 5) ? json_null()
                                                            : json_integer(cr_stmt_int64(st, 5)));
    json_object_set_new(j, "cause", cr_stmt_text(st, 6) ? json_string(cr_stmt_text(st, 6))
                                                        : json_null());
    json_t *vars = json_loads(cr_stmt_text(st, 9) ? cr_stmt_text(st, 9) : "{}", 0, NULL);
    json_object_set_new(j, "variables", vars ? vars : json_object());
    if ((rc = cr_wf_def_from_text(cr_stmt_text(st, 7) ? cr_stmt_text(st, 7) : "", &d, &probs))) {
        rc = cr_err_set(err, CR_ESTORE, "run %lld: its definition cannot be read",
                        (long long)run);
        goto out;
    }
    cr_stmt_free(st);
    st = NULL;
    if ((rc = status_activities(s, run, d, j, err)))
        goto out;
    json_t *children = json_array();
    json_object_set_new(j, "children", children);
    if ((rc = cr_stmt_prepare(s, "SELECT id FROM workflow_run WHERE parent_run_id = ? ORDER BY id",
                              &st, err)))
        goto out;
    cr_stmt_bind_int64(st, 1, run);
    while ((rc = cr_stmt_step(st, err)) == 1)
        json_array_append_new(children, json_integer(cr_stmt_int64(st, 0)));
    if (rc == 0) {
        *out = j;
        j = NULL;
    }
out:
    cr_stmt_free(st);
    cr_wf_def_free(d);
    cr_wf_problems_release(&probs);
    json_decref(j);
    return rc < 0 ? rc : 0;
}

int cr_wf_list(struct cr_store *s, json_t **out, struct cr_err *err)
{
    struct cr_stmt *st = NULL;
    json_t *arr = json_array();
    int rc = cr_stmt_prepare(
        s,
        "SELECT w.id, w.name, w.label, w.status, w.version, c.name, "
        "(SELECT max(r.id) FROM workflow_run r WHERE r.workflow_id = w.id), "
        "(SELECT count(*) FROM workflow_run r WHERE r.workflow_id = w.id) "
        "FROM workflow w LEFT JOIN campaign c ON c.id = w.campaign_id ORDER BY w.id",
        &st, err);
    *out = NULL;
    if (rc) {
        json_decref(arr);
        return rc;
    }
    while ((rc = cr_stmt_step(st, err)) == 1) {
        json_t *w = json_pack("{sI ss ss sI}", "id", (json_int_t)cr_stmt_int64(st, 0), "name",
                              cr_stmt_text(st, 1), "status", cr_stmt_text(st, 3), "version",
                              (json_int_t)cr_stmt_int64(st, 4));
        json_object_set_new(w, "label", cr_stmt_text(st, 2) ? json_string(cr_stmt_text(st, 2))
                                                            : json_null());
        json_object_set_new(w, "campaign", cr_stmt_text(st, 5) ? json_string(cr_stmt_text(st, 5))
                                                               : json_null());
        json_object_set_new(w, "last_run", cr_stmt_is_null(st, 6)
                                               ? json_null()
                                               : json_integer(cr_stmt_int64(st, 6)));
        json_object_set_new(w, "runs", json_integer(cr_stmt_int64(st, 7)));
        json_array_append_new(arr, w);
    }
    cr_stmt_free(st);
    if (rc < 0) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return 0;
}
