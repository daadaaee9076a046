/*
 * test_phone.c - E.164 normalisation: the fast path agrees with libphonenumber's parser
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "profile/phone.h"

char **phone_examples(size_t *count);
char **phone_regions(size_t *count);

#ifndef PHONE_RANDOM_PER_LENGTH
#define PHONE_RANDOM_PER_LENGTH 40
#endif

static void test_examples_agree(void **state)
{
    size_t n, disagree = 0, ok = 0;
    char **ex = phone_examples(&n);
    (void)state;
    assert_true(n > 1000);
    for (size_t i = 0; i < n; i++) {
        char fast[CR_PHONE_MAX], full[CR_PHONE_MAX];
        const char *rf = NULL, *rs = NULL;
        int a = cr_phone_normalize(ex[i], strlen(ex[i]), NULL, fast, &rf);
        int b = cr_phone_normalize_full(ex[i], strlen(ex[i]), NULL, full, &rs);
        if (a != b || (a == 0 && strcmp(fast, full) != 0)) {
            print_message("disagree on %s: fast=%s full=%s\n", ex[i], a ? rf : fast,
                          b ? rs : full);
            disagree++;
        }
        ok += a == 0;
        free(ex[i]);
    }
    free(ex);
    assert_int_equal(disagree, 0);
    assert_true(ok > 500);
}

/* Random national numbers of every length for every country code the examples use. */
static void test_random_agree(void **state)
{
    size_t n, disagree = 0, tried = 0;
    char **ex = phone_examples(&n);
    uint64_t seed = 88172645463325252ULL;
    char seen[1000] = {0};
    (void)state;
    for (size_t i = 0; i < n; i++) {
        char fast[CR_PHONE_MAX], full[CR_PHONE_MAX], num[32];
        const char *rf, *rs;
        int cc = 0, cclen;
        /* The example's country code: the prefix the full parser finds. */
        for (cclen = 1; cclen <= 3; cclen++) {
            char probe[8];
            snprintf(probe, sizeof probe, "+%.*s", cclen, ex[i] + 1);
            cc = atoi(probe + 1);
            if (cc < 1000 && !seen[cc]) {
                char tmp[CR_PHONE_MAX];
                const char *r;
                snprintf(num, sizeof num, "+%d123456789", cc);
                if (cr_phone_normalize_full(num, strlen(num), NULL, tmp, &r) == 0 ||
                    strncmp(r, "invalid country", 15) != 0)
                    break;
            }
        }
        if (cclen > 3 || cc >= 1000 || seen[cc]) {
            free(ex[i]);
            continue;
        }
        seen[cc] = 1;
        for (int len = 4; len <= 14; len++) {
            for (int k = 0; k < PHONE_RANDOM_PER_LENGTH; k++) {
                int p = snprintf(num, sizeof num, "+%d", cc);
                for (int d = 0; d < len; d++) {
                    seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
                    num[p++] = (char)('0' + (int)(seed % 10));
                }
                num[p] = '\0';
                int a = cr_phone_normalize(num, strlen(num), NULL, fast, &rf);
                int b = cr_phone_normalize_full(num, strlen(num), NULL, full, &rs);
                tried++;
                if (a != b || (a == 0 && strcmp(fast, full) != 0)) {
                    if (disagree < 20)
                        print_message("disagree on %s: fast=%s full=%s\n", num, a ? rf : fast,
                                      b ? rs : full);
                    disagree++;
                }
            }
        }
        free(ex[i]);
    }
    free(ex);
    assert_true(tried > 50000);
    assert_int_equal(disagree, 0);
}

/* National numbers (trunk prefix, random digits, spaces) in every region: both paths agree. */
static void test_random_national_agree(void **state)
{
    size_t n, disagree = 0, tried = 0;
    char **regions = phone_regions(&n);
    uint64_t seed = 0x2545F4914F6CDD1DULL;
    (void)state;
    assert_true(n > 200);
    for (size_t i = 0; i < n; i++) {
        char region[3] = {regions[i][0], regions[i][1], 0};
        const char *ndd = regions[i] + 3;
        for (int len = 4; len <= 12; len++) {
            for (int k = 0; k < PHONE_RANDOM_PER_LENGTH / 2; k++) {
                char num[40], fast[CR_PHONE_MAX], full[CR_PHONE_MAX];
                const char *rf, *rs;
                int p = snprintf(num, sizeof num, "%s", ndd);
                for (int d = 0; d < len; d++) {
                    seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
                    if (d % 2 == 0 && d)
                        num[p++] = ' ';
                    num[p++] = (char)('0' + (int)(seed % 10));
                }
                num[p] = '\0';
                int a = cr_phone_normalize(num, strlen(num), region, fast, &rf);
                int b = cr_phone_normalize_full(num, strlen(num), region, full, &rs);
                tried++;
                if (a != b || (a == 0 && strcmp(fast, full) != 0)) {
                    if (disagree < 20)
                        print_message("disagree on %s in %s: fast=%s full=%s\n", num, region,
                                      a ? rf : fast, b ? rs : full);
                    disagree++;
                }
            }
        }
        free(regions[i]);
    }
    free(regions);
    assert_true(tried > 40000);
    assert_int_equal(disagree, 0);
}

static void test_national_and_formats(void **state)
{
    static const struct {
        const char *in, *region, *want;
    } cases[] = {
        {"06 12 34 56 78", "FR", "+33612345678"},
        {"+33 6 12 34 56 78", NULL, "+33612345678"},
        {"0033612345678", "FR", "+33612345678"},
        {"+33 (0)6 12 34 56 78", NULL, "+33612345678"},
        {"(650) 253-0000", "US", "+16502530000"},
        {"+44 7911 123456", "FR", "+447911123456"},
        {"0470 12 34 56", "BE", "+32470123456"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char out[CR_PHONE_MAX];
        const char *reason = NULL;
        int rc = cr_phone_normalize(cases[i].in, strlen(cases[i].in), cases[i].region, out,
                                    &reason);
        if (rc)
            fail_msg("%s: %s", cases[i].in, reason);
        assert_string_equal(out, cases[i].want);
    }
}

static void test_invalid(void **state)
{
    static const struct {
        const char *in, *region, *reason;
    } cases[] = {
        {"12", "FR", "too short"},
        {"06 12 34", "FR", "too short"},
        {"+33 6 12 34 56 78 90 12", NULL, "too long"},
        {"hello", "FR", "not a phone number"},
        {"06 12 34 56 78", NULL, "invalid country calling code"},
        {"+999 123456789", NULL, "invalid country calling code"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char out[CR_PHONE_MAX];
        const char *reason = NULL;
        int rc = cr_phone_normalize(cases[i].in, strlen(cases[i].in), cases[i].region, out,
                                    &reason);
        if (rc == 0)
            fail_msg("%s was accepted as %s", cases[i].in, out);
        if (strncmp(reason, cases[i].reason, strlen(cases[i].reason)) != 0)
            fail_msg("%s: reason '%s', expected '%s'", cases[i].in, reason, cases[i].reason);
    }
}

static void test_describe(void **state)
{
    const char *type;
    int valid;
    char region[4];
    (void)state;
    cr_phone_describe("+33612345678", &type, &valid, region);
    assert_string_equal(type, "mobile");
    assert_true(valid);
    assert_string_equal(region, "FR");
    assert_true(cr_phone_region_known("FR"));
    assert_false(cr_phone_region_known("XX"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_examples_agree),
        cmocka_unit_test(test_random_agree),
        cmocka_unit_test(test_random_national_agree),
        cmocka_unit_test(test_national_and_formats),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_describe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
