/*
 * address.c - email address validation and normalisation (see address.h for the rules)
 *
 * Spec: RFC 5322 §3.2.3-3.2.4 (atext, dot-atom, quoted-string), §3.4.1 (addr-spec);
 * RFC 5321 §4.1.3 (address literals), §4.5.3.1 (sizes); RFC 1123 §2.1 and RFC 3696 §2 (host
 * names: letters, digits, inner hyphens; no all-numeric top-level domain); UTS #46 through
 * libidn2 for internationalised domains.
 *
 * Not here: display names and angle brackets (mime.c parses "Name <a@b>"), comments and
 * folding white space inside addresses, SMTPUTF8 local parts, DNS look-ups.
 */
#include "channel/email/address.h"

#include <idn2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/utf8.h"

/* Longest input looked at: an address longer than this cannot become a valid one. */
#define RAW_MAX 1024
/* Characters of user text quoted in a message. */
#define SHOW_MAX 80
#define SHOW(n) (int)((n) > SHOW_MAX ? SHOW_MAX : (n))
#define MORE(n) ((n) > SHOW_MAX ? "..." : "")

static int is_wsp(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* atext of RFC 5322 §3.2.3 */
static int is_atext(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int bad(struct cr_err *err, const char *msg)
{
    return cr_err_set(err, CR_EINVAL, "%s", msg);
}

/* local-part = dot-atom / quoted-string, ASCII only. */
static int check_local(const char *s, size_t n, struct cr_err *err)
{
    if (n == 0)
        return bad(err, "the local part is empty");
    if (s[0] == '"') {
        for (size_t i = 1; i + 1 < n; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c == '\\' && i + 2 < n) /* quoted-pair: the next character is literal */
                c = (unsigned char)s[++i];
            if (c >= 0x80)
                return bad(err, "the local part has a non-ASCII character (internationalised "
                                "local parts are not supported)");
            if (c == '\t') /* RFC 5321 §4.1.2 qtextSMTP and quoted-pairSMTP: no tab */
                return bad(err, "the quoted local part has a tab");
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c >= 0x80)
                return bad(err, "the local part has a non-ASCII character (internationalised "
                                "local parts are not supported)");
            if (c == ' ' || c == '\t')
                return cr_err_set(err, CR_EINVAL, "the local part '%.*s%s' has a space", SHOW(n), s,
                                  MORE(n));
            if (c == '.') {
                if (i == 0)
                    return bad(err, "the local part starts with a dot");
                if (i == n - 1)
                    return bad(err, "the local part ends with a dot");
                if (s[i + 1] == '.')
                    return bad(err, "the local part has two dots in a row");
                continue;
            }
            if (!is_atext(c))
                return cr_err_set(err, CR_EINVAL,
                                  "the local part has the character '%c', which is only allowed "
                                  "in a quoted local part (\"...\")",
                                  c);
        }
    }
    if (n > CR_EMAIL_LOCAL_MAX)
        return cr_err_set(err, CR_EINVAL, "the local part is longer than %d octets (%zu)",
                          CR_EMAIL_LOCAL_MAX, n);
    return 0;
}

/* "[a.b.c.d]": four decimal octets without leading zeros. */
static int ipv4_literal(const char *s, size_t n)
{
    size_t i = 1;
    if (n < 9 || s[0] != '[' || s[n - 1] != ']')
        return 0;
    for (int part = 0; part < 4; part++) {
        unsigned v = 0, digits = 0;
        while (i < n - 1 && s[i] >= '0' && s[i] <= '9' && digits < 4) {
            v = v * 10 + (unsigned)(s[i] - '0');
            digits++;
            i++;
        }
        if (digits == 0 || digits > 3 || v > 255 || (digits > 1 && s[i - digits] == '0'))
            return 0;
        if (part < 3) {
            if (i >= n - 1 || s[i] != '.')
                return 0;
            i++;
        }
    }
    return i == n - 1;
}

/* Checks one label of an ASCII, lower-cased domain. */
static int check_label(const char *l, size_t n, struct cr_err *err)
{
    if (n > CR_EMAIL_LABEL_MAX)
        return cr_err_set(err, CR_EINVAL, "the domain label '%.*s%s' is longer than %d octets",
                          SHOW(n), l, MORE(n), CR_EMAIL_LABEL_MAX);
    if (l[0] == '-')
        return cr_err_set(err, CR_EINVAL, "the domain label '%.*s%s' starts with a hyphen", SHOW(n),
                          l, MORE(n));
    if (l[n - 1] == '-')
        return cr_err_set(err, CR_EINVAL, "the domain label '%.*s%s' ends with a hyphen", SHOW(n),
                          l, MORE(n));
    if (n > 4 && memcmp(l, "xn--", 4) == 0) {
        char *label = cr_xmemdupz(l, n), *u = NULL;
        int rc = idn2_to_unicode_8z8z(label, &u, 0);
        if (rc == IDN2_OK && u) {
            /* A valid A-label decodes and encodes back to itself. */
            char *back = NULL;
            rc = idn2_to_ascii_8z(u, &back, IDN2_NONTRANSITIONAL);
            if (rc == IDN2_OK && (!back || strcmp(back, label) != 0))
                rc = IDN2_ENCODING_ERROR;
            idn2_free(back);
        }
        idn2_free(u);
        free(label);
        if (rc != IDN2_OK)
            return cr_err_set(err, CR_EINVAL,
                              "the domain label '%.*s%s' is not a valid punycode (xn--) label",
                              SHOW(n), l, MORE(n));
    }
    return 0;
}

/* Checks the ASCII, lower-cased domain d (n octets) as a host name. */
static int check_hostname(const char *d, size_t n, struct cr_err *err)
{
    size_t start = 0;
    int dots = 0, digits_only = 1;
    if (d[0] == '.')
        return cr_err_set(err, CR_EINVAL, "the domain '%.*s%s' starts with a dot", SHOW(n), d,
                          MORE(n));
    if (d[n - 1] == '.')
        return cr_err_set(err, CR_EINVAL, "the domain '%.*s%s' ends with a dot", SHOW(n), d,
                          MORE(n));
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)d[i];
        if (c == '.') {
            if (d[i + 1] == '.')
                return cr_err_set(err, CR_EINVAL, "the domain '%.*s%s' has two dots in a row",
                                  SHOW(n), d, MORE(n));
            dots++;
        } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return cr_err_set(err, CR_EINVAL, "the domain '%.*s%s' has the character '%c'", SHOW(n),
                              d, MORE(n), c);
        }
    }
    if (!dots)
        return cr_err_set(err, CR_EINVAL, "the domain '%.*s%s' has no dot", SHOW(n), d, MORE(n));
    if (n > CR_EMAIL_DOMAIN_MAX)
        return cr_err_set(err, CR_EINVAL, "the domain is longer than %d octets (%zu)",
                          CR_EMAIL_DOMAIN_MAX, n);
    for (size_t i = 0; i <= n; i++) {
        if (i < n && d[i] != '.')
            continue;
        if (check_label(d + start, i - start, err))
            return CR_EINVAL;
        if (i < n)
            start = i + 1;
    }
    for (size_t i = start; i < n; i++)
        if (d[i] < '0' || d[i] > '9')
            digits_only = 0;
    if (digits_only)
        return cr_err_set(err, CR_EINVAL,
                          "the top-level domain '%.*s' is all digits (write an IP address as "
                          "a literal: user@[192.0.2.1])",
                          SHOW(n - start), d + start);
    return 0;
}

/* Appends the normalised domain (ASCII, lower case) to out, or fails with a reason. */
static int normalize_domain(const char *d, size_t n, struct cr_buf *out, struct cr_err *err)
{
    int ascii = 1, rc;
    size_t mark = out->len;
    if (n == 0)
        return bad(err, "the domain is empty");
    if (d[0] == '[') {
        if (!ipv4_literal(d, n))
            return cr_err_set(err, CR_EINVAL,
                              "the address literal '%.*s%s' is not an IPv4 address such as "
                              "[192.0.2.1] (IPv6 literals are not supported)",
                              SHOW(n), d, MORE(n));
        return cr_buf_append(out, d, n);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)d[i];
        if (c == ' ' || c == '\t')
            return cr_err_set(err, CR_EINVAL, "the domain '%.*s%s' has a space", SHOW(n), d,
                              MORE(n));
        if (c >= 0x80)
            ascii = 0;
    }
    if (ascii) {
        for (size_t i = 0; i < n; i++) {
            char c = d[i];
            cr_buf_putc(out, c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c);
        }
    } else {
        char *u8, *a = NULL;
        if (!cr_utf8_valid(d, n, NULL))
            return bad(err, "the domain is not valid UTF-8");
        u8 = cr_xmemdupz(d, n);
        rc = idn2_to_ascii_8z(u8, &a, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
        free(u8);
        if (rc != IDN2_OK) {
            idn2_free(a);
            return cr_err_set(err, CR_EINVAL,
                              "the domain '%.*s%s' is not a valid internationalised domain "
                              "name (%s)",
                              SHOW(n), d, MORE(n), idn2_strerror(rc));
        }
        /* UTS #46 maps to lower case; ASCII letters are lowered again for safety. */
        for (const char *p = a; *p; p++)
            cr_buf_putc(out, *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p);
        idn2_free(a);
    }
    if (out->err)
        return out->err;
    if (out->len == mark) {
        cr_buf_truncate(out, mark);
        return bad(err, "the domain is empty");
    }
    rc = check_hostname(out->data + mark, out->len - mark, err);
    if (rc)
        cr_buf_truncate(out, mark);
    return rc;
}

int cr_email_check(const char *addr, struct cr_buf *out, struct cr_err *err)
{
    const char *s, *e, *at;
    size_t mark = out->len, n, local_len;
    int rc;
    if (!addr)
        return bad(err, "the address is missing");
    s = addr;
    n = strlen(addr);
    e = addr + n;
    while (s < e && is_wsp((unsigned char)*s))
        s++;
    while (e > s && is_wsp((unsigned char)e[-1]))
        e--;
    n = (size_t)(e - s);
    if (n == 0)
        return bad(err, "the address is empty");
    if (n > RAW_MAX)
        return cr_err_set(err, CR_EINVAL, "the address is longer than %d octets (%zu)",
                          CR_EMAIL_MAX, n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7F)
            return cr_err_set(err, CR_EINVAL,
                              "the address has a control character (0x%02X) at offset %zu", c, i);
    }
    if (s[0] == '"') {
        const char *p = s + 1;
        while (p < e && *p != '"') {
            if (*p == '\\') {
                if (p + 1 >= e)
                    break;
                p++;
            }
            p++;
        }
        if (p >= e)
            return bad(err, "the quoted local part has no closing '\"'");
        p++;
        if (p >= e)
            return bad(err, "missing '@'");
        if (*p != '@')
            return cr_err_set(err, CR_EINVAL,
                              "the quoted local part is followed by '%c' instead of '@'", *p);
        at = p;
    } else {
        if (memchr(s, '<', n) || memchr(s, '>', n))
            return bad(err, "the address has an angle bracket (give the bare address, "
                            "user@example.com, without a display name or '<>')");
        at = memchr(s, '@', n);
        if (!at)
            return bad(err, "missing '@'");
    }
    if (memchr(at + 1, '@', (size_t)(e - at - 1)))
        return bad(err, "the address has more than one '@' (quote the local part if it has "
                        "one: \"a@b\"@example.com)");
    local_len = (size_t)(at - s);
    rc = check_local(s, local_len, err);
    if (rc)
        return rc;
    cr_buf_append(out, s, local_len + 1);
    rc = normalize_domain(at + 1, (size_t)(e - at - 1), out, err);
    if (!rc && out->err)
        rc = out->err;
    if (!rc && out->len - mark > CR_EMAIL_MAX) {
        rc = cr_err_set(err, CR_EINVAL, "the address is longer than %d octets (%zu)", CR_EMAIL_MAX,
                        out->len - mark);
    }
    if (rc) {
        int berr = out->err;
        cr_buf_truncate(out, mark);
        out->err = berr;
        return rc;
    }
    return 0;
}
