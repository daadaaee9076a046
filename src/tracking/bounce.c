/*
 * bounce.c - bounce and complaint messages into events (formats and rules: bounce.h)
 *
 * Not here: fetching the messages (IMAP, a pipe from the MTA), finding the delivery an event
 * belongs to, suppression policy. Nothing touches the store.
 *
 * Specs: RFC 3464 (delivery status notifications), RFC 3463 (enhanced status codes), RFC 6522
 * (multipart/report), RFC 5965 (ARF), RFC 6533 (the message/global-* types), RFC 2045 and
 * RFC 2046 (parameters, base64, quoted-printable, boundaries), RFC 5322 (fields, folding).
 *
 * Stages, in file order: line and field cursors; the MIME walk, which collects the report
 * parts, the original message's headers and the readable text; the strings we hand out
 * (addresses, Message-IDs, diagnostics); SMTP replies and classification; one reader per
 * format; the entry point. Every stage moves forward over its input once and every look-around
 * is bounded by a constant, so the work is linear in len (a multipart's body is scanned once per
 * nesting level: at most CR_BOUNCE_MAX_DEPTH + 1 times). Nothing reads msg past len.
 */
#define _GNU_SOURCE /* memmem */
#include "tracking/bounce.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/utf8.h"

#define TEXT_MAX (4u << 20) /* readable text kept for the plain-text formats */
#define PART_MAX (8u << 20) /* a decoded delivery-status, feedback-report or original part */
#define ADDR_MAX 320        /* 64 for the local part, 255 for the domain, the '@' */
#define MSGID_MAX 998       /* the longest line RFC 5322 allows */
#define FIELD_MAX 1024      /* an unfolded field value we look into (From, Subject, ...) */
#define BLOCK_MAX 8192      /* bytes of an Exim or qmail recipient block we look into */
#define MARKER_LINE_MAX 120 /* a "copy of the message follows" line is shorter than this */
#define NEAR_BEFORE 2048    /* how far before an SMTP reply the heuristic looks for an address */
#define NEAR_AFTER 1024     /* ... and how far after */

/* ================================================================ characters and lines */

static int is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* White space, line breaks and other control characters: what folding and junk leave. */
static int is_space(char c)
{
    return (unsigned char)c <= ' ' || c == 0x7f;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static struct cr_str trim(struct cr_str s)
{
    while (s.len && is_space(s.ptr[0]))
        s.ptr++, s.len--;
    while (s.len && is_space(s.ptr[s.len - 1]))
        s.len--;
    return s;
}

static int is_blank(struct cr_str l)
{
    for (size_t i = 0; i < l.len; i++)
        if (!is_wsp(l.ptr[i]))
            return 0;
    return 1;
}

/* 1 if s begins with w (lower-case ASCII), ignoring case. */
static int starts_ci(struct cr_str s, const char *w)
{
    size_t n = strlen(w);
    return s.len >= n && strncasecmp(s.ptr, w, n) == 0;
}

/* 1 if s (n bytes) contains w (lower-case ASCII), ignoring case. Quadratic in the worst case:
 * only for short texts (a field value, a diagnostic). */
static int contains_ci(const char *s, size_t n, const char *w)
{
    size_t wn = strlen(w);
    for (size_t i = 0; i + wn <= n; i++)
        if (lower(s[i]) == w[0] && strncasecmp(s + i, w, wn) == 0)
            return 1;
    return 0;
}

static int contains(struct cr_str s, const char *w)
{
    return memmem(s.ptr, s.len, w, strlen(w)) != NULL;
}

struct lines {
    const char *p, *end;
};

static struct lines lines_of(struct cr_str s)
{
    return (struct lines){s.ptr, s.ptr + s.len};
}

/* The next line, without its terminator (CRLF, LF or a lone CR); 0 at the end. */
static int next_line(struct lines *ls, struct cr_str *line)
{
    const char *p = ls->p, *q = p;
    if (p >= ls->end)
        return 0;
    while (q < ls->end && *q != '\n' && *q != '\r')
        q++;
    line->ptr = p;
    line->len = (size_t)(q - p);
    if (q < ls->end)
        q += (*q == '\r' && q + 1 < ls->end && q[1] == '\n') ? 2 : 1;
    ls->p = q;
    return 1;
}

/* ================================================================ header fields */

struct field {
    struct cr_str name;
    struct cr_str value; /* raw: from after the colon to the end of its last folded line */
};

/* The next field of the header block at ls; 0 at a blank line (consumed) or at the end.
 * Lines that are no field (no colon, or a continuation with no field open) are skipped, so an
 * mbox "From " line or junk does not end a block early. */
static int next_field(struct lines *ls, struct field *f)
{
    struct cr_str line, more;
    while (next_line(ls, &line)) {
        const char *colon, *vend;
        if (is_blank(line))
            return 0;
        if (is_wsp(line.ptr[0]))
            continue;
        colon = memchr(line.ptr, ':', line.len);
        if (!colon)
            continue;
        f->name.ptr = line.ptr;
        f->name.len = (size_t)(colon - line.ptr);
        while (f->name.len && is_wsp(f->name.ptr[f->name.len - 1]))
            f->name.len--;
        vend = line.ptr + line.len;
        for (;;) {
            struct lines peek = *ls;
            if (!next_line(&peek, &more) || is_blank(more) || !is_wsp(more.ptr[0]))
                break;
            vend = more.ptr + more.len;
            *ls = peek;
        }
        f->value.ptr = colon + 1;
        f->value.len = (size_t)(vend - f->value.ptr);
        return 1;
    }
    return 0;
}

/* The raw value of the first field called name (lower-case ASCII) in the header block head. */
static int field_get(struct cr_str head, const char *name, struct cr_str *value)
{
    struct lines ls = lines_of(head);
    struct field f;
    while (next_field(&ls, &f))
        if (cr_str_ieq(f.name, name)) {
            *value = f.value;
            return 1;
        }
    return 0;
}

/* Splits m at its first blank line into the header block and the body (empty without one). */
static void split_message(struct cr_str m, struct cr_str *head, struct cr_str *body)
{
    struct lines ls = lines_of(m);
    struct cr_str line;
    while (next_line(&ls, &line))
        if (is_blank(line)) {
            head->ptr = m.ptr;
            head->len = (size_t)(line.ptr - m.ptr);
            body->ptr = ls.p;
            body->len = (size_t)(m.ptr + m.len - ls.p);
            return;
        }
    *head = m;
    body->ptr = m.ptr + m.len;
    body->len = 0;
}

/* Copies the raw value v into out (cap bytes, NUL included) with folding and every run of
 * white space or control characters made one space, and both ends trimmed. A longer value is
 * cut, and *cut (if not NULL) says so. Returns the length. */
static size_t unfold(struct cr_str v, char *out, size_t cap, int *cut)
{
    size_t n = 0;
    int space = 0;
    if (cut)
        *cut = 0;
    for (size_t i = 0; i < v.len; i++) {
        if (is_space(v.ptr[i])) {
            space = n > 0;
            continue;
        }
        if (n + (size_t)space + 1 >= cap) {
            if (cut)
                *cut = 1;
            break;
        }
        if (space)
            out[n++] = ' ';
        space = 0;
        out[n++] = v.ptr[i];
    }
    out[n] = '\0';
    return n;
}

/* ================================================================ MIME */

struct ctype {
    char type[80];      /* "type/subtype" in lower case; "" when there is no Content-Type */
    char boundary[204]; /* "" when none, or longer than RFC 2046's 70 allow with some slack */
};

/* Skips white space, line breaks and (nested) comments. */
static const char *skip_cfws(const char *p, const char *end)
{
    while (p < end) {
        if (is_space(*p)) {
            p++;
        } else if (*p == '(') {
            int depth = 0;
            for (; p < end; p++) {
                if (*p == '\\' && p + 1 < end) {
                    p++;
                } else if (*p == '(') {
                    depth++;
                } else if (*p == ')' && --depth == 0) {
                    p++;
                    break;
                }
            }
        } else {
            break;
        }
    }
    return p;
}

/* type/subtype and the boundary parameter, which may come in any order and case, quoted or
 * not (RFC 2045 §5.1). RFC 2231 continuations are not read: no MTA splits a boundary. */
static void parse_ctype(struct cr_str v, struct ctype *ct)
{
    const char *p = v.ptr, *end = v.ptr + v.len;
    size_t n = 0;
    ct->type[0] = ct->boundary[0] = '\0';
    p = skip_cfws(p, end);
    for (; p < end && !is_space(*p) && *p != ';' && *p != '('; p++)
        if (n + 1 < sizeof ct->type)
            ct->type[n++] = lower(*p);
    ct->type[n] = '\0';
    while (p < end) {
        const char *name;
        size_t nlen, vn = 0;
        char val[sizeof ct->boundary];
        int cut = 0;
        if (*p != ';') {
            p++;
            continue;
        }
        p = skip_cfws(p + 1, end);
        for (name = p; p < end && !is_space(*p) && *p != '=' && *p != ';' && *p != '('; p++)
            ;
        nlen = (size_t)(p - name);
        p = skip_cfws(p, end);
        if (p >= end || *p != '=')
            continue;
        p = skip_cfws(p + 1, end);
        if (p < end && *p == '"') {
            for (p++; p < end && *p != '"'; p++) {
                if (*p == '\\' && p + 1 < end)
                    p++;
                if (*p == '\r' || *p == '\n') /* folded inside the quotes */
                    continue;
                if (vn + 1 < sizeof val)
                    val[vn++] = *p;
                else
                    cut = 1;
            }
            if (p < end)
                p++;
        } else {
            for (; p < end && !is_space(*p) && *p != ';' && *p != '('; p++)
                if (vn + 1 < sizeof val)
                    val[vn++] = *p;
                else
                    cut = 1;
        }
        val[vn] = '\0';
        if (nlen == 8 && strncasecmp(name, "boundary", 8) == 0 && !ct->boundary[0] && !cut)
            memcpy(ct->boundary, val, vn + 1);
    }
}

enum cte { CTE_IDENTITY, CTE_BASE64, CTE_QP };

static enum cte parse_cte(struct cr_str head)
{
    struct cr_str v;
    char buf[40];
    size_t n;
    if (!field_get(head, "content-transfer-encoding", &v))
        return CTE_IDENTITY;
    unfold(v, buf, sizeof buf, NULL);
    n = strcspn(buf, " ;(");
    if (n == 6 && strncasecmp(buf, "base64", 6) == 0)
        return CTE_BASE64;
    if (n == 16 && strncasecmp(buf, "quoted-printable", 16) == 0)
        return CTE_QP;
    return CTE_IDENTITY; /* 7bit, 8bit, binary, and what we do not know, as is */
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (is_digit(c))
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

static int hex_value(char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Appends s to out, stopping quietly at out->max: a part cut there still has its start, which
 * is where the fields we read are. */
static void put_capped(struct cr_buf *out, const char *s, size_t n)
{
    size_t room = out->max - out->len;
    cr_buf_append(out, s, n < room ? n : room);
}

/* Base64 (RFC 2045 §6.8): characters outside the alphabet (line breaks) are skipped and '='
 * ends the data. */
static void decode_base64(struct cr_str s, struct cr_buf *out)
{
    char chunk[256];
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < s.len && s.ptr[i] != '='; i++) {
        int v = b64_value(s.ptr[i]);
        if (v < 0)
            continue;
        acc = (acc << 6 | (uint32_t)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            chunk[n++] = (char)(acc >> bits);
            if (n == sizeof chunk) {
                put_capped(out, chunk, n);
                n = 0;
                if (out->len == out->max)
                    return;
            }
        }
    }
    put_capped(out, chunk, n);
}

/* Quoted-printable (RFC 2045 §6.7): "=XX" is a byte, '=' at the end of a line (trailing white
 * space allowed) joins it to the next, anything else is kept as it is. */
static void decode_qp(struct cr_str s, struct cr_buf *out)
{
    char chunk[256];
    size_t n = 0;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        if (c == '=') {
            size_t j = i + 1;
            if (i + 2 < s.len && hex_value(s.ptr[i + 1]) >= 0 && hex_value(s.ptr[i + 2]) >= 0) {
                c = (char)(hex_value(s.ptr[i + 1]) * 16 + hex_value(s.ptr[i + 2]));
                i += 2;
            } else {
                while (j < s.len && is_wsp(s.ptr[j]))
                    j++;
                if (j == s.len)
                    break;
                if (s.ptr[j] == '\r' || s.ptr[j] == '\n') {
                    i = j + (s.ptr[j] == '\r' && j + 1 < s.len && s.ptr[j + 1] == '\n');
                    continue;
                }
            }
        }
        chunk[n++] = c;
        if (n == sizeof chunk) {
            put_capped(out, chunk, n);
            n = 0;
            if (out->len == out->max)
                return;
        }
    }
    put_capped(out, chunk, n);
}

/* Appends the body of a part, decoded as its Content-Transfer-Encoding says. */
static void decode_body(struct cr_str head, struct cr_str body, struct cr_buf *out)
{
    switch (parse_cte(head)) {
    case CTE_BASE64:
        decode_base64(body, out);
        break;
    case CTE_QP:
        decode_qp(body, out);
        break;
    default:
        put_capped(out, body.ptr, body.len);
        break;
    }
}

/* What the walk collects: the first part of each report kind, decoded. */
struct walk {
    int has_dsn, has_arf, has_orig;
    struct cr_buf dsn;  /* message/delivery-status */
    struct cr_buf arf;  /* message/feedback-report */
    struct cr_buf orig; /* message/rfc822 or text/rfc822-headers: the original's headers */
    struct cr_buf text; /* text/plain parts (or the single-part body), one after another */
    struct cr_buf html; /* text/html parts, read only when there is no text/plain */
};

static void walk(struct walk *w, struct cr_str head, struct cr_str body, int depth);

/* The delimiter line "--boundary" or "--boundary--", maybe with trailing white space. */
static int is_delimiter(struct cr_str line, const char *b, size_t bn, int *close)
{
    size_t i = bn + 2;
    if (line.len < i || line.ptr[0] != '-' || line.ptr[1] != '-' ||
        memcmp(line.ptr + 2, b, bn) != 0)
        return 0;
    *close = i + 1 < line.len && line.ptr[i] == '-' && line.ptr[i + 1] == '-';
    for (i += *close ? 2 : 0; i < line.len; i++)
        if (!is_wsp(line.ptr[i]))
            return 0;
    return 1;
}

static void walk_part(struct walk *w, const char *start, const char *end, int depth)
{
    struct cr_str head, body;
    split_message((struct cr_str){start, (size_t)(end - start)}, &head, &body);
    walk(w, head, body, depth);
}

/* The parts of a multipart body (RFC 2046 §5.1.1): the line break before a delimiter belongs
 * to the delimiter. A body cut short (no close delimiter) ends its last part at its end. */
static void walk_multipart(struct walk *w, struct cr_str body, const char *boundary, int depth)
{
    struct lines ls = lines_of(body);
    struct cr_str line;
    const char *start = NULL, *last_end = body.ptr;
    size_t bn = strlen(boundary);
    int close;
    while (next_line(&ls, &line)) {
        if (is_delimiter(line, boundary, bn, &close)) {
            if (start)
                walk_part(w, start, start <= last_end ? last_end : start, depth);
            if (close)
                return;
            start = ls.p;
        }
        last_end = line.ptr + line.len;
    }
    if (start)
        walk_part(w, start, body.ptr + body.len, depth);
}

/* Visits a part (the message itself at depth 0). A multipart at depth d is opened when
 * d < CR_BOUNCE_MAX_DEPTH, so parts inside up to CR_BOUNCE_MAX_DEPTH nested multiparts are
 * seen. message/rfc822 parts are not opened: a bounce forwarded as an attachment is not ours. */
static void walk(struct walk *w, struct cr_str head, struct cr_str body, int depth)
{
    struct ctype ct;
    struct cr_str v;
    const char *t = ct.type;
    if (field_get(head, "content-type", &v))
        parse_ctype(v, &ct);
    else
        ct.type[0] = ct.boundary[0] = '\0';
    if (strncmp(t, "multipart/", 10) == 0) {
        if (depth < CR_BOUNCE_MAX_DEPTH && ct.boundary[0])
            walk_multipart(w, body, ct.boundary, depth + 1);
    } else if (!strcmp(t, "message/delivery-status") ||
               !strcmp(t, "message/global-delivery-status")) {
        if (!w->has_dsn)
            decode_body(head, body, &w->dsn);
        w->has_dsn = 1;
    } else if (!strcmp(t, "message/feedback-report")) {
        if (!w->has_arf)
            decode_body(head, body, &w->arf);
        w->has_arf = 1;
    } else if (!strcmp(t, "message/rfc822") || !strcmp(t, "text/rfc822-headers") ||
               !strcmp(t, "message/global") || !strcmp(t, "message/global-headers")) {
        struct cr_str ohead, obody;
        if (!w->has_orig && parse_cte(head) == CTE_IDENTITY) { /* only its header is read */
            split_message(body, &ohead, &obody);
            put_capped(&w->orig, ohead.ptr, ohead.len);
        } else if (!w->has_orig) {
            decode_body(head, body, &w->orig);
        }
        w->has_orig = 1;
    } else if (!t[0] || !strcmp(t, "text/plain")) {
        if (w->text.len)
            put_capped(&w->text, "\n", 1);
        decode_body(head, body, &w->text);
    } else if (!strcmp(t, "text/html")) {
        if (w->html.len)
            put_capped(&w->html, "\n", 1);
        decode_body(head, body, &w->html);
    }
}

/* ================================================================ strings handed out */

/* The address in s with white space and <> around it removed and the domain lower-cased; NULL
 * unless it is local@domain of at most ADDR_MAX bytes, valid UTF-8, without white space,
 * controls, '<', '>', ',' or ';'. */
static char *norm_addr(const char *s, size_t n)
{
    struct cr_str t = trim((struct cr_str){s, n});
    const char *at = NULL, *gt;
    char *out;
    if (t.len && t.ptr[0] == '<') {
        t.ptr++, t.len--;
        gt = memchr(t.ptr, '>', t.len);
        if (gt) /* "<a@b> (comment)" */
            t.len = (size_t)(gt - t.ptr);
        t = trim(t);
    }
    if (t.len == 0 || t.len > ADDR_MAX)
        return NULL;
    for (size_t i = 0; i < t.len; i++) {
        char c = t.ptr[i];
        if (is_space(c) || c == '<' || c == '>' || c == ',' || c == ';')
            return NULL;
        if (c == '@')
            at = t.ptr + i;
    }
    if (!at || at == t.ptr || at == t.ptr + t.len - 1 || !cr_utf8_valid(t.ptr, t.len, NULL))
        return NULL;
    out = cr_xmemdupz(t.ptr, t.len);
    for (size_t i = (size_t)(at - t.ptr) + 1; i < t.len; i++)
        out[i] = lower(out[i]);
    return out;
}

/* The first address of an address-list field value ("Name <a@b>, c@d" gives a@b). */
static char *first_addr(struct cr_str v)
{
    char buf[FIELD_MAX];
    size_t n = unfold(v, buf, sizeof buf, NULL);
    const char *lt = memchr(buf, '<', n), *gt = NULL, *comma;
    if (lt)
        gt = memchr(lt, '>', n - (size_t)(lt - buf));
    if (gt)
        return norm_addr(lt, (size_t)(gt - lt) + 1);
    comma = memchr(buf, ',', n);
    return norm_addr(buf, comma ? (size_t)(comma - buf) : n);
}

/* A DSN address field, "type; address" (RFC 3464 §2.3.2), as an address. */
static char *dsn_addr(struct cr_str v)
{
    char buf[ADDR_MAX + 64];
    int cut;
    size_t n = unfold(v, buf, sizeof buf, &cut);
    const char *semi = memchr(buf, ';', n);
    if (cut)
        return NULL;
    return semi ? norm_addr(semi + 1, n - (size_t)(semi + 1 - buf)) : norm_addr(buf, n);
}

/* A Message-ID value without <> and white space; NULL unless non-empty, at most MSGID_MAX
 * bytes, valid UTF-8 without controls. */
static char *norm_msgid(struct cr_str v)
{
    const char *p = v.ptr, *end = v.ptr + v.len, *lt = memchr(v.ptr, '<', v.len), *gt;
    char buf[MSGID_MAX + 1];
    size_t n = 0;
    if (lt) {
        gt = memchr(lt, '>', (size_t)(end - lt));
        if (!gt)
            return NULL;
        p = lt + 1, end = gt;
    } else {
        while (p < end && is_space(*p))
            p++;
        for (lt = p; lt < end && !is_space(*lt); lt++)
            ;
        end = lt;
    }
    for (; p < end; p++) {
        if (is_space(*p)) /* folding inside the brackets */
            continue;
        if (*p == '<' || n == MSGID_MAX)
            return NULL;
        buf[n++] = *p;
    }
    if (n == 0 || !cr_utf8_valid(buf, n, NULL))
        return NULL;
    return cr_xmemdupz(buf, n);
}

/* Length of the enhanced status code at p ("5.1.1"), copied to out (16 bytes), or 0. Strict
 * follows RFC 3463's syntax (class 2, 4 or 5, then 1-3 digits twice), for Status fields. In
 * free text the subject must be one digit 0-7, as in every code RFC 3463 and its registry
 * define, so a version number such as "4.94.2" is not taken for one. */
static size_t scan_enhanced(const char *p, const char *end, int strict, char *out)
{
    const char *q = p;
    if (q >= end || (*q != '2' && *q != '4' && *q != '5'))
        return 0;
    q++;
    for (int part = 0; part < 2; part++) {
        int nd = 0;
        if (q >= end || *q != '.')
            return 0;
        for (q++; q < end && is_digit(*q) && nd < 4; q++)
            nd++;
        if (nd == 0 || nd > 3)
            return 0;
        if (!strict && part == 0 && (nd != 1 || q[-1] > '7'))
            return 0;
    }
    if (q < end && *q == '.' && q + 1 < end && is_digit(q[1])) /* an IP address */
        return 0;
    memcpy(out, p, (size_t)(q - p));
    out[q - p] = '\0';
    return (size_t)(q - p);
}

/* Length of the SMTP reply prefix at the start of l: the code, then '-' or ' ', then the
 * enhanced code if any ("550-5.1.1"); 0 if l does not start with a reply code. */
static size_t reply_prefix(struct cr_str l)
{
    char st[16];
    if (l.len < 3 || (l.ptr[0] != '4' && l.ptr[0] != '5') || !is_digit(l.ptr[1]) ||
        !is_digit(l.ptr[2]))
        return 0;
    if (l.len == 3 || (l.ptr[3] != '-' && l.ptr[3] != ' '))
        return l.len == 3 || is_space(l.ptr[3]) ? 3 : 0;
    return 4 + scan_enhanced(l.ptr + 4, l.ptr + l.len, 0, st);
}

/* The diagnostic for the raw text r: its lines joined into one, runs of white space and
 * control characters made one space, invalid UTF-8 made '?', cut to CR_BOUNCE_MAX_DIAG bytes
 * on a character boundary. The lines of a multi-line SMTP reply ("550-5.1.1 a" then
 * "550 5.1.1 b") read as one reply ("550 5.1.1 a b"). With all_lines 0 only the first line
 * and the lines that continue its reply are taken. NULL when nothing is left. */
static char *make_diag(struct cr_str r, int all_lines)
{
    char raw[CR_BOUNCE_MAX_DIAG + 5], *out;
    size_t n = 0, m = 0, plen = 0;
    const char *first = NULL;
    struct lines ls = lines_of(r);
    struct cr_str line;
    int space = 0;
    while (n < sizeof raw - 1 && next_line(&ls, &line)) {
        while (line.len && is_space(line.ptr[0]))
            line.ptr++, line.len--;
        if (!first) {
            first = line.ptr;
            plen = reply_prefix(line);
        } else if (plen && reply_prefix(line) == plen && memcmp(line.ptr, first, 3) == 0 &&
                   memcmp(line.ptr + 3 + (plen > 3), first + 3 + (plen > 3),
                          plen - 3 - (plen > 3)) == 0) {
            line.ptr += plen, line.len -= plen; /* "550-5.1.1 " again */
        } else if (!all_lines) {
            break;
        }
        space = n > 0;
        for (size_t i = 0; i < line.len && n < sizeof raw - 1; i++) {
            if (is_space(line.ptr[i])) {
                space = n > 0;
                continue;
            }
            if (space && n < sizeof raw - 2)
                raw[n++] = ' ';
            space = 0;
            raw[n++] = line.ptr[i];
        }
    }
    if (n >= 4 && is_digit(raw[0]) && is_digit(raw[1]) && is_digit(raw[2]) && raw[3] == '-')
        raw[3] = ' '; /* the first line of a multi-line reply */
    out = cr_xmalloc(n + 1);
    for (size_t i = 0; i < n;) {
        size_t sl = cr_utf8_seq_len(raw + i, n - i);
        if (m + (sl ? sl : 1) > CR_BOUNCE_MAX_DIAG)
            break;
        if (sl) {
            memcpy(out + m, raw + i, sl);
            m += sl, i += sl;
        } else {
            out[m++] = '?', i++;
        }
    }
    while (m && out[m - 1] == ' ')
        m--;
    out[m] = '\0';
    if (m == 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* A Diagnostic-Code value without its type ("smtp; 550 ..." gives "550 ..."). */
static struct cr_str strip_diag_type(struct cr_str v)
{
    const char *p = v.ptr, *end = v.ptr + v.len, *q, *r;
    while (p < end && is_space(*p))
        p++;
    for (q = p; q < end && q - p < 32 && (is_alnum(*q) || *q == '-' || *q == '_'); q++)
        ;
    for (r = q; r < end && is_wsp(*r); r++)
        ;
    if (q > p && r < end && *r == ';')
        p = r + 1;
    return (struct cr_str){p, (size_t)(end - p)};
}

/* ================================================================ replies and classification */

struct reply {
    int code;        /* 3-digit SMTP reply code; 0 if only an enhanced code was found */
    char status[16]; /* enhanced status code; "" if none */
    size_t at;       /* offset of the code, or of the enhanced code when there is no code */
};

/* The SMTP reply in t, best first: a code with an enhanced code after it ("550 5.1.1" or
 * "550-5.1.1"), else an enhanced code alone ("(#5.1.1)"), else a code alone followed by text
 * ("550 User unknown"). Only 4xx and 5xx: the failures. One pass over t. */
static int find_reply(struct cr_str t, struct reply *r)
{
    const char *s = t.ptr, *end = t.ptr + t.len;
    size_t enh_at = SIZE_MAX, code_at = SIZE_MAX;
    char enh[16] = "", st[16];
    for (size_t i = 0; i < t.len; i++) {
        char prev = i ? s[i - 1] : ' ';
        if ((s[i] != '4' && s[i] != '5') || is_alnum(prev) || (prev && strchr(".-_@/+=", prev)))
            continue;
        if (i + 3 < t.len && is_digit(s[i + 1]) && is_digit(s[i + 2]) &&
            (s[i + 3] == ' ' || s[i + 3] == '-') && prev != ':' && prev != '#') {
            size_t e = i + 4;
            while (s[i + 3] == ' ' && e < t.len && s[e] == ' ')
                e++;
            if (scan_enhanced(s + e, end, 0, st) && st[0] != '2') {
                r->code = (s[i] - '0') * 100 + (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
                memcpy(r->status, st, sizeof st);
                r->at = i;
                return 1;
            }
            if (code_at == SIZE_MAX && (i + 4 == t.len || !is_digit(s[i + 4])))
                code_at = i;
        }
        if (enh_at == SIZE_MAX && i + 1 < t.len && s[i + 1] == '.' &&
            scan_enhanced(s + i, end, 0, enh))
            enh_at = i;
    }
    memset(r, 0, sizeof *r);
    if (enh_at != SIZE_MAX) {
        memcpy(r->status, enh, sizeof enh);
        r->at = enh_at;
        return 1;
    }
    if (code_at != SIZE_MAX) {
        r->code = (s[code_at] - '0') * 100 + (s[code_at + 1] - '0') * 10 + (s[code_at + 2] - '0');
        r->at = code_at;
        return 1;
    }
    return 0;
}

static int says_mailbox_full(const char *diag)
{
    size_t n = diag ? strlen(diag) : 0;
    return contains_ci(diag, n, "mailbox full") || contains_ci(diag, n, "mailbox is full") ||
           contains_ci(diag, n, "quota");
}

/* The rules of bounce.h: the enhanced code first, then the reply's text and code, then the
 * format's default. 5.2.2 (mailbox full) and 5.4.7 (delivery time expired) are soft although
 * permanent for that message: the address is good and a later message may well arrive. 5.0.0
 * says no more than "permanent", so the text may still say the mailbox is full. */
static enum cr_bounce_type classify(const char *status, int code, const char *diag,
                                    enum cr_bounce_type dflt)
{
    if (!strcmp(status, "5.0.0") && says_mailbox_full(diag))
        return CR_BOUNCE_SOFT;
    if (status[0] == '5')
        return !strcmp(status, "5.2.2") || !strcmp(status, "5.4.7") ? CR_BOUNCE_SOFT
                                                                    : CR_BOUNCE_HARD;
    if (status[0] == '4')
        return CR_BOUNCE_SOFT;
    if (says_mailbox_full(diag))
        return CR_BOUNCE_SOFT;
    if (code / 100 == 5)
        return CR_BOUNCE_HARD;
    if (code / 100 == 4)
        return CR_BOUNCE_SOFT;
    return dflt;
}

/* ================================================================ events */

struct ctx {
    struct cr_bounce_report *out;
    size_t cap;
    char *msgid; /* the original's Message-ID, copied into every event; NULL if unknown */
};

/* Adds an event, taking rcpt and diag (either may be NULL); past CR_BOUNCE_MAX_EVENTS they are
 * dropped. */
static void add_event(struct ctx *c, enum cr_bounce_type type, char *rcpt, const char *status,
                      char *diag)
{
    struct cr_bounce *b;
    if (c->out->n == CR_BOUNCE_MAX_EVENTS) {
        free(rcpt);
        free(diag);
        return;
    }
    if (c->out->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 4;
        c->out->v = cr_xrealloc(c->out->v, c->cap * sizeof *c->out->v);
    }
    b = &c->out->v[c->out->n++];
    b->type = type;
    b->recipient = rcpt;
    b->message_id = c->msgid ? cr_xstrdup(c->msgid) : NULL;
    snprintf(b->status, sizeof b->status, "%s", status);
    b->diagnostic = diag;
}

static int has_recipient(const struct ctx *c, const char *addr)
{
    for (size_t i = 0; i < c->out->n; i++)
        if (c->out->v[i].recipient && !strcmp(c->out->v[i].recipient, addr))
            return 1;
    return 0;
}

/* An event from free text about one recipient (an Exim or qmail block): the diagnostic is the
 * SMTP reply when there is one, else the whole text. */
static void add_text_event(struct ctx *c, char *rcpt, struct cr_str text)
{
    struct reply rp = {0, "", 0};
    char *diag;
    if (!text.ptr) /* an address with no line under it */
        text = (struct cr_str){"", 0};
    if (text.len > BLOCK_MAX)
        text.len = BLOCK_MAX;
    if (find_reply(text, &rp) && rp.code)
        diag = make_diag((struct cr_str){text.ptr + rp.at, text.len - rp.at}, 0);
    else
        diag = make_diag(text, 1);
    add_event(c, classify(rp.status, rp.code, diag, CR_BOUNCE_HARD), rcpt, rp.status, diag);
}

/* ================================================================ RFC 3464 DSN */

struct dsn_count {
    size_t recipients, delayed, other; /* per-recipient blocks; those not "failed" */
};

/* One event per per-recipient block whose Action is "failed" (RFC 3464 §2.3). Blocks are
 * field groups separated by blank lines; the first normally holds the per-message fields, but
 * any group with a recipient or an Action counts, for MTAs that leave out the blank line. */
static void read_dsn(struct ctx *c, struct cr_str dsn, struct dsn_count *k)
{
    struct lines ls = lines_of(dsn);
    struct field f;
    if (!c->msgid) { /* Exchange and Gmail say it among the per-message fields */
        while (next_field(&ls, &f))
            if (cr_str_ieq(f.name, "x-original-message-id")) {
                c->msgid = norm_msgid(f.value);
                break;
            }
        ls = lines_of(dsn);
    }
    while (ls.p < ls.end) {
        struct cr_str fr = {0}, orc = {0}, act = {0}, st = {0}, dc = {0}, d;
        char action[16], status[16] = "", *rcpt, *diag;
        struct reply rp = {0, "", 0};
        while (next_field(&ls, &f)) {
            struct cr_str *slot = cr_str_ieq(f.name, "final-recipient")      ? &fr
                                  : cr_str_ieq(f.name, "original-recipient") ? &orc
                                  : cr_str_ieq(f.name, "action")             ? &act
                                  : cr_str_ieq(f.name, "status")             ? &st
                                  : cr_str_ieq(f.name, "diagnostic-code")    ? &dc
                                                                             : NULL;
            if (slot && !slot->ptr)
                *slot = f.value;
        }
        if (!fr.ptr && !orc.ptr && !act.ptr)
            continue;
        k->recipients++;
        unfold(act, action, sizeof action, NULL);
        action[strcspn(action, " (;")] = '\0';
        if (strcasecmp(action, "failed") != 0) {
            if (!strcasecmp(action, "delayed"))
                k->delayed++;
            else
                k->other++;
            continue;
        }
        rcpt = fr.ptr ? dsn_addr(fr) : NULL;
        if (!rcpt && orc.ptr)
            rcpt = dsn_addr(orc);
        if (st.ptr) {
            d = trim(st);
            scan_enhanced(d.ptr, d.ptr + d.len, 1, status);
        }
        diag = dc.ptr ? make_diag(strip_diag_type(dc), 1) : NULL;
        if (diag)
            find_reply((struct cr_str){diag, strlen(diag)}, &rp);
        /* a generic Status ("5.0.0", Exim's) gives way to the reply's code of the same class */
        if (status[0] && !strcmp(status + 1, ".0.0") && rp.status[0] == status[0])
            status[0] = '\0';
        add_event(c, classify(status[0] ? status : rp.status, rp.code, diag, CR_BOUNCE_HARD), rcpt,
                  status[0] ? status : rp.status, diag);
    }
}

/* ================================================================ RFC 5965 ARF */

/* One complaint: the recipient from Original-Rcpt-To, else the original's To. */
static void read_arf(struct ctx *c, struct cr_str arf, struct cr_str orig_head)
{
    struct lines ls = lines_of(arf);
    struct field f;
    struct cr_str type = {0}, rcpt_to = {0}, to;
    char *rcpt = NULL;
    while (ls.p < ls.end)
        while (next_field(&ls, &f)) {
            if (!type.ptr && cr_str_ieq(f.name, "feedback-type"))
                type = f.value;
            else if (!rcpt_to.ptr && cr_str_ieq(f.name, "original-rcpt-to"))
                rcpt_to = f.value;
        }
    if (rcpt_to.ptr)
        rcpt = first_addr(rcpt_to);
    if (!rcpt && field_get(orig_head, "to", &to))
        rcpt = first_addr(to);
    add_event(c, CR_BOUNCE_COMPLAINT, rcpt, "", type.ptr ? make_diag(type, 1) : NULL);
}

/* ================================================================ plain-text bounces */

/* Where the report ends and the copy of the returned message begins: the first short line
 * that, past its dashes, announces the copy. t.len when there is none. */
static size_t report_end(struct cr_str t)
{
    static const char *const markers[] = {
        "this is a copy of the",            /* Exim */
        "below this line is a copy of the", /* qmail */
        "original message",                 /* "----- Original message -----", Exchange */
        "unsent message below",
        "the header of the original message",
    };
    struct lines ls = lines_of(t);
    struct cr_str line;
    while (next_line(&ls, &line)) {
        struct cr_str l = line;
        if (l.len > MARKER_LINE_MAX)
            continue;
        while (l.len && (is_space(l.ptr[0]) || l.ptr[0] == '-' || l.ptr[0] == '='))
            l.ptr++, l.len--;
        for (size_t i = 0; i < sizeof markers / sizeof *markers; i++)
            if (starts_ci(l, markers[i]))
                return (size_t)(line.ptr - t.ptr);
    }
    return t.len;
}

/* The Message-ID of the original copied into a plain-text bounce: the first line that starts
 * a Message-ID field. */
static char *text_msgid(struct cr_str t)
{
    struct lines ls = lines_of(t);
    struct cr_str line;
    while (next_line(&ls, &line)) {
        struct lines here = {line.ptr, ls.end};
        struct field f;
        if (!starts_ci(line, "message-id") || !next_field(&here, &f) ||
            !cr_str_ieq(f.name, "message-id"))
            continue;
        char *id = norm_msgid(f.value);
        if (id)
            return id;
    }
    return NULL;
}

struct block {
    char *addr;         /* owned until handed to an event */
    struct cr_str text; /* the lines that say what happened to it */
};

static void free_blocks(struct block *bl, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(bl[i].addr);
    free(bl);
}

static void extend_block(struct block *b, struct cr_str line)
{
    if (!b->text.ptr)
        b->text.ptr = line.ptr;
    b->text.len = (size_t)(line.ptr + line.len - b->text.ptr);
}

/* Exim lists each failed address on an indented line of its own, with what happened on the
 * lines below, indented deeper:
 *     "  user@example.com\n    host mx.example.com [192.0.2.1]\n    550 5.1.1 ...". */
static size_t exim_blocks(struct cr_str report, struct block *bl, size_t max)
{
    struct lines ls = lines_of(report);
    struct cr_str line;
    size_t n = 0, indent = 0;
    struct block *cur = NULL;
    while (next_line(&ls, &line)) {
        size_t ind = 0;
        struct cr_str a;
        while (ind < line.len && is_wsp(line.ptr[ind]))
            ind++;
        if (cur && ind > indent && ind < line.len) {
            extend_block(cur, line);
            continue;
        }
        cur = NULL;
        if (ind == 0 || ind == line.len || n == max)
            continue;
        a = trim((struct cr_str){line.ptr + ind, line.len - ind});
        if (a.len && a.ptr[a.len - 1] == ':')
            a.len--;
        bl[n].addr = norm_addr(a.ptr, a.len);
        if (!bl[n].addr)
            continue;
        bl[n].text = (struct cr_str){NULL, 0};
        cur = &bl[n++];
        indent = ind;
    }
    return n;
}

/* Events for the addresses of X-Failed-Recipients (those Exim gave up on), each with its block;
 * without the field, for every block. */
static void read_exim(struct ctx *c, const struct cr_str *failed, struct cr_str report)
{
    struct block *bl = cr_xcalloc(CR_BOUNCE_MAX_EVENTS, sizeof *bl);
    size_t nb = exim_blocks(report, bl, CR_BOUNCE_MAX_EVENTS);
    if (failed) {
        const char *p = failed->ptr, *end = failed->ptr + failed->len;
        for (size_t items = 0; p < end && items < CR_BOUNCE_MAX_EVENTS; items++) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            const char *stop = comma ? comma : end;
            char *a = norm_addr(p, (size_t)(stop - p));
            struct cr_str text = {"", 0};
            p = comma ? comma + 1 : end;
            if (!a || has_recipient(c, a)) {
                free(a);
                continue;
            }
            for (size_t i = 0; i < nb; i++)
                if (!strcmp(bl[i].addr, a)) {
                    text = bl[i].text;
                    break;
                }
            add_text_event(c, a, text);
        }
    } else {
        for (size_t i = 0; i < nb; i++) {
            if (has_recipient(c, bl[i].addr))
                continue;
            add_text_event(c, bl[i].addr, bl[i].text);
            bl[i].addr = NULL;
        }
    }
    free_blocks(bl, nb);
}

/* qmail-send starts each failed address at the start of a line, "<user@example.com>:", with
 * what happened on the lines below, up to a blank line. */
static void read_qmail(struct ctx *c, struct cr_str report)
{
    struct block *bl = cr_xcalloc(CR_BOUNCE_MAX_EVENTS, sizeof *bl);
    struct lines ls = lines_of(report);
    struct cr_str line;
    struct block *cur = NULL;
    size_t nb = 0;
    while (next_line(&ls, &line)) {
        struct cr_str l = trim(line);
        if (nb < CR_BOUNCE_MAX_EVENTS && line.len && line.ptr[0] == '<' && l.len > 3 &&
            l.ptr[l.len - 1] == ':' && l.ptr[l.len - 2] == '>') {
            bl[nb].addr = norm_addr(l.ptr, l.len - 1);
            if (bl[nb].addr) {
                cur = &bl[nb++];
                continue;
            }
        }
        if (is_blank(line))
            cur = NULL;
        else if (cur)
            extend_block(cur, line);
    }
    for (size_t i = 0; i < nb; i++) {
        if (has_recipient(c, bl[i].addr))
            continue;
        add_text_event(c, bl[i].addr, bl[i].text);
        bl[i].addr = NULL;
    }
    free_blocks(bl, nb);
}

/* ================================================================ the heuristic */

static int local_char(char c)
{
    return is_alnum(c) || (unsigned char)c >= 0x80 || (c && strchr(".!#$%&*+-=^_~", c));
}

static int domain_char(char c)
{
    return is_alnum(c) || (unsigned char)c >= 0x80 || c == '-' || c == '.';
}

/* The address around the '@' at offset i of t, or NULL. */
static char *addr_around(struct cr_str t, size_t i)
{
    size_t s = i, e = i + 1;
    while (s > 0 && i - s < 64 && local_char(t.ptr[s - 1]))
        s--;
    if (s > 0 && local_char(t.ptr[s - 1])) /* a local part longer than 64 */
        return NULL;
    while (e < t.len && e - i <= 255 && domain_char(t.ptr[e]))
        e++;
    while (e > i + 1 && (t.ptr[e - 1] == '.' || t.ptr[e - 1] == '-')) /* end of a sentence */
        e--;
    while (s < i && t.ptr[s] == '.')
        s++;
    if (s == i || e == i + 1 || !memchr(t.ptr + i + 1, '.', e - i - 1))
        return NULL;
    return norm_addr(t.ptr + s, e - s);
}

/* Addresses that are never the failed recipient: the mailer daemon's and the bounce's own
 * sender and recipient (our return path). */
static int ignored_addr(const char *a, char *const *ign, size_t nign)
{
    const char *at = strrchr(a, '@');
    size_t local = (size_t)(at - a);
    if ((local == 13 && !strncasecmp(a, "mailer-daemon", 13)) ||
        (local == 10 && !strncasecmp(a, "postmaster", 10)))
        return 1;
    for (size_t i = 0; i < nign; i++)
        if (ign[i] && !strcasecmp(a, ign[i]))
            return 1;
    return 0;
}

/* The first acceptable address with its '@' in [from, to) of t; with last, the last one. */
static char *addr_in(struct cr_str t, size_t from, size_t to, int last, char *const *ign,
                     size_t nign)
{
    char *best = NULL;
    for (const char *p = memchr(t.ptr + from, '@', to - from); p;
         p = memchr(p + 1, '@', (size_t)(t.ptr + to - (p + 1)))) {
        char *a = addr_around(t, (size_t)(p - t.ptr));
        if (!a || ignored_addr(a, ign, nign)) {
            free(a);
            continue;
        }
        free(best);
        best = a;
        if (!last)
            break;
    }
    return best;
}

static int looks_like_bounce(const char *from, const char *subject)
{
    static const char *const subjects[] = {
        "undeliver",      "delivery status notification", "returned mail",
        "failure notice", "mail delivery failed",         "delivery failure",
        "non-delivery",
    };
    size_t fn = strlen(from), sn = strlen(subject);
    if (contains_ci(from, fn, "mailer-daemon") || contains_ci(from, fn, "postmaster"))
        return 1;
    for (size_t i = 0; i < sizeof subjects / sizeof *subjects; i++)
        if (contains_ci(subject, sn, subjects[i]))
            return 1;
    return 0;
}

/* One event: the first SMTP reply in the report and the address nearest to it, on its line,
 * else above it, else below it. */
static int read_heuristic(struct ctx *c, struct cr_str report, char *const *ign, size_t nign,
                          struct cr_err *err)
{
    struct reply rp;
    size_t ls, le;
    char *rcpt, *diag;
    if (!find_reply(report, &rp))
        return cr_err_set(err, CR_EINVAL,
                          "message looks like a bounce but its text holds no SMTP reply code");
    for (ls = rp.at; ls > 0 && report.ptr[ls - 1] != '\n' && report.ptr[ls - 1] != '\r'; ls--)
        ;
    for (le = rp.at; le < report.len && report.ptr[le] != '\n' && report.ptr[le] != '\r'; le++)
        ;
    rcpt = addr_in(report, ls, le, 0, ign, nign);
    if (!rcpt)
        rcpt = addr_in(report, ls > NEAR_BEFORE ? ls - NEAR_BEFORE : 0, ls, 1, ign, nign);
    if (!rcpt)
        rcpt = addr_in(report, le, report.len - le > NEAR_AFTER ? le + NEAR_AFTER : report.len, 0,
                       ign, nign);
    if (!rcpt && !c->msgid)
        return cr_err_set(err, CR_EINVAL,
                          "message looks like a bounce but names neither the failed recipient "
                          "nor the original Message-ID");
    if (rp.code)
        diag = make_diag((struct cr_str){report.ptr + rp.at, report.len - rp.at}, 0);
    else
        diag = make_diag((struct cr_str){report.ptr + ls, le - ls}, 0);
    add_event(c, classify(rp.status, rp.code, diag, CR_BOUNCE_HARD), rcpt, rp.status, diag);
    return 0;
}

/* ================================================================ entry point */

/* Tries the formats in the order of bounce.h. */
static int read_report(struct ctx *c, struct walk *w, struct cr_str head, struct cr_err *err)
{
    struct cr_bounce_report *out = c->out;
    struct cr_str v, ohead, obody, text, report;
    char from[FIELD_MAX] = "", subject[FIELD_MAX] = "", *ign[2] = {NULL, NULL};
    int has_failed, rc;
    if (w->has_orig) {
        split_message((struct cr_str){w->orig.data, w->orig.len}, &ohead, &obody);
        if (field_get(ohead, "message-id", &v))
            c->msgid = norm_msgid(v);
    } else {
        ohead = (struct cr_str){"", 0};
    }
    if (w->has_dsn) {
        struct dsn_count k = {0, 0, 0};
        read_dsn(c, (struct cr_str){w->dsn.data, w->dsn.len}, &k);
        out->format = "dsn";
        if (out->n)
            return 0;
        if (k.recipients)
            return cr_err_set(err, CR_EINVAL,
                              "delivery status notification reports no failed recipient "
                              "(%zu delayed, %zu delivered, relayed or expanded)",
                              k.delayed, k.other);
    }
    if (w->has_arf) {
        read_arf(c, (struct cr_str){w->arf.data, w->arf.len}, ohead);
        out->format = "arf";
        return 0;
    }

    text = w->text.len ? (struct cr_str){w->text.data, w->text.len}
                       : (struct cr_str){w->html.data, w->html.len};
    report = (struct cr_str){text.ptr, report_end(text)};
    if (!c->msgid) /* the copy of the original follows the report, when we found where */
        c->msgid = text_msgid(report.len < text.len
                                  ? (struct cr_str){text.ptr + report.len, text.len - report.len}
                                  : text);
    has_failed = field_get(head, "x-failed-recipients", &v);
    if (has_failed ||
        contains(text, "This message was created automatically by mail delivery software")) {
        if (!has_failed && contains(report, "has not yet been delivered"))
            return cr_err_set(err, CR_EINVAL, "Exim delay warning, not a failure");
        read_exim(c, has_failed ? &v : NULL, report);
        out->format = "exim";
        if (out->n)
            return 0;
    }
    if (contains(text, "This is the qmail-send program")) {
        read_qmail(c, report);
        out->format = "qmail";
        if (out->n)
            return 0;
    }

    if (field_get(head, "from", &v)) {
        unfold(v, from, sizeof from, NULL);
        ign[0] = first_addr(v);
    }
    if (field_get(head, "to", &v))
        ign[1] = first_addr(v);
    if (field_get(head, "subject", &v))
        unfold(v, subject, sizeof subject, NULL);
    if (!looks_like_bounce(from, subject))
        rc = cr_err_set(err, CR_EINVAL,
                        "not a bounce or complaint: no delivery-status or feedback-report part, "
                        "no Exim or qmail report, and neither From nor Subject names a bounce");
    else if (contains_ci(subject, strlen(subject), "delay"))
        rc = cr_err_set(err, CR_EINVAL, "delay notification, not a failure");
    else
        rc = read_heuristic(c, report, ign, 2, err);
    out->format = rc ? NULL : "heuristic";
    free(ign[0]);
    free(ign[1]);
    return rc;
}

int cr_bounce_parse(const char *msg, size_t len, struct cr_bounce_report *out, struct cr_err *err)
{
    struct cr_str head, body;
    struct walk w;
    struct ctx c = {out, 0, NULL};
    int rc;
    memset(out, 0, sizeof *out);
    memset(&w, 0, sizeof w);
    cr_buf_init(&w.dsn, PART_MAX);
    cr_buf_init(&w.arf, PART_MAX);
    cr_buf_init(&w.orig, PART_MAX);
    cr_buf_init(&w.text, TEXT_MAX);
    cr_buf_init(&w.html, TEXT_MAX);
    split_message((struct cr_str){msg ? msg : "", msg ? len : 0}, &head, &body);
    walk(&w, head, body, 0);
    rc = read_report(&c, &w, head, err);
    cr_buf_release(&w.dsn);
    cr_buf_release(&w.arf);
    cr_buf_release(&w.orig);
    cr_buf_release(&w.text);
    cr_buf_release(&w.html);
    free(c.msgid);
    if (rc)
        cr_bounce_report_release(out);
    return rc;
}

void cr_bounce_report_release(struct cr_bounce_report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].recipient);
        free(r->v[i].message_id);
        free(r->v[i].diagnostic);
    }
    free(r->v);
    memset(r, 0, sizeof *r);
}

const char *cr_bounce_type_name(enum cr_bounce_type t)
{
    switch (t) {
    case CR_BOUNCE_HARD:
        return "hard";
    case CR_BOUNCE_SOFT:
        return "soft";
    case CR_BOUNCE_COMPLAINT:
        return "complaint";
    }
    return "?";
}
