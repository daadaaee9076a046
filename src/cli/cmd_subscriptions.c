/*
 * cmd_subscriptions.c - `crier subscriptions list|deactivate|activate`
 */
#include "cli/cli.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "profile/subscription.h"

#define SUBSCRIPTIONS_USAGE                                                                    \
    "crier subscriptions list [--app APP] [--platform ios|android] [--profile ID]\n"          \
    "                         [--active|--inactive] [--offset N] [--limit N] [--json]\n"      \
    "       crier subscriptions deactivate ID [--reason TEXT]\n"                              \
    "       crier subscriptions activate ID"

static int list(struct cli *c, struct cli_args *a)
{
    struct cr_subscription_filter f = {NULL, NULL, 0, -1, 0, 0};
    struct cr_err err = CR_ERR_INIT;
    long n;
    int as_json = cli_flag(a, "--json"), act = cli_flag(a, "--active"),
        inact = cli_flag(a, "--inactive"), r;
    json_t *j, *x;
    size_t i;
    if (cli_opt(a, "--app", &f.app) < 0 || cli_opt(a, "--platform", &f.platform) < 0)
        return CLI_FAIL;
    if ((r = cli_int_opt(a, "--profile", 1, INT32_MAX, &n)) < 0)
        return CLI_FAIL;
    f.profile = r ? n : 0;
    if ((r = cli_int_opt(a, "--offset", 0, INT32_MAX, &n)) < 0)
        return CLI_FAIL;
    f.offset = r ? n : 0;
    if ((r = cli_int_opt(a, "--limit", 1, 100000, &n)) < 0)
        return CLI_FAIL;
    f.limit = r ? n : 0;
    if (act && inact)
        return cli_error("--active and --inactive exclude each other");
    f.active = act ? 1 : inact ? 0 : -1;
    if (f.platform && strcmp(f.platform, "ios") && strcmp(f.platform, "android"))
        return cli_error("--platform is ios or android, not '%s'", f.platform);
    if (cli_no_more_options(a) || cli_expect(a, 0, SUBSCRIPTIONS_USAGE) ||
        cli_open_store(c, 0))
        return CLI_FAIL;
    if (cr_subscription_list(c->store, &f, &j, &err))
        return cli_error_err(&err);
    if (as_json) {
        cli_print_json(j);
    } else {
        json_array_foreach(j, i, x) {
            printf("%-6lld profile %-8lld %-12s %-8s %-9s %s\n",
                   (long long)json_integer_value(json_object_get(x, "id")),
                   (long long)json_integer_value(json_object_get(x, "profile")),
                   json_string_value(json_object_get(x, "app")),
                   json_string_value(json_object_get(x, "platform")),
                   json_is_true(json_object_get(x, "active")) ? "active" : "inactive",
                   json_string_value(json_object_get(x, "token")));
        }
    }
    json_decref(j);
    return CLI_OK;
}

static int set_active(struct cli *c, struct cli_args *a, int active)
{
    struct cr_err err = CR_ERR_INIT;
    const char *reason = NULL;
    int64_t id;
    if (!active && cli_opt(a, "--reason", &reason) < 0)
        return CLI_FAIL;
    if (cli_no_more_options(a) ||
        cli_id_arg(a, SUBSCRIPTIONS_USAGE, "a subscription", &id) || cli_open_store(c, 0))
        return CLI_FAIL;
    if (cr_subscription_set_active(c->store, &c->clock, id, active, reason, &err))
        return cli_error_err(&err);
    return CLI_OK;
}

int cmd_subscriptions(struct cli *c, struct cli_args *a)
{
    const char *verb = cli_next(a);
    if (!verb)
        return cli_usage(SUBSCRIPTIONS_USAGE);
    if (strcmp(verb, "list") == 0)
        return list(c, a);
    if (strcmp(verb, "deactivate") == 0)
        return set_active(c, a, 0);
    if (strcmp(verb, "activate") == 0)
        return set_active(c, a, 1);
    return cli_error("unknown subscriptions command '%s' (list, deactivate, activate)", verb);
}
