/*
 * mailbox.c - POP3 and IMAP bounce mailboxes through one libcurl easy handle (one
 * connection, reused for every command)
 */
#include "tracking/mailbox.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"

#define MAX_MESSAGES 10000
#define MESSAGE_MAX (64u << 20)

static size_t collect(char *p, size_t size, size_t n, void *data)
{
    struct cr_buf *b = data;
    cr_buf_append(b, p, size * n);
    return b->err ? 0 : size * n;
}

struct box {
    CURL *c;
    struct cr_buf out;
    char errbuf[CURL_ERROR_SIZE];
    const char *base; /* scheme://host[:port] */
    const char *mailbox;
};

/* Runs one request: url, an optional custom command, a body wanted or not. */
static int perform(struct box *b, const char *url, const char *command, int nobody,
                   struct cr_err *err)
{
    cr_buf_reset(&b->out);
    b->errbuf[0] = 0;
    curl_easy_setopt(b->c, CURLOPT_URL, url);
    curl_easy_setopt(b->c, CURLOPT_CUSTOMREQUEST, command);
    curl_easy_setopt(b->c, CURLOPT_NOBODY, (long)nobody);
    CURLcode rc = curl_easy_perform(b->c);
    if (rc != CURLE_OK)
        return cr_err_set(err, CR_EIO, "%s%s%s: %s", url, command ? " " : "",
                          command ? command : "",
                          b->errbuf[0] ? b->errbuf : curl_easy_strerror(rc));
    return 0;
}

/* The numbers a POP3 LIST ("1 2048\r\n2 512\r\n") or an IMAP SEARCH ("* SEARCH 4 9") gives. */
static size_t numbers(const char *text, int imap, long *out, size_t max)
{
    size_t n = 0;
    const char *p = text;
    if (imap) {
        p = strstr(text, "SEARCH");
        if (!p)
            return 0;
        p += 6;
        while (n < max) {
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p || v <= 0)
                break;
            out[n++] = v;
            p = end;
        }
        return n;
    }
    while (*p && n < max) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end != p && v > 0)
            out[n++] = v;
        p = strchr(p, '\n');
        if (!p)
            break;
        p++;
    }
    return n;
}

int cr_mailbox_poll(const struct cr_mailbox_opts *o,
                    int (*fn)(void *data, const char *msg, size_t len), void *data, size_t *seen,
                    struct cr_err *err)
{
    struct box b = {0};
    char base[1024], url[1200], cmd[128];
    int imap, rc = 0, deleted = 0;
    *seen = 0;
    if (strncmp(o->url, "pop3://", 7) == 0 || strncmp(o->url, "pop3s://", 8) == 0)
        imap = 0;
    else if (strncmp(o->url, "imap://", 7) == 0 || strncmp(o->url, "imaps://", 8) == 0)
        imap = 1;
    else
        return cr_err_set(err, CR_EINVAL,
                          "mailbox URL %s: expected pop3://, pop3s://, imap:// "
                          "or imaps://",
                          o->url);
    /* base: scheme://host[:port]; the path, for IMAP, names the mailbox */
    const char *host = strstr(o->url, "://") + 3, *slash = strchr(host, '/');
    size_t bn = slash ? (size_t)(slash - o->url) : strlen(o->url);
    if (bn >= sizeof base || (slash && strlen(slash) > 100))
        return cr_err_set(err, CR_EINVAL, "mailbox URL %s: too long", o->url);
    memcpy(base, o->url, bn);
    base[bn] = 0;
    const char *mailbox = slash && slash[1] ? slash + 1 : "INBOX";
    int max = o->max > 0 && o->max < MAX_MESSAGES ? o->max : MAX_MESSAGES;
    long *ids = cr_xcalloc((size_t)max, sizeof *ids);
    b.c = curl_easy_init();
    if (!b.c) {
        free(ids);
        return cr_err_set(err, CR_ENOMEM, "cannot start libcurl");
    }
    cr_buf_init(&b.out, MESSAGE_MAX);
    curl_easy_setopt(b.c, CURLOPT_USERNAME, o->user ? o->user : "");
    curl_easy_setopt(b.c, CURLOPT_PASSWORD, o->password ? o->password : "");
    curl_easy_setopt(b.c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    if (o->ca_file)
        curl_easy_setopt(b.c, CURLOPT_CAINFO, o->ca_file);
    curl_easy_setopt(b.c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(b.c, CURLOPT_WRITEDATA, &b.out);
    curl_easy_setopt(b.c, CURLOPT_ERRORBUFFER, b.errbuf);
    curl_easy_setopt(b.c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(b.c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(b.c, CURLOPT_PROTOCOLS_STR, "pop3,pop3s,imap,imaps");
    size_t n = 0;
    if (imap) {
        snprintf(url, sizeof url, "%s/%s", base, mailbox);
        rc = perform(&b, url, "UID SEARCH ALL", 0, err);
    } else {
        snprintf(url, sizeof url, "%s/", base);
        rc = perform(&b, url, NULL, 0, err);
    }
    if (!rc) {
        cr_buf_putc(&b.out, 0);
        n = numbers(b.out.data ? b.out.data : "", imap, ids, (size_t)max);
    }
    for (size_t i = 0; i < n && !rc; i++) {
        if (imap)
            snprintf(url, sizeof url, "%s/%s;UID=%ld", base, mailbox, ids[i]);
        else
            snprintf(url, sizeof url, "%s/%ld", base, ids[i]);
        if ((rc = perform(&b, url, NULL, 0, err)))
            break;
        (*seen)++;
        int verdict = fn(data, b.out.data ? b.out.data : "", b.out.len);
        if (verdict < 0) {
            rc = verdict;
            break;
        }
        if (!verdict)
            continue;
        if (imap) {
            snprintf(url, sizeof url, "%s/%s", base, mailbox);
            snprintf(cmd, sizeof cmd, "UID STORE %ld +FLAGS (\\Deleted)", ids[i]);
            rc = perform(&b, url, cmd, 0, err);
        } else {
            rc = perform(&b, url, "DELE", 1, err);
        }
        deleted += !rc;
    }
    if (imap && deleted && !rc) {
        snprintf(url, sizeof url, "%s/%s", base, mailbox);
        rc = perform(&b, url, "EXPUNGE", 0, err);
    }
    curl_easy_cleanup(b.c); /* POP3: QUIT, which applies the deletions */
    cr_buf_release(&b.out);
    free(ids);
    return rc;
}
