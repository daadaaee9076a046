/*
 * config.c - key/value settings in the config table
 */
#include "store/config.h"

#include <stddef.h>

int cr_config_get(struct cr_store *s, const char *key, char **value, struct cr_err *err)
{
    int rc;
    *value = NULL;
    rc = cr_store_query_text(s, err, value, "SELECT value FROM config WHERE key = ?", "s", key);
    return rc < 0 ? rc : 0;
}

int cr_config_set(struct cr_store *s, const char *key, const char *value, struct cr_err *err)
{
    if (!value)
        return cr_store_run(s, err, "DELETE FROM config WHERE key = ?", "s", key);
    return cr_store_run(s, err,
                        "INSERT INTO config (key, value) VALUES (?, ?) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        "ss", key, value);
}
