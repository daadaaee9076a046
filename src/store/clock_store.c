/*
 * clock_store.c - the shared virtual clock kept in the config table
 */
#include "store/clock_store.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/config.h"

#define CLOCK_KEY "clock.virtual"

int cr_store_clock_get(struct cr_store *s, cr_time_t *now, int *is_virtual, struct cr_err *err)
{
    char *v = NULL;
    int rc = cr_config_get(s, CLOCK_KEY, &v, err);
    if (rc)
        return rc;
    if (!v) {
        *now = cr_time_real_now();
        if (is_virtual)
            *is_virtual = 0;
        return 0;
    }
    rc = cr_time_parse(v, strlen(v), now, err);
    free(v);
    if (rc)
        return rc;
    if (is_virtual)
        *is_virtual = 1;
    return 0;
}

static cr_time_t store_now(struct cr_clock *c)
{
    cr_time_t t;
    struct cr_err err = CR_ERR_INIT;
    if (cr_store_clock_get(c->data, &t, NULL, &err)) {
        cr_log_warn("cannot read the clock, using the real time: %s", cr_err_msg(&err));
        return cr_time_real_now();
    }
    return t;
}

void cr_store_clock_init(struct cr_clock *c, struct cr_store *s)
{
    c->now = store_now;
    c->data = s;
    c->fixed = 0;
}

int cr_store_clock_set(struct cr_store *s, cr_time_t t, struct cr_err *err)
{
    char buf[CR_TIME_BUFSZ];
    return cr_config_set(s, CLOCK_KEY, cr_time_format_iso(t, buf), err);
}

int cr_store_clock_advance(struct cr_store *s, int64_t delta, cr_time_t *now, struct cr_err *err)
{
    cr_time_t t;
    int rc;
    if (delta < 0)
        return cr_err_set(err, CR_EINVAL, "the clock only moves forward");
    rc = cr_store_begin(s, err);
    if (rc)
        return rc;
    rc = cr_store_clock_get(s, &t, NULL, err);
    if (!rc)
        rc = cr_store_clock_set(s, t + delta, err);
    if (rc) {
        cr_store_rollback(s);
        return rc;
    }
    rc = cr_store_commit(s, err);
    if (!rc && now)
        *now = t + delta;
    return rc;
}

int cr_store_clock_real(struct cr_store *s, struct cr_err *err)
{
    return cr_config_set(s, CLOCK_KEY, NULL, err);
}
