/*
 * server.c - the tracking endpoints (see server.h)
 *
 * Threads: libmicrohttpd's pool answers requests; opens and clicks only verify the token
 * (HMAC, no I/O) and queue a hit, so they never wait for the database. Clicks need the
 * link's URL: cached per (delivery, link) after one read. Unsubscriptions, mirror pages and
 * webhook events go through one store connection under a mutex: they are rare and each is
 * written before it is answered.
 */
#include "tracking/server.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "delivery/delivery.h"
#include "store/clock_store.h"
#include "store/config.h"
#include "tracking/events.h"
#include "tracking/token.h"
#include "tracking/ua.h"
#include "tracking/urls.h"
#include "ui/ui.h"

#define BODY_MAX (256u * 1024) /* bytes of a POST body */
#define URL_CACHE 65536        /* entries; the cache is emptied when full */
/* Per connection: libmicrohttpd clears its pool between requests, so the default 32 KiB
 * costs a 32 KiB memset per hit; requests here are a line and a few headers. */
#define CONN_MEMORY (12u * 1024)
#define KEY_RELOAD_USEC (5 * CR_USEC_PER_SEC)

static const unsigned char gif[43] = {
    'G',  'I',  'F',  '8',  '9',  'a',  0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

struct url_entry {
    int64_t delivery, link;
    char *url;
};

struct cr_tracking_server {
    struct MHD_Daemon *d;
    struct cr_hits *hits;
    uint16_t port;
    pthread_rwlock_t keys_lock;
    struct cr_token_keys keys;
    cr_time_t keys_loaded;   /* real time */
    pthread_mutex_t slow_mu; /* guards store, clock */
    struct cr_store *store;
    struct cr_clock clock;
    pthread_mutex_t cache_mu;
    struct url_entry *cache;
    size_t cached;
    struct MHD_Response *pixel, *not_found;
    struct cr_api *api; /* everything under /api/ */
};

/* Marks a GET in progress without allocating: only POSTs have a body to keep. */
static int get_marker;

struct post {
    struct cr_buf body;
};

/* --------------------------------------------------------------------- tokens --- */

static int decode(struct cr_tracking_server *srv, const char *tok, enum cr_token_kind kind,
                  struct cr_token *t)
{
    size_t n = strlen(tok);
    pthread_rwlock_rdlock(&srv->keys_lock);
    int rc = cr_token_decode(&srv->keys, tok, n, t);
    cr_time_t loaded = srv->keys_loaded;
    pthread_rwlock_unlock(&srv->keys_lock);
    if (rc && cr_time_real_now() - loaded > KEY_RELOAD_USEC) {
        /* the secret may have been rotated since we read it */
        struct cr_token_keys k;
        struct cr_err err = CR_ERR_INIT;
        pthread_mutex_lock(&srv->slow_mu);
        int lrc = cr_token_keys_load(srv->store, &k, &err);
        pthread_mutex_unlock(&srv->slow_mu);
        pthread_rwlock_wrlock(&srv->keys_lock);
        if (!lrc)
            srv->keys = k;
        srv->keys_loaded = cr_time_real_now();
        rc = cr_token_decode(&srv->keys, tok, n, t);
        pthread_rwlock_unlock(&srv->keys_lock);
        OPENSSL_cleanse(&k, sizeof k);
    }
    return rc == 0 && t->kind == kind ? 0 : -1;
}

/* ------------------------------------------------------------------ responses --- */

static enum MHD_Result send_shared(struct MHD_Connection *c, unsigned code, struct MHD_Response *r)
{
    return MHD_queue_response(c, code, r);
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned code, const char *type,
                                 const char *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_json_error(struct MHD_Connection *c, unsigned code, const char *ecode,
                                       const char *msg)
{
    json_t *j = json_pack("{s{ssss}}", "error", "code", ecode, "message", msg);
    char *s = json_dumps(j, JSON_COMPACT);
    enum MHD_Result r = send_text(c, code, "application/json", s, strlen(s));
    free(s);
    json_decref(j);
    return r;
}

static void client_ip(struct MHD_Connection *c, char *out, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = 0;
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)n);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)n);
}

/* ------------------------------------------------------------ opens and clicks --- */

/* 0 when queued; -1 when the writer cannot keep up (answer 503, acknowledge nothing). */
static int add_hit(struct cr_tracking_server *srv, struct MHD_Connection *c,
                   const struct cr_token *t)
{
    char ip[INET6_ADDRSTRLEN];
    const char *ua = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
    client_ip(c, ip, sizeof ip);
    struct cr_hit h = {(char)t->kind,    cr_ua_is_prefetch(ua), t->delivery, t->log, t->link, ua,
                       ip[0] ? ip : NULL};
    return cr_hits_add(srv->hits, &h);
}

static enum MHD_Result busy(struct MHD_Connection *c)
{
    return send_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", "busy\n", 5);
}

static size_t slot_of(int64_t d, int64_t l)
{
    uint64_t h = (uint64_t)d * 0x9E3779B97F4A7C15u ^ (uint64_t)l * 0xC2B2AE3D27D4EB4Fu;
    return (size_t)(h >> 17) & (URL_CACHE - 1);
}

/* The URL of (delivery, link): from the cache, else the store. NULL if none. */
static char *link_url(struct cr_tracking_server *srv, int64_t d, int64_t l)
{
    char *url = NULL;
    size_t i = slot_of(d, l);
    pthread_mutex_lock(&srv->cache_mu);
    for (size_t k = 0; k < 8; k++) {
        struct url_entry *e = &srv->cache[(i + k) & (URL_CACHE - 1)];
        if (!e->url)
            break;
        if (e->delivery == d && e->link == l) {
            url = cr_xstrdup(e->url);
            break;
        }
    }
    pthread_mutex_unlock(&srv->cache_mu);
    if (url)
        return url;
    struct cr_err err = CR_ERR_INIT;
    pthread_mutex_lock(&srv->slow_mu);
    int rc = cr_urls_find(srv->store, d, l, &url, &err);
    pthread_mutex_unlock(&srv->slow_mu);
    if (rc) {
        if (rc != CR_ENOTFOUND)
            cr_log_warn("tracking: link %lld/%lld: %s", (long long)d, (long long)l,
                        cr_err_msg(&err));
        return NULL;
    }
    pthread_mutex_lock(&srv->cache_mu);
    size_t k;
    for (k = 0; k < 8 && srv->cache[(i + k) & (URL_CACHE - 1)].url; k++)
        ;
    if (k == 8 || srv->cached >= URL_CACHE / 2) { /* full: start again */
        for (size_t j = 0; j < URL_CACHE; j++) {
            free(srv->cache[j].url);
            srv->cache[j].url = NULL;
        }
        srv->cached = 0;
        k = 0;
    }
    struct url_entry *e = &srv->cache[(i + k) & (URL_CACHE - 1)];
    e->delivery = d;
    e->link = l;
    e->url = cr_xstrdup(url);
    srv->cached++;
    pthread_mutex_unlock(&srv->cache_mu);
    return url;
}

static enum MHD_Result on_open(struct cr_tracking_server *srv, struct MHD_Connection *c,
                               const char *tok)
{
    struct cr_token t;
    if (decode(srv, tok, CR_TOKEN_OPEN, &t))
        return send_shared(c, MHD_HTTP_NOT_FOUND, srv->not_found);
    if (add_hit(srv, c, &t))
        return busy(c);
    return send_shared(c, MHD_HTTP_OK, srv->pixel);
}

static enum MHD_Result on_click(struct cr_tracking_server *srv, struct MHD_Connection *c,
                                const char *tok)
{
    struct cr_token t;
    if (decode(srv, tok, CR_TOKEN_CLICK, &t))
        return send_shared(c, MHD_HTTP_NOT_FOUND, srv->not_found);
    char *url = link_url(srv, t.delivery, t.link);
    if (!url)
        return send_shared(c, MHD_HTTP_NOT_FOUND, srv->not_found);
    if (add_hit(srv, c, &t)) {
        free(url);
        return busy(c);
    }
    enum MHD_Result ret = MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (r) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, url);
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
        ret = MHD_queue_response(c, MHD_HTTP_FOUND, r);
        MHD_destroy_response(r);
    }
    free(url);
    return ret;
}

/* ------------------------------------------------------ unsubscribe and mirror --- */

static const char page_head[] =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width\"><title>%s</title></head>"
    "<body style=\"font-family:sans-serif;max-width:34em;margin:3em auto;padding:0 1em\">";

static enum MHD_Result page(struct MHD_Connection *c, unsigned code, const char *title,
                            const char *body)
{
    struct cr_buf b = CR_BUF_INIT(0);
    cr_buf_printf(&b, page_head, title);
    cr_buf_printf(&b, "<h1>%s</h1>%s</body></html>\n", title, body);
    enum MHD_Result r = send_text(c, code, "text/html; charset=utf-8", b.data, b.len);
    cr_buf_release(&b);
    return r;
}

/* The value of field name in an application/x-www-form-urlencoded body (no decoding
 * needed: the values we look for are plain words). */
static int form_has(const char *body, size_t n, const char *field)
{
    size_t fl = strlen(field);
    const char *p = body, *end = body + n;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        size_t len = amp ? (size_t)(amp - p) : (size_t)(end - p);
        while (len && (p[len - 1] == '\r' || p[len - 1] == '\n'))
            len--;
        if (len == fl && memcmp(p, field, fl) == 0)
            return 1;
        p += len + 1;
        if (!amp)
            break;
    }
    return 0;
}

static enum MHD_Result on_unsubscribe(struct cr_tracking_server *srv, struct MHD_Connection *c,
                                      const char *tok, int post, const struct cr_buf *body)
{
    struct cr_token t;
    struct cr_recipient r;
    struct cr_err err = CR_ERR_INIT;
    if (decode(srv, tok, CR_TOKEN_UNSUBSCRIBE, &t))
        return send_shared(c, MHD_HTTP_NOT_FOUND, srv->not_found);
    pthread_mutex_lock(&srv->slow_mu);
    int rc = cr_track_recipient(srv->store, t.delivery, t.log, &r, &err);
    pthread_mutex_unlock(&srv->slow_mu);
    if (rc == CR_ENOTFOUND)
        return send_shared(c, MHD_HTTP_NOT_FOUND, srv->not_found);
    if (rc)
        goto failed;
    if (!post)
        return page(c, MHD_HTTP_OK, "Unsubscribe",
                    "<p>Do you want to stop receiving these messages?</p>"
                    "<form method=\"post\"><button name=\"action\" value=\"unsubscribe\">"
                    "Unsubscribe</button></form>"
                    "<p>Or keep receiving them, without anyone knowing when you open them:</p>"
                    "<form method=\"post\"><button name=\"action\" value=\"consent\">"
                    "Stop tracking my opens</button></form>");
    int consent = body && form_has(body->data, body->len, "action=consent");
    char ip[INET6_ADDRSTRLEN];
    const char *ua = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
    client_ip(c, ip, sizeof ip);
    pthread_mutex_lock(&srv->slow_mu);
    rc = consent ? cr_track_withdraw_consent(srv->store, &r, &err)
                 : cr_track_unsubscribe(srv->store, &srv->clock, &r, ua, ip[0] ? ip : NULL, &err);
    pthread_mutex_unlock(&srv->slow_mu);
    if (rc)
        goto failed;
    return consent ? page(c, MHD_HTTP_OK, "Tracking is off",
                          "<p>Your opens of our messages are no longer tracked.</p>")
                   : page(c, MHD_HTTP_OK, "You are unsubscribed",
                          "<p>You will not receive these messages any more.</p>");
failed:
    cr_log_error("tracking: unsubscribe: %s", cr_err_msg(&err));
    return page(c, MHD_HTTP_SERVICE_UNAVAILABLE, "Please try again",
                "<p>We could not record your choice just now. Please try again in a "
                "moment.</p>");
}

static enum MHD_Result on_mirror(struct cr_tracking_server *srv, struct MHD_Connection *c,
                                 const char *tok)
{
    struct cr_token t;
    struct cr_err err = CR_ERR_INIT;
    struct cr_buf html = CR_BUF_INIT(16u << 20);
    if (decode(srv, tok, CR_TOKEN_MIRROR, &t))
        return send_shared(c, MHD_HTTP_NOT_FOUND, srv->not_found);
    pthread_mutex_lock(&srv->slow_mu);
    int rc = cr_delivery_mirror(srv->store, &srv->clock, t.delivery, t.log, &html, &err);
    pthread_mutex_unlock(&srv->slow_mu);
    enum MHD_Result ret;
    if (rc == CR_ENOTFOUND) {
        ret = send_shared(c, MHD_HTTP_NOT_FOUND, srv->not_found);
    } else if (rc) {
        cr_log_error("tracking: mirror page %lld/%lld: %s", (long long)t.delivery, (long long)t.log,
                     cr_err_msg(&err));
        ret = page(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "This page is not available",
                   "<p>Please try again later.</p>");
    } else {
        ret = send_text(c, MHD_HTTP_OK, "text/html; charset=utf-8", html.data, html.len);
    }
    cr_buf_release(&html);
    return ret;
}

/* ---------------------------------------------------------------- webhook --- */

static int event_of(json_t *j, struct cr_mail_event *ev, const char **why)
{
    const char *type = json_string_value(json_object_get(j, "type"));
    const char *bt = json_string_value(json_object_get(j, "bounce_type"));
    memset(ev, 0, sizeof *ev);
    ev->recipient = json_string_value(json_object_get(j, "email"));
    if (!ev->recipient)
        ev->recipient = json_string_value(json_object_get(j, "recipient"));
    ev->message_id = json_string_value(json_object_get(j, "message_id"));
    ev->status = json_string_value(json_object_get(j, "status"));
    ev->diagnostic = json_string_value(json_object_get(j, "diagnostic"));
    if (!json_is_object(j) || !type) {
        *why = "each event is an object with a \"type\"";
        return -1;
    }
    if (strcmp(type, "complaint") == 0) {
        ev->type = CR_EVENT_COMPLAINT;
    } else if (strcmp(type, "bounce") == 0) {
        /* without a bounce_type, the status class decides; hard when unknown */
        int soft = bt ? strcmp(bt, "soft") == 0 : (ev->status && ev->status[0] == '4');
        if (bt && strcmp(bt, "soft") && strcmp(bt, "hard")) {
            *why = "\"bounce_type\" is \"hard\" or \"soft\"";
            return -1;
        }
        ev->type = soft ? CR_EVENT_SOFT : CR_EVENT_HARD;
    } else {
        *why = "\"type\" is \"bounce\" or \"complaint\"";
        return -1;
    }
    if ((!ev->recipient || !*ev->recipient) && (!ev->message_id || !*ev->message_id)) {
        *why = "an event needs \"email\" or \"message_id\"";
        return -1;
    }
    return 0;
}

static int authorised(struct cr_tracking_server *srv, struct MHD_Connection *c)
{
    const char *auth =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    char *secret = NULL;
    struct cr_err err = CR_ERR_INIT;
    pthread_mutex_lock(&srv->slow_mu);
    int rc = cr_config_get(srv->store, "bounce.webhook_secret", &secret, &err);
    pthread_mutex_unlock(&srv->slow_mu);
    int ok = !rc && secret && *secret && auth && strncmp(auth, "Bearer ", 7) == 0 &&
             strlen(auth + 7) == strlen(secret) &&
             CRYPTO_memcmp(auth + 7, secret, strlen(secret)) == 0;
    if (secret)
        OPENSSL_cleanse(secret, strlen(secret));
    free(secret);
    return ok;
}

static enum MHD_Result on_webhook(struct cr_tracking_server *srv, struct MHD_Connection *c,
                                  const struct cr_buf *body)
{
    json_error_t je;
    if (!authorised(srv, c))
        return send_json_error(c, MHD_HTTP_UNAUTHORIZED, "unauthorized",
                               "send Authorization: Bearer <bounce.webhook_secret>");
    json_t *j = json_loadb(body->data ? body->data : "", body->len, 0, &je);
    if (!j) {
        char msg[300];
        snprintf(msg, sizeof msg, "invalid JSON at line %d, column %d: %s", je.line, je.column,
                 je.text);
        return send_json_error(c, MHD_HTTP_BAD_REQUEST, "invalid_json", msg);
    }
    json_t *events = json_is_array(j) ? j : json_object_get(j, "events");
    json_t *one = NULL;
    if (!events) {
        one = json_pack("[O]", j);
        events = one;
    }
    size_t i;
    json_t *e;
    struct cr_mail_event ev;
    const char *why = NULL;
    char msg[300];
    json_array_foreach(events, i, e)
    {
        if (event_of(e, &ev, &why)) {
            snprintf(msg, sizeof msg, "event %zu: %s", i, why);
            json_decref(one);
            json_decref(j);
            return send_json_error(c, MHD_HTTP_BAD_REQUEST, "invalid_event", msg);
        }
    }
    /* all checked: now applied, each in its own transaction */
    json_t *results = json_array();
    json_int_t matched = 0, unmatched = 0;
    int failed = 0;
    struct cr_err err = CR_ERR_INIT;
    json_array_foreach(events, i, e)
    {
        struct cr_mail_event_result res;
        (void)event_of(e, &ev, &why);
        pthread_mutex_lock(&srv->slow_mu);
        int rc = cr_track_mail_event(srv->store, &srv->clock, &ev, &res, &err);
        pthread_mutex_unlock(&srv->slow_mu);
        if (rc) {
            failed = 1;
            break;
        }
        if (res.log)
            matched++;
        else
            unmatched++;
        json_array_append_new(results, json_pack("{sI sI ss}", "delivery", (json_int_t)res.delivery,
                                                 "log", (json_int_t)res.log, "action", res.action));
    }
    enum MHD_Result ret;
    if (failed) {
        cr_log_error("tracking: webhook: %s", cr_err_msg(&err));
        ret = send_json_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", cr_err_msg(&err));
    } else {
        json_t *out =
            json_pack("{sI sI so}", "matched", matched, "unmatched", unmatched, "results", results);
        results = NULL;
        char *s = json_dumps(out, JSON_COMPACT);
        ret = send_text(c, MHD_HTTP_OK, "application/json", s, strlen(s));
        free(s);
        json_decref(out);
    }
    json_decref(results);
    json_decref(one);
    json_decref(j);
    return ret;
}

/* ---------------------------------------------------------------- dispatch --- */

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state)
{
    struct cr_tracking_server *srv = cls;
    int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    int post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    (void)version;
    if (strncmp(url, "/api/", 5) == 0)
        return cr_api_handle(srv->api, c, url, method, upload, upload_size, state);
    /* answer only once the whole request is in, or the connection is not kept alive */
    if (!*state) {
        if (post) {
            struct post *p = cr_xcalloc(1, sizeof *p);
            cr_buf_init(&p->body, BODY_MAX);
            *state = p;
        } else {
            *state = &get_marker;
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (post) {
            struct post *p = *state;
            cr_buf_append(&p->body, upload, *upload_size);
        }
        *upload_size = 0;
        return MHD_YES;
    }
    const struct cr_buf *body = post ? &((struct post *)*state)->body : NULL;
    if (body && body->err)
        return send_text(c, MHD_HTTP_CONTENT_TOO_LARGE, "text/plain", "too large\n", 10);
    if (cr_ui_owns(url)) /* the web UI (src/ui/): "/" and "/ui/..." */
        return cr_ui_handle(c, url, method);
    if (strlen(url) > 3 && url[0] == '/' && url[2] == '/') {
        const char *tok = url + 3;
        switch (url[1]) {
        case 'o':
            if (get)
                return on_open(srv, c, tok);
            break;
        case 'c':
            if (get)
                return on_click(srv, c, tok);
            break;
        case 'u':
            if (get || post)
                return on_unsubscribe(srv, c, tok, post, body);
            break;
        case 'm':
            if (get)
                return on_mirror(srv, c, tok);
            break;
        default:
            return send_shared(c, MHD_HTTP_NOT_FOUND, srv->not_found);
        }
        return send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "method not allowed\n", 19);
    }
    if (strcmp(url, "/webhook/bounces") == 0) {
        if (!post)
            return send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "method not allowed\n",
                             19);
        return on_webhook(srv, c, body);
    }
    if (strcmp(url, "/healthz") == 0 && get)
        return send_text(c, MHD_HTTP_OK, "text/plain", "ok\n", 3);
    return send_shared(c, MHD_HTTP_NOT_FOUND, srv->not_found);
}

static void completed(void *cls, struct MHD_Connection *c, void **state,
                      enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)c;
    (void)why;
    if (*state && *state != &get_marker && !cr_api_request_done(*state)) {
        struct post *p = *state;
        cr_buf_release(&p->body);
        free(p);
    }
    *state = NULL;
}

/* ------------------------------------------------------------ start and stop --- */

static int parse_listen(const char *listen, struct sockaddr_storage *ss, struct cr_err *err)
{
    char host[256];
    const char *colon = strrchr(listen, ':'), *port;
    size_t hn;
    if (!colon)
        return cr_err_set(err, CR_EINVAL, "--listen %s: expected HOST:PORT", listen);
    port = colon + 1;
    hn = (size_t)(colon - listen);
    if (hn >= 2 && listen[0] == '[' && listen[hn - 1] == ']')
        listen++, hn -= 2;
    if (hn == 0 || hn >= sizeof host)
        return cr_err_set(err, CR_EINVAL, "--listen %s: expected HOST:PORT", listen);
    memcpy(host, listen, hn);
    host[hn] = 0;
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int g = getaddrinfo(host, port, &hints, &ai);
    if (g)
        return cr_err_set(err, CR_EINVAL, "--listen %s: %s", listen, gai_strerror(g));
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    return 0;
}

int cr_tracking_server_start(const struct cr_tracking_server_opts *o,
                             struct cr_tracking_server **out, struct cr_err *err)
{
    struct cr_tracking_server *srv = cr_xcalloc(1, sizeof *srv);
    struct sockaddr_storage ss;
    int rc;
    *out = NULL;
    pthread_rwlock_init(&srv->keys_lock, NULL);
    pthread_mutex_init(&srv->slow_mu, NULL);
    pthread_mutex_init(&srv->cache_mu, NULL);
    srv->cache = cr_xcalloc(URL_CACHE, sizeof *srv->cache);
    if ((rc = parse_listen(o->listen ? o->listen : "127.0.0.1:8080", &ss, err)) ||
        (rc = cr_store_open(o->db_url, &srv->store, err)))
        goto fail;
    cr_store_clock_init(&srv->clock, srv->store);
    if ((rc = cr_token_keys_load(srv->store, &srv->keys, err)))
        goto fail;
    srv->keys_loaded = cr_time_real_now();
    if ((rc = cr_hits_start(o->db_url, o->flush_ms, &srv->hits, err)) ||
        (rc = cr_api_new(o->db_url, &srv->api, err)))
        goto fail;
    srv->pixel = MHD_create_response_from_buffer(sizeof gif, (void *)gif, MHD_RESPMEM_PERSISTENT);
    srv->not_found =
        MHD_create_response_from_buffer(10, (void *)"not found\n", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(srv->pixel, MHD_HTTP_HEADER_CONTENT_TYPE, "image/gif");
    MHD_add_response_header(srv->pixel, MHD_HTTP_HEADER_CACHE_CONTROL,
                            "no-cache, no-store, must-revalidate, max-age=0");
    MHD_add_response_header(srv->pixel, MHD_HTTP_HEADER_PRAGMA, "no-cache");
    MHD_add_response_header(srv->pixel, MHD_HTTP_HEADER_EXPIRES, "0");
    MHD_add_response_header(srv->not_found, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    MHD_add_response_header(srv->not_found, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    int threads = o->threads > 0 ? o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1)
        threads = 1;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    srv->d = MHD_start_daemon(
        flags, 0, NULL, NULL, handle, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads, MHD_OPTION_NOTIFY_COMPLETED, completed, srv,
        MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY, MHD_OPTION_END);
    if (!srv->d) {
        rc = cr_err_set(err, CR_EIO,
                        "cannot listen on %s (in use, or not an address of this "
                        "machine?)",
                        o->listen ? o->listen : "127.0.0.1:8080");
        goto fail;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : 0;
    *out = srv;
    return 0;
fail:
    cr_tracking_server_stop(srv, NULL);
    return rc;
}

uint16_t cr_tracking_server_port(struct cr_tracking_server *srv)
{
    return srv->port;
}

void cr_tracking_server_stats(struct cr_tracking_server *srv, struct cr_hits_stats *st)
{
    cr_hits_stats(srv->hits, st);
}

void cr_tracking_server_stop(struct cr_tracking_server *srv, struct cr_hits_stats *final)
{
    if (!srv)
        return;
    if (srv->d)
        MHD_stop_daemon(srv->d);
    if (final && srv->hits)
        cr_hits_stats(srv->hits, final);
    cr_hits_stop(srv->hits);
    cr_api_free(srv->api);
    if (srv->pixel)
        MHD_destroy_response(srv->pixel);
    if (srv->not_found)
        MHD_destroy_response(srv->not_found);
    for (size_t i = 0; i < URL_CACHE; i++)
        free(srv->cache[i].url);
    free(srv->cache);
    cr_store_close(srv->store);
    OPENSSL_cleanse(&srv->keys, sizeof srv->keys);
    pthread_rwlock_destroy(&srv->keys_lock);
    pthread_mutex_destroy(&srv->slow_mu);
    pthread_mutex_destroy(&srv->cache_mu);
    free(srv);
}
