/*
 * test_links.c - the link pass: tracking links in odd HTML, labels, the open pixel, the
 * list of links, and URLs in SMS text
 */
#include "tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template/template.h"

/* A stand-in for the tracking issue's signer: https://t.test/c/<id>?u=<url>. */
static int rewrite(void *data, const struct cr_link *l, struct cr_buf *out)
{
    (void)data;
    if (strstr(l->url, "keep"))
        return 1;
    if (strstr(l->url, "fail"))
        return CR_EIO;
    return cr_buf_printf(out, "https://t.test/c/%d?u=%s", l->id, l->url);
}

static int pixel(void *data, struct cr_buf *out)
{
    (void)data;
    return cr_buf_puts(out, "<img src=\"https://t.test/o\" width=\"1\" height=\"1\" alt=\"\">");
}

static const struct cr_link_opts opts = {rewrite, pixel, NULL};

static char *pass(const char *html, struct cr_links *links)
{
    struct cr_buf out = CR_BUF_INIT(0);
    struct cr_err err = CR_ERR_INIT;
    if (cr_links_html(html, strlen(html), &opts, &out, links, &err))
        fail_msg("%s", err.msg);
    return cr_buf_detach(&out, NULL);
}

static void test_basic(void **state)
{
    struct cr_links l = CR_LINKS_INIT;
    char *s = pass("<html><body><p>Hi <a href=\"https://shop.test/offer?a=1&amp;b=2\">the "
                   "<b>offer</b></a> and <a href=\"http://x.test/\" data-label=\"home\">x</a>"
                   "</p></body></html>",
                   &l);
    (void)state;
    assert_string_equal(
        s, "<html><body><p>Hi <a href=\"https://t.test/c/1?u=https://shop.test/offer?a=1&amp;b=2\">"
           "the <b>offer</b></a> and <a href=\"https://t.test/c/2?u=http://x.test/\" "
           "data-label=\"home\">x</a></p><img src=\"https://t.test/o\" width=\"1\" height=\"1\" "
           "alt=\"\"></body></html>");
    assert_int_equal(l.n, 2);
    assert_int_equal(l.v[0].id, 1);
    assert_string_equal(l.v[0].url, "https://shop.test/offer?a=1&b=2");
    assert_string_equal(l.v[0].label, "the offer");
    assert_string_equal(l.v[1].url, "http://x.test/");
    assert_string_equal(l.v[1].label, "home");
    free(s);
    cr_links_release(&l);
}

static void test_skipped(void **state)
{
    struct cr_links l = CR_LINKS_INIT;
    const char *html =
        "<a href=\"mailto:a@b.test\">mail</a><a href='tel:+331'>call</a><a href=\"#top\">top</a>"
        "<a href=\"/relative\">rel</a><a data-notrack href=\"https://n.test\">no</a>"
        "<a name=x>anchor</a><!-- <a href=\"https://c.test\">commented</a> -->"
        "<script>var a = '<a href=\"https://s.test\">';</script><a href=\"https://keep.test\">k</a>"
        "<style>a[href^=\"https://\"] {}</style>";
    char *s = pass(html, &l);
    (void)state;
    /* nothing rewritten, no </body>: the pixel goes at the end */
    assert_int_equal(strncmp(s, html, strlen(html)), 0);
    assert_string_equal(s + strlen(html),
                        "<img src=\"https://t.test/o\" width=\"1\" height=\"1\" alt=\"\">");
    assert_int_equal(l.n, 0);
    free(s);
}

static void test_odd_html(void **state)
{
    struct cr_links l = CR_LINKS_INIT;
    char *s = pass("<A HREF='HTTPS://UP.test/X' CLASS=btn>Up</A>"
                   "<a class=x href=https://bare.test/p?q=1>bare</a>"
                   "<a\nhref = \" https://sp.test/ \"\n>spaced</a>"
                   "<a href=\"https://e.test/?x=&#38;&#x26;\"><img src=\"i.png\" alt=\"Logo &amp; co\"></a>"
                   "<a href=\"https://q.test/a\"b\">q</a>"
                   "<a href=\"https://nolabel.test\"></a>"
                   "<p>text</P></BODY><p>after</p></body>",
                   &l);
    (void)state;
    assert_int_equal(l.n, 6);
    assert_string_equal(l.v[0].url, "HTTPS://UP.test/X");
    assert_string_equal(l.v[0].label, "Up");
    assert_string_equal(l.v[1].url, "https://bare.test/p?q=1");
    assert_string_equal(l.v[2].url, "https://sp.test/");
    assert_string_equal(l.v[2].label, "spaced");
    assert_string_equal(l.v[3].url, "https://e.test/?x=&&");
    assert_string_equal(l.v[3].label, "Logo & co");
    assert_string_equal(l.v[4].url, "https://q.test/a");
    assert_string_equal(l.v[5].label, "");
    assert_non_null(strstr(s, "<A HREF=\"https://t.test/c/1?u=HTTPS://UP.test/X\" CLASS=btn>Up</A>"));
    assert_non_null(strstr(s, "<a class=x href=\"https://t.test/c/2?u=https://bare.test/p?q=1\">"));
    assert_non_null(strstr(s, "href=\"https://t.test/c/4?u=https://e.test/?x=&amp;&amp;\""));
    /* the pixel goes before the last </body>, whatever its case */
    assert_non_null(strstr(s, "<p>after</p><img src=\"https://t.test/o\" width=\"1\" height=\"1\" "
                              "alt=\"\"></body>"));
    free(s);
    cr_links_release(&l);
}

static void test_unterminated(void **state)
{
    struct cr_links l = CR_LINKS_INIT;
    char *s = pass("<p>x<a href=\"https://u.test/", &l);
    (void)state;
    assert_int_equal(l.n, 1);
    free(s);
    cr_links_release(&l);
    s = pass("<!-- never closed <a href=\"https://u.test/\">", &l);
    assert_int_equal(l.n, 0);
    free(s);
    s = pass("<", &l);
    free(s);
    s = pass("", &l);
    assert_string_equal(s, "<img src=\"https://t.test/o\" width=\"1\" height=\"1\" alt=\"\">");
    free(s);
}

static void test_list_only_and_errors(void **state)
{
    struct cr_links l = CR_LINKS_INIT;
    struct cr_link_opts none = {NULL, NULL, NULL};
    struct cr_buf out = CR_BUF_INIT(0);
    struct cr_err err = CR_ERR_INIT;
    const char *html = "<a href=\"https://a.test\">a</a><a href=\"https://fail.test\">f</a>";
    (void)state;
    assert_int_equal(cr_links_html(html, strlen(html), &none, &out, &l, &err), 0);
    assert_string_equal(out.data, html);
    assert_int_equal(l.n, 2);
    cr_links_release(&l);
    cr_buf_reset(&out);
    assert_int_equal(cr_links_html(html, strlen(html), &opts, &out, &l, &err), CR_EIO);
    assert_non_null(strstr(err.msg, "https://fail.test"));
    cr_links_release(&l);
    cr_buf_release(&out);
}

static void test_text(void **state)
{
    struct cr_links l = CR_LINKS_INIT;
    struct cr_buf out = CR_BUF_INIT(0);
    struct cr_err err = CR_ERR_INIT;
    const char *sms = "Offer: https://shop.test/o?id=1. See (https://w.test/wiki_(x)) or "
                      "http://a.test/b, reply STOP. xhttp://no.test https:// end";
    (void)state;
    assert_int_equal(cr_links_text(sms, strlen(sms), &opts, &out, &l, &err), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.v[0].url, "https://shop.test/o?id=1");
    assert_string_equal(l.v[1].url, "https://w.test/wiki_(x)");
    assert_string_equal(l.v[2].url, "http://a.test/b");
    assert_string_equal(l.v[0].label, "");
    assert_string_equal(out.data,
                        "Offer: https://t.test/c/1?u=https://shop.test/o?id=1. See "
                        "(https://t.test/c/2?u=https://w.test/wiki_(x)) or "
                        "https://t.test/c/3?u=http://a.test/b, reply STOP. xhttp://no.test "
                        "https:// end");
    cr_links_release(&l);
    cr_buf_release(&out);
}

/* The pass runs on what a template rendered: the usual delivery pipeline. */
static void test_after_render(void **state)
{
    const char *src = "<body><a href=\"https://shop.test/?u={{ id }}&amp;c={{ c | url_encode }}\">"
                      "{{ label }}</a></body>";
    struct cr_template *t = NULL;
    struct cr_tvars *v = cr_tvars_new();
    struct cr_buf html = CR_BUF_INIT(0), out = CR_BUF_INIT(0);
    struct cr_err err = CR_ERR_INIT;
    struct cr_links l = CR_LINKS_INIT;
    (void)state;
    assert_int_equal(cr_template_compile(src, strlen(src), NULL, &t, &err), 0);
    cr_tvars_set_int(v, "id", 42);
    cr_tvars_set_str(v, "c", "a b", 3);
    cr_tvars_set_str(v, "label", "Shop now", 8);
    assert_int_equal(cr_template_render(t, v, &html, &err), 0);
    assert_int_equal(cr_links_html(html.data, html.len, &opts, &out, &l, &err), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0].url, "https://shop.test/?u=42&c=a+b");
    assert_string_equal(l.v[0].label, "Shop now");
    cr_links_release(&l);
    cr_buf_release(&html);
    cr_buf_release(&out);
    cr_tvars_free(v);
    cr_template_free(t);
}

int run_links_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),          cmocka_unit_test(test_skipped),
        cmocka_unit_test(test_odd_html),       cmocka_unit_test(test_unterminated),
        cmocka_unit_test(test_list_only_and_errors), cmocka_unit_test(test_text),
        cmocka_unit_test(test_after_render),
    };
    return cmocka_run_group_tests_name("template links", tests, NULL, NULL);
}
