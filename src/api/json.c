/*
 * json.c - reply helpers of the REST API: the error shape, library errors to statuses,
 *          query arguments, JSON bodies, timestamps
 *
 * Every error is {"error":{"code":"…","message":"…","field":"…"}}; "field" is there when
 * one input is to blame, "line" and "column" when the error is at a place in a text (a
 * filter, a template).
 */
#include "api/api_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/datetime.h"
#include "core/log.h"
#include "core/parse.h"

void cr__api_reply(struct cr_api_ctx *x, unsigned status, json_t *j)
{
    json_decref(x->out);
    free(x->raw);
    x->raw = NULL;
    x->status = status;
    x->out = j;
}

void cr__api_reply_raw(struct cr_api_ctx *x, unsigned status, const char *content_type,
                       char *body, size_t len)
{
    cr__api_reply(x, status, NULL);
    x->raw = body;
    x->raw_len = len;
    snprintf(x->raw_type, sizeof x->raw_type, "%s", content_type);
}

static void error_v(struct cr_api_ctx *x, unsigned status, const char *code, const char *field,
                    int line, int col, const char *fmt, va_list ap) CR_PRINTF(7, 0);

static void error_v(struct cr_api_ctx *x, unsigned status, const char *code, const char *field,
                    int line, int col, const char *fmt, va_list ap)
{
    char msg[600];
    vsnprintf(msg, sizeof msg, fmt, ap);
    json_t *e = json_pack("{ss ss}", "code", code, "message", msg);
    if (!e) /* the message was not UTF-8 (a user's bytes): say it without them */
        e = json_pack("{ss ss}", "code", code, "message", "invalid input");
    if (field)
        json_object_set_new(e, "field", json_string(field));
    if (line > 0) {
        json_object_set_new(e, "line", json_integer(line));
        json_object_set_new(e, "column", json_integer(col));
    }
    cr__api_reply(x, status, json_pack("{so}", "error", e));
}

void cr__api_error(struct cr_api_ctx *x, unsigned status, const char *code, const char *field,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_v(x, status, code, field, 0, 0, fmt, ap);
    va_end(ap);
}

static void error_at(struct cr_api_ctx *x, unsigned status, const char *code, const char *field,
                     int line, int col, const char *fmt, ...) CR_PRINTF(7, 8);
static void error_at(struct cr_api_ctx *x, unsigned status, const char *code, const char *field,
                     int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_v(x, status, code, field, line, col, fmt, ap);
    va_end(ap);
}

void cr__api_fail(struct cr_api_ctx *x, int rc, const struct cr_err *err, const char *field)
{
    const char *msg = cr_err_msg(err);
    switch (rc) {
    case CR_ENOTFOUND:
        cr__api_error(x, MHD_HTTP_NOT_FOUND, "not_found", NULL, "%s", msg);
        return;
    case CR_ESTATE:
        cr__api_error(x, MHD_HTTP_CONFLICT, "wrong_state", NULL, "%s", msg);
        return;
    case CR_EEXISTS:
        cr__api_error(x, MHD_HTTP_CONFLICT, "exists", field, "%s", msg);
        return;
    case CR_EINVAL:
    case CR_ESYNTAX:
        if (err && err->line > 0)
            error_at(x, MHD_HTTP_BAD_REQUEST, "invalid", field, err->line, err->col,
                     "line %d, column %d: %s", err->line, err->col, msg);
        else
            cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", field, "%s", msg);
        return;
    case CR_ETOOBIG:
        cr__api_error(x, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", field, "%s", msg);
        return;
    case CR_EPERM:
        cr__api_error(x, MHD_HTTP_FORBIDDEN, "forbidden", NULL, "%s", msg);
        return;
    default:
        /* the details (SQL, paths) are for the log, not for the client */
        cr_log_error("api: %s %s%s: %s", x->method, CR_API_BASE, x->path ? x->path : "", msg);
        cr__api_error(x, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                      NULL, "internal error (%s); see the server's log", cr_errname(rc));
    }
}

const char *cr__api_arg(struct cr_api_ctx *x, const char *name)
{
    return MHD_lookup_connection_value(x->conn, MHD_GET_ARGUMENT_KIND, name);
}

int cr__api_arg_int(struct cr_api_ctx *x, const char *name, int64_t lo, int64_t hi, int64_t def,
                    int64_t *out)
{
    const char *v = cr__api_arg(x, name);
    int64_t n;
    *out = def;
    if (!v)
        return 0;
    if (cr_parse_i64(v, strlen(v), &n) || n < lo || n > hi) {
        cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", name,
                      "%s takes a number from %lld to %lld", name, (long long)lo, (long long)hi);
        return -1;
    }
    *out = n;
    return 0;
}

json_t *cr__api_body(struct cr_api_ctx *x, int optional)
{
    json_error_t je;
    if (!x->body || x->body->len == 0) {
        if (optional)
            return json_object();
        cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid_json", NULL,
                      "a JSON object is expected in the body");
        return NULL;
    }
    const char *ct =
        MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!ct || strncasecmp(ct, "application/json", 16) ||
        (ct[16] && ct[16] != ';' && ct[16] != ' ')) {
        cr__api_error(x, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", NULL,
                      "send the body as Content-Type: application/json");
        return NULL;
    }
    json_t *j = json_loadb(x->body->data, x->body->len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        error_at(x, MHD_HTTP_BAD_REQUEST, "invalid_json", NULL, je.line, je.column,
                 "invalid JSON at line %d, column %d: %s", je.line, je.column, je.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid_json", NULL,
                      "the body is a JSON object");
        return NULL;
    }
    return j;
}

const char *cr__api_body_str(struct cr_api_ctx *x, json_t *body, const char *name, int required,
                             int *bad)
{
    json_t *v = json_object_get(body, name);
    *bad = 0;
    if (!v && !required)
        return NULL;
    if (!json_is_string(v)) {
        *bad = 1;
        cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", name,
                      v ? "\"%s\" is a string" : "\"%s\" is required", name);
        return NULL;
    }
    return json_string_value(v);
}

json_t *cr__api_time(const char *sql_ts)
{
    cr_time_t t;
    char buf[CR_TIME_BUFSZ];
    struct cr_err e = CR_ERR_INIT;
    if (!sql_ts || cr_time_parse(sql_ts, strlen(sql_ts), &t, &e))
        return json_null();
    return json_string(cr_time_format_iso(t, buf));
}
