/*
 * test_workflow_workers.c - two engines on two connections stepping the same run at once
 * (DESIGN §7: several workers share one database)
 *
 * The run's last two activities, a and b, both feed a union and are due together; each
 * engine takes one. Whatever the interleaving, the union must run once with both inputs and
 * the run must finish. On PostgreSQL a trigger of the test keeps each step's transaction open
 * for a moment after its activity is marked done, so that the two transactions overlap (the
 * case where each could see the other's activity still pending); SQLite serializes writers
 * (BEGIN IMMEDIATE), so there the test checks that two engines simply take turns. Nothing is
 * asserted about time.
 */
#include "wf_test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testdb.h"

static int gold(int i) { return strcmp(wf_tier(i), "gold") == 0; }
static int fr(int i) { return strcmp(wf_country(i), "FR") == 0; }
static int gold_or_fr(int i) { return gold(i) || fr(i); }

struct worker {
    const char *url;
    struct cr_clock *clock;
    pthread_barrier_t *ready;
    int rc, did;
    char msg[512];
};

/* One engine step on a connection of its own (no cmocka assertion off the main thread). */
static void *work(void *data)
{
    struct worker *k = data;
    struct cr_err err = CR_ERR_INIT;
    struct cr_store *s = NULL;
    k->rc = cr_store_open(k->url, &s, &err);
    pthread_barrier_wait(k->ready);
    if (!k->rc)
        k->rc = cr_wf_engine_step(s, k->clock, &k->did, &err);
    if (k->rc)
        snprintf(k->msg, sizeof k->msg, "%s", err.msg);
    cr_store_close(s);
    return NULL;
}

/* Two engines each take one step at the same time; each must have taken one of a and b. */
static void two_engines(struct wf *w)
{
    pthread_barrier_t ready;
    pthread_t th[2];
    struct worker k[2];
    if (w->d == CR_DIALECT_POSTGRES) {
        wf_exec(w, "CREATE FUNCTION test_linger() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN PERFORM pg_sleep(0.5); RETURN NEW; END $$");
        wf_exec(w, "CREATE TRIGGER test_linger AFTER UPDATE ON activity_run FOR EACH ROW "
                   "WHEN (NEW.status = 'done' AND NEW.activity_id IN ('a', 'b')) "
                   "EXECUTE FUNCTION test_linger()");
    }
    pthread_barrier_init(&ready, NULL, 2);
    for (int i = 0; i < 2; i++) {
        memset(&k[i], 0, sizeof k[i]);
        k[i].url = testdb_url(w->s);
        k[i].clock = &w->clk;
        k[i].ready = &ready;
        assert_int_equal(pthread_create(&th[i], NULL, work, &k[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&ready);
    for (int i = 0; i < 2; i++) {
        if (k[i].rc)
            fail_msg("engine %d: %s", i, k[i].msg);
        assert_int_equal(k[i].did, 1);
    }
}

static void test_two_engines(void **state)
{
    struct wf w;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    int64_t run = wf_start(
        &w, "{'name': 'parallel', 'activities': [{'id': 'start', 'type': 'start'},"
            " {'id': 'a', 'type': 'query', 'filter': 'tier = `gold`'},"
            " {'id': 'b', 'type': 'query', 'filter': 'country = `FR`'},"
            " {'id': 'u', 'type': 'union'}],"
            " 'transitions': [{'from': 'start', 'to': 'a'}, {'from': 'start', 'to': 'b'},"
            " {'from': 'a', 'to': 'u'}, {'from': 'b', 'to': 'u'}]}");
    assert_int_equal(wf_step(&w), 1); /* start: a and b are now both due */
    two_engines(&w);
    assert_string_equal(wf_act_status(&w, run, "a").s, "done");
    assert_string_equal(wf_act_status(&w, run, "b").s, "done");

    wf_run(&w);
    assert_int_equal(wf_int(&w, "SELECT count(*) FROM activity_run WHERE run_id = %lld AND "
                                "activity_id = 'u'", (long long)run),
                     1);
    assert_string_equal(wf_act_status(&w, run, "u").s, "done");
    assert_string_equal(wf_out(&w, run, "u", "default").s, wf_where(WF_N, gold_or_fr).s);
    assert_string_equal(wf_run_status(&w, run).s, "finished");
    wf_close(&w);
}

/* The same race without a join: the last two activities of a run end at once. */
static void test_two_engines_finish(void **state)
{
    struct wf w;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    int64_t run = wf_start(
        &w, "{'name': 'ends', 'activities': [{'id': 'start', 'type': 'start'},"
            " {'id': 'a', 'type': 'query', 'filter': 'tier = `gold`'},"
            " {'id': 'b', 'type': 'query', 'filter': 'country = `FR`'}],"
            " 'transitions': [{'from': 'start', 'to': 'a'}, {'from': 'start', 'to': 'b'}]}");
    assert_int_equal(wf_step(&w), 1);
    two_engines(&w);
    assert_int_equal(wf_run(&w), 0);
    assert_string_equal(wf_run_status(&w, run).s, "finished");
    assert_string_equal(wf_str(&w, "SELECT status FROM workflow WHERE name = 'ends'").s,
                        "finished");
    wf_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        WF_BOTH(test_two_engines),
        WF_BOTH(test_two_engines_finish),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
