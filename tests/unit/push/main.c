/* main.c - runs the push unit tests' groups (one executable for the subsystem) */
#include "tests.h"

int main(void)
{
    int failed = 0;
    failed += test_jwt_run();
    failed += test_transport_config_run();
    return failed ? 1 : 0;
}
