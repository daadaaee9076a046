/*
 * send_push.c - the push side of the sending loop: render each claimed subscription's
 *               notification (APNs or FCM body) and stream it over HTTP/2, or into a file
 *               sink; tokens the service no longer knows deactivate their subscription
 *
 * A push delivery's rows are subscriptions (delivery_log.subscription_id; address = the
 * device token), prepared from the account's app and platform.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "delivery/send_int.h"

#define cache cr__send_cache
#define FILE_SYNC 256

/* log ids whose token was refused as unregistered, deactivated after each recorded flush */
static struct {
    int64_t *v;
    size_t n, cap;
} gone;

void cr__send_push_forget(void)
{
    free(gone.v);
    memset(&gone, 0, sizeof gone);
}

int cr__send_push_open(struct cr_store *s, struct cr_clock *clock, int64_t id,
                       const json_t *content, const struct cr_account *a, const char *label,
                       const json_t *options, json_t *campaign, struct cr_err *err)
{
    json_t *st = a->settings;
    const char *platform = json_string_value(json_object_get(st, "platform"));
    struct cr_push_msgs_opts o = {id, label, json_is_true(json_object_get(options, "strict")),
                                  clock, campaign};
    int rc;
    cache.channel = SEND_PUSH;
    if ((rc = cr_push_msgs_open(s, content,
                                platform && strcmp(platform, "android") == 0 ? CR_PUSH_ANDROID
                                                                             : CR_PUSH_IOS,
                                &cache.profile, &o, &cache.push, err)))
        return rc;
    if (strcmp(a->kind, "file") == 0) {
        const char *dir = json_string_value(json_object_get(st, "dir"));
        struct cr_buf p = CR_BUF_INIT(0);
        if (!dir)
            return cr_err_set(err, CR_EINVAL, "account '%s' has no folder", a->name);
        cr_buf_printf(&p, "%s/%lld.jsonl", dir, (long long)id);
        cache.push_file = cr_xstrdup(p.data);
        cr_buf_release(&p);
        return 0;
    }
    const char *env = json_string_value(json_object_get(st, "environment"));
    struct cr_push_config c = {0};
    c.service = strcmp(a->kind, "fcm") == 0 ? CR_PUSH_FCM : CR_PUSH_APNS;
    c.name = a->name;
    c.team_id = json_string_value(json_object_get(st, "team_id"));
    c.key_id = json_string_value(json_object_get(st, "key_id"));
    c.key_pem = a->secrets ? json_string_value(json_object_get(a->secrets, "key")) : NULL;
    c.topic = json_string_value(json_object_get(st, "topic"));
    c.sandbox = env && strcmp(env, "sandbox") == 0;
    c.service_account_json =
        a->secrets ? json_string_value(json_object_get(a->secrets, "service_account")) : NULL;
    c.project_id = json_string_value(json_object_get(st, "project_id"));
    c.token_url = json_string_value(json_object_get(st, "token_url"));
    c.url = json_string_value(json_object_get(st, "url"));
    c.ca_file = json_string_value(json_object_get(st, "ca_file"));
    c.concurrency = (int)json_integer_value(json_object_get(st, "concurrency"));
    c.rate = json_number_value(json_object_get(st, "rate"));
    return cr_push_transport_new(&c, &cache.push_transport, err);
}

static int deactivate(struct cr_store *s, struct cr_clock *clock, struct cr_err *err)
{
    char ts[CR_TIME_BUFSZ];
    int rc = 0;
    cr_time_format_sql(cr_clock_now(clock), ts);
    for (size_t i = 0; i < gone.n && !rc; i++)
        rc = cr_store_run(s, err,
                          "UPDATE subscription SET active = ?, deactivated_at = ?, "
                          "deactivation_reason = 'unregistered', updated_at = ? WHERE id = "
                          "(SELECT subscription_id FROM delivery_log WHERE id = ?) AND active",
                          "bssi", 0, ts, ts, gone.v[i]);
    if (gone.n)
        cr_log_info("push: %zu subscriptions deactivated (tokens unregistered)", gone.n);
    gone.n = 0;
    return rc;
}

static void on_result(void *data, const struct cr_push_result *r)
{
    if (r->unregistered) {
        if (gone.n == gone.cap) {
            gone.cap = gone.cap ? gone.cap * 2 : 64;
            gone.v = cr_xrealloc(gone.v, gone.cap * sizeof *gone.v);
        }
        gone.v[gone.n++] = r->id;
    }
    cr__send_done(data, r->id,
                  r->outcome == CR_PUSH_SENT   ? SEND_SENT
                  : r->outcome == CR_PUSH_HARD ? SEND_HARD
                                               : SEND_SOFT,
                  r->status, r->reason, r->message_id);
}

static int produce(void *src, struct cr_push_msg *out, struct cr_err *err)
{
    struct send_producer *p = src;
    size_t k;
    int got;
    while ((got = cr__send_next(p, &k, err)) == 1) {
        struct send_outcome_row *o = &p->b->o[k];
        struct cr_err e = CR_ERR_INIT;
        cr_buf_init(&p->msgs[k], 0);
        int rc = cr_push_render(cache.push, p->row, o->address, 0, &p->msgs[k], &e);
        if (rc) {
            cr__send_done(p->b, o->log_id, SEND_HARD, 0, cr_err_msg(&e), NULL);
            continue;
        }
        o->outcome = SEND_SOFT; /* until the transport says otherwise */
        out->id = o->log_id;
        out->token = o->address;
        out->body = p->msgs[k].data;
        out->len = p->msgs[k].len;
        return 1;
    }
    return got;
}

/* One line of the file sink: the body is already JSON, the token is escaped. */
static void sink_line(struct cr_buf *out, int64_t log_id, const char *token, const char *body)
{
    json_t *t = json_string(token);
    char *tt = json_dumps(t, JSON_ENCODE_ANY);
    cr_buf_printf(out, "{\"delivery\":%lld,\"log\":%lld,\"token\":%s,\"body\":%s}\n",
                  (long long)cache.delivery_id, (long long)log_id, tt, body);
    free(tt);
    json_decref(t);
}

/* The file sink: each notification one JSON line {"delivery","log","token","platform",
 * "body"}, synced before it counts as sent. */
static int file_send(struct send_producer *p, struct cr_err *err)
{
    int fd = open(cache.push_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return cr_err_set(err, CR_EIO, "%s: %s", cache.push_file, strerror(errno));
    struct cr_buf lines = CR_BUF_INIT(0);
    int64_t *ids = cr_xcalloc(FILE_SYNC, sizeof *ids);
    size_t n = 0;
    int rc, more = 1;
    while (more) {
        struct cr_push_msg m;
        rc = produce(p, &m, err);
        more = rc == 1;
        if (more) {
            sink_line(&lines, m.id, m.token, m.body);
            ids[n++] = m.id;
        }
        if (n && (n == FILE_SYNC || !more)) {
            int w = cr_buf_append_synced(&lines, fd, cache.push_file, err);
            for (size_t i = 0; i < n; i++) {
                char mid[32];
                snprintf(mid, sizeof mid, "file-%lld", (long long)ids[i]);
                cr__send_done(p->b, ids[i], w ? SEND_SOFT : SEND_SENT, 0,
                              w ? cr_err_msg(err) : "written", w ? NULL : mid);
            }
            cr_buf_reset(&lines);
            n = 0;
            if (w) {
                rc = w;
                break;
            }
        }
    }
    close(fd);
    free(ids);
    cr_buf_release(&lines);
    return rc < 0 ? rc : 0;
}

int cr__send_push_claimed(struct cr_store *s, struct cr_clock *clock, int64_t id,
                          const int64_t *ids, const int64_t *att, size_t n, struct cr_err *err)
{
    struct send_batch b;
    struct send_producer p;
    int rc = cr__send_start(&b, &p, s, clock, id, ids, att, n, err);
    b.after_record = deactivate;
    if (!rc)
        rc = cache.push_file
                 ? file_send(&p, err)
                 : cr_push_send_stream(cache.push_transport, produce, &p, on_result, &b, err);
    return cr__send_finish(&b, &p, rc, err);
}

/* ---------------------------------------------------------------- proofs */

struct one {
    struct cr_push_msg m;
    int given, sent;
    char reason[300], message_id[160];
};

static int one_next(void *src, struct cr_push_msg *m, struct cr_err *err)
{
    struct one *o = src;
    (void)err;
    if (o->given)
        return 0;
    o->given = 1;
    *m = o->m;
    return 1;
}

static void one_done(void *data, const struct cr_push_result *r)
{
    struct one *o = data;
    o->sent = r->outcome == CR_PUSH_SENT;
    snprintf(o->reason, sizeof o->reason, "%d %s", r->status, r->reason ? r->reason : "");
    snprintf(o->message_id, sizeof o->message_id, "%s", r->message_id ? r->message_id : "");
}

/* Sends one rendered notification now (proofs): through the transport, or appended to the
 * sink's file. */
static int send_one(struct one *o, struct cr_err *err)
{
    if (!cache.push_file)
        return cr_push_send_stream(cache.push_transport, one_next, o, one_done, o, err);
    int fd = open(cache.push_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return cr_err_set(err, CR_EIO, "%s: %s", cache.push_file, strerror(errno));
    struct cr_buf line = CR_BUF_INIT(0);
    sink_line(&line, o->m.id, o->m.token, o->m.body);
    int rc = cr_buf_append_synced(&line, fd, cache.push_file, err);
    cr_buf_release(&line);
    close(fd);
    if (rc)
        return rc;
    o->sent = 1;
    snprintf(o->message_id, sizeof o->message_id, "file-%lld", (long long)o->m.id);
    return 0;
}

/* Proofs go to the device tokens given (or the template's proof_to), the title marked. */
int cr__send_push_proof(struct cr_store *s, struct cr_clock *clock, int64_t id, const char *list,
                        const char *const *row, int *sent, struct cr_err *err)
{
    char ts[CR_TIME_BUFSZ], *tokens = cr_xstrdup(list);
    struct cr_buf body = CR_BUF_INIT(0);
    int rc = 0;
    cr_time_format_sql(cr_clock_now(clock), ts);
    for (char *save = NULL, *tok = strtok_r(tokens, ", ", &save); tok && !rc;
         tok = strtok_r(NULL, ", ", &save)) {
        int64_t log_id;
        if ((rc = cr__send_proof_row(s, id, tok, ts, &log_id, err)))
            break;
        if ((rc = cr_push_render(cache.push, row, tok, 1, &body, err)))
            break;
        struct one o = {{log_id, tok, body.data, body.len}, 0, 0, "", ""};
        if ((rc = send_one(&o, err)))
            break;
        *sent += o.sent;
        rc = cr__send_proof_done(s, log_id, tok, o.sent, o.reason, o.message_id, ts, err);
    }
    cr_buf_release(&body);
    free(tokens);
    return rc < 0 ? rc : 0;
}
