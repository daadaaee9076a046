/*
 * test_workflow_targeting.c - the activities that build populations, each alone behind a
 * start and a query: query (profile and subscription dimensions, limit and order),
 * read_list, split (first match, overlap, ordered and random limits, complement), union,
 * intersection, exclusion, dedup; on both backends, with the expected members computed in C
 * from the profile generator of wf_test.c
 */
#include "wf_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Starts the workflow, runs it to the end and checks that it finished. */
static int64_t run_to_end(struct wf *w, const char *text)
{
    int64_t run = wf_start(w, text);
    wf_run(w);
    assert_string_equal(wf_run_status(w, run).s, "finished");
    return run;
}

static int gold(int i) { return strcmp(wf_tier(i), "gold") == 0; }
static int silver(int i) { return strcmp(wf_tier(i), "silver") == 0; }
static int fr(int i) { return strcmp(wf_country(i), "FR") == 0; }
static int gold_with_email(int i) { return gold(i) && wf_has_email(i); }
static int list_vip(int i) { return i % 4 == 1; }

/* ---------------------------------------------------------------- query */

static void test_query_profile(void **state)
{
    struct wf w;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    int64_t run = run_to_end(&w, "{'name': 'q', 'activities': [{'id': 'start', 'type': 'start'},"
                                 " {'id': 'q', 'type': 'query', 'filter': 'tier = `gold` and "
                                 "email is not null'}],"
                                 " 'transitions': [{'from': 'start', 'to': 'q'}]}");
    assert_string_equal(wf_out(&w, run, "q", "default").s, wf_where(WF_N, gold_with_email).s);
    assert_int_equal(wf_out_count(&w, run, "q", "default"),
                     wf_int(&w, "SELECT count(*) FROM profile WHERE tier = 'gold' AND email IS "
                                "NOT NULL"));
    assert_string_equal(wf_out(&w, run, "q", "default").s, "3 6 9 12 18 21 24 27");
    wf_close(&w);
}

/* Subscriptions with ids chosen by the test: 10 i + 1 (shop-app, ios) when 4 divides i,
 * 10 i + 2 (shop-app, android, inactive when 9 divides i) when 3 does, 10 i + 3
 * (other-app, ios) when 7 does. */
static void subscriptions(struct wf *w)
{
    for (int i = 1; i <= WF_N; i++) {
        if (i % 4 == 0)
            wf_exec(w, "INSERT INTO subscription (id, profile_id, app, platform, token, active, "
                       "created_at, updated_at) VALUES (%d, %d, 'shop-app', 'ios', 't%d-1', TRUE, "
                       "'2026-01-01 00:00:00', '2026-01-01 00:00:00')", 10 * i + 1, i, i);
        if (i % 3 == 0)
            wf_exec(w, "INSERT INTO subscription (id, profile_id, app, platform, token, active, "
                       "created_at, updated_at) VALUES (%d, %d, 'shop-app', 'android', 't%d-2', "
                       "%s, '2026-01-01 00:00:00', '2026-01-01 00:00:00')", 10 * i + 2, i, i,
                    i % 9 == 0 ? "FALSE" : "TRUE");
        if (i % 7 == 0)
            wf_exec(w, "INSERT INTO subscription (id, profile_id, app, platform, token, active, "
                       "created_at, updated_at) VALUES (%d, %d, 'other-app', 'ios', 't%d-3', TRUE, "
                       "'2026-01-01 00:00:00', '2026-01-01 00:00:00')", 10 * i + 3, i, i);
    }
}

static void test_query_subscription(void **state)
{
    struct wf w;
    int active_shop[64], ios_gold[64], na = 0, ni = 0;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    subscriptions(&w);
    for (int i = 1; i <= WF_N; i++) {
        if (i % 4 == 0)
            active_shop[na++] = 10 * i + 1;
        if (i % 3 == 0 && i % 9 != 0)
            active_shop[na++] = 10 * i + 2;
        if (gold(i) && i % 4 == 0)
            ios_gold[ni++] = 10 * i + 1;
        if (gold(i) && i % 7 == 0)
            ios_gold[ni++] = 10 * i + 3;
    }
    int64_t run = run_to_end(
        &w, "{'name': 'subs', 'activities': [{'id': 'start', 'type': 'start'},"
            " {'id': 'shop', 'type': 'query', 'dimension': 'subscription',"
            "  'filter': 'app = `shop-app` and active'},"
            " {'id': 'iosgold', 'type': 'query', 'dimension': 'subscription',"
            "  'filter': 'platform = `ios` and tier = `gold`'}],"
            " 'transitions': [{'from': 'start', 'to': 'shop'},"
            " {'from': 'start', 'to': 'iosgold'}]}");
    assert_string_equal(wf_out(&w, run, "shop", "default").s, wf_ids(active_shop, na).s);
    assert_string_equal(wf_out(&w, run, "iosgold", "default").s, wf_ids(ios_gold, ni).s);
    assert_string_equal(wf_out(&w, run, "iosgold", "default").s, "121 213 241");
    /* members are subscriptions, each with its own profile */
    assert_int_equal(wf_int(&w, "SELECT count(*) FROM population WHERE run_id = %lld AND "
                                "dimension = 'subscription'", (long long)run),
                     2);
    assert_int_equal(wf_int(&w, "SELECT count(*) FROM population_member m JOIN population p ON "
                                "p.id = m.population_id JOIN subscription s ON s.id = m.item_id "
                                "WHERE p.run_id = %lld AND s.profile_id = m.profile_id",
                            (long long)run),
                     na + ni);
    wf_close(&w);
}

static int by_birth_desc(const void *a, const void *b)
{
    return wf_birth(*(const int *)b) - wf_birth(*(const int *)a);
}
static int by_country_then_birth_desc(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    int c = strcmp(wf_country(x), wf_country(y));
    return c ? c : wf_birth(y) - wf_birth(x);
}
static int by_id(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* The first k of the ids where pred holds, in cmp's order, then sorted by id. */
static struct wf_text first_k(wf_pred pred, int (*cmp)(const void *, const void *), int k)
{
    int ids[WF_N], n = 0;
    for (int i = 1; i <= WF_N; i++)
        if (pred(i))
            ids[n++] = i;
    qsort(ids, (size_t)n, sizeof *ids, cmp);
    if (k < n)
        n = k;
    qsort(ids, (size_t)n, sizeof *ids, by_id);
    return wf_ids(ids, n);
}

static void test_query_limit_order(void **state)
{
    struct wf w;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    int64_t run = run_to_end(
        &w, "{'name': 'limits', 'activities': [{'id': 'start', 'type': 'start'},"
            " {'id': 'young', 'type': 'query', 'filter': 'email is not null', 'limit': 5,"
            "  'order': 'birth_date desc'},"
            " {'id': 'bycountry', 'type': 'query', 'filter': 'email is not null', 'limit': 6,"
            "  'order': 'country, birth_date DESC'},"
            " {'id': 'firstsilver', 'type': 'query', 'filter': 'tier = `silver`', 'limit': 4},"
            " {'id': 'none', 'type': 'query', 'filter': 'id > 0', 'limit': 0},"
            " {'id': 'unlimited', 'type': 'query', 'filter': 'tier = `silver`', "
            "  'order': 'birth_date'}],"
            " 'transitions': [{'from': 'start', 'to': 'young'},"
            " {'from': 'start', 'to': 'bycountry'},"
            " {'from': 'start', 'to': 'firstsilver'}, {'from': 'start', 'to': 'none'},"
            " {'from': 'start', 'to': 'unlimited'}]}");
    assert_string_equal(wf_out(&w, run, "young", "default").s,
                        first_k(wf_has_email, by_birth_desc, 5).s);
    assert_string_equal(wf_out(&w, run, "bycountry", "default").s,
                        first_k(wf_has_email, by_country_then_birth_desc, 6).s);
    assert_string_equal(wf_out(&w, run, "firstsilver", "default").s, "1 4 7 10");
    assert_string_equal(wf_out(&w, run, "none", "default").s, "");
    /* an order without a limit changes nothing */
    assert_string_equal(wf_out(&w, run, "unlimited", "default").s, wf_where(WF_N, silver).s);
    wf_close(&w);
}

/* now() and age() read the virtual clock when the query runs, not when it is checked */
static int born_by_1956_03_02(int i) { return wf_birth(i) <= 19560302; }
static int born_by_1957_03_02(int i) { return wf_birth(i) <= 19570302; }

static void test_query_follows_clock(void **state)
{
    struct wf w;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    static const char text[] =
        "{'name': 'age', 'activities': [{'id': 'start', 'type': 'start'},"
        " {'id': 'w', 'type': 'wait', 'duration': '365d'},"
        " {'id': 'now', 'type': 'query', 'filter': 'age(birth_date) >= 70'},"
        " {'id': 'later', 'type': 'query', 'filter': 'age(birth_date) >= 70 and "
        "   created_at < now() - 400d'}],"
        " 'transitions': [{'from': 'start', 'to': 'now'}, {'from': 'start', 'to': 'w'},"
        " {'from': 'w', 'to': 'later'}]}";
    int64_t run = wf_start(&w, text);
    wf_run(&w);
    assert_string_equal(wf_out(&w, run, "now", "default").s, wf_where(WF_N, born_by_1956_03_02).s);
    assert_string_equal(wf_out(&w, run, "now", "default").s, "15 22 29");
    w.clk.fixed += 365 * WF_DAY; /* 2027-03-02 */
    wf_run(&w);
    assert_string_equal(wf_run_status(&w, run).s, "finished");
    assert_string_equal(wf_out(&w, run, "later", "default").s,
                        wf_where(WF_N, born_by_1957_03_02).s);
    assert_string_equal(wf_out(&w, run, "later", "default").s, "1 8 15 22 29");
    wf_close(&w);
}

static void test_read_list(void **state)
{
    struct wf w;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    wf_list(&w, "vip", (const int[]){1, 5, 9, 13, 17, 21, 25, 29, 0});
    wf_list(&w, "empty", (const int[]){0});
    int64_t run = run_to_end(&w, "{'name': 'rl', 'activities': [{'id': 'start', 'type': 'start'},"
                                 " {'id': 'vip', 'type': 'read_list', 'list': 'vip'},"
                                 " {'id': 'empty', 'type': 'read_list', 'list': 'empty'}],"
                                 " 'transitions': [{'from': 'start', 'to': 'vip'},"
                                 " {'from': 'start', 'to': 'empty'}]}");
    assert_string_equal(wf_out(&w, run, "vip", "default").s, wf_where(WF_N, list_vip).s);
    assert_string_equal(wf_out(&w, run, "empty", "default").s, "");
    wf_close(&w);
}

/* ---------------------------------------------------------------- split */

static const char three_segments[] =
    "{'name': 'gold', 'filter': 'tier = `gold`'},"
    "{'name': 'fr', 'filter': 'country = `FR`'},"
    "{'name': 'phone', 'filter': 'phone is not null'}";

static int seg_fr_first(int i) { return fr(i) && !gold(i); }
static int seg_phone_first(int i) { return wf_has_phone(i) && !gold(i) && !fr(i); }
static int in_none(int i) { return !gold(i) && !fr(i) && !wf_has_phone(i); }

static int64_t run_split(struct wf *w, const char *opts, const char *segments)
{
    char text[4096];
    snprintf(text, sizeof text,
             "{'name': 'split', 'activities': [{'id': 'start', 'type': 'start'},"
             " {'id': 'all', 'type': 'query', 'filter': 'id > 0'},"
             " {'id': 'sp', 'type': 'split', %s 'segments': [%s]}],"
             " 'transitions': [{'from': 'start', 'to': 'all'}, {'from': 'all', 'to': 'sp'}]}",
             opts, segments);
    return run_to_end(w, text);
}

static void test_split_first_match(void **state)
{
    struct wf w;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    int64_t run = run_split(&w, "'complement': true,", three_segments);
    assert_string_equal(wf_out_names(&w, run, "sp").s, "complement fr gold phone");
    assert_string_equal(wf_out(&w, run, "sp", "gold").s, wf_where(WF_N, gold).s);
    assert_string_equal(wf_out(&w, run, "sp", "fr").s, wf_where(WF_N, seg_fr_first).s);
    assert_string_equal(wf_out(&w, run, "sp", "phone").s, wf_where(WF_N, seg_phone_first).s);
    assert_string_equal(wf_out(&w, run, "sp", "complement").s, wf_where(WF_N, in_none).s);
    assert_string_equal(wf_out(&w, run, "sp", "fr").s, "4 8 16 20 28");
    assert_int_equal(wf_out_count(&w, run, "sp", "gold") + wf_out_count(&w, run, "sp", "fr") +
                         wf_out_count(&w, run, "sp", "phone") +
                         wf_out_count(&w, run, "sp", "complement"),
                     WF_N);
    /* without complement there is no such output */
    run = run_split(&w, "", three_segments);
    assert_string_equal(wf_out_names(&w, run, "sp").s, "fr gold phone");
    wf_close(&w);
}

static void test_split_overlap(void **state)
{
    struct wf w;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    int64_t run = run_split(&w, "'overlap': true, 'complement': true,", three_segments);
    assert_string_equal(wf_out(&w, run, "sp", "gold").s, wf_where(WF_N, gold).s);
    assert_string_equal(wf_out(&w, run, "sp", "fr").s, wf_where(WF_N, fr).s);
    assert_string_equal(wf_out(&w, run, "sp", "phone").s, wf_where(WF_N, wf_has_phone).s);
    assert_string_equal(wf_out(&w, run, "sp", "complement").s, wf_where(WF_N, in_none).s);
    wf_close(&w);
}

static int by_birth(const void *a, const void *b)
{
    return wf_birth(*(const int *)a) - wf_birth(*(const int *)b);
}
/* Has an email but is not among the 4 oldest who have one. */
static int other_mail(int i)
{
    int older = 0;
    for (int j = 1; j <= WF_N; j++)
        older += wf_has_email(j) && wf_birth(j) < wf_birth(i);
    return wf_has_email(i) && older >= 4;
}
static int no_email_after_15(int i) { return !wf_has_email(i) && i > 15; }

static void test_split_limit_ordered(void **state)
{
    struct wf w;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    int64_t run = run_split(
        &w, "'complement': true,",
        "{'name': 'oldest', 'filter': 'email is not null', 'limit': 4, 'order': 'birth_date',"
        " 'sampling': 'ordered'},"
        "{'name': 'other_mail', 'filter': 'email is not null'},"
        "{'name': 'first3', 'limit': 3},"
        "{'name': 'youngest2', 'limit': 2, 'order': 'birth_date desc'}");
    assert_string_equal(wf_out(&w, run, "sp", "oldest").s, first_k(wf_has_email, by_birth, 4).s);
    /* what the limit left out flows on to the next segment */
    assert_string_equal(wf_out(&w, run, "sp", "other_mail").s, wf_where(WF_N, other_mail).s);
    /* no email: 5 10 15 20 25 30; the first three by id, then the two youngest left */
    assert_string_equal(wf_out(&w, run, "sp", "first3").s, "5 10 15");
    assert_string_equal(wf_out(&w, run, "sp", "youngest2").s,
                        first_k(no_email_after_15, by_birth_desc, 2).s);
    assert_string_equal(wf_out(&w, run, "sp", "complement").s,
                        first_k(no_email_after_15, by_birth, 1).s);
    wf_close(&w);
}

static void test_split_limit_random(void **state)
{
    struct wf w;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    int64_t run = run_split(&w, "'complement': true,",
                            "{'name': 'sample', 'filter': 'email is not null', 'limit': 5,"
                            " 'sampling': 'random'},"
                            "{'name': 'rest'}");
    assert_int_equal(wf_out_count(&w, run, "sp", "sample"), 5);
    assert_int_equal(wf_out_count(&w, run, "sp", "rest"), WF_N - 5);
    assert_int_equal(wf_out_count(&w, run, "sp", "complement"), 0);
    wf_close(&w);
}

/* Subscriptions flow through a split (filter, ordered limit) and a dedup like profiles. */
static void test_split_dedup_subscriptions(void **state)
{
    struct wf w;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    subscriptions(&w);
    int64_t run = run_to_end(
        &w, "{'name': 'subsplit', 'activities': [{'id': 'start', 'type': 'start'},"
            " {'id': 'subs', 'type': 'query', 'dimension': 'subscription', 'filter': 'active'},"
            " {'id': 'sp', 'type': 'split', 'complement': true, 'segments': ["
            "  {'name': 'gold_android', 'filter': 'platform = `android` and tier = `gold`'},"
            "  {'name': 'last2', 'limit': 2, 'order': 'id desc'}]},"
            " {'id': 'one', 'type': 'dedup', 'key': 'profile_id'}],"
            " 'transitions': [{'from': 'start', 'to': 'subs'}, {'from': 'subs', 'to': 'sp'},"
            " {'from': 'subs', 'to': 'one'}]}");
    /* active: 10 i + 1 (4 | i), 10 i + 2 (3 | i, 9 does not), 10 i + 3 (7 | i) */
    assert_string_equal(wf_out(&w, run, "subs", "default").s,
                        "32 41 62 73 81 121 122 143 152 161 201 212 213 241 242 281 283 302");
    /* every android subscription belongs to a gold profile (3 | i) */
    assert_string_equal(wf_out(&w, run, "sp", "gold_android").s,
                        "32 62 122 152 212 242 302");
    assert_string_equal(wf_out(&w, run, "sp", "last2").s, "281 283");
    assert_string_equal(wf_out(&w, run, "sp", "complement").s,
                        "41 73 81 121 143 161 201 213 241");
    /* one subscription per profile: the lowest id (profiles 12 21 24 28 have two) */
    assert_string_equal(wf_out(&w, run, "one", "default").s,
                        "32 41 62 73 81 121 143 152 161 201 212 241 281 302");
    assert_int_equal(wf_out_count(&w, run, "one", "default"),
                     wf_int(&w, "SELECT count(DISTINCT profile_id) FROM subscription "
                                "WHERE active"));
    wf_close(&w);
}

/* ---------------------------------------------------------------- joins of populations */

static int gold_or_fr(int i) { return gold(i) || fr(i); }
static int gold_fr_phone(int i) { return gold(i) && fr(i) && wf_has_phone(i); }
static int gold_not_fr(int i) { return gold(i) && !fr(i); }
static int fr_not_gold_nor_phone(int i) { return fr(i) && !gold(i) && !wf_has_phone(i); }

static void test_union_intersection_exclusion(void **state)
{
    struct wf w;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    int64_t run = run_to_end(
        &w, "{'name': 'sets', 'activities': [{'id': 'start', 'type': 'start'},"
            " {'id': 'g', 'type': 'query', 'filter': 'tier = `gold`'},"
            " {'id': 'f', 'type': 'query', 'filter': 'country = `FR`'},"
            " {'id': 'ph', 'type': 'query', 'filter': 'phone is not null'},"
            " {'id': 'u', 'type': 'union'},"
            " {'id': 'i', 'type': 'intersection'},"
            " {'id': 'ex', 'type': 'exclusion', 'keep': 'g'},"
            " {'id': 'ex2', 'type': 'exclusion', 'keep': 'f'}],"
            " 'transitions': [{'from': 'start', 'to': 'g'}, {'from': 'start', 'to': 'f'},"
            " {'from': 'start', 'to': 'ph'},"
            " {'from': 'g', 'to': 'u'}, {'from': 'f', 'to': 'u'},"
            " {'from': 'g', 'to': 'i'}, {'from': 'f', 'to': 'i'}, {'from': 'ph', 'to': 'i'},"
            " {'from': 'f', 'to': 'ex'}, {'from': 'g', 'to': 'ex'},"
            " {'from': 'g', 'to': 'ex2'}, {'from': 'ph', 'to': 'ex2'},"
            " {'from': 'f', 'to': 'ex2'}]}");
    assert_string_equal(wf_out(&w, run, "u", "default").s, wf_where(WF_N, gold_or_fr).s);
    assert_string_equal(wf_out(&w, run, "i", "default").s, wf_where(WF_N, gold_fr_phone).s);
    assert_string_equal(wf_out(&w, run, "i", "default").s, "12 24");
    assert_string_equal(wf_out(&w, run, "ex", "default").s, wf_where(WF_N, gold_not_fr).s);
    assert_string_equal(wf_out(&w, run, "ex2", "default").s, "");
    assert_string_equal(wf_out(&w, run, "ex2", "default").s,
                        wf_where(WF_N, fr_not_gold_nor_phone).s);
    /* each join ran once, with all its inputs */
    assert_int_equal(wf_int(&w, "SELECT count(*) FROM activity_run WHERE run_id = %lld AND "
                                "activity_id IN ('u', 'i', 'ex', 'ex2')", (long long)run),
                     4);
    assert_int_equal(wf_int(&w, "SELECT count_in FROM activity_run WHERE run_id = %lld AND "
                                "activity_id = 'i'", (long long)run),
                     wf_int(&w, "SELECT count(*) FROM profile WHERE tier = 'gold'") +
                         wf_int(&w, "SELECT count(*) FROM profile WHERE country = 'FR'") +
                         wf_int(&w, "SELECT count(*) FROM profile WHERE phone IS NOT NULL"));
    wf_close(&w);
}

/* ---------------------------------------------------------------- dedup */

static int dedup_email(int i) { return i != 2 && i != 4 && i != 8; }

static void test_dedup(void **state)
{
    struct wf w;
    wf_open(&w, state);
    wf_profiles(&w, WF_N);
    /* 2, 3, 4 share an address, so do 7 and 8; 11 joins the profiles without one
     * (5 10 15 20 25 30), which are never duplicates of each other */
    wf_exec(&w, "UPDATE profile SET email = 'dup@example.com' WHERE id IN (2, 3, 4)");
    wf_exec(&w, "UPDATE profile SET email = 'twin@example.com' WHERE id IN (7, 8)");
    wf_exec(&w, "UPDATE profile SET email = NULL WHERE id = 11");
    int64_t run = run_to_end(
        &w, "{'name': 'dedup', 'activities': [{'id': 'start', 'type': 'start'},"
            " {'id': 'not2', 'type': 'query', 'filter': 'id <> 2'},"
            " {'id': 'byemail', 'type': 'dedup', 'key': 'email'},"
            " {'id': 'bytier', 'type': 'dedup', 'key': 'tier'}],"
            " 'transitions': [{'from': 'start', 'to': 'not2'}, {'from': 'not2', 'to': 'byemail'},"
            " {'from': 'not2', 'to': 'bytier'}]}");
    /* 2 is not in the population, so 3 keeps the shared address and 4 goes; 8 goes */
    assert_string_equal(wf_out(&w, run, "byemail", "default").s, wf_where(WF_N, dedup_email).s);
    assert_int_equal(wf_out_count(&w, run, "byemail", "default"), WF_N - 3);
    assert_int_equal(wf_int(&w, "SELECT count(*) FROM profile WHERE email IS NULL"), 7);
    /* one per tier, the lowest id of the population: silver 1, gold 3, bronze 5 */
    assert_string_equal(wf_out(&w, run, "bytier", "default").s, "1 3 5");
    wf_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        WF_BOTH(test_query_profile),
        WF_BOTH(test_query_subscription),
        WF_BOTH(test_query_limit_order),
        WF_BOTH(test_query_follows_clock),
        WF_BOTH(test_read_list),
        WF_BOTH(test_split_first_match),
        WF_BOTH(test_split_overlap),
        WF_BOTH(test_split_limit_ordered),
        WF_BOTH(test_split_limit_random),
        WF_BOTH(test_split_dedup_subscriptions),
        WF_BOTH(test_union_intersection_exclusion),
        WF_BOTH(test_dedup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
