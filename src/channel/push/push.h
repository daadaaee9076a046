/*
 * push.h - the push channel's messages: a push template compiled once for one platform and
 *          rendered per recipient into the body APNs or FCM expects
 *
 * A template is {"title","body","badge","sound","deep_link","data":{…},"ios":{…},
 * "android":{…},"proof_to":[tokens]}: every string is Liquid over `profile`, `delivery`,
 * `campaign`; "ios" and "android" override the common fields for that platform (data merged
 * key by key) and add their own (ios: category, thread_id, mutable_content,
 * content_available, interruption_level; android: channel_id, icon, color, priority
 * high|normal, ttl as a duration, collapse_key).
 *
 * APNs body: {"aps":{"alert":{"title","body"},"badge","sound","category","thread-id",
 * "mutable-content":1,…},"deep_link":…, DATA…} (custom data at the root, as Apple does).
 * FCM HTTP v1 body: {"message":{"token","notification":{"title","body"},"data":{…string
 * values, deep_link},"android":{"priority","ttl","collapse_key","notification":{"sound",
 * "channel_id","icon","color"}}}}.
 */
#ifndef CR_CHANNEL_PUSH_H
#define CR_CHANNEL_PUSH_H

#include <jansson.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "store/schema.h"
#include "store/store.h"

enum cr_push_platform { CR_PUSH_IOS, CR_PUSH_ANDROID };

/* Checks a push template's fields and types and compiles its Liquid (store: snippets).
 * CR_EINVAL naming the field ("ios.badge must be a number or a template"). */
int cr_push_template_check(struct cr_store *s, const json_t *content,
                           struct cr_err *err) CR_WARN_UNUSED;

struct cr_push_msgs;

struct cr_push_msgs_opts {
    int64_t delivery_id;
    const char *label;
    int strict;
    struct cr_clock *clock;
    json_t *campaign; /* borrowed, may be NULL */
};

/* Compiles content for platform; profile must outlive the result. */
int cr_push_msgs_open(struct cr_store *s, const json_t *content, enum cr_push_platform platform,
                      const struct cr_schema *profile, const struct cr_push_msgs_opts *o,
                      struct cr_push_msgs **out, struct cr_err *err) CR_WARN_UNUSED;
void cr_push_msgs_close(struct cr_push_msgs *m);

/* The request body for one recipient (row: the profile's columns in schema order) and device
 * token, into out (reset first). proof marks the title "[PROOF] ". Personalisation errors
 * are CR_EINVAL naming the field. */
int cr_push_render(struct cr_push_msgs *m, const char *const *row, const char *token, int proof,
                   struct cr_buf *out, struct cr_err *err) CR_WARN_UNUSED;

#endif
