/*
 * flow.c - activities that steer rather than target: start, end, fork, wait, scheduler,
 * test, and_join; and the dispatch on an activity's type
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workflow/activity/activity.h"
#include "workflow/cron.h"

int cr__wf_wait(struct cr__wf_exec *x)
{
    const char *until = json_string_value(json_object_get(x->state, "until"));
    cr_time_t t;
    int rc;
    if (until) { /* woken up: the time has come */
        cr__wf_pass(x, "default");
        return 0;
    }
    const char *dur = cr_wf_str(x->act, "duration"), *at = cr_wf_str(x->act, "until");
    if (dur) {
        int64_t us;
        if ((rc = cr_duration_parse(dur, strlen(dur), &us, x->err)))
            return rc;
        t = x->now + us;
    } else if ((rc = cr_time_parse(at, strlen(at), &t, x->err))) {
        return rc;
    }
    if (t <= x->now) {
        cr__wf_pass(x, "default");
        return 0;
    }
    char buf[CR_TIME_BUFSZ];
    json_object_set_new(x->state, "until", json_string(cr_time_format_iso(t, buf)));
    x->sleep = 1;
    x->wake_at = t;
    return 0;
}

static int opt_time(const struct cr_wf_activity *a, const char *field, cr_time_t *t,
                    struct cr_err *err)
{
    const char *s = cr_wf_str(a, field);
    *t = 0;
    return s ? cr_time_parse(s, strlen(s), t, err) : 0;
}

/* The first fire strictly after `after`, within start and end; CR_ENOTFOUND if none. */
static int next_fire(const struct cr_wf_activity *a, cr_time_t after, cr_time_t *at,
                     struct cr_err *err)
{
    cr_time_t start, end;
    int rc;
    if ((rc = opt_time(a, "start", &start, err)) || (rc = opt_time(a, "end", &end, err)))
        return rc;
    if (start && after < start - 1)
        after = start - 1;
    const char *cron = cr_wf_str(a, "cron");
    if (cron) {
        struct cr_cron *c = NULL;
        if ((rc = cr_cron_parse(cron, &c, err)))
            return rc;
        rc = cr_cron_next(c, cr_wf_str(a, "timezone"), after, at, err);
        cr_cron_free(c);
        if (rc)
            return rc;
    } else {
        const char *every = cr_wf_str(a, "every");
        int64_t step;
        if ((rc = cr_duration_parse(every, strlen(every), &step, err)))
            return rc;
        if (step <= 0)
            return cr_err_set(err, CR_EINVAL, "every must be longer than 0");
        /* fires fall on start + k * every; without a start, on the epoch's grid would
         * surprise, so the first fire is `after` itself and the grid counts from it */
        cr_time_t base = start ? start : after + 1;
        *at = after < base ? base : base + ((after - base) / step + 1) * step;
    }
    if (end && *at > end)
        return CR_ENOTFOUND;
    return 0;
}

int cr__wf_scheduler_first(struct cr_store *s, const struct cr_wf_activity *a, cr_time_t after,
                           cr_time_t *at, struct cr_err *err)
{
    (void)s;
    return next_fire(a, after - 1, at, err);
}

/*
 * Each fire starts what follows the scheduler as a new run (a child of this one, sharing
 * its variables), then the scheduler sleeps until its next fire. Fires missed while no
 * engine ran are collapsed into one: after a week of downtime a daily job runs once, not
 * seven times (what cron does, and what a marketer expects of "send every day").
 */
int cr__wf_scheduler(struct cr__wf_exec *x)
{
    char planned[CR_TIME_BUFSZ], cause[160];
    int64_t child, fires = json_integer_value(json_object_get(x->state, "fires"));
    cr_time_t next;
    int rc;
    json_t *every = json_object_get(x->act->json, "every");
    cr_time_t base = x->wake_at ? x->wake_at : x->now;
    cr_time_format_iso(base, planned);
    snprintf(cause, sizeof cause, "scheduler '%s' fired at %s", x->act->id, planned);
    if ((rc = cr__wf_child_run(x, cause, base, &child)) ||
        (rc = cr__wf_route(x, child, "default", 0, 0)))
        return rc;
    json_object_set_new(x->state, "fires", json_integer(fires + 1));
    json_object_set_new(x->state, "last_fire", json_string(planned));
    json_object_set_new(x->state, "last_run", json_integer(child));
    if (every) {
        /* fires stay on the grid of the first planned one, however late the engine runs */
        const char *g = json_string_value(json_object_get(x->state, "grid"));
        cr_time_t grid = base, end;
        int64_t step;
        if (!g)
            json_object_set_new(x->state, "grid", json_string(planned));
        else if ((rc = cr_time_parse(g, strlen(g), &grid, x->err)))
            return rc;
        if ((rc = cr_duration_parse(json_string_value(every), json_string_length(every), &step,
                                    x->err)) ||
            (rc = opt_time(x->act, "end", &end, x->err)))
            return rc;
        next = grid + ((x->now - grid) / step + 1) * step;
        rc = end && next > end ? CR_ENOTFOUND : 0;
    } else {
        rc = next_fire(x->act, x->now, &next, x->err);
    }
    if (rc == CR_ENOTFOUND)
        return 0; /* no more fires: the scheduler is done */
    if (rc)
        return rc;
    x->sleep = 1;
    x->wake_at = next;
    return 0;
}

int cr__wf_test(struct cr__wf_exec *x)
{
    json_t *defaults = json_object_get(x->def->root, "variables");
    int r = cr__wf_test_eval(x->s, x->clock, cr_wf_str(x->act, "condition"), x->count_in,
                             defaults, x->vars, x->err);
    if (r < 0)
        return r;
    cr__wf_pass(x, r ? "true" : "false");
    return 0;
}

/* The population that goes on is the kept input's, else the first incoming transition's. */
int cr__wf_and_join(struct cr__wf_exec *x)
{
    const char *keep = cr_wf_str(x->act, "keep");
    size_t k, i;
    for (k = 0; k < x->act->nin; k++) {
        size_t t = x->act->in[k];
        if (keep && strcmp(x->def->acts[x->def->trans[t].from].id, keep) != 0)
            continue;
        for (i = 0; i < x->nin; i++)
            if (x->in[i].trans == t) {
                cr__wf_output(x, "default", x->in[i].pop, x->in[i].count);
                return 0;
            }
    }
    cr__wf_pass(x, "default");
    return 0;
}

int cr__wf_activity_run(struct cr__wf_exec *x)
{
    switch (x->act->type) {
    case CR_WF_START: cr__wf_output(x, "default", 0, 0); return 0;
    case CR_WF_END: return 0;
    case CR_WF_FORK: cr__wf_pass(x, "default"); return 0;
    case CR_WF_QUERY: return cr__wf_query(x);
    case CR_WF_READ_LIST: return cr__wf_read_list(x);
    case CR_WF_SPLIT: return cr__wf_split(x);
    case CR_WF_UNION: return cr__wf_union(x);
    case CR_WF_INTERSECTION: return cr__wf_intersection(x);
    case CR_WF_EXCLUSION: return cr__wf_exclusion(x);
    case CR_WF_DEDUP: return cr__wf_dedup(x);
    case CR_WF_WAIT: return cr__wf_wait(x);
    case CR_WF_SCHEDULER: return cr__wf_scheduler(x);
    case CR_WF_AND_JOIN: return cr__wf_and_join(x);
    case CR_WF_TEST: return cr__wf_test(x);
    case CR_WF_LIST_UPDATE: return cr__wf_list_update(x);
    case CR_WF_EMAIL:
    case CR_WF_SMS:
    case CR_WF_PUSH:
    case CR_WF_EXTERNAL: return cr__wf_delivery(x);
    default: return cr_err_set(x->err, CR_EUNSUPPORTED, "activity type %d", (int)x->act->type);
    }
}
