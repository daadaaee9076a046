/*
 * routes.c - every route of the REST API, its least role and its OpenAPI description
 *
 * The router (api.c) and GET /api/v1/openapi.json (openapi.c) both read this table, so the
 * description cannot drift from what the server answers. Roles: a viewer reads; an operator
 * also acts on deliveries and workflow runs; an admin also manages users and templates.
 */
#include "api/api_int.h"

#define V CR_ROLE_VIEWER
#define O CR_ROLE_OPERATOR
#define A CR_ROLE_ADMIN
#define PAGE "offset:integer,limit:integer"
/* a workflow definition (docs/workflow-format.md) */
#define WF_DOC                                                                                     \
    "name!:string,label:string,description:string,campaign:string,variables:object,"             \
    "activities!:array,transitions:array"

/* ORDER: a literal segment before a {id} one at the same place (the first match wins). */
const struct cr_api_route cr__api_routes[] = {
    /* method, pattern, handler, role, tag, summary, query, body, created, produces */
    {"POST", "/login", cr__api_login, CR_ROLE_NONE, "session",
     "log in: sets the session cookie, returns the CSRF token", NULL,
     "name!:string,password!:string", 0, NULL},
    {"POST", "/logout", cr__api_logout, V, "session", "log out: ends the session", NULL, NULL, 0,
     NULL},
    {"GET", "/me", cr__api_me, V, "session", "the user making the request", NULL, NULL, 0, NULL},
    {"POST", "/me/password", cr__api_me_password, V, "session",
     "change one's own password (the old one is checked; other sessions end)", NULL,
     "old_password!:string,new_password!:string", 0, NULL},
    {"GET", "/openapi.json", cr__api_get_openapi, CR_ROLE_NONE, "session",
     "this description (OpenAPI 3)", NULL, NULL, 0, NULL},

    {"GET", "/profiles", cr__api_profiles, V, "profiles",
     "profiles a filter selects (all without one), by id, with their count",
     "filter:string," PAGE, NULL, 0, NULL},
    {"GET", "/profiles/{id}", cr__api_profile, V, "profiles",
     "one profile, with its subscriptions and lists", NULL, NULL, 0, NULL},
    {"GET", "/subscriptions", cr__api_subscriptions, V, "profiles",
     "app subscriptions (devices)",
     "app:string,platform:string,profile:integer,active:boolean," PAGE, NULL, 0, NULL},
    {"POST", "/subscriptions/{id}/activate", cr__api_subscription_activate, O, "profiles",
     "activate a subscription again", NULL, NULL, 0, NULL},
    {"POST", "/subscriptions/{id}/deactivate", cr__api_subscription_deactivate, O, "profiles",
     "deactivate a subscription (nothing is sent to it)", NULL, "reason:string", 0, NULL},
    {"GET", "/lists", cr__api_lists, V, "profiles", "lists with their member counts", NULL, NULL,
     0, NULL},

    {"GET", "/accounts", cr__api_accounts, V, "setup", "external accounts (never their secrets)",
     NULL, NULL, 0, NULL},
    {"POST", "/accounts", cr__api_account_add, A, "setup",
     "add an account of any kind; its secrets are written, never read back", NULL,
     "kind!:string,name!:string", 201, NULL},
    {"GET", "/templates", cr__api_templates, V, "setup", "delivery templates", NULL, NULL, 0, NULL},
    {"POST", "/templates", cr__api_template_add, A, "setup",
     "add (or with replace, replace) a delivery template, checked first", NULL,
     "channel!:string,name!:string,content!:object,replace:boolean", 201, NULL},
    {"GET", "/campaigns", cr__api_campaigns, V, "campaigns", "campaigns", NULL, NULL, 0, NULL},
    {"POST", "/campaigns", cr__api_campaign_add, O, "campaigns", "create a campaign", NULL,
     "name!:string,label:string,start:string,end:string", 201, NULL},
    {"GET", "/campaigns/{id}", cr__api_campaign, V, "campaigns",
     "a campaign with its workflows and deliveries", NULL, NULL, 0, NULL},
    {"POST", "/campaigns/{id}/close", cr__api_campaign_close, O, "campaigns",
     "close a campaign (its workflows and deliveries go on)", NULL, NULL, 0, NULL},

    {"GET", "/workflows", cr__api_workflows, V, "workflows", "stored workflows", NULL, NULL, 0,
     NULL},
    {"POST", "/workflows", cr__api_workflow_add, O, "workflows",
     "create a workflow from its definition (the body), checked first", NULL, WF_DOC, 201, NULL},
    {"POST", "/workflows/validate", cr__api_workflow_validate, V, "workflows",
     "check a definition (the body) without storing it: {valid, errors}", NULL, WF_DOC, 0, NULL},
    {"GET", "/workflows/{id}", cr__api_workflow, V, "workflows",
     "a workflow: status, version, its stored definition", NULL, NULL, 0, NULL},
    {"PUT", "/workflows/{id}", cr__api_workflow_update, O, "workflows",
     "store a new version of the definition (runs keep theirs)", NULL, WF_DOC, 0, NULL},
    {"GET", "/workflows/{id}/runs", cr__api_workflow_runs, V, "workflows",
     "the runs of a workflow", NULL, NULL, 0, NULL},
    {"POST", "/workflows/{id}/start", cr__api_workflow_start, O, "workflows",
     "start a run of the stored workflow (checked again first)", NULL, "variables:object", 201,
     NULL},
    {"GET", "/runs/{id}", cr__api_run, V, "workflows",
     "a run's status: activities, counts on transitions", NULL, NULL, 0, NULL},
    {"POST", "/runs/{id}/pause", cr__api_run_pause, O, "workflows", "pause a run", NULL, NULL, 0,
     NULL},
    {"POST", "/runs/{id}/resume", cr__api_run_resume, O, "workflows",
     "resume a run (failed activities are retried)", NULL, NULL, 0, NULL},
    {"POST", "/runs/{id}/stop", cr__api_run_stop, O, "workflows", "stop a run for good", NULL,
     NULL, 0, NULL},

    {"GET", "/deliveries", cr__api_deliveries, V, "deliveries",
     "deliveries in progress (all=1: every one, recurring executions too)", "all:boolean", NULL,
     0, NULL},
    {"POST", "/deliveries", cr__api_delivery_create, O, "deliveries",
     "create a delivery (draft): template, account, target filter, options", NULL,
     "template!:string,account!:string,filter!:string,label:string,campaign:string,"
     "confirm:boolean,strict:boolean,validity:string,tracking:string",
     201, NULL},
    {"GET", "/deliveries/{id}", cr__api_delivery, V, "deliveries",
     "a delivery: status, options, preparation, KPIs", NULL, NULL, 0, NULL},
    {"GET", "/deliveries/{id}/kpis", cr__api_delivery_kpis, V, "deliveries", "a delivery's KPIs",
     NULL, NULL, 0, NULL},
    {"GET", "/deliveries/{id}/timeline", cr__api_delivery_timeline, V, "deliveries",
     "opens and clicks per hour or day, unique recipients in each", "bucket:string", NULL, 0,
     NULL},
    {"GET", "/deliveries/{id}/preview", cr__api_delivery_preview, V, "deliveries",
     "an external delivery's file: its header and first rows (text/csv or text/plain)",
     "rows:integer", NULL, 0, "text/csv"},
    {"GET", "/deliveries/{id}/logs", cr__api_delivery_logs, V, "deliveries",
     "one row per recipient (and proof)", "status:string," PAGE, NULL, 0, NULL},
    {"POST", "/deliveries/{id}/prepare", cr__api_delivery_prepare, O, "deliveries",
     "analyse: target and exclusions", NULL, NULL, 0, NULL},
    {"POST", "/deliveries/{id}/proof", cr__api_delivery_proof, O, "deliveries",
     "send proofs to test addresses (default: the template's proof_to)", NULL, "to:array", 0, NULL},
    {"POST", "/deliveries/{id}/confirm", cr__api_delivery_confirm, O, "deliveries",
     "confirm: start sending", NULL, NULL, 0, NULL},
    {"POST", "/deliveries/{id}/pause", cr__api_delivery_pause, O, "deliveries",
     "pause the sending", NULL, NULL, 0, NULL},
    {"POST", "/deliveries/{id}/resume", cr__api_delivery_resume, O, "deliveries",
     "resume the sending", NULL, NULL, 0, NULL},
    {"POST", "/deliveries/{id}/stop", cr__api_delivery_stop, O, "deliveries",
     "stop the sending for good", NULL, NULL, 0, NULL},

    {"GET", "/users", cr__api_users, A, "users", "users and their roles", NULL, NULL, 0, NULL},
    {"POST", "/users", cr__api_user_add, A, "users", "add a user", NULL,
     "name!:string,role!:string,password!:string", 201, NULL},
    {"PATCH", "/users/{id}", cr__api_user_update, A, "users",
     "change a user's role, or disable (enable) it", NULL, "role:string,disabled:boolean", 0,
     NULL},
    {"GET", "/apikeys", cr__api_apikeys, A, "users", "API keys (never the keys themselves)", NULL,
     NULL, 0, NULL},
};
const size_t cr__api_nroutes = sizeof cr__api_routes / sizeof *cr__api_routes;
