/*
 * fuzz_email_mime.c - message building (cr_mail_build) and the html-to-text derivation on
 * arbitrary text
 *
 * The first byte picks the mode: bit 0 ISO-2022-JP, bit 1 the input is the subject (else the
 * body), bit 2 both parts, bit 3 the input is a display name. Properties: a refusal says why;
 * a built message is 7-bit, CRLF-only, with lines of at most 998 octets and exactly the header
 * fields the builder writes (no input can add one); the derived text is valid UTF-8.
 */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel/email/mime.h"
#include "core/mem.h"
#include "core/utf8.h"
#include "fuzz.h"

static void check_message(const struct cr_buf *m, int nparts)
{
    const char *p = m->data, *end = m->data + m->len;
    int fields = 0, in_header = 1;
    while (p < end) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!eol || eol - p > 998)
            __builtin_trap();
        for (const char *q = p; q < eol; q++)
            if (*q == '\r' || *q == '\n' || (unsigned char)*q >= 0x80 || *q == '\0')
                __builtin_trap();
        if (in_header) {
            if (eol == p)
                in_header = 0;
            else if (*p != ' ' && *p != '\t')
                fields++;
        }
        p = eol + 2;
    }
    /* Date From To Subject Message-ID MIME-Version Content-Type [+ CTE for one part] */
    if (fields != (nparts == 2 ? 7 : 8))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cr_mail m = {0};
    struct cr_buf out = CR_BUF_INIT(1 << 20), text = CR_BUF_INIT(1 << 20);
    struct cr_err err = CR_ERR_INIT;
    char *s, *name = NULL;
    int mode;
    if (size == 0)
        return 0;
    mode = data[0];
    s = cr_xmemdupz(data + 1, size - 1);
    m.from = "News <news@exemple.fr>";
    m.to = "jean@example.com";
    m.subject = (mode & 2) ? s : "Hello";
    m.text = (mode & 2) ? "x" : s;
    m.html = (mode & 4) ? s : NULL;
    m.iso2022jp = mode & 1;
    m.date = 1;
    m.message_id = "a@b.c";
    if (mode & 8) {
        size_t n = strlen(s) + 32;
        name = cr_xmalloc(n);
        snprintf(name, n, "%s <n@exemple.fr>", s);
        m.from = name;
    }
    if (cr_mail_build(&m, &out, &err) == 0)
        check_message(&out, m.html && m.text ? 2 : 1);
    else if (err.msg[0] == '\0' || out.len != 0)
        __builtin_trap();
    if (cr_mail_html_to_text((const char *)data + 1, size - 1, &text, &err) == 0) {
        if (!cr_utf8_valid(text.data, text.len, NULL))
            __builtin_trap();
        for (size_t i = 0; i < text.len; i++) /* text, not control characters */
            if ((unsigned char)text.data[i] < 0x20 && text.data[i] != '\n' && text.data[i] != '\t')
                __builtin_trap();
    }
    cr_buf_release(&out);
    cr_buf_release(&text);
    free(name);
    free(s);
    return 0;
}
