/*
 * urls.h - the links of a delivery: each distinct URL gets a link id, stored in delivery_url
 *
 * A click token carries the link id, never the URL, and the tracking server redirects only
 * to the URL stored under that id, so a click can only lead where the delivery itself
 * pointed. Ids are given while messages are rendered (a Liquid link may differ per
 * recipient): a URL met for the first time is stored before the message that carries it
 * leaves. Two processes meeting the same new URL at once may give it two ids; both lead to
 * the same place, and per-link KPIs group by URL.
 */
#ifndef CR_TRACKING_URLS_H
#define CR_TRACKING_URLS_H

#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/store.h"
#include "tracking/token.h"

struct cr_delivery_urls;

/* Loads the ids the delivery's links already have. s must outlive u. */
int cr_urls_open(struct cr_store *s, int64_t delivery_id, struct cr_delivery_urls **out,
                 struct cr_err *err) CR_WARN_UNUSED;
void cr_urls_close(struct cr_delivery_urls *u);
/* The id of url in this delivery, stored with its label when new. */
int cr_urls_id(struct cr_delivery_urls *u, const char *url, const char *label, int64_t *link_id,
               struct cr_err *err) CR_WARN_UNUSED;
/* The click-tracking link for url in recipient log's message, appended to out:
 * PUBLIC/c/TOKEN. Returns 1 (out untouched) for crier's own pages under public_url, which are
 * not clicks to count; CR_EIO when the link could not be stored (the message must wait rather
 * than leave untracked); else out->err. The link pass's rewrite callback for email and SMS. */
int cr_urls_click(struct cr_delivery_urls *u, const struct cr_token_keys *keys,
                  const char *public_url, int64_t delivery, int64_t log, const char *url,
                  const char *label, struct cr_buf *out);
/* The URL stored for (delivery, link): 0 and *url (caller frees), CR_ENOTFOUND, or an
 * error. */
int cr_urls_find(struct cr_store *s, int64_t delivery_id, int64_t link_id, char **url,
                 struct cr_err *err) CR_WARN_UNUSED;

#endif
