/*
 * dkim.c - DKIM signing: rsa-sha256 with relaxed/relaxed canonicalisation (OpenSSL 3 EVP)
 *
 * Spec: RFC 6376 §3.4.2 (relaxed header canonicalisation), §3.4.4 (relaxed body), §3.5 (tags),
 * §3.7 (hash computation), §5.4.2 (several instances of a header: signed bottom-up); RFC 8301
 * (rsa-sha256 only, keys of 1024 bits or more).
 *
 * Not here: verification, key rotation, DNS. The message must have CRLF line endings (what
 * cr_mail_build makes); a bare LF is treated as an ordinary character.
 */
#define _GNU_SOURCE /* memmem */
#include "channel/email/dkim.h"

#include <limits.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"

#define FOLD_COL 78
#define MAX_FIELDS 1000 /* header fields looked at; more is refused */

struct cr_dkim {
    EVP_PKEY *pkey; /* read-only after cr_dkim_new */
    char *selector;
    char *domain; /* lower case */
};

/* Headers signed, in the order of h=. ORDER: documented in dkim.h. */
static const char *const signed_headers[] = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "reply-to",
    "mime-version",
    "content-type",
    "list-unsubscribe",
    "list-unsubscribe-post",
};

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

/* Selector and domain: dot-separated labels of letters, digits and hyphens. */
static int check_name(const char *what, const char *s, struct cr_err *err)
{
    size_t n = s ? strlen(s) : 0, label = 0;
    if (n == 0)
        return cr_err_set(err, CR_EINVAL, "the DKIM %s is empty", what);
    if (n > 253)
        return cr_err_set(err, CR_EINVAL, "the DKIM %s is longer than 253 octets", what);
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.' || c == '\0') {
            if (label == 0 || label > 63)
                return cr_err_set(err, CR_EINVAL,
                                  "the DKIM %s '%.80s' has an empty or too long label", what, s);
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_') {
            label++;
        } else {
            return cr_err_set(err, CR_EINVAL,
                              "the DKIM %s '%.80s' has the character '%c' (give an ASCII name; "
                              "punycode for an internationalised domain)",
                              what, s, c >= 32 && c < 127 ? c : '?');
        }
    }
    return 0;
}

static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1; /* encrypted keys are refused rather than prompting on a terminal */
}

int cr_dkim_new(const char *selector, const char *domain, const char *pem, size_t pem_len,
                struct cr_dkim **out, struct cr_err *err)
{
    BIO *bio;
    EVP_PKEY *pkey;
    struct cr_dkim *k;
    int bits;
    *out = NULL;
    if (check_name("selector", selector, err) || check_name("domain", domain, err))
        return CR_EINVAL;
    if (!pem || pem_len == 0)
        return cr_err_set(err, CR_EINVAL, "the DKIM key is empty");
    if (pem_len > INT_MAX)
        return cr_err_set(err, CR_EINVAL, "the DKIM key is too large");
    ERR_clear_error();
    bio = BIO_new_mem_buf(pem, (int)pem_len);
    if (!bio)
        return ssl_err(err, CR_EIO, "cannot read the DKIM key");
    pkey = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
    BIO_free(bio);
    if (!pkey)
        return ssl_err(err, CR_EINVAL, "the DKIM key is not a usable PEM private key");
    if (!EVP_PKEY_is_a(pkey, "RSA")) {
        cr_err_set(err, CR_EINVAL, "the DKIM key is a %s key, not RSA (crier signs rsa-sha256)",
                   EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "non-RSA");
        EVP_PKEY_free(pkey);
        return CR_EINVAL;
    }
    bits = EVP_PKEY_get_bits(pkey);
    if (bits < 1024) {
        cr_err_set(err, CR_EINVAL,
                   "the DKIM key has %d bits; RFC 8301 requires at least 1024 (2048 advised)",
                   bits);
        EVP_PKEY_free(pkey);
        return CR_EINVAL;
    }
    k = cr_xcalloc(1, sizeof *k);
    k->pkey = pkey;
    k->selector = cr_xstrdup(selector);
    k->domain = cr_xstrdup(domain);
    for (char *p = k->domain; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    *out = k;
    return 0;
}

void cr_dkim_free(struct cr_dkim *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    free(k->selector);
    free(k->domain);
    free(k);
}

/* ===================================================================================== */
/* Canonicalisation                                                                       */
/* ===================================================================================== */

static int is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 6376 §3.4.2: lower-case name, no white space around the colon, continuation lines
 * unfolded, white space runs as one space, none at the end. h[0..n) is the field without its
 * final CRLF. Appends "name:value" (no CRLF). */
static void canon_header(const char *h, size_t n, struct cr_buf *out)
{
    const char *colon = memchr(h, ':', n);
    size_t nend = (size_t)(colon - h), i;
    int space = 0, started = 0;
    while (nend && is_wsp(h[nend - 1]))
        nend--;
    for (i = 0; i < nend; i++)
        cr_buf_putc(out, h[i] >= 'A' && h[i] <= 'Z' ? (char)(h[i] - 'A' + 'a') : h[i]);
    cr_buf_putc(out, ':');
    for (i = (size_t)(colon - h) + 1; i < n; i++) {
        char c = h[i];
        if (c == '\r' || c == '\n' || is_wsp(c)) {
            space = 1;
            continue;
        }
        if (space && started)
            cr_buf_putc(out, ' ');
        space = 0;
        started = 1;
        cr_buf_putc(out, c);
    }
}

/* Feeds the relaxed body (RFC 6376 §3.4.4) to the digest: white space runs as one space, none
 * at line ends, empty lines at the end dropped, a final CRLF when the body is not empty. */
static int hash_body(EVP_MD_CTX *md, const char *b, size_t n)
{
    struct cr_buf line = CR_BUF_INIT(0);
    size_t empty = 0, i = 0;
    int ok = 1;
    while (i < n && ok) {
        const char *eol = memmem(b + i, n - i, "\r\n", 2);
        size_t end = eol ? (size_t)(eol - b) : n;
        int space = 0;
        cr_buf_reset(&line);
        for (size_t k = i; k < end; k++) {
            if (is_wsp(b[k])) {
                space = 1;
                continue;
            }
            if (space)
                cr_buf_putc(&line, ' ');
            space = 0;
            cr_buf_putc(&line, b[k]);
        }
        if (line.len == 0) {
            empty++;
        } else {
            for (; empty && ok; empty--)
                ok = EVP_DigestUpdate(md, "\r\n", 2);
            cr_buf_append(&line, "\r\n", 2);
            ok = ok && EVP_DigestUpdate(md, line.data, line.len);
        }
        i = eol ? end + 2 : n;
    }
    cr_buf_release(&line);
    return ok;
}

/* ===================================================================================== */
/* Signing                                                                                */
/* ===================================================================================== */

struct field {
    size_t start, end; /* the field in msg, end before its CRLF */
    size_t name_len;
};

/* Splits the header block msg[0..hlen) (each line ending CRLF) into fields. */
static int parse_fields(const char *msg, size_t hlen, struct field **out, size_t *count,
                        struct cr_err *err)
{
    struct field *f = NULL;
    size_t nf = 0, i = 0;
    while (i < hlen) {
        const char *eol = memmem(msg + i, hlen - i, "\r\n", 2);
        size_t end = eol ? (size_t)(eol - msg) : hlen;
        if (is_wsp(msg[i]) && nf) {
            f[nf - 1].end = end; /* continuation line */
        } else {
            const char *colon = memchr(msg + i, ':', end - i);
            if (!colon || colon == msg + i) {
                free(f);
                return cr_err_set(err, CR_EINVAL,
                                  "the message's header line at offset %zu is not a field "
                                  "(no name and ':')",
                                  i);
            }
            if (nf == MAX_FIELDS) {
                free(f);
                return cr_err_set(err, CR_EINVAL, "the message has more than %d header fields",
                                  MAX_FIELDS);
            }
            if (nf % 16 == 0)
                f = cr_xrealloc(f, (nf + 16) * sizeof *f);
            f[nf].start = i;
            f[nf].end = end;
            f[nf].name_len = (size_t)(colon - (msg + i));
            while (f[nf].name_len && is_wsp(msg[i + f[nf].name_len - 1]))
                f[nf].name_len--;
            nf++;
        }
        i = end + 2;
    }
    *out = f;
    *count = nf;
    return 0;
}

/* Appends the header line builder's token, folding (CRLF SP) before it when the line would
 * pass FOLD_COL; sep is put before the token when there is no fold. */
static void put_tok(struct cr_buf *h, size_t *line, const char *sep, const char *tok, size_t n)
{
    size_t col = h->len - *line, sl = strlen(sep);
    if (col + sl + n > FOLD_COL) {
        cr_buf_append(h, "\r\n ", 3);
        *line = h->len - 1;
    } else {
        cr_buf_append(h, sep, sl);
    }
    cr_buf_append(h, tok, n);
}

int cr_dkim_sign(const struct cr_dkim *k, const char *msg, size_t len, struct cr_buf *out,
                 struct cr_err *err)
{
    const char *sep = memmem(msg, len, "\r\n\r\n", 4);
    struct field *f = NULL;
    size_t nf = 0, hlen, line = 0, mark = out->len;
    struct cr_buf hdr = CR_BUF_INIT(0), canon = CR_BUF_INIT(0), tok = CR_BUF_INIT(0);
    unsigned char digest[EVP_MAX_MD_SIZE], *sig = NULL;
    unsigned int dlen = 0;
    size_t siglen = 0;
    char bh[EVP_MAX_MD_SIZE * 2];
    char *b64 = NULL;
    EVP_MD_CTX *md = NULL;
    int rc = 0, have_from = 0, first_h = 1;

    if (out->err)
        return out->err;
    if (len >= 2 && memcmp(msg, "\r\n", 2) == 0)
        return cr_err_set(err, CR_EINVAL, "the message has no header fields (no From)");
    if (!sep)
        return cr_err_set(err, CR_EINVAL,
                          "the message has no empty line (CRLF CRLF) between header and body");
    hlen = (size_t)(sep - msg) + 2;
    rc = parse_fields(msg, hlen, &f, &nf, err);
    if (rc)
        return rc;

    /* bh= */
    md = EVP_MD_CTX_new();
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL) ||
        !hash_body(md, sep + 4, len - hlen - 2) || !EVP_DigestFinal_ex(md, digest, &dlen)) {
        rc = ssl_err(err, CR_EIO, "cannot hash the message body");
        goto done;
    }
    EVP_EncodeBlock((unsigned char *)bh, digest, (int)dlen);

    /* The DKIM-Signature header up to "b=", folded. */
    cr_buf_puts(&hdr, "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;");
    cr_buf_printf(&tok, "d=%s;", k->domain);
    put_tok(&hdr, &line, " ", tok.data, tok.len);
    cr_buf_reset(&tok);
    cr_buf_printf(&tok, "s=%s;", k->selector);
    put_tok(&hdr, &line, " ", tok.data, tok.len);
    for (size_t s = 0; s < sizeof signed_headers / sizeof *signed_headers; s++) {
        const char *name = signed_headers[s];
        size_t nl = strlen(name);
        for (size_t i = nf; i-- > 0;) {
            if (f[i].name_len != nl || strncasecmp(msg + f[i].start, name, nl) != 0)
                continue;
            have_from |= s == 0;
            cr_buf_reset(&tok);
            cr_buf_printf(&tok, "%s%s", first_h ? "h=" : ":", name);
            put_tok(&hdr, &line, first_h ? " " : "", tok.data, tok.len);
            first_h = 0;
        }
    }
    if (!have_from) {
        rc = cr_err_set(err, CR_EINVAL, "the message has no From header field");
        goto done;
    }
    cr_buf_putc(&hdr, ';');
    cr_buf_reset(&tok);
    cr_buf_printf(&tok, "bh=%s;", bh);
    put_tok(&hdr, &line, " ", tok.data, tok.len);
    put_tok(&hdr, &line, " ", "b=", 2);

    /* b=: the signed headers bottom-up per name (§5.4.2), then this header without b's value */
    if (!EVP_MD_CTX_reset(md) || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k->pkey) != 1) {
        rc = ssl_err(err, CR_EIO, "cannot start the DKIM signature");
        goto done;
    }
    for (size_t s = 0; s < sizeof signed_headers / sizeof *signed_headers; s++) {
        const char *name = signed_headers[s];
        size_t nl = strlen(name);
        for (size_t i = nf; i-- > 0;) {
            if (f[i].name_len != nl || strncasecmp(msg + f[i].start, name, nl) != 0)
                continue;
            cr_buf_reset(&canon);
            canon_header(msg + f[i].start, f[i].end - f[i].start, &canon);
            cr_buf_append(&canon, "\r\n", 2);
            if (EVP_DigestSignUpdate(md, canon.data, canon.len) != 1) {
                rc = ssl_err(err, CR_EIO, "cannot sign the message");
                goto done;
            }
        }
    }
    cr_buf_reset(&canon);
    canon_header(hdr.data, hdr.len, &canon);
    if (EVP_DigestSignUpdate(md, canon.data, canon.len) != 1 ||
        EVP_DigestSignFinal(md, NULL, &siglen) != 1) {
        rc = ssl_err(err, CR_EIO, "cannot sign the message");
        goto done;
    }
    sig = cr_xmalloc(siglen);
    if (EVP_DigestSignFinal(md, sig, &siglen) != 1) {
        rc = ssl_err(err, CR_EIO, "cannot sign the message");
        goto done;
    }
    b64 = cr_xmalloc((siglen + 2) / 3 * 4 + 1);
    EVP_EncodeBlock((unsigned char *)b64, sig, (int)siglen);

    /* b= value folded: fill the line, then lines of 77 characters after the leading space */
    {
        size_t n = strlen(b64), i = 0;
        while (i < n) {
            size_t col = hdr.len - line, room = col < FOLD_COL ? FOLD_COL - col : 0, take;
            if (room == 0) {
                cr_buf_append(&hdr, "\r\n ", 3);
                line = hdr.len - 1;
                continue;
            }
            take = n - i < room ? n - i : room;
            cr_buf_append(&hdr, b64 + i, take);
            i += take;
        }
    }
    cr_buf_append(&hdr, "\r\n", 2);
    if (hdr.err || canon.err || tok.err) {
        rc = cr_err_set(err, CR_ETOOBIG, "the DKIM signature header is too large");
        goto done;
    }
    cr_buf_append(out, hdr.data, hdr.len);
    cr_buf_append(out, msg, len);
    if (out->err) {
        rc = cr_err_set(err, out->err, "the signed message exceeds its size limit (%zu octets)",
                        out->max);
        cr_buf_truncate(out, mark);
        out->err = 0;
    }
done:
    EVP_MD_CTX_free(md);
    free(sig);
    free(b64);
    free(f);
    cr_buf_release(&hdr);
    cr_buf_release(&canon);
    cr_buf_release(&tok);
    return rc;
}
