/*
 * cmd_profiles.c - `crier profiles count|show|export`
 */
#include "cli/cli.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/parse.h"
#include "profile/profile.h"

#define PROFILES_USAGE \
    "crier profiles count | show ID [--json] | export FILE.csv"

static int show(struct cli *c, struct cli_args *a)
{
    struct cr_err err = CR_ERR_INIT;
    const char *ids;
    int64_t id;
    json_t *obj;
    int json = cli_flag(a, "--json"), rc;
    if (cli_expect(a, 1, "crier profiles show ID [--json]"))
        return CLI_FAIL;
    ids = cli_next(a);
    if (cr_parse_i64(ids, strlen(ids), &id) || id <= 0)
        return cli_error("bad profile id '%s'", ids);
    if ((rc = cli_open_store(c, 0)))
        return rc;
    if (cr_profile_get_json(c->store, id, &obj, &err))
        return cli_error_err(&err);
    if (json) {
        json_dumpf(obj, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
        putchar('\n');
    } else {
        const char *k;
        json_t *v;
        json_object_foreach(obj, k, v)
        {
            char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            printf("%-18s %s\n", k, json_is_string(v) ? json_string_value(v) : s);
            free(s);
        }
    }
    json_decref(obj);
    return CLI_OK;
}

int cmd_profiles(struct cli *c, struct cli_args *a)
{
    struct cr_err err = CR_ERR_INIT;
    const char *verb = cli_next(a);
    int rc;
    if (!verb)
        return cli_usage(PROFILES_USAGE);
    if (strcmp(verb, "count") == 0) {
        int64_t n;
        if (cli_expect(a, 0, "crier profiles count"))
            return CLI_FAIL;
        if ((rc = cli_open_store(c, 0)))
            return rc;
        if (cr_profile_count(c->store, &n, &err))
            return cli_error_err(&err);
        printf("%lld\n", (long long)n);
        return CLI_OK;
    }
    if (strcmp(verb, "show") == 0)
        return show(c, a);
    if (strcmp(verb, "export") == 0) {
        const char *file;
        int64_t rows;
        FILE *f;
        if (cli_expect(a, 1, "crier profiles export FILE.csv (- for stdout)"))
            return CLI_FAIL;
        file = cli_next(a);
        if ((rc = cli_open_store(c, 0)))
            return rc;
        f = strcmp(file, "-") == 0 ? stdout : fopen(file, "wb");
        if (!f)
            return cli_error("cannot create '%s': %s", file, strerror(errno));
        rc = cr_profile_export_csv(c->store, f, &rows, &err);
        if (f != stdout && fclose(f) && !rc)
            rc = cr_err_set(&err, CR_EIO, "cannot write '%s': %s", file, strerror(errno));
        if (rc)
            return cli_error_err(&err);
        if (f != stdout)
            printf("exported %lld profiles to %s\n", (long long)rows, file);
        return CLI_OK;
    }
    cli_error("unknown profiles command '%s'", verb);
    return cli_usage(PROFILES_USAGE);
}
