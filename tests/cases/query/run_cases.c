/*
 * run_cases.c - runs a file of filter language golden cases (format: README.md here)
 *
 * Compiles each block's filter with a fixed catalogue and clock, and compares the SQLite and
 * PostgreSQL conditions with their parameters, or the error message, with the block's text.
 * Exit status 0 when every block matches; each mismatch is printed with what was expected.
 *
 * With --markdown FILE.md it checks a document's examples instead: each ```filter block (its
 * info string may add "subscription" or "workflow") must compile on both dialects, or, when a
 * ```error block follows it, fail with exactly that message on both.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/mem.h"
#include "query/query.h"

static const struct {
    int subscription;
    const char *name;
    enum cr_coltype type;
} columns[] = {
    {0, "id", CR_COL_INTEGER},
    {0, "external_id", CR_COL_TEXT},
    {0, "email", CR_COL_TEXT},
    {0, "phone", CR_COL_TEXT},
    {0, "first_name", CR_COL_TEXT},
    {0, "last_name", CR_COL_TEXT},
    {0, "tier", CR_COL_TEXT},
    {0, "country", CR_COL_TEXT},
    {0, "language", CR_COL_TEXT},
    {0, "birth_date", CR_COL_DATE},
    {0, "created_at", CR_COL_TIMESTAMP},
    {0, "updated_at", CR_COL_TIMESTAMP},
    {0, "email_optout", CR_COL_BOOLEAN},
    {0, "sms_optout", CR_COL_BOOLEAN},
    {0, "push_optout", CR_COL_BOOLEAN},
    {0, "tracking_consent", CR_COL_BOOLEAN},
    {0, "loyalty_points", CR_COL_INTEGER},
    {0, "score", CR_COL_REAL},
    {0, "vip_since", CR_COL_DATE},
    {0, "last_login", CR_COL_TIMESTAMP},
    {0, "newsletter", CR_COL_BOOLEAN},
    {0, "nickname", CR_COL_TEXT},
    {1, "id", CR_COL_INTEGER},
    {1, "profile_id", CR_COL_INTEGER},
    {1, "app", CR_COL_TEXT},
    {1, "platform", CR_COL_TEXT},
    {1, "token", CR_COL_TEXT},
    {1, "active", CR_COL_BOOLEAN},
    {1, "created_at", CR_COL_TIMESTAMP},
    {1, "updated_at", CR_COL_TIMESTAMP},
    {1, "app_version", CR_COL_TEXT},
};
#define NCOLUMNS (sizeof columns / sizeof *columns)

static struct cr_column cols[NCOLUMNS];
static struct cr_schema prof, sub;

static void catalog_init(void)
{
    size_t np = 0;
    for (size_t i = 0; i < NCOLUMNS; i++) {
        cols[i].name = (char *)columns[i].name;
        cols[i].type = columns[i].type;
        cols[i].builtin = 1;
        np += !columns[i].subscription;
    }
    prof.dimension = (char *)"profile";
    prof.cols = cols;
    prof.ncols = np;
    sub.dimension = (char *)"subscription";
    sub.cols = cols + np;
    sub.ncols = NCOLUMNS - np;
}

static int workflow_delivery(void *data, const char *name, int64_t *id, struct cr_err *err)
{
    (void)data;
    (void)err;
    if (strcmp(name, "offer") == 0)
        *id = 17;
    else if (strcmp(name, "nudge") == 0)
        *id = 18;
    else
        return 0;
    return 1;
}

struct block {
    int line;
    char *title;
    struct cr_buf filter, options, sqlite, postgres, error;
    int has_sqlite, has_postgres, has_error;
};

/* Drops trailing newlines. */
static void trim(struct cr_buf *b)
{
    while (b->len && b->data[b->len - 1] == '\n')
        cr_buf_truncate(b, b->len - 1);
}

/* What src gives on dialect d: the described condition, or "!" and the error. */
static void run(const struct block *bl, enum cr_dialect d, cr_time_t now, struct cr_buf *out)
{
    struct cr_query_catalog cat = {d, &prof, &sub};
    struct cr_query_opts o = {0};
    struct cr_query q = CR_QUERY_INIT;
    struct cr_err err = CR_ERR_INIT;
    struct cr_clock clock;
    cr_clock_fixed_init(&clock, now);
    o.clock = &clock;
    if (strstr(bl->options.data, "dimension subscription"))
        o.dimension = CR_QUERY_SUBSCRIPTION;
    if (strstr(bl->options.data, "workflow"))
        o.delivery = workflow_delivery;
    if (cr_query_compile(&cat, bl->filter.data, bl->filter.len, &o, &q, &err)) {
        cr_buf_putc(out, '!');
        cr_query_format_error(bl->filter.data, bl->filter.len, &err, out);
        return;
    }
    cr_query_describe(&q, now, out);
    cr_query_release(&q);
}

static int check(const char *file, const struct block *bl, cr_time_t now, int print)
{
    struct cr_buf got[2] = {CR_BUF_INIT(0), CR_BUF_INIT(0)};
    int bad = 0;
    for (int d = 0; d < 2; d++)
        run(bl, (enum cr_dialect)d, now, &got[d]);
    if (print) {
        printf("=== %s\n%s\n", bl->title, bl->filter.data);
        if (bl->options.len)
            printf("--- options\n%s\n", bl->options.data);
        if (got[0].data[0] == '!')
            printf("--- error\n%s\n\n", got[0].data + 1);
        else
            printf("--- sqlite\n%s\n--- postgres\n%s\n\n", got[0].data, got[1].data);
    } else if (bl->has_error) {
        for (int d = 0; d < 2; d++)
            if (got[d].data[0] != '!' || strcmp(got[d].data + 1, bl->error.data) != 0) {
                fprintf(stderr, "%s:%d: %s (%s)\n--- expected error\n%s\n--- got\n%s\n\n", file,
                        bl->line, bl->title, d ? "postgres" : "sqlite", bl->error.data,
                        got[d].data);
                bad = 1;
            }
    } else {
        const struct cr_buf *want[2] = {&bl->sqlite, &bl->postgres};
        int has[2] = {bl->has_sqlite, bl->has_postgres};
        if (!has[0] && !has[1]) {
            fprintf(stderr, "%s:%d: %s: no expected section\n", file, bl->line, bl->title);
            bad = 1;
        }
        for (int d = 0; d < 2; d++)
            if (has[d] && strcmp(got[d].data, want[d]->data) != 0) {
                fprintf(stderr, "%s:%d: %s (%s)\n--- expected\n%s\n--- got\n%s\n\n", file, bl->line,
                        bl->title, d ? "postgres" : "sqlite", want[d]->data, got[d].data);
                bad = 1;
            }
    }
    cr_buf_release(&got[0]);
    cr_buf_release(&got[1]);
    return bad;
}

static void block_init(struct block *bl, int line, const char *title)
{
    memset(bl, 0, sizeof *bl);
    bl->line = line;
    bl->title = cr_xstrdup(title);
    cr_buf_init(&bl->filter, 0);
    cr_buf_init(&bl->options, 0);
    cr_buf_init(&bl->sqlite, 0);
    cr_buf_init(&bl->postgres, 0);
    cr_buf_init(&bl->error, 0);
}

static void block_release(struct block *bl)
{
    free(bl->title);
    cr_buf_release(&bl->filter);
    cr_buf_release(&bl->options);
    cr_buf_release(&bl->sqlite);
    cr_buf_release(&bl->postgres);
    cr_buf_release(&bl->error);
}

/* The pending ```filter example, checked when the next fence shows whether an ```error
 * block goes with it. */
static int markdown_check(const char *file, struct block *bl, int *pending, cr_time_t now)
{
    int bad = 0;
    if (!*pending)
        return 0;
    trim(&bl->filter);
    trim(&bl->error);
    if (bl->has_error) {
        bad = check(file, bl, now, 0);
    } else {
        for (int d = 0; d < 2; d++) {
            struct cr_buf got = CR_BUF_INIT(0);
            run(bl, (enum cr_dialect)d, now, &got);
            if (got.data[0] == '!') {
                fprintf(stderr, "%s:%d: example does not compile (%s):\n%s\n%s\n\n", file, bl->line,
                        d ? "postgres" : "sqlite", bl->filter.data, got.data + 1);
                bad = 1;
            }
            cr_buf_release(&got);
        }
    }
    block_release(bl);
    *pending = 0;
    return bad;
}

static int run_markdown(const char *file, cr_time_t now)
{
    FILE *f = fopen(file, "r");
    char line[8192];
    struct block bl;
    struct cr_buf *section = NULL;
    int lineno = 0, pending = 0, failures = 0, examples = 0;
    if (!f) {
        perror(file);
        return 2;
    }
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (strncmp(line, "```", 3) != 0) {
            if (section)
                cr_buf_puts(section, line);
            continue;
        }
        if (section) { /* a closing fence */
            if (section == &bl.error)
                failures += markdown_check(file, &bl, &pending, now);
            section = NULL;
            continue;
        }
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line + 3, "filter", 6) == 0) {
            failures += markdown_check(file, &bl, &pending, now);
            block_init(&bl, lineno, "example");
            if (strstr(line, "subscription"))
                cr_buf_puts(&bl.options, "dimension subscription ");
            if (strstr(line, "workflow"))
                cr_buf_puts(&bl.options, "workflow");
            pending = 1;
            examples++;
            section = &bl.filter;
        } else if (strcmp(line + 3, "error") == 0 && pending) {
            bl.has_error = 1;
            section = &bl.error;
        } else {
            failures += markdown_check(file, &bl, &pending, now);
            section = NULL;
            /* another language's block: skip to its closing fence */
            while (fgets(line, sizeof line, f)) {
                lineno++;
                if (strncmp(line, "```", 3) == 0)
                    break;
            }
        }
    }
    failures += markdown_check(file, &bl, &pending, now);
    fclose(f);
    printf("%s: %d examples, %d failed\n", file, examples, failures);
    return failures || !examples ? 1 : 0;
}

int main(int argc, char **argv)
{
    int print = argc == 3 && strcmp(argv[1], "--print") == 0;
    int markdown = argc == 3 && strcmp(argv[1], "--markdown") == 0;
    const char *file = argv[argc - 1];
    struct block bl;
    struct cr_buf *section = NULL;
    char line[8192];
    int lineno = 0, open = 0, failures = 0, blocks = 0;
    cr_time_t now;
    FILE *f;
    if (argc != 2 && !print && !markdown) {
        fprintf(stderr, "usage: query_cases [--print] FILE.case | --markdown FILE.md\n");
        return 2;
    }
    if (markdown) {
        catalog_init();
        if (cr_time_parse("2026-03-15T12:00:00Z", 20, &now, NULL))
            return 2;
        return run_markdown(file, now);
    }
    f = fopen(file, "r");
    if (!f) {
        perror(file);
        return 2;
    }
    catalog_init();
    if (cr_time_parse("2026-03-15T12:00:00Z", 20, &now, NULL))
        return 2;
    for (;;) {
        int eof = !fgets(line, sizeof line, f);
        lineno++;
        if (eof || strncmp(line, "=== ", 4) == 0) {
            if (open) {
                trim(&bl.filter);
                trim(&bl.options);
                trim(&bl.sqlite);
                trim(&bl.postgres);
                trim(&bl.error);
                failures += check(file, &bl, now, print);
                blocks++;
                block_release(&bl);
                open = 0;
            }
            if (eof)
                break;
            line[strcspn(line, "\n")] = '\0';
            block_init(&bl, lineno, line + 4);
            section = &bl.filter;
            open = 1;
            continue;
        }
        if (!open)
            continue; /* comments before the first block */
        if (strncmp(line, "--- ", 4) == 0) {
            line[strcspn(line, "\n")] = '\0';
            if (strcmp(line + 4, "options") == 0) {
                section = &bl.options;
            } else if (strcmp(line + 4, "sqlite") == 0) {
                section = &bl.sqlite;
                bl.has_sqlite = 1;
            } else if (strcmp(line + 4, "postgres") == 0) {
                section = &bl.postgres;
                bl.has_postgres = 1;
            } else if (strcmp(line + 4, "error") == 0) {
                section = &bl.error;
                bl.has_error = 1;
            } else {
                fprintf(stderr, "%s:%d: unknown section '%s'\n", file, lineno, line + 4);
                failures++;
                section = NULL;
            }
            continue;
        }
        if (section)
            cr_buf_puts(section, line);
    }
    fclose(f);
    if (!print)
        printf("%s: %d cases, %d failed\n", file, blocks, failures);
    return failures || !blocks ? 1 : 0;
}
