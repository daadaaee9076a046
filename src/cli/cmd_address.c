/*
 * cmd_address.c - `crier address check --channel sms NUMBER [--default-country CC] [--json]`
 */
#include "cli/cli.h"

#include <ctype.h>
#include <jansson.h>
#include <string.h>

#include "profile/phone.h"

#define ADDRESS_USAGE "crier address check --channel sms NUMBER [--default-country CC] [--json]"

int cmd_address(struct cli *c, struct cli_args *a)
{
    const char *verb = cli_next(a), *channel = NULL, *country = NULL, *number, *reason;
    char e164[CR_PHONE_MAX], cc[3] = "";
    int json;
    (void)c;
    if (!verb || strcmp(verb, "check") != 0)
        return cli_usage(ADDRESS_USAGE);
    json = cli_flag(a, "--json");
    if (cli_opt(a, "--channel", &channel) < 0 || cli_opt(a, "--default-country", &country) < 0)
        return CLI_FAIL;
    if (cli_expect(a, 1, ADDRESS_USAGE))
        return CLI_FAIL;
    number = cli_next(a);
    if (!channel)
        return cli_error("--channel is required (sms; email comes with the email channel)");
    if (strcmp(channel, "sms") != 0)
        return cli_error("channel '%s' is not checked here yet (channels: sms)", channel);
    if (country) {
        if (strlen(country) != 2)
            return cli_error("--default-country '%s' is not an ISO 3166 alpha-2 code", country);
        cc[0] = (char)toupper((unsigned char)country[0]);
        cc[1] = (char)toupper((unsigned char)country[1]);
        if (!cr_phone_region_known(cc))
            return cli_error("--default-country '%s' is not a country libphonenumber knows",
                             country);
    }
    if (cr_phone_normalize(number, strlen(number), cc, e164, &reason)) {
        if (json) {
            json_t *o = json_pack("{s:s, s:b, s:s}", "input", number, "valid", 0, "reason", reason);
            json_dumpf(o, stdout, JSON_COMPACT);
            putchar('\n');
            json_decref(o);
        } else
            fprintf(stderr, "invalid number '%s': %s\n", number, reason);
        return CLI_NO;
    }
    if (json) {
        const char *type;
        int assigned;
        char region[4];
        cr_phone_describe(e164, &type, &assigned, region);
        printf("{\"e164\":\"%s\",\"valid\":true,\"region\":\"%s\",\"type\":\"%s\","
               "\"assigned_range\":%s}\n",
               e164, region, type, assigned ? "true" : "false");
    } else {
        printf("%s\n", e164);
    }
    return CLI_OK;
}
