/*
 * strmap.h - a hash map from byte strings to 64-bit integers (open addressing)
 *
 * Keys are copied into the map's own arena; the map owns everything it holds and
 * cr_strmap_release() frees it. Not thread-safe. Grows without bound: callers that take keys
 * from outside input bound the number of entries themselves.
 */
#ifndef CR_STRMAP_H
#define CR_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct cr_strmap_slot {
    uint64_t hash; /* 0 = empty */
    size_t key_off, key_len;
    int64_t value;
};

struct cr_strmap {
    struct cr_strmap_slot *slots; /* private */
    size_t cap, count;            /* count is public, read-only */
    char *keys;                   /* private: arena of key bytes */
    size_t keys_len, keys_cap;
};

void cr_strmap_init(struct cr_strmap *m);
void cr_strmap_release(struct cr_strmap *m);
/* Returns 1 and sets *value if key is present, else 0. */
int cr_strmap_get(const struct cr_strmap *m, const char *key, size_t len, int64_t *value);
/* Inserts or replaces. */
void cr_strmap_put(struct cr_strmap *m, const char *key, size_t len, int64_t value);

#endif
