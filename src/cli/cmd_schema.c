/*
 * cmd_schema.c - `crier schema add-column|columns`: the profile and subscription columns
 */
#include "cli/cli.h"

#include <string.h>

#include "store/schema.h"

#define SCHEMA_USAGE                                                                         \
    "crier schema add-column profile NAME text|integer|real|boolean|date|timestamp\n"      \
    "       crier schema columns [profile|subscription]"

int cmd_schema(struct cli *c, struct cli_args *a)
{
    struct cr_err err = CR_ERR_INIT;
    const char *verb = cli_next(a);
    int rc;
    if (!verb)
        return cli_usage(SCHEMA_USAGE);
    if (strcmp(verb, "add-column") == 0) {
        const char *dim, *name, *type;
        enum cr_coltype t;
        if (cli_expect(a, 3, "crier schema add-column profile NAME TYPE"))
            return CLI_FAIL;
        dim = cli_next(a);
        name = cli_next(a);
        type = cli_next(a);
        if (cr_coltype_parse(type, &t))
            return cli_error("unknown column type '%s' (types: text, integer, real, boolean, "
                             "date, timestamp)",
                             type);
        if ((rc = cli_open_store(c, 0)))
            return rc;
        if (cr_schema_add_column(c->store, dim, name, t, &err))
            return cli_error_err(&err);
        printf("added %s column '%s' (%s)\n", dim, name, type);
        return CLI_OK;
    }
    if (strcmp(verb, "columns") == 0) {
        struct cr_schema sc;
        int json = cli_flag(a, "--json");
        const char *dim;
        if (cli_no_more_options(a) || a->argc > 1)
            return cli_usage("crier schema columns [profile|subscription] [--json]");
        dim = a->argc ? cli_next(a) : "profile";
        if ((rc = cli_open_store(c, 0)))
            return rc;
        if (cr_schema_load(c->store, dim, &sc, &err))
            return cli_error_err(&err);
        if (json)
            putchar('[');
        for (size_t i = 0; i < sc.ncols; i++) {
            if (json)
                printf("%s{\"name\":\"%s\",\"type\":\"%s\",\"builtin\":%s}", i ? "," : "",
                       sc.cols[i].name, cr_coltype_name(sc.cols[i].type),
                       sc.cols[i].builtin ? "true" : "false");
            else
                printf("%-24s %-10s %s\n", sc.cols[i].name, cr_coltype_name(sc.cols[i].type),
                       sc.cols[i].builtin ? "built-in" : "custom");
        }
        if (json)
            puts("]");
        cr_schema_release(&sc);
        return CLI_OK;
    }
    cli_error("unknown schema command '%s'", verb);
    return cli_usage(SCHEMA_USAGE);
}
