/*
 * jwt.h - base64url and compact JWS signatures (ES256, RS256) for the push channel's
 *         credentials: APNs provider tokens and Google OAuth2 service-account assertions
 *
 * Not a JWT library: no verification, no other algorithms, no claim checks. The caller
 * builds the header and claims JSON (jansson); this file encodes and signs them.
 *
 * Ownership: cr_jwt_key_new() parses the PEM and keeps the key; the caller keeps its PEM. A
 * key is immutable once made (several threads may sign with it). cr_jwt_key_free(NULL) does
 * nothing. Output goes to a caller-owned struct cr_buf.
 *
 * Spec: RFC 7515 (JWS compact serialisation, §2 base64url without padding), RFC 7518 §3.3
 * (RS256), §3.4 (ES256: the signature is R||S, 32 octets each, not DER), RFC 7519 (JWT).
 */
#ifndef CR_PUSH_JWT_H
#define CR_PUSH_JWT_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

enum cr_jwt_alg {
    CR_JWT_ES256, /* ECDSA P-256 with SHA-256: an APNs .p8 key */
    CR_JWT_RS256  /* RSASSA-PKCS1-v1_5 with SHA-256: a Google service account's key */
};

struct cr_jwt_key;

/* Appends the base64url encoding of p[0..n) (alphabet A-Z a-z 0-9 - _, no '=' padding).
 * Returns 0 or b's sticky error. */
int cr_jwt_b64url(struct cr_buf *b, const void *p, size_t n);

/* Decodes base64url (padding optional, no other characters) into out. Returns 0, CR_ESYNTAX
 * for a character outside the alphabet or an impossible length, or out's error. */
int cr_jwt_b64url_decode(struct cr_buf *out, const char *s, size_t n);

/* Parses an unencrypted PEM private key (PKCS#8 "PRIVATE KEY"; also SEC1 "EC PRIVATE KEY" and
 * PKCS#1 "RSA PRIVATE KEY") for alg: ES256 needs an EC key on P-256, RS256 an RSA key of at
 * least 2048 bits. what names the key in messages ("the APNs key"). Returns 0, or
 * CR_EINVAL with the reason; *out is set only on success. */
int cr_jwt_key_new(enum cr_jwt_alg alg, const char *pem, const char *what, struct cr_jwt_key **out,
                   struct cr_err *err) CR_WARN_UNUSED;
void cr_jwt_key_free(struct cr_jwt_key *k);

/* Appends the compact JWS base64url(header) "." base64url(claims) "." base64url(signature)
 * to out, both JSON texts taken as they are (the header must name the key's alg). Returns 0,
 * CR_EIO when OpenSSL fails (err says why), or out's error. On error out may hold a part. */
int cr_jwt_sign(const struct cr_jwt_key *k, const char *header_json, const char *claims_json,
                struct cr_buf *out, struct cr_err *err) CR_WARN_UNUSED;

#endif
