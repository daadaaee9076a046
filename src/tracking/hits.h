/*
 * hits.h - tracking hits written to tracking_log in batches, durably, off the request path
 *
 * Request threads queue a hit (no I/O); a writer thread commits what is queued every flush
 * interval (default 1 s), or at once when a large batch waits, in one transaction on its own
 * connection, so a crash loses at most the hits not yet committed and never half a batch. A
 * hit whose recipient row is gone, or belongs to a proof, is not logged (proofs never count).
 * When the oldest uncommitted hit is more than a second older than the interval (the store
 * cannot keep up), cr_hits_add refuses, and the server answers 503 rather than acknowledging
 * a hit a crash could lose: a crash loses at most interval + 1 s of hits.
 */
#ifndef CR_TRACKING_HITS_H
#define CR_TRACKING_HITS_H

#include <stdint.h>

#include "core/err.h"

struct cr_hits;

struct cr_hit {
    char kind;  /* 'o' open, 'c' click (the token kinds) */
    int prefetch;
    int64_t delivery, log, link;
    const char *user_agent, *ip; /* copied; NULL allowed */
};

struct cr_hits_stats {
    uint64_t queued, written, dropped, refused, batches;
};

/* Opens its own connection to db_url and starts the writer. flush_ms 0 means 1000. */
int cr_hits_start(const char *db_url, int flush_ms, struct cr_hits **out,
                  struct cr_err *err) CR_WARN_UNUSED;
/* 0, or -1 when the writer is too far behind. Thread-safe. */
int cr_hits_add(struct cr_hits *h, const struct cr_hit *hit);
/* Writes what is queued now and waits for it (tests, shutdown). */
void cr_hits_flush(struct cr_hits *h);
void cr_hits_stats(struct cr_hits *h, struct cr_hits_stats *st);
/* Flushes, stops the writer, frees. */
void cr_hits_stop(struct cr_hits *h);

#endif
