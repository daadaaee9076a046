/*
 * casefold.c - the case mapping shared by the filter language's SQL on both backends
 *
 * Not a Unicode library: a table of simple one-to-one mappings (see casefold.h). Letters that
 * fold to two characters ('ß'), or whose mapping depends on the language (Turkish 'İ', 'ı'),
 * are left alone, so each mapping is reversible and PostgreSQL's translate() can apply it.
 */
#include "core/casefold.h"

#include "core/utf8.h"

/* upper + k*step <-> lower + k*step for k < count */
static const struct {
    uint16_t upper, lower, count, step;
} ranges[] = {
    {0x00C0, 0x00E0, 23, 1}, /* À-Ö */
    {0x00D8, 0x00F8, 7, 1},  /* Ø-Þ */
    {0x0100, 0x0101, 24, 2}, /* Ā-Į */
    {0x0132, 0x0133, 3, 2},  /* Ĳ-Ķ */
    {0x0139, 0x013A, 8, 2},  /* Ĺ-Ň */
    {0x014A, 0x014B, 23, 2}, /* Ŋ-Ŷ */
    {0x0178, 0x00FF, 1, 1},  /* Ÿ */
    {0x0179, 0x017A, 3, 2},  /* Ź-Ž */
    {0x0386, 0x03AC, 1, 1},  /* Ά */
    {0x0388, 0x03AD, 3, 1},  /* Έ-Ί */
    {0x038C, 0x03CC, 1, 1},  /* Ό */
    {0x038E, 0x03CD, 2, 1},  /* Ύ-Ώ */
    {0x0391, 0x03B1, 17, 1}, /* Α-Ρ */
    {0x03A3, 0x03C3, 9, 1},  /* Σ-Ϋ */
    {0x0400, 0x0450, 16, 1}, /* Ѐ-Џ */
    {0x0410, 0x0430, 32, 1}, /* А-Я */
};
#define NRANGES (sizeof ranges / sizeof *ranges)
#define FINAL_SIGMA 0x03C2
#define CAPITAL_SIGMA 0x03A3

static int in_range(uint32_t cp, uint32_t first, unsigned count, unsigned step)
{
    return cp >= first && cp < first + (uint32_t)count * step && (cp - first) % step == 0;
}

uint32_t cr_casefold_cp(uint32_t cp, int upper)
{
    if (cp < 0x80) {
        if (upper && cp >= 'a' && cp <= 'z')
            return cp - 'a' + 'A';
        if (!upper && cp >= 'A' && cp <= 'Z')
            return cp - 'A' + 'a';
        return cp;
    }
    if (cp < 0xC0 || cp > 0x045F)
        return cp;
    if (upper && cp == FINAL_SIGMA)
        return CAPITAL_SIGMA;
    for (size_t i = 0; i < NRANGES; i++) {
        uint32_t from = upper ? ranges[i].lower : ranges[i].upper;
        uint32_t to = upper ? ranges[i].upper : ranges[i].lower;
        if (in_range(cp, from, ranges[i].count, ranges[i].step))
            return to + (cp - from);
    }
    return cp;
}

int cr_casefold_changes(const char *s, size_t n, int upper)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t k;
        if (c < 0x80) {
            if (upper ? (c >= 'a' && c <= 'z') : (c >= 'A' && c <= 'Z'))
                return 1;
            i++;
            continue;
        }
        k = cr_utf8_seq_len(s + i, n - i);
        if (k == 0) {
            i++;
            continue;
        }
        {
            uint32_t cp = cr_utf8_decode(s + i, k);
            if (cr_casefold_cp(cp, upper) != cp)
                return 1;
        }
        i += k;
    }
    return 0;
}

int cr_casefold(const char *s, size_t n, int upper, struct cr_buf *out)
{
    size_t i = 0;
    if (cr_buf_grow(out, n))
        return out->err;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t k;
        if (c < 0x80) {
            cr_buf_putc(out, (char)cr_casefold_cp(c, upper));
            i++;
            continue;
        }
        k = cr_utf8_seq_len(s + i, n - i);
        if (k == 0) {
            cr_buf_putc(out, (char)c);
            i++;
            continue;
        }
        {
            char enc[4];
            uint32_t cp = cr_casefold_cp(cr_utf8_decode(s + i, k), upper);
            cr_buf_append(out, enc, cr_utf8_encode(cp, enc));
        }
        i += k;
    }
    return out->err;
}

static void put_cp(struct cr_buf *b, uint32_t cp)
{
    char enc[4];
    cr_buf_append(b, enc, cr_utf8_encode(cp, enc));
}

int cr_casefold_sets(int upper, struct cr_buf *from, struct cr_buf *to)
{
    for (size_t i = 0; i < NRANGES; i++)
        for (unsigned k = 0; k < ranges[i].count; k++) {
            uint32_t u = ranges[i].upper + (uint32_t)k * ranges[i].step;
            uint32_t l = ranges[i].lower + (uint32_t)k * ranges[i].step;
            put_cp(from, upper ? l : u);
            put_cp(to, upper ? u : l);
        }
    if (upper) {
        put_cp(from, FINAL_SIGMA);
        put_cp(to, CAPITAL_SIGMA);
    }
    return from->err ? from->err : to->err;
}
