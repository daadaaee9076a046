/*
 * token.c - encoding and checking signed tracking tokens
 */
/* SHA256_Init & co. are deprecated in OpenSSL 3 in favour of EVP, which allocates per
 * call; they are still provided, and they are what a keyed, allocation-free HMAC needs. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "tracking/token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "store/clock_store.h"
#include "store/config.h"

#define MAC_LEN 12

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int hex_key(const char *hex, unsigned char *out)
{
    size_t n = hex ? strlen(hex) : 0;
    if (n < 32 || n > 64 || n % 2)
        return -1;
    memset(out, 0, 32);
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v = 0;
        for (int j = 0; j < 2; j++) {
            char c = hex[2 * i + (size_t)j];
            v = v * 16 + (unsigned)(c >= '0' && c <= '9'   ? c - '0'
                                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                           : 99);
        }
        if (v > 255)
            return -1;
        out[i] = (unsigned char)v;
    }
    return 0;
}

int cr_token_keys_load(struct cr_store *s, struct cr_token_keys *k, struct cr_err *err)
{
    char *cur = NULL, *prev = NULL;
    int rc = cr_config_get(s, "tracking.secret", &cur, err);
    memset(k, 0, sizeof *k);
    if (!rc)
        rc = cr_config_get(s, "tracking.secret_previous", &prev, err);
    if (!rc && hex_key(cur, k->cur))
        rc = cr_err_set(err, CR_ESTATE, "no tracking secret in the database (run: crier init)");
    if (!rc && prev && hex_key(prev, k->prev) == 0)
        k->has_prev = 1;
    free(cur);
    free(prev);
    /* the previous secret stops working when its grace period ends */
    char *until = NULL;
    if (!rc && k->has_prev && !(rc = cr_config_get(s, "tracking.secret_previous_until", &until,
                                                    err)) && until) {
        cr_time_t end, now;
        int virt;
        struct cr_err e = CR_ERR_INIT;
        if (cr_time_parse(until, strlen(until), &end, &e) == 0 &&
            cr_store_clock_get(s, &now, &virt, &e) == 0 && now >= end)
            k->has_prev = 0;
    }
    free(until);
    return rc;
}

static size_t put_varint(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    do {
        p[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return n;
}

static int get_varint(const unsigned char *p, size_t n, size_t *at, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; *at < n && shift < 64; shift += 7) {
        unsigned char b = p[(*at)++];
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return 0;
    }
    return -1;
}

/* HMAC-SHA256 (RFC 2104) over SHA-256 contexts keyed once: the tracking server checks a
 * token per hit, and OpenSSL's one-shot HMAC() sets up a fresh context (allocations, an
 * algorithm fetch) every time, several times the cost of the two hashes themselves. The
 * keyed contexts are kept per thread for the last keys seen. */
struct keyed {
    unsigned char key[32];
    SHA256_CTX inner, outer;
    int valid;
};
static __thread struct keyed keyed_cache[2];

static const struct keyed *keyed_for(const unsigned char *key)
{
    struct keyed *c = &keyed_cache[0];
    if (c->valid && memcmp(c->key, key, 32) == 0)
        return c;
    if (keyed_cache[1].valid && memcmp(keyed_cache[1].key, key, 32) == 0)
        return &keyed_cache[1];
    keyed_cache[1] = keyed_cache[0]; /* keep the other key of a rotation */
    unsigned char pad[64];
    memset(pad, 0x36, sizeof pad);
    for (int i = 0; i < 32; i++)
        pad[i] ^= key[i];
    SHA256_Init(&c->inner);
    SHA256_Update(&c->inner, pad, sizeof pad);
    memset(pad, 0x5c, sizeof pad);
    for (int i = 0; i < 32; i++)
        pad[i] ^= key[i];
    SHA256_Init(&c->outer);
    SHA256_Update(&c->outer, pad, sizeof pad);
    OPENSSL_cleanse(pad, sizeof pad);
    memcpy(c->key, key, 32);
    c->valid = 1;
    return c;
}

static void mac(const unsigned char *key, const unsigned char *msg, size_t n,
                unsigned char *out)
{
    const struct keyed *k = keyed_for(key);
    unsigned char inner[SHA256_DIGEST_LENGTH], full[SHA256_DIGEST_LENGTH];
    SHA256_CTX c = k->inner;
    SHA256_Update(&c, msg, n);
    SHA256_Final(inner, &c);
    c = k->outer;
    SHA256_Update(&c, inner, sizeof inner);
    SHA256_Final(full, &c);
    memcpy(out, full, MAC_LEN);
}

void cr_token_encode(const struct cr_token_keys *k, const struct cr_token *t, char *out)
{
    unsigned char raw[48];
    size_t n = 0, i, o = 0;
    raw[n++] = (unsigned char)t->kind;
    n += put_varint(raw + n, (uint64_t)t->delivery);
    n += put_varint(raw + n, (uint64_t)t->log);
    if (t->kind == CR_TOKEN_CLICK)
        n += put_varint(raw + n, (uint64_t)t->link);
    mac(k->cur, raw, n, raw + n);
    n += MAC_LEN;
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];
        out[o++] = b64[v >> 18 & 63], out[o++] = b64[v >> 12 & 63];
        out[o++] = b64[v >> 6 & 63], out[o++] = b64[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)raw[i] << 16 | (i + 1 < n ? (uint32_t)raw[i + 1] << 8 : 0);
        out[o++] = b64[v >> 18 & 63], out[o++] = b64[v >> 12 & 63];
        if (i + 1 < n)
            out[o++] = b64[v >> 6 & 63];
    }
    out[o] = 0;
}

int cr_token_decode(const struct cr_token_keys *k, const char *s, size_t n, struct cr_token *t)
{
    unsigned char raw[48], want[MAC_LEN];
    size_t len = 0, at = 1;
    uint32_t acc = 0;
    int bits = 0;
    uint64_t d, l, link = 0;
    if (n < 4 || n > CR_TOKEN_MAX - 1 || n % 4 == 1)
        return CR_EINVAL;
    for (size_t i = 0; i < n; i++) {
        const char *p = memchr(b64, s[i], 64);
        if (!p || !s[i])
            return CR_EINVAL;
        acc = acc << 6 | (uint32_t)(p - b64);
        if ((bits += 6) >= 8) {
            bits -= 8;
            if (len == sizeof raw)
                return CR_EINVAL;
            raw[len++] = (unsigned char)(acc >> bits);
        }
    }
    if ((acc & ((1u << bits) - 1)) != 0) /* one spelling per token: no spare bits set */
        return CR_EINVAL;
    if (len < 1 + 2 + MAC_LEN)
        return CR_EINVAL;
    size_t body = len - MAC_LEN;
    if (get_varint(raw, body, &at, &d) || get_varint(raw, body, &at, &l))
        return CR_EINVAL;
    if (raw[0] == CR_TOKEN_CLICK && get_varint(raw, body, &at, &link))
        return CR_EINVAL;
    if (at != body || (raw[0] != CR_TOKEN_OPEN && raw[0] != CR_TOKEN_CLICK &&
                       raw[0] != CR_TOKEN_UNSUBSCRIBE && raw[0] != CR_TOKEN_MIRROR) ||
        d > INT64_MAX || l > INT64_MAX || link > INT64_MAX)
        return CR_EINVAL;
    mac(k->cur, raw, body, want);
    int ok = CRYPTO_memcmp(want, raw + body, MAC_LEN) == 0;
    if (!ok && k->has_prev) {
        mac(k->prev, raw, body, want);
        ok = CRYPTO_memcmp(want, raw + body, MAC_LEN) == 0;
    }
    if (!ok)
        return CR_EINVAL;
    t->kind = (enum cr_token_kind)raw[0];
    t->delivery = (int64_t)d;
    t->log = (int64_t)l;
    t->link = (int64_t)link;
    return 0;
}
