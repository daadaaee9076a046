/*
 * action.c - activities that act on the population: list update and the deliveries
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/datetime.h"
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
                          "SELECT CAST(? AS BIGINT), profile_id, ? FROM population_member "
                          "WHERE population_id = ? ON CONFLICT DO NOTHING",
                          "isi", list_id, ts, x->in[0].pop);
    if (rc || (rc = cr_store_run(x->s, x->err, "UPDATE list SET updated_at = ? WHERE id = ?",
                                 "si", ts, list_id)))
        return rc;
    cr__wf_pass(x, "default");
    return 0;
}

/*
 * A delivery activity creates its delivery (a draft, bound to this run and activity, with
 * the incoming population as its target) so that later activities can name it in behaviour
 * predicates. Preparing, confirming and sending it belong to the delivery subsystem.
 * Outbound: none sends nothing on; without_population sends the incoming population on;
 * with_population sends the targeted recipients, which until preparation excludes anyone
 * is the incoming population too.
 */
int cr__wf_delivery(struct cr__wf_exec *x)
{
    const struct cr_wf_activity *a = x->act;
    const char *outbound = cr_wf_str(a, "outbound");
    char ts[CR_TIME_BUFSZ], label[256];
    json_t *opts = json_object();
    char *opts_text;
    int64_t id;
    int rc;
    json_object_set_new(opts, "confirm", json_boolean(cr_wf_bool(a, "confirm", 1)));
    json_object_set_new(opts, "outbound", json_string(outbound ? outbound : "none"));
    if (json_object_get(a->json, "recurring"))
        json_object_set(opts, "recurring", json_object_get(a->json, "recurring"));
    if (cr_wf_str(a, "platform"))
        json_object_set_new(opts, "platform", json_string(cr_wf_str(a, "platform")));
    json_object_set_new(opts, "target_count", json_integer(x->count_in));
    opts_text = json_dumps(opts, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(opts);
    if (cr_wf_str(a, "label"))
        snprintf(label, sizeof label, "%s", cr_wf_str(a, "label"));
    else
        snprintf(label, sizeof label, "%s / %s", x->def->name, a->id);
    cr_time_format_sql(x->now, ts);
    rc = cr_store_query_int64(
        x->s, x->err, &id,
        "INSERT INTO delivery (label, channel, template_id, account_id, campaign_id, "
        "workflow_run_id, activity_id, status, population_id, options, created_at, updated_at) "
        "VALUES (?, ?, (SELECT id FROM template WHERE name = ?), "
        "(SELECT id FROM account WHERE name = ?), ?, ?, ?, 'draft', ?, ?, ?, ?) RETURNING id",
        "sssssisisss", label, cr_wf_type_name(a->type), cr_wf_str(a, "template"),
        cr_wf_str(a, "account"), NULL, x->run_id, a->id, x->in[0].pop, opts_text, ts, ts);
    free(opts_text);
    if (rc < 0)
        return rc;
    if (x->campaign_id &&
        (rc = cr_store_run(x->s, x->err, "UPDATE delivery SET campaign_id = ? WHERE id = ?",
                           "ii", x->campaign_id, id)))
        return rc;
    json_object_set_new(x->state, "delivery", json_integer(id));
    if (outbound && strcmp(outbound, "none") != 0)
        cr__wf_pass(x, "default");
    return 0;
}
