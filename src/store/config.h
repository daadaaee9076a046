/*
 * config.h - settings kept in the store (public URL, secrets, the virtual clock…)
 */
#ifndef CR_CONFIG_H
#define CR_CONFIG_H

#include "store/store.h"

/* *value is malloc'd, or NULL when the key is not set. */
int cr_config_get(struct cr_store *s, const char *key, char **value,
                  struct cr_err *err) CR_WARN_UNUSED;
/* value NULL deletes the key. */
int cr_config_set(struct cr_store *s, const char *key, const char *value,
                  struct cr_err *err) CR_WARN_UNUSED;

#endif
