/* test_quirks.c - the quirk table (src/device/quirks.c): which drivers get which
 * workaround, the switches that turn them off, and that a launch given a fixed
 * work-group size over a global size it does not divide still computes right. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "support/support.h"

Test(quirks, pocl_compiles_per_local_size_and_caches_itself)
{
    const unsigned want = CLNET_QUIRK_LOCAL_SIZE | CLNET_QUIRK_OWN_CACHE;
    cr_assert_eq(clnet__quirks_for("OpenCL 3.0 PoCL 3.1+debian  Linux, None+Asserts, RELOC, "
                                   "SPIR, LLVM 15.0.6, SLEEF, DISTRO, POCL_DEBUG"),
                 want);
    cr_assert_eq(clnet__quirks_for("OpenCL 1.2 pocl 1.8"), want);
}

Test(quirks, other_drivers_have_none)
{
    cr_assert_eq(clnet__quirks_for("OpenCL 3.0 CUDA 12.4.131"), 0u);
    cr_assert_eq(clnet__quirks_for("OpenCL 2.1 AMD-APP (3614.0)"), 0u);
    cr_assert_eq(clnet__quirks_for("OpenCL 3.0 "), 0u);
    cr_assert_eq(clnet__quirks_for(""), 0u);
}

static clnet_context *open_ctx(void)
{
    clnet_test_device();
    char err[1024] = "";
    clnet_context_options opt = {.error = err, .error_len = sizeof err, .cache_dir = ""};
    clnet_context *ctx = NULL;
    cr_assert_eq(clnet_context_create(&opt, &ctx), CLNET_OK, "%s", err);
    return ctx;
}

Test(quirks, switches)
{
    setenv("CLNET_QUIRKS", "none", 1);
    unsetenv("CLNET_LOCAL_SIZE");
    clnet_context *ctx = open_ctx();
    cr_assert_eq(ctx->quirks, 0u);
    cr_assert_eq(ctx->local_size, 0);
    clnet_context_destroy(ctx);
    setenv("CLNET_LOCAL_SIZE", "7", 1);
    ctx = open_ctx();
    cr_assert_eq(ctx->local_size, 7, "CLNET_LOCAL_SIZE sets the size even with quirks off");
    clnet_context_destroy(ctx);
    unsetenv("CLNET_QUIRKS");
    setenv("CLNET_LOCAL_SIZE", "0", 1);
    ctx = open_ctx();
    cr_assert_eq(ctx->local_size, 0, "CLNET_LOCAL_SIZE=0 leaves the size to the driver");
    cr_assert_eq(ctx->quirks, clnet__quirks_for(ctx->platform_version));
    clnet_context_destroy(ctx);
    unsetenv("CLNET_LOCAL_SIZE");
}

/* Every op's self-test cases (awkward shapes: global sizes no work-group size divides)
 * with a fixed work-group size of 7 rounding every launch up, on the device's class:
 * each kernel launched without a size must ignore the work-items past its end. (`clnet
 * selftest` runs the same on POCL with the quirk's own size, 16.) */
Test(quirks, rounded_launches_compute_right, .timeout = 600)
{
    unsetenv("CLNET_QUIRKS");
    setenv("CLNET_LOCAL_SIZE", "7", 1);
    clnet_context *ctx = open_ctx();
    unsetenv("CLNET_LOCAL_SIZE");
    cr_assert_eq(ctx->local_size, 7);
    int n = 0, failed = 0;
    const clnet__op_desc *const *ops = clnet__op_all(&n);
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < ops[i]->n_cases; ++j) {
            int before = failed;
            cr_assert_eq(clnet__op_check(ctx, ops[i], &ops[i]->cases[j], 4242u + (uint64_t)j, 1e-4,
                                         NULL, NULL, &failed),
                         CLNET_OK, "%s: %s", ops[i]->name, clnet_context_error(ctx));
            cr_expect_eq(failed, before, "%s case %d (%s)", ops[i]->name, j,
                         ops[i]->cases[j].params);
        }
    clnet_context_destroy(ctx);
}
