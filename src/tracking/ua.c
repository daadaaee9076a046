/*
 * ua.c - telling prefetchers and link scanners from people by their user agent
 */
#define _GNU_SOURCE /* strcasestr */
#include "tracking/ua.h"

#include <string.h>
#include <strings.h>

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
    if (!ua || !*ua)
        return 1;
    /* Apple MPP's proxies: exactly this, nothing after it */
    if (strcmp(ua, "Mozilla/5.0") == 0)
        return 1;
    for (size_t i = 0; i < sizeof machines / sizeof *machines; i++)
        if (strcasestr(ua, machines[i]))
            return 1;
    return 0;
}
