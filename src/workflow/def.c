/*
 * def.c - reading a workflow definition and the checks that need no database
 *
 * Every problem is collected with its activity and field; nothing stops at the first one.
 * The field table below is the format's reference (docs/workflow-format.md mirrors it).
 */
#include "workflow/def.h"
#include "workflow/period.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign/campaign.h"
#include "core/mem.h"
#include "core/yaml_json.h"

/* ------------------------------------------------------------------ problems */

void cr_wf_problems_add(struct cr_wf_problems *p, const char *activity, const char *field,
                        const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 8;
        p->v = cr_xrealloc(p->v, p->cap * sizeof *p->v);
    }
    p->v[p->n].activity = activity ? cr_xstrdup(activity) : NULL;
    p->v[p->n].field = field ? cr_xstrdup(field) : NULL;
    p->v[p->n].message = cr_xstrdup(msg);
    p->n++;
}

void cr_wf_problems_release(struct cr_wf_problems *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].activity);
        free(p->v[i].field);
        free(p->v[i].message);
    }
    free(p->v);
    memset(p, 0, sizeof *p);
}

/* ------------------------------------------------------------------ the format */

enum fkind { F_STR, F_BOOL, F_INT, F_SEGMENTS, F_OBJECT, F_ANY };

struct field {
    const char *name;
    enum fkind kind;
    int required;
};

#define DELIVERY_FIELDS                                                                            \
    {"template", F_STR, 1}, {"account", F_STR, 1}, {"confirm", F_BOOL, 0},                         \
        {"outbound", F_STR, 0}, {"recurring", F_OBJECT, 0}

static const struct field no_fields[] = {{NULL, 0, 0}};
static const struct field query_fields[] = {
    {"dimension", F_STR, 0}, {"filter", F_STR, 1}, {"limit", F_INT, 0}, {"order", F_STR, 0},
    {NULL, 0, 0}};
static const struct field read_list_fields[] = {{"list", F_STR, 1}, {NULL, 0, 0}};
static const struct field split_fields[] = {{"segments", F_SEGMENTS, 1},
                                            {"overlap", F_BOOL, 0},
                                            {"complement", F_BOOL, 0},
                                            {NULL, 0, 0}};
static const struct field exclusion_fields[] = {{"keep", F_STR, 1}, {NULL, 0, 0}};
static const struct field dedup_fields[] = {{"key", F_STR, 1}, {NULL, 0, 0}};
static const struct field wait_fields[] = {
    {"duration", F_STR, 0}, {"until", F_STR, 0}, {NULL, 0, 0}};
static const struct field scheduler_fields[] = {
    {"cron", F_STR, 0},  {"timezone", F_STR, 0}, {"every", F_STR, 0},
    {"start", F_STR, 0}, {"end", F_STR, 0},      {NULL, 0, 0}};
static const struct field and_join_fields[] = {{"keep", F_STR, 0}, {NULL, 0, 0}};
static const struct field test_fields[] = {{"condition", F_STR, 1}, {NULL, 0, 0}};
static const struct field list_update_fields[] = {
    {"list", F_STR, 1}, {"mode", F_STR, 0}, {NULL, 0, 0}};
static const struct field delivery_fields[] = {DELIVERY_FIELDS, {NULL, 0, 0}};
static const struct field email_fields[] = {DELIVERY_FIELDS, {"tracking", F_STR, 0},
                                            {NULL, 0, 0}};
static const struct field push_fields[] = {DELIVERY_FIELDS, {"platform", F_STR, 0}, {NULL, 0, 0}};

static const struct {
    const char *name;
    const struct field *fields;
} types[CR_WF_NTYPES] = {
    [CR_WF_START] = {"start", no_fields},
    [CR_WF_END] = {"end", no_fields},
    [CR_WF_QUERY] = {"query", query_fields},
    [CR_WF_READ_LIST] = {"read_list", read_list_fields},
    [CR_WF_SPLIT] = {"split", split_fields},
    [CR_WF_UNION] = {"union", no_fields},
    [CR_WF_INTERSECTION] = {"intersection", no_fields},
    [CR_WF_EXCLUSION] = {"exclusion", exclusion_fields},
    [CR_WF_DEDUP] = {"dedup", dedup_fields},
    [CR_WF_WAIT] = {"wait", wait_fields},
    [CR_WF_SCHEDULER] = {"scheduler", scheduler_fields},
    [CR_WF_FORK] = {"fork", no_fields},
    [CR_WF_AND_JOIN] = {"and_join", and_join_fields},
    [CR_WF_TEST] = {"test", test_fields},
    [CR_WF_LIST_UPDATE] = {"list_update", list_update_fields},
    [CR_WF_EMAIL] = {"email", email_fields},
    [CR_WF_SMS] = {"sms", delivery_fields},
    [CR_WF_PUSH] = {"push", push_fields},
    [CR_WF_EXTERNAL] = {"external", delivery_fields},
};

/* Fields every activity may carry: what it is, and what the canvas of the web UI keeps. */
static const char *const common_fields[] = {"id", "type", "label", "description", "position",
                                            NULL};

const char *cr_wf_type_name(enum cr_wf_type t)
{
    return (unsigned)t < CR_WF_NTYPES ? types[t].name : "?";
}

int cr_wf_type_is_delivery(enum cr_wf_type t)
{
    return t == CR_WF_EMAIL || t == CR_WF_SMS || t == CR_WF_PUSH || t == CR_WF_EXTERNAL;
}

int cr_wf_type_joins(enum cr_wf_type t)
{
    return t == CR_WF_UNION || t == CR_WF_INTERSECTION || t == CR_WF_EXCLUSION ||
           t == CR_WF_AND_JOIN;
}

const char *cr_wf_str(const struct cr_wf_activity *a, const char *field)
{
    return json_string_value(json_object_get(a->json, field));
}

int cr_wf_bool(const struct cr_wf_activity *a, const char *field, int dflt)
{
    json_t *v = json_object_get(a->json, field);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

long long cr_wf_int(const struct cr_wf_activity *a, const char *field, long long dflt)
{
    json_t *v = json_object_get(a->json, field);
    return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

/* ------------------------------------------------------------------ reading */

static int id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-'))
            return 0;
    return 1;
}

static const char *kind_name(enum fkind k)
{
    switch (k) {
    case F_STR: return "a string";
    case F_BOOL: return "true or false";
    case F_INT: return "a non-negative integer";
    case F_SEGMENTS: return "an array of segments";
    case F_OBJECT: return "an object";
    default: return "a value";
    }
}

static int kind_ok(enum fkind k, json_t *v)
{
    switch (k) {
    case F_STR: return json_is_string(v) && json_string_length(v) > 0;
    case F_BOOL: return json_is_boolean(v);
    case F_INT: return json_is_integer(v) && json_integer_value(v) >= 0;
    case F_SEGMENTS: return json_is_array(v) && json_array_size(v) > 0;
    case F_OBJECT: return json_is_object(v);
    default: return 1;
    }
}

static int one_of(const char *s, const char *const *choices)
{
    for (; *choices; choices++)
        if (strcmp(s, *choices) == 0)
            return 1;
    return 0;
}

static void check_segments(struct cr_wf_activity *a, struct cr_wf_problems *p)
{
    static const char *const seg_fields[] = {"name", "filter", "limit", "sampling", "order",
                                             "label", NULL};
    json_t *segs = json_object_get(a->json, "segments"), *seg;
    size_t i, j;
    json_array_foreach(segs, i, seg) {
        char field[64];
        const char *k;
        json_t *v;
        snprintf(field, sizeof field, "segments[%zu]", i);
        if (!json_is_object(seg)) {
            cr_wf_problems_add(p, a->id, field, "a segment is an object with a name");
            continue;
        }
        json_object_foreach(seg, k, v) {
            if (!one_of(k, seg_fields))
                cr_wf_problems_add(p, a->id, field, "unknown field '%s' (a segment has name, "
                                   "filter, limit, sampling, order)", k);
        }
        const char *name = json_string_value(json_object_get(seg, "name"));
        if (!name || !id_ok(name)) {
            cr_wf_problems_add(p, a->id, field,
                               "a segment needs a name of letters, digits, '_' or '-'");
            continue;
        }
        if (strcmp(name, "complement") == 0)
            cr_wf_problems_add(p, a->id, field, "'complement' names the rest, not a segment");
        for (j = 0; j < i; j++) {
            const char *other = json_string_value(
                json_object_get(json_array_get(segs, j), "name"));
            if (other && strcmp(other, name) == 0)
                cr_wf_problems_add(p, a->id, field, "segment name '%s' is used twice", name);
        }
        v = json_object_get(seg, "filter");
        if (v && !kind_ok(F_STR, v))
            cr_wf_problems_add(p, a->id, field, "filter must be a string");
        v = json_object_get(seg, "limit");
        if (v && !kind_ok(F_INT, v))
            cr_wf_problems_add(p, a->id, field, "limit must be a non-negative integer");
        v = json_object_get(seg, "order");
        if (v && !kind_ok(F_STR, v))
            cr_wf_problems_add(p, a->id, field, "order must be a string");
        v = json_object_get(seg, "sampling");
        if (v && !(json_is_string(v) &&
                   one_of(json_string_value(v), (const char *const[]){"random", "ordered", NULL})))
            cr_wf_problems_add(p, a->id, field, "sampling is 'random' or 'ordered'");
    }
}

/* Checks of one activity's own fields, independent of the graph. */
static void check_fields(struct cr_wf_activity *a, struct cr_wf_problems *p)
{
    const struct field *f;
    const char *k;
    json_t *v;
    json_object_foreach(a->json, k, v) {
        int known = one_of(k, common_fields);
        for (f = types[a->type].fields; !known && f->name; f++)
            known = strcmp(f->name, k) == 0;
        if (!known)
            cr_wf_problems_add(p, a->id, k, "unknown field '%s' for a %s activity", k,
                               types[a->type].name);
    }
    for (f = types[a->type].fields; f->name; f++) {
        v = json_object_get(a->json, f->name);
        if (!v) {
            if (f->required)
                cr_wf_problems_add(p, a->id, f->name, "missing field '%s'", f->name);
        } else if (!kind_ok(f->kind, v)) {
            cr_wf_problems_add(p, a->id, f->name, "'%s' must be %s", f->name,
                               kind_name(f->kind));
        }
    }
    const char *s;
    switch (a->type) {
    case CR_WF_QUERY:
        if ((s = cr_wf_str(a, "dimension")) &&
            !one_of(s, (const char *const[]){"profile", "subscription", NULL}))
            cr_wf_problems_add(p, a->id, "dimension", "dimension is 'profile' or "
                               "'subscription', not '%s'", s);
        break;
    case CR_WF_SPLIT: check_segments(a, p); break;
    case CR_WF_WAIT:
        if (!!json_object_get(a->json, "duration") == !!json_object_get(a->json, "until"))
            cr_wf_problems_add(p, a->id, "duration",
                               "a wait has either a duration (\"3d\") or an until (a time)");
        break;
    case CR_WF_SCHEDULER:
        if (!!json_object_get(a->json, "cron") == !!json_object_get(a->json, "every"))
            cr_wf_problems_add(p, a->id, "cron",
                               "a scheduler has either a cron expression or an every (\"1d\")");
        if (json_object_get(a->json, "timezone") && !json_object_get(a->json, "cron"))
            cr_wf_problems_add(p, a->id, "timezone", "timezone applies to a cron expression");
        break;
    case CR_WF_LIST_UPDATE:
        if ((s = cr_wf_str(a, "mode")) &&
            !one_of(s, (const char *const[]){"add", "remove", "replace", NULL}))
            cr_wf_problems_add(p, a->id, "mode", "mode is add, remove or replace, not '%s'", s);
        break;
    case CR_WF_EMAIL:
    case CR_WF_SMS:
    case CR_WF_PUSH:
    case CR_WF_EXTERNAL:
        if ((s = cr_wf_str(a, "outbound")) &&
            !one_of(s, (const char *const[]){"none", "without_population", "with_population",
                                              NULL}))
            cr_wf_problems_add(p, a->id, "outbound", "outbound is none, without_population or "
                               "with_population, not '%s'", s);
        if ((s = cr_wf_str(a, "tracking")) &&
            !one_of(s, (const char *const[]){"all", "no_opens", "none", NULL}))
            cr_wf_problems_add(p, a->id, "tracking", "tracking is all, no_opens or none, not "
                               "'%s'", s);
        if ((s = cr_wf_str(a, "platform")) &&
            !one_of(s, (const char *const[]){"ios", "android", NULL}))
            cr_wf_problems_add(p, a->id, "platform", "platform is ios or android, not '%s'", s);
        if ((v = json_object_get(a->json, "recurring")) && json_is_object(v)) {
            json_t *agg = json_object_get(v, "aggregation");
            json_object_foreach(v, k, agg) {
                if (strcmp(k, "aggregation") != 0)
                    cr_wf_problems_add(p, a->id, "recurring", "unknown field '%s' in recurring",
                                       k);
            }
            agg = json_object_get(v, "aggregation");
            if (!agg)
                cr_wf_problems_add(p, a->id, "recurring.aggregation",
                                   "a recurring delivery needs an aggregation period: none, "
                                   "day, week, month or year");
            else if (!json_is_string(agg))
                cr_wf_problems_add(p, a->id, "recurring.aggregation",
                                   "recurring.aggregation is a string: none, day, week, month "
                                   "or year");
            else if (!cr_period_valid(json_string_value(agg)))
                cr_wf_problems_add(p, a->id, "recurring.aggregation",
                                   "recurring.aggregation is none, day, week, month or year, "
                                   "not '%s'", json_string_value(agg));
        }
        break;
    default: break;
    }
}

/* Does activity a have an output of that name? */
static int has_output(const struct cr_wf_activity *a, const char *out)
{
    switch (a->type) {
    case CR_WF_END: return 0;
    case CR_WF_TEST: return strcmp(out, "true") == 0 || strcmp(out, "false") == 0;
    case CR_WF_SPLIT: {
        json_t *seg;
        size_t i;
        if (strcmp(out, "complement") == 0)
            return cr_wf_bool(a, "complement", 0);
        json_array_foreach(json_object_get(a->json, "segments"), i, seg) {
            const char *n = json_string_value(json_object_get(seg, "name"));
            if (n && strcmp(n, out) == 0)
                return 1;
        }
        return 0;
    }
    case CR_WF_EMAIL:
    case CR_WF_SMS:
    case CR_WF_PUSH:
    case CR_WF_EXTERNAL: {
        const char *ob = cr_wf_str(a, "outbound");
        return strcmp(out, "default") == 0 && ob && strcmp(ob, "none") != 0;
    }
    default: return strcmp(out, "default") == 0;
    }
}

const struct cr_wf_activity *cr_wf_def_find(const struct cr_wf_def *d, const char *id,
                                            size_t *index)
{
    for (size_t i = 0; i < d->nacts; i++)
        if (strcmp(d->acts[i].id, id) == 0) {
            if (index)
                *index = i;
            return &d->acts[i];
        }
    return NULL;
}

static void add_index(size_t **v, size_t *n, size_t x)
{
    *v = cr_xrealloc(*v, (*n + 1) * sizeof **v);
    (*v)[(*n)++] = x;
}

static void read_transitions(struct cr_wf_def *d, json_t *arr, struct cr_wf_problems *p)
{
    json_t *t;
    size_t i;
    d->trans = cr_xcalloc(json_array_size(arr) + 1, sizeof *d->trans);
    json_array_foreach(arr, i, t) {
        char field[64];
        const char *from = json_string_value(json_object_get(t, "from"));
        const char *to = json_string_value(json_object_get(t, "to"));
        const char *k;
        json_t *v;
        size_t fi, ti;
        snprintf(field, sizeof field, "transitions[%zu]", i);
        if (!json_is_object(t) || !from || !to) {
            cr_wf_problems_add(p, NULL, field, "a transition is {\"from\": ..., \"to\": ...}");
            continue;
        }
        json_object_foreach(t, k, v) {
            if (strcmp(k, "from") && strcmp(k, "to") && strcmp(k, "label"))
                cr_wf_problems_add(p, NULL, field, "unknown field '%s' in a transition", k);
        }
        const char *dot = strchr(from, '.');
        char *act = dot ? cr_xmemdupz(from, (size_t)(dot - from)) : cr_xstrdup(from);
        const char *out = dot ? dot + 1 : "default";
        const struct cr_wf_activity *fa = cr_wf_def_find(d, act, &fi);
        const struct cr_wf_activity *ta = cr_wf_def_find(d, to, &ti);
        if (!fa)
            cr_wf_problems_add(p, NULL, field, "transition from unknown activity '%s'", act);
        else if (!has_output(fa, out)) {
            if (fa->type == CR_WF_END)
                cr_wf_problems_add(p, fa->id, field, "an end activity has no output");
            else if (cr_wf_type_is_delivery(fa->type) && strcmp(out, "default") == 0)
                cr_wf_problems_add(p, fa->id, field,
                                   "this delivery has no outbound transition (set outbound to "
                                   "with_population or without_population)");
            else
                cr_wf_problems_add(p, fa->id, field, "%s activity '%s' has no output '%s'",
                                   types[fa->type].name, fa->id, out);
        }
        if (!ta)
            cr_wf_problems_add(p, NULL, field, "transition to unknown activity '%s'", to);
        if (fa && ta && has_output(fa, out)) {
            struct cr_wf_transition *tr = &d->trans[d->ntrans];
            tr->from = fi;
            tr->to = ti;
            tr->output = dot ? dot + 1 : "default"; /* borrowed from root, like ids */
            for (size_t j = 0; j < d->ntrans; j++)
                if (d->trans[j].from == fi && d->trans[j].to == ti &&
                    strcmp(d->trans[j].output, tr->output) == 0)
                    cr_wf_problems_add(p, fa->id, field, "transition %s -> %s is given twice",
                                       from, to);
            add_index(&d->acts[fi].out, &d->acts[fi].nout, d->ntrans);
            add_index(&d->acts[ti].in, &d->acts[ti].nin, d->ntrans);
            d->ntrans++;
        }
        free(act);
    }
}

/* Is there a path of transitions from a to b? seen has one flag per activity. */
static int reaches(const struct cr_wf_def *d, size_t a, size_t b, unsigned char *seen)
{
    for (size_t j = 0; j < d->acts[a].nout; j++) {
        size_t to = d->trans[d->acts[a].out[j]].to;
        if (to == b)
            return 1;
        if (!seen[to]) {
            seen[to] = 1;
            if (reaches(d, to, b, seen))
                return 1;
        }
    }
    return 0;
}

/* Topological order (Kahn); what is left over sits on a cycle or after one, and only the
 * activities that lead back to themselves are named. */
static void order_graph(struct cr_wf_def *d, struct cr_wf_problems *p)
{
    size_t *indeg = cr_xcalloc(d->nacts + 1, sizeof *indeg), n = 0, i, j;
    d->order = cr_xcalloc(d->nacts + 1, sizeof *d->order);
    for (i = 0; i < d->nacts; i++)
        if ((indeg[i] = d->acts[i].nin) == 0)
            d->order[n++] = i;
    for (i = 0; i < n; i++) {
        const struct cr_wf_activity *a = &d->acts[d->order[i]];
        for (j = 0; j < a->nout; j++) {
            size_t to = d->trans[a->out[j]].to;
            if (--indeg[to] == 0)
                d->order[n++] = to;
        }
    }
    unsigned char *seen = cr_xcalloc(d->nacts + 1, 1);
    for (i = 0; i < d->nacts; i++) {
        if (indeg[i] == 0)
            continue;
        memset(seen, 0, d->nacts + 1);
        if (reaches(d, i, i, seen))
            cr_wf_problems_add(p, d->acts[i].id, "transitions",
                               "activity '%s' is on a cycle of transitions", d->acts[i].id);
    }
    free(seen);
    free(indeg);
}

/* What each activity receives and sends on, in topological order. */
static void check_flows(struct cr_wf_def *d, struct cr_wf_problems *p)
{
    for (size_t k = 0; k < d->nacts; k++) {
        struct cr_wf_activity *a = &d->acts[d->order[k]];
        enum cr_wf_flow in = CR_WF_FLOW_NONE;
        int mixed = 0;
        for (size_t j = 0; j < a->nin; j++) {
            enum cr_wf_flow f = d->acts[d->trans[a->in[j]].from].flow;
            if (j == 0)
                in = f;
            else if (f != in)
                mixed = 1;
        }
        if (a->type == CR_WF_AND_JOIN && cr_wf_str(a, "keep")) {
            size_t ki;
            if (cr_wf_def_find(d, cr_wf_str(a, "keep"), &ki))
                for (size_t j = 0; j < a->nin; j++)
                    if (d->trans[a->in[j]].from == ki)
                        in = d->acts[ki].flow, mixed = 0;
        } else if (mixed && a->type != CR_WF_AND_JOIN) {
            cr_wf_problems_add(p, a->id, "transitions",
                               "its incoming transitions carry different kinds of population "
                               "(profiles and subscriptions)");
        }
        a->in_flow = in;
        switch (a->type) {
        case CR_WF_START:
        case CR_WF_SCHEDULER:
            if (a->nin)
                cr_wf_problems_add(p, a->id, "transitions",
                                   "a %s activity begins the workflow: nothing may lead to it",
                                   types[a->type].name);
            a->flow = CR_WF_FLOW_NONE;
            break;
        case CR_WF_QUERY: {
            const char *dim = cr_wf_str(a, "dimension");
            a->flow = dim && strcmp(dim, "subscription") == 0 ? CR_WF_FLOW_SUBSCRIPTION
                                                               : CR_WF_FLOW_PROFILE;
            break;
        }
        case CR_WF_READ_LIST: a->flow = CR_WF_FLOW_PROFILE; break;
        case CR_WF_SPLIT:
        case CR_WF_DEDUP:
        case CR_WF_LIST_UPDATE:
        case CR_WF_UNION:
        case CR_WF_INTERSECTION:
        case CR_WF_EXCLUSION:
        case CR_WF_EMAIL:
        case CR_WF_SMS:
        case CR_WF_PUSH:
        case CR_WF_EXTERNAL:
            if (a->nin && in == CR_WF_FLOW_NONE)
                cr_wf_problems_add(p, a->id, "transitions",
                                   "a %s activity needs a population: put a query or read_list "
                                   "before it", types[a->type].name);
            a->flow = in;
            break;
        default: a->flow = in; break; /* end, wait, fork, and_join, test pass it through */
        }
        if (a->nin == 0 && a->type != CR_WF_START && a->type != CR_WF_SCHEDULER)
            cr_wf_problems_add(p, a->id, "transitions",
                               "nothing leads to this activity (a workflow begins with a start "
                               "or a scheduler activity)");
        if (cr_wf_type_joins(a->type) && a->type != CR_WF_AND_JOIN && a->nin < 2 && a->nin)
            cr_wf_problems_add(p, a->id, "transitions", "a %s needs at least two incoming "
                               "transitions", types[a->type].name);
        if ((a->type == CR_WF_EXCLUSION || a->type == CR_WF_AND_JOIN) && cr_wf_str(a, "keep")) {
            const char *keep = cr_wf_str(a, "keep");
            int found = 0;
            for (size_t j = 0; j < a->nin; j++)
                found |= strcmp(d->acts[d->trans[a->in[j]].from].id, keep) == 0;
            if (!found)
                cr_wf_problems_add(p, a->id, "keep", "'%s' is not one of the activities "
                                   "leading to this one", keep);
        }
    }
}

static void read_activities(struct cr_wf_def *d, json_t *arr, struct cr_wf_problems *p)
{
    json_t *a;
    size_t i;
    d->acts = cr_xcalloc(json_array_size(arr) + 1, sizeof *d->acts);
    json_array_foreach(arr, i, a) {
        char field[64];
        const char *id = json_string_value(json_object_get(a, "id"));
        const char *type = json_string_value(json_object_get(a, "type"));
        int t;
        snprintf(field, sizeof field, "activities[%zu]", i);
        if (!json_is_object(a)) {
            cr_wf_problems_add(p, NULL, field, "an activity is an object with an id and a type");
            continue;
        }
        if (!id || !id_ok(id)) {
            cr_wf_problems_add(p, id, "id", "%s needs an id of 1 to 63 letters, digits, '_' "
                               "or '-'", field);
            continue;
        }
        if (cr_wf_def_find(d, id, NULL)) {
            cr_wf_problems_add(p, id, "id", "activity id '%s' is used twice", id);
            continue;
        }
        for (t = 0; t < CR_WF_NTYPES && !(type && strcmp(types[t].name, type) == 0); t++)
            ;
        if (t == CR_WF_NTYPES) {
            if (type)
                cr_wf_problems_add(p, id, "type", "unknown activity type '%s'", type);
            else
                cr_wf_problems_add(p, id, "type", "missing field 'type'");
            continue;
        }
        struct cr_wf_activity *act = &d->acts[d->nacts++];
        act->id = id;
        act->type = (enum cr_wf_type)t;
        act->json = a;
        check_fields(act, p);
    }
}

int cr_wf_def_from_json(json_t *root, struct cr_wf_def **out, struct cr_wf_problems *p)
{
    struct cr_wf_def *d = cr_xcalloc(1, sizeof *d);
    size_t before = p->n;
    const char *k;
    json_t *v;
    *out = NULL;
    d->root = root;
    if (!json_is_object(root)) {
        cr_wf_problems_add(p, NULL, NULL, "a workflow is a JSON object (or YAML mapping)");
        cr_wf_def_free(d);
        return CR_EINVAL;
    }
    json_object_foreach(root, k, v) {
        if (!one_of(k, (const char *const[]){"name", "label", "description", "campaign",
                                              "activities", "transitions", "variables", NULL}))
            cr_wf_problems_add(p, NULL, k, "unknown field '%s' in a workflow", k);
    }
    d->name = json_string_value(json_object_get(root, "name"));
    d->label = json_string_value(json_object_get(root, "label"));
    d->campaign = json_string_value(json_object_get(root, "campaign"));
    if (!d->name || !id_ok(d->name))
        cr_wf_problems_add(p, NULL, "name", "a workflow needs a name of 1 to 63 letters, "
                           "digits, '_' or '-'");
    if ((v = json_object_get(root, "campaign")) &&
        (!json_is_string(v) || !cr_campaign_name_ok(json_string_value(v))))
        cr_wf_problems_add(p, NULL, "campaign", "campaign must be a campaign's name (1 to 100 "
                           "letters, digits, '.', '_' or '-', starting with a letter or digit)");
    if ((v = json_object_get(root, "variables")) && !json_is_object(v))
        cr_wf_problems_add(p, NULL, "variables", "variables must be an object");
    json_t *acts = json_object_get(root, "activities");
    json_t *trans = json_object_get(root, "transitions");
    if (!json_is_array(acts) || json_array_size(acts) == 0)
        cr_wf_problems_add(p, NULL, "activities", "a workflow needs an array of activities");
    else
        read_activities(d, acts, p);
    if (trans && !json_is_array(trans))
        cr_wf_problems_add(p, NULL, "transitions", "transitions must be an array");
    else if (trans)
        read_transitions(d, trans, p);
    else
        d->trans = cr_xcalloc(1, sizeof *d->trans);
    if (p->n == before) {
        order_graph(d, p);
        if (p->n == before)
            check_flows(d, p);
    }
    if (p->n != before) {
        cr_wf_def_free(d);
        return CR_EINVAL;
    }
    *out = d;
    return 0;
}

int cr_wf_def_load_file(const char *path, struct cr_wf_def **out, struct cr_wf_problems *p)
{
    struct cr_err err = CR_ERR_INIT;
    json_t *root = NULL;
    *out = NULL;
    if (cr_load_json_or_yaml_file(path, &root, &err) < 0) {
        cr_wf_problems_add(p, NULL, NULL, "%s", cr_err_msg(&err));
        return CR_EINVAL;
    }
    return cr_wf_def_from_json(root, out, p);
}

int cr_wf_def_from_text(const char *text, struct cr_wf_def **out, struct cr_wf_problems *p)
{
    json_error_t je;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    *out = NULL;
    if (!root) {
        cr_wf_problems_add(p, NULL, NULL, "stored definition: %d:%d: %s", je.line, je.column,
                           je.text);
        return CR_EINVAL;
    }
    return cr_wf_def_from_json(root, out, p);
}

char *cr_wf_def_dump(const struct cr_wf_def *d)
{
    return json_dumps(d->root, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

void cr_wf_def_free(struct cr_wf_def *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nacts; i++) {
        free(d->acts[i].in);
        free(d->acts[i].out);
    }
    free(d->acts);
    free(d->trans);
    free(d->order);
    json_decref(d->root);
    free(d);
}
