/*
 * clock.h - the one source of "now" for everything in crier
 *
 * A clock is a function and its data. The real clock reads the OS. A virtual clock
 * (tests, demos) is frozen at a stored instant and moves only when someone sets or advances it,
 * so waits and schedules pass instantly through the same code as in real time. The virtual
 * clock that separate crier processes share is kept in the store (store/clock_store.h); this
 * header knows nothing of storage.
 */
#ifndef CR_CLOCK_H
#define CR_CLOCK_H

#include "core/datetime.h"

struct cr_clock {
    /* Returns now; a clock that cannot answer (store gone) falls back to the real time. */
    cr_time_t (*now)(struct cr_clock *c);
    void *data;
    cr_time_t fixed; /* for cr_clock_fixed() */
};

/* The OS clock. */
extern struct cr_clock cr_clock_real;

static inline cr_time_t cr_clock_now(struct cr_clock *c)
{
    return c ? c->now(c) : cr_time_real_now();
}

/* A clock frozen at t, owned by the caller; set c->fixed to move it (unit tests). */
void cr_clock_fixed_init(struct cr_clock *c, cr_time_t t);

#endif
