/*
 * wf_int.h - what the engine and the activities share inside src/workflow
 *
 * An activity runs inside the engine's transaction: it reads its inputs (populations that
 * arrived on its incoming transitions), writes new populations, and either lists its
 * outputs or asks to sleep until a time. Everything it writes commits or rolls back with
 * the engine's bookkeeping, which is what makes a killed engine resume without losing or
 * duplicating a population.
 */
#ifndef CR_WF_INT_H
#define CR_WF_INT_H

#include <jansson.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/err.h"
#include "store/store.h"
#include "workflow/def.h"

struct cr__wf_in {
    size_t trans;     /* transition index in the definition */
    int64_t pop;      /* population id; 0 when the transition carries none */
    int64_t count;
    enum cr_wf_flow flow;
};

struct cr__wf_out {
    const char *name; /* an output of the activity (borrowed: definition or literal) */
    int64_t pop;
    int64_t count;
};

struct cr__wf_exec {
    struct cr_store *s;
    struct cr_clock *clock;
    cr_time_t now;
    const struct cr_wf_def *def;
    const struct cr_wf_activity *act;
    size_t act_index;
    int64_t run_id, arun_id, workflow_id, campaign_id; /* campaign 0: none */
    json_t *vars;  /* the run's variables (borrowed) */
    json_t *state; /* the activity's state, owned; activities may replace it */
    struct cr__wf_in *in;
    size_t nin;
    int64_t count_in;
    struct cr__wf_out *out;
    size_t nout;
    int sleep;         /* set by the activity: not done, wake up at wake_at */
    cr_time_t wake_at;
    struct cr_err *err;
};

/* The one function per activity type (activity.c dispatches). */
int cr__wf_activity_run(struct cr__wf_exec *x);

/* Outputs and populations (population.c). */
void cr__wf_output(struct cr__wf_exec *x, const char *name, int64_t pop, int64_t count);
/* Passes the single input on as output name. */
void cr__wf_pass(struct cr__wf_exec *x, const char *name);
int cr__wf_pop_new(struct cr__wf_exec *x, const char *output, enum cr_wf_flow flow,
                   int64_t *pop);
/* Counts pop's members and records the count. */
int cr__wf_pop_count(struct cr__wf_exec *x, int64_t pop, int64_t *count);
/* Runs sql (an INSERT INTO population_member ... whose first parameter is the new
 * population's id) with the types/values of cr_store_run after it, into a new population
 * named output, and adds it as that output. */
int cr__wf_pop_fill(struct cr__wf_exec *x, const char *output, enum cr_wf_flow flow,
                    int64_t *pop, int64_t *count, const char *sql, const char *types, ...);

/* The FROM clause that reads a population's members with their profile (alias p) and, for
 * subscriptions, subscription (alias s), for a filter of that flow; m is the member. */
const char *cr__wf_members_from(enum cr_wf_flow flow);
/* "col [asc|desc], ..." to SQL over alias p (profile flow) or s (subscriptions), columns
 * checked against the catalogue. */
int cr__wf_order_sql(struct cr_store *s, const char *order, enum cr_wf_flow flow, char **sql,
                     struct cr_err *err);

/* A filter of the activity compiled for its flow, with behaviour predicates naming earlier
 * delivery activities resolved to this run's deliveries. */
struct cr_query;
int cr__wf_compile_filter(struct cr__wf_exec *x, const char *src, enum cr_wf_flow flow,
                          struct cr_query *q);

/* Test conditions: evaluates src over `count` and the variables (defaults of the definition,
 * overridden by the run's), 1 true, 0 false, or a negative CR_E* with err set. */
int cr__wf_test_eval(struct cr_store *s, struct cr_clock *clock, const char *src, int64_t count,
                     json_t *defaults, json_t *run_vars, struct cr_err *err);
int cr__wf_var_name_ok(const char *name);

/* Engine services the scheduler needs (engine.c): a new run of the same workflow started by
 * a fire of the current activity planned for fired_at, and sending output `name` of the
 * current activity into a run. */
int cr__wf_child_run(struct cr__wf_exec *x, const char *cause, cr_time_t fired_at,
                     int64_t *run_id);
int cr__wf_route(struct cr__wf_exec *x, int64_t run_id, const char *output, int64_t pop,
                 int64_t count);

int cr__wf_ancestor(const struct cr_wf_def *d, size_t a, size_t b);
/* A workflow's status from its runs': started while one runs, else paused, else its latest
 * run's. */
int cr__wf_sync_status(struct cr_store *s, int64_t wid, cr_time_t now, struct cr_err *err);

#endif
