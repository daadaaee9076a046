/*
 * res_delivery.c - /deliveries: list, show, KPIs, logs, and the lifecycle actions (prepare,
 *                  proof, confirm, pause, resume, stop), answered with the delivery as
 *                  `crier delivery show --json` prints it
 */
#include "api/api_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "delivery/delivery.h"
#include "delivery/external.h"

#define LOGS_DEFAULT 100

static void show(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    json_t *j;
    int rc = cr_delivery_show(x->s, x->id, &j, &err);
    if (rc)
        cr__api_fail(x, rc, &err, NULL);
    else
        cr__api_reply(x, MHD_HTTP_OK, j);
}

void cr__api_deliveries(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    const char *all = cr__api_arg(x, "all");
    json_t *j;
    int a = 0;
    if (all) {
        if (!strcmp(all, "1") || !strcmp(all, "true"))
            a = 1;
        else if (strcmp(all, "0") && strcmp(all, "false")) {
            cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "all", "all is 1 or 0");
            return;
        }
    }
    int rc = cr_delivery_list(x->s, a, &j, &err);
    if (rc)
        cr__api_fail(x, rc, &err, NULL);
    else
        cr__api_reply(x, MHD_HTTP_OK, j);
}

void cr__api_delivery(struct cr_api_ctx *x)
{
    show(x);
}

void cr__api_delivery_kpis(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    json_t *j;
    int64_t n = 0;
    int rc = cr_store_query_int64(x->s, &err, &n, "SELECT count(*) FROM delivery WHERE id = ?",
                                  "i", x->id);
    if (rc >= 0 && !n)
        rc = cr_err_set(&err, CR_ENOTFOUND, "no delivery with id %lld", (long long)x->id);
    if (rc < 0 || (rc = cr_delivery_kpis(x->s, x->id, &j, &err)))
        cr__api_fail(x, rc, &err, NULL);
    else
        cr__api_reply(x, MHD_HTTP_OK, j);
}

void cr__api_delivery_logs(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    static const char *const statuses[] = {"pending", "sending", "sent", "delivered",
                                           "failed", "excluded"};
    const char *status = cr__api_arg(x, "status");
    int64_t offset, limit;
    json_t *j;
    if (cr__api_arg_int(x, "offset", 0, INT64_MAX / 2, 0, &offset) ||
        cr__api_arg_int(x, "limit", 1, CR_API_PAGE_MAX, LOGS_DEFAULT, &limit))
        return;
    if (status) {
        size_t i;
        for (i = 0; i < sizeof statuses / sizeof *statuses && strcmp(status, statuses[i]); i++)
            ;
        if (i == sizeof statuses / sizeof *statuses) {
            cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "status",
                          "status is pending, sending, sent, delivered, failed or excluded");
            return;
        }
    }
    int rc = cr_delivery_logs(x->s, x->id, status, offset, limit, &j, &err);
    if (rc)
        cr__api_fail(x, rc, &err, NULL);
    else
        cr__api_reply(x, MHD_HTTP_OK, j);
}

void cr__api_delivery_prepare(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    int rc = cr_delivery_prepare(x->s, &x->clock, x->id, &err);
    if (rc)
        cr__api_fail(x, rc, &err, NULL);
    else
        show(x);
}

/* The body's "to" (an array of addresses, or one comma-separated string) as the library's
 * comma-separated list in *to; 0, or -1 with a 400 reply. */
static int proof_to(struct cr_api_ctx *x, json_t *body, struct cr_buf *to)
{
    json_t *v = json_object_get(body, "to"), *e;
    size_t i;
    if (!v)
        return 0;
    if (json_is_string(v)) {
        cr_buf_puts(to, json_string_value(v));
    } else if (json_is_array(v) && json_array_size(v)) {
        json_array_foreach(v, i, e)
        {
            const char *s = json_string_value(e);
            if (!s || !*s || strchr(s, ',')) {
                cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "to",
                              "to[%zu]: an address (a non-empty string without commas)", i);
                return -1;
            }
            if (i)
                cr_buf_putc(to, ',');
            cr_buf_puts(to, s);
        }
    } else {
        cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "to",
                      "to is an array of addresses");
        return -1;
    }
    return 0;
}

void cr__api_delivery_proof(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    struct cr_buf to = CR_BUF_INIT(64 * 1024);
    char *channel = NULL;
    int rc, sent = 0;
    json_t *body = cr__api_body(x, 1);
    if (!body || proof_to(x, body, &to))
        goto out;
    if (to.err) {
        cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "to", "too many addresses");
        goto out;
    }
    rc = cr_store_query_text(x->s, &err, &channel, "SELECT channel FROM delivery WHERE id = ?",
                             "i", x->id);
    if (rc == 0)
        rc = cr_err_set(&err, CR_ENOTFOUND, "no delivery with id %lld", (long long)x->id);
    if (rc < 0) {
        cr__api_fail(x, rc, &err, NULL);
        goto out;
    }
    if (channel && strcmp(channel, "external") == 0) {
        /* an external proof is a sample file in the spool: clients never choose a path */
        char *path = NULL;
        if (to.len) {
            cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "to",
                          "an external delivery's proof is a file in crier's spool: no \"to\"");
            goto out;
        }
        if ((rc = cr_external_proof(x->s, &x->clock, x->id, NULL, &path, &err)))
            cr__api_fail(x, rc, &err, NULL);
        else
            cr__api_reply(x, MHD_HTTP_OK, json_pack("{ss}", "file", path));
        free(path);
        goto out;
    }
    rc = cr_delivery_proof(x->s, &x->clock, x->id, to.len ? to.data : NULL, &sent, &err);
    if (rc)
        cr__api_fail(x, rc, &err, "to");
    else
        cr__api_reply(x, MHD_HTTP_OK, json_pack("{si}", "sent", sent));
out:
    free(channel);
    cr_buf_release(&to);
    json_decref(body);
}

void cr__api_delivery_confirm(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    int rc = cr_delivery_confirm(x->s, &x->clock, x->id, x->user.name, &err);
    if (rc)
        cr__api_fail(x, rc, &err, NULL);
    else
        show(x);
}

static void control(struct cr_api_ctx *x, enum cr_delivery_control what)
{
    struct cr_err err = CR_ERR_INIT;
    int rc = cr_delivery_control(x->s, &x->clock, x->id, what, &err);
    if (rc)
        cr__api_fail(x, rc, &err, NULL);
    else
        show(x);
}

void cr__api_delivery_pause(struct cr_api_ctx *x)
{
    control(x, CR_DELIVERY_PAUSE);
}

void cr__api_delivery_resume(struct cr_api_ctx *x)
{
    control(x, CR_DELIVERY_RESUME);
}

void cr__api_delivery_stop(struct cr_api_ctx *x)
{
    control(x, CR_DELIVERY_STOP);
}
