/* test_mime.c - message building: headers, folding, encoded words, transfer encodings,
 * refusals, ISO-2022-JP, Japanese carrier domains */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel/email/mime.h"
#include "core/buf.h"
#include "core/utf8.h"
#include "tests.h"

#define DEC_1_2026 (INT64_C(1796115600) * 1000000) /* 2026-12-01T09:00:00Z */

/* A minimal message; tests change what they look at. */
static struct cr_mail base(void)
{
    struct cr_mail m = {0};
    m.from = "News <news@exemple.fr>";
    m.to = "jean@example.com";
    m.subject = "Hello";
    m.text = "Hi\n";
    m.message_id = "id1@exemple.fr";
    m.date = DEC_1_2026;
    return m;
}

static char *build_ok(const struct cr_mail *m)
{
    struct cr_buf b = CR_BUF_INIT(0);
    struct cr_err err = CR_ERR_INIT;
    int rc = cr_mail_build(m, &b, &err);
    if (rc)
        fail_msg("cr_mail_build: %s", err.msg);
    return cr_buf_detach(&b, NULL);
}

static void build_fails(const struct cr_mail *m, int code, const char *msg_part)
{
    struct cr_buf b = CR_BUF_INIT(0);
    struct cr_err err = CR_ERR_INIT;
    cr_buf_puts(&b, "keep");
    assert_int_equal(cr_mail_build(m, &b, &err), code);
    if (!strstr(err.msg, msg_part))
        fail_msg("error '%s' lacks '%s'", err.msg, msg_part);
    assert_string_equal(b.data, "keep"); /* out keeps its length on error */
    assert_int_equal(b.err, 0);
    cr_buf_release(&b);
}

/* The value of header name (unfolded: CRLF before white space removed), or NULL. */
static char *header(const char *msg, const char *name)
{
    size_t nl = strlen(name);
    const char *end = strstr(msg, "\r\n\r\n"), *p = msg;
    while (p && p < end) {
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            struct cr_buf v = CR_BUF_INIT(0);
            const char *q = p + nl + 1;
            for (;;) {
                const char *eol = strstr(q, "\r\n");
                cr_buf_append(&v, q, (size_t)(eol - q));
                if (eol[2] != ' ' && eol[2] != '\t')
                    break;
                q = eol + 2;
            }
            return cr_buf_detach(&v, NULL);
        }
        p = strstr(p, "\r\n");
        if (p)
            p += 2;
    }
    return NULL;
}

/* Every line of the header block is at most max octets; the whole message at most 998. */
static void assert_lines(const char *msg, size_t header_max)
{
    const char *end = strstr(msg, "\r\n\r\n"), *p = msg;
    while (*p) {
        const char *eol = strstr(p, "\r\n");
        assert_non_null(eol);
        assert_true((size_t)(eol - p) <= (p < end ? header_max : 998));
        for (const char *q = p; q < eol; q++)
            assert_true(*q != '\r' && *q != '\n');
        p = eol + 2;
    }
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static size_t b64_decode(const char *s, size_t n, char *out)
{
    static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned v = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        const char *c = strchr(set, s[i]);
        if (!c || !s[i])
            continue;
        v = (v << 6) | (unsigned)(c - set);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((v >> bits) & 0xFF);
        }
    }
    return o;
}

/* Decodes a header value made only of UTF-8 encoded words separated by white space, checking
 * that each word is at most 75 characters and holds valid UTF-8 by itself (no split
 * sequence). Returns the decoded text (caller frees). */
static char *decode_words(const char *v, char *enc_seen)
{
    struct cr_buf out = CR_BUF_INIT(0);
    const char *p = v;
    while (*p) {
        const char *start, *end;
        char enc, tmp[128];
        size_t n = 0;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        assert_memory_equal(p, "=?UTF-8?", 8);
        start = p;
        enc = p[8];
        if (enc_seen)
            *enc_seen = enc;
        assert_true(p[9] == '?');
        end = strstr(p + 10, "?=");
        assert_non_null(end);
        assert_true(end + 2 - start <= 75);
        if (enc == 'B') {
            n = b64_decode(p + 10, (size_t)(end - p - 10), tmp);
        } else {
            for (const char *q = p + 10; q < end; q++) {
                if (*q == '_')
                    tmp[n++] = ' ';
                else if (*q == '=') {
                    tmp[n++] = (char)(hexval(q[1]) * 16 + hexval(q[2]));
                    q += 2;
                } else
                    tmp[n++] = *q;
            }
        }
        assert_true(cr_utf8_valid(tmp, n, NULL));
        cr_buf_append(&out, tmp, n);
        p = end + 2;
    }
    return cr_buf_detach(&out, NULL);
}

static void test_golden_ascii(void **state)
{
    struct cr_mail m = base();
    char *msg;
    (void)state;
    m.text = "Hello Jean,\nHere is your offer.";
    msg = build_ok(&m);
    assert_string_equal(msg, "Date: Tue, 01 Dec 2026 09:00:00 +0000\r\n"
                             "From: News <news@exemple.fr>\r\n"
                             "To: jean@example.com\r\n"
                             "Subject: Hello\r\n"
                             "Message-ID: <id1@exemple.fr>\r\n"
                             "MIME-Version: 1.0\r\n"
                             "Content-Type: text/plain; charset=UTF-8\r\n"
                             "Content-Transfer-Encoding: 7bit\r\n"
                             "\r\n"
                             "Hello Jean,\r\n"
                             "Here is your offer.\r\n");
    free(msg);
}

static void test_multipart(void **state)
{
    struct cr_mail m = base();
    char *msg, *ct, boundary[72], *p1, *p2, *close;
    (void)state;
    m.html = "<p>Hi</p>";
    msg = build_ok(&m);
    ct = header(msg, "Content-Type");
    assert_non_null(ct);
    assert_non_null(strstr(ct, "multipart/alternative;"));
    assert_int_equal(sscanf(strstr(ct, "boundary=\"") + 10, "%70[^\"]", boundary), 1);
    assert_memory_equal(boundary, "=_crier_", 8);
    assert_int_equal(strlen(boundary), 8 + 32);
    {
        char delim[160];
        snprintf(delim, sizeof delim, "\r\n--%s\r\nContent-Type: text/plain", boundary);
        p1 = strstr(msg, delim);
        snprintf(delim, sizeof delim, "\r\n--%s\r\nContent-Type: text/html", boundary);
        p2 = strstr(msg, delim);
        snprintf(delim, sizeof delim, "\r\n--%s--\r\n", boundary);
        close = strstr(msg, delim);
    }
    assert_non_null(p1);
    assert_non_null(p2);
    assert_non_null(close);
    assert_true(p1 < p2 && p2 < close);
    assert_string_equal(close + strlen(boundary) + 8, ""); /* nothing after the close */
    assert_non_null(strstr(p1, "\r\n\r\nHi\r\n\r\n--"));   /* the part keeps its line break */
    assert_non_null(strstr(p2, "\r\n\r\n<p>Hi</p>\r\n\r\n--"));
    free(ct);
    free(msg);
    /* html only: a single part */
    m.text = NULL;
    msg = build_ok(&m);
    ct = header(msg, "Content-Type");
    assert_string_equal(ct, " text/html; charset=UTF-8");
    free(ct);
    free(msg);
}

static void test_subject_encoding(void **state)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"Café", " =?UTF-8?B?Q2Fmw6k=?="}, /* B is shorter */
        {"Bonjour Jean, voici votre offre spéciale",
         " =?UTF-8?Q?Bonjour_Jean=2C_voici_votre_offre_sp=C3=A9ciale?="}, /* Q is shorter */
        {"日本", " =?UTF-8?B?5pel5pys?="},
        {"a_b=c?d", " a_b=c?d"}, /* ASCII without "=?" stays as is */
        {"x =?utf-8?q?y?= z", " =?UTF-8?B?eCA9P3V0Zi04P3E/eT89IHo=?="}, /* "=?" encoded */
        {"  spaced  out  ", " spaced  out"}, /* outer white space dropped */
        {"", " "},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct cr_mail m = base();
        char *msg, *s;
        m.subject = cases[i].in;
        msg = build_ok(&m);
        s = header(msg, "Subject");
        assert_string_equal(s, cases[i].want);
        free(s);
        free(msg);
    }
}

static void test_encoded_word_limits(void **state)
{
    static const char *const subjects[] = {
        "【重要】冬のセールのお知らせ：全商品20％オフ、今週末まで。お見逃しなく！ありがとうございま"
        "す",
        "🎁🎄✨👍🎉🎁🎄✨👍🎉🎁🎄✨👍🎉🎁🎄✨👍🎉🎁🎄✨👍🎉🎁🎄✨👍🎉",
        "Très longue ligne d objet avec quelques accents et encore plus de texte pour "
        "dépasser largement soixante dix huit colonnes deux fois même avec un peu de marge",
        "aé",
        "é",
    };
    (void)state;
    for (size_t i = 0; i < sizeof subjects / sizeof *subjects; i++) {
        struct cr_mail m = base();
        char *msg, *s, *dec, enc = 0;
        m.subject = subjects[i];
        m.from = subjects[i][0] == 'a'
                     ? "Ééééééééééééééééééééééééééééééé Ééééééééééé <n@exemple.fr>"
                     : m.from;
        msg = build_ok(&m);
        assert_lines(msg, 78);
        s = header(msg, "Subject");
        dec = decode_words(s, &enc);
        assert_string_equal(dec, subjects[i]);
        if (i == 0 || i == 1)
            assert_int_equal(enc, 'B'); /* mostly non-ASCII: B is shorter */
        if (i == 2)
            assert_int_equal(enc, 'Q');
        free(dec);
        free(s);
        free(msg);
    }
}

static void test_fold_ascii(void **state)
{
    struct cr_mail m = base();
    struct cr_buf subj = CR_BUF_INIT(0);
    char *msg, *s;
    (void)state;
    for (int i = 0; i < 40; i++)
        cr_buf_printf(&subj, "%sword%d", i ? " " : "", i);
    m.subject = subj.data;
    msg = build_ok(&m);
    assert_lines(msg, 78);
    assert_non_null(strstr(msg, "Subject: word0 word1"));
    s = header(msg, "Subject");
    assert_string_equal(s + 1, subj.data); /* unfolding gives the text back */
    free(s);
    free(msg);
    /* a word too long to fold goes as encoded words */
    cr_buf_reset(&subj);
    cr_buf_puts(&subj, "see ");
    for (int i = 0; i < 100; i++)
        cr_buf_putc(&subj, 'a');
    m.subject = subj.data;
    msg = build_ok(&m);
    assert_lines(msg, 78);
    s = header(msg, "Subject");
    {
        char *dec = decode_words(s, NULL);
        assert_string_equal(dec, subj.data);
        free(dec);
    }
    free(s);
    free(msg);
    cr_buf_release(&subj);
}

static void test_display_names(void **state)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"news@exemple.fr", " news@exemple.fr"},
        {"<news@exemple.fr>", " news@exemple.fr"},
        {"  News Team   <news@EXEMPLE.fr> ", " News Team <news@exemple.fr>"},
        {"\"Dupont, Jean\" <j@exemple.fr>", " \"Dupont, Jean\" <j@exemple.fr>"},
        {"Jean (JD) Dupont <j@exemple.fr>", " \"Jean (JD) Dupont\" <j@exemple.fr>"},
        {"\"say \\\"hi\\\"\" <j@exemple.fr>", " \"say \\\"hi\\\"\" <j@exemple.fr>"},
        {"Équipe <j@exemple.fr>", " =?UTF-8?Q?=C3=89quipe?= <j@exemple.fr>"},
        {"Jürgen <j@bücher.de>", " =?UTF-8?Q?J=C3=BCrgen?= <j@xn--bcher-kva.de>"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct cr_mail m = base();
        char *msg, *v;
        m.from = cases[i].in;
        msg = build_ok(&m);
        v = header(msg, "From");
        assert_string_equal(v, cases[i].want);
        free(v);
        free(msg);
    }
    {
        struct cr_mail m = base();
        m.to = "Jean <jean@exa mple.com>";
        build_fails(&m, CR_EINVAL, "to: the domain 'exa mple.com' has a space");
        m.to = "Jean <jean.example.com>";
        build_fails(&m, CR_EINVAL, "to: missing '@'");
        m.to = "Jean jean@example.com>";
        build_fails(&m, CR_EINVAL, "to ends with '>' but has no '<'");
        m = base();
        m.reply_to = "jé@exemple.fr";
        build_fails(&m, CR_EINVAL, "reply_to: the local part has a non-ASCII character");
    }
}

static const char *cte_of(const char *msg)
{
    static char cte[32];
    const char *p = strstr(msg, "Content-Transfer-Encoding: ");
    assert_non_null(p);
    sscanf(p + 27, "%31[^\r]", cte);
    return cte;
}

static void test_transfer_encoding_choice(void **state)
{
    struct cr_mail m = base();
    struct cr_buf t = CR_BUF_INIT(0);
    char *msg;
    (void)state;
    m.text = "Plain ASCII, short lines.\n";
    msg = build_ok(&m);
    assert_string_equal(cte_of(msg), "7bit");
    free(msg);
    m.text = "Bonjour, à bientôt et bonne journée !\n"; /* mostly ASCII */
    msg = build_ok(&m);
    assert_string_equal(cte_of(msg), "quoted-printable");
    free(msg);
    m.text = "いつもご利用ありがとうございます。\n";
    msg = build_ok(&m);
    assert_string_equal(cte_of(msg), "base64");
    free(msg);
    /* ASCII with a line of 79 octets: not 7bit (limit 78) */
    for (int i = 0; i < 79; i++)
        cr_buf_putc(&t, 'a');
    m.text = t.data;
    msg = build_ok(&m);
    assert_string_equal(cte_of(msg), "quoted-printable");
    free(msg);
    cr_buf_truncate(&t, 78);
    msg = build_ok(&m);
    assert_string_equal(cte_of(msg), "7bit");
    free(msg);
    /* the threshold: one escape per six octets (CRLF included) is QP, one more is base64 */
    cr_buf_reset(&t);
    cr_buf_puts(&t, "=abc"); /* 4 octets + CRLF = 6, one escape */
    m.text = t.data;
    msg = build_ok(&m);
    assert_string_equal(cte_of(msg), "quoted-printable");
    free(msg);
    cr_buf_reset(&t);
    cr_buf_puts(&t, "=ab"); /* 5 octets, one escape */
    msg = build_ok(&m);
    assert_string_equal(cte_of(msg), "base64");
    free(msg);
    /* a control character forces an encoding */
    m.text = "bell\a\n";
    msg = build_ok(&m);
    assert_string_equal(cte_of(msg), "quoted-printable");
    assert_non_null(strstr(msg, "bell=07\r\n"));
    free(msg);
    cr_buf_release(&t);
}

/* Decodes a quoted-printable body (test-side, from RFC 2045 §6.7). */
static char *qp_decode(const char *s)
{
    struct cr_buf out = CR_BUF_INIT(0);
    while (*s) {
        if (s[0] == '=' && s[1] == '\r' && s[2] == '\n')
            s += 3;
        else if (s[0] == '=') {
            cr_buf_putc(&out, (char)(hexval(s[1]) * 16 + hexval(s[2])));
            s += 3;
        } else
            cr_buf_putc(&out, *s++);
    }
    return cr_buf_detach(&out, NULL);
}

static void test_quoted_printable(void **state)
{
    struct cr_mail m = base();
    struct cr_buf t = CR_BUF_INIT(0), want = CR_BUF_INIT(0);
    char *msg, *body, *dec;
    (void)state;
    cr_buf_puts(&t, "From the start\n");
    cr_buf_puts(&t, "trailing space \n");
    cr_buf_puts(&t, "trailing tab\t\n");
    cr_buf_puts(&t, "a=b é\n");
    for (int i = 0; i < 30; i++)
        cr_buf_puts(&t, "éa"); /* escapes across the soft-break column */
    cr_buf_puts(&t, "\n");
    for (int i = 0; i < 500; i++)
        cr_buf_putc(&t, (char)('a' + i % 26));
    cr_buf_puts(&t, "\nend");
    m.text = t.data;
    msg = build_ok(&m);
    assert_string_equal(cte_of(msg), "quoted-printable");
    body = strstr(msg, "\r\n\r\n") + 4;
    assert_lines(body, 76);
    {
        const char *p = body;
        while (*p) {
            const char *eol = strstr(p, "\r\n");
            assert_true(eol - p <= 76);
            if (eol > p)
                assert_true(eol[-1] != ' ' && eol[-1] != '\t'); /* no trailing white space */
            p = eol + 2;
        }
    }
    assert_non_null(strstr(body, "=46rom the start\r\n"));
    assert_non_null(strstr(body, "trailing space=20\r\n"));
    assert_non_null(strstr(body, "trailing tab=09\r\n"));
    assert_non_null(strstr(body, "a=3Db =C3=A9\r\n"));
    dec = qp_decode(body);
    for (const char *p = t.data; *p; p++) {
        if (*p == '\n')
            cr_buf_putc(&want, '\r');
        cr_buf_putc(&want, *p);
    }
    cr_buf_puts(&want, "\r\n");
    assert_string_equal(dec, want.data);
    free(dec);
    free(msg);
    cr_buf_release(&t);
    cr_buf_release(&want);
}

static void test_base64_body(void **state)
{
    struct cr_mail m = base();
    struct cr_buf t = CR_BUF_INIT(0);
    char *msg, *body, dec[4096];
    size_t n;
    (void)state;
    for (int i = 0; i < 100; i++)
        cr_buf_puts(&t, "日本");
    m.text = t.data;
    msg = build_ok(&m);
    assert_string_equal(cte_of(msg), "base64");
    body = strstr(msg, "\r\n\r\n") + 4;
    for (const char *p = body; *p;) {
        const char *eol = strstr(p, "\r\n");
        assert_true(eol - p == 76 || eol[2] == '\0');
        p = eol + 2;
    }
    n = b64_decode(body, strlen(body), dec);
    assert_int_equal(n, t.len + 2);
    assert_memory_equal(dec, t.data, t.len);
    assert_memory_equal(dec + t.len, "\r\n", 2);
    free(msg);
    cr_buf_release(&t);
}

static void test_line_endings(void **state)
{
    struct cr_mail m = base();
    char *msg;
    (void)state;
    m.text = "a\nb\rc\r\nd\n\ne";
    msg = build_ok(&m);
    assert_non_null(strstr(msg, "\r\n\r\na\r\nb\r\nc\r\nd\r\n\r\ne\r\n"));
    assert_string_equal(msg + strlen(msg) - 3, "e\r\n");
    free(msg);
    m.text = "";
    msg = build_ok(&m);
    assert_string_equal(msg + strlen(msg) - 4, "\r\n\r\n");
    free(msg);
}

static void test_injection_refused(void **state)
{
    struct cr_mail_header hs[1];
    struct cr_mail m;
    (void)state;
    m = base();
    m.subject = "Hi\r\nBcc: victim@example.com";
    build_fails(&m, CR_EINVAL, "subject has a line break");
    m = base();
    m.subject = "Hi\nthere";
    build_fails(&m, CR_EINVAL, "subject has a line break (CR or LF) at offset 2");
    m = base();
    m.subject = "Hi\rthere";
    build_fails(&m, CR_EINVAL, "subject has a line break");
    m = base();
    m.from = "Evil\r\n <news@exemple.fr>";
    build_fails(&m, CR_EINVAL, "from has a line break");
    m = base();
    m.to = "jean@example.com\nBcc: x@example.com";
    build_fails(&m, CR_EINVAL, "to has a line break");
    m = base();
    m.reply_to = "a@b.fr\r";
    build_fails(&m, CR_EINVAL, "reply_to has a line break");
    m = base();
    m.message_id = "x@y\r\nBcc: z";
    build_fails(&m, CR_EINVAL, "message_id has a line break");
    m = base();
    m.unsubscribe_url = "https://x.fr/\nBcc: z";
    build_fails(&m, CR_EINVAL, "unsubscribe_url has a line break");
    m = base();
    m.unsubscribe_mailto = "u@x.fr\n";
    build_fails(&m, CR_EINVAL, "unsubscribe_mailto has a line break");
    m = base();
    hs[0] = (struct cr_mail_header){"X-A", "v\r\nBcc: x@example.com"};
    m.headers = hs;
    m.nheaders = 1;
    build_fails(&m, CR_EINVAL, "header 'X-A' has a line break");
    hs[0] = (struct cr_mail_header){"X-A\r\nBcc", "v"};
    build_fails(&m, CR_EINVAL, "headers[0]: the name");
    hs[0] = (struct cr_mail_header){"X-A: y", "v"};
    build_fails(&m, CR_EINVAL, "has a ':' at offset 3");
    hs[0] = (struct cr_mail_header){"bcc", "x@example.com"};
    build_fails(&m, CR_EINVAL, "'bcc' is set by the message itself");
    hs[0] = (struct cr_mail_header){"Content-Type", "text/plain"};
    build_fails(&m, CR_EINVAL, "'Content-Type' is set by the message itself");
    hs[0] = (struct cr_mail_header){"", "v"};
    build_fails(&m, CR_EINVAL, "headers[0] has an empty name");
    m = base();
    m.subject = "tab\tok but escape \x1b no";
    build_fails(&m, CR_EINVAL, "subject has a control character (0x1B)");
    m = base();
    m.subject = "bad \xC3\x28 utf-8";
    build_fails(&m, CR_EINVAL, "subject is not valid UTF-8 (byte 4)");
    m = base();
    m.text = "bad \xFF";
    build_fails(&m, CR_EINVAL, "the text part is not valid UTF-8 (byte 4)");
    /* a text body may hold line breaks and "headers": they stay in the body */
    m = base();
    m.text = "\r\nBcc: x@example.com\r\n";
    {
        char *msg = build_ok(&m), *bcc = header(msg, "Bcc");
        assert_null(bcc);
        free(msg);
    }
}

static void test_missing_fields(void **state)
{
    struct cr_mail m;
    (void)state;
    m = base();
    m.from = NULL;
    build_fails(&m, CR_EINVAL, "from is missing");
    m = base();
    m.to = NULL;
    build_fails(&m, CR_EINVAL, "to is missing");
    m = base();
    m.subject = NULL;
    build_fails(&m, CR_EINVAL, "subject is missing");
    m = base();
    m.text = NULL;
    build_fails(&m, CR_EINVAL, "neither a text nor an html part");
    m = base();
    m.nheaders = 2;
    build_fails(&m, CR_EINVAL, "nheaders is 2 but headers is NULL");
}

static void test_extra_headers(void **state)
{
    struct cr_mail_header hs[] = {
        {"X-Campaign", "winter-2026"},
        {"X-Note", "note spéciale pour tous"},
        {"X-Empty", ""},
    };
    struct cr_mail m = base();
    char *msg, *a, *b, *c;
    (void)state;
    m.headers = hs;
    m.nheaders = 3;
    msg = build_ok(&m);
    a = strstr(msg, "X-Campaign: winter-2026\r\n");
    b = strstr(msg, "X-Note: =?UTF-8?Q?note_sp=C3=A9ciale_pour_tous?=\r\n");
    c = strstr(msg, "X-Empty: \r\n");
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_true(a < b && b < c && c < strstr(msg, "MIME-Version"));
    free(msg);
}

static void test_unsubscribe(void **state)
{
    struct cr_mail m = base();
    char *msg, *v;
    (void)state;
    m.unsubscribe_url = "https://exemple.fr/u/abc";
    m.unsubscribe_mailto = "mailto:unsub@exemple.fr?subject=u";
    msg = build_ok(&m);
    v = header(msg, "List-Unsubscribe");
    assert_string_equal(v, " <https://exemple.fr/u/abc>, <mailto:unsub@exemple.fr?subject=u>");
    free(v);
    v = header(msg, "List-Unsubscribe-Post");
    assert_string_equal(v, " List-Unsubscribe=One-Click");
    free(v);
    free(msg);
    m.unsubscribe_url = NULL; /* mailto only: no one-click header */
    m.unsubscribe_mailto = "unsub@exemple.fr";
    msg = build_ok(&m);
    v = header(msg, "List-Unsubscribe");
    assert_string_equal(v, " <mailto:unsub@exemple.fr>");
    free(v);
    assert_null(header(msg, "List-Unsubscribe-Post"));
    free(msg);
    m.unsubscribe_mailto = NULL;
    m.unsubscribe_url = "http://exemple.fr/u";
    build_fails(&m, CR_EINVAL, "unsubscribe_url must be an https:// URL");
    m.unsubscribe_url = "https://exemple.fr/u?a=1,2";
    build_fails(&m, CR_EINVAL, "percent-encode it, e.g. %2C");
    m.unsubscribe_url = "https://exemple.fr/u v";
    build_fails(&m, CR_EINVAL, "unsubscribe_url has a space or control at offset 20");
    m.unsubscribe_url = "https://exemple.fr/é";
    build_fails(&m, CR_EINVAL, "a non-ASCII byte");
    m.unsubscribe_url = NULL;
    m.unsubscribe_mailto = "nobody";
    build_fails(&m, CR_EINVAL, "unsubscribe_mailto 'nobody' has no '@'");
}

static void test_message_id(void **state)
{
    struct cr_mail m = base();
    char *msg, *v;
    (void)state;
    m.message_id = NULL;
    m.from = "News <news@Bücher.de>";
    msg = build_ok(&m);
    v = header(msg, "Message-ID");
    assert_int_equal(strlen(v), strlen(" <@xn--bcher-kva.de>") + 32);
    assert_memory_equal(v, " <", 2);
    for (int i = 2; i < 34; i++)
        assert_non_null(strchr("0123456789abcdef", v[i]));
    assert_string_equal(v + 34, "@xn--bcher-kva.de>");
    {
        char *msg2 = build_ok(&m), *v2 = header(msg2, "Message-ID");
        assert_string_not_equal(v, v2); /* random */
        free(v2);
        free(msg2);
    }
    free(v);
    free(msg);
    m.message_id = "<x@y>";
    build_fails(&m, CR_EINVAL, "message_id has a character not allowed");
    m.message_id = "no-at-sign";
    build_fails(&m, CR_EINVAL, "message_id 'no-at-sign' is not of the form left@right");
    m.message_id = "a b@c";
    build_fails(&m, CR_EINVAL, "message_id has a character not allowed");
}

static void test_date(void **state)
{
    static const struct {
        int64_t sec;
        const char *want;
    } cases[] = {
        {0, "Thu, 01 Jan 1970 00:00:00 +0000"},
        {-1, "Wed, 31 Dec 1969 23:59:59 +0000"},
        {951782400, "Tue, 29 Feb 2000 00:00:00 +0000"},
        {1796115600, "Tue, 01 Dec 2026 09:00:00 +0000"},
        {1798761599, "Thu, 31 Dec 2026 23:59:59 +0000"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct cr_mail m = base();
        char *msg, *v;
        m.date = cases[i].sec * 1000000 + (cases[i].sec ? 0 : 1); /* 0 would mean now */
        msg = build_ok(&m);
        v = header(msg, "Date");
        assert_string_equal(v + 1, cases[i].want);
        free(v);
        free(msg);
    }
}

static void test_iso2022jp(void **state)
{
    struct cr_mail m = base();
    char *msg, *v;
    const char *body;
    (void)state;
    m.iso2022jp = 1;
    m.subject = "日本";
    m.from = "日本 <news@exemple.fr>";
    m.text = "日本語\nABC";
    m.html = "<p>日本語</p>";
    msg = build_ok(&m);
    v = header(msg, "Subject");
    assert_string_equal(v, " =?ISO-2022-JP?B?GyRCRnxLXBsoQg==?=");
    free(v);
    v = header(msg, "From");
    assert_string_equal(v, " =?ISO-2022-JP?B?GyRCRnxLXBsoQg==?= <news@exemple.fr>");
    free(v);
    body = strstr(msg, "charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n");
    assert_non_null(body);
    body = strstr(body, "\r\n\r\n") + 4;
    assert_memory_equal(body, "\x1b$BF|K\\8l\x1b(B\r\nABC\r\n", 19);
    assert_non_null(strstr(msg, "\r\n\r\n<p>\x1b$BF|K\\8l\x1b(B</p>\r\n"));
    for (const char *p = msg; *p; p++)
        assert_true((unsigned char)*p < 0x80);
    free(msg);

    /* long Japanese subject: every word starts and ends in ASCII, lines within 78 */
    m.subject = "【重要】冬のセールのお知らせ：全商品２０％オフ、今週末まで。お見逃しなく！";
    msg = build_ok(&m);
    assert_lines(msg, 78);
    v = header(msg, "Subject");
    {
        int words = 0;
        for (const char *p = strstr(v, "=?ISO-2022-JP?B?"); p;
             p = strstr(p + 1, "=?ISO-2022-JP?B?")) {
            const char *end = strstr(p, "?=");
            char dec[128];
            size_t n = b64_decode(p + 16, (size_t)(end - p - 16), dec);
            assert_true(end + 2 - p <= 75);
            assert_memory_equal(dec, "\x1b$B", 3);
            assert_memory_equal(dec + n - 3, "\x1b(B", 3);
            words++;
        }
        assert_true(words >= 2);
    }
    free(v);
    free(msg);

    m.subject = "セール😀";
    build_fails(&m, CR_EINVAL,
                "subject has the character '😀' (U+1F600) at offset 9, which "
                "ISO-2022-JP cannot represent");
    m.subject = "ok";
    m.text = "Café";
    build_fails(&m, CR_EINVAL, "the text part has the character 'é' (U+00E9)");
    m.text = "ok";
    m.html = "<p>①</p>";
    build_fails(&m, CR_EINVAL, "the html part has the character '①' (U+2460)");
}

static void test_jp_carrier(void **state)
{
    (void)state;
    assert_true(cr_mail_is_jp_carrier("taro@docomo.ne.jp"));
    assert_true(cr_mail_is_jp_carrier("taro@DoCoMo.Ne.Jp"));
    assert_true(cr_mail_is_jp_carrier("Taro <taro@ezweb.ne.jp>"));
    assert_true(cr_mail_is_jp_carrier("taro@au.com"));
    assert_true(cr_mail_is_jp_carrier("taro@softbank.ne.jp"));
    assert_true(cr_mail_is_jp_carrier("taro@i.softbank.jp"));
    assert_true(cr_mail_is_jp_carrier("taro@x.softbank.ne.jp")); /* a subdomain */
    assert_true(cr_mail_is_jp_carrier("taro@docomo.ne.jp."));
    assert_false(cr_mail_is_jp_carrier("taro@notdocomo.ne.jp"));
    assert_false(cr_mail_is_jp_carrier("taro@docomo.ne.jp.example.com"));
    assert_false(cr_mail_is_jp_carrier("taro@softbank.jp"));
    assert_false(cr_mail_is_jp_carrier("taro@gmail.com"));
    assert_false(cr_mail_is_jp_carrier("docomo.ne.jp"));
    assert_false(cr_mail_is_jp_carrier("taro@"));
    assert_false(cr_mail_is_jp_carrier(NULL));
    assert_int_equal(cr_mail_set_jp_domains(" Example.JP , carrier.test. ,,"), 0);
    assert_true(cr_mail_is_jp_carrier("a@example.jp"));
    assert_true(cr_mail_is_jp_carrier("a@mx.carrier.test"));
    assert_false(cr_mail_is_jp_carrier("a@docomo.ne.jp"));
    assert_int_equal(cr_mail_set_jp_domains("good.jp, bad domain.jp"), CR_EINVAL);
    assert_true(cr_mail_is_jp_carrier("a@example.jp")); /* unchanged */
    assert_int_equal(cr_mail_set_jp_domains(""), 0);
    assert_false(cr_mail_is_jp_carrier("a@example.jp"));
    assert_int_equal(cr_mail_set_jp_domains(NULL), 0); /* the default list again */
    assert_true(cr_mail_is_jp_carrier("a@docomo.ne.jp"));
    assert_false(cr_mail_is_jp_carrier("a@example.jp"));
}

static void test_size_limit(void **state)
{
    struct cr_mail m = base();
    struct cr_buf b = CR_BUF_INIT(200);
    struct cr_err err = CR_ERR_INIT;
    (void)state;
    cr_buf_puts(&b, "pre");
    assert_int_equal(cr_mail_build(&m, &b, &err), CR_ETOOBIG);
    assert_string_equal(b.data, "pre");
    assert_int_equal(b.err, 0);
    assert_non_null(strstr(err.msg, "size limit"));
    cr_buf_release(&b);
}

static void test_boundary_absent(void **state)
{
    struct cr_mail m = base();
    char *msg, *ct, boundary[80];
    size_t count = 0;
    (void)state;
    m.text = "--=_crier_\n=_crier_ lines that look like boundaries\n--\n";
    m.html = "<p>--=_crier_</p>";
    msg = build_ok(&m);
    ct = header(msg, "Content-Type");
    assert_int_equal(sscanf(strstr(ct, "boundary=\"") + 10, "%70[^\"]", boundary), 1);
    for (const char *p = strstr(msg, boundary); p; p = strstr(p + 1, boundary))
        count++;
    assert_int_equal(count, 4); /* the parameter, two delimiters, the close */
    free(ct);
    free(msg);
}

int run_mime_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_ascii),
        cmocka_unit_test(test_multipart),
        cmocka_unit_test(test_subject_encoding),
        cmocka_unit_test(test_encoded_word_limits),
        cmocka_unit_test(test_fold_ascii),
        cmocka_unit_test(test_display_names),
        cmocka_unit_test(test_transfer_encoding_choice),
        cmocka_unit_test(test_quoted_printable),
        cmocka_unit_test(test_base64_body),
        cmocka_unit_test(test_line_endings),
        cmocka_unit_test(test_injection_refused),
        cmocka_unit_test(test_missing_fields),
        cmocka_unit_test(test_extra_headers),
        cmocka_unit_test(test_unsubscribe),
        cmocka_unit_test(test_message_id),
        cmocka_unit_test(test_date),
        cmocka_unit_test(test_iso2022jp),
        cmocka_unit_test(test_jp_carrier),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_boundary_absent),
    };
    return cmocka_run_group_tests_name("mime", tests, NULL, NULL);
}
