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

/* Appends the profile's columns, as `p."col", ...` in the schema's order: the row a
 * message is rendered from (the email channel's record has the same columns). */
void cr__delivery_profile_columns(struct cr_buf *sql, const struct cr_schema *profile);

/* The delivery's campaign as templates see it, {"name","label"}, or NULL without one. */
int cr__delivery_campaign(struct cr_store *s, int64_t id, json_t **out, struct cr_err *err);

#endif
