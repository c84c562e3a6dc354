/* test_depthwise_conv2d.c - depthwise_conv2d against src/ref/depthwise_conv2d.c on every
 * class, plus known values, Keras 'same' padding, the channel order, deterministic
 * weight gradients, parse and shape errors. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/support.h"

static const clnet__op_case depthwise_conv2d_extra_cases[] = {
    {"kernel_size = 3\nstrides = 2\npadding = same", 1, {{3, 8, 8, 4}}, 0},
    {"kernel_size = 3\nstrides = 2", 1, {{1, 7, 9, 17}}, 0},
    {"kernel_size = 3\npadding = 0, 1, 1, 0\nactivation = relu", 1, {{1, 5, 6, 16}}, 0},
    {"kernel_size = 3\npadding = same", 1, {{3, 1, 1, 33}}, 0},
    {"kernel_size = 2\npadding = same", 1, {{1, 5, 5, 3}}, 0},
    {"kernel_size = 3, 1\nstrides = 1, 2\npadding = 1, 0", 1, {{1, 6, 7, 1}}, 0},
    {"kernel_size = 5\npadding = same", 1, {{1, 3, 3, 2}}, 0},
    {"kernel_size = 3\nstrides = 2\npadding = 1\ndepth_multiplier = 2\nactivation = relu6",
     1,
     {{3, 5, 6, 9}},
     5.0f},
    {"kernel_size = 3\nstrides = 3\npadding = same", 1, {{1, 10, 11, 18}}, 0},
    {"kernel_size = 3\npadding = same", 1, {{3, 15, 15, 17}}, 0}, /* several reduction blocks */
    {"kernel_size = 5\nstrides = 2\npadding = same\nactivation = relu", 1, {{1, 6, 5, 19}}, 0},
};

CLNET_TEST_OP(depthwise_conv2d)

static const clnet__op_desc *op(void)
{
    const clnet__op_desc *d = clnet__op_find("depthwise_conv2d");
    cr_assert_not_null(d);
    return d;
}

static void *parse(clnet_context *ctx, const char *text)
{
    void *p = NULL;
    clnet_status st = clnet__op_parse(ctx, op(), text, "test", &p);
    cr_assert_eq(st, CLNET_OK, "%s: %s", text, clnet_context_error(ctx));
    return p;
}

/* Forward of params on class cls with the given input and weights; out gets the output. */
static void run_forward(clnet_device_class cls, const char *params, clnet_shape in_shape,
                        const float *x, const float *kernel, const float *bias, float *out)
{
    clnet_context *ctx = clnet_test_device_class(cls);
    void *p = parse(ctx, params);
    clnet_shape out_shape;
    cr_assert_eq(op()->infer(ctx, p, &in_shape, 1, &out_shape), CLNET_OK);
    clnet__weight_desc wd[CLNET_MAX_WEIGHTS];
    const int n_w = op()->weights(p, &in_shape, 1, wd);
    clnet_tensor *in = clnet_test_tensor(ctx, in_shape, x),
                 *y = clnet_test_tensor(ctx, out_shape, NULL);
    clnet_tensor *w[2] = {clnet_test_tensor(ctx, wd[0].shape, kernel),
                          n_w > 1 ? clnet_test_tensor(ctx, wd[1].shape, bias) : NULL};
    clnet__op_alone a;
    cr_assert_eq(clnet__op_alone_prepare(ctx, op(), p, &in_shape, 1, 0, &a), CLNET_OK);
    clnet__op_call call = {.ctx = ctx,
                           .params = p,
                           .n_in = 1,
                           .in = &in,
                           .out = y,
                           .n_w = n_w,
                           .w = w,
                           .exec = &a.exec,
                           .scratch = &a.scratch};
    cr_assert_eq(op()->forward(&call), CLNET_OK, "%s", clnet_context_error(ctx));
    clnet_test_read(y, out);
    clnet__op_alone_release(&a);
    clnet_tensor_destroy(in);
    clnet_tensor_destroy(y);
    clnet_tensor_destroy(w[0]);
    clnet_tensor_destroy(w[1]);
    free(p);
}

ParameterizedTestParameters(depthwise_conv2d, same_padding_counts_taps)
{
    return cr_make_param_array(clnet_device_class, (void *)clnet_test_classes, 3);
}

/* Ones through a 3x3 kernel of ones: each output counts the taps inside the input. */
ParameterizedTest(clnet_device_class *cls, depthwise_conv2d, same_padding_counts_taps)
{
    float x[9], k[9], y[9];
    for (int i = 0; i < 9; ++i)
        x[i] = k[i] = 1.0f;
    run_forward(*cls, "kernel_size = 3\npadding = same\nuse_bias = false",
                (clnet_shape){1, 3, 3, 1}, x, k, NULL, y);
    const float want[9] = {4, 6, 4, 6, 9, 6, 4, 6, 4};
    for (int i = 0; i < 9; ++i)
        cr_expect_eq(y[i], want[i], "[%d] got %g, want %g", i, y[i], want[i]);
}

ParameterizedTestParameters(depthwise_conv2d, keras_same_pads_after_on_even_sizes)
{
    return cr_make_param_array(clnet_device_class, (void *)clnet_test_classes, 3);
}

/* 4x4 input 1..16, k3 s2 same: out 2x2, total padding 1 goes after (bottom / right). */
ParameterizedTest(clnet_device_class *cls, depthwise_conv2d, keras_same_pads_after_on_even_sizes)
{
    float x[16], k[9], y[4];
    for (int i = 0; i < 16; ++i)
        x[i] = (float)(i + 1);
    for (int i = 0; i < 9; ++i)
        k[i] = 1.0f;
    run_forward(*cls, "kernel_size = 3\nstrides = 2\npadding = same\nuse_bias = false",
                (clnet_shape){1, 4, 4, 1}, x, k, NULL, y);
    const float want[4] = {1 + 2 + 3 + 5 + 6 + 7 + 9 + 10 + 11, 3 + 4 + 7 + 8 + 11 + 12,
                           9 + 10 + 11 + 13 + 14 + 15, 11 + 12 + 15 + 16};
    for (int i = 0; i < 4; ++i)
        cr_expect_eq(y[i], want[i], "[%d] got %g, want %g", i, y[i], want[i]);
}

ParameterizedTestParameters(depthwise_conv2d, output_channels_are_ci_times_mult_plus_m)
{
    return cr_make_param_array(clnet_device_class, (void *)clnet_test_classes, 3);
}

/* kernel[0][0][ci][m] = {{1, 2}, {3, 4}}, x = {1, 10}: y = {1, 2, 30, 40} plus the bias. */
ParameterizedTest(clnet_device_class *cls, depthwise_conv2d,
                  output_channels_are_ci_times_mult_plus_m)
{
    const float x[2] = {1, 10}, k[4] = {1, 2, 3, 4}, b[4] = {0.5f, 0, 0, -1};
    float y[4];
    run_forward(*cls, "kernel_size = 1\ndepth_multiplier = 2", (clnet_shape){1, 1, 1, 2}, x, k, b,
                y);
    const float want[4] = {1.5f, 2, 30, 39};
    for (int i = 0; i < 4; ++i)
        cr_expect_eq(y[i], want[i], "[%d] got %g, want %g", i, y[i], want[i]);
}

ParameterizedTestParameters(depthwise_conv2d, weight_gradients_repeat_bitwise)
{
    return cr_make_param_array(clnet_device_class, (void *)clnet_test_classes, 3);
}

/* Fixed-order reductions: two backward passes give the very same bits. */
ParameterizedTest(clnet_device_class *cls, depthwise_conv2d, weight_gradients_repeat_bitwise)
{
    clnet_context *ctx = clnet_test_device_class(*cls);
    void *p = parse(ctx, "kernel_size = 3\npadding = same\nactivation = relu");
    const clnet_shape s = {3, 19, 17, 21};
    clnet__weight_desc wd[CLNET_MAX_WEIGHTS];
    cr_assert_eq(op()->weights(p, &s, 1, wd), 2);
    float *x = clnet_test_random(clnet__shape_count(s), 1),
          *dy = clnet_test_random(clnet__shape_count(s), 2);
    float *k = clnet_test_random(clnet__shape_count(wd[0].shape), 3);
    float *b = clnet_test_random(21, 4);
    clnet_tensor *in = clnet_test_tensor(ctx, s, x), *y = clnet_test_tensor(ctx, s, NULL),
                 *tdy = clnet_test_tensor(ctx, s, dy);
    clnet_tensor *w[2] = {clnet_test_tensor(ctx, wd[0].shape, k),
                          clnet_test_tensor(ctx, wd[1].shape, b)};
    clnet_tensor *dw[2] = {clnet_test_tensor(ctx, wd[0].shape, NULL),
                           clnet_test_tensor(ctx, wd[1].shape, NULL)};
    clnet_tensor *din[1] = {NULL};
    clnet__op_alone a;
    cr_assert_eq(clnet__op_alone_prepare(ctx, op(), p, &s, 1, 1, &a), CLNET_OK);
    clnet__op_call call = {.ctx = ctx,
                           .params = p,
                           .n_in = 1,
                           .in = &in,
                           .out = y,
                           .n_w = 2,
                           .w = w,
                           .training = 1,
                           .dout = tdy,
                           .din = din,
                           .dw = dw,
                           .exec = &a.exec,
                           .scratch = &a.scratch};
    cr_assert_eq(op()->forward(&call), CLNET_OK, "%s", clnet_context_error(ctx));
    /* Both gradients twice, then the kernel's alone and the bias's alone (other tap ranges). */
    float first[21 * 10], again[21 * 10];
    for (int pass = 0; pass < 4; ++pass) {
        clnet_tensor *want[2] = {pass == 3 ? NULL : dw[0], pass == 2 ? NULL : dw[1]};
        call.dw = want;
        cr_assert_eq(clnet_tensor_fill(dw[0], NAN), CLNET_OK);
        cr_assert_eq(clnet_tensor_fill(dw[1], NAN), CLNET_OK);
        cr_assert_eq(op()->backward(&call), CLNET_OK, "%s", clnet_context_error(ctx));
        float *dst = pass ? again : first;
        clnet_test_read(dw[0], dst);
        clnet_test_read(dw[1], dst + 9 * 21);
        const size_t from = pass == 3 ? 9 * 21 : 0, to = pass == 2 ? 9 * 21 : 10 * 21;
        cr_expect(memcmp(first + from, again + from, (to - from) * sizeof(float)) == 0 || !pass,
                  "pass %d differs", pass);
    }
    for (int i = 0; i < 2; ++i) {
        clnet_tensor_destroy(w[i]);
        clnet_tensor_destroy(dw[i]);
    }
    clnet__op_alone_release(&a);
    clnet_tensor_destroy(in);
    clnet_tensor_destroy(y);
    clnet_tensor_destroy(tdy);
    free(x);
    free(dy);
    free(k);
    free(b);
    free(p);
}

Test(depthwise_conv2d, shapes_weights_and_flops)
{
    clnet_context *ctx = clnet_test_device();
    void *p = parse(ctx, "kernel_size = 3\nstrides = 2\npadding = same\ndepth_multiplier = 2");
    const clnet_shape odd = {2, 7, 8, 4}, valid_in = {1, 5, 5, 3};
    clnet_shape out;
    cr_assert_eq(op()->infer(ctx, p, &odd, 1, &out), CLNET_OK);
    cr_expect(out.n == 2 && out.h == 4 && out.w == 4 && out.c == 8, "got %dx%dx%dx%d", out.n, out.h,
              out.w, out.c);
    cr_expect_eq(op()->flops(p, &odd, 1, out), 2.0 * 4 * 4 * 8 * 9);
    clnet__weight_desc wd[CLNET_MAX_WEIGHTS];
    cr_assert_eq(op()->weights(p, &odd, 1, wd), 2);
    cr_expect_str_eq(wd[0].name, "kernel");
    cr_expect(wd[0].shape.n == 3 && wd[0].shape.h == 3 && wd[0].shape.w == 4 && wd[0].shape.c == 2);
    cr_expect_eq(wd[0].init, CLNET_INIT_GLOROT_UNIFORM);
    cr_expect_str_eq(wd[1].name, "bias");
    cr_expect_eq(wd[1].shape.c, 8);
    free(p);

    p = parse(ctx, "kernel_size = 3\nuse_bias = false");
    cr_assert_eq(op()->infer(ctx, p, &valid_in, 1, &out), CLNET_OK);
    cr_expect(out.h == 3 && out.w == 3 && out.c == 3);
    cr_expect_eq(op()->weights(p, &valid_in, 1, wd), 1);
    free(p);

    p = parse(ctx, "kernel_size = 3\nstrides = 2\npadding = 0, 1, 2, 0");
    cr_assert_eq(op()->infer(ctx, p, &valid_in, 1, &out), CLNET_OK);
    cr_expect(out.h == 2 && out.w == 3, "got %dx%d", out.h, out.w);
    free(p);
}

Test(depthwise_conv2d, too_small_input_names_the_shape)
{
    clnet_test_expect_error("depthwise_conv2d", "kernel_size = 3", (clnet_shape){1, 2, 2, 3},
                            CLNET_ERR_SHAPE, "1x2x2x3", "3x3");
    clnet_test_expect_error("depthwise_conv2d", "kernel_size = 5\npadding = 0, 1, 0, 1",
                            (clnet_shape){2, 3, 9, 1}, CLNET_ERR_SHAPE, "2x3x9x1", "0, 1, 0, 1");
}

Test(depthwise_conv2d, parse_errors_name_the_key)
{
    static const char *const bad[][3] = {
        {"strides = 2", "kernel_size", "missing"},
        {"kernel_size = 0", "kernel_size", "positive"},
        {"kernel_size = 3\nstrides = 1, 0", "strides", "positive"},
        {"kernel_size = 3\npadding = full", "padding", "full"},
        {"kernel_size = 3\npadding = 1, 2, 3", "padding", "1, 2, 3"},
        {"kernel_size = 3\npadding = -1", "padding", "negative"},
        {"kernel_size = 3\ndepth_multiplier = 0", "depth_multiplier", "positive"},
        {"kernel_size = 3\nuse_bias = maybe", "use_bias", "maybe"},
        {"kernel_size = 3\nactivation = mish", "activation", "mish"},
        {"kernel_size = 3\nfilters = 8", "filters", "unknown"},
    };
    for (size_t i = 0; i < CLNET_COUNTOF(bad); ++i)
        clnet_test_expect_error("depthwise_conv2d", bad[i][0], (clnet_shape){1, 8, 8, 4},
                                CLNET_ERR_PARSE, bad[i][1], bad[i][2]);
}
