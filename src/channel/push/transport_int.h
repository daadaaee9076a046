/*
 * transport_int.h - what transport.c (the HTTP/2 sending loop) shares with apns.c and fcm.c
 *                   (each service's credentials, requests and answers); push/ only
 *
 * A service is a const table of operations (struct cr__push_ops). transport.c owns the curl
 * multi handle, the slots, the rate and the renew-once rule; a service only says how to get a
 * credential, how to address one message and what an answer means.
 */
#ifndef CR_PUSH_TRANSPORT_INT_H
#define CR_PUSH_TRANSPORT_INT_H

#include <curl/curl.h>
#include <stdint.h>

#include "channel/push/jwt.h"
#include "channel/push/transport.h"
#include "core/buf.h"

#define CR__PUSH_ANSWER_MAX (16 * 1024) /* bytes of an answer's body kept for its reason */
#define CR__PUSH_REASON_MAX 160
#define CR__PUSH_MSGID_MAX 256

/* One request at a time on one easy handle. Strings here outlive done() only until the
 * slot's next request. */
struct cr__push_slot {
    struct cr_push_transport *t;
    CURL *easy;             /* made on first use, then reused */
    int busy;               /* in the multi handle */
    struct cr_push_msg msg; /* borrowed from next() until done() */
    size_t body_off;        /* how much of msg.body libcurl has read (it rewinds to retry) */
    int resent;             /* already resent once after renewing the credential */
    int redone;             /* already sent again once after its connection died */
    unsigned cred_gen;      /* the credential generation this request carried */
    struct curl_slist *headers;
    struct cr_buf url;
    struct cr_buf answer; /* the response body, at most CR__PUSH_ANSWER_MAX */
    char apns_id[CR__PUSH_MSGID_MAX];
    int64_t retry_after_ms;
    char reason[CR__PUSH_REASON_MAX];
    char message_id[CR__PUSH_MSGID_MAX];
    char errbuf[CURL_ERROR_SIZE];
};

/* What an answered request means, beyond its outcome. */
enum cr__push_verdict {
    CR__PUSH_DONE,   /* r is the message's outcome */
    CR__PUSH_REFUSED /* the credential was refused (401/403): renew once and resend */
};

struct cr__push_ops {
    const char *label; /* "APNs", "FCM": messages say "APNs account 'ios': ..." */
    /* Reads the service's part of cfg into t (keys parsed, defaults applied). CR_EINVAL. */
    int (*configure)(struct cr_push_transport *t, const struct cr_push_config *cfg,
                     struct cr_err *err);
    /* The credential is missing or due for renewal at `now` (CLOCK_REALTIME seconds). */
    int (*stale)(const struct cr_push_transport *t, int64_t now);
    /* Makes a new credential in t->cred: CR_EIO (cannot reach the issuer), CR_PUSH_EPERM
     * (the issuer refused us) or CR_EPROTO, err naming the account. */
    int (*renew)(struct cr_push_transport *t, struct cr_err *err);
    /* Fills sl->url and sl->headers for sl->msg with the current credential. A message that
     * cannot be sent as it is returns CR_EINVAL with sl->reason set (reported HARD). */
    int (*prepare)(struct cr_push_transport *t, struct cr__push_slot *sl);
    /* Reads an answered request (status, sl->answer, sl->apns_id) into r. */
    enum cr__push_verdict (*classify)(struct cr__push_slot *sl, long status,
                                      struct cr_push_result *r);
    void (*release)(struct cr_push_transport *t);
};

extern const struct cr__push_ops cr__apns_ops;
extern const struct cr__push_ops cr__fcm_ops;

struct cr_push_transport {
    const struct cr__push_ops *ops;
    char *name;          /* the account's name */
    char *base_url;      /* without a trailing '/' */
    struct curl_blob ca; /* system bundle + ca_file, or data NULL: curl's default */
    int concurrency;
    double rate, tokens; /* token bucket of depth 1 on CLOCK_MONOTONIC */
    int64_t last_ns;
    CURLM *multi;
    struct cr__push_slot *slots;
    int *free, nfree; /* indexes of the slots holding no message (a stack) */
    /* the credential (APNs JWT, FCM access token): renewed in place, counted by cred_gen */
    char *cred;
    int64_t cred_iat, cred_exp; /* CLOCK_REALTIME seconds */
    unsigned cred_gen;
    int reached; /* some request got an HTTP answer: the first connection worked */
    struct cr_jwt_key *key;
    /* APNs */
    char *team_id, *key_id, *topic;
    /* FCM */
    char *project_id, *token_url, *client_email, *private_key_id, *send_url;
};

/* Seconds since the epoch on CLOCK_REALTIME: Apple and Google check iat/exp against the real
 * time, so a virtual clock must never reach these. */
int64_t cr__push_now(void);

#define CR__PUSH_SETOPT(h, opt, val)                                                               \
    do {                                                                                           \
        CURLcode rc_ = curl_easy_setopt((h), (opt), (val));                                        \
        if (rc_ != CURLE_OK)                                                                       \
            return cr_err_set(err, CR_EINVAL, "libcurl refused %s: %s", #opt,                      \
                              curl_easy_strerror(rc_));                                            \
    } while (0)

/* conn.c: the blob of the system CA bundle and ca_file in t->ca. CR_EINVAL (unreadable, no
 * certificate in it) or CR_ETOOBIG, err naming the file. */
int cr__push_ca_build(struct cr_push_transport *t, const char *ca_file, struct cr_err *err);

/* conn.c: makes sl's easy handle (TLS, PIPEWAIT, POST, answer capture into sl). CR_ENOMEM or
 * CR_EINVAL naming the option libcurl refused. */
int cr__push_slot_init(struct cr_push_transport *t, struct cr__push_slot *sl, struct cr_err *err);

/* Sets up an easy handle for TLS to this account's peers (HTTP/2, verification, CA blob,
 * time-outs, NOSIGNAL). Returns 0 or CR_EINVAL naming the option libcurl refused. */
int cr__push_easy_tls(struct cr_push_transport *t, CURL *h, struct cr_err *err);

/* Copies at most n bytes of a JSON string member into out (NUL-terminated); "" if absent. */
void cr__push_copy(char *out, size_t outsz, const char *s);

#endif
