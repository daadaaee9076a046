/*
 * test_workflow_validate.c - workflow definitions: every class of problem is reported with
 * its activity and field, several problems of one file all at once, and a valid file (the
 * seed 001 example of DESIGN §9) reports none; on both backends, since half of the checks
 * read the store (filters against the schema, lists, templates, accounts)
 */
#include "wf_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The canonical example of DESIGN §9 (templates and accounts from wf_delivery_setup, plus
 * a reminder template). */
static const char seed001[] =
    "{'name': 'gold-offer', 'campaign': 'winter-2026', 'activities': ["
    " {'id': 'start', 'type': 'start'},"
    " {'id': 'gold', 'type': 'query', 'dimension': 'profile',"
    "  'filter': 'tier = `gold` and email is not null and phone is not null'},"
    " {'id': 'offer', 'type': 'email', 'template': 'offer', 'account': 'mail',"
    "  'confirm': false, 'outbound': 'with_population'},"
    " {'id': 'wait3d', 'type': 'wait', 'duration': '3d'},"
    " {'id': 'behaviour', 'type': 'split', 'overlap': false, 'complement': false,"
    "  'segments': ["
    "   {'name': 'no_open', 'filter': 'not opened(offer) and not clicked(offer)'},"
    "   {'name': 'open_no_click', 'filter': 'opened(offer) and not clicked(offer)'},"
    "   {'name': 'clicked', 'filter': 'clicked(offer, `offer`)'}]},"
    " {'id': 'reminder', 'type': 'email', 'template': 'offer-reminder', 'account': 'mail',"
    "  'confirm': false},"
    " {'id': 'nudge', 'type': 'sms', 'template': 'offer-sms', 'account': 'sms', 'confirm': false},"
    " {'id': 'engaged', 'type': 'list_update', 'list': 'engaged-gold', 'mode': 'add'},"
    " {'id': 'end', 'type': 'end'}],"
    " 'transitions': ["
    " {'from': 'start', 'to': 'gold'}, {'from': 'gold', 'to': 'offer'},"
    " {'from': 'offer', 'to': 'wait3d'}, {'from': 'wait3d', 'to': 'behaviour'},"
    " {'from': 'behaviour.no_open', 'to': 'reminder'},"
    " {'from': 'behaviour.open_no_click', 'to': 'nudge'},"
    " {'from': 'behaviour.clicked', 'to': 'engaged'}, {'from': 'engaged', 'to': 'end'}]}";

static void setup_store(struct wf *w, void **state)
{
    wf_open(w, state);
    wf_delivery_setup(w);
    wf_template(w, "offer-reminder", "email",
                "{\"subject\": \"Last days\", \"html\": \"<p>x</p>\"}");
    wf_list(w, "vip", (const int[]){0});
}

static void test_valid_file(void **state)
{
    struct wf w;
    struct cr_wf_problems p = {0};
    setup_store(&w, state);
    wf_check(&w, seed001, &p);
    if (p.n)
        fail_msg("a valid file reports problems:\n%s", wf_problems_text(&p).s);

    struct cr_wf_def *d = wf_def(&w, seed001);
    assert_string_equal(d->name, "gold-offer");
    assert_string_equal(d->campaign, "winter-2026");
    assert_int_equal(d->nacts, 9);
    assert_int_equal(d->ntrans, 8);
    size_t i;
    assert_non_null(cr_wf_def_find(d, "behaviour", &i));
    assert_int_equal(d->acts[i].type, CR_WF_SPLIT);
    assert_int_equal(d->acts[i].in_flow, CR_WF_FLOW_PROFILE);
    /* the topological order puts every activity after what leads to it */
    for (size_t t = 0; t < d->ntrans; t++) {
        size_t pf = 0, pt = 0;
        for (size_t k = 0; k < d->nacts; k++) {
            if (d->order[k] == d->trans[t].from)
                pf = k;
            if (d->order[k] == d->trans[t].to)
                pt = k;
        }
        assert_true(pf < pt);
    }
    cr_wf_def_free(d);
    wf_close(&w);
}

/* One activity's own fields: unknown type, unknown field, missing field, wrong type,
 * duplicate id, bad enumerations; all in one file, all reported. */
static void test_field_problems(void **state)
{
    struct wf w;
    struct cr_wf_problems p = {0};
    setup_store(&w, state);
    wf_check(&w,
             "{'name': 'fields', 'activities': ["
             " {'id': 'start', 'type': 'start'},"
             " {'id': 'q', 'type': 'query', 'filter': 'tier = `gold`', 'colour': 'red'},"
             " {'id': 'q2', 'type': 'query'},"
             " {'id': 'q3', 'type': 'query', 'filter': 42, 'dimension': 'planet'},"
             " {'id': 'q4', 'type': 'query', 'filter': 'id > 0', 'limit': -1},"
             " {'id': 'sp', 'type': 'split', 'segments': [], 'overlap': 'yes'},"
             " {'id': 'x', 'type': 'frobnicate'},"
             " {'id': 'q', 'type': 'query', 'filter': 'id > 0'},"
             " {'id': 'w', 'type': 'wait'},"
             " {'id': 'm', 'type': 'email', 'template': 'offer', 'account': 'mail',"
             "  'outbound': 'sometimes'},"
             " {'id': 'lu', 'type': 'list_update', 'list': 'vip', 'mode': 'toggle'},"
             " {'id': 'sc', 'type': 'scheduler', 'every': '1d', 'cron': '0 9 * * *'}],"
             " 'transitions': [{'from': 'start', 'to': 'q'}]}",
             &p);
    wf_expect_problem(&p, "q", "colour", "unknown field 'colour' for a query activity");
    wf_expect_problem(&p, "q2", "filter", "missing field 'filter'");
    wf_expect_problem(&p, "q3", "filter", "'filter' must be a string");
    wf_expect_problem(&p, "q3", "dimension", "dimension is 'profile' or 'subscription'");
    wf_expect_problem(&p, "q4", "limit", "'limit' must be a non-negative integer");
    wf_expect_problem(&p, "sp", "segments", "'segments' must be an array of segments");
    wf_expect_problem(&p, "sp", "overlap", "'overlap' must be true or false");
    wf_expect_problem(&p, "x", "type", "unknown activity type 'frobnicate'");
    wf_expect_problem(&p, "q", "id", "activity id 'q' is used twice");
    wf_expect_problem(&p, "w", "duration", "either a duration");
    wf_expect_problem(&p, "m", "outbound", "not 'sometimes'");
    wf_expect_problem(&p, "lu", "mode", "not 'toggle'");
    wf_expect_problem(&p, "sc", "cron", "either a cron expression or an every");
    assert_int_equal(p.n, 13);
    cr_wf_problems_release(&p);
    wf_close(&w);
}

/* Transitions that lead nowhere or from an output that does not exist. */
static void test_dangling_transitions(void **state)
{
    struct wf w;
    struct cr_wf_problems p = {0};
    setup_store(&w, state);
    wf_check(&w,
             "{'name': 'dangling', 'activities': ["
             " {'id': 'start', 'type': 'start'},"
             " {'id': 'q', 'type': 'query', 'filter': 'id > 0'},"
             " {'id': 'sp', 'type': 'split', 'segments': [{'name': 'a', 'filter': 'id > 1'}]},"
             " {'id': 'm', 'type': 'email', 'template': 'offer', 'account': 'mail'},"
             " {'id': 't', 'type': 'test', 'condition': 'count > 0'},"
             " {'id': 'end', 'type': 'end'}],"
             " 'transitions': ["
             /* 0 */ " {'from': 'start', 'to': 'q'},"
             /* 1 */ " {'from': 'nowhere', 'to': 'q'},"
             /* 2 */ " {'from': 'q', 'to': 'elsewhere'},"
             /* 3 */ " {'from': 'q', 'to': 'sp'},"
             /* 4 */ " {'from': 'sp.nosuch', 'to': 'end'},"
             /* 5 */ " {'from': 'sp.complement', 'to': 'end'},"
             /* 6 */ " {'from': 'sp.a', 'to': 'm'},"
             /* 7 */ " {'from': 'm', 'to': 't'},"
             /* 8 */ " {'from': 't.maybe', 'to': 'end'},"
             /* 9 */ " {'from': 'end', 'to': 't'},"
             /* 10 */ " {'from': 'q', 'to': 'sp'},"
             /* 11 */ " {'to': 'end'}]}",
             &p);
    wf_expect_problem(&p, NULL, "transitions[1]", "transition from unknown activity 'nowhere'");
    wf_expect_problem(&p, NULL, "transitions[2]", "transition to unknown activity 'elsewhere'");
    wf_expect_problem(&p, "sp", "transitions[4]", "split activity 'sp' has no output 'nosuch'");
    wf_expect_problem(&p, "sp", "transitions[5]", "has no output 'complement'");
    wf_expect_problem(&p, "m", "transitions[7]", "this delivery has no outbound transition");
    wf_expect_problem(&p, "t", "transitions[8]", "test activity 't' has no output 'maybe'");
    wf_expect_problem(&p, "end", "transitions[9]", "an end activity has no output");
    wf_expect_problem(&p, "q", "transitions[10]", "transition q -> sp is given twice");
    wf_expect_problem(&p, NULL, "transitions[11]", "a transition is {\"from\": ..., \"to\": ...}");
    assert_int_equal(p.n, 9);
    cr_wf_problems_release(&p);
    wf_close(&w);
}

/* A cycle names the activities on it, and only those. */
static void test_cycle(void **state)
{
    struct wf w;
    struct cr_wf_problems p = {0};
    setup_store(&w, state);
    wf_check(&w,
             "{'name': 'loop', 'activities': ["
             " {'id': 'start', 'type': 'start'},"
             " {'id': 'q', 'type': 'query', 'filter': 'id > 0'},"
             " {'id': 'w1', 'type': 'wait', 'duration': '1d'},"
             " {'id': 'w2', 'type': 'wait', 'duration': '1d'},"
             " {'id': 'w3', 'type': 'wait', 'duration': '1d'},"
             " {'id': 'end', 'type': 'end'}],"
             " 'transitions': [{'from': 'start', 'to': 'q'}, {'from': 'q', 'to': 'w1'},"
             " {'from': 'w1', 'to': 'w2'}, {'from': 'w2', 'to': 'w3'}, {'from': 'w3', 'to': 'w1'},"
             " {'from': 'w3', 'to': 'end'}]}",
             &p);
    wf_expect_problem(&p, "w1", "transitions", "activity 'w1' is on a cycle of transitions");
    wf_expect_problem(&p, "w2", "transitions", "activity 'w2' is on a cycle of transitions");
    wf_expect_problem(&p, "w3", "transitions", "activity 'w3' is on a cycle of transitions");
    assert_int_equal(p.n, 3); /* not 'end', which only follows the cycle */
    cr_wf_problems_release(&p);
    wf_close(&w);
}

/* Where populations come from: roots, what needs a population, joins. */
static void test_graph_problems(void **state)
{
    struct wf w;
    struct cr_wf_problems p = {0};
    setup_store(&w, state);
    wf_check(&w,
             "{'name': 'graph', 'activities': ["
             " {'id': 'start', 'type': 'start'},"
             " {'id': 'orphan', 'type': 'query', 'filter': 'id > 0'},"
             " {'id': 'q', 'type': 'query', 'filter': 'id > 0'},"
             " {'id': 'start2', 'type': 'start'},"
             " {'id': 'sp', 'type': 'split', 'segments': [{'name': 'a'}]},"
             " {'id': 'dd', 'type': 'dedup', 'key': 'email'},"
             " {'id': 'w', 'type': 'wait', 'duration': '1h'},"
             " {'id': 'lu', 'type': 'list_update', 'list': 'x'},"
             " {'id': 'u', 'type': 'union'},"
             " {'id': 'subs', 'type': 'query', 'dimension': 'subscription', 'filter': 'active'},"
             " {'id': 'mixed', 'type': 'intersection'},"
             " {'id': 'ex', 'type': 'exclusion', 'keep': 'orphan'}],"
             " 'transitions': ["
             " {'from': 'start', 'to': 'q'}, {'from': 'q', 'to': 'start2'},"
             " {'from': 'start', 'to': 'sp'}, {'from': 'start', 'to': 'dd'},"
             " {'from': 'start', 'to': 'w'}, {'from': 'w', 'to': 'lu'},"
             " {'from': 'q', 'to': 'u'},"
             " {'from': 'start', 'to': 'subs'}, {'from': 'q', 'to': 'mixed'},"
             " {'from': 'subs', 'to': 'mixed'},"
             " {'from': 'q', 'to': 'ex'}, {'from': 'subs', 'to': 'ex'}]}",
             &p);
    wf_expect_problem(&p, "orphan", "transitions", "nothing leads to this activity");
    wf_expect_problem(&p, "start2", "transitions", "a start activity begins the workflow");
    wf_expect_problem(&p, "sp", "transitions", "a split activity needs a population");
    wf_expect_problem(&p, "dd", "transitions", "a dedup activity needs a population");
    wf_expect_problem(&p, "lu", "transitions", "a list_update activity needs a population");
    wf_expect_problem(&p, "u", "transitions", "a union needs at least two incoming");
    wf_expect_problem(&p, "mixed", "transitions", "different kinds of population");
    wf_expect_problem(&p, "ex", "transitions", "different kinds of population");
    wf_expect_problem(&p, "ex", "keep", "'orphan' is not one of the activities leading");
    assert_int_equal(p.n, 9);
    cr_wf_problems_release(&p);
    wf_close(&w);
}

/* The checks against the store and the other languages, all in one file. */
static void test_store_problems(void **state)
{
    struct wf w;
    struct cr_wf_problems p = {0};
    setup_store(&w, state);
    wf_check(&w,
             "{'name': 'store', 'activities': ["
             " {'id': 'start', 'type': 'start'},"
             " {'id': 'q', 'type': 'query', 'filter': 'tier = `gold` and and', 'limit': 3,"
             "  'order': 'nosuch desc'},"
             " {'id': 'q2', 'type': 'query', 'filter': 'tier = `gold`\\nand colour = `red`'},"
             " {'id': 'rl', 'type': 'read_list', 'list': 'nosuch-list'},"
             " {'id': 'dd', 'type': 'dedup', 'key': 'nosuch'},"
             " {'id': 'sp', 'type': 'split', 'segments': ["
             "   {'name': 'a', 'filter': 'id > 1', 'limit': 2, 'order': 'shoe_size'},"
             "   {'name': 'b', 'filter': 'id >'}]},"
             " {'id': 'm', 'type': 'email', 'template': 'nosuch-t', 'account': 'nosuch-a'},"
             " {'id': 'm2', 'type': 'sms', 'template': 'offer', 'account': 'mail'},"
             " {'id': 'w', 'type': 'wait', 'duration': '3x'},"
             " {'id': 'w2', 'type': 'wait', 'until': 'someday'},"
             " {'id': 't', 'type': 'test', 'condition': 'count >'},"
             " {'id': 'sc', 'type': 'scheduler', 'cron': '61 * * * *', 'timezone': 'Mars/Olympus'},"
             " {'id': 'sc2', 'type': 'scheduler', 'every': '0d'},"
             " {'id': 'sc3', 'type': 'scheduler', 'every': 'soon', 'end': 'never'}],"
             " 'transitions': ["
             " {'from': 'start', 'to': 'q'}, {'from': 'start', 'to': 'q2'},"
             " {'from': 'start', 'to': 'rl'}, {'from': 'q', 'to': 'dd'}, {'from': 'q', 'to': 'sp'},"
             " {'from': 'q', 'to': 'm'}, {'from': 'q', 'to': 'm2'}, {'from': 'q', 'to': 'w'},"
             " {'from': 'q', 'to': 'w2'}, {'from': 'q', 'to': 't'}, {'from': 'sc', 'to': 'q'},"
             " {'from': 'sc2', 'to': 'q'}, {'from': 'sc3', 'to': 'q'}]}",
             &p);
    wf_expect_problem(&p, "q", "filter", "1:19: ");
    wf_expect_problem(&p, "q", "order", "order: unknown column 'nosuch' for the profile dimension");
    wf_expect_problem(&p, "q2", "filter", "2:5: ");
    wf_expect_problem(&p, "q2", "filter", "colour");
    wf_expect_problem(&p, "rl", "list", "unknown list 'nosuch-list'");
    wf_expect_problem(&p, "dd", "key", "unknown column 'nosuch' for the profile dimension");
    wf_expect_problem(&p, "sp", "segments[0].order", "unknown column 'shoe_size'");
    wf_expect_problem(&p, "sp", "segments[1].filter", "1:5: ");
    wf_expect_problem(&p, "m", "template", "unknown template 'nosuch-t'");
    wf_expect_problem(&p, "m", "account", "unknown account 'nosuch-a'");
    wf_expect_problem(&p, "m2", "template", "template 'offer' is a email template, this is a sms");
    wf_expect_problem(&p, "m2", "account", "account 'mail' sends email, this is a sms activity");
    wf_expect_problem(&p, "w", "duration", "3x");
    wf_expect_problem(&p, "w2", "until", "someday");
    wf_expect_problem(&p, "t", "condition", "1:8: ");
    wf_expect_problem(&p, "sc", "cron", "cron field 1 (minute): 61 is out of range");
    wf_expect_problem(&p, "sc", "timezone", "Mars/Olympus");
    wf_expect_problem(&p, "sc2", "every", "'0d' must be longer than 0");
    wf_expect_problem(&p, "sc3", "every", "soon");
    wf_expect_problem(&p, "sc3", "end", "never");
    assert_int_equal(p.n, 19); /* q2's filter is one problem with both its position and name */
    cr_wf_problems_release(&p);
    wf_close(&w);
}

/* Behaviour predicates name an email, sms, push or external activity that leads to the
 * filter's activity. */
static void test_behaviour_names(void **state)
{
    struct wf w;
    struct cr_wf_problems p = {0};
    setup_store(&w, state);
    wf_check(&w,
             "{'name': 'behaviour', 'activities': ["
             " {'id': 'start', 'type': 'start'},"
             " {'id': 'q', 'type': 'query', 'filter': 'id > 0'},"
             " {'id': 'mail', 'type': 'email', 'template': 'offer', 'account': 'mail',"
             "  'outbound': 'with_population'},"
             " {'id': 'after', 'type': 'split', 'segments': ["
             "   {'name': 'o', 'filter': 'opened(mail) or clicked(mail, `offer`)'}]},"
             " {'id': 'beside', 'type': 'split',"
             "  'segments': [{'name': 'o', 'filter': 'opened(mail)'}]},"
             " {'id': 'notmail', 'type': 'split',"
             "  'segments': [{'name': 'o', 'filter': 'clicked(q)'}]},"
             " {'id': 'ghost', 'type': 'split',"
             "  'segments': [{'name': 'o', 'filter': 'sent(nobody)'}]}],"
             " 'transitions': [{'from': 'start', 'to': 'q'}, {'from': 'q', 'to': 'mail'},"
             " {'from': 'mail', 'to': 'after'}, {'from': 'q', 'to': 'beside'},"
             " {'from': 'mail', 'to': 'notmail'}, {'from': 'mail', 'to': 'ghost'}]}",
             &p);
    wf_expect_problem(&p, "beside", "segments[0].filter", "unknown delivery 'mail'");
    wf_expect_problem(&p, "notmail", "segments[0].filter", "unknown delivery 'q'");
    wf_expect_problem(&p, "ghost", "segments[0].filter", "unknown delivery 'nobody'");
    assert_int_equal(p.n, 3);
    for (size_t i = 0; i < p.n; i++)
        assert_non_null(strstr(p.v[i].message, "behaviour predicates name an earlier email"));
    cr_wf_problems_release(&p);
    wf_close(&w);
}

/* Problems only a start can see: a scheduler without a fire left, a bad variable. */
static void test_start_problems(void **state)
{
    struct wf w;
    struct cr_wf_problems p = {0};
    struct cr_err err = CR_ERR_INIT;
    int64_t run = 0;
    setup_store(&w, state);
    struct cr_wf_def *d = wf_def(&w, "{'name': 'late', 'activities': ["
                                     " {'id': 'sc', 'type': 'scheduler', 'every': '1d',"
                                     "  'end': '2026-03-01T00:00:00Z'}]}");
    assert_int_equal(cr_wf_start(w.s, &w.clk, d, NULL, &run, &p, &err), CR_EINVAL);
    wf_expect_problem(&p, "sc", "end", "no fire left");
    assert_int_equal(p.n, 1);
    cr_wf_problems_release(&p);
    /* refused whole: nothing stored */
    assert_int_equal(wf_int(&w, "SELECT count(*) FROM workflow"), 0);
    assert_int_equal(wf_int(&w, "SELECT count(*) FROM workflow_run"), 0);
    cr_wf_def_free(d);

    d = wf_def(&w, "{'name': 'vars', 'activities': [{'id': 'start', 'type': 'start'}]}");
    json_t *vars = wf_json("{'Bad-Name': 1}");
    assert_int_equal(cr_wf_start(w.s, &w.clk, d, vars, &run, &p, &err), CR_EINVAL);
    wf_expect_problem(&p, NULL, "variables", "variable name 'Bad-Name' is not an identifier");
    json_decref(vars);
    cr_wf_problems_release(&p);
    cr_wf_def_free(d);
    wf_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        WF_BOTH(test_valid_file),        WF_BOTH(test_field_problems),
        WF_BOTH(test_dangling_transitions), WF_BOTH(test_cycle),
        WF_BOTH(test_graph_problems),    WF_BOTH(test_store_problems),
        WF_BOTH(test_behaviour_names),   WF_BOTH(test_start_problems),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
