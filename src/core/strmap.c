/*
 * strmap.c - string to int64 hash map: linear probing, power-of-two capacity, load <= 1/2
 */
#include "core/strmap.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

/* FNV-1a, then a final mix so the low bits used for the index depend on every byte. */
static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h ? h : 1; /* 0 marks an empty slot */
}

void cr_strmap_init(struct cr_strmap *m)
{
    memset(m, 0, sizeof *m);
}

void cr_strmap_release(struct cr_strmap *m)
{
    free(m->slots);
    free(m->keys);
    cr_strmap_init(m);
}

static struct cr_strmap_slot *find(const struct cr_strmap *m, uint64_t h, const char *key,
                                   size_t len)
{
    size_t mask = m->cap - 1, i = (size_t)h & mask;
    for (;;) {
        struct cr_strmap_slot *s = &m->slots[i];
        if (s->hash == 0)
            return s;
        if (s->hash == h && s->key_len == len && memcmp(m->keys + s->key_off, key, len) == 0)
            return s;
        i = (i + 1) & mask;
    }
}

int cr_strmap_get(const struct cr_strmap *m, const char *key, size_t len, int64_t *value)
{
    struct cr_strmap_slot *s;
    if (!m->cap)
        return 0;
    s = find(m, hash_bytes(key, len), key, len);
    if (!s->hash)
        return 0;
    *value = s->value;
    return 1;
}

static void grow(struct cr_strmap *m)
{
    struct cr_strmap_slot *old = m->slots;
    size_t oldcap = m->cap;
    m->cap = m->cap ? m->cap * 2 : 64;
    m->slots = cr_xcalloc(m->cap, sizeof *m->slots);
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i].hash) {
            size_t j = (size_t)old[i].hash & (m->cap - 1);
            while (m->slots[j].hash)
                j = (j + 1) & (m->cap - 1);
            m->slots[j] = old[i];
        }
    }
    free(old);
}

void cr_strmap_put(struct cr_strmap *m, const char *key, size_t len, int64_t value)
{
    uint64_t h = hash_bytes(key, len);
    struct cr_strmap_slot *s;
    if ((m->count + 1) * 2 > m->cap)
        grow(m);
    s = find(m, h, key, len);
    if (s->hash) {
        s->value = value;
        return;
    }
    if (m->keys_len + len > m->keys_cap) {
        m->keys_cap = m->keys_cap ? m->keys_cap * 2 : 4096;
        while (m->keys_cap < m->keys_len + len)
            m->keys_cap *= 2;
        m->keys = cr_xrealloc(m->keys, m->keys_cap);
    }
    if (len)
        memcpy(m->keys + m->keys_len, key, len);
    s->hash = h;
    s->key_off = m->keys_len;
    s->key_len = len;
    s->value = value;
    m->keys_len += len;
    m->count++;
}
