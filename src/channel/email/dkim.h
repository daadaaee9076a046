/*
 * dkim.h - DKIM signatures (RFC 6376): rsa-sha256, relaxed/relaxed canonicalisation
 *
 * Ownership: cr_dkim_new copies what it needs (selector, domain, the parsed key); the caller
 * keeps its PEM. A struct cr_dkim is immutable once made: several threads may sign with the
 * same one at once (each call has its own digest context). cr_dkim_free(NULL) does nothing.
 */
#ifndef CR_EMAIL_DKIM_H
#define CR_EMAIL_DKIM_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

struct cr_dkim;

/* Parses an RSA private key in PEM (PKCS#1 "RSA PRIVATE KEY" or PKCS#8 "PRIVATE KEY",
 * unencrypted) for signing as selector._domainkey.domain. The key must be RSA of at least 1024
 * bits (RFC 8301). Returns 0, or CR_EINVAL with the reason (OpenSSL's for a key it cannot
 * read; a bad selector or domain named). */
int cr_dkim_new(const char *selector, const char *domain, const char *pem, size_t pem_len,
                struct cr_dkim **out, struct cr_err *err);
void cr_dkim_free(struct cr_dkim *k);

/* Signs msg (a whole message with CRLF line endings, as cr_mail_build makes it) and appends to
 * out a DKIM-Signature header followed by the message. Signed headers (h=): from, to, subject,
 * date, message-id, reply-to, mime-version, content-type, list-unsubscribe,
 * list-unsubscribe-post, each as many times as it is present (from must be), in that order;
 * the header is folded at 78 columns, b= included. No t= or x= tags: signatures are
 * reproducible. Returns 0, CR_EINVAL (no header/body separator, no From), CR_EIO (OpenSSL
 * failed, with its reason) or CR_ETOOBIG (out->max); on error out keeps its length. */
int cr_dkim_sign(const struct cr_dkim *k, const char *msg, size_t len, struct cr_buf *out,
                 struct cr_err *err);

#endif
