/*
 * fuzz_email_address.c - recipient addresses (cr_email_check): local parts, domains, IDN
 *
 * Properties: a refusal always says why; an accepted address is ASCII, at most 254 octets,
 * and its normal form is a fixed point (checking it again gives it back unchanged).
 */
#include <stdlib.h>
#include <string.h>

#include "channel/email/address.h"
#include "core/mem.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = cr_xmemdupz(data, size);
    struct cr_buf out = CR_BUF_INIT(4096), again = CR_BUF_INIT(4096);
    struct cr_err err = CR_ERR_INIT;
    if (cr_email_check(s, &out, &err) == 0) {
        if (out.len > CR_EMAIL_MAX || out.len != strlen(out.data))
            __builtin_trap();
        for (size_t i = 0; i < out.len; i++)
            if ((unsigned char)out.data[i] >= 0x80 || (unsigned char)out.data[i] < 0x20)
                __builtin_trap();
        if (cr_email_check(out.data, &again, &err) != 0 || strcmp(again.data, out.data) != 0)
            __builtin_trap();
    } else if (err.msg[0] == '\0' || out.len != 0) {
        __builtin_trap();
    }
    cr_buf_release(&out);
    cr_buf_release(&again);
    free(s);
    return 0;
}
