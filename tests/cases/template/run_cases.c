/*
 * run_cases.c - runs the golden template cases of one .case file (format: README.md)
 *
 * For each case: compile the template with the case's options and snippets, render it
 * with the JSON context on a fixed clock, and compare the output (or the error message,
 * "!error ...") byte for byte. Prints each failure with both texts, then
 * "N passed, M failed"; exits 1 if any failed.
 *
 * With --markdown FILE.md it runs a document's examples instead: each ```liquid block is a
 * template, a ```json block before it the context, the ```text block after it the output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/datetime.h"
#include "template/template.h"

struct snippet {
    char *name;
    char *src;
};

struct kase {
    char *name;
    int line;
    struct cr_buf tmpl, ctx, out, opts;
    struct snippet snips[16];
    int nsnips;
};

static int load_snippet(void *data, const char *name, struct cr_buf *out, struct cr_err *err)
{
    struct kase *k = data;
    (void)err;
    for (int i = 0; i < k->nsnips; i++)
        if (strcmp(k->snips[i].name, name) == 0)
            return cr_buf_puts(out, k->snips[i].src);
    return CR_ENOTFOUND;
}

static void trim_section(struct cr_buf *b, int raw)
{
    /* A raw section ("--- output!") is every byte up to the next header. Otherwise the
     * newline ending the last line goes, and so do blank lines that separate cases. */
    if (raw)
        return;
    while (b->len && b->data[b->len - 1] == '\n')
        cr_buf_truncate(b, b->len - 1);
}

static int run(struct kase *k, const char *file)
{
    struct cr_template_opts opts;
    struct cr_template *t = NULL;
    struct cr_tvars *vars = cr_tvars_new();
    struct cr_buf got = CR_BUF_INIT(1 << 20);
    struct cr_err err = CR_ERR_INIT;
    struct cr_clock clock;
    json_t *ctx = NULL;
    cr_time_t now;
    int ok;
    const char *o;

    cr_time_parse("2024-03-05T06:07:08Z", 20, &now, NULL);
    memset(&opts, 0, sizeof opts);
    opts.load_snippet = load_snippet;
    opts.snippet_data = k;
    opts.clock = &clock;
    for (o = k->opts.data; *o;) {
        const char *eol = strchr(o, '\n');
        size_t n = eol ? (size_t)(eol - o) : strlen(o);
        if (n == 6 && memcmp(o, "strict", 6) == 0)
            opts.strict = 1;
        else if (n > 4 && memcmp(o, "now ", 4) == 0)
            cr_time_parse(o + 4, n - 4, &now, NULL);
        else if (n > 10 && memcmp(o, "max_depth ", 10) == 0)
            opts.max_depth = (unsigned)strtoul(o + 10, NULL, 10);
        else if (n > 10 && memcmp(o, "max_steps ", 10) == 0)
            opts.max_steps = strtoull(o + 10, NULL, 10);
        else if (n > 11 && memcmp(o, "max_output ", 11) == 0)
            got.max = strtoul(o + 11, NULL, 10);
        else if (n > 12 && memcmp(o, "oracle-skip ", 12) == 0)
            ; /* for oracle.rb: a documented difference from Ruby Liquid */
        else if (n) {
            fprintf(stderr, "%s:%d: unknown option '%.*s'\n", file, k->line, (int)n, o);
            return 0;
        }
        o += n + (eol ? 1 : 0);
    }
    cr_clock_fixed_init(&clock, now);
    if (k->ctx.len) {
        json_error_t jerr;
        ctx = json_loadb(k->ctx.data, k->ctx.len, 0, &jerr);
        if (!ctx || !json_is_object(ctx)) {
            fprintf(stderr, "%s:%d: case '%s': bad context: %s\n", file, k->line, k->name,
                    ctx ? "not an object" : jerr.text);
            json_decref(ctx);
            cr_tvars_free(vars);
            return 0;
        }
        cr_tvars_set_json_object(vars, ctx);
    }
    if (cr_template_compile(k->tmpl.data, k->tmpl.len, &opts, &t, &err) == 0)
        (void)!cr_template_render(t, vars, &got, &err);
    if (err.code) {
        cr_buf_reset(&got);
        cr_buf_printf(&got, "!error %s", cr_err_msg(&err));
    }
    ok = got.len == k->out.len && memcmp(got.data, k->out.data, got.len) == 0;
    if (!ok)
        fprintf(stderr,
                "%s:%d: FAIL %s\n--- template\n%s\n--- expected\n%s\n--- got\n%s\n---\n\n",
                file, k->line, k->name, k->tmpl.data, k->out.data, got.data);
    cr_template_free(t);
    cr_tvars_free(vars);
    json_decref(ctx);
    cr_buf_release(&got);
    return ok;
}

static void kase_reset(struct kase *k)
{
    free(k->name);
    k->name = NULL;
    cr_buf_release(&k->tmpl);
    cr_buf_release(&k->ctx);
    cr_buf_release(&k->out);
    cr_buf_release(&k->opts);
    for (int i = 0; i < k->nsnips; i++) {
        free(k->snips[i].name);
        free(k->snips[i].src);
    }
    k->nsnips = 0;
}

static int run_markdown(const char *path)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    struct kase k;
    struct cr_buf *sec = NULL;
    int lineno = 0, passed = 0, failed = 0, examples = 0;
    if (!f) {
        perror(path);
        return 2;
    }
    memset(&k, 0, sizeof k);
    kase_reset(&k);
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (strncmp(line, "```", 3) == 0) {
            if (sec) { /* closing fence */
                trim_section(sec, 0);
                if (sec == &k.out) {
                    if (run(&k, path))
                        passed++;
                    else
                        failed++;
                    kase_reset(&k);
                }
                sec = NULL;
            } else if (strcmp(line, "```json\n") == 0) {
                cr_buf_reset(&k.ctx);
                sec = &k.ctx;
            } else if (strcmp(line, "```liquid\n") == 0) {
                free(k.name);
                k.name = malloc(32);
                snprintf(k.name, 32, "example at line %d", lineno);
                k.line = lineno;
                cr_buf_reset(&k.tmpl);
                sec = &k.tmpl;
                examples++;
            } else if (strcmp(line, "```text\n") == 0 && k.name) {
                cr_buf_reset(&k.opts);
                sec = &k.out;
            } else {
                sec = &k.opts; /* another language: read and dropped */
                cr_buf_reset(&k.opts);
            }
            continue;
        }
        if (sec && sec != &k.opts)
            cr_buf_append(sec, line, (size_t)len);
    }
    free(line);
    fclose(f);
    kase_reset(&k);
    printf("%d passed, %d failed\n", passed, failed);
    if (passed + failed != examples)
        fprintf(stderr, "%s: %d liquid examples without a text block\n", path,
                examples - passed - failed);
    return failed || !passed || passed + failed != examples ? 1 : 0;
}

int main(int argc, char **argv)
{
    FILE *f;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    struct kase k;
    struct cr_buf *sec = NULL, snip = CR_BUF_INIT(0);
    char *snipname = NULL;
    int raw = 0, passed = 0, failed = 0, lineno = 0, have = 0;

    if (argc == 3 && strcmp(argv[1], "--markdown") == 0)
        return run_markdown(argv[2]);
    if (argc != 2) {
        fprintf(stderr, "usage: template_cases FILE.case | --markdown FILE.md\n");
        return 2;
    }
    f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    memset(&k, 0, sizeof k);
    for (;;) {
        len = getline(&line, &cap, f);
        lineno++;
        if (len < 0 || strncmp(line, "=== ", 4) == 0 || strncmp(line, "--- ", 4) == 0) {
            /* close the open section */
            if (sec) {
                trim_section(sec, raw);
                if (sec == &snip) {
                    k.snips[k.nsnips].name = snipname;
                    k.snips[k.nsnips].src = strdup(snip.data);
                    k.nsnips++;
                    snipname = NULL;
                    cr_buf_release(&snip);
                }
            }
            sec = NULL;
        }
        if (len < 0 || strncmp(line, "=== ", 4) == 0) {
            if (have) {
                if (run(&k, argv[1]))
                    passed++;
                else
                    failed++;
            }
            kase_reset(&k);
            if (len < 0)
                break;
            line[strcspn(line, "\n")] = '\0';
            k.name = strdup(line + 4);
            k.line = lineno;
            sec = &k.tmpl;
            raw = 0;
            have = 1;
            continue;
        }
        if (strncmp(line, "--- ", 4) == 0) {
            char *h = line + 4;
            h[strcspn(h, "\n")] = '\0';
            raw = h[strlen(h) - 1] == '!';
            if (raw)
                h[strlen(h) - 1] = '\0';
            if (strcmp(h, "template") == 0) {
                sec = &k.tmpl;
                cr_buf_reset(sec);
            } else if (strcmp(h, "context") == 0) {
                sec = &k.ctx;
            } else if (strcmp(h, "output") == 0) {
                sec = &k.out;
            } else if (strcmp(h, "options") == 0) {
                sec = &k.opts;
            } else if (strncmp(h, "snippet ", 8) == 0 && k.nsnips < 16) {
                snipname = strdup(h + 8);
                sec = &snip;
            } else {
                fprintf(stderr, "%s:%d: unknown section '%s'\n", argv[1], lineno, h);
                return 2;
            }
            continue;
        }
        if (sec)
            cr_buf_append(sec, line, (size_t)len);
        else if (line[0] != '#' && line[0] != '\n')
            fprintf(stderr, "%s:%d: text outside a case\n", argv[1], lineno);
    }
    free(line);
    fclose(f);
    printf("%d passed, %d failed\n", passed, failed);
    return failed || !passed ? 1 : 0;
}
