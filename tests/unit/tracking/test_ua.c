/*
 * test_ua.c - prefetchers and scanners told from people by their user agent
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tracking/ua.h"

static void test_machines(void **state)
{
    static const char *const machines[] = {
        NULL,
        "",
        "Mozilla/5.0", /* Apple Mail Privacy Protection's proxies */
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "curl/7.88.1",
        "python-requests/2.31.0",
        "Go-http-client/1.1",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/120.0.0.0 Safari/537.36",
        "Barracuda Sentinel (EE)",
        "Proofpoint URL Defense",
    };
    (void)state;
    for (size_t i = 0; i < sizeof machines / sizeof *machines; i++)
        assert_true(cr_ua_is_prefetch(machines[i]));
}

static void test_people(void **state)
{
    static const char *const people[] = {
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko)",                                        /* Apple Mail opened by the reader */
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com "
        "GoogleImageProxy)",                             /* Gmail: fetched when opened */
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
    };
    (void)state;
    for (size_t i = 0; i < sizeof people / sizeof *people; i++)
        assert_false(cr_ua_is_prefetch(people[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_machines),
        cmocka_unit_test(test_people),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
