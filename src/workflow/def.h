/*
 * def.h - a workflow definition: activities joined by transitions, read from JSON or YAML
 *
 * The format is DESIGN §9 (documented in docs/workflow-format.md). cr_wf_def_load() reads the
 * document and checks everything that needs no database: fields and their types, ids,
 * transitions (dangling, cyclic, unknown outputs), where populations come from and their
 * dimension. cr_wf_def_check_store() then checks what needs the store: filters against the
 * live schema, lists, accounts, templates. Both collect every error rather than stopping at
 * the first, so a user fixes a file in one pass.
 *
 * A definition is immutable once loaded; activities keep their JSON (borrowed from def->root),
 * which the activity code reads at execution time.
 */
#ifndef CR_WF_DEF_H
#define CR_WF_DEF_H

#include <jansson.h>
#include <stddef.h>

#include "core/clock.h"
#include "core/err.h"
#include "store/store.h"

enum cr_wf_type { /* ORDER: cr__wf_types in activity.c */
                  CR_WF_START,
                  CR_WF_END,
                  CR_WF_QUERY,
                  CR_WF_READ_LIST,
                  CR_WF_SPLIT,
                  CR_WF_UNION,
                  CR_WF_INTERSECTION,
                  CR_WF_EXCLUSION,
                  CR_WF_DEDUP,
                  CR_WF_WAIT,
                  CR_WF_SCHEDULER,
                  CR_WF_FORK,
                  CR_WF_AND_JOIN,
                  CR_WF_TEST,
                  CR_WF_LIST_UPDATE,
                  CR_WF_EMAIL,
                  CR_WF_SMS,
                  CR_WF_PUSH,
                  CR_WF_EXTERNAL,
                  CR_WF_NTYPES
};

/* What flows out of an activity: nothing (start, scheduler), or a population of profiles
 * or of subscriptions. */
enum cr_wf_flow { CR_WF_FLOW_NONE, CR_WF_FLOW_PROFILE, CR_WF_FLOW_SUBSCRIPTION };

struct cr_wf_transition {
    size_t from, to;    /* activity indexes */
    const char *output; /* output name of from: "default", a segment name, "true"… */
};

struct cr_wf_activity {
    const char *id;
    enum cr_wf_type type;
    json_t *json;        /* borrowed from the definition's root */
    size_t *in, nin;     /* incoming transition indexes, in file order */
    size_t *out, nout;   /* outgoing transition indexes, in file order */
    enum cr_wf_flow in_flow; /* what arrives (computed by the checks) */
    enum cr_wf_flow flow;    /* what it sends on (computed by the checks) */
};

struct cr_wf_def {
    json_t *root; /* owned */
    const char *name, *label, *campaign;
    struct cr_wf_activity *acts;
    size_t nacts;
    struct cr_wf_transition *trans;
    size_t ntrans;
    size_t *order; /* activity indexes in a topological order */
};

/* One problem in a definition: which activity (or none), which field, what. */
struct cr_wf_problem {
    char *activity; /* NULL for the workflow itself or a transition */
    char *field;    /* "filter", "transitions[3].from"… */
    char *message;
};

struct cr_wf_problems {
    struct cr_wf_problem *v;
    size_t n, cap;
};

void cr_wf_problems_add(struct cr_wf_problems *p, const char *activity, const char *field,
                        const char *fmt, ...) CR_PRINTF(4, 5);
void cr_wf_problems_release(struct cr_wf_problems *p);

/* Reads a definition from a JSON value (taken over: freed on failure too). Returns 0, or
 * CR_EINVAL when problems were found (listed in *probs; *out is NULL). */
int cr_wf_def_from_json(json_t *root, struct cr_wf_def **out, struct cr_wf_problems *probs);
/* Reads FILE (.json, .yaml/.yml). A file that is not JSON/YAML is one problem. */
int cr_wf_def_load_file(const char *path, struct cr_wf_def **out, struct cr_wf_problems *probs);
/* As cr_wf_def_from_json from JSON text (a stored definition). */
int cr_wf_def_from_text(const char *text, struct cr_wf_def **out, struct cr_wf_problems *probs);
void cr_wf_def_free(struct cr_wf_def *d);

/* Checks filters, lists, accounts and templates against s. Returns 0 or CR_EINVAL with
 * problems added, or another CR_E* (err set) when the store itself failed. */
int cr_wf_def_check_store(const struct cr_wf_def *d, struct cr_store *s, struct cr_clock *clock,
                          struct cr_wf_problems *probs, struct cr_err *err);

/* The activity with that id, or NULL. */
const struct cr_wf_activity *cr_wf_def_find(const struct cr_wf_def *d, const char *id,
                                            size_t *index);
/* The definition as compact JSON text (the stored form); the caller frees it. */
char *cr_wf_def_dump(const struct cr_wf_def *d);

const char *cr_wf_type_name(enum cr_wf_type t);
int cr_wf_type_is_delivery(enum cr_wf_type t);
/* Waits for every incoming transition before it runs (union, intersection, exclusion,
 * and_join). */
int cr_wf_type_joins(enum cr_wf_type t);

/* Reading an activity's fields (validated at load, so these do not fail on a loaded def). */
const char *cr_wf_str(const struct cr_wf_activity *a, const char *field); /* NULL if absent */
int cr_wf_bool(const struct cr_wf_activity *a, const char *field, int dflt);
long long cr_wf_int(const struct cr_wf_activity *a, const char *field, long long dflt);

#endif
