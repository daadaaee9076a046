/*
 * cmd_campaign.c - `crier campaign add|list|show|close`: campaigns and what belongs to them
 *
 * Times are printed in ISO 8601 UTC ("2026-12-01T09:00:00Z"), JSON null when unset. The status
 * is computed at read time from the dates and the (virtual) clock: see campaign/campaign.h.
 */
#include "cli/cli.h"

#include <jansson.h>
#include <string.h>

#include "campaign/campaign.h"

#define CAMPAIGN_USAGE                                                                             \
    "crier campaign add NAME [--label L] [--start T] [--end T] [--json] | list [--json] | "        \
    "show NAME|ID [--json] | close NAME|ID"
#define ADD_USAGE "crier campaign add NAME [--label LABEL] [--start TIME] [--end TIME] [--json]"

static void print_json(json_t *j) /* and lets it go */
{
    cli_print_json(j);
    json_decref(j);
}

/* A JSON string, null for NULL; text that is not UTF-8 (rows others wrote) becomes U+FFFD. */
static json_t *str_json(const char *s)
{
    json_t *j;
    if (!s)
        return json_null();
    j = json_string(s);
    return j ? j : json_string("\xEF\xBF\xBD");
}

static json_t *time_json(cr_time_t t)
{
    char buf[CR_TIME_BUFSZ];
    return t ? json_string(cr_time_format_iso(t, buf)) : json_null();
}

static const char *time_text(cr_time_t t, char *buf)
{
    return t ? cr_time_format_iso(t, buf) : "-";
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

/* --start / --end: absent leaves *t at 0. */
static int time_opt(struct cli_args *a, const char *name, cr_time_t *t)
{
    struct cr_err err = CR_ERR_INIT;
    const char *v;
    int rc = cli_opt(a, name, &v);
    if (rc <= 0)
        return rc;
    if (cr_time_parse(v, strlen(v), t, &err)) {
        cli_error("bad %s '%s': %s", name, v, cr_err_msg(&err));
        return -1;
    }
    return 0;
}

static int add(struct cli *c, struct cli_args *a)
{
    struct cr_err err = CR_ERR_INIT;
    const char *name, *label = NULL;
    cr_time_t start = 0, end = 0;
    int64_t id;
    int json = cli_flag(a, "--json"), rc;
    if (cli_opt(a, "--label", &label) < 0 || time_opt(a, "--start", &start) < 0 ||
        time_opt(a, "--end", &end) < 0 || cli_expect(a, 1, ADD_USAGE))
        return CLI_FAIL;
    name = cli_next(a);
    if ((rc = cli_open_store(c, 0)))
        return rc;
    if (cr_campaign_add(c->store, &c->clock, name, label, start, end, &id, &err))
        return cli_error_err(&err);
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(id));
        print_json(o);
    } else {
        printf("%lld\n", (long long)id);
    }
    return CLI_OK;
}

struct list_out {
    int json, count;
    json_t *arr;
};

static int list_one(void *data, const struct cr_campaign *c)
{
    struct list_out *lo = data;
    char s[CR_TIME_BUFSZ], e[CR_TIME_BUFSZ];
    if (lo->json) {
        json_array_append_new(lo->arr, campaign_json(c));
    } else {
        if (lo->count == 0)
            printf("%-6s %-24s %-9s %-20s %-20s %s\n", "ID", "NAME", "STATUS", "START", "END",
                   "LABEL");
        printf("%-6lld %-24s %-9s %-20s %-20s %s\n", (long long)c->id, c->name, c->status,
               time_text(c->start_at, s), time_text(c->end_at, e), c->label ? c->label : "");
    }
    lo->count++;
    return 0;
}

static int list(struct cli *c, struct cli_args *a)
{
    struct cr_err err = CR_ERR_INIT;
    struct list_out lo = {cli_flag(a, "--json"), 0, NULL};
    int rc;
    if (cli_expect(a, 0, "crier campaign list [--json]"))
        return CLI_FAIL;
    if ((rc = cli_open_store(c, 0)))
        return rc;
    if (lo.json)
        lo.arr = json_array();
    if (cr_campaign_list(c->store, &c->clock, list_one, &lo, &err)) {
        json_decref(lo.arr);
        return cli_error_err(&err);
    }
    if (lo.json)
        print_json(lo.arr);
    else if (lo.count == 0)
        printf("no campaigns\n");
    return CLI_OK;
}

static int workflow_json(void *data, const struct cr_campaign_member *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(m->id));
    json_object_set_new(o, "name", str_json(m->name));
    json_object_set_new(o, "status", str_json(m->status));
    json_array_append_new(data, o);
    return 0;
}

static int delivery_json(void *data, const struct cr_campaign_member *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(m->id));
    json_object_set_new(o, "label", str_json(m->name));
    json_object_set_new(o, "channel", str_json(m->channel));
    json_object_set_new(o, "status", str_json(m->status));
    json_array_append_new(data, o);
    return 0;
}

static int member_text(void *data, const struct cr_campaign_member *m)
{
    int *count = data;
    if (m->channel)
        printf("  %-6lld %-8s %-10s %s\n", (long long)m->id, m->channel, m->status,
               m->name ? m->name : "");
    else
        printf("  %-6lld %-10s %s\n", (long long)m->id, m->status, m->name ? m->name : "");
    ++*count;
    return 0;
}

static int show(struct cli *c, struct cli_args *a)
{
    struct cr_err err = CR_ERR_INIT;
    struct cr_campaign camp;
    int json = cli_flag(a, "--json"), rc;
    if (cli_expect(a, 1, "crier campaign show NAME|ID [--json]"))
        return CLI_FAIL;
    if ((rc = cli_open_store(c, 0)))
        return rc;
    if (cr_campaign_get(c->store, &c->clock, cli_next(a), &camp, &err))
        return cli_error_err(&err);
    if (json) {
        json_t *o = campaign_json(&camp), *wf = json_array(), *dl = json_array();
        json_object_set_new(o, "workflows", wf);
        json_object_set_new(o, "deliveries", dl);
        rc = cr_campaign_workflows(c->store, camp.id, workflow_json, wf, &err);
        if (!rc)
            rc = cr_campaign_deliveries(c->store, camp.id, delivery_json, dl, &err);
        if (rc)
            json_decref(o);
        else
            print_json(o);
    } else {
        char s[CR_TIME_BUFSZ], e[CR_TIME_BUFSZ], cr[CR_TIME_BUFSZ];
        int nwf = 0, ndl = 0;
        printf("%-10s %lld\n%-10s %s\n%-10s %s\n%-10s %s\n%-10s %s\n%-10s %s\n%-10s %s\n", "id",
               (long long)camp.id, "name", camp.name, "label", camp.label ? camp.label : "",
               "status", camp.status, "start", time_text(camp.start_at, s), "end",
               time_text(camp.end_at, e), "created", time_text(camp.created_at, cr));
        printf("workflows\n");
        rc = cr_campaign_workflows(c->store, camp.id, member_text, &nwf, &err);
        if (!rc && nwf == 0)
            printf("  (none)\n");
        if (!rc) {
            printf("deliveries\n");
            rc = cr_campaign_deliveries(c->store, camp.id, member_text, &ndl, &err);
        }
        if (!rc && ndl == 0)
            printf("  (none)\n");
    }
    cr_campaign_release(&camp);
    return rc ? cli_error_err(&err) : CLI_OK;
}

static int close_campaign(struct cli *c, struct cli_args *a)
{
    struct cr_err err = CR_ERR_INIT;
    struct cr_campaign camp;
    int rc;
    if (cli_expect(a, 1, "crier campaign close NAME|ID"))
        return CLI_FAIL;
    if ((rc = cli_open_store(c, 0)))
        return rc;
    if (cr_campaign_get(c->store, &c->clock, cli_next(a), &camp, &err))
        return cli_error_err(&err);
    if (strcmp(camp.status, "closed") == 0)
        printf("campaign '%s' was already closed\n", camp.name);
    else if (cr_campaign_close(c->store, &c->clock, camp.id, &err) == 0)
        printf("campaign '%s' closed\n", camp.name);
    cr_campaign_release(&camp);
    return err.code ? cli_error_err(&err) : CLI_OK;
}

int cmd_campaign(struct cli *c, struct cli_args *a)
{
    const char *verb = cli_next(a);
    if (!verb)
        return cli_usage(CAMPAIGN_USAGE);
    if (strcmp(verb, "add") == 0)
        return add(c, a);
    if (strcmp(verb, "list") == 0)
        return list(c, a);
    if (strcmp(verb, "show") == 0)
        return show(c, a);
    if (strcmp(verb, "close") == 0)
        return close_campaign(c, a);
    cli_error("unknown campaign command '%s'", verb);
    return cli_usage(CAMPAIGN_USAGE);
}
