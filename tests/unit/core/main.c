/* main.c - runs every core test group; fails if any group fails */
#include "tests.h"

int main(void)
{
    int failed = 0;
    failed += run_buf_tests();
    failed += run_datetime_tests();
    failed += run_csv_tests();
    failed += run_misc_tests();
    return failed ? 1 : 0;
}
