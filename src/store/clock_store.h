/*
 * clock_store.h - the clock crier processes share through the store
 *
 * When the config key "clock.virtual" holds an instant, every process reading this clock sees
 * that instant until someone sets or advances it (`crier clock …`); without it, the clock is
 * the real one. Reading costs one small query, so engines see an advance made by another
 * process at their next look.
 */
#ifndef CR_CLOCK_STORE_H
#define CR_CLOCK_STORE_H

#include "core/clock.h"
#include "store/store.h"

/* A clock that reads s (which must outlive it). */
void cr_store_clock_init(struct cr_clock *c, struct cr_store *s);
/* is_virtual receives 1 when the virtual clock is on. */
int cr_store_clock_get(struct cr_store *s, cr_time_t *now, int *is_virtual,
                       struct cr_err *err) CR_WARN_UNUSED;
int cr_store_clock_set(struct cr_store *s, cr_time_t t, struct cr_err *err) CR_WARN_UNUSED;
/* Advances the virtual clock by delta (starting it from the real time if it was off);
 * *now receives the new time. */
int cr_store_clock_advance(struct cr_store *s, int64_t delta, cr_time_t *now,
                           struct cr_err *err) CR_WARN_UNUSED;
/* Back to the real time. */
int cr_store_clock_real(struct cr_store *s, struct cr_err *err) CR_WARN_UNUSED;

#endif
