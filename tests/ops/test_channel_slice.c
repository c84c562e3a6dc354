/* test_channel_slice.c - channel_slice against src/ref/channel_slice.c on every class, the
 * two halves of a split by hand, and shape and parse errors. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "support/support.h"

static const clnet__op_case channel_slice_extra_cases[] = {
    {"start = 3\nsize = 32", 1, {{2, 2, 300, 40}}, 0},
    {"start = 32\nsize = 1", 1, {{1, 1, 1, 33}}, 0},
};

CLNET_TEST_OP(channel_slice)

/* Two pixels of 4 channels, as torchvision's x.chunk(2, dim=1): the second half; its
 * gradient lands in channels 2 and 3, zeros in 0 and 1. */
Test(channel_slice, second_half_of_a_split)
{
    const float in[8] = {1, 2, 3, 4, 5, 6, 7, 8}, want[4] = {3, 4, 7, 8};
    const float dout[4] = {10, 20, 30, 40}, want_din[8] = {0, 0, 10, 20, 0, 0, 30, 40};
    clnet_test_expect_op("channel_slice", "start = 2\nsize = 2", (clnet_shape){1, 1, 2, 4}, in,
                         (clnet_shape){1, 1, 2, 2}, want, dout, want_din, 0);
}

Test(channel_slice, errors_name_the_shapes_and_keys)
{
    const clnet_shape s = {1, 2, 2, 8};
    clnet_test_expect_error("channel_slice", "start = 5\nsize = 4", s, CLNET_ERR_SHAPE, "1x2x2x8",
                            "needs 9 channels");
    clnet_test_expect_error("channel_slice", "start = 1", s, CLNET_ERR_PARSE, "size", "required");
    clnet_test_expect_error("channel_slice", "size = 0", s, CLNET_ERR_PARSE, "size", "positive");
    clnet_test_expect_error("channel_slice", "start = -1\nsize = 2", s, CLNET_ERR_PARSE, "start",
                            "negative");
}
