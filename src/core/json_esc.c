/*
 * json_esc.c - JSON string escaping (RFC 8259 §7)
 */
#include "core/json_esc.h"

#include "core/utf8.h"

int cr_json_escape(struct cr_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0;
    cr_buf_putc(b, '"');
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t len = cr_utf8_seq_len(s + i, n - i);
            if (len == 0) {
                cr_buf_puts(b, "\xEF\xBF\xBD");
                i++;
            } else {
                cr_buf_append(b, s + i, len);
                i += len;
            }
            continue;
        }
        switch (c) {
        case '"':
            cr_buf_puts(b, "\\\"");
            break;
        case '\\':
            cr_buf_puts(b, "\\\\");
            break;
        case '\n':
            cr_buf_puts(b, "\\n");
            break;
        case '\r':
            cr_buf_puts(b, "\\r");
            break;
        case '\t':
            cr_buf_puts(b, "\\t");
            break;
        default:
            if (c < 0x20) {
                char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                cr_buf_append(b, u, 6);
            } else {
                cr_buf_putc(b, (char)c);
            }
        }
        i++;
    }
    cr_buf_putc(b, '"');
    return b->err;
}
