/*
 * csv.h - streaming RFC 4180 reader and field writer
 *
 * The reader takes records one at a time from a FILE (or a memory block), with quoted fields
 * that may hold separators, doubled quotes and line breaks, LF or CRLF line ends, and a
 * leading UTF-8 BOM skipped. Field size and count are bounded. A malformed record is reported
 * with its line number and the reader goes on with the next line, so one bad row loses
 * nothing else. Fields point into the reader and live until the next call.
 */
#ifndef CR_CSV_H
#define CR_CSV_H

#include <stdio.h>

#include "core/buf.h"
#include "core/err.h"

struct cr_csv_reader {
    /* public, read-only */
    long record_line; /* physical line where the current record starts (1-based) */
    size_t nfields;
    /* private */
    FILE *f;
    const char *mem, *mem_end;
    char sep;
    char *in;
    size_t in_len, in_pos;
    int eof, started;
    long line;
    struct cr_buf data;
    size_t *starts, *lens, cap_fields;
    size_t max_field, max_fields;
};

/* Reads from f (not closed by the reader). sep is ',' ';' '\t' or '|'. */
void cr_csv_reader_init(struct cr_csv_reader *r, FILE *f, char sep);
void cr_csv_reader_init_mem(struct cr_csv_reader *r, const char *p, size_t n, char sep);
void cr_csv_reader_release(struct cr_csv_reader *r);
/* 1: a record is ready; 0: end of input; CR_ESYNTAX/CR_ETOOBIG: this record is malformed
 * (err names the line), call again to go on; CR_EIO: the file could not be read. */
int cr_csv_next(struct cr_csv_reader *r, struct cr_err *err);
const char *cr_csv_field(const struct cr_csv_reader *r, size_t i, size_t *len);

/* Appends one field, quoted when it holds sep, a quote, CR or LF (or when force). */
int cr_csv_put_field(struct cr_buf *b, const char *s, size_t n, char sep, int force_quote);

#endif
