/*
 * test_campaign.c - campaigns on both backends: add, ensure (inside transactions), get, list,
 * close, the status computed from the dates and a fixed clock, and the workflows and
 * deliveries that belong to a campaign
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "campaign/campaign.h"
#include "core/clock.h"
#include "core/datetime.h"
#include "testdb.h"

#define DAY (INT64_C(86400) * CR_USEC_PER_SEC)

static enum cr_dialect dialect_of(void **state)
{
    return (enum cr_dialect)(intptr_t)*state;
}

static cr_time_t ts(const char *s)
{
    cr_time_t t = 0;
    struct cr_err err = CR_ERR_INIT;
    if (cr_time_parse(s, strlen(s), &t, &err))
        fail_msg("bad time in test: %s", err.msg);
    return t;
}

/* Reads a campaign's computed status; fails the test if it cannot. */
static const char *status_of(struct cr_store *s, struct cr_clock *clk, const char *name)
{
    static char out[16];
    struct cr_campaign c;
    struct cr_err err = CR_ERR_INIT;
    if (cr_campaign_get(s, clk, name, &c, &err))
        fail_msg("get %s: %s", name, err.msg);
    snprintf(out, sizeof out, "%s", c.status);
    cr_campaign_release(&c);
    return out;
}

static void test_status_rules(void **state)
{
    cr_time_t start = ts("2026-12-01T09:00:00Z"), end = ts("2027-01-31");
    (void)state;
    assert_string_equal(cr_campaign_status_at("open", 0, 0, start), "running");
    assert_string_equal(cr_campaign_status_at("open", start, end, start - 1), "planned");
    assert_string_equal(cr_campaign_status_at("open", start, end, start), "running");
    assert_string_equal(cr_campaign_status_at("open", start, end, end - 1), "running");
    assert_string_equal(cr_campaign_status_at("open", start, end, end), "finished");
    assert_string_equal(cr_campaign_status_at("open", start, 0, start + 1000 * DAY), "running");
    assert_string_equal(cr_campaign_status_at("open", 0, end, end - 1), "running");
    assert_string_equal(cr_campaign_status_at("open", 0, end, end + 1), "finished");
    assert_string_equal(cr_campaign_status_at(NULL, start, end, start - 1), "planned");
    /* Closed wins over every date. */
    assert_string_equal(cr_campaign_status_at("closed", start, end, start - 1), "closed");
    assert_string_equal(cr_campaign_status_at("closed", start, end, start), "closed");
    assert_string_equal(cr_campaign_status_at("closed", 0, 0, start), "closed");
}

static void test_names(void **state)
{
    char longest[CR_CAMPAIGN_NAME_MAX + 2];
    (void)state;
    memset(longest, 'a', sizeof longest);
    longest[CR_CAMPAIGN_NAME_MAX] = '\0';
    assert_true(cr_campaign_name_ok(longest));
    longest[CR_CAMPAIGN_NAME_MAX] = 'a';
    longest[CR_CAMPAIGN_NAME_MAX + 1] = '\0';
    assert_false(cr_campaign_name_ok(longest));
    assert_true(cr_campaign_name_ok("a"));
    assert_true(cr_campaign_name_ok("winter-2026"));
    assert_true(cr_campaign_name_ok("Q4.promo_v2-final"));
    assert_true(cr_campaign_name_ok("2026-winter"));
    assert_true(cr_campaign_name_ok("1a"));
    assert_false(cr_campaign_name_ok(""));
    assert_false(cr_campaign_name_ok("2026")); /* would read as an id */
    assert_false(cr_campaign_name_ok("-winter"));
    assert_false(cr_campaign_name_ok(".winter"));
    assert_false(cr_campaign_name_ok("_winter"));
    assert_false(cr_campaign_name_ok("winter sale"));
    assert_false(cr_campaign_name_ok("winter/sale"));
    assert_false(cr_campaign_name_ok("hiver-\xC3\xA9t\xC3\xA9"));
    assert_false(cr_campaign_name_ok("a'b"));
}

static void test_add_get(void **state)
{
    struct cr_store *s = testdb_open(dialect_of(state));
    struct cr_err err = CR_ERR_INIT;
    struct cr_clock clk;
    struct cr_campaign c;
    int64_t id1 = 0, id2 = 0;
    char idtext[32];
    cr_clock_fixed_init(&clk, ts("2026-11-15T10:30:00.25Z"));

    assert_int_equal(cr_campaign_add(s, &clk, "winter-2026", "Winter sale \xE2\x9D\x84",
                                     ts("2026-12-01T09:00:00Z"), ts("2027-01-31"), &id1, &err),
                     0);
    assert_true(id1 > 0);
    assert_int_equal(cr_campaign_add(s, &clk, "summer", NULL, 0, 0, &id2, &err), 0);
    assert_true(id2 > id1);

    assert_int_equal(cr_campaign_get(s, &clk, "winter-2026", &c, &err), 0);
    assert_int_equal(c.id, id1);
    assert_string_equal(c.name, "winter-2026");
    assert_string_equal(c.label, "Winter sale \xE2\x9D\x84");
    assert_true(c.start_at == ts("2026-12-01T09:00:00Z"));
    assert_true(c.end_at == ts("2027-01-31T00:00:00Z"));
    assert_true(c.created_at == ts("2026-11-15T10:30:00.25Z"));
    assert_string_equal(c.status, "planned");
    cr_campaign_release(&c);

    /* By id; an empty label is no label. */
    snprintf(idtext, sizeof idtext, "%lld", (long long)id2);
    assert_int_equal(cr_campaign_get(s, &clk, idtext, &c, &err), 0);
    assert_string_equal(c.name, "summer");
    assert_null(c.label);
    assert_true(c.start_at == 0 && c.end_at == 0);
    assert_string_equal(c.status, "running");
    cr_campaign_release(&c);
    assert_int_equal(cr_campaign_add(s, &clk, "empty-label", "", 0, 0, &id2, &err), 0);
    assert_int_equal(cr_campaign_get(s, &clk, "empty-label", &c, &err), 0);
    assert_null(c.label);
    cr_campaign_release(&c);

    /* Not found, by name and by id. */
    assert_int_equal(cr_campaign_get(s, &clk, "nope", &c, &err), CR_ENOTFOUND);
    assert_string_equal(err.msg, "no campaign named 'nope'");
    assert_null(c.name);
    cr_err_clear(&err);
    assert_int_equal(cr_campaign_get(s, &clk, "4242", &c, &err), CR_ENOTFOUND);
    assert_string_equal(err.msg, "no campaign with id 4242");
    cr_err_clear(&err);
    testdb_close(s);
}

static void test_add_refused(void **state)
{
    struct cr_store *s = testdb_open(dialect_of(state));
    struct cr_err err = CR_ERR_INIT;
    struct cr_clock clk;
    char label[CR_CAMPAIGN_LABEL_MAX + 2];
    cr_time_t start = ts("2026-12-01"), end = ts("2026-12-31");
    int64_t id = 0, n = -1;
    cr_clock_fixed_init(&clk, ts("2026-11-01"));

    assert_int_equal(cr_campaign_add(s, &clk, "winter", NULL, start, end, &id, &err), 0);
    /* A duplicate name: CR_EEXISTS with a message that says so, and nothing changes. */
    assert_int_equal(cr_campaign_add(s, &clk, "winter", "other", 0, 0, &id, &err), CR_EEXISTS);
    assert_string_equal(err.msg, "a campaign named 'winter' already exists");
    cr_err_clear(&err);

    assert_int_equal(cr_campaign_add(s, &clk, "", NULL, 0, 0, &id, &err), CR_EINVAL);
    assert_string_equal(err.msg, "a campaign name cannot be empty");
    cr_err_clear(&err);
    assert_int_equal(cr_campaign_add(s, &clk, "winter sale", NULL, 0, 0, &id, &err), CR_EINVAL);
    assert_non_null(strstr(err.msg, "invalid campaign name 'winter sale'"));
    cr_err_clear(&err);
    assert_int_equal(cr_campaign_add(s, &clk, "12", NULL, 0, 0, &id, &err), CR_EINVAL);
    assert_non_null(strstr(err.msg, "not only digits"));
    cr_err_clear(&err);
    memset(label, 'x', sizeof label);
    label[sizeof label - 1] = '\0';
    assert_int_equal(cr_campaign_add(s, &clk, label, NULL, 0, 0, &id, &err), CR_EINVAL);
    assert_non_null(strstr(err.msg, "too long"));
    cr_err_clear(&err);

    /* End before start, and end equal to start. */
    assert_int_equal(cr_campaign_add(s, &clk, "backwards", NULL, end, start, &id, &err), CR_EINVAL);
    assert_string_equal(err.msg, "campaign end 2026-12-01T00:00:00Z is not after its start "
                                 "2026-12-31T00:00:00Z");
    cr_err_clear(&err);
    assert_int_equal(cr_campaign_add(s, &clk, "instant", NULL, start, start, &id, &err), CR_EINVAL);
    cr_err_clear(&err);

    /* Labels: bounded, UTF-8. */
    assert_int_equal(cr_campaign_add(s, &clk, "long-label", label, 0, 0, &id, &err), CR_EINVAL);
    assert_non_null(strstr(err.msg, "label too long"));
    cr_err_clear(&err);
    assert_int_equal(cr_campaign_add(s, &clk, "bad-label", "caf\xE9", 0, 0, &id, &err), CR_EINVAL);
    assert_non_null(strstr(err.msg, "not valid UTF-8"));
    cr_err_clear(&err);

    assert_int_equal(cr_store_query_int64(s, &err, &n, "SELECT count(*) FROM campaign", NULL), 1);
    assert_int_equal(n, 1);
    testdb_close(s);
}

static void test_status_follows_clock(void **state)
{
    struct cr_store *s = testdb_open(dialect_of(state));
    struct cr_err err = CR_ERR_INIT;
    struct cr_clock clk;
    int64_t id;
    cr_time_t start = ts("2026-12-01T09:00:00Z"), end = ts("2026-12-08T09:00:00Z");
    cr_clock_fixed_init(&clk, ts("2026-11-20T00:00:00Z"));

    assert_int_equal(cr_campaign_add(s, &clk, "xmas", NULL, start, end, &id, &err), 0);
    assert_int_equal(cr_campaign_add(s, &clk, "open-ended", NULL, start, 0, &id, &err), 0);
    assert_int_equal(cr_campaign_add(s, &clk, "until", NULL, 0, end, &id, &err), 0);
    assert_int_equal(cr_campaign_add(s, &clk, "always", NULL, 0, 0, &id, &err), 0);
    assert_string_equal(status_of(s, &clk, "xmas"), "planned");
    assert_string_equal(status_of(s, &clk, "open-ended"), "planned");
    assert_string_equal(status_of(s, &clk, "until"), "running");
    assert_string_equal(status_of(s, &clk, "always"), "running");

    clk.fixed = start - 1;
    assert_string_equal(status_of(s, &clk, "xmas"), "planned");
    clk.fixed = start;
    assert_string_equal(status_of(s, &clk, "xmas"), "running");
    assert_string_equal(status_of(s, &clk, "open-ended"), "running");
    clk.fixed = end - 1;
    assert_string_equal(status_of(s, &clk, "xmas"), "running");
    assert_string_equal(status_of(s, &clk, "until"), "running");
    clk.fixed = end;
    assert_string_equal(status_of(s, &clk, "xmas"), "finished");
    assert_string_equal(status_of(s, &clk, "until"), "finished");
    assert_string_equal(status_of(s, &clk, "open-ended"), "running");
    assert_string_equal(status_of(s, &clk, "always"), "running");
    /* The clock going back (a virtual clock set earlier) makes it planned again: nothing but
     * 'open' or 'closed' is stored. */
    clk.fixed = start - DAY;
    assert_string_equal(status_of(s, &clk, "xmas"), "planned");
    testdb_close(s);
}

static void test_close(void **state)
{
    struct cr_store *s = testdb_open(dialect_of(state));
    struct cr_err err = CR_ERR_INIT;
    struct cr_clock clk;
    char *stored = NULL;
    int64_t id;
    cr_clock_fixed_init(&clk, ts("2026-11-20"));

    assert_int_equal(
        cr_campaign_add(s, &clk, "xmas", NULL, ts("2026-12-01"), ts("2026-12-31"), &id, &err), 0);
    assert_int_equal(cr_campaign_close(s, &clk, id, &err), 0);
    assert_string_equal(status_of(s, &clk, "xmas"), "closed");
    clk.fixed = ts("2026-12-10");
    assert_string_equal(status_of(s, &clk, "xmas"), "closed");
    clk.fixed = ts("2027-02-01");
    assert_string_equal(status_of(s, &clk, "xmas"), "closed");
    /* Closing again changes nothing; the column holds 'closed'. */
    assert_int_equal(cr_campaign_close(s, &clk, id, &err), 0);
    assert_int_equal(
        cr_store_query_text(s, &err, &stored, "SELECT status FROM campaign WHERE id = ?", "i", id),
        1);
    assert_string_equal(stored, "closed");
    free(stored);
    assert_int_equal(cr_campaign_close(s, &clk, id + 100, &err), CR_ENOTFOUND);
    assert_non_null(strstr(err.msg, "no campaign with id"));
    testdb_close(s);
}

static void test_ensure(void **state)
{
    struct cr_store *s = testdb_open(dialect_of(state));
    struct cr_err err = CR_ERR_INIT;
    struct cr_clock clk;
    struct cr_campaign c;
    int64_t added, id = 0, again = 0;
    cr_clock_fixed_init(&clk, ts("2026-11-20T08:00:00Z"));

    /* An existing campaign: its id, untouched. */
    assert_int_equal(
        cr_campaign_add(s, &clk, "winter", "Winter", ts("2026-12-01"), 0, &added, &err), 0);
    assert_int_equal(cr_campaign_ensure(s, &clk, "winter", &id, &err), 0);
    assert_int_equal(id, added);
    assert_int_equal(cr_campaign_get(s, &clk, "winter", &c, &err), 0);
    assert_string_equal(c.label, "Winter");
    assert_string_equal(c.status, "planned");
    cr_campaign_release(&c);

    /* A new one: no label, no dates, running. */
    assert_int_equal(cr_campaign_ensure(s, &clk, "spring", &id, &err), 0);
    assert_true(id > added);
    assert_int_equal(cr_campaign_ensure(s, &clk, "spring", &again, &err), 0);
    assert_int_equal(again, id);
    assert_int_equal(cr_campaign_get(s, &clk, "spring", &c, &err), 0);
    assert_int_equal(c.id, id);
    assert_null(c.label);
    assert_true(c.start_at == 0 && c.end_at == 0);
    assert_true(c.created_at == ts("2026-11-20T08:00:00Z"));
    assert_string_equal(c.status, "running");
    cr_campaign_release(&c);

    /* Bad names are refused as by add. */
    assert_int_equal(cr_campaign_ensure(s, &clk, "no spaces", &id, &err), CR_EINVAL);
    cr_err_clear(&err);
    assert_int_equal(cr_campaign_ensure(s, &clk, "", &id, &err), CR_EINVAL);
    cr_err_clear(&err);
    testdb_close(s);
}

static void test_ensure_in_transaction(void **state)
{
    struct cr_store *s = testdb_open(dialect_of(state));
    struct cr_err err = CR_ERR_INIT;
    struct cr_clock clk;
    int64_t existing, id = 0, again = 0, n = -1;
    cr_clock_fixed_init(&clk, ts("2026-11-20"));
    assert_int_equal(cr_campaign_add(s, &clk, "winter", NULL, 0, 0, &existing, &err), 0);

    /* Rolled back with the caller's transaction. */
    assert_int_equal(cr_store_begin(s, &err), 0);
    assert_int_equal(cr_campaign_ensure(s, &clk, "spring", &id, &err), 0);
    assert_true(cr_store_in_transaction(s));
    assert_int_equal(cr_campaign_ensure(s, &clk, "spring", &again, &err), 0);
    assert_int_equal(again, id);
    cr_store_rollback(s);
    assert_int_equal(cr_store_query_int64(
                         s, &err, &n, "SELECT count(*) FROM campaign WHERE name = 'spring'", NULL),
                     1);
    assert_int_equal(n, 0);

    /* Committed with it; ensuring an existing name leaves the transaction usable (on
     * PostgreSQL a failed statement would abort it). */
    assert_int_equal(cr_store_begin(s, &err), 0);
    assert_int_equal(cr_campaign_ensure(s, &clk, "winter", &id, &err), 0);
    assert_int_equal(id, existing);
    assert_int_equal(cr_campaign_ensure(s, &clk, "spring", &id, &err), 0);
    assert_int_equal(cr_store_run(s, &err,
                                  "INSERT INTO workflow (name, campaign_id, definition, "
                                  "created_at, updated_at) VALUES ('wf', ?, '{}', "
                                  "'2026-11-20 00:00:00', '2026-11-20 00:00:00')",
                                  "i", id),
                     0);
    assert_true(cr_store_in_transaction(s));
    assert_int_equal(cr_store_commit(s, &err), 0);
    assert_int_equal(cr_store_query_int64(s, &err, &n,
                                          "SELECT count(*) FROM workflow w JOIN campaign c ON "
                                          "c.id = w.campaign_id WHERE c.name = 'spring'",
                                          NULL),
                     1);
    assert_int_equal(n, 1);
    testdb_close(s);
}

struct names {
    char text[512];
    int calls, stop_at;
};

static int collect(void *data, const struct cr_campaign *c)
{
    struct names *nm = data;
    size_t len = strlen(nm->text);
    snprintf(nm->text + len, sizeof nm->text - len, "%s%s=%s", len ? " " : "", c->name, c->status);
    return ++nm->calls == nm->stop_at ? 7 : 0;
}

static void test_list(void **state)
{
    struct cr_store *s = testdb_open(dialect_of(state));
    struct cr_err err = CR_ERR_INIT;
    struct cr_clock clk;
    struct names nm = {{0}, 0, 0};
    int64_t id;
    cr_clock_fixed_init(&clk, ts("2026-12-15"));

    assert_int_equal(cr_campaign_list(s, &clk, collect, &nm, &err), 0);
    assert_int_equal(nm.calls, 0);

    assert_int_equal(cr_campaign_add(s, &clk, "zeta", NULL, ts("2027-01-01"), 0, &id, &err), 0);
    assert_int_equal(
        cr_campaign_add(s, &clk, "alpha", NULL, ts("2026-12-01"), ts("2026-12-10"), &id, &err), 0);
    assert_int_equal(cr_campaign_ensure(s, &clk, "mid", &id, &err), 0);
    assert_int_equal(cr_campaign_add(s, &clk, "gone", NULL, 0, 0, &id, &err), 0);
    assert_int_equal(cr_campaign_close(s, &clk, id, &err), 0);

    /* In creation (id) order, each with its computed status. */
    assert_int_equal(cr_campaign_list(s, &clk, collect, &nm, &err), 0);
    assert_string_equal(nm.text, "zeta=planned alpha=finished mid=running gone=closed");
    assert_int_equal(nm.calls, 4);

    /* A non-zero return stops the walk and comes back. */
    memset(&nm, 0, sizeof nm);
    nm.stop_at = 2;
    assert_int_equal(cr_campaign_list(s, &clk, collect, &nm, &err), 7);
    assert_string_equal(nm.text, "zeta=planned alpha=finished");
    testdb_close(s);
}

struct members {
    char text[1024];
};

static int member(void *data, const struct cr_campaign_member *m)
{
    struct members *ms = data;
    size_t len = strlen(ms->text);
    snprintf(ms->text + len, sizeof ms->text - len, "%s%lld:%s:%s:%s", len ? " " : "",
             (long long)m->id, m->name ? m->name : "-", m->channel ? m->channel : "-", m->status);
    return 0;
}

static void test_members(void **state)
{
    struct cr_store *s = testdb_open(dialect_of(state));
    struct cr_err err = CR_ERR_INIT;
    struct cr_clock clk;
    struct members ms;
    int64_t winter, summer, w1 = 0, w2 = 0, w3 = 0, d1 = 0, d2 = 0, d3 = 0, d4 = 0;
    char expect[256];
    cr_clock_fixed_init(&clk, ts("2026-12-15"));
    assert_int_equal(cr_campaign_add(s, &clk, "winter", NULL, 0, 0, &winter, &err), 0);
    assert_int_equal(cr_campaign_add(s, &clk, "summer", NULL, 0, 0, &summer, &err), 0);

    memset(&ms, 0, sizeof ms);
    assert_int_equal(cr_campaign_workflows(s, winter, member, &ms, &err), 0);
    assert_int_equal(cr_campaign_deliveries(s, winter, member, &ms, &err), 0);
    assert_string_equal(ms.text, "");

#define WF_SQL                                                                                     \
    "INSERT INTO workflow (name, campaign_id, definition, status, created_at, updated_at) "        \
    "VALUES (?, ?, '{}', ?, '2026-12-01 00:00:00', '2026-12-01 00:00:00') RETURNING id"
#define DL_SQL                                                                                     \
    "INSERT INTO delivery (label, channel, campaign_id, status, parent_id, created_at, "           \
    "updated_at) VALUES (?, ?, ?, ?, ?, '2026-12-01 00:00:00', '2026-12-01 00:00:00') "            \
    "RETURNING id"
    assert_int_equal(
        cr_store_query_int64(s, &err, &w1, WF_SQL, "sis", "gold-offer", winter, "running"), 1);
    assert_int_equal(cr_store_query_int64(s, &err, &w2, WF_SQL, "sis", "beach", summer, "draft"),
                     1);
    assert_int_equal(cr_store_query_int64(s, &err, &w3, WF_SQL, "sns", "orphan", "draft"), 1);
    assert_int_equal(
        cr_store_query_int64(s, &err, &d1, DL_SQL, "ssisn", "Offer", "email", winter, "sent"), 1);
    assert_int_equal(
        cr_store_query_int64(s, &err, &d2, DL_SQL, "ssisn", "Beach SMS", "sms", summer, "draft"),
        1);
    /* An execution of a recurring delivery: reported under its parent, not here. */
    assert_int_equal(cr_store_query_int64(s, &err, &d3, DL_SQL, "ssisi", "Offer 2026-12-02",
                                          "email", winter, "sent", d1),
                     1);
    /* A delivery without a label. */
    assert_int_equal(cr_store_query_int64(s, &err, &d4, DL_SQL, "nsisn", "push", winter, "ready"),
                     1);
    assert_true(w3 > 0 && d3 > 0);

    memset(&ms, 0, sizeof ms);
    assert_int_equal(cr_campaign_workflows(s, winter, member, &ms, &err), 0);
    snprintf(expect, sizeof expect, "%lld:gold-offer:-:running", (long long)w1);
    assert_string_equal(ms.text, expect);
    memset(&ms, 0, sizeof ms);
    assert_int_equal(cr_campaign_deliveries(s, winter, member, &ms, &err), 0);
    snprintf(expect, sizeof expect, "%lld:Offer:email:sent %lld:-:push:ready", (long long)d1,
             (long long)d4);
    assert_string_equal(ms.text, expect);
    memset(&ms, 0, sizeof ms);
    assert_int_equal(cr_campaign_workflows(s, summer, member, &ms, &err), 0);
    assert_int_equal(cr_campaign_deliveries(s, summer, member, &ms, &err), 0);
    snprintf(expect, sizeof expect, "%lld:beach:-:draft %lld:Beach SMS:sms:draft", (long long)w2,
             (long long)d2);
    assert_string_equal(ms.text, expect);
    testdb_close(s);
}

#define BOTH(fn)                                                                                   \
    cmocka_unit_test_prestate(fn, (void *)(intptr_t)CR_DIALECT_SQLITE),                            \
        cmocka_unit_test_prestate(fn, (void *)(intptr_t)CR_DIALECT_POSTGRES)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_rules),
        cmocka_unit_test(test_names),
        BOTH(test_add_get),
        BOTH(test_add_refused),
        BOTH(test_status_follows_clock),
        BOTH(test_close),
        BOTH(test_ensure),
        BOTH(test_ensure_in_transaction),
        BOTH(test_list),
        BOTH(test_members),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
