/*
 * cmd_bounce.c - `crier bounce ingest FILE.eml|-... [--json]`: bounce messages (RFC 3464
 * DSNs, RFC 5965 complaints, Exim, qmail and other common formats) applied to the recipients
 * they answer: hard bounces fail the recipient and quarantine the address, soft ones count
 * towards quarantine, complaints opt the profile out (tracking/events.h).
 *
 * Each file is read and applied on its own; a file that is not a bounce is reported and the
 * others still go in. Exit 0 when every file was understood, 2 otherwise.
 *
 * `crier bounce poll` reads a bounce mailbox (POP3 or IMAP) the same way: each message
 * applied is deleted from the mailbox (unless --keep); a message that is not a bounce is
 * kept for a person to read. Run it from cron or a timer.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "tracking/bounce.h"
#include "tracking/events.h"
#include "tracking/mailbox.h"

#define BOUNCE_USAGE                                                                               \
    "crier bounce ingest FILE.eml|- [FILE...] [--json]\n"                                          \
    "       crier bounce poll --url pop3s://HOST/|imaps://HOST/MAILBOX --user U\n"                 \
    "                         --password-env VAR [--ca-file PEM] [--keep] [--json]"
#define MSG_MAX (64u << 20)

/* Applies one message's events, named name in messages; appends one JSON object per event
 * to out. CLI_NO when the message is not a bounce (said on stderr), CLI_FAIL on a store
 * error. */
static int apply(struct cli *c, const char *name, const char *msg, size_t len, json_t *out,
                 int as_json)
{
    struct cr_bounce_report rep = {0};
    struct cr_err err = CR_ERR_INIT;
    int rc = CLI_OK;
    if (cr_bounce_parse(msg, len, &rep, &err)) {
        cli_error("%s: %s", name, cr_err_msg(&err));
        return CLI_NO;
    }
    for (size_t i = 0; i < rep.n && rc == CLI_OK; i++) {
        const struct cr_bounce *b = &rep.v[i];
        struct cr_mail_event ev = {b->type == CR_BOUNCE_HARD   ? CR_EVENT_HARD
                                   : b->type == CR_BOUNCE_SOFT ? CR_EVENT_SOFT
                                                               : CR_EVENT_COMPLAINT,
                                   b->recipient, b->message_id, b->status, b->diagnostic};
        struct cr_mail_event_result res;
        if (!b->recipient && !b->message_id) {
            res.action = "unmatched";
            res.delivery = res.log = 0;
        } else if (cr_track_mail_event(c->store, &c->clock, &ev, &res, &err)) {
            rc = cli_error("%s: %s", name, cr_err_msg(&err));
            break;
        }
        if (as_json)
            json_array_append_new(
                out, json_pack("{ss ss ss? ss? ss sI sI ss}", "file", name, "format", rep.format,
                               "recipient", b->recipient, "message_id", b->message_id, "type",
                               cr_bounce_type_name(b->type), "delivery", (json_int_t)res.delivery,
                               "log", (json_int_t)res.log, "action", res.action));
        else
            printf("%s: %s %s%s%s -> %s", name, cr_bounce_type_name(b->type),
                   b->recipient ? b->recipient : "(no recipient)", b->status[0] ? " " : "",
                   b->status, res.action);
        if (!as_json && res.log)
            printf(" (delivery %lld, recipient %lld)", (long long)res.delivery, (long long)res.log);
        if (!as_json)
            printf("\n");
    }
    cr_bounce_report_release(&rep);
    return rc;
}

static int ingest(struct cli *c, const char *path, json_t *out, int as_json)
{
    struct cr_buf msg = CR_BUF_INIT(MSG_MAX);
    int rc = cli_read_file(path, &msg);
    if (!rc)
        rc = apply(c, path, msg.data ? msg.data : "", msg.len, out, as_json);
    cr_buf_release(&msg);
    return rc;
}

struct poll {
    struct cli *c;
    json_t *out;
    int as_json, keep, store_failed;
    size_t n, kept;
};

/* A message applied is deleted; one that is not a bounce stays for a person to read. */
static int on_message(void *data, const char *msg, size_t len)
{
    struct poll *p = data;
    char name[64];
    snprintf(name, sizeof name, "message %zu", ++p->n);
    int rc = apply(p->c, name, msg, len, p->out, p->as_json);
    if (rc == CLI_FAIL) {
        p->store_failed = 1;
        return CR_EIO;
    }
    p->kept += rc == CLI_NO || p->keep;
    return rc == CLI_OK && !p->keep;
}

static int poll_mailbox(struct cli *c, struct cli_args *a, int as_json, json_t *out)
{
    struct cr_mailbox_opts o = {0};
    struct cr_err err = CR_ERR_INIT;
    const char *penv = NULL;
    struct poll p = {c, out, as_json, 0, 0, 0, 0};
    size_t seen = 0;
    p.keep = cli_flag(a, "--keep");
    if (cli_opt(a, "--url", &o.url) < 0 || cli_opt(a, "--user", &o.user) < 0 ||
        cli_opt(a, "--password-env", &penv) < 0 || cli_opt(a, "--ca-file", &o.ca_file) < 0 ||
        cli_expect(a, 0, BOUNCE_USAGE))
        return CLI_FAIL;
    if (!o.url || !o.user || !penv)
        return cli_error("bounce poll needs --url, --user and --password-env");
    o.password = getenv(penv);
    if (!o.password)
        return cli_error("--password-env %s: that variable is not set", penv);
    int rc = cli_open_store(c, 0);
    if (rc)
        return rc;
    if (cr_mailbox_poll(&o, on_message, &p, &seen, &err) && !p.store_failed)
        return cli_error_err(&err);
    if (p.store_failed)
        return CLI_FAIL;
    if (!as_json)
        printf("%zu message%s read, %zu kept in the mailbox\n", seen, seen == 1 ? "" : "s", p.kept);
    return CLI_OK;
}

int cmd_bounce(struct cli *c, struct cli_args *a)
{
    const char *verb = cli_next(a);
    int poll = verb && strcmp(verb, "poll") == 0;
    if (!verb || (strcmp(verb, "ingest") != 0 && !poll))
        return cli_usage(BOUNCE_USAGE);
    int as_json = cli_flag(a, "--json"), worst = CLI_OK, rc;
    json_t *out = json_array();
    if (poll) {
        worst = poll_mailbox(c, a, as_json, out);
    } else if (cli_no_more_options(a) || a->argc < 1) {
        worst = a->argc < 1 ? cli_usage(BOUNCE_USAGE) : CLI_FAIL;
    } else if ((rc = cli_open_store(c, 0))) {
        worst = rc;
    } else {
        const char *path;
        while ((path = cli_next(a)))
            if (ingest(c, path, out, as_json) != CLI_OK)
                worst = CLI_FAIL;
    }
    if (as_json)
        cli_print_json(out);
    json_decref(out);
    return worst;
}
