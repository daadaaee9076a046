/*
 * cmd_bounce.c - `crier bounce ingest FILE.eml|-... [--json]`: bounce messages (RFC 3464
 * DSNs, RFC 5965 complaints, Exim, qmail and other common formats) applied to the recipients
 * they answer: hard bounces fail the recipient and quarantine the address, soft ones count
 * towards quarantine, complaints opt the profile out (tracking/events.h).
 *
 * Each file is read and applied on its own; a file that is not a bounce is reported and the
 * others still go in. Exit 0 when every file was understood, 2 otherwise.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "tracking/bounce.h"
#include "tracking/events.h"

#define BOUNCE_USAGE "crier bounce ingest FILE.eml|- [FILE...] [--json]"
#define MSG_MAX (64u << 20)

static int read_all(const char *path, struct cr_buf *b)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char chunk[65536];
    size_t n;
    if (!f)
        return cli_error("%s: %s", path, strerror(errno));
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        cr_buf_append(b, chunk, n);
    int bad = ferror(f);
    if (f != stdin)
        fclose(f);
    if (bad)
        return cli_error("%s: read error", path);
    if (b->err)
        return cli_error("%s: larger than %u MiB", path, MSG_MAX >> 20);
    return 0;
}

/* Applies the file's events; appends one JSON object per event to out. */
static int ingest(struct cli *c, const char *path, json_t *out, int as_json)
{
    struct cr_buf msg = CR_BUF_INIT(MSG_MAX);
    struct cr_bounce_report rep = {0};
    struct cr_err err = CR_ERR_INIT;
    int rc = CLI_OK;
    if (read_all(path, &msg)) {
        cr_buf_release(&msg);
        return CLI_FAIL;
    }
    if (cr_bounce_parse(msg.data ? msg.data : "", msg.len, &rep, &err)) {
        cr_buf_release(&msg);
        return cli_error("%s: %s", path, cr_err_msg(&err));
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
            rc = cli_error("%s: %s", path, cr_err_msg(&err));
            break;
        }
        if (as_json)
            json_array_append_new(
                out, json_pack("{ss ss ss? ss? ss sI sI ss}", "file", path, "format", rep.format,
                               "recipient", b->recipient, "message_id", b->message_id, "type",
                               cr_bounce_type_name(b->type), "delivery", (json_int_t)res.delivery, "log",
                               (json_int_t)res.log, "action", res.action));
        else
            printf("%s: %s %s%s%s -> %s", path, cr_bounce_type_name(b->type),
                   b->recipient ? b->recipient : "(no recipient)", b->status[0] ? " " : "",
                   b->status, res.action);
        if (!as_json && res.log)
            printf(" (delivery %lld, recipient %lld)", (long long)res.delivery, (long long)res.log);
        if (!as_json)
            printf("\n");
    }
    cr_bounce_report_release(&rep);
    cr_buf_release(&msg);
    return rc;
}

int cmd_bounce(struct cli *c, struct cli_args *a)
{
    const char *verb = cli_next(a);
    if (!verb || strcmp(verb, "ingest") != 0)
        return cli_usage(BOUNCE_USAGE);
    int as_json = cli_flag(a, "--json");
    if (cli_no_more_options(a))
        return CLI_FAIL;
    if (a->argc < 1)
        return cli_usage(BOUNCE_USAGE);
    int rc = cli_open_store(c, 0);
    if (rc)
        return rc;
    json_t *out = json_array();
    int worst = CLI_OK;
    const char *path;
    while ((path = cli_next(a)))
        if (ingest(c, path, out, as_json) != CLI_OK)
            worst = CLI_FAIL;
    if (as_json)
        cli_print_json(out);
    json_decref(out);
    return worst;
}
