/*
 * cmd_delivery.c - `crier delivery create|prepare|proof|confirm|pause|resume|stop|list|show|
 * logs`
 */
#include "cli/cli.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "campaign/campaign.h"
#include "delivery/delivery.h"
#include "delivery/external.h"

#define DELIVERY_USAGE                                                                             \
    "crier delivery create --template NAME --account NAME --filter 'EXPR' [--label L]\n"           \
    "                      [--campaign NAME] [--no-confirm] [--strict] [--validity DURATION]\n"    \
    "                      [--tracking all|no_opens|none] [--json]\n"                              \
    "       crier delivery prepare|confirm|pause|resume|stop ID [--json]\n"                        \
    "       crier delivery proof ID [--to a@x,b@y | --to FILE (external)]\n"                       \
    "       crier delivery preview ID [--rows N] (external: the file's first rows)\n"              \
    "       crier delivery list [--all] [--json]\n"                                                \
    "       crier delivery show ID [--json]\n"                                                     \
    "       crier delivery logs ID [--status S] [--offset N] [--limit N] [--json]"

static int create(struct cli *c, struct cli_args *a)
{
    struct cr_delivery_new n = {0};
    struct cr_err err = CR_ERR_INIT;
    const char *validity = NULL, *campaign = NULL, *tracking = NULL;
    int as_json = cli_flag(a, "--json"), rc;
    int64_t id;
    n.confirm = !cli_flag(a, "--no-confirm");
    int strict = cli_flag(a, "--strict");
    if (cli_opt(a, "--template", &n.template_name) < 0 ||
        cli_opt(a, "--account", &n.account_name) < 0 || cli_opt(a, "--filter", &n.filter) < 0 ||
        cli_opt(a, "--label", &n.label) < 0 || cli_opt(a, "--validity", &validity) < 0 ||
        cli_opt(a, "--campaign", &campaign) < 0 || cli_opt(a, "--tracking", &tracking) < 0 ||
        cli_no_more_options(a) || cli_expect(a, 0, DELIVERY_USAGE))
        return CLI_FAIL;
    if (!n.template_name || !n.account_name || !n.filter)
        return cli_error("delivery create needs --template, --account and --filter");
    if (tracking && strcmp(tracking, "all") && strcmp(tracking, "no_opens") &&
        strcmp(tracking, "none"))
        return cli_error("--tracking is all, no_opens or none, not '%s'", tracking);
    if ((rc = cli_open_store(c, 0)))
        return rc;
    if (campaign && cr_campaign_ensure(c->store, &c->clock, campaign, &n.campaign_id, &err))
        return cli_error_err(&err);
    n.options = json_object();
    if (strict)
        json_object_set_new(n.options, "strict", json_true());
    if (validity)
        json_object_set_new(n.options, "validity", json_string(validity));
    if (tracking)
        json_object_set_new(n.options, "tracking", json_string(tracking));
    rc = cr_delivery_create(c->store, &c->clock, &n, &id, &err);
    json_decref(n.options);
    if (rc)
        return cli_error_err(&err);
    cli_print_id(id, as_json);
    return CLI_OK;
}

static void print_kpis(json_t *k)
{
    const char *name;
    json_t *v;
    printf("  targeted %lld, sent %lld, delivered %lld, failed %lld hard / %lld soft, pending "
           "%lld\n",
           (long long)json_integer_value(json_object_get(k, "targeted")),
           (long long)json_integer_value(json_object_get(k, "sent")),
           (long long)json_integer_value(json_object_get(k, "delivered")),
           (long long)json_integer_value(json_object_get(k, "failed_hard")),
           (long long)json_integer_value(json_object_get(k, "failed_soft")),
           (long long)json_integer_value(json_object_get(k, "pending")));
    printf("  excluded:");
    if (!json_object_size(json_object_get(k, "excluded")))
        printf(" none");
    json_object_foreach(json_object_get(k, "excluded"), name, v)
    {
        printf(" %s %lld", name, (long long)json_integer_value(v));
    }
#define KPI(name) ((long long)json_integer_value(json_object_get(k, name)))
    printf("\n  opens %lld (unique %lld, prefetched %lld), clicks %lld (unique %lld), "
           "unsubscriptions %lld\n  bounces %lld, complaints %lld\n",
           KPI("opens"), KPI("unique_opens"), KPI("prefetched_opens"), KPI("clicks"),
           KPI("unique_clicks"), KPI("unsubscriptions"), KPI("bounces"), KPI("complaints"));
    json_t *l;
    size_t i;
    json_array_foreach(json_object_get(k, "links"), i, l)
    {
        printf("  link %-24.24s %6lld clicks (unique %lld)  %s\n",
               json_string_value(json_object_get(l, "label")),
               (long long)json_integer_value(json_object_get(l, "clicks")),
               (long long)json_integer_value(json_object_get(l, "unique_clicks")),
               json_string_value(json_object_get(l, "url")));
    }
#undef KPI
}

/* A recurring delivery lists its executions (its KPIs are theirs summed); an execution
 * names its parent, its period and how many fires it holds. */
static void print_recurring(json_t *j)
{
    json_t *ex = json_object_get(j, "executions"), *e;
    size_t i;
    if (json_is_integer(json_object_get(j, "parent")))
        printf("  execution of recurring delivery %lld, period %s, %zu fire(s)\n",
               (long long)json_integer_value(json_object_get(j, "parent")),
               json_string_value(json_object_get(j, "period")),
               json_array_size(json_object_get(j, "fires")));
    if (!json_is_array(ex))
        return;
    printf("  recurring (aggregation %s): %zu execution(s), KPIs below are their sum\n",
           json_string_value(json_object_get(
               json_object_get(json_object_get(j, "options"), "recurring"), "aggregation")),
           json_array_size(ex));
    json_array_foreach(ex, i, e)
    {
        printf("    %-8lld %-12s %s\n", (long long)json_integer_value(json_object_get(e, "id")),
               json_string_value(json_object_get(e, "period")),
               json_string_value(json_object_get(e, "status")));
    }
}

static int show(struct cli *c, int64_t id, int as_json)
{
    struct cr_err err = CR_ERR_INIT;
    json_t *j;
    if (cr_delivery_show(c->store, id, &j, &err))
        return cli_error_err(&err);
    if (as_json) {
        cli_print_json(j);
    } else {
        printf("delivery %lld '%s' (%s): %s\n", (long long)id,
               json_string_value(json_object_get(j, "label")),
               json_string_value(json_object_get(j, "channel")),
               json_string_value(json_object_get(j, "status")));
        if (json_is_string(json_object_get(j, "error")))
            printf("  error: %s\n", json_string_value(json_object_get(j, "error")));
        print_recurring(j);
        print_kpis(json_object_get(j, "kpis"));
        json_t *ex = json_object_get(j, "export");
        if (json_is_object(ex)) {
            printf("  export %s: %s, %lld rows, %lld bytes, %lld attempt(s)",
                   json_string_value(json_object_get(ex, "status")),
                   json_string_value(json_object_get(ex, "name")),
                   (long long)json_integer_value(json_object_get(ex, "rows")),
                   (long long)json_integer_value(json_object_get(ex, "bytes")),
                   (long long)json_integer_value(json_object_get(ex, "attempts")));
            if (json_is_string(json_object_get(ex, "error")))
                printf("; last error: %s", json_string_value(json_object_get(ex, "error")));
            if (strcmp(json_string_value(json_object_get(ex, "status")), "exported") != 0)
                printf("; file kept at %s", json_string_value(json_object_get(ex, "file")));
            printf("\n");
        }
    }
    json_decref(j);
    return CLI_OK;
}

static int logs(struct cli *c, struct cli_args *a)
{
    const char *status = NULL, *off = NULL, *lim = NULL;
    int as_json = cli_flag(a, "--json"), rc;
    struct cr_err err = CR_ERR_INIT;
    int64_t id;
    json_t *j, *l;
    size_t i;
    if (cli_opt(a, "--status", &status) < 0 || cli_opt(a, "--offset", &off) < 0 ||
        cli_opt(a, "--limit", &lim) < 0 ||
        (rc = cli_id_arg(a, DELIVERY_USAGE, "a delivery", &id)) || (rc = cli_open_store(c, 0)))
        return CLI_FAIL;
    long long o = off ? strtoll(off, NULL, 10) : 0, n = lim ? strtoll(lim, NULL, 10) : -1;
    if (o < 0)
        return cli_error("--offset takes a number >= 0");
    if (cr_delivery_logs(c->store, id, status, o, n > 0 ? n : INT64_MAX, &j, &err))
        return cli_error_err(&err);
    if (as_json)
        cli_print_json(j);
    else
        json_array_foreach(j, i, l)
        {
            printf("%-8lld %-8lld %-40s %-9s %s%s\n",
                   (long long)json_integer_value(json_object_get(l, "id")),
                   (long long)json_integer_value(json_object_get(l, "profile")),
                   json_string_value(json_object_get(l, "address"))
                       ? json_string_value(json_object_get(l, "address"))
                       : "-",
                   json_string_value(json_object_get(l, "status")),
                   json_string_value(json_object_get(l, "reason"))
                       ? json_string_value(json_object_get(l, "reason"))
                       : (json_string_value(json_object_get(l, "error"))
                              ? json_string_value(json_object_get(l, "error"))
                              : ""),
                   json_is_true(json_object_get(l, "proof")) ? " (proof)" : "");
        }
    json_decref(j);
    return CLI_OK;
}

int cmd_delivery(struct cli *c, struct cli_args *a)
{
    struct cr_err err = CR_ERR_INIT;
    const char *verb = cli_next(a);
    int rc, as_json;
    int64_t id;
    if (!verb)
        return cli_usage(DELIVERY_USAGE);
    if (strcmp(verb, "create") == 0)
        return create(c, a);
    if (strcmp(verb, "logs") == 0)
        return logs(c, a);
    if (strcmp(verb, "list") == 0) {
        int all = cli_flag(a, "--all");
        json_t *j, *d;
        size_t i;
        as_json = cli_flag(a, "--json");
        if (cli_no_more_options(a) || cli_expect(a, 0, "crier delivery list [--all] [--json]"))
            return CLI_FAIL;
        if ((rc = cli_open_store(c, 0)))
            return rc;
        if (cr_delivery_list(c->store, all, &j, &err))
            return cli_error_err(&err);
        if (as_json)
            cli_print_json(j);
        else
            json_array_foreach(j, i, d)
            {
                json_t *k = json_object_get(d, "kpis");
                printf("%-6lld %-30s %-6s %-9s targeted %lld, sent %lld\n",
                       (long long)json_integer_value(json_object_get(d, "id")),
                       json_string_value(json_object_get(d, "label")),
                       json_string_value(json_object_get(d, "channel")),
                       json_string_value(json_object_get(d, "status")),
                       (long long)json_integer_value(json_object_get(k, "targeted")),
                       (long long)json_integer_value(json_object_get(k, "sent")));
            }
        json_decref(j);
        return CLI_OK;
    }
    if (strcmp(verb, "preview") == 0) {
        long rows = 10;
        int r = cli_int_opt(a, "--rows", 1, 1000000, &rows);
        if (r < 0 || (rc = cli_id_arg(a, DELIVERY_USAGE, "a delivery", &id)) ||
            (rc = cli_open_store(c, 0)))
            return CLI_FAIL;
        if (cr_external_preview(c->store, &c->clock, id, rows, stdout, &err))
            return cli_error_err(&err);
        return CLI_OK;
    }
    if (strcmp(verb, "proof") == 0) {
        const char *to = NULL;
        int sent;
        if (cli_opt(a, "--to", &to) < 0 ||
            (rc = cli_id_arg(a, DELIVERY_USAGE, "a delivery", &id)) || (rc = cli_open_store(c, 0)))
            return CLI_FAIL;
        char *channel = NULL;
        if (cr_store_query_text(c->store, &err, &channel,
                                "SELECT channel FROM delivery WHERE id = ?", "i", id) < 0)
            return cli_error_err(&err);
        if (channel && strcmp(channel, "external") == 0) {
            /* an external proof is a sample file: --to is its path */
            char *path = NULL;
            free(channel);
            if (cr_external_proof(c->store, &c->clock, id, to, &path, &err))
                return cli_error_err(&err);
            printf("proof file: %s\n", path);
            free(path);
            return CLI_OK;
        }
        free(channel);
        rc = cr_delivery_proof(c->store, &c->clock, id, to, &sent, &err);
        if (sent)
            printf("%d proof%s sent\n", sent, sent == 1 ? "" : "s");
        return rc ? cli_error_err(&err) : CLI_OK;
    }
    as_json = cli_flag(a, "--json");
    if ((rc = cli_id_arg(a, DELIVERY_USAGE, "a delivery", &id)) || (rc = cli_open_store(c, 0)))
        return rc;
    if (strcmp(verb, "show") == 0)
        return show(c, id, as_json);
    if (strcmp(verb, "prepare") == 0)
        rc = cr_delivery_prepare(c->store, &c->clock, id, &err);
    else if (strcmp(verb, "confirm") == 0) {
        const char *user = getenv("USER");
        rc = cr_delivery_confirm(c->store, &c->clock, id, user ? user : "cli", &err);
    } else if (strcmp(verb, "pause") == 0)
        rc = cr_delivery_control(c->store, &c->clock, id, CR_DELIVERY_PAUSE, &err);
    else if (strcmp(verb, "resume") == 0)
        rc = cr_delivery_control(c->store, &c->clock, id, CR_DELIVERY_RESUME, &err);
    else if (strcmp(verb, "stop") == 0)
        rc = cr_delivery_control(c->store, &c->clock, id, CR_DELIVERY_STOP, &err);
    else {
        cli_error("unknown delivery command '%s'", verb);
        return cli_usage(DELIVERY_USAGE);
    }
    if (rc)
        return cli_error_err(&err);
    return strcmp(verb, "prepare") == 0 || as_json ? show(c, id, as_json) : CLI_OK;
}
