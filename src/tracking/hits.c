/*
 * hits.c - the tracking writer: a double-buffered queue and one thread committing batches
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

#define QUEUE_MAX (1u << 20) /* hits waiting; beyond, new hits are refused */
#define TEXT_MAX 512         /* bytes of a user agent kept */

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
    int cur; /* the queue requests append to */
    int stop;
    uint64_t flush_asked, flush_done;
    int flush_ms;
    struct cr_store *s;
    struct cr_clock clock;
    struct cr_stmt *ins;
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

int cr_hits_add(struct cr_hits *h, const struct cr_hit *hit)
{
    cr_time_t now = cr_time_real_now();
    pthread_mutex_lock(&h->mu);
    struct queue *q = &h->q[h->cur];
    if (q->n >= QUEUE_MAX) {
        h->st.refused++;
        pthread_mutex_unlock(&h->mu);
        return -1;
    }
    if (q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 4096;
        q->v = cr_xrealloc(q->v, q->cap * sizeof *q->v);
    }
    struct qhit *x = &q->v[q->n++];
    x->kind = hit->kind;
    x->prefetch = hit->prefetch;
    x->delivery = hit->delivery;
    x->log = hit->log;
    x->link = hit->link;
    x->at_real = now;
    x->ua = put_text(q, hit->user_agent);
    x->ip = put_text(q, hit->ip);
    h->st.queued++;
    pthread_mutex_unlock(&h->mu);
    return 0;
}

static const char *kind_name(char k)
{
    return k == 'o' ? "open" : "click";
}

/* One transaction for the batch; on failure the batch is retried at the next interval
 * (kept in front of what came since), so a busy database delays hits, never loses them. */
static int write_batch(struct cr_hits *h, struct queue *q, struct cr_err *err)
{
    cr_time_t now_store = cr_clock_now(&h->clock), now_real = cr_time_real_now();
    char ts[CR_TIME_BUFSZ];
    int rc;
    if ((rc = cr_store_begin(h->s, err)))
        return rc;
    for (size_t i = 0; i < q->n; i++) {
        const struct qhit *x = &q->v[i];
        cr_time_format_sql(now_store - (now_real - x->at_real), ts);
        cr_stmt_reset(h->ins);
        cr_stmt_bind_int64(h->ins, 1, x->delivery);
        cr_stmt_bind_str(h->ins, 2, kind_name(x->kind));
        if (x->kind == 'c')
            cr_stmt_bind_int64(h->ins, 3, x->link);
        else
            cr_stmt_bind_null(h->ins, 3);
        cr_stmt_bind_str(h->ins, 4, ts);
        cr_stmt_bind_str(h->ins, 5, x->ua == (size_t)-1 ? NULL : q->text.data + x->ua);
        cr_stmt_bind_str(h->ins, 6, x->ip == (size_t)-1 ? NULL : q->text.data + x->ip);
        cr_stmt_bind_bool(h->ins, 7, x->prefetch);
        cr_stmt_bind_int64(h->ins, 8, x->log);
        cr_stmt_bind_int64(h->ins, 9, x->delivery);
        if ((rc = cr_stmt_step(h->ins, err)) < 0) {
            cr_stmt_reset(h->ins);
            cr_store_rollback(h->s);
            return rc;
        }
    }
    cr_stmt_reset(h->ins);
    return cr_store_commit(h->s, err);
}

static void *writer(void *arg)
{
    struct cr_hits *h = arg;
    pthread_mutex_lock(&h->mu);
    int failures = 0;
    for (;;) {
        if (!h->stop && h->flush_asked == h->flush_done) {
            /* one interval per batch; a flush or a stop wakes it early */
            int ms = h->flush_ms;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += (long)(ms % 1000) * 1000000L;
            ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&h->wake, &h->mu, &ts);
        }
        uint64_t asked = h->flush_asked;
        int stopping = h->stop;
        struct queue *q = &h->q[h->cur];
        size_t n = q->n;
        if (n) {
            h->cur ^= 1;
            pthread_mutex_unlock(&h->mu);
            struct cr_err err = CR_ERR_INIT;
            int rc = write_batch(h, q, &err);
            pthread_mutex_lock(&h->mu);
            failures = rc ? failures + 1 : 0;
            if (rc && (!stopping || failures < 5)) {
                /* put the batch back in front of the new hits */
                struct queue *nq = &h->q[h->cur];
                cr_log_warn("tracking: %zu hits wait: %s", n, cr_err_msg(&err));
                for (size_t i = 0; i < nq->n; i++) {
                    struct qhit x = nq->v[i];
                    const char *ua = x.ua == (size_t)-1 ? NULL : nq->text.data + x.ua;
                    const char *ip = x.ip == (size_t)-1 ? NULL : nq->text.data + x.ip;
                    if (q->n == q->cap) {
                        q->cap *= 2;
                        q->v = cr_xrealloc(q->v, q->cap * sizeof *q->v);
                    }
                    x.ua = put_text(q, ua);
                    x.ip = put_text(q, ip);
                    q->v[q->n++] = x;
                }
                nq->n = 0;
                cr_buf_reset(&nq->text);
                h->cur ^= 1;
                pthread_mutex_unlock(&h->mu);
                nanosleep(&(struct timespec){0, 100000000L}, NULL);
                pthread_mutex_lock(&h->mu);
                continue;
            }
            if (rc)
                cr_log_error("tracking: %zu hits lost at shutdown: %s", n, cr_err_msg(&err));
            else
                h->st.written += n, h->st.batches++;
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
    /* the recipient's row gives the profile, and keeps out proofs and forged pairs */
    if ((rc = cr_stmt_prepare(h->s,
                              "INSERT INTO tracking_log (delivery_id, kind, link_id, at, "
                              "user_agent, ip, prefetch, profile_id, log_id) "
                              "SELECT ?, ?, ?, ?, ?, ?, ?, l.profile_id, l.id FROM delivery_log l "
                              "WHERE l.id = ? AND l.delivery_id = ? AND NOT l.proof",
                              &h->ins, err)))
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
    cr_stmt_free(h->ins);
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
    cr_stmt_free(h->ins);
    cr_store_close(h->s);
    for (int i = 0; i < 2; i++) {
        free(h->q[i].v);
        cr_buf_release(&h->q[i].text);
    }
    free(h);
}
