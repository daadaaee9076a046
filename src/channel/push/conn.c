/*
 * conn.c - the push transports' easy handles: TLS to the account's peers (HTTP/2, the CA
 *          blob), and capturing an answer (apns-id, Retry-After, the body)
 *
 * No scheduling and no meaning: transport.c runs the handles, apns.c / fcm.c read answers.
 *
 * CA. CURLOPT_CAINFO_BLOB overrides CURLOPT_CAINFO (libcurl's docs), so "ca_file in addition
 * to the system's" is done by concatenating the system bundle (the path libcurl was built
 * with, CURLINFO_CAINFO) and ca_file into one blob, made once per transport. Without ca_file,
 * libcurl's defaults stay untouched.
 *
 * Spec: RFC 9110 §10.2.3 (Retry-After: delay-seconds or an HTTP-date).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "channel/push/transport_int.h"
#include "core/log.h"
#include "core/mem.h"

#define PUSH_CA_MAX (8u << 20)
#define PUSH_CONNECT_TIMEOUT_MS 15000L
#define PUSH_TIMEOUT_MS 60000L /* a request, queued time included */

/* ---------------------------------------------------------------- CA bundle */

/* Appends the file at path to b; CR_EIO or CR_ETOOBIG with err set. */
static int read_file(const char *path, struct cr_buf *b, const char *what, struct cr_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return cr_err_set(err, CR_EIO, "%s %s: %s", what, path, strerror(errno));
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        cr_buf_append(b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return cr_err_set(err, CR_EIO, "%s %s: read error", what, path);
    if (b->err)
        return cr_err_set(err, b->err, "%s %s is larger than %u bytes", what, path, PUSH_CA_MAX);
    return 0;
}

/* The system bundle libcurl would use, then ca_file: one PEM blob. */
int cr__push_ca_build(struct cr_push_transport *t, const char *ca_file, struct cr_err *err)
{
    struct cr_buf b = CR_BUF_INIT(PUSH_CA_MAX);
    char *sys = NULL;
#if LIBCURL_VERSION_NUM >= 0x075400 /* CURLINFO_CAINFO: 7.84 */
    CURL *h = curl_easy_init();
    if (h && curl_easy_getinfo(h, CURLINFO_CAINFO, &sys) == CURLE_OK && sys)
        sys = cr_xstrdup(sys);
    else
        sys = NULL;
    curl_easy_cleanup(h);
#endif
    if (!sys)
        sys = cr_xstrdup("/etc/ssl/certs/ca-certificates.crt");
    struct cr_err ignored = CR_ERR_INIT;
    if (read_file(sys, &b, "CA bundle", &ignored)) {
        cr_log_debug("push: %s: no system CA bundle (%s); trusting ca_file only", t->name,
                     ignored.msg);
        cr_buf_reset(&b);
    }
    free(sys);
    cr_buf_putc(&b, '\n'); /* the bundle may not end with a newline */
    size_t own = b.len;
    int rc = read_file(ca_file, &b, "ca_file", err);
    if (rc == 0 && !strstr(b.data + own, "-----BEGIN CERTIFICATE-----"))
        rc = cr_err_set(err, CR_EINVAL, "ca_file %s holds no PEM certificate", ca_file);
    if (rc) {
        cr_buf_release(&b);
        return rc == CR_EIO ? CR_EINVAL : rc;
    }
    t->ca.len = b.len;
    t->ca.data = cr_buf_detach(&b, NULL);
    t->ca.flags = CURL_BLOB_NOCOPY; /* lives as long as t, which outlives its handles */
    return 0;
}

/* ---------------------------------------------------------------- easy handles */

int cr__push_easy_tls(struct cr_push_transport *t, CURL *h, struct cr_err *err)
{
    CR__PUSH_SETOPT(h, CURLOPT_PROTOCOLS_STR, "https");
    CR__PUSH_SETOPT(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    CR__PUSH_SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L);
    CR__PUSH_SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (t->ca.data)
        CR__PUSH_SETOPT(h, CURLOPT_CAINFO_BLOB, &t->ca);
    CR__PUSH_SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, PUSH_CONNECT_TIMEOUT_MS);
    CR__PUSH_SETOPT(h, CURLOPT_TIMEOUT_MS, PUSH_TIMEOUT_MS);
    CR__PUSH_SETOPT(h, CURLOPT_NOSIGNAL, 1L);
    CR__PUSH_SETOPT(h, CURLOPT_TCP_KEEPALIVE, 1L);
    return 0;
}

/* Retry-After: delay-seconds or an HTTP-date. */
static int64_t retry_after_ms(const char *v, size_t n)
{
    char tmp[64];
    if (n >= sizeof tmp)
        return 0;
    memcpy(tmp, v, n);
    tmp[n] = 0;
    if (n > 0 && strspn(tmp, "0123456789") == n)
        return n > 9 ? 0 : (int64_t)strtoll(tmp, NULL, 10) * 1000;
    time_t when = curl_getdate(tmp, NULL);
    time_t now = time(NULL);
    return when > now ? (int64_t)(when - now) * 1000 : 0;
}

/* One header line ("apns-id: 1F0E...\r\n"); the status line starts a new set. */
static size_t header_cb(char *p, size_t size, size_t nitems, void *data)
{
    struct cr__push_slot *sl = data;
    size_t n = size * nitems, len = n;
    while (len && (p[len - 1] == '\r' || p[len - 1] == '\n'))
        len--;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        sl->apns_id[0] = 0;
        sl->retry_after_ms = 0;
        return n;
    }
    const char *colon = memchr(p, ':', len);
    if (!colon)
        return n;
    size_t nl = (size_t)(colon - p);
    const char *v = colon + 1, *end = p + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    size_t vl = (size_t)(end - v);
    if (nl == 7 && strncasecmp(p, "apns-id", 7) == 0)
        snprintf(sl->apns_id, sizeof sl->apns_id, "%.*s", (int)vl, v);
    else if (nl == 11 && strncasecmp(p, "retry-after", 11) == 0)
        sl->retry_after_ms = retry_after_ms(v, vl);
    return n;
}

static size_t write_cb(char *p, size_t size, size_t nitems, void *data)
{
    struct cr__push_slot *sl = data;
    cr_buf_append(&sl->answer, p, size * nitems); /* past the limit: kept truncated (sticky) */
    return size * nitems;
}

/* The body is read through callbacks rather than CURLOPT_POSTFIELDS, and can never be
 * rewound: when a connection dies (an HTTP/2 GOAWAY), libcurl 7.88 resends the requests in
 * flight on a new one by itself, and a good share of those went out with an empty body
 * (bench/push). Refusing the rewind makes such a request fail instead; transport.c sends it
 * again itself, once, with its body (finish()). */
static size_t read_cb(char *buf, size_t size, size_t n, void *data)
{
    struct cr__push_slot *sl = data;
    size_t left = sl->msg.len > sl->body_off ? sl->msg.len - sl->body_off : 0;
    size_t k = size * n < left ? size * n : left;
    if (k)
        memcpy(buf, sl->msg.body + sl->body_off, k);
    sl->body_off += k;
    return k;
}

static int seek_cb(void *data, curl_off_t offset, int origin)
{
    (void)data;
    (void)offset;
    (void)origin;
    return CURL_SEEKFUNC_CANTSEEK;
}

int cr__push_slot_init(struct cr_push_transport *t, struct cr__push_slot *sl, struct cr_err *err)
{
    sl->easy = curl_easy_init();
    if (!sl->easy)
        return cr_err_set(err, CR_ENOMEM, "curl_easy_init failed");
    CURL *h = sl->easy;
    int rc = cr__push_easy_tls(t, h, err);
    if (rc)
        return rc;
    CR__PUSH_SETOPT(h, CURLOPT_PIPEWAIT, 1L);
    CR__PUSH_SETOPT(h, CURLOPT_POST, 1L);
    CR__PUSH_SETOPT(h, CURLOPT_HEADERFUNCTION, header_cb);
    CR__PUSH_SETOPT(h, CURLOPT_HEADERDATA, sl);
    CR__PUSH_SETOPT(h, CURLOPT_WRITEFUNCTION, write_cb);
    CR__PUSH_SETOPT(h, CURLOPT_WRITEDATA, sl);
    CR__PUSH_SETOPT(h, CURLOPT_ERRORBUFFER, sl->errbuf);
    CR__PUSH_SETOPT(h, CURLOPT_PRIVATE, sl);
    CR__PUSH_SETOPT(h, CURLOPT_READFUNCTION, read_cb);
    CR__PUSH_SETOPT(h, CURLOPT_READDATA, sl);
    CR__PUSH_SETOPT(h, CURLOPT_SEEKFUNCTION, seek_cb);
    CR__PUSH_SETOPT(h, CURLOPT_SEEKDATA, sl);
    return 0;
}
