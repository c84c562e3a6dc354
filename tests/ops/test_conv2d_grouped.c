/* test_conv2d_grouped.c - conv2d's direct algorithm for grouped convolutions
 * (src/ops/conv2d_grouped.c, cl/conv2d_grouped.cl), forced with CLNET_CONV_ALGO=grouped,
 * against the reference src/ref/conv2d.c on every class: forward and backward (dX by the
 * direct kernel, dW by im2col), odd shapes, the CPU forward's transposed rows in chunks, and
 * the rule that picks it. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/conv2d_algo.h"
#include "support/support.h"

/* Groups of 3 to 5 channels and of one; channels per group off the CPU kernel's block of
 * GC_OB = 4 (5 and 9: partial blocks in forward and dX); rows of 1 to 37 pixels (partial
 * and several pixel vectors); strides 2 and 3 with odd sizes; 'same', one-sided explicit
 * and valid padding; 5x5, 2x2 and 1x1 kernels; batch 1 to 3; a residual input with relu6
 * scaled to cross 0 and 6; gelu, whose backward reads the saved pre-activation. */
static const clnet__op_case grouped_cases[] = {
    {"filters = 10\nkernel_size = 3\nstrides = 2\npadding = same\ngroups = 2",
     1,
     {{3, 7, 7, 6}},
     0},
    {"filters = 18\nkernel_size = 3\npadding = same\ngroups = 2\nactivation = relu6",
     2,
     {{2, 5, 37, 8}, {2, 5, 37, 18}},
     4.0f},
    {"filters = 16\nkernel_size = 3\nstrides = 2\npadding = 1\ngroups = 4", 1, {{1, 9, 35, 20}}, 0},
    {"filters = 15\nkernel_size = 5\npadding = 2, 1, 0, 3\ngroups = 5\nuse_bias = false",
     1,
     {{3, 6, 19, 10}},
     0},
    {"filters = 8\nkernel_size = 2\nstrides = 3\ngroups = 4\nactivation = gelu",
     1,
     {{2, 8, 23, 12}},
     0},
    {"filters = 20\nkernel_size = 1\ngroups = 4", 1, {{3, 4, 17, 12}}, 0},
    {"filters = 17\nkernel_size = 3\npadding = same\ngroups = 17", 1, {{1, 6, 18, 17}}, 0},
    {"filters = 8\nkernel_size = 3\npadding = same\ngroups = 4", 1, {{3, 1, 1, 8}}, 0},
    {"filters = 32\nkernel_size = 3\npadding = 1\ngroups = 8\nactivation = relu",
     1,
     {{2, 13, 20, 32}},
     0},
};

CLNET_TEST_CLASS_PARAMS(conv2d_grouped, matches_reference)

ParameterizedTest(clnet_device_class *cls, conv2d_grouped, matches_reference, .timeout = 600)
{
    clnet_test_conv2d_algo(*cls, "grouped", grouped_cases, (int)CLNET_COUNTOF(grouped_cases),
                           "grouped direct", "dx: grouped direct; ", 1e-4);
}

/* The reference backward these checks trust, against finite differences on these shapes
 * (and conv2d's own cases). */
Test(conv2d_grouped, reference_gradient_matches_finite_differences, .timeout = 600)
{
    clnet_test_op_gradient("conv2d", grouped_cases, (int)CLNET_COUNTOF(grouped_cases));
}

CLNET_TEST_CLASS_PARAMS(conv2d_grouped, forward_in_chunks)

/* A device whose max allocation holds the transposed rows of two images, not five: one
 * image's rows are 20 rows x 8 channels x (16 + 3) cells = 12160 bytes, so the CPU forward
 * runs chunks of 2, 2 and 1 images (the GPU forms read x directly). Every other buffer of
 * the case stays below the 30 KiB limit (dW's im2col runs an image at a time). */
ParameterizedTest(clnet_device_class *cls, conv2d_grouped, forward_in_chunks)
{
    clnet_context *ctx = clnet_test_device_class(*cls);
    const clnet__op_case c = {
        "filters = 6\nkernel_size = 3\npadding = same\nactivation = relu\ngroups = 2",
        1,
        {{5, 20, 3, 8}},
        0};
    snprintf(ctx->conv_algo, sizeof ctx->conv_algo, "%s", "grouped");
    const uint64_t keep = ctx->info.max_alloc_bytes;
    ctx->info.max_alloc_bytes = 30 << 10;
    clnet_test_check cc = {clnet_device_class_name(*cls)};
    int failed = 0;
    clnet_status st = clnet__op_check(ctx, clnet__op_find("conv2d"), &c, 33, 1e-4,
                                      clnet_test_expect_row, &cc, &failed);
    ctx->info.max_alloc_bytes = keep;
    ctx->conv_algo[0] = '\0';
    cr_expect_eq(st, CLNET_OK, "%s: %s", clnet_status_string(st), clnet_context_error(ctx));
}

/* The variant table's rule on the CPU class: forward runs the direct kernel for groups of up
 * to 16 channels on rows of 7 pixels and more (ResNeXt-50's 4-channel groups at 56, its
 * 16-channel ones, RegNetY-400MF's 8 at 7), dX for up to 8 channels on rows of 12 and more;
 * 32-channel groups, 5-pixel rows and ungrouped convolutions keep the GEMMs, as GPU classes
 * do everywhere. CLNET_CONV_ALGO cannot force it onto one group. */
Test(conv2d_grouped, picked_for_narrow_groups_on_wide_rows)
{
    clnet_context *cpu = clnet_test_device_class(CLNET_CLASS_CPU);
    const clnet__conv_geom resnext = {1, 56, 56, 128, 56, 56, 128, 3, 3, 1, 1, 1, 1, 32};
    const clnet__conv_geom regnet = {1, 7, 7, 440, 7, 7, 440, 3, 3, 1, 1, 1, 1, 55};
    clnet__conv_geom narrow = resnext, sixteen = resnext, wide = resnext, one = resnext;
    narrow.in_h = narrow.in_w = narrow.out_h = narrow.out_w = 5;
    sixteen.groups = 8;
    wide.groups = 4;
    one.groups = 1;
    cr_expect_eq(clnet__conv2d_pick(cpu, &resnext, 0, 0, NULL), CLNET_CONV_GROUPED);
    cr_expect_eq(clnet__conv2d_pick(cpu, &resnext, 1, 0, NULL), CLNET_CONV_GROUPED);
    cr_expect_eq(clnet__conv2d_pick(cpu, &regnet, 0, 0, NULL), CLNET_CONV_GROUPED);
    cr_expect_eq(clnet__conv2d_pick(cpu, &regnet, 1, 0, NULL), CLNET_CONV_IM2COL);
    cr_expect_eq(clnet__conv2d_pick(cpu, &sixteen, 0, 0, NULL), CLNET_CONV_GROUPED);
    cr_expect_eq(clnet__conv2d_pick(cpu, &sixteen, 1, 0, NULL), CLNET_CONV_IM2COL);
    cr_expect_eq(clnet__conv2d_pick(cpu, &wide, 0, 0, NULL), CLNET_CONV_IM2COL);
    cr_expect_eq(clnet__conv2d_pick(cpu, &narrow, 0, 0, NULL), CLNET_CONV_IM2COL);
    cr_expect_neq(clnet__conv2d_pick(cpu, &one, 0, 0, NULL), CLNET_CONV_GROUPED);
    for (int k = 0; k < 2; ++k) {
        clnet_context *gpu = clnet_test_device_class(clnet_test_classes[k]);
        cr_expect_eq(clnet__conv2d_pick(gpu, &resnext, 0, 0, NULL), CLNET_CONV_IM2COL);
        cr_expect_eq(clnet__conv2d_pick(gpu, &resnext, 1, 0, NULL), CLNET_CONV_IM2COL);
    }
    cr_expect(!clnet__conv2d_algo_ok(CLNET_CONV_GROUPED, &one));
    snprintf(cpu->conv_algo, sizeof cpu->conv_algo, "%s", "grouped");
    cr_expect_eq(clnet__conv2d_pick(cpu, &wide, 0, 0, NULL), CLNET_CONV_GROUPED);
    cr_expect_neq(clnet__conv2d_pick(cpu, &one, 0, 0, NULL), CLNET_CONV_GROUPED);
    cpu->conv_algo[0] = '\0';
    cr_expect_str_eq(clnet__conv_algo_name(CLNET_CONV_GROUPED), "grouped");
}
