/*
 * parse.h - strict number parsing (whole input, range-checked); no atoi in crier
 */
#ifndef CR_PARSE_H
#define CR_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Optional sign, decimal digits, nothing else. Returns 0, or -1 if malformed or out of range. */
int cr_parse_i64(const char *s, size_t n, int64_t *out);
/* A decimal number (optional sign, digits, optional fraction and exponent); finite only. */
int cr_parse_double(const char *s, size_t n, double *out);

#endif
