/* tempdir.c - see tempdir.h. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "support/tempdir.h"

char clnet_test_dir[64];

void clnet_test_make_dir(void)
{
    snprintf(clnet_test_dir, sizeof clnet_test_dir, "/tmp/clnet-test-XXXXXX");
    cr_assert_not_null(mkdtemp(clnet_test_dir));
}

void clnet_test_remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", clnet_test_dir);
    cr_expect_eq(system(cmd), 0);
}

const char *clnet_test_path(const char *name)
{
    static char buf[4][256];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, 256, "%s/%s", clnet_test_dir, name);
    return p;
}
