/*
 * engine.c - runs: starting them, executing due activities step by step, routing
 * populations along transitions, and knowing when a run is over
 */
#include "workflow/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/campaign.h"
#include "core/log.h"
#include "core/mem.h"
#include "workflow/activity/activity.h"
#include "workflow/wf_int.h"

static char *ts_sql(cr_time_t t, char *buf)
{
    return cr_time_format_sql(t, buf);
}

static int parse_ts(const char *s, cr_time_t *t)
{
    struct cr_err e = CR_ERR_INIT;
    *t = 0;
    return s ? cr_time_parse(s, strlen(s), t, &e) : 0;
}

/* ---------------------------------------------------------------- statuses */

int cr__wf_sync_status(struct cr_store *s, int64_t wid, cr_time_t now, struct cr_err *err)
{
    char ts[CR_TIME_BUFSZ];
    return cr_store_run(
        s, err,
        "UPDATE workflow SET status = CASE "
        "WHEN EXISTS (SELECT 1 FROM workflow_run WHERE workflow_id = ? AND status = 'running') "
        "THEN 'started' "
        "WHEN EXISTS (SELECT 1 FROM workflow_run WHERE workflow_id = ? AND status = 'paused') "
        "THEN 'paused' "
        "ELSE coalesce((SELECT status FROM workflow_run WHERE workflow_id = ? "
        "ORDER BY id DESC LIMIT 1), 'draft') END, updated_at = ? WHERE id = ?",
        "iiisi", wid, wid, wid, ts_sql(now, ts), wid);
}

/* The run is over when nothing in it can still happen: no activity due, waiting or failed.
 * Joins still collecting then wait for inputs that cannot come, and are skipped. */
static int maybe_finish(struct cr__wf_exec *x, int64_t run_id)
{
    int64_t live;
    char ts[CR_TIME_BUFSZ];
    int rc = cr_store_query_int64(x->s, x->err, &live,
                                  "SELECT count(*) FROM activity_run WHERE run_id = ? AND "
                                  "status IN ('pending', 'waiting', 'failed')",
                                  "i", run_id);
    if (rc < 0 || live > 0)
        return rc < 0 ? rc : 0;
    ts_sql(x->now, ts);
    if ((rc = cr_store_run(x->s, x->err,
                           "UPDATE activity_run SET status = 'skipped', ended_at = ? "
                           "WHERE run_id = ? AND status = 'collecting'",
                           "si", ts, run_id)) ||
        (rc = cr_store_run(x->s, x->err,
                           "UPDATE workflow_run SET status = 'finished', ended_at = ? "
                           "WHERE id = ? AND status = 'running'",
                           "si", ts, run_id)))
        return rc;
    return cr__wf_sync_status(x->s, x->workflow_id, x->now, x->err);
}

/* ---------------------------------------------------------------- routing */

static json_t *input_json(struct cr__wf_exec *x, size_t t, int64_t pop, int64_t count)
{
    const struct cr_wf_transition *tr = &x->def->trans[t];
    char from[160];
    snprintf(from, sizeof from, "%s.%s", x->def->acts[tr->from].id, tr->output);
    return json_pack("{sI ss sI sI}", "t", (json_int_t)t, "from", from, "pop", (json_int_t)pop,
                     "count", (json_int_t)count);
}

static int has_transition(json_t *inputs, size_t t)
{
    json_t *in;
    size_t i;
    json_array_foreach(inputs, i, in) {
        if ((size_t)json_integer_value(json_object_get(in, "t")) == t)
            return 1;
    }
    return 0;
}

static int insert_arun(struct cr__wf_exec *x, int64_t run_id, const char *activity,
                       const char *status, cr_time_t wake, json_t *inputs, int64_t count_in)
{
    char ts[CR_TIME_BUFSZ], wk[CR_TIME_BUFSZ];
    char *in = json_dumps(inputs, JSON_COMPACT);
    int rc = cr_store_run(x->s, x->err,
                          "INSERT INTO activity_run (run_id, activity_id, status, wake_at, "
                          "inputs, count_in, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                          "issssis", run_id, activity, status,
                          wake ? ts_sql(wake, wk) : NULL, in, count_in, ts_sql(x->now, ts));
    free(in);
    return rc;
}

/* Sends one input to the activity at the end of transition t in run run_id. */
static int deliver(struct cr__wf_exec *x, int64_t run_id, size_t t, int64_t pop, int64_t count)
{
    const struct cr_wf_activity *to = &x->def->acts[x->def->trans[t].to];
    json_t *in = input_json(x, t, pop, count);
    int rc = 0;
    if (!cr_wf_type_joins(to->type) || to->nin < 2) {
        json_t *arr = json_array();
        json_array_append_new(arr, in);
        rc = insert_arun(x, run_id, to->id, "pending", x->now, arr, count);
        json_decref(arr);
        return rc;
    }
    /* a join: add to the first collecting execution that lacks this transition */
    struct cr_stmt *st = NULL;
    int64_t target = 0, total = 0;
    json_t *inputs = NULL;
    if ((rc = cr_stmt_prepare(x->s,
                              "SELECT id, inputs, count_in FROM activity_run WHERE run_id = ? "
                              "AND activity_id = ? AND status = 'collecting' ORDER BY id",
                              &st, x->err)))
        goto out;
    cr_stmt_bind_int64(st, 1, run_id);
    cr_stmt_bind_str(st, 2, to->id);
    while ((rc = cr_stmt_step(st, x->err)) == 1) {
        json_t *j = json_loads(cr_stmt_text(st, 1) ? cr_stmt_text(st, 1) : "[]", 0, NULL);
        if (json_is_array(j) && !has_transition(j, t)) {
            target = cr_stmt_int64(st, 0);
            total = cr_stmt_int64(st, 2);
            inputs = j;
            break;
        }
        json_decref(j);
    }
    cr_stmt_free(st);
    if (rc < 0)
        goto out;
    if (!target) {
        json_t *arr = json_array();
        json_array_append(arr, in);
        rc = insert_arun(x, run_id, to->id, "collecting", 0, arr, count);
        json_decref(arr);
        goto out;
    }
    json_array_append(inputs, in);
    char *text = json_dumps(inputs, JSON_COMPACT), ts[CR_TIME_BUFSZ];
    int complete = json_array_size(inputs) == to->nin;
    rc = cr_store_run(x->s, x->err,
                      "UPDATE activity_run SET inputs = ?, count_in = ?, status = ?, wake_at = ? "
                      "WHERE id = ?",
                      "sissi", text, total + count, complete ? "pending" : "collecting",
                      complete ? ts_sql(x->now, ts) : NULL, target);
    free(text);
out:
    json_decref(inputs);
    json_decref(in);
    return rc;
}

int cr__wf_route(struct cr__wf_exec *x, int64_t run_id, const char *output, int64_t pop,
                 int64_t count)
{
    for (size_t i = 0; i < x->act->nout; i++) {
        size_t t = x->act->out[i];
        int rc;
        if (strcmp(x->def->trans[t].output, output) == 0 &&
            (rc = deliver(x, run_id, t, pop, count)))
            return rc;
    }
    /* a run of its own (a scheduler's fire) that received nothing has nothing to do */
    return run_id != x->run_id ? maybe_finish(x, run_id) : 0;
}

int cr__wf_child_run(struct cr__wf_exec *x, const char *cause, cr_time_t fired_at,
                     int64_t *run_id)
{
    char ts[CR_TIME_BUFSZ], fired[CR_TIME_BUFSZ];
    int rc = cr_store_query_int64(
        x->s, x->err, run_id,
        "INSERT INTO workflow_run (workflow_id, version, status, vars, parent_run_id, cause, "
        "started_at, definition, fired_at, fired_by) SELECT workflow_id, version, 'running', "
        "vars, id, ?, ?, definition, ?, ? FROM workflow_run WHERE id = ? RETURNING id",
        "ssssi", cause, ts_sql(x->now, ts), ts_sql(fired_at, fired), x->act->id, x->run_id);
    return rc < 0 ? rc : rc == 0 ? cr_err_set(x->err, CR_ESTORE, "run %lld vanished",
                                               (long long)x->run_id)
                                 : 0;
}

/* ---------------------------------------------------------------- saving, starting */

int cr_wf_save(struct cr_store *s, struct cr_clock *clock, const struct cr_wf_def *d,
               int64_t *workflow_id, struct cr_err *err)
{
    char ts[CR_TIME_BUFSZ];
    char *text = cr_wf_def_dump(d), *old = NULL;
    int64_t campaign = 0;
    int rc;
    ts_sql(cr_clock_now(clock), ts);
    if (d->campaign && (rc = cr_campaign_ensure(s, clock, d->campaign, &campaign, err)))
        goto out;
    rc = cr_store_query_int64(s, err, workflow_id, "SELECT id FROM workflow WHERE name = ?", "s",
                              d->name);
    if (rc < 0)
        goto out;
    if (rc == 0) {
        rc = cr_store_query_int64(s, err, workflow_id,
                                  "INSERT INTO workflow (name, label, definition, version, "
                                  "status, created_at, updated_at) "
                                  "VALUES (?, ?, ?, 1, 'draft', ?, ?) RETURNING id",
                                  "sssss", d->name, d->label, text, ts, ts);
        rc = rc < 0 ? rc : 0;
        if (!rc && campaign)
            rc = cr_store_run(s, err, "UPDATE workflow SET campaign_id = ? WHERE id = ?", "ii",
                              campaign, *workflow_id);
        goto out;
    }
    if ((rc = cr_store_query_text(s, err, &old, "SELECT definition FROM workflow WHERE id = ?",
                                  "i", *workflow_id)) < 0)
        goto out;
    rc = 0;
    if (!old || strcmp(old, text) != 0)
        rc = cr_store_run(s, err,
                          "UPDATE workflow SET definition = ?, version = version + 1, label = ?, "
                          "campaign_id = NULL, updated_at = ? WHERE id = ?",
                          "sssi", text, d->label, ts, *workflow_id);
    if (!rc && campaign)
        rc = cr_store_run(s, err, "UPDATE workflow SET campaign_id = ? WHERE id = ?", "ii",
                          campaign, *workflow_id);
out:
    free(old);
    free(text);
    return rc;
}

int cr_wf_load_stored(struct cr_store *s, const char *name, struct cr_wf_def **out,
                      struct cr_wf_problems *probs, struct cr_err *err)
{
    char *text = NULL;
    int rc = cr_store_query_text(s, err, &text, "SELECT definition FROM workflow WHERE name = ?",
                                 "s", name);
    *out = NULL;
    if (rc < 0)
        return rc;
    if (rc == 0 || !text) {
        free(text);
        return cr_err_set(err, CR_ENOTFOUND, "no workflow named '%s'", name);
    }
    rc = cr_wf_def_from_text(text, out, probs);
    free(text);
    return rc;
}

static int start_in_tx(struct cr_store *s, struct cr_clock *clock, const struct cr_wf_def *d,
                       json_t *vars, int64_t *run_id, struct cr_wf_problems *probs,
                       struct cr_err *err)
{
    struct cr__wf_exec x = {0};
    int64_t wid, version;
    char ts[CR_TIME_BUFSZ], *text = cr_wf_def_dump(d), *vtext = NULL;
    int rc;
    x.s = s;
    x.clock = clock;
    x.now = cr_clock_now(clock);
    x.def = d;
    x.err = err;
    if ((rc = cr_wf_save(s, clock, d, &wid, err)))
        goto out;
    if ((rc = cr_store_query_int64(s, err, &version, "SELECT version FROM workflow WHERE id = ?",
                                   "i", wid)) < 0)
        goto out;
    if (vars && json_object_size(vars))
        vtext = json_dumps(vars, JSON_COMPACT | JSON_SORT_KEYS);
    rc = cr_store_query_int64(s, err, run_id,
                              "INSERT INTO workflow_run (workflow_id, version, status, vars, "
                              "cause, started_at, definition) "
                              "VALUES (?, ?, 'running', ?, 'start', ?, ?) RETURNING id",
                              "iisss", wid, version, vtext, ts_sql(x.now, ts), text);
    if (rc < 0)
        goto out;
    rc = 0;
    x.run_id = *run_id;
    x.workflow_id = wid;
    for (size_t i = 0; !rc && i < d->nacts; i++) {
        const struct cr_wf_activity *a = &d->acts[i];
        json_t *none = json_array();
        if (a->nin == 0 && a->type == CR_WF_SCHEDULER) {
            cr_time_t first;
            rc = cr__wf_scheduler_first(s, a, x.now, &first, err);
            if (rc == CR_ENOTFOUND) {
                cr_wf_problems_add(probs, a->id, "end", "this scheduler has no fire left "
                                   "(its end is past, or its cron never matches)");
                rc = CR_EINVAL;
            } else if (!rc) {
                rc = insert_arun(&x, *run_id, a->id, "waiting", first, none, 0);
            }
        } else if (a->nin == 0) {
            rc = insert_arun(&x, *run_id, a->id, "pending", x.now, none, 0);
        }
        json_decref(none);
    }
    if (!rc)
        rc = cr__wf_sync_status(s, wid, x.now, err);
out:
    free(vtext);
    free(text);
    return rc;
}

int cr_wf_start(struct cr_store *s, struct cr_clock *clock, const struct cr_wf_def *d,
                json_t *vars, int64_t *run_id, struct cr_wf_problems *probs, struct cr_err *err)
{
    const char *k;
    json_t *v;
    int rc;
    json_object_foreach(vars, k, v) {
        if (!cr__wf_var_name_ok(k))
            cr_wf_problems_add(probs, NULL, "variables",
                               "variable name '%s' is not an identifier ([a-z_][a-z0-9_]*)", k);
    }
    if (probs->n)
        return CR_EINVAL;
    if ((rc = cr_store_begin(s, err)))
        return rc;
    rc = start_in_tx(s, clock, d, vars, run_id, probs, err);
    if (rc) {
        cr_store_rollback(s);
        return rc;
    }
    return cr_store_commit(s, err);
}

/* ---------------------------------------------------------------- one step */

static int load_inputs(struct cr__wf_exec *x, const char *text)
{
    json_t *arr = json_loads(text ? text : "[]", 0, NULL), *in;
    size_t i;
    if (!json_is_array(arr)) {
        json_decref(arr);
        return cr_err_set(x->err, CR_ESTORE, "activity run %lld: unreadable inputs",
                          (long long)x->arun_id);
    }
    x->in = cr_xcalloc(json_array_size(arr) + 1, sizeof *x->in);
    json_array_foreach(arr, i, in) {
        size_t t = (size_t)json_integer_value(json_object_get(in, "t"));
        if (t >= x->def->ntrans) {
            json_decref(arr);
            return cr_err_set(x->err, CR_ESTORE, "activity run %lld: bad transition",
                              (long long)x->arun_id);
        }
        x->in[i].trans = t;
        x->in[i].pop = json_integer_value(json_object_get(in, "pop"));
        x->in[i].count = json_integer_value(json_object_get(in, "count"));
        x->in[i].flow = x->def->acts[x->def->trans[t].from].flow;
        x->count_in += x->in[i].count;
        x->nin++;
    }
    json_decref(arr);
    return 0;
}

static int record_result(struct cr__wf_exec *x)
{
    char ts[CR_TIME_BUFSZ], wk[CR_TIME_BUFSZ];
    char *state = json_dumps(x->state, JSON_COMPACT | JSON_SORT_KEYS);
    int rc;
    ts_sql(x->now, ts);
    if (x->sleep) {
        /* wake_at 0: no timer, something else (a delivery ending) wakes it up */
        rc = cr_store_run(x->s, x->err,
                          "UPDATE activity_run SET status = 'waiting', wake_at = ?, state = ?, "
                          "started_at = coalesce(started_at, ?), count_in = ? WHERE id = ?",
                          "sssii", x->wake_at ? ts_sql(x->wake_at, wk) : NULL, state, ts,
                          x->count_in, x->arun_id);
        free(state);
        return rc;
    }
    json_t *outs = json_object();
    int64_t count_out = 0;
    for (size_t i = 0; i < x->nout; i++) {
        json_object_set_new(outs, x->out[i].name,
                            json_pack("{sI sI}", "population", (json_int_t)x->out[i].pop,
                                      "count", (json_int_t)x->out[i].count));
        count_out += x->out[i].count;
    }
    char *otext = json_dumps(outs, JSON_COMPACT);
    json_decref(outs);
    rc = cr_store_run(x->s, x->err,
                      "UPDATE activity_run SET status = 'done', state = ?, outputs = ?, "
                      "count_in = ?, count_out = ?, started_at = coalesce(started_at, ?), "
                      "ended_at = ?, error = NULL WHERE id = ?",
                      "ssiissi", state, otext, x->count_in, count_out, ts, ts, x->arun_id);
    free(state);
    free(otext);
    for (size_t i = 0; !rc && i < x->nout; i++)
        rc = cr__wf_route(x, x->run_id, x->out[i].name, x->out[i].pop, x->out[i].count);
    return rc ? rc : maybe_finish(x, x->run_id);
}

static int record_failure(struct cr_store *s, struct cr_clock *clock, int64_t arun, int64_t run,
                          int64_t wid, const char *activity, const char *msg,
                          struct cr_err *err)
{
    char full[700];
    int rc;
    snprintf(full, sizeof full, "activity '%s': %s", activity, msg);
    cr_log_warn("workflow run %lld paused: %s", (long long)run, full);
    if ((rc = cr_store_begin(s, err)))
        return rc;
    if ((rc = cr_store_run(s, err,
                           "UPDATE activity_run SET status = 'failed', error = ?, "
                           "attempts = attempts + 1 WHERE id = ?",
                           "si", msg, arun)) ||
        (rc = cr_store_run(s, err,
                           "UPDATE workflow_run SET status = 'paused', error = ? WHERE id = ? "
                           "AND status = 'running'",
                           "si", full, run)) ||
        (rc = cr__wf_sync_status(s, wid, cr_clock_now(clock), err))) {
        cr_store_rollback(s);
        return rc;
    }
    return cr_store_commit(s, err);
}

static const char due_sql[] =
    "SELECT ar.id, ar.run_id, ar.activity_id, ar.state, ar.inputs, ar.wake_at, r.workflow_id, "
    "r.vars, r.definition, w.campaign_id FROM activity_run ar "
    "JOIN workflow_run r ON r.id = ar.run_id JOIN workflow w ON w.id = r.workflow_id "
    "WHERE ar.status IN ('pending', 'waiting') AND ar.wake_at <= ? AND r.status = 'running' "
    "ORDER BY ar.wake_at, ar.id LIMIT 1";

int cr_wf_engine_step(struct cr_store *s, struct cr_clock *clock, int *did, struct cr_err *err)
{
    struct cr__wf_exec x = {0};
    struct cr_wf_problems probs = {0};
    struct cr_err aerr = CR_ERR_INIT;
    struct cr_stmt *st = NULL;
    char ts[CR_TIME_BUFSZ], *activity = NULL, *state = NULL, *inputs = NULL, *def = NULL;
    int rc, failed = 0;
    *did = 0;
    x.s = s;
    x.clock = clock;
    x.now = cr_clock_now(clock);
    x.err = &aerr;
    if ((rc = cr_store_begin(s, err)))
        return rc;
    char sql[sizeof due_sql + 64];
    snprintf(sql, sizeof sql, "%s%s", due_sql,
             cr_store_dialect(s) == CR_DIALECT_POSTGRES ? " FOR UPDATE OF ar SKIP LOCKED" : "");
    if ((rc = cr_stmt_prepare(s, sql, &st, err)))
        goto fail;
    cr_stmt_bind_str(st, 1, ts_sql(x.now, ts));
    rc = cr_stmt_step(st, err);
    if (rc == 1) {
        x.arun_id = cr_stmt_int64(st, 0);
        x.run_id = cr_stmt_int64(st, 1);
        activity = cr_xstrdup(cr_stmt_text(st, 2));
        state = cr_stmt_text(st, 3) ? cr_xstrdup(cr_stmt_text(st, 3)) : NULL;
        inputs = cr_stmt_text(st, 4) ? cr_xstrdup(cr_stmt_text(st, 4)) : NULL;
        parse_ts(cr_stmt_text(st, 5), &x.wake_at);
        x.workflow_id = cr_stmt_int64(st, 6);
        x.vars = json_loads(cr_stmt_text(st, 7) ? cr_stmt_text(st, 7) : "{}", 0, NULL);
        def = cr_stmt_text(st, 8) ? cr_xstrdup(cr_stmt_text(st, 8)) : NULL;
        x.campaign_id = cr_stmt_is_null(st, 9) ? 0 : cr_stmt_int64(st, 9);
    }
    cr_stmt_free(st);
    if (rc == 1 && cr_store_dialect(s) == CR_DIALECT_POSTGRES) {
        /* Steps of one run take turns: a join's inputs and the run's end are decided by
         * reading what the run's other steps wrote, which concurrent transactions would not
         * see. The run may have been paused or stopped while this one waited. */
        char *run_status = NULL;
        rc = cr_store_query_text(s, err, &run_status,
                                 "SELECT status FROM workflow_run WHERE id = ? FOR UPDATE", "i",
                                 x.run_id);
        if (rc == 1) {
            rc = run_status && strcmp(run_status, "running") == 0;
            /* skipped, not idle: --until-idle must look again for other runs' work */
            *did = !rc;
        }
        free(run_status);
    }
    if (rc <= 0) {
        if (rc < 0)
            goto fail;
        rc = cr_store_commit(s, err); /* nothing due */
        goto out;
    }
    *did = 1;
    struct cr_wf_def *d = NULL;
    if (!def || cr_wf_def_from_text(def, &d, &probs)) {
        cr_err_set(&aerr, CR_ESTORE, "the run's definition cannot be read: %s",
                   probs.n ? probs.v[0].message : "missing");
        failed = 1;
        goto failed;
    }
    x.def = d;
    x.act = cr_wf_def_find(d, activity, &x.act_index);
    x.state = state ? json_loads(state, 0, NULL) : NULL;
    if (!json_is_object(x.state)) {
        json_decref(x.state);
        x.state = json_object();
    }
    if (!x.act) {
        rc = cr_err_set(&aerr, CR_ESTORE, "no activity '%s' in the run's definition", activity);
    } else if (!(rc = load_inputs(&x, inputs))) {
        cr_log_debug("run %lld: %s '%s'", (long long)x.run_id, cr_wf_type_name(x.act->type),
                     activity);
        if (!(rc = cr__wf_activity_run(&x)))
            rc = record_result(&x);
    }
    if (rc) {
        failed = 1;
    } else {
        rc = cr_store_commit(s, &aerr);
        failed = rc != 0;
    }
    json_decref(x.state);
    free(x.in);
    free(x.out);
    cr_wf_def_free(d);
failed:
    if (failed) {
        cr_store_rollback(s);
        rc = record_failure(s, clock, x.arun_id, x.run_id, x.workflow_id, activity,
                            cr_err_msg(&aerr), err);
    }
    goto out;
fail:
    cr_store_rollback(s);
out:
    cr_wf_problems_release(&probs);
    json_decref(x.vars);
    free(activity);
    free(state);
    free(inputs);
    free(def);
    return rc;
}

int cr_wf_engine_next(struct cr_store *s, cr_time_t *at, int *any, struct cr_err *err)
{
    char *t = NULL;
    int rc = cr_store_query_text(s, err, &t,
                                 "SELECT min(ar.wake_at) FROM activity_run ar JOIN workflow_run r "
                                 "ON r.id = ar.run_id WHERE ar.status IN ('pending', 'waiting') "
                                 "AND r.status = 'running'",
                                 "");
    *any = 0;
    if (rc < 0)
        return rc;
    if (t) {
        *any = 1;
        parse_ts(t, at);
    }
    free(t);
    return 0;
}
