/*
 * cmd_demo.c - `crier demo generate profiles|subscriptions`: deterministic sample data
 *
 * (The full demo, `crier demo`, arrives with the channels; see issue 12.)
 */
#include "cli/cli.h"

#include <errno.h>
#include <string.h>

#include "core/parse.h"
#include "demo/sample.h"

#define DEMO_USAGE \
    "crier demo generate profiles|subscriptions --count N [--seed S] [--out FILE]"

int cmd_demo(struct cli *c, struct cli_args *a)
{
    struct cr_sample_opts o = {.seed = 2026};
    const char *verb = cli_next(a), *what, *count_s = NULL, *seed_s = NULL, *out_s = NULL;
    int64_t count, seed;
    FILE *out = stdout;
    int rc;
    (void)c;
    if (!verb || strcmp(verb, "generate") != 0)
        return cli_usage(DEMO_USAGE);
    if (cli_opt(a, "--count", &count_s) < 0 || cli_opt(a, "--seed", &seed_s) < 0 ||
        cli_opt(a, "--out", &out_s) < 0 || cli_expect(a, 1, DEMO_USAGE))
        return CLI_FAIL;
    what = cli_next(a);
    if (!count_s || cr_parse_i64(count_s, strlen(count_s), &count) || count < 0 ||
        count > 100000000)
        return cli_error("--count must be a number of profiles (0 to 100000000)");
    if (seed_s) {
        if (cr_parse_i64(seed_s, strlen(seed_s), &seed))
            return cli_error("--seed must be an integer");
        o.seed = (uint64_t)seed;
    }
    if (strcmp(what, "profiles") && strcmp(what, "subscriptions"))
        return cli_error("unknown sample '%s' (profiles, subscriptions)", what);
    if (out_s && strcmp(out_s, "-") != 0 && !(out = fopen(out_s, "wb")))
        return cli_error("cannot create '%s': %s", out_s, strerror(errno));
    rc = what[0] == 'p' ? cr_sample_write_profiles(out, (long)count, &o)
                        : cr_sample_write_subscriptions(out, (long)count, &o);
    if (out != stdout && fclose(out))
        rc = CR_EIO;
    if (rc)
        return cli_error("cannot write the sample: %s", strerror(errno));
    return CLI_OK;
}
