/*
 * ua.c - telling prefetchers and link scanners from people by their user agent
 */
#include "tracking/ua.h"

#include <string.h>

/* Substrings, matched without case. Keep them specific: a false positive hides a person. */
static const char *const machines[] = {
    "bot", "crawler", "spider", "slurp", "preview", /* search engines, link previews */
    "facebookexternalhit", "whatsapp", "skypeuripreview", "discordbot", "slack",
    "curl/", "wget/", "python-", "go-http-client", "java/", "okhttp", "libwww", "httpclient",
    "headlesschrome", "phantomjs",
    "barracuda", "proofpoint", "mimecast", "symantec", "trendmicro", "forcepoint",
    "safelinks", "ironport", "sophos", "fortinet",
};

int cr_ua_is_prefetch(const char *ua)
{
    char low[512];
    size_t n = 0;
    if (!ua || !*ua)
        return 1;
    /* Apple MPP's proxies: exactly this, nothing after it */
    if (strcmp(ua, "Mozilla/5.0") == 0)
        return 1;
    /* lower-cased once, then plain strstr: strcasestr per pattern redoes its setup each
     * time, and this runs on every hit (bench/tracking) */
    for (; ua[n] && n < sizeof low - 1; n++)
        low[n] = (char)(ua[n] >= 'A' && ua[n] <= 'Z' ? ua[n] + 32 : ua[n]);
    low[n] = 0;
    for (size_t i = 0; i < sizeof machines / sizeof *machines; i++)
        if (strstr(low, machines[i]))
            return 1;
    return 0;
}
