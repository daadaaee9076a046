/*
 * email.c - rendering a delivery's email per recipient and handing it to the transport
 */
#include "channel/email/email.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel/email/dkim.h"
#include "channel/email/mime.h"
#include "channel/email/smtp.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/random.h"
#include "store/config.h"
#include "template/template.h"
#include "tracking/token.h"
#include "tracking/urls.h"

enum { F_FROM, F_REPLY_TO, F_SUBJECT, F_HTML, F_TEXT, NFIELDS };
static const char *const field_names[NFIELDS] = {"from", "reply_to", "subject", "html", "text"};

struct cr_email_channel {
    struct cr_template *t[NFIELDS];
    char **hname;
    struct cr_template **hval;
    size_t nheaders;
    struct cr_tvars *vars;
    struct cr_trecord *rec;
    size_t ncols;
    struct cr_buf part[NFIELDS], hbuf;
    struct cr_dkim *dkim;
    struct cr_smtp *smtp;
    char *pickup_dir;
    char *bcc;
    char *public_url, *unsub_mailto; /* from the store's settings, NULL when unset */
    struct cr_token_keys keys;
    int has_keys;
    struct cr_buf unsub_url, mirror_url, unsub_mail;
    /* tracking: click links and the open pixel, when a public URL is set */
    struct cr_delivery_urls *urls;
    int track_clicks, track_opens;
    int consent_col;      /* profile.tracking_consent, -1 when absent */
    int consent_required; /* the account asks for it before a pixel */
    int64_t log_id;       /* the recipient being rendered */
    const char *const *row;
    struct cr_buf html_out, text_out; /* the parts with their links rewritten */
    struct cr_email_opts o;
    json_t *delivery; /* {"id","label"} bound as `delivery` */
    json_t *campaign; /* owned copy of the options' */
    struct cr_buf envelope_from;
    cr_time_t now; /* 0: read the clock */
};

const char *cr_email_envelope_from(struct cr_email_channel *ch)
{
    return ch->envelope_from.data;
}

void cr_email_set_now(struct cr_email_channel *ch, cr_time_t now)
{
    ch->now = now;
}

int cr_email_addr_spec(const char *from, struct cr_buf *out)
{
    const char *lt = strrchr(from, '<'), *gt = lt ? strchr(lt, '>') : NULL;
    cr_buf_reset(out);
    if (lt && gt)
        cr_buf_append(out, lt + 1, (size_t)(gt - lt - 1));
    else
        cr_buf_puts(out, from);
    return out->err;
}

static int compile(struct cr_store *s, const char *field, const char *src, int strict,
                   struct cr_clock *clock, struct cr_template **t, struct cr_err *err)
{
    struct cr_template_opts o = {0};
    o.strict = strict;
    o.load_snippet = cr_snippet_load_store;
    o.snippet_data = s;
    o.clock = clock;
    int rc = cr_template_compile(src, strlen(src), &o, t, err);
    if (rc)
        cr_err_prefix(err, "%s: ", field);
    return rc;
}

static int open_transport(struct cr_email_channel *ch, const struct cr_account *a,
                          struct cr_err *err)
{
    json_t *st = a->settings;
    const char *bcc = json_string_value(json_object_get(st, "bcc"));
    if (bcc)
        ch->bcc = cr_xstrdup(bcc);
    if (strcmp(a->kind, "pickup") == 0) {
        const char *dir = json_string_value(json_object_get(st, "dir"));
        if (!dir)
            return cr_err_set(err, CR_EINVAL, "account '%s' has no folder", a->name);
        ch->pickup_dir = cr_xstrdup(dir);
        return 0;
    }
    if (strcmp(a->kind, "smtp") != 0)
        return cr_err_set(err, CR_EINVAL, "account '%s' is a %s account, not an email one", a->name,
                          a->kind);
    struct cr_smtp_config c = {0};
    const char *tls = json_string_value(json_object_get(st, "tls"));
    c.url = json_string_value(json_object_get(st, "url"));
    c.tls = tls && strcmp(tls, "none") == 0       ? CR_SMTP_TLS_NONE
            : tls && strcmp(tls, "implicit") == 0 ? CR_SMTP_TLS_IMPLICIT
                                                  : CR_SMTP_TLS_STARTTLS;
    c.user = json_string_value(json_object_get(st, "user"));
    c.password = a->secrets ? json_string_value(json_object_get(a->secrets, "password")) : NULL;
    c.ca_file = json_string_value(json_object_get(st, "ca_file"));
    c.connections = (int)json_integer_value(json_object_get(st, "connections"));
    c.rate = json_number_value(json_object_get(st, "rate"));
    return cr_smtp_new(&c, &ch->smtp, err);
}

/* Unsubscribe and mirror links need the public URL (crier config set public_url URL) and
 * the tracking secret; without a public URL, messages carry no https links. */
static int load_links(struct cr_email_channel *ch, struct cr_store *s, struct cr_err *err)
{
    int rc;
    cr_buf_init(&ch->unsub_url, 4096);
    cr_buf_init(&ch->mirror_url, 4096);
    cr_buf_init(&ch->unsub_mail, 4096);
    if ((rc = cr_config_get(s, "public_url", &ch->public_url, err)) ||
        (rc = cr_config_get(s, "unsubscribe.mailto", &ch->unsub_mailto, err)))
        return rc;
    if (ch->public_url) {
        size_t n = strlen(ch->public_url);
        while (n && ch->public_url[n - 1] == '/')
            ch->public_url[--n] = 0;
    }
    if (!ch->public_url && !ch->unsub_mailto)
        return 0;
    if ((rc = cr_token_keys_load(s, &ch->keys, err)))
        return rc;
    ch->has_keys = 1;
    const char *tracking = json_string_value(json_object_get(ch->o.options, "tracking"));
    if (!ch->public_url || (tracking && strcmp(tracking, "none") == 0))
        return 0;
    ch->track_clicks = 1;
    ch->track_opens = !tracking || strcmp(tracking, "no_opens") != 0;
    return cr_urls_open(s, ch->o.delivery_id, &ch->urls, err);
}

/* The links of one recipient (log_id) into the channel's buffers and the template's
 * variables unsubscribe_url and mirror_url. */
static void set_links(struct cr_email_channel *ch, int64_t log_id)
{
    char tok[CR_TOKEN_MAX];
    struct cr_token t = {CR_TOKEN_UNSUBSCRIBE, ch->o.delivery_id, log_id, 0};
    cr_buf_reset(&ch->unsub_url);
    cr_buf_reset(&ch->mirror_url);
    cr_buf_reset(&ch->unsub_mail);
    if (!ch->has_keys)
        return;
    cr_token_encode(&ch->keys, &t, tok);
    if (ch->public_url) {
        cr_buf_printf(&ch->unsub_url, "%s/u/%s", ch->public_url, tok);
        t.kind = CR_TOKEN_MIRROR;
        cr_token_encode(&ch->keys, &t, tok);
        cr_buf_printf(&ch->mirror_url, "%s/m/%s", ch->public_url, tok);
        cr_tvars_set_str(ch->vars, "unsubscribe_url", ch->unsub_url.data, ch->unsub_url.len);
        cr_tvars_set_str(ch->vars, "mirror_url", ch->mirror_url.data, ch->mirror_url.len);
        t.kind = CR_TOKEN_UNSUBSCRIBE;
        cr_token_encode(&ch->keys, &t, tok);
    }
    if (ch->unsub_mailto)
        cr_buf_printf(&ch->unsub_mail, "%s?subject=unsubscribe%%20%s", ch->unsub_mailto, tok);
}

int cr_email_channel_open(struct cr_store *s, const json_t *content, const struct cr_account *acct,
                          const struct cr_schema *profile, const struct cr_email_opts *o,
                          struct cr_email_channel **out, struct cr_err *err)
{
    struct cr_email_channel *ch = cr_xcalloc(1, sizeof *ch);
    int rc = 0;
    *out = NULL;
    ch->o = *o;
    for (int i = 0; i < NFIELDS; i++) {
        const char *src = json_string_value(json_object_get(content, field_names[i]));
        cr_buf_init(&ch->part[i], 16u << 20);
        if (src && !rc)
            rc = compile(s, field_names[i], src, o->strict, o->clock, &ch->t[i], err);
    }
    cr_buf_init(&ch->hbuf, 1u << 20);
    json_t *h = json_object_get(content, "headers"), *v;
    const char *k;
    ch->hname = cr_xcalloc(json_object_size(h) + 1, sizeof *ch->hname);
    ch->hval = cr_xcalloc(json_object_size(h) + 1, sizeof *ch->hval);
    json_object_foreach(h, k, v)
    {
        if (rc || !json_is_string(v))
            continue;
        ch->hname[ch->nheaders] = cr_xstrdup(k);
        rc = compile(s, k, json_string_value(v), o->strict, o->clock, &ch->hval[ch->nheaders], err);
        ch->nheaders++;
    }
    if (!rc && acct->secrets && json_object_get(acct->secrets, "dkim_key")) {
        const char *pem = json_string_value(json_object_get(acct->secrets, "dkim_key"));
        rc = cr_dkim_new(json_string_value(json_object_get(acct->settings, "dkim_selector")),
                         json_string_value(json_object_get(acct->settings, "dkim_domain")), pem,
                         strlen(pem), &ch->dkim, err);
    }
    if (!rc && !o->render_only)
        rc = open_transport(ch, acct, err);
    if (!rc)
        rc = load_links(ch, s, err);
    ch->consent_col = -1;
    for (size_t i = 0; i < profile->ncols; i++)
        if (strcmp(profile->cols[i].name, "tracking_consent") == 0)
            ch->consent_col = (int)i;
    const char *consent = json_string_value(json_object_get(acct->settings, "tracking_consent"));
    ch->consent_required = consent && strcmp(consent, "required") == 0;
    cr_buf_init(&ch->html_out, 16u << 20);
    cr_buf_init(&ch->text_out, 16u << 20);
    if (rc) {
        cr_email_channel_close(ch);
        return rc;
    }
    ch->vars = cr_tvars_new();
    ch->rec = cr_trecord_new(profile->cols, profile->ncols);
    ch->ncols = profile->ncols;
    ch->delivery =
        json_pack("{sI ss}", "id", (json_int_t)o->delivery_id, "label", o->label ? o->label : "");
    ch->campaign = o->campaign ? json_deep_copy(o->campaign) : NULL;
    *out = ch;
    return 0;
}

void cr_email_channel_close(struct cr_email_channel *ch)
{
    if (!ch)
        return;
    for (int i = 0; i < NFIELDS; i++) {
        cr_template_free(ch->t[i]);
        cr_buf_release(&ch->part[i]);
    }
    for (size_t i = 0; i < ch->nheaders; i++) {
        free(ch->hname[i]);
        cr_template_free(ch->hval[i]);
    }
    free(ch->hname);
    free(ch->hval);
    cr_buf_release(&ch->hbuf);
    if (ch->vars)
        cr_tvars_free(ch->vars);
    if (ch->rec)
        cr_trecord_free(ch->rec);
    cr_dkim_free(ch->dkim);
    cr_smtp_free(ch->smtp);
    free(ch->pickup_dir);
    free(ch->bcc);
    free(ch->public_url);
    free(ch->unsub_mailto);
    cr_buf_release(&ch->unsub_url);
    cr_buf_release(&ch->mirror_url);
    cr_buf_release(&ch->unsub_mail);
    cr_buf_release(&ch->html_out);
    cr_buf_release(&ch->text_out);
    cr_urls_close(ch->urls);
    cr_buf_release(&ch->envelope_from);
    json_decref(ch->delivery);
    json_decref(ch->campaign);
    free(ch);
}

static int render_field(struct cr_email_channel *ch, int i, struct cr_err *err)
{
    cr_buf_reset(&ch->part[i]);
    if (!ch->t[i])
        return 0;
    int rc = cr_template_render(ch->t[i], ch->vars, &ch->part[i], err);
    if (rc)
        cr_err_prefix(err, "%s: ", field_names[i]);
    return rc;
}

/* ------------------------------------------------------------------ tracking --- */

static int track_link(void *data, const struct cr_link *l, struct cr_buf *out)
{
    struct cr_email_channel *ch = data;
    return cr_urls_click(ch->urls, &ch->keys, ch->public_url, ch->o.delivery_id, ch->log_id, l->url,
                         l->label, out);
}

static int consents(const struct cr_email_channel *ch)
{
    if (!ch->consent_required || ch->consent_col < 0)
        return 1;
    const char *v = ch->row[ch->consent_col];
    return v && (strcmp(v, "1") == 0 || strcmp(v, "t") == 0 || strcmp(v, "true") == 0);
}

static int open_pixel(void *data, struct cr_buf *out)
{
    struct cr_email_channel *ch = data;
    char tok[CR_TOKEN_MAX];
    if (!ch->track_opens || !consents(ch))
        return 0;
    struct cr_token t = {CR_TOKEN_OPEN, ch->o.delivery_id, ch->log_id, 0};
    cr_token_encode(&ch->keys, &t, tok);
    cr_buf_printf(out,
                  "<img src=\"%s/o/%s\" width=\"1\" height=\"1\" alt=\"\" border=\"0\" "
                  "style=\"height:1px;width:1px;border:0;margin:0;padding:0\">",
                  ch->public_url, tok);
    return out->err;
}

/* Renders every field for the recipient, then the link pass over the html and text parts
 * (into html_out/text_out): click links always (when tracking), the pixel when asked. */
static int render_all(struct cr_email_channel *ch, const char *const *row, int64_t log_id,
                      int pixel, struct cr_err *err)
{
    int rc = 0;
    cr_trecord_set_row(ch->rec, row);
    cr_tvars_clear(ch->vars);
    cr_tvars_set_record(ch->vars, "profile", ch->rec);
    cr_tvars_set_json(ch->vars, "delivery", ch->delivery);
    if (ch->campaign)
        cr_tvars_set_json(ch->vars, "campaign", ch->campaign);
    set_links(ch, log_id);
    ch->log_id = log_id;
    ch->row = row;
    for (int i = 0; i < NFIELDS && !rc; i++)
        rc = render_field(ch, i, err);
    cr_buf_reset(&ch->html_out);
    cr_buf_reset(&ch->text_out);
    if (rc || !ch->urls)
        return rc;
    struct cr_link_opts lo = {track_link, pixel ? open_pixel : NULL, ch};
    if (ch->t[F_HTML] && (rc = cr_links_html(ch->part[F_HTML].data, ch->part[F_HTML].len, &lo,
                                             &ch->html_out, NULL, err)))
        return rc == CR_EIO ? rc : (cr_err_prefix(err, "html: "), rc);
    if (ch->t[F_TEXT] && (rc = cr_links_text(ch->part[F_TEXT].data, ch->part[F_TEXT].len, &lo,
                                             &ch->text_out, NULL, err)))
        return rc == CR_EIO ? rc : (cr_err_prefix(err, "text: "), rc);
    return 0;
}

static const char *html_of(struct cr_email_channel *ch)
{
    return !ch->t[F_HTML] ? NULL : ch->urls ? ch->html_out.data : ch->part[F_HTML].data;
}

static const char *text_of(struct cr_email_channel *ch)
{
    return !ch->t[F_TEXT] ? NULL : ch->urls ? ch->text_out.data : ch->part[F_TEXT].data;
}

int cr_email_render_page(struct cr_email_channel *ch, const char *const *row, int64_t log_id,
                         struct cr_buf *out, struct cr_err *err)
{
    int rc = render_all(ch, row, log_id, 0, err);
    if (rc)
        return rc;
    const char *html = html_of(ch), *text = text_of(ch);
    if (html) {
        cr_buf_puts(out, html);
    } else {
        cr_buf_puts(out, "<!doctype html><meta charset=\"utf-8\"><pre>");
        cr_html_escape(out, text ? text : "", text ? strlen(text) : 0);
        cr_buf_puts(out, "</pre>");
    }
    return out->err ? cr_err_set(err, out->err, "mirror page too large") : 0;
}

int cr_email_render(struct cr_email_channel *ch, const char *const *row, const char *to,
                    int64_t log_id, int proof, struct cr_buf *msg, char *message_id,
                    struct cr_err *err)
{
    struct cr_mail_header *hdr = NULL;
    struct cr_buf from_addr = CR_BUF_INIT(1024), subject = CR_BUF_INIT(0);
    int rc = render_all(ch, row, log_id, 1, err);
    if (rc)
        goto out;
    /* headers render into one buffer, NUL-separated, so their pointers stay valid */
    cr_buf_reset(&ch->hbuf);
    size_t *off = cr_xcalloc(ch->nheaders + 1, sizeof *off);
    for (size_t i = 0; i < ch->nheaders && !rc; i++) {
        off[i] = ch->hbuf.len;
        if ((rc = cr_template_render(ch->hval[i], ch->vars, &ch->hbuf, err)))
            cr_err_prefix(err, "headers.%s: ", ch->hname[i]);
        cr_buf_putc(&ch->hbuf, 0);
    }
    if (!rc) {
        hdr = cr_xcalloc(ch->nheaders + 1, sizeof *hdr);
        for (size_t i = 0; i < ch->nheaders; i++) {
            hdr[i].name = ch->hname[i];
            hdr[i].value = ch->hbuf.data + off[i];
        }
    }
    free(off);
    if (rc)
        goto out;
    cr_email_addr_spec(ch->part[F_FROM].data, &from_addr);
    cr_buf_reset(&ch->envelope_from);
    cr_buf_append(&ch->envelope_from, from_addr.data, from_addr.len);
    const char *at = strrchr(from_addr.data, '@');
    uint32_t r;
    cr_random_bytes(&r, sizeof r);
    snprintf(message_id, 160, "%lld.%lld.%08x@%.100s", (long long)ch->o.delivery_id,
             (long long)log_id, r, at ? at + 1 : "crier.invalid");
    if (proof)
        cr_buf_puts(&subject, "[PROOF] ");
    cr_buf_append(&subject, ch->part[F_SUBJECT].data, ch->part[F_SUBJECT].len);
    struct cr_mail m = {0};
    m.from = ch->part[F_FROM].data;
    m.reply_to = ch->part[F_REPLY_TO].len ? ch->part[F_REPLY_TO].data : NULL;
    m.to = to;
    m.subject = subject.data;
    m.html = html_of(ch);
    m.text = text_of(ch);
    m.headers = hdr;
    m.nheaders = ch->nheaders;
    m.message_id = message_id;
    /* RFC 8058 one-click needs https; an http public URL (a test setup) only feeds the
     * {{ unsubscribe_url }} variable */
    m.unsubscribe_url = strncmp(ch->unsub_url.data, "https://", 8) == 0 ? ch->unsub_url.data : NULL;
    m.unsubscribe_mailto = ch->unsub_mail.len ? ch->unsub_mail.data : NULL;
    m.date = ch->now ? ch->now : cr_clock_now(ch->o.clock);
    m.iso2022jp = cr_mail_is_jp_carrier(to);
    struct cr_buf text = CR_BUF_INIT(0);
    if (!m.text && m.html) { /* a text version for clients that do not show html */
        if ((rc = cr_mail_html_to_text(m.html, strlen(m.html), &text, err)))
            goto out_text;
        m.text = text.data;
    }
    cr_buf_reset(msg);
    if (ch->dkim) {
        struct cr_buf raw = CR_BUF_INIT(0);
        if (!(rc = cr_mail_build(&m, &raw, err)))
            rc = cr_dkim_sign(ch->dkim, raw.data, raw.len, msg, err);
        cr_buf_release(&raw);
    } else {
        rc = cr_mail_build(&m, msg, err);
    }
out_text:
    cr_buf_release(&text);
out:
    free(hdr);
    cr_buf_release(&from_addr);
    cr_buf_release(&subject);
    return rc;
}

/* Pickup: each message becomes DIR/<delivery>-<log>.eml, written whole then renamed, so
 * a message sent twice after a crash overwrites its file instead of doubling it. */
static int pickup_one(struct cr_email_channel *ch, const struct cr_email_out *m, struct cr_err *err)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%lld-%lld.eml", ch->pickup_dir, (long long)ch->o.delivery_id,
             (long long)m->log_id);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return cr_err_set(err, CR_EIO, "pickup: cannot write %s: %s", tmp, strerror(errno));
    size_t done = 0;
    while (done < m->len) {
        ssize_t w = write(fd, m->data + done, m->len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return cr_err_set(err, CR_EIO, "pickup: writing %s: %s", tmp, strerror(e));
        }
        done += (size_t)w;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return cr_err_set(err, CR_EIO, "pickup: %s: %s", path, strerror(errno));
    }
    return 0;
}

struct smtp_relay {
    void (*done)(void *, const struct cr_email_result *);
    void *data;
};

static void smtp_done(void *data, const struct cr_smtp_result *r)
{
    struct smtp_relay *relay = data;
    struct cr_email_result e;
    e.log_id = r->id;
    e.outcome = r->outcome == CR_SMTP_SENT   ? CR_EMAIL_SENT
                : r->outcome == CR_SMTP_HARD ? CR_EMAIL_HARD
                                             : CR_EMAIL_SOFT;
    e.code = r->code;
    e.reply = r->reply;
    relay->done(relay->data, &e);
}

struct stream {
    struct cr_email_channel *ch;
    int (*next)(void *src, struct cr_email_out *out, struct cr_err *err);
    void *src;
};

static int smtp_next(void *data, struct cr_smtp_msg *m, struct cr_err *err)
{
    struct stream *st = data;
    struct cr_email_out o;
    int rc = st->next(st->src, &o, err);
    if (rc != 1)
        return rc;
    memset(m, 0, sizeof *m);
    m->id = o.log_id;
    m->mail_from = o.mail_from ? o.mail_from : st->ch->envelope_from.data;
    m->rcpt = o.rcpt;
    m->bcc = st->ch->bcc;
    m->data = o.data;
    m->len = o.len;
    return 1;
}

int cr_email_send_stream(struct cr_email_channel *ch,
                         int (*next)(void *src, struct cr_email_out *out, struct cr_err *err),
                         void *src, void (*done)(void *data, const struct cr_email_result *r),
                         void *data, struct cr_err *err)
{
    if (ch->pickup_dir) {
        struct cr_email_out o;
        int rc;
        while ((rc = next(src, &o, err)) == 1) {
            struct cr_err e = CR_ERR_INIT;
            struct cr_email_result r = {o.log_id, CR_EMAIL_SENT, 250, "written"};
            if (pickup_one(ch, &o, &e)) {
                r.outcome = CR_EMAIL_SOFT;
                r.code = 0;
                r.reply = cr_err_msg(&e);
            }
            done(data, &r);
        }
        return rc < 0 ? rc : 0;
    }
    struct stream st = {ch, next, src};
    struct smtp_relay relay = {done, data};
    return cr_smtp_send_stream(ch->smtp, smtp_next, &st, smtp_done, &relay, err);
}

int cr_email_send(struct cr_email_channel *ch, const struct cr_email_out *msgs, size_t n,
                  void (*done)(void *data, const struct cr_email_result *r), void *data,
                  struct cr_err *err)
{
    if (ch->pickup_dir) {
        for (size_t i = 0; i < n; i++) {
            struct cr_err e = CR_ERR_INIT;
            struct cr_email_result r = {msgs[i].log_id, CR_EMAIL_SENT, 250, "written"};
            if (pickup_one(ch, &msgs[i], &e)) {
                r.outcome = CR_EMAIL_SOFT;
                r.code = 0;
                r.reply = cr_err_msg(&e);
            }
            done(data, &r);
        }
        return 0;
    }
    struct cr_smtp_msg *sm = cr_xcalloc(n + 1, sizeof *sm);
    struct cr_buf from = CR_BUF_INIT(1024);
    cr_email_addr_spec(ch->part[F_FROM].data, &from);
    for (size_t i = 0; i < n; i++) {
        sm[i].id = msgs[i].log_id;
        sm[i].mail_from = msgs[i].mail_from ? msgs[i].mail_from : from.data;
        sm[i].rcpt = msgs[i].rcpt;
        sm[i].bcc = ch->bcc;
        sm[i].data = msgs[i].data;
        sm[i].len = msgs[i].len;
    }
    struct smtp_relay relay = {done, data};
    int rc = cr_smtp_send(ch->smtp, sm, n, smtp_done, &relay, err);
    free(sm);
    cr_buf_release(&from);
    return rc;
}
