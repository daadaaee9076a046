/*
 * test_api.c - the template API as deliveries use it: compile once, bind records, render
 * per recipient (also from several threads), strict errors, limits, the clock, snippet
 * loaders. The language itself is covered by tests/cases/template.
 */
#include "tests.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "store/store.h"
#include "template/template.h"
#include "testdb.h"

/* Internal (value.c): Ruby's Float#to_s. */
size_t cr__tfmt_float(double d, char *out);

/* The shortest digits by brute force: the first precision whose %e round-trips. */
static void shortest(double d, char *out)
{
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    strcpy(out, buf);
}

static void test_float_format(void **state)
{
    static const double fixed[] = {0.1, 29.9, 59.5, 1e15, 1e16, 123456.789, 0.0001, 1e-5,
                                   2.675, 1.005, 5e-324, 1.7976931348623157e308, 0.3,
                                   100.0, 3.3333333333333335, 9007199254740993.0};
    char got[40], want[40];
    unsigned seed = 12345;
    (void)state;
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed + 20000; i++) {
        double d;
        if (i < sizeof fixed / sizeof *fixed) {
            d = fixed[i];
        } else if (i % 2) {
            seed = seed * 1103515245u + 12345u;
            d = (double)(seed % 10000000) / 100.0; /* prices */
        } else {
            uint64_t bits = 0;
            for (int k = 0; k < 4; k++) {
                seed = seed * 1103515245u + 12345u;
                bits = (bits << 16) | ((seed >> 8) & 0xFFFF);
            }
            memcpy(&d, &bits, sizeof d);
            if (d != d || d - d != 0)
                continue; /* NaN, infinities */
        }
        cr__tfmt_float(d, got);
        assert_true(strtod(got, NULL) == d);
        /* same number of significant digits as the brute-force shortest form */
        shortest(d < 0 ? -d : d, want);
        {
            int gd = 0, wd = 0;
            const char *p;
            for (p = got; *p && *p != 'e'; p++)
                gd += *p >= '0' && *p <= '9';
            for (p = want; *p && *p != 'e'; p++)
                wd += *p >= '0' && *p <= '9';
            /* got may add "0." or ".0" zeros; compare without leading/trailing zeros */
            {
                char a[40], b[40];
                int na = 0, nb = 0;
                for (p = got; *p && *p != 'e'; p++)
                    if (*p >= '0' && *p <= '9')
                        a[na++] = *p;
                for (p = want; *p && *p != 'e'; p++)
                    if (*p >= '0' && *p <= '9')
                        b[nb++] = *p;
                while (na > 1 && a[na - 1] == '0')
                    na--;
                while (nb > 1 && b[nb - 1] == '0')
                    nb--;
                {
                    int sa = 0, sb = 0;
                    while (sa < na - 1 && a[sa] == '0')
                        sa++;
                    while (sb < nb - 1 && b[sb] == '0')
                        sb++;
                    if (na - sa != nb - sb || memcmp(a + sa, b + sb, (size_t)(na - sa)) != 0)
                        fail_msg("%.17g printed %s, shortest is %s", d, got, want);
                }
            }
            (void)gd;
            (void)wd;
        }
    }
}

static struct cr_template *compile(const char *src, const struct cr_template_opts *o)
{
    struct cr_template *t = NULL;
    struct cr_err err = CR_ERR_INIT;
    if (cr_template_compile(src, strlen(src), o, &t, &err))
        fail_msg("compile: %s", err.msg);
    return t;
}

static char *render(const struct cr_template *t, struct cr_tvars *v)
{
    struct cr_buf out = CR_BUF_INIT(0);
    struct cr_err err = CR_ERR_INIT;
    if (cr_template_render(t, v, &out, &err))
        fail_msg("render: %s", err.msg);
    return cr_buf_detach(&out, NULL);
}

static void test_compile_render(void **state)
{
    struct cr_template *t = compile("Hi {{ name | upcase }}!", NULL);
    struct cr_tvars *v = cr_tvars_new();
    char *s;
    (void)state;
    cr_tvars_set_str(v, "name", "ada", 3);
    s = render(t, v);
    assert_string_equal(s, "Hi ADA!");
    free(s);
    cr_tvars_set_str(v, "name", NULL, 0); /* nil */
    s = render(t, v);
    assert_string_equal(s, "Hi !");
    free(s);
    cr_tvars_free(v);
    cr_template_free(t);
    cr_template_free(NULL);
}

static void test_compile_error(void **state)
{
    struct cr_template *t = (struct cr_template *)1;
    struct cr_err err = CR_ERR_INIT;
    const char *src = "line\n  {{ a | }}";
    (void)state;
    assert_int_equal(cr_template_compile(src, strlen(src), NULL, &t, &err), CR_ESYNTAX);
    assert_null(t);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.col, 10);
    assert_string_equal(err.msg, "filter name expected at line 2, column 10 (found '}}')");
}

/* The delivery's fast path: a record per dimension, rows swapped per recipient. */
static void test_records(void **state)
{
    static const char *const names[] = {"first_name", "age", "score", "vip", "birth_date"};
    static const enum cr_coltype types[] = {CR_COL_TEXT, CR_COL_INTEGER, CR_COL_REAL,
                                            CR_COL_BOOLEAN, CR_COL_DATE};
    const char *row1[] = {"Ada", "36", "2.5", "t", "1990-02-28"};
    const char *row2[] = {"Bob", NULL, "3", "0", NULL};
    struct cr_trecord *p = cr_trecord_new_names(names, types, 5);
    struct cr_tvars *v = cr_tvars_new();
    json_t *campaign = json_pack("{s:s,s:[s,s]}", "name", "winter", "offers", "A", "B");
    struct cr_template *t =
        compile("{{ profile.first_name }} {{ profile.age | plus: 1 }} {{ profile.score | times: 2 }}"
                " {% if profile.vip %}vip{% else %}std{% endif %}"
                " {{ profile.birth_date | date: '%Y' }} {{ campaign.name }}"
                " {{ campaign.offers | join: '+' }} {{ unsubscribe_url }}",
                NULL);
    char *s;
    (void)state;
    assert_int_equal(cr_trecord_find(p, "vip"), 3);
    assert_int_equal(cr_trecord_find(p, "nope"), -1);
    cr_tvars_set_record(v, "profile", p);
    cr_tvars_set_json(v, "campaign", campaign);
    cr_trecord_set_row(p, row1);
    cr_tvars_set_str(v, "unsubscribe_url", "https://u/1", 11);
    s = render(t, v);
    assert_string_equal(s, "Ada 37 5.0 vip 1990 winter A+B https://u/1");
    free(s);
    cr_trecord_set_row(p, row2);
    cr_tvars_set_str(v, "unsubscribe_url", "https://u/2", 11);
    s = render(t, v);
    assert_string_equal(s, "Bob 1 6.0 std  winter A+B https://u/2");
    free(s);
    /* One column at a time, with lengths (no NUL needed). */
    cr_trecord_set(p, 0, "Carolxxx", 5);
    s = render(t, v);
    assert_string_equal(s, "Carol 1 6.0 std  winter A+B https://u/2");
    free(s);
    cr_tvars_free(v);
    cr_trecord_free(p);
    json_decref(campaign);
    cr_template_free(t);
}

static void test_record_from_catalogue(void **state)
{
    struct cr_column cols[] = {{(char *)"email", CR_COL_TEXT, 1}, {(char *)"n", CR_COL_INTEGER, 0}};
    struct cr_trecord *r = cr_trecord_new(cols, 2);
    struct cr_tvars *v = cr_tvars_new();
    struct cr_template *t = compile("{% for kv in p %}{{ kv[0] }}={{ kv[1] }};{% endfor %}{{ p.size }}", NULL);
    const char *row[] = {"a@x.org", "7"};
    char *s;
    (void)state;
    cr_trecord_set_row(r, row);
    cr_tvars_set_record(v, "p", r);
    s = render(t, v);
    assert_string_equal(s, "email=a@x.org;n=7;2");
    free(s);
    cr_tvars_free(v);
    cr_trecord_free(r);
    cr_template_free(t);
}

static void test_strict(void **state)
{
    struct cr_template_opts o = {.strict = 1};
    struct cr_template *t = compile("Hello\n{{ profile.frist_name }}", &o);
    struct cr_tvars *v = cr_tvars_new();
    json_t *p = json_pack("{s:s}", "first_name", "Ada");
    struct cr_buf out = CR_BUF_INIT(0);
    struct cr_err err = CR_ERR_INIT;
    (void)state;
    cr_tvars_set_json(v, "profile", p);
    assert_int_equal(cr_template_render(t, v, &out, &err), CR_ENOTFOUND);
    assert_string_equal(err.msg, "undefined variable 'profile.frist_name' at line 2, column 4");
    assert_int_equal(err.line, 2);
    assert_int_equal(err.col, 4);
    cr_buf_release(&out);
    cr_tvars_free(v);
    json_decref(p);
    cr_template_free(t);
}

static void test_json_object_vars(void **state)
{
    json_error_t jerr;
    json_t *ctx = json_loads("{\"a\": 1, \"b\": [1, 2], \"c\": {\"d\": \"e\"}}", 0, &jerr);
    struct cr_tvars *v = cr_tvars_new();
    struct cr_template *t = compile("{{ a }}{{ b[1] }}{{ c.d }}", NULL);
    json_t *arr = json_array();
    char *s;
    (void)state;
    assert_int_equal(cr_tvars_set_json_object(v, arr), CR_EINVAL);
    assert_int_equal(cr_tvars_set_json_object(v, ctx), 0);
    s = render(t, v);
    assert_string_equal(s, "12e");
    free(s);
    cr_tvars_clear(v);
    s = render(t, v);
    assert_string_equal(s, "");
    free(s);
    cr_tvars_set_int(v, "a", 9);
    s = render(t, v);
    assert_string_equal(s, "9");
    free(s);
    json_decref(arr);
    json_decref(ctx);
    cr_tvars_free(v);
    cr_template_free(t);
}

static void test_clock(void **state)
{
    struct cr_clock c;
    struct cr_template_opts o = {0};
    struct cr_template *t, *t2;
    struct cr_tvars *v = cr_tvars_new();
    cr_time_t at;
    char *s;
    (void)state;
    assert_int_equal(cr_time_parse("2026-12-01T09:00:00Z", 20, &at, NULL), 0);
    cr_clock_fixed_init(&c, at);
    o.clock = &c;
    t = compile("{{ 'now' | date: '%F %H:%M' }}", &o);
    t2 = compile("{{ 'x' | upcase }}", &o);
    assert_true(cr_template_uses_clock(t));
    assert_false(cr_template_uses_clock(t2));
    s = render(t, v);
    assert_string_equal(s, "2026-12-01 09:00");
    free(s);
    c.fixed += 86400 * CR_USEC_PER_SEC; /* the clock moves; the program reads it per render */
    s = render(t, v);
    assert_string_equal(s, "2026-12-02 09:00");
    free(s);
    cr_tvars_free(v);
    cr_template_free(t);
    cr_template_free(t2);
}

static void test_limits(void **state)
{
    struct cr_template_opts o = {.max_source = 10};
    struct cr_template *t = NULL;
    struct cr_err err = CR_ERR_INIT;
    struct cr_tvars *v = cr_tvars_new();
    struct cr_buf out = CR_BUF_INIT(0);
    (void)state;
    assert_int_equal(cr_template_compile("01234567890", 11, &o, &t, &err), CR_ETOOBIG);
    /* Scratch memory: a loop building a long string. */
    memset(&o, 0, sizeof o);
    o.max_scratch = 1 << 16;
    t = compile("{% assign s = 'x' %}{% for i in (1..40) %}{% assign s = s | append: s %}"
                "{% endfor %}",
                &o);
    cr_err_clear(&err);
    assert_int_equal(cr_template_render(t, v, &out, &err), CR_ETOOBIG);
    cr_template_free(t);
    /* Deep nesting in the source is refused before it can blow the stack. */
    {
        struct cr_buf src = CR_BUF_INIT(0);
        for (int i = 0; i < 5000; i++)
            cr_buf_puts(&src, "{% if true %}");
        cr_err_clear(&err);
        t = NULL;
        assert_int_equal(cr_template_compile(src.data, src.len, NULL, &t, &err), CR_ETOOBIG);
        assert_non_null(strstr(err.msg, "nesting too deep"));
        cr_buf_reset(&src);
        for (int i = 0; i < 5000; i++)
            cr_buf_puts(&src, "{{ (((((((((( }}");
        cr_err_clear(&err);
        assert_int_not_equal(cr_template_compile(src.data, src.len, NULL, &t, &err), 0);
        cr_buf_release(&src);
    }
    cr_buf_release(&out);
    cr_tvars_free(v);
}

/* ------------------------------------------------------------------ threads --- */

struct worker {
    const struct cr_template *t;
    int id;
    int ok;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    struct cr_tvars *v = cr_tvars_new();
    struct cr_buf out = CR_BUF_INIT(0);
    struct cr_err err = CR_ERR_INIT;
    char name[32], want[128];
    w->ok = 1;
    for (int i = 0; i < 2000 && w->ok; i++) {
        snprintf(name, sizeof name, "w%d-%d", w->id, i);
        snprintf(want, sizeof want, "W%d-%d:3:0,1,2", w->id, i);
        cr_tvars_set_str(v, "name", name, strlen(name));
        cr_buf_reset(&out);
        if (cr_template_render(w->t, v, &out, &err) || strcmp(out.data, want) != 0)
            w->ok = 0;
    }
    cr_buf_release(&out);
    cr_tvars_free(v);
    return NULL;
}

static void test_threads(void **state)
{
    struct cr_template *t =
        compile("{{ name | upcase }}:{% assign n = name | size %}{{ 'abc' | size }}:"
                "{% for i in (0..2) %}{{ i }}{% unless forloop.last %},{% endunless %}{% endfor %}",
                NULL);
    pthread_t th[4];
    struct worker w[4];
    (void)state;
    for (int i = 0; i < 4; i++) {
        w[i].t = t;
        w[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_true(w[i].ok);
    }
    cr_template_free(t);
}

/* ----------------------------------------------------------------- snippets --- */

static void test_snippet_dir(void **state)
{
    char dir[] = "/tmp/crier-snippets-XXXXXX", path[256];
    struct cr_template_opts o = {0};
    struct cr_template *t = NULL;
    struct cr_tvars *v = cr_tvars_new();
    struct cr_err err = CR_ERR_INIT;
    struct cr_buf b = CR_BUF_INIT(0);
    FILE *f;
    char *s;
    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/footer.liquid", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("-- {{ who }}", f);
    fclose(f);
    o.load_snippet = cr_snippet_load_dir;
    o.snippet_data = dir;
    t = compile("a {% render 'footer', who: 'me' %}", &o);
    s = render(t, v);
    assert_string_equal(s, "a -- me");
    free(s);
    cr_template_free(t);
    t = NULL;
    assert_int_equal(cr_template_compile("{% render 'missing' %}", 22, &o, &t, &err), CR_ENOTFOUND);
    assert_string_equal(err.msg, "unknown snippet 'missing' at line 1, column 11");
    assert_int_equal(cr_snippet_load_dir(dir, "../etc/passwd", &b, NULL), CR_EINVAL);
    assert_false(cr_snippet_name_ok(".hidden", 7));
    assert_true(cr_snippet_name_ok("product-card.v2", 15));
    unlink(path);
    rmdir(dir);
    cr_buf_release(&b);
    cr_tvars_free(v);
}

static void test_snippet_store(void **state)
{
    struct cr_store *st = testdb_open(CR_DIALECT_SQLITE);
    struct cr_err err = CR_ERR_INIT;
    struct cr_template_opts o = {0};
    struct cr_tvars *v = cr_tvars_new();
    struct cr_template *t;
    char *s;
    (void)state;
    if (cr_store_exec(st,
                      "INSERT INTO snippet (name, content, created_at, updated_at) VALUES "
                      "('sig', 'Regards, {{ sender }}', '2026-01-01 00:00:00', "
                      "'2026-01-01 00:00:00')",
                      &err))
        fail_msg("%s", err.msg);
    o.load_snippet = cr_snippet_load_store;
    o.snippet_data = st;
    t = compile("{% render 'sig', sender: 'crier' %}", &o);
    s = render(t, v);
    assert_string_equal(s, "Regards, crier");
    free(s);
    cr_template_free(t);
    cr_tvars_free(v);
    testdb_close(st);
}

int run_api_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compile_render), cmocka_unit_test(test_compile_error),
        cmocka_unit_test(test_records),        cmocka_unit_test(test_record_from_catalogue),
        cmocka_unit_test(test_strict),         cmocka_unit_test(test_json_object_vars),
        cmocka_unit_test(test_clock),          cmocka_unit_test(test_limits),
        cmocka_unit_test(test_threads),        cmocka_unit_test(test_snippet_dir),
        cmocka_unit_test(test_snippet_store),  cmocka_unit_test(test_float_format),
    };
    return cmocka_run_group_tests_name("template api", tests, NULL, NULL);
}
