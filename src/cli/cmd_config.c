/*
 * cmd_config.c - `crier config get|set|unset KEY [VALUE]`: stored settings
 *
 * Secrets (keys ending in ".secret" or holding "password") are never printed.
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#include "store/config.h"

#define CONFIG_USAGE "crier config get KEY | set KEY VALUE | unset KEY"

static int is_secret(const char *key)
{
    size_t n = strlen(key);
    return (n >= 7 && strcmp(key + n - 7, ".secret") == 0) || strstr(key, "password") ||
           strstr(key, "secret.");
}

int cmd_config(struct cli *c, struct cli_args *a)
{
    struct cr_err err = CR_ERR_INIT;
    const char *verb = cli_next(a), *key;
    int rc;
    if (!verb)
        return cli_usage(CONFIG_USAGE);
    if (strcmp(verb, "get") == 0) {
        char *v = NULL;
        if (cli_expect(a, 1, "crier config get KEY"))
            return CLI_FAIL;
        key = cli_next(a);
        if (is_secret(key))
            return cli_error("'%s' is a secret and is never printed", key);
        if ((rc = cli_open_store(c, 0)))
            return rc;
        if (cr_config_get(c->store, key, &v, &err))
            return cli_error_err(&err);
        if (!v)
            return cli_error("'%s' is not set", key), CLI_NO;
        printf("%s\n", v);
        free(v);
        return CLI_OK;
    }
    if (strcmp(verb, "set") == 0 || strcmp(verb, "unset") == 0) {
        int set = verb[0] == 's';
        const char *value = NULL;
        if (cli_expect(a, set ? 2 : 1, set ? "crier config set KEY VALUE" : "crier config unset KEY"))
            return CLI_FAIL;
        key = cli_next(a);
        if (set)
            value = cli_next(a);
        if (set && strcmp(key, "public_url") == 0 && cli_check_public_url(value))
            return CLI_FAIL;
        if ((rc = cli_open_store(c, 0)))
            return rc;
        if (cr_config_set(c->store, key, value, &err))
            return cli_error_err(&err);
        return CLI_OK;
    }
    cli_error("unknown config command '%s'", verb);
    return cli_usage(CONFIG_USAGE);
}
