/*
 * cmd_tracking.c - `crier tracking rotate-secret [--grace DURATION]`: a new HMAC secret for
 * tracking links; the previous one is still accepted during the grace period (default 30d),
 * so links in messages already sent keep working, then refused.
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#include "core/random.h"
#include "store/config.h"

#define TRACKING_USAGE "crier tracking rotate-secret [--grace DURATION]"

static int rotate(struct cr_store *s, cr_time_t until, struct cr_err *err)
{
    char *cur = NULL, hex[65], ts[CR_TIME_BUFSZ];
    int rc;
    if (cr_random_hex(hex, 32))
        return cr_err_set(err, CR_EIO, "cannot read random bytes for the tracking secret");
    if ((rc = cr_config_get(s, "tracking.secret", &cur, err)))
        return rc;
    if (!cur)
        return cr_err_set(err, CR_ESTATE, "no tracking secret yet (run: crier init)");
    cr_time_format_sql(until, ts);
    if ((rc = cr_store_begin(s, err)))
        goto out;
    if ((rc = cr_config_set(s, "tracking.secret_previous", cur, err)) ||
        (rc = cr_config_set(s, "tracking.secret_previous_until", ts, err)) ||
        (rc = cr_config_set(s, "tracking.secret", hex, err))) {
        cr_store_rollback(s);
        goto out;
    }
    rc = cr_store_commit(s, err);
out:
    free(cur);
    return rc;
}

int cmd_tracking(struct cli *c, struct cli_args *a)
{
    struct cr_err err = CR_ERR_INIT;
    const char *verb = cli_next(a), *grace = "30d";
    int64_t delta;
    int rc;
    if (!verb || strcmp(verb, "rotate-secret") != 0)
        return cli_usage(TRACKING_USAGE);
    if (cli_opt(a, "--grace", &grace) < 0 || cli_expect(a, 0, TRACKING_USAGE))
        return CLI_FAIL;
    if (cr_duration_parse(grace, strlen(grace), &delta, &err))
        return cli_error("--grace %s: %s", grace, cr_err_msg(&err));
    if ((rc = cli_open_store(c, 0)))
        return rc;
    cr_time_t until = cr_clock_now(&c->clock) + delta;
    if (rotate(c->store, until, &err))
        return cli_error_err(&err);
    char ts[CR_TIME_BUFSZ];
    cr_time_format_iso(until, ts);
    printf("new tracking secret; the previous one is accepted until %s\n", ts);
    return CLI_OK;
}
