/* test_avg_pool.c - avg_pool against src/ref/avg_pool.c on every class, plus known values
 * with and without count_include_pad at padded corners, Keras 'same' on an even size,
 * one-sided padding, ceil_mode (PyTorch's values), parse and shape errors. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>

#include "support/support.h"

static const clnet__op_case avg_pool_extra_cases[] = {
    {"pool_size = 3\nstrides = 2\npadding = 1", 1, {{1, 1, 1, 5}}, 0},
    {"pool_size = 3\nstrides = 2\npadding = 1\ncount_include_pad = true", 1, {{3, 1, 1, 17}}, 0},
    {"pool_size = 2, 3\nstrides = 1, 2\npadding = 0, 1, 1, 0", 1, {{1, 6, 7, 16}}, 0},
    {"pool_size = 2, 3\nstrides = 1, 2\npadding = 0, 1, 1, 0\ncount_include_pad = true",
     1,
     {{1, 6, 7, 33}},
     0},
    {"pool_size = 3\nstrides = 2", 1, {{3, 7, 9, 16}}, 0},
    {"pool_size = 2\npadding = same", 1, {{1, 5, 5, 33}}, 0},
    {"pool_size = 3\nstrides = 1\npadding = same\ncount_include_pad = true", 1, {{1, 4, 3, 3}}, 0},
    /* ceil_mode: valid and explicit asymmetric padding, counted both ways, a 1x1 input,
     * a window taller than its stride, batch 3 and 33 channels. */
    {"pool_size = 2\nceil_mode = true", 1, {{3, 5, 7, 33}}, 0},
    {"pool_size = 3\nstrides = 2\npadding = 1, 0, 2, 1\nceil_mode = true", 1, {{1, 6, 8, 17}}, 0},
    {"pool_size = 3\nstrides = 2\npadding = 1, 0, 2, 1\nceil_mode = true\ncount_include_pad = "
     "true",
     1,
     {{3, 6, 8, 5}},
     0},
    {"pool_size = 2\nstrides = 2\nceil_mode = true\ncount_include_pad = true",
     1,
     {{3, 1, 1, 17}},
     0},
    {"pool_size = 3, 2\nstrides = 2, 3\npadding = 1\nceil_mode = true\ncount_include_pad = true",
     1,
     {{1, 7, 9, 4}},
     0},
};

CLNET_TEST_OP(avg_pool)

static void expect_avg(const char *params, clnet_shape in_shape, const float *in,
                       clnet_shape out_shape, const float *want, const float *dout,
                       const float *want_din)
{
    clnet_test_expect_op("avg_pool", params, in_shape, in, out_shape, want, dout, want_din, 1e-6f);
}

Test(avg_pool, known_values_4x4)
{
    float in[16];
    for (int i = 0; i < 16; ++i)
        in[i] = (float)i;
    const float want[4] = {2.5f, 4.5f, 10.5f, 12.5f}, dout[4] = {4, 8, 12, 16};
    const float want_din[16] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
    expect_avg("", (clnet_shape){1, 4, 4, 1}, in, (clnet_shape){1, 2, 2, 1}, want, dout, want_din);
}

/* 3x3/2 with padding 1 on 3x3 = {1..9}: each window holds 4 input cells of its 9. */
Test(avg_pool, padded_corners_with_and_without_count_include_pad)
{
    float in[9];
    for (int i = 0; i < 9; ++i)
        in[i] = (float)(i + 1);
    const clnet_shape s = {1, 3, 3, 1}, o = {1, 2, 2, 1};
    const float dout[4] = {1, 1, 1, 1};
    const float keras[4] = {12.0f / 4, 16.0f / 4, 24.0f / 4, 28.0f / 4};
    const float keras_din[9] = {0.25f, 0.5f, 0.25f, 0.5f, 1.0f, 0.5f, 0.25f, 0.5f, 0.25f};
    expect_avg("pool_size = 3\nstrides = 2\npadding = 1", s, in, o, keras, dout, keras_din);
    const float torch[4] = {12.0f / 9, 16.0f / 9, 24.0f / 9, 28.0f / 9};
    float torch_din[9];
    for (int i = 0; i < 9; ++i)
        torch_din[i] = keras_din[i] * 4.0f / 9.0f;
    expect_avg("pool_size = 3\nstrides = 2\npadding = 1\ncount_include_pad = true", s, in, o, torch,
               dout, torch_din);
}

/* 'same' on 4x4, pool 3, stride 2: the one cell of padding goes after (bottom, right). */
Test(avg_pool, same_on_even_input_pads_after)
{
    float in[16];
    for (int i = 0; i < 16; ++i)
        in[i] = (float)i;
    const clnet_shape s = {1, 4, 4, 1}, o = {1, 2, 2, 1};
    const float want[4] = {45.0f / 9, 39.0f / 6, 66.0f / 6, 50.0f / 4};
    expect_avg("pool_size = 3\nstrides = 2\npadding = same", s, in, o, want, NULL, NULL);
    const float counted[4] = {45.0f / 9, 39.0f / 9, 66.0f / 9, 50.0f / 9};
    expect_avg("pool_size = 3\nstrides = 2\npadding = same\ncount_include_pad = true", s, in, o,
               counted, NULL, NULL);
}

/* One row of padding on top only: 3x2 {1..6} pools as rows {pad, 0} and {1, 2}. */
Test(avg_pool, one_sided_padding)
{
    const float in[6] = {1, 2, 3, 4, 5, 6}, dout[2] = {1, 2};
    const clnet_shape s = {1, 3, 2, 1}, o = {1, 2, 1, 1};
    const float want[2] = {1.5f, 4.5f}, want_din[6] = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
    expect_avg("padding = 1, 0, 0, 0", s, in, o, want, dout, want_din);
    const float counted[2] = {0.75f, 4.5f}, counted_din[6] = {0.25f, 0.25f, 0.5f, 0.5f, 0.5f, 0.5f};
    expect_avg("padding = 1, 0, 0, 0\ncount_include_pad = true", s, in, o, counted, dout,
               counted_din);
}

/* ceil_mode on a row {1, 2, 3, 4}, pool 3, stride 2, one cell of padding on each side:
 * windows [-1, 2), [1, 4), [3, 6); the last one overhangs the padded row [-1, 5) by a cell.
 * PyTorch (AvgPool1d(3, 2, 1, ceil_mode=True)) gives 1, 3, 2 counting the padding (the
 * last divisor is 2: its input cell and one of padding) and 1.5, 3, 4 without. Without
 * ceil_mode the last window is gone. */
Test(avg_pool, ceil_mode_keeps_a_last_partial_window)
{
    const float in[4] = {1, 2, 3, 4}, dout[3] = {1, 1, 1};
    const clnet_shape s = {1, 1, 4, 1}, o = {1, 1, 3, 1};
    const char *pad = "pool_size = 1, 3\nstrides = 1, 2\npadding = 0, 0, 1, 1\nceil_mode = true";
    /* dx sums dout / divisor over the windows holding the cell: cell 2 is in the middle
     * window only, cell 3 in the last two. */
    const float keras[3] = {1.5f, 3.0f, 4.0f};
    const float keras_din[4] = {0.5f, 0.5f + 1.0f / 3, 1.0f / 3, 1.0f / 3 + 1.0f};
    expect_avg(pad, s, in, o, keras, dout, keras_din);
    const float torch[3] = {1.0f, 3.0f, 2.0f};
    const float torch_din[4] = {1.0f / 3, 2.0f / 3, 1.0f / 3, 1.0f / 3 + 0.5f};
    char spec[160];
    snprintf(spec, sizeof spec, "%s\ncount_include_pad = true", pad);
    expect_avg(spec, s, in, o, torch, dout, torch_din);
    const float floor_mode[2] = {1.0f, 3.0f};
    expect_avg("pool_size = 1, 3\nstrides = 1, 2\npadding = 0, 0, 1, 1\ncount_include_pad = true",
               s, in, (clnet_shape){1, 1, 2, 1}, floor_mode, NULL, NULL);
    /* 'same' already rounds up: ceil(4 / 2) = 2 outputs either way. */
    const float same[2] = {2.0f, 3.5f};
    expect_avg("pool_size = 1, 3\nstrides = 1, 2\npadding = same\nceil_mode = true", s, in,
               (clnet_shape){1, 1, 2, 1}, same, NULL, NULL);
}

Test(avg_pool, errors_name_the_shapes_and_keys)
{
    const clnet_shape s = {1, 4, 4, 1};
    clnet_test_expect_error("avg_pool", "pool_size = 5", s, CLNET_ERR_SHAPE, "1x4x4x1", "5x5");
    clnet_test_expect_error("avg_pool", "count_include_pad = maybe", s, CLNET_ERR_PARSE,
                            "count_include_pad", "maybe");
    clnet_test_expect_error("avg_pool", "pool_size = 3\npadding = 0, 3", s, CLNET_ERR_PARSE,
                            "padding", "smaller");
    clnet_test_expect_error("avg_pool", "pool = 3", s, CLNET_ERR_PARSE, "'pool'", "unknown");
    clnet_test_expect_error("avg_pool", "ceil_mode = often", s, CLNET_ERR_PARSE, "ceil_mode",
                            "often");
}
