/*
 * api.c - the REST API's front door: per-request state and body limits, the route match,
 *         authentication and roles, the store connection pool, sending the JSON reply
 *
 * Not here: what each route does (res_*.c, auth.c), the route table (routes.c).
 * Spec: RFC 9110 (status codes, Allow on 405), RFC 6265 (cookies).
 */
#include "api/api.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/parse.h"
#include "store/clock_store.h"

#define POOL_MAX 4
/* Marks API request states (see cr_api_request_done): a non-canonical address on every
 * 64-bit machine, so it is never the first word (a pointer) of the server's own states. */
#define REQ_MAGIC UINT64_C(0xC41E5A91C0DEFACE)

struct pooled {
    struct cr_store *s;
    int busy;
};

struct cr_api {
    char *db_url;
    pthread_mutex_t mu; /* guards pool */
    pthread_cond_t cv;
    struct pooled pool[POOL_MAX];
    struct cr__api_throttle *throttle;
};

struct req {
    uint64_t magic; /* REQ_MAGIC; first */
    struct cr_buf body;
    int answered; /* refused before its body came */
};

int cr_api_new(const char *db_url, struct cr_api **out, struct cr_err *err)
{
    (void)err;
    struct cr_api *api = cr_xcalloc(1, sizeof *api);
    api->db_url = cr_xstrdup(db_url);
    pthread_mutex_init(&api->mu, NULL);
    pthread_cond_init(&api->cv, NULL);
    api->throttle = cr__api_throttle_new();
    *out = api;
    return 0;
}

void cr_api_free(struct cr_api *api)
{
    if (!api)
        return;
    for (int i = 0; i < POOL_MAX; i++)
        cr_store_close(api->pool[i].s);
    cr__api_throttle_free(api->throttle);
    pthread_cond_destroy(&api->cv);
    pthread_mutex_destroy(&api->mu);
    free(api->db_url);
    free(api);
}

struct cr__api_throttle *cr__api_throttle_of(struct cr_api *api)
{
    return api->throttle;
}

int cr_api_request_done(void *state)
{
    uint64_t magic;
    if (!state)
        return 0;
    memcpy(&magic, state, sizeof magic);
    if (magic != REQ_MAGIC)
        return 0;
    struct req *r = state;
    cr_buf_release(&r->body);
    r->magic = 0;
    free(r);
    return 1;
}

/* ------------------------------------------------------------------- pool --- */

/* A connection for this request: an idle one, a new one while fewer than POOL_MAX are
 * open, else the next to come back. Returns the slot, or -1 (err set). */
static int acquire(struct cr_api *api, struct cr_err *err)
{
    pthread_mutex_lock(&api->mu);
    for (;;) {
        int empty = -1;
        for (int i = 0; i < POOL_MAX; i++) {
            if (api->pool[i].busy)
                continue;
            if (api->pool[i].s) {
                api->pool[i].busy = 1;
                pthread_mutex_unlock(&api->mu);
                return i;
            }
            if (empty < 0)
                empty = i;
        }
        if (empty >= 0) {
            api->pool[empty].busy = 1; /* reserved while it opens, outside the lock */
            pthread_mutex_unlock(&api->mu);
            struct cr_store *s = NULL;
            int rc = cr_store_open(api->db_url, &s, err);
            pthread_mutex_lock(&api->mu);
            if (rc) {
                api->pool[empty].busy = 0;
                pthread_cond_signal(&api->cv);
                pthread_mutex_unlock(&api->mu);
                return -1;
            }
            api->pool[empty].s = s;
            pthread_mutex_unlock(&api->mu);
            return empty;
        }
        pthread_cond_wait(&api->cv, &api->mu);
    }
}

/* Gives the connection back; one that failed (broken) is closed, a new one opens later. */
static void release(struct cr_api *api, int slot, int broken)
{
    struct cr_store *s = api->pool[slot].s;
    if (cr_store_in_transaction(s))
        cr_store_rollback(s);
    pthread_mutex_lock(&api->mu);
    if (broken) {
        cr_store_close(s);
        api->pool[slot].s = NULL;
    }
    api->pool[slot].busy = 0;
    pthread_cond_signal(&api->cv);
    pthread_mutex_unlock(&api->mu);
}

/* ------------------------------------------------------------------ reply --- */

static enum MHD_Result send_reply(struct cr_api_ctx *x)
{
    char *s;
    size_t n;
    if (x->raw) {
        s = x->raw;
        n = x->raw_len;
        x->raw = NULL;
    } else {
        s = json_dumps(x->out ? x->out : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
        n = strlen(s);
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(n, s, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(s);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            x->raw_type[0] ? x->raw_type : "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    if (x->set_cookie[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, x->set_cookie);
    if (x->allow[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, x->allow);
    if (x->status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"crier\"");
    if (x->retry_after > 0) {
        char ra[24];
        snprintf(ra, sizeof ra, "%d", x->retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    enum MHD_Result ret = MHD_queue_response(x->conn, x->status ? x->status : 500, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result answer(struct cr_api_ctx *x)
{
    enum MHD_Result ret = send_reply(x);
    json_decref(x->out);
    x->out = NULL;
    free(x->raw);
    x->raw = NULL;
    return ret;
}

/* ----------------------------------------------------------------- routing --- */

/* 1 if path matches pattern; a "{id}" segment sets *id (0 when it is not a positive
 * number, which the caller refuses). */
static int match(const char *pattern, const char *path, int64_t *id)
{
    const char *p = pattern, *u = path;
    while (*p && *u) {
        if (strncmp(p, "{id}", 4) == 0) {
            const char *end = strchr(u, '/');
            size_t n = end ? (size_t)(end - u) : strlen(u);
            int64_t v;
            if (n == 0)
                return 0;
            *id = !cr_parse_i64(u, n, &v) && v > 0 && u[0] != '+' ? v : 0;
            p += 4;
            u += n;
            continue;
        }
        if (*p != *u)
            return 0;
        p++;
        u++;
    }
    return !*p && !*u;
}

static void dispatch(struct cr_api_ctx *x)
{
    const struct cr_api_route *route = NULL;
    int path_found = 0, literal = 0;
    const char *m = strcmp(x->method, "HEAD") == 0 ? "GET" : x->method;
    /* a path a route names literally (/workflows/validate) is that resource alone, not also
     * an {id} of another (/workflows/{id}): its Allow lists its own methods */
    for (size_t i = 0; i < cr__api_nroutes && !literal; i++)
        literal = !strstr(cr__api_routes[i].pattern, "{id}") &&
                  strcmp(cr__api_routes[i].pattern, x->path) == 0;
    for (size_t i = 0; i < cr__api_nroutes; i++) {
        int64_t id = -1;
        if (literal && strstr(cr__api_routes[i].pattern, "{id}"))
            continue;
        if (!match(cr__api_routes[i].pattern, x->path, &id))
            continue;
        if (!path_found) {
            x->id = id;
            path_found = 1;
        }
        size_t len = strlen(x->allow);
        if (!strstr(x->allow, cr__api_routes[i].method))
            snprintf(x->allow + len, sizeof x->allow - len, "%s%s", len ? ", " : "",
                     cr__api_routes[i].method);
        if (!route && strcmp(cr__api_routes[i].method, m) == 0) {
            route = &cr__api_routes[i];
            x->id = id;
        }
    }
    if (!path_found) {
        x->allow[0] = 0;
        cr__api_error(x, MHD_HTTP_NOT_FOUND, "no_such_route", NULL, "no such resource: %s%s",
                      CR_API_BASE, x->path);
        return;
    }
    if (!route) {
        cr__api_error(x, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", NULL,
                      "%s is not allowed here (allowed: %s)", x->method, x->allow);
        return;
    }
    x->allow[0] = 0;
    struct cr_err err = CR_ERR_INIT;
    int slot = acquire(x->api, &err);
    if (slot < 0) {
        cr_log_error("api: cannot open the database: %s", cr_err_msg(&err));
        cr__api_error(x, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", NULL,
                      "the database is not available; try again shortly");
        x->retry_after = 5;
        return;
    }
    x->s = x->api->pool[slot].s;
    cr_store_clock_init(&x->clock, x->s);
    if (route->role == CR_ROLE_NONE || !cr__api_authenticate(x)) {
        if (route->role > CR_ROLE_NONE && x->user.role < route->role)
            cr__api_error(x, MHD_HTTP_FORBIDDEN, "forbidden", NULL,
                          "this needs the %s role (%s is %s)", cr_role_name(route->role),
                          x->user.name, cr_role_name(x->user.role));
        else if (strstr(route->pattern, "{id}") && x->id <= 0)
            cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid_id", "id",
                          "an id is a positive number");
        else {
            route->handler(x);
            if (!x->status)
                CR_BUG("api: %s %s set no reply", route->method, route->pattern);
            if (x->status == MHD_HTTP_OK && route->created && strcmp(route->method, "POST") == 0)
                x->status = MHD_HTTP_CREATED;
        }
    }
    release(x->api, slot, x->status >= 500);
    x->s = NULL;
}

enum MHD_Result cr_api_handle(struct cr_api *api, struct MHD_Connection *c, const char *url,
                              const char *method, const char *upload, size_t *upload_size,
                              void **state)
{
    struct cr_api_ctx x = {.api = api, .conn = c, .method = method};
    if (!*state) {
        struct req *r = cr_xcalloc(1, sizeof *r);
        r->magic = REQ_MAGIC;
        cr_buf_init(&r->body, CR_API_BODY_MAX);
        *state = r;
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        int64_t n;
        if (cl && !cr_parse_i64(cl, strlen(cl), &n) && n > (int64_t)CR_API_BODY_MAX) {
            /* refused before reading it; libmicrohttpd closes the connection after */
            cr__api_error(&x, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", NULL,
                          "the request body exceeds %u bytes", CR_API_BODY_MAX);
            r->answered = 1;
            return answer(&x);
        }
        return MHD_YES;
    }
    struct req *r = *state;
    if (r->answered) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        cr_buf_append(&r->body, upload, *upload_size); /* past the limit: sticky error */
        *upload_size = 0;
        return MHD_YES;
    }
    x.body = &r->body;
    if (r->body.err)
        cr__api_error(&x, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", NULL,
                      "the request body exceeds %u bytes", CR_API_BODY_MAX);
    else if (strncmp(url, CR_API_BASE, strlen(CR_API_BASE)) ||
             (url[strlen(CR_API_BASE)] != '/' && url[strlen(CR_API_BASE)] != 0))
        cr__api_error(&x, MHD_HTTP_NOT_FOUND, "no_such_route", NULL,
                      "no such resource: %s (the API is under " CR_API_BASE "/)", url);
    else {
        x.path = url + strlen(CR_API_BASE);
        dispatch(&x);
    }
    return answer(&x);
}
