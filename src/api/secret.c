/*
 * secret.c - small tools for secrets: base64url, SHA-256 in hex, random tokens, constant-time
 * comparison (see user.h)
 *
 * Spec: RFC 4648 §5 (base64url, no padding).
 */
#include "api/user.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#include "core/random.h"

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void cr_secret_b64url(const unsigned char *p, size_t n, char *out)
{
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        *out++ = b64url[v >> 18 & 63];
        *out++ = b64url[v >> 12 & 63];
        *out++ = b64url[v >> 6 & 63];
        *out++ = b64url[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)p[i] << 16;
        *out++ = b64url[v >> 18 & 63];
        *out++ = b64url[v >> 12 & 63];
    } else if (n - i == 2) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
        *out++ = b64url[v >> 18 & 63];
        *out++ = b64url[v >> 12 & 63];
        *out++ = b64url[v >> 6 & 63];
    }
    *out = 0;
}

void cr_secret_sha256_hex(const char *s, char out[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    static const char hex[] = "0123456789abcdef";
    if (!EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL) || len != 32)
        CR_BUG("SHA-256 failed");
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = 0;
}

int cr_secret_new(size_t n, char *out)
{
    unsigned char raw[64];
    if (n > sizeof raw)
        CR_BUG("secret of %zu bytes", n);
    if (cr_random_bytes(raw, n))
        return CR_EIO;
    cr_secret_b64url(raw, n, out);
    OPENSSL_cleanse(raw, sizeof raw);
    return 0;
}

int cr_secret_equal(const char *a, const char *b)
{
    size_t n = strlen(a);
    return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}
