/*
 * test_jwt.c - base64url (RFC 4648 §10 and RFC 7515 Appendix C vectors), and ES256 / RS256
 *              compact JWS: keys made here with OpenSSL, each signature verified with the
 *              public key (ES256 after turning the 64-octet R||S back into DER)
 */
#include "tests.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "channel/push/jwt.h"
#include "core/buf.h"

char *test_pem_of(EVP_PKEY *k)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *p;
    assert_int_equal(PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL), 1);
    long n = BIO_get_mem_data(bio, &p);
    char *copy = malloc((size_t)n + 1);
    memcpy(copy, p, (size_t)n);
    copy[n] = 0;
    BIO_free(bio);
    assert_non_null(strstr(copy, "-----BEGIN PRIVATE KEY-----")); /* PKCS#8, as a .p8 */
    return copy;
}

EVP_PKEY *test_ec_key(const char *curve)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
    assert_non_null(k);
    return k;
}

EVP_PKEY *test_rsa_key(unsigned bits)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    assert_non_null(k);
    return k;
}

static char *b64(const void *p, size_t n)
{
    struct cr_buf b = CR_BUF_INIT(0);
    assert_int_equal(cr_jwt_b64url(&b, p, n), 0);
    return cr_buf_detach(&b, NULL);
}

static void test_b64url_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } v[] = {
        /* RFC 4648 §10, without the padding */
        {"", ""},
        {"f", "Zg"},
        {"fo", "Zm8"},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg"},
        {"fooba", "Zm9vYmE"},
        {"foobar", "Zm9vYmFy"},
        /* RFC 7515 Appendix A.1's JOSE header, CR LF included */
        {"{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}", "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"},
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        char *e = b64(v[i].in, strlen(v[i].in));
        assert_string_equal(e, v[i].out);
        free(e);
        struct cr_buf d = CR_BUF_INIT(0);
        assert_int_equal(cr_jwt_b64url_decode(&d, v[i].out, strlen(v[i].out)), 0);
        assert_int_equal(d.len, strlen(v[i].in));
        assert_memory_equal(d.data, v[i].in, d.len);
        cr_buf_release(&d);
    }
    /* RFC 7515 Appendix C: the two characters that differ from base64 */
    static const unsigned char c[] = {3, 236, 255, 224, 193};
    char *e = b64(c, sizeof c);
    assert_string_equal(e, "A-z_4ME");
    free(e);
    static const unsigned char ff[] = {0xfb, 0xff};
    e = b64(ff, sizeof ff);
    assert_string_equal(e, "-_8"); /* base64: "+/8=" */
    free(e);
}

static void test_b64url_decode_refusals(void **state)
{
    (void)state;
    const char *bad[] = {"Zm9v+", "Zm9v/", "Zm 9v", "Z", "Zm9vY", "Zm9v\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct cr_buf d = CR_BUF_INIT(0);
        assert_int_equal(cr_jwt_b64url_decode(&d, bad[i], strlen(bad[i])), CR_ESYNTAX);
        cr_buf_release(&d);
    }
    struct cr_buf d = CR_BUF_INIT(0);
    assert_int_equal(cr_jwt_b64url_decode(&d, "Zm8=", 4), 0); /* padding tolerated */
    assert_string_equal(d.data, "fo");
    cr_buf_release(&d);
    /* every byte value survives a round trip */
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)(255 - i);
    for (size_t n = 0; n <= sizeof all; n += 37) {
        char *e = b64(all, n);
        assert_int_equal(strspn(e, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789-_"),
                         strlen(e));
        struct cr_buf r = CR_BUF_INIT(0);
        assert_int_equal(cr_jwt_b64url_decode(&r, e, strlen(e)), 0);
        assert_int_equal(r.len, n);
        assert_memory_equal(r.data, all, n);
        cr_buf_release(&r);
        free(e);
    }
}

/* Splits a compact JWS into its decoded header, claims and signature; returns the length of
 * the signing input (header.claims). */
static size_t split(const char *jws, struct cr_buf *hdr, struct cr_buf *claims, struct cr_buf *sig)
{
    const char *d1 = strchr(jws, '.');
    assert_non_null(d1);
    const char *d2 = strchr(d1 + 1, '.');
    assert_non_null(d2);
    assert_null(strchr(d2 + 1, '.'));
    assert_int_equal(cr_jwt_b64url_decode(hdr, jws, (size_t)(d1 - jws)), 0);
    assert_int_equal(cr_jwt_b64url_decode(claims, d1 + 1, (size_t)(d2 - d1 - 1)), 0);
    assert_int_equal(cr_jwt_b64url_decode(sig, d2 + 1, strlen(d2 + 1)), 0);
    return (size_t)(d2 - jws);
}

static int verify_der(EVP_PKEY *pub, const char *input, size_t n, const unsigned char *sig,
                      size_t siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_non_null(md);
    assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub), 1);
    int ok = EVP_DigestVerify(md, sig, siglen, (const unsigned char *)input, n);
    EVP_MD_CTX_free(md);
    return ok == 1;
}

/* R||S -> DER ECDSA-Sig-Value, then verify. */
static int verify_es256(EVP_PKEY *pub, const char *input, size_t n, const unsigned char *rs)
{
    ECDSA_SIG *s = ECDSA_SIG_new();
    assert_non_null(s);
    assert_int_equal(ECDSA_SIG_set0(s, BN_bin2bn(rs, 32, NULL), BN_bin2bn(rs + 32, 32, NULL)), 1);
    unsigned char *der = NULL;
    int dl = i2d_ECDSA_SIG(s, &der);
    assert_true(dl > 0);
    int ok = verify_der(pub, input, n, der, (size_t)dl);
    OPENSSL_free(der);
    ECDSA_SIG_free(s);
    return ok;
}

/* The public half only, as a verifier holds it. */
static EVP_PKEY *public_of(EVP_PKEY *k)
{
    BIO *bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PUBKEY(bio, k), 1);
    EVP_PKEY *pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    assert_non_null(pub);
    return pub;
}

static void test_es256(void **state)
{
    (void)state;
    EVP_PKEY *k = test_ec_key("P-256");
    EVP_PKEY *pub = public_of(k);
    char *pem = test_pem_of(k);
    struct cr_jwt_key *key = NULL;
    struct cr_err err = CR_ERR_INIT;
    assert_int_equal(cr_jwt_key_new(CR_JWT_ES256, pem, "the APNs key", &key, &err), 0);
    const char *h = "{\"alg\":\"ES256\",\"kid\":\"ABC123DEFG\"}";
    const char *c = "{\"iss\":\"DEF123GHIJ\",\"iat\":1437179036}";
    char *prev = NULL;
    for (int round = 0; round < 20; round++) { /* r or s with leading zero octets included */
        struct cr_buf jws = CR_BUF_INIT(0), hd = CR_BUF_INIT(0), cl = CR_BUF_INIT(0),
                      sig = CR_BUF_INIT(0);
        assert_int_equal(cr_jwt_sign(key, h, c, &jws, &err), 0);
        size_t n = split(jws.data, &hd, &cl, &sig);
        assert_string_equal(hd.data, h);
        assert_string_equal(cl.data, c);
        assert_int_equal(sig.len, 64); /* R||S, not DER (70-72 octets) */
        assert_true(verify_es256(pub, jws.data, n, (unsigned char *)sig.data));
        jws.data[n - 1] ^= 1; /* another signing input: refused */
        assert_false(verify_es256(pub, jws.data, n, (unsigned char *)sig.data));
        jws.data[n - 1] ^= 1;
        if (prev) /* ECDSA is randomised: a renewed token differs even within one second */
            assert_string_not_equal(prev, jws.data);
        free(prev);
        prev = cr_buf_detach(&jws, NULL);
        cr_buf_release(&hd);
        cr_buf_release(&cl);
        cr_buf_release(&sig);
    }
    free(prev);
    cr_jwt_key_free(key);
    free(pem);
    EVP_PKEY_free(pub);
    EVP_PKEY_free(k);
}

static void test_rs256(void **state)
{
    (void)state;
    EVP_PKEY *k = test_rsa_key(2048);
    EVP_PKEY *pub = public_of(k);
    char *pem = test_pem_of(k);
    struct cr_jwt_key *key = NULL;
    struct cr_err err = CR_ERR_INIT;
    assert_int_equal(
        cr_jwt_key_new(CR_JWT_RS256, pem, "the service account's private_key", &key, &err), 0);
    const char *h = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
    const char *c = "{\"iss\":\"crier@demo.iam.gserviceaccount.com\",\"scope\":\"https://www."
                    "googleapis.com/auth/firebase.messaging\",\"aud\":\"https://oauth2."
                    "googleapis.com/token\",\"iat\":1700000000,\"exp\":1700003600}";
    struct cr_buf jws = CR_BUF_INIT(0), hd = CR_BUF_INIT(0), cl = CR_BUF_INIT(0),
                  sig = CR_BUF_INIT(0);
    assert_int_equal(cr_buf_puts(&jws, "prefix:"), 0); /* appends: what was there stays */
    assert_int_equal(cr_jwt_sign(key, h, c, &jws, &err), 0);
    assert_memory_equal(jws.data, "prefix:", 7);
    const char *tok = jws.data + 7;
    size_t n = split(tok, &hd, &cl, &sig);
    assert_string_equal(hd.data, h);
    assert_string_equal(cl.data, c);
    assert_int_equal(sig.len, 256);
    assert_true(verify_der(pub, tok, n, (unsigned char *)sig.data, sig.len));
    /* RSASSA-PKCS1-v1_5 is deterministic: the same input signs the same */
    struct cr_buf again = CR_BUF_INIT(0);
    assert_int_equal(cr_jwt_sign(key, h, c, &again, &err), 0);
    assert_string_equal(again.data, tok);
    cr_buf_release(&again);
    cr_buf_release(&jws);
    cr_buf_release(&hd);
    cr_buf_release(&cl);
    cr_buf_release(&sig);
    cr_jwt_key_free(key);
    free(pem);
    EVP_PKEY_free(pub);
    EVP_PKEY_free(k);
}

static void expect_refused(enum cr_jwt_alg alg, const char *pem, const char *msg_part)
{
    struct cr_jwt_key *key = NULL;
    struct cr_err err = CR_ERR_INIT;
    assert_int_equal(cr_jwt_key_new(alg, pem, "the key", &key, &err), CR_EINVAL);
    assert_null(key);
    if (!strstr(err.msg, msg_part))
        fail_msg("'%s' does not say '%s'", err.msg, msg_part);
}

static void test_key_refusals(void **state)
{
    (void)state;
    EVP_PKEY *rsa = test_rsa_key(2048), *small = test_rsa_key(1024);
    EVP_PKEY *p384 = test_ec_key("P-384"), *p256 = test_ec_key("P-256");
    char *rsa_pem = test_pem_of(rsa), *small_pem = test_pem_of(small);
    char *p384_pem = test_pem_of(p384), *p256_pem = test_pem_of(p256);
    expect_refused(CR_JWT_ES256, rsa_pem, "the key has type RSA, not EC P-256 (ES256)");
    expect_refused(CR_JWT_ES256, p384_pem, "not P-256");
    expect_refused(CR_JWT_RS256, p256_pem, "the key has type EC, not RSA (RS256)");
    expect_refused(CR_JWT_RS256, small_pem, "has 1024 bits; RS256 needs at least 2048");
    expect_refused(CR_JWT_ES256, "", "the key is empty");
    expect_refused(CR_JWT_ES256, NULL, "the key is empty");
    expect_refused(CR_JWT_ES256,
                   "-----BEGIN PRIVATE KEY-----\nnot base64\n"
                   "-----END PRIVATE KEY-----\n",
                   "the key is not a usable PEM private key");
    /* a key cut short, as a bad copy of a .p8 would be */
    p256_pem[strlen(p256_pem) / 2] = 0;
    expect_refused(CR_JWT_ES256, p256_pem, "not a usable PEM private key");
    cr_jwt_key_free(NULL);
    free(rsa_pem);
    free(small_pem);
    free(p384_pem);
    free(p256_pem);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(small);
    EVP_PKEY_free(p384);
    EVP_PKEY_free(p256);
}

int test_jwt_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url_vectors), cmocka_unit_test(test_b64url_decode_refusals),
        cmocka_unit_test(test_es256),          cmocka_unit_test(test_rs256),
        cmocka_unit_test(test_key_refusals),
    };
    return cmocka_run_group_tests_name("jwt", tests, NULL, NULL);
}
