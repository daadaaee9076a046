/*
 * recurring.c - recurring deliveries: the parent, the execution of each period, its fires
 * (see delivery.h)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/datetime.h"
#include "core/mem.h"
#include "delivery/delivery.h"
#include "delivery/delivery_int.h"

int cr_delivery_recurring_parent(struct cr_store *s, struct cr_clock *clock,
                                 const struct cr_delivery_new *n, int64_t *parent,
                                 struct cr_err *err)
{
    int rc = cr_store_query_int64(s, err, parent,
                                  "SELECT min(id) FROM delivery WHERE workflow_run_id = ? AND "
                                  "activity_id = ? AND parent_id IS NULL AND status IN "
                                  "('recurring', 'stopped')",
                                  "is", n->workflow_run_id, n->activity_id);
    if (rc < 0)
        return rc;
    if (rc == 1 && *parent > 0)
        return 0;
    if ((rc = cr_delivery_create(s, clock, n, parent, err)))
        return rc;
    /* never prepared nor sent: out of every status the engine and the commands act on */
    return cr_store_run(s, err, "UPDATE delivery SET status = 'recurring' WHERE id = ?", "i",
                        *parent);
}

/* The execution of f's period, created when it has none yet (or always, aggregation none):
 * the parent's content, account and options, labelled "LABEL — PERIOD". */
static int execution(struct cr_store *s, const struct cr_delivery_fire *f, const char *ts,
                     int64_t *id, struct cr_err *err)
{
    int rc;
    if (!f->new_execution) {
        rc = cr_store_query_int64(s, err, id,
                                  "SELECT min(id) FROM delivery WHERE parent_id = ? AND "
                                  "period = ?",
                                  "is", f->parent, f->period);
        if (rc < 0)
            return rc;
        if (rc == 1 && *id > 0)
            return 0;
    }
    rc = cr_store_query_int64(
        s, err, id,
        "INSERT INTO delivery (label, channel, template_id, account_id, campaign_id, "
        "workflow_run_id, activity_id, status, content, options, parent_id, period, "
        "population_id, created_at, updated_at) SELECT coalesce(label, '') || ? || ?, channel, "
        "template_id, account_id, campaign_id, ?, activity_id, 'draft', content, options, id, "
        "?, ?, ?, ? FROM delivery WHERE id = ? RETURNING id",
        "ssisissi", " \xe2\x80\x94 ", f->period, f->run_id, f->period, f->population_id, ts, ts,
        f->parent);
    if (rc == 0)
        rc = cr_err_set(err, CR_ENOTFOUND, "no delivery %lld", (long long)f->parent);
    return rc < 0 ? rc : 0;
}

int cr_delivery_fire_add(struct cr_store *s, struct cr_clock *clock,
                         const struct cr_delivery_fire *f, int64_t *exec_id, int64_t *fire,
                         enum cr_fire_state *state, struct cr_err *err)
{
    char ts[CR_TIME_BUFSZ], fired[CR_TIME_BUFSZ], *pstatus = NULL;
    int rc = cr__delivery_status(s, f->parent, &pstatus, err);
    *exec_id = *fire = 0;
    if (rc)
        return rc;
    int stopped = strcmp(pstatus, "stopped") == 0;
    free(pstatus);
    if (stopped) { /* a person stopped the recurrence: its fires send nothing */
        *state = CR_FIRE_STOPPED;
        return 0;
    }
    cr_time_format_sql(cr_clock_now(clock), ts);
    if ((rc = execution(s, f, ts, exec_id, err)))
        return rc;
    rc = cr_store_query_int64(s, err, fire,
                              "INSERT INTO delivery_fire (delivery_id, run_id, activity_id, "
                              "fired_at, population_id, created_at) VALUES (?, ?, ?, ?, ?, ?) "
                              "RETURNING id",
                              "iissis", *exec_id, f->run_id, f->activity_id,
                              cr_time_format_sql(f->fired_at, fired), f->population_id, ts);
    if (rc < 0)
        return rc;
    return cr_delivery_fire_step(s, clock, *fire, state, err);
}

struct fire_row {
    int64_t delivery, population;
    int prepared, confirmed, confirm;
    char *status, *parent_status, *error;
};

static int load_fire(struct cr_store *s, int64_t fire, struct fire_row *r, struct cr_err *err)
{
    struct cr_stmt *st = NULL;
    int rc = cr_stmt_prepare(s,
                             "SELECT f.delivery_id, f.population_id, f.prepared_at, "
                             "f.confirmed_at, d.status, d.options, d.error, p.status FROM "
                             "delivery_fire f JOIN delivery d ON d.id = f.delivery_id LEFT JOIN "
                             "delivery p ON p.id = d.parent_id WHERE f.id = ?",
                             &st, err);
    memset(r, 0, sizeof *r);
    if (rc)
        return rc;
    cr_stmt_bind_int64(st, 1, fire);
    if ((rc = cr_stmt_step(st, err)) == 1) {
        r->delivery = cr_stmt_int64(st, 0);
        r->population = cr_stmt_is_null(st, 1) ? 0 : cr_stmt_int64(st, 1);
        r->prepared = !cr_stmt_is_null(st, 2);
        r->confirmed = !cr_stmt_is_null(st, 3);
        r->status = cr_xstrdup(cr_stmt_text(st, 4));
        json_t *o = json_loads(cr_stmt_text(st, 5) ? cr_stmt_text(st, 5) : "{}", 0, NULL);
        r->confirm = !json_is_false(json_object_get(o, "confirm"));
        json_decref(o);
        r->error = cr_stmt_text(st, 6) ? cr_xstrdup(cr_stmt_text(st, 6)) : NULL;
        r->parent_status = cr_stmt_text(st, 7) ? cr_xstrdup(cr_stmt_text(st, 7)) : NULL;
        rc = 0;
    } else if (rc == 0) {
        rc = cr_err_set(err, CR_ENOTFOUND, "no fire %lld of a recurring delivery",
                        (long long)fire);
    }
    cr_stmt_free(st);
    return rc;
}

static void release_fire(struct fire_row *r)
{
    free(r->status);
    free(r->parent_status);
    free(r->error);
}

int cr_delivery_fire_step(struct cr_store *s, struct cr_clock *clock, int64_t fire,
                          enum cr_fire_state *state, struct cr_err *err)
{
    struct fire_row r;
    int64_t left = 0;
    int rc = load_fire(s, fire, &r, err);
    *state = CR_FIRE_WAITING;
    if (rc)
        goto out;
    if (strcmp(r.status, "stopped") == 0 ||
        (!r.prepared && r.parent_status && strcmp(r.parent_status, "stopped") == 0)) {
        *state = CR_FIRE_STOPPED;
        goto out;
    }
    if (!r.prepared) {
        /* Recipients that need a confirmation must not join a sending already confirmed:
         * wait for it to end (its end wakes this fire's activity). */
        if (r.confirm && (strcmp(r.status, "sending") == 0 || strcmp(r.status, "paused") == 0))
            goto out;
        if ((rc = cr__delivery_prepare_fire(s, clock, r.delivery, fire, r.population, err)))
            goto out;
        release_fire(&r);
        if ((rc = load_fire(s, fire, &r, err)))
            goto out;
    }
    if (strcmp(r.status, "failed") == 0) {
        rc = cr_err_set(err, CR_ESTATE, "delivery %lld failed: %s", (long long)r.delivery,
                        r.error ? r.error : "no reason recorded");
        goto out;
    }
    if (!r.confirmed)
        goto out;
    rc = cr_store_query_int64(s, err, &left,
                              "SELECT count(*) FROM delivery_log WHERE fire_id = ? AND status "
                              "IN ('pending', 'sending')",
                              "i", fire);
    if (rc >= 0 && left == 0)
        *state = CR_FIRE_DONE;
    rc = rc < 0 ? rc : 0;
out:
    release_fire(&r);
    return rc;
}

/* ---------------------------------------------------------------- show */

static int add_rows(struct cr_store *s, json_t *j, const char *key, const char *sql, int64_t id,
                    const char *const *names, const char *kinds, struct cr_err *err)
{
    struct cr_stmt *st = NULL;
    json_t *arr = json_array();
    int rc = cr_stmt_prepare(s, sql, &st, err);
    if (rc) {
        json_decref(arr);
        return rc;
    }
    cr_stmt_bind_int64(st, 1, id);
    while ((rc = cr_stmt_step(st, err)) == 1) {
        json_t *o = json_object();
        for (int i = 0; names[i]; i++) {
            const char *t = cr_stmt_text(st, i);
            json_t *v = json_null();
            cr_time_t tm;
            struct cr_err e = CR_ERR_INIT;
            char buf[CR_TIME_BUFSZ];
            if (cr_stmt_is_null(st, i))
                v = json_null();
            else if (kinds[i] == 'i')
                v = json_integer(cr_stmt_int64(st, i));
            else if (kinds[i] == 't' && !cr_time_parse(t, strlen(t), &tm, &e))
                v = json_string(cr_time_format_iso(tm, buf));
            else if (kinds[i] == 'j' && !(v = json_loads(t, 0, NULL)))
                v = json_null();
            else if (kinds[i] == 's')
                v = json_string(t);
            json_object_set_new(o, names[i], v);
        }
        json_array_append_new(arr, o);
    }
    cr_stmt_free(st);
    if (rc < 0) {
        json_decref(arr);
        return rc;
    }
    json_object_set_new(j, key, arr);
    return 0;
}

int cr__delivery_show_recurring(struct cr_store *s, int64_t id, json_t *j, struct cr_err *err)
{
    static const char *const enames[] = {"id", "period", "status", "label", NULL};
    static const char *const fnames[] = {"id",           "run",         "fired_at",
                                         "prepared_at",  "confirmed_at", "preparation", NULL};
    const char *status = json_string_value(json_object_get(j, "status"));
    int is_parent = status && (strcmp(status, "recurring") == 0 ||
                               (json_is_null(json_object_get(j, "parent")) &&
                                json_object_get(json_object_get(j, "options"), "recurring")));
    if (is_parent)
        return add_rows(s, j, "executions",
                        "SELECT id, period, status, label FROM delivery WHERE parent_id = ? "
                        "ORDER BY id",
                        id, enames, "isss", err);
    if (json_is_null(json_object_get(j, "parent")))
        return 0;
    return add_rows(s, j, "fires",
                    "SELECT id, run_id, fired_at, prepared_at, confirmed_at, preparation FROM "
                    "delivery_fire WHERE delivery_id = ? ORDER BY id",
                    id, fnames, "iitttj", err);
}
