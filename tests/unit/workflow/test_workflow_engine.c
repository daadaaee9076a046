/*
 * test_workflow_engine.c - what the engine does around the activities: a join whose other
 * branch never comes is skipped and the run finishes; a failing activity pauses its run and
 * RESUME retries it; PAUSE and STOP (on a run and the runs its scheduler started); the JSON
 * of cr_wf_status and cr_wf_list; behaviour predicates of a split resolved to the delivery
 * of the run (sent to a pickup folder, then tracked); on both backends
 */
#include "wf_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int gold(int i) { return strcmp(wf_tier(i), "gold") == 0; }
static int fr(int i) { return strcmp(wf_country(i), "FR") == 0; }
static int list_ids(int i) { return i == 1 || i == 5 || i == 9; }

static int control(struct wf *w, int64_t run, enum cr_wf_control what)
{
    struct cr_err err = CR_ERR_INIT;
    return cr_wf_control(w->s, &w->clk, run, what, &err);
}

static json_t *status(struct wf *w, int64_t run)
{
    struct cr_err err = CR_ERR_INIT;
    json_t *j = NULL;
    if (cr_wf_status(w->s, run, &j, &err))
        fail_msg("status of run %lld: %s", (long long)run, err.msg);
    return j;
}

/* The entry of an activity in a status. */
static json_t *act_entry(json_t *st, const char *id)
{
    json_t *a;
    size_t i;
    json_array_foreach(json_object_get(st, "activities"), i, a) {
        if (strcmp(json_string_value(json_object_get(a, "id")), id) == 0)
            return a;
    }
    fail_msg("no activity '%s' in the status", id);
    return NULL;
}

/* ---------------------------------------------------------------- joins that cannot complete */

static void test_join_never_completes(void **state)
{
    struct wf w;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    cr_time_t t0 = w.clk.fixed;
    int64_t run = wf_start(
        &w, "{'name': 'skip', 'activities': [{'id': 'start', 'type': 'start'},"
            " {'id': 'q', 'type': 'query', 'filter': 'tier = `gold`'},"
            " {'id': 'f', 'type': 'fork'},"
            " {'id': 'w1', 'type': 'wait', 'duration': '1h'},"
            " {'id': 'w2', 'type': 'wait', 'duration': '2h'},"
            " {'id': 't', 'type': 'test', 'condition': 'count > 100'},"
            " {'id': 'j', 'type': 'and_join'},"
            " {'id': 'lu', 'type': 'list_update', 'list': 'joined'}],"
            " 'transitions': [{'from': 'start', 'to': 'q'}, {'from': 'q', 'to': 'f'},"
            " {'from': 'f', 'to': 'w1'}, {'from': 'f', 'to': 'w2'}, {'from': 'w1', 'to': 'j'},"
            " {'from': 'w2', 'to': 't'}, {'from': 't.true', 'to': 'j'},"
            " {'from': 'j', 'to': 'lu'}]}");
    wf_run(&w);
    /* one input arrived, the other branch is still waiting: the join waits too */
    w.clk.fixed = t0 + WF_HOUR;
    wf_run(&w);
    assert_string_equal(wf_act_status(&w, run, "j").s, "collecting");
    assert_string_equal(wf_run_status(&w, run).s, "running");
    /* the test sends nothing to the join: it is skipped, the run is over */
    w.clk.fixed = t0 + 2 * WF_HOUR;
    wf_run(&w);
    assert_string_equal(wf_out_names(&w, run, "t").s, "false");
    assert_string_equal(wf_act_status(&w, run, "j").s, "skipped");
    assert_string_equal(wf_act_status(&w, run, "lu").s, "none");
    assert_string_equal(wf_run_status(&w, run).s, "finished");
    assert_string_equal(wf_list_members(&w, "joined").s, "(no list)");
    json_t *st = status(&w, run);
    assert_string_equal(json_string_value(json_object_get(act_entry(st, "j"), "status")),
                        "skipped");
    assert_string_equal(json_string_value(json_object_get(act_entry(st, "lu"), "status")), "idle");
    json_decref(st);
    wf_close(&w);
}

/* ---------------------------------------------------------------- failure, resume */

static void test_failure_pauses_resume_retries(void **state)
{
    struct wf w;
    struct cr_wf_problems p = {0};
    struct cr_err err = CR_ERR_INIT;
    int64_t run = 0;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    wf_list(&w, "vip", (const int[]){0});
    struct cr_wf_def *d = wf_def(&w, "{'name': 'fragile', 'activities': ["
                                     " {'id': 'start', 'type': 'start'},"
                                     " {'id': 'rl', 'type': 'read_list', 'list': 'vip'},"
                                     " {'id': 'lu', 'type': 'list_update', 'list': 'copy'}],"
                                     " 'transitions': [{'from': 'start', 'to': 'rl'},"
                                     " {'from': 'rl', 'to': 'lu'}]}");
    /* the list goes away between validation and execution */
    wf_exec(&w, "DELETE FROM list WHERE name = 'vip'");
    assert_int_equal(cr_wf_start(w.s, &w.clk, d, NULL, &run, &p, &err), 0);
    cr_wf_def_free(d);

    assert_int_equal(wf_run(&w), 2); /* start, then rl fails */
    assert_string_equal(wf_act_status(&w, run, "rl").s, "failed");
    assert_string_equal(wf_str(&w, "SELECT error FROM activity_run WHERE activity_id = 'rl'").s,
                        "no list named 'vip'");
    assert_int_equal(wf_int(&w, "SELECT attempts FROM activity_run WHERE activity_id = 'rl'"), 1);
    assert_string_equal(wf_run_status(&w, run).s, "paused");
    assert_string_equal(wf_str(&w, "SELECT error FROM workflow_run WHERE id = %lld",
                               (long long)run).s,
                        "activity 'rl': no list named 'vip'");
    assert_string_equal(wf_str(&w, "SELECT status FROM workflow WHERE name = 'fragile'").s,
                        "paused");
    /* nothing of the failed step stayed: no population, nothing downstream */
    assert_int_equal(wf_int(&w, "SELECT count(*) FROM population WHERE from_activity = 'rl'"), 0);
    assert_string_equal(wf_act_status(&w, run, "lu").s, "none");
    json_t *st = status(&w, run);
    assert_string_equal(json_string_value(json_object_get(st, "status")), "paused");
    assert_string_equal(json_string_value(json_object_get(act_entry(st, "rl"), "status")),
                        "failed");
    assert_string_equal(json_string_value(json_object_get(act_entry(st, "rl"), "error")),
                        "no list named 'vip'");
    json_decref(st);
    assert_int_equal(wf_run(&w), 0); /* a paused run does not move */

    /* resuming without fixing fails again */
    assert_int_equal(control(&w, run, CR_WF_RESUME), 0);
    assert_int_equal(wf_run(&w), 1);
    assert_string_equal(wf_run_status(&w, run).s, "paused");
    assert_int_equal(wf_int(&w, "SELECT attempts FROM activity_run WHERE activity_id = 'rl'"), 2);

    /* fixed: the same execution is retried and the run finishes */
    wf_list(&w, "vip", (const int[]){1, 5, 9, 0});
    assert_int_equal(control(&w, run, CR_WF_RESUME), 0);
    assert_string_equal(wf_run_status(&w, run).s, "running");
    assert_int_equal(wf_run(&w), 2);
    assert_string_equal(wf_run_status(&w, run).s, "finished");
    assert_int_equal(wf_int(&w, "SELECT count(*) FROM activity_run WHERE activity_id = 'rl'"), 1);
    assert_string_equal(wf_str(&w, "SELECT error FROM activity_run WHERE activity_id = 'rl'").s,
                        "(null)");
    assert_string_equal(wf_str(&w, "SELECT error FROM workflow_run WHERE id = %lld",
                               (long long)run).s,
                        "(null)");
    assert_string_equal(wf_out(&w, run, "rl", "default").s, wf_where(WF_N, list_ids).s);
    assert_string_equal(wf_list_members(&w, "copy").s, "1 5 9");
    assert_string_equal(wf_str(&w, "SELECT status FROM workflow WHERE name = 'fragile'").s,
                        "finished");
    /* a finished run can no longer be resumed, paused or stopped */
    assert_int_equal(control(&w, run, CR_WF_RESUME), CR_ESTATE);
    assert_int_equal(control(&w, run, CR_WF_PAUSE), CR_ESTATE);
    assert_int_equal(control(&w, run, CR_WF_STOP), CR_ESTATE);
    assert_int_equal(control(&w, run + 1000, CR_WF_PAUSE), CR_ENOTFOUND);
    wf_close(&w);
}

/* ---------------------------------------------------------------- pause, stop */

static const char two_waits[] =
    "{'name': 'waits', 'activities': [{'id': 'start', 'type': 'start'},"
    " {'id': 'q', 'type': 'query', 'filter': 'tier = `gold`'},"
    " {'id': 'f', 'type': 'fork'},"
    " {'id': 'w1', 'type': 'wait', 'duration': '1h'},"
    " {'id': 'w2', 'type': 'wait', 'duration': '2h'},"
    " {'id': 'j', 'type': 'union'},"
    " {'id': 'lu', 'type': 'list_update', 'list': 'done'}],"
    " 'transitions': [{'from': 'start', 'to': 'q'}, {'from': 'q', 'to': 'f'},"
    " {'from': 'f', 'to': 'w1'}, {'from': 'f', 'to': 'w2'}, {'from': 'w1', 'to': 'j'},"
    " {'from': 'w2', 'to': 'j'}, {'from': 'j', 'to': 'lu'}]}";

static void test_pause_resume(void **state)
{
    struct wf w;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    cr_time_t t0 = w.clk.fixed;
    int64_t run = wf_start(&w, two_waits);
    assert_int_equal(control(&w, run, CR_WF_PAUSE), 0);
    assert_int_equal(control(&w, run, CR_WF_PAUSE), CR_ESTATE);
    assert_string_equal(wf_str(&w, "SELECT status FROM workflow WHERE name = 'waits'").s, "paused");
    assert_int_equal(wf_run(&w), 0);
    assert_string_equal(wf_act_status(&w, run, "start").s, "pending");

    assert_int_equal(control(&w, run, CR_WF_RESUME), 0);
    assert_int_equal(control(&w, run, CR_WF_RESUME), CR_ESTATE);
    assert_int_equal(wf_run(&w), 5); /* start, q, f, w1, w2 */
    assert_int_equal(control(&w, run, CR_WF_PAUSE), 0);
    /* time passes while paused: nothing moves, and nothing is lost */
    w.clk.fixed = t0 + 3 * WF_HOUR;
    assert_int_equal(wf_run(&w), 0);
    assert_string_equal(wf_act_status(&w, run, "w1").s, "waiting");
    assert_int_equal(control(&w, run, CR_WF_RESUME), 0);
    assert_int_equal(wf_run(&w), 4); /* w1, w2, j, lu */
    assert_string_equal(wf_run_status(&w, run).s, "finished");
    assert_string_equal(wf_list_members(&w, "done").s, wf_where(WF_N, gold).s);
    wf_close(&w);
}

static void test_stop(void **state)
{
    struct wf w;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    cr_time_t t0 = w.clk.fixed;

    /* stopped before anything ran: the pending start is stopped */
    int64_t run = wf_start(&w, two_waits);
    assert_int_equal(control(&w, run, CR_WF_STOP), 0);
    assert_string_equal(wf_act_status(&w, run, "start").s, "stopped");
    assert_string_equal(wf_run_status(&w, run).s, "stopped");
    assert_int_equal(wf_run(&w), 0);

    /* stopped with a join collecting and a wait waiting */
    run = wf_start(&w, two_waits);
    wf_run(&w);
    w.clk.fixed = t0 + WF_HOUR;
    wf_run(&w);
    assert_string_equal(wf_act_status(&w, run, "j").s, "collecting");
    assert_string_equal(wf_act_status(&w, run, "w2").s, "waiting");
    assert_int_equal(control(&w, run, CR_WF_STOP), 0);
    assert_string_equal(wf_act_status(&w, run, "j").s, "stopped");
    assert_string_equal(wf_act_status(&w, run, "w2").s, "stopped");
    assert_string_equal(wf_act_status(&w, run, "w1").s, "done");
    assert_string_equal(wf_run_status(&w, run).s, "stopped");
    assert_string_equal(wf_str(&w, "SELECT ended_at FROM workflow_run WHERE id = %lld",
                               (long long)run).s,
                        "2026-03-02 09:00:00");
    assert_string_equal(wf_str(&w, "SELECT status FROM workflow WHERE name = 'waits'").s,
                        "stopped");
    w.clk.fixed = t0 + 10 * WF_DAY;
    assert_int_equal(wf_run(&w), 0);
    assert_string_equal(wf_list_members(&w, "done").s, "(no list)");
    assert_int_equal(control(&w, run, CR_WF_STOP), CR_ESTATE);
    assert_int_equal(control(&w, run, CR_WF_RESUME), CR_ESTATE);
    wf_close(&w);
}

/* PAUSE and STOP of a scheduled run apply to the runs its fires started. */
static void test_control_scheduled_runs(void **state)
{
    struct wf w;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    cr_time_t t0 = w.clk.fixed;
    int64_t run = wf_start(
        &w, "{'name': 'sched', 'activities': ["
            " {'id': 'sc', 'type': 'scheduler', 'every': '1d'},"
            " {'id': 'q', 'type': 'query', 'filter': 'tier = `gold`'},"
            " {'id': 'w', 'type': 'wait', 'duration': '12h'}],"
            " 'transitions': [{'from': 'sc', 'to': 'q'}, {'from': 'q', 'to': 'w'}]}");
    wf_run(&w);
    int64_t child = wf_int(&w, "SELECT id FROM workflow_run WHERE parent_run_id = %lld",
                           (long long)run);
    assert_true(child > run);
    assert_string_equal(wf_act_status(&w, child, "w").s, "waiting");
    assert_int_equal(control(&w, run, CR_WF_PAUSE), 0);
    assert_string_equal(wf_run_status(&w, child).s, "paused");
    w.clk.fixed = t0 + WF_DAY;
    assert_int_equal(wf_run(&w), 0);
    assert_int_equal(control(&w, run, CR_WF_RESUME), 0);
    assert_string_equal(wf_run_status(&w, child).s, "running");
    assert_int_equal(wf_run(&w), 4); /* the child's w; sc fires again: the new child's q, w */
    assert_string_equal(wf_run_status(&w, child).s, "finished");
    assert_int_equal(wf_int(&w, "SELECT count(*) FROM workflow_run WHERE parent_run_id = %lld",
                            (long long)run),
                     2);
    assert_int_equal(control(&w, run, CR_WF_STOP), 0);
    assert_string_equal(wf_run_status(&w, run).s, "stopped");
    assert_int_equal(wf_int(&w, "SELECT count(*) FROM workflow_run WHERE parent_run_id = %lld "
                                "AND status = 'stopped'", (long long)run),
                     1); /* the running one; the finished one stays finished */
    assert_int_equal(wf_int(&w, "SELECT count(*) FROM activity_run WHERE status IN ('pending', "
                                "'waiting', 'collecting')"),
                     0);
    w.clk.fixed = t0 + 5 * WF_DAY;
    assert_int_equal(wf_run(&w), 0);
    wf_close(&w);
}

/* ---------------------------------------------------------------- versions */

/* A changed definition is a new version; a run keeps executing the version it started. */
static void test_definition_versions(void **state)
{
    struct wf w;
    struct cr_wf_problems p = {0};
    struct cr_err err = CR_ERR_INIT;
    static const char text[] =
        "{'name': 'versions', 'activities': [{'id': 'start', 'type': 'start'},"
        " {'id': 'w', 'type': 'wait', 'duration': '1d'},"
        " {'id': 'q', 'type': 'query', 'filter': '%s'},"
        " {'id': 'lu', 'type': 'list_update', 'list': '%s'}],"
        " 'transitions': [{'from': 'start', 'to': 'w'}, {'from': 'w', 'to': 'q'},"
        " {'from': 'q', 'to': 'lu'}]}";
    char v1[1024], v2[1024];
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    snprintf(v1, sizeof v1, text, "tier = `gold`", "list-v1");
    snprintf(v2, sizeof v2, text, "country = `FR`", "list-v2");
    int64_t run1 = wf_start(&w, v1);
    wf_run(&w);
    int64_t again = wf_start(&w, v1); /* the same text: the same version */
    assert_int_equal(wf_int(&w, "SELECT version FROM workflow WHERE name = 'versions'"), 1);
    int64_t run2 = wf_start(&w, v2);
    wf_run(&w);
    assert_int_equal(wf_int(&w, "SELECT version FROM workflow WHERE name = 'versions'"), 2);
    assert_int_equal(wf_int(&w, "SELECT version FROM workflow_run WHERE id = %lld",
                            (long long)run1), 1);
    assert_int_equal(wf_int(&w, "SELECT version FROM workflow_run WHERE id = %lld",
                            (long long)again), 1);
    assert_int_equal(wf_int(&w, "SELECT version FROM workflow_run WHERE id = %lld",
                            (long long)run2), 2);
    w.clk.fixed += WF_DAY;
    wf_run(&w);
    assert_string_equal(wf_run_status(&w, run1).s, "finished");
    assert_string_equal(wf_run_status(&w, run2).s, "finished");
    assert_string_equal(wf_out(&w, run1, "q", "default").s, wf_where(WF_N, gold).s);
    assert_string_equal(wf_out(&w, run2, "q", "default").s, wf_where(WF_N, fr).s);
    assert_string_equal(wf_list_members(&w, "list-v1").s, wf_where(WF_N, gold).s);
    assert_string_equal(wf_list_members(&w, "list-v2").s, wf_where(WF_N, fr).s);
    /* the stored definition is the latest */
    struct cr_wf_def *d = NULL;
    assert_int_equal(cr_wf_load_stored(w.s, "versions", &d, &p, &err), 0);
    size_t i;
    assert_non_null(cr_wf_def_find(d, "lu", &i));
    assert_string_equal(cr_wf_str(&d->acts[i], "list"), "list-v2");
    cr_wf_def_free(d);
    assert_int_equal(cr_wf_load_stored(w.s, "nosuch", &d, &p, &err), CR_ENOTFOUND);
    wf_close(&w);
}

/* ---------------------------------------------------------------- status, list */

static void test_status_json(void **state)
{
    struct wf w;
    struct cr_err err = CR_ERR_INIT;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    int64_t run = wf_start(
        &w, "{'name': 'shape', 'campaign': 'spring', 'activities': ["
            " {'id': 'start', 'type': 'start'},"
            " {'id': 'q', 'type': 'query', 'filter': 'tier = `gold`'},"
            " {'id': 'sp', 'type': 'split', 'segments': ["
            "  {'name': 'fr', 'filter': 'country = `FR`'},"
            "  {'name': 'rest'}]},"
            " {'id': 'lu', 'type': 'list_update', 'list': 'gold-fr'},"
            " {'id': 't', 'type': 'test', 'condition': 'count > 100'},"
            " {'id': 'never', 'type': 'list_update', 'list': 'never'}],"
            " 'transitions': [{'from': 'start', 'to': 'q'}, {'from': 'q', 'to': 'sp'},"
            " {'from': 'sp.fr', 'to': 'lu'}, {'from': 'sp.rest', 'to': 't'},"
            " {'from': 't.true', 'to': 'never'}]}");
    wf_run(&w);
    json_t *st = status(&w, run);
    assert_int_equal(json_integer_value(json_object_get(st, "run")), run);
    assert_string_equal(json_string_value(json_object_get(st, "workflow")), "shape");
    assert_string_equal(json_string_value(json_object_get(st, "status")), "finished");
    assert_string_equal(json_string_value(json_object_get(st, "cause")), "start");
    assert_true(json_is_null(json_object_get(st, "parent")));
    assert_true(json_is_null(json_object_get(st, "error")));
    assert_int_equal(json_array_size(json_object_get(st, "children")), 0);

    /* one entry per activity, in the file's order, with counts and outputs */
    static const struct {
        const char *id, *type, *status;
        int in, out;
        const char *outputs;
    } expect[] = {
        {"start", "start", "done", 0, 0, "{\"default\":0}"},
        {"q", "query", "done", 0, 10, "{\"default\":10}"},
        {"sp", "split", "done", 10, 10, "{\"fr\":2,\"rest\":8}"},
        {"lu", "list_update", "done", 2, 2, "{\"default\":2}"},
        {"t", "test", "done", 8, 8, "{\"false\":8}"},
        {"never", "list_update", "idle", 0, 0, "{}"},
    };
    json_t *acts = json_object_get(st, "activities");
    assert_int_equal(json_array_size(acts), 6);
    for (size_t i = 0; i < 6; i++) {
        json_t *a = json_array_get(acts, i);
        assert_string_equal(json_string_value(json_object_get(a, "id")), expect[i].id);
        assert_string_equal(json_string_value(json_object_get(a, "type")), expect[i].type);
        assert_string_equal(json_string_value(json_object_get(a, "status")), expect[i].status);
        assert_int_equal(json_integer_value(json_object_get(a, "count_in")), expect[i].in);
        assert_int_equal(json_integer_value(json_object_get(a, "count_out")), expect[i].out);
        char *o = json_dumps(json_object_get(a, "outputs"), JSON_COMPACT | JSON_SORT_KEYS);
        assert_string_equal(o, expect[i].outputs);
        free(o);
    }
    /* and what each transition carried (null: nothing went that way) */
    char *t = json_dumps(json_object_get(st, "transitions"), JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(t, "[{\"from\":\"start.default\",\"to\":\"q\",\"count\":0},"
                           "{\"from\":\"q.default\",\"to\":\"sp\",\"count\":10},"
                           "{\"from\":\"sp.fr\",\"to\":\"lu\",\"count\":2},"
                           "{\"from\":\"sp.rest\",\"to\":\"t\",\"count\":8},"
                           "{\"from\":\"t.true\",\"to\":\"never\",\"count\":null}]");
    free(t);
    json_decref(st);
    assert_int_equal(cr_wf_status(w.s, run + 1000, &st, &err), CR_ENOTFOUND);
    assert_null(st);

    /* the list of workflows */
    json_t *list = NULL;
    int64_t run2 =
        wf_start(&w, "{'name': 'other', 'activities': [{'id': 'start', 'type': 'start'}]}");
    assert_int_equal(cr_wf_list(w.s, &list, &err), 0);
    char *l = json_dumps(list, JSON_COMPACT | JSON_SORT_KEYS);
    char expect_list[512];
    snprintf(expect_list, sizeof expect_list,
             "[{\"campaign\":\"spring\",\"id\":1,\"label\":null,\"last_run\":%lld,\"name\":"
             "\"shape\",\"runs\":1,\"status\":\"finished\",\"version\":1},"
             "{\"campaign\":null,\"id\":2,\"label\":null,\"last_run\":%lld,\"name\":\"other\","
             "\"runs\":1,\"status\":\"started\",\"version\":1}]",
             (long long)run, (long long)run2);
    assert_string_equal(l, expect_list);
    free(l);
    json_decref(list);
    wf_close(&w);
}

/* ---------------------------------------------------------------- behaviour predicates */

static const char behaviour[] =
    "{'name': 'follow-up', 'activities': [{'id': 'start', 'type': 'start'},"
    " {'id': 'q', 'type': 'query', 'filter': 'email is not null'},"
    " {'id': 'offer', 'type': 'email', 'template': 'offer', 'account': 'mail',"
    "  'confirm': false, 'outbound': 'with_population'},"
    " {'id': 'w', 'type': 'wait', 'duration': '1d'},"
    " {'id': 'sp', 'type': 'split', 'complement': true, 'segments': ["
    "  {'name': 'no_open', 'filter': 'not opened(offer) and not clicked(offer)'},"
    "  {'name': 'open_no_click', 'filter': 'opened(offer) and not clicked(offer)'},"
    "  {'name': 'clicked_offer', 'filter': 'clicked(offer, `offer`)'}]}],"
    " 'transitions': [{'from': 'start', 'to': 'q'}, {'from': 'q', 'to': 'offer'},"
    " {'from': 'offer', 'to': 'w'}, {'from': 'w', 'to': 'sp'}]}";

/* Run 1's tracking: opens by i % 3 == 1, clicks on the offer link by i % 4 == 1, on the
 * other link by i % 7 == 2, among the recipients (those with an email: the offer excludes
 * the others, and its with_population outbound passes only those it sent to). */
static int opened1(int i) { return wf_has_email(i) && i % 3 == 1; }
static int clicked_offer1(int i) { return wf_has_email(i) && i % 4 == 1; }
static int clicked_faq1(int i) { return wf_has_email(i) && i % 7 == 2; }
static int clicked1(int i) { return clicked_offer1(i) || clicked_faq1(i); }
static int seg_no_open(int i) { return wf_has_email(i) && !opened1(i) && !clicked1(i); }
static int seg_open_no_click(int i) { return opened1(i) && !clicked1(i); }
static int seg_clicked_offer(int i)
{
    return clicked_offer1(i) && !seg_no_open(i) && !seg_open_no_click(i);
}
static int seg_complement(int i)
{
    return wf_has_email(i) && !seg_no_open(i) && !seg_open_no_click(i) && !seg_clicked_offer(i);
}
static int recipient_but_2(int i) { return wf_has_email(i) && i != 2; }

static void track(struct wf *w, int64_t delivery, int profile, const char *kind, int link)
{
    char l[16];
    snprintf(l, sizeof l, "%d", link);
    wf_exec(w, "INSERT INTO tracking_log (delivery_id, profile_id, kind, link_id, at) VALUES "
               "(%lld, %d, '%s', %s, '2026-03-02 12:00:00')",
            (long long)delivery, profile, kind, link ? l : "NULL");
}

static void test_behaviour_split(void **state)
{
    struct wf w;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    wf_delivery_setup(&w);
    cr_time_t t0 = w.clk.fixed;
    int64_t run1 = wf_start(&w, behaviour), run2 = wf_start(&w, behaviour);
    /* each offer is prepared ("confirm": false: straight to sending) and waits to be sent */
    while (wf_step(&w))
        ;
    int64_t d1 = wf_delivery(&w, run1, "offer"), d2 = wf_delivery(&w, run2, "offer");
    assert_true(d1 > 0 && d2 > 0 && d1 != d2);
    for (int64_t r = run1; r; r = r == run1 ? run2 : 0) {
        assert_string_equal(wf_act_status(&w, r, "offer").s, "waiting");
        assert_string_equal(wf_act_status(&w, r, "w").s, "none");
        assert_string_equal(wf_str(&w, "SELECT status FROM delivery WHERE id = %lld",
                                   (long long)wf_delivery(&w, r, "offer")).s,
                            "sending");
    }
    /* sent: then its recipients wait a day */
    assert_int_equal(wf_run(&w), 4); /* offer woken, w, in each run */
    for (int64_t d = d1; d; d = d == d1 ? d2 : 0) {
        assert_string_equal(wf_str(&w, "SELECT status FROM delivery WHERE id = %lld",
                                   (long long)d).s,
                            "sent");
        assert_string_equal(wf_ids_sql(&w, "SELECT profile_id FROM delivery_log WHERE "
                                           "delivery_id = %lld AND status = 'sent' ORDER BY "
                                           "profile_id", (long long)d).s,
                            wf_where(WF_N, wf_has_email).s);
        assert_int_equal(wf_pickup_count(&w, d),
                         wf_int(&w, "SELECT count(*) FROM profile WHERE email IS NOT NULL"));
    }
    for (int64_t r = run1; r; r = r == run1 ? run2 : 0) {
        assert_string_equal(wf_act_status(&w, r, "offer").s, "done");
        assert_string_equal(wf_out(&w, r, "offer", "default").s,
                            wf_where(WF_N, wf_has_email).s);
        assert_string_equal(wf_act_status(&w, r, "w").s, "waiting");
        assert_string_equal(wf_act_status(&w, r, "sp").s, "none");
    }

    /* what link tracking and the tracking server would have written while the wait runs */
    wf_exec(&w, "INSERT INTO delivery_url (delivery_id, link_id, url, label) VALUES "
                "(%lld, 1, 'https://shop.example/offer', 'offer'), "
                "(%lld, 2, 'https://shop.example/faq', 'faq')",
            (long long)d1, (long long)d1);
    wf_exec(&w, "INSERT INTO delivery_url (delivery_id, link_id, url, label) VALUES "
                "(%lld, 1, 'https://shop.example/offer', 'offer')",
            (long long)d2);
    for (int i = 1; i <= WF_N; i++) {
        if (opened1(i))
            track(&w, d1, i, "open", 0);
        if (clicked_offer1(i))
            track(&w, d1, i, "click", 1);
        if (clicked_faq1(i))
            track(&w, d1, i, "click", 2);
    }
    track(&w, d1, 5, "open", 0);  /* 5 has no email: not in the population */
    track(&w, d1, 10, "click", 1);
    track(&w, d2, 2, "open", 0);  /* run 2's delivery: only 2 opened it */

    w.clk.fixed = t0 + WF_DAY - WF_SEC;
    assert_int_equal(wf_run(&w), 0);
    w.clk.fixed = t0 + WF_DAY;
    assert_int_equal(wf_run(&w), 4); /* w and sp of each run */
    assert_string_equal(wf_run_status(&w, run1).s, "finished");
    assert_string_equal(wf_out(&w, run1, "sp", "no_open").s, wf_where(WF_N, seg_no_open).s);
    assert_string_equal(wf_out(&w, run1, "sp", "open_no_click").s,
                        wf_where(WF_N, seg_open_no_click).s);
    assert_string_equal(wf_out(&w, run1, "sp", "clicked_offer").s,
                        wf_where(WF_N, seg_clicked_offer).s);
    assert_string_equal(wf_out(&w, run1, "sp", "complement").s, wf_where(WF_N, seg_complement).s);
    assert_string_equal(wf_out(&w, run1, "sp", "clicked_offer").s, "1 9 13 17 21 29");
    assert_string_equal(wf_out(&w, run1, "sp", "complement").s, "2 16 23");

    /* run 2 reads its own delivery's tracking */
    assert_string_equal(wf_run_status(&w, run2).s, "finished");
    assert_string_equal(wf_out(&w, run2, "sp", "no_open").s, wf_where(WF_N, recipient_but_2).s);
    assert_string_equal(wf_out(&w, run2, "sp", "open_no_click").s, "2");
    assert_string_equal(wf_out(&w, run2, "sp", "clicked_offer").s, "");
    assert_string_equal(wf_out(&w, run2, "sp", "complement").s, "");
    wf_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        WF_BOTH(test_join_never_completes),
        WF_BOTH(test_failure_pauses_resume_retries),
        WF_BOTH(test_pause_resume),
        WF_BOTH(test_stop),
        WF_BOTH(test_control_scheduled_runs),
        WF_BOTH(test_definition_versions),
        WF_BOTH(test_status_json),
        WF_BOTH(test_behaviour_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
