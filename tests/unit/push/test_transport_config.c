/*
 * test_transport_config.c - cr_push_transport_new(): what it accepts and how it names what it
 *                           refuses (nothing here connects; sending is tests/integration/push)
 */
#include "tests.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel/push/transport.h"

static char *ec_pem, *rsa_pem;

static int setup(void **state)
{
    (void)state;
    EVP_PKEY *ec = test_ec_key("P-256"), *rsa = test_rsa_key(2048);
    ec_pem = test_pem_of(ec);
    rsa_pem = test_pem_of(rsa);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(rsa);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(ec_pem);
    free(rsa_pem);
    return 0;
}

static struct cr_push_config apns(void)
{
    return (struct cr_push_config){.service = CR_PUSH_APNS,
                                   .name = "ios",
                                   .team_id = "TEAM123456",
                                   .key_id = "KEY1234567",
                                   .key_pem = ec_pem,
                                   .topic = "com.example.app"};
}

/* A service account JSON with the given fields left out ("" for none). */
static char *service_account(const char *without)
{
    json_t *sa = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "service_account",
                           "project_id", "demo-project", "private_key_id", "abc123", "private_key",
                           rsa_pem, "client_email", "crier@demo-project.iam.gserviceaccount.com",
                           "token_uri", "https://oauth2.googleapis.com/token");
    json_object_del(sa, without);
    char *s = json_dumps(sa, 0);
    json_decref(sa);
    return s;
}

static void expect_new(const struct cr_push_config *cfg, int code, const char *msg)
{
    struct cr_push_transport *t = NULL;
    struct cr_err err = CR_ERR_INIT;
    int rc = cr_push_transport_new(cfg, &t, &err);
    if (rc != code)
        fail_msg("rc %d (%s), expected %d", rc, err.msg, code);
    if (code == 0) {
        assert_non_null(t);
        cr_push_transport_free(t);
        return;
    }
    assert_null(t);
    if (!strstr(err.msg, msg))
        fail_msg("'%s' does not say '%s'", err.msg, msg);
}

static void test_apns_config(void **state)
{
    (void)state;
    struct cr_push_config c = apns();
    expect_new(&c, 0, NULL);
    c.sandbox = 1;
    c.concurrency = 10000;
    c.rate = 500;
    expect_new(&c, 0, NULL);

    c = apns();
    c.team_id = NULL;
    expect_new(&c, CR_EINVAL, "APNs account 'ios': team_id is missing");
    c = apns();
    c.key_id = "KEY 1";
    expect_new(&c, CR_EINVAL, "APNs account 'ios': key_id 'KEY 1' has the character ' '");
    c = apns();
    c.topic = "com.example\r\nx-evil: 1";
    expect_new(&c, CR_EINVAL, "APNs account 'ios': topic");
    c = apns();
    c.key_pem = rsa_pem;
    expect_new(&c, CR_EINVAL, "APNs account 'ios': the key (key_pem) has type RSA");
    c = apns();
    c.key_pem = "";
    expect_new(&c, CR_EINVAL, "APNs account 'ios': the key (key_pem) is empty");
    c = apns();
    c.concurrency = 10001;
    expect_new(&c, CR_EINVAL, "APNs account 'ios': concurrency 10001 out of range (1 to 10000)");
    c = apns();
    c.concurrency = -1;
    expect_new(&c, CR_EINVAL, "concurrency -1 out of range");
    c = apns();
    c.rate = -1;
    expect_new(&c, CR_EINVAL, "rate -1 must be 0 (unlimited) or positive");
    c = apns();
    c.url = "http://127.0.0.1:8443";
    expect_new(&c, CR_EINVAL, "url 'http://127.0.0.1:8443' must be https://host[:port]");
    c = apns();
    c.url = "https://127.0.0.1:1/";
    expect_new(&c, 0, NULL);
    c.ca_file = "/nonexistent/ca.pem";
    expect_new(&c, CR_EINVAL, "APNs account 'ios': ca_file /nonexistent/ca.pem: No such file");
}

static void test_ca_file_content(void **state)
{
    (void)state;
    char path[] = "/tmp/crier-push-ca-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not a certificate\n", 18), 18);
    close(fd);
    struct cr_push_config c = apns();
    c.ca_file = path;
    expect_new(&c, CR_EINVAL, "holds no PEM certificate");
    unlink(path);
}

static void test_fcm_config(void **state)
{
    (void)state;
    char *sa = service_account("");
    struct cr_push_config c = {
        .service = CR_PUSH_FCM, .name = "android", .service_account_json = sa};
    expect_new(&c, 0, NULL);
    free(sa);

    const struct {
        const char *without, *msg;
    } missing[] = {
        {"client_email", "FCM account 'android': the service account has no client_email"},
        {"private_key", "the service account has no private_key"},
        {"project_id", "has no project_id (or set it on the account)"},
        {"token_uri", "has no token_uri (or set it on the account)"},
    };
    for (size_t i = 0; i < sizeof missing / sizeof *missing; i++) {
        sa = service_account(missing[i].without);
        c.service_account_json = sa;
        expect_new(&c, CR_EINVAL, missing[i].msg);
        free(sa);
    }
    sa = service_account("project_id");
    c.service_account_json = sa;
    c.project_id = "other-project"; /* the account's own fields stand in */
    expect_new(&c, 0, NULL);
    free(sa);
    c.project_id = NULL;

    c.service_account_json = "{\"client_email\": ";
    expect_new(&c, CR_EINVAL, "FCM account 'android': the service account is not a JSON object");
    c.service_account_json = NULL;
    expect_new(&c, CR_EINVAL, "FCM account 'android': service_account_json is missing");

    sa = service_account("");
    c.service_account_json = sa;
    c.token_url = "http://127.0.0.1/token";
    expect_new(&c, CR_EINVAL, "token url 'http://127.0.0.1/token' must be https://");
    c.token_url = NULL;
    free(sa);

    json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "project_id", "p", "private_key", ec_pem,
                          "client_email", "a@b", "token_uri", "https://x/token");
    sa = json_dumps(j, 0);
    json_decref(j);
    c.service_account_json = sa;
    expect_new(&c, CR_EINVAL,
               "FCM account 'android': the service account's private_key has "
               "type EC, not RSA (RS256)");
    free(sa);

    c = (struct cr_push_config){.service = (enum cr_push_service)7, .name = "x"};
    expect_new(&c, CR_EINVAL, "push account 'x': unknown service 7");
    cr_push_transport_free(NULL);
}

int test_transport_config_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apns_config),
        cmocka_unit_test(test_ca_file_content),
        cmocka_unit_test(test_fcm_config),
    };
    return cmocka_run_group_tests_name("transport_config", tests, setup, teardown);
}
