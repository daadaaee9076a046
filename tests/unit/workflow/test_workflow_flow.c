/*
 * test_workflow_flow.c - the activities that steer or act, each alone: wait (duration and
 * until, on the fixed clock), scheduler (every with an end, cron in a time zone), fork,
 * and_join, test (on the count and on run variables), list_update (add, remove, replace),
 * and the delivery activities (the draft delivery they create and their outbound
 * transition); on both backends
 */
#include "wf_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int gold(int i) { return strcmp(wf_tier(i), "gold") == 0; }
static int fr(int i) { return strcmp(wf_country(i), "FR") == 0; }
static int gold_with_email(int i) { return gold(i) && wf_has_email(i); }

/* The wake_at of the latest execution of an activity. */
static cr_time_t wake_at(struct wf *w, int64_t run, const char *act)
{
    struct wf_text t = wf_str(w,
                              "SELECT wake_at FROM activity_run WHERE run_id = %lld AND "
                              "activity_id = '%s' ORDER BY id DESC LIMIT 1",
                              (long long)run, act);
    return wf_ts(t.s);
}

static cr_time_t engine_next(struct wf *w)
{
    struct cr_err err = CR_ERR_INIT;
    cr_time_t at = 0;
    int any = 0;
    if (cr_wf_engine_next(w->s, &at, &any, &err))
        fail_msg("engine next: %s", err.msg);
    assert_true(any);
    return at;
}

/* ---------------------------------------------------------------- wait */

static const char wait_2d[] =
    "{'name': 'wait', 'activities': [{'id': 'start', 'type': 'start'},"
    " {'id': 'q', 'type': 'query', 'filter': 'tier = `gold`'},"
    " {'id': 'w', 'type': 'wait', 'duration': '2d'},"
    " {'id': 'lu', 'type': 'list_update', 'list': 'waited'}],"
    " 'transitions': [{'from': 'start', 'to': 'q'}, {'from': 'q', 'to': 'w'},"
    " {'from': 'w', 'to': 'lu'}]}";

static void test_wait_duration(void **state)
{
    struct wf w;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    cr_time_t t0 = w.clk.fixed, due = t0 + 2 * WF_DAY;
    int64_t run = wf_start(&w, wait_2d);
    assert_int_equal(wf_run(&w), 3); /* start, q, w (which goes to sleep) */
    assert_string_equal(wf_act_status(&w, run, "w").s, "waiting");
    assert_string_equal(wf_run_status(&w, run).s, "running");
    assert_true(wake_at(&w, run, "w") == due);
    assert_true(engine_next(&w) == due);
    assert_string_equal(wf_list_members(&w, "waited").s, "(no list)");

    /* not due a second before */
    w.clk.fixed = due - WF_SEC;
    assert_int_equal(wf_run(&w), 0);
    assert_string_equal(wf_act_status(&w, run, "w").s, "waiting");

    w.clk.fixed = due;
    assert_int_equal(wf_run(&w), 2); /* w, lu */
    assert_string_equal(wf_act_status(&w, run, "w").s, "done");
    assert_string_equal(wf_out(&w, run, "w", "default").s, wf_where(WF_N, gold).s);
    assert_string_equal(wf_list_members(&w, "waited").s, wf_where(WF_N, gold).s);
    assert_string_equal(wf_run_status(&w, run).s, "finished");
    assert_string_equal(wf_str(&w, "SELECT ended_at FROM workflow_run WHERE id = %lld",
                               (long long)run).s,
                        "2026-03-04 08:00:00");
    wf_close(&w);
}

static void test_wait_until(void **state)
{
    struct wf w;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    int64_t run = wf_start(
        &w, "{'name': 'until', 'activities': [{'id': 'start', 'type': 'start'},"
            " {'id': 'q', 'type': 'query', 'filter': 'tier = `gold`'},"
            " {'id': 'later', 'type': 'wait', 'until': '2026-03-05T10:30:00Z'},"
            " {'id': 'past', 'type': 'wait', 'until': '2026-03-01T00:00:00Z'}],"
            " 'transitions': [{'from': 'start', 'to': 'q'}, {'from': 'q', 'to': 'later'},"
            " {'from': 'q', 'to': 'past'}]}");
    wf_run(&w);
    /* a time already past lets the population through at once */
    assert_string_equal(wf_act_status(&w, run, "past").s, "done");
    assert_string_equal(wf_out(&w, run, "past", "default").s, wf_where(WF_N, gold).s);
    assert_string_equal(wf_act_status(&w, run, "later").s, "waiting");
    assert_true(wake_at(&w, run, "later") == wf_ts("2026-03-05T10:30:00Z"));

    w.clk.fixed = wf_ts("2026-03-05T10:29:59.999999Z");
    assert_int_equal(wf_run(&w), 0);
    w.clk.fixed = wf_ts("2026-03-05T10:30:00Z");
    assert_int_equal(wf_run(&w), 1);
    assert_string_equal(wf_out(&w, run, "later", "default").s, wf_where(WF_N, gold).s);
    assert_string_equal(wf_run_status(&w, run).s, "finished");
    wf_close(&w);
}

/* ---------------------------------------------------------------- scheduler */

static int64_t children(struct wf *w, int64_t parent)
{
    return wf_int(w, "SELECT count(*) FROM workflow_run WHERE parent_run_id = %lld",
                  (long long)parent);
}

static int64_t last_child(struct wf *w, int64_t parent)
{
    return wf_int(w, "SELECT max(id) FROM workflow_run WHERE parent_run_id = %lld",
                  (long long)parent);
}

static void test_scheduler_every(void **state)
{
    struct wf w;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    cr_time_t t0 = w.clk.fixed;
    int64_t run = wf_start(
        &w, "{'name': 'daily', 'activities': ["
            " {'id': 'sc', 'type': 'scheduler', 'every': '1d', 'end': '2026-03-04T08:00:00Z'},"
            " {'id': 'q', 'type': 'query', 'filter': 'tier = `gold`'},"
            " {'id': 'end', 'type': 'end'}],"
            " 'transitions': [{'from': 'sc', 'to': 'q'}, {'from': 'q', 'to': 'end'}]}");
    /* the first fire is the start itself */
    assert_string_equal(wf_act_status(&w, run, "sc").s, "waiting");
    assert_true(wake_at(&w, run, "sc") == t0);

    const char *fired[] = {"2026-03-02T08:00:00Z", "2026-03-03T08:00:00Z",
                           "2026-03-04T08:00:00Z"};
    for (int k = 0; k < 3; k++) {
        w.clk.fixed = t0 + k * WF_DAY;
        assert_int_equal(wf_run(&w), 3); /* sc, then the child's q and end */
        assert_int_equal(children(&w, run), k + 1);
        int64_t child = last_child(&w, run);
        char cause[128];
        snprintf(cause, sizeof cause, "scheduler 'sc' fired at %s", fired[k]);
        assert_string_equal(wf_str(&w, "SELECT cause FROM workflow_run WHERE id = %lld",
                                   (long long)child).s,
                            cause);
        assert_string_equal(wf_run_status(&w, child).s, "finished");
        assert_string_equal(wf_out(&w, child, "q", "default").s, wf_where(WF_N, gold).s);
        /* the parent runs nothing but its scheduler */
        assert_string_equal(wf_act_status(&w, run, "q").s, "none");
        if (k < 2) {
            assert_string_equal(wf_run_status(&w, run).s, "running");
            assert_string_equal(wf_act_status(&w, run, "sc").s, "waiting");
            assert_true(wake_at(&w, run, "sc") == t0 + (k + 1) * WF_DAY);
            /* nothing before the next fire */
            w.clk.fixed = t0 + (k + 1) * WF_DAY - WF_SEC;
            assert_int_equal(wf_run(&w), 0);
        }
    }
    /* the end is reached: the parent finishes with its last fire */
    assert_string_equal(wf_act_status(&w, run, "sc").s, "done");
    assert_string_equal(wf_run_status(&w, run).s, "finished");
    assert_string_equal(wf_str(&w, "SELECT status FROM workflow WHERE name = 'daily'").s,
                        "finished");
    w.clk.fixed = t0 + 30 * WF_DAY;
    assert_int_equal(wf_run(&w), 0);
    assert_int_equal(children(&w, run), 3);
    wf_close(&w);
}

/* Fires stay on the grid of start + k * every; missed ones make one fire. A scheduler that
 * leads nowhere still finishes the run of each fire. */
static void test_scheduler_grid(void **state)
{
    struct wf w;
    wf_open(&w, state);
    int64_t run = wf_start(
        &w, "{'name': 'grid', 'activities': ["
            " {'id': 'sc', 'type': 'scheduler', 'every': '1d', 'start': '2026-03-01T06:00:00Z'}]}");
    assert_true(wake_at(&w, run, "sc") == wf_ts("2026-03-03T06:00:00Z"));
    w.clk.fixed = wf_ts("2026-03-06T07:00:00Z");
    assert_int_equal(wf_run(&w), 1);
    assert_int_equal(children(&w, run), 1);
    assert_string_equal(wf_str(&w, "SELECT cause FROM workflow_run WHERE parent_run_id = %lld",
                               (long long)run).s,
                        "scheduler 'sc' fired at 2026-03-03T06:00:00Z");
    assert_true(wake_at(&w, run, "sc") == wf_ts("2026-03-07T06:00:00Z"));
    /* nothing follows the scheduler: its fire's run has nothing to do and is over */
    assert_string_equal(wf_run_status(&w, last_child(&w, run)).s, "finished");
    assert_string_equal(wf_run_status(&w, run).s, "running");
    assert_string_equal(wf_str(&w, "SELECT status FROM workflow WHERE name = 'grid'").s, "started");
    wf_close(&w);
}

static const char cron_paris[] =
    "{'name': '%s', 'activities': ["
    " {'id': 'sc', 'type': 'scheduler', 'cron': '0 9 * * *', 'timezone': 'Europe/Paris'},"
    " {'id': 'end', 'type': 'end'}],"
    " 'transitions': [{'from': 'sc', 'to': 'end'}]}";

static void test_scheduler_cron_timezone(void **state)
{
    struct wf w;
    char text[1024];
    wf_open(&w, state);
    /* 09:30 in Paris (UTC+1): the next 09:00 is tomorrow's, 08:00 UTC */
    w.clk.fixed = wf_ts("2026-03-02T08:30:00Z");
    snprintf(text, sizeof text, cron_paris, "winter");
    int64_t winter = wf_start(&w, text);
    assert_true(wake_at(&w, winter, "sc") == wf_ts("2026-03-03T08:00:00Z"));
    /* 08:00 in Paris in summer (UTC+2): today's 09:00 is 07:00 UTC */
    w.clk.fixed = wf_ts("2026-07-01T06:00:00Z");
    snprintf(text, sizeof text, cron_paris, "summer");
    int64_t summer = wf_start(&w, text);
    assert_true(wake_at(&w, summer, "sc") == wf_ts("2026-07-01T07:00:00Z"));
    /* a start in the future: the first 09:00 from then on */
    int64_t later = wf_start(&w, "{'name': 'later', 'activities': [{'id': 'sc', 'type': "
                                 "'scheduler', 'cron': '0 9 * * *', 'timezone': 'Europe/Paris', "
                                 "'start': '2026-07-10T12:00:00Z'}]}");
    assert_true(wake_at(&w, later, "sc") == wf_ts("2026-07-11T07:00:00Z"));

    /* the summer run fires, then sleeps until tomorrow's 09:00 */
    w.clk.fixed = wf_ts("2026-07-01T07:00:00Z");
    wf_run(&w);
    assert_int_equal(children(&w, summer), 1);
    assert_true(wake_at(&w, summer, "sc") == wf_ts("2026-07-02T07:00:00Z"));
    /* the winter run was due long ago: its missed fires make one, and the next is the
     * first 09:00 after now */
    assert_int_equal(children(&w, winter), 1);
    assert_true(wake_at(&w, winter, "sc") == wf_ts("2026-07-02T07:00:00Z"));
    assert_string_equal(wf_run_status(&w, last_child(&w, winter)).s, "finished");
    wf_close(&w);
}

/* ---------------------------------------------------------------- fork, and_join */

static void test_fork(void **state)
{
    struct wf w;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    int64_t run = wf_start(
        &w, "{'name': 'fork', 'activities': [{'id': 'start', 'type': 'start'},"
            " {'id': 'q', 'type': 'query', 'filter': 'tier = `gold`'},"
            " {'id': 'f', 'type': 'fork'},"
            " {'id': 'a', 'type': 'list_update', 'list': 'branch-a'},"
            " {'id': 'b', 'type': 'list_update', 'list': 'branch-b'}],"
            " 'transitions': [{'from': 'start', 'to': 'q'}, {'from': 'q', 'to': 'f'},"
            " {'from': 'f', 'to': 'a'}, {'from': 'f', 'to': 'b'}]}");
    assert_int_equal(wf_run(&w), 5);
    assert_string_equal(wf_run_status(&w, run).s, "finished");
    assert_string_equal(wf_out(&w, run, "f", "default").s, wf_where(WF_N, gold).s);
    assert_string_equal(wf_list_members(&w, "branch-a").s, wf_where(WF_N, gold).s);
    assert_string_equal(wf_list_members(&w, "branch-b").s, wf_where(WF_N, gold).s);
    wf_close(&w);
}

static void test_and_join(void **state)
{
    struct wf w;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    cr_time_t t0 = w.clk.fixed;
    int64_t run = wf_start(
        &w, "{'name': 'join', 'activities': [{'id': 'start', 'type': 'start'},"
            " {'id': 'q', 'type': 'query', 'filter': 'tier = `gold`'},"
            " {'id': 'f', 'type': 'fork'},"
            " {'id': 'w1', 'type': 'wait', 'duration': '1h'},"
            " {'id': 'w2', 'type': 'wait', 'duration': '2h'},"
            " {'id': 'j', 'type': 'and_join'},"
            " {'id': 'lu', 'type': 'list_update', 'list': 'joined'}],"
            " 'transitions': [{'from': 'start', 'to': 'q'}, {'from': 'q', 'to': 'f'},"
            " {'from': 'f', 'to': 'w1'}, {'from': 'f', 'to': 'w2'}, {'from': 'w1', 'to': 'j'},"
            " {'from': 'w2', 'to': 'j'}, {'from': 'j', 'to': 'lu'}]}");
    wf_run(&w);
    assert_string_equal(wf_act_status(&w, run, "j").s, "none");
    w.clk.fixed = t0 + WF_HOUR;
    wf_run(&w);
    assert_string_equal(wf_act_status(&w, run, "j").s, "collecting");
    assert_string_equal(wf_list_members(&w, "joined").s, "(no list)");
    w.clk.fixed = t0 + 2 * WF_HOUR;
    wf_run(&w);
    assert_string_equal(wf_act_status(&w, run, "j").s, "done");
    assert_int_equal(wf_int(&w, "SELECT count(*) FROM activity_run WHERE run_id = %lld AND "
                                "activity_id = 'j'", (long long)run),
                     1);
    assert_string_equal(wf_list_members(&w, "joined").s, wf_where(WF_N, gold).s);
    assert_string_equal(wf_run_status(&w, run).s, "finished");

    /* which population goes on: the kept input's, else the first incoming transition's */
    run = wf_start(
        &w, "{'name': 'keep', 'activities': [{'id': 'start', 'type': 'start'},"
            " {'id': 'g', 'type': 'query', 'filter': 'tier = `gold`'},"
            " {'id': 'f', 'type': 'query', 'filter': 'country = `FR`'},"
            " {'id': 'kept', 'type': 'and_join', 'keep': 'g'},"
            " {'id': 'first', 'type': 'and_join'}],"
            " 'transitions': [{'from': 'start', 'to': 'g'}, {'from': 'start', 'to': 'f'},"
            " {'from': 'f', 'to': 'kept'}, {'from': 'g', 'to': 'kept'},"
            " {'from': 'f', 'to': 'first'}, {'from': 'g', 'to': 'first'}]}");
    wf_run(&w);
    assert_string_equal(wf_run_status(&w, run).s, "finished");
    assert_string_equal(wf_out(&w, run, "kept", "default").s, wf_where(WF_N, gold).s);
    assert_string_equal(wf_out(&w, run, "first", "default").s, wf_where(WF_N, fr).s);
    wf_close(&w);
}

/* ---------------------------------------------------------------- test */

static void test_test_activity(void **state)
{
    struct wf w;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    int64_t gold_count = wf_int(&w, "SELECT count(*) FROM profile WHERE tier = 'gold'");
    assert_int_equal(gold_count, 10);
    int64_t run = wf_start(
        &w, "{'name': 'counts', 'activities': [{'id': 'start', 'type': 'start'},"
            " {'id': 'q', 'type': 'query', 'filter': 'tier = `gold`'},"
            " {'id': 'some', 'type': 'test', 'condition': 'count >= 10'},"
            " {'id': 'many', 'type': 'test', 'condition': 'count > 10'},"
            " {'id': 'yes', 'type': 'list_update', 'list': 'some-yes'},"
            " {'id': 'no', 'type': 'list_update', 'list': 'some-no'},"
            " {'id': 'yes2', 'type': 'list_update', 'list': 'many-yes'},"
            " {'id': 'no2', 'type': 'list_update', 'list': 'many-no'}],"
            " 'transitions': [{'from': 'start', 'to': 'q'}, {'from': 'q', 'to': 'some'},"
            " {'from': 'q', 'to': 'many'}, {'from': 'some.true', 'to': 'yes'},"
            " {'from': 'some.false', 'to': 'no'}, {'from': 'many.true', 'to': 'yes2'},"
            " {'from': 'many.false', 'to': 'no2'}]}");
    wf_run(&w);
    assert_string_equal(wf_run_status(&w, run).s, "finished");
    assert_string_equal(wf_out_names(&w, run, "some").s, "true");
    assert_string_equal(wf_out_names(&w, run, "many").s, "false");
    assert_string_equal(wf_out(&w, run, "some", "true").s, wf_where(WF_N, gold).s);
    assert_string_equal(wf_list_members(&w, "some-yes").s, wf_where(WF_N, gold).s);
    assert_string_equal(wf_list_members(&w, "some-no").s, "(no list)");
    assert_string_equal(wf_list_members(&w, "many-yes").s, "(no list)");
    assert_string_equal(wf_list_members(&w, "many-no").s, wf_where(WF_N, gold).s);

    /* on variables: the definition's defaults, overridden by the run's */
    static const char vars[] =
        "{'name': 'vars', 'variables': {'region': 'north', 'threshold': 5, 'strict': false},"
        " 'activities': [{'id': 'start', 'type': 'start'},"
        " {'id': 'q', 'type': 'query', 'filter': 'tier = `gold`'},"
        " {'id': 't', 'type': 'test',"
        "  'condition': 'region = `north` and count > threshold and not strict'}],"
        " 'transitions': [{'from': 'start', 'to': 'q'}, {'from': 'q', 'to': 't'}]}";
    run = wf_start(&w, vars);
    wf_run(&w);
    assert_string_equal(wf_out_names(&w, run, "t").s, "true");
    run = wf_start_vars(&w, vars, "{'region': 'south'}");
    wf_run(&w);
    assert_string_equal(wf_out_names(&w, run, "t").s, "false");
    run = wf_start_vars(&w, vars, "{'threshold': 10}");
    wf_run(&w);
    assert_string_equal(wf_out_names(&w, run, "t").s, "false");
    run = wf_start_vars(&w, vars, "{'threshold': 9, 'region': 'north'}");
    wf_run(&w);
    assert_string_equal(wf_out_names(&w, run, "t").s, "true");
    run = wf_start_vars(&w, vars, "{'strict': true}");
    wf_run(&w);
    assert_string_equal(wf_out_names(&w, run, "t").s, "false");
    wf_close(&w);
}

/* ---------------------------------------------------------------- list_update */

static int vip_minus_gold(int i) { return i <= 10 && !gold(i); }
static int small_or_gold(int i) { return i <= 2 || gold(i); }

static void test_list_update(void **state)
{
    struct wf w;
    const int ten[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0};
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    wf_list(&w, "vip", ten);
    wf_list(&w, "vip2", ten);
    wf_list(&w, "vip3", (const int[]){1, 2, 3, 0});
    int64_t run = wf_start(
        &w, "{'name': 'lists', 'activities': [{'id': 'start', 'type': 'start'},"
            " {'id': 'q', 'type': 'query', 'filter': 'tier = `gold`'},"
            " {'id': 'create', 'type': 'list_update', 'list': 'fresh'},"
            " {'id': 'add', 'type': 'list_update', 'list': 'vip3', 'mode': 'add'},"
            " {'id': 'remove', 'type': 'list_update', 'list': 'vip', 'mode': 'remove'},"
            " {'id': 'replace', 'type': 'list_update', 'list': 'vip2', 'mode': 'replace'}],"
            " 'transitions': [{'from': 'start', 'to': 'q'}, {'from': 'q', 'to': 'create'},"
            " {'from': 'q', 'to': 'add'}, {'from': 'q', 'to': 'remove'},"
            " {'from': 'q', 'to': 'replace'}]}");
    wf_run(&w);
    assert_string_equal(wf_run_status(&w, run).s, "finished");
    assert_string_equal(wf_list_members(&w, "fresh").s, wf_where(WF_N, gold).s);
    assert_string_equal(wf_list_members(&w, "vip3").s, wf_where(WF_N, small_or_gold).s);
    assert_string_equal(wf_list_members(&w, "vip").s, wf_where(WF_N, vip_minus_gold).s);
    assert_string_equal(wf_list_members(&w, "vip").s, "1 2 4 5 7 8 10");
    assert_string_equal(wf_list_members(&w, "vip2").s, wf_where(WF_N, gold).s);
    /* the population goes on unchanged */
    assert_string_equal(wf_out(&w, run, "remove", "default").s, wf_where(WF_N, gold).s);
    /* a second run changes nothing more (adding is idempotent) */
    run = wf_start(&w, "{'name': 'lists2', 'activities': [{'id': 'start', 'type': 'start'},"
                       " {'id': 'q', 'type': 'query', 'filter': 'tier = `gold`'},"
                       " {'id': 'create', 'type': 'list_update', 'list': 'fresh'}],"
                       " 'transitions': [{'from': 'start', 'to': 'q'},"
                       " {'from': 'q', 'to': 'create'}]}");
    wf_run(&w);
    assert_string_equal(wf_run_status(&w, run).s, "finished");
    assert_string_equal(wf_list_members(&w, "fresh").s, wf_where(WF_N, gold).s);
    assert_int_equal(wf_int(&w, "SELECT count(*) FROM list WHERE name = 'fresh'"), 1);
    wf_close(&w);
}

/* ---------------------------------------------------------------- deliveries */

static void test_delivery_activities(void **state)
{
    struct wf w;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    wf_delivery_setup(&w);
    int64_t run = wf_start(
        &w, "{'name': 'deliveries', 'campaign': 'winter-2026',"
            " 'activities': [{'id': 'start', 'type': 'start'},"
            " {'id': 'q', 'type': 'query', 'filter': 'tier = `gold` and email is not null'},"
            " {'id': 'm', 'type': 'email', 'template': 'offer', 'account': 'mail'},"
            " {'id': 'm2', 'type': 'email', 'template': 'offer', 'account': 'mail',"
            "  'confirm': false, 'outbound': 'with_population', 'label': 'Offer of the week'},"
            " {'id': 'm3', 'type': 'email', 'template': 'offer', 'account': 'mail',"
            "  'outbound': 'without_population'},"
            " {'id': 's', 'type': 'sms', 'template': 'offer-sms', 'account': 'sms',"
            "  'outbound': 'none'},"
            " {'id': 'after', 'type': 'list_update', 'list': 'after-offer'},"
            " {'id': 'after3', 'type': 'list_update', 'list': 'after-offer3'}],"
            " 'transitions': [{'from': 'start', 'to': 'q'}, {'from': 'q', 'to': 'm'},"
            " {'from': 'q', 'to': 'm2'}, {'from': 'q', 'to': 'm3'}, {'from': 'q', 'to': 's'},"
            " {'from': 'm2', 'to': 'after'}, {'from': 'm3', 'to': 'after3'}]}");
    wf_run(&w);
    assert_string_equal(wf_run_status(&w, run).s, "finished");
    int64_t pop = wf_int(&w, "SELECT id FROM population WHERE run_id = %lld AND "
                             "from_activity = 'q'", (long long)run);
    int64_t campaign = wf_int(&w, "SELECT id FROM campaign WHERE name = 'winter-2026'");
    int64_t count = wf_int(&w, "SELECT count(*) FROM profile WHERE tier = 'gold' AND email IS "
                               "NOT NULL");
    assert_true(pop > 0 && campaign > 0 && count == 8);

    /* one draft delivery per delivery activity, bound to the run, the activity, the incoming
     * population, the template, the account and the workflow's campaign */
    assert_int_equal(wf_int(&w, "SELECT count(*) FROM delivery"), 4);
    assert_int_equal(wf_int(&w, "SELECT count(*) FROM delivery d JOIN template t ON t.id = "
                                "d.template_id JOIN account a ON a.id = d.account_id WHERE "
                                "d.workflow_run_id = %lld AND d.status = 'draft' AND "
                                "d.population_id = %lld AND d.campaign_id = %lld AND "
                                "d.channel = t.channel AND d.channel = a.channel",
                            (long long)run, (long long)pop, (long long)campaign),
                     4);
    assert_string_equal(wf_str(&w, "SELECT channel || ' ' || label FROM delivery WHERE "
                                    "activity_id = 'm'").s,
                        "email deliveries / m");
    assert_string_equal(wf_str(&w, "SELECT t.name || ' ' || a.name FROM delivery d JOIN "
                                    "template t ON t.id = d.template_id JOIN account a ON a.id = "
                                    "d.account_id WHERE d.activity_id = 's'").s,
                        "offer-sms sms");
    assert_string_equal(wf_str(&w, "SELECT label FROM delivery WHERE activity_id = 'm2'").s,
                        "Offer of the week");
    json_t *o = json_loads(wf_str(&w, "SELECT options FROM delivery WHERE activity_id = 'm'").s,
                           0, NULL);
    assert_true(json_is_true(json_object_get(o, "confirm")));
    assert_string_equal(json_string_value(json_object_get(o, "outbound")), "none");
    assert_int_equal(json_integer_value(json_object_get(o, "target_count")), count);
    json_decref(o);
    o = json_loads(wf_str(&w, "SELECT options FROM delivery WHERE activity_id = 'm2'").s, 0, NULL);
    assert_true(json_is_false(json_object_get(o, "confirm")));
    assert_string_equal(json_string_value(json_object_get(o, "outbound")), "with_population");
    json_decref(o);
    /* the activity knows its delivery */
    assert_int_equal(wf_int(&w, "SELECT id FROM delivery WHERE activity_id = 'm2'"),
                     wf_int(&w, "SELECT d.id FROM delivery d, activity_run ar WHERE "
                                "ar.run_id = %lld AND ar.activity_id = 'm2' AND ar.state LIKE "
                                "'%%\"delivery\":' || d.id || '}%%'", (long long)run));

    /* outbound none: nothing goes on; with and without population: the population does */
    assert_string_equal(wf_out_names(&w, run, "m").s, "");
    assert_string_equal(wf_out_names(&w, run, "s").s, "");
    assert_string_equal(wf_out(&w, run, "m2", "default").s, wf_where(WF_N, gold_with_email).s);
    assert_string_equal(wf_list_members(&w, "after-offer").s, wf_where(WF_N, gold_with_email).s);
    assert_string_equal(wf_list_members(&w, "after-offer3").s, wf_where(WF_N, gold_with_email).s);
    wf_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        WF_BOTH(test_wait_duration),
        WF_BOTH(test_wait_until),
        WF_BOTH(test_scheduler_every),
        WF_BOTH(test_scheduler_grid),
        WF_BOTH(test_scheduler_cron_timezone),
        WF_BOTH(test_fork),
        WF_BOTH(test_and_join),
        WF_BOTH(test_test_activity),
        WF_BOTH(test_list_update),
        WF_BOTH(test_delivery_activities),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
