/*
 * sample.h - deterministic sample data for demos, tests and benchmarks
 *
 * Profile i of seed s is always the same person, so a subscription or list file generated
 * separately refers to the right profiles. Addresses use the reserved example.com/.net/.org
 * domains (RFC 2606) and plausible mobile numbers of six European countries; most phones are
 * written in E.164, some in national format, as exports from real CRMs mix them.
 */
#ifndef CR_SAMPLE_H
#define CR_SAMPLE_H

#include <stdint.h>
#include <stdio.h>

struct cr_sample_opts {
    uint64_t seed;
    int national_phone_pct; /* share of phones written in national format (default 15) */
};

/* Writes a header and n profiles as CSV. Returns 0 or CR_EIO. */
int cr_sample_write_profiles(FILE *out, long n, const struct cr_sample_opts *o);
/* Writes the app subscriptions (app "shop-app", ios or android) of profiles 1..n: about 40%
 * of them have one, a few have both platforms. */
int cr_sample_write_subscriptions(FILE *out, long n, const struct cr_sample_opts *o);
/* The e-mail of profile i (1-based), as cr_sample_write_profiles() writes it. */
void cr_sample_email(long i, const struct cr_sample_opts *o, char *out, size_t cap);

#endif
