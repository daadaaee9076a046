/*
 * delivery_int.h - what the delivery files share
 */
#ifndef CR_DELIVERY_INT_H
#define CR_DELIVERY_INT_H

#include <jansson.h>

#include "delivery/delivery.h"

int cr__delivery_status(struct cr_store *s, int64_t id, char **status, struct cr_err *err);
int cr__delivery_set_status(struct cr_store *s, struct cr_clock *clock, int64_t id,
                            const char *status, struct cr_err *err);
int cr__delivery_tx(struct cr_store *s, struct cr_err *err,
                    int (*fn)(struct cr_store *, void *, struct cr_err *), void *data);
/* Wakes the workflow activity waiting for this delivery, if any. */
int cr__delivery_finished(struct cr_store *s, struct cr_clock *clock, int64_t id,
                          struct cr_err *err);

#endif
