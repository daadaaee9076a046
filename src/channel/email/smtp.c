/*
 * smtp.c - SMTP transport on libcurl's multi interface: a pool of reused connections,
 *          a rate limit, and one classified outcome per message
 *
 * libcurl speaks the protocol (EHLO, STARTTLS, AUTH, MAIL FROM, RCPT TO, DATA, the
 * "\r\n." -> "\r\n.." transparency of RFC 5321 §4.5.2, QUIT); this file schedules messages on
 * a fixed set of easy handles, one per allowed connection, and reads the server's replies to
 * decide each message's outcome. It does not retry: a soft outcome goes back to the caller.
 *
 * Connections. The multi handle's connection cache holds at most cfg->connections
 * connections (CURLMOPT_MAX_HOST_CONNECTIONS, _MAX_TOTAL_CONNECTIONS and _MAXCONNECTS); a
 * finished transfer leaves its connection in the cache and the next message, on whichever
 * easy handle, picks it up (no new EHLO, STARTTLS or AUTH). libcurl closes a connection after
 * any failed transaction (smtp_done with a bad status), so a refused message costs a
 * reconnect.
 *
 * Replies. With CURLOPT_VERBOSE, CURLOPT_DEBUGFUNCTION sees every command libcurl sends
 * (CURLINFO_HEADER_OUT) and every reply line it reads (CURLINFO_HEADER_IN), in order, per
 * easy handle. So each complete reply is paired with the command it answers, which the
 * response code alone cannot tell (CURLINFO_RESPONSE_CODE is only the last code, and with
 * CURLOPT_MAIL_RCPT_ALLOWFAILS the last RCPT reply may be the archive's).
 *
 * Outcome, in this order:
 *   1. the recipient's RCPT TO got >= 400: 5xx HARD, 4xx SOFT (530/538 as in 3), with that
 *      reply. With a bcc, libcurl goes on to DATA when the bcc was accepted; the read
 *      callback then aborts the upload, so neither the recipient nor the archive gets it;
 *   2. libcurl succeeded: SENT, with the reply to the end of data ("250 2.0.0 queued as X");
 *   3. the last reply (a bcc's refusal aside) was >= 400: HARD for 5xx to MAIL FROM, RCPT TO
 *      or the data, SOFT otherwise (greeting, EHLO, STARTTLS, AUTH, any 4xx, and 530/538
 *      "authentication/encryption required" wherever they come: our set-up, not the address);
 *   4. else the connection failed (refused, dropped, TLS verification, time-out): SOFT,
 *      code 0, reply = curl's error buffer.
 *
 * Rate. A token bucket of depth 1 on CLOCK_MONOTONIC (not cr_clock: a virtual clock stands
 * still): a message starts only with a token, tokens come at cfg->rate per second.
 *
 * Spec: RFC 5321 §3.3, §4.2 (replies), §4.5.2 (transparency, done by libcurl); RFC 3207.
 */
#include "channel/email/smtp.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/log.h"
#include "core/mem.h"

#define SMTP_MAX_CONNECTIONS 64
#define SMTP_DEFAULT_CONNECTIONS 4
#define SMTP_DEFAULT_TIMEOUT_MS 60000L

/* CURLOPT_MAIL_RCPT_ALLLOWFAILS (7.69) was renamed CURLOPT_MAIL_RCPT_ALLOWFAILS in 8.2. */
#if LIBCURL_VERSION_NUM >= 0x080200
#define SMTP_OPT_RCPT_ALLOWFAILS CURLOPT_MAIL_RCPT_ALLOWFAILS
#else
#define SMTP_OPT_RCPT_ALLOWFAILS CURLOPT_MAIL_RCPT_ALLLOWFAILS
#endif

/* The command a reply answers. */
enum smtp_cmd {
    CMD_GREETING, /* nothing sent yet on this connection */
    CMD_EHLO,
    CMD_STARTTLS,
    CMD_AUTH, /* AUTH and its continuation lines */
    CMD_MAIL,
    CMD_RCPT,
    CMD_DATA,
    CMD_EOD,  /* the reply after the data and its final "." */
    CMD_QUIT, /* libcurl closing a connection, possibly right after a failure: ignored */
    CMD_OTHER
};

struct reply {
    int code;
    char text[sizeof(((struct cr_smtp_result *)0)->reply)];
};

/* One easy handle, at most one transfer at a time. */
struct slot {
    struct cr_smtp *s;
    CURL *easy;
    int busy; /* in the multi handle */
    size_t msg;
    int64_t id; /* the message being sent (the caller's id) */
    const char *data; /* upload cursor */
    size_t len, off;
    struct curl_slist *rcpts;
    /* reply tracking for the current transfer */
    enum smtp_cmd cmd;
    int rcpt_no;      /* RCPT TO commands sent: 1 = the recipient, 2 = the bcc */
    int auth_cont;    /* the last reply was 334: the next line sent is AUTH data */
    int in_reply;     /* cur holds the first lines of a multi-line reply */
    int rcpt_refused; /* the recipient was refused: abort the upload */
    struct reply cur, last, rcpt, eod;
    enum smtp_cmd last_cmd;
    char errbuf[CURL_ERROR_SIZE];
};

struct cr_smtp {
    CURLM *multi;
    struct slot *slots;
    int nslots;
    char *url, *user, *password, *ca_file;
    enum cr_smtp_tls tls;
    long timeout_ms;
    double rate, tokens;
    int64_t last_ns;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init_once(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const char *cr_smtp_outcome_name(enum cr_smtp_outcome o)
{
    switch (o) {
    case CR_SMTP_SENT:
        return "sent";
    case CR_SMTP_SOFT:
        return "soft";
    case CR_SMTP_HARD:
        return "hard";
    }
    return "?";
}

/* ---------------------------------------------------------------- reply capture */

static enum smtp_cmd cmd_of(struct slot *sl, const char *p, size_t n)
{
    static const struct {
        const char *verb;
        enum smtp_cmd cmd;
    } verbs[] = {
        {"EHLO", CMD_EHLO}, {"HELO", CMD_EHLO}, {"STARTTLS", CMD_STARTTLS}, {"AUTH", CMD_AUTH},
        {"MAIL", CMD_MAIL}, {"RCPT", CMD_RCPT}, {"DATA", CMD_DATA},         {"QUIT", CMD_QUIT},
    };
    if (sl->auth_cont)
        return CMD_AUTH;
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++) {
        size_t vl = strlen(verbs[i].verb);
        if (n >= vl && strncasecmp(p, verbs[i].verb, vl) == 0)
            return verbs[i].cmd;
    }
    return CMD_OTHER;
}

/* A complete reply arrived for sl->cmd. */
static void reply_done(struct slot *sl)
{
    struct reply *r = &sl->cur;
    sl->in_reply = 0;
    sl->auth_cont = sl->cmd == CMD_AUTH && r->code == 334;
    if (sl->cmd == CMD_QUIT)
        return; /* "221 Bye" after a refusal must not hide the refusal */
    if (sl->cmd == CMD_RCPT && sl->rcpt_no == 1) {
        sl->rcpt = *r;
        if (r->code >= 400)
            sl->rcpt_refused = 1;
    }
    if (sl->cmd == CMD_RCPT && sl->rcpt_no > 1 && r->code >= 400) {
        cr_log(CR_LOG_DEBUG, NULL, "smtp: archive recipient refused: %d %s", r->code, r->text);
        return; /* the bcc's refusal decides nothing */
    }
    sl->last = *r;
    sl->last_cmd = sl->cmd;
    if (sl->cmd == CMD_EOD)
        sl->eod = *r;
    if (sl->cmd == CMD_DATA && r->code == 354)
        sl->cmd = CMD_EOD; /* libcurl sends the data and "." without a debug line */
}

/* One reply line as libcurl read it ("250-SIZE 1000\r\n"); lines that are not replies are
 * ignored. */
static void reply_line(struct slot *sl, const char *p, size_t n)
{
    while (n && (p[n - 1] == '\r' || p[n - 1] == '\n'))
        n--;
    if (n < 3 || p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9')
        return;
    int code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
    int more = n > 3 && p[3] == '-';
    const char *t = n > 4 ? p + 4 : p + n;
    size_t tl = (size_t)(p + n - t);

    if (!sl->in_reply) {
        sl->cur.code = code;
        sl->cur.text[0] = 0;
    }
    size_t have = strlen(sl->cur.text), room = sizeof sl->cur.text - 1 - have;
    if (have && room) {
        sl->cur.text[have++] = ' ';
        room--;
    }
    if (tl > room)
        tl = room;
    memcpy(sl->cur.text + have, t, tl);
    sl->cur.text[have + tl] = 0;
    sl->in_reply = more;
    if (!more)
        reply_done(sl);
}

static int debug_cb(CURL *h, curl_infotype type, char *p, size_t n, void *data)
{
    struct slot *sl = data;
    (void)h;
    switch (type) {
    case CURLINFO_HEADER_IN: /* one reply line per call; split anyway */
        while (n) {
            char *nl = memchr(p, '\n', n);
            size_t ln = nl ? (size_t)(nl - p) + 1 : n;
            cr_log(CR_LOG_TRACE, NULL, "smtp: < %.*s", (int)(ln > 2 ? ln - 2 : ln), p);
            reply_line(sl, p, ln);
            p += ln;
            n -= ln;
        }
        break;
    case CURLINFO_HEADER_OUT:
        sl->cmd = cmd_of(sl, p, n);
        if (sl->cmd == CMD_RCPT)
            sl->rcpt_no++;
        sl->in_reply = 0;
        sl->auth_cont = 0;
        /* never log AUTH lines: they carry the credentials */
        cr_log(CR_LOG_TRACE, NULL, "smtp: > %.*s",
               sl->cmd == CMD_AUTH ? 4 : (int)(n > 2 ? n - 2 : n),
               sl->cmd == CMD_AUTH ? "AUTH" : p);
        break;
    case CURLINFO_TEXT:
        cr_log(CR_LOG_TRACE, NULL, "smtp: * %.*s", (int)(n && p[n - 1] == '\n' ? n - 1 : n), p);
        break;
    default:
        break;
    }
    return 0;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *data)
{
    struct slot *sl = data;
    if (sl->rcpt_refused)
        return CURL_READFUNC_ABORT; /* DATA came only because the bcc was accepted */
    size_t n = size * nitems, left = sl->len - sl->off;
    if (n > left)
        n = left;
    if (n == 0)
        return 0; /* data may be NULL when len is 0 */
    memcpy(buf, sl->data + sl->off, n);
    sl->off += n;
    return n;
}

/* ---------------------------------------------------------------- set-up */

static int check_url(const struct cr_smtp_config *cfg, struct cr_err *err)
{
    const char *want = cfg->tls == CR_SMTP_TLS_IMPLICIT ? "smtps://" : "smtp://";
    if (!cfg->url || strncasecmp(cfg->url, want, strlen(want)) != 0)
        return cr_err_set(err, CR_EINVAL, "smtp url '%s' must start with %s (tls %s)",
                          cfg->url ? cfg->url : "", want,
                          cfg->tls == CR_SMTP_TLS_IMPLICIT   ? "implicit"
                          : cfg->tls == CR_SMTP_TLS_STARTTLS ? "starttls"
                                                             : "none");
    const char *slash = strchr(cfg->url + strlen(want), '/');
    if (slash && slash[1])
        return cr_err_set(err, CR_EINVAL, "smtp url '%s' has a path (give the EHLO name as helo)",
                          cfg->url);
    if (strpbrk(cfg->url, "\r\n ?#"))
        return cr_err_set(err, CR_EINVAL, "smtp url '%s' holds a space, '?', '#' or a line break",
                          cfg->url);
    return 0;
}

static char *build_url(const struct cr_smtp_config *cfg, struct cr_err *err)
{
    size_t ul = strlen(cfg->url);
    while (ul && cfg->url[ul - 1] == '/')
        ul--;
    if (!cfg->helo || !*cfg->helo)
        return cr_xmemdupz(cfg->url, ul);
    for (const char *c = cfg->helo; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              strchr(".-[]:", *c))) {
            cr_err_set(err, CR_EINVAL,
                       "smtp helo '%s': only letters, digits, '.', '-' and an "
                       "[address literal] are allowed",
                       cfg->helo);
            return NULL;
        }
    }
    char *esc = curl_easy_escape(NULL, cfg->helo, 0);
    if (!esc)
        CR_BUG("curl_easy_escape failed");
    size_t n = ul + 1 + strlen(esc) + 1;
    char *url = cr_xmalloc(n);
    snprintf(url, n, "%.*s/%s", (int)ul, cfg->url, esc);
    curl_free(esc);
    return url;
}

#define SETOPT(h, opt, val)                                                                        \
    do {                                                                                           \
        CURLcode rc_ = curl_easy_setopt((h), (opt), (val));                                        \
        if (rc_ != CURLE_OK)                                                                       \
            return cr_err_set(err, CR_EINVAL, "libcurl refused %s: %s", #opt,                      \
                              curl_easy_strerror(rc_));                                            \
    } while (0)

static int slot_init(struct cr_smtp *s, struct slot *sl, struct cr_err *err)
{
    sl->s = s;
    sl->easy = curl_easy_init();
    if (!sl->easy)
        return cr_err_set(err, CR_ENOMEM, "curl_easy_init failed");
    CURL *h = sl->easy;
    SETOPT(h, CURLOPT_URL, s->url);
    SETOPT(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    SETOPT(h, CURLOPT_USE_SSL,
           (long)(s->tls == CR_SMTP_TLS_NONE ? CURLUSESSL_NONE : CURLUSESSL_ALL));
    SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (s->ca_file)
        SETOPT(h, CURLOPT_CAINFO, s->ca_file);
    if (s->user) {
        SETOPT(h, CURLOPT_USERNAME, s->user);
        SETOPT(h, CURLOPT_PASSWORD, s->password ? s->password : "");
    }
    SETOPT(h, CURLOPT_TIMEOUT_MS, s->timeout_ms);
    SETOPT(h, CURLOPT_NOSIGNAL, 1L);
    SETOPT(h, CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(h, CURLOPT_ERRORBUFFER, sl->errbuf);
    SETOPT(h, CURLOPT_UPLOAD, 1L);
    SETOPT(h, CURLOPT_READFUNCTION, read_cb);
    SETOPT(h, CURLOPT_READDATA, sl);
    SETOPT(h, CURLOPT_VERBOSE, 1L);
    SETOPT(h, CURLOPT_DEBUGFUNCTION, debug_cb);
    SETOPT(h, CURLOPT_DEBUGDATA, sl);
    SETOPT(h, CURLOPT_PRIVATE, sl);
    return 0;
}

int cr_smtp_new(const struct cr_smtp_config *cfg, struct cr_smtp **out, struct cr_err *err)
{
    int rc = check_url(cfg, err);
    if (rc)
        return rc;
    int nconn = cfg->connections ? cfg->connections : SMTP_DEFAULT_CONNECTIONS;
    if (nconn < 1 || nconn > SMTP_MAX_CONNECTIONS)
        return cr_err_set(err, CR_EINVAL, "smtp connections %d out of range (1 to %d)",
                          cfg->connections, SMTP_MAX_CONNECTIONS);
    if (!(cfg->rate >= 0)) /* also NaN */
        return cr_err_set(err, CR_EINVAL, "smtp rate %g must be 0 (unlimited) or positive",
                          cfg->rate);
    if (cfg->timeout_ms < 0)
        return cr_err_set(err, CR_EINVAL, "smtp timeout %ld ms is negative", cfg->timeout_ms);
    if (cfg->tls < CR_SMTP_TLS_NONE || cfg->tls > CR_SMTP_TLS_IMPLICIT)
        return cr_err_set(err, CR_EINVAL, "smtp tls mode %d unknown", (int)cfg->tls);
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK)
        return cr_err_set(err, CR_EIO, "curl_global_init failed: %s",
                          curl_easy_strerror(curl_init_rc));

    char *url = build_url(cfg, err);
    if (!url)
        return CR_EINVAL;
    struct cr_smtp *s = cr_xcalloc(1, sizeof *s);
    s->url = url;
    s->user = cfg->user ? cr_xstrdup(cfg->user) : NULL;
    s->password = cfg->password ? cr_xstrdup(cfg->password) : NULL;
    s->ca_file = cfg->ca_file ? cr_xstrdup(cfg->ca_file) : NULL;
    s->tls = cfg->tls;
    s->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : SMTP_DEFAULT_TIMEOUT_MS;
    s->rate = cfg->rate;
    s->tokens = 1;
    s->last_ns = mono_ns();
    s->multi = curl_multi_init();
    if (!s->multi) {
        cr_smtp_free(s);
        return cr_err_set(err, CR_ENOMEM, "curl_multi_init failed");
    }
    curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)nconn);
    curl_multi_setopt(s->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)nconn);
    curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, (long)nconn);
    s->slots = cr_xcalloc((size_t)nconn, sizeof *s->slots);
    s->nslots = nconn;
    for (int i = 0; i < nconn; i++) {
        rc = slot_init(s, &s->slots[i], err);
        if (rc) {
            cr_smtp_free(s);
            return rc;
        }
    }
    *out = s;
    return 0;
}

void cr_smtp_free(struct cr_smtp *s)
{
    if (!s)
        return;
    for (int i = 0; s->slots && i < s->nslots; i++) {
        struct slot *sl = &s->slots[i];
        if (sl->busy)
            curl_multi_remove_handle(s->multi, sl->easy);
        if (sl->easy)
            curl_easy_cleanup(sl->easy);
        curl_slist_free_all(sl->rcpts);
    }
    /* The cached connections close here, each with a QUIT. */
    if (s->multi)
        curl_multi_cleanup(s->multi);
    free(s->slots);
    free(s->url);
    free(s->user);
    if (s->password) {
        explicit_bzero(s->password, strlen(s->password));
        free(s->password);
    }
    free(s->ca_file);
    free(s);
}

/* ---------------------------------------------------------------- sending */

static int has_crlf(const char *s)
{
    return s && strpbrk(s, "\r\n") != NULL;
}

/* Refuses what would break the SMTP dialogue: a missing recipient, a line break in an address
 * (command injection) or a bare CR or LF in the data (libcurl escapes only "\r\n.", so a bare
 * "\n.\n" could end the message early on a lenient server: SMTP smuggling). */
static int check_msg(const struct cr_smtp_msg *m, struct cr_err *err)
{
    if (!m->mail_from || has_crlf(m->mail_from) || !m->rcpt || !*m->rcpt || has_crlf(m->rcpt) ||
        has_crlf(m->bcc))
        return cr_err_set(err, CR_EINVAL, "message %lld: %s", (long long)m->id,
                          !m->mail_from           ? "no envelope sender"
                          : !m->rcpt || !*m->rcpt ? "no recipient"
                                                  : "line break in an envelope address");
    if (m->len && !m->data)
        return cr_err_set(err, CR_EINVAL, "message %lld: no data", (long long)m->id);
    const char *p = m->data, *end = m->data + m->len;
    while (p && p < end) {
        const char *q = p;
        while (q < end && *q != '\r' && *q != '\n')
            q++;
        if (q == end)
            break;
        if (*q == '\n' || q + 1 == end || q[1] != '\n')
            return cr_err_set(err, CR_EINVAL,
                              "message %lld: bare %s at byte %zu (SMTP needs CRLF line endings)",
                              (long long)m->id, *q == '\n' ? "LF" : "CR", (size_t)(q - m->data));
        p = q + 2;
    }
    return 0;
}

static void bucket_refill(struct cr_smtp *s)
{
    int64_t now = mono_ns();
    s->tokens += (double)(now - s->last_ns) / 1e9 * s->rate;
    if (s->tokens > 1)
        s->tokens = 1;
    s->last_ns = now;
}

static int slot_start(struct cr_smtp *s, struct slot *sl, const struct cr_smtp_msg *m, size_t i,
                      struct cr_err *err)
{
    curl_slist_free_all(sl->rcpts);
    sl->rcpts = curl_slist_append(NULL, m->rcpt);
    if (sl->rcpts && m->bcc && *m->bcc) {
        struct curl_slist *l = curl_slist_append(sl->rcpts, m->bcc);
        if (!l) {
            curl_slist_free_all(sl->rcpts);
            sl->rcpts = NULL;
        }
    }
    if (!sl->rcpts)
        return cr_err_set(err, CR_ENOMEM, "curl_slist_append failed");
    sl->msg = i;
    sl->data = m->data;
    sl->len = m->len;
    sl->off = 0;
    sl->cmd = CMD_GREETING;
    sl->rcpt_no = 0;
    sl->auth_cont = sl->in_reply = sl->rcpt_refused = 0;
    memset(&sl->cur, 0, sizeof sl->cur);
    sl->last = sl->rcpt = sl->eod = sl->cur;
    sl->last_cmd = CMD_GREETING;
    sl->errbuf[0] = 0;
    CURL *h = sl->easy;
    SETOPT(h, CURLOPT_MAIL_FROM, m->mail_from);
    SETOPT(h, CURLOPT_MAIL_RCPT, sl->rcpts);
    SETOPT(h, SMTP_OPT_RCPT_ALLOWFAILS, (long)(m->bcc && *m->bcc));
    SETOPT(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)m->len);
    CURLMcode mc = curl_multi_add_handle(s->multi, h);
    if (mc != CURLM_OK)
        return cr_err_set(err, CR_EIO, "curl_multi_add_handle failed: %s", curl_multi_strerror(mc));
    sl->busy = 1;
    return 0;
}

static void set_reply(struct cr_smtp_result *r, enum cr_smtp_outcome o, const struct reply *rep)
{
    r->outcome = o;
    r->code = rep->code;
    snprintf(r->reply, sizeof r->reply, "%s", rep->text);
}

/* HARD only for a 5xx about the message or its addresses. 530/538 (RFC 4954: authentication
 * or encryption required) blame our session, wherever they come. */
static enum cr_smtp_outcome refusal(int code, enum smtp_cmd cmd)
{
    int transaction = cmd == CMD_MAIL || cmd == CMD_RCPT || cmd == CMD_DATA || cmd == CMD_EOD;
    if (code >= 500 && transaction && code != 530 && code != 538)
        return CR_SMTP_HARD;
    return CR_SMTP_SOFT;
}

/* Decides the outcome of a finished transfer (see the file header). */
static void classify(struct slot *sl, CURLcode res, struct cr_smtp_result *r)
{
    if (sl->rcpt_refused) {
        set_reply(r, refusal(sl->rcpt.code, CMD_RCPT), &sl->rcpt);
    } else if (res == CURLE_OK) {
        set_reply(r, CR_SMTP_SENT, sl->eod.code ? &sl->eod : &sl->last);
        if (!r->code) {
            long code = 0;
            curl_easy_getinfo(sl->easy, CURLINFO_RESPONSE_CODE, &code);
            r->code = (int)code;
        }
    } else if (sl->last.code >= 400) {
        set_reply(r, refusal(sl->last.code, sl->last_cmd), &sl->last);
    } else {
        r->outcome = CR_SMTP_SOFT;
        r->code = 0;
        snprintf(r->reply, sizeof r->reply, "%s",
                 sl->errbuf[0] ? sl->errbuf : curl_easy_strerror(res));
    }
}

/* Takes every transfer out of the multi handle (after a local failure). */
static void abort_all(struct cr_smtp *s)
{
    for (int i = 0; i < s->nslots; i++) {
        if (s->slots[i].busy) {
            curl_multi_remove_handle(s->multi, s->slots[i].easy);
            s->slots[i].busy = 0;
        }
    }
}

static struct slot *free_slot(struct cr_smtp *s)
{
    for (int i = 0; i < s->nslots; i++)
        if (!s->slots[i].busy)
            return &s->slots[i];
    return NULL;
}

/* The one sending loop: messages come from next() while a connection is free, so a caller
 * can render message k+1 while message k is on the wire. */
static int send_loop(struct cr_smtp *s,
                     int (*next)(void *src, struct cr_smtp_msg *m, struct cr_err *err),
                     void *src, void (*done)(void *data, const struct cr_smtp_result *r),
                     void *data, struct cr_err *err)
{
    size_t left = 0;
    int more = 1;
    while (more || left > 0) {
        struct slot *sl;
        while (more && (sl = free_slot(s)) != NULL) {
            struct cr_smtp_msg m;
            if (s->rate > 0) {
                bucket_refill(s);
                if (s->tokens < 1)
                    break;
            }
            int rc = next(src, &m, err);
            if (rc < 0) {
                abort_all(s);
                return rc;
            }
            if (rc == 0) {
                more = 0;
                break;
            }
            if ((rc = check_msg(&m, err)) || (rc = slot_start(s, sl, &m, 0, err))) {
                abort_all(s);
                return rc;
            }
            sl->id = m.id;
            if (s->rate > 0)
                s->tokens -= 1;
            left++;
        }
        if (left == 0)
            continue;

        int running;
        CURLMcode mc = curl_multi_perform(s->multi, &running);
        if (mc != CURLM_OK) {
            abort_all(s);
            return cr_err_set(err, CR_EIO, "curl_multi_perform failed: %s",
                              curl_multi_strerror(mc));
        }
        int finished = 0, queued;
        CURLMsg *cm;
        while ((cm = curl_multi_info_read(s->multi, &queued)) != NULL) {
            if (cm->msg != CURLMSG_DONE)
                continue;
            char *priv = NULL;
            curl_easy_getinfo(cm->easy_handle, CURLINFO_PRIVATE, &priv);
            sl = (struct slot *)(void *)priv;
            CURLcode res = cm->data.result; /* cm is invalid after remove_handle */
            struct cr_smtp_result r = {.id = sl->id};
            classify(sl, res, &r);
            curl_multi_remove_handle(s->multi, sl->easy);
            sl->busy = 0;
            left--;
            finished++;
            cr_log(CR_LOG_DEBUG, NULL, "smtp: message %lld %s %d %s", (long long)r.id,
                   cr_smtp_outcome_name(r.outcome), r.code, r.reply);
            done(data, &r);
        }
        if (finished || left == 0)
            continue;

        int wait_ms = 1000;
        if (more && s->rate > 0 && free_slot(s)) {
            double need = (1 - s->tokens) / s->rate * 1000;
            wait_ms = need < 1 ? 1 : need > 1000 ? 1000 : (int)need + 1;
        }
        mc = curl_multi_poll(s->multi, NULL, 0, wait_ms, NULL);
        if (mc != CURLM_OK) {
            abort_all(s);
            return cr_err_set(err, CR_EIO, "curl_multi_poll failed: %s", curl_multi_strerror(mc));
        }
    }
    return 0;
}

struct array_src {
    const struct cr_smtp_msg *msgs;
    size_t n, i;
};

static int array_next(void *src, struct cr_smtp_msg *m, struct cr_err *err)
{
    struct array_src *a = src;
    (void)err;
    if (a->i == a->n)
        return 0;
    *m = a->msgs[a->i++];
    return 1;
}

int cr_smtp_send(struct cr_smtp *s, const struct cr_smtp_msg *msgs, size_t n,
                 void (*done)(void *data, const struct cr_smtp_result *r), void *data,
                 struct cr_err *err)
{
    if (!done || (n && !msgs))
        return cr_err_set(err, CR_EINVAL, "cr_smtp_send needs messages and a done callback");
    for (size_t i = 0; i < n; i++) { /* all or nothing: check before sending any */
        int rc = check_msg(&msgs[i], err);
        if (rc)
            return rc;
    }
    struct array_src a = {msgs, n, 0};
    return send_loop(s, array_next, &a, done, data, err);
}

int cr_smtp_send_stream(struct cr_smtp *s,
                        int (*next)(void *src, struct cr_smtp_msg *m, struct cr_err *err),
                        void *src, void (*done)(void *data, const struct cr_smtp_result *r),
                        void *data, struct cr_err *err)
{
    if (!done || !next)
        return cr_err_set(err, CR_EINVAL, "cr_smtp_send_stream needs next and done callbacks");
    return send_loop(s, next, src, done, data, err);
}
