/*
 * push_driver.c - runs src/channel/push/transport.c against the local APNs / FCM peers, for
 *                 test_push.py
 *
 * Usage: push_driver SPEC.json. The spec holds "config" (struct cr_push_config's fields, with
 * "service" "apns" or "fcm", and the key or service account given as files: "key_pem_file",
 * "service_account_file"), "messages" ([{id, token, body}], sent with one cr_push_send_stream()
 * call through a next() callback) and optionally "rounds" (default 1): each later round sends
 * again, on the same transport, the messages whose outcome was SOFT in the round before.
 * Prints JSON lines as things happen:
 *   {"result": {round, id, outcome, unregistered, status, reason, message_id, retry_after_ms}}
 *   {"send": {round, rc, errname, err}}     after each cr_push_send_stream()
 *   {"free": true}                          after cr_push_transport_free()
 * or {"new": {rc, errname, err}} when cr_push_transport_new() fails. It judges nothing.
 * Exit status: 0 when the spec could be run, 2 if not.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel/push/transport.h"
#include "core/err.h"
#include "core/log.h"

struct feed {
    json_t *msgs; /* this round's messages */
    size_t i;
    json_t *soft; /* SOFT ones, for the next round */
    int round;
};

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void emit(const char *key, json_t *v)
{
    json_t *line = json_object();
    json_object_set_new(line, key, v);
    char *text = json_dumps(line, JSON_COMPACT);
    puts(text);
    fflush(stdout);
    free(text);
    json_decref(line);
}

static char *slurp(const char *path)
{
    if (!path)
        return NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "push_driver: cannot open %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (!s || fread(s, 1, (size_t)n, f) != (size_t)n)
        exit(2);
    s[n] = 0;
    fclose(f);
    return s;
}

static int next_msg(void *src, struct cr_push_msg *m, struct cr_err *err)
{
    (void)err;
    struct feed *f = src;
    if (f->i >= json_array_size(f->msgs))
        return 0;
    json_t *o = json_array_get(f->msgs, f->i++);
    const char *body = str(o, "body");
    *m = (struct cr_push_msg){
        .id = json_integer_value(json_object_get(o, "id")),
        .token = str(o, "token"),
        .body = body,
        .len = body ? strlen(body) : 0,
    };
    return 1;
}

static json_t *find(json_t *msgs, json_int_t id)
{
    size_t i;
    json_t *o;
    json_array_foreach(msgs, i, o)
    {
        if (json_integer_value(json_object_get(o, "id")) == id)
            return o;
    }
    return NULL;
}

static void on_done(void *data, const struct cr_push_result *r)
{
    struct feed *f = data;
    static const char *names[] = {"sent", "soft", "hard"};
    emit("result",
         json_pack("{s:i, s:I, s:s, s:b, s:i, s:s, s:s, s:I}", "round", f->round, "id",
                   (json_int_t)r->id, "outcome", names[r->outcome], "unregistered", r->unregistered,
                   "status", r->status, "reason", r->reason, "message_id", r->message_id,
                   "retry_after_ms", (json_int_t)r->retry_after_ms));
    if (r->outcome == CR_PUSH_SOFT)
        json_array_append(f->soft, find(f->msgs, r->id));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: push_driver SPEC.json\n");
        return 2;
    }
    cr_log_init_from_env();
    json_error_t jerr;
    json_t *spec = json_load_file(argv[1], 0, &jerr);
    if (!spec) {
        fprintf(stderr, "push_driver: %s: %s\n", argv[1], jerr.text);
        return 2;
    }
    json_t *c = json_object_get(spec, "config");
    const char *service = str(c, "service");
    char *key_pem = slurp(str(c, "key_pem_file"));
    char *sa = slurp(str(c, "service_account_file"));
    struct cr_push_config cfg = {
        .service = service && strcmp(service, "fcm") == 0 ? CR_PUSH_FCM : CR_PUSH_APNS,
        .name = str(c, "name"),
        .team_id = str(c, "team_id"),
        .key_id = str(c, "key_id"),
        .key_pem = key_pem,
        .topic = str(c, "topic"),
        .sandbox = (int)json_integer_value(json_object_get(c, "sandbox")),
        .service_account_json = sa,
        .project_id = str(c, "project_id"),
        .token_url = str(c, "token_url"),
        .url = str(c, "url"),
        .ca_file = str(c, "ca_file"),
        .concurrency = (int)json_integer_value(json_object_get(c, "concurrency")),
        .rate = json_number_value(json_object_get(c, "rate")),
    };
    struct cr_err err = CR_ERR_INIT;
    struct cr_push_transport *t = NULL;
    int rc = cr_push_transport_new(&cfg, &t, &err);
    if (rc) {
        emit("new",
             json_pack("{s:i, s:s, s:s}", "rc", rc, "errname", cr_errname(rc), "err", err.msg));
    } else {
        json_t *msgs = json_incref(json_object_get(spec, "messages"));
        json_int_t rounds = json_integer_value(json_object_get(spec, "rounds"));
        for (int round = 1; round <= (rounds > 0 ? rounds : 1) && json_array_size(msgs); round++) {
            struct feed f = {msgs, 0, json_array(), round};
            cr_err_clear(&err);
            rc = cr_push_send_stream(t, next_msg, &f, on_done, &f, &err);
            emit("send", json_pack("{s:i, s:i, s:s, s:s}", "round", round, "rc", rc, "errname",
                                   rc ? cr_errname(rc) : "", "err", err.msg));
            json_decref(msgs);
            msgs = f.soft;
            if (rc)
                break;
        }
        json_decref(msgs);
        cr_push_transport_free(t);
        emit("free", json_true());
    }
    free(key_pem);
    free(sa);
    json_decref(spec);
    return 0;
}
