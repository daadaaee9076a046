/* tests.h - the test groups of test_cron (one per source file) */
#ifndef CRON_TESTS_H
#define CRON_TESTS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

int run_parse_tests(void);
int run_next_tests(void);
int run_tz_tests(void);

#endif
