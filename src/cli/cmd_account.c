/*
 * cmd_account.c - `crier account add KIND NAME ...`, `crier account list`
 *
 * Secrets come from the environment (--password-env VAR) or a file (--dkim-key FILE), are
 * stored with the account, and are never printed.
 */
#include "cli/cli.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/account.h"

#define ACCOUNT_USAGE                                                                              \
    "crier account add smtp NAME --url smtp://host:port [--tls starttls|implicit|none]\n"          \
    "                 [--user U --password-env VAR] [--connections N] [--rate N/s]\n"              \
    "                 [--dkim-selector S --dkim-domain D --dkim-key FILE] [--bcc ADDRESS]\n"       \
    "                 [--daily-limit N] [--ca-file PEM] [--tracking-consent required]\n"          \
    "                 [--json]\n"                                                                  \
    "       crier account add pickup NAME --dir PATH [--daily-limit N]\n"                          \
    "                 [--tracking-consent required] [--json]\n"                                    \
    "       crier account add smpp NAME --host H [--port P] --system-id ID --password-env VAR\n"   \
    "                 [--system-type T] --source-addr A [--source-ton N --source-npi N]\n"        \
    "                 [--bind transceiver|transmitter] [--window N] [--rate N/s] [--json]\n"      \
    "       crier account add file NAME --dir PATH [--channel sms|push --app APP\n"              \
    "                 --platform ios|android] [--json]\n"                                        \
    "       crier account add apns NAME --app APP --team-id T --key-id K --key FILE.p8\n"         \
    "                 --topic BUNDLE [--environment sandbox|production] [--url URL]\n"           \
    "                 [--ca-file PEM] [--concurrency N] [--rate N/s] [--json]\n"                 \
    "       crier account add fcm NAME --app APP --service-account FILE.json [--project-id P]\n"  \
    "                 [--token-url URL] [--url URL] [--ca-file PEM] [--concurrency N]\n"         \
    "                 [--rate N/s] [--json]\n"                                                   \
    "       crier account add routing NAME --channel email|sms|push --mode external\n"          \
    "                 --export DIR|sftp://user@host[:port]/dir [--ssh-key FILE |\n"              \
    "                 --password-env VAR] [--host-key-sha256 FP] [--file-name PATTERN]\n"        \
    "                 [--app APP --platform ios|android] [--json]\n"                             \
    "       crier account list [--json]"

static int positive(const char *opt, const char *v, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end != v && strcmp(end, "/s") == 0)
        end += 2;
    if (errno || end == v || *end || d <= 0 || d > 1e9)
        return cli_error("%s takes a positive number, not '%s'", opt, v);
    *out = d;
    return CLI_OK;
}

/* Options every kind takes. --tracking-consent required: no open pixel for a profile whose
 * tracking_consent is false (CNIL, April 2026: consent for non-essential tracking). */
static int common(struct cli_args *a, json_t *settings)
{
    const char *v;
    double d;
    int r;
    if ((r = cli_opt(a, "--tracking-consent", &v)) < 0)
        return CLI_FAIL;
    if (r && strcmp(v, "required") != 0 && strcmp(v, "not_required") != 0)
        return cli_error("--tracking-consent is required or not_required, not '%s'", v);
    if (r)
        json_object_set_new(settings, "tracking_consent", json_string(v));
    if ((r = cli_opt(a, "--daily-limit", &v)) < 0)
        return CLI_FAIL;
    if (r) {
        if (positive("--daily-limit", v, &d))
            return CLI_FAIL;
        json_object_set_new(settings, "daily_limit", json_integer((json_int_t)d));
    }
    return CLI_OK;
}

static int add_smtp(struct cli_args *a, json_t *settings, json_t *secrets)
{
    const char *url = NULL, *tls = NULL, *user = NULL, *penv = NULL, *conns = NULL, *rate = NULL;
    const char *sel = NULL, *dom = NULL, *key = NULL, *bcc = NULL, *ca = NULL;
    double d;
    if (cli_opt(a, "--url", &url) < 0 || cli_opt(a, "--tls", &tls) < 0 ||
        cli_opt(a, "--user", &user) < 0 || cli_opt(a, "--password-env", &penv) < 0 ||
        cli_opt(a, "--connections", &conns) < 0 || cli_opt(a, "--rate", &rate) < 0 ||
        cli_opt(a, "--dkim-selector", &sel) < 0 || cli_opt(a, "--dkim-domain", &dom) < 0 ||
        cli_opt(a, "--dkim-key", &key) < 0 || cli_opt(a, "--bcc", &bcc) < 0 ||
        cli_opt(a, "--ca-file", &ca) < 0)
        return CLI_FAIL;
    if (!url || (strncmp(url, "smtp://", 7) != 0 && strncmp(url, "smtps://", 8) != 0))
        return cli_error("an smtp account needs --url smtp://host:port (or smtps://)");
    json_object_set_new(settings, "url", json_string(url));
    if (!tls)
        tls = strncmp(url, "smtps://", 8) == 0 ? "implicit" : "starttls";
    if (strcmp(tls, "starttls") && strcmp(tls, "implicit") && strcmp(tls, "none"))
        return cli_error("--tls is starttls, implicit or none, not '%s'", tls);
    json_object_set_new(settings, "tls", json_string(tls));
    if (!!user != !!penv)
        return cli_error("--user and --password-env go together");
    if (user) {
        const char *pw = getenv(penv);
        if (!pw || !*pw)
            return cli_error("--password-env %s: that environment variable is not set", penv);
        json_object_set_new(settings, "user", json_string(user));
        json_object_set_new(secrets, "password", json_string(pw));
    }
    if (conns) {
        if (positive("--connections", conns, &d))
            return CLI_FAIL;
        json_object_set_new(settings, "connections", json_integer((json_int_t)d));
    }
    if (rate) {
        if (positive("--rate", rate, &d))
            return CLI_FAIL;
        json_object_set_new(settings, "rate", json_real(d));
    }
    if (sel || dom || key) {
        struct cr_buf pem = CR_BUF_INIT(1u << 20);
        if (!sel || !dom || !key)
            return cli_error("DKIM needs --dkim-selector, --dkim-domain and --dkim-key");
        if (cli_read_file(key, &pem))
            return CLI_FAIL;
        json_object_set_new(settings, "dkim_selector", json_string(sel));
        json_object_set_new(settings, "dkim_domain", json_string(dom));
        json_object_set_new(secrets, "dkim_key", json_string(pem.data));
        cr_buf_release(&pem);
    }
    if (bcc)
        json_object_set_new(settings, "bcc", json_string(bcc));
    if (ca)
        json_object_set_new(settings, "ca_file", json_string(ca));
    return common(a, settings);
}

/* An integer option in [lo, hi] into settings[key]; absent: def (unless def < 0). */
static int int_setting(struct cli_args *a, const char *opt, long lo, long hi, long def,
                       json_t *settings, const char *key)
{
    long n;
    int r = cli_int_opt(a, opt, lo, hi, &n);
    if (r < 0)
        return CLI_FAIL;
    if (r || def >= 0)
        json_object_set_new(settings, key, json_integer(r ? n : def));
    return CLI_OK;
}

/* A text option of at most max bytes (the SMPP 3.4 field sizes, NUL excluded). */
static int text_setting(struct cli_args *a, const char *opt, size_t max, int required,
                        json_t *settings, const char *key)
{
    const char *v = NULL;
    if (cli_opt(a, opt, &v) < 0)
        return CLI_FAIL;
    if (!v && required)
        return cli_error("an smpp account needs %s", opt);
    if (v && strlen(v) > max)
        return cli_error("%s '%s' is longer than the %zu characters SMPP allows", opt, v, max);
    if (v)
        json_object_set_new(settings, key, json_string(v));
    return CLI_OK;
}

static int add_smpp(struct cli_args *a, json_t *settings, json_t *secrets)
{
    const char *penv = NULL, *bind = NULL, *rate = NULL;
    double d;
    if (text_setting(a, "--host", 253, 1, settings, "host") ||
        int_setting(a, "--port", 1, 65535, 2775, settings, "port") ||
        text_setting(a, "--system-id", 15, 1, settings, "system_id") ||
        text_setting(a, "--system-type", 12, 0, settings, "system_type") ||
        text_setting(a, "--source-addr", 20, 1, settings, "source_addr") ||
        int_setting(a, "--source-ton", 0, 6, -1, settings, "source_ton") ||
        int_setting(a, "--source-npi", 0, 18, -1, settings, "source_npi") ||
        int_setting(a, "--window", 1, 1000, 10, settings, "window") ||
        cli_opt(a, "--password-env", &penv) < 0 || cli_opt(a, "--bind", &bind) < 0 ||
        cli_opt(a, "--rate", &rate) < 0)
        return CLI_FAIL;
    if (!penv)
        return cli_error("an smpp account needs --password-env VAR");
    const char *pw = getenv(penv);
    if (!pw)
        return cli_error("--password-env %s: that environment variable is not set", penv);
    if (strlen(pw) > 8)
        return cli_error("the password in %s is longer than the 8 characters SMPP allows", penv);
    json_object_set_new(secrets, "password", json_string(pw));
    if (!bind)
        bind = "transceiver";
    if (strcmp(bind, "transceiver") && strcmp(bind, "transmitter"))
        return cli_error("--bind is transceiver or transmitter, not '%s'", bind);
    json_object_set_new(settings, "bind", json_string(bind));
    if (rate) {
        if (positive("--rate", rate, &d))
            return CLI_FAIL;
        json_object_set_new(settings, "rate", json_real(d));
    }
    return common(a, settings);
}

/* A sink for demos and tests: each message a line of JSON in DIR/DELIVERY.jsonl. */
static int add_file(struct cli_args *a, json_t *settings, const char **channel)
{
    const char *dir = NULL, *ch = "sms";
    if (cli_opt(a, "--dir", &dir) < 0 || cli_opt(a, "--channel", &ch) < 0)
        return CLI_FAIL;
    if (strcmp(ch, "sms") && strcmp(ch, "push"))
        return cli_error("--channel is sms or push for a file account, not '%s'", ch);
    *channel = strcmp(ch, "sms") == 0 ? "sms" : "push";
    /* a push sink stands for one platform's service (apns: ios, fcm: android) */
    const char *platform = NULL;
    if (cli_opt(a, "--platform", &platform) < 0)
        return CLI_FAIL;
    if (platform && strcmp(ch, "push"))
        return cli_error("--platform is for --channel push");
    if (platform && strcmp(platform, "ios") && strcmp(platform, "android"))
        return cli_error("--platform is ios or android, not '%s'", platform);
    const char *app = NULL;
    if (cli_opt(a, "--app", &app) < 0)
        return CLI_FAIL;
    if (strcmp(ch, "push") == 0) {
        if (!app || !*app)
            return cli_error("a push file sink needs --app APP (the app of its subscriptions)");
        json_object_set_new(settings, "app", json_string(app));
        json_object_set_new(settings, "platform", json_string(platform ? platform : "ios"));
    } else if (app) {
        return cli_error("--app is for --channel push");
    }
    if (!dir || !*dir)
        return cli_error("a file account needs --dir PATH (a folder for the messages)");
    char *abs = realpath(dir, NULL);
    json_object_set_new(settings, "dir", json_string(abs ? abs : dir));
    free(abs);
    return common(a, settings);
}

static int add_pickup(struct cli_args *a, json_t *settings)
{
    const char *dir = NULL;
    if (cli_opt(a, "--dir", &dir) < 0)
        return CLI_FAIL;
    if (!dir || !*dir)
        return cli_error("a pickup account needs --dir PATH (a folder for the .eml files)");
    char *abs = realpath(dir, NULL);
    json_object_set_new(settings, "dir", json_string(abs ? abs : dir));
    free(abs);
    return common(a, settings);
}

static int add(struct cli *c, struct cli_args *a)
{
    int as_json = cli_flag(a, "--json"), rc;
    const char *kind = cli_next(a), *name = cli_next(a), *channel = NULL, *mode = "bulk";
    json_t *settings = json_object(), *secrets = json_object();
    struct cr_err err = CR_ERR_INIT;
    int64_t id;
    if (!kind || !name) {
        rc = cli_usage(ACCOUNT_USAGE);
        goto out;
    }
    if (strcmp(kind, "smtp") == 0) {
        channel = "email";
        rc = add_smtp(a, settings, secrets);
    } else if (strcmp(kind, "pickup") == 0) {
        channel = "email";
        rc = add_pickup(a, settings);
    } else if (strcmp(kind, "smpp") == 0) {
        channel = "sms";
        rc = add_smpp(a, settings, secrets);
    } else if (strcmp(kind, "file") == 0) {
        rc = add_file(a, settings, &channel);
    } else if (strcmp(kind, "apns") == 0 || strcmp(kind, "fcm") == 0) {
        channel = "push";
        rc = cli_account_push(a, kind, settings, secrets);
    } else if (strcmp(kind, "routing") == 0) {
        mode = "external";
        rc = cli_account_routing(a, settings, secrets, &channel);
    } else {
        rc = cli_error("unknown account kind '%s' (smtp, pickup, smpp, file, apns, fcm or "
                       "routing)",
                       kind);
    }
    if (rc || (rc = cli_no_more_options(a)) || (rc = cli_expect(a, 0, ACCOUNT_USAGE)) ||
        (rc = cli_open_store(c, 0)))
        goto out;
    if (cr_account_add(c->store, &c->clock, name, kind, channel, mode, settings, secrets, &id,
                       &err)) {
        rc = cli_error_err(&err);
        goto out;
    }
    cli_print_id(id, as_json);
out:
    json_decref(settings);
    json_decref(secrets);
    return rc;
}

int cmd_account(struct cli *c, struct cli_args *a)
{
    struct cr_err err = CR_ERR_INIT;
    const char *verb = cli_next(a);
    int rc;
    if (!verb)
        return cli_usage(ACCOUNT_USAGE);
    if (strcmp(verb, "add") == 0)
        return add(c, a);
    if (strcmp(verb, "list") == 0) {
        int as_json = cli_flag(a, "--json");
        json_t *j, *x;
        size_t i;
        if (cli_no_more_options(a) || cli_expect(a, 0, "crier account list [--json]"))
            return CLI_FAIL;
        if ((rc = cli_open_store(c, 0)))
            return rc;
        if (cr_account_list(c->store, &j, &err))
            return cli_error_err(&err);
        if (as_json) {
            cli_print_json(j);
        } else {
            json_array_foreach(j, i, x) {
                char *st = json_dumps(json_object_get(x, "settings"), JSON_COMPACT);
                printf("%-4lld %-20s %-8s %-6s %s\n",
                       (long long)json_integer_value(json_object_get(x, "id")),
                       json_string_value(json_object_get(x, "name")),
                       json_string_value(json_object_get(x, "kind")),
                       json_string_value(json_object_get(x, "channel")), st);
                free(st);
            }
        }
        json_decref(j);
        return CLI_OK;
    }
    cli_error("unknown account command '%s'", verb);
    return cli_usage(ACCOUNT_USAGE);
}
