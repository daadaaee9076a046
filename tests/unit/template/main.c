/* main.c - runs every template test group; fails if any group fails */
#include "tests.h"

int main(void)
{
    int failed = 0;
    failed += run_api_tests();
    failed += run_links_tests();
    failed += run_cli_tests();
    return failed ? 1 : 0;
}
