/* test_global_pool.c - global_avg_pool and global_max_pool against src/ref/global_pool.c on
 * every class, plus known values, ties across GPU lanes, parse and shape errors. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "support/support.h"

/* Many pixels per lane and a float16 channel tail; one pixel; one channel. */
static const clnet__op_case global_avg_pool_extra_cases[] = {
    {"", 1, {{3, 11, 13, 17}}, 0},
    {"", 1, {{1, 1, 1, 33}}, 0},
    {"", 1, {{1, 7, 7, 1}}, 0},
};
static const clnet__op_case global_max_pool_extra_cases[] = {
    {"", 1, {{3, 11, 13, 17}}, 0},
    {"", 1, {{1, 1, 1, 33}}, 0},
    {"", 1, {{1, 7, 7, 1}}, 0},
};

CLNET_TEST_OP(global_avg_pool)
CLNET_TEST_OP(global_max_pool)

/* 2 images of 2x2 pixels x 3 channels: pixel p of image n, channel ch holds 10n + 3p + ch. */
Test(global_pool, known_values)
{
    float in[24];
    for (int n = 0; n < 2; ++n)
        for (int p = 0; p < 4; ++p)
            for (int ch = 0; ch < 3; ++ch)
                in[(n * 4 + p) * 3 + ch] = (float)(10 * n + 3 * p + ch);
    const clnet_shape s = {2, 2, 2, 3}, o = {2, 1, 1, 3};
    const float dout[6] = {4, 8, 12, 16, 20, 24};
    const float mean[6] = {4.5f, 5.5f, 6.5f, 14.5f, 15.5f, 16.5f};
    float avg_din[24], max_din[24];
    for (int i = 0; i < 24; ++i) {
        avg_din[i] = dout[(i / 12) * 3 + i % 3] / 4.0f;
        max_din[i] = i % 12 >= 9 ? dout[(i / 12) * 3 + i % 3] : 0.0f; /* last pixel wins */
    }
    clnet_test_expect_op("global_avg_pool", "", s, in, o, mean, dout, avg_din, 1e-6f);
    const float max[6] = {9, 10, 11, 19, 20, 21};
    clnet_test_expect_op("global_max_pool", "", s, in, o, max, dout, max_din, 0);
}

/* 9x9 pixels, 33 channels: the maximum 5 appears at pixels 70 and 10 (other lanes of a GPU
 * work-group than the first); channel ch's copy at 10 moves to pixel 10 + ch % 3. The
 * gradient goes to the first one in pixel order, on every lane. */
Test(global_pool, max_ties_go_to_the_first_pixel)
{
    enum { HW = 81, C = 33 };
    static float in[HW * C], want_din[HW * C];
    float dout[C], want[C];
    for (int i = 0; i < HW * C; ++i) {
        in[i] = (float)(i % 7) * 0.1f;
        want_din[i] = 0.0f;
    }
    for (int ch = 0; ch < C; ++ch) {
        const int first = 10 + ch % 3;
        in[70 * C + ch] = 5.0f;
        in[first * C + ch] = 5.0f;
        want[ch] = 5.0f;
        dout[ch] = (float)(ch + 1);
        want_din[first * C + ch] = dout[ch];
    }
    clnet_test_expect_op("global_max_pool", "", (clnet_shape){1, 9, 9, C}, in,
                         (clnet_shape){1, 1, 1, C}, want, dout, want_din, 0);
}

Test(global_pool, errors_name_the_key_and_shape)
{
    clnet_test_expect_error("global_avg_pool", "keepdims = true", (clnet_shape){1, 2, 2, 1},
                            CLNET_ERR_PARSE, "keepdims", "unknown");
    clnet_test_expect_error("global_max_pool", "", (clnet_shape){1, 0, 2, 3}, CLNET_ERR_SHAPE,
                            "1x0x2x3", "empty");
}
