/* tests.h - the push unit tests' shared declarations (cmocka needs its includes in order) */
#ifndef CR_TEST_PUSH_H
#define CR_TEST_PUSH_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/evp.h>

/* A fresh key as an unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"); free() it. */
char *test_pem_of(EVP_PKEY *k);
/* An EC key on the named curve ("P-256") or an RSA key of bits. */
EVP_PKEY *test_ec_key(const char *curve);
EVP_PKEY *test_rsa_key(unsigned bits);

int test_jwt_run(void);
int test_transport_config_run(void);

#endif
