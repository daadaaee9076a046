/*
 * external_int.h - what external.c (columns, rows, files) shares with external_export.c
 *                  (the export's state machine)
 */
#ifndef CR_DELIVERY_EXTERNAL_INT_H
#define CR_DELIVERY_EXTERNAL_INT_H

#include <jansson.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/err.h"
#include "store/store.h"

/* Writes the rows of delivery id whose status is status (proof rows never), up to limit
 * (0: all), into path (created, replaced) in the format of content; *rows, *bytes and
 * *max_log_id (the last row written) receive what was written. gzip as the format says
 * unless plain. On error the file is removed. */
int cr__external_write(struct cr_store *s, struct cr_clock *clock, int64_t id,
                       const json_t *content, const char *label, const char *status,
                       int64_t limit, int plain, const char *path, int64_t *rows,
                       int64_t *bytes, int64_t *max_log_id, struct cr_err *err) CR_WARN_UNUSED;

/* The spool folder (created when missing): setting external.spool_dir, else next to a
 * SQLite database (crier.db.spool), else /var/tmp/crier-spool. Caller frees. */
int cr__external_spool(struct cr_store *s, char **dir, struct cr_err *err) CR_WARN_UNUSED;

/* The file name at the target for the routing account's pattern ({delivery}, {label},
 * {date}, {time}, {ext}). Caller frees. */
char *cr__external_file_name(const char *pattern, int64_t id, const char *label, cr_time_t now,
                             const json_t *content);

#endif
