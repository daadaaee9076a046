/*
 * import.h - CSV imports: profiles, subscriptions, list members
 *
 * Every import reads a header naming its columns (any order), then one record per row.
 * A row that cannot be loaded is rejected with its line number and reason and the rest go on;
 * a file that cannot be processed at all (unreadable, bad header) fails the whole call before
 * anything is written. Rows are written in transactions of a few tens of thousands.
 *
 * Ownership: results own their reject reasons; cr_import_result_release() frees them.
 */
#ifndef CR_IMPORT_H
#define CR_IMPORT_H

#include <stdio.h>

#include "core/clock.h"
#include "core/err.h"
#include "store/store.h"

struct cr_import_opts {
    const char *key;             /* "email" (default), "phone" or "external_id" */
    const char *default_country; /* ISO 3166 alpha-2 for national phone numbers, or NULL */
    char separator;              /* ',' by default */
    struct cr_clock *clock;      /* stamps created_at/updated_at; NULL = real time */
    long batch_rows;             /* rows per transaction; 0 = 50,000 */
};

struct cr_import_reject {
    long line;
    char *reason;
};

struct cr_import_result {
    long read, inserted, updated;
    struct cr_import_reject *rejected;
    size_t nrejected, cap;
};

int cr_import_profiles(struct cr_store *s, FILE *in, const struct cr_import_opts *o,
                       struct cr_import_result *res, struct cr_err *err) CR_WARN_UNUSED;
/* Columns: the key column, app, platform (ios|android), token; optional active. */
int cr_import_subscriptions(struct cr_store *s, FILE *in, const struct cr_import_opts *o,
                            struct cr_import_result *res, struct cr_err *err) CR_WARN_UNUSED;
/* Adds the profiles named by the key column to list `name` (created if missing); other
 * columns are ignored. inserted counts new members, updated those already there. */
int cr_import_list(struct cr_store *s, const char *name, FILE *in, const struct cr_import_opts *o,
                   struct cr_import_result *res, struct cr_err *err) CR_WARN_UNUSED;

void cr_import_result_release(struct cr_import_result *res);
/* The JSON of the CLI contract: {"read":N,"inserted":N,"updated":N,"rejected":[…]}. */
char *cr_import_result_json(const struct cr_import_result *res);

#endif
