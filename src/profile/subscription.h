/*
 * subscription.h - the devices of profiles that installed a mobile app: listed, deactivated
 *                  and activated again (importing is in import.h; sending deactivates the
 *                  tokens APNs or FCM no longer know)
 */
#ifndef CR_SUBSCRIPTION_H
#define CR_SUBSCRIPTION_H

#include <jansson.h>
#include <stdint.h>

#include "core/clock.h"
#include "store/store.h"

struct cr_subscription_filter {
    const char *app, *platform; /* NULL: any */
    int64_t profile;            /* 0: any */
    int active;                 /* 1 active only, 0 inactive only, -1 both */
    int64_t offset, limit;      /* limit 0: 1000 */
};

/* [{"id","profile","app","platform","token","active","created_at","deactivated_at",
 *   "deactivation_reason"}] by id. */
int cr_subscription_list(struct cr_store *s, const struct cr_subscription_filter *f,
                         json_t **out, struct cr_err *err) CR_WARN_UNUSED;
/* Deactivates (active 0, with reason) or activates again (active 1: the reason is cleared).
 * CR_ENOTFOUND when there is no such subscription. */
int cr_subscription_set_active(struct cr_store *s, struct cr_clock *clock, int64_t id,
                               int active, const char *reason,
                               struct cr_err *err) CR_WARN_UNUSED;

#endif
