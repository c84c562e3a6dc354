/* test_divide.c - divide against src/ref/broadcast.c on every class, known values with a
 * per-image divisor [n, 1, 1, 1], and a shape error. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "support/support.h"

static const clnet__op_case divide_extra_cases[] = {
    {"", 2, {{3, 1, 1, 4099}, {1, 1, 1, 4099}}, 0},
    {"", 2, {{3, 7, 5, 17}, {3, 1, 1, 1}}, 0},
};

CLNET_TEST_OP(divide)

/* Two images of 3 values, each divided by its own number: dx = dout / b and
 * db = -sum(dout * x) / b^2. Powers of two, so every result is exact. */
Test(divide, per_image_known_values)
{
    const clnet_shape s[2] = {{2, 1, 1, 3}, {2, 1, 1, 1}};
    const float x[6] = {1, 2, 3, 4, 6, 8}, b[2] = {2, -4};
    const float dout[6] = {1, 1, 2, 4, 0, 2};
    const float want[6] = {0.5f, 1, 1.5f, -1, -1.5f, -2};
    const float want_dx[6] = {0.5f, 0.5f, 1, -1, 0, -0.5f};
    const float want_db[2] = {-(1 + 2 + 6) / 4.0f, -(16 + 0 + 16) / 16.0f};
    const float *in[2] = {x, b}, *want_din[2] = {want_dx, want_db};
    clnet_test_expect_inputs("divide", "", 2, s, in, want, 6, dout, want_din, 0);
}

Test(divide, shape_error_names_both_shapes)
{
    const clnet_shape s[2] = {{1, 4, 4, 3}, {1, 4, 4, 2}};
    clnet_test_expect_inputs_error("divide", "", 2, s, CLNET_ERR_SHAPE, "1x4x4x2", "1x4x4x3");
}
