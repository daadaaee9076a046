/*
 * transport.c - the push channel's HTTP/2 sending loop on libcurl's multi interface: slots,
 *               rate, the renew-once rule and one outcome per message
 *
 * What a request looks like and what an answer means is the service's (apns.c, fcm.c, behind
 * struct cr__push_ops); this file does not retry SOFT outcomes (the caller does, later).
 *
 * Connections. Every request is a stream: CURLMOPT_PIPELINING = CURLPIPE_MULTIPLEX with
 * CURLOPT_PIPEWAIT, so a transfer started while the first connection is still being set up
 * waits for it instead of opening its own. At most min(concurrency, 1000) streams share a
 * connection (CURLMOPT_MAX_CONCURRENT_STREAMS; the server's SETTINGS may say fewer) and the
 * host gets ceil(concurrency / that) connections; transfers beyond the server's limit queue
 * inside libcurl. The connections stay in the multi handle between calls.
 *
 * Slots. `concurrency` slots, each an easy handle made on first use and reused; a slot holds
 * one message from next() until done() reports it, including a resend after a renewal.
 *
 * Renew once. A 401/403 (the service's classify says which answers are about us) renews the
 * credential if the refused request carried the current one (so a burst of refusals renews it
 * once), then resends that message once. Refused again, the account is refused: the message
 * is SOFT, no more messages are taken, those in flight finish (a refusal among them is SOFT)
 * and cr_push_send_stream returns CR_PUSH_EPERM.
 *
 * First connection. Until some request gets an HTTP answer (t->reached), a failed transfer
 * means the peer cannot be reached at all (refused, DNS, TLS verification): everything in
 * flight is dropped unreported and CR_EIO names the URL. After that, a failed transfer is SOFT.
 *
 * Credentials. The first one is made before the first message is taken (failing to get it
 * takes nothing); later, a stale one (APNs: 50 minutes old; FCM: a minute before expiry) is
 * renewed when next() has produced a message, and if that fails the message is SOFT.
 *
 * TLS, the CA blob and capturing answers are conn.c's.
 *
 * Spec: RFC 9113 (HTTP/2).
 */
#include "channel/push/transport_int.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/log.h"
#include "core/mem.h"

#define PUSH_DEFAULT_CONCURRENCY 100
#define PUSH_MAX_CONCURRENCY 10000
#define PUSH_STREAMS_PER_CONN 1000
#define PUSH_URL_MAX 4096

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init_once(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int64_t cr__push_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void cr__push_copy(char *out, size_t outsz, const char *s)
{
    /* cut to fit: "%.*s" keeps -Wformat-truncation quiet where the sizes are known */
    if (outsz)
        snprintf(out, outsz, "%.*s", (int)(outsz - 1), s ? s : "");
}

/* ---------------------------------------------------------------- new / free */

static void all_free(struct cr_push_transport *t);

static char *dup_or_null(const char *s)
{
    return s && *s ? cr_xstrdup(s) : NULL;
}

int cr_push_transport_new(const struct cr_push_config *cfg, struct cr_push_transport **out,
                          struct cr_err *err)
{
    const struct cr__push_ops *ops = cfg->service == CR_PUSH_APNS  ? &cr__apns_ops
                                     : cfg->service == CR_PUSH_FCM ? &cr__fcm_ops
                                                                   : NULL;
    const char *name = cfg->name && *cfg->name ? cfg->name : "(unnamed)";
    if (!ops)
        return cr_err_set(err, CR_EINVAL, "push account '%s': unknown service %d", name,
                          (int)cfg->service);
    int conc = cfg->concurrency ? cfg->concurrency : PUSH_DEFAULT_CONCURRENCY;
    if (conc < 1 || conc > PUSH_MAX_CONCURRENCY)
        return cr_err_set(err, CR_EINVAL, "%s account '%s': concurrency %d out of range (1 to %d)",
                          ops->label, name, cfg->concurrency, PUSH_MAX_CONCURRENCY);
    if (!(cfg->rate >= 0) || isinf(cfg->rate)) /* also NaN */
        return cr_err_set(err, CR_EINVAL,
                          "%s account '%s': rate %g must be 0 (unlimited) or positive", ops->label,
                          name, cfg->rate);
    if (cfg->url && *cfg->url &&
        (strncasecmp(cfg->url, "https://", 8) != 0 || strpbrk(cfg->url, " \r\n?#")))
        return cr_err_set(err, CR_EINVAL,
                          "%s account '%s': url '%s' must be https://host[:port] (no query)",
                          ops->label, name, cfg->url);
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK)
        return cr_err_set(err, CR_EIO, "curl_global_init failed: %s",
                          curl_easy_strerror(curl_init_rc));

    struct cr_push_transport *t = cr_xcalloc(1, sizeof *t);
    t->ops = ops;
    t->name = cr_xstrdup(name);
    t->base_url = dup_or_null(cfg->url);
    t->concurrency = conc;
    t->rate = cfg->rate;
    t->tokens = 1;
    t->last_ns = mono_ns();
    int rc = ops->configure(t, cfg, err);
    if (rc == 0 && cfg->ca_file && *cfg->ca_file) {
        rc = cr__push_ca_build(t, cfg->ca_file, err);
        if (rc)
            cr_err_prefix(err, "%s account '%s': ", ops->label, t->name);
    }
    if (rc) {
        cr_push_transport_free(t);
        return rc;
    }
    size_t ul = strlen(t->base_url);
    while (ul > 8 && t->base_url[ul - 1] == '/')
        t->base_url[--ul] = 0;

    t->multi = curl_multi_init();
    if (!t->multi) {
        cr_push_transport_free(t);
        return cr_err_set(err, CR_ENOMEM, "curl_multi_init failed");
    }
    long streams = conc < PUSH_STREAMS_PER_CONN ? conc : PUSH_STREAMS_PER_CONN;
    curl_multi_setopt(t->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    curl_multi_setopt(t->multi, CURLMOPT_MAX_CONCURRENT_STREAMS, streams);
    curl_multi_setopt(t->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (conc + streams - 1) / streams);
    t->slots = cr_xcalloc((size_t)conc, sizeof *t->slots);
    t->free = cr_xcalloc((size_t)conc, sizeof *t->free);
    all_free(t);
    for (int i = 0; i < conc; i++) {
        t->slots[i].t = t;
        cr_buf_init(&t->slots[i].url, PUSH_URL_MAX);
        cr_buf_init(&t->slots[i].answer, CR__PUSH_ANSWER_MAX);
    }
    *out = t;
    return 0;
}

void cr_push_transport_free(struct cr_push_transport *t)
{
    if (!t)
        return;
    for (int i = 0; t->slots && i < t->concurrency; i++) {
        struct cr__push_slot *sl = &t->slots[i];
        if (sl->busy)
            curl_multi_remove_handle(t->multi, sl->easy);
        if (sl->easy)
            curl_easy_cleanup(sl->easy);
        curl_slist_free_all(sl->headers);
        cr_buf_release(&sl->url);
        cr_buf_release(&sl->answer);
    }
    if (t->multi)
        curl_multi_cleanup(t->multi);
    free(t->slots);
    free(t->free);
    if (t->ops && t->ops->release)
        t->ops->release(t);
    cr_jwt_key_free(t->key);
    if (t->cred) {
        explicit_bzero(t->cred, strlen(t->cred));
        free(t->cred);
    }
    free(t->ca.data);
    free(t->name);
    free(t->base_url);
    free(t);
}

/* ---------------------------------------------------------------- sending */

/* One cr_push_send_stream call's state. */
struct run {
    struct cr_push_transport *t;
    void (*done)(void *data, const struct cr_push_result *r);
    void *data;
    struct cr_err *err;
    int ret;     /* what to return once in-flight requests are finished */
    int stop;    /* take no more messages from next() */
    int refused; /* the account's credentials were refused for good */
    size_t inflight;
};

static void bucket_refill(struct cr_push_transport *t)
{
    int64_t now = mono_ns();
    t->tokens += (double)(now - t->last_ns) / 1e9 * t->rate;
    if (t->tokens > 1)
        t->tokens = 1;
    t->last_ns = now;
}

/* Free slots are a stack (not a scan: concurrency may be 10000). A slot is taken with a
 * message and given back when that message is reported. */
static struct cr__push_slot *take_slot(struct cr_push_transport *t)
{
    return t->nfree ? &t->slots[t->free[--t->nfree]] : NULL;
}

static void give_back(struct cr_push_transport *t, struct cr__push_slot *sl)
{
    t->free[t->nfree++] = (int)(sl - t->slots);
}

static void all_free(struct cr_push_transport *t)
{
    for (int i = 0; i < t->concurrency; i++)
        t->free[i] = t->concurrency - 1 - i;
    t->nfree = t->concurrency;
}

/* Starts sl->msg with the current credential. CR_EINVAL: the message cannot be addressed
 * (sl->reason says why); others: libcurl failed (err set). */
static int slot_start(struct cr_push_transport *t, struct cr__push_slot *sl, struct cr_err *err)
{
    if (!sl->easy) {
        int rc = cr__push_slot_init(t, sl, err);
        if (rc) {
            if (sl->easy)
                curl_easy_cleanup(sl->easy);
            sl->easy = NULL;
            return rc == CR_EINVAL ? CR_EIO : rc; /* CR_EINVAL means "this message" here */
        }
    }
    cr_buf_reset(&sl->answer);
    cr_buf_reset(&sl->url);
    curl_slist_free_all(sl->headers);
    sl->headers = NULL;
    sl->apns_id[0] = sl->reason[0] = sl->message_id[0] = sl->errbuf[0] = 0;
    sl->retry_after_ms = 0;
    if (!sl->msg.token || !*sl->msg.token) {
        cr__push_copy(sl->reason, sizeof sl->reason, "empty device token");
        return CR_EINVAL;
    }
    if (t->ops->prepare(t, sl))
        return CR_EINVAL;
    if (sl->url.err) {
        cr__push_copy(sl->reason, sizeof sl->reason, "device token too long for a URL");
        return CR_EINVAL;
    }
    if (!sl->headers)
        return cr_err_set(err, CR_ENOMEM, "curl_slist_append failed");
    sl->cred_gen = t->cred_gen;
    CURL *h = sl->easy;
    CR__PUSH_SETOPT(h, CURLOPT_URL, sl->url.data);
    CR__PUSH_SETOPT(h, CURLOPT_HTTPHEADER, sl->headers);
    /* the body through read_cb (conn.c), its size known: a Content-Length, not chunks */
    sl->body_off = 0;
    if (!sl->msg.body)
        sl->msg.len = 0;
    CR__PUSH_SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)sl->msg.len);
    CURLMcode mc = curl_multi_add_handle(t->multi, h);
    if (mc != CURLM_OK)
        return cr_err_set(err, CR_EIO, "curl_multi_add_handle failed: %s", curl_multi_strerror(mc));
    sl->busy = 1;
    return 0;
}

/* Drops every request in flight, unreported (the first connection failed, or libcurl did). */
static void abort_all(struct run *run)
{
    struct cr_push_transport *t = run->t;
    for (int i = 0; i < t->concurrency; i++) {
        if (t->slots[i].busy) {
            curl_multi_remove_handle(t->multi, t->slots[i].easy);
            t->slots[i].busy = 0;
        }
        t->slots[i].msg = (struct cr_push_msg){0};
    }
    all_free(t);
    run->inflight = 0;
}

static void report(struct run *run, struct cr__push_slot *sl, struct cr_push_result *r)
{
    r->id = sl->msg.id;
    if (!r->reason)
        r->reason = sl->reason;
    if (!r->message_id)
        r->message_id = "";
    static const char *names[] = {"sent", "soft", "hard"};
    cr_log(CR_LOG_DEBUG, NULL, "push: %s: message %lld %s %d %s%s", run->t->name, (long long)r->id,
           names[r->outcome], r->status, r->reason, r->unregistered ? " (unregistered)" : "");
    sl->msg = (struct cr_push_msg){0};
    give_back(run->t, sl);
    run->done(run->data, r);
}

/* The account is refused for good: the first such refusal sets the error returned. */
static void refuse(struct run *run, long status, const char *reason)
{
    struct cr_push_transport *t = run->t;
    if (!run->refused)
        cr_err_set(run->err, CR_PUSH_EPERM,
                   "%s account '%s': credentials refused: %ld %s (renewed once, refused again)",
                   t->ops->label, t->name, status, reason);
    run->refused = run->stop = 1;
    if (!run->ret)
        run->ret = CR_PUSH_EPERM;
}

/* The credential the refused request carried is renewed (unless that already happened) and
 * the message sent again. Returns 1 when it is on its way, 0 when it must be reported. */
static int resend(struct run *run, struct cr__push_slot *sl)
{
    struct cr_push_transport *t = run->t;
    if (run->refused || sl->resent)
        return 0;
    if (sl->cred_gen == t->cred_gen) {
        struct cr_err rerr = CR_ERR_INIT;
        int rc = t->ops->renew(t, &rerr);
        if (rc) {
            cr_err_set(run->err, rc, "%s", rerr.msg);
            run->stop = 1;
            if (!run->ret)
                run->ret = rc;
            run->refused = rc == CR_PUSH_EPERM;
            return 0;
        }
        cr_log(CR_LOG_INFO, NULL, "push: %s: credential renewed after a refusal", t->name);
    }
    sl->resent = 1;
    curl_multi_remove_handle(t->multi, sl->easy);
    sl->busy = 0;
    int rc = slot_start(t, sl, run->err);
    if (rc == 0)
        return 1;
    if (rc != CR_EINVAL) { /* libcurl failed: report this one, stop taking more */
        run->stop = 1;
        if (!run->ret)
            run->ret = rc;
    }
    return 0;
}

/* A transfer ended. Returns CR_EIO when it shows the first connection failed, else 0. */
static int finish(struct run *run, struct cr__push_slot *sl, CURLcode res)
{
    struct cr_push_transport *t = run->t;
    struct cr_push_result r = {.outcome = CR_PUSH_SOFT};
    if (res != CURLE_OK) {
        const char *why = sl->errbuf[0] ? sl->errbuf : curl_easy_strerror(res);
        if (!t->reached) {
            cr_err_set(run->err, CR_EIO, "%s account '%s': connect to %s: %s", t->ops->label,
                       t->name, t->base_url, why);
            return CR_EIO;
        }
        cr__push_copy(sl->reason, sizeof sl->reason, why);
        /* the connection died under it (a GOAWAY): once more on a fresh one; the service may
         * have it already, so this is the only resend (the in-flight window) */
        if (!sl->redone && !run->stop) {
            sl->redone = 1;
            int resent_before = sl->resent;
            sl->resent = 0;
            curl_multi_remove_handle(t->multi, sl->easy);
            sl->busy = 0;
            int rc = slot_start(t, sl, run->err);
            sl->resent = resent_before;
            if (rc == 0)
                return 0;
            if (rc != CR_EINVAL) { /* libcurl failed: report this one, take no more */
                run->stop = 1;
                if (!run->ret)
                    run->ret = rc;
            }
        }
    } else {
        long status = 0;
        curl_easy_getinfo(sl->easy, CURLINFO_RESPONSE_CODE, &status);
        t->reached = 1;
        r.status = (int)status;
        if (t->ops->classify(sl, status, &r) == CR__PUSH_REFUSED) {
            if (resend(run, sl))
                return 0;
            r.outcome = CR_PUSH_SOFT;
            r.unregistered = 0;
            if (sl->resent || run->refused)
                refuse(run, status, r.reason ? r.reason : sl->reason);
        }
    }
    curl_multi_remove_handle(t->multi, sl->easy);
    sl->busy = 0;
    run->inflight--;
    report(run, sl, &r);
    return 0;
}

/* Reports a message that could not be addressed: HARD, unregistered, no request. */
static void refuse_msg(struct run *run, struct cr__push_slot *sl)
{
    struct cr_push_result r = {.outcome = CR_PUSH_HARD, .unregistered = 1};
    report(run, sl, &r);
}

/* Renews the credential; on failure, no more messages are taken and the error is returned
 * once in-flight requests are finished. Returns 0 or that error. */
static int renew_or_stop(struct run *run)
{
    int rc = run->t->ops->renew(run->t, run->err);
    if (rc) {
        run->stop = 1;
        if (!run->ret)
            run->ret = rc;
        run->refused = rc == CR_PUSH_EPERM;
    }
    return rc;
}

/* Takes messages from next() while a slot and a rate token are free. Returns 0 or a libcurl
 * failure (everything is dropped then). */
static int start_more(struct run *run,
                      int (*next)(void *src, struct cr_push_msg *m, struct cr_err *err), void *src)
{
    struct cr_push_transport *t = run->t;
    struct cr__push_slot *sl;
    while (!run->stop && t->nfree > 0) {
        if (t->rate > 0) {
            bucket_refill(t);
            if (t->tokens < 1)
                break;
        }
        /* The first credential comes before the first message, so that failing to get it
         * takes nothing; a stale one is renewed after next() says there is a message. */
        int fresh = !t->cred;
        if (fresh && renew_or_stop(run))
            break;
        struct cr_push_msg m;
        int rc = next(src, &m, run->err);
        if (rc <= 0) {
            run->stop = 1;
            run->ret = rc;
            break;
        }
        if (t->rate > 0)
            t->tokens -= 1;
        sl = take_slot(t);
        sl->msg = m;
        sl->resent = 0;
        sl->redone = 0;
        if (!fresh && t->ops->stale(t, cr__push_now()) && renew_or_stop(run)) {
            struct cr_push_result r = {.outcome = CR_PUSH_SOFT};
            cr__push_copy(sl->reason, sizeof sl->reason, cr_err_msg(run->err));
            report(run, sl, &r);
            break;
        }
        rc = slot_start(t, sl, run->err);
        if (rc == CR_EINVAL) {
            refuse_msg(run, sl);
            continue;
        }
        if (rc)
            return rc;
        run->inflight++;
    }
    return 0;
}

/* How long to wait for libcurl when nothing finished: until the next rate token, if one is
 * all that holds a message back. */
static int wait_ms(const struct run *run)
{
    const struct cr_push_transport *t = run->t;
    if (run->stop || t->rate <= 0 || run->inflight >= (size_t)t->concurrency)
        return 1000;
    double need = (1 - t->tokens) / t->rate * 1000;
    return need < 1 ? 1 : need > 1000 ? 1000 : (int)need + 1;
}

int cr_push_send_stream(struct cr_push_transport *t,
                        int (*next)(void *src, struct cr_push_msg *m, struct cr_err *err),
                        void *src, void (*done)(void *data, const struct cr_push_result *r),
                        void *data, struct cr_err *err)
{
    if (!t || !next || !done)
        CR_BUG("cr_push_send_stream needs a transport, next and done");
    /* start_more() renews a missing or stale credential before taking each message, so a
     * refusal at the start returns with nothing taken */
    struct run run = {.t = t, .done = done, .data = data, .err = err};
    for (;;) {
        int rc = start_more(&run, next, src);
        if (rc) {
            abort_all(&run);
            return rc;
        }
        if (run.inflight == 0) {
            if (run.stop)
                break;
            /* rate-limited with nothing in flight: wait for the next token */
            struct timespec ts = {0, (long)wait_ms(&run) * 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        int running;
        CURLMcode mc = curl_multi_perform(t->multi, &running);
        if (mc != CURLM_OK) {
            abort_all(&run);
            return cr_err_set(err, CR_EIO, "curl_multi_perform failed: %s",
                              curl_multi_strerror(mc));
        }
        int finished = 0, queued;
        CURLMsg *cm;
        while ((cm = curl_multi_info_read(t->multi, &queued)) != NULL) {
            if (cm->msg != CURLMSG_DONE)
                continue;
            char *priv = NULL;
            curl_easy_getinfo(cm->easy_handle, CURLINFO_PRIVATE, &priv);
            struct cr__push_slot *sl = (struct cr__push_slot *)(void *)priv;
            if (finish(&run, sl, cm->data.result)) { /* cm is invalid after remove_handle */
                abort_all(&run);
                return CR_EIO;
            }
            finished++;
        }
        if (finished)
            continue;
        mc = curl_multi_poll(t->multi, NULL, 0, wait_ms(&run), NULL);
        if (mc != CURLM_OK) {
            abort_all(&run);
            return cr_err_set(err, CR_EIO, "curl_multi_poll failed: %s", curl_multi_strerror(mc));
        }
    }
    return run.ret;
}
