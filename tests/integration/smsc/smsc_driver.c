/*
 * smsc_driver.c - runs src/channel/sms/smpp*.c against the SMSC simulator, for test_smsc.py
 *
 * Usage: smsc_driver SPEC.json. The spec holds "config" (struct cr_smpp_config's fields),
 * "messages" ([{id, to, from?, text}], sent with one cr_smpp_send_stream() call through a
 * next() callback) and optionally "receipts" (wait, polling, until that many receipts have
 * arrived or "receipt_wait_ms" (default 10000) has passed). Prints JSON lines as things happen:
 *   {"result": {id, outcome, status, status_name, message_id, part_ids, reply}}
 *   {"receipt": {message_id, state, err}}
 *   {"send": {rc, err}}      after cr_smpp_send_stream() returns
 *   {"poll": {rc, err}}      after waiting for receipts
 *   {"free": true}           after cr_smpp_free()
 * or {"new": {rc, err}} when cr_smpp_new() fails. Receipts that arrive during cr_smpp_free()
 * are printed too. It does not judge anything: test_smsc.py does.
 * Exit status: 0 when the spec could be run, 2 if not.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel/sms/smpp.h"
#include "core/err.h"
#include "core/log.h"

struct feed {
    json_t *msgs;
    size_t i;
};

static int receipts;

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int num(json_t *o, const char *key)
{
    return (int)json_integer_value(json_object_get(o, key));
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

static int next_msg(void *src, struct cr_smpp_msg *m, struct cr_err *err)
{
    (void)err;
    struct feed *f = src;
    if (f->i >= json_array_size(f->msgs))
        return 0;
    json_t *o = json_array_get(f->msgs, f->i++);
    *m = (struct cr_smpp_msg){
        .id = json_integer_value(json_object_get(o, "id")),
        .to = str(o, "to"),
        .from = str(o, "from"),
        .text = str(o, "text"),
    };
    return 1;
}

static void on_done(void *data, const struct cr_smpp_result *r)
{
    (void)data;
    json_t *ids = json_array();
    for (size_t i = 0; i < r->nparts; i++)
        json_array_append_new(ids, json_string(r->part_ids[i]));
    emit("result", json_pack("{s:I, s:s, s:i, s:s, s:s, s:o, s:s}", "id", (json_int_t)r->id,
                             "outcome", cr_smpp_outcome_name(r->outcome), "status",
                             (int)r->status, "status_name", cr_smpp_status_name(r->status),
                             "message_id", r->message_id, "part_ids", ids, "reply", r->reply));
}

static void on_receipt(void *data, const char *message_id, enum cr_smpp_state state,
                       const char *err)
{
    (void)data;
    receipts++;
    emit("receipt", json_pack("{s:s, s:s, s:s?}", "message_id", message_id, "state",
                              cr_smpp_state_name(state), "err", err));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: smsc_driver SPEC.json\n");
        return 2;
    }
    cr_log_init_from_env(); /* CRIER_LOG=trace shows every PDU */
    json_error_t jerr;
    json_t *spec = json_load_file(argv[1], 0, &jerr);
    if (!spec) {
        fprintf(stderr, "smsc_driver: %s: %s\n", argv[1], jerr.text);
        return 2;
    }
    json_t *c = json_object_get(spec, "config");
    struct cr_smpp_config cfg = {
        .host = str(c, "host"),
        .port = num(c, "port"),
        .system_id = str(c, "system_id"),
        .password = str(c, "password"),
        .system_type = str(c, "system_type"),
        .source_addr = str(c, "source_addr"),
        .source_ton = num(c, "source_ton"),
        .source_npi = num(c, "source_npi"),
        .transceiver = num(c, "transceiver"),
        .window = num(c, "window"),
        .rate = json_number_value(json_object_get(c, "rate")),
        .enquire_secs = num(c, "enquire_secs"),
        .timeout_secs = num(c, "timeout_secs"),
    };
    struct cr_err err = CR_ERR_INIT;
    struct cr_smpp *s = NULL;
    int rc = cr_smpp_new(&cfg, &s, &err);
    if (rc) {
        emit("new", json_pack("{s:i, s:s}", "rc", rc, "err", err.msg));
        json_decref(spec);
        return 0;
    }
    if (!json_is_false(json_object_get(spec, "receipt_handler")))
        cr_smpp_set_receipt_handler(s, on_receipt, NULL);
    struct feed f = {json_object_get(spec, "messages"), 0};
    rc = cr_smpp_send_stream(s, next_msg, &f, on_done, NULL, &err);
    emit("send", json_pack("{s:i, s:s}", "rc", rc, "err", err.msg));
    int want = num(spec, "receipts");
    if (rc == 0 && want > 0) {
        int wait = json_object_get(spec, "receipt_wait_ms") ? num(spec, "receipt_wait_ms")
                                                              : 10000;
        cr_err_clear(&err);
        for (int waited = 0; rc == 0 && receipts < want && waited < wait; waited += 100)
            rc = cr_smpp_poll(s, 100, &err);
        emit("poll", json_pack("{s:i, s:s}", "rc", rc, "err", err.msg));
    }
    cr_smpp_free(s);
    emit("free", json_true());
    json_decref(spec);
    return 0;
}
