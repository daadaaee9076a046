/*
 * normalize.h - how imported values become stored values (profile/ only and tests)
 *
 * Each function reads a trimmed field and appends the stored form to out, or returns
 * CR_ESYNTAX with err naming the value and what was expected. The caller names the column.
 */
#ifndef CR_NORMALIZE_H
#define CR_NORMALIZE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

/* Strips leading and trailing ASCII white space. */
void cr_trim(const char **s, size_t *n);
/* Trimmed already; lower-cases the part after the last '@'. */
int cr_normalize_email(const char *s, size_t n, struct cr_buf *out, struct cr_err *err);
/* region may be NULL. */
int cr_normalize_phone(const char *s, size_t n, const char *region, struct cr_buf *out,
                       struct cr_err *err);
/* Two ASCII letters, upper-cased. */
int cr_normalize_country(const char *s, size_t n, struct cr_buf *out, struct cr_err *err);
int cr_normalize_bool(const char *s, size_t n, int *out, struct cr_err *err);
int cr_normalize_date(const char *s, size_t n, struct cr_buf *out, struct cr_err *err);
int cr_normalize_timestamp(const char *s, size_t n, struct cr_buf *out, struct cr_err *err);
int cr_normalize_int(const char *s, size_t n, int64_t *out, struct cr_err *err);
int cr_normalize_real(const char *s, size_t n, double *out, struct cr_err *err);

#endif
