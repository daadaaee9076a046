/*
 * cmd_workflow.c - `crier workflow validate|add|start|status|pause|resume|stop|list`
 */
#include "cli/cli.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "workflow/def.h"
#include "workflow/engine.h"

#define WF_USAGE                                                                                   \
    "crier workflow validate FILE [--json]\n"                                                      \
    "       crier workflow add FILE [--json]\n"                                                    \
    "       crier workflow start FILE|NAME [--var NAME=VALUE]... [--json]\n"                       \
    "       crier workflow status RUN [--json]\n"                                                  \
    "       crier workflow pause|resume|stop RUN\n"                                                \
    "       crier workflow list [--json]"

static void print_problems(const char *what, const struct cr_wf_problems *p, int as_json)
{
    if (as_json) {
        json_t *errs = json_array();
        for (size_t i = 0; i < p->n; i++)
            json_array_append_new(errs, json_pack("{so so ss}", "activity",
                                                  p->v[i].activity ? json_string(p->v[i].activity)
                                                                   : json_null(),
                                                  "field",
                                                  p->v[i].field ? json_string(p->v[i].field)
                                                                : json_null(),
                                                  "message", p->v[i].message));
        json_t *j = json_pack("{sb so}", "valid", p->n == 0, "errors", errs);
        cli_print_json(j);
        json_decref(j);
        return;
    }
    for (size_t i = 0; i < p->n; i++) {
        fprintf(stderr, "%s: ", what);
        if (p->v[i].activity)
            fprintf(stderr, "activity '%s', ", p->v[i].activity);
        if (p->v[i].field)
            fprintf(stderr, "%s: ", p->v[i].field);
        fprintf(stderr, "%s\n", p->v[i].message);
    }
}

/* Reads and checks FILE, or the stored workflow NAME when no such file exists. */
static int load_checked(struct cli *c, const char *arg, int stored_ok, int as_json,
                        struct cr_wf_def **d)
{
    struct cr_wf_problems p = {0};
    struct cr_err err = CR_ERR_INIT;
    struct stat sb;
    int rc;
    if (!stored_ok || stat(arg, &sb) == 0 || strchr(arg, '/') || strchr(arg, '.'))
        rc = cr_wf_def_load_file(arg, d, &p);
    else
        rc = cr_wf_load_stored(c->store, arg, d, &p, &err);
    if (rc == CR_ENOTFOUND || (rc && !p.n))
        return cli_error_err(&err);
    if (!rc && (rc = cr_wf_def_check_store(*d, c->store, &c->clock, &p, &err)) && !p.n) {
        cr_wf_def_free(*d);
        *d = NULL;
        return cli_error_err(&err);
    }
    if (rc) {
        print_problems(arg, &p, as_json);
        if (!as_json)
            fprintf(stderr, "crier: %s: %zu problem%s; nothing was stored\n", arg, p.n,
                    p.n == 1 ? "" : "s");
        cr_wf_problems_release(&p);
        cr_wf_def_free(*d);
        *d = NULL;
        return CLI_NO;
    }
    return CLI_OK;
}

static json_t *var_value(const char *v)
{
    json_error_t je;
    json_t *j = json_loads(v, JSON_DECODE_ANY, &je);
    if (j && (json_is_number(j) || json_is_boolean(j)))
        return j;
    json_decref(j);
    return json_string(v);
}

static int start(struct cli *c, struct cli_args *a)
{
    int as_json = cli_flag(a, "--json"), rc;
    json_t *vars = json_object();
    const char *v;
    while ((rc = cli_opt(a, "--var", &v)) == 1) {
        const char *eq = strchr(v, '=');
        if (!eq || eq == v) {
            json_decref(vars);
            return cli_error("--var takes NAME=VALUE, not '%s'", v);
        }
        char *name = strndup(v, (size_t)(eq - v));
        json_object_set_new(vars, name, var_value(eq + 1));
        free(name);
    }
    if (rc < 0 || cli_no_more_options(a) ||
        cli_expect(a, 1, "crier workflow start FILE|NAME [--var NAME=VALUE]... [--json]")) {
        json_decref(vars);
        return CLI_FAIL;
    }
    const char *arg = cli_next(a);
    struct cr_wf_def *d = NULL;
    struct cr_wf_problems p = {0};
    struct cr_err err = CR_ERR_INIT;
    int64_t run;
    if ((rc = cli_open_store(c, 0)) || (rc = load_checked(c, arg, 1, as_json, &d))) {
        json_decref(vars);
        return rc == CLI_NO ? CLI_FAIL : rc;
    }
    rc = cr_wf_start(c->store, &c->clock, d, vars, &run, &p, &err);
    json_decref(vars);
    cr_wf_def_free(d);
    if (rc == CR_EINVAL && p.n) {
        print_problems(arg, &p, 0);
        cr_wf_problems_release(&p);
        return CLI_FAIL;
    }
    if (rc)
        return cli_error_err(&err);
    if (as_json)
        printf("{\"run\":%lld}\n", (long long)run);
    else
        printf("%lld\n", (long long)run);
    return CLI_OK;
}

static void print_status_text(json_t *j)
{
    json_t *act;
    size_t i;
    printf("run %lld of %s: %s", (long long)json_integer_value(json_object_get(j, "run")),
           json_string_value(json_object_get(j, "workflow")),
           json_string_value(json_object_get(j, "status")));
    if (json_is_string(json_object_get(j, "error")))
        printf(" (%s)", json_string_value(json_object_get(j, "error")));
    printf("\n%-20s %-12s %-10s %10s %10s  outputs\n", "activity", "type", "status", "in", "out");
    json_array_foreach(json_object_get(j, "activities"), i, act) {
        const char *k;
        json_t *v;
        printf("%-20s %-12s %-10s %10lld %10lld ", json_string_value(json_object_get(act, "id")),
               json_string_value(json_object_get(act, "type")),
               json_string_value(json_object_get(act, "status")),
               (long long)json_integer_value(json_object_get(act, "count_in")),
               (long long)json_integer_value(json_object_get(act, "count_out")));
        json_object_foreach(json_object_get(act, "outputs"), k, v) {
            printf(" %s=%lld", k, (long long)json_integer_value(v));
        }
        if (json_is_string(json_object_get(act, "wake_at")))
            printf(" (until %s)", json_string_value(json_object_get(act, "wake_at")));
        if (json_is_string(json_object_get(act, "error")))
            printf(" error: %s", json_string_value(json_object_get(act, "error")));
        printf("\n");
    }
}

int cmd_workflow(struct cli *c, struct cli_args *a)
{
    struct cr_err err = CR_ERR_INIT;
    const char *verb = cli_next(a);
    int rc;
    if (!verb)
        return cli_usage(WF_USAGE);
    if (strcmp(verb, "validate") == 0 || strcmp(verb, "add") == 0) {
        int as_json = cli_flag(a, "--json");
        struct cr_wf_def *d = NULL;
        if (cli_no_more_options(a) || cli_expect(a, 1, "crier workflow validate|add FILE"))
            return CLI_FAIL;
        const char *file = cli_next(a);
        if ((rc = cli_open_store(c, 0)) || (rc = load_checked(c, file, 0, as_json, &d)))
            return rc;
        if (strcmp(verb, "validate") == 0) {
            if (as_json)
                puts("{\"valid\":true,\"errors\":[]}");
            else
                printf("%s: valid (%zu activities, %zu transitions)\n", file, d->nacts,
                       d->ntrans);
            cr_wf_def_free(d);
            return CLI_OK;
        }
        int64_t id;
        if (!(rc = cr_store_begin(c->store, &err))) {
            if ((rc = cr_wf_save(c->store, &c->clock, d, &id, &err)))
                cr_store_rollback(c->store);
            else
                rc = cr_store_commit(c->store, &err);
        }
        cr_wf_def_free(d);
        if (rc)
            return cli_error_err(&err);
        cli_print_id(id, as_json);
        return CLI_OK;
    }
    if (strcmp(verb, "start") == 0)
        return start(c, a);
    if (strcmp(verb, "status") == 0) {
        int as_json = cli_flag(a, "--json");
        int64_t run;
        json_t *j;
        if ((rc = cli_id_arg(a, "crier workflow status RUN [--json]", "a run", &run)) ||
            (rc = cli_open_store(c, 0)))
            return rc;
        if (cr_wf_status(c->store, run, &j, &err))
            return cli_error_err(&err);
        if (as_json)
            cli_print_json(j);
        else
            print_status_text(j);
        json_decref(j);
        return CLI_OK;
    }
    if (strcmp(verb, "pause") == 0 || strcmp(verb, "resume") == 0 || strcmp(verb, "stop") == 0) {
        enum cr_wf_control what = verb[0] == 'p' ? CR_WF_PAUSE
                                  : verb[0] == 'r' ? CR_WF_RESUME
                                                   : CR_WF_STOP;
        int64_t run;
        if ((rc = cli_id_arg(a, "crier workflow pause|resume|stop RUN", "a run", &run)) ||
            (rc = cli_open_store(c, 0)))
            return rc;
        if (cr_wf_control(c->store, &c->clock, run, what, &err))
            return cli_error_err(&err);
        return CLI_OK;
    }
    if (strcmp(verb, "list") == 0) {
        int as_json = cli_flag(a, "--json");
        json_t *j, *w;
        size_t i;
        if (cli_no_more_options(a) || cli_expect(a, 0, "crier workflow list [--json]"))
            return CLI_FAIL;
        if ((rc = cli_open_store(c, 0)))
            return rc;
        if (cr_wf_list(c->store, &j, &err))
            return cli_error_err(&err);
        if (as_json)
            cli_print_json(j);
        else
            json_array_foreach(j, i, w) {
                json_t *lr = json_object_get(w, "last_run");
                printf("%-6lld %-30s %-10s v%-4lld %s\n",
                       (long long)json_integer_value(json_object_get(w, "id")),
                       json_string_value(json_object_get(w, "name")),
                       json_string_value(json_object_get(w, "status")),
                       (long long)json_integer_value(json_object_get(w, "version")),
                       json_is_integer(lr) ? "" : "(never run)");
            }
        json_decref(j);
        return CLI_OK;
    }
    cli_error("unknown workflow command '%s'", verb);
    return cli_usage(WF_USAGE);
}
