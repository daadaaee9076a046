/*
 * res_users.c - /users and /apikeys, for admins: the JSON of `crier user list --json` and
 *               `crier apikey list --json`; keys are created with the CLI only (printed once)
 */
#include "api/api_int.h"

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
