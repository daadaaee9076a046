/*
 * res_workflow.c - /workflows (list, show, create, new version, validate, runs, start) and
 *                  /runs/{id} (status, pause, resume, stop), with the JSON of `crier workflow
 *                  list|status|validate --json`
 *
 * A definition is sent as the request body itself: the document of docs/workflow-format.md,
 * as JSON. It is checked as `crier workflow add FILE` checks a file (the document, then
 * filters, lists, accounts and templates against the store); problems answer 400
 * invalid_workflow with every problem listed. POST creates (409 when the name is taken);
 * PUT /workflows/{id} stores a new version, as `crier workflow add` does for a stored name
 * (runs keep the version they started with).
 */
#include "api/api_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "workflow/def.h"
#include "workflow/engine.h"

void cr__api_workflows(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    json_t *j;
    int rc = cr_wf_list(x->s, &j, &err);
    if (rc)
        cr__api_fail(x, rc, &err, NULL);
    else
        cr__api_reply(x, MHD_HTTP_OK, j);
}

/* The name of workflow x->id in *name (malloc'd); 0, or -1 with the reply set. */
static int workflow_name(struct cr_api_ctx *x, char **name)
{
    struct cr_err err = CR_ERR_INIT;
    int rc = cr_store_query_text(x->s, &err, name, "SELECT name FROM workflow WHERE id = ?", "i",
                                 x->id);
    if (rc == 0)
        rc = cr_err_set(&err, CR_ENOTFOUND, "no workflow with id %lld", (long long)x->id);
    if (rc < 0) {
        cr__api_fail(x, rc, &err, NULL);
        return -1;
    }
    return 0;
}

void cr__api_workflow_runs(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    struct cr_stmt *st;
    char *name = NULL;
    int rc;
    if (workflow_name(x, &name))
        return;
    free(name);
    if ((rc = cr_stmt_prepare(x->s,
                              "SELECT id, status, version, started_at, ended_at, error, "
                              "parent_run_id, cause FROM workflow_run WHERE workflow_id = ? "
                              "ORDER BY id",
                              &st, &err))) {
        cr__api_fail(x, rc, &err, NULL);
        return;
    }
    cr_stmt_bind_int64(st, 1, x->id);
    json_t *arr = json_array();
    while ((rc = cr_stmt_step(st, &err)) == 1) {
        json_t *r = json_pack("{sI ss sI so so}", "run", (json_int_t)cr_stmt_int64(st, 0),
                              "status", cr_stmt_text(st, 1), "version",
                              (json_int_t)cr_stmt_int64(st, 2), "started_at",
                              cr__api_time(cr_stmt_text(st, 3)), "ended_at",
                              cr__api_time(cr_stmt_text(st, 4)));
        json_object_set_new(r, "error",
                            cr_stmt_text(st, 5) ? json_string(cr_stmt_text(st, 5)) : json_null());
        json_object_set_new(r, "parent",
                            cr_stmt_is_null(st, 6) ? json_null()
                                                   : json_integer(cr_stmt_int64(st, 6)));
        json_object_set_new(r, "cause",
                            cr_stmt_text(st, 7) ? json_string(cr_stmt_text(st, 7)) : json_null());
        json_array_append_new(arr, r);
    }
    cr_stmt_free(st);
    if (rc < 0) {
        json_decref(arr);
        cr__api_fail(x, rc, &err, NULL);
        return;
    }
    cr__api_reply(x, MHD_HTTP_OK, arr);
}

static json_t *problems_json(const struct cr_wf_problems *p)
{
    json_t *errs = json_array();
    for (size_t i = 0; i < p->n; i++)
        json_array_append_new(
            errs, json_pack("{so so ss}", "activity",
                            p->v[i].activity ? json_string(p->v[i].activity) : json_null(),
                            "field", p->v[i].field ? json_string(p->v[i].field) : json_null(),
                            "message", p->v[i].message));
    return errs;
}

/* A 400 invalid_workflow reply listing the problems as `workflow validate --json` does;
 * what: "started", "stored". */
static void invalid(struct cr_api_ctx *x, const char *name, const struct cr_wf_problems *p,
                    const char *what)
{
    cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid_workflow", NULL,
                  "workflow '%s': %zu problem%s; nothing was %s", name, p->n,
                  p->n == 1 ? "" : "s", what);
    json_object_set_new(json_object_get(x->out, "error"), "problems", problems_json(p));
}

void cr__api_workflow_start(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    struct cr_wf_problems p = {0};
    struct cr_wf_def *d = NULL;
    char *name = NULL;
    int64_t run;
    int rc;
    json_t *body = cr__api_body(x, 1), *vars;
    if (!body)
        return;
    vars = json_object_get(body, "variables");
    if (vars && !json_is_object(vars)) {
        cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "variables",
                      "variables is an object: {\"name\": value}");
        goto out;
    }
    if (workflow_name(x, &name))
        goto out;
    rc = cr_wf_load_stored(x->s, name, &d, &p, &err);
    if (!rc)
        rc = cr_wf_def_check_store(d, x->s, &x->clock, &p, &err);
    if (!rc)
        rc = cr_wf_start(x->s, &x->clock, d, vars, &run, &p, &err);
    if (rc && p.n)
        invalid(x, name, &p, "started");
    else if (rc)
        cr__api_fail(x, rc, &err, NULL);
    else
        cr__api_reply(x, MHD_HTTP_OK, json_pack("{sI}", "run", (json_int_t)run));
out:
    cr_wf_problems_release(&p);
    cr_wf_def_free(d);
    free(name);
    json_decref(body);
}

void cr__api_run(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    json_t *j;
    int rc = cr_wf_status(x->s, x->id, &j, &err);
    if (rc)
        cr__api_fail(x, rc, &err, NULL);
    else
        cr__api_reply(x, MHD_HTTP_OK, j);
}

static void control(struct cr_api_ctx *x, enum cr_wf_control what)
{
    struct cr_err err = CR_ERR_INIT;
    int rc = cr_wf_control(x->s, &x->clock, x->id, what, &err);
    if (rc)
        cr__api_fail(x, rc, &err, NULL);
    else
        cr__api_run(x);
}

void cr__api_run_pause(struct cr_api_ctx *x)
{
    control(x, CR_WF_PAUSE);
}

void cr__api_run_resume(struct cr_api_ctx *x)
{
    control(x, CR_WF_RESUME);
}

void cr__api_run_stop(struct cr_api_ctx *x)
{
    control(x, CR_WF_STOP);
}

/* ------------------------------------------------------- definitions sent in --- */

/* The workflow id as `crier workflow list --json` shows it, with its stored definition
 * ("definition", the document). 0, or -1 with the reply set. */
static int workflow_json(struct cr_api_ctx *x, int64_t id, json_t **out)
{
    struct cr_err err = CR_ERR_INIT;
    json_t *list, *w;
    char *text = NULL;
    size_t i;
    int rc = cr_wf_list(x->s, &list, &err);
    *out = NULL;
    if (rc) {
        cr__api_fail(x, rc, &err, NULL);
        return -1;
    }
    json_array_foreach(list, i, w)
    {
        if (json_integer_value(json_object_get(w, "id")) == id) {
            *out = json_incref(w);
            break;
        }
    }
    json_decref(list);
    if (!*out) {
        cr__api_error(x, MHD_HTTP_NOT_FOUND, "not_found", NULL, "no workflow with id %lld",
                      (long long)id);
        return -1;
    }
    rc = cr_store_query_text(x->s, &err, &text, "SELECT definition FROM workflow WHERE id = ?",
                             "i", id);
    if (rc < 0) {
        json_decref(*out);
        *out = NULL;
        cr__api_fail(x, rc, &err, NULL);
        return -1;
    }
    json_t *def = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    json_object_set_new(*out, "definition", def ? def : json_null());
    free(text);
    return 0;
}

void cr__api_workflow(struct cr_api_ctx *x)
{
    json_t *j;
    if (!workflow_json(x, x->id, &j))
        cr__api_reply(x, MHD_HTTP_OK, j);
}

/* Reads and checks the definition in the body. With must_name (PUT), the document names
 * that workflow (a missing "name" is taken as it). 0 and *d; 1 with the problems in *p
 * (*name: the document's name, malloc'd); -1 with the reply set. */
static int definition(struct cr_api_ctx *x, const char *must_name, struct cr_wf_def **d,
                      struct cr_wf_problems *p, char **name)
{
    struct cr_err err = CR_ERR_INIT;
    json_t *body = cr__api_body(x, 0);
    int rc;
    *d = NULL;
    *name = NULL;
    if (!body)
        return -1;
    json_t *n = json_object_get(body, "name");
    if (must_name && !n)
        json_object_set_new(body, "name", json_string(must_name));
    else if (must_name && json_is_string(n) && strcmp(json_string_value(n), must_name)) {
        cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid", "name",
                      "this is workflow '%s': a definition named '%s' is another workflow "
                      "(POST /workflows creates one)",
                      must_name, json_string_value(n));
        json_decref(body);
        return -1;
    }
    n = json_object_get(body, "name");
    *name = cr_xstrdup(json_is_string(n) ? json_string_value(n) : "(unnamed)");
    rc = cr_wf_def_from_json(body, d, p); /* takes body */
    if (!rc && (rc = cr_wf_def_check_store(*d, x->s, &x->clock, p, &err)) && !p->n) {
        cr__api_fail(x, rc, &err, NULL);
        return -1;
    }
    if (rc && !p->n) {
        cr__api_error(x, MHD_HTTP_BAD_REQUEST, "invalid_workflow", NULL,
                      "workflow '%s' is not valid", *name);
        return -1;
    }
    return rc ? 1 : 0;
}

/* Stores d (a new version when its name is stored) and answers the workflow. */
static void save(struct cr_api_ctx *x, const struct cr_wf_def *d)
{
    struct cr_err err = CR_ERR_INIT;
    int64_t id;
    json_t *j;
    int rc = cr_store_begin(x->s, &err);
    if (!rc && (rc = cr_wf_save(x->s, &x->clock, d, &id, &err)))
        cr_store_rollback(x->s);
    else if (!rc)
        rc = cr_store_commit(x->s, &err);
    if (rc)
        cr__api_fail(x, rc, &err, NULL);
    else if (!workflow_json(x, id, &j))
        cr__api_reply(x, MHD_HTTP_OK, j);
}

void cr__api_workflow_add(struct cr_api_ctx *x)
{
    struct cr_err err = CR_ERR_INIT;
    struct cr_wf_problems p = {0};
    struct cr_wf_def *d = NULL;
    char *name = NULL;
    int64_t id = 0;
    int rc = definition(x, NULL, &d, &p, &name);
    if (rc == 1)
        invalid(x, name, &p, "stored");
    if (rc)
        goto out;
    rc = cr_store_query_int64(x->s, &err, &id, "SELECT id FROM workflow WHERE name = ?", "s",
                              d->name);
    if (rc < 0)
        cr__api_fail(x, rc, &err, NULL);
    else if (rc > 0)
        cr__api_error(x, MHD_HTTP_CONFLICT, "exists", "name",
                      "a workflow named '%s' exists (id %lld): PUT " CR_API_BASE
                      "/workflows/%lld stores a new version",
                      d->name, (long long)id, (long long)id);
    else
        save(x, d);
out:
    cr_wf_problems_release(&p);
    cr_wf_def_free(d);
    free(name);
}

void cr__api_workflow_update(struct cr_api_ctx *x)
{
    struct cr_wf_problems p = {0};
    struct cr_wf_def *d = NULL;
    char *stored = NULL, *name = NULL;
    int rc;
    if (workflow_name(x, &stored))
        return;
    rc = definition(x, stored, &d, &p, &name);
    if (rc == 1)
        invalid(x, name, &p, "stored");
    else if (rc == 0)
        save(x, d);
    cr_wf_problems_release(&p);
    cr_wf_def_free(d);
    free(stored);
    free(name);
}

void cr__api_workflow_validate(struct cr_api_ctx *x)
{
    struct cr_wf_problems p = {0};
    struct cr_wf_def *d = NULL;
    char *name = NULL;
    int rc = definition(x, NULL, &d, &p, &name);
    if (rc >= 0)
        cr__api_reply(x, MHD_HTTP_OK,
                      json_pack("{sb so}", "valid", p.n == 0, "errors", problems_json(&p)));
    cr_wf_problems_release(&p);
    cr_wf_def_free(d);
    free(name);
}
