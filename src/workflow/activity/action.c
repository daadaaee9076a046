/*
 * action.c - activities that act on the population: list update (deliveries: deliver.c)
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
                          "SELECT ?, profile_id, ? FROM population_member "
                          "WHERE population_id = ? ON CONFLICT DO NOTHING",
                          "isi", list_id, ts, x->in[0].pop);
    if (rc || (rc = cr_store_run(x->s, x->err, "UPDATE list SET updated_at = ? WHERE id = ?",
                                 "si", ts, list_id)))
        return rc;
    cr__wf_pass(x, "default");
    return 0;
}
