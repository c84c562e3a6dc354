/* test_concatenate.c - concatenate against src/ref/concatenate.c on every class, eight
 * inputs with one gradient not wanted, the layout by hand, and shape and parse errors. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>

#include "support/support.h"

/* Many CPU pixel rows, a float16 run plus tails. */
static const clnet__op_case concatenate_extra_cases[] = {
    {"", 2, {{2, 9, 11, 19}, {2, 9, 11, 16}}, 0},
    {"", 3, {{1, 2, 300, 2}, {1, 2, 300, 1}, {1, 2, 300, 35}}, 0},
};

CLNET_TEST_OP(concatenate)

/* Eight inputs (the most an op takes) of 1..8 channels: input i holds 100 i + its own index,
 * so the output names where each value came from; its gradient comes back in place. */
CLNET_TEST_CLASS_PARAMS(concatenate, eight_inputs)
ParameterizedTest(clnet_device_class *cls, concatenate, eight_inputs)
{
    clnet_context *ctx = clnet_test_device_class(*cls);
    enum { N = 8, PIX = 2 * 3 * 5, C = 36 };
    clnet_shape shapes[N];
    float *x[N], *din[N], out[PIX * C], dout[PIX * C];
    for (int i = 0; i < N; ++i) {
        shapes[i] = (clnet_shape){2, 3, 5, i + 1};
        x[i] = malloc(PIX * (size_t)(i + 1) * sizeof(float));
        din[i] = i == 3 ? NULL : malloc(PIX * (size_t)(i + 1) * sizeof(float));
        for (int j = 0; j < PIX * (i + 1); ++j)
            x[i][j] = (float)(100 * i + j);
    }
    for (int j = 0; j < PIX * C; ++j)
        dout[j] = (float)j;
    cr_assert_eq(clnet_test_run_inputs(ctx, "concatenate", "", N, shapes, (const float *const *)x,
                                       1, 1, out, PIX * C, dout, din),
                 CLNET_OK, "%s", clnet_context_error(ctx));
    for (int p = 0, offset = 0; p < PIX; ++p, offset = 0)
        for (int i = 0; i < N; offset += i + 1, ++i)
            for (int j = 0; j <= i; ++j) {
                cr_assert_eq(out[p * C + offset + j], x[i][p * (i + 1) + j], "pixel %d input %d", p,
                             i);
                if (din[i])
                    cr_assert_eq(din[i][p * (i + 1) + j], dout[p * C + offset + j],
                                 "pixel %d input %d", p, i);
            }
    for (int i = 0; i < N; ++i) {
        free(x[i]);
        free(din[i]);
    }
}

Test(concatenate, errors_name_the_shapes_and_keys)
{
    const clnet_shape s[3] = {{2, 4, 4, 8}, {2, 4, 4, 3}, {2, 4, 5, 3}};
    clnet_test_expect_inputs_error("concatenate", "", 3, s, CLNET_ERR_SHAPE, "input 2", "2x4x5x3");
    clnet_test_expect_inputs_error("concatenate", "", 3, s, CLNET_ERR_SHAPE, "2x4x4x8", "channels");
    clnet_test_expect_inputs_error("concatenate", "", 1, s, CLNET_ERR_INVALID_ARG, "2 to 8",
                                   "got 1");
    clnet_test_expect_inputs_error("concatenate", "axis = 1", 2, s, CLNET_ERR_PARSE, "axis",
                                   "channels");
    clnet_test_expect_inputs_error("concatenate", "groups = 2", 2, s, CLNET_ERR_PARSE, "groups",
                                   "unknown");
}
