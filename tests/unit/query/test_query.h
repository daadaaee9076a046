/*
 * test_query.h - what the filter language's test files share: an in-memory catalogue with
 * custom columns, the fixed clock, and the test lists each file contributes to main()
 */
#ifndef TEST_QUERY_H
#define TEST_QUERY_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "query/query.h"

/* 2026-03-15 12:00:00 UTC: every test's now(). */
#define TQ_NOW_TEXT "2026-03-15T12:00:00Z"
cr_time_t tq_now(void);
struct cr_clock *tq_clock(void);

/* The built-in columns of both dimensions plus the custom ones the tests add:
 * profile loyalty_points integer, score real, vip_since date, last_login timestamp,
 * newsletter boolean, nickname text; subscription app_version text. */
const struct cr_query_catalog *tq_catalog(enum cr_dialect d);

/* Compiles for the catalogue; returns the compile's code and fills q (release it). */
int tq_compile(enum cr_dialect d, enum cr_query_dimension dim, const char *src, struct cr_query *q,
               struct cr_err *err);
/* Adds the custom columns and a dozen profiles with subscriptions, lists, deliveries and
 * tracking (test_query_backends.c). */
struct cr_store;
void tq_seed(struct cr_store *s);

/* The formatted error of a filter that must fail, in a static buffer. */
const char *tq_error(const char *src);

extern const struct CMUnitTest tq_compile_tests[];
extern const size_t tq_compile_ntests;
extern const struct CMUnitTest tq_backend_tests[];
extern const size_t tq_backend_ntests;
extern const struct CMUnitTest tq_cli_tests[];
extern const size_t tq_cli_ntests;

#endif
