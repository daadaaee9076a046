/*
 * err.c - error codes, their names and texts, and the detail struct helpers
 */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cr_strerror(int code)
{
    switch (code) {
    case CR_OK:
        return "success";
#define XX(name, text) \
    case CR_E##name:   \
        return text;
        CR_ERR_MAP(XX)
#undef XX
    }
    return "unknown error";
}

const char *cr_errname(int code)
{
    switch (code) {
    case CR_OK:
        return "OK";
#define XX(name, text) \
    case CR_E##name:   \
        return #name;
        CR_ERR_MAP(XX)
#undef XX
    }
    return "UNKNOWN";
}

static void err_vset(struct cr_err *err, int code, int line, int col, const char *fmt,
                     va_list ap) CR_PRINTF(5, 0);
static void err_vset(struct cr_err *err, int code, int line, int col, const char *fmt,
                     va_list ap)
{
    if (!err || err->code)
        return;
    err->code = code;
    err->line = line;
    err->col = col;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

int cr_err_set(struct cr_err *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(err, code, 0, 0, fmt, ap);
    va_end(ap);
    return code;
}

int cr_err_at(struct cr_err *err, int code, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(err, code, line, col, fmt, ap);
    va_end(ap);
    return code;
}

void cr_err_prefix(struct cr_err *err, const char *fmt, ...)
{
    char pre[256], old[sizeof err->msg];
    va_list ap;
    if (!err || !err->code)
        return;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    {
        /* Keep the prefix whole and cut the old message if both do not fit. */
        size_t plen = strlen(pre), olen = strlen(old);
        if (plen >= sizeof err->msg)
            plen = sizeof err->msg - 1;
        if (olen > sizeof err->msg - 1 - plen)
            olen = sizeof err->msg - 1 - plen;
        memcpy(err->msg, pre, plen);
        memcpy(err->msg + plen, old, olen);
        err->msg[plen + olen] = '\0';
    }
}

void cr_err_clear(struct cr_err *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

const char *cr_err_msg(const struct cr_err *err)
{
    if (!err)
        return "";
    return err->msg[0] ? err->msg : cr_strerror(err->code);
}

void cr_bug(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "BUG: %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}
