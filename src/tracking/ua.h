/*
 * ua.h - is a hit made by a machine rather than by the recipient?
 *
 * Apple Mail Privacy Protection loads every image of a message when it arrives, through
 * proxies whose user agent is the bare "Mozilla/5.0"; mail security gateways (Microsoft
 * Defender Safe Links, Proofpoint, Mimecast, Barracuda…) follow every link to scan it; chat
 * and social previews fetch links. Such hits are kept and flagged (tracking_log.prefetch),
 * never dropped: KPIs report them apart, filters see them as opens and clicks.
 * Image proxies that fetch when the reader opens the message (Gmail's GoogleImageProxy,
 * Yahoo's) are real opens and are not flagged.
 */
#ifndef CR_TRACKING_UA_H
#define CR_TRACKING_UA_H

/* 1 when the user agent (NULL: none sent) belongs to a prefetcher or scanner. */
int cr_ua_is_prefetch(const char *ua);

#endif
