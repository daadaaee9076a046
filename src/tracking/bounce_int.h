/*
 * bounce_int.h - what the files of the bounce parser share (tracking/ only)
 *
 * Stages, one file each: bounce_mime.c (line and field cursors; the MIME walk, which collects
 * the report parts, the original message's headers and the readable text) -> bounce_value.c
 * (the strings we hand out: addresses, Message-IDs, enhanced status codes, SMTP replies,
 * diagnostics) -> the readers: bounce.c (entry point, RFC 3464 DSN, RFC 5965 ARF,
 * classification, events) and bounce_text.c (Exim, qmail, the heuristic). Formats and rules:
 * bounce.h. Nothing here is part of crier's public API.
 *
 * Every stage moves forward over its input once and every look-around is bounded by a
 * constant, so the work is linear in the message's length (a multipart's body is scanned once
 * per nesting level: at most CR_BOUNCE_MAX_DEPTH + 1 times). Nothing reads past a view's len.
 *
 * Strings: a struct cr_str is borrowed (from the message or a walk buffer); a returned char *
 * belongs to the caller (free()), or to the event it is handed to.
 */
#ifndef CR_BOUNCE_INT_H
#define CR_BOUNCE_INT_H

#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/err.h"
#include "tracking/bounce.h"

#define FIELD_MAX 1024 /* an unfolded field value we look into (From, Subject, ...) */

/* ---------------------------------------------------------------- characters */

/* Static inline: every stage calls these per byte. */

static inline int is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* White space, line breaks and other control characters: what folding and junk leave. */
static inline int is_space(char c)
{
    return (unsigned char)c <= ' ' || c == 0x7f;
}

static inline int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static inline int is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static inline struct cr_str trim(struct cr_str s)
{
    while (s.len && is_space(s.ptr[0]))
        s.ptr++, s.len--;
    while (s.len && is_space(s.ptr[s.len - 1]))
        s.len--;
    return s;
}

static inline int is_blank(struct cr_str l)
{
    for (size_t i = 0; i < l.len; i++)
        if (!is_wsp(l.ptr[i]))
            return 0;
    return 1;
}

/* 1 if s (n bytes) contains w (lower-case ASCII), ignoring case. Quadratic in the worst case:
 * only for short texts (a field value, a diagnostic). */
static inline int contains_ci(const char *s, size_t n, const char *w)
{
    size_t wn = strlen(w);
    for (size_t i = 0; i + wn <= n; i++)
        if (lower(s[i]) == w[0] && strncasecmp(s + i, w, wn) == 0)
            return 1;
    return 0;
}

/* ---------------------------------------------------------------- lines, fields: bounce_mime.c */

struct lines {
    const char *p, *end;
};

static inline struct lines lines_of(struct cr_str s)
{
    return (struct lines){s.ptr, s.ptr + s.len};
}

/* The next line, without its terminator (CRLF, LF or a lone CR); 0 at the end. */
static inline int next_line(struct lines *ls, struct cr_str *line)
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

struct field {
    struct cr_str name;
    struct cr_str value; /* raw: from after the colon to the end of its last folded line */
};

/* The next field of the header block at ls; 0 at a blank line (consumed) or at the end. */
int cr__bounce_next_field(struct lines *ls, struct field *f);
/* The raw value of the first field called name (lower-case ASCII) in the header block head. */
int cr__bounce_field_get(struct cr_str head, const char *name, struct cr_str *value);
/* Splits m at its first blank line into the header block and the body (empty without one). */
void cr__bounce_split_message(struct cr_str m, struct cr_str *head, struct cr_str *body);
/* Copies the raw value v into out (cap bytes, NUL included), folding and white space made one
 * space, both ends trimmed; a longer value is cut and *cut (if not NULL) says so. Returns the
 * length. */
size_t cr__bounce_unfold(struct cr_str v, char *out, size_t cap, int *cut);

/* ---------------------------------------------------------------- MIME walk: bounce_mime.c */

/* What the walk collects: the first part of each report kind, decoded. Each buffer has its
 * limit (bounce_mime.c); a part longer than that is cut, keeping its start. */
struct walk {
    int has_dsn, has_arf, has_orig;
    struct cr_buf dsn;  /* message/delivery-status */
    struct cr_buf arf;  /* message/feedback-report */
    struct cr_buf orig; /* message/rfc822 or text/rfc822-headers: the original's headers */
    struct cr_buf text; /* text/plain parts (or the single-part body), one after another */
    struct cr_buf html; /* text/html parts, read only when there is no text/plain */
};

void cr__bounce_walk_init(struct walk *w);
/* Visits the message (head and body) and its parts, filling w. */
void cr__bounce_walk(struct walk *w, struct cr_str head, struct cr_str body);
void cr__bounce_walk_release(struct walk *w);

/* ---------------------------------------------------------------- strings: bounce_value.c */

/* NULL unless local@domain, at most 320 bytes, valid UTF-8; domain lower-cased, <> removed. */
char *cr__bounce_norm_addr(const char *s, size_t n);
/* The first address of an address-list field value ("Name <a@b>, c@d" gives a@b). */
char *cr__bounce_first_addr(struct cr_str v);
/* A DSN address field, "type; address" (RFC 3464 §2.3.2), as an address. */
char *cr__bounce_dsn_addr(struct cr_str v);
/* A Message-ID value without <> and white space; NULL unless usable. */
char *cr__bounce_norm_msgid(struct cr_str v);
/* Length of the enhanced status code at p ("5.1.1"), copied to out (16 bytes), or 0; strict
 * follows RFC 3463's syntax (for Status fields), else the loose rule for free text. */
size_t cr__bounce_scan_enhanced(const char *p, const char *end, int strict, char *out);
/* The raw text r as one diagnostic line of at most CR_BOUNCE_MAX_DIAG bytes; with all_lines 0
 * only the first line and those continuing its SMTP reply. NULL when nothing is left. */
char *cr__bounce_make_diag(struct cr_str r, int all_lines);

struct reply {
    int code;        /* 3-digit SMTP reply code; 0 if only an enhanced code was found */
    char status[16]; /* enhanced status code; "" if none */
    size_t at;       /* offset of the code, or of the enhanced code when there is no code */
};

/* The SMTP reply in t, 4xx or 5xx (which one wins: bounce_value.c); 0 if none. */
int cr__bounce_find_reply(struct cr_str t, struct reply *r);

/* ---------------------------------------------------------------- events: bounce.c */

/* One parse: the report being filled. */
struct ctx {
    struct cr_bounce_report *out;
    size_t cap;
    char *msgid; /* the original's Message-ID, copied into every event; NULL if unknown */
};

/* The rules of bounce.h: the enhanced code, then the reply's text and code, then dflt. */
enum cr_bounce_type cr__bounce_classify(const char *status, int code, const char *diag,
                                        enum cr_bounce_type dflt);
/* Adds an event, taking rcpt and diag (either may be NULL); past CR_BOUNCE_MAX_EVENTS they are
 * dropped. */
void cr__bounce_add_event(struct ctx *c, enum cr_bounce_type type, char *rcpt, const char *status,
                          char *diag);
int cr__bounce_has_recipient(const struct ctx *c, const char *addr);

/* ---------------------------------------------------------------- plain text: bounce_text.c */

/* The plain-text formats of bounce.h in order (Exim, qmail, the heuristic) on text, the
 * message's readable text; head is the bounce's own header block. Sets c->msgid from the
 * copy of the original when it is still unknown, and c->out->format. Returns 0, or
 * CR_EINVAL with err saying why. */
int cr__bounce_read_text(struct ctx *c, struct cr_str head, struct cr_str text, struct cr_err *err);

#endif
