/*
 * test_bounce.c - bounce parsing: the real-shaped samples of bounces/ with every field checked,
 * in LF, CRLF and CR line endings and cut at every length; the fallbacks of each format; the
 * classification rules; the limits; and time that stays linear on hostile input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/utf8.h"
#include "tracking/bounce.h"

#define SAMPLES CRIER_SOURCE_DIR "/tests/unit/tracking/bounces/"

struct want {
    enum cr_bounce_type type;
    const char *rcpt, *msgid, *status, *diag;
};

static const struct sample {
    const char *file;
    const char *format; /* NULL: CR_EINVAL expected */
    const char *error;  /* part of the error message, when CR_EINVAL */
    size_t n;
    struct want ev[2];
} samples[] = {
    {"postfix.eml", "dsn", NULL, 1,
     {{CR_BOUNCE_HARD, "jean.dupont@example.org", "20240314083012.d42.r1007@crier.example",
       "5.1.1",
       "550 5.1.1 <jean.dupont@example.org>: Recipient address rejected: User unknown in "
       "virtual mailbox table"}}},
    {"gmail.eml", "dsn", NULL, 1,
     {{CR_BOUNCE_HARD, "nosuchuser.4711@gmail.com", "20240315101400.d43.r2001@crier.example",
       "5.1.1",
       "550 5.1.1 The email account that you tried to reach does not exist. Please try "
       "double-checking the recipient's email address for typos or unnecessary spaces. Learn "
       "more at https://support.google.com/mail/?p=NoSuchUser "
       "a1-20020a05600c0a0100b004131a7c2e3fsi123456wmq.45 - gsmtp"}}},
    {"exchange.eml", "dsn", NULL, 1,
     {{CR_BOUNCE_HARD, "Anna.Schmidt@contoso.com", "20240315140200.d44.r3003@crier.example",
       "5.1.10",
       "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address "
       "lookup"}}},
    {"mailbox-full.eml", "dsn", NULL, 1,
     {{CR_BOUNCE_SOFT, "tom@full.example", "20240317195958.d48.r7007@crier.example", "5.2.2",
       "552 5.2.2 <tom@full.example>... Mailbox full"}}},
    {"multi.eml", "dsn", NULL, 2,
     {{CR_BOUNCE_HARD, "alice@gone.example", "20240316064501.d51@crier.example", "5.1.1",
       "550 5.1.1 <alice@gone.example>: Recipient address rejected: User unknown"},
      {CR_BOUNCE_SOFT, "bob@slow.example", "20240316064501.d51@crier.example", "4.4.1",
       "connect to mx.slow.example[192.0.2.32]:25: Connection timed out"}}},
    {"delayed.eml", NULL, "no failed recipient (1 delayed", 0, {{0}}},
    {"yahoo-arf.eml", "arf", NULL, 1,
     {{CR_BOUNCE_COMPLAINT, "Lisa.Meyer@yahoo.com", "20240317102958.d47.r6006@crier.example", "",
       "abuse"}}},
    {"exim.eml", "exim", NULL, 2,
     {{CR_BOUNCE_HARD, "marie.curie@sorbonne.example", "20240316112029.d45.r4004@crier.example",
       "5.1.1",
       "550 5.1.1 <marie.curie@sorbonne.example>: Recipient address rejected: User unknown"},
      {CR_BOUNCE_SOFT, "pierre@boxes.example", "20240316112029.d45.r4004@crier.example", "",
       "552 Mailbox full, try again later"}}},
    {"qmail.eml", "qmail", NULL, 2,
     {{CR_BOUNCE_HARD, "olaf@oldhost.example", "20240317081500.d46.r5005@crier.example", "5.1.1",
       "Sorry, no mailbox here by that name. (#5.1.1)"},
      {CR_BOUNCE_HARD, "kari@fjord.example", "20240317081500.d46.r5005@crier.example", "5.7.1",
       "554 5.7.1 <kari@fjord.example>: Relay access denied"}}},
    {"heuristic.eml", "heuristic", NULL, 1,
     {{CR_BOUNCE_HARD, "Hans.Gruber@legacy.example", "20240318081230.d49.r8008@crier.example",
       "5.1.1", "550 5.1.1 User unknown>"}}},
    {"ordinary.eml", NULL, "not a bounce or complaint", 0, {{0}}},
};

static char *slurp(const char *name, size_t *len)
{
    char path[512];
    FILE *f;
    char *buf;
    long n;
    snprintf(path, sizeof path, SAMPLES "%s", name);
    f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    assert_true(n > 0);
    buf = cr_xmalloc((size_t)n);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* The message with every "\n" made eol; an exact-size copy, so ASan sees any overread. */
static char *with_eol(const char *s, size_t n, const char *eol, size_t *out_len)
{
    struct cr_buf b = CR_BUF_INIT(0);
    char *exact;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\n')
            cr_buf_puts(&b, eol);
        else
            cr_buf_putc(&b, s[i]);
    *out_len = b.len;
    exact = cr_xmalloc(b.len ? b.len : 1);
    memcpy(exact, b.data, b.len);
    cr_buf_release(&b);
    return exact;
}

static void assert_str_or_null(const char *got, const char *want)
{
    if (!want)
        assert_null(got);
    else {
        assert_non_null(got);
        assert_string_equal(got, want);
    }
}

/* What every report must satisfy, whatever the input. */
static void check_invariants(int rc, const struct cr_bounce_report *r, const struct cr_err *err)
{
    if (rc) {
        assert_int_equal(rc, CR_EINVAL);
        assert_true(err->msg[0] != '\0');
        assert_null(r->v);
        assert_int_equal(r->n, 0);
        assert_null(r->format);
        return;
    }
    assert_true(r->n >= 1 && r->n <= CR_BOUNCE_MAX_EVENTS);
    assert_non_null(r->format);
    for (size_t i = 0; i < r->n; i++) {
        const struct cr_bounce *b = &r->v[i];
        const char *strs[] = {b->recipient, b->message_id, b->diagnostic};
        assert_true(strlen(b->status) < sizeof b->status);
        for (size_t j = 0; j < 3; j++) {
            if (!strs[j])
                continue;
            assert_true(strs[j][0] != '\0');
            assert_true(cr_utf8_valid(strs[j], strlen(strs[j]), NULL));
            for (const char *p = strs[j]; *p; p++)
                assert_false((unsigned char)*p < 0x20 || *p == 0x7f);
        }
        if (b->diagnostic)
            assert_true(strlen(b->diagnostic) <= CR_BOUNCE_MAX_DIAG);
        if (b->recipient)
            assert_non_null(strchr(b->recipient, '@'));
    }
}

static void check_sample(const struct sample *s, const char *msg, size_t len)
{
    struct cr_bounce_report r;
    struct cr_err err = CR_ERR_INIT;
    int rc = cr_bounce_parse(msg, len, &r, &err);
    check_invariants(rc, &r, &err);
    if (!s->format) {
        assert_int_equal(rc, CR_EINVAL);
        assert_non_null(strstr(err.msg, s->error));
        return;
    }
    assert_int_equal(rc, 0);
    assert_string_equal(r.format, s->format);
    assert_int_equal(r.n, s->n);
    for (size_t i = 0; i < s->n; i++) {
        assert_int_equal(r.v[i].type, s->ev[i].type);
        assert_str_or_null(r.v[i].recipient, s->ev[i].rcpt);
        assert_str_or_null(r.v[i].message_id, s->ev[i].msgid);
        assert_string_equal(r.v[i].status, s->ev[i].status);
        assert_str_or_null(r.v[i].diagnostic, s->ev[i].diag);
    }
    cr_bounce_report_release(&r);
    assert_null(r.v);
    assert_int_equal(r.n, 0);
}

static void test_samples(void **state)
{
    static const char *const eols[] = {"\n", "\r\n", "\r"};
    (void)state;
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
        size_t len, n;
        char *raw = slurp(samples[i].file, &len);
        for (size_t e = 0; e < 3; e++) {
            char *msg = with_eol(raw, len, eols[e], &n);
            print_message("%s, line ending %zu\n", samples[i].file, e);
            check_sample(&samples[i], msg, n);
            free(msg);
        }
        free(raw);
    }
}

/* Every sample cut at every length: never a crash or an overread (each cut is an exact-size
 * copy), and either events or CR_EINVAL with a reason. */
static void test_every_prefix(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
        size_t len;
        char *raw = slurp(samples[i].file, &len);
        for (size_t cut = 0; cut <= len; cut++) {
            char *msg = cr_xmalloc(cut ? cut : 1);
            struct cr_bounce_report r;
            struct cr_err err = CR_ERR_INIT;
            memcpy(msg, raw, cut);
            int rc = cr_bounce_parse(msg, cut, &r, &err);
            check_invariants(rc, &r, &err);
            cr_bounce_report_release(&r);
            free(msg);
        }
        free(raw);
    }
}

/* Parses a NUL-terminated message; expects rc and, on success, one event. */
static struct cr_bounce_report parse_str(const char *msg, int want_rc, struct cr_err *err)
{
    struct cr_bounce_report r;
    int rc = cr_bounce_parse(msg, strlen(msg), &r, err);
    check_invariants(rc, &r, err);
    assert_int_equal(rc, want_rc);
    return r;
}

static void expect_one(const char *msg, const char *format, enum cr_bounce_type type,
                       const char *rcpt, const char *msgid, const char *status, const char *diag)
{
    struct cr_err err = CR_ERR_INIT;
    struct cr_bounce_report r = parse_str(msg, 0, &err);
    assert_string_equal(r.format, format);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.v[0].type, type);
    assert_str_or_null(r.v[0].recipient, rcpt);
    assert_str_or_null(r.v[0].message_id, msgid);
    assert_string_equal(r.v[0].status, status);
    assert_str_or_null(r.v[0].diagnostic, diag);
    cr_bounce_report_release(&r);
}

static void expect_einval(const char *msg, const char *why)
{
    struct cr_err err = CR_ERR_INIT;
    struct cr_bounce_report r = parse_str(msg, CR_EINVAL, &err);
    assert_non_null(strstr(err.msg, why));
    cr_bounce_report_release(&r);
}

#define DSN_HEAD                                                                              \
    "From: MAILER-DAEMON@mx.example\n"                                                        \
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n"         \
    "--b\nContent-Type: message/delivery-status\n\n"

/* DSN fields missing or out of place: the documented fallbacks. */
static void test_dsn_fallbacks(void **state)
{
    (void)state;
    /* no enclosed original: the per-message X-Original-Message-ID; no Final-Recipient: the
     * Original-Recipient; no Status: the code in the diagnostic; no diagnostic type */
    expect_one(DSN_HEAD "Reporting-MTA: dns; mx.example\n"
                        "X-Original-Message-ID: <abc.123@crier.example>\n\n"
                        "Original-Recipient: rfc822; Who@Where.Example\n"
                        "Action: Failed\n"
                        "Diagnostic-Code: 550-5.7.1 Rejected by policy\n"
                        "--b--\n",
               "dsn", CR_BOUNCE_HARD, "Who@where.example", "abc.123@crier.example", "5.7.1",
               "550 5.7.1 Rejected by policy");
    /* no blank line between per-message and per-recipient fields; unknown status with only
     * a basic SMTP code (4xx: soft); the enclosed original wins over X-Original-Message-ID */
    expect_one(DSN_HEAD "Reporting-MTA: dns; mx.example\n"
                        "X-Original-Message-ID: <not.this@crier.example>\n"
                        "Final-Recipient: rfc822;<a@b.example>\n"
                        "Action: failed\n"
                        "Diagnostic-Code: smtp; 452 Too many recipients\n"
                        "--b\nContent-Type: message/rfc822\n\n"
                        "Subject: x\nMessage-ID: <orig@crier.example>\n\nbody\n--b--\n",
               "dsn", CR_BOUNCE_SOFT, "a@b.example", "orig@crier.example", "",
               "452 Too many recipients");
    /* failed with no status or code at all: hard; no recipient we can read: NULL */
    expect_one(DSN_HEAD "Final-Recipient: x400; /C=FR/ADMD=ATLAS/\nAction: failed\n--b--\n",
               "dsn", CR_BOUNCE_HARD, NULL, NULL, "", NULL);
    /* the delivery-status part base64 with CRLF inside, under a top level without quotes */
    expect_one("Content-Type: multipart/report; boundary=zz; report-type=delivery-status\n\n"
               "--zz\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: BASE64\n\n"
               "RmluYWwtUmVjaXBpZW50OiByZmM4MjI7IHhAeS5leGFtcGxlDQpBY3Rpb246IGZh\n"
               "aWxlZA0KU3RhdHVzOiA1LjEuMg0K\n--zz--\n",
               "dsn", CR_BOUNCE_HARD, "x@y.example", NULL, "5.1.2", NULL);
    /* quoted-printable, folded Content-Type with a comment, boundary parameter first */
    expect_one("Content-Type: (report) multipart/report;\n boundary = \"q p\" ;\n"
               "\treport-type=delivery-status\n\n"
               "--q p\nContent-Type: message/delivery-status\n"
               "Content-Transfer-Encoding: quoted-printable\n\n"
               "Final-Recipient: rfc822; q=40p.example\nAction: failed\nStatus: 5.4.=\n7\n"
               "--q p--\n",
               "dsn", CR_BOUNCE_SOFT, "q@p.example", NULL, "5.4.7", NULL);
}

/* A DSN's Status against the code in its Diagnostic-Code. */
static void test_dsn_status(void **state)
{
    static const struct {
        const char *status, *diag;
        enum cr_bounce_type type;
        const char *want;
    } cases[] = {
        {"5.0.0", "550 5.1.1 No such user", CR_BOUNCE_HARD, "5.1.1"}, /* Exim's generic 5.0.0 */
        {"5.0.0", "552 5.2.2 Mailbox full", CR_BOUNCE_SOFT, "5.2.2"},
        {"5.0.0", "Mailbox quota exceeded", CR_BOUNCE_SOFT, "5.0.0"},
        {"5.0.0", "550 Unrouteable address", CR_BOUNCE_HARD, "5.0.0"},
        {"5.1.1", "550 5.7.1 Policy", CR_BOUNCE_HARD, "5.1.1"}, /* a specific Status wins */
        {"5.1.1", "552 Mailbox full", CR_BOUNCE_HARD, "5.1.1"},
        {"4.0.0", "550 5.1.1 No such user", CR_BOUNCE_SOFT, "4.0.0"}, /* not the same class */
        {"5.2.2 (mailbox full)", "552 over quota", CR_BOUNCE_SOFT, "5.2.2"},
        {"junk", "421 4.4.2 Timeout", CR_BOUNCE_SOFT, "4.4.2"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char msg[1024];
        snprintf(msg, sizeof msg,
                 DSN_HEAD "Final-Recipient: rfc822; r@s.example\nAction: failed\n"
                          "Status: %s\nDiagnostic-Code: smtp; %s\n--b--\n",
                 cases[i].status, cases[i].diag);
        print_message("%s / %s\n", cases[i].status, cases[i].diag);
        expect_one(msg, "dsn", cases[i].type, "r@s.example", NULL, cases[i].want, cases[i].diag);
    }
}

/* The order of the rules in bounce.h, through messages from a mailer daemon. */
static void test_classification(void **state)
{
    static const struct {
        const char *reply;
        enum cr_bounce_type type;
        const char *status;
    } cases[] = { /* the diagnostic is the reply ("421-" made "421 ") */
        {"550 5.1.1 No such user", CR_BOUNCE_HARD, "5.1.1"},
        {"552 5.2.2 Mailbox full", CR_BOUNCE_SOFT, "5.2.2"},
        {"554 5.4.7 Delivery time expired", CR_BOUNCE_SOFT, "5.4.7"},
        {"550 5.7.1 Over quota policy", CR_BOUNCE_HARD, "5.7.1"}, /* the code decides */
        {"452 4.2.2 Mailbox full", CR_BOUNCE_SOFT, "4.2.2"},
        {"421-4.7.0 Try again later", CR_BOUNCE_SOFT, "4.7.0"},
        {"550 Mailbox quota exceeded", CR_BOUNCE_SOFT, ""}, /* no enhanced code: text, then code */
        {"552 Requested action aborted: mailbox is full", CR_BOUNCE_SOFT, ""},
        {"554 Transaction failed", CR_BOUNCE_HARD, ""},
        {"451 Local error in processing", CR_BOUNCE_SOFT, ""},
        {"Mailbox unavailable (#5.1.1)", CR_BOUNCE_HARD, "5.1.1"},
        {"Deferred too long (#4.4.7)", CR_BOUNCE_SOFT, "4.4.7"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char msg[1024];
        snprintf(msg, sizeof msg,
                 "From: Mail Delivery System <MAILER-DAEMON@mx.example>\n"
                 "To: bounces@crier.example\nSubject: Warning\n\n"
                 "Delivery to the following recipient failed permanently:\n\n"
                 "    user@dest.example\n\nThe server said:\n%s\n",
                 cases[i].reply);
        print_message("%s\n", cases[i].reply);
        char diag[128];
        snprintf(diag, sizeof diag, "%s", cases[i].reply);
        if (diag[3] == '-')
            diag[3] = ' ';
        expect_one(msg, "heuristic", cases[i].type, "user@dest.example", NULL, cases[i].status,
                   diag);
    }
}

static void test_heuristic(void **state)
{
    (void)state;
    /* the address on the reply's line; ours (the bounce's To) and the daemon's are skipped */
    expect_one("From: postmaster@mx.example\nTo: <bounces@crier.example>\n"
               "Subject: failure notice\n\n"
               "Message for bounces@crier.example from postmaster@mx.example:\n"
               "RCPT TO:<Y@Dest.Example> said: 550 5.1.1 unknown\n",
               "heuristic", CR_BOUNCE_HARD, "Y@dest.example", NULL, "5.1.1",
               "550 5.1.1 unknown");
    /* nothing before the reply: the address after it */
    expect_one("From: x@y.example\nSubject: Returned mail: User unknown\n\n"
               "550 5.1.1 User unknown\n\nThe recipient was z@dest.example.\n",
               "heuristic", CR_BOUNCE_HARD, "z@dest.example", NULL, "5.1.1",
               "550 5.1.1 User unknown");
    /* a base64 body; the enclosed original's Message-ID; the copy is not searched for codes */
    expect_one("From: MAILER-DAEMON@mx.example\nContent-Transfer-Encoding: base64\n\n"
               "ZmFpbGVkOiBhQGIuZXhhbXBsZQo0NTEgNC4zLjAgdGVtcG9yYXJ5IGVycm9yCgotLS0t\n"
               "LSBPcmlnaW5hbCBtZXNzYWdlIC0tLS0tCk1lc3NhZ2UtSUQ6IDxtQGNyaWVyLmV4YW1w\n"
               "bGU+Cgo1NTAgNS4xLjEgbm90IHRoaXMK\n",
               "heuristic", CR_BOUNCE_SOFT, "a@b.example", "m@crier.example", "4.3.0",
               "451 4.3.0 temporary error");
    /* no marker before the copy of the original: its Message-ID is found all the same */
    expect_one("From: MAILER-DAEMON@mx.example\n\n<k@l.example>... 550 User unknown\n\n"
               "Return-Path: <bounces@crier.example>\nMessage-Id:\n  <copy.1@crier.example>\n",
               "heuristic", CR_BOUNCE_HARD, "k@l.example", "copy.1@crier.example", "",
               "550 User unknown");
    /* a version number is no status code, a date is no reply */
    expect_one("From: MAILER-DAEMON@mx.example\n\nExim 4.96.2 on 12 Mar 2024 15:50 at\n"
               "u@v.example: 550 No such user here\n",
               "heuristic", CR_BOUNCE_HARD, "u@v.example", NULL, "", "550 No such user here");
    /* an IP address is no status code either */
    expect_one("From: MAILER-DAEMON@mx.example\n\nhost 4.2.2.1 said: 550 No such user w@x.example\n",
               "heuristic", CR_BOUNCE_HARD, "w@x.example", NULL, "", "550 No such user w@x.example");
    expect_einval("From: MAILER-DAEMON@mx.example\nSubject: x\n\nSomething went wrong.\n",
                  "no SMTP reply code");
    expect_einval("From: MAILER-DAEMON@mx.example\n\n550 5.1.1 unknown user\n",
                  "names neither the failed recipient");
    expect_einval("From: MAILER-DAEMON@mx.example\nSubject: Delivery delayed: hello\n\n"
                  "451 4.4.1 x@y.example: no answer\n",
                  "delay notification");
}

static void test_exim_qmail(void **state)
{
    (void)state;
    /* without X-Failed-Recipients: every address block; old one-line SMTP error */
    expect_one("From: Mail Delivery System <Mailer-Daemon@mx.example>\n\n"
               "This message was created automatically by mail delivery software.\n\n"
               "A message that you sent could not be delivered to one or more of its\n"
               "recipients. This is a permanent error. The following address(es) failed:\n\n"
               "  <A@B.EXAMPLE>\n"
               "    SMTP error from remote mail server after RCPT TO:<A@B.EXAMPLE>: host "
               "mx.b.example [192.0.2.1]: 550-5.1.1 one\n"
               "    550 5.1.1 two\n",
               "exim", CR_BOUNCE_HARD, "A@b.example", NULL, "5.1.1", "550 5.1.1 one two");
    /* an address only in the header: an event, hard, with nothing more known */
    expect_one("X-Failed-Recipients: only@header.example\n\n"
               "This message was created automatically by mail delivery software.\n",
               "exim", CR_BOUNCE_HARD, "only@header.example", NULL, "", NULL);
    /* a local delivery failure without a code */
    expect_one("X-Failed-Recipients: full@local.example\n\n"
               "This message was created automatically by mail delivery software.\n\n"
               "  full@local.example\n    Mailbox quota exceeded\n",
               "exim", CR_BOUNCE_SOFT, "full@local.example", NULL, "", "Mailbox quota exceeded");
    expect_einval("From: Mail Delivery System <Mailer-Daemon@mx.example>\n"
                  "Subject: Warning: message 1rkQ2x-0004Zb-2T delayed 24 hours\n\n"
                  "This message was created automatically by mail delivery software.\n\n"
                  "A message that you sent has not yet been delivered to one or more of its\n"
                  "recipients after more than 24 hours on the queue on mx.example.\n\n"
                  "  late@dest.example\n    Connection timed out\n",
                  "Exim delay warning");
    /* qmail with a temporary reply and CRLF */
    expect_one("From: MAILER-DAEMON@q.example\r\n\r\n"
               "Hi. This is the qmail-send program at q.example.\r\n\r\n"
               "<t@temp.example>:\r\nRemote host said: 452 4.2.2 Over quota\r\n"
               "I'm not going to try again; this message has been in the queue too long.\r\n",
               "qmail", CR_BOUNCE_SOFT, "t@temp.example", NULL, "4.2.2", "452 4.2.2 Over quota");
}

static void test_arf(void **state)
{
    (void)state;
    /* Original-Rcpt-To wins over the original's To; folded values */
    expect_one("Content-Type: multipart/report;\n report-type=\"feedback-report\";\n"
               " boundary=\"arf\"\n\n"
               "--arf\nContent-Type: text/plain\n\nThis is an abuse report.\n"
               "--arf\nContent-Type: message/feedback-report\n\n"
               "Feedback-Type:\n abuse\nOriginal-Rcpt-To: <Reader@Mail.Example>\n"
               "--arf\nContent-Type: text/rfc822-headers\n\n"
               "To: someone.else@mail.example\nMessage-Id: <arf.1@crier.example>\n"
               "--arf--\n",
               "arf", CR_BOUNCE_COMPLAINT, "Reader@mail.example", "arf.1@crier.example", "",
               "abuse");
    /* a redacted report: still one complaint */
    expect_one("Content-Type: multipart/report; report-type=feedback-report; boundary=x\n\n"
               "--x\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n--x--\n",
               "arf", CR_BOUNCE_COMPLAINT, NULL, NULL, "", "abuse");
}

static void test_not_bounces(void **state)
{
    struct cr_bounce_report r;
    struct cr_err err = CR_ERR_INIT;
    (void)state;
    assert_int_equal(cr_bounce_parse(NULL, 0, &r, &err), CR_EINVAL);
    check_invariants(CR_EINVAL, &r, &err);
    expect_einval("", "not a bounce");
    expect_einval("\n\n\n", "not a bounce");
    expect_einval("Subject: hello\n\n550 5.1.1 a@b.example\n", "not a bounce");
    /* a bounce forwarded as an attachment is not opened */
    expect_einval("From: a@b.example\nContent-Type: multipart/mixed; boundary=m\n\n"
                  "--m\nContent-Type: text/plain\n\nSee below.\n"
                  "--m\nContent-Type: message/rfc822\n\n" DSN_HEAD
                  "Final-Recipient: rfc822; c@d.example\nAction: failed\nStatus: 5.1.1\n"
                  "--b--\n--m--\n",
                  "not a bounce");
    /* NUL bytes do not stop anything */
    {
        static const char msg[] = "From: MAILER-DAEMON@x.example\n\n\0\0"
                                  "550 5.1.1 <n@u.example>\0 nope\n";
        assert_int_equal(cr_bounce_parse(msg, sizeof msg - 1, &r, &err), 0);
        assert_string_equal(r.v[0].recipient, "n@u.example");
        assert_string_equal(r.v[0].diagnostic, "550 5.1.1 <n@u.example> nope");
        cr_bounce_report_release(&r);
    }
}

/* A DSN with n failed recipients, inside depth nested multiparts. */
static char *nested_dsn(int depth, size_t n, const char *diag, size_t *len)
{
    struct cr_buf b = CR_BUF_INIT(0);
    cr_buf_puts(&b, "From: MAILER-DAEMON@mx.example\n");
    for (int d = 0; d < depth - 1; d++)
        cr_buf_printf(&b, "Content-Type: multipart/mixed; boundary=\"L%d\"\n\n--L%d\n", d, d);
    cr_buf_printf(&b, "Content-Type: multipart/report; boundary=\"L%d\"\n\n--L%d\n"
                      "Content-Type: message/delivery-status\n\n"
                      "Reporting-MTA: dns; mx.example\n",
                  depth - 1, depth - 1);
    for (size_t i = 0; i < n; i++)
        cr_buf_printf(&b, "\nFinal-Recipient: rfc822; user%zu@example.com\nAction: failed\n"
                          "Status: 5.1.1\nDiagnostic-Code: smtp; %s\n",
                      i, diag);
    for (int d = depth - 1; d >= 0; d--)
        cr_buf_printf(&b, "--L%d--\n", d);
    assert_int_equal(b.err, 0);
    return cr_buf_detach(&b, len);
}

static void test_limits(void **state)
{
    struct cr_bounce_report r;
    struct cr_err err = CR_ERR_INIT;
    struct cr_buf big = CR_BUF_INIT(0);
    size_t len;
    char *msg;
    (void)state;
    /* events: the first CR_BOUNCE_MAX_EVENTS */
    msg = nested_dsn(1, 1500, "550 gone", &len);
    assert_int_equal(cr_bounce_parse(msg, len, &r, &err), 0);
    assert_int_equal(r.n, CR_BOUNCE_MAX_EVENTS);
    assert_string_equal(r.v[999].recipient, "user999@example.com");
    cr_bounce_report_release(&r);
    free(msg);
    /* depth: a report inside CR_BOUNCE_MAX_DEPTH nested multiparts is read, one more is not */
    msg = nested_dsn(CR_BOUNCE_MAX_DEPTH, 1, "550 gone", &len);
    assert_int_equal(cr_bounce_parse(msg, len, &r, &err), 0);
    assert_int_equal(r.n, 1);
    cr_bounce_report_release(&r);
    free(msg);
    msg = nested_dsn(CR_BOUNCE_MAX_DEPTH + 1, 1, "550 gone", &len);
    assert_int_equal(cr_bounce_parse(msg, len, &r, &err), CR_EINVAL);
    free(msg);
    /* a long diagnostic: cut to CR_BOUNCE_MAX_DIAG bytes, never inside a character */
    cr_buf_puts(&big, "550 5.1.1 ");
    for (int i = 0; i < 3000; i++)
        cr_buf_puts(&big, "\xc3\xa9"); /* é */
    msg = nested_dsn(1, 1, big.data, &len);
    assert_int_equal(cr_bounce_parse(msg, len, &r, &err), 0);
    check_invariants(0, &r, &err);
    assert_int_equal(strlen(r.v[0].diagnostic), CR_BOUNCE_MAX_DIAG);
    cr_bounce_report_release(&r);
    free(msg);
    cr_buf_release(&big);
}

/* Hostile shapes of half a megabyte each parse in a fraction of a second when the work is
 * linear (about 0.1 s under ASan); a quadratic step would take minutes. */
#define SHAPE_BYTES (512u << 10)

static void test_linear_time(void **state)
{
    static const char *const shapes[] = {
        "@", "a@", "a@b.c ", "550-", "550 ", "5.5.5.", "4.1.", "\n", "\r", " \n", "--b\n",
        "Action: delayed\n\n", "  x@y.example\n", "<q@r.example>:\n", "=", "=\n", "(",
        "Message-ID: <\n",
    };
    (void)state;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        for (int prefix = 0; prefix < 5; prefix++) {
            static const char *const heads[] = {
                "From: MAILER-DAEMON@x.example\n\n",
                "Content-Type: multipart/report; a=",
                "X-Failed-Recipients: ",
                "Content-Type: multipart/report; boundary=b\n\n--b\n"
                "Content-Type: message/delivery-status\n\n",
                "From: MAILER-DAEMON@x.example\n\nHi. This is the qmail-send program\n\n",
            };
            static const char tail[] = "\nThis message was created automatically by mail "
                                       "delivery software.\n550 5.1.1 end@x.example\n";
            size_t hn = strlen(heads[prefix]), sn = strlen(shapes[i]), n = hn;
            size_t len = hn + SHAPE_BYTES + sizeof tail - 1;
            char *msg = cr_xmalloc(len);
            struct cr_bounce_report r;
            struct cr_err err = CR_ERR_INIT;
            clock_t t0;
            double secs;
            memcpy(msg, heads[prefix], hn);
            for (; n + sn <= hn + SHAPE_BYTES; n += sn)
                memcpy(msg + n, shapes[i], sn);
            memcpy(msg + n, tail, sizeof tail - 1);
            len = n + sizeof tail - 1;
            t0 = clock();
            int rc = cr_bounce_parse(msg, len, &r, &err);
            secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
            check_invariants(rc, &r, &err);
            cr_bounce_report_release(&r);
            free(msg);
            if (secs > 2.0)
                fail_msg("shape %zu with head %d took %.1f s", i, prefix, secs);
        }
}

static void test_type_names(void **state)
{
    (void)state;
    assert_string_equal(cr_bounce_type_name(CR_BOUNCE_HARD), "hard");
    assert_string_equal(cr_bounce_type_name(CR_BOUNCE_SOFT), "soft");
    assert_string_equal(cr_bounce_type_name(CR_BOUNCE_COMPLAINT), "complaint");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_samples),      cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_dsn_fallbacks), cmocka_unit_test(test_dsn_status),
        cmocka_unit_test(test_classification),
        cmocka_unit_test(test_heuristic),    cmocka_unit_test(test_exim_qmail),
        cmocka_unit_test(test_arf),          cmocka_unit_test(test_not_bounces),
        cmocka_unit_test(test_limits),       cmocka_unit_test(test_linear_time),
        cmocka_unit_test(test_type_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
