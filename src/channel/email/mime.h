/*
 * mime.h - build the RFC 5322 / MIME message crier sends for one email recipient
 *
 * Spec: RFC 5322 (message format, folding), RFC 2045-2047 (MIME, transfer encodings, encoded
 * words), RFC 2046 §5.1.4 (multipart/alternative), RFC 2369 and RFC 8058 (List-Unsubscribe and
 * one-click unsubscription), RFC 1468 (ISO-2022-JP for Japanese mail).
 *
 * Ownership: every argument is borrowed for the duration of the call. Messages are appended to
 * a caller-owned struct cr_buf; the buffer's max bounds the message size (CR_ETOOBIG).
 *
 * The choices (documented in docs/internals/email.md):
 *  - CRLF line endings everywhere; header lines folded at 78 columns where they can be (an
 *    address, a Message-ID or a URL is never split; such a line may reach 998 octets, never
 *    more); body lines at most 76 octets in quoted-printable and base64, 78 in 7bit.
 *  - Per part: 7bit if every byte is printable ASCII (or TAB) and every line is at most 78
 *    octets; else quoted-printable if at most one byte in six needs an escape (non-ASCII bytes,
 *    '=', control characters), where quoted-printable is no larger than base64; else base64.
 *  - Header text with non-ASCII characters becomes RFC 2047 encoded words in UTF-8, Q or B,
 *    whichever is shorter for the text; each word at most 75 characters and holding whole UTF-8
 *    sequences. ASCII text containing "=?" is encoded too, so it cannot be misread as a word.
 *  - With iso2022jp, header text and both parts are converted to ISO-2022-JP with iconv
 *    (charset=ISO-2022-JP, 7bit, B encoded words that each start and end in ASCII); a
 *    character the charset lacks is CR_EINVAL naming the field and the character. A part
 *    whose converted lines exceed 998 octets is sent in base64 instead of 7bit.
 */
#ifndef CR_EMAIL_MIME_H
#define CR_EMAIL_MIME_H

#include <stddef.h>

#include "core/buf.h"
#include "core/datetime.h"
#include "core/err.h"

struct cr_mail_header {
    const char *name;  /* a field name: printable ASCII without ':' (e.g. "X-Campaign") */
    const char *value; /* unstructured UTF-8 text */
};

struct cr_mail {
    const char *from;     /* "Name <a@b>" or "a@b"; the display name may be UTF-8, or quoted */
    const char *reply_to; /* optional, same forms */
    const char *to;       /* "a@b" or "Name <a@b>" */
    const char *subject;  /* UTF-8; "" is allowed, NULL is not */
    const char *text;     /* optional text part (UTF-8) */
    const char *html;     /* optional html part (UTF-8); at least one of text and html */
    const struct cr_mail_header *headers; /* extra headers, written in this order */
    size_t nheaders;
    const char *unsubscribe_mailto; /* optional: "a@b?subject=x" or "mailto:a@b" */
    const char *unsubscribe_url;    /* optional https URL: one-click (RFC 8058) */
    const char *message_id;         /* optional id without <>, else random@domain-of-from */
    cr_time_t date;                 /* Date: header, written in UTC ("+0000"); 0 = now */
    int iso2022jp;                  /* encode text and headers in ISO-2022-JP */
};

/* Limits on the inputs: anything longer is CR_ETOOBIG naming the field. */
#define CR_MAIL_HEADER_MAX (16 * 1024) /* one header value, before encoding */
#define CR_MAIL_NAME_MAX 76            /* one extra header name */

/* Builds the whole message (headers, blank line, body; CRLF line endings; ends with CRLF) and
 * appends it to out. Addresses are checked and normalised with cr_email_check() (IDN domains
 * in punycode). Any CR, LF or other control character in a header field (NUL cannot occur in
 * a C string) is CR_EINVAL naming the field, so no input can add a header. Extra headers may
 * not replace the ones the message sets itself (From, To, Subject, Date, Message-ID, MIME-*,
 * Content-*, Reply-To, List-Unsubscribe*, DKIM-Signature). Text must be valid UTF-8; a part
 * that does not end with a line break gets one. Returns 0, CR_EINVAL or CR_ETOOBIG (a field,
 * or out->max), or CR_EIO (no randomness); on error out keeps its length and err says why. */
int cr_mail_build(const struct cr_mail *m, struct cr_buf *out, struct cr_err *err);

/* Derives a readable text version from html (for templates without text): drops tags, comments,
 * <head>, <script> and <style>; decodes entities (&nbsp; becomes a plain space); keeps links as
 * "label (url)" (just the label when it is the URL, no URL for "#..." and "javascript:");
 * keeps images' alt text; paragraphs, headings, lists and tables as blank lines, <br>, <div>,
 * <li> and <tr> as line breaks, list items prefixed "- "; collapses white space except in
 * <pre>; wraps lines at 76 columns at spaces (a longer word stays whole). Invalid UTF-8 becomes
 * U+FFFD. Appends LF-terminated text to out; returns 0 or out->err. */
int cr_mail_html_to_text(const char *html, size_t len, struct cr_buf *out, struct cr_err *err);

/* 1 if the domain of addr ("a@b" or "Name <a@b>") is, or is a subdomain of, a Japanese
 * mobile carrier domain whose phones need ISO-2022-JP mail; else 0. The default list is
 * docomo.ne.jp, ezweb.ne.jp, au.com, softbank.ne.jp, i.softbank.jp. Thread-safe. */
int cr_mail_is_jp_carrier(const char *addr);

/* Replaces that list with the comma-separated domains (white space around each is ignored,
 * case too); NULL restores the default list, "" empties it. Returns 0, or CR_EINVAL (list
 * unchanged) if an entry is not a domain name. Thread-safe. */
int cr_mail_set_jp_domains(const char *comma_separated);

#endif
