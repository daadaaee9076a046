/*
 * clock.c - the real clock and a caller-owned fixed clock
 */
#include "core/clock.h"

static cr_time_t real_now(struct cr_clock *c)
{
    (void)c;
    return cr_time_real_now();
}

struct cr_clock cr_clock_real = {real_now, 0, 0};

static cr_time_t fixed_now(struct cr_clock *c)
{
    return c->fixed;
}

void cr_clock_fixed_init(struct cr_clock *c, cr_time_t t)
{
    c->now = fixed_now;
    c->data = 0;
    c->fixed = t;
}
