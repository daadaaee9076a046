/*
 * args.c - taking options out of a command's arguments, and shared CLI plumbing
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/clock_store.h"
#include "store/migrate.h"

static void take(struct cli_args *a, int i, int n)
{
    memmove(&a->argv[i], &a->argv[i + n], (size_t)(a->argc - i - n) * sizeof *a->argv);
    a->argc -= n;
}

int cli_flag(struct cli_args *a, const char *name)
{
    for (int i = 0; i < a->argc; i++) {
        if (strcmp(a->argv[i], "--") == 0)
            break;
        if (strcmp(a->argv[i], name) == 0) {
            take(a, i, 1);
            return 1;
        }
    }
    return 0;
}

int cli_opt(struct cli_args *a, const char *name, const char **value)
{
    size_t n = strlen(name);
    for (int i = 0; i < a->argc; i++) {
        if (strcmp(a->argv[i], "--") == 0)
            break;
        if (strncmp(a->argv[i], name, n) == 0 && a->argv[i][n] == '=') {
            *value = a->argv[i] + n + 1;
            take(a, i, 1);
            return 1;
        }
        if (strcmp(a->argv[i], name) == 0) {
            if (i + 1 >= a->argc) {
                cli_error("option %s needs a value", name);
                return -1;
            }
            *value = a->argv[i + 1];
            take(a, i, 2);
            return 1;
        }
    }
    return 0;
}

int cli_no_more_options(struct cli_args *a)
{
    for (int i = 0; i < a->argc; i++) {
        if (strcmp(a->argv[i], "--") == 0) {
            take(a, i, 1);
            return 0;
        }
        if (a->argv[i][0] == '-' && a->argv[i][1] == '-' && a->argv[i][2]) {
            cli_error("unknown option '%s'", a->argv[i]);
            return -1;
        }
    }
    return 0;
}

const char *cli_next(struct cli_args *a)
{
    const char *v;
    if (a->argc == 0)
        return NULL;
    v = a->argv[0];
    take(a, 0, 1);
    return v;
}

int cli_expect(struct cli_args *a, int n, const char *usage)
{
    if (cli_no_more_options(a))
        return -1;
    if (a->argc != n) {
        if (a->argc > n)
            cli_error("unexpected argument '%s'", a->argv[n]);
        fprintf(stderr, "usage: %s\n", usage);
        return -1;
    }
    return 0;
}

int cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("crier: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_FAIL;
}

int cli_error_err(const struct cr_err *err)
{
    if (err->line)
        return cli_error("%d:%d: %s", err->line, err->col, cr_err_msg(err));
    return cli_error("%s", cr_err_msg(err));
}

int cli_usage(const char *usage)
{
    fprintf(stderr, "usage: %s\n", usage);
    return CLI_FAIL;
}

int cli_open_store(struct cli *c, int for_init)
{
    struct cr_err err = CR_ERR_INIT;
    if (cr_store_open(c->db_url, &c->store, &err))
        return cli_error_err(&err);
    if (!for_init && cr_store_require_current(c->store, &err)) {
        cli_close_store(c);
        return cli_error_err(&err);
    }
    cr_store_clock_init(&c->clock, c->store);
    return 0;
}

void cli_close_store(struct cli *c)
{
    cr_store_close(c->store);
    c->store = NULL;
}

void cli_print_json(json_t *j)
{
    json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
    putchar('\n');
}

void cli_print_id(int64_t id, int as_json)
{
    printf(as_json ? "{\"id\":%lld}\n" : "%lld\n", (long long)id);
}

int cli_id_arg(struct cli_args *a, const char *usage, const char *what, int64_t *id)
{
    char *end;
    if (cli_no_more_options(a) || cli_expect(a, 1, usage))
        return CLI_FAIL;
    const char *s = cli_next(a);
    long long v = strtoll(s, &end, 10);
    if (*end || v <= 0)
        return cli_error("%s is a positive number, not '%s'", what, s);
    *id = v;
    return CLI_OK;
}

int cli_read_file(const char *path, struct cr_buf *out)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char chunk[65536];
    size_t n;
    if (!f)
        return cli_error("cannot open %s: %s", path, strerror(errno));
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        cr_buf_append(out, chunk, n);
    int bad = ferror(f);
    if (f != stdin)
        fclose(f);
    if (bad)
        return cli_error("cannot read %s", path);
    if (out->err)
        return cli_error("%s: larger than %zu bytes", path, out->max);
    return 0;
}

int cli_int_opt(struct cli_args *a, const char *name, long lo, long hi, long *out)
{
    const char *v;
    char *end;
    int r = cli_opt(a, name, &v);
    if (r <= 0)
        return r;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi)
        return cli_error("%s takes a number from %ld to %ld, not '%s'", name, lo, hi, v), -1;
    *out = n;
    return 1;
}
