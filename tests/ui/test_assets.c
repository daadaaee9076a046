/*
 * test_assets.c - the web UI's embedded files (src/ui/): the table the build generated from
 * ui/, content types, which URLs the UI answers, and what the Content-Security-Policy needs
 * of the files themselves: no inline script or style, no handler attribute, nothing loaded
 * from another site, no HTML parsed from strings in the script.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ui/ui.h"

static const char *text(const char *path)
{
    const struct cr_ui_asset *a = cr_ui_find(path);
    assert_non_null(a);
    assert_int_equal(a->data[a->len], 0); /* the generator's closing NUL */
    assert_int_equal(strlen((const char *)a->data), a->len);
    return (const char *)a->data;
}

static void test_table(void **state)
{
    (void)state;
    static const char *const want[] = {"index.html", "app.js", "app.css", "favicon.svg"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const struct cr_ui_asset *a = cr_ui_find(want[i]);
        assert_non_null(a);
        assert_true(a->len > 0);
        assert_int_equal(strlen(a->etag), 18);
        assert_true(a->etag[0] == '"' && a->etag[17] == '"');
    }
    for (size_t i = 0; i < cr_ui_nassets; i++)
        for (size_t j = i + 1; j < cr_ui_nassets; j++)
            assert_string_not_equal(cr_ui_assets[i].etag, cr_ui_assets[j].etag);
    assert_null(cr_ui_find("nope.js"));
    assert_null(cr_ui_find("../CMakeLists.txt"));
    assert_true(strstr(text("index.html"), "<!doctype html>") != NULL);
}

static void test_types(void **state)
{
    (void)state;
    assert_string_equal(cr_ui_content_type("index.html"), "text/html; charset=utf-8");
    assert_string_equal(cr_ui_content_type("app.js"), "text/javascript; charset=utf-8");
    assert_string_equal(cr_ui_content_type("app.css"), "text/css; charset=utf-8");
    assert_string_equal(cr_ui_content_type("favicon.svg"), "image/svg+xml");
    assert_string_equal(cr_ui_content_type("x.bin"), "application/octet-stream");
    assert_string_equal(cr_ui_content_type("js"), "application/octet-stream");
}

static void test_owns(void **state)
{
    (void)state;
    assert_true(cr_ui_owns("/"));
    assert_true(cr_ui_owns("/index.html"));
    assert_true(cr_ui_owns("/ui/app.js"));
    assert_true(cr_ui_owns("/ui/nope"));
    assert_false(cr_ui_owns("/api/v1/me"));
    assert_false(cr_ui_owns("/u/token"));
    assert_false(cr_ui_owns("/o/token"));
    assert_false(cr_ui_owns("/uix"));
    assert_false(cr_ui_owns("/healthz"));
    assert_false(cr_ui_owns("/webhook/bounces"));
}

/* The CSP (script-src 'self', style-src 'self') blocks these; a file must not need them. */
static void test_csp_clean(void **state)
{
    (void)state;
    const char *html = text("index.html");
    for (const char *p = html; (p = strstr(p, "<script")); p++) {
        const char *end = strchr(p, '>');
        assert_non_null(end);
        const char *src = strstr(p, " src=");
        assert_true(src && src < end); /* no inline script */
        assert_true(strncmp(end, "></script>", 10) == 0);
    }
    assert_null(strstr(html, "<style"));
    assert_null(strstr(html, " style="));
    assert_null(strstr(html, " onclick="));
    assert_null(strstr(html, " onload="));
    const char *js = text("app.js");
    assert_null(strstr(js, "innerHTML"));
    assert_null(strstr(js, "outerHTML"));
    assert_null(strstr(js, "insertAdjacentHTML"));
    assert_null(strstr(js, "eval("));
    assert_null(strstr(js, "new Function"));
    /* nothing from another site: the only URLs are the SVG namespace */
    for (size_t i = 0; i < cr_ui_nassets; i++) {
        const char *t = (const char *)cr_ui_assets[i].data;
        for (const char *p = t; (p = strstr(p, "http")); p++)
            if (p[4] == ':' || (p[4] == 's' && p[5] == ':'))
                assert_true(strncmp(p, "http://www.w3.org/", 18) == 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_owns),
        cmocka_unit_test(test_csp_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
