/*
 * api_int.h - what the files of src/api/ share: the request context handlers see, the route
 *             table, reply helpers
 *
 * A handler reads its inputs from the context (x->id from the path, query arguments, the
 * JSON body) and sets the reply with cr__api_reply() or one of the error helpers; the
 * dispatcher (api.c) sends it. Handlers run with an authenticated user of at least the
 * route's role and with a store connection of their own (x->s) for the whole request.
 */
#ifndef CR_API_INT_H
#define CR_API_INT_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdint.h>

#include "api/api.h"
#include "api/user.h"
#include "core/buf.h"
#include "core/clock.h"
#include "store/store.h"

#define CR_API_BASE "/api/v1"
#define CR_API_BODY_MAX (1u << 20) /* bytes of a request body */
#define CR_API_PAGE_MAX 1000       /* the largest limit= */
#define CR_API_COOKIE "crier_session"

enum cr_api_auth { CR_API_AUTH_NONE, CR_API_AUTH_SESSION, CR_API_AUTH_KEY };

struct cr_api_ctx {
    /* request (read-only for handlers) */
    struct cr_api *api;
    struct MHD_Connection *conn;
    const char *method;
    const char *path; /* after CR_API_BASE */
    int64_t id;       /* the route's {id}, 0 if none */
    const struct cr_buf *body;
    struct cr_store *s;    /* this request's connection */
    struct cr_clock clock; /* the store's clock (virtual when set) */
    struct cr_user user;
    enum cr_api_auth auth;
    char session[CR_SESSION_TOKEN_LEN + 1]; /* the cookie value, when auth is SESSION */
    char csrf[CR_SESSION_TOKEN_LEN + 1];
    /* reply */
    unsigned status; /* 0 until set */
    json_t *out;
    char *raw;            /* instead of out: raw_len bytes as raw_type (cr__api_reply_raw) */
    size_t raw_len;
    char raw_type[64];
    char set_cookie[256];
    char allow[64];
    int retry_after; /* seconds, 0: none */
};

struct cr_api_route {
    const char *method;  /* "GET", "POST", "PUT" or "PATCH" */
    const char *pattern; /* after CR_API_BASE; "{id}" matches a path segment */
    void (*handler)(struct cr_api_ctx *x);
    enum cr_role role;   /* the least role; CR_ROLE_NONE: no authentication */
    const char *tag;     /* OpenAPI: the group */
    const char *summary; /* OpenAPI: one line */
    const char *query;   /* OpenAPI: query parameters "name:type,..." (type integer,
                          * string, boolean), or NULL */
    const char *body;    /* OpenAPI: body fields "name:type,..." (type as above, or object,
                          * array; '!' after the name: required), or NULL */
    unsigned created;    /* 201 instead of 200 on success (POST) */
    const char *produces; /* OpenAPI: the success body's media type; NULL: application/json */
};

extern const struct cr_api_route cr__api_routes[];
extern const size_t cr__api_nroutes;

/* ------------------------------------------------------------------ json.c --- */

/* Sets the reply (takes j). */
void cr__api_reply(struct cr_api_ctx *x, unsigned status, json_t *j);
/* Sets a reply that is not JSON: len bytes of body (malloc'd; taken over) as content_type,
 * e.g. "text/csv; charset=utf-8". Errors stay JSON. */
void cr__api_reply_raw(struct cr_api_ctx *x, unsigned status, const char *content_type,
                       char *body, size_t len);
/* Sets an error reply {"error":{"code","message","field"?}} (field may be NULL). */
void cr__api_error(struct cr_api_ctx *x, unsigned status, const char *code, const char *field,
                   const char *fmt, ...) CR_PRINTF(5, 6);
/* The error reply for a library failure: CR_ENOTFOUND 404, CR_ESTATE and CR_EEXISTS 409,
 * CR_EINVAL and CR_ESYNTAX 400 (naming field, with line and column when err has them),
 * CR_ETOOBIG 413, CR_EPERM 403, anything else 500 (logged; the message stays generic). */
void cr__api_fail(struct cr_api_ctx *x, int rc, const struct cr_err *err, const char *field);
/* A query argument, or NULL. */
const char *cr__api_arg(struct cr_api_ctx *x, const char *name);
/* An integer query argument in [lo, hi]: 0 and *out (def when absent), or -1 with a 400
 * reply naming it. */
int cr__api_arg_int(struct cr_api_ctx *x, const char *name, int64_t lo, int64_t hi, int64_t def,
                    int64_t *out);
/* The body as a JSON object (a new reference: json_decref() it), an empty object when there
 * is no body and it is optional, else NULL with a 400 or 415 reply. */
json_t *cr__api_body(struct cr_api_ctx *x, int optional);
/* A string member of the body, or NULL: when it is absent and optional (*bad = 0), or with
 * a 400 reply naming it (*bad = 1) when it is absent and required or not a string. */
const char *cr__api_body_str(struct cr_api_ctx *x, json_t *body, const char *name, int required,
                             int *bad);
/* A stored timestamp as ISO 8601 UTC ("2026-12-01T09:00:00Z"), or null. */
json_t *cr__api_time(const char *sql_ts);

/* ------------------------------------------------------------------ auth.c --- */

/* Authenticates the request from its Authorization header or session cookie, and checks
 * CSRF for unsafe methods with a cookie. 0, or -1 with a 401 or 403 reply. */
int cr__api_authenticate(struct cr_api_ctx *x);
/* The login throttle: per-name state in the API object. */
struct cr__api_throttle;
struct cr__api_throttle *cr__api_throttle_new(void);
void cr__api_throttle_free(struct cr__api_throttle *t);
struct cr__api_throttle *cr__api_throttle_of(struct cr_api *api);

/* --------------------------------------------------------------- openapi.c --- */

json_t *cr__api_openapi(void);

/* -------------------------------------------------------------- handlers --- */

void cr__api_login(struct cr_api_ctx *x);
void cr__api_logout(struct cr_api_ctx *x);
void cr__api_me(struct cr_api_ctx *x);
void cr__api_me_password(struct cr_api_ctx *x);
void cr__api_get_openapi(struct cr_api_ctx *x);

void cr__api_profiles(struct cr_api_ctx *x);
void cr__api_profile(struct cr_api_ctx *x);
void cr__api_subscriptions(struct cr_api_ctx *x);
void cr__api_subscription_activate(struct cr_api_ctx *x);
void cr__api_subscription_deactivate(struct cr_api_ctx *x);
void cr__api_lists(struct cr_api_ctx *x);

void cr__api_accounts(struct cr_api_ctx *x);
void cr__api_account_add(struct cr_api_ctx *x);
void cr__api_templates(struct cr_api_ctx *x);
void cr__api_template_add(struct cr_api_ctx *x);
void cr__api_campaigns(struct cr_api_ctx *x);
void cr__api_campaign(struct cr_api_ctx *x);
void cr__api_campaign_add(struct cr_api_ctx *x);
void cr__api_campaign_close(struct cr_api_ctx *x);

void cr__api_workflows(struct cr_api_ctx *x);
void cr__api_workflow(struct cr_api_ctx *x);
void cr__api_workflow_add(struct cr_api_ctx *x);
void cr__api_workflow_update(struct cr_api_ctx *x);
void cr__api_workflow_validate(struct cr_api_ctx *x);
void cr__api_workflow_runs(struct cr_api_ctx *x);
void cr__api_workflow_start(struct cr_api_ctx *x);
void cr__api_run(struct cr_api_ctx *x);
void cr__api_run_pause(struct cr_api_ctx *x);
void cr__api_run_resume(struct cr_api_ctx *x);
void cr__api_run_stop(struct cr_api_ctx *x);

void cr__api_deliveries(struct cr_api_ctx *x);
void cr__api_delivery(struct cr_api_ctx *x);
void cr__api_delivery_create(struct cr_api_ctx *x);
void cr__api_delivery_kpis(struct cr_api_ctx *x);
void cr__api_delivery_timeline(struct cr_api_ctx *x);
void cr__api_delivery_preview(struct cr_api_ctx *x);
void cr__api_delivery_logs(struct cr_api_ctx *x);
void cr__api_delivery_prepare(struct cr_api_ctx *x);
void cr__api_delivery_proof(struct cr_api_ctx *x);
void cr__api_delivery_confirm(struct cr_api_ctx *x);
void cr__api_delivery_pause(struct cr_api_ctx *x);
void cr__api_delivery_resume(struct cr_api_ctx *x);
void cr__api_delivery_stop(struct cr_api_ctx *x);

void cr__api_users(struct cr_api_ctx *x);
void cr__api_user_add(struct cr_api_ctx *x);
void cr__api_user_update(struct cr_api_ctx *x);
void cr__api_apikeys(struct cr_api_ctx *x);

#endif
