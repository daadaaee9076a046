/*
 * fcm.c - Firebase Cloud Messaging HTTP v1: the service account, OAuth2 access tokens (RS256
 *         JWT bearer grant), requests, and what an answer means
 *
 * Not the sending loop (transport.c) and not the message (push.c renders the whole
 * {"message":{...}} object, token included).
 *
 * Access token: POST {token_url} grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer and an
 * assertion {"iss":client_email,"scope":".../firebase.messaging","aud":token_url,"iat","exp":
 * iat+3600} signed with the service account's key ({"alg":"RS256","typ":"JWT","kid":
 * private_key_id}). The answer's access_token is kept until a minute before expires_in runs
 * out. It is fetched on a plain easy handle, blocking the multi loop for that one request:
 * once an hour, or after a 401/403.
 *
 * Spec: RFC 7523 §2.1 (JWT bearer grant), RFC 6749 §5 (token answers and errors); Google,
 * "Using OAuth 2.0 for Server to Server Applications"; FCM HTTP v1 "projects.messages.send"
 * and its error codes (FcmError.errorCode: UNREGISTERED, INVALID_ARGUMENT, SENDER_ID_MISMATCH,
 * QUOTA_EXCEEDED, UNAVAILABLE, INTERNAL, THIRD_PARTY_AUTH_ERROR).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "channel/push/transport_int.h"
#include "core/log.h"
#include "core/mem.h"

#define FCM_URL "https://fcm.googleapis.com"
#define FCM_SCOPE "https://www.googleapis.com/auth/firebase.messaging"
#define FCM_ASSERTION_S 3600
#define FCM_EXPIRY_MARGIN_S 60
#define FCM_TOKEN_ANSWER_MAX (64 * 1024)
#define FCM_SA_MAX (1 << 20)

static const char *sa_str(json_t *sa, const char *key)
{
    const char *v = json_string_value(json_object_get(sa, key));
    return v && *v ? v : NULL;
}

static int fcm_configure(struct cr_push_transport *t, const struct cr_push_config *cfg,
                         struct cr_err *err)
{
    const char *json = cfg->service_account_json;
    if (!json || !*json)
        return cr_err_set(err, CR_EINVAL, "FCM account '%s': service_account_json is missing",
                          t->name);
    json_error_t jerr;
    json_t *sa = json_loadb(json, strnlen(json, FCM_SA_MAX), 0, &jerr);
    if (!json_is_object(sa)) {
        json_decref(sa);
        return cr_err_set(err, CR_EINVAL,
                          "FCM account '%s': the service account is not a JSON object "
                          "(line %d: %s)",
                          t->name, jerr.line, jerr.text);
    }
    const char *email = sa_str(sa, "client_email"), *pem = sa_str(sa, "private_key");
    const char *project =
        cfg->project_id && *cfg->project_id ? cfg->project_id : sa_str(sa, "project_id");
    const char *token_url =
        cfg->token_url && *cfg->token_url ? cfg->token_url : sa_str(sa, "token_uri");
    const char *missing = !email       ? "client_email"
                          : !pem       ? "private_key"
                          : !project   ? "project_id"
                          : !token_url ? "token_uri"
                                       : NULL;
    int rc = 0;
    if (missing)
        rc = cr_err_set(err, CR_EINVAL, "FCM account '%s': the service account has no %s%s",
                        t->name, missing,
                        strcmp(missing, "project_id") == 0 || strcmp(missing, "token_uri") == 0
                            ? " (or set it on the account)"
                            : "");
    else if (strncasecmp(token_url, "https://", 8) != 0 || strpbrk(token_url, " \r\n#"))
        rc = cr_err_set(err, CR_EINVAL, "FCM account '%s': token url '%s' must be https://...",
                        t->name, token_url);
    else if (strpbrk(email, "\r\n\""))
        rc =
            cr_err_set(err, CR_EINVAL, "FCM account '%s': client_email is not an address", t->name);
    if (rc == 0) {
        rc = cr_jwt_key_new(CR_JWT_RS256, pem, "the service account's private_key", &t->key, err);
        if (rc)
            cr_err_prefix(err, "FCM account '%s': ", t->name);
    }
    if (rc == 0) {
        t->client_email = cr_xstrdup(email);
        t->project_id = cr_xstrdup(project);
        t->token_url = cr_xstrdup(token_url);
        const char *kid = sa_str(sa, "private_key_id");
        t->private_key_id = kid ? cr_xstrdup(kid) : NULL;
        if (!t->base_url)
            t->base_url = cr_xstrdup(FCM_URL);
        char *esc = curl_easy_escape(NULL, project, 0);
        if (!esc)
            CR_BUG("curl_easy_escape failed");
        struct cr_buf u = CR_BUF_INIT(0);
        size_t bl = strlen(t->base_url);
        while (bl > 8 && t->base_url[bl - 1] == '/')
            bl--;
        cr_buf_printf(&u, "%.*s/v1/projects/%s/messages:send", (int)bl, t->base_url, esc);
        curl_free(esc);
        t->send_url = cr_buf_detach(&u, NULL);
    }
    json_decref(sa);
    return rc;
}

static int fcm_stale(const struct cr_push_transport *t, int64_t now)
{
    return !t->cred || now >= t->cred_exp - FCM_EXPIRY_MARGIN_S || now < t->cred_iat - 60;
}

/* The signed assertion for the token endpoint. */
static int assertion(struct cr_push_transport *t, int64_t now, struct cr_buf *out,
                     struct cr_err *err)
{
    json_t *hdr = json_pack("{s:s, s:s}", "alg", "RS256", "typ", "JWT");
    if (hdr && t->private_key_id)
        json_object_set_new(hdr, "kid", json_string(t->private_key_id));
    json_t *claims =
        json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", t->client_email, "scope", FCM_SCOPE, "aud",
                  t->token_url, "iat", (json_int_t)now, "exp", (json_int_t)(now + FCM_ASSERTION_S));
    char *h = hdr ? json_dumps(hdr, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    char *c = claims ? json_dumps(claims, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(hdr);
    json_decref(claims);
    if (!h || !c)
        CR_BUG("json_pack of the FCM assertion failed");
    int rc = cr_jwt_sign(t->key, h, c, out, err);
    free(h);
    free(c);
    return rc;
}

static size_t collect(char *p, size_t size, size_t nitems, void *data)
{
    cr_buf_append(data, p, size * nitems);
    return size * nitems;
}

/* Reads {"access_token","expires_in","token_type"} into t. */
static int take_token(struct cr_push_transport *t, const struct cr_buf *answer, int64_t now,
                      struct cr_err *err)
{
    json_t *j = json_loadb(answer->data, answer->len, 0, NULL);
    const char *tok = json_string_value(json_object_get(j, "access_token"));
    json_t *exp = json_object_get(j, "expires_in");
    const char *type = json_string_value(json_object_get(j, "token_type"));
    int rc = 0;
    if (!tok || !*tok || strpbrk(tok, "\r\n") || !json_is_integer(exp) ||
        json_integer_value(exp) <= 0 || (type && strcasecmp(type, "Bearer") != 0))
        rc = cr_err_set(err, CR_EPROTO,
                        "FCM account '%s': the token endpoint %s answered without a usable "
                        "access_token, expires_in and Bearer token_type",
                        t->name, t->token_url);
    if (rc == 0) {
        if (t->cred) {
            explicit_bzero(t->cred, strlen(t->cred));
            free(t->cred);
        }
        t->cred = cr_xstrdup(tok);
        t->cred_iat = now;
        json_int_t life = json_integer_value(exp);
        t->cred_exp = now + (life > 86400 ? 86400 : (int64_t)life);
        t->cred_gen++;
    }
    json_decref(j);
    return rc;
}

/* OAuth2 errors ({"error":"invalid_grant","error_description":"..."}) as one string. */
static void oauth_error(const struct cr_buf *answer, char *out, size_t outsz)
{
    json_t *j = json_loadb(answer->data, answer->len, 0, NULL);
    const char *e = json_string_value(json_object_get(j, "error"));
    const char *d = json_string_value(json_object_get(j, "error_description"));
    if (!e) /* Google's other error shape: {"error":{"status":...,"message":...}} */
        e = json_string_value(json_object_get(json_object_get(j, "error"), "status"));
    snprintf(out, outsz, "%s%s%s%s", e ? e : "no OAuth2 error in the answer", d ? " (" : "",
             d ? d : "", d ? ")" : "");
    json_decref(j);
}

static int fcm_renew(struct cr_push_transport *t, struct cr_err *err)
{
    int64_t now = cr__push_now();
    struct cr_buf body = CR_BUF_INIT(0), answer = CR_BUF_INIT(FCM_TOKEN_ANSWER_MAX);
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = NULL;
    CURL *h = NULL;
    int rc;
    cr_buf_puts(&body, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
                       "&assertion=");
    rc = assertion(t, now, &body, err); /* base64url and '.': nothing to escape */
    if (rc) {
        cr_err_prefix(err, "FCM account '%s': ", t->name);
        goto out;
    }
    h = curl_easy_init();
    hdrs = curl_slist_append(NULL, "content-type: application/x-www-form-urlencoded");
    if (!h || !hdrs) {
        rc = cr_err_set(err, CR_ENOMEM, "curl_easy_init failed");
        goto out;
    }
    rc = cr__push_easy_tls(t, h, err);
    if (rc == 0 && (curl_easy_setopt(h, CURLOPT_URL, t->token_url) != CURLE_OK ||
                    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK ||
                    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len) ||
                    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data) != CURLE_OK ||
                    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect) != CURLE_OK ||
                    curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer) != CURLE_OK ||
                    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK))
        rc = cr_err_set(err, CR_EINVAL, "libcurl refused the token request's options");
    if (rc)
        goto out;
    CURLcode res = curl_easy_perform(h);
    if (res != CURLE_OK) {
        rc = cr_err_set(err, CR_EIO, "FCM account '%s': connect to %s: %s", t->name, t->token_url,
                        errbuf[0] ? errbuf : curl_easy_strerror(res));
        goto out;
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status == 200) {
        rc = take_token(t, &answer, now, err);
    } else {
        char why[300];
        oauth_error(&answer, why, sizeof why);
        /* 400 invalid_grant / 401 invalid_client: the service account itself is refused */
        int refused = status == 400 || status == 401 || status == 403;
        rc = cr_err_set(err, refused ? CR_PUSH_EPERM : CR_EIO,
                        "FCM account '%s': the token endpoint %s %s the service account %s: "
                        "%ld %s",
                        t->name, t->token_url, refused ? "refused" : "failed for", t->client_email,
                        status, why);
    }
    if (rc == 0)
        cr_log(CR_LOG_DEBUG, NULL, "push: %s: access token valid for %lld s", t->name,
               (long long)(t->cred_exp - now));
out:
    curl_slist_free_all(hdrs);
    if (h)
        curl_easy_cleanup(h);
    explicit_bzero(answer.data, answer.len);
    cr_buf_release(&answer);
    cr_buf_release(&body);
    return rc;
}

static int fcm_prepare(struct cr_push_transport *t, struct cr__push_slot *sl)
{
    cr_buf_puts(&sl->url, t->send_url);
    struct cr_buf auth = CR_BUF_INIT(0);
    cr_buf_printf(&auth, "authorization: Bearer %s", t->cred);
    struct curl_slist *l = curl_slist_append(NULL, auth.data), *n;
    const char *more[] = {"content-type: application/json; charset=utf-8", "expect:"};
    for (size_t i = 0; l && i < sizeof more / sizeof *more; i++) {
        n = curl_slist_append(l, more[i]);
        if (!n)
            curl_slist_free_all(l);
        l = n;
    }
    explicit_bzero(auth.data, auth.len);
    cr_buf_release(&auth);
    sl->headers = l;
    return 0;
}

/* The FcmError code in details[], else the google.rpc status ("NOT_FOUND"), else "HTTP n";
 * *token_field: the error is about message.token. */
static void read_error(struct cr__push_slot *sl, long status, int *token_field)
{
    json_t *j = json_loadb(sl->answer.data, sl->answer.len, 0, NULL);
    json_t *e = json_object_get(j, "error");
    const char *code = NULL, *st = json_string_value(json_object_get(e, "status"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    size_t i;
    json_t *d;
    *token_field = msg && strstr(msg, "registration token") != NULL;
    json_array_foreach(json_object_get(e, "details"), i, d)
    {
        const char *c = json_string_value(json_object_get(d, "errorCode"));
        if (c && !code)
            code = c;
        size_t k;
        json_t *v;
        json_array_foreach(json_object_get(d, "fieldViolations"), k, v)
        {
            const char *f = json_string_value(json_object_get(v, "field"));
            if (f && strcmp(f, "message.token") == 0)
                *token_field = 1;
        }
    }
    if (code || st)
        cr__push_copy(sl->reason, sizeof sl->reason, code ? code : st);
    else
        snprintf(sl->reason, sizeof sl->reason, "HTTP %ld", status);
    json_decref(j);
}

static enum cr__push_verdict fcm_classify(struct cr__push_slot *sl, long status,
                                          struct cr_push_result *r)
{
    r->reason = sl->reason;
    if (status >= 200 && status < 300) {
        json_t *j = json_loadb(sl->answer.data, sl->answer.len, 0, NULL);
        cr__push_copy(sl->message_id, sizeof sl->message_id,
                      json_string_value(json_object_get(j, "name")));
        json_decref(j);
        r->outcome = CR_PUSH_SENT;
        r->message_id = sl->message_id;
        cr__push_copy(sl->reason, sizeof sl->reason, "ok");
        return CR__PUSH_DONE;
    }
    int token_field = 0;
    read_error(sl, status, &token_field);
    if (strcmp(sl->reason, "SENDER_ID_MISMATCH") == 0) {
        /* a 403 about the token (another project's), not about us: renewing cannot help */
        r->outcome = CR_PUSH_HARD;
        r->unregistered = 1;
        return CR__PUSH_DONE;
    }
    if (status == 401 || status == 403)
        return CR__PUSH_REFUSED;
    if (status == 429 || status >= 500) {
        r->outcome = CR_PUSH_SOFT;
        r->retry_after_ms = sl->retry_after_ms;
        return CR__PUSH_DONE;
    }
    r->outcome = status >= 400 ? CR_PUSH_HARD : CR_PUSH_SOFT;
    r->unregistered =
        status == 404 || strcmp(sl->reason, "UNREGISTERED") == 0 || (status == 400 && token_field);
    return CR__PUSH_DONE;
}

static void fcm_release(struct cr_push_transport *t)
{
    free(t->client_email);
    free(t->project_id);
    free(t->token_url);
    free(t->private_key_id);
    free(t->send_url);
}

const struct cr__push_ops cr__fcm_ops = {
    .label = "FCM",
    .configure = fcm_configure,
    .stale = fcm_stale,
    .renew = fcm_renew,
    .prepare = fcm_prepare,
    .classify = fcm_classify,
    .release = fcm_release,
};
