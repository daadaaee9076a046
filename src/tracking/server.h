/*
 * server.h - the tracking endpoints over HTTP (libmicrohttpd)
 *
 *   GET  /o/TOKEN        open pixel: a 43-byte transparent GIF, never cached
 *   GET  /c/TOKEN        click: 302 to the URL stored for the token's link id
 *   GET  /u/TOKEN        unsubscribe page (a form); POST opts out (RFC 8058 one-click
 *                        included) or, with action=consent, withdraws tracking consent
 *   GET  /m/TOKEN        mirror page
 *   POST /webhook/bounces  bounce and complaint events as JSON, with
 *                        "Authorization: Bearer <bounce.webhook_secret>"
 *   GET  /healthz        "ok"
 *   /api/...             the REST API (api/api.h)
 * A token that does not verify, or of the wrong kind for its path, gets 404 and writes
 * nothing. Opens and clicks are queued for the batch writer (tracking/hits.h); the rest
 * are rare and written at once. Responses are queued only once the request is complete, so
 * connections are kept alive.
 */
#ifndef CR_TRACKING_SERVER_H
#define CR_TRACKING_SERVER_H

#include <stdint.h>

#include "core/err.h"
#include "tracking/hits.h"

struct cr_tracking_server;

struct cr_tracking_server_opts {
    const char *db_url;
    const char *listen; /* "HOST:PORT"; port 0 picks a free one */
    int threads;        /* 0: one per CPU */
    int flush_ms;       /* 0: 1000 */
};

int cr_tracking_server_start(const struct cr_tracking_server_opts *o,
                             struct cr_tracking_server **out, struct cr_err *err) CR_WARN_UNUSED;
/* The port it listens on. */
uint16_t cr_tracking_server_port(struct cr_tracking_server *srv);
void cr_tracking_server_stats(struct cr_tracking_server *srv, struct cr_hits_stats *st);
/* Stops accepting, writes the queued hits, frees. When final is not NULL it gets the
 * counts read after the last request finished, so they match what was written. */
void cr_tracking_server_stop(struct cr_tracking_server *srv, struct cr_hits_stats *final);

#endif
