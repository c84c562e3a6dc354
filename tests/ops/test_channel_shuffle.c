/* test_channel_shuffle.c - channel_shuffle against src/ref/channel_shuffle.c on every class,
 * torchvision's order by hand, and shape and parse errors. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "support/support.h"

static const clnet__op_case channel_shuffle_extra_cases[] = {
    {"groups = 2", 1, {{1, 2, 300, 48}}, 0},
    {"groups = 8", 1, {{3, 1, 1, 8}}, 0},
};

CLNET_TEST_OP(channel_shuffle)

/* torch: channel_shuffle(arange(6).view(1, 6, 1, 1), 2) gives 0, 3, 1, 4, 2, 5; with 3
 * groups 0, 2, 4, 1, 3, 5. The gradient goes back where each value came from. */
Test(channel_shuffle, torchvision_order)
{
    const float in[12] = {0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15};
    const float want2[12] = {0, 3, 1, 4, 2, 5, 10, 13, 11, 14, 12, 15};
    const float want3[12] = {0, 2, 4, 1, 3, 5, 10, 12, 14, 11, 13, 15};
    /* dout = the shuffled values: the gradient is the input again. */
    clnet_test_expect_op("channel_shuffle", "groups = 2", (clnet_shape){1, 1, 2, 6}, in,
                         (clnet_shape){1, 1, 2, 6}, want2, want2, in, 0);
    clnet_test_expect_op("channel_shuffle", "groups = 3", (clnet_shape){2, 1, 1, 6}, in,
                         (clnet_shape){2, 1, 1, 6}, want3, want3, in, 0);
}

Test(channel_shuffle, errors_name_the_channels_and_groups)
{
    const clnet_shape s = {1, 2, 2, 10};
    clnet_test_expect_error("channel_shuffle", "groups = 4", s, CLNET_ERR_SHAPE, "10 channels",
                            "groups = 4");
    clnet_test_expect_error("channel_shuffle", "", s, CLNET_ERR_PARSE, "groups", "required");
    clnet_test_expect_error("channel_shuffle", "groups = 0", s, CLNET_ERR_PARSE, "groups",
                            "positive");
}
