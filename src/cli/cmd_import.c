/*
 * cmd_import.c - `crier import profiles|subscriptions|list`
 *
 * Exit 0 when the file was processed, even with rejected rows (they are listed); 2 when it
 * could not be (missing file, bad header, database failure).
 */
#include "cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profile/import.h"
#include "profile/phone.h"

#define IMPORT_USAGE                                                                          \
    "crier import profiles FILE.csv [--key email|phone|external_id] [--default-country CC] "  \
    "[--separator ','] [--json]\n"                                                            \
    "       crier import subscriptions FILE.csv [--key …] [--default-country CC] [--json]\n"  \
    "       crier import list NAME FILE.csv [--key …] [--default-country CC] [--json]"

static void print_human(const char *what, const char *file, const struct cr_import_result *r)
{
    for (size_t i = 0; i < r->nrejected; i++)
        fprintf(stderr, "%s:%ld: rejected: %s\n", file, r->rejected[i].line,
                r->rejected[i].reason);
    printf("%s: read %ld rows: %ld inserted, %ld updated, %zu rejected\n", what, r->read,
           r->inserted, r->updated, r->nrejected);
}

static int separator_opt(const char *v, char *out)
{
    if (!v) {
        *out = ',';
        return 0;
    }
    if (strcmp(v, "tab") == 0 || strcmp(v, "\\t") == 0) {
        *out = '\t';
        return 0;
    }
    if (strlen(v) == 1 && strchr(",;|\t", v[0])) {
        *out = v[0];
        return 0;
    }
    return cli_error("--separator must be one of , ; | tab");
}

int cmd_import(struct cli *c, struct cli_args *a)
{
    struct cr_import_opts o = {0};
    struct cr_import_result res = {0};
    struct cr_err err = CR_ERR_INIT;
    const char *what = cli_next(a), *file, *list = NULL, *sep = NULL, *country = NULL;
    char cc[3] = "";
    int json, rc;
    FILE *f;

    if (!what)
        return cli_usage(IMPORT_USAGE);
    json = cli_flag(a, "--json");
    if (cli_opt(a, "--key", &o.key) < 0 || cli_opt(a, "--default-country", &country) < 0 ||
        cli_opt(a, "--separator", &sep) < 0)
        return CLI_FAIL;
    if (separator_opt(sep, &o.separator))
        return CLI_FAIL;
    if (strcmp(what, "list") == 0) {
        if (cli_expect(a, 2, "crier import list NAME FILE.csv [--key …] [--json]"))
            return CLI_FAIL;
        list = cli_next(a);
    } else if (strcmp(what, "profiles") == 0 || strcmp(what, "subscriptions") == 0) {
        if (cli_expect(a, 1, IMPORT_USAGE))
            return CLI_FAIL;
    } else {
        cli_error("unknown import '%s' (profiles, subscriptions, list)", what);
        return cli_usage(IMPORT_USAGE);
    }
    file = cli_next(a);
    if (country) {
        if (strlen(country) != 2 || !isalpha((unsigned char)country[0]) ||
            !isalpha((unsigned char)country[1]))
            return cli_error("--default-country '%s' is not an ISO 3166 alpha-2 code", country);
        cc[0] = (char)toupper((unsigned char)country[0]);
        cc[1] = (char)toupper((unsigned char)country[1]);
        if (!cr_phone_region_known(cc))
            return cli_error("--default-country '%s' is not a country libphonenumber knows",
                             country);
        o.default_country = cc;
    }
    f = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
    if (!f)
        return cli_error("cannot open '%s': %s", file, strerror(errno));
    if ((rc = cli_open_store(c, 0))) {
        if (f != stdin)
            fclose(f);
        return rc;
    }
    o.clock = &c->clock;
    if (list)
        rc = cr_import_list(c->store, list, f, &o, &res, &err);
    else if (what[0] == 'p')
        rc = cr_import_profiles(c->store, f, &o, &res, &err);
    else
        rc = cr_import_subscriptions(c->store, f, &o, &res, &err);
    if (f != stdin)
        fclose(f);
    if (rc) {
        cli_error("%s: %s", file, cr_err_msg(&err));
        if (res.read)
            fprintf(stderr, "crier: %ld rows were read; rows committed before the failure stay "
                            "loaded\n",
                    res.read);
        cr_import_result_release(&res);
        return CLI_FAIL;
    }
    if (json) {
        char *j = cr_import_result_json(&res);
        puts(j);
        free(j);
    } else {
        print_human(list ? "list" : what, file, &res);
    }
    cr_import_result_release(&res);
    return CLI_OK;
}
