/* test_conv2d_implicit.c - conv2d's implicit algorithm (the packed GEMM reading the column
 * matrix from the input as it goes: gemm_packed_conv in cl/gemm.cl, src/ops/conv2d.c),
 * forced with CLNET_CONV_ALGO=implicit, against the reference src/ref/conv2d.c on every
 * class: forward by the implicit GEMM, backward by im2col + GEMM. And the rule that picks
 * it. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "ops/conv2d_algo.h"
#include "support/support.h"

/* Odd channel counts (no multiple of 4), row counts off the 8-row tiles, a whole 32-column
 * panel and a partial one, strides 1 and 2, 'same' on even sizes (no padding before, one
 * after), explicit one-sided padding on a 5x3 kernel, the 1x1 stride-2 shortcut, a 1x1
 * image whose 3x3 window is all padding but its centre, bias + residual + a saved
 * pre-activation (swish, gelu), relu6 scaled to cross 0 and 6, k = 3 * 3 * 233 (deeper
 * than the cpu class's GEMM launches), and rows 20 pixels wide, where the tiles of 8 in
 * the middle of a row read whole kernel rows (the top and bottom ones from the zeros) and
 * those at its ends tap by tap: 3x3 and a 7x7 stride-2 stem of 3 channels. */
static const clnet__op_case implicit_cases[] = {
    {"filters = 40\nkernel_size = 3\npadding = same\nactivation = relu", 1, {{3, 5, 7, 17}}, 0},
    {"filters = 33\nkernel_size = 3\nstrides = 2\npadding = same\nactivation = swish",
     2,
     {{2, 8, 6, 16}, {2, 4, 3, 33}},
     0},
    {"filters = 32\nkernel_size = 1\nstrides = 2\nactivation = relu6", 1, {{3, 9, 7, 20}}, 4.0f},
    {"filters = 16\nkernel_size = 5, 3\npadding = 0, 2, 1, 3", 1, {{1, 9, 11, 18}}, 0},
    {"filters = 5\nkernel_size = 3\npadding = same\nactivation = gelu",
     2,
     {{1, 3, 4, 233}, {1, 3, 4, 5}},
     0},
    {"filters = 17\nkernel_size = 3\npadding = same\nuse_bias = false", 1, {{3, 1, 1, 24}}, 0},
    {"filters = 20\nkernel_size = 3\npadding = same\nactivation = relu", 1, {{2, 6, 20, 16}}, 0},
    {"filters = 16\nkernel_size = 7\nstrides = 2\npadding = same", 1, {{1, 20, 40, 3}}, 0},
};

/* The same sum of kh * kw * cin products per output as im2col's GEMM, in the same order:
 * im2col's tolerance. */
#define IMPLICIT_RTOL 1e-4

CLNET_TEST_CLASS_PARAMS(conv2d_implicit, matches_reference)

ParameterizedTest(clnet_device_class *cls, conv2d_implicit, matches_reference, .timeout = 600)
{
    clnet_test_conv2d_algo(*cls, "implicit", implicit_cases, (int)CLNET_COUNTOF(implicit_cases),
                           "implicit gemm packed", NULL, IMPLICIT_RTOL);
}

/* It runs one group, anything but a 1x1 of stride 1 (a plain GEMM on x already); the CPU
 * class picks it for the forward where the direct kernel does not take the stem (the
 * ResNets' 7x7 one, not MobileNetV2's 3x3 one), never for dX; the GPU classes never pick
 * it. */
CLNET_TEST_CLASS_PARAMS(conv2d_implicit, default_rule)

ParameterizedTest(clnet_device_class *cls, conv2d_implicit, default_rule)
{
    clnet_context *ctx = clnet_test_device_class(*cls);
    ctx->conv_algo[0] = '\0';
    const clnet__conv_geom layer = {1, 56, 56, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1};
    const clnet__conv_geom shortcut = {1, 56, 56, 64, 28, 28, 128, 1, 1, 2, 2, 0, 0, 1};
    const clnet__conv_geom stem = {1, 224, 224, 3, 112, 112, 64, 7, 7, 2, 2, 3, 3, 1};
    const clnet__conv_geom small_stem = {1, 224, 224, 3, 112, 112, 32, 3, 3, 2, 2, 0, 0, 1};
    clnet__conv_geom narrow = layer, pointwise = layer, grouped = layer;
    narrow.cin = 15;
    pointwise.kh = pointwise.kw = 1;
    pointwise.pad_t = pointwise.pad_l = 0;
    grouped.groups = 2;
    cr_expect(clnet__conv2d_algo_ok(CLNET_CONV_IMPLICIT, &layer));
    cr_expect(clnet__conv2d_algo_ok(CLNET_CONV_IMPLICIT, &shortcut));
    cr_expect(clnet__conv2d_algo_ok(CLNET_CONV_IMPLICIT, &stem));
    cr_expect(!clnet__conv2d_algo_ok(CLNET_CONV_IMPLICIT, &pointwise));
    cr_expect(!clnet__conv2d_algo_ok(CLNET_CONV_IMPLICIT, &grouped));
    const int cpu = *cls == CLNET_CLASS_CPU;
    cr_expect_eq(clnet__conv2d_pick(ctx, &layer, 0, 1, NULL) == CLNET_CONV_IMPLICIT, cpu);
    cr_expect_eq(clnet__conv2d_pick(ctx, &shortcut, 0, 1, NULL) == CLNET_CONV_IMPLICIT, cpu);
    cr_expect_eq(clnet__conv2d_pick(ctx, &stem, 0, 1, NULL) == CLNET_CONV_IMPLICIT, cpu);
    cr_expect_eq(clnet__conv2d_pick(ctx, &narrow, 0, 1, NULL) == CLNET_CONV_IMPLICIT, cpu);
    cr_expect_neq(clnet__conv2d_pick(ctx, &small_stem, 0, 1, NULL), CLNET_CONV_IMPLICIT);
    cr_expect_neq(clnet__conv2d_pick(ctx, &layer, 1, 1, NULL), CLNET_CONV_IMPLICIT);
    cr_expect_neq(clnet__conv2d_pick(ctx, &pointwise, 0, 1, NULL), CLNET_CONV_IMPLICIT);
}
