/*
 * cmd_template.c - `crier template render FILE [--context ctx.json | --profile ID]
 *                  [--snippets DIR] [--strict]`
 *
 * Renders one template to stdout, for writing and checking templates by hand and in tests.
 * Variables come from a JSON object (its top-level keys) and/or a stored profile (under
 * `profile`); snippets from a folder, else from the database's snippet table when one is
 * open. "now" follows the database's clock (virtual or real) when a database is there, the
 * real clock otherwise. A parse or render error goes to stderr, exit status 2.
 * Not here: storing templates (later commands of this group).
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/parse.h"
#include "delivery/dtemplate.h"
#include "profile/profile.h"
#include "store/clock_store.h"
#include "store/migrate.h"
#include "template/template.h"

#define TEMPLATE_USAGE                                                                         \
    "crier template render FILE [--context ctx.json | --profile ID] [--snippets DIR] "        \
    "[--strict]\n"                                                                             \
    "       crier template add email|sms|push NAME FILE.json [--replace] [--json]\n"           \
    "       crier template list [--json]"
#define MAX_TEMPLATE (1u << 20)

/* Opens the database for its clock (and snippets) if one is there; quietly otherwise. */
static void open_store_quietly(struct cli *c)
{
    struct cr_err err = CR_ERR_INIT;
    int is_pg = strncmp(c->db_url, "postgres://", 11) == 0 ||
                strncmp(c->db_url, "postgresql://", 13) == 0 ||
                strncmp(c->db_url, "host=", 5) == 0 || strncmp(c->db_url, "dbname=", 7) == 0;
    if (!is_pg && access(c->db_url, F_OK) != 0)
        return;
    if (cr_store_open(c->db_url, &c->store, &err) != 0) {
        c->store = NULL;
        return;
    }
    if (cr_store_require_current(c->store, &err) != 0) {
        cli_close_store(c);
        return;
    }
    cr_store_clock_init(&c->clock, c->store);
}

static int render(struct cli *c, struct cli_args *a)
{
    struct cr_err err = CR_ERR_INIT;
    struct cr_template_opts opts;
    struct cr_template *t = NULL;
    struct cr_tvars *vars = NULL;
    struct cr_buf src = CR_BUF_INIT(MAX_TEMPLATE), out = CR_BUF_INIT(0);
    const char *ctx_path = NULL, *profile_id = NULL, *snippets = NULL, *file;
    json_t *ctx = NULL, *profile = NULL;
    int strict, rc = CLI_FAIL;

    if (cli_opt(a, "--context", &ctx_path) < 0 || cli_opt(a, "--profile", &profile_id) < 0 ||
        cli_opt(a, "--snippets", &snippets) < 0)
        return CLI_FAIL;
    strict = cli_flag(a, "--strict");
    if (cli_no_more_options(a) || cli_expect(a, 1, TEMPLATE_USAGE))
        return CLI_FAIL;
    file = cli_next(a);

    if (ctx_path) {
        json_error_t jerr;
        ctx = json_load_file(ctx_path, JSON_DECODE_ANY, &jerr);
        if (!ctx)
            return cli_error("%s:%d:%d: %s", ctx_path, jerr.line, jerr.column, jerr.text);
        if (!json_is_object(ctx)) {
            json_decref(ctx);
            return cli_error("%s: the context must be a JSON object", ctx_path);
        }
    }
    if (profile_id) {
        int64_t id;
        if (cr_parse_i64(profile_id, strlen(profile_id), &id) || id <= 0) {
            json_decref(ctx);
            return cli_error("--profile: '%s' is not a profile id", profile_id);
        }
        if ((rc = cli_open_store(c, 0))) {
            json_decref(ctx);
            return rc;
        }
        if (cr_profile_get_json(c->store, id, &profile, &err)) {
            json_decref(ctx);
            return cli_error_err(&err);
        }
        rc = CLI_FAIL;
    } else {
        open_store_quietly(c);
    }
    if (cli_read_file(file, &src))
        goto done;

    memset(&opts, 0, sizeof opts);
    opts.strict = strict;
    opts.clock = c->store ? &c->clock : NULL;
    if (snippets) {
        opts.load_snippet = cr_snippet_load_dir;
        opts.snippet_data = (void *)snippets;
    } else if (c->store) {
        opts.load_snippet = cr_snippet_load_store;
        opts.snippet_data = c->store;
    }
    if (cr_template_compile(src.data, src.len, &opts, &t, &err)) {
        cli_error("%s: %s", file, cr_err_msg(&err));
        goto done;
    }
    vars = cr_tvars_new();
    if (ctx)
        cr_tvars_set_json_object(vars, ctx);
    if (profile)
        cr_tvars_set_json(vars, "profile", profile);
    if (cr_template_render(t, vars, &out, &err)) {
        cli_error("%s: %s", file, cr_err_msg(&err));
        goto done;
    }
    if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
        cli_error("cannot write the output: %s", strerror(errno));
        goto done;
    }
    rc = CLI_OK;
done:
    cr_tvars_free(vars);
    cr_template_free(t);
    json_decref(ctx);
    json_decref(profile);
    cr_buf_release(&src);
    cr_buf_release(&out);
    return rc;
}

static int add(struct cli *c, struct cli_args *a)
{
    int as_json = cli_flag(a, "--json"), replace = cli_flag(a, "--replace"), rc;
    struct cr_err err = CR_ERR_INIT;
    json_error_t je;
    int64_t id;
    if (cli_no_more_options(a) || cli_expect(a, 3, "crier template add CHANNEL NAME FILE.json"))
        return CLI_FAIL;
    const char *channel = cli_next(a), *name = cli_next(a), *file = cli_next(a);
    json_t *content = json_load_file(file, JSON_REJECT_DUPLICATES, &je);
    if (!content)
        return cli_error("%s:%d:%d: %s", file, je.line, je.column, je.text);
    if ((rc = cli_open_store(c, 0))) {
        json_decref(content);
        return rc;
    }
    rc = cr_dtemplate_add(c->store, &c->clock, channel, name, content, replace, &id, &err);
    json_decref(content);
    if (rc) {
        cr_err_prefix(&err, "%s: ", file);
        return cli_error_err(&err);
    }
    cli_print_id(id, as_json);
    return CLI_OK;
}

static int list(struct cli *c, struct cli_args *a)
{
    int as_json = cli_flag(a, "--json"), rc;
    struct cr_err err = CR_ERR_INIT;
    json_t *j, *x;
    size_t i;
    if (cli_no_more_options(a) || cli_expect(a, 0, "crier template list [--json]"))
        return CLI_FAIL;
    if ((rc = cli_open_store(c, 0)))
        return rc;
    if (cr_dtemplate_list(c->store, &j, &err))
        return cli_error_err(&err);
    if (as_json) {
        cli_print_json(j);
    } else {
        json_array_foreach(j, i, x) {
            printf("%-4lld %-30s %s\n", (long long)json_integer_value(json_object_get(x, "id")),
                   json_string_value(json_object_get(x, "name")),
                   json_string_value(json_object_get(x, "channel")));
        }
    }
    json_decref(j);
    return CLI_OK;
}

int cmd_template(struct cli *c, struct cli_args *a)
{
    const char *verb = cli_next(a);
    if (!verb)
        return cli_usage(TEMPLATE_USAGE);
    if (strcmp(verb, "render") == 0)
        return render(c, a);
    if (strcmp(verb, "add") == 0)
        return add(c, a);
    if (strcmp(verb, "list") == 0)
        return list(c, a);
    cli_error("unknown template command '%s'", verb);
    return cli_usage(TEMPLATE_USAGE);
}
