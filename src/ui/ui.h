/*
 * ui.h - the web UI served by `crier serve`: the app at "/" and its files under "/ui/"
 *
 * The files are ui/ of the source tree, embedded into the binary at build time (assets.h).
 * Every answer carries a Content-Security-Policy that allows only the server's own scripts,
 * styles and images (no inline script, no other origin, never framed), an ETag with
 * "Cache-Control: no-cache" (the browser keeps a copy and asks whether it changed: 304), and
 * X-Content-Type-Options: nosniff. The app speaks to the REST API (src/api/) with fetch().
 * Stateless and thread-safe: the table is constant.
 */
#ifndef CR_UI_H
#define CR_UI_H

#include <microhttpd.h>

#include "ui/assets.h"

/* 1 when url is the UI's to answer: "/", "/index.html" or anything under "/ui/". */
int cr_ui_owns(const char *url);

/* Answers a request for a URL cr_ui_owns(): GET and HEAD (200, or 304 when If-None-Match
 * names the file's ETag), 404 for a file the UI does not have, 405 for other methods. Call
 * it once the whole request is in. */
enum MHD_Result cr_ui_handle(struct MHD_Connection *c, const char *url, const char *method);

/* The embedded file at path (relative to ui/, e.g. "app.js"), or NULL. */
const struct cr_ui_asset *cr_ui_find(const char *path);

/* The Content-Type for a file name, by its extension. */
const char *cr_ui_content_type(const char *path);

#endif
