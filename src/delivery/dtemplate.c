/*
 * dtemplate.c - checking and storing delivery templates
 */
#include "delivery/dtemplate.h"

#include <stdlib.h>
#include <string.h>

#include "campaign/campaign.h"
#include "channel/push/push.h"
#include "delivery/external.h"
#include "core/datetime.h"
#include "core/mem.h"
#include "template/template.h"

static int liquid_ok(struct cr_store *s, const char *field, const char *src, struct cr_err *err)
{
    struct cr_template_opts o = {0};
    struct cr_template *t = NULL;
    struct cr_err e = CR_ERR_INIT;
    o.load_snippet = cr_snippet_load_store;
    o.snippet_data = s;
    if (cr_template_compile(src, strlen(src), &o, &t, &e) == 0) {
        cr_template_free(t);
        return 0;
    }
    /* the engine's messages already say "at line L, column C" */
    return cr_err_set(err, CR_EINVAL, "%s: %s", field, cr_err_msg(&e));
}

static int check_email(struct cr_store *s, json_t *c, struct cr_err *err)
{
    static const char *const fields[] = {"from", "reply_to", "subject", "html", "text",
                                         "headers", "proof_to", "label", NULL};
    const char *k;
    json_t *v;
    int rc;
    json_object_foreach(c, k, v) {
        int known = 0;
        for (int i = 0; fields[i]; i++)
            known |= strcmp(fields[i], k) == 0;
        if (!known)
            return cr_err_set(err, CR_EINVAL, "unknown field '%s' in an email template (from, "
                              "reply_to, subject, html, text, headers, proof_to)", k);
    }
    for (int i = 0; i < 5; i++) {
        v = json_object_get(c, fields[i]);
        if (v && !json_is_string(v))
            return cr_err_set(err, CR_EINVAL, "%s must be a string", fields[i]);
        if (v && (rc = liquid_ok(s, fields[i], json_string_value(v), err)))
            return rc;
    }
    if (!json_object_get(c, "from") || !json_string_length(json_object_get(c, "from")))
        return cr_err_set(err, CR_EINVAL, "an email template needs a from");
    if (!json_object_get(c, "subject") || !json_string_length(json_object_get(c, "subject")))
        return cr_err_set(err, CR_EINVAL, "an email template needs a subject");
    if (!json_object_get(c, "html") && !json_object_get(c, "text"))
        return cr_err_set(err, CR_EINVAL, "an email template needs an html or a text body");
    json_t *h = json_object_get(c, "headers");
    if (h && !json_is_object(h))
        return cr_err_set(err, CR_EINVAL, "headers must be an object of name: value");
    json_object_foreach(h, k, v) {
        char field[160];
        if (!json_is_string(v))
            return cr_err_set(err, CR_EINVAL, "header '%s' must be a string", k);
        for (const char *p = k; *p; p++)
            if (*p <= ' ' || *p == ':' || *p > '~')
                return cr_err_set(err, CR_EINVAL, "'%s' is not a header name", k);
        if (strlen(k) > 100)
            return cr_err_set(err, CR_EINVAL, "header name '%.20s...' is too long", k);
        snprintf(field, sizeof field, "headers.%s", k);
        if ((rc = liquid_ok(s, field, json_string_value(v), err)))
            return rc;
    }
    json_t *p = json_object_get(c, "proof_to");
    size_t i;
    if (p && !json_is_array(p))
        return cr_err_set(err, CR_EINVAL, "proof_to must be an array of addresses");
    json_array_foreach(p, i, v) {
        if (!json_is_string(v))
            return cr_err_set(err, CR_EINVAL, "proof_to[%zu] must be an address", i);
    }
    return 0;
}

/* {"text": Liquid, "sender": an override of the account's source address (at most 11
 * letters and digits, or a number of up to 20 digits and '+'), "proof_to": numbers}. Links
 * in the text are tracked as in emails. */
static int check_sms(struct cr_store *s, json_t *c, struct cr_err *err)
{
    static const char *const fields[] = {"text", "sender", "proof_to", "label", NULL};
    const char *k;
    json_t *v;
    size_t i;
    json_object_foreach(c, k, v) {
        int known = 0;
        for (int j = 0; fields[j]; j++)
            known |= strcmp(fields[j], k) == 0;
        if (!known)
            return cr_err_set(err, CR_EINVAL, "unknown field '%s' in an sms template (text, "
                              "sender, proof_to)", k);
    }
    v = json_object_get(c, "text");
    if (!json_is_string(v) || !json_string_length(v))
        return cr_err_set(err, CR_EINVAL, "an sms template needs a text");
    int rc = liquid_ok(s, "text", json_string_value(v), err);
    if (rc)
        return rc;
    if ((v = json_object_get(c, "sender"))) {
        const char *snd = json_string_value(v);
        size_t n = snd ? strlen(snd) : 0, digits = 0, alnum = 0;
        for (i = 0; i < n; i++) {
            digits += (snd[i] >= '0' && snd[i] <= '9') || (i == 0 && snd[i] == '+');
            alnum += (snd[i] >= 'A' && snd[i] <= 'Z') || (snd[i] >= 'a' && snd[i] <= 'z') ||
                     (snd[i] >= '0' && snd[i] <= '9') || snd[i] == ' ';
        }
        if (!n || !((digits == n && n <= 20) || (alnum == n && n <= 11)))
            return cr_err_set(err, CR_EINVAL, "sender must be a number (up to 20 digits) or "
                              "up to 11 letters and digits, not '%s'", snd ? snd : "");
    }
    json_t *p = json_object_get(c, "proof_to");
    if (p && !json_is_array(p))
        return cr_err_set(err, CR_EINVAL, "proof_to must be an array of numbers");
    json_array_foreach(p, i, v) {
        if (!json_is_string(v))
            return cr_err_set(err, CR_EINVAL, "proof_to[%zu] must be a number", i);
    }
    return 0;
}

int cr_dtemplate_check(struct cr_store *s, const char *channel, json_t *content,
                       struct cr_err *err)
{
    if (!json_is_object(content))
        return cr_err_set(err, CR_EINVAL, "a template is a JSON object");
    if (strcmp(channel, "email") == 0)
        return check_email(s, content, err);
    if (strcmp(channel, "sms") == 0)
        return check_sms(s, content, err);
    if (strcmp(channel, "push") == 0)
        return cr_push_template_check(s, content, err);
    if (strcmp(channel, "external") == 0)
        return cr_external_template_check(s, content, err);
    return cr_err_set(err, CR_EUNSUPPORTED, "templates for the %s channel are not supported yet",
                      channel);
}

int cr_dtemplate_add(struct cr_store *s, struct cr_clock *clock, const char *channel,
                     const char *name, json_t *content, int replace, int64_t *id,
                     struct cr_err *err)
{
    char ts[CR_TIME_BUFSZ], *text;
    int rc;
    if (!cr_campaign_name_ok(name))
        return cr_err_set(err, CR_EINVAL, "bad template name '%s' (1 to 100 letters, digits, "
                          "'.', '_' or '-', starting with a letter or digit)", name);
    if ((rc = cr_dtemplate_check(s, channel, content, err)))
        return rc;
    rc = cr_store_query_int64(s, err, id, "SELECT id FROM template WHERE name = ?", "s", name);
    if (rc < 0)
        return rc;
    if (rc == 1 && !replace)
        return cr_err_set(err, CR_EEXISTS, "a template named '%s' already exists (--replace "
                          "to change it)", name);
    text = json_dumps(content, JSON_COMPACT | JSON_PRESERVE_ORDER);
    cr_time_format_sql(cr_clock_now(clock), ts);
    if (rc == 1)
        rc = cr_store_run(s, err,
                          "UPDATE template SET channel = ?, content = ?, updated_at = ? "
                          "WHERE id = ?",
                          "sssi", channel, text, ts, *id);
    else {
        rc = cr_store_query_int64(s, err, id,
                                  "INSERT INTO template (name, channel, content, created_at, "
                                  "updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
                                  "sssss", name, channel, text, ts, ts);
        rc = rc < 0 ? rc : 0;
    }
    free(text);
    return rc;
}

int cr_dtemplate_get(struct cr_store *s, const char *name, int64_t *id, char **channel,
                     json_t **content, struct cr_err *err)
{
    struct cr_stmt *st = NULL;
    int rc = cr_stmt_prepare(s, "SELECT id, channel, content FROM template WHERE name = ?", &st,
                             err);
    *channel = NULL;
    *content = NULL;
    if (rc)
        return rc;
    cr_stmt_bind_str(st, 1, name);
    rc = cr_stmt_step(st, err);
    if (rc == 0)
        rc = cr_err_set(err, CR_ENOTFOUND, "no template named '%s'", name);
    if (rc == 1) {
        *id = cr_stmt_int64(st, 0);
        *channel = cr_xstrdup(cr_stmt_text(st, 1));
        *content = json_loads(cr_stmt_text(st, 2), 0, NULL);
        rc = *content ? 0 : cr_err_set(err, CR_ESTORE, "template '%s': unreadable content", name);
    }
    cr_stmt_free(st);
    return rc;
}

int cr_dtemplate_list(struct cr_store *s, json_t **out, struct cr_err *err)
{
    struct cr_stmt *st = NULL;
    json_t *arr = json_array();
    int rc = cr_stmt_prepare(s, "SELECT id, name, channel, updated_at FROM template ORDER BY id",
                             &st, err);
    *out = NULL;
    if (rc) {
        json_decref(arr);
        return rc;
    }
    while ((rc = cr_stmt_step(st, err)) == 1)
        json_array_append_new(arr, json_pack("{sI ss ss ss}", "id",
                                             (json_int_t)cr_stmt_int64(st, 0), "name",
                                             cr_stmt_text(st, 1), "channel", cr_stmt_text(st, 2),
                                             "updated_at", cr_stmt_text(st, 3)));
    cr_stmt_free(st);
    if (rc < 0) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return 0;
}
