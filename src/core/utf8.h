/*
 * utf8.h - UTF-8 validation (RFC 3629: no overlongs, no surrogates, at most U+10FFFF)
 */
#ifndef CR_UTF8_H
#define CR_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the valid sequence at s (1-4), or 0 if the bytes there are not valid UTF-8. */
size_t cr_utf8_seq_len(const char *s, size_t n);
/* Returns 1 if all n bytes are valid UTF-8; else 0 and the offset of the first bad byte. */
int cr_utf8_valid(const char *s, size_t n, size_t *bad_at);
/* Decodes one valid sequence (as measured by cr_utf8_seq_len); returns the code point. */
uint32_t cr_utf8_decode(const char *s, size_t len);
/* Writes cp as UTF-8 into out (4 bytes room); returns the length. */
size_t cr_utf8_encode(uint32_t cp, char *out);

#endif
