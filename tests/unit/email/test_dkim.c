/* test_dkim.c - DKIM signing: keys, canonicalisation, the header, verification with OpenSSL,
 * several threads on one key */
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "channel/email/dkim.h"
#include "channel/email/mime.h"
#include "core/buf.h"
#include "tests.h"

static EVP_PKEY *test_key;
static char *test_pem;
static size_t test_pem_len;

static char *pem_of(EVP_PKEY *k, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *p, *copy;
    long n;
    assert_int_equal(PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL), 1);
    n = BIO_get_mem_data(bio, &p);
    copy = malloc((size_t)n + 1);
    memcpy(copy, p, (size_t)n);
    copy[n] = '\0';
    *len = (size_t)n;
    BIO_free(bio);
    return copy;
}

static int setup(void **state)
{
    (void)state;
    test_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    if (!test_key)
        return -1;
    test_pem = pem_of(test_key, &test_pem_len);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(test_key);
    free(test_pem);
    return 0;
}

static struct cr_dkim *new_key(void)
{
    struct cr_dkim *k = NULL;
    struct cr_err err = CR_ERR_INIT;
    if (cr_dkim_new("crier2026", "Exemple.FR", test_pem, test_pem_len, &k, &err))
        fail_msg("cr_dkim_new: %s", err.msg);
    return k;
}

static void test_bad_keys(void **state)
{
    struct cr_dkim *k = (struct cr_dkim *)1;
    struct cr_err err = CR_ERR_INIT;
    static const char garbage[] = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE "
                                  "KEY-----\n";
    (void)state;
    assert_int_equal(cr_dkim_new("s", "exemple.fr", "not a pem", 9, &k, &err), CR_EINVAL);
    assert_null(k);
    assert_non_null(strstr(err.msg, "the DKIM key is not a usable PEM private key: "));
    assert_true(strlen(err.msg) > strlen("the DKIM key is not a usable PEM private key: "));
    cr_err_clear(&err);
    assert_int_equal(cr_dkim_new("s", "exemple.fr", garbage, sizeof garbage - 1, &k, &err),
                     CR_EINVAL);
    assert_non_null(strstr(err.msg, "not a usable PEM private key: "));
    cr_err_clear(&err);
    assert_int_equal(cr_dkim_new("s", "exemple.fr", "", 0, &k, &err), CR_EINVAL);
    assert_string_equal(err.msg, "the DKIM key is empty");
    {
        EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        size_t len;
        char *pem = pem_of(ec, &len);
        cr_err_clear(&err);
        assert_int_equal(cr_dkim_new("s", "exemple.fr", pem, len, &k, &err), CR_EINVAL);
        assert_non_null(strstr(err.msg, "is a EC key, not RSA"));
        free(pem);
        EVP_PKEY_free(ec);
    }
    {
        EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)768);
        size_t len;
        char *pem = pem_of(small, &len);
        cr_err_clear(&err);
        assert_int_equal(cr_dkim_new("s", "exemple.fr", pem, len, &k, &err), CR_EINVAL);
        assert_string_equal(err.msg, "the DKIM key has 768 bits; RFC 8301 requires at least "
                                     "1024 (2048 advised)");
        free(pem);
        EVP_PKEY_free(small);
    }
    cr_err_clear(&err);
    assert_int_equal(cr_dkim_new("bad selector", "exemple.fr", test_pem, test_pem_len, &k, &err),
                     CR_EINVAL);
    assert_non_null(strstr(err.msg, "the DKIM selector 'bad selector' has the character ' '"));
    cr_err_clear(&err);
    assert_int_equal(cr_dkim_new("s", "exemple..fr", test_pem, test_pem_len, &k, &err), CR_EINVAL);
    assert_non_null(strstr(err.msg, "the DKIM domain 'exemple..fr' has an empty"));
    cr_err_clear(&err);
    assert_int_equal(cr_dkim_new("s", "", test_pem, test_pem_len, &k, &err), CR_EINVAL);
    cr_dkim_free(NULL);
}

/* The tags of the DKIM-Signature at the start of m, unfolded, white space removed. */
static char *sig_tags(const char *m)
{
    struct cr_buf b = CR_BUF_INIT(0);
    const char *p = m + strlen("DKIM-Signature:");
    for (;;) {
        const char *eol = strstr(p, "\r\n");
        for (const char *q = p; q < eol; q++)
            if (*q != ' ' && *q != '\t')
                cr_buf_putc(&b, *q);
        if (eol[2] != ' ' && eol[2] != '\t')
            break;
        p = eol + 2;
    }
    return cr_buf_detach(&b, NULL);
}

static char *tag(const char *tags, const char *name)
{
    size_t n = strlen(name);
    const char *p = tags;
    while (p && *p) {
        if (strncmp(p, name, n) == 0 && p[n] == '=') {
            const char *end = strchr(p, ';');
            size_t len = end ? (size_t)(end - p - n - 1) : strlen(p + n + 1);
            char *v = malloc(len + 1);
            memcpy(v, p + n + 1, len);
            v[len] = '\0';
            return v;
        }
        p = strchr(p, ';');
        if (p)
            p++;
    }
    return NULL;
}

static void b64(const unsigned char *p, size_t n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

/* A fixed message whose relaxed canonical form is written out by hand below. */
static const char fixed_msg[] = "From: News <news@exemple.fr>\r\n"
                                "To:  jean@example.com \r\n"
                                "Subject: Hello\r\n"
                                "\t world\r\n"
                                "X-Other: not signed\r\n"
                                "DATE : Tue, 01 Dec 2026 09:00:00 +0000\r\n"
                                "\r\n"
                                "Hi  \t there \r\n"
                                " second line\r\n"
                                "\r\n"
                                "\r\n";

static void test_sign_and_verify(void **state)
{
    struct cr_dkim *k = new_key();
    struct cr_buf out = CR_BUF_INIT(0);
    struct cr_err err = CR_ERR_INIT;
    char *tags, *bh, *b, *h, want_bh[64];
    unsigned char digest[32], sig[1024];
    int siglen;
    (void)state;
    assert_int_equal(cr_dkim_sign(k, fixed_msg, sizeof fixed_msg - 1, &out, &err), 0);
    assert_memory_equal(out.data, "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;", 53);
    /* the message follows the header unchanged */
    assert_string_equal(out.data + out.len - (sizeof fixed_msg - 1), fixed_msg);
    /* every line of the signature header within 78 columns */
    for (const char *p = out.data; p < strstr(out.data, "From: ");) {
        const char *eol = strstr(p, "\r\n");
        assert_true(eol - p <= 78);
        p = eol + 2;
    }
    tags = sig_tags(out.data);
    h = tag(tags, "h");
    assert_string_equal(h, "from:to:subject:date");
    b = tag(tags, "d");
    assert_string_equal(b, "exemple.fr"); /* lower-cased */
    free(b);
    b = tag(tags, "s");
    assert_string_equal(b, "crier2026");
    free(b);
    assert_null(tag(tags, "t")); /* reproducible: no timestamp */

    /* bh: SHA-256 of the relaxed body, by hand */
    {
        static const char body[] = "Hi there\r\n second line\r\n";
        EVP_Digest(body, sizeof body - 1, digest, NULL, EVP_sha256(), NULL);
        b64(digest, 32, want_bh);
    }
    bh = tag(tags, "bh");
    assert_string_equal(bh, want_bh);

    /* b: verify with the public key over the canonical headers, written by hand */
    {
        struct cr_buf data = CR_BUF_INIT(0), sigtext = CR_BUF_INIT(0);
        const char *bstart;
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        cr_buf_puts(&data, "from:News <news@exemple.fr>\r\n"
                           "to:jean@example.com\r\n"
                           "subject:Hello world\r\n"
                           "date:Tue, 01 Dec 2026 09:00:00 +0000\r\n");
        /* the signature header, canonical, with an empty b= */
        cr_buf_puts(&sigtext, "dkim-signature:v=1; a=rsa-sha256; c=relaxed/relaxed; d=exemple.fr; "
                              "s=crier2026; h=from:to:subject:date; bh=");
        cr_buf_puts(&sigtext, want_bh);
        cr_buf_puts(&sigtext, "; b=");
        cr_buf_append(&data, sigtext.data, sigtext.len);
        b = tag(tags, "b");
        siglen = EVP_DecodeBlock(sig, (const unsigned char *)b, (int)strlen(b));
        while (b[strlen(b) - 1] == '=') { /* EVP_DecodeBlock counts padding as zero bytes */
            b[strlen(b) - 1] = '\0';
            siglen--;
        }
        assert_int_equal(siglen, 256);
        assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, test_key), 1);
        assert_int_equal(
            EVP_DigestVerify(md, sig, (size_t)siglen, (const unsigned char *)data.data, data.len),
            1);
        /* a changed header fails */
        data.data[6] = 'n';
        EVP_MD_CTX_reset(md);
        assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, test_key), 1);
        assert_int_not_equal(
            EVP_DigestVerify(md, sig, (size_t)siglen, (const unsigned char *)data.data, data.len),
            1);
        EVP_MD_CTX_free(md);
        bstart = strstr(out.data, " b=");
        assert_non_null(bstart);
        cr_buf_release(&data);
        cr_buf_release(&sigtext);
    }
    /* reproducible */
    {
        struct cr_buf again = CR_BUF_INIT(0);
        assert_int_equal(cr_dkim_sign(k, fixed_msg, sizeof fixed_msg - 1, &again, &err), 0);
        assert_string_equal(again.data, out.data);
        cr_buf_release(&again);
    }
    free(b);
    free(bh);
    free(h);
    free(tags);
    cr_buf_release(&out);
    cr_dkim_free(k);
}

static void test_body_canonicalisation(void **state)
{
    static const struct {
        const char *body, *canon;
    } cases[] = {
        {"", ""},       {"\r\n", ""},           {"\r\n\r\n \r\n\t\r\n", ""},
        {"a", "a\r\n"}, {"a\r\n\r\n", "a\r\n"}, {" a  b \t\r\n\r\nc\r\n", " a b\r\n\r\nc\r\n"},
    };
    struct cr_dkim *k = new_key();
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct cr_buf msg = CR_BUF_INIT(0), out = CR_BUF_INIT(0);
        struct cr_err err = CR_ERR_INIT;
        unsigned char digest[32];
        char want[64], *tags, *bh;
        cr_buf_printf(&msg, "From: a@exemple.fr\r\n\r\n%s", cases[i].body);
        assert_int_equal(cr_dkim_sign(k, msg.data, msg.len, &out, &err), 0);
        EVP_Digest(cases[i].canon, strlen(cases[i].canon), digest, NULL, EVP_sha256(), NULL);
        b64(digest, 32, want);
        tags = sig_tags(out.data);
        bh = tag(tags, "bh");
        assert_string_equal(bh, want);
        if (i == 0)
            assert_string_equal(bh, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="); /* RFC 6376 */
        free(bh);
        free(tags);
        cr_buf_release(&msg);
        cr_buf_release(&out);
    }
    cr_dkim_free(k);
}

static void test_signed_headers(void **state)
{
    struct cr_dkim *k = new_key();
    struct cr_buf msg = CR_BUF_INIT(0), out = CR_BUF_INIT(0);
    struct cr_err err = CR_ERR_INIT;
    struct cr_mail m = {0};
    char *tags, *h;
    (void)state;
    m.from = "News <news@exemple.fr>";
    m.reply_to = "help@exemple.fr";
    m.to = "jean@example.com";
    m.subject = "Hi";
    m.text = "x";
    m.html = "<p>x</p>";
    m.unsubscribe_url = "https://exemple.fr/u/1";
    m.date = 1;
    assert_int_equal(cr_mail_build(&m, &msg, &err), 0);
    assert_int_equal(cr_dkim_sign(k, msg.data, msg.len, &out, &err), 0);
    tags = sig_tags(out.data);
    h = tag(tags, "h");
    assert_string_equal(h, "from:to:subject:date:message-id:reply-to:mime-version:content-type:"
                           "list-unsubscribe:list-unsubscribe-post");
    free(h);
    free(tags);
    /* a header present twice is signed twice (bottom-up) */
    cr_buf_reset(&out);
    {
        static const char twice[] = "From: a@exemple.fr\r\nSubject: one\r\nSubject: two\r\n\r\nx";
        assert_int_equal(cr_dkim_sign(k, twice, sizeof twice - 1, &out, &err), 0);
    }
    tags = sig_tags(out.data);
    h = tag(tags, "h");
    assert_string_equal(h, "from:subject:subject");
    free(h);
    free(tags);
    cr_buf_release(&msg);
    cr_buf_release(&out);
    cr_dkim_free(k);
}

static void test_sign_errors(void **state)
{
    struct cr_dkim *k = new_key();
    struct cr_buf out = CR_BUF_INIT(0);
    struct cr_err err = CR_ERR_INIT;
    static const char no_from[] = "To: a@b.fr\r\n\r\nx";
    static const char no_sep[] = "From: a@b.fr\r\nx";
    static const char bad_line[] = "From: a@b.fr\r\nnot a header\r\n\r\nx";
    static const char no_headers[] = "\r\nbody";
    (void)state;
    cr_buf_puts(&out, "keep");
    assert_int_equal(cr_dkim_sign(k, no_from, sizeof no_from - 1, &out, &err), CR_EINVAL);
    assert_string_equal(err.msg, "the message has no From header field");
    cr_err_clear(&err);
    assert_int_equal(cr_dkim_sign(k, no_sep, sizeof no_sep - 1, &out, &err), CR_EINVAL);
    assert_non_null(strstr(err.msg, "no empty line"));
    cr_err_clear(&err);
    assert_int_equal(cr_dkim_sign(k, bad_line, sizeof bad_line - 1, &out, &err), CR_EINVAL);
    assert_non_null(strstr(err.msg, "offset 14 is not a field"));
    cr_err_clear(&err);
    assert_int_equal(cr_dkim_sign(k, no_headers, sizeof no_headers - 1, &out, &err), CR_EINVAL);
    assert_string_equal(out.data, "keep");
    cr_buf_release(&out);
    cr_buf_init(&out, 100);
    cr_err_clear(&err);
    assert_int_equal(cr_dkim_sign(k, fixed_msg, sizeof fixed_msg - 1, &out, &err), CR_ETOOBIG);
    assert_int_equal(out.len, 0);
    assert_int_equal(out.err, 0);
    cr_buf_release(&out);
    cr_dkim_free(k);
}

struct thread_arg {
    const struct cr_dkim *k;
    const char *want;
    int ok;
};

static void *sign_many(void *p)
{
    struct thread_arg *a = p;
    a->ok = 1;
    for (int i = 0; i < 25; i++) {
        struct cr_buf out = CR_BUF_INIT(0);
        struct cr_err err = CR_ERR_INIT;
        if (cr_dkim_sign(a->k, fixed_msg, sizeof fixed_msg - 1, &out, &err) != 0 ||
            strcmp(out.data, a->want) != 0)
            a->ok = 0;
        cr_buf_release(&out);
    }
    return NULL;
}

static void test_threads(void **state)
{
    struct cr_dkim *k = new_key();
    struct cr_buf want = CR_BUF_INIT(0);
    struct cr_err err = CR_ERR_INIT;
    pthread_t t[4];
    struct thread_arg args[4];
    (void)state;
    assert_int_equal(cr_dkim_sign(k, fixed_msg, sizeof fixed_msg - 1, &want, &err), 0);
    for (int i = 0; i < 4; i++) {
        args[i] = (struct thread_arg){k, want.data, 0};
        assert_int_equal(pthread_create(&t[i], NULL, sign_many, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_true(args[i].ok);
    }
    cr_buf_release(&want);
    cr_dkim_free(k);
}

int run_dkim_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_keys),
        cmocka_unit_test(test_sign_and_verify),
        cmocka_unit_test(test_body_canonicalisation),
        cmocka_unit_test(test_signed_headers),
        cmocka_unit_test(test_sign_errors),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests_name("dkim", tests, setup, teardown);
}
