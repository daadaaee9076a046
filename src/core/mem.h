/*
 * mem.h - allocation that aborts on failure
 *
 * Running out of memory is not a user error crier can recover from; the size that failed is
 * printed and the process aborts. Sizes that grow from outside input are bounded elsewhere and
 * fail with CR_ETOOBIG before they get here.
 */
#ifndef CR_MEM_H
#define CR_MEM_H

#include <stddef.h>

void *cr_xmalloc(size_t n);
void *cr_xcalloc(size_t nmemb, size_t size);
void *cr_xrealloc(void *p, size_t n);
char *cr_xstrdup(const char *s);
/* Copies n bytes and appends a NUL. */
char *cr_xmemdupz(const void *p, size_t n);

#endif
