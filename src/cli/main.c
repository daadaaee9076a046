/*
 * main.c - the `crier` program: global options and the command table
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "store/store.h"

struct command {
    const char *name;
    int (*run)(struct cli *c, struct cli_args *a);
    const char *summary;
};

static const struct command commands[] = {
    {"init", cmd_init, "create the database, or migrate it to this version"},
    {"import", cmd_import, "import profiles, subscriptions or list members from CSV"},
    {"profiles", cmd_profiles, "count, show and export profiles"},
    {"subscriptions", cmd_subscriptions, "list, deactivate and activate app subscriptions"},
    {"query", cmd_query, "count, list or show the SQL of a filter"},
    {"schema", cmd_schema, "add custom profile columns, list columns"},
    {"address", cmd_address, "check and normalise an address (phone number)"},
    {"clock", cmd_clock, "show, set, advance the virtual clock, or go back to real time"},
    {"config", cmd_config, "show and set stored settings"},
    {"template", cmd_template, "add, list and render templates"},
    {"campaign", cmd_campaign, "add, list, show and close campaigns"},
    {"workflow", cmd_workflow, "validate, add, start, pause, resume, stop workflows; run status"},
    {"engine", cmd_engine, "run the activities and the sending that are due"},
    {"account", cmd_account, "add and list external accounts (where deliveries send)"},
    {"delivery", cmd_delivery, "create, prepare, proof, confirm, pause, stop deliveries; KPIs, logs"},
    {"serve", cmd_serve, "serve the tracking endpoints and run the engine"},
    {"bounce", cmd_bounce, "apply bounce and complaint messages (DSN, ARF, common formats)"},
    {"tracking", cmd_tracking, "rotate the secret that signs tracking links"},
    {"demo", cmd_demo, "generate sample data"},
    {"user", cmd_user, "add and list the users of the REST API"},
    {"apikey", cmd_apikey, "create, list and revoke API keys"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: crier [--db URL] [--log-level LEVEL] [--log-json] COMMAND [ARGS]\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nThe database is --db, else $CRIER_DB, else %s in the current folder;\n"
               "a postgres:// URL selects PostgreSQL. See docs/cli.md.\n",
            cr_store_default_url());
}

int main(int argc, char **argv)
{
    struct cli c = {0};
    struct cli_args a = {argc - 1, argv + 1};
    const char *v;
    int rc;

    cr_log_init_from_env();
    c.db_url = getenv("CRIER_DB");
    if (cli_opt(&a, "--db", &c.db_url) < 0)
        return CLI_FAIL;
    if ((rc = cli_opt(&a, "--log-level", &v)) != 0) {
        if (rc < 0)
            return CLI_FAIL;
        if ((cr_log_level = cr_log_level_parse(v)) < 0)
            return cli_error("unknown log level '%s' (error, warn, info, debug, trace)", v);
    }
    if (cli_flag(&a, "--log-json"))
        cr_log_json = 1;
    if (!c.db_url || !*c.db_url)
        c.db_url = cr_store_default_url();

    if (a.argc == 0 || strcmp(a.argv[0], "help") == 0 || strcmp(a.argv[0], "--help") == 0 ||
        strcmp(a.argv[0], "-h") == 0) {
        usage(a.argc == 0 ? stderr : stdout);
        return a.argc == 0 ? CLI_FAIL : CLI_OK;
    }
    if (strcmp(a.argv[0], "version") == 0 || strcmp(a.argv[0], "--version") == 0) {
        printf("crier %s\n", CRIER_VERSION);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        if (strcmp(a.argv[0], commands[i].name) == 0) {
            a.argc--;
            a.argv++;
            rc = commands[i].run(&c, &a);
            cli_close_store(&c);
            return rc;
        }
    }
    cli_error("unknown command '%s'", a.argv[0]);
    usage(stderr);
    return CLI_FAIL;
}
