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

void clnet_test_write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

unsigned char *clnet_test_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*n + 1);
    cr_assert_not_null(b);
    cr_assert_eq(fread(b, 1, *n, f), *n);
    fclose(f);
    b[*n] = '\0'; /* text files can be searched as strings */
    return b;
}
