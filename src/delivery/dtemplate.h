/*
 * dtemplate.h - delivery templates: the content of a delivery, per channel, stored by name
 *
 * Email: {"from","reply_to"?,"subject","html"?,"text"?,"headers"?:{name: value},
 * "proof_to"?:[addresses]} — every string is Liquid, compiled when the template is added so
 * errors are found then, with the field and the line and column. Other channels add their
 * own shapes (issues 8-10) through the same table.
 */
#ifndef CR_DTEMPLATE_H
#define CR_DTEMPLATE_H

#include <jansson.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/err.h"
#include "store/store.h"

/* Checks content (borrowed) for channel; CR_EINVAL with err naming the field. */
int cr_dtemplate_check(struct cr_store *s, const char *channel, json_t *content,
                       struct cr_err *err) CR_WARN_UNUSED;
/* Checks and stores; replace allows overwriting an existing template of that name. */
int cr_dtemplate_add(struct cr_store *s, struct cr_clock *clock, const char *channel,
                     const char *name, json_t *content, int replace, int64_t *id,
                     struct cr_err *err) CR_WARN_UNUSED;
/* Loads a template's channel and content (owned by the caller). CR_ENOTFOUND. */
int cr_dtemplate_get(struct cr_store *s, const char *name, int64_t *id, char **channel,
                     json_t **content, struct cr_err *err) CR_WARN_UNUSED;
/* [{"id","name","channel","updated_at"}] */
int cr_dtemplate_list(struct cr_store *s, json_t **out, struct cr_err *err) CR_WARN_UNUSED;

#endif
