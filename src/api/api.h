/*
 * api.h - the REST API under /api/v1 (JSON), served by `crier serve` next to the tracking
 *         endpoints (tracking/server.c hands it every URL under /api/)
 *
 * The routes, their roles and their OpenAPI description are one table (routes.c); the API's
 * reference is docs/api.md and GET /api/v1/openapi.json. Authentication: a session cookie
 * from POST /api/v1/login (unsafe methods then need X-CSRF-Token), or
 * "Authorization: Bearer KEY" with a key from `crier apikey create`.
 *
 * Threads: cr_api_handle() is called from libmicrohttpd's thread pool. The API keeps its own
 * small pool of store connections (opened on first use), one per request in progress.
 */
#ifndef CR_API_H
#define CR_API_H

#include <microhttpd.h>
#include <stddef.h>

#include "core/err.h"

struct cr_api;

/* Opens nothing yet: connections to db_url (copied) are made when requests come. */
int cr_api_new(const char *db_url, struct cr_api **out, struct cr_err *err) CR_WARN_UNUSED;
/* After the HTTP daemon stopped. cr_api_free(NULL) does nothing. */
void cr_api_free(struct cr_api *api);

/* A libmicrohttpd access handler for a URL under /api/ (same arguments and protocol as
 * MHD_AccessHandlerCallback). *state is the API's own per-request state: the server's
 * completion callback must hand it to cr_api_request_done(). */
enum MHD_Result cr_api_handle(struct cr_api *api, struct MHD_Connection *c, const char *url,
                              const char *method, const char *upload, size_t *upload_size,
                              void **state);
/* If state is an API request's state, frees it and returns 1; else 0 (state untouched).
 * state must point to an object of at least 8 bytes. */
int cr_api_request_done(void *state);

#endif
