/*
 * hits.c - the tracking writer: a double-buffered queue and one thread committing batches
 *
 * The writer commits what is queued once per flush interval, or at once when a batch's worth
 * is waiting (a busy server commits back to back instead of letting hits age). Rows go in
 * CHUNK at a time, one multi-row INSERT each, so PostgreSQL pays one round trip per chunk
 * rather than per hit. When the oldest hit not yet committed is older than the interval plus
 * MAX_LAG, the writer cannot keep up: new hits are refused (503) until it does, so what a
 * crash can lose stays bounded by time, not by the queue's size.
 *
 * A hit keeps the real time it arrived; at each flush the writer reads the store's clock
 * once and dates each hit by its age, so on a virtual clock (demos, tests) hits land at the
 * virtual "now" minus how long ago they came, and on the real clock at their real time.
 */
#include "tracking/hits.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/clock_store.h"
#include "store/store.h"

#define SOON 8192                      /* queued hits that start a commit at once */
#define CHUNK 256                      /* rows per INSERT */
#define MAX_LAG (INT64_C(1000) * 1000) /* µs beyond the interval before refusing */
#define TEXT_MAX 512                   /* bytes of a user agent kept */
#define NCOLS 8

struct qhit {
    char kind;
    int prefetch;
    int64_t delivery, log, link;
    cr_time_t at_real;
    size_t ua, ip; /* offsets into the strings buffer; (size_t)-1: none */
};

struct queue {
    struct qhit *v;
    size_t n, cap;
    struct cr_buf text;
};

struct cr_hits {
    pthread_mutex_t mu;
    pthread_cond_t wake, flushed;
    pthread_t thread;
    struct queue q[2];
    int cur;                /* the queue requests append to */
    cr_time_t writing_from; /* arrival of the oldest hit being committed; 0: none */
    int stop;
    uint64_t flush_asked, flush_done;
    int flush_ms;
    struct cr_store *s;
    struct cr_clock clock;
    struct cr_stmt *full; /* the INSERT of CHUNK rows */
    struct cr_hits_stats st;
};

static size_t put_text(struct queue *q, const char *s)
{
    if (!s)
        return (size_t)-1;
    size_t at = q->text.len, n = strnlen(s, TEXT_MAX);
    cr_buf_append(&q->text, s, n);
    cr_buf_putc(&q->text, 0);
    return at;
}

static void push(struct queue *q, const struct qhit *x, const char *ua, const char *ip)
{
    if (q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 4096;
        q->v = cr_xrealloc(q->v, q->cap * sizeof *q->v);
    }
    struct qhit *y = &q->v[q->n++];
    *y = *x;
    y->ua = put_text(q, ua);
    y->ip = put_text(q, ip);
}

int cr_hits_add(struct cr_hits *h, const struct cr_hit *hit)
{
    cr_time_t now = cr_time_real_now();
    struct qhit x = {hit->kind, hit->prefetch, hit->delivery, hit->log, hit->link, now, 0, 0};
    pthread_mutex_lock(&h->mu);
    struct queue *q = &h->q[h->cur];
    cr_time_t oldest = h->writing_from ? h->writing_from : q->n ? q->v[0].at_real : now;
    if (now - oldest > (cr_time_t)h->flush_ms * 1000 + MAX_LAG) {
        h->st.refused++;
        pthread_mutex_unlock(&h->mu);
        return -1;
    }
    push(q, &x, hit->user_agent, hit->ip);
    h->st.queued++;
    if (q->n == SOON)
        pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->mu);
    return 0;
}

static const char *kind_name(char k)
{
    return k == 'o' ? "open" : "click";
}

/* INSERT … SELECT from a VALUES list of n rows joined to the recipients: the join gives the
 * profile and keeps out proofs and pairs that do not exist. Columns are cast on PostgreSQL,
 * where parameters arrive untyped. */
static int prepare_insert(struct cr_hits *h, size_t n, struct cr_stmt **st, struct cr_err *err)
{
    static const char *const pg[NCOLS] = {"bigint", "text", "bigint",  "timestamp",
                                          "text",   "text", "boolean", "bigint"};
    int is_pg = cr_store_dialect(h->s) == CR_DIALECT_POSTGRES;
    struct cr_buf sql = CR_BUF_INIT(0);
    cr_buf_puts(&sql, "INSERT INTO tracking_log (delivery_id, kind, link_id, at, user_agent, ip, "
                      "prefetch, profile_id, log_id) SELECT v.column1, v.column2, v.column3, "
                      "v.column4, v.column5, v.column6, v.column7, l.profile_id, l.id FROM "
                      "(VALUES ");
    for (size_t i = 0; i < n; i++) {
        cr_buf_puts(&sql, i ? ", (" : "(");
        for (int c = 0; c < NCOLS; c++)
            if (is_pg)
                cr_buf_printf(&sql, "%sCAST(? AS %s)", c ? ", " : "", pg[c]);
            else
                cr_buf_puts(&sql, c ? ", ?" : "?");
        cr_buf_putc(&sql, ')');
    }
    cr_buf_puts(&sql, ") AS v JOIN delivery_log l ON l.id = v.column8 AND l.delivery_id = "
                      "v.column1 WHERE NOT l.proof");
    int rc = cr_stmt_prepare(h->s, sql.data, st, err);
    cr_buf_release(&sql);
    return rc;
}

static void bind_row(struct cr_stmt *st, int at, const struct queue *q, const struct qhit *x,
                     const char *ts)
{
    cr_stmt_bind_int64(st, at + 1, x->delivery);
    cr_stmt_bind_str(st, at + 2, kind_name(x->kind));
    if (x->kind == 'c')
        cr_stmt_bind_int64(st, at + 3, x->link);
    else
        cr_stmt_bind_null(st, at + 3);
    cr_stmt_bind_str(st, at + 4, ts);
    cr_stmt_bind_str(st, at + 5, x->ua == (size_t)-1 ? NULL : q->text.data + x->ua);
    cr_stmt_bind_str(st, at + 6, x->ip == (size_t)-1 ? NULL : q->text.data + x->ip);
    cr_stmt_bind_bool(st, at + 7, x->prefetch);
    cr_stmt_bind_int64(st, at + 8, x->log);
}

/* One transaction for the batch; on failure the batch is retried (kept in front of what
 * came since), so a busy database delays hits, never loses them. */
static int write_batch(struct cr_hits *h, struct queue *q, struct cr_err *err)
{
    cr_time_t now_store = cr_clock_now(&h->clock), now_real = cr_time_real_now();
    char(*ts)[CR_TIME_BUFSZ] = cr_xcalloc(CHUNK, sizeof *ts);
    struct cr_stmt *tail = NULL;
    int rc;
    if ((rc = cr_store_begin(h->s, err)))
        goto out;
    for (size_t i = 0; i < q->n && !rc; i += CHUNK) {
        size_t n = q->n - i < CHUNK ? q->n - i : CHUNK;
        struct cr_stmt *st = h->full;
        if (n < CHUNK && (rc = prepare_insert(h, n, &tail, err)))
            break;
        if (n < CHUNK)
            st = tail;
        cr_stmt_reset(st);
        for (size_t j = 0; j < n; j++) {
            const struct qhit *x = &q->v[i + j];
            cr_time_format_sql(now_store - (now_real - x->at_real), ts[j]);
            bind_row(st, (int)(j * NCOLS), q, x, ts[j]);
        }
        if ((rc = cr_stmt_step(st, err)) > 0)
            rc = 0;
        cr_stmt_reset(st);
    }
    if (rc)
        cr_store_rollback(h->s);
    else
        rc = cr_store_commit(h->s, err);
out:
    cr_stmt_free(tail);
    free(ts);
    return rc;
}

static void wait_until(struct cr_hits *h, cr_time_t deadline_real)
{
    cr_time_t left = deadline_real - cr_time_real_now();
    if (left <= 0)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(left / CR_USEC_PER_SEC);
    ts.tv_nsec += (long)(left % CR_USEC_PER_SEC) * 1000;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&h->wake, &h->mu, &ts);
}

static void *writer(void *arg)
{
    struct cr_hits *h = arg;
    cr_time_t last = cr_time_real_now();
    int failures = 0;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        /* the interval since the last commit started, unless a batch is already waiting,
         * a flush is asked, or we stop */
        while (!h->stop && h->flush_asked == h->flush_done && h->q[h->cur].n < SOON &&
               cr_time_real_now() < last + (cr_time_t)h->flush_ms * 1000)
            wait_until(h, last + (cr_time_t)h->flush_ms * 1000);
        last = cr_time_real_now();
        uint64_t asked = h->flush_asked;
        int stopping = h->stop;
        struct queue *q = &h->q[h->cur];
        size_t n = q->n;
        if (n) {
            h->cur ^= 1;
            h->writing_from = q->v[0].at_real;
            pthread_mutex_unlock(&h->mu);
            struct cr_err err = CR_ERR_INIT;
            int rc = write_batch(h, q, &err);
            pthread_mutex_lock(&h->mu);
            failures = rc ? failures + 1 : 0;
            if (rc && (!stopping || failures < 5)) {
                /* the batch goes back in front of the new hits, and is tried again */
                struct queue *nq = &h->q[h->cur];
                cr_log_warn("tracking: %zu hits wait: %s", n, cr_err_msg(&err));
                for (size_t i = 0; i < nq->n; i++)
                    push(q, &nq->v[i],
                         nq->v[i].ua == (size_t)-1 ? NULL : nq->text.data + nq->v[i].ua,
                         nq->v[i].ip == (size_t)-1 ? NULL : nq->text.data + nq->v[i].ip);
                nq->n = 0;
                cr_buf_reset(&nq->text);
                h->cur ^= 1;
                h->writing_from = 0;
                pthread_mutex_unlock(&h->mu);
                nanosleep(&(struct timespec){0, 100000000L}, NULL);
                pthread_mutex_lock(&h->mu);
                continue;
            }
            if (rc)
                cr_log_error("tracking: %zu hits lost at shutdown: %s", n, cr_err_msg(&err));
            else
                h->st.written += n, h->st.batches++;
            h->writing_from = 0;
            q->n = 0;
            cr_buf_reset(&q->text);
            continue; /* more may have come while writing */
        }
        h->flush_done = asked;
        pthread_cond_broadcast(&h->flushed);
        if (stopping)
            break;
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

int cr_hits_start(const char *db_url, int flush_ms, struct cr_hits **out, struct cr_err *err)
{
    struct cr_hits *h = cr_xcalloc(1, sizeof *h);
    int rc;
    *out = NULL;
    h->flush_ms = flush_ms > 0 ? flush_ms : 1000;
    for (int i = 0; i < 2; i++)
        cr_buf_init(&h->q[i].text, 0);
    if ((rc = cr_store_open(db_url, &h->s, err)))
        goto fail;
    cr_store_clock_init(&h->clock, h->s);
    /* a batch of 80,000 rows and their index entries overflows SQLite's default page cache
     * in mid-transaction (bench/tracking) */
    if (cr_store_dialect(h->s) == CR_DIALECT_SQLITE &&
        (rc = cr_store_exec(h->s, "PRAGMA cache_size = -65536", err)))
        goto fail;
    if ((rc = prepare_insert(h, CHUNK, &h->full, err)))
        goto fail;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->wake, NULL);
    pthread_cond_init(&h->flushed, NULL);
    if (pthread_create(&h->thread, NULL, writer, h) != 0) {
        rc = cr_err_set(err, CR_EIO, "cannot start the tracking writer");
        pthread_mutex_destroy(&h->mu);
        pthread_cond_destroy(&h->wake);
        pthread_cond_destroy(&h->flushed);
        goto fail;
    }
    *out = h;
    return 0;
fail:
    cr_stmt_free(h->full);
    cr_store_close(h->s);
    for (int i = 0; i < 2; i++)
        cr_buf_release(&h->q[i].text);
    free(h);
    return rc;
}

void cr_hits_flush(struct cr_hits *h)
{
    pthread_mutex_lock(&h->mu);
    uint64_t want = ++h->flush_asked;
    pthread_cond_signal(&h->wake);
    while (h->flush_done < want)
        pthread_cond_wait(&h->flushed, &h->mu);
    pthread_mutex_unlock(&h->mu);
}

void cr_hits_stats(struct cr_hits *h, struct cr_hits_stats *st)
{
    pthread_mutex_lock(&h->mu);
    *st = h->st;
    pthread_mutex_unlock(&h->mu);
}

void cr_hits_stop(struct cr_hits *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    h->stop = 1;
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->thread, NULL);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->wake);
    pthread_cond_destroy(&h->flushed);
    cr_stmt_free(h->full);
    cr_store_close(h->s);
    for (int i = 0; i < 2; i++) {
        free(h->q[i].v);
        cr_buf_release(&h->q[i].text);
    }
    free(h);
}
