/* tests.h - the test groups of test_core (one per source file) */
#ifndef CORE_TESTS_H
#define CORE_TESTS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

int run_buf_tests(void);
int run_datetime_tests(void);
int run_csv_tests(void);
int run_misc_tests(void);

#endif
