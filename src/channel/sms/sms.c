/*
 * sms.c - the SMS channel: text rendering with tracked links, and the transports
 */
#include "channel/sms/sms.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel/sms/gsm.h"
#include "channel/sms/smpp.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/config.h"
#include "template/template.h"
#include "tracking/token.h"
#include "tracking/urls.h"

struct cr_sms_channel {
    struct cr_sms_opts o;
    struct cr_template *text;
    char *sender;
    struct cr_tvars *vars;
    struct cr_trecord *rec;
    json_t *delivery, *campaign;
    struct cr_buf raw;

    /* tracking: set when clicks are tracked */
    char *public_url;
    struct cr_token_keys keys;
    struct cr_delivery_urls *urls;
    int64_t log_id;

    /* transport: one of */
    struct cr_smpp *smpp;
    char *file_path;
    struct cr_sms_events ev;
};

static int open_tracking(struct cr_sms_channel *ch, struct cr_store *s, struct cr_err *err)
{
    const char *tracking = json_string_value(json_object_get(ch->o.options, "tracking"));
    int rc;
    if (tracking && strcmp(tracking, "none") == 0)
        return 0;
    if ((rc = cr_config_get(s, "public_url", &ch->public_url, err)) || !ch->public_url)
        return rc;
    size_t n = strlen(ch->public_url);
    while (n && ch->public_url[n - 1] == '/')
        ch->public_url[--n] = 0;
    if ((rc = cr_token_keys_load(s, &ch->keys, err)))
        return rc;
    return cr_urls_open(s, ch->o.delivery_id, &ch->urls, err);
}

static int open_transport(struct cr_sms_channel *ch, const struct cr_account *a, struct cr_err *err)
{
    json_t *st = a->settings;
    if (strcmp(a->kind, "file") == 0) {
        const char *dir = json_string_value(json_object_get(st, "dir"));
        if (!dir)
            return cr_err_set(err, CR_EINVAL, "account '%s' has no folder", a->name);
        struct cr_buf p = CR_BUF_INIT(0);
        cr_buf_printf(&p, "%s/%lld.jsonl", dir, (long long)ch->o.delivery_id);
        ch->file_path = cr_xstrdup(p.data);
        cr_buf_release(&p);
        return 0;
    }
    if (strcmp(a->kind, "smpp") != 0)
        return cr_err_set(err, CR_EINVAL, "account '%s' is a %s account, not an SMS one", a->name,
                          a->kind);
    struct cr_smpp_config c = {0};
    const char *bind = json_string_value(json_object_get(st, "bind"));
    c.host = json_string_value(json_object_get(st, "host"));
    c.port = (int)json_integer_value(json_object_get(st, "port"));
    c.system_id = json_string_value(json_object_get(st, "system_id"));
    c.password = a->secrets ? json_string_value(json_object_get(a->secrets, "password")) : NULL;
    c.system_type = json_string_value(json_object_get(st, "system_type"));
    c.source_addr = json_string_value(json_object_get(st, "source_addr"));
    /* an alphanumeric sender is TON 5; a number is international */
    int alpha = 0;
    for (const char *p = c.source_addr ? c.source_addr : ""; *p; p++)
        alpha |= !(*p >= '0' && *p <= '9') && !(p == c.source_addr && *p == '+');
    json_t *ton = json_object_get(st, "source_ton"), *npi = json_object_get(st, "source_npi");
    c.source_ton = ton ? (int)json_integer_value(ton) : alpha ? 5 : 1;
    c.source_npi = npi ? (int)json_integer_value(npi) : alpha ? 0 : 1;
    c.transceiver = !bind || strcmp(bind, "transmitter") != 0;
    c.window = (int)json_integer_value(json_object_get(st, "window"));
    c.rate = json_number_value(json_object_get(st, "rate"));
    int rc = cr_smpp_new(&c, &ch->smpp, err);
    if (rc)
        cr_err_prefix(err, "account '%s': ", a->name);
    return rc;
}

int cr_sms_channel_open(struct cr_store *s, const json_t *content, const struct cr_account *acct,
                        const struct cr_schema *profile, const struct cr_sms_opts *o,
                        struct cr_sms_channel **out, struct cr_err *err)
{
    struct cr_sms_channel *ch = cr_xcalloc(1, sizeof *ch);
    const char *text = json_string_value(json_object_get(content, "text"));
    const char *sender = json_string_value(json_object_get(content, "sender"));
    struct cr_template_opts to = {0};
    int rc;
    *out = NULL;
    ch->o = *o;
    cr_buf_init(&ch->raw, 1u << 20);
    if (!text) {
        rc = cr_err_set(err, CR_EINVAL, "delivery %lld: its content has no text",
                        (long long)o->delivery_id);
        goto fail;
    }
    to.strict = o->strict;
    to.load_snippet = cr_snippet_load_store;
    to.snippet_data = s;
    to.clock = o->clock;
    if ((rc = cr_template_compile(text, strlen(text), &to, &ch->text, err))) {
        cr_err_prefix(err, "text: ");
        goto fail;
    }
    ch->sender = sender ? cr_xstrdup(sender) : NULL;
    if ((rc = open_tracking(ch, s, err)) ||
        (!o->render_only && (rc = open_transport(ch, acct, err))))
        goto fail;
    ch->vars = cr_tvars_new();
    ch->rec = cr_trecord_new(profile->cols, profile->ncols);
    ch->delivery =
        json_pack("{sI ss}", "id", (json_int_t)o->delivery_id, "label", o->label ? o->label : "");
    ch->campaign = o->campaign ? json_deep_copy(o->campaign) : NULL;
    *out = ch;
    return 0;
fail:
    cr_sms_channel_close(ch);
    return rc;
}

void cr_sms_channel_close(struct cr_sms_channel *ch)
{
    if (!ch)
        return;
    cr_smpp_free(ch->smpp); /* unbind: late receipts still reach the events */
    cr_template_free(ch->text);
    free(ch->sender);
    if (ch->vars)
        cr_tvars_free(ch->vars);
    if (ch->rec)
        cr_trecord_free(ch->rec);
    json_decref(ch->delivery);
    json_decref(ch->campaign);
    cr_buf_release(&ch->raw);
    free(ch->public_url);
    cr_urls_close(ch->urls);
    free(ch->file_path);
    free(ch);
}

static int track_link(void *data, const struct cr_link *l, struct cr_buf *out)
{
    struct cr_sms_channel *ch = data;
    return cr_urls_click(ch->urls, &ch->keys, ch->public_url, ch->o.delivery_id, ch->log_id, l->url,
                         l->label, out);
}

int cr_sms_render(struct cr_sms_channel *ch, const char *const *row, int64_t log_id,
                  struct cr_buf *out, struct cr_err *err)
{
    int rc;
    cr_trecord_set_row(ch->rec, row);
    cr_tvars_clear(ch->vars);
    cr_tvars_set_record(ch->vars, "profile", ch->rec);
    cr_tvars_set_json(ch->vars, "delivery", ch->delivery);
    if (ch->campaign)
        cr_tvars_set_json(ch->vars, "campaign", ch->campaign);
    cr_buf_reset(out);
    if (!ch->urls) {
        if ((rc = cr_template_render(ch->text, ch->vars, out, err)))
            cr_err_prefix(err, "text: ");
        return rc;
    }
    cr_buf_reset(&ch->raw);
    if ((rc = cr_template_render(ch->text, ch->vars, &ch->raw, err))) {
        cr_err_prefix(err, "text: ");
        return rc;
    }
    ch->log_id = log_id;
    struct cr_link_opts lo = {track_link, NULL, ch};
    rc = cr_links_text(ch->raw.data, ch->raw.len, &lo, out, NULL, err);
    if (rc && rc != CR_EIO)
        cr_err_prefix(err, "text: ");
    return rc;
}

const char *cr_sms_sender(const struct cr_sms_channel *ch)
{
    return ch->sender;
}

void cr_sms_set_events(struct cr_sms_channel *ch, const struct cr_sms_events *ev)
{
    ch->ev = *ev;
    if (ch->smpp) {
        cr_smpp_set_receipt_handler(ch->smpp, ev->receipt, ev->data);
        cr_smpp_set_mo_handler(ch->smpp, ev->mo, ev->data);
    }
}

int cr_sms_listens(const struct cr_sms_channel *ch)
{
    return ch->smpp != NULL;
}

int cr_sms_poll(struct cr_sms_channel *ch, int timeout_ms, struct cr_err *err)
{
    return ch->smpp ? cr_smpp_poll(ch->smpp, timeout_ms, err) : 0;
}

/* ------------------------------------------------------------------ SMPP --- */

struct smpp_ctx {
    int (*next)(void *, struct cr_sms_out *, struct cr_err *);
    void *src;
    void (*done)(void *, const struct cr_sms_result *);
    void *data;
    const char *sender;
};

static int smpp_next(void *p, struct cr_smpp_msg *m, struct cr_err *err)
{
    struct smpp_ctx *x = p;
    struct cr_sms_out o;
    int rc = x->next(x->src, &o, err);
    if (rc == 1) {
        m->id = o.log_id;
        m->to = o.to;
        m->from = x->sender;
        m->text = o.text;
    }
    return rc;
}

static void smpp_done(void *p, const struct cr_smpp_result *r)
{
    struct smpp_ctx *x = p;
    struct cr_sms_result o = {r->id,
                              r->outcome == CR_SMPP_SENT   ? CR_SMS_SENT
                              : r->outcome == CR_SMPP_HARD ? CR_SMS_HARD
                                                           : CR_SMS_SOFT,
                              r->status,
                              r->message_id ? r->message_id : "",
                              r->nparts,
                              r->reply};
    x->done(x->data, &o);
}

/* ------------------------------------------------------------------ file --- */

#define FILE_SYNC 256 /* messages written between two fsyncs (their outcomes wait for it) */

struct pending {
    int64_t log_id;
    size_t parts;
};

/* Writes the buffered lines, syncs, then reports them: sent once on disk, soft (to be
 * written again later) when the write failed. Returns the write's error. */
static int file_sync(int fd, struct pending *p, size_t n, struct cr_buf *lines,
                     void (*done)(void *, const struct cr_sms_result *), void *data,
                     const char *path, struct cr_err *err)
{
    /* a failed chunk is sent again later: cut back, or its lines would be there twice */
    int rc = cr_buf_append_synced(lines, fd, path, err);
    cr_buf_reset(lines);
    for (size_t i = 0; i < n; i++) {
        char mid[32];
        snprintf(mid, sizeof mid, "file-%lld", (long long)p[i].log_id);
        struct cr_sms_result r = {p[i].log_id, rc ? CR_SMS_SOFT : CR_SMS_SENT,  0, rc ? "" : mid,
                                  p[i].parts,  rc ? cr_err_msg(err) : "written"};
        done(data, &r);
    }
    return rc;
}

static int file_send(struct cr_sms_channel *ch,
                     int (*next)(void *, struct cr_sms_out *, struct cr_err *), void *src,
                     void (*done)(void *, const struct cr_sms_result *), void *data,
                     struct cr_err *err)
{
    int fd = open(ch->file_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return cr_err_set(err, CR_EIO, "%s: %s", ch->file_path, strerror(errno));
    struct pending *p = cr_xcalloc(FILE_SYNC, sizeof *p);
    struct cr_buf lines = CR_BUF_INIT(0);
    size_t n = 0;
    int rc;
    struct cr_sms_out m;
    while ((rc = next(src, &m, err)) == 1) {
        enum cr_sms_coding coding;
        size_t parts = 0;
        struct cr_err e = CR_ERR_INIT;
        if (cr_sms_count(m.text, strlen(m.text), &coding, &parts, NULL, &e)) {
            struct cr_sms_result r = {m.log_id, CR_SMS_HARD, 0, "", parts, cr_err_msg(&e)};
            done(data, &r);
            continue;
        }
        json_t *j =
            json_pack("{sI sI ss ss* ss sI ss}", "delivery", (json_int_t)ch->o.delivery_id, "log",
                      (json_int_t)m.log_id, "to", m.to, "from", ch->sender, "text", m.text, "parts",
                      (json_int_t)parts, "coding", coding == CR_SMS_GSM7 ? "gsm7" : "ucs2");
        char *line = json_dumps(j, JSON_COMPACT);
        cr_buf_puts(&lines, line);
        cr_buf_putc(&lines, '\n');
        free(line);
        json_decref(j);
        p[n].log_id = m.log_id;
        p[n].parts = parts;
        if (++n == FILE_SYNC) {
            rc = file_sync(fd, p, n, &lines, done, data, ch->file_path, err);
            n = 0;
            if (rc)
                break;
        }
    }
    /* what was written is reported even when next() failed: it is on disk */
    struct cr_err e2 = CR_ERR_INIT;
    int rc2 = file_sync(fd, p, n, &lines, done, data, ch->file_path, rc < 0 ? &e2 : err);
    if (rc >= 0)
        rc = rc2;
    close(fd);
    free(p);
    cr_buf_release(&lines);
    return rc < 0 ? rc : 0;
}

int cr_sms_send_stream(struct cr_sms_channel *ch,
                       int (*next)(void *src, struct cr_sms_out *m, struct cr_err *err), void *src,
                       void (*done)(void *data, const struct cr_sms_result *r), void *data,
                       struct cr_err *err)
{
    if (ch->file_path)
        return file_send(ch, next, src, done, data, err);
    if (!ch->smpp)
        return cr_err_set(err, CR_EINVAL, "delivery %lld: no SMS transport",
                          (long long)ch->o.delivery_id);
    struct smpp_ctx x = {next, src, done, data, ch->sender};
    return cr_smpp_send_stream(ch->smpp, smpp_next, &x, smpp_done, &x, err);
}
