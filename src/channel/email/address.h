/*
 * address.h - email address validation and normalisation (the addr-spec a recipient has)
 *
 * Spec: RFC 5322 §3.4.1 (addr-spec, dot-atom, quoted-string), RFC 5321 §4.1.2-4.1.3 and §4.5.3.1
 * (sizes, address literals), RFC 1123 §2.1 and RFC 3696 §2 (host names), RFC 5891 / UTS #46
 * through libidn2 (internationalised domain names).
 *
 * Practical syntax, not the whole of RFC 5322: no comments, no folding white space, no obsolete
 * forms, no display names. Internationalised local parts (RFC 6531, SMTPUTF8) are refused;
 * internationalised domains are accepted and converted to their ASCII (punycode) form.
 *
 * Ownership: arguments are borrowed. The result is appended to a caller-owned struct cr_buf.
 */
#ifndef CR_EMAIL_ADDRESS_H
#define CR_EMAIL_ADDRESS_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

#define CR_EMAIL_LOCAL_MAX 64   /* octets, RFC 5321 §4.5.3.1.1 */
#define CR_EMAIL_DOMAIN_MAX 253 /* octets, after conversion to ASCII */
#define CR_EMAIL_LABEL_MAX 63   /* octets of one domain label */
#define CR_EMAIL_MAX 254        /* octets of the whole address (RFC 5321 path of 256 less <>) */

/* Checks one recipient address ("a@b", no display name, no angle brackets):
 *  - surrounding white space is trimmed;
 *  - the local part is a dot-atom or a quoted string, ASCII, at most 64 octets; its case is kept;
 *  - the domain is a host name with at least one dot, labels of 1-63 letters, digits and inner
 *    hyphens, a top-level label that is not all digits, at most 253 octets; a domain with
 *    non-ASCII letters is converted to punycode with libidn2 (UTS #46 non-transitional); the
 *    domain is lower-cased. An address literal "[192.0.2.1]" (IPv4 only) is accepted as is.
 * Returns 0 and appends the normalised address to out (NUL-terminated, as every cr_buf), or
 * CR_EINVAL with a precise reason in err ("missing '@'", "the domain 'exa mple.com' has a
 * space", "the local part is longer than 64 octets", ...), or out->err. On error out keeps its
 * length. addr NULL is CR_EINVAL. */
int cr_email_check(const char *addr, struct cr_buf *out, struct cr_err *err);

#endif
