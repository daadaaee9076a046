/*
 * wf_test.h - what the workflow engine's test files share: a fresh database per test on the
 * backend of the test's prestate, a fixed clock, deterministic profiles, templates and
 * accounts (email through a pickup folder of the test's own), starting a workflow and running
 * the workflow and delivery engines until nothing is due, and reading back populations,
 * statuses, sent messages and validation problems
 *
 * Workflow texts in the tests are JSON written with two substitutions so that they read in C:
 * ' stands for " (JSON's quote) and ` for ' (the filter language's quote):
 *
 *     "{'id': 'gold', 'type': 'query', 'filter': 'tier = `gold`'}"
 *
 * Expected populations are computed in C from the same generator that inserted the profiles
 * (wf_where), never by the engine's SQL, and compared as text: ids in increasing order
 * separated by spaces ("3 6 9").
 */
#ifndef WF_TEST_H
#define WF_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/clock.h"
#include "store/store.h"
#include "workflow/def.h"
#include "workflow/engine.h"

/* Every test starts at this instant (a Monday; 09:00 in Paris). */
#define WF_T0 "2026-03-02T08:00:00Z"
#define WF_SEC CR_USEC_PER_SEC
#define WF_HOUR (INT64_C(3600) * CR_USEC_PER_SEC)
#define WF_DAY (INT64_C(24) * WF_HOUR)

/* The profiles most tests create: ids 1..WF_N. */
#define WF_N 30

struct wf {
    struct cr_store *s;
    struct cr_clock clk; /* fixed at WF_T0; move clk.fixed to pass time */
    enum cr_dialect d;
    char pickup[64]; /* the email account's folder ("" until wf_delivery_setup) */
};

/* Both backends for one test function (the prestate is the dialect), named apart. */
#define WF_BOTH(fn)                                                                                \
    {#fn " (sqlite)", fn, NULL, NULL, (void *)(intptr_t)CR_DIALECT_SQLITE},                        \
        {#fn " (postgres)", fn, NULL, NULL, (void *)(intptr_t)CR_DIALECT_POSTGRES}

void wf_open(struct wf *w, void **state);
/* Closes the database and removes the pickup folder with what it holds. */
void wf_close(struct wf *w);
cr_time_t wf_ts(const char *iso);

/* ---------------------------------------------------------------- data */

/* Profile i (1-based), as wf_profiles() inserts it:
 *   tier        gold if i % 3 == 0, silver if i % 3 == 1, bronze otherwise
 *   country     FR, BE, DE, US for i % 4 = 0, 1, 2, 3
 *   email       user<i>@example.com, none when i % 5 == 0
 *   phone       +336120000<i>, only when i is even
 *   birth_date  year 1950 + (i * 7) % 50, month 1 + i % 12, day 1 + i % 28 (all distinct) */
const char *wf_tier(int i);
const char *wf_country(int i);
int wf_has_email(int i);
int wf_has_phone(int i);
int wf_birth(int i); /* yyyymmdd, for ordering */
/* Inserts profiles 1..n and checks they got ids 1..n. */
void wf_profiles(struct wf *w, int n);
/* A template (content is JSON text) and an account. */
void wf_template(struct wf *w, const char *name, const char *channel, const char *content);
void wf_account(struct wf *w, const char *name, const char *kind, const char *channel);
/* Email template 'offer' (from, subject and html, added with cr_dtemplate_add) + account
 * 'mail' (kind pickup: its messages are .eml files in w->pickup, a folder made here and
 * removed by wf_close), SMS template 'offer-sms' + account 'sms'. */
void wf_delivery_setup(struct wf *w);
/* A list with the given profiles (ids, ended by 0). */
void wf_list(struct wf *w, const char *name, const int *ids);

/* ---------------------------------------------------------------- SQL */

/* Runs a statement (printf-formatted; only the tests' own numbers and names go in). */
void wf_exec(struct wf *w, const char *fmt, ...) CR_PRINTF(2, 3);
/* Column 0 of the first row as an integer (NULL or no row: -1). */
int64_t wf_int(struct wf *w, const char *fmt, ...) CR_PRINTF(2, 3);
/* Column 0 of the first row as text ("(none)" without a row, "(null)" for NULL). */
struct wf_text {
    char s[2048];
};
struct wf_text wf_str(struct wf *w, const char *fmt, ...) CR_PRINTF(2, 3);
/* Column 0 of every row (integers), space-separated, in the statement's order. */
struct wf_text wf_ids_sql(struct wf *w, const char *fmt, ...) CR_PRINTF(2, 3);

/* ---------------------------------------------------------------- expectations */

typedef int (*wf_pred)(int i);
/* The ids 1..n for which pred holds. */
struct wf_text wf_where(int n, wf_pred pred);
/* The ids of a list, space-separated. */
struct wf_text wf_ids(const int *ids, int n);
/* Members of a list by name ("(no list)" when there is none). */
struct wf_text wf_list_members(struct wf *w, const char *list);

/* ---------------------------------------------------------------- workflows */

/* The JSON of a test text (see the top of this file). */
json_t *wf_json(const char *text);
/* Loads and checks a definition; fails the test with every problem if there is one. */
struct cr_wf_def *wf_def(struct wf *w, const char *text);
/* Loads, checks and starts; returns the run. vars is a test text or NULL. */
int64_t wf_start(struct wf *w, const char *text);
int64_t wf_start_vars(struct wf *w, const char *text, const char *vars);
/* Steps the workflow engine and the delivery engine (which sends) in turn until neither has
 * anything to do, then closes what the delivery engine keeps open; returns how many workflow
 * steps ran (sending batches are not counted). */
int wf_run(struct wf *w);
/* One workflow step: 1 if something ran. */
int wf_step(struct wf *w);
/* One delivery engine step (a batch sent, or a delivery ended): 1 if something happened. */
int wf_send_step(struct wf *w);

/* workflow_run.status, and the status of the latest execution of an activity ("none"). */
struct wf_text wf_run_status(struct wf *w, int64_t run);
struct wf_text wf_act_status(struct wf *w, int64_t run, const char *act);
/* The members of output `output` of the latest done execution of `act` in `run`, read from
 * its recorded outputs (population and count; the count must match the members). Fails if
 * there is no such output. */
struct wf_text wf_out(struct wf *w, int64_t run, const char *act, const char *output);
/* Its count only (checked against the members like wf_out). */
int64_t wf_out_count(struct wf *w, int64_t run, const char *act, const char *output);
/* The names of the outputs the latest done execution recorded, sorted, space-separated. */
struct wf_text wf_out_names(struct wf *w, int64_t run, const char *act);

/* ---------------------------------------------------------------- deliveries */

/* The id of the delivery activity `act` of `run` created (-1: none). */
int64_t wf_delivery(struct wf *w, int64_t run, const char *act);
/* How many messages of that delivery are in the pickup folder (<delivery>-<log>.eml); fails
 * if a half-written one (.tmp) is left. */
int wf_pickup_count(struct wf *w, int64_t delivery);
/* The text of the message of one delivery_log row (NULL if there is none; free it). */
char *wf_pickup_message(struct wf *w, int64_t delivery, int64_t log_id);

/* ---------------------------------------------------------------- problems */

/* Reads and (if it loads) store-checks a definition; returns its problems. */
void wf_check(struct wf *w, const char *text, struct cr_wf_problems *p);
/* Fails unless exactly one problem has that activity (NULL: none), field and a message
 * containing `part`. */
void wf_expect_problem(const struct cr_wf_problems *p, const char *act, const char *field,
                       const char *part);
/* Prints the problems (for failure messages). */
struct wf_text wf_problems_text(const struct cr_wf_problems *p);

#endif
