/* selftest.c - `clnet selftest`: every op and kernel variant on a device against
 * the plain C reference; prints a table and exits non-zero on any failure. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int clnet_cli_selftest(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return clnet_cli_error("selftest", "no ops registered");
}
