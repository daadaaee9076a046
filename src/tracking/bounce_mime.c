/*
 * bounce_mime.c - the bounce parser's first stage: header fields and the MIME walk, which
 * collects the report parts, the original message's headers and the readable text
 *
 * Not here: reading what the parts say (bounce.c, bounce_text.c), RFC 2047 encoded words,
 * RFC 2231 parameter continuations, charsets (text is kept as bytes), message/rfc822 parts
 * opened as MIME (only their header is read).
 *
 * Specs: RFC 5322 (fields, folding), RFC 2045 (parameters, base64, quoted-printable), RFC 2046
 * (multipart boundaries), RFC 6522 (multipart/report), RFC 6533 (the message/global-* types).
 * Every loop moves forward; the walk scans a multipart's body once per nesting level.
 */
#include "tracking/bounce_int.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"

#define TEXT_MAX (4u << 20) /* readable text kept for the plain-text formats */
#define PART_MAX (8u << 20) /* a decoded delivery-status, feedback-report or original part */

/* ================================================================ header fields */

/* The next field of the header block at ls; 0 at a blank line (consumed) or at the end.
 * Lines that are no field (no colon, or a continuation with no field open) are skipped, so an
 * mbox "From " line or junk does not end a block early. */
int cr__bounce_next_field(struct lines *ls, struct field *f)
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
int cr__bounce_field_get(struct cr_str head, const char *name, struct cr_str *value)
{
    struct lines ls = lines_of(head);
    struct field f;
    while (cr__bounce_next_field(&ls, &f))
        if (cr_str_ieq(f.name, name)) {
            *value = f.value;
            return 1;
        }
    return 0;
}

/* Splits m at its first blank line into the header block and the body (empty without one). */
void cr__bounce_split_message(struct cr_str m, struct cr_str *head, struct cr_str *body)
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
size_t cr__bounce_unfold(struct cr_str v, char *out, size_t cap, int *cut)
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
    if (!cr__bounce_field_get(head, "content-transfer-encoding", &v))
        return CTE_IDENTITY;
    cr__bounce_unfold(v, buf, sizeof buf, NULL);
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
    cr__bounce_split_message((struct cr_str){start, (size_t)(end - start)}, &head, &body);
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
    if (cr__bounce_field_get(head, "content-type", &v))
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
            cr__bounce_split_message(body, &ohead, &obody);
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

void cr__bounce_walk(struct walk *w, struct cr_str head, struct cr_str body)
{
    walk(w, head, body, 0);
}

void cr__bounce_walk_init(struct walk *w)
{
    memset(w, 0, sizeof *w);
    cr_buf_init(&w->dsn, PART_MAX);
    cr_buf_init(&w->arf, PART_MAX);
    cr_buf_init(&w->orig, PART_MAX);
    cr_buf_init(&w->text, TEXT_MAX);
    cr_buf_init(&w->html, TEXT_MAX);
}

void cr__bounce_walk_release(struct walk *w)
{
    cr_buf_release(&w->dsn);
    cr_buf_release(&w->arf);
    cr_buf_release(&w->orig);
    cr_buf_release(&w->text);
    cr_buf_release(&w->html);
}
