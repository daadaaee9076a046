/*
 * engine.h - starting workflows and running their activities, persistently
 *
 * A run (workflow_run) executes one version of a workflow's definition (kept with the run).
 * Each execution of an activity is an activity_run row: pending (due at wake_at), waiting
 * (a timer: wait, scheduler), collecting (a join waiting for its other inputs), done,
 * failed, skipped (a join whose other inputs can no longer come), stopped.
 *
 * One step executes one due activity_run in one transaction: the populations it writes, its
 * own row, the activity_runs it creates downstream and the run's end all commit together.
 * A process killed at any point therefore leaves either the step's whole effect or none, and
 * the next engine does the step again: nothing lost, nothing twice. On PostgreSQL the row is
 * claimed FOR UPDATE SKIP LOCKED, so several engines share the work.
 *
 * Run statuses: running, paused, stopped, finished, failed. An activity that fails leaves
 * its error on its row and pauses the run; resuming retries it. A workflow's own status is
 * draft (never started), started (a run is running), or that of its latest run.
 */
#ifndef CR_WF_ENGINE_H
#define CR_WF_ENGINE_H

#include <jansson.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/err.h"
#include "store/store.h"
#include "workflow/def.h"

/* Stores d (by name: a changed definition becomes a new version) and starts a run of it.
 * d must have passed cr_wf_def_check_store(). vars (may be NULL) override the definition's
 * variables for this run. Problems (a scheduler that never fires, a bad variable) go to
 * probs with CR_EINVAL. */
int cr_wf_start(struct cr_store *s, struct cr_clock *clock, const struct cr_wf_def *d,
                json_t *vars, int64_t *run_id, struct cr_wf_problems *probs,
                struct cr_err *err) CR_WARN_UNUSED;
/* Stores d without starting it (status draft if new). */
int cr_wf_save(struct cr_store *s, struct cr_clock *clock, const struct cr_wf_def *d,
               int64_t *workflow_id, struct cr_err *err) CR_WARN_UNUSED;
/* Loads the stored definition of workflow name. CR_ENOTFOUND if there is none. */
int cr_wf_load_stored(struct cr_store *s, const char *name, struct cr_wf_def **out,
                      struct cr_wf_problems *probs, struct cr_err *err) CR_WARN_UNUSED;

/* Executes one due activity (wake_at <= now), if any: *did is 1 if one ran (or failed and
 * paused its run), 0 if nothing was due. Fails only when the store does. */
int cr_wf_engine_step(struct cr_store *s, struct cr_clock *clock, int *did,
                      struct cr_err *err) CR_WARN_UNUSED;
/* The earliest wake_at of a pending or waiting activity of a running run; *any is 0 if
 * there is none. */
int cr_wf_engine_next(struct cr_store *s, cr_time_t *at, int *any,
                      struct cr_err *err) CR_WARN_UNUSED;

enum cr_wf_control { CR_WF_PAUSE, CR_WF_RESUME, CR_WF_STOP };
/* Applies to the run and the runs its schedulers started. CR_ENOTFOUND for an unknown run,
 * CR_ESTATE when the run's status does not allow it. */
int cr_wf_control(struct cr_store *s, struct cr_clock *clock, int64_t run,
                  enum cr_wf_control what, struct cr_err *err) CR_WARN_UNUSED;

/* {"run","workflow","status","activities":[{"id","type","status","count_in","count_out",
 * "outputs":{name:N}}], ...} (docs/cli.md lists every field). */
int cr_wf_status(struct cr_store *s, int64_t run, json_t **out,
                 struct cr_err *err) CR_WARN_UNUSED;
/* [{"id","name","label","status","version","campaign","last_run","runs"}] */
int cr_wf_list(struct cr_store *s, json_t **out, struct cr_err *err) CR_WARN_UNUSED;

#endif
