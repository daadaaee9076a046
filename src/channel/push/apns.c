/*
 * apns.c - Apple Push Notification service: provider tokens (ES256 JWT), requests, and what
 *          an answer means
 *
 * Not the sending loop (transport.c) and not the payload (push.c renders it).
 *
 * Provider token: header {"alg":"ES256","kid":KEY_ID}, claims {"iss":TEAM_ID,"iat":NOW},
 * renewed when 50 minutes old: Apple refuses tokens older than an hour
 * (ExpiredProviderToken) and answers TooManyProviderTokenUpdates to renewals closer than 20
 * minutes, so 50 leaves room both ways. A 403 renews it at once (transport.c's rule).
 *
 * Request: POST {url}/3/device/{token} with authorization: bearer JWT, apns-topic,
 * apns-push-type alert, apns-priority 10. The token goes into the path, so only RFC 3986
 * unreserved characters are accepted (hex in practice); anything else would change the URL.
 *
 * Spec: Apple, "Sending notification requests to APNs" and "Handling notification responses
 * from APNs" (status codes and reason strings); "Establishing a token-based connection".
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "channel/push/transport_int.h"
#include "core/mem.h"

#define APNS_URL "https://api.push.apple.com"
#define APNS_SANDBOX_URL "https://api.sandbox.push.apple.com"
#define APNS_TOKEN_RENEW_S (50 * 60)

/* Team and key ids are 10 alphanumerics at Apple; the topic is a bundle id (with suffixes such
 * as .voip). They go into JSON and a header: no control characters or spaces. */
static int check_field(const struct cr_push_transport *t, const char *field, const char *v,
                       const char *allowed, struct cr_err *err)
{
    if (!v || !*v)
        return cr_err_set(err, CR_EINVAL, "APNs account '%s': %s is missing", t->name, field);
    size_t n = strlen(v);
    if (n > 200)
        return cr_err_set(err, CR_EINVAL, "APNs account '%s': %s is longer than 200 characters",
                          t->name, field);
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              strchr(allowed, c)))
            return cr_err_set(err, CR_EINVAL,
                              "APNs account '%s': %s '%.60s' has the character '%c' (%s)", t->name,
                              field, v, c >= 32 && c < 127 ? c : '?',
                              *allowed ? "letters, digits and . - _ only" : "letters and digits");
    }
    return 0;
}

static int apns_configure(struct cr_push_transport *t, const struct cr_push_config *cfg,
                          struct cr_err *err)
{
    if (check_field(t, "team_id", cfg->team_id, "", err) ||
        check_field(t, "key_id", cfg->key_id, "", err) ||
        check_field(t, "topic", cfg->topic, ".-_", err))
        return CR_EINVAL;
    int rc = cr_jwt_key_new(CR_JWT_ES256, cfg->key_pem, "the key (key_pem)", &t->key, err);
    if (rc) {
        cr_err_prefix(err, "APNs account '%s': ", t->name);
        return rc;
    }
    t->team_id = cr_xstrdup(cfg->team_id);
    t->key_id = cr_xstrdup(cfg->key_id);
    t->topic = cr_xstrdup(cfg->topic);
    if (!t->base_url)
        t->base_url = cr_xstrdup(cfg->sandbox ? APNS_SANDBOX_URL : APNS_URL);
    return 0;
}

static int apns_stale(const struct cr_push_transport *t, int64_t now)
{
    /* also renewed when the clock went back: Apple would see an iat in the future */
    return !t->cred || now - t->cred_iat >= APNS_TOKEN_RENEW_S || now < t->cred_iat - 60;
}

static int apns_renew(struct cr_push_transport *t, struct cr_err *err)
{
    int64_t now = cr__push_now();
    json_t *hdr = json_pack("{s:s, s:s}", "alg", "ES256", "kid", t->key_id);
    json_t *claims = json_pack("{s:s, s:I}", "iss", t->team_id, "iat", (json_int_t)now);
    char *h = hdr ? json_dumps(hdr, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    char *c = claims ? json_dumps(claims, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(hdr);
    json_decref(claims);
    if (!h || !c)
        CR_BUG("json_pack of the APNs token failed");
    struct cr_buf b = CR_BUF_INIT(0);
    int rc = cr_jwt_sign(t->key, h, c, &b, err);
    free(h);
    free(c);
    if (rc) {
        cr_buf_release(&b);
        cr_err_prefix(err, "APNs account '%s': ", t->name);
        return rc;
    }
    free(t->cred);
    t->cred = cr_buf_detach(&b, NULL);
    t->cred_iat = now;
    t->cred_exp = now + APNS_TOKEN_RENEW_S;
    t->cred_gen++;
    return 0;
}

static int unreserved(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static struct curl_slist *add(struct curl_slist *l, const char *h)
{
    if (!l)
        return NULL; /* an earlier append failed: the caller sees NULL */
    struct curl_slist *n = curl_slist_append(l, h);
    if (!n)
        curl_slist_free_all(l);
    return n;
}

static int apns_prepare(struct cr_push_transport *t, struct cr__push_slot *sl)
{
    for (const char *p = sl->msg.token; *p; p++) {
        if (!unreserved(*p)) {
            cr__push_copy(sl->reason, sizeof sl->reason,
                          "device token has characters a URL path cannot carry");
            return CR_EINVAL;
        }
    }
    cr_buf_printf(&sl->url, "%s/3/device/%s", t->base_url, sl->msg.token);
    struct cr_buf auth = CR_BUF_INIT(0), topic = CR_BUF_INIT(0);
    cr_buf_printf(&auth, "authorization: bearer %s", t->cred);
    cr_buf_printf(&topic, "apns-topic: %s", t->topic);
    struct curl_slist *l = curl_slist_append(NULL, auth.data);
    l = add(l, topic.data);
    l = add(l, "apns-push-type: alert");
    l = add(l, "apns-priority: 10");
    l = add(l, "content-type: application/json");
    l = add(l, "expect:"); /* no 100-continue round trip */
    explicit_bzero(auth.data, auth.len);
    cr_buf_release(&auth);
    cr_buf_release(&topic);
    sl->headers = l;
    return 0;
}

/* {"reason":"BadDeviceToken"} -> sl->reason; "HTTP 500" when the body says nothing. */
static void read_reason(struct cr__push_slot *sl, long status)
{
    json_t *j = json_loadb(sl->answer.data, sl->answer.len, 0, NULL);
    const char *reason = json_string_value(json_object_get(j, "reason"));
    if (reason && *reason)
        cr__push_copy(sl->reason, sizeof sl->reason, reason);
    else
        snprintf(sl->reason, sizeof sl->reason, "HTTP %ld", status);
    json_decref(j);
}

static enum cr__push_verdict apns_classify(struct cr__push_slot *sl, long status,
                                           struct cr_push_result *r)
{
    r->reason = sl->reason;
    if (status >= 200 && status < 300) {
        r->outcome = CR_PUSH_SENT;
        cr__push_copy(sl->message_id, sizeof sl->message_id, sl->apns_id);
        r->message_id = sl->message_id;
        cr__push_copy(sl->reason, sizeof sl->reason, "ok");
        return CR__PUSH_DONE;
    }
    read_reason(sl, status);
    if (status == 401 || status == 403)
        return CR__PUSH_REFUSED; /* ExpiredProviderToken, InvalidProviderToken, ... */
    if (status == 429 || status >= 500) {
        r->outcome = CR_PUSH_SOFT;
        r->retry_after_ms = sl->retry_after_ms;
        return CR__PUSH_DONE;
    }
    r->outcome = status >= 400 ? CR_PUSH_HARD : CR_PUSH_SOFT;
    /* 410: Unregistered (or ExpiredToken); the two 400s name a token this app cannot use */
    r->unregistered =
        status == 410 || (status == 400 && (strcmp(sl->reason, "BadDeviceToken") == 0 ||
                                            strcmp(sl->reason, "DeviceTokenNotForTopic") == 0));
    return CR__PUSH_DONE;
}

static void apns_release(struct cr_push_transport *t)
{
    free(t->team_id);
    free(t->key_id);
    free(t->topic);
}

const struct cr__push_ops cr__apns_ops = {
    .label = "APNs",
    .configure = apns_configure,
    .stale = apns_stale,
    .renew = apns_renew,
    .prepare = apns_prepare,
    .classify = apns_classify,
    .release = apns_release,
};
