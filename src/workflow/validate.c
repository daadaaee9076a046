/*
 * validate.c - the checks of a definition that need the store or another language:
 * filters against the live schema, lists, accounts, templates, durations, schedules
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/datetime.h"
#include "core/mem.h"
#include "query/query.h"
#include "store/schema.h"
#include "template/template.h"
#include "workflow/cron.h"
#include "workflow/def.h"
#include "workflow/wf_int.h"

struct vctx {
    const struct cr_wf_def *d;
    struct cr_store *s;
    struct cr_clock *clock;
    struct cr_wf_problems *p;
    struct cr_err *err;       /* store failures */
    size_t at;                /* index of the activity being checked */
    const char *bad_delivery; /* set by the callback when a name is not an earlier delivery */
};

/* Is a an ancestor of b (a path of transitions from a to b)? The graph is acyclic. */
int cr__wf_ancestor(const struct cr_wf_def *d, size_t a, size_t b)
{
    const struct cr_wf_activity *act = &d->acts[b];
    for (size_t i = 0; i < act->nin; i++) {
        size_t from = d->trans[act->in[i]].from;
        if (from == a || cr__wf_ancestor(d, a, from))
            return 1;
    }
    return 0;
}

/* Behaviour predicates name an earlier delivery activity of the workflow; at validation it
 * has no delivery yet, so any positive id stands in. */
static int delivery_name(void *data, const char *name, int64_t *id, struct cr_err *err)
{
    struct vctx *v = data;
    size_t i;
    (void)err;
    const struct cr_wf_activity *a = cr_wf_def_find(v->d, name, &i);
    if (!a || !cr_wf_type_is_delivery(a->type) || !cr__wf_ancestor(v->d, i, v->at))
        return 0;
    *id = 1;
    return 1;
}

static void filter_problem(struct vctx *v, const char *field, const char *src,
                           const struct cr_err *e)
{
    const struct cr_wf_activity *a = &v->d->acts[v->at];
    (void)src;
    if (e->line)
        cr_wf_problems_add(v->p, a->id, field, "%d:%d: %s", e->line, e->col, cr_err_msg(e));
    else
        cr_wf_problems_add(v->p, a->id, field, "%s", cr_err_msg(e));
}

static int check_filter(struct vctx *v, const char *field, const char *src, enum cr_wf_flow flow)
{
    struct cr_query_opts o = {0};
    struct cr_query q = CR_QUERY_INIT;
    struct cr_err e = CR_ERR_INIT;
    int rc;
    o.dimension = flow == CR_WF_FLOW_SUBSCRIPTION ? CR_QUERY_SUBSCRIPTION : CR_QUERY_PROFILE;
    o.clock = v->clock;
    o.delivery = delivery_name;
    o.delivery_data = v;
    rc = cr_query_compile_store(v->s, src, strlen(src), &o, &q, &e);
    cr_query_release(&q);
    if (rc == CR_ESTORE || rc == CR_ENOMEM)
        return cr_err_set(v->err, rc, "%s", cr_err_msg(&e));
    if (rc) {
        if (strstr(cr_err_msg(&e), "unknown delivery"))
            cr_err_prefix(&e, "behaviour predicates name an earlier email, sms, push or "
                              "external activity of this workflow, or a delivery id: ");
        filter_problem(v, field, src, &e);
    }
    return 0;
}

static int check_order(struct vctx *v, const char *field, const char *order, enum cr_wf_flow flow)
{
    char *sql = NULL;
    struct cr_err e = CR_ERR_INIT;
    int rc = cr__wf_order_sql(v->s, order, flow, &sql, &e);
    free(sql);
    if (rc == CR_ESTORE || rc == CR_ENOMEM)
        return cr_err_set(v->err, rc, "%s", cr_err_msg(&e));
    if (rc)
        cr_wf_problems_add(v->p, v->d->acts[v->at].id, field, "%s", cr_err_msg(&e));
    return 0;
}

/* Returns 1 if a row named name exists in table (list, account, template), 0 if not;
 * *channel receives its channel column when asked. */
static int named_row(struct vctx *v, const char *table, const char *name, char **channel, int *rc)
{
    char sql[128];
    char *ch = NULL;
    snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE name = ?", channel ? "channel" : "name",
             table);
    int r = cr_store_query_text(v->s, v->err, &ch, sql, "s", name);
    if (r < 0) {
        *rc = r;
        return 0;
    }
    if (channel)
        *channel = ch;
    else
        free(ch);
    return r == 1;
}

static int compile_strings(struct vctx *v, const char *tname, json_t *node, const char *path)
{
    const char *k;
    json_t *x;
    size_t i;
    char sub[256];
    if (json_is_string(node)) {
        struct cr_template_opts o = {0};
        struct cr_template *t = NULL;
        struct cr_err e = CR_ERR_INIT;
        o.load_snippet = cr_snippet_load_store;
        o.snippet_data = v->s;
        o.clock = v->clock;
        if (cr_template_compile(json_string_value(node), json_string_length(node), &o, &t, &e)) {
            cr_wf_problems_add(v->p, v->d->acts[v->at].id, "template", "template '%s', %s: %s",
                               tname, path, cr_err_msg(&e));
        }
        cr_template_free(t);
    } else if (json_is_object(node)) {
        json_object_foreach(node, k, x)
        {
            snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", k);
            compile_strings(v, tname, x, sub);
        }
    } else if (json_is_array(node)) {
        json_array_foreach(node, i, x)
        {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            compile_strings(v, tname, x, sub);
        }
    }
    return 0;
}

static int check_delivery(struct vctx *v, const struct cr_wf_activity *a)
{
    const char *channel = cr_wf_type_name(a->type);
    const char *tname = cr_wf_str(a, "template"), *aname = cr_wf_str(a, "account");
    char *ch = NULL, *content = NULL;
    int rc = 0;
    if (!named_row(v, "template", tname, &ch, &rc)) {
        if (!rc)
            cr_wf_problems_add(v->p, a->id, "template", "unknown template '%s'", tname);
    } else if (strcmp(ch, channel) != 0) {
        cr_wf_problems_add(v->p, a->id, "template",
                           "template '%s' is a %s template, this is a %s activity", tname, ch,
                           channel);
    } else if (a->type != CR_WF_EXTERNAL) {
        int r = cr_store_query_text(v->s, v->err, &content,
                                    "SELECT content FROM template WHERE name = ?", "s", tname);
        json_t *j = r == 1 && content ? json_loads(content, 0, NULL) : NULL;
        if (r < 0)
            rc = r;
        else if (j)
            compile_strings(v, tname, j, "");
        json_decref(j);
        free(content);
    }
    free(ch);
    ch = NULL;
    if (rc)
        return rc;
    if (!named_row(v, "account", aname, &ch, &rc)) {
        if (!rc)
            cr_wf_problems_add(v->p, a->id, "account", "unknown account '%s'", aname);
    } else if (a->type == CR_WF_EXTERNAL) {
        /* an extraction file goes with a routing account, of whichever channel */
        char *mode = NULL;
        int r = cr_store_query_text(v->s, v->err, &mode, "SELECT mode FROM account WHERE name = ?",
                                    "s", aname);
        if (r < 0)
            rc = r;
        else if (!mode || strcmp(mode, "external") != 0)
            cr_wf_problems_add(v->p, a->id, "account",
                               "account '%s' is not a routing account (crier account add "
                               "routing): an external activity exports a file",
                               aname);
        free(mode);
    } else if (strcmp(ch, channel) != 0) {
        cr_wf_problems_add(v->p, a->id, "account", "account '%s' sends %s, this is a %s activity",
                           aname, ch, channel);
    }
    free(ch);
    return rc;
}

static void check_time(struct vctx *v, const char *field, const char *s)
{
    cr_time_t t;
    struct cr_err e = CR_ERR_INIT;
    if (s && cr_time_parse(s, strlen(s), &t, &e))
        cr_wf_problems_add(v->p, v->d->acts[v->at].id, field, "%s", cr_err_msg(&e));
}

static void check_duration(struct vctx *v, const char *field, const char *s, int positive)
{
    int64_t us;
    struct cr_err e = CR_ERR_INIT;
    if (!s)
        return;
    if (cr_duration_parse(s, strlen(s), &us, &e))
        cr_wf_problems_add(v->p, v->d->acts[v->at].id, field, "%s", cr_err_msg(&e));
    else if (positive && us <= 0)
        cr_wf_problems_add(v->p, v->d->acts[v->at].id, field, "'%s' must be longer than 0", s);
}

static void check_scheduler(struct vctx *v, const struct cr_wf_activity *a)
{
    const char *cron = cr_wf_str(a, "cron"), *tz = cr_wf_str(a, "timezone");
    struct cr_err e = CR_ERR_INIT;
    if (cron) {
        struct cr_cron *c = NULL;
        if (cr_cron_parse(cron, &c, &e))
            cr_wf_problems_add(v->p, a->id, "cron", "%s", cr_err_msg(&e));
        cr_cron_free(c);
    }
    cr_err_clear(&e);
    if (tz && cr_tz_check(tz, &e))
        cr_wf_problems_add(v->p, a->id, "timezone", "%s", cr_err_msg(&e));
    check_duration(v, "every", cr_wf_str(a, "every"), 1);
    check_time(v, "start", cr_wf_str(a, "start"));
    check_time(v, "end", cr_wf_str(a, "end"));
}

static int check_dedup_key(struct vctx *v, const struct cr_wf_activity *a)
{
    struct cr_schema sc;
    const char *key = cr_wf_str(a, "key");
    int rc = cr_schema_load(
        v->s, a->in_flow == CR_WF_FLOW_SUBSCRIPTION ? "subscription" : "profile", &sc, v->err);
    if (rc)
        return rc;
    if (!cr_schema_find(&sc, key, strlen(key)))
        cr_wf_problems_add(v->p, a->id, "key", "unknown column '%s' for the %s dimension", key,
                           sc.dimension);
    cr_schema_release(&sc);
    return 0;
}

static int check_activity(struct vctx *v, const struct cr_wf_activity *a)
{
    int rc = 0, r = 0;
    json_t *seg;
    size_t i;
    switch (a->type) {
    case CR_WF_QUERY:
        rc = check_filter(v, "filter", cr_wf_str(a, "filter"), a->flow);
        if (!rc && cr_wf_str(a, "order"))
            rc = check_order(v, "order", cr_wf_str(a, "order"), a->flow);
        break;
    case CR_WF_SPLIT:
        json_array_foreach(json_object_get(a->json, "segments"), i, seg)
        {
            char field[64];
            const char *f = json_string_value(json_object_get(seg, "filter"));
            const char *o = json_string_value(json_object_get(seg, "order"));
            snprintf(field, sizeof field, "segments[%zu].filter", i);
            if (!rc && f)
                rc = check_filter(v, field, f, a->in_flow);
            snprintf(field, sizeof field, "segments[%zu].order", i);
            if (!rc && o)
                rc = check_order(v, field, o, a->in_flow);
        }
        break;
    case CR_WF_TEST: {
        struct cr_err e = CR_ERR_INIT;
        json_t *vars = json_object_get(v->d->root, "variables");
        r = cr__wf_test_eval(v->s, v->clock, cr_wf_str(a, "condition"), 0, vars, NULL, &e);
        if (r == CR_ESTORE || r == CR_ENOMEM)
            rc = cr_err_set(v->err, r, "%s", cr_err_msg(&e));
        else if (r < 0)
            filter_problem(v, "condition", cr_wf_str(a, "condition"), &e);
        break;
    }
    case CR_WF_READ_LIST:
        if (!named_row(v, "list", cr_wf_str(a, "list"), NULL, &rc) && !rc)
            cr_wf_problems_add(v->p, a->id, "list", "unknown list '%s'", cr_wf_str(a, "list"));
        break;
    case CR_WF_DEDUP:
        rc = check_dedup_key(v, a);
        break;
    case CR_WF_WAIT:
        check_duration(v, "duration", cr_wf_str(a, "duration"), 0);
        check_time(v, "until", cr_wf_str(a, "until"));
        break;
    case CR_WF_SCHEDULER:
        check_scheduler(v, a);
        break;
    case CR_WF_EMAIL:
    case CR_WF_SMS:
    case CR_WF_PUSH:
    case CR_WF_EXTERNAL:
        rc = check_delivery(v, a);
        break;
    default:
        break;
    }
    return rc;
}

int cr_wf_def_check_store(const struct cr_wf_def *d, struct cr_store *s, struct cr_clock *clock,
                          struct cr_wf_problems *probs, struct cr_err *err)
{
    struct vctx v = {d, s, clock, probs, err, 0, NULL};
    size_t before = probs->n;
    int rc;
    json_t *vars = json_object_get(d->root, "variables"), *x;
    const char *k;
    json_object_foreach(vars, k, x)
    {
        if (!cr__wf_var_name_ok(k))
            cr_wf_problems_add(probs, NULL, "variables",
                               "variable name '%s' is not an identifier ([a-z_][a-z0-9_]*)", k);
        else if (!json_is_string(x) && !json_is_number(x) && !json_is_boolean(x))
            cr_wf_problems_add(probs, NULL, "variables",
                               "variable '%s' must be a string, a number or a boolean", k);
    }
    for (v.at = 0; v.at < d->nacts; v.at++)
        if ((rc = check_activity(&v, &d->acts[v.at])))
            return rc;
    return probs->n == before ? 0 : CR_EINVAL;
}
