/*
 * cmd_address.c - `crier address check --channel email|sms ADDRESS [--default-country CC]
 * [--json]`
 */
#include "cli/cli.h"

#include <ctype.h>
#include <jansson.h>
#include <string.h>

#include "channel/email/address.h"
#include "profile/phone.h"

#define ADDRESS_USAGE                                                                              \
    "crier address check --channel email ADDRESS [--json]\n"                                     \
    "       crier address check --channel sms NUMBER [--default-country CC] [--json]"

/* An email address: its normalised form (domain lower-cased, IDN in ASCII), or why not. */
static int check_email(const char *addr, int json)
{
    struct cr_buf out = CR_BUF_INIT(4096);
    struct cr_err err = CR_ERR_INIT;
    int rc;
    if (cr_email_check(addr, &out, &err)) {
        if (json) {
            json_t *o = json_pack("{s:s, s:b, s:s}", "input", addr, "valid", 0, "reason",
                                  cr_err_msg(&err));
            json_dumpf(o, stdout, JSON_COMPACT);
            putchar('\n');
            json_decref(o);
        } else {
            fprintf(stderr, "invalid address '%s': %s\n", addr, cr_err_msg(&err));
        }
        rc = CLI_NO;
    } else {
        if (json) {
            json_t *o = json_pack("{s:s, s:b}", "address", out.data, "valid", 1);
            json_dumpf(o, stdout, JSON_COMPACT);
            putchar('\n');
            json_decref(o);
        } else {
            printf("%s\n", out.data);
        }
        rc = CLI_OK;
    }
    cr_buf_release(&out);
    return rc;
}

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
        return cli_error("--channel is required (email or sms)");
    if (strcmp(channel, "email") == 0)
        return check_email(number, json);
    if (strcmp(channel, "sms") != 0)
        return cli_error("channel '%s' is not checked here (channels: email, sms)", channel);
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
