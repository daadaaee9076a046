/*
 * buf.c - growable byte buffers (see buf.h for the contract)
 */
#include "core/buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>

#include "core/mem.h"

char cr_buf_empty_[1];

void cr_buf_init(struct cr_buf *b, size_t max)
{
    b->data = cr_buf_empty_;
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->err = 0;
}

void cr_buf_release(struct cr_buf *b)
{
    if (b->cap)
        free(b->data);
    cr_buf_init(b, b->max);
}

void cr_buf_reset(struct cr_buf *b)
{
    b->len = 0;
    b->err = 0;
    if (b->cap)
        b->data[0] = '\0';
}

char *cr_buf_detach(struct cr_buf *b, size_t *len)
{
    char *p;
    if (b->err) {
        cr_buf_release(b);
        return NULL;
    }
    p = b->cap ? b->data : cr_xstrdup("");
    if (len)
        *len = b->len;
    cr_buf_init(b, b->max);
    return p;
}

int cr_buf_grow(struct cr_buf *b, size_t n)
{
    size_t max = b->max ? b->max : SIZE_MAX - 1;
    size_t need, cap;
    if (b->err)
        return b->err;
    if (n > max || b->len > max - n)
        return b->err = CR_ETOOBIG;
    need = b->len + n + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap < SIZE_MAX / 2 ? cap * 2 : need;
    if (b->cap) {
        b->data = cr_xrealloc(b->data, cap);
    } else {
        b->data = cr_xmalloc(cap);
        b->data[0] = '\0';
    }
    b->cap = cap;
    return 0;
}

int cr_buf_append(struct cr_buf *b, const void *p, size_t n)
{
    if (cr_buf_grow(b, n))
        return b->err;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int cr_buf_puts(struct cr_buf *b, const char *s)
{
    return cr_buf_append(b, s, strlen(s));
}

int cr_buf_putc(struct cr_buf *b, char c)
{
    return cr_buf_append(b, &c, 1);
}

int cr_buf_vprintf(struct cr_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    int n;
    if (b->err)
        return b->err;
    va_copy(cp, ap);
    n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return b->err = CR_EINVAL;
    if (cr_buf_grow(b, (size_t)n))
        return b->err;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int cr_buf_printf(struct cr_buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;
    va_start(ap, fmt);
    rc = cr_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

void cr_buf_truncate(struct cr_buf *b, size_t len)
{
    if (len < b->len) {
        b->len = len;
        b->data[len] = '\0';
    }
}

int cr_str_eq(struct cr_str a, const char *s)
{
    size_t n = strlen(s);
    return a.len == n && memcmp(a.ptr, s, n) == 0;
}

int cr_str_ieq(struct cr_str a, const char *s)
{
    size_t n = strlen(s);
    return a.len == n && strncasecmp(a.ptr, s, n) == 0;
}

int cr_buf_append_synced(const struct cr_buf *b, int fd, const char *path, struct cr_err *err)
{
    size_t off = 0;
    int rc = 0;
    off_t start = lseek(fd, 0, SEEK_END);
    while (off < b->len && !rc) {
        ssize_t w = write(fd, b->data + off, b->len - off);
        if (w < 0 && errno != EINTR)
            rc = cr_err_set(err, CR_EIO, "%s: %s", path, strerror(errno));
        else if (w > 0)
            off += (size_t)w;
    }
    if (!rc && b->len && fdatasync(fd) != 0)
        rc = cr_err_set(err, CR_EIO, "%s: %s", path, strerror(errno));
    if (rc && start >= 0 && ftruncate(fd, start) != 0)
        cr_err_set(err, CR_EIO, "%s: %s; cannot cut back the partial write: %s", path,
                   cr_err_msg(err), strerror(errno));
    return rc;
}
