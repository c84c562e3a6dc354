/* test_max_pool.c - max_pool against src/ref/max_pool.c on every class, plus known values,
 * ties, padding that never wins, Keras 'same' on an even size, ceil_mode (PyTorch's values),
 * parse and shape errors. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "support/support.h"

static const clnet__op_case max_pool_extra_cases[] = {
    {"pool_size = 3\nstrides = 2\npadding = 1", 1, {{1, 1, 1, 5}}, 0},
    {"pool_size = 2, 3\nstrides = 1, 2\npadding = 0, 1, 1, 0", 1, {{1, 6, 7, 16}}, 0},
    {"pool_size = 3\nstrides = 2", 1, {{3, 7, 9, 16}}, 0},
    {"pool_size = 2\npadding = same", 1, {{1, 5, 5, 33}}, 0},
    {"pool_size = 1", 1, {{1, 3, 3, 1}}, 0},
    {"pool_size = 3\nstrides = 1\npadding = same", 1, {{1, 4, 3, 3}}, 0},
    /* ceil_mode: SqueezeNet's 3x3/2 on an odd and an even side, asymmetric padding, a
     * window narrower than its stride (gaps, then a clipped last window), a 1x1 input the
     * floor rule would refuse, batch 3 and 17 or 33 channels for the float16 tails. */
    {"pool_size = 3\nstrides = 2\nceil_mode = true", 1, {{1, 15, 16, 5}}, 0},
    {"pool_size = 3\nstrides = 2\npadding = 1, 0, 1, 2\nceil_mode = true", 1, {{2, 6, 9, 33}}, 0},
    {"pool_size = 2, 3\nstrides = 2, 3\nceil_mode = true", 1, {{3, 5, 7, 17}}, 0},
    {"pool_size = 2\nstrides = 3\nceil_mode = true", 1, {{1, 8, 7, 3}}, 0},
    {"pool_size = 2\nceil_mode = true", 1, {{3, 1, 1, 17}}, 0},
};

CLNET_TEST_OP(max_pool)

static void expect_pool(const char *params, clnet_shape in_shape, const float *in,
                        clnet_shape out_shape, const float *want, const float *dout,
                        const float *want_din)
{
    /* Maxima and their gradients are copied, never rounded. */
    clnet_test_expect_op("max_pool", params, in_shape, in, out_shape, want, dout, want_din, 0);
}

Test(max_pool, known_values_4x4)
{
    const float in[16] = {1, 9, 2, 3, 4, 0, 8, 7, -1, -2, 5, 6, -3, -4, 13, -5};
    const float want[4] = {9, 8, -1, 13}, dout[4] = {1, 2, 3, 4};
    const float want_din[16] = {0, 1, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 0, 0, 4, 0};
    expect_pool("", (clnet_shape){1, 4, 4, 1}, in, (clnet_shape){1, 2, 2, 1}, want, dout, want_din);
}

/* Equal values: the first cell in row-major order takes the gradient, on every lane of
 * the CPU float16 path (17 channels) and where overlapping windows share cells. */
Test(max_pool, ties_go_to_the_first_cell)
{
    float in[2 * 2 * 17], dout[17], want[17], want_din[2 * 2 * 17];
    for (int i = 0; i < 2 * 2 * 17; ++i) {
        in[i] = 0.5f;
        want_din[i] = 0.0f;
    }
    for (int ch = 0; ch < 17; ++ch) {
        want[ch] = 0.5f;
        dout[ch] = (float)(ch + 1);
        want_din[ch] = dout[ch];
    }
    expect_pool("", (clnet_shape){1, 2, 2, 17}, in, (clnet_shape){1, 1, 1, 17}, want, dout,
                want_din);

    /* 1x3 row of ties, pool 1x2 stride 1: both windows pick their left cell. */
    const float row[3] = {2, 2, 2}, row_out[2] = {2, 2}, row_dout[2] = {1, 10};
    const float row_din[3] = {1, 10, 0};
    expect_pool("pool_size = 1, 2\nstrides = 1", (clnet_shape){1, 1, 3, 1}, row,
                (clnet_shape){1, 1, 2, 1}, row_out, row_dout, row_din);
}

/* ResNet stem 3x3/2 with padding 1 on all-negative input: the zero padding never wins. */
Test(max_pool, padding_never_wins)
{
    float in[9], din_want[9];
    for (int i = 0; i < 9; ++i) {
        in[i] = -1.0f - (float)i;
        din_want[i] = 0.0f;
    }
    /* Windows: rows/cols {0,1} | {1,2} each: maxima at (0,0), (0,1), (1,0), (1,1). */
    const float want[4] = {-1, -2, -4, -5}, dout[4] = {1, 2, 3, 4};
    din_want[0] = 1;
    din_want[1] = 2;
    din_want[3] = 3;
    din_want[4] = 4;
    expect_pool("pool_size = 3\nstrides = 2\npadding = 1", (clnet_shape){1, 3, 3, 1}, in,
                (clnet_shape){1, 2, 2, 1}, want, dout, din_want);
}

/* 'same' on 4x4, pool 3, stride 2: total padding 1, all of it after (bottom, right). */
Test(max_pool, same_on_even_input_pads_after)
{
    float in[16];
    for (int i = 0; i < 16; ++i)
        in[i] = (float)i;
    const float want[4] = {10, 11, 14, 15};
    expect_pool("pool_size = 3\nstrides = 2\npadding = same", (clnet_shape){1, 4, 4, 1}, in,
                (clnet_shape){1, 2, 2, 1}, want, NULL, NULL);
}

/* PyTorch's MaxPool2d(3, 2, ceil_mode=True) on a 4x6 image of negative values: outputs 2x3
 * (the floor rule gives 1x2), the last row and column of windows clipped to the input;
 * dout 1..6 goes to the first maximum of each window. */
Test(max_pool, ceil_mode_keeps_the_last_partial_windows)
{
    const float in[24] = {-3, -1, -4, -1, -5, -9, -2, -6, -5, -3, -5, -8,
                          -9, -7, -9, -3, -2, -3, -8, -4, -6, -2, -6, -43};
    const float want[6] = {-1, -1, -2, -4, -2, -2}, dout[6] = {1, 2, 3, 4, 5, 6};
    const float want_din[24] = {0, 1, 0, 2, 0,  0, 0, 0, 0, 0, 0, 0,
                                0, 0, 0, 0, 14, 0, 0, 4, 0, 0, 0, 0};
    expect_pool("pool_size = 3\nstrides = 2\nceil_mode = true", (clnet_shape){1, 4, 6, 1}, in,
                (clnet_shape){1, 2, 3, 1}, want, dout, want_din);
    expect_pool("pool_size = 3\nstrides = 2", (clnet_shape){1, 4, 6, 1}, in,
                (clnet_shape){1, 1, 2, 1}, want, NULL, NULL);

    /* MaxPool1d(3, 2, padding=1, ceil_mode=True) on {1, 2, 3, 4}: windows [-1, 2), [1, 4),
     * [3, 6), the last overhanging the padded row by a cell: 2, 4, 4. */
    const float row[4] = {1, 2, 3, 4}, row_out[3] = {2, 4, 4}, row_dout[3] = {1, 2, 3};
    const float row_din[4] = {0, 1, 0, 5};
    const clnet_shape r = {1, 1, 4, 1};
    expect_pool("pool_size = 1, 3\nstrides = 1, 2\npadding = 0, 1\nceil_mode = true", r, row,
                (clnet_shape){1, 1, 3, 1}, row_out, row_dout, row_din);
    /* 'same' already rounds up: ceil(4 / 2) = 2 outputs either way. */
    const float same[2] = {3, 4}; /* windows [0, 3) and [2, 5) */
    expect_pool("pool_size = 1, 3\nstrides = 1, 2\npadding = same\nceil_mode = true", r, row,
                (clnet_shape){1, 1, 2, 1}, same, NULL, NULL);
}

static void expect_error(const char *params, clnet_shape in_shape, clnet_status want,
                         const char *needle1, const char *needle2)
{
    clnet_test_expect_error("max_pool", params, in_shape, want, needle1, needle2);
}

Test(max_pool, shape_errors_name_the_shapes)
{
    expect_error("pool_size = 3", (clnet_shape){1, 2, 2, 4}, CLNET_ERR_SHAPE, "1x2x2x4", "3x3");
    expect_error("pool_size = 2, 5", (clnet_shape){2, 4, 4, 1}, CLNET_ERR_SHAPE, "2x4x4x1", "2x5");
}

Test(max_pool, parse_errors_name_the_key)
{
    const clnet_shape s = {1, 4, 4, 1};
    expect_error("pool_size = 0", s, CLNET_ERR_PARSE, "pool_size", "positive");
    expect_error("strides = 2, x", s, CLNET_ERR_PARSE, "strides", "2, x");
    expect_error("padding = full", s, CLNET_ERR_PARSE, "padding", "full");
    expect_error("padding = 1, 2, 3", s, CLNET_ERR_PARSE, "padding", "1, 2, 3");
    expect_error("padding = -1", s, CLNET_ERR_PARSE, "padding", "negative");
    expect_error("pool_size = 2\npadding = 2", s, CLNET_ERR_PARSE, "padding", "smaller");
    expect_error("count_include_pad = true", s, CLNET_ERR_PARSE, "count_include_pad", "max_pool");
    expect_error("ceil_mode = often", s, CLNET_ERR_PARSE, "ceil_mode", "often");
    /* Past CLNET_MAX_DIM: they overflowed int in the window geometry (window.c). */
    expect_error("pool_size = 3\npadding = 1100000000", s, CLNET_ERR_PARSE, "padding",
                 "nor above 16777216");
    expect_error("strides = 2147483647\npadding = same", s, CLNET_ERR_PARSE, "strides",
                 "at most 16777216");
}
