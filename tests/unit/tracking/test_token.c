/*
 * test_token.c - signed tracking tokens: round trips, and every alteration refused
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tracking/token.h"

static void keys(struct cr_token_keys *k, unsigned char cur, unsigned char prev, int has_prev)
{
    memset(k, 0, sizeof *k);
    memset(k->cur, cur, sizeof k->cur);
    memset(k->prev, prev, sizeof k->prev);
    k->has_prev = has_prev;
}

static void test_round_trip(void **state)
{
    struct cr_token_keys k;
    const struct cr_token cases[] = {
        {CR_TOKEN_OPEN, 1, 1, 0},
        {CR_TOKEN_CLICK, 12345, 987654321, 7},
        {CR_TOKEN_UNSUBSCRIBE, INT64_MAX, INT64_MAX, 0},
        {CR_TOKEN_MIRROR, 42, 0, 0},
    };
    (void)state;
    keys(&k, 1, 0, 0);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char s[CR_TOKEN_MAX];
        struct cr_token t;
        cr_token_encode(&k, &cases[i], s);
        assert_true(strlen(s) < CR_TOKEN_MAX);
        assert_null(strpbrk(s, "+/=")); /* URL-safe, no padding */
        assert_int_equal(cr_token_decode(&k, s, strlen(s), &t), 0);
        assert_int_equal(t.kind, cases[i].kind);
        assert_true(t.delivery == cases[i].delivery && t.log == cases[i].log);
        assert_true(t.link == cases[i].link);
    }
}

/* Known answers, computed independently (Python's hmac and base64 modules): the keyed
 * HMAC must be HMAC-SHA256 as RFC 2104 defines it, not merely agree with itself. */
static void test_known_answers(void **state)
{
    struct cr_token_keys k;
    char s[CR_TOKEN_MAX];
    (void)state;
    keys(&k, 1, 0, 0);
    cr_token_encode(&k, &(struct cr_token){CR_TOKEN_CLICK, 12345, 987654321, 7}, s);
    assert_string_equal(s, "Y7lgsdH51gMH12QVRZ8dT8DIsBfA");
    cr_token_encode(&k, &(struct cr_token){CR_TOKEN_OPEN, 1, 1, 0}, s);
    assert_string_equal(s, "bwEBmTMI5wQa3zUzk8vg");
    /* the other key of a rotation, then back: the per-thread keyed state follows */
    keys(&k, 2, 1, 1);
    cr_token_encode(&k, &(struct cr_token){CR_TOKEN_OPEN, 1, 1, 0}, s);
    assert_string_not_equal(s, "bwEBmTMI5wQa3zUzk8vg");
    keys(&k, 1, 0, 0);
    cr_token_encode(&k, &(struct cr_token){CR_TOKEN_OPEN, 1, 1, 0}, s);
    assert_string_equal(s, "bwEBmTMI5wQa3zUzk8vg");
}

static void test_alterations_refused(void **state)
{
    struct cr_token_keys k, other;
    struct cr_token t = {CR_TOKEN_CLICK, 77, 1234, 3}, out;
    char s[CR_TOKEN_MAX], bad[CR_TOKEN_MAX];
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (void)state;
    keys(&k, 1, 0, 0);
    cr_token_encode(&k, &t, s);
    size_t n = strlen(s);
    /* every single-character change, at every position */
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < 64; c++) {
            if (alphabet[c] == s[i])
                continue;
            memcpy(bad, s, n + 1);
            bad[i] = alphabet[c];
            assert_int_not_equal(cr_token_decode(&k, bad, n, &out), 0);
        }
    /* every truncation, and extensions */
    for (size_t i = 0; i < n; i++)
        assert_int_not_equal(cr_token_decode(&k, s, i, &out), 0);
    memcpy(bad, s, n);
    memcpy(bad + n, "AA", 3);
    assert_int_not_equal(cr_token_decode(&k, bad, n + 2, &out), 0);
    /* characters outside the alphabet */
    memcpy(bad, s, n + 1);
    bad[3] = '+';
    assert_int_not_equal(cr_token_decode(&k, bad, n, &out), 0);
    /* another key */
    keys(&other, 2, 0, 0);
    assert_int_not_equal(cr_token_decode(&other, s, n, &out), 0);
}

static void test_previous_key_accepted(void **state)
{
    struct cr_token_keys old, rotated, forgot;
    struct cr_token t = {CR_TOKEN_UNSUBSCRIBE, 5, 6, 0}, out;
    char s[CR_TOKEN_MAX];
    (void)state;
    keys(&old, 1, 0, 0);
    keys(&rotated, 2, 1, 1);
    keys(&forgot, 2, 0, 0);
    cr_token_encode(&old, &t, s);
    assert_int_equal(cr_token_decode(&rotated, s, strlen(s), &out), 0);
    assert_true(out.delivery == 5 && out.log == 6);
    assert_int_not_equal(cr_token_decode(&forgot, s, strlen(s), &out), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_alterations_refused),
        cmocka_unit_test(test_previous_key_accepted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
