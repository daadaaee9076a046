/*
 * ceiling.c - the email channel's ceiling for bench/email: how fast libcurl alone can hand
 * identical, already-built messages to an SMTP server over a few reused connections.
 *
 * Usage: ceiling URL MESSAGE_FILE N CONNECTIONS
 *   URL          smtp://127.0.0.1:PORT
 *   MESSAGE_FILE one whole message (crier's rendered message, LF or CRLF line endings;
 *                sent with CRLF)
 * Prints: "ceiling N messages S seconds R messages/s (B bytes each)" and exits 0 when every
 * transfer succeeded, 1 otherwise.
 *
 * The same shape as crier's transport (src/channel/email/smtp.c): one multi handle whose
 * connection cache holds CONNECTIONS connections, CONNECTIONS easy handles each carrying one
 * message at a time, a finished handle taken out and put back with the next message so the
 * cached connection is reused (one EHLO per connection). What it leaves out is crier's work
 * around the transfer: rendering, MIME, the database, the reply tracking.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct slot {
    CURL *easy;
    size_t off;
    int busy;
};

static const char *msg;
static size_t msg_len;

static size_t read_cb(char *buf, size_t size, size_t nitems, void *data)
{
    struct slot *sl = data;
    size_t n = size * nitems, left = msg_len - sl->off;
    if (n > left)
        n = left;
    memcpy(buf, msg + sl->off, n);
    sl->off += n;
    return n;
}

/* The file with every line ending made CRLF. */
static char *load(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    size_t cap = 1 << 16, n = 0;
    char *raw = malloc(cap);
    size_t r;
    while ((r = fread(raw + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap)
            raw = realloc(raw, cap *= 2);
    }
    fclose(f);
    char *out = malloc(2 * n + 3);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r'))
            out[o++] = '\r';
        out[o++] = raw[i];
    }
    if (o < 2 || out[o - 1] != '\n') {
        out[o++] = '\r';
        out[o++] = '\n';
    }
    free(raw);
    *len = o;
    return out;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s URL MESSAGE_FILE N CONNECTIONS\n", argv[0]);
        return 2;
    }
    const char *url = argv[1];
    msg = load(argv[2], &msg_len);
    long n = atol(argv[3]), nconn = atol(argv[4]);
    if (n < 1 || nconn < 1 || nconn > 64) {
        fprintf(stderr, "ceiling: N >= 1 and 1 <= CONNECTIONS <= 64\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, nconn);
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, nconn);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, nconn);
    struct curl_slist *rcpt = curl_slist_append(NULL, "<recipient@example.org>");
    struct slot *slots = calloc((size_t)nconn, sizeof *slots);
    for (long i = 0; i < nconn; i++) {
        CURL *h = slots[i].easy = curl_easy_init();
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_MAIL_FROM, "<offers@shop.example.com>");
        curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg_len);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(h, CURLOPT_READDATA, &slots[i]);
        curl_easy_setopt(h, CURLOPT_PRIVATE, &slots[i]);
    }

    long started = 0, finished = 0, failed = 0;
    double t0 = now();
    while (finished < n) {
        for (long i = 0; i < nconn && started < n; i++) {
            if (slots[i].busy)
                continue;
            slots[i].off = 0;
            slots[i].busy = 1;
            curl_multi_add_handle(multi, slots[i].easy);
            started++;
        }
        int running, queued;
        if (curl_multi_perform(multi, &running) != CURLM_OK) {
            fprintf(stderr, "ceiling: curl_multi_perform failed\n");
            return 1;
        }
        CURLMsg *m;
        int done = 0;
        while ((m = curl_multi_info_read(multi, &queued)) != NULL) {
            if (m->msg != CURLMSG_DONE)
                continue;
            struct slot *sl;
            CURLcode res = m->data.result;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&sl);
            if (res != CURLE_OK && failed++ < 5)
                fprintf(stderr, "ceiling: %s\n", curl_easy_strerror(res));
            curl_multi_remove_handle(multi, sl->easy);
            sl->busy = 0;
            finished++;
            done++;
        }
        if (!done && finished < n)
            curl_multi_poll(multi, NULL, 0, 1000, NULL);
    }
    double secs = now() - t0;
    printf("ceiling %ld messages %.3f seconds %.0f messages/s (%zu bytes each)\n", n, secs,
           (double)n / secs, msg_len);
    for (long i = 0; i < nconn; i++)
        curl_easy_cleanup(slots[i].easy);
    curl_multi_cleanup(multi);
    curl_slist_free_all(rcpt);
    curl_global_cleanup();
    return failed ? 1 : 0;
}
