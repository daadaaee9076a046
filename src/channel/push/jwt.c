/*
 * jwt.c - base64url and ES256 / RS256 compact JWS signing with OpenSSL 3's EVP interface
 *
 * OpenSSL's ECDSA gives a DER SEQUENCE { r INTEGER, s INTEGER } of variable length; JWS wants
 * r and s as fixed 32-octet big-endian numbers side by side (RFC 7518 §3.4), which Apple checks.
 * The conversion goes through ECDSA_SIG (d2i, then BN_bn2binpad to 32 octets each).
 *
 * Spec: RFC 4648 §5 (base64url), RFC 7515 §3.1 and Appendix C, RFC 7518 §3.3-3.4.
 */
#include "channel/push/jwt.h"

#include <limits.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"

#define ES256_HALF 32 /* octets of r and of s on P-256 */
#define RS256_MIN_BITS 2048

struct cr_jwt_key {
    enum cr_jwt_alg alg;
    EVP_PKEY *pkey; /* read-only after cr_jwt_key_new */
};

static const char b64url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int cr_jwt_b64url(struct cr_buf *b, const void *p, size_t n)
{
    const unsigned char *s = p;
    char q[4];
    for (size_t i = 0; i < n; i += 3) {
        size_t left = n - i;
        unsigned v = (unsigned)s[i] << 16;
        if (left > 1)
            v |= (unsigned)s[i + 1] << 8;
        if (left > 2)
            v |= s[i + 2];
        q[0] = b64url_chars[(v >> 18) & 63];
        q[1] = b64url_chars[(v >> 12) & 63];
        q[2] = b64url_chars[(v >> 6) & 63];
        q[3] = b64url_chars[v & 63];
        cr_buf_append(b, q, left >= 3 ? 4 : left + 1); /* no padding */
    }
    return b->err;
}

static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int cr_jwt_b64url_decode(struct cr_buf *out, const char *s, size_t n)
{
    while (n && s[n - 1] == '=') /* tolerated, not required */
        n--;
    if (n % 4 == 1)
        return CR_ESYNTAX; /* one leftover character carries only 6 bits: not a whole octet */
    unsigned v = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int d = b64url_value((unsigned char)s[i]);
        if (d < 0)
            return CR_ESYNTAX;
        v = (v << 6) | (unsigned)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            cr_buf_putc(out, (char)((v >> bits) & 0xff));
        }
    }
    return out->err;
}

/* Sets err from OpenSSL's error queue (and empties the queue). */
static int ssl_err(struct cr_err *err, int code, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    char buf[256];
    if (e && !reason) {
        ERR_error_string_n(e, buf, sizeof buf);
        reason = buf;
    }
    cr_err_set(err, code, "%s: %s", what, reason ? reason : "unknown OpenSSL error");
    ERR_clear_error();
    return code;
}

static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1; /* encrypted keys are refused rather than prompting on a terminal */
}

/* The key suits alg: P-256 for ES256, RSA >= 2048 bits for RS256. */
static int check_key(enum cr_jwt_alg alg, EVP_PKEY *pkey, const char *what, struct cr_err *err)
{
    const char *type = EVP_PKEY_get0_type_name(pkey);
    if (alg == CR_JWT_ES256) {
        char group[64] = "";
        if (!EVP_PKEY_is_a(pkey, "EC"))
            return cr_err_set(err, CR_EINVAL, "%s has type %s, not EC P-256 (ES256)", what,
                              type ? type : "non-EC");
        if (!EVP_PKEY_get_group_name(pkey, group, sizeof group, NULL) ||
            (strcasecmp(group, "prime256v1") != 0 && strcasecmp(group, "P-256") != 0))
            return cr_err_set(err, CR_EINVAL, "%s is on curve %s, not P-256 (ES256)", what,
                              group[0] ? group : "(unknown)");
        return 0;
    }
    if (!EVP_PKEY_is_a(pkey, "RSA"))
        return cr_err_set(err, CR_EINVAL, "%s has type %s, not RSA (RS256)", what,
                          type ? type : "non-RSA");
    if (EVP_PKEY_get_bits(pkey) < RS256_MIN_BITS)
        return cr_err_set(err, CR_EINVAL, "%s has %d bits; RS256 needs at least %d", what,
                          EVP_PKEY_get_bits(pkey), RS256_MIN_BITS);
    return 0;
}

int cr_jwt_key_new(enum cr_jwt_alg alg, const char *pem, const char *what, struct cr_jwt_key **out,
                   struct cr_err *err)
{
    size_t len = pem ? strlen(pem) : 0;
    if (len == 0)
        return cr_err_set(err, CR_EINVAL, "%s is empty", what);
    if (len > INT_MAX)
        return cr_err_set(err, CR_EINVAL, "%s is too large", what);
    ERR_clear_error();
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio)
        return ssl_err(err, CR_EIO, what);
    EVP_PKEY *pkey = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
    BIO_free(bio);
    if (!pkey) {
        char what_pem[200];
        snprintf(what_pem, sizeof what_pem, "%s is not a usable PEM private key", what);
        return ssl_err(err, CR_EINVAL, what_pem);
    }
    int rc = check_key(alg, pkey, what, err);
    if (rc) {
        EVP_PKEY_free(pkey);
        return rc;
    }
    struct cr_jwt_key *k = cr_xcalloc(1, sizeof *k);
    k->alg = alg;
    k->pkey = pkey;
    *out = k;
    return 0;
}

void cr_jwt_key_free(struct cr_jwt_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

/* DER ECDSA-Sig-Value -> the 64-octet R||S of JWS. */
static int der_to_rs(const unsigned char *der, size_t len, unsigned char rs[2 * ES256_HALF])
{
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
    if (!sig)
        return -1;
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(sig, &r, &s);
    int ok = BN_bn2binpad(r, rs, ES256_HALF) == ES256_HALF &&
             BN_bn2binpad(s, rs + ES256_HALF, ES256_HALF) == ES256_HALF;
    ECDSA_SIG_free(sig);
    return ok ? 0 : -1;
}

int cr_jwt_sign(const struct cr_jwt_key *k, const char *header_json, const char *claims_json,
                struct cr_buf *out, struct cr_err *err)
{
    size_t start = out->len;
    cr_jwt_b64url(out, header_json, strlen(header_json));
    cr_buf_putc(out, '.');
    cr_jwt_b64url(out, claims_json, strlen(claims_json));
    if (out->err)
        return out->err;
    size_t input_len = out->len - start; /* signing input: the two parts and the dot */

    ERR_clear_error();
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char *sig = NULL;
    size_t siglen = 0;
    int rc = 0;
    if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k->pkey) != 1 ||
        EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)out->data + start, input_len) !=
            1) {
        rc = ssl_err(err, CR_EIO, "JWT signing failed");
        goto done;
    }
    sig = cr_xmalloc(siglen);
    if (EVP_DigestSign(md, sig, &siglen, (const unsigned char *)out->data + start, input_len) !=
        1) {
        rc = ssl_err(err, CR_EIO, "JWT signing failed");
        goto done;
    }
    cr_buf_putc(out, '.');
    if (k->alg == CR_JWT_ES256) {
        unsigned char rs[2 * ES256_HALF];
        if (der_to_rs(sig, siglen, rs)) {
            rc = ssl_err(err, CR_EIO, "JWT signing: cannot convert the ECDSA signature");
            goto done;
        }
        cr_jwt_b64url(out, rs, sizeof rs);
    } else {
        cr_jwt_b64url(out, sig, siglen);
    }
    rc = out->err;
done:
    free(sig);
    EVP_MD_CTX_free(md);
    return rc;
}
