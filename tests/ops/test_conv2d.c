/* test_conv2d.c - conv2d against src/ref/conv2d.c on every class, values computed by
 * hand, parse and shape errors, a batch split into several im2col / Winograd chunks, and
 * grouped convolutions (against the reference, against depthwise_conv2d, their errors and
 * parameter counts), and every path's output written strided into a wider tensor. The Winograd
 * path's own cases: test_conv2d_winograd.c. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/support.h"

/* 1x1 stride 2 (the downsampling shortcut), 3x3 'same' and 'valid' on odd sizes with
 * float16 tails (17, 33 channels), one-sided and symmetric explicit padding, 5x5, a
 * rectangular 3x1 kernel, 'same' on a 1x1 image, and the 1x1 direct-GEMM path with a
 * residual and relu6 (scaled so pre-activations cross 0 and 6). */
static const clnet__op_case conv2d_extra_cases[] = {
    {"filters = 7\nkernel_size = 1\nstrides = 2", 1, {{3, 7, 9, 6}}, 0},
    {"filters = 33\nkernel_size = 3\npadding = same", 1, {{1, 5, 7, 17}}, 0},
    {"filters = 4\nkernel_size = 3\nactivation = relu", 1, {{3, 6, 5, 33}}, 0},
    {"filters = 5\nkernel_size = 3\nstrides = 2\npadding = 0, 1, 0, 1", 1, {{1, 6, 6, 5}}, 0},
    {"filters = 3\nkernel_size = 3\nstrides = 2\npadding = 1, 2\nactivation = relu6",
     1,
     {{3, 7, 6, 3}},
     6.0f},
    {"filters = 3\nkernel_size = 5\npadding = same\nactivation = relu", 1, {{1, 7, 6, 3}}, 0},
    {"filters = 6\nkernel_size = 3, 1\nstrides = 2, 1\npadding = same", 1, {{3, 7, 4, 5}}, 0},
    {"filters = 17\nkernel_size = 3\npadding = same\nuse_bias = false", 1, {{3, 1, 1, 16}}, 0},
    {"filters = 3\nkernel_size = 3\nstrides = 2", 1, {{1, 9, 9, 3}}, 0},
    {"filters = 16\nkernel_size = 1\nuse_bias = false\nactivation = relu6",
     2,
     {{3, 4, 3, 33}, {3, 4, 3, 16}},
     4.0f},
    {"filters = 5\nkernel_size = 3\nstrides = 2\npadding = same\nactivation = relu6",
     2,
     {{3, 5, 5, 5}, {3, 3, 3, 5}},
     4.0f},
    /* The epilogue in the packed GEMM's store: k = 3*3*233 > 2048 splits k over two
     * launches on the cpu class (bias and residual in the first, the saved pre-activation
     * of swish and the activation in the last); 40 columns, a whole 32-column tile and a
     * partial one, with a residual and gelu. */
    {"filters = 5\nkernel_size = 3\npadding = same\nactivation = swish",
     2,
     {{1, 3, 4, 233}, {1, 3, 4, 5}},
     0},
    {"filters = 40\nkernel_size = 1\nactivation = gelu", 2, {{2, 5, 3, 9}, {2, 5, 3, 40}}, 0},
    /* Grouped: odd channels per group (3 in, 5 out; 11 in, 11 out), stride 2 'same' on odd
     * sizes, 1x1 grouped (the per-group GEMM on x itself), a residual with relu, a 1x1
     * image, groups = cin (depthwise-like) at 17 channels. A chunked batch: grouped_in_chunks. */
    {"filters = 10\nkernel_size = 3\nstrides = 2\npadding = same\ngroups = 2",
     1,
     {{3, 7, 5, 6}},
     0},
    {"filters = 20\nkernel_size = 3\nstrides = 2\npadding = same\ngroups = 4\nactivation = relu",
     1,
     {{1, 9, 9, 12}},
     0},
    {"filters = 33\nkernel_size = 3\npadding = same\ngroups = 3", 1, {{3, 5, 4, 33}}, 0},
    {"filters = 20\nkernel_size = 1\ngroups = 4\nuse_bias = false", 1, {{3, 4, 5, 12}}, 0},
    {"filters = 6\nkernel_size = 3\npadding = same\ngroups = 2\nactivation = relu",
     2,
     {{3, 5, 5, 4}, {3, 5, 5, 6}},
     0},
    {"filters = 8\nkernel_size = 3\npadding = same\ngroups = 4", 1, {{3, 1, 1, 8}}, 0},
    {"filters = 17\nkernel_size = 3\npadding = same\ngroups = 17", 1, {{1, 6, 5, 17}}, 0},
    {"filters = 15\nkernel_size = 5\npadding = 2, 1\ngroups = 5", 1, {{3, 6, 7, 10}}, 0},
};

CLNET_TEST_OP(conv2d)

/* Runs op (conv2d, depthwise_conv2d) forward on the device: x (shape in), kernel w,
 * optional bias b (one per output channel). */
static clnet_status run_forward(clnet_context *ctx, const char *name, const char *spec,
                                clnet_shape in, const float *x, clnet_shape wshape, const float *w,
                                const float *b, float *y, size_t ny)
{
    const clnet__op_desc *op = clnet__op_find(name);
    void *params = NULL;
    clnet_tensor *tx = NULL, *tw = NULL, *tb = NULL, *ty = NULL;
    clnet_shape out;
    clnet_status st = clnet__op_parse(ctx, op, spec, "test", &params);
    if (st == CLNET_OK)
        st = op->infer(ctx, params, &in, 1, &out);
    if (st == CLNET_OK && clnet__shape_count(out) != ny)
        st = clnet__fail(ctx, CLNET_ERR_SHAPE, "unexpected output size %zu",
                         clnet__shape_count(out));
    if (st == CLNET_OK)
        st = clnet_tensor_create(ctx, in, &tx);
    if (st == CLNET_OK)
        st = clnet_tensor_create(ctx, wshape, &tw);
    if (st == CLNET_OK && b)
        st = clnet_tensor_create(ctx, (clnet_shape){1, 1, 1, out.c}, &tb);
    if (st == CLNET_OK)
        st = clnet_tensor_create(ctx, out, &ty);
    if (st == CLNET_OK)
        st = clnet_tensor_write(tx, x, clnet__shape_count(in));
    if (st == CLNET_OK)
        st = clnet_tensor_write(tw, w, clnet__shape_count(wshape));
    if (st == CLNET_OK && b)
        st = clnet_tensor_write(tb, b, (size_t)out.c);
    clnet__op_alone a = {0};
    if (st == CLNET_OK)
        st = clnet__op_alone_prepare(ctx, op, params, &in, 1, 0, &a);
    if (st == CLNET_OK) {
        clnet_tensor *ins[1] = {tx}, *ws[2] = {tw, tb};
        const clnet__op_call call = {.ctx = ctx,
                                     .params = params,
                                     .n_in = 1,
                                     .in = ins,
                                     .out = ty,
                                     .n_w = b ? 2 : 1,
                                     .w = ws,
                                     .exec = &a.exec,
                                     .scratch = &a.scratch};
        st = op->forward(&call);
    }
    clnet__op_alone_release(&a);
    if (st == CLNET_OK)
        st = clnet_tensor_read(ty, y, ny);
    clnet_tensor_destroy(tx);
    clnet_tensor_destroy(tw);
    clnet_tensor_destroy(tb);
    clnet_tensor_destroy(ty);
    free(params);
    return st;
}

CLNET_TEST_CLASS_PARAMS(conv2d, known_values)

/* x = 1..9 in a 3x3 image. Kernel 2x2 {1, 2; 3, 4} 'valid' + bias 0.5: the top-left
 * output is 1*1 + 2*2 + 4*3 + 5*4 + 0.5 = 37.5. A 3x3 kernel of ones 'same' sums each
 * 3x3 neighbourhood: corner 1+2+4+5 = 12, centre 45. Two filters with relu: the second
 * filter is the negated first, so relu zeroes it. */
ParameterizedTest(clnet_device_class *cls, conv2d, known_values)
{
    clnet_context *ctx = clnet_test_device_class(*cls);
    const float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const clnet_shape in = {1, 3, 3, 1};

    const float w2[4] = {1, 2, 3, 4}, bias = 0.5f;
    float y2[4];
    clnet_status st = run_forward(ctx, "conv2d", "filters = 1\nkernel_size = 2", in, x,
                                  (clnet_shape){2, 2, 1, 1}, w2, &bias, y2, 4);
    cr_assert_eq(st, CLNET_OK, "%s", clnet_context_error(ctx));
    const float want2[4] = {37.5f, 47.5f, 67.5f, 77.5f};
    for (int i = 0; i < 4; ++i)
        cr_expect_eq(y2[i], want2[i], "valid 2x2: y[%d] = %g, want %g", i, (double)y2[i],
                     (double)want2[i]);

    float w3[18], y3[18];
    for (int i = 0; i < 18; ++i)
        w3[i] = i % 2 ? -1.0f : 1.0f; /* {kh, kw, cin = 1, cout = 2}: filter 1 is -filter 0 */
    st = run_forward(ctx, "conv2d",
                     "filters = 2\nkernel_size = 3\npadding = same\nuse_bias = false\n"
                     "activation = relu",
                     in, x, (clnet_shape){3, 3, 1, 2}, w3, NULL, y3, 18);
    cr_assert_eq(st, CLNET_OK, "%s", clnet_context_error(ctx));
    const float want3[9] = {12, 21, 16, 27, 45, 33, 24, 39, 28};
    for (int i = 0; i < 9; ++i) {
        cr_expect_eq(y3[2 * i], want3[i], "same 3x3: y[%d] = %g, want %g", i, (double)y3[2 * i],
                     (double)want3[i]);
        cr_expect_eq(y3[2 * i + 1], 0.0f, "relu of the negated filter at %d: %g", i,
                     (double)y3[2 * i + 1]);
    }
}

Test(conv2d, parse_errors_name_the_key)
{
    clnet_test_expect_parse_error("conv2d", "kernel_size = 3", "filters");
    clnet_test_expect_parse_error("conv2d", "filters = 8", "kernel_size");
    clnet_test_expect_parse_error("conv2d", "filters = 8\nkernel_size = 3\npadding = bogus",
                                  "padding");
    clnet_test_expect_parse_error("conv2d", "filters = 8\nkernel_size = 3\npadding = 1, 2, 3",
                                  "padding");
    clnet_test_expect_parse_error("conv2d", "filters = 0\nkernel_size = 3", "filters");
    clnet_test_expect_parse_error("conv2d", "filters = 8\nkernel_size = 3\nstrides = 0", "strides");
    clnet_test_expect_parse_error("conv2d", "filters = 8\nkernel_size = 3\ndilation_rate = 2",
                                  "dilation");
    clnet_test_expect_parse_error("conv2d", "filters = 8\nkernel_size = 3\nactivation = mish",
                                  "activation");
    clnet_test_expect_parse_error("conv2d", "filters = 9\nkernel_size = 3\ngroups = 2", "groups");
    clnet_test_expect_parse_error("conv2d", "filters = 8\nkernel_size = 3\ngroups = 0", "groups");
}

/* infer's error for in[0 .. n_in), which must name every needle. */
static void expect_shape_error(const char *spec, const clnet_shape *in, int n_in,
                               const char *const *needles, int n_needles)
{
    clnet_context *ctx = clnet_test_device();
    const clnet__op_desc *op = clnet__op_find("conv2d");
    void *params = NULL;
    cr_assert_eq(clnet__op_parse(ctx, op, spec, "test", &params), CLNET_OK);
    clnet_shape out;
    clnet_status st = op->infer(ctx, params, in, n_in, &out);
    free(params);
    cr_expect_eq(st, CLNET_ERR_SHAPE, "\"%s\": %s", spec, clnet_status_string(st));
    for (int i = 0; i < n_needles; ++i)
        cr_expect(strstr(clnet_context_error(ctx), needles[i]) != NULL,
                  "message \"%s\" does not name %s", clnet_context_error(ctx), needles[i]);
}

Test(conv2d, shape_errors_name_the_shapes)
{
    const clnet_shape res[2] = {{1, 4, 4, 3}, {1, 4, 4, 7}};
    const char *const res_needles[] = {"1x4x4x7", "1x4x4x8", "residual"};
    expect_shape_error("filters = 8\nkernel_size = 3\npadding = same", res, 2, res_needles, 3);
    const clnet_shape small[1] = {{2, 2, 5, 3}};
    const char *const small_needles[] = {"2x2x5x3", "3x3"};
    expect_shape_error("filters = 8\nkernel_size = 3", small, 1, small_needles, 2);
    const clnet_shape odd[1] = {{1, 4, 4, 6}};
    const char *const odd_needles[] = {"groups = 4", "input channels (6", "1x4x4x6"};
    expect_shape_error("filters = 8\nkernel_size = 3\ngroups = 4", odd, 1, odd_needles, 3);
}

CLNET_TEST_CLASS_PARAMS(conv2d, groups_equal_to_channels_is_depthwise)

/* A grouped convolution with groups = cin = filters is a depthwise convolution: its kernel
 * {kh, kw, 1, cin} has the very layout of depthwise_conv2d's {kh, kw, cin, 1}, so the
 * same weights and bias give the same output (to rounding: the sums run in other orders). */
ParameterizedTest(clnet_device_class *cls, conv2d, groups_equal_to_channels_is_depthwise)
{
    clnet_context *ctx = clnet_test_device_class(*cls);
    const clnet_shape in = {3, 7, 6, 17}, out = {3, 4, 3, 17};
    const size_t nx = clnet__shape_count(in), ny = clnet__shape_count(out);
    float *x = clnet_test_random(nx, 3), *w = clnet_test_random(9 * 17, 4);
    float *b = clnet_test_random(17, 5), got[3 * 4 * 3 * 17];
    float want[3 * 4 * 3 * 17];
    cr_assert_eq(run_forward(ctx, "conv2d",
                             "filters = 17\nkernel_size = 3\nstrides = 2\npadding = same\n"
                             "groups = 17",
                             in, x, (clnet_shape){3, 3, 1, 17}, w, b, got, ny),
                 CLNET_OK, "%s", clnet_context_error(ctx));
    cr_assert_eq(run_forward(ctx, "depthwise_conv2d",
                             "kernel_size = 3\nstrides = 2\npadding = same", in, x,
                             (clnet_shape){3, 3, 17, 1}, w, b, want, ny),
                 CLNET_OK, "%s", clnet_context_error(ctx));
    for (size_t i = 0; i < ny; ++i)
        cr_assert_float_eq(got[i], want[i], 1e-5f, "y[%zu] = %g, depthwise %g", i, (double)got[i],
                           (double)want[i]);
    free(x);
    free(w);
    free(b);
}

/* A ResNeXt block's 3x3: 128 channels in 32 groups hold 3 * 3 * 4 * 128 weights + 128
 * biases, and cost a 32nd of the ungrouped multiply-adds. */
Test(conv2d, grouped_parameters_count_cin_over_groups)
{
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_create(&g), CLNET_OK);
    clnet_layer x = clnet_graph_input(g, "image", 8, 8, 128);
    clnet_graph_layer(g, "conv2d", NULL,
                      "filters = 128\nkernel_size = 3\npadding = same\ngroups = 32", &x, 1);
    cr_assert_eq(clnet_graph_status(g), CLNET_OK, "%s", clnet_graph_error(g));
    cr_expect_eq(clnet_graph_params(g).total, 3 * 3 * 4 * 128 + 128, "total %lld",
                 (long long)clnet_graph_params(g).total);
    cr_expect_eq(clnet_graph_flops(g), 8.0 * 8 * 128 * 3 * 3 * 4);
    clnet_graph_destroy(g);
}

/* A device whose max allocation holds the workspace of two images, not five: forward, dW
 * (accumulated over the chunks) and dX run in chunks, with algo ("im2col", "winograd")
 * forced through the context's $CLNET_CONV_ALGO. im2col: one image's column matrix is 10 * 10
 * pixels x 3 * 3 * 8 taps = 28.8 KB, chunks 2, 2, 1; Winograd: one image's V + M is 25 tiles x 16 x
 * (8 + 6) floats = 22.4 KB, chunks 3, 2 (dW by im2col). Every other buffer of the case
 * stays below the 80 KiB limit. */
static void check_in_chunks(clnet_device_class cls, const char *algo, const char *params)
{
    clnet_context *ctx = clnet_test_device_class(cls);
    const clnet__op_case c = {params, 2, {{5, 10, 10, 8}, {5, 10, 10, 6}}, 0};
    snprintf(ctx->conv_algo, sizeof ctx->conv_algo, "%s", algo);
    const uint64_t keep = ctx->info.max_alloc_bytes;
    ctx->info.max_alloc_bytes = 80 << 10;
    clnet_test_check cc = {clnet_device_class_name(cls)};
    int failed = 0;
    clnet_status st = clnet__op_check(ctx, clnet__op_find("conv2d"), &c, 31, 1e-4,
                                      clnet_test_expect_row, &cc, &failed);
    ctx->info.max_alloc_bytes = keep;
    ctx->conv_algo[0] = '\0';
    cr_expect_eq(st, CLNET_OK, "%s %s: %s", algo, clnet_status_string(st),
                 clnet_context_error(ctx));
}

CLNET_TEST_CLASS_PARAMS(conv2d, im2col_in_chunks)

ParameterizedTest(clnet_device_class *cls, conv2d, im2col_in_chunks)
{
    check_in_chunks(*cls, "im2col",
                    "filters = 6\nkernel_size = 3\npadding = same\nactivation = relu");
}

CLNET_TEST_CLASS_PARAMS(conv2d, grouped_in_chunks)

/* The same chunks with 2 groups: each chunk runs one GEMM per group (and so does dW's
 * accumulation over chunks). */
ParameterizedTest(clnet_device_class *cls, conv2d, grouped_in_chunks)
{
    check_in_chunks(*cls, "im2col",
                    "filters = 6\nkernel_size = 3\npadding = same\nactivation = relu\ngroups = 2");
}

CLNET_TEST_CLASS_PARAMS(conv2d, winograd_in_chunks)

ParameterizedTest(clnet_device_class *cls, conv2d, winograd_in_chunks)
{
    check_in_chunks(*cls, "winograd",
                    "filters = 6\nkernel_size = 3\npadding = same\nactivation = relu");
}

/* The ResNet stem: 112 x 112 outputs of 64 filters, 7 * 7 * 3 multiply-adds each. */
Test(conv2d, flops_are_multiply_adds)
{
    const clnet__op_desc *op = clnet__op_find("conv2d");
    void *params = NULL;
    cr_assert_eq(clnet__op_parse(clnet_test_device(), op,
                                 "filters = 64\nkernel_size = 7\nstrides = 2\npadding = same",
                                 "test", &params),
                 CLNET_OK);
    const clnet_shape in = {2, 224, 224, 3};
    clnet_shape out;
    cr_assert_eq(op->infer(clnet_test_device(), params, &in, 1, &out), CLNET_OK);
    cr_expect(clnet__shape_eq(out, (clnet_shape){2, 112, 112, 64}));
    cr_expect_eq(op->flops(params, &in, 1, out), 2.0 * 112 * 112 * 64 * 7 * 7 * 3);
    free(params);
}

/* Forward of conv2d (spec) on random inputs in[0..n_in) and weights, as prepared with algo
 * forced: into its own tensor (out_stride 0) into got, or (wide > 0) as channels [off, off +
 * cout) of a wide-channel tensor first filled with 7 (the memory plan's in-place
 * concatenation), whose every float comes back in got. */
static clnet_status run_strided(clnet_context *ctx, const char *spec, const clnet_shape *in,
                                int n_in, int wide, int off, float *got, clnet_shape *out)
{
    const clnet__op_desc *op = clnet__op_find("conv2d");
    void *params = NULL;
    clnet_tensor *t[2] = {NULL, NULL}, *w[2] = {NULL, NULL}, *y = NULL;
    clnet__weight_desc wd[CLNET_MAX_WEIGHTS];
    clnet__op_alone a = {0};
    int n_w = 0;
    clnet_status st = clnet__op_parse(ctx, op, spec, "test", &params);
    if (st == CLNET_OK)
        st = op->infer(ctx, params, in, n_in, out);
    if (st == CLNET_OK)
        n_w = op->weights(params, in, n_in, wd);
    for (int i = 0; st == CLNET_OK && i < n_in + n_w; ++i) {
        const clnet_shape s = i < n_in ? in[i] : wd[i - n_in].shape;
        clnet_tensor **dst = i < n_in ? &t[i] : &w[i - n_in];
        float *r = clnet_test_random(clnet__shape_count(s), 40 + (uint64_t)i);
        st = clnet_tensor_create(ctx, s, dst);
        if (st == CLNET_OK)
            st = clnet_tensor_write(*dst, r, clnet__shape_count(s));
        free(r);
    }
    clnet_shape ys = *out;
    ys.c = wide ? wide : out->c;
    if (st == CLNET_OK)
        st = clnet_tensor_create(ctx, ys, &y);
    if (st == CLNET_OK)
        st = clnet_tensor_fill(y, 7.0f);
    if (st == CLNET_OK)
        st = clnet__op_alone_prepare(ctx, op, params, in, n_in, 0, &a);
    if (st == CLNET_OK) {
        clnet_tensor view = *y;
        view.shape = *out; /* the value's own shape, on the wide buffer */
        view.count = clnet__shape_count(*out);
        const clnet__op_call call = {.ctx = ctx,
                                     .params = params,
                                     .n_in = n_in,
                                     .in = t,
                                     .out = &view,
                                     .n_w = n_w,
                                     .w = w,
                                     .exec = &a.exec,
                                     .scratch = &a.scratch,
                                     .out_stride = wide,
                                     .out_offset = (size_t)off};
        cr_expect(a.exec.strided_out, "conv2d's record allows a strided output");
        st = op->forward(&call);
    }
    if (st == CLNET_OK)
        st = clnet_tensor_read(y, got, clnet__shape_count(ys));
    clnet__op_alone_release(&a);
    for (int i = 0; i < 2; ++i) {
        clnet_tensor_destroy(t[i]);
        clnet_tensor_destroy(w[i]);
    }
    clnet_tensor_destroy(y);
    free(params);
    return st;
}

/* Each forward path (the 1x1 GEMM, im2col in chunks, grouped, Winograd in chunks, the
 * implicit GEMM, with a residual) written as channels [off, off + cout) of a wider tensor gives its
 * own output there, to the float, and leaves every other channel as it was. */
static void check_strided(clnet_device_class cls, const char *algo, const char *spec, int n_in,
                          clnet_shape x)
{
    clnet_context *ctx = clnet_test_device_class(cls);
    snprintf(ctx->conv_algo, sizeof ctx->conv_algo, "%s", algo);
    const uint64_t keep = ctx->info.max_alloc_bytes;
    ctx->info.max_alloc_bytes = 80 << 10; /* several im2col / Winograd chunks */
    clnet_shape in[2] = {x, x}, out;
    const clnet__op_desc *op = clnet__op_find("conv2d");
    void *params = NULL;
    cr_assert_eq(clnet__op_parse(ctx, op, spec, "test", &params), CLNET_OK);
    cr_assert_eq(op->infer(ctx, params, in, 1, &out), CLNET_OK);
    free(params);
    in[1] = out; /* the residual */
    const int off = 3, wide = out.c + 5;
    const size_t pixels = clnet__shape_count(out) / (size_t)out.c;
    float *want = malloc(clnet__shape_count(out) * sizeof *want);
    float *got = malloc(pixels * (size_t)wide * sizeof *got);
    clnet_status st = run_strided(ctx, spec, in, n_in, 0, 0, want, &out);
    cr_assert_eq(st, CLNET_OK, "%s", clnet_context_error(ctx));
    st = run_strided(ctx, spec, in, n_in, wide, off, got, &out);
    ctx->info.max_alloc_bytes = keep;
    ctx->conv_algo[0] = '\0';
    cr_assert_eq(st, CLNET_OK, "%s", clnet_context_error(ctx));
    int bad = 0;
    for (size_t p = 0; p < pixels; ++p)
        for (int c = 0; c < wide; ++c) {
            const float g = got[p * (size_t)wide + (size_t)c];
            const int inside = c >= off && c < off + out.c;
            const float w = inside ? want[p * (size_t)out.c + (size_t)(c - off)] : 7.0f;
            if (g != w && bad++ < 5)
                cr_expect_eq(g, w, "%s %s: pixel %zu channel %d: %g, want %g", algo, spec, p, c,
                             (double)g, (double)w);
        }
    cr_expect_eq(bad, 0, "%s: %d floats differ", algo, bad);
    free(want);
    free(got);
}

CLNET_TEST_CLASS_PARAMS(conv2d, strided_output_into_wider_tensor)

ParameterizedTest(clnet_device_class *cls, conv2d, strided_output_into_wider_tensor)
{
    const clnet_shape x = {5, 10, 9, 8};
    check_strided(*cls, "im2col", "filters = 6\nkernel_size = 1\nactivation = relu", 1, x);
    check_strided(*cls, "im2col", "filters = 17\nkernel_size = 1\nuse_bias = false", 1, x);
    check_strided(*cls, "im2col", "filters = 6\nkernel_size = 3\npadding = same\nactivation = relu",
                  1, x);
    check_strided(*cls, "im2col",
                  "filters = 6\nkernel_size = 3\nstrides = 2\npadding = same\ngroups = 2", 1, x);
    check_strided(*cls, "winograd",
                  "filters = 6\nkernel_size = 3\npadding = same\nactivation = relu", 1, x);
    check_strided(*cls, "winograd", "filters = 6\nkernel_size = 3\npadding = same", 2, x);
    check_strided(*cls, "im2col", "filters = 5\nkernel_size = 3\nactivation = relu6", 2,
                  (clnet_shape){3, 7, 6, 5});
    check_strided(*cls, "implicit",
                  "filters = 6\nkernel_size = 3\npadding = same\nactivation = relu", 1, x);
    check_strided(*cls, "implicit", "filters = 5\nkernel_size = 3\nactivation = relu6", 2,
                  (clnet_shape){3, 7, 6, 5});
}
