/* test_flatten.c - flatten against src/ref/flatten.c on every class, plus the Keras
 * (NHWC) element order and a parse error. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "support/support.h"

static const clnet__op_case flatten_extra_cases[] = {
    {"", 1, {{1, 3, 1, 5}}, 0},
};

CLNET_TEST_OP(flatten)

/* Keras Flatten on NHWC: feature index (y * w + x) * c + ch, the memory order. */
Test(flatten, keeps_nhwc_order)
{
    float in[24], dout[24];
    for (int i = 0; i < 24; ++i) {
        in[i] = (float)i;
        dout[i] = (float)(100 + i);
    }
    clnet_test_expect_op("flatten", "", (clnet_shape){2, 2, 2, 3}, in, (clnet_shape){2, 1, 1, 12},
                         in, dout, dout, 0);
}

Test(flatten, parse_error_names_the_key)
{
    clnet_test_expect_error("flatten", "data_format = channels_first", (clnet_shape){1, 2, 2, 1},
                            CLNET_ERR_PARSE, "data_format", "unknown");
}
