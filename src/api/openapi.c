/*
 * openapi.c - GET /api/v1/openapi.json: the OpenAPI 3.0 description, built from the route
 *             table (routes.c) the router uses, so the two cannot disagree
 *
 * Spec: OpenAPI Specification 3.0.3. Response bodies are described as JSON without their
 * full schemas (docs/api.md and docs/cli.md give the fields); errors share one schema.
 */
#include "api/api_int.h"

#include <string.h>

#include "core/mem.h"

static json_t *schema_of(const char *type)
{
    if (strcmp(type, "array") == 0)
        return json_pack("{ss s{ss}}", "type", "array", "items", "type", "string");
    return json_pack("{ss}", "type", type);
}

/* Calls each(name, type, required) for "name!:type,name:type". */
static void fields(const char *spec, void (*each)(void *d, const char *name, const char *type,
                                                  int required),
                   void *d)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *p = buf; p && *p;) {
        char *comma = strchr(p, ','), *colon;
        if (comma)
            *comma = 0;
        colon = strchr(p, ':');
        if (!colon)
            CR_BUG("api route field '%s' without a type", p);
        *colon = 0;
        size_t n = strlen(p);
        int required = n && p[n - 1] == '!';
        if (required)
            p[n - 1] = 0;
        each(d, p, colon + 1, required);
        p = comma ? comma + 1 : NULL;
    }
}

static void add_query(void *d, const char *name, const char *type, int required)
{
    json_array_append_new(d, json_pack("{ss ss sb so}", "name", name, "in", "query", "required",
                                       required, "schema", schema_of(type)));
}

static void add_prop(void *d, const char *name, const char *type, int required)
{
    json_object_set_new(json_object_get(d, "properties"), name, schema_of(type));
    if (required)
        json_array_append_new(json_object_get(d, "required"), json_string(name));
}

static json_t *error_ref(const char *why)
{
    return json_pack("{ss s{s{s{ss}}}}", "description", why, "content", "application/json",
                     "schema", "$ref", "#/components/schemas/Error");
}

static json_t *operation(const struct cr_api_route *r)
{
    char id[128];
    /* operationId: method and pattern, e.g. post_deliveries_id_confirm */
    size_t o = (size_t)snprintf(id, sizeof id, "%s", r->method);
    for (const char *p = r->pattern; *p && o + 1 < sizeof id; p++) {
        char ch = *p;
        if (ch == '{' || ch == '}')
            continue;
        id[o++] = ch == '/' || ch == '.' ? '_' : (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    id[o] = 0;
    for (char *p = id; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    json_t *op = json_pack("{ss ss s[s]}", "operationId", id, "summary", r->summary, "tags", r->tag);
    json_t *params = json_array();
    if (strstr(r->pattern, "{id}"))
        json_array_append_new(params, json_pack("{ss ss sb s{ss sI}}", "name", "id", "in", "path",
                                                "required", 1, "schema", "type", "integer",
                                                "minimum", (json_int_t)1));
    if (r->query)
        fields(r->query, add_query, params);
    if (json_array_size(params))
        json_object_set_new(op, "parameters", params);
    else
        json_decref(params);
    if (r->body) {
        json_t *schema = json_pack("{ss s{} s[]}", "type", "object", "properties", "required");
        fields(r->body, add_prop, schema);
        if (!json_array_size(json_object_get(schema, "required")))
            json_object_del(schema, "required");
        json_object_set_new(op, "requestBody",
                            json_pack("{sb s{s{so}}}", "required", strchr(r->body, '!') != NULL, "content",
                                      "application/json", "schema", schema));
    }
    json_t *res = json_object();
    json_object_set_new(res, r->created ? "201" : "200",
                        json_pack("{ss s{s{}}}", "description", "done", "content",
                                  r->produces ? r->produces : "application/json"));
    json_object_set_new(res, "400", error_ref("bad input: the field is named"));
    if (r->role != CR_ROLE_NONE) {
        json_object_set_new(res, "401", error_ref("not authenticated"));
        json_object_set_new(res, "403", error_ref("the role is not enough, or no CSRF token"));
    }
    if (strstr(r->pattern, "{id}"))
        json_object_set_new(res, "404", error_ref("no such object"));
    if (strcmp(r->method, "GET") != 0) {
        json_object_set_new(res, "409", error_ref("not allowed in the object's current state"));
        json_object_set_new(res, "413", error_ref("body too large"));
    }
    json_object_set_new(res, "500", error_ref("internal error"));
    json_object_set_new(op, "responses", res);
    json_object_set_new(op, "x-crier-role", json_string(cr_role_name(r->role)));
    if (r->role == CR_ROLE_NONE)
        json_object_set_new(op, "security", json_array());
    return op;
}

json_t *cr__api_openapi(void)
{
    json_t *paths = json_object();
    for (size_t i = 0; i < cr__api_nroutes; i++) {
        const struct cr_api_route *r = &cr__api_routes[i];
        json_t *item = json_object_get(paths, r->pattern);
        if (!item) {
            item = json_object();
            json_object_set_new(paths, r->pattern, item);
        }
        char m[8];
        size_t k;
        for (k = 0; r->method[k] && k + 1 < sizeof m; k++)
            m[k] = (char)(r->method[k] + ('a' - 'A'));
        m[k] = 0;
        json_object_set_new(item, m, operation(r));
    }
    json_t *err = json_pack("{ss s{s{ss} s{ss} s{ss} s{ss} s{ss}} s[ss]}", "type", "object",
                            "properties", "code", "type", "string", "message", "type", "string",
                            "field", "type", "string", "line", "type", "integer", "column",
                            "type", "integer", "required", "code", "message");
    json_t *error = json_pack("{ss s{so} s[s]}", "type", "object", "properties", "error", err,
                              "required", "error");
    json_t *schemes = json_pack("{s{ss ss ss} s{ss ss}}", "session", "type", "apiKey", "in",
                                "cookie", "name", CR_API_COOKIE, "bearer", "type", "http",
                                "scheme", "bearer");
    return json_pack("{ss s{ss ss ss} s[{ss}] so s{so s{so}} s[{s[]}{s[]}]}", "openapi", "3.0.3",
                     "info", "title", "crier", "version", CRIER_VERSION, "description",
                     "crier's REST API (docs/api.md)", "servers", "url", CR_API_BASE, "paths",
                     paths, "components", "securitySchemes", schemes, "schemas", "Error", error,
                     "security", "session", "bearer");
}

void cr__api_get_openapi(struct cr_api_ctx *x)
{
    cr__api_reply(x, MHD_HTTP_OK, cr__api_openapi());
}
