/*
 * err.h - crier's one error vocabulary and the detail struct that says where
 *
 * Functions return 0 on success or a negative CR_E* code. An optional struct cr_err
 * out-parameter receives a message (lower case, problem first, then place and hint) and,
 * for errors in the user's text, a 1-based line and column. The first error set wins.
 */
#ifndef CR_ERR_H
#define CR_ERR_H

#include <stddef.h>

#define CR_ERR_MAP(XX)                                                  \
    XX(NOMEM, "out of memory")                                          \
    XX(TOOBIG, "input exceeds its configured limit")                    \
    XX(SYNTAX, "syntax error")                                          \
    XX(NOTFOUND, "no such object")                                      \
    XX(EXISTS, "object already exists")                                 \
    XX(STATE, "not allowed in the object's current state")              \
    XX(AGAIN, "incomplete input; call again with more")                 \
    XX(PROTO, "peer broke the protocol")                                \
    XX(IO, "input/output error")                                        \
    XX(INVAL, "invalid argument")                                       \
    XX(STORE, "database error")                                         \
    XX(BUSY, "resource busy")                                           \
    XX(UNSUPPORTED, "not supported")                                    \
    XX(PERM, "permission denied")

enum cr_errcode {
    CR_OK = 0,
#define XX(name, text) CR_E##name,
    CR__EFIRST = -100,
    CR_ERR_MAP(XX)
#undef XX
};

struct cr_err {
    int code;      /* 0 or a negative CR_E* */
    int line, col; /* 1-based position in the user's text, 0 if none */
    char msg[512];
};

#define CR_ERR_INIT {0, 0, 0, {0}}

#if defined(__GNUC__)
#define CR_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define CR_WARN_UNUSED __attribute__((warn_unused_result))
#define CR_NORETURN __attribute__((noreturn))
#else
#define CR_PRINTF(fmt, args)
#define CR_WARN_UNUSED
#define CR_NORETURN
#endif

const char *cr_strerror(int code);
const char *cr_errname(int code);

/* Sets err (if not NULL and not already set) and returns code, so callers can write
 * `return cr_err_set(err, CR_EINVAL, "...")`. */
int cr_err_set(struct cr_err *err, int code, const char *fmt, ...) CR_PRINTF(3, 4);
/* As cr_err_set, with a position in the user's text. */
int cr_err_at(struct cr_err *err, int code, int line, int col, const char *fmt, ...)
    CR_PRINTF(5, 6);
/* Prefixes an already-set message with context ("while importing line 3: ..."). */
void cr_err_prefix(struct cr_err *err, const char *fmt, ...) CR_PRINTF(2, 3);
void cr_err_clear(struct cr_err *err);
/* The message if set, else the generic text for the code. */
const char *cr_err_msg(const struct cr_err *err);

CR_NORETURN void cr_bug(const char *file, int line, const char *fmt, ...) CR_PRINTF(3, 4);
#define CR_BUG(...) cr_bug(__FILE__, __LINE__, __VA_ARGS__)

#endif
