/* test_cache.c - the on-disk program cache (src/device/cache.c, program.c): a hit
 * on the second build, corrupt and truncated entries rebuilt, an unwritable
 * directory only disabling caching, and build errors carrying the log. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/support.h"

static char dir[64];

static clnet_context *open_cached(const char *cache_dir)
{
    clnet_test_device();
    /* Our cache is what is tested: POCL's quirk (src/device/quirks.c) would bypass it. */
    setenv("CLNET_QUIRKS", "none", 1);
    char err[1024] = "";
    clnet_context_options opt = {0};
    opt.cache_dir = cache_dir;
    opt.error = err;
    opt.error_len = sizeof err;
    opt.device_class = CLNET_CLASS_CPU;
    clnet_context *ctx = NULL;
    cr_assert_eq(clnet_context_create(&opt, &ctx), CLNET_OK, "%s", err);
    return ctx;
}

static clnet_context_stats build_relu(const char *cache_dir)
{
    clnet_context *ctx = open_cached(cache_dir);
    cl_kernel k = NULL;
    cr_assert_eq(clnet__kernel(ctx, "relu", "relu_forward", &k), CLNET_OK, "%s",
                 clnet_context_error(ctx));
    /* The kernel from a cached binary must still compute right. */
    const clnet__op_desc *op = clnet__op_find("relu");
    int failed = 0;
    cr_assert_eq(clnet__op_check(ctx, op, &op->cases[1], 3, 1e-4, NULL, NULL, &failed), CLNET_OK);
    cr_assert_eq(failed, 0);
    clnet_context_stats s;
    clnet_context_get_stats(ctx, &s);
    clnet_context_destroy(ctx);
    return s;
}

/* The path of the single entry in dir. */
static void only_entry(char *path, size_t len)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (strstr(e->d_name, ".bin")) {
            snprintf(path, len, "%s/%s", dir, e->d_name);
            ++n;
        }
    }
    closedir(d);
    cr_assert_eq(n, 1, "expected one cache entry, found %d", n);
}

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/clnet-cache-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

/* Each test's directory goes with it: a run of the suite leaves nothing in /tmp. */
static void remove_dir(void)
{
    if (!dir[0])
        return;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.')
            unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

TestSuite(cache, .fini = remove_dir);

Test(cache, second_build_is_a_hit)
{
    make_dir();
    clnet_context_stats a = build_relu(dir);
    cr_assert_eq(a.programs_built, 1);
    cr_assert_eq(a.cache_writes, 1);
    cr_assert_eq(a.programs_cached, 0);
    clnet_context_stats b = build_relu(dir);
    cr_assert_eq(b.programs_built, 0, "a second start must compile nothing");
    cr_assert_eq(b.programs_cached, 1);
    cr_assert_eq(b.cache_writes, 0);
}

static void damage(void (*how)(FILE *f, long size))
{
    make_dir();
    build_relu(dir);
    char path[512];
    only_entry(path, sizeof path);
    FILE *f = fopen(path, "r+b");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    how(f, size);
    fclose(f);
    clnet_context_stats s = build_relu(dir);
    cr_assert_eq(s.cache_rejected, 1);
    cr_assert_eq(s.programs_built, 1);
    cr_assert_eq(s.cache_writes, 1, "the bad entry is replaced");
    clnet_context_stats again = build_relu(dir);
    cr_assert_eq(again.programs_cached, 1);
}

static void truncate_half(FILE *f, long size)
{
    cr_assert_eq(ftruncate(fileno(f), size / 2), 0);
}

static void flip_payload_byte(FILE *f, long size)
{
    fseek(f, size - 10, SEEK_SET);
    int c = fgetc(f);
    fseek(f, size - 10, SEEK_SET);
    fputc(c ^ 0x5a, f);
}

Test(cache, truncated_entry_is_rebuilt)
{
    damage(truncate_half);
}

Test(cache, corrupt_entry_is_rebuilt)
{
    damage(flip_payload_byte);
}

Test(cache, unwritable_directory_disables_caching)
{
    clnet_context_stats s = build_relu("/proc/clnet-cannot-exist/cache");
    cr_assert_eq(s.programs_built, 1);
    cr_assert_eq(s.cache_writes, 0);
    cr_assert_eq(s.cache_enabled, 0);
}

Test(cache, empty_directory_option_disables_caching)
{
    clnet_context_stats s = build_relu("");
    cr_assert_eq(s.cache_enabled, 0);
    cr_assert_eq(s.programs_built, 1);
}

/* On a driver that caches programs itself (POCL), ours is left alone: no entry written,
 * none read, and the stats say why. */
Test(cache, driver_with_its_own_cache_bypasses_ours)
{
    make_dir();
    clnet_context *ctx = open_cached(dir);
    const int own = (clnet__quirks_for(ctx->platform_version) & CLNET_QUIRK_OWN_CACHE) != 0;
    clnet_context_destroy(ctx);
    if (!own)
        cr_skip_test("the device's driver has no program cache of its own");
    unsetenv("CLNET_QUIRKS");
    char err[1024] = "";
    clnet_context_options opt = {.cache_dir = dir, .error = err, .error_len = sizeof err};
    cr_assert_eq(clnet_context_create(&opt, &ctx), CLNET_OK, "%s", err);
    cl_kernel k = NULL;
    cr_assert_eq(clnet__kernel(ctx, "relu", "relu_forward", &k), CLNET_OK);
    clnet_context_stats s;
    clnet_context_get_stats(ctx, &s);
    clnet_context_destroy(ctx);
    cr_assert_eq(s.driver_cache, 1);
    cr_assert_eq(s.cache_enabled, 0);
    cr_assert_eq(s.cache_writes, 0);
    cr_assert_eq(s.programs_built, 1);
    DIR *d = opendir(dir);
    int entries = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        entries += strstr(e->d_name, ".bin") != NULL;
    if (d)
        closedir(d);
    cr_assert_eq(entries, 0);
}

Test(cache, build_failure_reports_the_log_with_line_numbers)
{
    make_dir();
    char path[128];
    snprintf(path, sizeof path, "%s/common.cl", dir);
    FILE *f = fopen(path, "w");
    fputs("// empty common\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/broken.cl", dir);
    f = fopen(path, "w");
    fputs("kernel void broken_forward(global float *x)\n{\n    x[0] = undefined_name;\n}\n", f);
    fclose(f);
    setenv("CLNET_CL_DIR", dir, 1);
    clnet_context *ctx = open_cached("");
    cl_kernel k = NULL;
    cr_assert_eq(clnet__kernel(ctx, "broken", "broken_forward", &k), CLNET_ERR_BUILD);
    const char *msg = clnet_context_error(ctx);
    cr_assert(strstr(msg, "broken.cl:3"), "the log must point at broken.cl line 3: %s", msg);
    cr_assert(strstr(msg, "undefined_name"), "%s", msg);
    cr_assert_eq(clnet__kernel(ctx, "missing", "x", &k), CLNET_ERR_IO);
    clnet_context_destroy(ctx);
    unsetenv("CLNET_CL_DIR");
}

Test(cache, build_log_positions_are_mapped_to_the_op_file)
{
    const char *log = "input.cl:6:12: error: use of undeclared identifier 'x'\n"
                      "    x[0] = y;\n"
                      "<source>:2:1: warning: something in common\n";
    char *fixed = clnet__fix_build_log(log, "broken", 3);
    cr_assert_not_null(fixed);
    cr_assert(strstr(fixed, "broken.cl:3:12: error: use of undeclared identifier 'x'\n"), "%s",
              fixed);
    cr_assert(strstr(fixed, "    x[0] = y;\n"), "%s", fixed);
    cr_assert(strstr(fixed, "common.cl:2:1: warning"), "%s", fixed);
    free(fixed);
    cr_assert_null(clnet__fix_build_log("broken.cl:3:1: error\n", "broken", 3),
                   "a log that already names the op file is kept");
}
