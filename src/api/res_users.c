/*
 * res_users.c - /users and /apikeys, for admins: the JSON of `crier user list --json` and
 *               `crier apikey list --json`; keys are created with the CLI only (printed once).
 *               PATCH /users/{id} changes a role or disables a user; a password is changed
 *               by its owner only (POST /me/password, auth.c): admins never learn it
 */
#include "api/api_int.h"

#include <string.h>

void cr__api_users(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    json_t *j;
    int rc = cr_user_list(x->s, &j, &err);
    if (rc)
        cr__api_fail(x, rc, &err, NULL);
    else
        cr__api_reply(x, MHD_HTTP_OK, j);
}

void cr__api_user_add(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    enum cr_role role;
    int64_t id;
    int bad, rc;
    json_t *body = cr__api_body(x, 0);
    if (!body)
        return;
    const char *name = cr__api_body_str(x, body, "name", 1, &bad);
    const char *r = bad ? NULL : cr__api_body_str(x, body, "role", 1, &bad);
    const char *password = bad ? NULL : cr__api_body_str(x, body, "password", 1, &bad);
    if (bad)
        goto out;
    if (cr_role_parse(r, &role)) {
        cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "role",
                      "role is admin, operator or viewer");
        goto out;
    }
    rc = cr_user_add(x->s, &x->clock, name, role, password, &id, &err);
    if (rc)
        cr__api_fail(x, rc, &err,
                     rc == CR_EEXISTS || !cr_user_name_ok(name) ? "name" : "password");
    else
        cr__api_reply(x, MHD_HTTP_OK,
                      json_pack("{sI ss ss}", "id", (json_int_t)id, "name", name, "role",
                                cr_role_name(role)));
out:
    json_decref(body);
}

void cr__api_apikeys(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    json_t *j;
    int rc = cr_apikey_list(x->s, &j, &err);
    if (rc)
        cr__api_fail(x, rc, &err, NULL);
    else
        cr__api_reply(x, MHD_HTTP_OK, j);
}

void cr__api_user_update(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    enum cr_role role = CR_ROLE_NONE;
    int disabled = -1, bad, rc;
    json_t *body = cr__api_body(x, 0), *d, *list, *u;
    size_t i;
    if (!body)
        return;
    const char *r = cr__api_body_str(x, body, "role", 0, &bad);
    if (bad)
        goto out;
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v)
    {
        if (strcmp(k, "role") && strcmp(k, "disabled")) {
            cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", k,
                          "a user's role and disabled may change, not \"%s\" (a password is "
                          "changed by its owner: POST " CR_API_BASE "/me/password)",
                          k);
            goto out;
        }
    }
    if (r && cr_role_parse(r, &role)) {
        cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "role",
                      "role is admin, operator or viewer");
        goto out;
    }
    d = json_object_get(body, "disabled");
    if (d && !json_is_boolean(d)) {
        cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "disabled", "disabled is true or false");
        goto out;
    }
    if (d)
        disabled = json_is_true(d);
    if ((rc = cr_user_update(x->s, &x->clock, x->id, role, disabled, &err)) ||
        (rc = cr_user_list(x->s, &list, &err))) {
        cr__api_fail(x, rc, &err, NULL);
        goto out;
    }
    json_array_foreach(list, i, u)
    {
        if (json_integer_value(json_object_get(u, "id")) == x->id)
            cr__api_reply(x, MHD_HTTP_OK, json_incref(u));
    }
    json_decref(list);
    if (!x->status)
        cr__api_error(x, MHD_HTTP_NOT_FOUND, "not_found", NULL, "no user with id %lld",
                      (long long)x->id);
out:
    json_decref(body);
}
