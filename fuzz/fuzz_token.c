/*
 * fuzz_token.c - tracking token decoding (cr_token_decode) on arbitrary strings
 *
 * The input is the token text; the keys are fixed (a current and a previous key of constant
 * bytes), so the corpus can hold tokens signed by either. Property: a token that decodes is the
 * one spelling cr_token_encode gives for what it decoded to, under one of the two keys.
 */
#include <string.h>

#include "fuzz.h"
#include "tracking/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cr_token_keys k, prev_only;
    struct cr_token t;
    char again[CR_TOKEN_MAX], again_prev[CR_TOKEN_MAX];
    memset(&k, 0, sizeof k);
    memset(k.cur, 0x11, sizeof k.cur);
    memset(k.prev, 0x22, sizeof k.prev);
    k.has_prev = 1;
    if (cr_token_decode(&k, (const char *)data, size, &t) != 0)
        return 0;
    if (t.delivery < 0 || t.log < 0 || t.link < 0 || (t.kind != CR_TOKEN_CLICK && t.link))
        __builtin_trap();
    prev_only = k;
    memcpy(prev_only.cur, k.prev, sizeof k.cur);
    cr_token_encode(&k, &t, again);
    cr_token_encode(&prev_only, &t, again_prev);
    if (!(strlen(again) == size && memcmp(again, data, size) == 0) &&
        !(strlen(again_prev) == size && memcmp(again_prev, data, size) == 0))
        __builtin_trap();
    return 0;
}
