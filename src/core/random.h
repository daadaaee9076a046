/*
 * random.h - bytes from the kernel's CSPRNG, for secrets and tokens
 */
#ifndef CR_RANDOM_H
#define CR_RANDOM_H

#include <stddef.h>

/* Fills p with n random bytes; returns 0 or CR_EIO. */
int cr_random_bytes(void *p, size_t n);
/* Writes 2n lower-case hex digits and a NUL into out (2n+1 bytes) from n random bytes. */
int cr_random_hex(char *out, size_t n);

#endif
