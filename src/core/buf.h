/*
 * buf.h - growable byte buffers with a size limit and a sticky error, and borrowed views
 *
 * A struct cr_buf is owned by its caller: CR_BUF_INIT(max) or cr_buf_init() needs no
 * allocation, cr_buf_release() frees and re-initialises, cr_buf_detach() hands the bytes
 * over (the caller free()s them). data is never NULL and always NUL-terminated.
 * Appends past max set err to CR_ETOOBIG; once err is set, later appends do nothing, so a
 * writer can append many pieces and check err once.
 */
#ifndef CR_BUF_H
#define CR_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

extern char cr_buf_empty_[1];

struct cr_buf {
    char *data;  /* public, read-only: never NULL, NUL-terminated */
    size_t len;  /* public, read-only: bytes used, not counting the NUL */
    size_t cap;  /* private */
    size_t max;  /* appends past this fail with CR_ETOOBIG; 0 = SIZE_MAX */
    int err;     /* sticky: first failure */
};
#define CR_BUF_INIT(limit) {cr_buf_empty_, 0, 0, (limit), 0}

/* A borrowed view: no NUL, does not own ptr. */
struct cr_str {
    const char *ptr;
    size_t len;
};
#define CR_STR(lit) ((struct cr_str){(lit), sizeof(lit) - 1})

void cr_buf_init(struct cr_buf *b, size_t max);
void cr_buf_release(struct cr_buf *b);
/* Empties the buffer, keeping its memory and limit; clears err. */
void cr_buf_reset(struct cr_buf *b);
/* Returns the bytes (malloc'd, NUL-terminated) and re-initialises b; NULL if b->err. */
char *cr_buf_detach(struct cr_buf *b, size_t *len);
/* Makes room for n more bytes; returns 0 or CR_ETOOBIG. */
int cr_buf_grow(struct cr_buf *b, size_t n);
int cr_buf_append(struct cr_buf *b, const void *p, size_t n);
int cr_buf_puts(struct cr_buf *b, const char *s);
int cr_buf_putc(struct cr_buf *b, char c);
int cr_buf_printf(struct cr_buf *b, const char *fmt, ...) CR_PRINTF(2, 3);
/* Appends b's bytes to the end of the file fd and syncs them to disk (fdatasync). On failure
 * the file is cut back to its length before, so writing the same bytes again later does not
 * leave them twice; err names path. Returns 0 or CR_EIO. */
int cr_buf_append_synced(const struct cr_buf *b, int fd, const char *path, struct cr_err *err);
int cr_buf_vprintf(struct cr_buf *b, const char *fmt, va_list ap) CR_PRINTF(2, 0);
/* Shortens to len (<= current length). */
void cr_buf_truncate(struct cr_buf *b, size_t len);

int cr_str_eq(struct cr_str a, const char *s);
int cr_str_ieq(struct cr_str a, const char *s);

#endif
