/* main.c - runs every cron test group; fails if any group fails */
#include "tests.h"

int main(void)
{
    int failed = 0;
    failed += run_parse_tests();
    failed += run_next_tests();
    failed += run_tz_tests();
    return failed ? 1 : 0;
}
