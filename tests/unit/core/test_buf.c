/* test_buf.c - buffers: growth, limits, sticky errors, detach; error struct helpers */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "tests.h"

static void test_empty_needs_no_allocation(void **state)
{
    struct cr_buf b = CR_BUF_INIT(0);
    (void)state;
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    assert_int_equal(b.cap, 0);
    cr_buf_release(&b); /* no-op on an empty buffer */
    assert_int_equal(b.len, 0);
}

static void test_append_grow_printf(void **state)
{
    struct cr_buf b = CR_BUF_INIT(0);
    (void)state;
    for (int i = 0; i < 1000; i++)
        assert_int_equal(cr_buf_printf(&b, "%d,", i), 0);
    assert_true(b.len > 2000);
    assert_int_equal(b.data[b.len], '\0');
    assert_memory_equal(b.data, "0,1,2,", 6);
    cr_buf_truncate(&b, 3);
    assert_string_equal(b.data, "0,1");
    cr_buf_reset(&b);
    assert_string_equal(b.data, "");
    assert_int_equal(cr_buf_puts(&b, "héllo"), 0);
    assert_string_equal(b.data, "héllo");
    cr_buf_release(&b);
}

static void test_limit_is_sticky(void **state)
{
    struct cr_buf b = CR_BUF_INIT(8);
    (void)state;
    assert_int_equal(cr_buf_puts(&b, "12345678"), 0);
    assert_int_equal(cr_buf_putc(&b, '9'), CR_ETOOBIG);
    assert_int_equal(b.err, CR_ETOOBIG);
    /* later appends do nothing, even small ones */
    cr_buf_truncate(&b, 0);
    assert_int_equal(cr_buf_putc(&b, 'x'), CR_ETOOBIG);
    assert_null(cr_buf_detach(&b, NULL));
    cr_buf_release(&b);
}

static void test_detach(void **state)
{
    struct cr_buf b = CR_BUF_INIT(0);
    size_t n;
    char *p;
    (void)state;
    p = cr_buf_detach(&b, &n); /* an empty buffer detaches as an empty string */
    assert_string_equal(p, "");
    assert_int_equal(n, 0);
    free(p);
    cr_buf_puts(&b, "abc");
    p = cr_buf_detach(&b, &n);
    assert_string_equal(p, "abc");
    assert_int_equal(n, 3);
    assert_int_equal(b.len, 0);
    free(p);
}

static void test_err_first_wins_and_prefix(void **state)
{
    struct cr_err e = CR_ERR_INIT;
    (void)state;
    assert_int_equal(cr_err_at(&e, CR_ESYNTAX, 3, 7, "')' expected"), CR_ESYNTAX);
    assert_int_equal(cr_err_set(&e, CR_EIO, "later"), CR_EIO);
    assert_int_equal(e.code, CR_ESYNTAX);
    assert_int_equal(e.line, 3);
    assert_int_equal(e.col, 7);
    cr_err_prefix(&e, "line %d: ", 3);
    assert_string_equal(e.msg, "line 3: ')' expected");
    assert_string_equal(cr_errname(CR_ENOTFOUND), "NOTFOUND");
    assert_string_equal(cr_strerror(CR_ETOOBIG), "input exceeds its configured limit");
    cr_err_clear(&e);
    assert_int_equal(e.code, 0);
    assert_string_equal(cr_err_msg(&e), "success");
    /* a NULL err is allowed everywhere */
    assert_int_equal(cr_err_set(NULL, CR_EINVAL, "x"), CR_EINVAL);
}

static void test_err_prefix_keeps_within_size(void **state)
{
    struct cr_err e = CR_ERR_INIT;
    char big[600];
    (void)state;
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cr_err_set(&e, CR_EINVAL, "%s", big);
    cr_err_prefix(&e, "while importing: ");
    assert_int_equal(strlen(e.msg), sizeof e.msg - 1);
    assert_memory_equal(e.msg, "while importing: xxx", 20);
}

int run_buf_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_needs_no_allocation),
        cmocka_unit_test(test_append_grow_printf),
        cmocka_unit_test(test_limit_is_sticky),
        cmocka_unit_test(test_detach),
        cmocka_unit_test(test_err_first_wins_and_prefix),
        cmocka_unit_test(test_err_prefix_keeps_within_size),
    };
    return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
