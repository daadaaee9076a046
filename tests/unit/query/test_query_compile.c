/*
 * test_query_compile.c - the filter compiler without a database: tokens, precedence, types,
 * folding, the SQL and parameters per dialect, limits, errors with positions
 */
#include "test_query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/casefold.h"
#include "query/query_int.h"

/* The parse tree of src as an S-expression (names unresolved), or "!" + the error. */
static const char *tree(const char *src)
{
    static char out[4096];
    struct cr__qctx q;
    struct node *root = NULL;
    struct cr_buf b = CR_BUF_INIT(0);
    memset(&q, 0, sizeof q);
    q.src = src;
    q.len = strlen(src);
    q.max_depth = CR_QUERY_DEFAULT_MAX_DEPTH;
    q.max_params = CR_QUERY_DEFAULT_MAX_PARAMS;
    if (cr__parse(&q, &root))
        snprintf(out, sizeof out, "!%d:%d: %s", q.err.line, q.err.col, q.err.msg);
    else {
        cr__node_dump(root, &b);
        snprintf(out, sizeof out, "%s", b.data);
    }
    cr_buf_release(&b);
    cr__arena_release(&q.arena);
    return out;
}

static void test_precedence(void **state)
{
    (void)state;
    assert_string_equal(tree("a or b and c"), "(or a (and b c))");
    assert_string_equal(tree("a and b or c"), "(or (and a b) c)");
    assert_string_equal(tree("not a = b"), "(not (= a b))");
    assert_string_equal(tree("not a and b"), "(and (not a) b)");
    assert_string_equal(tree("not not a"), "(not (not a))");
    assert_string_equal(tree("a + b * c = d"), "(= (+ a (* b c)) d)");
    assert_string_equal(tree("-a * b"), "(* (neg a) b)");
    assert_string_equal(tree("a - b - c"), "(- (- a b) c)");
    assert_string_equal(tree("a / b / c"), "(/ (/ a b) c)");
    assert_string_equal(tree("a - (b - c)"), "(- a (- b c))");
    assert_string_equal(tree("x between 1 and 2 and y"), "(and (between x 1 2) y)");
    assert_string_equal(tree("x not between 1 + 1 and 2 * 3"), "(not-between x (+ 1 1) (* 2 3))");
    assert_string_equal(tree("a or b or c or d"), "(or a b c d)");
    assert_string_equal(tree("(a or b) or (c or d)"), "(or a b c d)");
    assert_string_equal(tree("a and (b or c) and d"), "(and a (or b c) d)");
    assert_string_equal(tree("x not in (1, 2)"), "(not-in x 1 2)");
    assert_string_equal(tree("x in (1)"), "(in x 1)");
    assert_string_equal(tree("x is not null and y is null"), "(and (is-not-null x) (is-null y))");
    assert_string_equal(tree("x not like 'a%' or x ilike y"), "(or (not-like x 'a%') (ilike x y))");
    assert_string_equal(tree("a <> b or a != b"), "(or (!= a b) (!= a b))");
    assert_string_equal(tree("a <= b and a >= b and a < b and a > b"),
                        "(and (<= a b) (>= a b) (< a b) (> a b))");
    assert_string_equal(tree("f(a, b + 1)"), "(f a (+ b 1))");
    assert_string_equal(tree("now()"), "(now)");
    assert_string_equal(tree("not x in (1) = y"), "!1:14: comparisons do not chain (use 'and': "
                                                  "a < b and b < c)");
    assert_string_equal(tree("+a"), "a");
}

static void test_tokens(void **state)
{
    (void)state;
    assert_string_equal(tree("TIER AND Email"), "(and tier email)");
    assert_string_equal(tree("\"Tier\""), "Tier");
    assert_string_equal(tree("\"we\"\"ird\""), "we\"ird");
    assert_string_equal(tree("profile.tier"), "profile.tier");
    assert_string_equal(tree("\"profile\" . \"tier\""), "profile.tier");
    assert_string_equal(tree("'it''s'"), "'it''s'");
    assert_string_equal(tree("'a\\b'"), "'a\\b'");
    assert_string_equal(tree("''"), "''");
    assert_string_equal(tree("'multi\nline'"), "'multi\nline'");
    assert_string_equal(tree("42"), "42");
    assert_string_equal(tree("9223372036854775807"), "9223372036854775807");
    assert_string_equal(tree("1.5"), "1.5");
    assert_string_equal(tree(".5"), "0.5");
    assert_string_equal(tree("30d"), "30d");
    assert_string_equal(tree("12H"), "12h");
    assert_string_equal(tree("1d12h"), "1d12h");
    assert_string_equal(tree("2w"), "14d");
    assert_string_equal(tree("interval '2 hours 30 minutes'"), "2h30m");
    assert_string_equal(tree("date '2026-01-31'"), "date:2026-01-31");
    assert_string_equal(tree("DATE '2026-01-31'"), "date:2026-01-31");
    assert_string_equal(tree("timestamp '2026-01-31T10:00:00+02:00'"), "ts:2026-01-31 08:00:00");
    assert_string_equal(tree("timestamp '2026-01-31 10:00:00.25'"), "ts:2026-01-31 10:00:00.25");
    assert_string_equal(tree("true or false or null"), "(or true false null)");
    assert_string_equal(tree("a\r\n=\tb"), "(= a b)");
    assert_string_equal(tree("--5"), "(neg (neg 5))");
}

static void test_syntax_errors(void **state)
{
    (void)state;
    assert_string_equal(tree(""), "!1:1: empty filter (write a condition, e.g. tier = 'gold')");
    assert_string_equal(tree("   \n "), "!2:2: empty filter (write a condition, e.g. tier = "
                                        "'gold')");
    assert_string_equal(tree("tier = 'gold"), "!1:8: unterminated string (no closing ')");
    assert_string_equal(tree("\"tier = 1"), "!1:1: unterminated quoted name (no closing \")");
    assert_string_equal(tree("\"\" = 1"), "!1:1: empty quoted name");
    assert_string_equal(tree("tier = 'a';"),
                        "!1:11: unexpected character ';' (a filter is a single expression)");
    assert_string_equal(tree("a == b"), "!1:3: '==' is not an operator (use '=')");
    assert_string_equal(tree("a && b"), "!1:3: unexpected character '&' (use 'and')");
    assert_string_equal(tree("a || b"), "!1:3: unexpected character '|' (use 'or')");
    assert_string_equal(tree("!a"), "!1:1: '!' is not an operator (use 'not', or '!=' to "
                                    "compare)");
    assert_string_equal(tree("a = ?"), "!1:5: unexpected character '?' (write values in the "
                                       "filter itself)");
    assert_string_equal(tree("prénom = 'x'"), "!1:3: unexpected character 'é' (names are "
                                              "ASCII; text goes in single quotes)");
    assert_string_equal(tree("a = 30x"), "!1:5: bad duration '30x' (units: s, m, h, d, w, as "
                                         "in 30d or 1d12h; months and years vary in length)");
    assert_string_equal(tree("a = 1.2.3"), "!1:5: bad number '1.2.3'");
    assert_string_equal(tree("a = 99999999999999999999"),
                        "!1:5: integer 99999999999999999999 is out of range (at most "
                        "9223372036854775807)");
    assert_string_equal(tree("a = (1"), "!1:7: ')' expected (to close '(' at 1:5; found the "
                                        "end of the filter)");
    assert_string_equal(tree("a = 1)"), "!1:6: unexpected ')' (no '(' to close)");
    assert_string_equal(tree("a ="), "!1:4: a value, a name or '(' expected (found the end of "
                                     "the filter)");
    assert_string_equal(tree("a = 1 b"), "!1:7: unexpected 'b' (expected 'and', 'or' or the "
                                         "end of the filter)");
    assert_string_equal(tree("a = 1 adn b = 2"), "!1:7: unexpected 'adn' (did you mean 'and'?)");
    assert_string_equal(tree("a > now() - 30 days"),
                        "!1:16: unexpected 'days' (durations are written 30d, 12h, or interval "
                        "'30 days')");
    assert_string_equal(tree("a < b < c"), "!1:7: comparisons do not chain (use 'and': a < b "
                                           "and b < c)");
    assert_string_equal(tree("a in 'x'"), "!1:6: '(' expected after 'in' (found string 'x'; "
                                          "write country in ('FR', 'BE'))");
    assert_string_equal(tree("a in ()"), "!1:7: empty list after 'in'");
    assert_string_equal(tree("a between 1"), "!1:12: 'and' expected in 'between ... and ...' "
                                             "(found the end of the filter)");
    assert_string_equal(tree("a is 1"), "!1:6: 'null' expected after 'is' (found '1')");
    assert_string_equal(tree("a not b"), "!1:3: unexpected 'not' (write 'not' before a "
                                         "condition, or use not in, not like, not between, is "
                                         "not null)");
    assert_string_equal(tree("date 5"), "!1:6: string expected after 'date' (found '5'; write "
                                        "date '2026-01-31')");
    assert_string_equal(tree("date '2026-02-30'"), "!1:6: bad date '2026-02-30' (no such day)");
    assert_string_equal(tree("date '0000-01-01'"),
                        "!1:6: date '0000-01-01' is out of range (years 1 to 9999)");
    assert_string_equal(tree("interval '1 month'"),
                        "!1:10: bad duration '1 month' (months and years vary in length; use "
                        "days or a date)");
    assert_string_equal(tree("interval '9999999 weeks'"),
                        "!1:10: duration '9999999 weeks' is out of range (at most 999999 of a "
                        "unit)");
    assert_string_equal(tree("f(a b)"), "!1:5: ',' or ')' expected in the arguments of f "
                                        "(opened at 1:2; found 'b')");
    assert_string_equal(tree("a.1"), "!1:2: unexpected '.1' (expected 'and', 'or' or the end "
                                     "of the filter)");
    assert_string_equal(tree("a. = 1"), "!1:4: a column name expected after '.' (found '=')");
    /* no comments: -- is two minus signs */
    assert_string_equal(tree("tier = 'gold' -- comment"), "(= tier (- 'gold' (neg comment)))");
    assert_string_equal(tree("tier = 'x' /* c */"), "!1:13: a value, a name or '(' expected "
                                                    "(found '*')");
    /* positions count characters, lines count \n, \r\n and \r */
    assert_string_equal(tree("'é' = 'ü' +\n  ;"), "!2:3: unexpected character ';' (a filter "
                                                  "is a single expression)");
    assert_string_equal(tree("a\r\nb"), "!2:1: unexpected 'b' (expected 'and', 'or' or the end "
                                        "of the filter)");
    assert_string_equal(tree("a\rb"), "!2:1: unexpected 'b' (expected 'and', 'or' or the end of "
                                      "the filter)");
}

static void test_bad_bytes(void **state)
{
    struct cr_query q = CR_QUERY_INIT;
    struct cr_err err = CR_ERR_INIT;
    struct cr_query_opts o = {0};
    static const char nul[] = "tier = 'a\0b'";
    static const char bad[] = "tier = 'a\xff'";
    (void)state;
    assert_int_equal(
        cr_query_compile(tq_catalog(CR_DIALECT_SQLITE), nul, sizeof nul - 1, &o, &q, &err),
        CR_ESYNTAX);
    assert_string_equal(err.msg, "NUL byte in the filter");
    assert_int_equal(err.col, 10);
    assert_null(q.where);
    cr_err_clear(&err);
    assert_int_equal(
        cr_query_compile(tq_catalog(CR_DIALECT_SQLITE), bad, sizeof bad - 1, &o, &q, &err),
        CR_ESYNTAX);
    assert_string_equal(err.msg, "invalid UTF-8 in the filter (byte 0xff)");
    assert_int_equal(err.col, 10);
}

/* The SQL and parameters of src on both dialects. */
static void expect_sql(const char *src, const char *sqlite, const char *pg)
{
    struct cr_query q = CR_QUERY_INIT;
    struct cr_err err = CR_ERR_INIT;
    struct cr_buf b = CR_BUF_INIT(0);
    if (tq_compile(CR_DIALECT_SQLITE, CR_QUERY_PROFILE, src, &q, &err))
        fail_msg("%s: %d:%d: %s", src, err.line, err.col, err.msg);
    cr_query_describe(&q, tq_now(), &b);
    if (strcmp(b.data, sqlite) != 0)
        fail_msg("%s (sqlite):\n got: %s\nwant: %s", src, b.data, sqlite);
    cr_query_release(&q);
    cr_buf_reset(&b);
    if (pg) {
        if (tq_compile(CR_DIALECT_POSTGRES, CR_QUERY_PROFILE, src, &q, &err))
            fail_msg("%s: %d:%d: %s", src, err.line, err.col, err.msg);
        cr_query_describe(&q, tq_now(), &b);
        if (strcmp(b.data, pg) != 0)
            fail_msg("%s (postgres):\n got: %s\nwant: %s", src, b.data, pg);
        cr_query_release(&q);
    }
    cr_buf_release(&b);
}

static void test_sql(void **state)
{
    (void)state;
    expect_sql("tier = 'gold'", "(p.\"tier\" = ?)\n-- ?1 text 'gold'",
               "(p.\"tier\" = CAST(? AS text))\n-- ?1 text 'gold'");
    expect_sql("email_optout", "(p.\"email_optout\")", "(p.\"email_optout\")");
    expect_sql("tier = 'a' or tier = 'b' or tier = 'c'",
               "((p.\"tier\" = ?) OR (p.\"tier\" = ?) OR (p.\"tier\" = ?))\n-- ?1 text "
               "'a'\n-- ?2 text 'b'\n-- ?3 text 'c'",
               NULL);
    expect_sql("null", "(?)\n-- ?1 null null", "(CAST(? AS boolean))\n-- ?1 null null");
    expect_sql("not email_optout and (score * 2 > 1 or -score < 0)",
               "((NOT p.\"email_optout\") AND (((p.\"score\" * ?) > ?) OR ((-(p.\"score\")) < "
               "?)))\n-- ?1 integer 2\n-- ?2 integer 1\n-- ?3 integer 0",
               NULL);
}

static void test_folding(void **state)
{
    (void)state;
    /* now() - 30d is one clock-relative parameter, so the column meets a plain value. */
    expect_sql("created_at > now() - 30d",
               "(p.\"created_at\" > ?)\n-- ?1 timestamp '2026-02-13 12:00:00' (now() - 30d)",
               "(p.\"created_at\" > CAST(? AS timestamp))\n-- ?1 timestamp '2026-02-13 "
               "12:00:00' (now() - 30d)");
    expect_sql("birth_date <= today() - 7",
               "(p.\"birth_date\" <= ?)\n-- ?1 date '2026-03-08' "
               "(today() - 7)",
               NULL);
    expect_sql("created_at >= today()",
               "(p.\"created_at\" >= ?)\n-- ?1 timestamp '2026-03-15 00:00:00' (today())", NULL);
    expect_sql("created_at > date '2026-01-01' + 12h",
               "(p.\"created_at\" > ?)\n-- ?1 timestamp '2026-01-01 12:00:00'", NULL);
    expect_sql("created_at < '2026-01-01'",
               "(p.\"created_at\" < ?)\n-- ?1 timestamp '2026-01-01 00:00:00'", NULL);
    expect_sql("birth_date = '2000-02-29'", "(p.\"birth_date\" = ?)\n-- ?1 date '2000-02-29'",
               NULL);
    expect_sql("loyalty_points > -5", "(p.\"loyalty_points\" > ?)\n-- ?1 integer -5", NULL);
    expect_sql("1d - 2h = 22h", "(? = ?)\n-- ?1 interval '22h'\n-- ?2 interval '22h'",
               "(CAST(? AS interval) = CAST(? AS interval))\n-- ?1 interval '22h'\n-- ?2 "
               "interval '22h'");
    expect_sql("date '2026-03-15' - date '2026-01-01' = 73",
               "(? = ?)\n-- ?1 integer 73\n-- ?2 integer 73", NULL);
    expect_sql("today() - date '2026-01-01' = 73",
               "(cr_date_diff(?, ?) = ?)\n-- ?1 date '2026-03-15' (today())\n-- ?2 date "
               "'2026-01-01'\n-- ?3 integer 73",
               "((CAST(? AS date) - CAST(? AS date)) = CAST(? AS bigint))\n-- ?1 date "
               "'2026-03-15' (today())\n-- ?2 date '2026-01-01'\n-- ?3 integer 73");
    /* not folded: a column, or two different clocks */
    expect_sql("last_login + 1h > now()",
               "(cr_ts_add(p.\"last_login\", (?)) > ?)\n-- ?1 interval '1h'\n-- ?2 timestamp "
               "'2026-03-15 12:00:00' (now())",
               "((p.\"last_login\" + CAST(? AS interval)) > CAST(? AS timestamp))\n-- ?1 "
               "interval '1h'\n-- ?2 timestamp '2026-03-15 12:00:00' (now())");
    expect_sql("vip_since < created_at", "((p.\"vip_since\" || ' 00:00:00') < p.\"created_at\")",
               "(CAST(p.\"vip_since\" AS timestamp) < p.\"created_at\")");
}

static void test_backend_sql(void **state)
{
    (void)state;
    expect_sql("email like 'a%b_c\\%d*e'", "(p.\"email\" GLOB ?)\n-- ?1 text 'a*b?c%d[*]e'",
               "(p.\"email\" LIKE CAST(? AS text))\n-- ?1 text 'a%b_c\\%d*e'");
    expect_sql("email not like '[x]?'", "(NOT (p.\"email\" GLOB ?))\n-- ?1 text '[[]x][?]'",
               "(p.\"email\" NOT LIKE CAST(? AS text))\n-- ?1 text '[x]?'");
    expect_sql("first_name ilike 'ÉMILE%'", "(cr_ilike(p.\"first_name\", ?))\n-- ?1 text 'émile%'",
               NULL);
    expect_sql("age(birth_date) between 18 and 25 or 30 <= age(birth_date) or age(vip_since) "
               "= 1",
               "((p.\"birth_date\" <= ? AND p.\"birth_date\" > ?) OR (p.\"birth_date\" <= ?) OR "
               "(p.\"vip_since\" <= ? AND p.\"vip_since\" > ?))\n"
               "-- ?1 date '2008-03-15' (today() - 18 years)\n"
               "-- ?2 date '2000-03-15' (today() - 26 years)\n"
               "-- ?3 date '1996-03-15' (today() - 30 years)\n"
               "-- ?4 date '2025-03-15' (today() - 1 years)\n"
               "-- ?5 date '2024-03-15' (today() - 2 years)",
               NULL);
    expect_sql("email like nickname", "(cr_like(p.\"email\", p.\"nickname\"))", NULL);
    expect_sql("loyalty_points / 2 > 1",
               "((p.\"loyalty_points\" / NULLIF(?, 0)) > ?)\n-- ?1 integer 2\n-- ?2 integer 1",
               "((p.\"loyalty_points\" / NULLIF(CAST(? AS bigint), 0)) > CAST(? AS bigint))\n-- "
               "?1 integer 2\n-- ?2 integer 1");
    expect_sql("tier < 'b'", "(p.\"tier\" < ?)\n-- ?1 text 'b'",
               "(p.\"tier\" COLLATE \"C\" < CAST(? AS text))\n-- ?1 text 'b'");
    expect_sql("year(birth_date) = 2000",
               "(CAST(substr(p.\"birth_date\", 1, 4) AS INTEGER) = ?)\n-- ?1 integer 2000",
               "(CAST(EXTRACT(YEAR FROM p.\"birth_date\") AS bigint) = CAST(? AS bigint))\n-- "
               "?1 integer 2000");
    expect_sql("age(birth_date) >= 18", /* SQLite: a bound, PostgreSQL: age() */
               "(p.\"birth_date\" <= ?)\n-- ?1 date '2008-03-15' (today() - 18 years)",
               "(CAST(date_part('year', age(CAST(? AS date), p.\"birth_date\")) AS bigint) >= "
               "CAST(? AS bigint))\n-- ?1 date '2026-03-15' (today())\n-- ?2 integer 18");
    expect_sql("opened(7)",
               "(p.id IN (SELECT cr_tl.profile_id FROM tracking_log cr_tl WHERE "
               "cr_tl.delivery_id = ? AND cr_tl.kind IN ('open', 'click') AND "
               "cr_tl.profile_id IS NOT NULL))\n-- ?1 integer 7",
               NULL);
    expect_sql("coalesce(loyalty_points, score, 0) > 1",
               "(coalesce(CAST(p.\"loyalty_points\" AS REAL), p.\"score\", ?) > ?)\n-- ?1 real "
               "0\n-- ?2 integer 1",
               "(coalesce(CAST(p.\"loyalty_points\" AS double precision), p.\"score\", CAST(? AS "
               "double precision)) > CAST(? AS bigint))\n-- ?1 real 0\n-- ?2 integer 1");
}

static void test_injection_stays_literal(void **state)
{
    static const char *const attacks[] = {
        "tier = 'x'' OR 1=1 --'",
        "tier = 'x''); DROP TABLE profile; --'",
        "tier = '/* */ ; select 1'",
        "\"tier\" = '\"tier\"'",
        "tier in ('a'';--', 'b\"c')",
        "tier like '%''%'",
        "in_list('x''); DELETE FROM list; --')",
        "clicked(1, ''' OR 1=1')",
    };
    (void)state;
    for (size_t i = 0; i < sizeof attacks / sizeof *attacks; i++) {
        for (int d = 0; d < 2; d++) {
            struct cr_query q = CR_QUERY_INIT;
            struct cr_err err = CR_ERR_INIT;
            if (tq_compile((enum cr_dialect)d, CR_QUERY_PROFILE, attacks[i], &q, &err))
                fail_msg("%s: %s", attacks[i], err.msg);
            /* Nothing of the user's text reaches the SQL: no quote of theirs, no comment, no
             * statement separator, no keyword they wrote. */
            assert_null(strstr(q.where, "--"));
            assert_null(strstr(q.where, "/*"));
            assert_null(strchr(q.where, ';'));
            assert_null(strstr(q.where, "DROP"));
            assert_null(strstr(q.where, "DELETE"));
            assert_null(strstr(q.where, "1=1"));
            assert_null(strstr(q.where, "OR 1"));
            assert_true(q.nparams >= 1);
            cr_query_release(&q);
        }
    }
    /* backslashes escape nothing, so these end the string early and fail to parse */
    assert_string_equal(tq_error("tier = 'x\\'' or 'a' = 'a'"),
                        "1:18: unexpected 'a' (expected 'and', 'or' or the end of the filter)\n"
                        "  tier = 'x\\'' or 'a' = 'a'\n"
                        "                   ^");
    assert_string_equal(tq_error("tier = '\\'' or email = '\\\\'"),
                        "1:25: unexpected character '\\'\n"
                        "  tier = '\\'' or email = '\\\\'\n"
                        "                          ^");
    /* quoted names are names: a column that does not exist */
    assert_string_equal(tq_error("\"tier\"\"; drop table profile; --\" = 1"),
                        "1:1: unknown column 'tier\"; drop table profile; --'\n"
                        "  \"tier\"\"; drop table profile; --\" = 1\n"
                        "  ^");
}

static char *repeat(const char *head, const char *unit, int n, const char *tail)
{
    struct cr_buf b = CR_BUF_INIT(0);
    cr_buf_puts(&b, head);
    for (int i = 0; i < n; i++)
        cr_buf_puts(&b, unit);
    cr_buf_puts(&b, tail);
    return cr_buf_detach(&b, NULL);
}

static void expect_too_deep(const char *src)
{
    struct cr_query q = CR_QUERY_INIT;
    struct cr_err err = CR_ERR_INIT;
    if (tq_compile(CR_DIALECT_SQLITE, CR_QUERY_PROFILE, src, &q, &err) != CR_ETOOBIG ||
        !strstr(err.msg, "nested too deeply"))
        fail_msg("%.60s...: %d %s", src, err.code, err.msg);
    assert_true(err.line == 1 && err.col > 0);
}

static void test_limits(void **state)
{
    struct cr_query q = CR_QUERY_INIT;
    struct cr_err err = CR_ERR_INIT;
    struct cr_query_opts o = {0};
    char *s;
    (void)state;
    /* 200000 parentheses, nots, minus signs: an error, not a stack overflow */
    s = repeat("", "(", 200000, "true");
    expect_too_deep(s);
    free(s);
    s = repeat("", "not ", 60000, "true");
    expect_too_deep(s);
    free(s);
    s = repeat("loyalty_points = ", "-", 200000, "1");
    expect_too_deep(s);
    free(s);
    s = repeat("loyalty_points = 1", " + 1", 150, "");
    expect_too_deep(s);
    free(s);
    s = repeat("coalesce(loyalty_points, ", "coalesce(loyalty_points, ", 120, "1");
    expect_too_deep(s);
    free(s);
    /* 99 levels of parentheses are fine */
    s = repeat("", "(", 98, "true");
    {
        char *t = repeat(s, ")", 98, "");
        assert_int_equal(tq_compile(CR_DIALECT_SQLITE, CR_QUERY_PROFILE, t, &q, &err), 0);
        cr_query_release(&q);
        free(t);
    }
    free(s);
    /* wide is fine: 5000 conditions chained by or are one node */
    s = repeat("tier = 'x'", " or tier = 'y'", 5000, "");
    assert_int_equal(tq_compile(CR_DIALECT_POSTGRES, CR_QUERY_PROFILE, s, &q, &err), 0);
    assert_int_equal(q.nparams, 5001);
    cr_query_release(&q);
    free(s);
    /* too many values */
    s = repeat("loyalty_points in (0", ", 1", 20000, ")");
    assert_int_equal(tq_compile(CR_DIALECT_SQLITE, CR_QUERY_PROFILE, s, &q, &err), CR_ETOOBIG);
    assert_non_null(strstr(err.msg, "too many values in the filter (more than 20000)"));
    free(s);
    /* long input */
    cr_err_clear(&err);
    s = repeat("tier = '", "x", 300000, "'");
    assert_int_equal(tq_compile(CR_DIALECT_SQLITE, CR_QUERY_PROFILE, s, &q, &err), CR_ETOOBIG);
    assert_string_equal(err.msg, "filter is too long (300009 bytes, at most 262144)");
    free(s);
    cr_err_clear(&err);
    s = repeat("tier = '", "x", 70000, "'");
    assert_int_equal(tq_compile(CR_DIALECT_SQLITE, CR_QUERY_PROFILE, s, &q, &err), CR_ETOOBIG);
    assert_string_equal(err.msg, "string is too long (more than 65536 bytes)");
    free(s);
    /* limits are configurable */
    cr_err_clear(&err);
    o.max_depth = 3;
    o.max_source = 10;
    assert_int_equal(cr_query_compile(tq_catalog(CR_DIALECT_SQLITE), "((true))", 8, &o, &q, &err),
                     0);
    cr_query_release(&q);
    assert_int_equal(
        cr_query_compile(tq_catalog(CR_DIALECT_SQLITE), "(((true)))", 10, &o, &q, &err),
        CR_ETOOBIG);
    cr_err_clear(&err);
    assert_int_equal(
        cr_query_compile(tq_catalog(CR_DIALECT_SQLITE), "true or false", 13, &o, &q, &err),
        CR_ETOOBIG);
}

static void test_error_display(void **state)
{
    (void)state;
    assert_string_equal(tq_error("teir = 'gold'"),
                        "1:1: unknown column 'teir' (did you mean 'tier'?)\n"
                        "  teir = 'gold'\n"
                        "  ^");
    assert_string_equal(tq_error("tier = 'gold'\n  and\tbirth_date > 3"),
                        "2:18: cannot compare date with integer (write date '2026-01-31', or "
                        "compare year(...), month(...), day(...))\n"
                        "    and\tbirth_date > 3\n"
                        "       \t           ^");
    assert_string_equal(tq_error("first_name = 'Zoé' and last_name = 'Émond' and lowr(x)"),
                        "1:48: unknown function 'lowr' (did you mean 'lower'?)\n"
                        "  first_name = 'Zoé' and last_name = 'Émond' and lowr(x)\n"
                        "                                                 ^");
    assert_string_equal(tq_error("tier = 'gold' and"),
                        "1:18: a value, a name or '(' expected (found the end of the filter)\n"
                        "  tier = 'gold' and\n"
                        "                   ^");
    {
        /* a long line is shown around the column */
        char *s = repeat("tier = 'x'", " or tier = 'x'", 20, " or bogus = 1");
        const char *e = tq_error(s);
        if (!strstr(e, "1:295: unknown column 'bogus'"))
            fail_msg("%s", e);
        assert_non_null(strstr(e, "\n  ..."));
        {
            char caret[64];
            snprintf(caret, sizeof caret, "\n%55s^", "");
            assert_non_null(strstr(e, caret));
        }
        free(s);
    }
}

static void test_type_errors(void **state)
{
    (void)state;
    assert_string_equal(tq_error("tier = 3"),
                        "1:6: cannot compare text with integer (numbers are written without "
                        "quotes)\n  tier = 3\n       ^");
    assert_string_equal(tq_error("loyalty_points = '3'"),
                        "1:16: cannot compare integer with text (numbers are written without "
                        "quotes)\n  loyalty_points = '3'\n                 ^");
    assert_string_equal(tq_error("tier = gold"),
                        "1:8: unknown column 'gold' (text goes in single quotes: 'gold')\n"
                        "  tier = gold\n         ^");
    assert_string_equal(tq_error("tier = \"gold\""),
                        "1:8: unknown column 'gold'\n  tier = \"gold\"\n         ^");
    assert_string_equal(tq_error("tier"), "1:1: the filter must be a condition, not a text value "
                                          "(as in tier = 'gold')\n  tier\n  ^");
    assert_string_equal(tq_error("tier = 'a' or 'b'"),
                        "1:15: condition expected after 'or' (found a text value)\n"
                        "  tier = 'a' or 'b'\n                ^");
    assert_string_equal(tq_error("not tier"),
                        "1:5: condition expected after 'not' (found a text)\n  not tier\n      ^");
    assert_string_equal(tq_error("birth_date like '2000%'"),
                        "1:12: like compares text (found date) (compare dates with < and >, or "
                        "use year(), month())\n  birth_date like '2000%'\n             ^");
    assert_string_equal(tq_error("email like 'a\\'"),
                        "1:12: like pattern ends with an escape '\\' (write '\\\\' for a "
                        "backslash)\n  email like 'a\\'\n             ^");
    assert_string_equal(tq_error("created_at > now() - 30"),
                        "1:20: cannot subtract integer from timestamp (add a duration: 3d, "
                        "interval '3 days')\n  created_at > now() - 30\n                     ^");
    assert_string_equal(tq_error("tier + 1 = 2"),
                        "1:6: cannot add text and integer (text has no arithmetic)\n"
                        "  tier + 1 = 2\n       ^");
    assert_string_equal(tq_error("30d * 2 > 1d"),
                        "1:5: cannot multiply interval by integer (durations are only added "
                        "and subtracted)\n  30d * 2 > 1d\n      ^");
    assert_string_equal(tq_error("email_optout < true"),
                        "1:14: '<' cannot order booleans (use = or !=)\n"
                        "  email_optout < true\n               ^");
    assert_string_equal(tq_error("lower(3) = 'x'"),
                        "1:7: lower takes text (found integer)\n  lower(3) = 'x'\n        ^");
    assert_string_equal(tq_error("lower() = 'x'"),
                        "1:1: lower takes 1 argument (found 0)\n  lower() = 'x'\n  ^");
    assert_string_equal(tq_error("coalesce(tier) = 'x'"),
                        "1:1: coalesce takes at least 2 arguments (found 1)\n"
                        "  coalesce(tier) = 'x'\n  ^");
    assert_string_equal(tq_error("subscribed('a', 'b', 'c')"),
                        "1:1: subscribed takes 1 or 2 arguments (found 3)\n"
                        "  subscribed('a', 'b', 'c')\n  ^");
    assert_string_equal(tq_error("tier(1)"), "1:1: 'tier' is a column, not a function\n"
                                             "  tier(1)\n  ^");
    assert_string_equal(tq_error("frobnicate(1)"), "1:1: unknown function 'frobnicate'\n"
                                                   "  frobnicate(1)\n  ^");
    assert_string_equal(tq_error("year(tier) = 1"),
                        "1:6: year takes a date (found text)\n  year(tier) = 1\n       ^");
    assert_string_equal(tq_error("age('1990-13-01') > 1"),
                        "1:5: bad date '1990-13-01' (no such day)\n"
                        "  age('1990-13-01') > 1\n      ^");
    assert_string_equal(tq_error("created_at > 'yesterday'"),
                        "1:14: bad timestamp 'yesterday' (expected "
                        "YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM])\n"
                        "  created_at > 'yesterday'\n               ^");
    assert_string_equal(tq_error("in_list(vip)"),
                        "1:9: in_list takes a list name in quotes, as in in_list('vip')\n"
                        "  in_list(vip)\n          ^");
    assert_string_equal(tq_error("subscribed('app', 'windows')"),
                        "1:19: platform must be 'ios' or 'android' (found 'windows')\n"
                        "  subscribed('app', 'windows')\n                    ^");
    assert_string_equal(tq_error("opened(offer)"),
                        "1:8: unknown delivery 'offer' (outside a workflow, give the delivery's "
                        "id, as in opened(42))\n  opened(offer)\n         ^");
    assert_string_equal(tq_error("opened(-3)"),
                        "1:8: delivery ids are positive (found -3)\n  opened(-3)\n         ^");
    assert_string_equal(tq_error("clicked(1, 2)"),
                        "1:12: clicked takes a link label or URL in quotes, as in clicked(42, "
                        "'offer')\n  clicked(1, 2)\n             ^");
    assert_string_equal(tq_error("app = 'x'"),
                        "1:1: 'app' is a subscription field (filter the subscription dimension, "
                        "or use subscribed('app'))\n  app = 'x'\n  ^");
    assert_string_equal(tq_error("subscription.app = 'x'"),
                        "1:1: subscription fields need the subscription dimension (on profiles, "
                        "use subscribed('app'))\n  subscription.app = 'x'\n  ^");
    assert_string_equal(tq_error("person.tier = 'x'"),
                        "1:1: unknown table 'person' (fields are name, profile.name or "
                        "subscription.name)\n  person.tier = 'x'\n  ^");
    assert_string_equal(tq_error("profile.teir = 'x'"),
                        "1:1: unknown column 'profile.teir' (did you mean 'tier'?)\n"
                        "  profile.teir = 'x'\n  ^");
    assert_string_equal(tq_error("\"Tier\" = 'x'"),
                        "1:1: unknown column 'Tier' (did you mean 'tier'?)\n"
                        "  \"Tier\" = 'x'\n  ^");
}

static int resolve_delivery(void *data, const char *name, int64_t *id, struct cr_err *err)
{
    (void)data;
    if (strcmp(name, "offer") == 0) {
        *id = 17;
        return 1;
    }
    if (strcmp(name, "broken") == 0)
        return cr_err_set(err, CR_ESTORE, "no database for 'broken'");
    return 0;
}

static void test_delivery_names(void **state)
{
    struct cr_query q = CR_QUERY_INIT;
    struct cr_err err = CR_ERR_INIT;
    struct cr_query_opts o = {0};
    const char *src = "opened(offer) and not clicked('offer', 'link') or sent(offre)";
    (void)state;
    o.delivery = resolve_delivery;
    assert_int_equal(
        cr_query_compile(tq_catalog(CR_DIALECT_SQLITE), src, strlen(src), &o, &q, &err), CR_EINVAL);
    assert_string_equal(err.msg, "unknown delivery 'offre'");
    assert_int_equal(err.col, 56);
    cr_err_clear(&err);
    src = "opened(offer) and not clicked('offer', 'link')";
    assert_int_equal(
        cr_query_compile(tq_catalog(CR_DIALECT_SQLITE), src, strlen(src), &o, &q, &err), 0);
    assert_int_equal(q.nparams, 5);
    assert_int_equal(q.params[0].i, 17);
    assert_int_equal(q.params[1].i, 17);
    assert_int_equal(q.params[2].i, 17);
    assert_string_equal(q.params[3].text, "link");
    cr_query_release(&q);
    src = "bounced(broken)";
    assert_int_equal(
        cr_query_compile(tq_catalog(CR_DIALECT_SQLITE), src, strlen(src), &o, &q, &err), CR_ESTORE);
    assert_string_equal(err.msg, "no database for 'broken'");
}

static void test_casefold(void **state)
{
    struct cr_buf b = CR_BUF_INIT(0), f = CR_BUF_INIT(0), t = CR_BUF_INIT(0);
    (void)state;
    cr_casefold("ÉLODIE Ørjan ΖΩΉ ЮЛИЯ Ÿ ĲSSEL ß İ ς \xff",
                strlen("ÉLODIE Ørjan ΖΩΉ ЮЛИЯ Ÿ ĲSSEL "
                       "ß İ ς \xff"),
                0, &b);
    assert_string_equal(b.data, "élodie ørjan ζωή юлия ÿ ĳssel ß İ ς \xff");
    cr_buf_reset(&b);
    cr_casefold("élodie ζωής ÿ ß", strlen("élodie ζωής ÿ ß"), 1, &b);
    assert_string_equal(b.data, "ÉLODIE ΖΩΉΣ Ÿ ß");
    assert_false(cr_casefold_changes("abc é", 6, 0));
    assert_true(cr_casefold_changes("abc É", 6, 0));
    /* every mapping goes both ways, and the translate() sets have equal lengths */
    for (uint32_t cp = 0; cp < 0x500; cp++) {
        uint32_t l = cr_casefold_cp(cp, 0);
        if (l != cp)
            assert_int_equal(cr_casefold_cp(l, 1), cp);
    }
    cr_casefold_sets(0, &f, &t);
    assert_int_equal(f.len, t.len);
    assert_null(strchr(f.data, '\''));
    cr_buf_release(&b);
    cr_buf_release(&f);
    cr_buf_release(&t);
}

#define T(fn) cmocka_unit_test(fn)
const struct CMUnitTest tq_compile_tests[] = {
    T(test_precedence),    T(test_tokens),
    T(test_syntax_errors), T(test_bad_bytes),
    T(test_sql),           T(test_folding),
    T(test_backend_sql),   T(test_injection_stays_literal),
    T(test_limits),        T(test_error_display),
    T(test_type_errors),   T(test_delivery_names),
    T(test_casefold),
};
const size_t tq_compile_ntests = sizeof tq_compile_tests / sizeof *tq_compile_tests;
