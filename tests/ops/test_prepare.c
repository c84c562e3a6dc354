/* test_prepare.c - execution records (src/ops/prepare.c, clnet__op_exec): what an op does
 * is decided when it is prepared, and the run follows the record whatever the context
 * says later; a record made for a batch runs smaller batches in its scratch. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/conv2d_algo.h"
#include "support/support.h"

#define CONV "filters = 32\nkernel_size = 3\npadding = same\nactivation = relu"

/* conv2d forward of x (shape in) with kernel w and bias b as record a says, into y. */
static void conv_forward(clnet_context *ctx, const void *params, const clnet__op_alone *a,
                         clnet_shape in, const float *x, const float *w, const float *b, float *y)
{
    const clnet_shape out = {in.n, in.h, in.w, 32};
    clnet_tensor *tx = clnet_test_tensor(ctx, in, x), *ty = clnet_test_tensor(ctx, out, NULL);
    clnet_tensor *tw[2] = {clnet_test_tensor(ctx, (clnet_shape){3, 3, in.c, 32}, w),
                           clnet_test_tensor(ctx, (clnet_shape){1, 1, 1, 32}, b)};
    const clnet__op_call call = {.ctx = ctx,
                                 .params = params,
                                 .n_in = 1,
                                 .in = &tx,
                                 .out = ty,
                                 .n_w = 2,
                                 .w = tw,
                                 .exec = &a->exec,
                                 .scratch = &a->scratch};
    cr_assert_eq(clnet__op_conv2d.forward(&call), CLNET_OK, "%s", clnet_context_error(ctx));
    clnet_test_read(ty, y);
    clnet_tensor_destroy(tx);
    clnet_tensor_destroy(ty);
    clnet_tensor_destroy(tw[0]);
    clnet_tensor_destroy(tw[1]);
}

/* Records made under CLNET_CONV_ALGO=winograd and =im2col run their own algorithm after
 * the context's setting changed: the run path never consults it. The two algorithms round
 * differently, so the outputs tell which one ran. */
Test(prepare, the_record_decides_not_the_context)
{
    clnet_context *ctx = clnet_test_device_class(CLNET_CLASS_CPU);
    void *params = NULL;
    cr_assert_eq(clnet__op_parse(ctx, &clnet__op_conv2d, CONV, "test", &params), CLNET_OK);
    const clnet_shape in = {2, 12, 11, 32};
    const size_t nx = clnet__shape_count(in), ny = (size_t)2 * 12 * 11 * 32;
    float *x = clnet_test_random(nx, 1), *w = clnet_test_random(9 * 32 * 32, 2),
          *b = clnet_test_random(32, 3);
    float *wino = malloc(ny * sizeof *wino), *col = malloc(ny * sizeof *col),
          *again = malloc(ny * sizeof *again);
    clnet__op_alone a, c;
    snprintf(ctx->conv_algo, sizeof ctx->conv_algo, "winograd");
    cr_assert_eq(clnet__op_alone_prepare(ctx, &clnet__op_conv2d, params, &in, 1, 1, &a), CLNET_OK);
    snprintf(ctx->conv_algo, sizeof ctx->conv_algo, "im2col");
    cr_assert_eq(clnet__op_alone_prepare(ctx, &clnet__op_conv2d, params, &in, 1, 1, &c), CLNET_OK);
    cr_expect_eq(a.exec.algo, CLNET_CONV_WINOGRAD);
    cr_expect_eq(a.exec.algo_dx, CLNET_CONV_WINOGRAD);
    cr_expect_eq(c.exec.algo, CLNET_CONV_IM2COL);
    cr_expect(strncmp(a.exec.forward, "winograd", 8) == 0, "%s", a.exec.forward);
    cr_expect(strncmp(c.exec.forward, "im2col", 6) == 0, "%s", c.exec.forward);

    conv_forward(ctx, params, &a, in, x, w, b, wino); /* the context says im2col now */
    snprintf(ctx->conv_algo, sizeof ctx->conv_algo, "winograd");
    conv_forward(ctx, params, &c, in, x, w, b, col);
    conv_forward(ctx, params, &a, in, x, w, b, again);
    ctx->conv_algo[0] = '\0';
    cr_expect(memcmp(wino, again, ny * sizeof *wino) == 0, "one record, two results");
    cr_expect(memcmp(wino, col, ny * sizeof *wino) != 0,
              "winograd and im2col gave the same bits: the test cannot tell them apart");
    cr_expect_lt(clnet_test_max_abs_diff(wino, col, ny), 1e-3f);
    clnet__op_alone_release(&a);
    clnet__op_alone_release(&c);
    free(x);
    free(w);
    free(b);
    free(wino);
    free(col);
    free(again);
    free(params);
}

/* A record made for a batch of 5 runs a batch of 2 in its scratch, with the result of a
 * record made for 2: scratch never grows with fewer images, the choices stay valid. */
Test(prepare, a_record_runs_smaller_batches)
{
    clnet_context *ctx = clnet_test_device_class(CLNET_CLASS_CPU);
    void *params = NULL;
    cr_assert_eq(clnet__op_parse(ctx, &clnet__op_conv2d, CONV, "test", &params), CLNET_OK);
    const clnet_shape big = {5, 12, 11, 32}, small = {2, 12, 11, 32};
    const size_t nx = clnet__shape_count(small), ny = nx;
    float *x = clnet_test_random(nx, 4), *w = clnet_test_random(9 * 32 * 32, 5),
          *b = clnet_test_random(32, 6);
    float *y5 = malloc(ny * sizeof *y5), *y2 = malloc(ny * sizeof *y2);
    for (const char *const *algo = (const char *const[]){"winograd", "im2col", NULL}; *algo;
         ++algo) {
        snprintf(ctx->conv_algo, sizeof ctx->conv_algo, "%s", *algo);
        clnet__op_alone a5, a2;
        cr_assert_eq(clnet__op_alone_prepare(ctx, &clnet__op_conv2d, params, &big, 1, 1, &a5),
                     CLNET_OK);
        cr_assert_eq(clnet__op_alone_prepare(ctx, &clnet__op_conv2d, params, &small, 1, 1, &a2),
                     CLNET_OK);
        for (int k = 0; k < CLNET_SCRATCH_COUNT; ++k)
            cr_expect_geq(a5.exec.scratch[0][k], a2.exec.scratch[0][k], "%s scratch %d", *algo, k);
        conv_forward(ctx, params, &a5, small, x, w, b, y5);
        conv_forward(ctx, params, &a2, small, x, w, b, y2);
        cr_expect(memcmp(y5, y2, ny * sizeof *y5) == 0, "%s: batch 2 on the record of 5", *algo);
        clnet__op_alone_release(&a5);
        clnet__op_alone_release(&a2);
    }
    ctx->conv_algo[0] = '\0';
    free(x);
    free(w);
    free(b);
    free(y5);
    free(y2);
    free(params);
}

/* Scratch is never grown at run time: a call given less than its record asked for fails
 * with an internal error naming the workspace, and writes nothing out of bounds. */
Test(prepare, too_little_scratch_is_an_error_not_an_allocation)
{
    clnet_context *ctx = clnet_test_device_class(CLNET_CLASS_CPU);
    void *params = NULL;
    cr_assert_eq(clnet__op_parse(ctx, &clnet__op_conv2d, CONV, "test", &params), CLNET_OK);
    const clnet_shape in = {2, 12, 11, 32};
    clnet__op_alone a;
    snprintf(ctx->conv_algo, sizeof ctx->conv_algo, "im2col");
    cr_assert_eq(clnet__op_alone_prepare(ctx, &clnet__op_conv2d, params, &in, 1, 0, &a), CLNET_OK);
    ctx->conv_algo[0] = '\0';
    cr_assert_gt(a.scratch.bytes[CLNET_SCRATCH_COL], 0);
    a.scratch.bytes[CLNET_SCRATCH_COL] -= sizeof(float);
    clnet_tensor *tx = clnet_test_tensor(ctx, in, NULL),
                 *ty = clnet_test_tensor(ctx, (clnet_shape){2, 12, 11, 32}, NULL);
    clnet_tensor *tw[2] = {clnet_test_tensor(ctx, (clnet_shape){3, 3, 32, 32}, NULL),
                           clnet_test_tensor(ctx, (clnet_shape){1, 1, 1, 32}, NULL)};
    const clnet__op_call call = {.ctx = ctx,
                                 .params = params,
                                 .n_in = 1,
                                 .in = &tx,
                                 .out = ty,
                                 .n_w = 2,
                                 .w = tw,
                                 .exec = &a.exec,
                                 .scratch = &a.scratch};
    cr_expect_eq(clnet__op_conv2d.forward(&call), CLNET_ERR_INTERNAL);
    cr_expect(strstr(clnet_context_error(ctx), "im2col workspace") != NULL, "%s",
              clnet_context_error(ctx));
    clnet__op_alone_release(&a);
    clnet_tensor_destroy(tx);
    clnet_tensor_destroy(ty);
    clnet_tensor_destroy(tw[0]);
    clnet_tensor_destroy(tw[1]);
    free(params);
}
