/*
 * push.c - push templates: checked, compiled per platform, rendered into APNs / FCM bodies
 */
#include "channel/push/push.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/datetime.h"
#include "core/mem.h"
#include "template/template.h"

enum kind { K_STR, K_BADGE, K_BOOL, K_DATA, K_PRIORITY, K_TTL };
enum where { COMMON, IOS, ANDROID };

static const struct field {
    const char *name;
    enum kind kind;
    enum where where;
} fields[] = {
    {"title", K_STR, COMMON},
    {"body", K_STR, COMMON},
    {"sound", K_STR, COMMON},
    {"deep_link", K_STR, COMMON},
    {"badge", K_BADGE, COMMON},
    {"data", K_DATA, COMMON},
    {"category", K_STR, IOS},
    {"thread_id", K_STR, IOS},
    {"interruption_level", K_STR, IOS},
    {"mutable_content", K_BOOL, IOS},
    {"content_available", K_BOOL, IOS},
    {"channel_id", K_STR, ANDROID},
    {"icon", K_STR, ANDROID},
    {"color", K_STR, ANDROID},
    {"collapse_key", K_STR, ANDROID},
    {"priority", K_PRIORITY, ANDROID},
    {"ttl", K_TTL, ANDROID},
};
#define NFIELDS (sizeof fields / sizeof *fields)

struct data_item {
    char *key;
    struct cr_template *t;
};

struct cr_push_msgs {
    enum cr_push_platform platform;
    struct cr_template *t[NFIELDS]; /* K_STR and K_BADGE (as text) */
    int flag[NFIELDS];              /* K_BOOL: 1 true; K_PRIORITY: 1 high; present when set */
    int has[NFIELDS];
    int64_t ttl_secs;
    struct data_item *data;
    size_t ndata;
    struct cr_tvars *vars;
    struct cr_trecord *rec;
    json_t *delivery, *campaign;
    struct cr_buf scratch;
};

static int compile(struct cr_store *s, int strict, struct cr_clock *clock, const char *where,
                   const char *src, struct cr_template **t, struct cr_err *err)
{
    struct cr_template_opts o = {0};
    o.strict = strict;
    o.load_snippet = cr_snippet_load_store;
    o.snippet_data = s;
    o.clock = clock;
    int rc = cr_template_compile(src, strlen(src), &o, t, err);
    if (rc)
        cr_err_prefix(err, "%s: ", where);
    return rc;
}

static const struct field *find(const char *name)
{
    for (size_t i = 0; i < NFIELDS; i++)
        if (strcmp(fields[i].name, name) == 0)
            return &fields[i];
    return NULL;
}

/* The keys of one level (the template, or its ios/android object) and their types. */
static int check_level(const json_t *o, enum where level, struct cr_err *err)
{
    const char *k, *pre = level == IOS ? "ios." : level == ANDROID ? "android." : "";
    json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        const struct field *f = find(k);
        if (level == COMMON && (!strcmp(k, "ios") || !strcmp(k, "android") ||
                                !strcmp(k, "proof_to") || !strcmp(k, "label")))
            continue;
        if (!f || (f->where != COMMON && level == COMMON) ||
            (f->where != COMMON && f->where != level))
            return cr_err_set(err, CR_EINVAL,
                              "unknown field '%s%s' in a push template (title, "
                              "body, badge, sound, deep_link, data; ios: category, thread_id, "
                              "interruption_level, mutable_content, content_available; "
                              "android: channel_id, icon, color, collapse_key, priority, ttl)",
                              pre, k);
        switch (f->kind) {
        case K_STR:
            if (!json_is_string(v))
                return cr_err_set(err, CR_EINVAL, "%s%s must be a string", pre, k);
            break;
        case K_BADGE:
            if (!json_is_integer(v) && !json_is_string(v))
                return cr_err_set(err, CR_EINVAL, "%s%s must be a number or a template", pre, k);
            break;
        case K_BOOL:
            if (!json_is_boolean(v))
                return cr_err_set(err, CR_EINVAL, "%s%s must be true or false", pre, k);
            break;
        case K_DATA: {
            const char *dk;
            json_t *dv;
            if (!json_is_object(v))
                return cr_err_set(err, CR_EINVAL, "%sdata must be an object of strings", pre);
            json_object_foreach(v, dk, dv)
            {
                if (!json_is_string(dv))
                    return cr_err_set(err, CR_EINVAL,
                                      "%sdata.%s must be a string (FCM data "
                                      "values are strings)",
                                      pre, dk);
                if (!strcmp(dk, "aps") || !strcmp(dk, "deep_link"))
                    return cr_err_set(err, CR_EINVAL, "%sdata.%s: a reserved key", pre, dk);
            }
            break;
        }
        case K_PRIORITY:
            if (!json_is_string(v) ||
                (strcmp(json_string_value(v), "high") && strcmp(json_string_value(v), "normal")))
                return cr_err_set(err, CR_EINVAL, "%spriority is high or normal", pre);
            break;
        case K_TTL: {
            int64_t us;
            struct cr_err e = CR_ERR_INIT;
            const char *d = json_string_value(v);
            if (!d || cr_duration_parse(d, strlen(d), &us, &e) || us < 0)
                return cr_err_set(err, CR_EINVAL, "%sttl must be a duration (\"1d\", \"12h\")",
                                  pre);
            break;
        }
        }
    }
    return 0;
}

static void msgs_free(struct cr_push_msgs *m)
{
    for (size_t i = 0; i < NFIELDS; i++)
        cr_template_free(m->t[i]);
    for (size_t i = 0; i < m->ndata; i++) {
        free(m->data[i].key);
        cr_template_free(m->data[i].t);
    }
    free(m->data);
    if (m->vars)
        cr_tvars_free(m->vars);
    if (m->rec)
        cr_trecord_free(m->rec);
    json_decref(m->delivery);
    json_decref(m->campaign);
    cr_buf_release(&m->scratch);
    free(m);
}

static void put_data(struct cr_push_msgs *m, const char *key, struct cr_template *t)
{
    for (size_t i = 0; i < m->ndata; i++)
        if (strcmp(m->data[i].key, key) == 0) {
            cr_template_free(m->data[i].t);
            m->data[i].t = t;
            return;
        }
    m->data = cr_xrealloc(m->data, (m->ndata + 1) * sizeof *m->data);
    m->data[m->ndata++] = (struct data_item){cr_xstrdup(key), t};
}

/* Compiles the platform's view: its override, else the common value. */
static int build(struct cr_store *s, const json_t *c, enum cr_push_platform platform, int strict,
                 struct cr_clock *clock, struct cr_push_msgs **out, struct cr_err *err)
{
    const char *pname = platform == CR_PUSH_IOS ? "ios" : "android";
    enum where mine = platform == CR_PUSH_IOS ? IOS : ANDROID;
    const json_t *over = json_object_get(c, pname);
    struct cr_push_msgs *m = cr_xcalloc(1, sizeof *m);
    char where[160];
    int rc = 0;
    m->platform = platform;
    cr_buf_init(&m->scratch, 1u << 20);
    for (size_t i = 0; i < NFIELDS && !rc; i++) {
        const struct field *f = &fields[i];
        if (f->where != COMMON && f->where != mine)
            continue;
        for (int lvl = 0; lvl < 2 && !rc; lvl++) { /* the common value, then the override */
            const json_t *src = lvl ? over : c;
            json_t *v = src ? json_object_get(src, f->name) : NULL;
            if (!v || (lvl == 0 && f->where != COMMON))
                continue;
            snprintf(where, sizeof where, "%s%s", lvl ? pname : "", lvl ? "." : "");
            snprintf(where + strlen(where), sizeof where - strlen(where), "%s", f->name);
            m->has[i] = 1;
            if (f->kind == K_STR || (f->kind == K_BADGE && json_is_string(v))) {
                cr_template_free(m->t[i]);
                m->t[i] = NULL;
                rc = compile(s, strict, clock, where, json_string_value(v), &m->t[i], err);
            } else if (f->kind == K_BADGE) {
                char n[32];
                snprintf(n, sizeof n, "%lld", (long long)json_integer_value(v));
                cr_template_free(m->t[i]);
                m->t[i] = NULL;
                rc = compile(s, strict, clock, where, n, &m->t[i], err);
            } else if (f->kind == K_BOOL) {
                m->flag[i] = json_is_true(v);
            } else if (f->kind == K_PRIORITY) {
                m->flag[i] = strcmp(json_string_value(v), "high") == 0;
            } else if (f->kind == K_TTL) {
                int64_t us = 0;
                struct cr_err e = CR_ERR_INIT;
                const char *d = json_string_value(v);
                if (cr_duration_parse(d, strlen(d), &us, &e) == 0)
                    m->ttl_secs = us / CR_USEC_PER_SEC;
            } else if (f->kind == K_DATA) {
                const char *dk;
                json_t *dv;
                json_object_foreach((json_t *)v, dk, dv)
                {
                    struct cr_template *t = NULL;
                    char dw[200];
                    snprintf(dw, sizeof dw, "%s.%s", where, dk);
                    if ((rc = compile(s, strict, clock, dw, json_string_value(dv), &t, err)))
                        break;
                    put_data(m, dk, t);
                }
            }
        }
    }
    size_t ti = 0, bi = 0;
    for (size_t i = 0; i < NFIELDS; i++) {
        if (!strcmp(fields[i].name, "title"))
            ti = i;
        if (!strcmp(fields[i].name, "body"))
            bi = i;
    }
    if (!rc && !m->t[ti] && !m->t[bi])
        rc = cr_err_set(err, CR_EINVAL, "a push template needs a title or a body (for %s)", pname);
    if (rc) {
        msgs_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

int cr_push_template_check(struct cr_store *s, const json_t *content, struct cr_err *err)
{
    int rc;
    json_t *p;
    size_t i;
    json_t *v;
    if ((rc = check_level(content, COMMON, err)))
        return rc;
    for (int k = 0; k < 2; k++) {
        const char *pname = k ? "android" : "ios";
        json_t *o = json_object_get(content, pname);
        if (o && !json_is_object(o))
            return cr_err_set(err, CR_EINVAL, "%s must be an object of overrides", pname);
        if (o && (rc = check_level(o, k ? ANDROID : IOS, err)))
            return rc;
    }
    if ((p = json_object_get(content, "proof_to")) && !json_is_array(p))
        return cr_err_set(err, CR_EINVAL, "proof_to must be an array of device tokens");
    json_array_foreach(p, i, v)
    {
        if (!json_is_string(v))
            return cr_err_set(err, CR_EINVAL, "proof_to[%zu] must be a device token", i);
    }
    for (int k = 0; k < 2; k++) {
        struct cr_push_msgs *m = NULL;
        if ((rc = build(s, content, k ? CR_PUSH_ANDROID : CR_PUSH_IOS, 0, NULL, &m, err)))
            return rc;
        msgs_free(m);
    }
    return 0;
}

int cr_push_msgs_open(struct cr_store *s, const json_t *content, enum cr_push_platform platform,
                      const struct cr_schema *profile, const struct cr_push_msgs_opts *o,
                      struct cr_push_msgs **out, struct cr_err *err)
{
    int rc = build(s, content, platform, o->strict, o->clock, out, err);
    if (rc)
        return rc;
    struct cr_push_msgs *m = *out;
    m->vars = cr_tvars_new();
    m->rec = cr_trecord_new(profile->cols, profile->ncols);
    m->delivery =
        json_pack("{sI ss}", "id", (json_int_t)o->delivery_id, "label", o->label ? o->label : "");
    m->campaign = o->campaign ? json_deep_copy(o->campaign) : NULL;
    return 0;
}

void cr_push_msgs_close(struct cr_push_msgs *m)
{
    if (m)
        msgs_free(m);
}

/* Renders field i into a new JSON string, or NULL when the template has none. */
static int text(struct cr_push_msgs *m, size_t i, json_t **out, struct cr_err *err)
{
    *out = NULL;
    if (!m->t[i])
        return 0;
    cr_buf_reset(&m->scratch);
    int rc = cr_template_render(m->t[i], m->vars, &m->scratch, err);
    if (rc) {
        cr_err_prefix(err, "%s: ", fields[i].name);
        return rc;
    }
    *out = json_stringn(m->scratch.data, m->scratch.len);
    if (!*out)
        return cr_err_set(err, CR_EINVAL, "%s: the text is not valid UTF-8", fields[i].name);
    return 0;
}

static size_t idx(const char *name)
{
    for (size_t i = 0; i < NFIELDS; i++)
        if (!strcmp(fields[i].name, name))
            return i;
    return 0;
}

int cr_push_render(struct cr_push_msgs *m, const char *const *row, const char *token, int proof,
                   struct cr_buf *out, struct cr_err *err)
{
    json_t *v[NFIELDS] = {0}, *data = json_object(), *body = NULL;
    int rc = 0;
    cr_trecord_set_row(m->rec, row);
    cr_tvars_clear(m->vars);
    cr_tvars_set_record(m->vars, "profile", m->rec);
    cr_tvars_set_json(m->vars, "delivery", m->delivery);
    if (m->campaign)
        cr_tvars_set_json(m->vars, "campaign", m->campaign);
    for (size_t i = 0; i < NFIELDS && !rc; i++)
        rc = text(m, i, &v[i], err);
    for (size_t i = 0; i < m->ndata && !rc; i++) {
        cr_buf_reset(&m->scratch);
        if ((rc = cr_template_render(m->data[i].t, m->vars, &m->scratch, err))) {
            cr_err_prefix(err, "data.%s: ", m->data[i].key);
            break;
        }
        json_t *s = json_stringn(m->scratch.data, m->scratch.len);
        if (!s) {
            rc = cr_err_set(err, CR_EINVAL, "data.%s: not valid UTF-8", m->data[i].key);
            break;
        }
        json_object_set_new(data, m->data[i].key, s);
    }
    if (rc)
        goto out;
    size_t title = idx("title"), badge = idx("badge");
    if (proof) {
        struct cr_buf t = CR_BUF_INIT(0);
        cr_buf_printf(&t, "[PROOF] %s", v[title] ? json_string_value(v[title]) : "");
        json_decref(v[title]);
        v[title] = json_string(t.data);
        cr_buf_release(&t);
    }
    if (v[badge]) { /* a rendered badge must be a count */
        char *end;
        const char *b = json_string_value(v[badge]);
        long long n = strtoll(b, &end, 10);
        if (*b && (*end || n < 0)) {
            rc = cr_err_set(err, CR_EINVAL, "badge: '%s' is not a number", b);
            goto out;
        }
        json_t *count = *b ? json_integer(n) : NULL; /* an empty badge: none */
        json_decref(v[badge]);
        v[badge] = count;
    }
    json_t *alert = json_object();
    if (v[title])
        json_object_set(alert, "title", v[title]);
    if (v[idx("body")])
        json_object_set(alert, "body", v[idx("body")]);
    if (m->platform == CR_PUSH_IOS) {
        json_t *aps = json_object();
        json_object_set_new(aps, "alert", alert);
        if (v[badge])
            json_object_set(aps, "badge", v[badge]);
        static const char *const ios_text[][2] = {{"sound", "sound"},
                                                  {"category", "category"},
                                                  {"thread_id", "thread-id"},
                                                  {"interruption_level", "interruption-level"}};
        for (size_t k = 0; k < sizeof ios_text / sizeof *ios_text; k++)
            if (v[idx(ios_text[k][0])])
                json_object_set(aps, ios_text[k][1], v[idx(ios_text[k][0])]);
        if (m->has[idx("mutable_content")] && m->flag[idx("mutable_content")])
            json_object_set_new(aps, "mutable-content", json_integer(1));
        if (m->has[idx("content_available")] && m->flag[idx("content_available")])
            json_object_set_new(aps, "content-available", json_integer(1));
        body = json_object();
        json_object_set_new(body, "aps", aps);
        if (v[idx("deep_link")])
            json_object_set(body, "deep_link", v[idx("deep_link")]);
        json_object_update(body, data);
    } else {
        json_t *msg = json_object(), *android = json_object(), *an = json_object();
        json_object_set_new(msg, "token", json_string(token ? token : ""));
        json_object_set_new(msg, "notification", alert);
        if (v[idx("deep_link")])
            json_object_set(data, "deep_link", v[idx("deep_link")]);
        if (json_object_size(data))
            json_object_set(msg, "data", data);
        if (m->has[idx("priority")])
            json_object_set_new(android, "priority",
                                json_string(m->flag[idx("priority")] ? "HIGH" : "NORMAL"));
        if (m->has[idx("ttl")]) {
            char ttl[32];
            snprintf(ttl, sizeof ttl, "%llds", (long long)m->ttl_secs);
            json_object_set_new(android, "ttl", json_string(ttl));
        }
        if (v[idx("collapse_key")])
            json_object_set(android, "collapse_key", v[idx("collapse_key")]);
        static const char *const an_text[] = {"sound", "channel_id", "icon", "color"};
        for (size_t k = 0; k < sizeof an_text / sizeof *an_text; k++)
            if (v[idx(an_text[k])])
                json_object_set(an, an_text[k], v[idx(an_text[k])]);
        if (json_object_size(an))
            json_object_set(android, "notification", an);
        json_decref(an);
        if (json_object_size(android))
            json_object_set(msg, "android", android);
        json_decref(android);
        body = json_object();
        json_object_set_new(body, "message", msg);
    }
    char *text_out = json_dumps(body, JSON_COMPACT);
    cr_buf_reset(out);
    cr_buf_puts(out, text_out);
    free(text_out);
    rc = out->err;
out:
    for (size_t i = 0; i < NFIELDS; i++)
        json_decref(v[i]);
    json_decref(data);
    json_decref(body);
    return rc;
}
