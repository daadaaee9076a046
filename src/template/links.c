/*
 * links.c - the link pass over rendered output: tracking links, the open pixel, SMS URLs
 *
 * HTML: a forgiving tokenizer in the spirit of HTML5's: tag and attribute names in any
 * case, values double-quoted, single-quoted or bare; comments, <script> and <style>
 * bodies skipped; entities decoded in hrefs and labels. Each <a href="http(s)://…"> not
 * marked data-notrack is offered to the caller's rewrite callback (a click-tracking URL
 * comes back) and listed with its label: data-label, else the link's text, else an image's
 * alt. Everything else is copied byte for byte. The open pixel goes before the last
 * </body>, or at the end without one. Plain text (SMS): each http(s) URL, trailing
 * punctuation excluded, is offered the same way.
 * Not here: signing or storing links (the callback's job), rendering.
 *
 * Spec: WHATWG HTML §13.2.5 (tokenization: attributes, comments, raw text elements),
 * §13.5 (named character references, the common subset).
 */
#include "template/template_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/utf8.h"

#define LABEL_MAX 256

void cr_links_release(struct cr_links *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].url);
        free(l->v[i].label);
    }
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static void links_add(struct cr_links *l, int id, const char *url, const char *label)
{
    if (!l)
        return;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = cr_xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n].id = id;
    l->v[l->n].url = cr_xstrdup(url);
    l->v[l->n].label = cr_xstrdup(label);
    l->n++;
}

static int lc(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int ieq(const char *p, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    if (n != l)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lc((unsigned char)p[i]) != lit[i])
            return 0;
    return 1;
}

static int iprefix(const char *p, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n >= l && ieq(p, l, lit);
}

/* Case-insensitive search for lit in p..end. */
static const char *ifind(const char *p, const char *end, const char *lit)
{
    size_t l = strlen(lit);
    for (; p + l <= end; p++)
        if (lc((unsigned char)*p) == lit[0] && ieq(p, l, lit))
            return p;
    return NULL;
}

/* ------------------------------------------------------------------ entities --- */

static const struct {
    const char *name;
    uint32_t cp;
} entities[] = {
    {"amp", '&'},      {"lt", '<'},       {"gt", '>'},       {"quot", '"'},
    {"apos", '\''},    {"nbsp", 0xA0},    {"copy", 0xA9},    {"reg", 0xAE},
    {"trade", 0x2122}, {"hellip", 0x2026}, {"mdash", 0x2014}, {"ndash", 0x2013},
    {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D},
    {"laquo", 0xAB},   {"raquo", 0xBB},   {"euro", 0x20AC},  {"pound", 0xA3},
    {"eacute", 0xE9},  {"egrave", 0xE8},  {"agrave", 0xE0},  {"ccedil", 0xE7},
    {"uuml", 0xFC},    {"ouml", 0xF6},    {"auml", 0xE4},    {"szlig", 0xDF},
};

/* Appends s with character references decoded. */
static void decode_entities(struct cr_buf *b, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        const char *semi;
        uint32_t cp = 0;
        int ok = 0;
        if (s[i] != '&' || !(semi = memchr(s + i, ';', n - i)) || semi - (s + i) > 12) {
            cr_buf_putc(b, s[i++]);
            continue;
        }
        {
            const char *e = s + i + 1;
            size_t el = (size_t)(semi - e);
            if (el >= 2 && e[0] == '#') {
                size_t k = 1;
                int hex = e[1] == 'x' || e[1] == 'X';
                k += (size_t)hex;
                for (ok = k < el; k < el; k++) {
                    int d = e[k] >= '0' && e[k] <= '9'                      ? e[k] - '0'
                            : hex && lc((unsigned char)e[k]) >= 'a' && lc((unsigned char)e[k]) <= 'f'
                                ? lc((unsigned char)e[k]) - 'a' + 10
                                : -1;
                    if (d < 0 || cp > 0x10FFFF) {
                        ok = 0;
                        break;
                    }
                    cp = cp * (hex ? 16u : 10u) + (uint32_t)d;
                }
                if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                    ok = 0;
            } else {
                for (size_t k = 0; k < sizeof entities / sizeof *entities; k++) {
                    if (strlen(entities[k].name) == el && memcmp(entities[k].name, e, el) == 0) {
                        cp = entities[k].cp;
                        ok = 1;
                        break;
                    }
                }
            }
        }
        if (!ok) {
            cr_buf_putc(b, s[i++]);
            continue;
        }
        {
            char enc[4];
            cr_buf_append(b, enc, cr_utf8_encode(cp, enc));
        }
        i = (size_t)(semi - s) + 1;
    }
}

static void escape_attr(struct cr_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&':
            cr_buf_puts(b, "&amp;");
            break;
        case '"':
            cr_buf_puts(b, "&quot;");
            break;
        case '<':
            cr_buf_puts(b, "&lt;");
            break;
        case '>':
            cr_buf_puts(b, "&gt;");
            break;
        default:
            cr_buf_putc(b, s[i]);
        }
    }
}

/* ---------------------------------------------------------------- attributes --- */

struct attr {
    const char *name;
    size_t namelen;
    const char *val; /* NULL: no value */
    size_t vallen;
    const char *vstart, *vend; /* the value as written, quotes included */
};

/* Parses one attribute at *pp (after whitespace); returns 0 at the tag's end ('>' or the
 * end of input), 1 with an attribute. */
static int next_attr(const char **pp, const char *end, struct attr *a)
{
    const char *p = *pp;
    while (p < end && (is_space((unsigned char)*p) || *p == '/'))
        p++;
    if (p >= end || *p == '>') {
        *pp = p;
        return 0;
    }
    a->name = p;
    p++; /* a name may start with '=' in HTML5 */
    while (p < end && !is_space((unsigned char)*p) && *p != '/' && *p != '>' && *p != '=')
        p++;
    a->namelen = (size_t)(p - a->name);
    a->val = NULL;
    a->vallen = 0;
    a->vstart = a->vend = NULL;
    {
        const char *q = p;
        while (q < end && is_space((unsigned char)*q))
            q++;
        if (q < end && *q == '=') {
            q++;
            while (q < end && is_space((unsigned char)*q))
                q++;
            a->vstart = q;
            if (q < end && (*q == '"' || *q == '\'')) {
                const char *close = memchr(q + 1, *q, (size_t)(end - q - 1));
                a->val = q + 1;
                a->vallen = (size_t)((close ? close : end) - a->val);
                q = close ? close + 1 : end;
            } else {
                a->val = q;
                while (q < end && !is_space((unsigned char)*q) && *q != '>')
                    q++;
                a->vallen = (size_t)(q - a->val);
            }
            a->vend = q;
            p = q;
        }
    }
    *pp = p;
    return 1;
}

/* ---------------------------------------------------------------------- label --- */

static void collapse(struct cr_buf *dst, const char *s, size_t n)
{
    int space = 0;
    size_t start = dst->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_space(c) || c == '\v' ||
            (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] == 0xA0)) {
            if (c == 0xC2)
                i++;
            space = dst->len > start;
            continue;
        }
        if (space)
            cr_buf_putc(dst, ' ');
        space = 0;
        cr_buf_putc(dst, (char)c);
    }
    /* at most LABEL_MAX bytes, cut on a character boundary */
    if (dst->len - start > LABEL_MAX) {
        size_t cut = start + LABEL_MAX;
        while (cut > start && ((unsigned char)dst->data[cut] & 0xC0) == 0x80)
            cut--;
        cr_buf_truncate(dst, cut);
    }
}

/* The text of the link body p..end (up to </a>): tags dropped, entities decoded; an alt
 * attribute stands in when there is no text. */
static void link_text(struct cr_buf *label, const char *p, const char *end)
{
    struct cr_buf raw = CR_BUF_INIT(0), dec = CR_BUF_INIT(0);
    const char *alt = NULL;
    size_t altlen = 0;
    while (p < end) {
        if (*p == '<') {
            const char *q = p + 1;
            struct attr a;
            size_t nl = 0;
            if (end - p >= 4 && memcmp(p, "<!--", 4) == 0) {
                const char *c = ifind(p + 4, end, "-->");
                p = c ? c + 3 : end;
                continue;
            }
            while (q + nl < end && !is_space((unsigned char)q[nl]) && q[nl] != '>' &&
                   q[nl] != '/')
                nl++;
            if (ieq(q, nl, "img")) {
                q += 3;
                while (next_attr(&q, end, &a))
                    if (!alt && ieq(a.name, a.namelen, "alt") && a.val) {
                        alt = a.val;
                        altlen = a.vallen;
                    }
            } else {
                while (next_attr(&q, end, &a))
                    ;
            }
            p = q < end ? q + 1 : end;
            cr_buf_putc(&raw, ' ');
            continue;
        }
        cr_buf_putc(&raw, *p++);
    }
    decode_entities(&dec, raw.data, raw.len);
    collapse(label, dec.data, dec.len);
    if (label->len == 0 && alt) {
        cr_buf_reset(&dec);
        decode_entities(&dec, alt, altlen);
        collapse(label, dec.data, dec.len);
    }
    cr_buf_release(&raw);
    cr_buf_release(&dec);
}

/* ----------------------------------------------------------------- HTML pass --- */

struct pass {
    const struct cr_link_opts *o;
    struct cr_links *links;
    struct cr_err *err;
    int next_id;
    struct cr_buf url, label, repl;
};

/* Handles <a ...> at tag (p points past "<a"); copies or rewrites it into out. */
static int anchor(struct pass *ps, const char *tag, const char *p, const char *end,
                  struct cr_buf *out, const char **after)
{
    struct attr a, href = {0}, label = {0};
    int have_href = 0, notrack = 0, have_label = 0, rc;
    const char *q = p, *close;
    while (next_attr(&q, end, &a)) {
        if (ieq(a.name, a.namelen, "href") && !have_href) {
            href = a;
            have_href = 1;
        } else if (ieq(a.name, a.namelen, "data-notrack")) {
            notrack = 1;
        } else if (ieq(a.name, a.namelen, "data-label") && !have_label) {
            label = a;
            have_label = 1;
        }
    }
    close = q < end ? q + 1 : end; /* past '>' */
    *after = close;
    if (!have_href || !href.val || notrack) {
        cr_buf_append(out, tag, (size_t)(close - tag));
        return 0;
    }
    cr_buf_reset(&ps->url);
    {
        struct cr_buf tmp = CR_BUF_INIT(0);
        const char *u;
        size_t un;
        decode_entities(&tmp, href.val, href.vallen);
        u = tmp.data;
        un = tmp.len;
        while (un && is_space((unsigned char)*u))
            u++, un--;
        while (un && is_space((unsigned char)u[un - 1]))
            un--;
        cr_buf_append(&ps->url, u, un);
        cr_buf_release(&tmp);
    }
    if (!iprefix(ps->url.data, ps->url.len, "http://") &&
        !iprefix(ps->url.data, ps->url.len, "https://")) {
        cr_buf_append(out, tag, (size_t)(close - tag));
        return 0;
    }
    cr_buf_reset(&ps->label);
    if (have_label && label.val) {
        struct cr_buf tmp = CR_BUF_INIT(0);
        decode_entities(&tmp, label.val, label.vallen);
        collapse(&ps->label, tmp.data, tmp.len);
        cr_buf_release(&tmp);
    } else {
        const char *stop = ifind(close, end, "</a");
        link_text(&ps->label, close, stop ? stop : end);
    }
    if (ps->url.err || ps->label.err)
        return cr_err_set(ps->err, CR_ETOOBIG, "link too long");
    {
        struct cr_link link = {ps->next_id, ps->url.data, ps->label.data};
        cr_buf_reset(&ps->repl);
        rc = ps->o && ps->o->rewrite ? ps->o->rewrite(ps->o->data, &link, &ps->repl) : 0;
        if (rc < 0) {
            if (ps->err && !ps->err->code)
                cr_err_set(ps->err, rc, "link %d (%s): %s", link.id, link.url, cr_strerror(rc));
            return rc;
        }
        if (rc == 1) {
            cr_buf_append(out, tag, (size_t)(close - tag));
            return 0;
        }
        links_add(ps->links, ps->next_id++, link.url, link.label);
    }
    if (!ps->o || !ps->o->rewrite) {
        cr_buf_append(out, tag, (size_t)(close - tag));
        return 0;
    }
    cr_buf_append(out, tag, (size_t)(href.vstart - tag));
    cr_buf_putc(out, '"');
    escape_attr(out, ps->repl.data, ps->repl.len);
    cr_buf_putc(out, '"');
    cr_buf_append(out, href.vend, (size_t)(close - href.vend));
    return 0;
}

int cr_links_html(const char *html, size_t len, const struct cr_link_opts *o, struct cr_buf *out,
                  struct cr_links *links, struct cr_err *err)
{
    struct pass ps;
    struct cr_buf body = CR_BUF_INIT(0);
    const char *p = html, *end = html + len, *copied = html;
    size_t body_at = (size_t)-1;
    int rc = 0;
    memset(&ps, 0, sizeof ps);
    ps.o = o;
    ps.links = links;
    ps.err = err;
    ps.next_id = 1;
    cr_buf_init(&ps.url, 1 << 16);
    cr_buf_init(&ps.label, 1 << 20);
    cr_buf_init(&ps.repl, 1 << 16);
    body.max = out->max;
    while (p < end && !rc) {
        const char *lt = memchr(p, '<', (size_t)(end - p)), *q, *after;
        size_t nl;
        if (!lt)
            break;
        p = lt + 1;
        if (end - lt >= 4 && memcmp(lt, "<!--", 4) == 0) {
            const char *c = ifind(lt + 4, end, "-->");
            p = c ? c + 3 : end;
            continue;
        }
        q = p + (p < end && *p == '/');
        if (q >= end || !((lc((unsigned char)*q) >= 'a' && lc((unsigned char)*q) <= 'z')))
            continue;
        for (nl = 0; q + nl < end && !is_space((unsigned char)q[nl]) && q[nl] != '>' &&
                     q[nl] != '/';
             nl++)
            ;
        if (*p == '/') {
            if (ieq(q, nl, "body")) {
                cr_buf_append(&body, copied, (size_t)(lt - copied));
                copied = lt;
                body_at = body.len;
            }
            continue;
        }
        if (ieq(q, nl, "a")) {
            cr_buf_append(&body, copied, (size_t)(lt - copied));
            rc = anchor(&ps, lt, q + nl, end, &body, &after);
            copied = p = after;
            continue;
        }
        {
            struct attr a;
            const char *t = q + nl;
            while (next_attr(&t, end, &a))
                ;
            p = t < end ? t + 1 : end;
            if (ieq(q, nl, "script") || ieq(q, nl, "style")) {
                const char *c = ifind(p, end, ieq(q, nl, "script") ? "</script" : "</style");
                p = c ? c : end;
            }
        }
    }
    cr_buf_append(&body, copied, (size_t)(end - copied));
    if (!rc && body.err)
        rc = cr_err_set(err, body.err, "output exceeds %zu bytes", body.max);
    if (!rc) {
        struct cr_buf pixel = CR_BUF_INIT(1 << 16);
        if (o && o->pixel && (rc = o->pixel(o->data, &pixel)) < 0) {
            cr_err_set(err, rc, "open pixel: %s", cr_strerror(rc));
        } else {
            rc = 0;
            if (body_at == (size_t)-1)
                body_at = body.len;
            cr_buf_append(out, body.data, body_at);
            cr_buf_append(out, pixel.data, pixel.len);
            cr_buf_append(out, body.data + body_at, body.len - body_at);
            if (out->err)
                rc = cr_err_set(err, out->err, "output exceeds %zu bytes", out->max);
        }
        cr_buf_release(&pixel);
    }
    cr_buf_release(&body);
    cr_buf_release(&ps.url);
    cr_buf_release(&ps.label);
    cr_buf_release(&ps.repl);
    return rc;
}

/* ----------------------------------------------------------------- text pass --- */

static int url_char(unsigned char c)
{
    return c > 0x20 && c != 0x7f && c != '<' && c != '>' && c != '"' && c != '\'' && c != '`';
}

int cr_links_text(const char *text, size_t len, const struct cr_link_opts *o, struct cr_buf *out,
                  struct cr_links *links, struct cr_err *err)
{
    size_t i = 0, copied = 0;
    int id = 1, rc = 0;
    struct cr_buf url = CR_BUF_INIT(1 << 16), repl = CR_BUF_INIT(1 << 16);
    while (i < len && !rc) {
        size_t b = i, e, scheme;
        int depth_paren = 0, depth_br = 0;
        if (!(text[i] == 'h' || text[i] == 'H') ||
            (i > 0 && ((text[i - 1] | 0x20) >= 'a' && (text[i - 1] | 0x20) <= 'z'))) {
            i++;
            continue;
        }
        scheme = iprefix(text + i, len - i, "https://") ? 8
                 : iprefix(text + i, len - i, "http://") ? 7
                                                          : 0;
        if (!scheme || i + scheme >= len || !url_char((unsigned char)text[i + scheme])) {
            i++;
            continue;
        }
        for (e = i + scheme; e < len && url_char((unsigned char)text[e]); e++) {
            if (text[e] == '(')
                depth_paren++;
            else if (text[e] == ')')
                depth_paren--;
            else if (text[e] == '[')
                depth_br++;
            else if (text[e] == ']')
                depth_br--;
        }
        /* Trailing punctuation belongs to the sentence, unbalanced closers too. */
        while (e > b + scheme) {
            char c = text[e - 1];
            if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?') {
                e--;
            } else if (c == ')' && depth_paren < 0) {
                depth_paren++;
                e--;
            } else if (c == ']' && depth_br < 0) {
                depth_br++;
                e--;
            } else {
                break;
            }
        }
        cr_buf_reset(&url);
        cr_buf_append(&url, text + b, e - b);
        if (url.err) {
            rc = cr_err_set(err, CR_ETOOBIG, "URL too long at byte %zu", b);
            break;
        }
        {
            struct cr_link link = {id, url.data, (char *)""};
            cr_buf_reset(&repl);
            rc = o && o->rewrite ? o->rewrite(o->data, &link, &repl) : 0;
            if (rc < 0) {
                cr_err_set(err, rc, "link %d (%s): %s", id, url.data, cr_strerror(rc));
                break;
            }
            if (rc == 0) {
                links_add(links, id++, url.data, "");
                if (o && o->rewrite) {
                    cr_buf_append(out, text + copied, b - copied);
                    cr_buf_append(out, repl.data, repl.len);
                    copied = e;
                }
            }
            rc = 0;
        }
        i = e;
    }
    if (!rc) {
        cr_buf_append(out, text + copied, len - copied);
        if (out->err)
            rc = cr_err_set(err, out->err, "output exceeds %zu bytes", out->max);
    }
    cr_buf_release(&url);
    cr_buf_release(&repl);
    return rc;
}
