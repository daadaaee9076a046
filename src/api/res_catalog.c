/*
 * res_catalog.c - what deliveries are made of and filed under: /accounts (secrets never
 *                 leave), /templates (read, and added by admins), /campaigns (read, created
 *                 and closed by operators)
 *
 * The campaign JSON is `crier campaign list|show --json`'s (docs/cli.md), built here from
 * the same library calls.
 */
#include "api/api_int.h"

#include <stdio.h>
#include <string.h>

#include "campaign/campaign.h"
#include "core/datetime.h"
#include "delivery/account.h"
#include "delivery/dtemplate.h"

void cr__api_accounts(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    json_t *j;
    int rc = cr_account_list(x->s, &j, &err);
    if (rc)
        cr__api_fail(x, rc, &err, NULL);
    else
        cr__api_reply(x, MHD_HTTP_OK, j);
}

void cr__api_templates(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    json_t *j;
    int rc = cr_dtemplate_list(x->s, &j, &err);
    if (rc)
        cr__api_fail(x, rc, &err, NULL);
    else
        cr__api_reply(x, MHD_HTTP_OK, j);
}

void cr__api_template_add(struct cr_api_ctx *x)
{
    static const char *const channels[] = {"email", "sms", "push", "external"};
    struct cr_err err = CR_ERR_INIT;
    int64_t id;
    int bad, rc;
    size_t i;
    json_t *body = cr__api_body(x, 0), *content, *replace;
    if (!body)
        return;
    const char *channel = cr__api_body_str(x, body, "channel", 1, &bad);
    const char *name = bad ? NULL : cr__api_body_str(x, body, "name", 1, &bad);
    if (bad)
        goto out;
    for (i = 0; i < sizeof channels / sizeof *channels && strcmp(channel, channels[i]); i++)
        ;
    if (i == sizeof channels / sizeof *channels) {
        cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "channel",
                      "channel is email, sms, push or external");
        goto out;
    }
    content = json_object_get(body, "content");
    replace = json_object_get(body, "replace");
    if (!json_is_object(content)) {
        cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "content",
                      "content is the template, a JSON object");
        goto out;
    }
    if (replace && !json_is_boolean(replace)) {
        cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "replace", "replace is true or false");
        goto out;
    }
    rc = cr_dtemplate_add(x->s, &x->clock, channel, name, content, json_is_true(replace), &id,
                          &err);
    if (rc)
        cr__api_fail(x, rc, &err, rc == CR_EEXISTS ? "name" : "content");
    else
        cr__api_reply(x, MHD_HTTP_OK, json_pack("{sI}", "id", (json_int_t)id));
out:
    json_decref(body);
}

static json_t *str_json(const char *s)
{
    json_t *j = s ? json_string(s) : json_null();
    return j ? j : json_string("\xEF\xBF\xBD");
}

static json_t *time_json(cr_time_t t)
{
    char buf[CR_TIME_BUFSZ];
    return t ? json_string(cr_time_format_iso(t, buf)) : json_null();
}

static json_t *campaign_json(const struct cr_campaign *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(c->id));
    json_object_set_new(o, "name", str_json(c->name));
    json_object_set_new(o, "label", str_json(c->label));
    json_object_set_new(o, "status", json_string(c->status));
    json_object_set_new(o, "start", time_json(c->start_at));
    json_object_set_new(o, "end", time_json(c->end_at));
    return o;
}

static int add_campaign(void *data, const struct cr_campaign *c)
{
    json_array_append_new(data, campaign_json(c));
    return 0;
}

void cr__api_campaigns(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    json_t *arr = json_array();
    int rc = cr_campaign_list(x->s, &x->clock, add_campaign, arr, &err);
    if (rc) {
        json_decref(arr);
        cr__api_fail(x, rc, &err, NULL);
    } else {
        cr__api_reply(x, MHD_HTTP_OK, arr);
    }
}

static int workflow_json(void *data, const struct cr_campaign_member *m)
{
    json_array_append_new(data, json_pack("{sI so so}", "id", (json_int_t)m->id, "name",
                                          str_json(m->name), "status", str_json(m->status)));
    return 0;
}

static int delivery_json(void *data, const struct cr_campaign_member *m)
{
    json_array_append_new(data, json_pack("{sI so so so}", "id", (json_int_t)m->id, "label",
                                          str_json(m->name), "channel", str_json(m->channel),
                                          "status", str_json(m->status)));
    return 0;
}

void cr__api_campaign(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    struct cr_campaign camp;
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)x->id);
    int rc = cr_campaign_get(x->s, &x->clock, id, &camp, &err);
    if (rc) {
        cr__api_fail(x, rc, &err, NULL);
        return;
    }
    json_t *o = campaign_json(&camp), *wf = json_array(), *dl = json_array();
    json_object_set_new(o, "workflows", wf);
    json_object_set_new(o, "deliveries", dl);
    rc = cr_campaign_workflows(x->s, camp.id, workflow_json, wf, &err);
    if (!rc)
        rc = cr_campaign_deliveries(x->s, camp.id, delivery_json, dl, &err);
    cr_campaign_release(&camp);
    if (rc) {
        json_decref(o);
        cr__api_fail(x, rc, &err, NULL);
    } else {
        cr__api_reply(x, MHD_HTTP_OK, o);
    }
}

/* "start" / "end": an ISO 8601 time or null; 0 and *t (0: none), or -1 with a 400 reply. */
static int time_field(struct cr_api_ctx *x, json_t *body, const char *name, cr_time_t *t)
{
    struct cr_err err = CR_ERR_INIT;
    json_t *v = json_object_get(body, name);
    *t = 0;
    if (!v || json_is_null(v))
        return 0;
    const char *s = json_string_value(v);
    if (!s || cr_time_parse(s, strlen(s), t, &err)) {
        cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", name,
                      "%s is a time such as \"2026-12-01T09:00:00Z\"%s%s", name, s ? ": " : "",
                      s ? cr_err_msg(&err) : "");
        return -1;
    }
    return 0;
}

void cr__api_campaign_add(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    cr_time_t start, end;
    int bad, rc;
    json_t *body = cr__api_body(x, 0);
    if (!body)
        return;
    const char *name = cr__api_body_str(x, body, "name", 1, &bad);
    const char *label = bad ? NULL : cr__api_body_str(x, body, "label", 0, &bad);
    if (bad || time_field(x, body, "start", &start) || time_field(x, body, "end", &end))
        goto out;
    rc = cr_campaign_add(x->s, &x->clock, name, label, start, end, &x->id, &err);
    if (rc)
        cr__api_fail(x, rc, &err,
                     rc == CR_EEXISTS || !cr_campaign_name_ok(name) ? "name"
                     : label && strlen(label) > CR_CAMPAIGN_LABEL_MAX ? "label"
                                                                       : "end");
    else
        cr__api_campaign(x);
out:
    json_decref(body);
}

void cr__api_campaign_close(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    struct cr_campaign camp;
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)x->id);
    int rc = cr_campaign_get(x->s, &x->clock, id, &camp, &err);
    if (!rc) {
        cr_campaign_release(&camp);
        rc = cr_campaign_close(x->s, &x->clock, x->id, &err);
    }
    if (rc)
        cr__api_fail(x, rc, &err, NULL);
    else
        cr__api_campaign(x);
}
