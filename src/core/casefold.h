/*
 * casefold.h - the letter case mapping that lower(), upper() and ilike use on both backends
 *
 * Simple one-to-one mappings only: ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic (the
 * letters of the languages crier's users write their names in), so that SQLite (through the
 * functions of store/sqlite_fn.c) and PostgreSQL (through translate() with the sets below, on
 * a "C" collation) fold exactly the same characters whatever the database's locale. Letters
 * outside the table keep their case. Not a full Unicode case mapping (no 'ß' -> "SS").
 */
#ifndef CR_CASEFOLD_H
#define CR_CASEFOLD_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* The code point cp in lower (upper = 0) or upper case; cp itself if the table lacks it. */
uint32_t cr_casefold_cp(uint32_t cp, int upper);
/* Appends s (n bytes) folded to out. Bytes that are not valid UTF-8 are copied unchanged.
 * Returns 0 or out->err. */
int cr_casefold(const char *s, size_t n, int upper, struct cr_buf *out);
/* 1 if folding would change s (so callers can skip a copy). */
int cr_casefold_changes(const char *s, size_t n, int upper);
/* Appends to from and to the non-ASCII characters the fold maps, and their images, as the
 * two equal-length UTF-8 strings PostgreSQL's translate() takes. They hold no quote. */
int cr_casefold_sets(int upper, struct cr_buf *from, struct cr_buf *to);

#endif
