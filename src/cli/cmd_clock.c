/*
 * cmd_clock.c - `crier clock show|set|advance|real`: the shared virtual clock
 */
#include "cli/cli.h"

#include <string.h>

#include "store/clock_store.h"

#define CLOCK_USAGE "crier clock show | set TIMESTAMP | advance DURATION | real"

static int show(struct cli *c)
{
    struct cr_err err = CR_ERR_INIT;
    char buf[CR_TIME_BUFSZ];
    cr_time_t now;
    int virt;
    if (cr_store_clock_get(c->store, &now, &virt, &err))
        return cli_error_err(&err);
    printf("%s (%s)\n", cr_time_format_iso(now, buf), virt ? "virtual" : "real");
    return CLI_OK;
}

int cmd_clock(struct cli *c, struct cli_args *a)
{
    struct cr_err err = CR_ERR_INIT;
    const char *verb = cli_next(a), *arg;
    int rc;
    if (!verb)
        return cli_usage(CLOCK_USAGE);
    if (strcmp(verb, "show") == 0) {
        if (cli_expect(a, 0, "crier clock show"))
            return CLI_FAIL;
        if ((rc = cli_open_store(c, 0)))
            return rc;
        return show(c);
    }
    if (strcmp(verb, "set") == 0) {
        cr_time_t t;
        if (cli_expect(a, 1, "crier clock set TIMESTAMP (e.g. 2026-12-01T09:00:00Z)"))
            return CLI_FAIL;
        arg = cli_next(a);
        if (cr_time_parse(arg, strlen(arg), &t, &err))
            return cli_error_err(&err);
        if ((rc = cli_open_store(c, 0)))
            return rc;
        if (cr_store_clock_set(c->store, t, &err))
            return cli_error_err(&err);
        return show(c);
    }
    if (strcmp(verb, "advance") == 0) {
        int64_t delta;
        if (cli_expect(a, 1, "crier clock advance DURATION (e.g. 3d, 12h, 1d12h)"))
            return CLI_FAIL;
        arg = cli_next(a);
        if (cr_duration_parse(arg, strlen(arg), &delta, &err))
            return cli_error_err(&err);
        if ((rc = cli_open_store(c, 0)))
            return rc;
        if (cr_store_clock_advance(c->store, delta, NULL, &err))
            return cli_error_err(&err);
        return show(c);
    }
    if (strcmp(verb, "real") == 0) {
        if (cli_expect(a, 0, "crier clock real"))
            return CLI_FAIL;
        if ((rc = cli_open_store(c, 0)))
            return rc;
        if (cr_store_clock_real(c->store, &err))
            return cli_error_err(&err);
        return show(c);
    }
    cli_error("unknown clock command '%s'", verb);
    return cli_usage(CLOCK_USAGE);
}
