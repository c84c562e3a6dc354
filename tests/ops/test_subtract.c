/* test_subtract.c - subtract against src/ref/broadcast.c on every class, known values with
 * a per-channel operand [1, 1, 1, c], and a shape error. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "support/support.h"

static const clnet__op_case subtract_extra_cases[] = {
    {"", 2, {{3, 1, 1, 4099}, {3, 1, 1, 4099}}, 0},
    {"", 2, {{2, 3, 3, 32}, {2, 1, 1, 32}}, 0},
};

CLNET_TEST_OP(subtract)

/* x [1, 2, 2, 2] minus a per-channel mean: b's gradient is minus the sum of dout. */
Test(subtract, per_channel_known_values)
{
    const clnet_shape s[2] = {{1, 2, 2, 2}, {1, 1, 1, 2}};
    const float x[8] = {1, 10, 2, 20, 3, 30, 4, 40}, mean[2] = {2.5f, 25};
    const float dout[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const float want[8] = {-1.5f, -15, -0.5f, -5, 0.5f, 5, 1.5f, 15};
    const float want_dmean[2] = {-16, -20};
    const float *in[2] = {x, mean}, *want_din[2] = {dout, want_dmean};
    clnet_test_expect_inputs("subtract", "", 2, s, in, want, 8, dout, want_din, 0);
}

Test(subtract, shape_error_names_both_shapes)
{
    const clnet_shape s[2] = {{3, 5, 5, 16}, {3, 5, 1, 17}};
    clnet_test_expect_inputs_error("subtract", "", 2, s, CLNET_ERR_SHAPE, "3x5x1x17", "3x5x5x16");
}
