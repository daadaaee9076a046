/*
 * deliver.c - the delivery activities: email, sms, push, external, single or recurring
 *
 * A delivery activity creates its delivery (bound to this run and activity, the incoming
 * population as its target) so that later activities can name it in behaviour predicates.
 * On every channel (email, sms, push, external), it prepares the delivery at once and waits: for a
 * person to confirm (the default), then for the sending to end; with "confirm": false, only
 * for the sending. The delivery wakes the activity when it ends (sent, stopped or failed).
 * Then the outbound transition: none sends nothing on; without_population sends the incoming
 * population; with_population the recipients actually targeted (those preparation did not
 * exclude).
 *
 * Recurring ("recurring": {"aggregation": ...}, email, sms and push): each run of the activity is
 * a fire. The first creates the parent delivery of (the scheduler's run, activity); each
 * adds its population to the execution of the period its fire time falls in (period.h), in
 * the time zone of the scheduler that fired the run (UTC without one), and waits as above
 * for its own recipients; with_population carries only those.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/datetime.h"
#include "delivery/delivery.h"
#include "workflow/activity/activity.h"
#include "workflow/period.h"

static int sends(const struct cr_wf_activity *a)
{
    return a->type == CR_WF_EMAIL || a->type == CR_WF_SMS || a->type == CR_WF_PUSH ||
           a->type == CR_WF_EXTERNAL;
}

/* The outbound transition once the sending ended; fire: only that fire's recipients. */
static int outbound(struct cr__wf_exec *x, int64_t delivery, int64_t fire)
{
    const char *ob = cr_wf_str(x->act, "outbound");
    int64_t pop, count;
    if (!ob || strcmp(ob, "none") == 0)
        return 0;
    if (strcmp(ob, "without_population") == 0 || !sends(x->act)) {
        cr__wf_pass(x, "default");
        return 0;
    }
    return cr__wf_pop_fill(x, "default", x->act->in_flow, &pop, &count,
                           "INSERT INTO population_member (population_id, item_id, profile_id) "
                           "SELECT ?, m.item_id, m.profile_id FROM "
                           "population_member m WHERE m.population_id = ? AND m.profile_id IN "
                           "(SELECT profile_id FROM delivery_log WHERE delivery_id = ? AND NOT "
                           "proof AND status <> 'excluded' AND (? = 0 OR fire_id = ?))",
                           "iiii", x->in[0].pop, delivery, fire, fire);
}

/* Woken up (a single delivery): has it ended? */
static int single_woken(struct cr__wf_exec *x, int64_t id)
{
    char *status = NULL, *error = NULL;
    int rc = cr_store_query_text(x->s, x->err, &status,
                                 "SELECT status FROM delivery WHERE id = ?", "i", id);
    if (rc >= 0 && !status) {
        rc = cr_err_set(x->err, CR_ENOTFOUND, "delivery %lld no longer exists", (long long)id);
    } else if (rc >= 0 && strcmp(status, "failed") == 0) {
        if (cr_store_query_text(x->s, x->err, &error, "SELECT error FROM delivery WHERE id = ?",
                                "i", id) >= 0)
            rc = cr_err_set(x->err, CR_ESTATE, "delivery %lld failed: %s", (long long)id,
                            error ? error : "no reason recorded");
    } else if (rc >= 0 && strcmp(status, "stopped") == 0) {
        rc = 0; /* stopped by a person: nothing goes on */
    } else if (rc >= 0 && strcmp(status, "sent") != 0) {
        x->sleep = 1; /* woken early (resumed run): keep waiting */
        x->wake_at = 0;
        rc = 0;
    } else if (rc >= 0) {
        rc = outbound(x, id, 0);
    }
    free(status);
    free(error);
    return rc;
}

/* A fire has moved on: sleep, or end (with the outbound transition when it was sent). */
static int fire_state(struct cr__wf_exec *x, enum cr_fire_state st)
{
    json_t *d = json_object_get(x->state, "delivery"), *f = json_object_get(x->state, "fire");
    switch (st) {
    case CR_FIRE_WAITING:
        x->sleep = 1; /* until the execution's sending ends and wakes us */
        x->wake_at = 0;
        return 0;
    case CR_FIRE_DONE: return outbound(x, json_integer_value(d), json_integer_value(f));
    case CR_FIRE_STOPPED: return 0; /* stopped by a person: nothing goes on */
    }
    return 0;
}

/* The run of this fire: the scheduler's run it belongs to (the parent's key), when and by
 * which scheduler it was fired (a run started by hand: its start, UTC). */
static int fire_of_run(struct cr__wf_exec *x, int64_t *anchor, cr_time_t *at, const char **tz)
{
    struct cr_stmt *st = NULL;
    int rc = cr_stmt_prepare(x->s,
                             "SELECT coalesce(parent_run_id, id), coalesce(fired_at, "
                             "started_at), fired_by FROM workflow_run WHERE id = ?",
                             &st, x->err);
    *tz = NULL;
    if (rc)
        return rc;
    cr_stmt_bind_int64(st, 1, x->run_id);
    if ((rc = cr_stmt_step(st, x->err)) == 1) {
        const char *t = cr_stmt_text(st, 1), *by = cr_stmt_text(st, 2);
        const struct cr_wf_activity *sched = by ? cr_wf_def_find(x->def, by, NULL) : NULL;
        *anchor = cr_stmt_int64(st, 0);
        rc = cr_time_parse(t, strlen(t), at, x->err);
        if (sched && sched->type == CR_WF_SCHEDULER)
            *tz = cr_wf_str(sched, "timezone");
    } else if (rc == 0) {
        rc = cr_err_set(x->err, CR_ENOTFOUND, "run %lld vanished", (long long)x->run_id);
    }
    cr_stmt_free(st);
    return rc;
}

static int recurring_first(struct cr__wf_exec *x, struct cr_delivery_new *n, const char *agg)
{
    struct cr_delivery_fire f = {0};
    char period[CR_PERIOD_BUFSZ];
    const char *tz;
    int64_t anchor = 0, parent, exec, fire;
    enum cr_fire_state st;
    int rc;
    if ((rc = fire_of_run(x, &anchor, &f.fired_at, &tz)))
        return rc;
    /* fires of one scheduler may run at once on PostgreSQL: one at a time finds or creates
     * the parent and the execution of a period */
    int64_t locked;
    if (cr_store_dialect(x->s) == CR_DIALECT_POSTGRES &&
        (rc = cr_store_query_int64(x->s, x->err, &locked,
                                   "SELECT id FROM workflow_run WHERE id = ? FOR UPDATE", "i",
                                   anchor)) < 0)
        return rc;
    if ((rc = cr_period_key(agg, tz, f.fired_at, period, x->err)))
        return rc;
    n->workflow_run_id = anchor;
    n->population_id = 0;
    if ((rc = cr_delivery_recurring_parent(x->s, x->clock, n, &parent, x->err)))
        return rc;
    f.parent = parent;
    f.period = period;
    f.new_execution = strcmp(agg, "none") == 0;
    f.run_id = x->run_id;
    f.activity_id = x->act->id;
    f.population_id = x->in[0].pop;
    if ((rc = cr_delivery_fire_add(x->s, x->clock, &f, &exec, &fire, &st, x->err)))
        return rc;
    json_object_set_new(x->state, "parent", json_integer(parent));
    json_object_set_new(x->state, "period", json_string(period));
    json_object_set_new(x->state, "delivery", json_integer(exec));
    json_object_set_new(x->state, "fire", json_integer(fire));
    return fire_state(x, st);
}

int cr__wf_delivery(struct cr__wf_exec *x)
{
    const struct cr_wf_activity *a = x->act;
    json_t *did = json_object_get(x->state, "delivery"), *fid = json_object_get(x->state, "fire");
    json_t *rec = json_object_get(a->json, "recurring");
    int rc;
    if (fid) { /* a fire woken up: its execution's sending ended */
        enum cr_fire_state st;
        if (!json_integer_value(fid))
            return fire_state(x, CR_FIRE_STOPPED);
        if ((rc = cr_delivery_fire_step(x->s, x->clock, json_integer_value(fid), &st, x->err)))
            return rc;
        return fire_state(x, st);
    }
    if (did) /* woken up: the delivery has ended */
        return single_woken(x, json_integer_value(did));
    json_t *opts = json_object();
    const char *ob = cr_wf_str(a, "outbound");
    json_object_set_new(opts, "outbound", json_string(ob ? ob : "none"));
    if (rec)
        json_object_set(opts, "recurring", rec);
    if (cr_wf_str(a, "platform"))
        json_object_set_new(opts, "platform", json_string(cr_wf_str(a, "platform")));
    if (cr_wf_str(a, "tracking"))
        json_object_set_new(opts, "tracking", json_string(cr_wf_str(a, "tracking")));
    char label[256];
    if (cr_wf_str(a, "label"))
        snprintf(label, sizeof label, "%s", cr_wf_str(a, "label"));
    else
        snprintf(label, sizeof label, "%s / %s", x->def->name, a->id);
    struct cr_delivery_new n = {0};
    int64_t id;
    n.label = label;
    n.template_name = cr_wf_str(a, "template");
    n.account_name = cr_wf_str(a, "account");
    n.population_id = x->in[0].pop;
    n.workflow_run_id = x->run_id;
    n.activity_id = a->id;
    n.campaign_id = x->campaign_id;
    n.confirm = cr_wf_bool(a, "confirm", 1);
    n.options = opts;
    const char *agg = json_string_value(json_object_get(rec, "aggregation"));
    if (agg && sends(a)) {
        rc = recurring_first(x, &n, agg);
        json_decref(opts);
        return rc;
    }
    rc = cr_delivery_create(x->s, x->clock, &n, &id, x->err);
    json_decref(opts);
    if (rc)
        return rc;
    json_object_set_new(x->state, "delivery", json_integer(id));
    if (!sends(a)) {
        if (ob && strcmp(ob, "none") != 0)
            cr__wf_pass(x, "default");
        return 0;
    }
    if ((rc = cr_delivery_prepare(x->s, x->clock, id, x->err)))
        return rc;
    x->sleep = 1; /* until the delivery ends and wakes us */
    x->wake_at = 0;
    return 0;
}
