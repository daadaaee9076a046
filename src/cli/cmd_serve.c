/*
 * cmd_serve.c - `crier serve [--listen HOST:PORT] [--public-url URL] [--threads N]
 * [--flush-ms N] [--no-engine]`: the tracking endpoints, and the engine so that confirmed
 * deliveries are sent while it runs
 *
 * --public-url is stored (as `crier config set public_url URL`): the links of every
 * message rendered afterwards point there. The listening address is printed on stdout once
 * the server accepts connections ("listening on http://HOST:PORT"), so scripts that pass
 * port 0 learn the port. SIGINT or SIGTERM stop it after the queued hits are written.
 */
#include "cli/cli.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "store/config.h"
#include "tracking/server.h"

#define SERVE_USAGE                                                                                \
    "crier serve [--listen HOST:PORT] [--public-url URL] [--threads N] [--flush-ms N] "            \
    "[--no-engine]"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

int cli_check_public_url(const char *url)
{
    if (strncmp(url, "https://", 8) && strncmp(url, "http://", 7))
        return cli_error("public URL '%s': expected http://… or https://…", url);
    if (strpbrk(url, " \t\r\n\"<>?#"))
        return cli_error("public URL '%s': no spaces, quotes, query or fragment", url);
    return 0;
}

int cmd_serve(struct cli *c, struct cli_args *a)
{
    struct cr_err err = CR_ERR_INIT;
    struct cr_tracking_server_opts o = {0};
    const char *public_url = NULL;
    long threads = 0, flush_ms = 0;
    int rc;
    o.listen = "127.0.0.1:8080";
    if (cli_opt(a, "--listen", &o.listen) < 0 || cli_opt(a, "--public-url", &public_url) < 0 ||
        cli_int_opt(a, "--threads", 1, 256, &threads) < 0 ||
        cli_int_opt(a, "--flush-ms", 10, 60000, &flush_ms) < 0)
        return CLI_FAIL;
    o.threads = (int)threads;
    o.flush_ms = (int)flush_ms;
    int no_engine = cli_flag(a, "--no-engine");
    if (cli_no_more_options(a) || cli_expect(a, 0, SERVE_USAGE))
        return CLI_FAIL;
    if (public_url && cli_check_public_url(public_url))
        return CLI_FAIL;
    if ((rc = cli_open_store(c, 0)))
        return rc;
    if (public_url && cr_config_set(c->store, "public_url", public_url, &err))
        return cli_error_err(&err);
    o.db_url = c->db_url;
    struct cr_tracking_server *srv = NULL;
    if (cr_tracking_server_start(&o, &srv, &err))
        return cli_error_err(&err);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    const char *colon = strrchr(o.listen, ':');
    printf("listening on http://%.*s:%u\n", (int)(colon - o.listen), o.listen,
           (unsigned)cr_tracking_server_port(srv));
    fflush(stdout);
    char *url = NULL;
    if (!cr_config_get(c->store, "public_url", &url, &err) && !url)
        cr_log_warn("no public URL: messages carry no tracking links (crier serve "
                    "--public-url URL)");
    free(url);
    while (!stop_requested) {
        long long steps = 0;
        if (no_engine) {
            nanosleep(&(struct timespec){0, 200000000L}, NULL);
            continue;
        }
        if (cli_engine_run(c, 0, &stop_requested, &steps, &err)) {
            /* the server goes on; the engine tries again shortly */
            cr_log_error("engine: %s", cr_err_msg(&err));
            cr_err_clear(&err);
            nanosleep(&(struct timespec){1, 0}, NULL);
        }
    }
    struct cr_hits_stats st;
    cr_tracking_server_stop(srv, &st); /* after the last request, so counts match the log */
    cr_log_info("serve: %llu hits received, %llu refused", (unsigned long long)st.queued,
                (unsigned long long)st.refused);
    return CLI_OK;
}
