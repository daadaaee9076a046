/*
 * account.h - external accounts: where and how a channel sends (DESIGN §3)
 *
 * An account has a kind (smtp, pickup, and later smpp, apns, fcm, routing), the channel it
 * serves, a delivery mode, settings (JSON, shown to users) and secrets (JSON: passwords,
 * keys), which are stored but never printed nor returned by listing functions.
 */
#ifndef CR_ACCOUNT_H
#define CR_ACCOUNT_H

#include <jansson.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/err.h"
#include "store/store.h"

struct cr_account {
    int64_t id;
    char *name, *kind, *channel, *mode;
    json_t *settings; /* owned */
    json_t *secrets;  /* owned; NULL unless asked for */
    int enabled;
};

/* Stores a new account. settings and secrets are borrowed (secrets may be NULL).
 * CR_EEXISTS if the name is taken, CR_EINVAL for a bad name. */
int cr_account_add(struct cr_store *s, struct cr_clock *clock, const char *name,
                   const char *kind, const char *channel, const char *mode, json_t *settings,
                   json_t *secrets, int64_t *id, struct cr_err *err) CR_WARN_UNUSED;
/* Loads by name (or "#ID"); with_secrets also loads the secrets. CR_ENOTFOUND. */
int cr_account_get(struct cr_store *s, const char *name, int with_secrets,
                   struct cr_account *out, struct cr_err *err) CR_WARN_UNUSED;
int cr_account_get_id(struct cr_store *s, int64_t id, int with_secrets, struct cr_account *out,
                      struct cr_err *err) CR_WARN_UNUSED;
void cr_account_release(struct cr_account *a);
/* [{"id","name","kind","channel","mode","settings","enabled","has_secrets"}] */
int cr_account_list(struct cr_store *s, json_t **out, struct cr_err *err) CR_WARN_UNUSED;

#endif
