/*
 * fuzz_extract.c - the extraction file writer on random formats and rows, with oracles
 *
 * Input: byte 0 picks the options, or (high bit) makes the rest a format JSON for
 * cr_extract_check (then, if accepted, a file of three rows); byte 1 the separator, the quote
 * and whether labels come from the data; byte 2 the number of columns; then one byte per
 * column (fixed width: width and alignment); then values separated by NUL bytes, "\x01" alone
 * being SQL NULL, ncols per row.
 *
 * Oracles: a CSV file in UTF-8 that the core reader can parse (separators , ; TAB |, quote ")
 * reads back as the labels and values written (NULL as empty), through gzip when on; in UTF-8
 * a row fails exactly when a value is not valid UTF-8; a fixed-width file has width-sum
 * characters on every line; the byte counter is the file's size.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "channel/external/extract.h"
#include "core/csv.h"
#include "core/mem.h"
#include "core/utf8.h"
#include "fuzz.h"

#define MAX_COLS 6
#define MAX_VALUES 4096

static const char seps[8] = {',', ';', '\t', '|', ' ', '\'', ':', 'x'};
static const char quotes[4] = {'"', '\'', '`', '~'};
static const char *const encs[4] = {"utf-8", "utf-8-bom", "iso-8859-1", "windows-1252"};

static char *inflate_gz(const char *p, size_t n, size_t *out_len)
{
    z_stream z;
    size_t cap = 4096, len = 0;
    char *out = cr_xmalloc(cap);
    int rc;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 16) != Z_OK)
        __builtin_trap();
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)n;
    do {
        if (cap - len < 1024) {
            cap *= 2;
            out = cr_xrealloc(out, cap);
        }
        z.next_out = (Bytef *)out + len;
        z.avail_out = (uInt)(cap - len);
        rc = inflate(&z, Z_NO_FLUSH);
        len = cap - z.avail_out;
    } while (rc == Z_OK);
    if (rc != Z_STREAM_END || z.avail_in != 0) /* the writer made a broken gzip file */
        __builtin_trap();
    inflateEnd(&z);
    *out_len = len;
    return out;
}

/* Mode "format JSON": whatever cr_extract_check accepts, open accepts and can write. */
static void fuzz_format_json(const uint8_t *data, size_t size)
{
    json_t *f = json_loadb((const char *)data, size, 0, NULL);
    struct cr_err e = CR_ERR_INIT, e2 = CR_ERR_INIT;
    struct cr_extract *x;
    const char *vals[] = {"a", NULL, "Zoë", "", "x,\"y\"\n", "😀", "123"};
    char *p = NULL;
    size_t n = 0, nc;
    FILE *out;
    int rc;
    if (!f)
        return;
    rc = cr_extract_check(f, &e);
    if (rc && (rc != CR_EINVAL || e.msg[0] == '\0'))
        __builtin_trap();
    out = open_memstream(&p, &n);
    if ((cr_extract_open(f, out, &x, &e2) == 0) != (rc == 0))
        __builtin_trap(); /* check and open agree */
    if (rc == 0) {
        nc = json_array_size(json_object_get(f, "columns"));
        for (int r = 0; r < 3 && rc == 0; r++) {
            const char *row[1000];
            for (size_t i = 0; i < nc; i++)
                row[i] = vals[(i + (size_t)r) % 7];
            rc = cr_extract_row(x, row, nc, &e2);
        }
        if (rc)
            cr_extract_abort(x);
        else if (cr_extract_close(x, NULL, NULL, &e2))
            __builtin_trap();
    }
    fclose(out);
    free(p);
    json_decref(f);
}

/* A record of the reader equals the expected fields. */
static void expect_record(struct cr_csv_reader *r, const char *const *want, size_t n)
{
    struct cr_err e = CR_ERR_INIT;
    if (cr_csv_next(r, &e) != 1 || r->nfields != n)
        __builtin_trap();
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *got = cr_csv_field(r, i, &len);
        const char *w = want[i] ? want[i] : "";
        if (len != strlen(w) || memcmp(got, w, len) != 0)
            __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fixed, header, all, enc, lf, gzip, sep_i, quote_i, data_labels;
    size_t ncols, nvals = 0, nrows, i;
    const char *vals[MAX_VALUES];
    char *copy, *p = NULL, labels[MAX_COLS][24];
    const char *label_of[MAX_COLS];
    json_t *f, *cols;
    struct cr_extract *x;
    struct cr_err e = CR_ERR_INIT;
    size_t n = 0, sumw = 0;
    int widths[MAX_COLS];
    int64_t rows = -1, bytes = -1;
    FILE *out;
    int rc, invalid_utf8 = 0;

    if (size < 3)
        return 0;
    if (data[0] & 0x80) {
        fuzz_format_json(data + 1, size - 1);
        return 0;
    }
    fixed = data[0] & 1;
    header = (data[0] >> 1) & 1;
    all = (data[0] >> 2) & 1;
    enc = (data[0] >> 3) & 3;
    lf = (data[0] >> 5) & 1;
    gzip = (data[0] >> 6) & 1;
    sep_i = data[1] & 7;
    quote_i = (data[1] >> 3) & 3;
    if (quotes[quote_i] == seps[sep_i]) /* a format the check refuses: not this mode's aim */
        quote_i = 0;
    data_labels = (data[1] >> 5) & 1;
    ncols = 1 + data[2] % MAX_COLS;
    if (size < 3 + ncols)
        return 0;
    for (i = 0; i < ncols; i++) {
        widths[i] = 1 + (data[3 + i] & 0x1F);
        sumw += (size_t)widths[i];
    }

    /* the values: NUL-separated, "\x01" is NULL */
    copy = cr_xmemdupz(data + 3 + ncols, size - 3 - ncols);
    {
        char *s = copy, *end = copy + (size - 3 - ncols);
        while (s <= end && nvals < MAX_VALUES) {
            size_t len = strlen(s);
            vals[nvals++] = strcmp(s, "\x01") == 0 ? NULL : s;
            if (vals[nvals - 1] && !cr_utf8_valid(s, len, NULL))
                invalid_utf8 = 1;
            s += len + 1;
        }
    }

    /* the format */
    f = json_object();
    cols = json_array();
    for (i = 0; i < ncols; i++) {
        json_t *c = NULL;
        snprintf(labels[i], sizeof labels[i], "%c", (int)('A' + i)); /* fits any width */
        label_of[i] = labels[i];
        if (data_labels && i < nvals && vals[i] && cr_utf8_valid(vals[i], strlen(vals[i]), NULL))
            label_of[i] = vals[i]; /* JSON strings are valid UTF-8 */
        c = json_pack("{s:s}", "label", label_of[i]);
        if (fixed) {
            json_object_set_new(c, "width", json_integer(widths[i]));
            json_object_set_new(c, "align", json_string(data[3 + i] & 0x20 ? "right" : "left"));
        }
        json_array_append_new(cols, c);
    }
    json_object_set_new(f, "columns", cols);
    json_object_set_new(f, "format", json_string(fixed ? "fixed" : "csv"));
    json_object_set_new(f, "header", json_boolean(header));
    json_object_set_new(f, "encoding", json_string(encs[enc]));
    json_object_set_new(f, "line_ending", json_string(lf ? "lf" : "crlf"));
    json_object_set_new(f, "gzip", json_boolean(gzip));
    if (!fixed) {
        json_object_set_new(f, "quoting", json_string(all ? "all" : "minimal"));
        json_object_set_new(f, "separator", json_stringn(&seps[sep_i], 1));
        json_object_set_new(f, "quote", json_stringn(&quotes[quote_i], 1));
    }
    out = open_memstream(&p, &n);
    rc = cr_extract_open(f, out, &x, &e);
    if (rc) {
        /* only a label taken from the data (fixed-width header, encoding) can make a
         * generated format bad */
        if (rc != CR_EINVAL || !data_labels || (cr_extract_check(f, NULL) != CR_EINVAL))
            __builtin_trap();
        goto done;
    }
    nrows = (nvals + ncols - 1) / ncols;
    for (size_t r = 0; r < nrows && rc == 0; r++) {
        const char *row[MAX_COLS];
        for (i = 0; i < ncols; i++)
            row[i] = r * ncols + i < nvals ? vals[r * ncols + i] : NULL;
        rc = cr_extract_row(x, row, ncols, &e);
        if (rc && (rc != CR_EINVAL || e.msg[0] == '\0'))
            __builtin_trap();
    }
    if (rc) {
        cr_extract_abort(x);
        /* in UTF-8 CSV nothing but invalid UTF-8 fails a row */
        if (!fixed && enc <= 1 && !invalid_utf8)
            __builtin_trap();
        goto done;
    }
    if (cr_extract_close(x, &rows, &bytes, &e) != 0)
        __builtin_trap();
    fflush(out);
    if (bytes != (int64_t)n || rows != (int64_t)nrows)
        __builtin_trap();
    if (!fixed && enc <= 1 && invalid_utf8)
        __builtin_trap(); /* invalid UTF-8 went through */

    {
        char *text = p, *plain = NULL;
        size_t tlen = n;
        if (gzip) {
            plain = inflate_gz(p, n, &tlen);
            text = plain;
        }
        if (enc == 1) {
            if (tlen < 3 || memcmp(text, "\xEF\xBB\xBF", 3) != 0)
                __builtin_trap();
        }
        if (fixed) {
            /* every line has the sum of the widths in characters */
            size_t lines = nrows + (size_t)header, chars = 0;
            for (i = enc == 1 ? 3 : 0; i < tlen; i++)
                chars += enc >= 2 || ((unsigned char)text[i] & 0xC0) != 0x80;
            if (chars != lines * (sumw + (lf ? 1 : 2)))
                __builtin_trap();
        } else if (enc <= 1 && sep_i < 4 && quote_i == 0) {
            /* the core CSV reader reads back what was written */
            struct cr_csv_reader rd;
            struct cr_err e2 = CR_ERR_INIT;
            cr_csv_reader_init_mem(&rd, text, tlen, seps[sep_i]);
            if (header)
                expect_record(&rd, label_of, ncols);
            for (size_t r = 0; r < nrows; r++) {
                const char *row[MAX_COLS];
                for (i = 0; i < ncols; i++)
                    row[i] = r * ncols + i < nvals ? vals[r * ncols + i] : NULL;
                expect_record(&rd, row, ncols);
            }
            if (cr_csv_next(&rd, &e2) != 0)
                __builtin_trap();
            cr_csv_reader_release(&rd);
        }
        free(plain);
    }
done:
    fclose(out);
    free(p);
    json_decref(f);
    free(copy);
    return 0;
}
