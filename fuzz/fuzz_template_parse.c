/*
 * fuzz_template_parse.c - the Liquid compiler and renderer on arbitrary bytes, then the
 * link pass on the output. The first byte picks strict or lax mode; the rest is the
 * template. A small fixed context, two snippets and tight limits let the fuzzer reach loops,
 * filters, snippets and every limit quickly.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/clock.h"
#include "fuzz.h"
#include "template/template.h"

static int load(void *data, const char *name, struct cr_buf *out, struct cr_err *err)
{
    (void)data;
    (void)err;
    if (strcmp(name, "a") == 0)
        return cr_buf_puts(out, "[{{ x | upcase }}{% render 'b', x: 1 %}]");
    if (strcmp(name, "b") == 0)
        return cr_buf_puts(out, "{% for i in (1..x) %}{% include 'a' %}{% endfor %}");
    return CR_ENOTFOUND;
}

static int rewrite(void *data, const struct cr_link *l, struct cr_buf *out)
{
    (void)data;
    return cr_buf_printf(out, "https://t/%d", l->id);
}

static int pixel(void *data, struct cr_buf *out)
{
    (void)data;
    return cr_buf_puts(out, "<img src=\"https://t/o\">");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char ctx_text[] =
        "{\"s\": \"Hé <b>x</b> & y\", \"n\": 3, \"f\": 2.5, \"t\": true, \"z\": null,"
        " \"a\": [1, \"two\", [3, 4], {\"k\": \"v\"}], \"h\": {\"k\": \"v\", \"n\": 1},"
        " \"d\": \"2024-03-05 06:07:08\", \"u\": \"https://x.test/?a=1&b=2\"}";
    struct cr_template_opts opts;
    struct cr_template *t = NULL;
    struct cr_tvars *vars;
    struct cr_buf out = CR_BUF_INIT(1 << 16), linked = CR_BUF_INIT(1 << 17);
    struct cr_err err = CR_ERR_INIT;
    struct cr_links links = CR_LINKS_INIT;
    struct cr_link_opts lo = {rewrite, pixel, NULL};
    struct cr_clock clock;
    json_t *ctx;
    if (size == 0)
        return 0;
    memset(&opts, 0, sizeof opts);
    opts.strict = data[0] & 1;
    opts.load_snippet = load;
    opts.max_depth = 40;
    opts.max_steps = 20000;
    opts.max_scratch = 1 << 20;
    cr_clock_fixed_init(&clock, INT64_C(1709618828000000));
    opts.clock = &clock;
    if (cr_template_compile((const char *)data + 1, size - 1, &opts, &t, &err) != 0)
        return 0;
    ctx = json_loads(ctx_text, 0, NULL);
    vars = cr_tvars_new();
    cr_tvars_set_json_object(vars, ctx);
    if (cr_template_render(t, vars, &out, &err) == 0) {
        if (cr_links_html(out.data, out.len, &lo, &linked, &links, &err) == 0)
            cr_links_release(&links);
        cr_buf_reset(&linked);
        if (cr_links_text(out.data, out.len, &lo, &linked, &links, &err) == 0)
            cr_links_release(&links);
        cr_links_release(&links);
    }
    /* Render twice: the second run reuses the scratch of the first. */
    cr_buf_reset(&out);
    cr_err_clear(&err);
    (void)!cr_template_render(t, vars, &out, &err);
    cr_links_release(&links);
    cr_tvars_free(vars);
    json_decref(ctx);
    cr_template_free(t);
    cr_buf_release(&out);
    cr_buf_release(&linked);
    return 0;
}
