/*
 * csv.c - RFC 4180 reader (streaming, bounded) and field writer
 *
 * Spec: RFC 4180 §2. Accepted beyond it: LF line ends, a final record without a line end,
 * a UTF-8 BOM before the first record. Refused: a quote inside an unquoted field, text after
 * a closing quote, an unterminated quoted field, NUL bytes.
 */
#include "core/csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define CSV_CHUNK 65536

void cr_csv_reader_init(struct cr_csv_reader *r, FILE *f, char sep)
{
    memset(r, 0, sizeof *r);
    r->f = f;
    r->sep = sep;
    r->line = 1;
    r->in = cr_xmalloc(CSV_CHUNK);
    cr_buf_init(&r->data, 0);
    r->max_field = 1 << 20;
    r->max_fields = 4096;
}

void cr_csv_reader_init_mem(struct cr_csv_reader *r, const char *p, size_t n, char sep)
{
    cr_csv_reader_init(r, NULL, sep);
    r->mem = p;
    r->mem_end = p + n;
}

void cr_csv_reader_release(struct cr_csv_reader *r)
{
    free(r->in);
    free(r->starts);
    free(r->lens);
    cr_buf_release(&r->data);
    memset(r, 0, sizeof *r);
}

/* Returns the next byte, or -1 at end of input, -2 on a read error. */
static inline int csv_getc(struct cr_csv_reader *r)
{
    if (r->in_pos == r->in_len) {
        if (r->eof)
            return -1;
        if (r->mem) {
            size_t n = (size_t)(r->mem_end - r->mem);
            if (n > CSV_CHUNK)
                n = CSV_CHUNK;
            memcpy(r->in, r->mem, n);
            r->mem += n;
            r->in_len = n;
        } else {
            r->in_len = fread(r->in, 1, CSV_CHUNK, r->f);
            if (r->in_len == 0 && ferror(r->f))
                return -2;
        }
        r->in_pos = 0;
        if (r->in_len == 0) {
            r->eof = 1;
            return -1;
        }
    }
    return (unsigned char)r->in[r->in_pos++];
}

static inline int csv_peekc(struct cr_csv_reader *r)
{
    int c = csv_getc(r);
    if (c >= 0)
        r->in_pos--; /* csv_getc just filled or advanced within the same chunk */
    return c;
}

static void end_field(struct cr_csv_reader *r, size_t start)
{
    if (r->nfields == r->cap_fields) {
        r->cap_fields = r->cap_fields ? r->cap_fields * 2 : 32;
        r->starts = cr_xrealloc(r->starts, r->cap_fields * sizeof *r->starts);
        r->lens = cr_xrealloc(r->lens, r->cap_fields * sizeof *r->lens);
    }
    r->starts[r->nfields] = start;
    r->lens[r->nfields] = r->data.len - start;
    r->nfields++;
    cr_buf_putc(&r->data, '\0');
}

/* Skips to just after the next line end (used to resynchronise after a bad record). */
static void skip_line(struct cr_csv_reader *r)
{
    int c;
    while ((c = csv_getc(r)) >= 0 && c != '\n')
        ;
    if (c == '\n')
        r->line++;
}

int cr_csv_next(struct cr_csv_reader *r, struct cr_err *err)
{
    int c;
    size_t start;
    const char *problem = NULL;

    r->nfields = 0;
    cr_buf_reset(&r->data);
    if (!r->started) {
        r->started = 1;
        /* A UTF-8 BOM before the first record is not data. */
        if (csv_peekc(r) == 0xEF && r->in_len - r->in_pos >= 3 &&
            memcmp(r->in + r->in_pos, "\xEF\xBB\xBF", 3) == 0)
            r->in_pos += 3;
    }
    c = csv_peekc(r);
    if (c == -2)
        return cr_err_set(err, CR_EIO, "cannot read input: %s", strerror(errno));
    if (c == -1)
        return 0;
    r->record_line = r->line;

    for (;;) { /* one field per iteration */
        start = r->data.len;
        c = csv_getc(r);
        if (c == '"') {
            for (;;) {
                c = csv_getc(r);
                if (c < 0) {
                    problem = "unterminated quoted field";
                    goto bad_at_eof;
                }
                if (c == '"') {
                    int d = csv_peekc(r);
                    if (d == '"') {
                        csv_getc(r);
                        cr_buf_putc(&r->data, '"');
                        continue;
                    }
                    break;
                }
                if (c == '\n')
                    r->line++;
                if (c == 0) {
                    problem = "NUL byte in field";
                    goto bad;
                }
                cr_buf_putc(&r->data, (char)c);
                if (r->data.len - start > r->max_field) {
                    problem = "field too long";
                    goto bad;
                }
            }
            c = csv_getc(r);
            if (c == '\r' && csv_peekc(r) == '\n')
                c = csv_getc(r);
            if (c >= 0 && c != r->sep && c != '\n') {
                problem = "text after a closing quote";
                goto bad;
            }
        } else {
            /* Unquoted: copy the run of ordinary bytes in the current chunk at once. */
            while (c >= 0 && c != r->sep && c != '\n' && c != '\r' && c != '"' && c != 0) {
                const char *p = r->in + r->in_pos, *end = r->in + r->in_len, *q = p;
                while (q < end && *q != r->sep && *q != '\n' && *q != '\r' && *q != '"' &&
                       *q != '\0')
                    q++;
                cr_buf_putc(&r->data, (char)c);
                cr_buf_append(&r->data, p, (size_t)(q - p));
                r->in_pos += (size_t)(q - p);
                if (r->data.len - start > r->max_field) {
                    problem = "field too long";
                    goto bad;
                }
                c = csv_getc(r);
            }
            while (c >= 0 && c != r->sep && c != '\n') {
                if (c == '\r' && csv_peekc(r) == '\n') {
                    c = csv_getc(r);
                    break;
                }
                if (c == '"') {
                    problem = "quote inside an unquoted field";
                    goto bad;
                }
                if (c == 0) {
                    problem = "NUL byte in field";
                    goto bad;
                }
                cr_buf_putc(&r->data, (char)c);
                if (r->data.len - start > r->max_field) {
                    problem = "field too long";
                    goto bad;
                }
                c = csv_getc(r);
            }
        }
        if (c == -2)
            return cr_err_set(err, CR_EIO, "cannot read input: %s", strerror(errno));
        end_field(r, start);
        if (r->nfields > r->max_fields) {
            problem = "too many fields";
            goto bad;
        }
        if (c == '\n') {
            r->line++;
            return 1;
        }
        if (c < 0)
            return 1;
    }
bad:
    skip_line(r);
bad_at_eof:
    return cr_err_at(err, strcmp(problem, "field too long") == 0 ? CR_ETOOBIG : CR_ESYNTAX,
                     (int)r->record_line, 0, "line %ld: %s", r->record_line, problem);
}

const char *cr_csv_field(const struct cr_csv_reader *r, size_t i, size_t *len)
{
    if (i >= r->nfields) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = r->lens[i];
    return r->data.data + r->starts[i];
}

int cr_csv_put_field(struct cr_buf *b, const char *s, size_t n, char sep, int force_quote)
{
    int quote = force_quote;
    for (size_t i = 0; i < n && !quote; i++)
        if (s[i] == sep || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
            quote = 1;
    if (!quote)
        return cr_buf_append(b, s, n);
    cr_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            cr_buf_putc(b, '"');
        cr_buf_putc(b, s[i]);
    }
    return cr_buf_putc(b, '"');
}
