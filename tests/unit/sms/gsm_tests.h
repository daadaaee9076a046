/* gsm_tests.h - the two test groups of test_gsm and what they share */
#ifndef SMS_GSM_TESTS_H
#define SMS_GSM_TESTS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "channel/sms/gsm.h"
#include "core/buf.h"

extern const char sms_alphabet[];  /* TS 23.038 §6.2.1 in code order, ESC left out */
extern const char sms_extension[]; /* TS 23.038 §6.2.1.1 in code order */

/* Appends n copies of s. */
void sms_rep(struct cr_buf *b, const char *s, size_t n);
/* Encodes b's text, checking cr_sms_count() gives the same coding, parts and units. */
void sms_encode_ok(const struct cr_buf *b, unsigned ref, struct cr_sms *s);
/* Checks the UDH 05 00 03 REF TOTAL SEQ on every part, numbered from 1. */
void sms_check_udh(const struct cr_sms *s, unsigned ref);
/* Decodes every part (after its UDH) and checks the whole gives back text. */
void sms_check_round_trip(const struct cr_sms *s, const char *text, size_t len);

int run_gsm_encode_tests(void);
int run_gsm_wire_tests(void);

#endif
