/* test_avg_pool.c - avg_pool against src/ref/avg_pool.c on every class, plus known values
 * with and without count_include_pad at padded corners, Keras 'same' on an even size,
 * one-sided padding, parse and shape errors. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

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

Test(avg_pool, errors_name_the_shapes_and_keys)
{
    const clnet_shape s = {1, 4, 4, 1};
    clnet_test_expect_error("avg_pool", "pool_size = 5", s, CLNET_ERR_SHAPE, "1x4x4x1", "5x5");
    clnet_test_expect_error("avg_pool", "count_include_pad = maybe", s, CLNET_ERR_PARSE,
                            "count_include_pad", "maybe");
    clnet_test_expect_error("avg_pool", "pool_size = 3\npadding = 0, 3", s, CLNET_ERR_PARSE,
                            "padding", "smaller");
    clnet_test_expect_error("avg_pool", "pool = 3", s, CLNET_ERR_PARSE, "'pool'", "unknown");
}
