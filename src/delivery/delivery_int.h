/*
 * delivery_int.h - what the delivery files share
 */
#ifndef CR_DELIVERY_INT_H
#define CR_DELIVERY_INT_H

#include <jansson.h>

#include "core/buf.h"
#include "delivery/delivery.h"
#include "store/schema.h"

int cr__delivery_status(struct cr_store *s, int64_t id, char **status, struct cr_err *err);
int cr__delivery_set_status(struct cr_store *s, struct cr_clock *clock, int64_t id,
                            const char *status, struct cr_err *err);
int cr__delivery_tx(struct cr_store *s, struct cr_err *err,
                    int (*fn)(struct cr_store *, void *, struct cr_err *), void *data);
/* Wakes the workflow activity waiting for this delivery, if any. */
int cr__delivery_finished(struct cr_store *s, struct cr_clock *clock, int64_t id,
                          struct cr_err *err);

/* Prepares fire's recipients (population_id) into delivery id, beside the rows of its
 * earlier fires (recurring.c decides when). In the caller's transaction. */
int cr__delivery_prepare_fire(struct cr_store *s, struct cr_clock *clock, int64_t id,
                              int64_t fire, int64_t population_id, struct cr_err *err);
/* Adds "executions" to a recurring parent's show object, "fires" to an execution's. */
int cr__delivery_show_recurring(struct cr_store *s, int64_t id, json_t *j, struct cr_err *err);
/* "d.id IN (...)": the delivery and, for a recurring parent, its executions (two int
 * parameters, both the id). */
#define CR__DELIVERY_FAMILY "(SELECT id FROM delivery WHERE id = ? OR parent_id = ?)"

/* Appends the profile's columns, as `p."col", ...` in the schema's order: the row a
 * message is rendered from (the email channel's record has the same columns). */
void cr__delivery_profile_columns(struct cr_buf *sql, const struct cr_schema *profile);

/* The delivery's campaign as templates see it, {"name","label"}, or NULL without one. */
int cr__delivery_campaign(struct cr_store *s, int64_t id, json_t **out, struct cr_err *err);

#endif
