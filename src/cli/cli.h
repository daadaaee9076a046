/*
 * cli.h - what the `crier` command groups share: argument taking, the store, output
 *
 * Each command group lives in its own cmd_<group>.c and exposes one cmd_<group>() entry that
 * main.c lists in its command table. Exit statuses: 0 done, 1 a negative answer (e.g. an
 * invalid number), 2 a usage error or input that could not be processed.
 */
#ifndef CR_CLI_H
#define CR_CLI_H

#include <jansson.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "store/store.h"

enum { CLI_OK = 0, CLI_NO = 1, CLI_FAIL = 2 };

/* Arguments left to a command, after the program name and the command words. Options are
 * taken out by name in any order; what remains are positionals. */
struct cli_args {
    int argc;
    char **argv;
};

struct cli {
    const char *db_url; /* --db, $CRIER_DB, or the default */
    struct cr_store *store;
    struct cr_clock clock;
};

/* Takes "--name" out of args; returns 1 if it was there. */
int cli_flag(struct cli_args *a, const char *name);
/* Takes "--name VALUE" or "--name=VALUE"; returns 1 and sets *value, 0 if absent,
 * -1 (after printing an error) if the value is missing. */
int cli_opt(struct cli_args *a, const char *name, const char **value);
/* Takes "--name N" with lo <= N <= hi: 1 and *out, 0 if absent, -1 (error printed) if bad. */
int cli_int_opt(struct cli_args *a, const char *name, long lo, long hi, long *out);
/* Fails (printing an error) if an unknown option is left. */
int cli_no_more_options(struct cli_args *a);
/* Takes the next positional, or NULL. */
const char *cli_next(struct cli_args *a);
/* Requires exactly n positionals to remain (after options were taken). */
int cli_expect(struct cli_args *a, int n, const char *usage);

/* Opens the store and checks its schema is current (unless init). Prints errors. */
int cli_open_store(struct cli *c, int for_init);
void cli_close_store(struct cli *c);

/* Prints "crier: <message>" on stderr; returns CLI_FAIL. */
int cli_error(const char *fmt, ...) CR_PRINTF(1, 2);
int cli_error_err(const struct cr_err *err);
int cli_usage(const char *usage);

/* Reads the file at path ("-": standard input) whole into out, within out's maximum size.
 * Prints the error and returns CLI_FAIL otherwise. */
int cli_read_file(const char *path, struct cr_buf *out);
/* Prints j as one compact line of JSON, keys in their order (j stays the caller's). */
void cli_print_json(json_t *j);
/* Prints the id of what a command created: "N", or {"id":N} with --json. */
void cli_print_id(int64_t id, int as_json);
/* Takes the one remaining positional as a positive id; what names it in the error
 * ("a run is a positive number"). */
int cli_id_arg(struct cli_args *a, const char *usage, const char *what, int64_t *id);

/* Runs workflow activities and delivery batches as they come due, until *stop is set (or,
 * with until_idle, until nothing is due); steps counts what was done. */
int cli_engine_run(struct cli *c, int until_idle, volatile sig_atomic_t *stop, long long *steps,
                   struct cr_err *err);

int cmd_init(struct cli *c, struct cli_args *a);
int cmd_clock(struct cli *c, struct cli_args *a);
int cmd_import(struct cli *c, struct cli_args *a);
int cmd_profiles(struct cli *c, struct cli_args *a);
int cmd_subscriptions(struct cli *c, struct cli_args *a);
int cmd_schema(struct cli *c, struct cli_args *a);
int cmd_address(struct cli *c, struct cli_args *a);
int cmd_config(struct cli *c, struct cli_args *a);
int cmd_template(struct cli *c, struct cli_args *a);
int cmd_query(struct cli *c, struct cli_args *a);
int cmd_demo(struct cli *c, struct cli_args *a);
int cmd_workflow(struct cli *c, struct cli_args *a);
int cmd_engine(struct cli *c, struct cli_args *a);
int cmd_account(struct cli *c, struct cli_args *a);
int cmd_delivery(struct cli *c, struct cli_args *a);
int cmd_campaign(struct cli *c, struct cli_args *a);
int cmd_serve(struct cli *c, struct cli_args *a);
/* The options of `account add apns|fcm` into settings and secrets (cmd_account_push.c). */
int cli_account_push(struct cli_args *a, const char *kind, json_t *settings, json_t *secrets);
/* The options of `account add routing` (cmd_account_routing.c); *channel: the channel the
 * extraction is for. */
int cli_account_routing(struct cli_args *a, json_t *settings, json_t *secrets,
                        const char **channel);
/* Prints an error unless url is a usable public base URL (http or https, no query). */
int cli_check_public_url(const char *url);
int cmd_bounce(struct cli *c, struct cli_args *a);
int cmd_tracking(struct cli *c, struct cli_args *a);
int cmd_user(struct cli *c, struct cli_args *a);
int cmd_apikey(struct cli *c, struct cli_args *a);

#endif
