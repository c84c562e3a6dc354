/* test_zero_pad.c - zero_pad against src/ref/zero_pad.c on every class, plus known values
 * of one-sided padding and its crop, and parse errors. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "support/support.h"

static const clnet__op_case zero_pad_extra_cases[] = {
    {"padding = 2, 0", 1, {{1, 1, 1, 33}}, 0},
    {"padding = 1, 0, 0, 1", 1, {{3, 4, 4, 1}}, 0},
    {"padding = (0, 3)", 1, {{1, 3, 2, 19}}, 0},
};

CLNET_TEST_OP(zero_pad)

/* {1, 2; 3, 4} with no row on top, one below, two columns left, none right. */
Test(zero_pad, known_values_one_sided)
{
    const float in[4] = {1, 2, 3, 4};
    const float want[12] = {0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0};
    float dout[12];
    for (int i = 0; i < 12; ++i)
        dout[i] = (float)(i + 1);
    const float want_din[4] = {3, 4, 7, 8};
    clnet_test_expect_op("zero_pad", "padding = 0, 1, 2, 0", (clnet_shape){1, 2, 2, 1}, in,
                         (clnet_shape){1, 3, 4, 1}, want, dout, want_din, 0);
}

/* Keras's default is one cell on every side; channels stay together. */
Test(zero_pad, default_pads_one_cell)
{
    const float in[2] = {5, 6};
    float want[18] = {0}, dout[18];
    want[8] = 5;
    want[9] = 6;
    for (int i = 0; i < 18; ++i)
        dout[i] = (float)i;
    const float want_din[2] = {8, 9};
    clnet_test_expect_op("zero_pad", "", (clnet_shape){1, 1, 1, 2}, in, (clnet_shape){1, 3, 3, 2},
                         want, dout, want_din, 0);
}

Test(zero_pad, parse_errors_name_the_key)
{
    const clnet_shape s = {1, 2, 2, 1};
    clnet_test_expect_error("zero_pad", "padding = 1, 2, 3", s, CLNET_ERR_PARSE, "padding",
                            "1, 2, 3");
    clnet_test_expect_error("zero_pad", "padding = 1, -2", s, CLNET_ERR_PARSE, "padding",
                            "negative");
    clnet_test_expect_error("zero_pad", "padding = same", s, CLNET_ERR_PARSE, "padding", "same");
    clnet_test_expect_error("zero_pad", "pad = 1", s, CLNET_ERR_PARSE, "'pad'", "unknown");
    /* It overflowed the output to a negative shape the build accepted. */
    clnet_test_expect_error("zero_pad", "padding = 2147483647", s, CLNET_ERR_PARSE, "padding",
                            "nor above 16777216");
}
