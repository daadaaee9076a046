/*
 * smtp_driver.c - runs src/channel/email/smtp.c against a test server, for test_smtp.py
 *
 * Usage: smtp_driver SPEC.json. The spec holds "config" (struct cr_smtp_config's fields) and
 * "batches": lists of messages ({id, mail_from, rcpt, bcc?, data}), each list one
 * cr_smtp_send() call on the same struct cr_smtp; a batch may also be {"pause_ms": N,
 * "messages": [...]} to wait before the call. Prints one JSON object: the result of
 * cr_smtp_new() and, per batch, its return code and every done() result in arrival order.
 * cr_smtp_free() runs before the output is printed, so the server has seen the QUITs.
 * Exit status: 0 when the spec could be run (outcomes are judged by the caller), 2 if not.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "channel/email/smtp.h"
#include "core/err.h"
#include "core/log.h"

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void on_done(void *data, const struct cr_smtp_result *r)
{
    json_t *results = data;
    json_array_append_new(results, json_pack("{s:I, s:s, s:i, s:s}", "id", (json_int_t)r->id,
                                             "outcome", cr_smtp_outcome_name(r->outcome), "code",
                                             r->code, "reply", r->reply));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: smtp_driver SPEC.json\n");
        return 2;
    }
    cr_log_init_from_env(); /* CRIER_LOG=trace shows the SMTP dialogue (AUTH lines hidden) */
    json_error_t jerr;
    json_t *spec = json_load_file(argv[1], 0, &jerr);
    if (!spec) {
        fprintf(stderr, "smtp_driver: %s: %s\n", argv[1], jerr.text);
        return 2;
    }
    json_t *c = json_object_get(spec, "config");
    const char *tls = str(c, "tls");
    struct cr_smtp_config cfg = {
        .url = str(c, "url"),
        .tls = !tls || !strcmp(tls, "none") ? CR_SMTP_TLS_NONE
               : !strcmp(tls, "starttls")   ? CR_SMTP_TLS_STARTTLS
                                            : CR_SMTP_TLS_IMPLICIT,
        .user = str(c, "user"),
        .password = str(c, "password"),
        .ca_file = str(c, "ca_file"),
        .connections = (int)json_integer_value(json_object_get(c, "connections")),
        .rate = json_number_value(json_object_get(c, "rate")),
        .timeout_ms = (long)json_integer_value(json_object_get(c, "timeout_ms")),
        .helo = str(c, "helo"),
    };
    json_t *out = json_object();
    struct cr_err err = CR_ERR_INIT;
    struct cr_smtp *s = NULL;
    int rc = cr_smtp_new(&cfg, &s, &err);
    json_object_set_new(out, "new", json_pack("{s:i, s:s}", "rc", rc, "err", err.msg));
    json_t *batches_out = json_array();
    json_object_set_new(out, "batches", batches_out);
    size_t bi;
    json_t *batch;
    json_array_foreach(rc ? NULL : json_object_get(spec, "batches"), bi, batch)
    {
        if (json_is_object(batch)) { /* {"pause_ms": N, "messages": [...]} */
            long pause = (long)json_integer_value(json_object_get(batch, "pause_ms"));
            struct timespec ts = {pause / 1000, (pause % 1000) * 1000000};
            nanosleep(&ts, NULL);
            batch = json_object_get(batch, "messages");
        }
        size_t n = json_array_size(batch);
        struct cr_smtp_msg *msgs = calloc(n ? n : 1, sizeof *msgs);
        for (size_t i = 0; i < n; i++) {
            json_t *m = json_array_get(batch, i);
            json_t *d = json_object_get(m, "data");
            msgs[i] = (struct cr_smtp_msg){
                .id = json_integer_value(json_object_get(m, "id")),
                .mail_from = str(m, "mail_from"),
                .rcpt = str(m, "rcpt"),
                .bcc = str(m, "bcc"),
                .data = json_string_value(d),
                .len = json_string_length(d),
            };
        }
        json_t *results = json_array();
        cr_err_clear(&err);
        int brc = cr_smtp_send(s, msgs, n, on_done, results, &err);
        json_array_append_new(batches_out, json_pack("{s:i, s:s, s:o}", "rc", brc, "err", err.msg,
                                                     "results", results));
        free(msgs);
    }
    cr_smtp_free(s);
    char *text = json_dumps(out, JSON_COMPACT);
    puts(text);
    free(text);
    json_decref(out);
    json_decref(spec);
    return 0;
}
