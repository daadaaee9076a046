/*
 * extract.h - extraction files: rows of column values written as CSV (RFC 4180) or fixed
 *             width, in UTF-8 (with or without BOM), ISO-8859-1 or Windows-1252, optionally
 *             gzip-compressed
 *
 * The writer streams: open, one call per row, close. It knows nothing of the store or of
 * templates: delivery/ compiles the template's columns, reads the recipients and hands each
 * row's values here as UTF-8 text (NULL for SQL NULL, written as an empty field).
 *
 * The format is the external template's JSON (every key optional):
 *   {"format": "csv" | "fixed",          default csv
 *    "header": true,                      a first line of the columns' labels
 *    "separator": ",",                    csv: one character (",", ";", "\t", "|"...)
 *    "quote": "\"",                       csv: the quote character
 *    "quoting": "minimal" | "all",        csv: quote only fields that need it, or every field
 *    "encoding": "utf-8" | "utf-8-bom" | "iso-8859-1" | "windows-1252",   default utf-8
 *    "line_ending": "crlf" | "lf",        default crlf (RFC 4180)
 *    "gzip": false,
 *    "columns": [{"label": "Mobile", "value": "phone", "width": 15, "align": "left"}]}
 * Fixed width: each column's "width" (required, in characters) and "align" (left, default,
 * or right); a value longer than its width is an error naming the row and column (never cut
 * silently); padding with spaces.
 *
 * A character the encoding cannot hold (an emoji in ISO-8859-1) is an error that names the
 * row, the column and the character (U+1F600), and the file is not finished: the caller
 * removes it. Nothing is written past the first error.
 *
 * Details (added with extract.c):
 *  - "separator" and "quote" are one ASCII character other than CR and LF; the quote is not a
 *    space and differs from the separator. Names ("csv", "utf-8", "crlf"...) are matched
 *    without regard to case. "separator", "quote" and "quoting" in a fixed-width format, and
 *    "width" or "align" in a CSV one, are errors (they would do nothing). At most 1000
 *    columns; widths 1..10000; labels at most 1024 bytes, encodable, and, for a fixed-width
 *    header, no longer than the width and without line breaks.
 *  - Minimal quoting also quotes a value with a leading or trailing space or tab (readers
 *    often trim those) or a leading U+FEFF (first in a file, it would read as a BOM). With
 *    quoting "all", NULL stays an unquoted empty field, so "" and NULL differ. The only
 *    column of a row is never left empty: "" is written, or the line would be blank and
 *    readers skip blank lines.
 *  - Fixed-width widths count characters as Unicode code points (a combining accent is one,
 *    an emoji is one), not display columns. A value with CR or LF is an error.
 *  - Every line ends with the line ending, the last one too; the BOM counts in bytes.
 *  - Row errors read "row 12, column 'Name': 'Zoë 😀' has U+1F600 (character 5), which
 *    windows-1252 cannot hold" (rows are data rows, 1-based), or "... is not valid UTF-8 (byte
 *    0xff at offset 2)", "... is 11 characters, longer than the width 6". Output is buffered
 *    and written between rows, so after an error the FILE holds some of the good rows (maybe
 *    none) and nothing of the bad one; the writer then refuses further rows (CR_ESTATE) and
 *    cr_extract_close() returns CR_ESTATE.
 *
 * Ownership: cr_extract_open() copies what it needs from the format; the FILE is the caller's
 * and is not closed.
 */
#ifndef CR_EXTRACT_H
#define CR_EXTRACT_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"

struct cr_extract;

/* Checks a format (the keys above; unknown keys, bad values and, for "fixed", missing widths
 * are CR_EINVAL naming the key; "columns" must be a non-empty array of objects with a
 * "label"). The "value" of each column is not read here. */
int cr_extract_check(const json_t *format, struct cr_err *err) CR_WARN_UNUSED;

/* Starts a file on out (writes the BOM and the header line as the format says). */
int cr_extract_open(const json_t *format, FILE *out, struct cr_extract **x,
                    struct cr_err *err) CR_WARN_UNUSED;
/* Writes one row: ncols values, as many as the format's columns (NULL: empty). */
int cr_extract_row(struct cr_extract *x, const char *const *values, size_t ncols,
                   struct cr_err *err) CR_WARN_UNUSED;
/* Ends the file (the gzip trailer), flushes; *rows and *bytes (as written, compressed when
 * gzip) may be NULL. Frees x whatever the result. */
int cr_extract_close(struct cr_extract *x, int64_t *rows, int64_t *bytes,
                     struct cr_err *err) CR_WARN_UNUSED;
/* Frees x after an error, writing nothing more. NULL is allowed. */
void cr_extract_abort(struct cr_extract *x);

#endif
