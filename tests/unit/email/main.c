/* main.c - runs every email test group; fails if any group fails */
#include "tests.h"

int main(void)
{
    int failed = 0;
    failed += run_mime_tests();
    failed += run_html_text_tests();
    failed += run_dkim_tests();
    failed += run_address_tests();
    return failed ? 1 : 0;
}
