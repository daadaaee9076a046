/*
 * extract.c - the extraction file writer: rows of UTF-8 values into CSV or fixed-width lines,
 *             re-encoded once per field, buffered, optionally gzip-compressed
 *
 * Spec: RFC 4180 §2 (CSV: fields holding the separator, the quote, CR or LF are quoted and
 * quotes doubled; we also quote fields with leading or trailing blanks, which many readers
 * trim); RFC 1952 through zlib (deflateInit2 with 15 + 16 window bits writes the gzip
 * wrapper); WHATWG Encoding / Unicode's CP1252.TXT for the 27 Windows-1252 characters in
 * 0x80-0x9F (the five bytes that file leaves undefined map nothing).
 * Not here: reading recipients, templates, file names, delivery to a target (export.c).
 *
 * The format is parsed once by parse_format(), shared by cr_extract_check() and
 * cr_extract_open(). A row is encoded field by field straight into one output buffer; the
 * buffer goes to the FILE (through deflate when gzip) only between rows, once it holds
 * FLUSH_AT bytes, so a failed row never reaches the file and fwrite sees big blocks.
 */
#include "channel/external/extract.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "core/mem.h"
#include "core/utf8.h"

#define FLUSH_AT (256 * 1024)  /* buffered bytes that trigger a write, between rows */
#define ZOUT_SIZE (256 * 1024) /* compressed bytes per fwrite */
#define GZIP_LEVEL 6
#define MAX_COLUMNS 1000
#define MAX_WIDTH 10000
#define MAX_LABEL 1024 /* bytes */
#define SHOW_CHARS 40  /* characters of a value quoted in an error message */
#define SHOW_SIZE (SHOW_CHARS * 4 + 16)

enum ex_encoding { ENC_UTF8, ENC_UTF8_BOM, ENC_LATIN1, ENC_CP1252 }; /* ORDER enc_names */
static const char *const enc_names[] = {"utf-8", "utf-8-bom", "iso-8859-1", "windows-1252"};

/* Byte classes, one table per writer (the separator and quote vary). */
enum {
    CL_QUOTE_NEEDED = 1, /* separator, quote, CR, LF: the CSV field must be quoted */
    CL_QUOTE = 2,        /* the quote character itself (doubled inside quotes) */
    CL_BREAK = 4,        /* CR or LF: refused in fixed width */
    CL_HIGH = 8          /* a byte of a multi-byte UTF-8 sequence */
};

struct ex_col {
    char *label; /* UTF-8, as in the format */
    size_t label_len;
    int width; /* fixed: in characters (code points) */
    int right; /* fixed: right-aligned */
};

struct cr_extract {
    /* the format */
    int fixed, header, quote_all, gzip;
    enum ex_encoding enc;
    char sep, quote;
    const char *eol;
    size_t eol_len;
    size_t ncols;
    struct ex_col *cols;
    unsigned char cls[256];
    /* the output */
    FILE *out;
    unsigned char *buf; /* encoded bytes not yet written (or deflated) */
    size_t len, cap;
    int zinit;
    z_stream z;
    unsigned char *zout;
    int64_t rows, bytes;
    int failed; /* sticky: the first error's code; nothing is written after it */
};

/* ------------------------------------------------------------------------------------------
 * Encodings
 * ---------------------------------------------------------------------------------------- */

/* Windows-1252 bytes 0x80-0x9F -> code point; 0 where the byte is undefined. */
static const uint16_t cp1252_high[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, /* € . ‚ ƒ „ … † ‡ */
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,      /* ˆ ‰ Š ‹ Œ . Ž . */
    0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, /* . ‘ ’ “ ” • – — */
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178, /* ˜ ™ š › œ . ž Ÿ */
};

/* The byte that holds cp in enc (an 8-bit encoding), or -1. */
static int encode_cp(enum ex_encoding enc, uint32_t cp)
{
    if (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF))
        return (int)cp;
    if (enc == ENC_LATIN1)
        return cp <= 0xFF ? (int)cp : -1;
    for (int i = 0; i < 32; i++) /* rare characters: a scan of 32 is fine */
        if (cp1252_high[i] == cp && cp != 0)
            return 0x80 + i;
    return -1;
}

/* Writes at most SHOW_CHARS characters of s as a readable quotation into out: controls and
 * invalid bytes escaped, "..." when cut. */
static void show_value(char *out, size_t size, const char *s, size_t n)
{
    size_t o = 0, i = 0;
    int chars = 0;
    out[0] = '\0';
    while (i < n && o + 8 < size) {
        unsigned char c = (unsigned char)s[i];
        size_t len = cr_utf8_seq_len(s + i, n - i);
        if (chars == SHOW_CHARS) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (len == 0 || c < 0x20 || c == 0x7F) {
            const char *esc = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
            if (esc) {
                memcpy(out + o, esc, 2);
                o += 2;
            } else {
                o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
            }
            i++;
        } else {
            memcpy(out + o, s + i, len);
            o += len;
            i += len;
        }
        chars++;
    }
    out[o] = '\0';
}

/* ------------------------------------------------------------------------------------------
 * The format
 * ---------------------------------------------------------------------------------------- */

static void cols_free(struct ex_col *cols, size_t n)
{
    for (size_t i = 0; cols && i < n; i++)
        free(cols[i].label);
    free(cols);
}

static int one_of(const char *s, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(s, names[i]) == 0)
            return (int)i;
    return -1;
}

/* "key" must be a string naming one of names; *out receives its index. */
static int get_choice(const json_t *format, const char *key, const char *const *names, size_t n,
                      int *out, struct cr_err *err)
{
    const json_t *v = json_object_get(format, key);
    int i;
    if (!v)
        return 0;
    if (json_is_string(v)) {
        i = one_of(json_string_value(v), names, n);
        if (i >= 0) {
            *out = i;
            return 0;
        }
    }
    {
        char list[160] = "";
        size_t o = 0;
        for (size_t k = 0; k < n && o < sizeof list; k++)
            o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", k ? ", " : "", names[k]);
        if (json_is_string(v))
            return cr_err_set(err, CR_EINVAL, "'%s' must be one of %s, not \"%s\"", key, list,
                              json_string_value(v));
        return cr_err_set(err, CR_EINVAL, "'%s' must be a string (one of %s)", key, list);
    }
}

static int get_bool(const json_t *format, const char *key, int *out, struct cr_err *err)
{
    const json_t *v = json_object_get(format, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return cr_err_set(err, CR_EINVAL, "'%s' must be true or false", key);
    *out = json_is_true(v);
    return 0;
}

/* separator and quote: one ASCII character other than NUL, CR and LF. */
static int get_char(const json_t *format, const char *key, char *out, struct cr_err *err)
{
    const json_t *v = json_object_get(format, key);
    const char *s;
    if (!v)
        return 0;
    if (!json_is_string(v))
        return cr_err_set(err, CR_EINVAL, "'%s' must be a string of one character", key);
    s = json_string_value(v);
    if (json_string_length(v) != 1 || (unsigned char)s[0] >= 0x80 || s[0] == '\0' || s[0] == '\r' ||
        s[0] == '\n') {
        char shown[SHOW_SIZE];
        show_value(shown, sizeof shown, s, json_string_length(v));
        return cr_err_set(err, CR_EINVAL,
                          "'%s' must be one ASCII character other than CR and LF, not \"%s\"", key,
                          shown);
    }
    *out = s[0];
    return 0;
}

/* A label's problem for enc (and for fixed width), or 0. */
static int check_label(const struct cr_extract *x, size_t i, const struct ex_col *c,
                       struct cr_err *err)
{
    size_t at = 0, chars = 0;
    char shown[SHOW_SIZE];
    show_value(shown, sizeof shown, c->label, c->label_len);
    if (!cr_utf8_valid(c->label, c->label_len, &at)) /* jansson's strings are valid: safety */
        return cr_err_set(err, CR_EINVAL, "columns[%zu]: 'label' is not valid UTF-8", i);
    for (size_t k = 0; k < c->label_len;) {
        size_t len = cr_utf8_seq_len(c->label + k, c->label_len - k);
        uint32_t cp = cr_utf8_decode(c->label + k, len);
        chars++;
        if (x->enc >= ENC_LATIN1 && encode_cp(x->enc, cp) < 0)
            return cr_err_set(err, CR_EINVAL,
                              "columns[%zu]: label '%s' has U+%04X (character %zu), which %s "
                              "cannot hold",
                              i, shown, (unsigned)cp, chars, enc_names[x->enc]);
        if (x->fixed && x->header && (cp == '\r' || cp == '\n'))
            return cr_err_set(err, CR_EINVAL,
                              "columns[%zu]: label '%s' has a line break, which a fixed-width "
                              "header cannot hold",
                              i, shown);
        k += len;
    }
    if (x->fixed && x->header && chars > (size_t)c->width)
        return cr_err_set(err, CR_EINVAL,
                          "columns[%zu]: label '%s' is %zu characters, longer than its width "
                          "%d (widen the column or set \"header\": false)",
                          i, shown, chars, c->width);
    return 0;
}

static int parse_column(struct cr_extract *x, size_t i, const json_t *col, struct cr_err *err)
{
    static const char *const aligns[] = {"left", "right"};
    struct ex_col *c = &x->cols[i];
    const char *k;
    const json_t *v, *label, *width;
    int align = 0;

    if (!json_is_object(col))
        return cr_err_set(err, CR_EINVAL, "columns[%zu] must be an object with a \"label\"", i);
    json_object_foreach((json_t *)col, k, v) {
        if (strcmp(k, "label") && strcmp(k, "value") && strcmp(k, "width") && strcmp(k, "align"))
            return cr_err_set(err, CR_EINVAL,
                              "columns[%zu]: unknown key '%s' (keys: label, value, width, "
                              "align)",
                              i, k);
    }
    label = json_object_get(col, "label");
    if (!label)
        return cr_err_set(err, CR_EINVAL, "columns[%zu] has no 'label'", i);
    if (!json_is_string(label))
        return cr_err_set(err, CR_EINVAL, "columns[%zu]: 'label' must be a string", i);
    if (json_string_length(label) > MAX_LABEL)
        return cr_err_set(err, CR_EINVAL, "columns[%zu]: 'label' is longer than %d bytes", i,
                          MAX_LABEL);
    width = json_object_get(col, "width");
    if (!x->fixed && (width || json_object_get(col, "align")))
        return cr_err_set(err, CR_EINVAL,
                          "columns[%zu]: '%s' is for fixed-width files (\"format\": \"fixed\")", i,
                          width ? "width" : "align");
    if (x->fixed) {
        if (!width)
            return cr_err_set(err, CR_EINVAL,
                              "columns[%zu]: 'width' is required in a fixed-width file", i);
        if (!json_is_integer(width) || json_integer_value(width) < 1 ||
            json_integer_value(width) > MAX_WIDTH)
            return cr_err_set(err, CR_EINVAL,
                              "columns[%zu]: 'width' must be an integer from 1 to %d", i,
                              MAX_WIDTH);
        c->width = (int)json_integer_value(width);
        if (get_choice(col, "align", aligns, 2, &align, err)) {
            cr_err_prefix(err, "columns[%zu]: ", i);
            return CR_EINVAL;
        }
        c->right = align;
    }
    c->label_len = json_string_length(label);
    c->label = cr_xmemdupz(json_string_value(label), c->label_len);
    return check_label(x, i, c, err);
}

/* Reads and checks format into x (zeroed by the caller); on error x->cols may be partly set. */
static int parse_format(const json_t *format, struct cr_extract *x, struct cr_err *err)
{
    static const char *const known[] = {"format",   "header",      "separator", "quote",  "quoting",
                                        "encoding", "line_ending", "gzip",      "columns"};
    static const char *const formats[] = {"csv", "fixed"};
    static const char *const quotings[] = {"minimal", "all"};
    static const char *const endings[] = {"crlf", "lf"};
    const char *k;
    const json_t *v, *cols;
    int enc = ENC_UTF8, lf = 0;

    if (!json_is_object(format))
        return cr_err_set(err, CR_EINVAL, "the file format must be a JSON object");
    json_object_foreach((json_t *)format, k, v) {
        size_t i = 0;
        while (i < sizeof known / sizeof *known && strcmp(k, known[i]) != 0)
            i++;
        if (i == sizeof known / sizeof *known)
            return cr_err_set(err, CR_EINVAL,
                              "unknown key '%s' (keys: format, header, separator, quote, "
                              "quoting, encoding, line_ending, gzip, columns)",
                              k);
    }
    x->header = 1;
    x->sep = ',';
    x->quote = '"';
    if (get_choice(format, "format", formats, 2, &x->fixed, err) ||
        get_bool(format, "header", &x->header, err) ||
        get_choice(format, "quoting", quotings, 2, &x->quote_all, err) ||
        get_choice(format, "encoding", enc_names, 4, &enc, err) ||
        get_choice(format, "line_ending", endings, 2, &lf, err) ||
        get_bool(format, "gzip", &x->gzip, err) || get_char(format, "separator", &x->sep, err) ||
        get_char(format, "quote", &x->quote, err))
        return CR_EINVAL;
    x->enc = (enum ex_encoding)enc;
    x->eol = lf ? "\n" : "\r\n";
    x->eol_len = lf ? 1 : 2;
    if (x->fixed) {
        static const char *const csv_only[] = {"separator", "quote", "quoting"};
        for (size_t i = 0; i < 3; i++)
            if (json_object_get(format, csv_only[i]))
                return cr_err_set(err, CR_EINVAL,
                                  "'%s' is for csv files; this format is fixed width", csv_only[i]);
    }
    if (x->quote == x->sep)
        return cr_err_set(err, CR_EINVAL, "'quote' and 'separator' must differ (both '%c')",
                          x->sep);
    if (x->quote == ' ')
        return cr_err_set(err, CR_EINVAL, "'quote' cannot be a space");

    cols = json_object_get(format, "columns");
    if (!cols)
        return cr_err_set(err, CR_EINVAL, "'columns' is missing (a list of {\"label\": ...})");
    if (!json_is_array(cols) || json_array_size(cols) == 0)
        return cr_err_set(err, CR_EINVAL,
                          "'columns' must be a non-empty list of {\"label\": ...} objects");
    if (json_array_size(cols) > MAX_COLUMNS)
        return cr_err_set(err, CR_EINVAL, "'columns' has %zu columns; at most %d are allowed",
                          json_array_size(cols), MAX_COLUMNS);
    x->ncols = json_array_size(cols);
    x->cols = cr_xcalloc(x->ncols, sizeof *x->cols);
    for (size_t i = 0; i < x->ncols; i++)
        if (parse_column(x, i, json_array_get(cols, i), err))
            return CR_EINVAL;
    return 0;
}

int cr_extract_check(const json_t *format, struct cr_err *err)
{
    struct cr_extract x;
    int rc;
    memset(&x, 0, sizeof x);
    rc = parse_format(format, &x, err);
    cols_free(x.cols, x.ncols);
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * Output: the buffer, deflate, the FILE
 * ---------------------------------------------------------------------------------------- */

static int write_out(struct cr_extract *x, const void *p, size_t n, struct cr_err *err)
{
    if (n && fwrite(p, 1, n, x->out) != n)
        return cr_err_set(err, CR_EIO, "cannot write the extraction file: %s",
                          strerror(errno ? errno : EIO));
    x->bytes += (int64_t)n;
    return 0;
}

/* Sends the buffer on (through deflate when gzip); finish ends the gzip stream. */
static int flush_buf(struct cr_extract *x, int finish, struct cr_err *err)
{
    int rc;
    if (!x->gzip) {
        rc = write_out(x, x->buf, x->len, err);
        x->len = 0;
        return rc;
    }
    x->z.next_in = x->buf;
    x->z.avail_in = (uInt)x->len;
    for (;;) {
        int zrc;
        x->z.next_out = x->zout;
        x->z.avail_out = ZOUT_SIZE;
        zrc = deflate(&x->z, finish ? Z_FINISH : Z_NO_FLUSH);
        if (zrc == Z_STREAM_ERROR)
            CR_BUG("deflate: stream state broken");
        rc = write_out(x, x->zout, ZOUT_SIZE - x->z.avail_out, err);
        if (rc)
            return rc;
        if (finish ? zrc == Z_STREAM_END : x->z.avail_out != 0)
            break;
    }
    x->len = 0;
    return 0;
}

/* Room for n more bytes in the buffer (grown for a row bigger than it). */
static inline void reserve(struct cr_extract *x, size_t n)
{
    if (x->cap - x->len < n) {
        size_t cap = x->cap * 2;
        if (cap - x->len < n)
            cap = x->len + n;
        x->buf = cr_xrealloc(x->buf, cap);
        x->cap = cap;
    }
}

/* ------------------------------------------------------------------------------------------
 * Fields
 * ---------------------------------------------------------------------------------------- */

/* What a row's error messages start with: "row 12, column 'Name'" or "header, ...". */
static int field_err(const struct cr_extract *x, size_t col, struct cr_err *err, const char *fmt,
                     ...) CR_PRINTF(4, 5);
static int field_err(const struct cr_extract *x, size_t col, struct cr_err *err, const char *fmt,
                     ...)
{
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cr_err_set(err, CR_EINVAL, "row %lld, column '%.*s': %s", (long long)x->rows + 1,
                      x->cols[col].label_len > 100 ? 100 : (int)x->cols[col].label_len,
                      x->cols[col].label, msg);
}

/* Copies n valid UTF-8 bytes as enc (8-bit) into the buffer, doubling q when q >= 0; room is
 * reserved by the caller. Returns 0 or the error for a character enc cannot hold. */
static int put_8bit(struct cr_extract *x, size_t col, const char *s, size_t n, int q,
                    struct cr_err *err)
{
    unsigned char *o = x->buf + x->len;
    size_t chars = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        chars++;
        if (c < 0x80) {
            if (c == q)
                *o++ = c;
            *o++ = c;
            i++;
        } else {
            size_t len = cr_utf8_seq_len(s + i, n - i);
            uint32_t cp = cr_utf8_decode(s + i, len);
            int b = encode_cp(x->enc, cp);
            if (b < 0) {
                char shown[SHOW_SIZE];
                show_value(shown, sizeof shown, s, n);
                return field_err(x, col, err,
                                 "'%s' has U+%04X (character %zu), which %s "
                                 "cannot hold",
                                 shown, (unsigned)cp, chars, enc_names[x->enc]);
            }
            *o++ = (unsigned char)b;
            i += len;
        }
    }
    x->len = (size_t)(o - x->buf);
    return 0;
}

/* Copies the value, doubling quote characters when quoted (UTF-8 output). */
static void put_utf8(struct cr_extract *x, const char *s, size_t n, int double_quotes)
{
    if (!double_quotes) {
        memcpy(x->buf + x->len, s, n);
        x->len += n;
        return;
    }
    while (n) {
        const char *q = memchr(s, x->quote, n);
        size_t run = q ? (size_t)(q - s) + 1 : n;
        memcpy(x->buf + x->len, s, run);
        x->len += run;
        if (q)
            x->buf[x->len++] = (unsigned char)x->quote;
        s += run;
        n -= run;
    }
}

/* The OR of the classes of s's bytes; checks UTF-8 when a byte is high. */
static int scan(const struct cr_extract *x, size_t col, const char *s, size_t n, unsigned *acc,
                struct cr_err *err)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned a = 0;
    size_t bad;
    for (size_t i = 0; i < n; i++)
        a |= x->cls[p[i]];
    *acc = a;
    if ((a & CL_HIGH) && !cr_utf8_valid(s, n, &bad)) {
        char shown[SHOW_SIZE];
        show_value(shown, sizeof shown, s, n);
        return field_err(x, col, err, "'%s' is not valid UTF-8 (byte 0x%02x at offset %zu)", shown,
                         p[bad], bad);
    }
    return 0;
}

static int put_csv_field(struct cr_extract *x, size_t col, const char *s, size_t n, int null,
                         struct cr_err *err)
{
    unsigned acc;
    int quoted, rc;
    if (scan(x, col, s, n, &acc, err))
        return CR_EINVAL;
    /* NULL stays unquoted even with quoting "all", so empty and NULL differ there; the only
     * column of a row is never left empty, or the line would be blank (skipped by readers);
     * a leading U+FEFF is quoted, or at the start of the file readers would take it for a
     * BOM and drop it. */
    quoted = (x->quote_all && !null) || (acc & CL_QUOTE_NEEDED) ||
             (n && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t')) ||
             (n == 0 && x->ncols == 1) ||
             ((acc & CL_HIGH) && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0);
    reserve(x, 2 * n + 3);
    if (col)
        x->buf[x->len++] = (unsigned char)x->sep;
    if (quoted)
        x->buf[x->len++] = (unsigned char)x->quote;
    if (x->enc >= ENC_LATIN1 && (acc & CL_HIGH)) {
        rc = put_8bit(x, col, s, n, quoted ? (unsigned char)x->quote : -1, err);
        if (rc)
            return rc;
    } else {
        put_utf8(x, s, n, quoted && (acc & CL_QUOTE));
    }
    if (quoted)
        x->buf[x->len++] = (unsigned char)x->quote;
    return 0;
}

static int put_fixed_field(struct cr_extract *x, size_t col, const char *s, size_t n,
                           struct cr_err *err)
{
    const struct ex_col *c = &x->cols[col];
    unsigned acc;
    size_t chars = n, pad;
    if (scan(x, col, s, n, &acc, err))
        return CR_EINVAL;
    if (acc & CL_BREAK) {
        char shown[SHOW_SIZE];
        show_value(shown, sizeof shown, s, n);
        return field_err(x, col, err,
                         "'%s' has a line break, which a fixed-width file cannot "
                         "hold",
                         shown);
    }
    if (acc & CL_HIGH) { /* characters are code points: count the bytes that start one */
        chars = 0;
        for (size_t i = 0; i < n; i++)
            chars += ((unsigned char)s[i] & 0xC0) != 0x80;
    }
    if (chars > (size_t)c->width) {
        char shown[SHOW_SIZE];
        show_value(shown, sizeof shown, s, n);
        return field_err(x, col, err, "'%s' is %zu characters, longer than the width %d", shown,
                         chars, c->width);
    }
    pad = (size_t)c->width - chars;
    reserve(x, n + pad);
    if (c->right) {
        memset(x->buf + x->len, ' ', pad);
        x->len += pad;
    }
    if (x->enc >= ENC_LATIN1 && (acc & CL_HIGH)) {
        int rc = put_8bit(x, col, s, n, -1, err);
        if (rc)
            return rc;
    } else {
        put_utf8(x, s, n, 0);
    }
    if (!c->right) {
        memset(x->buf + x->len, ' ', pad);
        x->len += pad;
    }
    return 0;
}

/* Encodes one line (values or, with labels != 0, the header) at the end of the buffer; on
 * error the buffer is as it was. */
static int put_line(struct cr_extract *x, const char *const *values, int labels, struct cr_err *err)
{
    size_t start = x->len;
    for (size_t i = 0; i < x->ncols; i++) {
        const char *v = labels ? x->cols[i].label : values[i];
        size_t n = labels ? x->cols[i].label_len : v ? strlen(v) : 0;
        int rc = x->fixed ? put_fixed_field(x, i, v ? v : "", n, err)
                          : put_csv_field(x, i, v ? v : "", n, !v, err);
        if (rc) {
            if (labels) /* parse_format checked the labels: only a bug gets here */
                cr_err_prefix(err, "header: ");
            x->len = start;
            return rc;
        }
    }
    reserve(x, x->eol_len);
    memcpy(x->buf + x->len, x->eol, x->eol_len);
    x->len += x->eol_len;
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * The writer
 * ---------------------------------------------------------------------------------------- */

static void extract_free(struct cr_extract *x)
{
    if (x->zinit)
        deflateEnd(&x->z);
    free(x->zout);
    free(x->buf);
    cols_free(x->cols, x->ncols);
    free(x);
}

int cr_extract_open(const json_t *format, FILE *out, struct cr_extract **xp, struct cr_err *err)
{
    struct cr_extract *x = cr_xcalloc(1, sizeof *x);
    int rc;
    *xp = NULL;
    rc = parse_format(format, x, err);
    if (rc) {
        extract_free(x);
        return rc;
    }
    x->out = out;
    x->cls['\r'] = x->cls['\n'] = CL_QUOTE_NEEDED | CL_BREAK;
    if (!x->fixed) {
        x->cls[(unsigned char)x->sep] |= CL_QUOTE_NEEDED;
        x->cls[(unsigned char)x->quote] |= CL_QUOTE_NEEDED | CL_QUOTE;
    }
    for (int b = 0x80; b < 0x100; b++)
        x->cls[b] = CL_HIGH;
    x->cap = FLUSH_AT + FLUSH_AT / 4;
    x->buf = cr_xmalloc(x->cap);
    if (x->gzip) {
        x->zout = cr_xmalloc(ZOUT_SIZE);
        if (deflateInit2(&x->z, GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            CR_BUG("deflateInit2 failed");
        x->zinit = 1;
    }
    if (x->enc == ENC_UTF8_BOM) {
        memcpy(x->buf, "\xEF\xBB\xBF", 3);
        x->len = 3;
    }
    if (x->header) {
        rc = put_line(x, NULL, 1, err);
        if (rc) {
            extract_free(x);
            return rc;
        }
    }
    *xp = x;
    return 0;
}

int cr_extract_row(struct cr_extract *x, const char *const *values, size_t ncols,
                   struct cr_err *err)
{
    int rc;
    if (x->failed)
        return cr_err_set(err, CR_ESTATE, "the extraction file already failed; it cannot go on");
    if (ncols != x->ncols) {
        x->failed = CR_EINVAL;
        return cr_err_set(err, CR_EINVAL, "row %lld has %zu values; the format has %zu columns",
                          (long long)x->rows + 1, ncols, x->ncols);
    }
    if (x->len >= FLUSH_AT) {
        rc = flush_buf(x, 0, err);
        if (rc) {
            x->failed = rc;
            return rc;
        }
    }
    rc = put_line(x, values, 0, err);
    if (rc) {
        x->failed = rc;
        return rc;
    }
    x->rows++;
    return 0;
}

int cr_extract_close(struct cr_extract *x, int64_t *rows, int64_t *bytes, struct cr_err *err)
{
    int rc = x->failed;
    if (rc)
        rc = cr_err_set(err, CR_ESTATE, "the extraction file was not finished: a row failed");
    else
        rc = flush_buf(x, 1, err);
    if (!rc && fflush(x->out) != 0)
        rc = cr_err_set(err, CR_EIO, "cannot write the extraction file: %s", strerror(errno));
    if (!rc && ferror(x->out))
        rc = cr_err_set(err, CR_EIO, "cannot write the extraction file");
    if (rows)
        *rows = x->rows;
    if (bytes)
        *bytes = x->bytes;
    extract_free(x);
    return rc;
}

void cr_extract_abort(struct cr_extract *x)
{
    if (x)
        extract_free(x);
}
