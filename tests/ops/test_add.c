/* test_add.c - add against src/ref/add.c on every class, plus eight inputs, the fused
 * relu6 mask, and shape and parse errors. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "support/support.h"

/* relu6 with values crossing 0 and 6; several CPU chunks with a tail. */
static const clnet__op_case add_extra_cases[] = {
    {"activation = relu6", 3, {{3, 1, 1, 37}, {3, 1, 1, 37}, {3, 1, 1, 37}}, 4.0f},
    {"activation = linear", 2, {{3, 1, 1, 4099}, {3, 1, 1, 4099}}, 0},
};

CLNET_TEST_OP(add)

/* Eight inputs (the most an op takes): every pointer of the kernels is used. */
ParameterizedTestParameters(add, eight_inputs_sum_and_share_the_gradient)
{
    return cr_make_param_array(clnet_device_class, (void *)clnet_test_classes, 3);
}

ParameterizedTest(clnet_device_class *cls, add, eight_inputs_sum_and_share_the_gradient)
{
    clnet_context *ctx = clnet_test_device_class(*cls);
    enum { N = 8, COUNT = 2 * 5 * 3 * 19 };
    const clnet_shape s = {2, 5, 3, 19};
    clnet_shape shapes[N];
    float *x[N], *din[N], out[COUNT], dout[COUNT];
    for (int i = 0; i < N; ++i) {
        shapes[i] = s;
        x[i] = clnet_test_random(COUNT, 10u + (uint64_t)i);
        din[i] = i == 5 ? NULL : malloc(COUNT * sizeof(float)); /* one gradient not wanted */
    }
    for (int j = 0; j < COUNT; ++j)
        dout[j] = (float)j;
    clnet_status st = clnet_test_run_inputs(ctx, "add", "activation = relu", N, shapes,
                                            (const float *const *)x, 1, 1, out, COUNT, dout, din);
    cr_assert_eq(st, CLNET_OK, "%s: %s", clnet_status_string(st), clnet_context_error(ctx));
    for (int j = 0; j < COUNT; ++j) {
        float s8 = 0.0f;
        for (int i = 0; i < N; ++i)
            s8 += x[i][j];
        const float want = s8 > 0.0f ? s8 : 0.0f;
        cr_assert_float_eq(out[j], want, 1e-5f, "element %d: %g, want %g", j, out[j], want);
        for (int i = 0; i < N; ++i)
            if (din[i])
                cr_assert_eq(din[i][j], out[j] > 0.0f ? dout[j] : 0.0f, "din[%d][%d]", i, j);
    }
    for (int i = 0; i < N; ++i) {
        free(x[i]);
        free(din[i]);
    }
}

Test(add, known_values_with_relu6)
{
    clnet_context *ctx = clnet_test_device();
    const clnet_shape s[2] = {{1, 1, 1, 4}, {1, 1, 1, 4}};
    const float a[4] = {1.0f, -3.0f, 5.0f, 0.5f}, b[4] = {2.0f, 1.0f, 4.0f, -0.5f};
    const float *x[2] = {a, b};
    const float dout[4] = {1.0f, 2.0f, 3.0f, 4.0f};
    float out[4], d0[4], d1[4];
    float *din[2] = {d0, d1};
    cr_assert_eq(
        clnet_test_run_inputs(ctx, "add", "activation = relu6", 2, s, x, 1, 1, out, 4, dout, din),
        CLNET_OK, "%s", clnet_context_error(ctx));
    const float want[4] = {3.0f, 0.0f, 6.0f, 0.0f}, want_d[4] = {1.0f, 0.0f, 0.0f, 0.0f};
    for (int j = 0; j < 4; ++j) {
        cr_assert_eq(out[j], want[j], "out[%d] = %g", j, out[j]);
        cr_assert_eq(d0[j], want_d[j], "d0[%d] = %g", j, d0[j]);
        cr_assert_eq(d1[j], want_d[j], "d1[%d] = %g", j, d1[j]);
    }
}

Test(add, shape_mismatch_names_input_and_shapes)
{
    clnet_context *ctx = clnet_test_device();
    const clnet_shape s[3] = {{2, 4, 4, 8}, {2, 4, 4, 8}, {2, 4, 4, 9}};
    const clnet__op_desc *op = clnet__op_find("add");
    cr_assert_not_null(op);
    clnet__add_params p = {{CLNET_ACT_NONE, 0.0f}};
    clnet_shape out;
    cr_assert_eq(op->infer(ctx, &p, s, 3, &out), CLNET_ERR_SHAPE);
    const char *msg = clnet_context_error(ctx);
    cr_assert(strstr(msg, "input 2") && strstr(msg, "2x4x4x9") && strstr(msg, "2x4x4x8"), "%s",
              msg);
}

Test(add, parse_errors_name_the_key)
{
    clnet_context *ctx = clnet_test_device();
    const clnet__op_desc *op = clnet__op_find("add");
    void *p = NULL;
    cr_assert_eq(clnet__op_parse(ctx, op, "activation = mish", "net.spec [add3]", &p),
                 CLNET_ERR_PARSE);
    const char *msg = clnet_context_error(ctx);
    cr_assert(strstr(msg, "activation") && strstr(msg, "mish") && strstr(msg, "[add3]"), "%s", msg);
    cr_assert_null(p);
    cr_assert_eq(clnet__op_parse(ctx, op, "units = 3", "net.spec [add3]", &p), CLNET_ERR_PARSE);
    cr_assert(strstr(clnet_context_error(ctx), "units"), "%s", clnet_context_error(ctx));
}
