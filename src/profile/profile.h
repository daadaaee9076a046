/*
 * profile.h - reading profiles out: count, one as JSON, all as CSV
 *
 * Values leave crier typed by the column catalogue: integers and reals as numbers, booleans
 * as true/false, dates "YYYY-MM-DD", timestamps "YYYY-MM-DD HH:MM:SS" (UTC), NULL as null in
 * JSON and as an empty field in CSV.
 */
#ifndef CR_PROFILE_H
#define CR_PROFILE_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "store/schema.h"
#include "store/store.h"

int cr_profile_count(struct cr_store *s, int64_t *count, struct cr_err *err) CR_WARN_UNUSED;
/* A new JSON object with every column, plus "subscriptions" and "lists"; CR_ENOTFOUND if no
 * profile has this id. */
int cr_profile_get_json(struct cr_store *s, int64_t id, json_t **out,
                        struct cr_err *err) CR_WARN_UNUSED;
/* Writes every profile (header first, ordered by id) as RFC 4180 CSV; an export imports back
 * unchanged. *rows receives the number of profiles written. */
int cr_profile_export_csv(struct cr_store *s, FILE *out, int64_t *rows,
                          struct cr_err *err) CR_WARN_UNUSED;
/* The JSON value of a stored column value (text as the store gives it, NULL for NULL). */
json_t *cr_value_json(enum cr_coltype type, const char *text);
/* The CSV text of a stored value ("" for NULL; booleans "true"/"false"). */
const char *cr_value_text(enum cr_coltype type, const char *text);

#endif
