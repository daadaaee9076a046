/*
 * action.c - activities that act on the population: list update and the deliveries
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/datetime.h"
#include "delivery/delivery.h"
#include "workflow/activity/activity.h"

/* Adds, removes or replaces the list's members with the incoming population's profiles,
 * creating the list when it does not exist. The population goes on unchanged. */
int cr__wf_list_update(struct cr__wf_exec *x)
{
    const char *name = cr_wf_str(x->act, "list"), *mode = cr_wf_str(x->act, "mode");
    char ts[CR_TIME_BUFSZ];
    int64_t list_id;
    int rc;
    cr_time_format_sql(x->now, ts);
    if (!mode)
        mode = "add";
    if ((rc = cr_store_run(x->s, x->err,
                           "INSERT INTO list (name, created_at, updated_at) VALUES (?, ?, ?) "
                           "ON CONFLICT (name) DO NOTHING",
                           "sss", name, ts, ts)))
        return rc;
    rc = cr_store_query_int64(x->s, x->err, &list_id, "SELECT id FROM list WHERE name = ?", "s",
                              name);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return cr_err_set(x->err, CR_ESTORE, "list '%s' vanished", name);
    if (strcmp(mode, "replace") == 0 &&
        (rc = cr_store_run(x->s, x->err, "DELETE FROM list_member WHERE list_id = ?", "i",
                           list_id)))
        return rc;
    if (strcmp(mode, "remove") == 0)
        rc = cr_store_run(x->s, x->err,
                          "DELETE FROM list_member WHERE list_id = ? AND profile_id IN "
                          "(SELECT profile_id FROM population_member WHERE population_id = ?)",
                          "ii", list_id, x->in[0].pop);
    else
        rc = cr_store_run(x->s, x->err,
                          "INSERT INTO list_member (list_id, profile_id, added_at) "
                          "SELECT ?, profile_id, ? FROM population_member "
                          "WHERE population_id = ? ON CONFLICT DO NOTHING",
                          "isi", list_id, ts, x->in[0].pop);
    if (rc || (rc = cr_store_run(x->s, x->err, "UPDATE list SET updated_at = ? WHERE id = ?",
                                 "si", ts, list_id)))
        return rc;
    cr__wf_pass(x, "default");
    return 0;
}

/*
 * A delivery activity creates its delivery (bound to this run and activity, the incoming
 * population as its target) so that later activities can name it in behaviour predicates.
 * On a channel that sends (email), it prepares the delivery at once and waits: for a person
 * to confirm (the default), then for the sending to end; with "confirm": false, only for the
 * sending. The delivery wakes the activity when it ends (sent, stopped or failed). Then the
 * outbound transition: none sends nothing on; without_population sends the incoming
 * population; with_population the recipients actually targeted (those preparation did not
 * exclude). Channels that do not send yet (sms, push, external) leave the delivery a draft
 * and pass the incoming population on.
 */
static int outbound(struct cr__wf_exec *x, int64_t delivery)
{
    const char *ob = cr_wf_str(x->act, "outbound");
    int64_t pop, count;
    if (!ob || strcmp(ob, "none") == 0)
        return 0;
    if (strcmp(ob, "without_population") == 0 || x->act->type != CR_WF_EMAIL) {
        cr__wf_pass(x, "default");
        return 0;
    }
    return cr__wf_pop_fill(x, "default", x->act->in_flow, &pop, &count,
                           "INSERT INTO population_member (population_id, item_id, profile_id) "
                           "SELECT ?, m.item_id, m.profile_id FROM "
                           "population_member m WHERE m.population_id = ? AND m.profile_id IN "
                           "(SELECT profile_id FROM delivery_log WHERE delivery_id = ? AND NOT "
                           "proof AND status <> 'excluded')",
                           "ii", x->in[0].pop, delivery);
}

int cr__wf_delivery(struct cr__wf_exec *x)
{
    const struct cr_wf_activity *a = x->act;
    json_t *did = json_object_get(x->state, "delivery");
    int rc;
    if (did) { /* woken up: the delivery has ended */
        char *status = NULL, *error = NULL;
        int64_t id = json_integer_value(did);
        rc = cr_store_query_text(x->s, x->err, &status,
                                 "SELECT status FROM delivery WHERE id = ?", "i", id);
        if (rc >= 0 && !status) {
            rc = cr_err_set(x->err, CR_ENOTFOUND, "delivery %lld no longer exists",
                            (long long)id);
        } else if (rc >= 0 && strcmp(status, "failed") == 0) {
            if (cr_store_query_text(x->s, x->err, &error,
                                    "SELECT error FROM delivery WHERE id = ?", "i", id) >= 0)
                rc = cr_err_set(x->err, CR_ESTATE, "delivery %lld failed: %s", (long long)id,
                                error ? error : "no reason recorded");
        } else if (rc >= 0 && strcmp(status, "stopped") == 0) {
            rc = 0; /* stopped by a person: nothing goes on */
        } else if (rc >= 0 && strcmp(status, "sent") != 0) {
            x->sleep = 1; /* woken early (resumed run): keep waiting */
            x->wake_at = 0;
            rc = 0;
        } else if (rc >= 0) {
            rc = outbound(x, id);
        }
        free(status);
        free(error);
        return rc;
    }
    json_t *opts = json_object();
    const char *ob = cr_wf_str(a, "outbound");
    json_object_set_new(opts, "outbound", json_string(ob ? ob : "none"));
    if (json_object_get(a->json, "recurring"))
        json_object_set(opts, "recurring", json_object_get(a->json, "recurring"));
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
    rc = cr_delivery_create(x->s, x->clock, &n, &id, x->err);
    json_decref(opts);
    if (rc)
        return rc;
    json_object_set_new(x->state, "delivery", json_integer(id));
    if (a->type != CR_WF_EMAIL) {
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
