/*
 * fuzz_bounce.c - bounce and complaint parsing (cr_bounce_parse) on arbitrary messages
 *
 * The input is the whole message, so the .eml samples seed the corpus as they are. Properties:
 * a refusal is CR_EINVAL with a reason and an empty report; a report holds 1 to
 * CR_BOUNCE_MAX_EVENTS events whose strings are non-empty valid UTF-8 without control
 * characters, recipients have an '@' and a lower-case ASCII domain, diagnostics fit
 * CR_BOUNCE_MAX_DIAG, and a status is empty or "c.s.d" with class 2, 4 or 5.
 */
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "fuzz.h"
#include "tracking/bounce.h"

static void check_string(const char *s)
{
    if (!s)
        return;
    if (!s[0] || !cr_utf8_valid(s, strlen(s), NULL))
        __builtin_trap();
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            __builtin_trap();
}

static void check_status(const char *st)
{
    int dots = 0;
    if (!st[0])
        return;
    if (st[0] != '2' && st[0] != '4' && st[0] != '5')
        __builtin_trap();
    for (const char *p = st + 1; *p; p++) {
        if (*p == '.')
            dots++;
        else if (*p < '0' || *p > '9')
            __builtin_trap();
    }
    if (dots != 2)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cr_bounce_report r;
    struct cr_err err = CR_ERR_INIT;
    int rc = cr_bounce_parse((const char *)data, size, &r, &err);
    if (rc) {
        if (rc != CR_EINVAL || !err.msg[0] || r.v || r.n || r.format)
            __builtin_trap();
        return 0;
    }
    if (r.n < 1 || r.n > CR_BOUNCE_MAX_EVENTS || !r.format)
        __builtin_trap();
    for (size_t i = 0; i < r.n; i++) {
        const struct cr_bounce *b = &r.v[i];
        const char *at;
        if (b->type != CR_BOUNCE_HARD && b->type != CR_BOUNCE_SOFT &&
            b->type != CR_BOUNCE_COMPLAINT)
            __builtin_trap();
        check_string(b->recipient);
        check_string(b->message_id);
        check_string(b->diagnostic);
        check_status(b->status);
        if (b->diagnostic && strlen(b->diagnostic) > CR_BOUNCE_MAX_DIAG)
            __builtin_trap();
        if (b->recipient) {
            at = strrchr(b->recipient, '@');
            if (!at || at == b->recipient || !at[1])
                __builtin_trap();
            for (const char *p = at + 1; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                    __builtin_trap();
        }
    }
    cr_bounce_report_release(&r);
    return 0;
}
