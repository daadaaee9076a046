/*
 * cmd_account_push.c - the options of `crier account add apns|fcm`
 *
 * The key (.p8) or the service account file is read when the account is added, checked
 * (an EC P-256 key for APNs; client_email, an RSA private_key and a project for FCM) and
 * stored as a secret: it is never printed, and the file may be removed afterwards.
 */
#include "cli/cli.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

/* 0 when pem holds a private key of the wanted type (EVP_PKEY_EC / EVP_PKEY_RSA). */
static int key_is(const char *pem, int type, const char *what)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    int ok = k && EVP_PKEY_get_base_id(k) == type;
    if (ok && type == EVP_PKEY_EC) {
        char group[64] = "";
        size_t n = 0;
        ok = EVP_PKEY_get_utf8_string_param(k, "group", group, sizeof group, &n) &&
             strcmp(group, "prime256v1") == 0;
    }
    EVP_PKEY_free(k);
    BIO_free(b);
    if (!ok)
        return cli_error("%s is not %s", what,
                         type == EVP_PKEY_EC ? "an EC P-256 private key in PEM (an APNs .p8 key)"
                                             : "an RSA private key in PEM");
    return CLI_OK;
}

/* --url and --token-url: https only (APNs and FCM speak HTTP/2 over TLS). */
static int https_opt(struct cli_args *a, const char *opt, json_t *settings, const char *key)
{
    const char *v = NULL;
    if (cli_opt(a, opt, &v) < 0)
        return CLI_FAIL;
    if (v && strncmp(v, "https://", 8) != 0)
        return cli_error("%s must be an https:// URL, not '%s'", opt, v);
    if (v)
        json_object_set_new(settings, key, json_string(v));
    return CLI_OK;
}

static int common_push(struct cli_args *a, json_t *settings)
{
    const char *app = NULL, *ca = NULL, *rate = NULL;
    long n;
    int r;
    if (cli_opt(a, "--app", &app) < 0 || cli_opt(a, "--ca-file", &ca) < 0 ||
        cli_opt(a, "--rate", &rate) < 0 || https_opt(a, "--url", settings, "url"))
        return CLI_FAIL;
    if (!app || !*app)
        return cli_error("a push account needs --app APP (the app of its subscriptions)");
    json_object_set_new(settings, "app", json_string(app));
    if (ca) {
        char *abs = realpath(ca, NULL);
        if (!abs)
            return cli_error("--ca-file %s: no such file", ca);
        json_object_set_new(settings, "ca_file", json_string(abs));
        free(abs);
    }
    if ((r = cli_int_opt(a, "--concurrency", 1, 10000, &n)) < 0)
        return CLI_FAIL;
    json_object_set_new(settings, "concurrency", json_integer(r ? n : 100));
    if (rate) {
        char *end;
        double d = strtod(rate, &end);
        if (end != rate && strcmp(end, "/s") == 0)
            end += 2;
        if (end == rate || *end || d <= 0 || d > 1e9)
            return cli_error("--rate takes a positive number, not '%s'", rate);
        json_object_set_new(settings, "rate", json_real(d));
    }
    return CLI_OK;
}

static int add_apns(struct cli_args *a, json_t *settings, json_t *secrets)
{
    const char *team = NULL, *kid = NULL, *key = NULL, *topic = NULL, *env = NULL;
    struct cr_buf pem = CR_BUF_INIT(64 * 1024);
    int rc;
    if (cli_opt(a, "--team-id", &team) < 0 || cli_opt(a, "--key-id", &kid) < 0 ||
        cli_opt(a, "--key", &key) < 0 || cli_opt(a, "--topic", &topic) < 0 ||
        cli_opt(a, "--environment", &env) < 0 || common_push(a, settings))
        return CLI_FAIL;
    if (!team || !kid || !key || !topic)
        return cli_error("an apns account needs --team-id, --key-id, --key FILE.p8 and --topic");
    if (env && strcmp(env, "sandbox") && strcmp(env, "production"))
        return cli_error("--environment is sandbox or production, not '%s'", env);
    if ((rc = cli_read_file(key, &pem)) || (rc = key_is(pem.data, EVP_PKEY_EC, key))) {
        cr_buf_release(&pem);
        return rc;
    }
    json_object_set_new(settings, "team_id", json_string(team));
    json_object_set_new(settings, "key_id", json_string(kid));
    json_object_set_new(settings, "topic", json_string(topic));
    json_object_set_new(settings, "environment", json_string(env ? env : "production"));
    json_object_set_new(settings, "platform", json_string("ios"));
    json_object_set_new(secrets, "key", json_string(pem.data));
    cr_buf_release(&pem);
    return CLI_OK;
}

static int add_fcm(struct cli_args *a, json_t *settings, json_t *secrets)
{
    const char *sa = NULL, *project = NULL;
    struct cr_buf text = CR_BUF_INIT(1u << 20);
    json_error_t je;
    int rc;
    if (cli_opt(a, "--service-account", &sa) < 0 || cli_opt(a, "--project-id", &project) < 0 ||
        https_opt(a, "--token-url", settings, "token_url") || common_push(a, settings))
        return CLI_FAIL;
    if (!sa)
        return cli_error("an fcm account needs --service-account FILE.json");
    if ((rc = cli_read_file(sa, &text)))
        return rc;
    json_t *j = json_loads(text.data, 0, &je);
    const char *email = json_string_value(json_object_get(j, "client_email"));
    const char *pk = json_string_value(json_object_get(j, "private_key"));
    const char *pid = project ? project : json_string_value(json_object_get(j, "project_id"));
    if (!j)
        rc = cli_error("%s:%d:%d: %s", sa, je.line, je.column, je.text);
    else if (!email || !pk)
        rc = cli_error("%s is not a service account key (client_email and private_key needed)", sa);
    else if (!pid)
        rc = cli_error("%s has no project_id: give --project-id", sa);
    else if (!(rc = key_is(pk, EVP_PKEY_RSA, "the service account's private_key"))) {
        json_object_set_new(settings, "project_id", json_string(pid));
        json_object_set_new(settings, "client_email", json_string(email));
        json_object_set_new(settings, "platform", json_string("android"));
        json_object_set_new(secrets, "service_account", json_string(text.data));
    }
    json_decref(j);
    cr_buf_release(&text);
    return rc;
}

int cli_account_push(struct cli_args *a, const char *kind, json_t *settings, json_t *secrets)
{
    return strcmp(kind, "apns") == 0 ? add_apns(a, settings, secrets)
                                     : add_fcm(a, settings, secrets);
}
