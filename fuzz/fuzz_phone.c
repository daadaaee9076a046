/*
 * fuzz_phone.c - differential: crier's fast E.164 paths against libphonenumber's parser
 *
 * The first two bytes pick a region from a fixed list (or none); the rest is the number. Any
 * input where the fast path and the full parser disagree traps.
 */
#include <string.h>

#include "profile/phone.h"
#include "fuzz.h"

static const char *const regions[] = {"", "FR", "BE", "DE", "ES", "IT", "GB", "US", "CA", "CH",
                                      "IL", "JP", "BR", "AR", "MX", "CN", "IN", "AU", "NF", "MG"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char fast[CR_PHONE_MAX], full[CR_PHONE_MAX];
    const char *rf = NULL, *rs = NULL, *region;
    int a, b;
    if (size < 1 || size > 64)
        return 0;
    region = regions[data[0] % (sizeof regions / sizeof *regions)];
    a = cr_phone_normalize((const char *)data + 1, size - 1, region, fast, &rf);
    b = cr_phone_normalize_full((const char *)data + 1, size - 1, region, full, &rs);
    if (a != b || (a == 0 && strcmp(fast, full) != 0))
        __builtin_trap();
    return 0;
}
