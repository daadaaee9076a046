/*
 * program.c - the compiled program: compile, free, and the messages that say where
 *
 * A program is one arena (nodes, expressions and a copy of every source, so text nodes are
 * views) plus the slot and snippet tables. Once cr_template_compile() returns, nothing in it
 * changes, which is what lets threads share it.
 * Not here: parsing (parse.c), rendering (render.c).
 */
#include "template/template_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

int cr__terrf(struct cr_err *err, int code, const char *file, int line, int col,
             const char *hint, const char *fmt, ...)
{
    char what[300], where[160];
    va_list ap;
    if (!err || err->code)
        return code;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (file)
        snprintf(where, sizeof where, " in snippet '%.60s' at line %d, column %d", file, line, col);
    else
        snprintf(where, sizeof where, " at line %d, column %d", line, col);
    if (hint)
        return cr_err_at(err, code, line, col, "%s%s (%s)", what, where, hint);
    return cr_err_at(err, code, line, col, "%s%s", what, where);
}

int cr_template_compile(const char *src, size_t len, const struct cr_template_opts *opts,
                        struct cr_template **out, struct cr_err *err)
{
    static const struct cr_template_opts defaults;
    struct cr_template *t;
    size_t max_source;
    char *copy;
    int rc;
    *out = NULL;
    if (!opts)
        opts = &defaults;
    max_source = opts->max_source ? opts->max_source : T_DEFAULT_MAX_SOURCE;
    if (len > max_source)
        return cr_err_set(err, CR_ETOOBIG, "template exceeds %zu bytes", max_source);
    t = cr_xcalloc(1, sizeof *t);
    cr__tarena_init(&t->ar, 0);
    t->strict = !!opts->strict;
    t->clock = opts->clock;
    t->max_depth = opts->max_depth ? opts->max_depth : T_DEFAULT_MAX_DEPTH;
    t->max_steps = opts->max_steps ? opts->max_steps : T_DEFAULT_MAX_STEPS;
    t->max_scratch = opts->max_scratch ? opts->max_scratch : T_DEFAULT_MAX_SCRATCH;
    copy = cr__tarena_dup(&t->ar, src, len);
    rc = cr__tparse(t, copy, len, opts, err);
    if (rc) {
        if (err && !err->code)
            cr_err_set(err, rc, "%s", cr_strerror(rc));
        cr_template_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void cr_template_free(struct cr_template *t)
{
    if (!t)
        return;
    free(t->names);
    free(t->snippets);
    cr__tarena_release(&t->ar);
    free(t);
}

int cr_template_uses_clock(const struct cr_template *t)
{
    return t->uses_clock;
}
