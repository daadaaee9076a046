/*
 * token.h - signed tracking tokens: what a link in a message stands for
 *
 * A token carries a kind (open, click, unsubscribe, mirror), the delivery, the recipient (the
 * delivery_log row) and, for clicks, the link id, then an HMAC-SHA256 of all that truncated
 * to 96 bits, in URL-safe base64 without padding: about 30 characters. The key is the store's
 * tracking.secret (made by `crier init`); tracking.secret_previous, while set, is still
 * accepted, so links already sent keep working after a rotation. A forged, altered or
 * truncated token does not decode.
 */
#ifndef CR_TRACKING_TOKEN_H
#define CR_TRACKING_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

enum cr_token_kind {
    CR_TOKEN_OPEN = 'o',
    CR_TOKEN_CLICK = 'c',
    CR_TOKEN_UNSUBSCRIBE = 'u',
    CR_TOKEN_MIRROR = 'm',
};

struct cr_token {
    enum cr_token_kind kind;
    int64_t delivery, log, link; /* link 0 unless a click */
};

struct cr_token_keys {
    unsigned char cur[32], prev[32];
    int has_prev;
};

#define CR_TOKEN_MAX 64 /* bytes of an encoded token, NUL included */

/* Reads the secrets from the store. CR_ESTATE when there is none (run crier init). */
int cr_token_keys_load(struct cr_store *s, struct cr_token_keys *k,
                       struct cr_err *err) CR_WARN_UNUSED;
/* Writes the token for t into out (CR_TOKEN_MAX bytes). */
void cr_token_encode(const struct cr_token_keys *k, const struct cr_token *t, char *out);
/* 0 and *t when s (n bytes) is a token signed by the current or the previous key;
 * CR_EINVAL otherwise. */
int cr_token_decode(const struct cr_token_keys *k, const char *s, size_t n, struct cr_token *t);

#endif
