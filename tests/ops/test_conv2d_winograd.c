/* test_conv2d_winograd.c - conv2d's Winograd F(2x2, 3x3) path (src/ops/conv2d_winograd.c,
 * cl/conv2d_winograd.cl), forced with CLNET_CONV_ALGO=winograd, against the reference
 * src/ref/conv2d.c on every class: forward and backward (dX by Winograd, dW by im2col).
 * Its chunked workspace: test_conv2d.c. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/conv2d_algo.h"
#include "support/support.h"

/* Odd sizes (partial tiles on both axes), padding same / valid / one-sided explicit / more
 * than the kernel reaches (dX's padding 2 - 3 then crops), bias + residual + relu6 scaled
 * to cross 0 and 6, a 1x1 output, a 1x1 image, channel counts off multiples of 4 and 16
 * (float16 tails), several images per chunk. */
static const clnet__op_case winograd_cases[] = {
    {"filters = 6\nkernel_size = 3\npadding = same\nactivation = relu6",
     2,
     {{3, 7, 9, 5}, {3, 7, 9, 6}},
     4.0f},
    {"filters = 6\nkernel_size = 3\nactivation = relu", 1, {{3, 7, 9, 5}}, 0},
    {"filters = 6\nkernel_size = 3\npadding = 0, 2, 1, 0\nactivation = relu6",
     2,
     {{3, 7, 9, 5}, {3, 7, 8, 6}},
     4.0f},
    {"filters = 5\nkernel_size = 3\npadding = 3, 0, 1, 2\nuse_bias = false", 1, {{2, 5, 4, 3}}, 0},
    {"filters = 19\nkernel_size = 3", 1, {{2, 3, 3, 17}}, 0},
    {"filters = 17\nkernel_size = 3\npadding = same\nuse_bias = false", 1, {{3, 1, 1, 33}}, 0},
    {"filters = 33\nkernel_size = 3\npadding = same\nactivation = relu", 1, {{1, 6, 5, 35}}, 0},
};

/* Measured worst relative errors (|got - want| / (|want| + rms(want))) of these cases are
 * below 1e-6, as for im2col: F(2x2, 3x3)'s transforms only add and halve (exact scalings),
 * each output sums 16 rounded products per channel instead of 9, so the error stays a
 * few float ulps times sqrt(terms). The im2col tolerance 1e-4 holds with a wide margin. */
#define WINOGRAD_RTOL 1e-4

CLNET_TEST_CLASS_PARAMS(conv2d_winograd, matches_reference)

ParameterizedTest(clnet_device_class *cls, conv2d_winograd, matches_reference, .timeout = 600)
{
    clnet_test_conv2d_algo(*cls, "winograd", winograd_cases, (int)CLNET_COUNTOF(winograd_cases),
                           "winograd F(2x2,3x3) + gemm", NULL, WINOGRAD_RTOL);
}

/* The reference backward these checks trust, against finite differences on these shapes
 * (and conv2d's own cases). */
Test(conv2d_winograd, reference_gradient_matches_finite_differences, .timeout = 600)
{
    clnet_test_op_gradient("conv2d", winograd_cases, (int)CLNET_COUNTOF(winograd_cases));
}

/* The forward algorithm conv2d's prepare step records for case c on ctx. */
static void describe(clnet_context *ctx, const clnet__op_case *c, char *buf, size_t len)
{
    const clnet__op_desc *op = clnet__op_find("conv2d");
    void *params = NULL;
    clnet__op_exec e;
    cr_assert_eq(clnet__op_parse(ctx, op, c->params, "test", &params), CLNET_OK);
    cr_assert_eq(clnet__op_prepare(ctx, op, params, c->in, c->n_in, 1, &e), CLNET_OK);
    snprintf(buf, len, "%s", e.forward);
    free(params);
}

/* Winograd applies to 3x3 stride 1 with one group only: CLNET_CONV_ALGO cannot force it
 * elsewhere, and forcing it on a prepare step says why it cannot run. */
Test(conv2d_winograd, applies_to_3x3_stride_1_only)
{
    clnet_context *ctx = clnet_test_device_class(CLNET_CLASS_CPU);
    const clnet__conv_geom ok = {1, 8, 8, 4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1};
    clnet__conv_geom strided = ok, five = ok, grouped = ok;
    strided.sh = 2;
    five.kh = five.kw = 5;
    grouped.groups = 2;
    cr_expect(clnet__conv2d_algo_ok(CLNET_CONV_WINOGRAD, &ok));
    cr_expect(!clnet__conv2d_algo_ok(CLNET_CONV_WINOGRAD, &strided));
    cr_expect(!clnet__conv2d_algo_ok(CLNET_CONV_WINOGRAD, &five));
    cr_expect(!clnet__conv2d_algo_ok(CLNET_CONV_WINOGRAD, &grouped));
    /* $CLNET_CONV_ALGO is read when a context is made, never while an op runs. */
    setenv("CLNET_CONV_ALGO", "winograd", 1);
    clnet_context *fresh = NULL;
    cr_assert_eq(clnet_context_create(NULL, &fresh), CLNET_OK);
    unsetenv("CLNET_CONV_ALGO");
    cr_expect_eq(clnet__conv2d_pick(fresh, &ok, 0, 1, NULL), CLNET_CONV_WINOGRAD);
    clnet_context_destroy(fresh);
    cr_expect_eq(clnet__conv2d_pick(ctx, &ok, 0, 1, NULL), CLNET_CONV_IMPLICIT, "the old context");
    snprintf(ctx->conv_algo, sizeof ctx->conv_algo, "%s", "winograd");
    cr_expect_eq(clnet__conv2d_pick(ctx, &ok, 0, 1, NULL), CLNET_CONV_WINOGRAD);
    cr_expect_eq(clnet__conv2d_pick(ctx, &ok, 1, 1, NULL), CLNET_CONV_WINOGRAD);
    cr_expect_eq(clnet__conv2d_pick(ctx, &strided, 0, 1, NULL), CLNET_CONV_IMPLICIT, "the rule's");
    cr_expect_neq(clnet__conv2d_pick(ctx, &grouped, 0, 1, NULL), CLNET_CONV_WINOGRAD);
    snprintf(ctx->conv_algo, sizeof ctx->conv_algo, "%s", "im2col");
    cr_expect_eq(clnet__conv2d_pick(ctx, &ok, 0, 1, NULL), CLNET_CONV_IM2COL);
    ctx->conv_algo[0] = '\0';

    const clnet__op_desc *op = clnet__op_find("conv2d");
    void *params = NULL;
    cr_assert_eq(
        clnet__op_parse(ctx, op, "filters = 4\nkernel_size = 3\nstrides = 2", "test", &params),
        CLNET_OK);
    const clnet_shape in = {1, 8, 8, 4};
    clnet__op_exec e;
    clnet_status st = clnet__conv2d_prepare_with(ctx, params, &in, 1, 0, CLNET_CONV_WINOGRAD,
                                                 CLNET_CONV_AUTO, 1, &e);
    cr_expect_eq(st, CLNET_ERR_UNSUPPORTED, "%s", clnet_status_string(st));
    cr_expect(strstr(clnet_context_error(ctx), "winograd") != NULL, "message: %s",
              clnet_context_error(ctx));
    cr_expect_eq(clnet__conv2d_prepare_with(ctx, params, &in, 1, 1, CLNET_CONV_IM2COL,
                                            CLNET_CONV_AUTO, 1, &e),
                 CLNET_OK);
    cr_expect_eq(e.algo, CLNET_CONV_IM2COL);
    free(params);
}

CLNET_TEST_CLASS_PARAMS(conv2d_winograd, default_rule)

/* The variant table's rule (src/device/variants.c): Winograd from 32 channels on the GPU
 * classes; the CPU class runs the implicit GEMM forward and im2col's dX unless tuned
 * (whole models measured faster so). */
ParameterizedTest(clnet_device_class *cls, conv2d_winograd, default_rule)
{
    clnet_context *ctx = clnet_test_device_class(*cls);
    ctx->conv_algo[0] = '\0';
    if (*cls == CLNET_CLASS_CPU) {
        const clnet__conv_geom wide = {8, 28, 28, 64, 28, 28, 64, 3, 3, 1, 1, 1, 1, 1};
        cr_expect_eq(clnet__conv2d_pick(ctx, &wide, 0, 1, NULL), CLNET_CONV_IMPLICIT);
        cr_expect_eq(clnet__conv2d_pick(ctx, &wide, 1, 1, NULL), CLNET_CONV_IM2COL);
        return;
    }
    const clnet__conv_geom wide = {1, 12, 11, 32, 12, 11, 32, 3, 3, 1, 1, 1, 1, 1};
    const clnet__conv_geom narrow = {8, 56, 56, 16, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1};
    const clnet__conv_geom late1 = {1, 7, 7, 512, 7, 7, 512, 3, 3, 1, 1, 1, 1, 1};
    clnet__conv_geom late8 = late1;
    late8.batch = 8;
    cr_expect_eq(clnet__conv2d_pick(ctx, &wide, 0, 1, NULL), CLNET_CONV_WINOGRAD);
    cr_expect_eq(clnet__conv2d_pick(ctx, &wide, 1, 1, NULL), CLNET_CONV_WINOGRAD);
    cr_expect_eq(clnet__conv2d_pick(ctx, &narrow, 0, 1, NULL), CLNET_CONV_IM2COL);
    cr_expect_eq(clnet__conv2d_pick(ctx, &late8, 0, 1, NULL), CLNET_CONV_WINOGRAD);
    cr_expect_eq(clnet__conv2d_pick(ctx, &late1, 0, 1, NULL), CLNET_CONV_WINOGRAD);
    char what[96];
    const clnet__op_case wide_case = {
        "filters = 32\nkernel_size = 3\npadding = same", 1, {{1, 12, 11, 32}}, 0};
    describe(ctx, &wide_case, what, sizeof what);
    cr_expect(strstr(what, "winograd F(2x2,3x3) + gemm ") == what, "%s", what);
}
