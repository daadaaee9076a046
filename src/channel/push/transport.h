/*
 * transport.h - push notifications over HTTP/2: APNs (token-based auth, ES256 JWT) and FCM
 *               HTTP v1 (OAuth2 access tokens from a service account's RS256 JWT)
 *
 * One struct cr_push_transport serves one account: it sends request bodies that the caller
 * rendered (push.c builds them from templates) to device tokens, many streams multiplexed on
 * few HTTP/2 connections (libcurl multi, CURLPIPE_MULTIPLEX), at most `concurrency` requests
 * in flight and `rate` per second, and reports one outcome per message.
 *
 * APNs: POST {url}/3/device/{token}, headers authorization: bearer JWT (ES256 over
 * {"alg":"ES256","kid":KEY_ID}.{"iss":TEAM_ID,"iat":NOW}, renewed after 50 minutes: Apple
 * refuses tokens older than an hour and asks not to renew more often than every 20 minutes),
 * apns-topic, apns-push-type alert, apns-priority 10; the body is the APNs payload. Default
 * url https://api.push.apple.com (production) or https://api.sandbox.push.apple.com.
 *
 * FCM: POST {url}/v1/projects/{project}/messages:send, authorization: Bearer ACCESS_TOKEN;
 * the body is the whole {"message":{"token":…,…}} object. The access token comes from
 * POST {token_url} (default the service account's token_uri) with grant_type
 * urn:ietf:params:oauth:grant-type:jwt-bearer and an RS256 assertion {iss: client_email,
 * scope: https://www.googleapis.com/auth/firebase.messaging, aud: token_url, iat, exp: iat+3600},
 * cached until a minute before its expires_in. Default url https://fcm.googleapis.com.
 *
 * Outcomes (decided by status and the JSON reason of the answer):
 *   2xx                                          -> SENT (message_id: apns-id header, FCM name)
 *   APNs 410, 400 BadDeviceToken / DeviceTokenNotForTopic, FCM 404 UNREGISTERED, 400
 *   INVALID_ARGUMENT about the token                -> HARD, unregistered = 1
 *   429, 5xx, a connection or TLS failure           -> SOFT (retry_after_ms from Retry-After)
 *   any other 4xx (payload too large, bad topic...) -> HARD, unregistered = 0
 *   401/403 (expired or refused credentials): the token is renewed once and the message
 *   resent; refused again -> SOFT, and cr_push_send_stream returns CR_PUSH_EPERM naming the
 *   account. (FCM 403 SENDER_ID_MISMATCH is about the token, not us: HARD, unregistered = 1.)
 *
 * Ownership: new() copies the config. A message's strings are borrowed until done() reports
 * it. One thread at a time per transport; callbacks must not call back into it.
 */
#ifndef CR_PUSH_TRANSPORT_H
#define CR_PUSH_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* "The service refused the account's credentials". */
#define CR_PUSH_EPERM CR_EPERM

enum cr_push_service { CR_PUSH_APNS, CR_PUSH_FCM };

struct cr_push_config {
    enum cr_push_service service;
    const char *name;       /* the account's name, for messages */
    /* APNs */
    const char *team_id, *key_id;
    const char *key_pem;    /* the .p8 file's contents (PKCS#8 EC P-256 private key) */
    const char *topic;      /* the app's bundle id */
    int sandbox;            /* 1: api.sandbox.push.apple.com when url is NULL */
    /* FCM */
    const char *service_account_json; /* the file's contents: client_email, private_key,
                                       * project_id, token_uri */
    const char *project_id; /* NULL: the service account's */
    const char *token_url;  /* NULL: the service account's token_uri */
    /* both */
    const char *url;        /* base URL override (tests): "https://127.0.0.1:8443" */
    const char *ca_file;    /* PEM of a CA to trust in addition to the system's */
    int concurrency;        /* requests in flight, 1..10000 (0: 100) */
    double rate;            /* requests per second, 0 = unlimited */
};

struct cr_push_transport;

/* Checks the config (keys parse, required fields present) and copies it; connects nothing.
 * CR_EINVAL naming the field. */
int cr_push_transport_new(const struct cr_push_config *cfg, struct cr_push_transport **out,
                          struct cr_err *err) CR_WARN_UNUSED;
void cr_push_transport_free(struct cr_push_transport *t);

struct cr_push_msg {
    int64_t id;          /* caller's id, copied into the result */
    const char *token;   /* device token (APNs: hex; FCM: registration token) */
    const char *body;    /* the request body (JSON) */
    size_t len;
};

enum cr_push_outcome { CR_PUSH_SENT, CR_PUSH_SOFT, CR_PUSH_HARD };

struct cr_push_result {
    int64_t id;
    enum cr_push_outcome outcome;
    int unregistered;       /* the token is no longer valid: deactivate the subscription */
    int status;             /* HTTP status, 0 when no answer */
    const char *reason;     /* "BadDeviceToken", "UNREGISTERED", "ok", or the failure */
    const char *message_id; /* apns-id / FCM message name; "" if not sent */
    int64_t retry_after_ms; /* from Retry-After on 429/503, else 0 */
};

/*
 * Sends the messages next() produces (1: *m filled; 0: no more; negative: stop with err set)
 * and calls done() once per message in order of completion. Returns 0 when every message has
 * an outcome; CR_EIO when the first connection cannot be made at all (TLS, DNS, refused;
 * nothing reported then); CR_PUSH_EPERM when the service refuses the credentials (the
 * messages in flight are reported SOFT); or next()'s error after finishing what is in flight.
 * A message that cannot be addressed (an empty token, or an APNs token with characters a URL
 * path cannot carry) is reported HARD, unregistered, status 0, without a request. Resends
 * after a renewal do not count against `rate`. err names the account and, for a failed
 * connection, the URL: "APNs account 'ios': connect to https://127.0.0.1:8443: ...".
 * A credential due for renewal later on (FCM's access token, the token endpoint down or
 * refusing) that cannot be renewed: the message next() just gave is SOFT, what is in flight
 * is finished, nothing more is taken, and CR_EIO or CR_PUSH_EPERM is returned.
 */
int cr_push_send_stream(struct cr_push_transport *t,
                        int (*next)(void *src, struct cr_push_msg *m, struct cr_err *err),
                        void *src, void (*done)(void *data, const struct cr_push_result *r),
                        void *data, struct cr_err *err) CR_WARN_UNUSED;

#endif
