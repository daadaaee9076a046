/*
 * filter_string.c - the string filters: case, whitespace, escaping, truncation, replacing,
 * splitting, HTML stripping
 *
 * Each filter applies Ruby's to_s to its input and arguments (nil is "", arrays print in
 * inspect form), counts lengths in characters, and builds its result in the render's
 * string builder before copying it to the arena.
 * Not here: Unicode tables (unicase.c), numbers, arrays, dates.
 *
 * Spec: Shopify Liquid StandardFilters (liquid 5.x): upcase/downcase/capitalize use full
 * Unicode case mapping like Ruby's String methods; escape is CGI.escapeHTML; url_encode is
 * CGI.escape (space as '+'); truncate counts the ellipsis in the length; split follows
 * Ruby's String#split (a single space splits on runs of whitespace, trailing empty fields
 * are dropped).
 */
#include "template/template_int.h"

#include <string.h>

#include "core/utf8.h"

#define STR(v, p, n)                                  \
    do {                                              \
        int rc_ = cr__tf_str(r, (v), &(p), &(n));      \
        if (rc_)                                      \
            return rc_;                               \
    } while (0)

static int done(struct trender *r, const struct tfilter *f, struct tval *v)
{
    return cr__trender_sb_val(r, f, v);
}

static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == 0;
}

/* ----------------------------------------------------------------------- case --- */

static int casemap(struct trender *r, const struct tfilter *f, struct tval *v, enum tcase how)
{
    const char *p;
    size_t n;
    STR(v, p, n);
    cr_buf_reset(r->sb);
    cr__tcase_map(r->sb, p, n, how);
    return done(r, f, v);
}

static int f_upcase(struct trender *r, const struct tfilter *f, struct tval *v,
                    const struct tval *a, const struct tval *kw)
{
    (void)a;
    (void)kw;
    return casemap(r, f, v, CASE_UPPER);
}

static int f_downcase(struct trender *r, const struct tfilter *f, struct tval *v,
                      const struct tval *a, const struct tval *kw)
{
    (void)a;
    (void)kw;
    return casemap(r, f, v, CASE_LOWER);
}

static int f_capitalize(struct trender *r, const struct tfilter *f, struct tval *v,
                        const struct tval *a, const struct tval *kw)
{
    const char *p;
    size_t n, first;
    (void)a;
    (void)kw;
    STR(v, p, n);
    first = cr__tutf8_offset(p, n, 1);
    cr_buf_reset(r->sb);
    cr__tcase_map(r->sb, p, first, CASE_TITLE);
    cr__tcase_map(r->sb, p + first, n - first, CASE_LOWER);
    return done(r, f, v);
}

/* ------------------------------------------------------------------ whitespace --- */

static int trim(struct trender *r, struct tval *v, int left, int right)
{
    const char *p;
    size_t n;
    STR(v, p, n);
    while (left && n && is_ws((unsigned char)*p))
        p++, n--;
    while (right && n && is_ws((unsigned char)p[n - 1]))
        n--;
    *v = tv_str(p, n);
    return 0;
}

static int f_strip(struct trender *r, const struct tfilter *f, struct tval *v,
                   const struct tval *a, const struct tval *kw)
{
    (void)f, (void)a, (void)kw;
    return trim(r, v, 1, 1);
}

static int f_lstrip(struct trender *r, const struct tfilter *f, struct tval *v,
                    const struct tval *a, const struct tval *kw)
{
    (void)f, (void)a, (void)kw;
    return trim(r, v, 1, 0);
}

static int f_rstrip(struct trender *r, const struct tfilter *f, struct tval *v,
                    const struct tval *a, const struct tval *kw)
{
    (void)f, (void)a, (void)kw;
    return trim(r, v, 0, 1);
}

/* /\r?\n/ replaced by rep. */
static int newlines(struct trender *r, const struct tfilter *f, struct tval *v, const char *rep)
{
    const char *p;
    size_t n, i, from = 0;
    STR(v, p, n);
    cr_buf_reset(r->sb);
    for (i = 0; i < n; i++) {
        if (p[i] != '\n')
            continue;
        cr_buf_append(r->sb, p + from, (i > from && p[i - 1] == '\r' ? i - 1 : i) - from);
        cr_buf_puts(r->sb, rep);
        from = i + 1;
    }
    cr_buf_append(r->sb, p + from, n - from);
    return done(r, f, v);
}

static int f_strip_newlines(struct trender *r, const struct tfilter *f, struct tval *v,
                            const struct tval *a, const struct tval *kw)
{
    (void)a, (void)kw;
    return newlines(r, f, v, "");
}

static int f_newline_to_br(struct trender *r, const struct tfilter *f, struct tval *v,
                           const struct tval *a, const struct tval *kw)
{
    (void)a, (void)kw;
    return newlines(r, f, v, "<br />\n");
}

/* -------------------------------------------------------------------- escaping --- */

static const char *html_entity(char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    default:
        return NULL;
    }
}

void cr_html_escape(struct cr_buf *out, const char *s, size_t n)
{
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        const char *e = html_entity(s[i]);
        if (!e)
            continue;
        cr_buf_append(out, s + from, i - from);
        cr_buf_puts(out, e);
        from = i + 1;
    }
    cr_buf_append(out, s + from, n - from);
}

static int f_escape(struct trender *r, const struct tfilter *f, struct tval *v,
                    const struct tval *a, const struct tval *kw)
{
    const char *p;
    size_t n, from = 0;
    (void)a, (void)kw;
    if (v->kind == TV_NIL)
        return 0;
    STR(v, p, n);
    cr_buf_reset(r->sb);
    for (size_t i = 0; i < n; i++) {
        const char *e = html_entity(p[i]);
        if (!e)
            continue;
        cr_buf_append(r->sb, p + from, i - from);
        cr_buf_puts(r->sb, e);
        from = i + 1;
    }
    if (from == 0)
        return 0; /* nothing to escape: the input is the result */
    cr_buf_append(r->sb, p + from, n - from);
    return done(r, f, v);
}

/* An entity at p[i] ('&'): &name; or &#digits; (Liquid's escape_once leaves these). */
static int is_entity(const char *p, size_t n, size_t i)
{
    size_t j = i + 1, k;
    if (j < n && p[j] == '#') {
        for (k = j + 1; k < n && p[k] >= '0' && p[k] <= '9'; k++)
            ;
        return k > j + 1 && k < n && p[k] == ';';
    }
    for (k = j; k < n && ((p[k] | 0x20) >= 'a' && (p[k] | 0x20) <= 'z'); k++)
        ;
    return k > j && k < n && p[k] == ';';
}

static int f_escape_once(struct trender *r, const struct tfilter *f, struct tval *v,
                         const struct tval *a, const struct tval *kw)
{
    const char *p;
    size_t n, from = 0;
    (void)a, (void)kw;
    STR(v, p, n);
    cr_buf_reset(r->sb);
    for (size_t i = 0; i < n; i++) {
        const char *e = html_entity(p[i]);
        if (!e || (p[i] == '&' && is_entity(p, n, i)))
            continue;
        cr_buf_append(r->sb, p + from, i - from);
        cr_buf_puts(r->sb, e);
        from = i + 1;
    }
    cr_buf_append(r->sb, p + from, n - from);
    return done(r, f, v);
}

static int f_url_encode(struct trender *r, const struct tfilter *f, struct tval *v,
                        const struct tval *a, const struct tval *kw)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *p;
    size_t n;
    (void)a, (void)kw;
    if (v->kind == TV_NIL)
        return 0;
    STR(v, p, n);
    cr_buf_reset(r->sb);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '_' || c == '.' || c == '-' || c == '~') {
            cr_buf_putc(r->sb, (char)c);
        } else if (c == ' ') {
            cr_buf_putc(r->sb, '+');
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            cr_buf_append(r->sb, e, 3);
        }
    }
    return done(r, f, v);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int f_url_decode(struct trender *r, const struct tfilter *f, struct tval *v,
                        const struct tval *a, const struct tval *kw)
{
    const char *p;
    size_t n;
    (void)a, (void)kw;
    if (v->kind == TV_NIL)
        return 0;
    STR(v, p, n);
    cr_buf_reset(r->sb);
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '+') {
            cr_buf_putc(r->sb, ' ');
        } else if (p[i] == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 &&
                   hexval(p[i + 2]) >= 0) {
            cr_buf_putc(r->sb, (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2])));
            i += 2;
        } else {
            cr_buf_putc(r->sb, p[i]);
        }
    }
    if (!cr_utf8_valid(r->sb->data, r->sb->len, NULL))
        return cr__tf_fail(r, f, CR_EINVAL, "url_decode: invalid byte sequence in UTF-8");
    return done(r, f, v);
}

/* ------------------------------------------------------------------ truncation --- */

static int f_truncate(struct trender *r, const struct tfilter *f, struct tval *v,
                      const struct tval *a, const struct tval *kw)
{
    const char *p, *ell = "...";
    size_t n, elln = 3, chars;
    int64_t len = 50, keep;
    int rc;
    (void)kw;
    if (v->kind == TV_NIL)
        return 0;
    STR(v, p, n);
    if (f->nargs >= 1 && (rc = cr__tfilter_to_integer(r, f, &a[0], &len)))
        return rc;
    if (f->nargs >= 2)
        STR(&a[1], ell, elln);
    chars = cr__tutf8_count(p, n);
    if ((int64_t)chars <= len) {
        *v = tv_str(p, n);
        return 0;
    }
    keep = len - (int64_t)cr__tutf8_count(ell, elln);
    if (keep < 0)
        keep = 0;
    cr_buf_reset(r->sb);
    cr_buf_append(r->sb, p, cr__tutf8_offset(p, n, (size_t)keep));
    cr_buf_append(r->sb, ell, elln);
    return done(r, f, v);
}

static int f_truncatewords(struct trender *r, const struct tfilter *f, struct tval *v,
                           const struct tval *a, const struct tval *kw)
{
    const char *p, *ell = "...";
    size_t n, elln = 3, i = 0;
    int64_t words = 15, count = 0;
    int rc;
    (void)kw;
    if (v->kind == TV_NIL)
        return 0;
    STR(v, p, n);
    if (f->nargs >= 1 && (rc = cr__tfilter_to_integer(r, f, &a[0], &words)))
        return rc;
    if (f->nargs >= 2)
        STR(&a[1], ell, elln);
    if (words <= 0)
        words = 1;
    cr_buf_reset(r->sb);
    /* Ruby's split(" ", words + 1): more than `words` fields means truncation. */
    while (i < n) {
        size_t b;
        while (i < n && is_ws((unsigned char)p[i]) && p[i] != 0)
            i++;
        if (i >= n)
            break;
        if (count == words) {
            cr_buf_append(r->sb, ell, elln);
            return done(r, f, v);
        }
        b = i;
        while (i < n && !(is_ws((unsigned char)p[i]) && p[i] != 0))
            i++;
        if (count)
            cr_buf_putc(r->sb, ' ');
        cr_buf_append(r->sb, p + b, i - b);
        count++;
    }
    *v = tv_str(p, n);
    return 0;
}

/* ------------------------------------------------------------------- replacing --- */

static const char *find(const char *h, size_t hn, const char *nd, size_t nn)
{
    if (nn > hn)
        return NULL;
    for (size_t i = 0; i + nn <= hn; i++)
        if (h[i] == nd[0] && memcmp(h + i, nd, nn) == 0)
            return h + i;
    return NULL;
}

/* gsub/sub with a literal pattern; an empty pattern matches between characters. */
static int replace(struct trender *r, const struct tfilter *f, struct tval *v,
                   const struct tval *pat, const struct tval *rep, int all, int last)
{
    const char *p, *pp, *rp = "";
    size_t n, pn, rn = 0, from = 0;
    STR(v, p, n);
    STR(pat, pp, pn);
    if (rep)
        STR(rep, rp, rn);
    cr_buf_reset(r->sb);
    if (pn == 0) {
        /* Ruby: "ab".gsub("", "-") is "-a-b-", "ab".sub("", "-") is "-ab". */
        if (last) {
            cr_buf_append(r->sb, p, n);
            cr_buf_append(r->sb, rp, rn);
        } else if (!all) {
            cr_buf_append(r->sb, rp, rn);
            cr_buf_append(r->sb, p, n);
        } else {
            for (size_t i = 0; i < n;) {
                size_t len = cr__tutf8_offset(p + i, n - i, 1);
                cr_buf_append(r->sb, rp, rn);
                cr_buf_append(r->sb, p + i, len);
                i += len;
            }
            cr_buf_append(r->sb, rp, rn);
        }
        return done(r, f, v);
    }
    if (last) {
        const char *hit = NULL, *q = p;
        while ((q = find(q, n - (size_t)(q - p), pp, pn)) != NULL) {
            hit = q;
            q += pn;
        }
        if (!hit) {
            *v = tv_str(p, n);
            return 0;
        }
        cr_buf_append(r->sb, p, (size_t)(hit - p));
        cr_buf_append(r->sb, rp, rn);
        cr_buf_append(r->sb, hit + pn, n - (size_t)(hit - p) - pn);
        return done(r, f, v);
    }
    for (;;) {
        const char *hit = find(p + from, n - from, pp, pn);
        if (!hit)
            break;
        cr_buf_append(r->sb, p + from, (size_t)(hit - p) - from);
        cr_buf_append(r->sb, rp, rn);
        from = (size_t)(hit - p) + pn;
        if (!all)
            break;
    }
    if (from == 0) {
        *v = tv_str(p, n);
        return 0;
    }
    cr_buf_append(r->sb, p + from, n - from);
    return done(r, f, v);
}

static int f_replace(struct trender *r, const struct tfilter *f, struct tval *v,
                     const struct tval *a, const struct tval *kw)
{
    (void)kw;
    return replace(r, f, v, &a[0], f->nargs > 1 ? &a[1] : NULL, 1, 0);
}

static int f_replace_first(struct trender *r, const struct tfilter *f, struct tval *v,
                           const struct tval *a, const struct tval *kw)
{
    (void)kw;
    return replace(r, f, v, &a[0], f->nargs > 1 ? &a[1] : NULL, 0, 0);
}

static int f_replace_last(struct trender *r, const struct tfilter *f, struct tval *v,
                          const struct tval *a, const struct tval *kw)
{
    (void)kw;
    return replace(r, f, v, &a[0], &a[1], 0, 1);
}

static int f_remove(struct trender *r, const struct tfilter *f, struct tval *v,
                    const struct tval *a, const struct tval *kw)
{
    (void)kw;
    return replace(r, f, v, &a[0], NULL, 1, 0);
}

static int f_remove_first(struct trender *r, const struct tfilter *f, struct tval *v,
                          const struct tval *a, const struct tval *kw)
{
    (void)kw;
    return replace(r, f, v, &a[0], NULL, 0, 0);
}

static int f_remove_last(struct trender *r, const struct tfilter *f, struct tval *v,
                         const struct tval *a, const struct tval *kw)
{
    (void)kw;
    return replace(r, f, v, &a[0], NULL, 0, 1);
}

static int f_append(struct trender *r, const struct tfilter *f, struct tval *v,
                    const struct tval *a, const struct tval *kw)
{
    const char *p, *q;
    size_t n, qn;
    (void)kw;
    STR(v, p, n);
    STR(&a[0], q, qn);
    cr_buf_reset(r->sb);
    cr_buf_append(r->sb, p, n);
    cr_buf_append(r->sb, q, qn);
    return done(r, f, v);
}

static int f_prepend(struct trender *r, const struct tfilter *f, struct tval *v,
                     const struct tval *a, const struct tval *kw)
{
    const char *p, *q;
    size_t n, qn;
    (void)kw;
    STR(v, p, n);
    STR(&a[0], q, qn);
    cr_buf_reset(r->sb);
    cr_buf_append(r->sb, q, qn);
    cr_buf_append(r->sb, p, n);
    return done(r, f, v);
}

/* -------------------------------------------------------------------- split --- */

static int f_split(struct trender *r, const struct tfilter *f, struct tval *v,
                   const struct tval *a, const struct tval *kw)
{
    const char *p, *sep;
    size_t n, sn, count = 0, i;
    struct tarr *arr = NULL;
    (void)kw, (void)f;
    STR(v, p, n);
    STR(&a[0], sep, sn);
    /* Two passes: count the fields, then fill them. */
    for (int pass = 0; pass < 2; pass++) {
        size_t k = 0, nonempty_end = 0;
        if (pass == 1) {
            if (!(arr = cr__tf_new_arr(r, count)))
                return CR_ETOOBIG;
        }
#define FIELD(b, e)                                                          \
    do {                                                                     \
        if (pass == 1 && k < count)                                          \
            arr->v[k] = tv_str(p + (b), (size_t)((e) - (b)));                \
        k++;                                                                 \
        if ((e) > (b))                                                       \
            nonempty_end = k;                                                \
    } while (0)
        if (sn == 1 && sep[0] == ' ') {
            i = 0;
            for (;;) {
                size_t b;
                while (i < n && is_ws((unsigned char)p[i]) && p[i] != 0)
                    i++;
                if (i >= n)
                    break;
                b = i;
                while (i < n && !(is_ws((unsigned char)p[i]) && p[i] != 0))
                    i++;
                FIELD(b, i);
            }
        } else if (sn == 0) {
            for (i = 0; i < n;) {
                size_t len = cr__tutf8_offset(p + i, n - i, 1);
                FIELD(i, i + len);
                i += len;
            }
        } else if (n > 0) {
            size_t b = 0;
            for (;;) {
                const char *hit = find(p + b, n - b, sep, sn);
                if (!hit) {
                    FIELD(b, n);
                    break;
                }
                FIELD(b, (size_t)(hit - p));
                b = (size_t)(hit - p) + sn;
            }
        }
#undef FIELD
        count = nonempty_end; /* Ruby drops trailing empty fields */
    }
    arr->n = count;
    v->kind = TV_ARR;
    v->u.a = arr;
    return 0;
}

/* ------------------------------------------------------------------ strip_html --- */

static const char *find_ci_end(const char *p, size_t n, const char *lit)
{
    return find(p, n, lit, strlen(lit));
}

static int f_strip_html(struct trender *r, const struct tfilter *f, struct tval *v,
                        const struct tval *a, const struct tval *kw)
{
    const char *p;
    size_t n, i = 0;
    struct cr_buf *sb = r->sb;
    struct tval mid;
    int rc;
    (void)a, (void)kw;
    STR(v, p, n);
    /* Pass 1: <script...</script>, <!--...-->, <style...</style> (case-sensitive). */
    cr_buf_reset(sb);
    while (i < n) {
        const char *end = NULL;
        if (p[i] == '<') {
            if (n - i >= 7 && memcmp(p + i, "<script", 7) == 0)
                end = find_ci_end(p + i + 7, n - i - 7, "</script>"), end = end ? end + 9 : NULL;
            else if (n - i >= 4 && memcmp(p + i, "<!--", 4) == 0)
                end = find_ci_end(p + i + 4, n - i - 4, "-->"), end = end ? end + 3 : NULL;
            else if (n - i >= 6 && memcmp(p + i, "<style", 6) == 0)
                end = find_ci_end(p + i + 6, n - i - 6, "</style>"), end = end ? end + 8 : NULL;
        }
        if (end) {
            i = (size_t)(end - p);
            continue;
        }
        cr_buf_putc(sb, p[i++]);
    }
    if ((rc = cr__trender_sb_val(r, f, &mid)))
        return rc;
    /* Pass 2: any <...>. */
    p = mid.u.s.p;
    n = mid.u.s.n;
    cr_buf_reset(sb);
    for (i = 0; i < n;) {
        if (p[i] == '<') {
            const char *gt = memchr(p + i, '>', n - i);
            if (gt) {
                i = (size_t)(gt - p) + 1;
                continue;
            }
        }
        cr_buf_putc(sb, p[i++]);
    }
    return done(r, f, v);
}

const struct tfilter_def cr__tfilters_string[] = {
    {"upcase", f_upcase, 0, 0, 0},
    {"downcase", f_downcase, 0, 0, 0},
    {"capitalize", f_capitalize, 0, 0, 0},
    {"strip", f_strip, 0, 0, 0},
    {"lstrip", f_lstrip, 0, 0, 0},
    {"rstrip", f_rstrip, 0, 0, 0},
    {"strip_newlines", f_strip_newlines, 0, 0, 0},
    {"newline_to_br", f_newline_to_br, 0, 0, 0},
    {"escape", f_escape, 0, 0, 0},
    {"h", f_escape, 0, 0, 0},
    {"escape_once", f_escape_once, 0, 0, 0},
    {"url_encode", f_url_encode, 0, 0, 0},
    {"url_decode", f_url_decode, 0, 0, 0},
    {"truncate", f_truncate, 0, 2, 0},
    {"truncatewords", f_truncatewords, 0, 2, 0},
    {"replace", f_replace, 1, 2, 0},
    {"replace_first", f_replace_first, 1, 2, 0},
    {"replace_last", f_replace_last, 2, 2, 0},
    {"remove", f_remove, 1, 1, 0},
    {"remove_first", f_remove_first, 1, 1, 0},
    {"remove_last", f_remove_last, 1, 1, 0},
    {"append", f_append, 1, 1, 0},
    {"prepend", f_prepend, 1, 1, 0},
    {"split", f_split, 1, 1, 0},
    {"strip_html", f_strip_html, 0, 0, 0},
    {NULL, NULL, 0, 0, 0},
};
