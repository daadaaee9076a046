/*
 * activity.h - one entry point per activity type; activity.c dispatches on the type
 */
#ifndef CR_WF_ACTIVITY_H
#define CR_WF_ACTIVITY_H

#include "workflow/wf_int.h"

int cr__wf_query(struct cr__wf_exec *x);
int cr__wf_read_list(struct cr__wf_exec *x);
int cr__wf_split(struct cr__wf_exec *x);
int cr__wf_union(struct cr__wf_exec *x);
int cr__wf_intersection(struct cr__wf_exec *x);
int cr__wf_exclusion(struct cr__wf_exec *x);
int cr__wf_dedup(struct cr__wf_exec *x);
int cr__wf_wait(struct cr__wf_exec *x);
int cr__wf_scheduler(struct cr__wf_exec *x);
int cr__wf_test(struct cr__wf_exec *x);
int cr__wf_and_join(struct cr__wf_exec *x);
int cr__wf_list_update(struct cr__wf_exec *x);
int cr__wf_delivery(struct cr__wf_exec *x);

/* When a scheduler first fires at or after `after` (workflow start); CR_ENOTFOUND if never.
 * Used by the engine to arm a scheduler when its run starts. */
int cr__wf_scheduler_first(struct cr_store *s, const struct cr_wf_activity *a, cr_time_t after,
                           cr_time_t *at, struct cr_err *err);

#endif
