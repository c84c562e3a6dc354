/* test_conv2d_direct.c - conv2d's direct algorithm for few input channels
 * (src/ops/conv2d_direct.c, cl/conv2d_direct.cl), forced with CLNET_CONV_ALGO=direct,
 * against the reference src/ref/conv2d.c on every class: forward by the direct kernel,
 * backward by im2col + GEMM. And the rule that picks it. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "ops/conv2d_algo.h"
#include "support/support.h"

/* Interior blocks of 8 pixels and edge blocks (padding, a short last block), strides 1 and
 * 2, 'same' on odd sizes and one-sided explicit padding, 1 to 4 input channels, output
 * channels in whole blocks of 32 and a last block of 16, bias + residual + a saved
 * pre-activation (swish, in training), relu6 scaled to cross 0 and 6, the 7x7 stride-2 stem
 * of the ResNets, a 1x1 convolution, several images. */
static const clnet__op_case direct_cases[] = {
    {"filters = 32\nkernel_size = 3\nstrides = 2\npadding = same\nactivation = relu6",
     1,
     {{2, 19, 21, 3}},
     4.0f},
    {"filters = 48\nkernel_size = 3\npadding = 1\nactivation = swish",
     2,
     {{1, 6, 27, 4}, {1, 6, 27, 48}},
     2.0f},
    {"filters = 16\nkernel_size = 7\nstrides = 2\npadding = 3\nuse_bias = false",
     1,
     {{1, 20, 30, 1}},
     0},
    {"filters = 32\nkernel_size = 5\npadding = 0, 2, 1, 3\nactivation = relu",
     1,
     {{2, 9, 17, 2}},
     0},
    {"filters = 16\nkernel_size = 1", 1, {{3, 3, 9, 3}}, 0},
};

/* The same accumulation as im2col's GEMM (a sum of kh * kw * cin products per output, in
 * another order): im2col's tolerance. */
#define DIRECT_RTOL 1e-4

CLNET_TEST_CLASS_PARAMS(conv2d_direct, matches_reference)

ParameterizedTest(clnet_device_class *cls, conv2d_direct, matches_reference, .timeout = 600)
{
    clnet_test_conv2d_algo(*cls, "direct", direct_cases, (int)CLNET_COUNTOF(direct_cases), "direct",
                           "dx: ", DIRECT_RTOL);
}

/* It runs one group with whole float16 blocks of output channels; the CPU class picks it
 * for the forward of up to 4 input channels with column rows of up to 36 floats (the 3x3
 * stems, not the ResNets' 7x7 one: the implicit GEMM's), never for dX; the GPU classes
 * never pick it. */
CLNET_TEST_CLASS_PARAMS(conv2d_direct, default_rule)

ParameterizedTest(clnet_device_class *cls, conv2d_direct, default_rule)
{
    clnet_context *ctx = clnet_test_device_class(*cls);
    ctx->conv_algo[0] = '\0';
    const clnet__conv_geom stem = {1, 224, 224, 3, 112, 112, 32, 3, 3, 2, 2, 0, 0, 1};
    const clnet__conv_geom resnet = {8, 224, 224, 3, 112, 112, 64, 7, 7, 2, 2, 3, 3, 1};
    clnet__conv_geom five = stem, odd = stem, grouped = stem;
    five.cin = 5;
    odd.cout = 24;
    grouped.cin = 4;
    grouped.groups = 2;
    cr_expect(clnet__conv2d_algo_ok(CLNET_CONV_DIRECT, &stem));
    cr_expect(clnet__conv2d_algo_ok(CLNET_CONV_DIRECT, &five));
    cr_expect(!clnet__conv2d_algo_ok(CLNET_CONV_DIRECT, &odd));
    cr_expect(!clnet__conv2d_algo_ok(CLNET_CONV_DIRECT, &grouped));
    const clnet__conv_algo want = *cls == CLNET_CLASS_CPU ? CLNET_CONV_DIRECT : CLNET_CONV_IM2COL;
    cr_expect_eq(clnet__conv2d_pick(ctx, &stem, 0, 1, NULL), want);
    cr_expect_neq(clnet__conv2d_pick(ctx, &resnet, 0, 1, NULL), CLNET_CONV_DIRECT);
    cr_expect_neq(clnet__conv2d_pick(ctx, &stem, 1, 1, NULL), CLNET_CONV_DIRECT);
    cr_expect_neq(clnet__conv2d_pick(ctx, &five, 0, 1, NULL), CLNET_CONV_DIRECT);
    cr_expect_neq(clnet__conv2d_pick(ctx, &odd, 0, 1, NULL), CLNET_CONV_DIRECT);
}
