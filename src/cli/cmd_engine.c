/*
 * cmd_engine.c - `crier engine run [--until-idle] [--json]`: executes what is due: workflow
 * activities, and batches of the deliveries that are sending
 *
 * Without --until-idle it runs until SIGINT or SIGTERM, sleeping until the next activity is
 * due (at most a second, so work that other processes add is seen, and a virtual clock moved
 * by `crier clock advance` is followed).
 */
#include "cli/cli.h"

#include <signal.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "delivery/delivery.h"
#include "workflow/engine.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Sleeps until the next activity is due (at most a second), listening to the SMSC
 * meanwhile when an SMPP session is open. */
static int nap(struct cli *c, cr_time_t next, int any, struct cr_err *err)
{
    cr_time_t now = cr_clock_now(&c->clock), wait = CR_USEC_PER_SEC;
    if (any && next > now && next - now < wait)
        wait = next - now;
    int rc = cr_delivery_engine_idle(c->store, &c->clock, (int)(wait / 1000), err);
    if (rc)
        return rc < 0 ? rc : 0;
    struct timespec ts = {(time_t)(wait / CR_USEC_PER_SEC), (long)(wait % CR_USEC_PER_SEC) * 1000};
    nanosleep(&ts, NULL);
    return 0;
}

int cli_engine_run(struct cli *c, int until_idle, volatile sig_atomic_t *stop, long long *steps,
                   struct cr_err *err)
{
    while (!*stop) {
        int did, sent, any;
        cr_time_t next = 0;
        if (cr_wf_engine_step(c->store, &c->clock, &did, err) ||
            cr_delivery_engine_step(c->store, &c->clock, &sent, err)) {
            cr_delivery_engine_close();
            return err->code ? err->code : CR_EIO;
        }
        if (did || sent) {
            *steps += did + sent;
            continue;
        }
        if (until_idle)
            break;
        if (cr_wf_engine_next(c->store, &next, &any, err)) {
            cr_delivery_engine_close();
            return err->code ? err->code : CR_EIO;
        }
        if (nap(c, next, any, err) < 0) {
            cr_delivery_engine_close();
            return err->code ? err->code : CR_EIO;
        }
    }
    cr_delivery_engine_close();
    return 0;
}

int cmd_engine(struct cli *c, struct cli_args *a)
{
    struct cr_err err = CR_ERR_INIT;
    const char *verb = cli_next(a);
    int until_idle, as_json, rc;
    long long steps = 0;
    if (!verb || strcmp(verb, "run") != 0)
        return cli_usage("crier engine run [--until-idle] [--json]");
    until_idle = cli_flag(a, "--until-idle");
    as_json = cli_flag(a, "--json");
    if (cli_no_more_options(a) || cli_expect(a, 0, "crier engine run [--until-idle] [--json]"))
        return CLI_FAIL;
    if ((rc = cli_open_store(c, 0)))
        return rc;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (cli_engine_run(c, until_idle, &stop_requested, &steps, &err))
        return cli_error_err(&err);
    if (as_json)
        printf("{\"steps\":%lld}\n", steps);
    else
        cr_log_info("engine: %lld activit%s executed", steps, steps == 1 ? "y" : "ies");
    return CLI_OK;
}
