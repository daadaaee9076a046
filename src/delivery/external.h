/*
 * external.h - external deliveries (DESIGN §6): the recipients' extraction file, generated
 *              from an external template and exported to the routing account's target
 *
 * A column's "value" is a filter-language expression over the recipient's profile
 * (`upper(last_name)`, `coalesce(city, '')`), or one of the delivery's own fields:
 * `delivery.id`, `delivery.label`, `delivery.date` (the export's UTC date), `recipient.id`
 * (its log id), `recipient.address` (the address preparation normalised: E.164 number, email,
 * or device token).
 *
 * Sending an external delivery (the engine, cr_delivery_engine_step) writes every targeted
 * recipient into one file in the spool folder, then exports it; the rows become `sent` when
 * the export succeeded. An export that fails for a network or disk reason is retried with a
 * back-off (1 minute, doubling to an hour) until the delivery's validity ends; a refused login
 * or a changed host key fails the delivery at once. The file stays in the spool until it was
 * exported, and its path is in `delivery show` ("export"), so nothing is lost.
 */
#ifndef CR_DELIVERY_EXTERNAL_H
#define CR_DELIVERY_EXTERNAL_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "core/clock.h"
#include "core/err.h"
#include "store/store.h"

/* Checks an external template: the file format (extract.h) and each column's value. */
int cr_external_template_check(struct cr_store *s, const json_t *content,
                               struct cr_err *err) CR_WARN_UNUSED;

/* Writes the header and the first `rows` targeted recipients of delivery id to out, as the
 * file will have them (uncompressed, in the file's encoding). */
int cr_external_preview(struct cr_store *s, struct cr_clock *clock, int64_t id, int64_t rows,
                        FILE *out, struct cr_err *err) CR_WARN_UNUSED;

/* A proof: the first ten targeted recipients written to a sample file at path (NULL: in the
 * spool folder); *written receives the path (malloc'd). Never exported, never counted. */
int cr_external_proof(struct cr_store *s, struct cr_clock *clock, int64_t id, const char *path,
                      char **written, struct cr_err *err) CR_WARN_UNUSED;

/* One engine step for external delivery id (sending): generates its file if needed and
 * exports it when due. *did: 1 if it did something. */
int cr_external_step(struct cr_store *s, struct cr_clock *clock, int64_t id, int *did,
                     struct cr_err *err) CR_WARN_UNUSED;

/* {"file","name","target","rows","bytes","status","attempts","error","exported_at",
 * "next_attempt_at"} of delivery id's export, or NULL (*out) when there is none yet. */
int cr_external_export_json(struct cr_store *s, int64_t id, json_t **out,
                            struct cr_err *err) CR_WARN_UNUSED;

#endif
