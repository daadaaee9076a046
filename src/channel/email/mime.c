/*
 * mime.c - build one email message: headers, MIME structure, transfer encodings
 *
 * Spec: RFC 5322 §2.1.1 (line lengths), §2.2.3 (folding), §3.3 (date-time), §3.4 (mailboxes),
 * §3.6.4 (msg-id); RFC 2045 §6.7-6.8 (quoted-printable, base64); RFC 2046 §5.1 (multipart,
 * boundaries); RFC 2047 §2, §4, §5 (encoded words: length, B and Q, where they may appear);
 * RFC 2369 §3.2 and RFC 8058 §3.1 (List-Unsubscribe, List-Unsubscribe-Post); RFC 1468
 * (ISO-2022-JP).
 *
 * Not here: DKIM (dkim.c), sending (smtp.c), address syntax (address.c), templates.
 * The choices and thresholds are listed in mime.h and docs/internals/email.md.
 */
#define _GNU_SOURCE /* memmem */
#include "channel/email/mime.h"

#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "channel/email/address.h"
#include "core/mem.h"
#include "core/random.h"
#include "core/utf8.h"

#define FOLD_COL 78     /* header lines are folded at this column when they can be */
#define LINE_OCTETS 998 /* RFC 5322 §2.1.1: no line longer, ever */
#define ENC_COL 76      /* quoted-printable and base64 body lines */
#define SEVENBIT_COL 78 /* longest line a part may have and still go as 7bit */
#define EW_MAX 75       /* RFC 2047 §2: longest encoded word */
#define WORD_MAX 76     /* an ASCII word longer than this cannot be folded: encode instead */
#define ID_MAX 250      /* Message-ID without <> */
#define URL_MAX 900     /* each List-Unsubscribe URL */

/* ===================================================================================== */
/* Small helpers                                                                          */
/* ===================================================================================== */

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Appends base64 of p[0..n); with linelen > 0, breaks lines with CRLF after linelen characters
 * and after the last one. */
static void b64_encode(const unsigned char *p, size_t n, size_t linelen, struct cr_buf *out)
{
    size_t col = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        char q[4];
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        q[0] = b64chars[(v >> 18) & 63];
        q[1] = b64chars[(v >> 12) & 63];
        q[2] = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
        q[3] = i + 2 < n ? b64chars[v & 63] : '=';
        cr_buf_append(out, q, 4);
        col += 4;
        if (linelen && col >= linelen) {
            cr_buf_append(out, "\r\n", 2);
            col = 0;
        }
    }
    if (linelen && col)
        cr_buf_append(out, "\r\n", 2);
}

static size_t b64_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

static int is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* Describes the character at s (for messages): "U+00E9". */
static uint32_t char_at(const char *s, size_t n, size_t *len)
{
    size_t l = cr_utf8_seq_len(s, n);
    *len = l ? l : 1;
    return l ? cr_utf8_decode(s, l) : 0xFFFD;
}

/* Checks a header field's input: no line break, no other control character, valid UTF-8,
 * bounded. field names it in the message. */
static int check_field(const char *field, const char *v, struct cr_err *err)
{
    size_t n = strlen(v), bad;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '\r' || c == '\n')
            return cr_err_set(err, CR_EINVAL,
                              "%s has a line break (CR or LF) at offset %zu: header fields "
                              "are one line",
                              field, i);
        if ((c < 0x20 && c != '\t') || c == 0x7F)
            return cr_err_set(err, CR_EINVAL, "%s has a control character (0x%02X) at offset %zu",
                              field, c, i);
    }
    if (!cr_utf8_valid(v, n, &bad))
        return cr_err_set(err, CR_EINVAL, "%s is not valid UTF-8 (byte %zu)", field, bad);
    if (n > CR_MAIL_HEADER_MAX)
        return cr_err_set(err, CR_ETOOBIG, "%s is longer than %d octets", field,
                          CR_MAIL_HEADER_MAX);
    return 0;
}

/* ===================================================================================== */
/* ISO-2022-JP                                                                            */
/* ===================================================================================== */

static int jis_open(iconv_t *cd, struct cr_err *err)
{
    *cd = iconv_open("ISO-2022-JP", "UTF-8");
    if (*cd == (iconv_t)-1)
        return cr_err_set(err, CR_EUNSUPPORTED, "iconv cannot convert UTF-8 to ISO-2022-JP (%s)",
                          strerror(errno));
    return 0;
}

/* Converts UTF-8 s[0..n) to ISO-2022-JP with cd (from jis_open, reset here), appended to out:
 * the text starts and ends in ASCII (RFC 1468). A character the charset lacks is CR_EINVAL
 * naming field and character. */
static int to_jis(iconv_t cd, const char *s, size_t n, const char *field, struct cr_buf *out,
                  struct cr_err *err)
{
    char *in = (char *)s, tmp[512], *o;
    size_t inleft = n, oleft;
    iconv(cd, NULL, NULL, NULL, NULL); /* initial state */
    while (inleft) {
        size_t r;
        int e;
        o = tmp;
        oleft = sizeof tmp;
        r = iconv(cd, &in, &inleft, &o, &oleft);
        e = errno;
        cr_buf_append(out, tmp, (size_t)(o - tmp));
        if (r == (size_t)-1 && e != E2BIG) {
            size_t len;
            uint32_t cp = char_at(in, inleft, &len);
            return cr_err_set(err, CR_EINVAL,
                              "%s has the character '%.*s' (U+%04X) at offset %zu, which "
                              "ISO-2022-JP cannot represent",
                              field, (int)len, in, (unsigned)cp, (size_t)(in - s));
        }
    }
    o = tmp;
    oleft = sizeof tmp;
    iconv(cd, NULL, NULL, &o, &oleft); /* back to ASCII */
    cr_buf_append(out, tmp, (size_t)(o - tmp));
    return out->err;
}

/* ===================================================================================== */
/* Header writer: folding at FOLD_COL, encoded words                                       */
/* ===================================================================================== */

struct hw {
    struct cr_buf *out;
    size_t line; /* offset in out where the current line starts */
    int jp;      /* encoded words in ISO-2022-JP */
};

static size_t hw_col(const struct hw *w)
{
    return w->out->len - w->line;
}

static void hw_start(struct hw *w, const char *name)
{
    w->line = w->out->len;
    cr_buf_puts(w->out, name);
    cr_buf_putc(w->out, ':');
}

static void hw_end(struct hw *w)
{
    cr_buf_append(w->out, "\r\n", 2);
    w->line = w->out->len;
}

/* Appends white space ws (wsn octets, at least 1) and the token tok, folding before the white
 * space (CRLF then ws) when the line would pass FOLD_COL and the token fits a new line. */
static void hw_put(struct hw *w, const char *ws, size_t wsn, const char *tok, size_t n)
{
    if (hw_col(w) + wsn + n > FOLD_COL && wsn + n <= FOLD_COL) {
        cr_buf_append(w->out, "\r\n", 2);
        w->line = w->out->len;
    }
    cr_buf_append(w->out, ws, wsn);
    cr_buf_append(w->out, tok, n);
}

/* Q encoding, the set safe in every place an encoded word may go (RFC 2047 §5 (3)). */
static int q_literal(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '!' ||
           c == '*' || c == '+' || c == '-' || c == '/' || c == ' ';
}

static size_t q_len(const char *s, size_t n)
{
    size_t l = 0;
    for (size_t i = 0; i < n; i++)
        l += q_literal((unsigned char)s[i]) ? 1 : 3;
    return l;
}

static void q_encode(const char *s, size_t n, struct cr_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ') {
            cr_buf_putc(out, '_');
        } else if (q_literal(c)) {
            cr_buf_putc(out, (char)c);
        } else {
            char e[3] = {'=', hex[c >> 4], hex[c & 15]};
            cr_buf_append(out, e, 3);
        }
    }
}

/* Writes s[0..n) (valid UTF-8) as encoded words separated by white space or folds: UTF-8 with
 * Q or B (whichever is shorter for the whole text), or ISO-2022-JP with B. Each word holds whole
 * characters, is at most EW_MAX characters and fits its line (FOLD_COL). */
static int hw_encoded(struct hw *w, const char *s, size_t n, const char *field, struct cr_err *err)
{
    const char *charset = w->jp ? "ISO-2022-JP" : "UTF-8";
    int q = !w->jp && q_len(s, n) <= b64_len(n);
    size_t overhead = strlen(charset) + 7; /* =? charset ?X? ... ?= */
    struct cr_buf word = CR_BUF_INIT(0), jis = CR_BUF_INIT(0);
    size_t i = 0;
    int rc = 0;
    iconv_t cd = (iconv_t)-1;
    if (w->jp) {
        /* Converts the whole text once so that the error names the first bad character. */
        rc = jis_open(&cd, err);
        if (!rc)
            rc = to_jis(cd, s, n, field, &jis, err);
        if (rc)
            goto done;
    }
    while (i < n) {
        size_t col = hw_col(w), room, j = i, best = i;
        int fold = 0;
        cr_buf_reset(&word);
        /* Room for the payload on this line (after one space), else on a new one. */
        room = col + 1 + overhead < FOLD_COL ? FOLD_COL - col - 1 - overhead : 0;
        if (room > EW_MAX - overhead)
            room = EW_MAX - overhead;
        for (int attempt = 0; attempt < 2; attempt++) {
            j = i;
            best = i;
            while (j < n) {
                size_t len, enc;
                (void)char_at(s + j, n - j, &len);
                if (w->jp) {
                    cr_buf_reset(&jis);
                    if (to_jis(cd, s + i, j + len - i, field, &jis, err)) {
                        rc = CR_EINVAL;
                        goto done;
                    }
                    enc = b64_len(jis.len);
                } else {
                    enc = q ? q_len(s + i, j + len - i) : b64_len(j + len - i);
                }
                if (enc > room)
                    break;
                j += len;
                best = j;
            }
            if (best > i || attempt == 1)
                break;
            /* Not even one character fits on this line: fold and retry. */
            fold = 1;
            room = EW_MAX - overhead;
        }
        if (best == i)
            CR_BUG("encoded word with no room for one character");
        cr_buf_printf(&word, "=?%s?%c?", charset, q ? 'Q' : 'B');
        if (w->jp) {
            cr_buf_reset(&jis);
            rc = to_jis(cd, s + i, best - i, field, &jis, err);
            if (rc)
                goto done;
            b64_encode((const unsigned char *)jis.data, jis.len, 0, &word);
        } else if (q) {
            q_encode(s + i, best - i, &word);
        } else {
            b64_encode((const unsigned char *)s + i, best - i, 0, &word);
        }
        cr_buf_append(&word, "?=", 2);
        if (fold) {
            cr_buf_append(w->out, "\r\n", 2);
            w->line = w->out->len;
        }
        cr_buf_putc(w->out, ' ');
        cr_buf_append(w->out, word.data, word.len);
        i = best;
    }
done:
    if (cd != (iconv_t)-1)
        iconv_close(cd);
    cr_buf_release(&word);
    cr_buf_release(&jis);
    return rc ? rc : w->out->err;
}

/* 1 if s[0..n) must go as encoded words: non-ASCII, "=?" (would read as an encoded word), or a
 * word too long to fold. */
static int needs_encoding(const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80)
            return 1;
        if (c == '=' && i + 1 < n && s[i + 1] == '?')
            return 1;
        run = is_wsp((char)c) ? 0 : run + 1;
        if (run > WORD_MAX)
            return 1;
    }
    return 0;
}

static void trim(const char **s, size_t *n)
{
    while (*n && is_wsp((*s)[0])) {
        (*s)++;
        (*n)--;
    }
    while (*n && is_wsp((*s)[*n - 1]))
        (*n)--;
}

/* Writes ASCII words (no word longer than WORD_MAX) after the header name, keeping the white
 * space between them and folding before it when a line would pass FOLD_COL. */
static void hw_words(struct hw *w, const char *s, size_t n)
{
    size_t i = 0;
    if (n == 0)
        cr_buf_putc(w->out, ' ');
    while (i < n) {
        size_t ws = i, tok;
        while (i < n && is_wsp(s[i]))
            i++;
        tok = i;
        while (i < n && !is_wsp(s[i]))
            i++;
        if (ws == tok) /* the first word: one space after the colon */
            hw_put(w, " ", 1, s + tok, i - tok);
        else
            hw_put(w, s + ws, tok - ws, s + tok, i - tok);
    }
}

/* Writes unstructured text (already checked) after the header name: plain words folded at
 * white space, or encoded words. Surrounding white space is dropped. */
static int hw_text(struct hw *w, const char *s, size_t n, const char *field, struct cr_err *err)
{
    trim(&s, &n);
    if (needs_encoding(s, n))
        return hw_encoded(w, s, n, field, err);
    hw_words(w, s, n);
    return w->out->err;
}

/* ===================================================================================== */
/* Mailboxes: "Name <a@b>", "\"Name, Inc\" <a@b>", "a@b"                                  */
/* ===================================================================================== */

struct mailbox {
    struct cr_buf name; /* display name, unquoted (may be empty) */
    struct cr_buf addr; /* normalised by cr_email_check */
};

static void mailbox_release(struct mailbox *mb)
{
    cr_buf_release(&mb->name);
    cr_buf_release(&mb->addr);
}

static int parse_mailbox(const char *v, const char *field, struct mailbox *mb, struct cr_err *err)
{
    size_t n = strlen(v), lt = SIZE_MAX;
    const char *s = v;
    int quoted = 0, rc;
    char *spec;
    trim(&s, &n);
    if (n && s[n - 1] == '>') {
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '\\' && quoted)
                i++;
            else if (s[i] == '"')
                quoted = !quoted;
            else if (s[i] == '<' && !quoted) {
                lt = i;
                break;
            }
        }
        if (lt == SIZE_MAX)
            return cr_err_set(err, CR_EINVAL, "%s ends with '>' but has no '<'", field);
    }
    if (lt != SIZE_MAX) {
        const char *name = s;
        size_t nn = lt;
        trim(&name, &nn);
        if (nn >= 2 && name[0] == '"' && name[nn - 1] == '"') {
            for (size_t i = 1; i + 1 < nn; i++) {
                if (name[i] == '\\' && i + 2 < nn)
                    i++;
                cr_buf_putc(&mb->name, name[i]);
            }
        } else {
            cr_buf_append(&mb->name, name, nn);
        }
        spec = cr_xmemdupz(s + lt + 1, n - lt - 2);
    } else {
        spec = cr_xmemdupz(s, n);
    }
    rc = cr_email_check(spec, &mb->addr, err);
    free(spec);
    if (rc) {
        cr_err_prefix(err, "%s: ", field);
        return rc;
    }
    return mb->name.err ? mb->name.err : mb->addr.err;
}

/* 1 if the ASCII display name is a phrase of atoms (RFC 5322 §3.2.5) and needs no quotes. */
static int plain_phrase(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr(" \t!#$%&'*+-/=?^_`{|}~", c)))
            return 0;
    }
    return 1;
}

/* Writes " Name <addr>" or " addr" after the header name. */
static int hw_mailbox(struct hw *w, const struct mailbox *mb, const char *field, struct cr_err *err)
{
    const char *name = mb->name.data;
    size_t nn = mb->name.len;
    trim(&name, &nn);
    if (nn == 0) {
        hw_put(w, " ", 1, mb->addr.data, mb->addr.len);
        return w->out->err;
    }
    if (needs_encoding(name, nn)) {
        int rc = hw_encoded(w, name, nn, field, err);
        if (rc)
            return rc;
    } else if (plain_phrase(name, nn)) {
        hw_words(w, name, nn);
    } else {
        /* quoted-string; folding at its inner spaces is allowed (RFC 5322 §3.2.4) */
        struct cr_buf q = CR_BUF_INIT(0);
        cr_buf_putc(&q, '"');
        for (size_t i = 0; i < nn; i++) {
            if (name[i] == '"' || name[i] == '\\')
                cr_buf_putc(&q, '\\');
            cr_buf_putc(&q, name[i]);
        }
        cr_buf_putc(&q, '"');
        hw_words(w, q.data, q.len);
        cr_buf_release(&q);
    }
    {
        struct cr_buf a = CR_BUF_INIT(0);
        cr_buf_putc(&a, '<');
        cr_buf_append(&a, mb->addr.data, mb->addr.len);
        cr_buf_putc(&a, '>');
        hw_put(w, " ", 1, a.data, a.len);
        cr_buf_release(&a);
    }
    return w->out->err;
}

/* ===================================================================================== */
/* Bodies: line endings, choice of transfer encoding, quoted-printable                     */
/* ===================================================================================== */

struct part {
    const char *type; /* "text/plain" or "text/html" */
    const char *cte;  /* "7bit", "quoted-printable" or "base64" */
    struct cr_buf body;
};

/* Copies s with every line break (LF, CR or CRLF) as CRLF and a final CRLF. */
static void canon_lines(const char *s, size_t n, struct cr_buf *out)
{
    size_t i = 0, start = 0;
    while (i < n) {
        if (s[i] == '\r' || s[i] == '\n') {
            cr_buf_append(out, s + start, i - start);
            cr_buf_append(out, "\r\n", 2);
            i += s[i] == '\r' && i + 1 < n && s[i + 1] == '\n' ? 2 : 1;
            start = i;
        } else {
            i++;
        }
    }
    cr_buf_append(out, s + start, n - start);
    if (out->len < 2 || memcmp(out->data + out->len - 2, "\r\n", 2) != 0)
        cr_buf_append(out, "\r\n", 2);
}

static int qp_escape(unsigned char c)
{
    return c == '=' || c >= 0x7F || (c < 0x20 && c != '\t');
}

/* RFC 2045 §6.7: lines of at most ENC_COL characters with soft breaks, '=' and non-ASCII
 * escaped, white space escaped before a line break, "From " at a line start escaped. */
static void qp_encode(const char *s, size_t n, struct cr_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i = 0;
    while (i < n) {
        const char *eol = memmem(s + i, n - i, "\r\n", 2);
        size_t end = eol ? (size_t)(eol - s) : n, col = 0;
        for (size_t k = i; k < end; k++) {
            unsigned char c = (unsigned char)s[k];
            int last = k + 1 == end;
            int esc = qp_escape(c) || (last && (c == ' ' || c == '\t')) ||
                      (k == i && c == 'F' && end - k >= 5 && memcmp(s + k, "From ", 5) == 0);
            size_t len = esc ? 3 : 1;
            if (col + len > (last ? ENC_COL : ENC_COL - 1)) {
                cr_buf_append(out, "=\r\n", 3);
                col = 0;
            }
            if (esc) {
                char e[3] = {'=', hex[c >> 4], hex[c & 15]};
                cr_buf_append(out, e, 3);
            } else {
                cr_buf_putc(out, (char)c);
            }
            col += len;
        }
        cr_buf_append(out, "\r\n", 2);
        i = eol ? end + 2 : n;
    }
}

/* Longest line of s (CRLF lines), in octets. */
static size_t longest_line(const char *s, size_t n)
{
    size_t longest = 0, i = 0;
    while (i < n) {
        const char *eol = memmem(s + i, n - i, "\r\n", 2);
        size_t end = eol ? (size_t)(eol - s) : n;
        if (end - i > longest)
            longest = end - i;
        i = eol ? end + 2 : n;
    }
    return longest;
}

static int prepare_part(const char *src, const char *type, const char *field, int jp, size_t max,
                        struct part *p, struct cr_err *err)
{
    size_t n = strlen(src), bad, escapes = 0;
    struct cr_buf canon = CR_BUF_INIT(max);
    int rc = 0;
    p->type = type;
    cr_buf_init(&p->body, max);
    if (!cr_utf8_valid(src, n, &bad))
        return cr_err_set(err, CR_EINVAL, "the %s part is not valid UTF-8 (byte %zu)", field, bad);
    canon_lines(src, n, &canon);
    if (canon.err)
        goto toobig;
    if (jp) {
        struct cr_buf jis = CR_BUF_INIT(max);
        char what[32];
        iconv_t cd;
        snprintf(what, sizeof what, "the %s part", field);
        rc = jis_open(&cd, err);
        if (!rc) {
            rc = to_jis(cd, canon.data, canon.len, what, &jis, err);
            iconv_close(cd);
        }
        if (!rc && longest_line(jis.data, jis.len) <= LINE_OCTETS) {
            p->cte = "7bit";
            cr_buf_append(&p->body, jis.data, jis.len);
        } else if (!rc) {
            p->cte = "base64";
            b64_encode((const unsigned char *)jis.data, jis.len, ENC_COL, &p->body);
        }
        cr_buf_release(&jis);
        cr_buf_release(&canon);
        if (rc == CR_ETOOBIG)
            goto toobig;
        if (rc)
            return rc;
        if (p->body.err)
            goto toobig;
        return 0;
    }
    for (size_t i = 0; i < canon.len; i++) {
        unsigned char c = (unsigned char)canon.data[i];
        if (c == '\r' && canon.data[i + 1] == '\n') {
            i++;
            continue;
        }
        escapes += qp_escape(c);
    }
    if (escapes == 0 && longest_line(canon.data, canon.len) <= SEVENBIT_COL) {
        p->cte = "7bit";
        cr_buf_append(&p->body, canon.data, canon.len);
    } else if (escapes * 6 <= canon.len) {
        p->cte = "quoted-printable";
        qp_encode(canon.data, canon.len, &p->body);
    } else {
        p->cte = "base64";
        b64_encode((const unsigned char *)canon.data, canon.len, ENC_COL, &p->body);
    }
    cr_buf_release(&canon);
    if (p->body.err)
        goto toobig;
    return 0;
toobig:
    cr_buf_release(&canon);
    return cr_err_set(err, CR_ETOOBIG, "the %s part makes the message exceed its size limit",
                      field);
}

/* ===================================================================================== */
/* Other header fields                                                                    */
/* ===================================================================================== */

/* Headers the message writes itself, which an extra header may not set. */
static const char *const reserved_headers[] = {
    "from",
    "sender",
    "reply-to",
    "to",
    "cc",
    "bcc",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "dkim-signature",
    "return-path",
};

static int check_header_name(const char *name, size_t idx, struct cr_err *err)
{
    size_t n = strlen(name);
    if (n == 0)
        return cr_err_set(err, CR_EINVAL, "headers[%zu] has an empty name", idx);
    if (n > CR_MAIL_NAME_MAX)
        return cr_err_set(err, CR_EINVAL, "headers[%zu]: the name is longer than %d characters",
                          idx, CR_MAIL_NAME_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= 32 || c >= 127 || c == ':')
            return cr_err_set(err, CR_EINVAL,
                              "headers[%zu]: the name '%.*s' has %s at offset %zu (names are "
                              "printable ASCII without ':' or spaces)",
                              idx, (int)(n > 80 ? 80 : n), name,
                              c == ':'   ? "a ':'"
                              : c == ' ' ? "a space"
                                         : "a forbidden byte",
                              i);
    }
    if (strncasecmp(name, "content-", 8) == 0)
        return cr_err_set(err, CR_EINVAL,
                          "headers[%zu]: '%s' is set by the message itself (MIME structure)", idx,
                          name);
    for (size_t i = 0; i < sizeof reserved_headers / sizeof *reserved_headers; i++)
        if (strcasecmp(name, reserved_headers[i]) == 0)
            return cr_err_set(err, CR_EINVAL,
                              "headers[%zu]: '%s' is set by the message itself, not as an "
                              "extra header",
                              idx, name);
    return 0;
}

/* A URL for List-Unsubscribe: printable ASCII, no space, '<', '>' or ',' (RFC 2369 §2). */
static int check_url(const char *field, const char *u, struct cr_err *err)
{
    size_t n = strlen(u);
    if (n == 0)
        return cr_err_set(err, CR_EINVAL, "%s is empty", field);
    if (n > URL_MAX)
        return cr_err_set(err, CR_ETOOBIG, "%s is longer than %d octets", field, URL_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)u[i];
        if (c <= 32 || c >= 127 || c == '<' || c == '>' || c == ',' || c == '"')
            return cr_err_set(err, CR_EINVAL,
                              "%s has %s at offset %zu (percent-encode it, e.g. %%%02X)", field,
                              c >= 127  ? "a non-ASCII byte"
                              : c <= 32 ? "a space or control"
                                        : "a character not allowed",
                              i, c);
    }
    return 0;
}

static int check_message_id(const char *id, struct cr_err *err)
{
    size_t n = strlen(id);
    const char *at = strrchr(id, '@');
    if (n > ID_MAX)
        return cr_err_set(err, CR_EINVAL, "message_id is longer than %d octets", ID_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)id[i];
        if (c <= 32 || c >= 127 || c == '<' || c == '>' || c == '"' || c == '\\' || c == '(' ||
            c == ')' || c == ',' || c == ';' || c == ':')
            return cr_err_set(err, CR_EINVAL,
                              "message_id has a character not allowed in a Message-ID at "
                              "offset %zu (give 'left@right' without <>)",
                              i);
    }
    if (!at || at == id || !at[1] || memchr(id, '@', (size_t)(at - id)))
        return cr_err_set(err, CR_EINVAL, "message_id '%s' is not of the form left@right", id);
    return 0;
}

static void put_date(struct hw *w, cr_time_t t)
{
    static const char *const days[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct cr_civil c;
    int64_t d = t / (86400 * CR_USEC_PER_SEC);
    if (t % (86400 * CR_USEC_PER_SEC) < 0)
        d--;
    cr_time_to_civil(t, &c);
    hw_start(w, "Date");
    cr_buf_printf(w->out, " %s, %02d %s %04d %02d:%02d:%02d +0000", days[((d % 7) + 7) % 7], c.day,
                  months[c.month - 1], c.year, c.hour, c.min, c.sec);
    hw_end(w);
}

static int put_mailbox_header(struct hw *w, const char *name, const char *field,
                              const struct mailbox *mb, struct cr_err *err)
{
    int rc;
    hw_start(w, name);
    rc = hw_mailbox(w, mb, field, err);
    hw_end(w);
    return rc ? rc : w->out->err;
}

/* ===================================================================================== */
/* cr_mail_build                                                                          */
/* ===================================================================================== */

static int check_inputs(const struct cr_mail *m, struct cr_err *err)
{
    static const struct {
        const char *name;
        size_t off;
    } fields[] = {
        {"from", offsetof(struct cr_mail, from)},
        {"reply_to", offsetof(struct cr_mail, reply_to)},
        {"to", offsetof(struct cr_mail, to)},
        {"subject", offsetof(struct cr_mail, subject)},
        {"unsubscribe_mailto", offsetof(struct cr_mail, unsubscribe_mailto)},
        {"unsubscribe_url", offsetof(struct cr_mail, unsubscribe_url)},
        {"message_id", offsetof(struct cr_mail, message_id)},
    };
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        const char *v = *(const char *const *)((const char *)m + fields[i].off);
        int rc = v ? check_field(fields[i].name, v, err) : 0;
        if (rc)
            return rc;
    }
    if (!m->from)
        return cr_err_set(err, CR_EINVAL, "from is missing");
    if (!m->to)
        return cr_err_set(err, CR_EINVAL, "to is missing");
    if (!m->subject)
        return cr_err_set(err, CR_EINVAL, "subject is missing (use \"\" for none)");
    if (!m->text && !m->html)
        return cr_err_set(err, CR_EINVAL, "the message has neither a text nor an html part");
    if (m->nheaders && !m->headers)
        return cr_err_set(err, CR_EINVAL, "nheaders is %zu but headers is NULL", m->nheaders);
    for (size_t i = 0; i < m->nheaders; i++) {
        char field[96];
        int rc;
        if (!m->headers[i].name)
            return cr_err_set(err, CR_EINVAL, "headers[%zu] has no name", i);
        rc = check_header_name(m->headers[i].name, i, err);
        if (rc)
            return rc;
        snprintf(field, sizeof field, "header '%s'", m->headers[i].name);
        if (!m->headers[i].value)
            return cr_err_set(err, CR_EINVAL, "%s has no value", field);
        rc = check_field(field, m->headers[i].value, err);
        if (rc)
            return rc;
    }
    if (m->unsubscribe_url) {
        if (strncasecmp(m->unsubscribe_url, "https://", 8) != 0)
            return cr_err_set(err, CR_EINVAL,
                              "unsubscribe_url must be an https:// URL (RFC 8058 one-click)");
        int rc = check_url("unsubscribe_url", m->unsubscribe_url, err);
        if (rc)
            return rc;
    }
    if (m->unsubscribe_mailto) {
        const char *u = m->unsubscribe_mailto;
        int rc;
        if (strncasecmp(u, "mailto:", 7) == 0)
            u += 7;
        rc = check_url("unsubscribe_mailto", u, err);
        if (rc)
            return rc;
        if (!strchr(u, '@'))
            return cr_err_set(err, CR_EINVAL, "unsubscribe_mailto '%s' has no '@'", u);
    }
    if (m->message_id && check_message_id(m->message_id, err))
        return CR_EINVAL;
    return 0;
}

/* A boundary of "=_" and random hex: "=_" can never appear in quoted-printable or base64
 * output, and 7bit parts are searched. */
static int make_boundary(char *out, size_t size, const struct part *parts, int nparts)
{
    for (int attempt = 0; attempt < 8; attempt++) {
        char hex[33];
        int clash = 0;
        if (cr_random_hex(hex, 16))
            return CR_EIO;
        snprintf(out, size, "=_crier_%s", hex);
        for (int i = 0; i < nparts; i++)
            if (memmem(parts[i].body.data, parts[i].body.len, out, strlen(out)))
                clash = 1;
        if (!clash)
            return 0;
    }
    return CR_EIO;
}

static void put_part_headers(struct cr_buf *out, const struct part *p, int jp)
{
    cr_buf_printf(out, "Content-Type: %s; charset=%s\r\nContent-Transfer-Encoding: %s\r\n", p->type,
                  jp ? "ISO-2022-JP" : "UTF-8", p->cte);
}

static int build(const struct cr_mail *m, struct cr_buf *out, struct cr_err *err)
{
    struct mailbox from = {CR_BUF_INIT(0), CR_BUF_INIT(0)};
    struct mailbox to = {CR_BUF_INIT(0), CR_BUF_INIT(0)};
    struct mailbox reply = {CR_BUF_INIT(0), CR_BUF_INIT(0)};
    struct part parts[2];
    int nparts = 0, rc;
    struct hw w = {out, out->len, m->iso2022jp != 0};
    char boundary[64];

    rc = check_inputs(m, err);
    if (rc)
        return rc;
    rc = parse_mailbox(m->from, "from", &from, err);
    if (!rc)
        rc = parse_mailbox(m->to, "to", &to, err);
    if (!rc && m->reply_to)
        rc = parse_mailbox(m->reply_to, "reply_to", &reply, err);
    if (rc)
        goto done;
    memset(parts, 0, sizeof parts);
    if (m->text) {
        rc = prepare_part(m->text, "text/plain", "text", w.jp, out->max, &parts[nparts++], err);
        if (rc)
            goto done;
    }
    if (m->html) {
        rc = prepare_part(m->html, "text/html", "html", w.jp, out->max, &parts[nparts++], err);
        if (rc)
            goto done;
    }

    put_date(&w, m->date ? m->date : cr_time_real_now());
    rc = put_mailbox_header(&w, "From", "from", &from, err);
    if (!rc && m->reply_to)
        rc = put_mailbox_header(&w, "Reply-To", "reply_to", &reply, err);
    if (!rc)
        rc = put_mailbox_header(&w, "To", "to", &to, err);
    if (rc)
        goto done;
    hw_start(&w, "Subject");
    rc = hw_text(&w, m->subject, strlen(m->subject), "subject", err);
    if (rc)
        goto done;
    hw_end(&w);

    hw_start(&w, "Message-ID");
    if (m->message_id) {
        cr_buf_printf(out, " <%s>", m->message_id);
    } else {
        char hex[33];
        const char *domain = strrchr(from.addr.data, '@') + 1;
        if (cr_random_hex(hex, 16)) {
            rc = cr_err_set(err, CR_EIO, "no random bytes for the Message-ID");
            goto done;
        }
        cr_buf_printf(out, " <%s@%s>", hex, domain);
    }
    hw_end(&w);

    if (m->unsubscribe_url || m->unsubscribe_mailto) {
        const char *mt = m->unsubscribe_mailto;
        struct cr_buf tok = CR_BUF_INIT(0);
        hw_start(&w, "List-Unsubscribe");
        if (m->unsubscribe_url) {
            cr_buf_printf(&tok, "<%s>%s", m->unsubscribe_url, mt ? "," : "");
            hw_put(&w, " ", 1, tok.data, tok.len);
        }
        if (mt) {
            cr_buf_reset(&tok);
            if (strncasecmp(mt, "mailto:", 7) == 0)
                mt += 7;
            cr_buf_printf(&tok, "<mailto:%s>", mt);
            hw_put(&w, " ", 1, tok.data, tok.len);
        }
        cr_buf_release(&tok);
        hw_end(&w);
        if (m->unsubscribe_url)
            cr_buf_puts(out, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
    }

    for (size_t i = 0; i < m->nheaders; i++) {
        char field[96];
        snprintf(field, sizeof field, "header '%s'", m->headers[i].name);
        hw_start(&w, m->headers[i].name);
        rc = hw_text(&w, m->headers[i].value, strlen(m->headers[i].value), field, err);
        if (rc)
            goto done;
        hw_end(&w);
    }

    cr_buf_puts(out, "MIME-Version: 1.0\r\n");
    if (nparts == 1) {
        put_part_headers(out, &parts[0], w.jp);
        cr_buf_puts(out, "\r\n");
        cr_buf_append(out, parts[0].body.data, parts[0].body.len);
    } else {
        if (make_boundary(boundary, sizeof boundary, parts, nparts)) {
            rc = cr_err_set(err, CR_EIO, "no random bytes for the MIME boundary");
            goto done;
        }
        cr_buf_printf(out, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n",
                      boundary);
        for (int i = 0; i < nparts; i++) {
            cr_buf_printf(out, "--%s\r\n", boundary);
            put_part_headers(out, &parts[i], w.jp);
            cr_buf_puts(out, "\r\n");
            cr_buf_append(out, parts[i].body.data, parts[i].body.len);
            cr_buf_puts(out, "\r\n"); /* the delimiter's CRLF: the part keeps its own */
        }
        cr_buf_printf(out, "--%s--\r\n", boundary);
    }
    if (out->err)
        rc = cr_err_set(err, out->err, "the message exceeds its size limit (%zu octets)", out->max);
done:
    mailbox_release(&from);
    mailbox_release(&to);
    mailbox_release(&reply);
    for (int i = 0; i < nparts; i++)
        cr_buf_release(&parts[i].body);
    return rc;
}

int cr_mail_build(const struct cr_mail *m, struct cr_buf *out, struct cr_err *err)
{
    size_t mark = out->len;
    int rc;
    if (out->err)
        return out->err;
    rc = build(m, out, err);
    if (out->err) /* a writer stopped on the limit: say so if nothing else did */
        rc = cr_err_set(err, out->err, "the message exceeds its size limit (%zu octets)", out->max);
    if (rc) {
        cr_buf_truncate(out, mark);
        out->err = 0;
    }
    return rc;
}

/* ===================================================================================== */
/* Japanese mobile carriers                                                               */
/* ===================================================================================== */

#define JP_DEFAULT "docomo.ne.jp,ezweb.ne.jp,au.com,softbank.ne.jp,i.softbank.jp"

static pthread_mutex_t jp_lock = PTHREAD_MUTEX_INITIALIZER;
static char *jp_domains; /* normalised "a,b,c"; NULL = JP_DEFAULT */

int cr_mail_is_jp_carrier(const char *addr)
{
    const char *at, *d, *end, *p;
    size_t n;
    int found = 0;
    if (!addr)
        return 0;
    at = strrchr(addr, '@');
    if (!at)
        return 0;
    d = at + 1;
    end = d + strlen(d);
    while (end > d && (is_wsp(end[-1]) || end[-1] == '>'))
        end--;
    if (end > d && end[-1] == '.')
        end--;
    n = (size_t)(end - d);
    if (n == 0)
        return 0;
    pthread_mutex_lock(&jp_lock);
    p = jp_domains ? jp_domains : JP_DEFAULT;
    while (*p && !found) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len && n >= len && strncasecmp(end - len, p, len) == 0 &&
            (n == len || end[-(ptrdiff_t)len - 1] == '.'))
            found = 1;
        p += len + (comma ? 1 : 0);
    }
    pthread_mutex_unlock(&jp_lock);
    return found;
}

int cr_mail_set_jp_domains(const char *list)
{
    struct cr_buf b = CR_BUF_INIT(0);
    char *old;
    if (list) {
        const char *p = list;
        while (*p) {
            const char *comma = strchr(p, ','), *s = p;
            size_t n = comma ? (size_t)(comma - p) : strlen(p);
            trim(&s, &n);
            while (n && s[n - 1] == '.')
                n--;
            for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.')) {
                    cr_buf_release(&b);
                    return CR_EINVAL;
                }
            }
            if (n) {
                if (b.len)
                    cr_buf_putc(&b, ',');
                for (size_t i = 0; i < n; i++)
                    cr_buf_putc(&b, s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i]);
            }
            p = comma ? comma + 1 : p + strlen(p);
        }
    }
    pthread_mutex_lock(&jp_lock);
    old = jp_domains;
    jp_domains = list ? cr_buf_detach(&b, NULL) : NULL;
    pthread_mutex_unlock(&jp_lock);
    free(old);
    cr_buf_release(&b);
    return 0;
}

/* ===================================================================================== */
/* HTML to text                                                                           */
/* ===================================================================================== */

#define TEXT_COL 76 /* the derived text is wrapped at this many characters */

struct h2t {
    struct cr_buf *t;   /* logical lines, LF-separated, before wrapping */
    int nl;             /* line breaks owed before the next text (0-2) */
    int space;          /* a space owed before the next text */
    int pre;            /* depth of <pre> */
    int hidden;         /* inside <head> */
    size_t link;        /* t->len when the open <a> started, or SIZE_MAX */
    struct cr_buf href; /* its href, decoded */
};

/* Named character references: the ones email HTML uses (ASCII punctuation, typography,
 * currency, Latin-1 letters for French and other Western European languages). */
static const struct {
    const char *name;
    uint32_t cp;
} entities[] = {
    {"amp", '&'},       {"lt", '<'},        {"gt", '>'},        {"quot", '"'},
    {"apos", '\''},     {"nbsp", ' '},      {"ensp", ' '},      {"emsp", ' '},
    {"thinsp", ' '},    {"shy", 0},         {"zwnj", 0},        {"zwj", 0},
    {"lrm", 0},         {"rlm", 0},         {"copy", 0xA9},     {"reg", 0xAE},
    {"trade", 0x2122},  {"hellip", 0x2026}, {"mdash", 0x2014},  {"ndash", 0x2013},
    {"lsquo", 0x2018},  {"rsquo", 0x2019},  {"sbquo", 0x201A},  {"ldquo", 0x201C},
    {"rdquo", 0x201D},  {"bdquo", 0x201E},  {"laquo", 0xAB},    {"raquo", 0xBB},
    {"lsaquo", 0x2039}, {"rsaquo", 0x203A}, {"bull", 0x2022},   {"middot", 0xB7},
    {"dagger", 0x2020}, {"Dagger", 0x2021}, {"permil", 0x2030}, {"prime", 0x2032},
    {"euro", 0x20AC},   {"pound", 0xA3},    {"yen", 0xA5},      {"cent", 0xA2},
    {"curren", 0xA4},   {"sect", 0xA7},     {"para", 0xB6},     {"deg", 0xB0},
    {"plusmn", 0xB1},   {"times", 0xD7},    {"divide", 0xF7},   {"micro", 0xB5},
    {"iexcl", 0xA1},    {"iquest", 0xBF},   {"ordf", 0xAA},     {"ordm", 0xBA},
    {"sup1", 0xB9},     {"sup2", 0xB2},     {"sup3", 0xB3},     {"frac14", 0xBC},
    {"frac12", 0xBD},   {"frac34", 0xBE},   {"not", 0xAC},      {"uml", 0xA8},
    {"acute", 0xB4},    {"cedil", 0xB8},    {"macr", 0xAF},     {"brvbar", 0xA6},
    {"larr", 0x2190},   {"uarr", 0x2191},   {"rarr", 0x2192},   {"darr", 0x2193},
    {"harr", 0x2194},   {"hearts", 0x2665}, {"star", 0x2606},   {"check", 0x2713},
    {"minus", 0x2212},  {"Agrave", 0xC0},   {"Aacute", 0xC1},   {"Acirc", 0xC2},
    {"Atilde", 0xC3},   {"Auml", 0xC4},     {"Aring", 0xC5},    {"AElig", 0xC6},
    {"Ccedil", 0xC7},   {"Egrave", 0xC8},   {"Eacute", 0xC9},   {"Ecirc", 0xCA},
    {"Euml", 0xCB},     {"Igrave", 0xCC},   {"Iacute", 0xCD},   {"Icirc", 0xCE},
    {"Iuml", 0xCF},     {"ETH", 0xD0},      {"Ntilde", 0xD1},   {"Ograve", 0xD2},
    {"Oacute", 0xD3},   {"Ocirc", 0xD4},    {"Otilde", 0xD5},   {"Ouml", 0xD6},
    {"Oslash", 0xD8},   {"Ugrave", 0xD9},   {"Uacute", 0xDA},   {"Ucirc", 0xDB},
    {"Uuml", 0xDC},     {"Yacute", 0xDD},   {"THORN", 0xDE},    {"szlig", 0xDF},
    {"agrave", 0xE0},   {"aacute", 0xE1},   {"acirc", 0xE2},    {"atilde", 0xE3},
    {"auml", 0xE4},     {"aring", 0xE5},    {"aelig", 0xE6},    {"ccedil", 0xE7},
    {"egrave", 0xE8},   {"eacute", 0xE9},   {"ecirc", 0xEA},    {"euml", 0xEB},
    {"igrave", 0xEC},   {"iacute", 0xED},   {"icirc", 0xEE},    {"iuml", 0xEF},
    {"eth", 0xF0},      {"ntilde", 0xF1},   {"ograve", 0xF2},   {"oacute", 0xF3},
    {"ocirc", 0xF4},    {"otilde", 0xF5},   {"ouml", 0xF6},     {"oslash", 0xF8},
    {"ugrave", 0xF9},   {"uacute", 0xFA},   {"ucirc", 0xFB},    {"uuml", 0xFC},
    {"yacute", 0xFD},   {"thorn", 0xFE},    {"yuml", 0xFF},     {"OElig", 0x152},
    {"oelig", 0x153},   {"Scaron", 0x160},  {"scaron", 0x161},  {"Yuml", 0x178},
    {"fnof", 0x192},    {"circ", 0x2C6},    {"tilde", 0x2DC},
};

/* HTML5 §13.2.5.80: numeric references 0x80-0x9F mean windows-1252 characters. */
static const uint16_t cp1252[32] = {
    0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
};

/* Decodes one character at s[*i] (a character reference or a UTF-8 sequence; invalid UTF-8
 * is U+FFFD) and advances *i. Returns UINT32_MAX for a reference that means nothing. */
static uint32_t h2t_char(const char *s, size_t n, size_t *i)
{
    size_t k = *i;
    if (s[k] == '&' && k + 2 < n) {
        if (s[k + 1] == '#') {
            int hex = s[k + 2] == 'x' || s[k + 2] == 'X';
            size_t j = k + 2 + (size_t)hex, digits = 0;
            uint32_t v = 0;
            for (; j < n && digits < 8; j++, digits++) {
                char c = s[j];
                int d = c >= '0' && c <= '9'          ? c - '0'
                        : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                      : -1;
                if (d < 0)
                    break;
                v = v * (hex ? 16 : 10) + (uint32_t)d;
            }
            if (digits) {
                while (j < n &&
                       ((s[j] >= '0' && s[j] <= '9') ||
                        (hex && ((s[j] >= 'a' && s[j] <= 'f') || (s[j] >= 'A' && s[j] <= 'F')))))
                    j++, v = 0x110000; /* too many digits */
                *i = j < n && s[j] == ';' ? j + 1 : j;
                if (v >= 0x80 && v <= 0x9F)
                    return cp1252[v - 0x80];
                if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
                    return 0xFFFD;
                return v;
            }
        } else {
            size_t j = k + 1;
            while (j < n && j - k <= 8 &&
                   ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z') ||
                    (s[j] >= '0' && s[j] <= '9')))
                j++;
            if (j < n && s[j] == ';' && j > k + 1) {
                for (size_t e = 0; e < sizeof entities / sizeof *entities; e++) {
                    if (strlen(entities[e].name) == j - k - 1 &&
                        memcmp(entities[e].name, s + k + 1, j - k - 1) == 0) {
                        *i = j + 1;
                        return entities[e].cp ? entities[e].cp : UINT32_MAX;
                    }
                }
            }
        }
    }
    {
        size_t len = cr_utf8_seq_len(s + k, n - k);
        if (!len) {
            *i = k + 1;
            return 0xFFFD;
        }
        *i = k + len;
        return cr_utf8_decode(s + k, len);
    }
}

static void h2t_flush(struct h2t *h)
{
    struct cr_buf *t = h->t;
    if (h->nl) {
        int have = 0;
        if (t->len == 0)
            have = 2;
        while (have < 2 && (size_t)have < t->len && t->data[t->len - 1 - (size_t)have] == '\n')
            have++;
        for (; have < h->nl; have++)
            cr_buf_putc(t, '\n');
    } else if (h->space && t->len && t->data[t->len - 1] != '\n' && t->data[t->len - 1] != ' ') {
        cr_buf_putc(t, ' ');
    }
    h->nl = 0;
    h->space = 0;
}

static void h2t_cp(struct h2t *h, uint32_t cp)
{
    char enc[4];
    if (h->hidden || cp == UINT32_MAX)
        return;
    if (cp == 0xAD || cp == 0x34F || (cp >= 0x200B && cp <= 0x200F) || cp == 0xFEFF)
        return; /* soft hyphen and invisible characters (email preheader padding) */
    if (h->pre) {
        if (cp == '\r')
            return;
        h2t_flush(h);
        if (cp == '\n' || cp == '\t' || cp >= 0x20)
            cr_buf_append(h->t, enc, cr_utf8_encode(cp == 0xA0 ? ' ' : cp, enc));
        return;
    }
    if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == 0xA0) {
        h->space = 1;
        return;
    }
    if (cp < 0x20 || cp == 0x7F)
        return;
    h2t_flush(h);
    cr_buf_append(h->t, enc, cr_utf8_encode(cp, enc));
}

static void h2t_text(struct h2t *h, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n)
        h2t_cp(h, h2t_char(s, n, &i));
}

static void h2t_block(struct h2t *h, int n)
{
    if (!h->hidden && n > h->nl)
        h->nl = n;
}

/* The label says the same as the URL: "https://x.com/" shown as "x.com", "mailto:a@b" as
 * "a@b". */
static int same_link(const char *label, size_t ln, const char *url, size_t un)
{
    static const char *const schemes[] = {"", "mailto:", "tel:", "https://", "http://"};
    for (size_t k = 0; k < sizeof schemes / sizeof *schemes; k++) {
        size_t sl = strlen(schemes[k]), l = ln, u;
        const char *p;
        if (un < sl || strncasecmp(url, schemes[k], sl) != 0)
            continue;
        p = url + sl;
        u = un - sl;
        if (u && p[u - 1] == '/')
            u--;
        if (l && label[l - 1] == '/')
            l--;
        if (l == u && strncasecmp(label, p, u) == 0)
            return 1;
        if (l == u + 4 && strncasecmp(label, "www.", 4) == 0 && strncasecmp(label + 4, p, u) == 0)
            return 1;
        if (u == l + 4 && strncasecmp(p, "www.", 4) == 0 && strncasecmp(p + 4, label, l) == 0)
            return 1;
    }
    return 0;
}

static void h2t_link_end(struct h2t *h)
{
    const char *label, *url = h->href.data;
    size_t ln, un = h->href.len;
    if (h->link == SIZE_MAX)
        return;
    label = h->t->data + h->link;
    ln = h->t->len - h->link;
    while (ln && (label[0] == ' ' || label[0] == '\n')) {
        label++;
        ln--;
    }
    while (ln && (label[ln - 1] == ' ' || label[ln - 1] == '\n'))
        ln--;
    h->link = SIZE_MAX;
    if (un == 0 || url[0] == '#' || strncasecmp(url, "javascript:", 11) == 0)
        return;
    if (ln == 0) {
        h2t_flush(h);
        cr_buf_append(h->t, url, un);
        return;
    }
    if (same_link(label, ln, url, un))
        return;
    cr_buf_puts(h->t, " (");
    cr_buf_append(h->t, url, un);
    cr_buf_putc(h->t, ')');
}

/* Elements that break lines: 2 = paragraph (a blank line), 1 = a line break. */
static const struct {
    const char *name;
    int brk;
} blocks[] = {
    {"p", 2},       {"h1", 2},     {"h2", 2},      {"h3", 2},     {"h4", 2},      {"h5", 2},
    {"h6", 2},      {"ul", 2},     {"ol", 2},      {"dl", 2},     {"table", 2},   {"blockquote", 2},
    {"pre", 2},     {"hr", 2},     {"address", 2}, {"figure", 2}, {"form", 2},    {"div", 1},
    {"tr", 1},      {"li", 1},     {"dt", 1},      {"dd", 1},     {"section", 1}, {"article", 1},
    {"header", 1},  {"footer", 1}, {"nav", 1},     {"main", 1},   {"aside", 1},   {"center", 1},
    {"caption", 1}, {"body", 1},   {"title", 1},
};

/* Finds the attribute attr in a tag's attribute text a[0..n); decodes it into out. */
static void h2t_attr(const char *a, size_t n, const char *attr, struct cr_buf *out)
{
    size_t i = 0, an = strlen(attr);
    while (i < n) {
        size_t ns, ne, vs = 0, ve = 0;
        while (i < n &&
               (is_wsp(a[i]) || a[i] == '\n' || a[i] == '\r' || a[i] == '/' || a[i] == '\f'))
            i++;
        ns = i;
        while (i < n && !is_wsp(a[i]) && a[i] != '\n' && a[i] != '\r' && a[i] != '=' &&
               a[i] != '/' && a[i] != '\f')
            i++;
        ne = i;
        while (i < n && (is_wsp(a[i]) || a[i] == '\n' || a[i] == '\r'))
            i++;
        if (i < n && a[i] == '=') {
            i++;
            while (i < n && (is_wsp(a[i]) || a[i] == '\n' || a[i] == '\r'))
                i++;
            if (i < n && (a[i] == '"' || a[i] == '\'')) {
                char qc = a[i++];
                vs = i;
                while (i < n && a[i] != qc)
                    i++;
                ve = i;
                if (i < n)
                    i++;
            } else {
                vs = i;
                while (i < n && !is_wsp(a[i]) && a[i] != '\n' && a[i] != '\r')
                    i++;
                ve = i;
            }
        }
        if (ne == ns) {
            i++;
            continue;
        }
        if (ne - ns == an && strncasecmp(a + ns, attr, an) == 0) {
            size_t k = vs;
            while (k < ve) {
                uint32_t cp = h2t_char(a, ve, &k);
                char enc[4];
                if (cp != UINT32_MAX && (cp >= 0x20 || cp == '\t' || cp == '\n' || cp == '\r') &&
                    cp != 0x7F)
                    cr_buf_append(out, enc, cr_utf8_encode(cp, enc));
            }
            return;
        }
    }
}

/* Handles the tag starting at s[i] == '<'; returns the index after it. */
static size_t h2t_tag(struct h2t *h, const char *s, size_t n, size_t i)
{
    char name[12];
    size_t k = i + 1, nl = 0, attrs, end;
    int close = 0;
    if (k + 2 < n && memcmp(s + k, "!--", 3) == 0) {
        const char *e = memmem(s + k + 3, n - k - 3, "-->", 3);
        return e ? (size_t)(e - s) + 3 : n;
    }
    if (k < n && (s[k] == '!' || s[k] == '?')) {
        const char *e = memchr(s + k, '>', n - k);
        return e ? (size_t)(e - s) + 1 : n;
    }
    if (k < n && s[k] == '/') {
        close = 1;
        k++;
    }
    if (k >= n || !((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z'))) {
        h2t_cp(h, '<');
        return i + 1;
    }
    while (k < n && ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z') ||
                     (s[k] >= '0' && s[k] <= '9'))) {
        if (nl < sizeof name - 1)
            name[nl] = (char)(s[k] | 0x20);
        nl++;
        k++;
    }
    if (nl >= sizeof name)
        nl = 0; /* no element of interest has such a long name */
    name[nl] = '\0';
    attrs = k;
    {
        char q = 0;
        while (k < n && (q || s[k] != '>')) {
            if (q && s[k] == q)
                q = 0;
            else if (!q && (s[k] == '"' || s[k] == '\'') && k > attrs && s[k - 1] == '=')
                q = s[k];
            k++;
        }
    }
    end = k < n ? k + 1 : n;
    if (!close && (strcmp(name, "script") == 0 || strcmp(name, "style") == 0 ||
                   strcmp(name, "title") == 0 || strcmp(name, "textarea") == 0)) {
        /* raw text: skip to the closing tag */
        for (size_t j = end; j + 1 + nl < n; j++) {
            if (s[j] == '<' && s[j + 1] == '/' && strncasecmp(s + j + 2, name, nl) == 0) {
                const char *e = memchr(s + j, '>', n - j);
                return e ? (size_t)(e - s) + 1 : n;
            }
        }
        return n;
    }
    if (strcmp(name, "head") == 0) {
        h->hidden = !close;
        return end;
    }
    if (!close && strcmp(name, "body") == 0)
        h->hidden = 0;
    if (h->hidden)
        return end;
    if (strcmp(name, "br") == 0) {
        if (h->nl)
            h->nl = 2;
        else if (h->t->len)
            cr_buf_putc(h->t, '\n');
        h->space = 0;
        return end;
    }
    if (strcmp(name, "a") == 0) {
        h2t_link_end(h);
        if (!close) {
            cr_buf_reset(&h->href);
            h2t_attr(s + attrs, k - attrs, "href", &h->href);
            /* browsers drop tabs and line breaks in URLs; trim the spaces */
            {
                size_t o = 0, st = 0;
                for (size_t j = 0; j < h->href.len; j++) {
                    char c = h->href.data[j];
                    if (c != '\t' && c != '\n' && c != '\r')
                        h->href.data[o++] = c;
                }
                while (st < o && h->href.data[st] == ' ')
                    st++;
                while (o > st && h->href.data[o - 1] == ' ')
                    o--;
                memmove(h->href.data, h->href.data + st, o - st);
                if (h->href.len)
                    cr_buf_truncate(&h->href, o - st);
            }
            h->link = h->t->len;
        }
        return end;
    }
    if (!close && strcmp(name, "img") == 0) {
        struct cr_buf alt = CR_BUF_INIT(0);
        h2t_attr(s + attrs, k - attrs, "alt", &alt);
        if (alt.len) {
            h->space = h->space || (h->t->len && h->t->data[h->t->len - 1] != ' ');
            for (size_t a = 0; a < alt.len;) { /* already decoded: no second pass */
                size_t len = cr_utf8_seq_len(alt.data + a, alt.len - a);
                if (!len)
                    break;
                h2t_cp(h, cr_utf8_decode(alt.data + a, len));
                a += len;
            }
        }
        cr_buf_release(&alt);
        return end;
    }
    if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0) {
        h->space = 1;
        return end;
    }
    if (strcmp(name, "pre") == 0) {
        if (close && h->pre)
            h->pre--;
        else if (!close)
            h->pre++;
    }
    for (size_t b = 0; b < sizeof blocks / sizeof *blocks; b++) {
        if (strcmp(name, blocks[b].name) == 0) {
            h2t_block(h, blocks[b].brk);
            if (!close && strcmp(name, "li") == 0) {
                h2t_flush(h);
                cr_buf_puts(h->t, "- ");
            }
            break;
        }
    }
    return end;
}

/* Copies the logical lines t to out wrapped at TEXT_COL characters, trailing spaces and
 * repeated blank lines removed, each line ending with LF. */
static void wrap(const char *s, size_t n, struct cr_buf *out)
{
    size_t i = 0;
    int blank = 1; /* no blank line at the start */
    while (i < n) {
        const char *eol = memchr(s + i, '\n', n - i);
        size_t end = eol ? (size_t)(eol - s) : n, pos = i;
        while (end > i && s[end - 1] == ' ')
            end--;
        if (end == i) {
            if (!blank)
                cr_buf_putc(out, '\n');
            blank = 1;
            i = eol ? (size_t)(eol - s) + 1 : n;
            continue;
        }
        blank = 0;
        for (;;) {
            size_t c = 0, j = pos, space = SIZE_MAX;
            while (j < end && c <= TEXT_COL) {
                if (s[j] == ' ' && c > 0)
                    space = j;
                c++;
                j++;
                while (j < end && ((unsigned char)s[j] & 0xC0) == 0x80)
                    j++;
            }
            if (j >= end && c <= TEXT_COL)
                break;
            if (space == SIZE_MAX) {
                const char *sp = memchr(s + j, ' ', end - j);
                if (!sp)
                    break;
                space = (size_t)(sp - s);
            }
            cr_buf_append(out, s + pos, space - pos);
            cr_buf_putc(out, '\n');
            pos = space + 1;
        }
        cr_buf_append(out, s + pos, end - pos);
        cr_buf_putc(out, '\n');
        i = eol ? (size_t)(eol - s) + 1 : n;
    }
    /* drop a trailing blank line */
    if (out->len >= 2 && out->data[out->len - 1] == '\n' && out->data[out->len - 2] == '\n' &&
        blank)
        cr_buf_truncate(out, out->len - 1);
}

int cr_mail_html_to_text(const char *html, size_t len, struct cr_buf *out, struct cr_err *err)
{
    struct cr_buf t = CR_BUF_INIT(out->max);
    struct h2t h = {&t, 0, 0, 0, 0, SIZE_MAX, CR_BUF_INIT(out->max)};
    size_t i = 0, mark = out->len;
    while (i < len && !t.err) {
        size_t next = i;
        while (next < len && html[next] != '<')
            next++;
        h2t_text(&h, html + i, next - i);
        i = next;
        if (i < len)
            i = h2t_tag(&h, html, len, i);
    }
    h2t_link_end(&h);
    if (!t.err && !h.href.err)
        wrap(t.data, t.len, out);
    cr_buf_release(&h.href);
    if (t.err || h.href.err || out->err) {
        cr_buf_release(&t);
        cr_buf_truncate(out, mark);
        return cr_err_set(err, CR_ETOOBIG, "the text derived from the html exceeds its limit");
    }
    cr_buf_release(&t);
    return 0;
}
