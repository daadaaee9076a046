/*
 * res_profiles.c - GET /profiles (filter-language search, paginated), /profiles/{id},
 *                  /subscriptions (listed, activated, deactivated), /lists
 */
#include "api/api_int.h"

#include <string.h>

#include "profile/profile.h"
#include "profile/subscription.h"
#include "query/query.h"

#define PAGE_DEFAULT 50

/* The profiles of ids, in order, as `crier profiles show --json` prints them. */
static int profiles_of(struct cr_api_ctx *x, struct cr_stmt *st, json_t *items, struct cr_err *err)
{
    int rc;
    int64_t ids[CR_API_PAGE_MAX];
    size_t n = 0;
    while ((rc = cr_stmt_step(st, err)) == 1 && n < CR_API_PAGE_MAX)
        ids[n++] = cr_stmt_int64(st, 0);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        json_t *p;
        rc = cr_profile_get_json(x->s, ids[i], &p, err);
        if (rc == CR_ENOTFOUND) { /* deleted meanwhile */
            cr_err_clear(err);
            continue;
        }
        if (rc)
            return rc;
        json_array_append_new(items, p);
    }
    return 0;
}

void cr__api_profiles(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    struct cr_query q = CR_QUERY_INIT;
    struct cr_query_opts opts = {0};
    struct cr_buf sql = CR_BUF_INIT(0);
    struct cr_stmt *st = NULL;
    int64_t offset, limit, count = 0;
    int rc, compiled = 0;
    const char *filter = cr__api_arg(x, "filter");
    if (cr__api_arg_int(x, "offset", 0, INT64_MAX / 2, 0, &offset) ||
        cr__api_arg_int(x, "limit", 1, CR_API_PAGE_MAX, PAGE_DEFAULT, &limit))
        return;
    if (filter && strspn(filter, " \t\r\n") == strlen(filter))
        filter = NULL;
    if (filter) {
        opts.dimension = CR_QUERY_PROFILE;
        opts.clock = &x->clock;
        if ((rc = cr_query_compile_store(x->s, filter, strlen(filter), &opts, &q, &err))) {
            cr__api_fail(x, rc, &err, "filter");
            return;
        }
        compiled = 1;
        if ((rc = cr_query_count(x->s, &q, &count, &err)))
            goto fail;
        cr_query_select_sql(&q, CR_QUERY_SELECT_IDS, &sql);
        cr_buf_puts(&sql, " LIMIT ? OFFSET ?");
        if ((rc = sql.err) || (rc = cr_stmt_prepare(x->s, sql.data, &st, &err)) ||
            (rc = cr_query_bind(st, 1, &q, &err)))
            goto fail;
        cr_stmt_bind_int64(st, (int)q.nparams + 1, limit);
        cr_stmt_bind_int64(st, (int)q.nparams + 2, offset);
    } else {
        if ((rc = cr_profile_count(x->s, &count, &err)) ||
            (rc = cr_stmt_prepare(x->s, "SELECT id FROM profile ORDER BY id LIMIT ? OFFSET ?", &st,
                                  &err)))
            goto fail;
        cr_stmt_bind_int64(st, 1, limit);
        cr_stmt_bind_int64(st, 2, offset);
    }
    json_t *items = json_array();
    if ((rc = profiles_of(x, st, items, &err))) {
        json_decref(items);
        goto fail;
    }
    cr__api_reply(x, MHD_HTTP_OK,
                  json_pack("{sI sI sI so}", "count", (json_int_t)count, "offset",
                            (json_int_t)offset, "limit", (json_int_t)limit, "items", items));
    goto out;
fail:
    cr__api_fail(x, rc, &err, "filter");
out:
    cr_stmt_free(st);
    cr_buf_release(&sql);
    if (compiled)
        cr_query_release(&q);
}

void cr__api_profile(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    json_t *j;
    int rc = cr_profile_get_json(x->s, x->id, &j, &err);
    if (rc)
        cr__api_fail(x, rc, &err, NULL);
    else
        cr__api_reply(x, MHD_HTTP_OK, j);
}

void cr__api_subscriptions(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    struct cr_subscription_filter f = {.active = -1};
    const char *active = cr__api_arg(x, "active");
    json_t *j;
    f.app = cr__api_arg(x, "app");
    f.platform = cr__api_arg(x, "platform");
    if (cr__api_arg_int(x, "profile", 1, INT64_MAX, 0, &f.profile) ||
        cr__api_arg_int(x, "offset", 0, INT64_MAX / 2, 0, &f.offset) ||
        cr__api_arg_int(x, "limit", 1, CR_API_PAGE_MAX, CR_API_PAGE_MAX, &f.limit))
        return;
    if (f.platform && strcmp(f.platform, "ios") && strcmp(f.platform, "android")) {
        cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "platform",
                      "platform is ios or android");
        return;
    }
    if (active) {
        if (!strcmp(active, "true") || !strcmp(active, "1"))
            f.active = 1;
        else if (!strcmp(active, "false") || !strcmp(active, "0"))
            f.active = 0;
        else {
            cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "active", "active is true or false");
            return;
        }
    }
    int rc = cr_subscription_list(x->s, &f, &j, &err);
    if (rc)
        cr__api_fail(x, rc, &err, NULL);
    else
        cr__api_reply(x, MHD_HTTP_OK, j);
}

void cr__api_lists(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    struct cr_stmt *st;
    int rc = cr_stmt_prepare(x->s,
                             "SELECT l.id, l.name, l.label, (SELECT count(*) FROM list_member m "
                             "WHERE m.list_id = l.id), l.created_at, l.updated_at FROM list l "
                             "ORDER BY l.id",
                             &st, &err);
    if (rc) {
        cr__api_fail(x, rc, &err, NULL);
        return;
    }
    json_t *arr = json_array();
    while ((rc = cr_stmt_step(st, &err)) == 1) {
        const char *label = cr_stmt_text(st, 2);
        json_array_append_new(
            arr, json_pack("{sI ss so sI so so}", "id", (json_int_t)cr_stmt_int64(st, 0), "name",
                           cr_stmt_text(st, 1), "label", label ? json_string(label) : json_null(),
                           "members", (json_int_t)cr_stmt_int64(st, 3), "created_at",
                           cr__api_time(cr_stmt_text(st, 4)), "updated_at",
                           cr__api_time(cr_stmt_text(st, 5))));
    }
    cr_stmt_free(st);
    if (rc < 0) {
        json_decref(arr);
        cr__api_fail(x, rc, &err, NULL);
        return;
    }
    cr__api_reply(x, MHD_HTTP_OK, arr);
}

/* The subscription x->id as `crier subscriptions list --json` shows it. */
static void subscription(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    struct cr_subscription_filter f = {.active = -1, .limit = CR_API_PAGE_MAX};
    json_t *list, *e;
    size_t i;
    int rc = cr_store_query_int64(x->s, &err, &f.profile,
                                  "SELECT profile_id FROM subscription WHERE id = ?", "i", x->id);
    if (rc == 0)
        rc = cr_err_set(&err, CR_ENOTFOUND, "no subscription %lld", (long long)x->id);
    /* a profile's subscriptions are few; page through them all the same */
    while (rc >= 0 && !x->status) {
        if ((rc = cr_subscription_list(x->s, &f, &list, &err)))
            break;
        json_array_foreach(list, i, e)
        {
            if (json_integer_value(json_object_get(e, "id")) == x->id)
                cr__api_reply(x, MHD_HTTP_OK, json_incref(e));
        }
        size_t n = json_array_size(list);
        json_decref(list);
        if (n < (size_t)f.limit && !x->status)
            rc = cr_err_set(&err, CR_ENOTFOUND, "no subscription %lld", (long long)x->id);
        f.offset += f.limit;
    }
    if (rc < 0)
        cr__api_fail(x, rc, &err, NULL);
}

void cr__api_subscription_activate(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    int rc = cr_subscription_set_active(x->s, &x->clock, x->id, 1, NULL, &err);
    if (rc)
        cr__api_fail(x, rc, &err, NULL);
    else
        subscription(x);
}

void cr__api_subscription_deactivate(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    int bad, rc;
    json_t *body = cr__api_body(x, 1);
    if (!body)
        return;
    const char *reason = cr__api_body_str(x, body, "reason", 0, &bad);
    if (!bad) {
        if (reason && !*reason)
            reason = NULL;
        rc = cr_subscription_set_active(x->s, &x->clock, x->id, 0, reason, &err);
        if (rc)
            cr__api_fail(x, rc, &err, NULL);
        else
            subscription(x);
    }
    json_decref(body);
}
