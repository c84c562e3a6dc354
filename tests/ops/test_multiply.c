/* test_multiply.c - multiply against src/ref/broadcast.c on every class, the
 * squeeze-and-excitation scale [n, 1, 1, c] by hand, a gradient of the broadcast operand
 * that repeats bit for bit, and shape errors naming both shapes. The broadcast machinery
 * (src/ops/broadcast.c) is shared with subtract and divide. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "support/support.h"

/* b read as vectors on CPUs (cols a multiple of 16), many CPU chunks, a scalar over several
 * reduce_rows blocks, [1, h, w, c] (the batch broadcast). */
static const clnet__op_case multiply_extra_cases[] = {
    {"", 2, {{2, 3, 3, 32}, {2, 1, 1, 32}}, 0}, {"", 2, {{3, 1, 1, 4099}, {1, 1, 1, 4099}}, 0},
    {"", 2, {{1, 600, 1, 3}, {1, 1, 1, 1}}, 0}, {"", 2, {{2, 4, 4, 8}, {1, 4, 4, 8}}, 0},
    {"", 2, {{3, 7, 5, 17}, {3, 1, 1, 1}}, 0},
};

CLNET_TEST_OP(multiply)

/* x [2, 1, 2, 3] times se [2, 1, 1, 3]: each image's pixels scaled by its own row of se,
 * and se's gradient summed over that image's pixels. */
Test(multiply, squeeze_and_excitation_scale)
{
    const clnet_shape s[2] = {{2, 1, 2, 3}, {2, 1, 1, 3}};
    const float x[12] = {1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6};
    const float se[6] = {0.5f, 2, -1, 3, 0, 0.25f};
    const float dout[12] = {1, 1, 1, 2, 2, 2, 1, 0, -1, 1, 1, 1};
    float want[12], want_dx[12], want_dse[6] = {0};
    for (int n = 0; n < 2; ++n)
        for (int p = 0; p < 2; ++p)
            for (int c = 0; c < 3; ++c) {
                const int i = (n * 2 + p) * 3 + c;
                want[i] = x[i] * se[n * 3 + c];
                want_dx[i] = dout[i] * se[n * 3 + c];
                want_dse[n * 3 + c] += dout[i] * x[i];
            }
    cr_assert_eq(want_dse[0], 9.0f); /* 1 * 1 + 2 * 4 */
    const float *in[2] = {x, se}, *want_din[2] = {want_dx, want_dse};
    clnet_test_expect_inputs("multiply", "", 2, s, in, want, 12, dout, want_din, 0);
}

/* Only b's gradient wanted, and only a's: neither write touches the other. */
CLNET_TEST_CLASS_PARAMS(multiply, one_gradient_at_a_time)
ParameterizedTest(clnet_device_class *cls, multiply, one_gradient_at_a_time)
{
    clnet_context *ctx = clnet_test_device_class(*cls);
    const clnet_shape s[2] = {{3, 4, 5, 17}, {3, 1, 1, 17}};
    enum { NA = 3 * 4 * 5 * 17, NB = 3 * 17 };
    float *a = clnet_test_random(NA, 1), *b = clnet_test_random(NB, 2);
    float *dout = clnet_test_random(NA, 3), out[NA], da[NA], db[NB], db_only[NB], da_only[NA];
    const float *x[2] = {a, b};
    float *both[2] = {da, db}, *only_b[2] = {NULL, db_only}, *only_a[2] = {da_only, NULL};
    cr_assert_eq(clnet_test_run_inputs(ctx, "multiply", "", 2, s, x, 1, 1, out, NA, dout, both),
                 CLNET_OK, "%s", clnet_context_error(ctx));
    cr_assert_eq(clnet_test_run_inputs(ctx, "multiply", "", 2, s, x, 1, 1, out, NA, dout, only_b),
                 CLNET_OK, "%s", clnet_context_error(ctx));
    cr_assert_eq(clnet_test_run_inputs(ctx, "multiply", "", 2, s, x, 1, 1, out, NA, dout, only_a),
                 CLNET_OK, "%s", clnet_context_error(ctx));
    cr_expect_eq(memcmp(db, db_only, sizeof db), 0);
    cr_expect_eq(memcmp(da, da_only, sizeof da), 0);
    free(a);
    free(b);
    free(dout);
}

/* The broadcast operand's gradient is a fixed-order sum: two runs give the same bits, with
 * one group (reduce_rows, several blocks) and with several (broadcast_reduce). */
CLNET_TEST_CLASS_PARAMS(multiply, broadcast_gradient_repeats_exactly)
ParameterizedTest(clnet_device_class *cls, multiply, broadcast_gradient_repeats_exactly)
{
    clnet_context *ctx = clnet_test_device_class(*cls);
    const clnet_shape forms[2][2] = {{{3, 13, 14, 17}, {1, 1, 1, 17}},
                                     {{3, 13, 14, 17}, {3, 1, 1, 17}}};
    enum { NA = 3 * 13 * 14 * 17 };
    float *a = clnet_test_random(NA, 4), *b = clnet_test_random(3 * 17, 5);
    float *dout = clnet_test_random(NA, 6), *out = malloc(NA * sizeof(float));
    for (int f = 0; f < 2; ++f) {
        float db[2][3 * 17];
        const float *x[2] = {a, b};
        for (int run = 0; run < 2; ++run) {
            float *din[2] = {NULL, db[run]};
            cr_assert_eq(clnet_test_run_inputs(ctx, "multiply", "", 2, forms[f], x, 1, 1, out, NA,
                                               dout, din),
                         CLNET_OK, "%s", clnet_context_error(ctx));
        }
        cr_expect_eq(memcmp(db[0], db[1], clnet__shape_count(forms[f][1]) * sizeof(float)), 0,
                     "form %d", f);
    }
    free(a);
    free(b);
    free(dout);
    free(out);
}

Test(multiply, shape_errors_name_both_shapes)
{
    const clnet_shape differ[2] = {{2, 4, 4, 8}, {2, 4, 4, 9}};
    clnet_test_expect_inputs_error("multiply", "", 2, differ, CLNET_ERR_SHAPE, "2x4x4x9",
                                   "2x4x4x8");
    const clnet_shape larger[2] = {{1, 1, 1, 8}, {2, 1, 1, 8}};
    clnet_test_expect_inputs_error("multiply", "", 2, larger, CLNET_ERR_SHAPE, "2x1x1x8",
                                   "1x1x1x8");
    /* Broadcast along the batch and the channels, the spatial dimensions kept between. */
    const clnet_shape apart[2] = {{2, 4, 4, 8}, {1, 4, 4, 1}};
    clnet_test_expect_inputs_error("multiply", "", 2, apart, CLNET_ERR_SHAPE, "1x4x4x1",
                                   "not adjacent");
    const clnet_shape one[1] = {{2, 4, 4, 8}};
    clnet_test_expect_inputs_error("multiply", "", 1, one, CLNET_ERR_INVALID_ARG, "multiply",
                                   "2 inputs");
    clnet_test_expect_inputs_error("multiply", "axis = 1", 2, differ, CLNET_ERR_PARSE, "axis",
                                   "no keys");
}
