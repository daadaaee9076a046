/* test_html_text.c - the text version derived from html (cr_mail_html_to_text) */
#include <stdlib.h>
#include <string.h>

#include "channel/email/mime.h"
#include "core/buf.h"
#include "tests.h"

static void check(const char *html, const char *want)
{
    struct cr_buf b = CR_BUF_INIT(0);
    struct cr_err err = CR_ERR_INIT;
    assert_int_equal(cr_mail_html_to_text(html, strlen(html), &b, &err), 0);
    if (strcmp(b.data, want) != 0)
        fail_msg("html %s\n got [%s]\nwant [%s]", html, b.data, want);
    cr_buf_release(&b);
}

static void test_blocks(void **state)
{
    (void)state;
    check("", "");
    check("plain", "plain\n");
    check("<p>One</p><p>Two</p>", "One\n\nTwo\n");
    check("<p>One<br>Two<br/>Three</p>", "One\nTwo\nThree\n");
    check("a<br><br>b", "a\n\nb\n");
    check("<div>a</div><div>b</div>", "a\nb\n");
    check("<h1>Title</h1>Text", "Title\n\nText\n");
    check("  lots   of\n\n  white\tspace  ", "lots of white space\n");
    check("<p>\n  <b>Bold</b>  and <i>italic</i>\n</p>", "Bold and italic\n");
    check("<p></p><p></p><p>x</p><p></p>", "x\n");
    check("<ul><li>one</li><li>two</li></ul><p>after</p>", "- one\n- two\n\nafter\n");
    check("<table><tr><td>Name</td><td>Jean</td></tr><tr><td>Tier</td><td>gold</td></tr>"
          "</table>",
          "Name Jean\nTier gold\n");
    check("<pre>  keep   this\n    indented</pre>after", "  keep   this\n    indented\n\nafter\n");
}

static void test_entities(void **state)
{
    (void)state;
    check("a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&#39;", "a & b <c> \"d\" 'e'\n");
    check("caf&eacute; &Agrave; &ccedil;a &euro;5 &hellip;", "café À ça €5 …\n");
    check("&#233;&#xE9;&#XE9; &#x1F600;", "ééé 😀\n");
    check("&#146;&#150;", "\xE2\x80\x99\xE2\x80\x93\n"); /* windows-1252 numbers */
    check("&#0; &#xD800; &#x110000; &#99999999999;", "\xEF\xBF\xBD \xEF\xBF\xBD \xEF\xBF\xBD "
                                                     "\xEF\xBF\xBD\n");
    check("&unknown; & &amp &", "&unknown; & &amp &\n");
    check("a&nbsp;&nbsp;b", "a b\n");
    check("pre&shy;header&zwnj;&#8203;", "preheader\n");
}

static void test_links(void **state)
{
    (void)state;
    check("<a href=\"https://x.fr/o\">the offer</a>", "the offer (https://x.fr/o)\n");
    check("See <a href='https://x.fr/o'>here</a>, now.", "See here (https://x.fr/o), now.\n");
    check("<a href=https://x.fr/o>here</a>", "here (https://x.fr/o)\n");
    check("<a href=\"https://x.fr/\">https://x.fr/</a>", "https://x.fr/\n");
    check("<a href=\"https://www.x.fr\">x.fr</a>", "x.fr\n");
    check("<a href=\"mailto:a@b.fr\">a@b.fr</a>", "a@b.fr\n");
    check("<a href=\"#top\">Top</a>", "Top\n");
    check("<a href=\"javascript:void(0)\">Click</a>", "Click\n");
    check("<a href=\"https://x.fr/a?b=1&amp;c=2\">go</a>", "go (https://x.fr/a?b=1&c=2)\n");
    check("<a href=\"https://x.fr/i\"><img src=\"i.png\" alt=\"Logo\"></a>",
          "Logo (https://x.fr/i)\n");
    check("<a href=\"https://x.fr/i\"><img src=\"i.png\"></a>", "https://x.fr/i\n");
    check("<a href=\" https://x.fr/\n\ts \">  spaced  </a>", "spaced (https://x.fr/s)\n");
    check("<a>no href</a>", "no href\n");
    check("<a href=\"https://x.fr/1\">one <a href=\"https://x.fr/2\">two</a>",
          "one (https://x.fr/1) two (https://x.fr/2)\n");
    check("<a href=\"https://x.fr/u\">unclosed", "unclosed (https://x.fr/u)\n");
}

static void test_dropped(void **state)
{
    (void)state;
    check("<html><head><title>T</title><meta charset=utf-8><style>p{color:red}</style></head>"
          "<body><p>Body</p></body></html>",
          "Body\n");
    check("a<script>if (a < b) { x = '</p>'; }</script>b", "ab\n");
    check("a<SCRIPT type=x>alert(1)</SCRIPT >b", "ab\n");
    check("a<style>.x{}</style>b<!-- comment <p>x</p> -->c", "abc\n");
    check("<!DOCTYPE html><?xml x?>text", "text\n");
    check("a<script>never closed", "a\n");
    check("a<!-- never closed", "a\n");
    check("1 < 2 and 3 > 2", "1 < 2 and 3 > 2\n");
    check("<img src=x alt=\"A &amp; B\">", "A & B\n");
    check("<img src=x alt=\"&amp;amp;\">", "&amp;\n"); /* decoded once */
    check("<a href=\"https://x.fr/&#0;&#1;a\">b</a>", "b (https://x.fr/\xEF\xBF\xBD\x61)\n");
    check("<p title=\"a > b\">x</p>", "x\n");
}

static void test_wrap(void **state)
{
    struct cr_buf html = CR_BUF_INIT(0), want = CR_BUF_INIT(0);
    (void)state;
    /* 20 words of 4+1 characters: 100 columns wrap after the 15th word (75 columns) */
    for (int i = 0; i < 20; i++)
        cr_buf_puts(&html, "word ");
    for (int i = 0; i < 15; i++)
        cr_buf_printf(&want, "%sword", i ? " " : "");
    cr_buf_puts(&want, "\n");
    for (int i = 0; i < 5; i++)
        cr_buf_printf(&want, "%sword", i ? " " : "");
    cr_buf_puts(&want, "\n");
    check(html.data, want.data);
    /* exactly 76 characters: no wrap; characters, not octets, are counted */
    cr_buf_reset(&html);
    cr_buf_reset(&want);
    for (int i = 0; i < 38; i++)
        cr_buf_puts(&html, "é ");
    cr_buf_truncate(&html, html.len - 1);
    cr_buf_putc(&html, 'x'); /* 76 characters, 114 octets */
    cr_buf_printf(&want, "%s\n", html.data);
    check(html.data, want.data);
    /* a long URL stays whole on its own line */
    cr_buf_reset(&html);
    cr_buf_reset(&want);
    cr_buf_puts(&html, "Visit <a href=\"https://exemple.fr/");
    for (int i = 0; i < 90; i++)
        cr_buf_putc(&html, 'p');
    cr_buf_puts(&html, "\">our shop</a> today");
    cr_buf_puts(&want, "Visit our shop\n(https://exemple.fr/");
    for (int i = 0; i < 90; i++)
        cr_buf_putc(&want, 'p');
    cr_buf_puts(&want, ")\ntoday\n");
    check(html.data, want.data);
    cr_buf_release(&html);
    cr_buf_release(&want);
}

static void test_hostile_input(void **state)
{
    struct cr_buf b = CR_BUF_INIT(0);
    struct cr_err err = CR_ERR_INIT;
    static const char nul[] = "a\0b<p\0>c";
    (void)state;
    check("bad \xFF\xC3 utf-8", "bad \xEF\xBF\xBD\xEF\xBF\xBD utf-8\n");
    check("<", "<\n");
    check("<a href='x", "x\n"); /* an unclosed tag ends the input */
    check("<a href=\"https://x.fr/\" <b>", "https://x.fr/\n");
    check("&#x", "&#x\n");
    check("</>", "</>\n");
    check("<verylongelementname-with-more>x</verylongelementname-with-more>", "x\n");
    assert_int_equal(cr_mail_html_to_text(nul, sizeof nul - 1, &b, &err), 0);
    assert_string_equal(b.data, "ab\n\nc\n"); /* NUL bytes skipped */
    cr_buf_release(&b);
    cr_buf_init(&b, 10);
    cr_buf_puts(&b, "pre");
    assert_int_equal(cr_mail_html_to_text("<p>a long enough text</p>", 25, &b, &err), CR_ETOOBIG);
    assert_string_equal(b.data, "pre");
    cr_buf_release(&b);
}

int run_html_text_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocks), cmocka_unit_test(test_entities),
        cmocka_unit_test(test_links),  cmocka_unit_test(test_dropped),
        cmocka_unit_test(test_wrap),   cmocka_unit_test(test_hostile_input),
    };
    return cmocka_run_group_tests_name("html_to_text", tests, NULL, NULL);
}
