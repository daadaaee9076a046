/*
 * res_account.c - POST /accounts (admins): an external account of any kind the CLI adds
 *                 (smtp, pickup, smpp, file, apns, fcm, routing), its secrets given in the body
 *                 and never answered
 *
 * The body is {"kind","name", ...} with the options of `crier account add KIND NAME` as
 * fields, named as the settings are stored (--system-id is "system_id"). Secrets are fields
 * too: "password" (smtp, smpp, routing), "dkim_key" (PEM text), "key" (apns: the .p8 text),
 * "service_account" (fcm: the JSON file, as an object or as text), "ssh_key" (routing: PEM
 * text). The answer is the account as GET /accounts lists it: has_secrets, never a secret.
 *
 * The checks are the CLI's (src/cli/cmd_account*.c), written again here rather than shared:
 * the CLI's are woven into its option parsing, environment variables and files. A field the
 * kind does not take is an error (a typo must not pass unnoticed). Paths (dir, export,
 * ca_file) name places on the server: they must be absolute, which is also why accounts are
 * for admins.
 */
#include "api/api_int.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/account.h"

struct acc {
    struct cr_api_ctx *x;
    json_t *body, *settings, *secrets;
    const char *channel, *mode;
};

/* -1 with a 400 reply naming field. */
static int refuse(struct acc *a, const char *field, const char *fmt, ...) CR_PRINTF(3, 4);
static int refuse(struct acc *a, const char *field, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cr__api_error(a->x, MHD_HTTP_BAD_REQUEST, "invalid", field, "%s", msg);
    return -1;
}

/* Every field of the body is kind, name or one of allowed ("a,b,c"). */
static int only(struct acc *a, const char *allowed)
{
    const char *k;
    json_t *v;
    json_object_foreach(a->body, k, v)
    {
        size_t n = strlen(k);
        const char *p = allowed;
        int ok = !strcmp(k, "kind") || !strcmp(k, "name");
        while (!ok && p && *p) {
            const char *e = strchr(p, ',');
            size_t m = e ? (size_t)(e - p) : strlen(p);
            ok = m == n && !strncmp(p, k, n);
            p = e ? e + 1 : NULL;
        }
        if (!ok) {
            cr__api_error(a->x, MHD_HTTP_BAD_REQUEST, "invalid", k,
                          "a %s account has no field \"%s\" (it takes: %s)",
                          json_string_value(json_object_get(a->body, "kind")), k, allowed);
            return -1;
        }
    }
    return 0;
}

/* A string field of at most max bytes (0: any), non-empty: *out (NULL when absent). */
static int str(struct acc *a, const char *name, int required, size_t max, const char **out)
{
    int bad;
    *out = cr__api_body_str(a->x, a->body, name, required, &bad);
    if (bad)
        return -1;
    if (*out && !**out)
        return refuse(a, name, "\"%s\" is empty", name);
    if (*out && max && strlen(*out) > max) {
        cr__api_error(a->x, MHD_HTTP_BAD_REQUEST, "invalid", name,
                      "\"%s\" is longer than %zu characters", name, max);
        return -1;
    }
    return 0;
}

/* A string field copied into settings. */
static int str_setting(struct acc *a, const char *name, int required, size_t max)
{
    const char *v;
    if (str(a, name, required, max, &v))
        return -1;
    if (v)
        json_object_set_new(a->settings, name, json_string(v));
    return 0;
}

/* One of the words of list ("a|b|c"), or def when absent: *out. */
static int word(struct acc *a, const char *name, const char *list, const char *def,
                const char **out)
{
    if (str(a, name, 0, 0, out))
        return -1;
    if (!*out) {
        *out = def;
        return 0;
    }
    size_t n = strlen(*out);
    for (const char *p = list; p;) {
        const char *e = strchr(p, '|');
        size_t m = e ? (size_t)(e - p) : strlen(p);
        if (m == n && !strncmp(p, *out, n))
            return 0;
        p = e ? e + 1 : NULL;
    }
    cr__api_error(a->x, MHD_HTTP_BAD_REQUEST, "invalid", name, "%s is one of %s", name, list);
    return -1;
}

/* An integer field in [lo, hi] into settings; absent: def (unless def < 0). */
static int int_setting(struct acc *a, const char *name, json_int_t lo, json_int_t hi,
                       json_int_t def)
{
    json_t *v = json_object_get(a->body, name);
    if (!v) {
        if (def >= 0)
            json_object_set_new(a->settings, name, json_integer(def));
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        cr__api_error(a->x, MHD_HTTP_BAD_REQUEST, "invalid", name,
                      "%s is a whole number from %lld to %lld", name, (long long)lo,
                      (long long)hi);
        return -1;
    }
    json_object_set_new(a->settings, name, json_integer(json_integer_value(v)));
    return 0;
}

/* "rate": messages per second, a positive number. */
static int rate(struct acc *a)
{
    json_t *v = json_object_get(a->body, "rate");
    if (!v)
        return 0;
    if (!json_is_number(v) || json_number_value(v) <= 0 || json_number_value(v) > 1e9)
        return refuse(a, "rate", "%s is a positive number (messages per second)", "rate");
    json_object_set_new(a->settings, "rate", json_real(json_number_value(v)));
    return 0;
}

/* A path on the server: absolute; with must_exist, resolved (realpath) and required to
 * exist, else resolved when it exists, as the CLI does. */
static int path_setting(struct acc *a, const char *name, int required, int must_exist)
{
    const char *v;
    if (str(a, name, required, 4096, &v))
        return -1;
    if (!v)
        return 0;
    if (v[0] != '/')
        return refuse(a, name, "%s is an absolute path on the server", name);
    char *abs = realpath(v, NULL);
    if (!abs && must_exist)
        return refuse(a, name, "%s: no such file or folder on the server", name);
    json_object_set_new(a->settings, name, json_string(abs ? abs : v));
    free(abs);
    return 0;
}

/* A secret string into secrets. */
static int secret(struct acc *a, const char *name, int required, size_t max, const char **out)
{
    const char *v;
    if (str(a, name, required, max, &v))
        return -1;
    if (v)
        json_object_set_new(a->secrets, name, json_string(v));
    if (out)
        *out = v;
    return 0;
}

/* tracking_consent and daily_limit, which smtp, pickup, smpp and file accounts take. */
static int common(struct acc *a)
{
    const char *v;
    if (word(a, "tracking_consent", "required|not_required", NULL, &v))
        return -1;
    if (v)
        json_object_set_new(a->settings, "tracking_consent", json_string(v));
    return int_setting(a, "daily_limit", 1, 1000000000, -1);
}
#define COMMON "tracking_consent,daily_limit"

/* 1 when pem holds a private key of that type (EC: P-256 only). */
static int key_is(const char *pem, int type)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    int ok = k && (type < 0 || EVP_PKEY_get_base_id(k) == type);
    if (ok && type == EVP_PKEY_EC) {
        char group[64] = "";
        size_t n = 0;
        ok = EVP_PKEY_get_utf8_string_param(k, "group", group, sizeof group, &n) &&
             strcmp(group, "prime256v1") == 0;
    }
    EVP_PKEY_free(k);
    BIO_free(b);
    return ok;
}

static int smtp(struct acc *a)
{
    const char *url, *tls, *user, *pw, *sel, *dom, *key;
    if (only(a, "url,tls,user,password,connections,rate,dkim_selector,dkim_domain,dkim_key,bcc,"
                "ca_file," COMMON) ||
        str(a, "url", 1, 2048, &url))
        return -1;
    if (strncmp(url, "smtp://", 7) && strncmp(url, "smtps://", 8))
        return refuse(a, "url", "%s is smtp://host:port (or smtps://)", "url");
    json_object_set_new(a->settings, "url", json_string(url));
    if (word(a, "tls", "starttls|implicit|none",
             strncmp(url, "smtps://", 8) == 0 ? "implicit" : "starttls", &tls))
        return -1;
    json_object_set_new(a->settings, "tls", json_string(tls));
    if (str(a, "user", 0, 0, &user) || str(a, "password", 0, 0, &pw))
        return -1;
    if (!!user != !!pw)
        return refuse(a, user ? "password" : "user", "%s", "user and password go together");
    if (user) {
        json_object_set_new(a->settings, "user", json_string(user));
        json_object_set_new(a->secrets, "password", json_string(pw));
    }
    if (int_setting(a, "connections", 1, 1000000000, -1) || rate(a) ||
        str(a, "dkim_selector", 0, 0, &sel) || str(a, "dkim_domain", 0, 0, &dom) ||
        str(a, "dkim_key", 0, 1u << 20, &key))
        return -1;
    if (sel || dom || key) {
        if (!sel || !dom || !key)
            return refuse(a, !sel ? "dkim_selector" : !dom ? "dkim_domain" : "dkim_key", "%s",
                          "DKIM needs dkim_selector, dkim_domain and dkim_key");
        if (!key_is(key, -1))
            return refuse(a, "dkim_key", "%s", "dkim_key is a private key in PEM");
        json_object_set_new(a->settings, "dkim_selector", json_string(sel));
        json_object_set_new(a->settings, "dkim_domain", json_string(dom));
        json_object_set_new(a->secrets, "dkim_key", json_string(key));
    }
    if (str_setting(a, "bcc", 0, 320) || path_setting(a, "ca_file", 0, 0))
        return -1;
    a->channel = "email";
    return common(a);
}

static int pickup(struct acc *a)
{
    a->channel = "email";
    return only(a, "dir," COMMON) || path_setting(a, "dir", 1, 0) || common(a) ? -1 : 0;
}

static int smpp(struct acc *a)
{
    const char *bind;
    if (only(a, "host,port,system_id,system_type,source_addr,source_ton,source_npi,window,"
                "password,bind,rate," COMMON) ||
        str_setting(a, "host", 1, 253) || int_setting(a, "port", 1, 65535, 2775) ||
        str_setting(a, "system_id", 1, 15) || str_setting(a, "system_type", 0, 12) ||
        str_setting(a, "source_addr", 1, 20) || int_setting(a, "source_ton", 0, 6, -1) ||
        int_setting(a, "source_npi", 0, 18, -1) || int_setting(a, "window", 1, 1000, 10) ||
        secret(a, "password", 1, 8, NULL) ||
        word(a, "bind", "transceiver|transmitter", "transceiver", &bind))
        return -1;
    json_object_set_new(a->settings, "bind", json_string(bind));
    a->channel = "sms";
    return rate(a) || common(a) ? -1 : 0;
}

static int file(struct acc *a)
{
    const char *ch, *platform, *app;
    if (only(a, "dir,channel,app,platform," COMMON) || word(a, "channel", "sms|push", "sms", &ch) ||
        word(a, "platform", "ios|android", NULL, &platform) || str(a, "app", 0, 0, &app))
        return -1;
    if (!strcmp(ch, "push")) {
        if (!app)
            return refuse(a, "app", "%s", "a push file sink needs app (its subscriptions' app)");
        json_object_set_new(a->settings, "app", json_string(app));
        json_object_set_new(a->settings, "platform", json_string(platform ? platform : "ios"));
    } else if (app || platform) {
        return refuse(a, app ? "app" : "platform", "%s", "app and platform are for channel push");
    }
    a->channel = !strcmp(ch, "sms") ? "sms" : "push";
    return path_setting(a, "dir", 1, 0) || common(a) ? -1 : 0;
}

/* What apns and fcm accounts share. */
static int push_common(struct acc *a)
{
    const char *url;
    if (str_setting(a, "app", 1, 0) || path_setting(a, "ca_file", 0, 1) ||
        int_setting(a, "concurrency", 1, 10000, 100) || rate(a) || str(a, "url", 0, 2048, &url))
        return -1;
    if (url && strncmp(url, "https://", 8))
        return refuse(a, "url", "%s is an https:// URL", "url");
    if (url)
        json_object_set_new(a->settings, "url", json_string(url));
    a->channel = "push";
    return 0;
}

static int apns(struct acc *a)
{
    const char *env, *key;
    if (only(a, "app,team_id,key_id,key,topic,environment,url,ca_file,concurrency,rate") ||
        push_common(a) || str_setting(a, "team_id", 1, 0) || str_setting(a, "key_id", 1, 0) ||
        str_setting(a, "topic", 1, 0) ||
        word(a, "environment", "sandbox|production", "production", &env) ||
        str(a, "key", 1, 64 * 1024, &key))
        return -1;
    if (!key_is(key, EVP_PKEY_EC))
        return refuse(a, "key", "%s", "key is an EC P-256 private key in PEM (an APNs .p8 key)");
    json_object_set_new(a->settings, "environment", json_string(env));
    json_object_set_new(a->settings, "platform", json_string("ios"));
    json_object_set_new(a->secrets, "key", json_string(key));
    return 0;
}

static int fcm(struct acc *a)
{
    const char *project, *token_url;
    json_t *sa = json_object_get(a->body, "service_account"), *j = NULL;
    int rc = -1;
    if (only(a, "app,service_account,project_id,token_url,url,ca_file,concurrency,rate") ||
        push_common(a) || str(a, "project_id", 0, 0, &project) ||
        str(a, "token_url", 0, 2048, &token_url))
        return -1;
    if (token_url && strncmp(token_url, "https://", 8))
        return refuse(a, "token_url", "%s is an https:// URL", "token_url");
    if (json_is_string(sa))
        j = json_loads(json_string_value(sa), 0, NULL);
    else if (json_is_object(sa))
        j = json_incref(sa);
    const char *email = json_string_value(json_object_get(j, "client_email"));
    const char *pk = json_string_value(json_object_get(j, "private_key"));
    const char *pid = project ? project : json_string_value(json_object_get(j, "project_id"));
    if (!j)
        refuse(a, "service_account", "%s", "service_account is the service account's JSON key");
    else if (!email || !pk)
        refuse(a, "service_account", "%s",
               "service_account is not a service account key (client_email and private_key "
               "needed)");
    else if (!pid)
        refuse(a, "project_id", "%s", "the service account has no project_id: give project_id");
    else if (!key_is(pk, EVP_PKEY_RSA))
        refuse(a, "service_account", "%s",
               "the service account's private_key is not an RSA private key in PEM");
    else {
        if (token_url)
            json_object_set_new(a->settings, "token_url", json_string(token_url));
        json_object_set_new(a->settings, "project_id", json_string(pid));
        json_object_set_new(a->settings, "client_email", json_string(email));
        json_object_set_new(a->settings, "platform", json_string("android"));
        char *text = json_is_string(sa) ? NULL : json_dumps(j, JSON_INDENT(2));
        json_object_set_new(a->secrets, "service_account",
                            json_string(text ? text : json_string_value(sa)));
        free(text);
        rc = 0;
    }
    json_decref(j);
    return rc;
}

/* The placeholders a file name may hold. */
static int pattern_ok(const char *p)
{
    static const char *const known[] = {"{delivery}", "{label}", "{date}", "{time}", "{ext}"};
    for (const char *c = p; *c; c++) {
        if (*c == '/')
            return 0;
        if (*c != '{')
            continue;
        int ok = 0;
        for (size_t i = 0; i < sizeof known / sizeof *known && !ok; i++)
            ok = strncmp(c, known[i], strlen(known[i])) == 0;
        if (!ok)
            return 0;
    }
    return 1;
}

static int routing(struct acc *a)
{
    const char *ch, *mode, *target, *key, *pw, *fp, *pattern, *app, *platform;
    if (only(a, "channel,mode,export,ssh_key,password,host_key_sha256,file_name,app,platform") ||
        str(a, "channel", 1, 0, &ch) || word(a, "channel", "email|sms|push", NULL, &ch) ||
        word(a, "mode", "external", "external", &mode) || str(a, "export", 1, 4096, &target) ||
        str(a, "ssh_key", 0, 64 * 1024, &key) || str(a, "password", 0, 0, &pw) ||
        str(a, "host_key_sha256", 0, 0, &fp) || str(a, "file_name", 0, 255, &pattern) ||
        str(a, "app", 0, 0, &app) || word(a, "platform", "ios|android", NULL, &platform))
        return -1;
    int sftp = strncmp(target, "sftp://", 7) == 0;
    if (!sftp && target[0] != '/')
        return refuse(a, "export", "%s is an absolute folder on the server or an sftp:// URL",
                      "export");
    if (sftp && !key && !pw)
        return refuse(a, "ssh_key", "%s", "an sftp export needs ssh_key or password");
    if (!sftp && (key || pw || fp))
        return refuse(a, key ? "ssh_key" : pw ? "password" : "host_key_sha256", "%s",
                      "ssh_key, password and host_key_sha256 are for sftp://");
    if (pattern && !pattern_ok(pattern))
        return refuse(a, "file_name",
                      "file_name '%s': a file name without '/', with the placeholders "
                      "{delivery}, {label}, {date}, {time}, {ext}",
                      pattern);
    if (!strcmp(ch, "push")) {
        if (!app || !platform)
            return refuse(a, !app ? "app" : "platform", "%s",
                          "a push routing account needs app and platform");
        json_object_set_new(a->settings, "app", json_string(app));
        json_object_set_new(a->settings, "platform", json_string(platform));
    } else if (app || platform) {
        return refuse(a, app ? "app" : "platform", "%s", "app and platform are for channel push");
    }
    if (sftp) {
        json_object_set_new(a->settings, "export", json_string(target));
    } else {
        char *abs = realpath(target, NULL);
        if (!abs)
            return refuse(a, "export", "%s: no such folder on the server", "export");
        json_object_set_new(a->settings, "export", json_string(abs));
        free(abs);
    }
    if (key)
        json_object_set_new(a->secrets, "ssh_key", json_string(key));
    if (pw)
        json_object_set_new(a->secrets, "password", json_string(pw));
    if (fp) {
        if (strncmp(fp, "SHA256:", 7) == 0)
            fp += 7;
        size_t n = strlen(fp);
        while (n && fp[n - 1] == '=')
            n--;
        if (n != 43 ||
            strspn(fp, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") < n)
            return refuse(a, "host_key_sha256", "%s",
                          "host_key_sha256 is a SHA-256 fingerprint as ssh-keygen -l -E sha256 "
                          "prints it (43 base64 characters)");
        json_object_set_new(a->settings, "host_key_sha256", json_stringn(fp, n));
    }
    json_object_set_new(a->settings, "file_name",
                        json_string(pattern ? pattern : "crier-{delivery}-{date}-{time}.{ext}"));
    a->channel = ch;
    a->mode = "external";
    return 0;
}

void cr__api_account_add(struct cr_api_ctx *x)
{
    static const struct {
        const char *kind;
        int (*check)(struct acc *a);
    } kinds[] = {{"smtp", smtp}, {"pickup", pickup}, {"smpp", smpp},      {"file", file},
                 {"apns", apns}, {"fcm", fcm},       {"routing", routing}};
    struct cr_err err = CR_ERR_INIT;
    struct acc a = {.x = x, .mode = "bulk"};
    json_t *list = NULL, *e;
    int64_t id;
    size_t i;
    int bad, rc;
    if (!(a.body = cr__api_body(x, 0)))
        return;
    a.settings = json_object();
    a.secrets = json_object();
    const char *kind = cr__api_body_str(x, a.body, "kind", 1, &bad);
    const char *name = bad ? NULL : cr__api_body_str(x, a.body, "name", 1, &bad);
    if (bad)
        goto out;
    for (i = 0; i < sizeof kinds / sizeof *kinds && strcmp(kind, kinds[i].kind); i++)
        ;
    if (i == sizeof kinds / sizeof *kinds) {
        cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "kind",
                      "kind is smtp, pickup, smpp, file, apns, fcm or routing");
        goto out;
    }
    if (kinds[i].check(&a))
        goto out;
    rc = cr_account_add(x->s, &x->clock, name, kind, a.channel, a.mode, a.settings, a.secrets,
                        &id, &err);
    if (!rc)
        rc = cr_account_list(x->s, &list, &err);
    if (rc) {
        cr__api_fail(x, rc, &err, "name");
        goto out;
    }
    json_array_foreach(list, i, e)
    {
        if (json_integer_value(json_object_get(e, "id")) == id)
            cr__api_reply(x, MHD_HTTP_OK, json_incref(e));
    }
    if (!x->status)
        cr__api_fail(x, cr_err_set(&err, CR_EIO, "account %lld vanished", (long long)id), &err,
                     NULL);
out:
    json_decref(list);
    json_decref(a.settings);
    json_decref(a.secrets);
    json_decref(a.body);
}
