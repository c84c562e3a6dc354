/* test_channel_pad.c - channel_pad against src/ref/channel_pad.c on every class, plus the
 * output layout by hand, shape and parse errors. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "support/support.h"

static const clnet__op_case channel_pad_extra_cases[] = {
    {"channels = 1", 1, {{1, 2, 3, 1}}, 0},
    {"channels = 64\nstride = 2\nbefore = 16", 1, {{1, 4, 4, 32}}, 0},
    {"channels = 40\nstride = 2\nbefore = 7", 1, {{3, 1, 1, 33}}, 0},
};

CLNET_TEST_OP(channel_pad)

/* 3x3 pixels x 2 channels, pixel p holding {10p + 1, 10p + 2}; stride 2 keeps pixels 0, 2,
 * 6, 8; channels = 5 with 2 zero channels before and 1 after. */
Test(channel_pad, output_layout)
{
    float in[18], want[20] = {0}, dout[20], want_din[18] = {0};
    for (int p = 0; p < 9; ++p)
        for (int ch = 0; ch < 2; ++ch)
            in[p * 2 + ch] = (float)(10 * p + ch + 1);
    const int kept[4] = {0, 2, 6, 8};
    for (int o = 0; o < 4; ++o)
        for (int ch = 0; ch < 2; ++ch) {
            want[o * 5 + 2 + ch] = in[kept[o] * 2 + ch];
            want_din[kept[o] * 2 + ch] = (float)(o * 5 + 2 + ch + 1);
        }
    for (int i = 0; i < 20; ++i)
        dout[i] = (float)(i + 1);
    cr_assert_eq(want[2], 1.0f);
    cr_assert_eq(want[7], 21.0f); /* output pixel (0, 1) is input pixel (0, 2) */
    cr_assert_eq(want_din[5], 9.0f);
    clnet_test_expect_op("channel_pad", "channels = 5\nstride = 2\nbefore = 2",
                         (clnet_shape){1, 3, 3, 2}, in, (clnet_shape){1, 2, 2, 5}, want, dout,
                         want_din, 0);
}

Test(channel_pad, errors_name_the_shapes_and_keys)
{
    const clnet_shape s = {1, 2, 2, 8};
    clnet_test_expect_error("channel_pad", "channels = 4", s, CLNET_ERR_SHAPE, "1x2x2x8",
                            "channels = 4");
    clnet_test_expect_error("channel_pad", "channels = 10\nbefore = 3", s, CLNET_ERR_SHAPE,
                            "1x2x2x8", "3 channels before");
    clnet_test_expect_error("channel_pad", "stride = 2", s, CLNET_ERR_PARSE, "channels",
                            "required");
    clnet_test_expect_error("channel_pad", "channels = 16\nstride = 0", s, CLNET_ERR_PARSE,
                            "stride", "positive");
    clnet_test_expect_error("channel_pad", "channels = 16\nbefore = -1", s, CLNET_ERR_PARSE,
                            "before", "negative");
    clnet_test_expect_error("channel_pad", "channels = 16\nstrides = 2", s, CLNET_ERR_PARSE,
                            "strides", "unknown");
}
