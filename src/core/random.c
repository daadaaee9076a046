/*
 * random.c - kernel randomness (getrandom(2))
 */
#include "core/random.h"

#include <errno.h>
#include <sys/random.h>

#include "core/err.h"

int cr_random_bytes(void *p, size_t n)
{
    unsigned char *b = p;
    while (n) {
        ssize_t got = getrandom(b, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return CR_EIO;
        }
        b += got;
        n -= (size_t)got;
    }
    return 0;
}

int cr_random_hex(char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[64];
    if (n > sizeof raw)
        return CR_EINVAL;
    if (cr_random_bytes(raw, n))
        return CR_EIO;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * n] = '\0';
    return 0;
}
