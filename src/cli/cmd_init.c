/*
 * cmd_init.c - `crier init`: create the database or migrate it; idempotent
 */
#include "cli/cli.h"

#include <stdlib.h>

#include "core/random.h"
#include "store/config.h"
#include "store/migrate.h"

/* The HMAC secret that signs tracking links is made once, at the first init. */
static int ensure_secret(struct cr_store *s, int *created, struct cr_err *err)
{
    char *v = NULL, hex[65];
    int rc = cr_config_get(s, "tracking.secret", &v, err);
    *created = 0;
    if (rc)
        return rc;
    if (v) {
        free(v);
        return 0;
    }
    if (cr_random_hex(hex, 32))
        return cr_err_set(err, CR_EIO, "cannot read random bytes for the tracking secret");
    *created = 1;
    return cr_config_set(s, "tracking.secret", hex, err);
}

int cmd_init(struct cli *c, struct cli_args *a)
{
    struct cr_err err = CR_ERR_INIT;
    int from, to, created, rc;
    if (cli_expect(a, 0, "crier init"))
        return CLI_FAIL;
    if ((rc = cli_open_store(c, 1)))
        return rc;
    if (cr_store_migrate(c->store, &from, &to, &err) || ensure_secret(c->store, &created, &err))
        return cli_error_err(&err);
    if (from == to)
        printf("%s (%s) is up to date at schema version %d\n", cr_store_display_url(c->store),
               cr_store_dialect_name(c->store), to);
    else if (from == 0)
        printf("initialised %s (%s) at schema version %d\n", cr_store_display_url(c->store),
               cr_store_dialect_name(c->store), to);
    else
        printf("migrated %s (%s) from schema version %d to %d\n",
               cr_store_display_url(c->store), cr_store_dialect_name(c->store), from, to);
    return CLI_OK;
}
