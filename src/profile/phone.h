/*
 * phone.h - phone numbers to E.164 with the rules of Google's libphonenumber
 *
 * A C interface over libphonenumber (C++), kept to this one bridge. A number is accepted when
 * libphonenumber finds it possible (a known country calling code and a plausible national
 * length); crier does not require it to be assigned to a carrier range.
 */
#ifndef CR_PHONE_H
#define CR_PHONE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CR_PHONE_MAX 24 /* "+" and at most 17 digits in practice, and a NUL */

/* Writes the E.164 form of in[0..n) into out and returns 0; or returns -1 and points *reason
 * at a static phrase ("too short", "invalid country calling code", …). region is an ISO 3166
 * alpha-2 code used for national numbers, or NULL/"" to accept international ones only. */
int cr_phone_normalize(const char *in, size_t n, const char *region, char *out,
                       const char **reason);
/* The slow reference path (libphonenumber's full parser), for tests and odd inputs. */
int cr_phone_normalize_full(const char *in, size_t n, const char *region, char *out,
                            const char **reason);
/* 1 if libphonenumber knows region (ISO 3166 alpha-2, upper case). */
int cr_phone_region_known(const char *region);
/* For an E.164 number: its type ("mobile", "fixed_line", "fixed_line_or_mobile", "toll_free",
 * "voip", …, "unknown") and whether it is in an assigned range; region receives its ISO code. */
void cr_phone_describe(const char *e164, const char **type, int *valid, char region[4]);

#ifdef __cplusplus
}
#endif

#endif
