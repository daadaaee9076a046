/*
 * import_int.h - what the CSV importers share (profile/ only)
 */
#ifndef CR_IMPORT_INT_H
#define CR_IMPORT_INT_H

#include "core/csv.h"
#include "profile/import.h"

/* Rows per transaction when an import commits as it goes. */
#define CR__IMPORT_BATCH 50000

void cr__import_reject(struct cr_import_result *res, long line, const char *reason);
/* A header field as a column name: trimmed and lower-cased into out. */
void cr__import_column_name(const char *s, size_t n, char *out, size_t cap);
/* Reads the header record; an empty or malformed header fails the whole import. */
int cr__import_header(struct cr_csv_reader *r, struct cr_err *err);
/* 0 if valid UTF-8, else CR_ESYNTAX naming the column and the byte. */
int cr__import_check_utf8(const char *s, size_t n, const char *column, struct cr_err *err);
const char *cr__import_key(const struct cr_import_opts *o);
int cr__import_check_key(const char *key, struct cr_err *err);

#endif
