/*
 * bounce_text.c - the plain-text bounce formats: Exim, qmail-send and, for anything else that
 * looks like a bounce, a heuristic (what each reads: bounce.h)
 *
 * Not here: finding the text (the MIME walk, bounce_mime.c), the structured reports (DSN and
 * ARF, bounce.c), reading replies and addresses out of a string (bounce_value.c).
 *
 * Specs: none; the formats are what Exim and qmail-send write (samples in
 * tests/unit/tracking/bounces). The text is cut where the copy of the returned message begins,
 * so addresses and replies quoted from our own message are not taken for the failure. Every
 * scan moves forward; the heuristic looks at most NEAR_BEFORE and NEAR_AFTER bytes around the
 * reply it found.
 */
#define _GNU_SOURCE /* memmem */
#include "tracking/bounce_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"

#define BLOCK_MAX 8192      /* bytes of an Exim or qmail recipient block we look into */
#define MARKER_LINE_MAX 120 /* a "copy of the message follows" line is shorter than this */
#define NEAR_BEFORE 2048    /* how far before an SMTP reply the heuristic looks for an address */
#define NEAR_AFTER 1024     /* ... and how far after */

/* 1 if s begins with w (lower-case ASCII), ignoring case. */
static int starts_ci(struct cr_str s, const char *w)
{
    size_t n = strlen(w);
    return s.len >= n && strncasecmp(s.ptr, w, n) == 0;
}

static int contains(struct cr_str s, const char *w)
{
    return memmem(s.ptr, s.len, w, strlen(w)) != NULL;
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
        if (!starts_ci(line, "message-id") || !cr__bounce_next_field(&here, &f) ||
            !cr_str_ieq(f.name, "message-id"))
            continue;
        char *id = cr__bounce_norm_msgid(f.value);
        if (id)
            return id;
    }
    return NULL;
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
    if (cr__bounce_find_reply(text, &rp) && rp.code)
        diag = cr__bounce_make_diag((struct cr_str){text.ptr + rp.at, text.len - rp.at}, 0);
    else
        diag = cr__bounce_make_diag(text, 1);
    cr__bounce_add_event(c, cr__bounce_classify(rp.status, rp.code, diag, CR_BOUNCE_HARD), rcpt,
                         rp.status, diag);
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
        bl[n].addr = cr__bounce_norm_addr(a.ptr, a.len);
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
            char *a = cr__bounce_norm_addr(p, (size_t)(stop - p));
            struct cr_str text = {"", 0};
            p = comma ? comma + 1 : end;
            if (!a || cr__bounce_has_recipient(c, a)) {
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
            if (cr__bounce_has_recipient(c, bl[i].addr))
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
            bl[nb].addr = cr__bounce_norm_addr(l.ptr, l.len - 1);
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
        if (cr__bounce_has_recipient(c, bl[i].addr))
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
    return cr__bounce_norm_addr(t.ptr + s, e - s);
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
    if (!cr__bounce_find_reply(report, &rp))
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
        diag = cr__bounce_make_diag((struct cr_str){report.ptr + rp.at, report.len - rp.at}, 0);
    else
        diag = cr__bounce_make_diag((struct cr_str){report.ptr + ls, le - ls}, 0);
    cr__bounce_add_event(c, cr__bounce_classify(rp.status, rp.code, diag, CR_BOUNCE_HARD), rcpt,
                         rp.status, diag);
    return 0;
}

/* ================================================================ the formats in order */

int cr__bounce_read_text(struct ctx *c, struct cr_str head, struct cr_str text, struct cr_err *err)
{
    struct cr_bounce_report *out = c->out;
    struct cr_str v, report;
    char from[FIELD_MAX] = "", subject[FIELD_MAX] = "", *ign[2] = {NULL, NULL};
    int has_failed, rc;
    report = (struct cr_str){text.ptr, report_end(text)};
    if (!c->msgid) /* the copy of the original follows the report, when we found where */
        c->msgid = text_msgid(report.len < text.len
                                  ? (struct cr_str){text.ptr + report.len, text.len - report.len}
                                  : text);
    has_failed = cr__bounce_field_get(head, "x-failed-recipients", &v);
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

    if (cr__bounce_field_get(head, "from", &v)) {
        cr__bounce_unfold(v, from, sizeof from, NULL);
        ign[0] = cr__bounce_first_addr(v);
    }
    if (cr__bounce_field_get(head, "to", &v))
        ign[1] = cr__bounce_first_addr(v);
    if (cr__bounce_field_get(head, "subject", &v))
        cr__bounce_unfold(v, subject, sizeof subject, NULL);
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
