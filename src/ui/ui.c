/*
 * ui.c - the web UI's files over HTTP (see ui.h)
 */
#include "ui/ui.h"

#include <string.h>

#include "ui/assets.h"

#define CSP                                                                                        \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "                 \
    "frame-ancestors 'none'"

int cr_ui_owns(const char *url)
{
    return strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0 || strncmp(url, "/ui/", 4) == 0;
}

const struct cr_ui_asset *cr_ui_find(const char *path)
{
    for (size_t i = 0; i < cr_ui_nassets; i++)
        if (strcmp(cr_ui_assets[i].path, path) == 0)
            return &cr_ui_assets[i];
    return NULL;
}

const char *cr_ui_content_type(const char *path)
{
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".json", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
    };
    size_t n = strlen(path);
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        size_t e = strlen(types[i][0]);
        if (n > e && strcmp(path + n - e, types[i][0]) == 0)
            return types[i][1];
    }
    return "application/octet-stream";
}

static void security_headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, "Content-Security-Policy", CSP);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
}

static enum MHD_Result ui_send(struct MHD_Connection *c, unsigned code, const char *type,
                               const void *body, size_t len, const struct cr_ui_asset *a)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    if (type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    security_headers(r);
    if (a) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, a->etag);
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    } else {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    }
    if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

/* Whether an If-None-Match header value names etag (or is "*"). Weak comparison, as the
 * header asks: W/"x" matches "x". */
static int etag_matches(const char *header, const char *etag)
{
    if (!header)
        return 0;
    size_t n = strlen(etag);
    for (const char *p = header; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        if (strncmp(p, etag, n) == 0 && (p[n] == 0 || p[n] == ',' || p[n] == ' '))
            return 1;
        while (*p && *p != ',')
            p++;
    }
    return 0;
}

enum MHD_Result cr_ui_handle(struct MHD_Connection *c, const char *url, const char *method)
{
    static const char not_found[] = "not found\n", not_allowed[] = "method not allowed\n";
    if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
        return ui_send(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", not_allowed,
                       sizeof not_allowed - 1, NULL);
    const char *path = strncmp(url, "/ui/", 4) == 0 ? url + 4 : "index.html";
    const struct cr_ui_asset *a = strstr(path, "..") ? NULL : cr_ui_find(path);
    if (!a)
        return ui_send(c, MHD_HTTP_NOT_FOUND, "text/plain", not_found, sizeof not_found - 1, NULL);
    const char *inm =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (etag_matches(inm, a->etag))
        return ui_send(c, MHD_HTTP_NOT_MODIFIED, NULL, "", 0, a);
    return ui_send(c, MHD_HTTP_OK, cr_ui_content_type(path), a->data, a->len, a);
}
