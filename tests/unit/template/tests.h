/* tests.h - the test groups of test_template (one per source file) */
#ifndef TEMPLATE_TESTS_H
#define TEMPLATE_TESTS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

int run_api_tests(void);
int run_links_tests(void);
int run_cli_tests(void);

#endif
