/*
 * password.c - password hashes: PBKDF2-HMAC-SHA256, 600,000 iterations, 16-byte salt
 *
 * Stored as "pbkdf2-sha256$ITERATIONS$SALT$HASH" (salt and hash in base64url), so that the
 * iteration count can be raised later without invalidating existing hashes: verification
 * reads it from the stored text. Spec: RFC 8018 §5.2 (PBKDF2); parameters from the OWASP
 * Password Storage Cheat Sheet (2023). Not here: who may log in (user.c).
 */
#include "api/user.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/parse.h"
#include "core/random.h"

#define SALT_LEN 16
#define HASH_LEN 32
#define SCHEME "pbkdf2-sha256"
#define ITER_MAX 100000000

static int derive(const char *password, const unsigned char *salt, size_t salt_len, long iter,
                  unsigned char out[HASH_LEN])
{
    return PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)salt_len, (int)iter,
                             EVP_sha256(), HASH_LEN, out) == 1
               ? 0
               : CR_EIO;
}

int cr_password_hash(const char *password, char **out, struct cr_err *err)
{
    unsigned char salt[SALT_LEN], hash[HASH_LEN];
    char salt64[32], hash64[48], buf[160];
    size_t n = strlen(password);
    *out = NULL;
    if (n < CR_PASSWORD_MIN)
        return cr_err_set(err, CR_EINVAL, "password too short (at least %d characters)",
                          CR_PASSWORD_MIN);
    if (n > CR_PASSWORD_MAX)
        return cr_err_set(err, CR_EINVAL, "password too long (at most %d bytes)",
                          CR_PASSWORD_MAX);
    if (cr_random_bytes(salt, sizeof salt))
        return cr_err_set(err, CR_EIO, "no random bytes for a salt");
    if (derive(password, salt, sizeof salt, CR_PASSWORD_ITERATIONS, hash))
        return cr_err_set(err, CR_EIO, "PBKDF2 failed");
    cr_secret_b64url(salt, sizeof salt, salt64);
    cr_secret_b64url(hash, sizeof hash, hash64);
    snprintf(buf, sizeof buf, SCHEME "$%d$%s$%s", CR_PASSWORD_ITERATIONS, salt64, hash64);
    OPENSSL_cleanse(hash, sizeof hash);
    *out = cr_xstrdup(buf);
    return 0;
}

static int b64url_value(char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    return ch == '-' ? 62 : ch == '_' ? 63 : -1;
}

/* Decodes n characters of base64url (no padding) into out (at most max bytes): the length,
 * or -1. */
static long b64url_decode(const char *s, size_t n, unsigned char *out, size_t max)
{
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64url_value(s[i]);
        if (v < 0)
            return -1;
        acc = acc << 6 | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == max)
                return -1;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    return (long)o;
}

int cr_password_verify(const char *password, const char *stored)
{
    unsigned char salt[64], want[HASH_LEN], got[HASH_LEN];
    long salt_len = -1, iter = 0;
    int ok = 0;
    const char *p = stored, *d1, *d2, *d3;
    size_t plen = strlen(password);
    if (p && strncmp(p, SCHEME "$", sizeof SCHEME) == 0) {
        p += sizeof SCHEME;
        d1 = strchr(p, '$');
        d2 = d1 ? strchr(d1 + 1, '$') : NULL;
        d3 = d2 ? d2 + 1 : NULL;
        int64_t it;
        if (d1 && d2 && !cr_parse_i64(p, (size_t)(d1 - p), &it) && it > 0 && it <= ITER_MAX) {
            iter = (long)it;
            salt_len = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), salt, sizeof salt);
            if (b64url_decode(d3, strlen(d3), want, sizeof want) != HASH_LEN)
                salt_len = -1;
        }
    }
    if (salt_len <= 0 || plen > CR_PASSWORD_MAX) {
        /* unknown user or unusable hash: spend the same time, then refuse */
        memset(salt, 0, SALT_LEN);
        (void)derive(plen > CR_PASSWORD_MAX ? "" : password, salt, SALT_LEN,
                     CR_PASSWORD_ITERATIONS, got);
        return 0;
    }
    if (!derive(password, salt, (size_t)salt_len, iter, got))
        ok = CRYPTO_memcmp(got, want, HASH_LEN) == 0;
    OPENSSL_cleanse(got, sizeof got);
    return ok;
}
