/*
 * cmd_user.c - `crier user add|list` and `crier apikey create|list|revoke`: who may use the
 *              REST API of `crier serve` (src/api/), with which role
 *
 * Passwords come from the environment (--password-env VAR), never from the command line
 * (which other users of the machine can read). An API key is printed once, when created:
 * crier keeps only its SHA-256.
 */
#include "cli/cli.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "api/user.h"

#define USER_USAGE                                                                                 \
    "crier user add NAME --role admin|operator|viewer --password-env VAR [--json]\n"             \
    "       crier user list [--json]"
#define APIKEY_USAGE                                                                               \
    "crier apikey create --user NAME [--json]\n"                                                   \
    "       crier apikey list [--json]\n"                                                          \
    "       crier apikey revoke ID"

static int user_add(struct cli *c, struct cli_args *a)
{
    struct cr_err err = CR_ERR_INIT;
    const char *role_name = NULL, *var = NULL;
    int as_json = cli_flag(a, "--json"), rc;
    enum cr_role role;
    int64_t id;
    if (cli_opt(a, "--role", &role_name) < 0 || cli_opt(a, "--password-env", &var) < 0 ||
        cli_no_more_options(a) || cli_expect(a, 1, USER_USAGE))
        return CLI_FAIL;
    if (!role_name || cr_role_parse(role_name, &role))
        return cli_error("--role is admin, operator or viewer");
    if (!var)
        return cli_error("--password-env VAR is required (the variable holding the password)");
    const char *password = getenv(var);
    if (!password || !*password)
        return cli_error("environment variable %s is not set (--password-env)", var);
    const char *name = cli_next(a);
    if ((rc = cli_open_store(c, 0)))
        return rc;
    if (cr_user_add(c->store, &c->clock, name, role, password, &id, &err))
        return cli_error_err(&err);
    cli_print_id(id, as_json);
    return CLI_OK;
}

static int user_list(struct cli *c, struct cli_args *a)
{
    struct cr_err err = CR_ERR_INIT;
    int as_json = cli_flag(a, "--json"), rc;
    json_t *j, *u;
    size_t i;
    if (cli_no_more_options(a) || cli_expect(a, 0, "crier user list [--json]"))
        return CLI_FAIL;
    if ((rc = cli_open_store(c, 0)))
        return rc;
    if (cr_user_list(c->store, &j, &err))
        return cli_error_err(&err);
    if (as_json)
        cli_print_json(j);
    else
        json_array_foreach(j, i, u)
        {
            printf("%-6lld %-30s %-9s %lld key%s%s\n",
                   (long long)json_integer_value(json_object_get(u, "id")),
                   json_string_value(json_object_get(u, "name")),
                   json_string_value(json_object_get(u, "role")),
                   (long long)json_integer_value(json_object_get(u, "api_keys")),
                   json_integer_value(json_object_get(u, "api_keys")) == 1 ? "" : "s",
                   json_is_true(json_object_get(u, "disabled")) ? " (disabled)" : "");
        }
    json_decref(j);
    return CLI_OK;
}

int cmd_user(struct cli *c, struct cli_args *a)
{
    const char *verb = cli_next(a);
    if (verb && strcmp(verb, "add") == 0)
        return user_add(c, a);
    if (verb && strcmp(verb, "list") == 0)
        return user_list(c, a);
    if (verb)
        cli_error("unknown user command '%s'", verb);
    return cli_usage(USER_USAGE);
}

static int apikey_create(struct cli *c, struct cli_args *a)
{
    struct cr_err err = CR_ERR_INIT;
    const char *name = NULL;
    int as_json = cli_flag(a, "--json"), rc;
    char key[CR_APIKEY_LEN + 1];
    struct cr_user u;
    int64_t id;
    if (cli_opt(a, "--user", &name) < 0 || cli_no_more_options(a) ||
        cli_expect(a, 0, "crier apikey create --user NAME [--json]"))
        return CLI_FAIL;
    if (!name)
        return cli_error("--user NAME is required (the user the key acts as)");
    if ((rc = cli_open_store(c, 0)))
        return rc;
    if (cr_user_get(c->store, name, &u, &err) ||
        cr_apikey_create(c->store, &c->clock, u.id, key, &id, &err))
        return cli_error_err(&err);
    if (as_json) {
        json_t *j = json_pack("{sI ss ss}", "id", (json_int_t)id, "user", u.name, "key", key);
        cli_print_json(j);
        json_decref(j);
    } else {
        printf("%s\n", key);
        fprintf(stderr, "crier: API key %lld for %s (%s); it is shown only now\n", (long long)id,
                u.name, cr_role_name(u.role));
    }
    OPENSSL_cleanse(key, sizeof key);
    return CLI_OK;
}

int cmd_apikey(struct cli *c, struct cli_args *a)
{
    struct cr_err err = CR_ERR_INIT;
    const char *verb = cli_next(a);
    int rc;
    if (verb && strcmp(verb, "create") == 0)
        return apikey_create(c, a);
    if (verb && strcmp(verb, "revoke") == 0) {
        int64_t id;
        if ((rc = cli_id_arg(a, "crier apikey revoke ID", "an API key", &id)) ||
            (rc = cli_open_store(c, 0)))
            return rc;
        if (cr_apikey_revoke(c->store, &c->clock, id, &err))
            return cli_error_err(&err);
        return CLI_OK;
    }
    if (verb && strcmp(verb, "list") == 0) {
        int as_json = cli_flag(a, "--json");
        json_t *j, *k;
        size_t i;
        if (cli_no_more_options(a) || cli_expect(a, 0, "crier apikey list [--json]"))
            return CLI_FAIL;
        if ((rc = cli_open_store(c, 0)))
            return rc;
        if (cr_apikey_list(c->store, &j, &err))
            return cli_error_err(&err);
        if (as_json)
            cli_print_json(j);
        else
            json_array_foreach(j, i, k)
            {
                const char *revoked = json_string_value(json_object_get(k, "revoked_at"));
                printf("%-6lld %-14s %-30s %s\n",
                       (long long)json_integer_value(json_object_get(k, "id")),
                       json_string_value(json_object_get(k, "prefix")),
                       json_string_value(json_object_get(k, "user")),
                       revoked ? "revoked" : "active");
            }
        json_decref(j);
        return CLI_OK;
    }
    if (verb)
        cli_error("unknown apikey command '%s'", verb);
    return cli_usage(APIKEY_USAGE);
}
