/* tests.h - the test groups of test_email (one per source file) and shared helpers */
#ifndef EMAIL_TESTS_H
#define EMAIL_TESTS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

int run_mime_tests(void);
int run_html_text_tests(void);
int run_dkim_tests(void);
int run_address_tests(void);

#endif
