/*
 * delivery.h - the delivery lifecycle every channel shares (DESIGN §5)
 *
 *   draft -> preparing -> ready (awaiting confirmation) -> sending -> sent
 *   plus failed, paused, stopped
 *
 * Preparation computes the target and the exclusions, one reason each, into delivery_log
 * (status pending or excluded). Confirmation (or "confirm": false) moves the delivery to
 * sending; the engine (cr_delivery_engine_step, run by `crier engine run` and later `crier
 * serve`) then claims batches of pending recipients, renders, sends and records each
 * outcome. Claims are leases held by a process: after a crash, claims of dead processes are
 * released and sent again, so nobody is skipped and only messages in flight at the crash
 * can be sent twice. Proofs are logged with the delivery, flagged, and never counted.
 */
#ifndef CR_DELIVERY_H
#define CR_DELIVERY_H

#include <jansson.h>

#include "core/buf.h"
#include <stdint.h>

#include "core/clock.h"
#include "core/err.h"
#include "store/store.h"

struct cr_delivery_new {
    const char *label;        /* NULL: the template's name */
    const char *template_name;
    const char *account_name;
    const char *filter;       /* the target, or: */
    int64_t population_id;    /* a workflow population (filter NULL) */
    int64_t workflow_run_id;  /* 0 outside workflows */
    const char *activity_id;
    int64_t campaign_id;      /* 0: none */
    int confirm;              /* ask a person before sending */
    json_t *options;          /* more options (borrowed, may be NULL): outbound, recurring,
                               * strict, validity, capacity, ... */
};

int cr_delivery_create(struct cr_store *s, struct cr_clock *clock,
                       const struct cr_delivery_new *n, int64_t *id,
                       struct cr_err *err) CR_WARN_UNUSED;
/* Prepares (or prepares again) a draft, ready or failed delivery; then ready, or sending
 * when confirmation is off. Its own transaction unless the caller has one open. */
int cr_delivery_prepare(struct cr_store *s, struct cr_clock *clock, int64_t id,
                        struct cr_err *err) CR_WARN_UNUSED;
/* Sends proofs now to to (comma-separated; NULL: the template's proof_to), with a marked
 * subject; *sent receives how many went. */
int cr_delivery_proof(struct cr_store *s, struct cr_clock *clock, int64_t id, const char *to,
                      int *sent, struct cr_err *err) CR_WARN_UNUSED;
int cr_delivery_confirm(struct cr_store *s, struct cr_clock *clock, int64_t id, const char *by,
                        struct cr_err *err) CR_WARN_UNUSED;

enum cr_delivery_control { CR_DELIVERY_PAUSE, CR_DELIVERY_RESUME, CR_DELIVERY_STOP };
int cr_delivery_control(struct cr_store *s, struct cr_clock *clock, int64_t id,
                        enum cr_delivery_control what, struct cr_err *err) CR_WARN_UNUSED;

/* {"id","label","channel","status","template","account","campaign","parent","period",
 *  "options","preparation","error","created_at",...,"kpis":{...}}; a recurring parent adds
 * "executions" [{"id","period","status","label"}], an execution "fires" [{"id","run",
 * "fired_at","prepared_at","confirmed_at","preparation"}]. */
int cr_delivery_show(struct cr_store *s, int64_t id, json_t **out,
                     struct cr_err *err) CR_WARN_UNUSED;
/* [{"id","label","channel","status","parent","period","kpis"}]; all: also finished ones and
 * the executions of recurring deliveries. */
int cr_delivery_list(struct cr_store *s, int all, json_t **out,
                     struct cr_err *err) CR_WARN_UNUSED;
/* [{"id","profile","address","status","reason","failure_type","attempts","error",
 *   "sent_at","message_id","proof","fire","delivery"}], status NULL for all; at most limit
 * rows after offset. A recurring parent's are its executions' ("delivery" says whose, "fire"
 * which fire of the execution prepared the row). */
int cr_delivery_logs(struct cr_store *s, int64_t id, const char *status, int64_t offset,
                     int64_t limit, json_t **out, struct cr_err *err) CR_WARN_UNUSED;
/* The KPIs of DESIGN §5 (names as there). */
/* The mirror page of recipient log_id of email delivery id (HTML, appended to out);
 * CR_ENOTFOUND when there is no such recipient or profile. */
int cr_delivery_mirror(struct cr_store *s, struct cr_clock *clock, int64_t id, int64_t log_id,
                       struct cr_buf *out, struct cr_err *err) CR_WARN_UNUSED;
int cr_delivery_kpis(struct cr_store *s, int64_t id, json_t **out,
                     struct cr_err *err) CR_WARN_UNUSED;

/*
 * Recurring deliveries (recurring.c). A recurring workflow activity has one parent delivery
 * per (run, activity), status "recurring": it holds the template, account and options and is
 * never sent itself; its KPIs are the sum of its executions'. Each fire of the activity adds
 * its population to the execution of its period (a delivery whose parent_id is the parent
 * and whose period is the key), found or created: its recipients are prepared apart (rows
 * of earlier fires untouched), then confirmed as the options say, then sent.
 */
/* The parent of n's activity in run n->workflow_run_id, created (status recurring) the
 * first time. */
int cr_delivery_recurring_parent(struct cr_store *s, struct cr_clock *clock,
                                 const struct cr_delivery_new *n, int64_t *parent,
                                 struct cr_err *err) CR_WARN_UNUSED;

struct cr_delivery_fire {
    int64_t parent;
    const char *period;     /* the period key (period.h) */
    int new_execution;      /* aggregation none: an execution per fire */
    cr_time_t fired_at;
    int64_t run_id;         /* the run of the fire, and the activity */
    const char *activity_id;
    int64_t population_id;  /* the fire's recipients */
};

enum cr_fire_state {
    CR_FIRE_WAITING, /* not sent yet: awaiting its turn, a confirmation or the sending */
    CR_FIRE_DONE,    /* its recipients were sent */
    CR_FIRE_STOPPED, /* the parent or the execution was stopped: nothing goes on */
};

/* Records a fire (*fire) on the execution of its period (*execution), then as
 * cr_delivery_fire_step. */
int cr_delivery_fire_add(struct cr_store *s, struct cr_clock *clock,
                         const struct cr_delivery_fire *f, int64_t *execution, int64_t *fire,
                         enum cr_fire_state *state, struct cr_err *err) CR_WARN_UNUSED;
/* Moves a fire on: prepares it into its execution unless the execution is still sending an
 * earlier fire that was confirmed while this one needs confirming (then it waits for that
 * sending to end), and says where it is. A failed execution is an error (err says why). The
 * activity is woken (cr__delivery_finished) whenever its execution's sending ends. */
int cr_delivery_fire_step(struct cr_store *s, struct cr_clock *clock, int64_t fire,
                          enum cr_fire_state *state, struct cr_err *err) CR_WARN_UNUSED;

/* Sends one batch of a delivery that is sending, if any is due; *did 0 if nothing was. */
int cr_delivery_engine_step(struct cr_store *s, struct cr_clock *clock, int *did,
                            struct cr_err *err) CR_WARN_UNUSED;
/* Waits up to timeout_ms for what an open SMPP session sends on its own (receipts, STOP
 * replies) and applies it. Returns 1 if it waited, 0 if there is nothing to listen to (the
 * caller sleeps instead), or an error. */
int cr_delivery_engine_idle(struct cr_store *s, struct cr_clock *clock, int timeout_ms,
                            struct cr_err *err) CR_WARN_UNUSED;
/* Closes what the engine keeps open between batches (SMTP connections, the SMPP session,
 * after applying the receipts that arrive while it unbinds). */
void cr_delivery_engine_close(void);

#endif
