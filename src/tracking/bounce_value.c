/*
 * bounce_value.c - the strings a bounce event carries: addresses, Message-IDs, enhanced status
 * codes, SMTP replies and diagnostics, read out of field values and free text
 *
 * Not here: finding the fields and the text (bounce_mime.c), deciding which reply belongs to
 * which recipient (the readers: bounce.c, bounce_text.c), classification (bounce.c).
 *
 * Specs: RFC 5322 (addresses, Message-IDs), RFC 3464 §2.3.2 (DSN address types), RFC 3463
 * (enhanced status codes), RFC 5321 §4.2 (reply codes, multi-line replies). Every scan moves
 * forward with look-around bounded by a constant; diagnostics are cut to CR_BOUNCE_MAX_DIAG.
 */
#include "tracking/bounce_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/utf8.h"

#define ADDR_MAX 320  /* 64 for the local part, 255 for the domain, the '@' */
#define MSGID_MAX 998 /* the longest line RFC 5322 allows */

/* ================================================================ strings handed out */

/* The address in s with white space and <> around it removed and the domain lower-cased; NULL
 * unless it is local@domain of at most ADDR_MAX bytes, valid UTF-8, without white space,
 * controls, '<', '>', ',' or ';'. */
char *cr__bounce_norm_addr(const char *s, size_t n)
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
char *cr__bounce_first_addr(struct cr_str v)
{
    char buf[FIELD_MAX];
    size_t n = cr__bounce_unfold(v, buf, sizeof buf, NULL);
    const char *lt = memchr(buf, '<', n), *gt = NULL, *comma;
    if (lt)
        gt = memchr(lt, '>', n - (size_t)(lt - buf));
    if (gt)
        return cr__bounce_norm_addr(lt, (size_t)(gt - lt) + 1);
    comma = memchr(buf, ',', n);
    return cr__bounce_norm_addr(buf, comma ? (size_t)(comma - buf) : n);
}

/* A DSN address field, "type; address" (RFC 3464 §2.3.2), as an address. */
char *cr__bounce_dsn_addr(struct cr_str v)
{
    char buf[ADDR_MAX + 64];
    int cut;
    size_t n = cr__bounce_unfold(v, buf, sizeof buf, &cut);
    const char *semi = memchr(buf, ';', n);
    if (cut)
        return NULL;
    return semi ? cr__bounce_norm_addr(semi + 1, n - (size_t)(semi + 1 - buf))
                : cr__bounce_norm_addr(buf, n);
}

/* A Message-ID value without <> and white space; NULL unless non-empty, at most MSGID_MAX
 * bytes, valid UTF-8 without controls. */
char *cr__bounce_norm_msgid(struct cr_str v)
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
size_t cr__bounce_scan_enhanced(const char *p, const char *end, int strict, char *out)
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
    return 4 + cr__bounce_scan_enhanced(l.ptr + 4, l.ptr + l.len, 0, st);
}

/* The diagnostic for the raw text r: its lines joined into one, runs of white space and
 * control characters made one space, invalid UTF-8 made '?', cut to CR_BOUNCE_MAX_DIAG bytes
 * on a character boundary. The lines of a multi-line SMTP reply ("550-5.1.1 a" then
 * "550 5.1.1 b") read as one reply ("550 5.1.1 a b"). With all_lines 0 only the first line
 * and the lines that continue its reply are taken. NULL when nothing is left. */
char *cr__bounce_make_diag(struct cr_str r, int all_lines)
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

/* ================================================================ replies */

/* The SMTP reply in t, best first: a code with an enhanced code after it ("550 5.1.1" or
 * "550-5.1.1"), else an enhanced code alone ("(#5.1.1)"), else a code alone followed by text
 * ("550 User unknown"). Only 4xx and 5xx: the failures. One pass over t. */
int cr__bounce_find_reply(struct cr_str t, struct reply *r)
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
            if (cr__bounce_scan_enhanced(s + e, end, 0, st) && st[0] != '2') {
                r->code = (s[i] - '0') * 100 + (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
                memcpy(r->status, st, sizeof st);
                r->at = i;
                return 1;
            }
            if (code_at == SIZE_MAX && (i + 4 == t.len || !is_digit(s[i + 4])))
                code_at = i;
        }
        if (enh_at == SIZE_MAX && i + 1 < t.len && s[i + 1] == '.' &&
            cr__bounce_scan_enhanced(s + i, end, 0, enh))
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
