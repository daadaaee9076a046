/*
 * wf_test.c - the workflow tests' shared fixture (see wf_test.h)
 */
#include "wf_test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/mem.h"
#include "delivery/account.h"
#include "delivery/delivery.h"
#include "delivery/dtemplate.h"
#include "testdb.h"

void wf_open(struct wf *w, void **state)
{
    w->d = (enum cr_dialect)(intptr_t)*state;
    w->s = testdb_open(w->d);
    w->pickup[0] = '\0';
    cr_clock_fixed_init(&w->clk, wf_ts(WF_T0));
}

void wf_close(struct wf *w)
{
    cr_delivery_engine_close();
    testdb_close(w->s);
    w->s = NULL;
    if (w->pickup[0]) {
        DIR *dir = opendir(w->pickup);
        struct dirent *e;
        char path[sizeof w->pickup + 300];
        while (dir && (e = readdir(dir))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", w->pickup, e->d_name);
            unlink(path);
        }
        if (dir)
            closedir(dir);
        if (rmdir(w->pickup) != 0)
            fail_msg("cannot remove the pickup folder %s", w->pickup);
        w->pickup[0] = '\0';
    }
}

cr_time_t wf_ts(const char *iso)
{
    cr_time_t t = 0;
    struct cr_err err = CR_ERR_INIT;
    if (cr_time_parse(iso, strlen(iso), &t, &err))
        fail_msg("bad time in test '%s': %s", iso, err.msg);
    return t;
}

/* ---------------------------------------------------------------- data */

const char *wf_tier(int i)
{
    return i % 3 == 0 ? "gold" : i % 3 == 1 ? "silver" : "bronze";
}

const char *wf_country(int i)
{
    static const char *const c[] = {"FR", "BE", "DE", "US"};
    return c[i % 4];
}

int wf_has_email(int i)
{
    return i % 5 != 0;
}

int wf_has_phone(int i)
{
    return i % 2 == 0;
}

int wf_birth(int i)
{
    return (1950 + (i * 7) % 50) * 10000 + (1 + i % 12) * 100 + (1 + i % 28);
}

void wf_profiles(struct wf *w, int n)
{
    struct cr_err err = CR_ERR_INIT;
    struct cr_stmt *st = NULL;
    if (cr_stmt_prepare(w->s,
                        "INSERT INTO profile (external_id, email, phone, first_name, tier, "
                        "country, language, birth_date, created_at, updated_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        &st, &err))
        fail_msg("prepare: %s", err.msg);
    for (int i = 1; i <= n; i++) {
        char ext[16], email[64], phone[32], first[32], birth[16];
        int b = wf_birth(i);
        snprintf(ext, sizeof ext, "p%d", i);
        snprintf(email, sizeof email, "user%d@example.com", i);
        snprintf(phone, sizeof phone, "+336120000%02d", i);
        snprintf(first, sizeof first, "Name%d", i);
        snprintf(birth, sizeof birth, "%04d-%02d-%02d", b / 10000, b / 100 % 100, b % 100);
        cr_stmt_reset(st);
        cr_stmt_bind_str(st, 1, ext);
        cr_stmt_bind_str(st, 2, wf_has_email(i) ? email : NULL);
        cr_stmt_bind_str(st, 3, wf_has_phone(i) ? phone : NULL);
        cr_stmt_bind_str(st, 4, first);
        cr_stmt_bind_str(st, 5, wf_tier(i));
        cr_stmt_bind_str(st, 6, wf_country(i));
        cr_stmt_bind_str(st, 7, i % 4 < 2 ? "fr" : "en");
        cr_stmt_bind_str(st, 8, birth);
        cr_stmt_bind_str(st, 9, "2026-01-01 00:00:00");
        cr_stmt_bind_str(st, 10, "2026-01-01 00:00:00");
        if (cr_stmt_step(st, &err) < 0)
            fail_msg("insert profile %d: %s", i, err.msg);
    }
    cr_stmt_free(st);
    assert_int_equal(wf_int(w, "SELECT count(*) FROM profile WHERE id BETWEEN 1 AND %d", n), n);
}

void wf_template(struct wf *w, const char *name, const char *channel, const char *content)
{
    struct cr_err err = CR_ERR_INIT;
    if (cr_store_run(w->s, &err,
                     "INSERT INTO template (name, channel, content, created_at, updated_at) "
                     "VALUES (?, ?, ?, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
                     "sss", name, channel, content))
        fail_msg("template %s: %s", name, err.msg);
}

void wf_account(struct wf *w, const char *name, const char *kind, const char *channel)
{
    struct cr_err err = CR_ERR_INIT;
    if (cr_store_run(w->s, &err,
                     "INSERT INTO account (name, kind, channel, created_at, updated_at) "
                     "VALUES (?, ?, ?, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
                     "sss", name, kind, channel))
        fail_msg("account %s: %s", name, err.msg);
}

void wf_delivery_setup(struct wf *w)
{
    struct cr_err err = CR_ERR_INIT;
    int64_t id = 0;
    json_t *content = json_pack("{ss ss ss}", "from", "Shop <news@shop.example>", "subject",
                                "Our offer, {{ profile.first_name }}", "html",
                                "<p>Hello <a href=\"https://shop.example/offer\">offer</a></p>");
    if (cr_dtemplate_add(w->s, &w->clk, "email", "offer", content, 0, &id, &err))
        fail_msg("template offer: %s", err.msg);
    json_decref(content);
    snprintf(w->pickup, sizeof w->pickup, "/tmp/crier-wf-pickup-XXXXXX");
    if (!mkdtemp(w->pickup))
        fail_msg("mkdtemp failed");
    json_t *settings = json_pack("{ss}", "dir", w->pickup);
    if (cr_account_add(w->s, &w->clk, "mail", "pickup", "email", "bulk", settings, NULL, &id,
                       &err))
        fail_msg("account mail: %s", err.msg);
    json_decref(settings);
    wf_template(w, "offer-sms", "sms", "{\"text\": \"Offer for {{ profile.first_name }}\"}");
    wf_account(w, "sms", "smpp", "sms");
}

void wf_list(struct wf *w, const char *name, const int *ids)
{
    wf_exec(w, "INSERT INTO list (name, created_at, updated_at) VALUES ('%s', "
               "'2026-01-01 00:00:00', '2026-01-01 00:00:00')", name);
    for (; *ids; ids++)
        wf_exec(w, "INSERT INTO list_member (list_id, profile_id, added_at) SELECT id, %d, "
                   "'2026-01-01 00:00:00' FROM list WHERE name = '%s'", *ids, name);
}

/* ---------------------------------------------------------------- SQL */

#define FORMAT(sql, fmt)                                                                           \
    char sql[4096];                                                                                \
    do {                                                                                           \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        vsnprintf(sql, sizeof sql, fmt, ap);                                                       \
        va_end(ap);                                                                                \
    } while (0)

void wf_exec(struct wf *w, const char *fmt, ...)
{
    struct cr_err err = CR_ERR_INIT;
    FORMAT(sql, fmt);
    if (cr_store_run(w->s, &err, sql, ""))
        fail_msg("%s: %s", sql, err.msg);
}

int64_t wf_int(struct wf *w, const char *fmt, ...)
{
    struct cr_err err = CR_ERR_INIT;
    struct cr_stmt *st = NULL;
    int64_t v = -1;
    FORMAT(sql, fmt);
    if (cr_stmt_prepare(w->s, sql, &st, &err))
        fail_msg("%s: %s", sql, err.msg);
    int rc = cr_stmt_step(st, &err);
    if (rc < 0)
        fail_msg("%s: %s", sql, err.msg);
    if (rc == 1 && !cr_stmt_is_null(st, 0))
        v = cr_stmt_int64(st, 0);
    cr_stmt_free(st);
    return v;
}

struct wf_text wf_str(struct wf *w, const char *fmt, ...)
{
    struct wf_text t;
    struct cr_err err = CR_ERR_INIT;
    struct cr_stmt *st = NULL;
    FORMAT(sql, fmt);
    if (cr_stmt_prepare(w->s, sql, &st, &err))
        fail_msg("%s: %s", sql, err.msg);
    int rc = cr_stmt_step(st, &err);
    if (rc < 0)
        fail_msg("%s: %s", sql, err.msg);
    snprintf(t.s, sizeof t.s, "%s",
             rc == 0 ? "(none)" : cr_stmt_text(st, 0) ? cr_stmt_text(st, 0) : "(null)");
    cr_stmt_free(st);
    return t;
}

struct wf_text wf_ids_sql(struct wf *w, const char *fmt, ...)
{
    struct wf_text t = {{0}};
    struct cr_err err = CR_ERR_INIT;
    struct cr_stmt *st = NULL;
    size_t n = 0;
    int rc;
    FORMAT(sql, fmt);
    if (cr_stmt_prepare(w->s, sql, &st, &err))
        fail_msg("%s: %s", sql, err.msg);
    while ((rc = cr_stmt_step(st, &err)) == 1) {
        int k = snprintf(t.s + n, sizeof t.s - n, "%s%lld", n ? " " : "",
                         (long long)cr_stmt_int64(st, 0));
        if (k < 0 || (size_t)k >= sizeof t.s - n)
            fail_msg("too many ids for the test buffer");
        n += (size_t)k;
    }
    if (rc < 0)
        fail_msg("%s: %s", sql, err.msg);
    cr_stmt_free(st);
    return t;
}

/* ---------------------------------------------------------------- expectations */

struct wf_text wf_where(int n, wf_pred pred)
{
    struct wf_text t = {{0}};
    size_t len = 0;
    for (int i = 1; i <= n; i++)
        if (pred(i))
            len += (size_t)snprintf(t.s + len, sizeof t.s - len, "%s%d", len ? " " : "", i);
    return t;
}

struct wf_text wf_ids(const int *ids, int n)
{
    struct wf_text t = {{0}};
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(t.s + len, sizeof t.s - len, "%s%d", len ? " " : "", ids[i]);
    return t;
}

struct wf_text wf_list_members(struct wf *w, const char *list)
{
    if (wf_int(w, "SELECT count(*) FROM list WHERE name = '%s'", list) == 0) {
        struct wf_text t;
        snprintf(t.s, sizeof t.s, "(no list)");
        return t;
    }
    return wf_ids_sql(w,
                      "SELECT m.profile_id FROM list_member m JOIN list l ON l.id = m.list_id "
                      "WHERE l.name = '%s' ORDER BY m.profile_id",
                      list);
}

/* ---------------------------------------------------------------- workflows */

json_t *wf_json(const char *text)
{
    char *s = cr_xstrdup(text);
    json_error_t je;
    for (char *p = s; *p; p++)
        *p = *p == '\'' ? '"' : *p == '`' ? '\'' : *p;
    json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        fail_msg("bad JSON in test at %d:%d: %s\n%s", je.line, je.column, je.text, s);
    free(s);
    return j;
}

struct cr_wf_def *wf_def(struct wf *w, const char *text)
{
    struct cr_wf_problems p = {0};
    struct cr_err err = CR_ERR_INIT;
    struct cr_wf_def *d = NULL;
    if (cr_wf_def_from_json(wf_json(text), &d, &p))
        fail_msg("definition refused:\n%s", wf_problems_text(&p).s);
    int rc = cr_wf_def_check_store(d, w->s, &w->clk, &p, &err);
    if (rc == CR_EINVAL)
        fail_msg("definition refused by the store checks:\n%s", wf_problems_text(&p).s);
    if (rc)
        fail_msg("store checks failed: %s", err.msg);
    return d;
}

int64_t wf_start_vars(struct wf *w, const char *text, const char *vars)
{
    struct cr_wf_problems p = {0};
    struct cr_err err = CR_ERR_INIT;
    struct cr_wf_def *d = wf_def(w, text);
    json_t *v = vars ? wf_json(vars) : NULL;
    int64_t run = 0;
    int rc = cr_wf_start(w->s, &w->clk, d, v, &run, &p, &err);
    if (rc == CR_EINVAL)
        fail_msg("start refused:\n%s", wf_problems_text(&p).s);
    if (rc)
        fail_msg("start failed: %s", err.msg);
    json_decref(v);
    cr_wf_def_free(d);
    assert_true(run > 0);
    return run;
}

int64_t wf_start(struct wf *w, const char *text)
{
    return wf_start_vars(w, text, NULL);
}

int wf_step(struct wf *w)
{
    struct cr_err err = CR_ERR_INIT;
    int did = 0;
    if (cr_wf_engine_step(w->s, &w->clk, &did, &err))
        fail_msg("engine step: %s", err.msg);
    return did;
}

int wf_send_step(struct wf *w)
{
    struct cr_err err = CR_ERR_INIT;
    int did = 0;
    if (cr_delivery_engine_step(w->s, &w->clk, &did, &err))
        fail_msg("delivery engine step: %s", err.msg);
    return did;
}

int wf_run(struct wf *w)
{
    int steps = 0, rounds = 0;
    for (;;) {
        int wf = wf_step(w), sent = wf_send_step(w);
        steps += wf;
        if (!wf && !sent)
            break;
        if (++rounds > 10000)
            fail_msg("the engines do not become idle");
    }
    cr_delivery_engine_close();
    return steps;
}

struct wf_text wf_run_status(struct wf *w, int64_t run)
{
    return wf_str(w, "SELECT status FROM workflow_run WHERE id = %lld", (long long)run);
}

struct wf_text wf_act_status(struct wf *w, int64_t run, const char *act)
{
    struct wf_text t = wf_str(w,
                              "SELECT status FROM activity_run WHERE run_id = %lld AND "
                              "activity_id = '%s' ORDER BY id DESC LIMIT 1",
                              (long long)run, act);
    if (strcmp(t.s, "(none)") == 0)
        snprintf(t.s, sizeof t.s, "none");
    return t;
}

/* The recorded outputs of the latest done execution, parsed. */
static json_t *outputs_of(struct wf *w, int64_t run, const char *act)
{
    struct wf_text t = wf_str(w,
                              "SELECT outputs FROM activity_run WHERE run_id = %lld AND "
                              "activity_id = '%s' AND status = 'done' ORDER BY id DESC LIMIT 1",
                              (long long)run, act);
    if (strcmp(t.s, "(none)") == 0)
        fail_msg("activity '%s' has no done execution in run %lld", act, (long long)run);
    json_t *j = json_loads(t.s, 0, NULL);
    if (!json_is_object(j))
        fail_msg("activity '%s': outputs are not an object: %s", act, t.s);
    return j;
}

static json_t *output_of(json_t *outs, const char *act, const char *output)
{
    json_t *o = json_object_get(outs, output);
    if (!o) {
        char *all = json_dumps(outs, JSON_COMPACT);
        fail_msg("activity '%s' has no output '%s' (outputs: %s)", act, output, all);
    }
    return o;
}

struct wf_text wf_out(struct wf *w, int64_t run, const char *act, const char *output)
{
    json_t *outs = outputs_of(w, run, act), *o = output_of(outs, act, output);
    json_int_t pop = json_integer_value(json_object_get(o, "population"));
    json_int_t count = json_integer_value(json_object_get(o, "count"));
    json_decref(outs);
    if (pop == 0) {
        assert_int_equal(count, 0);
        return (struct wf_text){{0}};
    }
    assert_int_equal(wf_int(w, "SELECT count(*) FROM population_member WHERE population_id = %lld",
                            (long long)pop),
                     count);
    assert_int_equal(wf_int(w, "SELECT count FROM population WHERE id = %lld", (long long)pop),
                     count);
    return wf_ids_sql(w,
                      "SELECT item_id FROM population_member WHERE population_id = %lld "
                      "ORDER BY item_id",
                      (long long)pop);
}

int64_t wf_out_count(struct wf *w, int64_t run, const char *act, const char *output)
{
    (void)wf_out(w, run, act, output); /* checks the count against the members */
    json_t *outs = outputs_of(w, run, act);
    int64_t n = json_integer_value(json_object_get(output_of(outs, act, output), "count"));
    json_decref(outs);
    return n;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

struct wf_text wf_out_names(struct wf *w, int64_t run, const char *act)
{
    json_t *outs = outputs_of(w, run, act), *v;
    const char *k, *names[64];
    size_t n = 0, len = 0;
    struct wf_text t = {{0}};
    json_object_foreach(outs, k, v) {
        if (n < 64)
            names[n++] = k;
    }
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(t.s + len, sizeof t.s - len, "%s%s", i ? " " : "", names[i]);
    json_decref(outs);
    return t;
}

/* ---------------------------------------------------------------- deliveries */

int64_t wf_delivery(struct wf *w, int64_t run, const char *act)
{
    return wf_int(w, "SELECT id FROM delivery WHERE workflow_run_id = %lld AND activity_id = '%s'",
                  (long long)run, act);
}

int wf_pickup_count(struct wf *w, int64_t delivery)
{
    char prefix[32];
    int n = 0;
    if (!w->pickup[0])
        fail_msg("no pickup folder (wf_delivery_setup)");
    DIR *dir = opendir(w->pickup);
    struct dirent *e;
    if (!dir)
        fail_msg("cannot read the pickup folder %s", w->pickup);
    snprintf(prefix, sizeof prefix, "%lld-", (long long)delivery);
    while ((e = readdir(dir))) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".tmp") == 0)
            fail_msg("a half-written message is left: %s", e->d_name);
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && len > 4 &&
            strcmp(e->d_name + len - 4, ".eml") == 0)
            n++;
    }
    closedir(dir);
    return n;
}

char *wf_pickup_message(struct wf *w, int64_t delivery, int64_t log_id)
{
    char path[sizeof w->pickup + 64];
    snprintf(path, sizeof path, "%s/%lld-%lld.eml", w->pickup, (long long)delivery,
             (long long)log_id);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct cr_buf b = CR_BUF_INIT(0);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        cr_buf_append(&b, chunk, n);
    fclose(f);
    return cr_buf_detach(&b, NULL);
}

/* ---------------------------------------------------------------- problems */

void wf_check(struct wf *w, const char *text, struct cr_wf_problems *p)
{
    struct cr_wf_def *d = NULL;
    struct cr_err err = CR_ERR_INIT;
    if (cr_wf_def_from_json(wf_json(text), &d, p))
        return;
    int rc = cr_wf_def_check_store(d, w->s, &w->clk, p, &err);
    if (rc && rc != CR_EINVAL)
        fail_msg("store checks failed: %s", err.msg);
    assert_true(rc == 0 ? p->n == 0 : p->n > 0);
    cr_wf_def_free(d);
}

static int same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

void wf_expect_problem(const struct cr_wf_problems *p, const char *act, const char *field,
                       const char *part)
{
    int found = 0;
    for (size_t i = 0; i < p->n; i++)
        if (same(p->v[i].activity, act) && same(p->v[i].field, field) &&
            strstr(p->v[i].message, part))
            found++;
    if (found != 1)
        fail_msg("expected one problem [%s] %s: ...%s... (found %d) among:\n%s",
                 act ? act : "-", field ? field : "-", part, found, wf_problems_text(p).s);
}

struct wf_text wf_problems_text(const struct cr_wf_problems *p)
{
    struct wf_text t = {{0}};
    size_t len = 0;
    for (size_t i = 0; i < p->n && len < sizeof t.s; i++)
        len += (size_t)snprintf(t.s + len, sizeof t.s - len, "  [%s] %s: %s\n",
                                p->v[i].activity ? p->v[i].activity : "-",
                                p->v[i].field ? p->v[i].field : "-", p->v[i].message);
    return t;
}
