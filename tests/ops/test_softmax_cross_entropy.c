/* test_softmax_cross_entropy.c - the fused loss against src/ref/softmax_cross_entropy.c
 * on every class, plus known values (uniform logits give log c, a confident correct
 * prediction ~0, +-1000 logits stay finite), label smoothing, shape and parse errors. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/support.h"

/* Rows of two float16s and a tail; 600 rows, so the mean's fixed-order sum runs in
 * several blocks (two stages); the same with row weights (input 2), and weights with full
 * smoothing and with 1000 classes over an odd batch. */
static const clnet__op_case softmax_cross_entropy_extra_cases[] = {
    {"", 2, {{3, 7, 5, 33}, {3, 7, 5, 33}}, 3.0f},
    {"", 2, {{3, 10, 20, 3}, {3, 10, 20, 3}}, 2.0f},
    {"label_smoothing = 1", 2, {{1, 1, 1, 17}, {1, 1, 1, 17}}, 0},
    {"", 3, {{3, 7, 5, 33}, {3, 7, 5, 33}, {3, 7, 5, 1}}, 3.0f},
    {"label_smoothing = 0.3", 3, {{3, 10, 20, 3}, {3, 10, 20, 3}, {3, 10, 20, 1}}, 2.0f},
    {"label_smoothing = 1", 3, {{1, 1, 1, 17}, {1, 1, 1, 17}, {1, 1, 1, 1}}, 0},
    {"", 3, {{7, 1, 1, 1000}, {7, 1, 1, 1000}, {7, 1, 1, 1}}, 6.0f},
};

CLNET_TEST_OP(softmax_cross_entropy)

/* Loss and logits gradient of logits x against targets t (rows x c). */
static float run(clnet_context *ctx, const char *params, int rows, int c, const float *x,
                 const float *t, float dout, float *dx)
{
    const clnet_shape s[2] = {{rows, 1, 1, c}, {rows, 1, 1, c}};
    const float *xs[2] = {x, t};
    float *dxs[2] = {dx, NULL};
    float loss = NAN;
    clnet_status st = clnet_test_run_inputs(ctx, "softmax_cross_entropy", params, 2, s, xs, 1, 1,
                                            &loss, 1, &dout, dxs);
    cr_assert_eq(st, CLNET_OK, "%s: %s", clnet_status_string(st), clnet_context_error(ctx));
    return loss;
}

ParameterizedTestParameters(softmax_cross_entropy, known_values)
{
    return cr_make_param_array(clnet_device_class, (void *)clnet_test_classes, 3);
}

ParameterizedTest(clnet_device_class *cls, softmax_cross_entropy, known_values)
{
    clnet_context *ctx = clnet_test_device_class(*cls);
    enum { C = 1000, ROWS = 2 };
    float *x = calloc(ROWS * C, sizeof(float)), *t = calloc(ROWS * C, sizeof(float));
    float *dx = malloc(ROWS * C * sizeof(float));
    cr_assert(x && t && dx);

    /* Uniform logits: log(c) whatever the target; gradient (1/c - t) / rows. */
    t[3] = 1.0f;
    t[C + 999] = 1.0f;
    float loss = run(ctx, "", ROWS, C, x, t, 1.0f, dx);
    cr_assert_float_eq(loss, logf((float)C), 1e-5f, "uniform: %g, want log(1000)", loss);
    cr_assert_float_eq(dx[3], (0.001f - 1.0f) / ROWS, 1e-6f, "dx[3] = %g", dx[3]);
    cr_assert_float_eq(dx[4], 0.001f / ROWS, 1e-8f, "dx[4] = %g", dx[4]);

    /* Confident and correct: ~0 loss, ~0 gradient. */
    x[3] = 40.0f;
    x[C + 999] = 40.0f;
    loss = run(ctx, "", ROWS, C, x, t, 1.0f, dx);
    cr_assert(loss >= 0.0f && loss < 1e-6f, "confident: %g", loss);
    for (int i = 0; i < ROWS * C; ++i)
        cr_assert(fabsf(dx[i]) < 1e-6f, "confident: dx[%d] = %g", i, dx[i]);

    /* Logits +-1000: finite. Row 0 right (loss 0), row 1 wrong by 2000. */
    for (int i = 0; i < ROWS * C; ++i)
        x[i] = -1000.0f;
    x[3] = 1000.0f;
    x[C + 5] = 1000.0f;
    loss = run(ctx, "", ROWS, C, x, t, 2.0f, dx);
    cr_assert(isfinite(loss), "extreme: %g", loss);
    cr_assert_float_eq(loss, 2000.0f / ROWS, 1e-2f, "extreme: %g, want 1000", loss);
    for (int i = 0; i < ROWS * C; ++i)
        cr_assert(isfinite(dx[i]), "extreme: dx[%d] = %g", i, dx[i]);
    cr_assert_float_eq(dx[C + 5], 1.0f, 1e-6f, "dx = 2 * (1 - 0) / 2 at the wrong class");
    cr_assert_float_eq(dx[C + 999], -1.0f, 1e-6f, "dx = 2 * (0 - 1) / 2 at the target");

    /* Label smoothing 0.1 on uniform logits over 10 classes is still log(10). */
    memset(x, 0, ROWS * C * sizeof(float));
    memset(t, 0, ROWS * C * sizeof(float));
    t[3] = 1.0f;
    t[10 + 7] = 1.0f;
    loss = run(ctx, "label_smoothing = 0.1", ROWS, 10, x, t, 1.0f, dx);
    cr_assert_float_eq(loss, logf(10.0f), 1e-5f, "smoothed uniform: %g", loss);
    free(x);
    free(t);
    free(dx);
}

/* Smoothing by hand: c = 2, logits (0, log 3): p = (1/4, 3/4), target class 0, ls = 0.2:
 * t' = (0.9, 0.1), loss = -(0.9 log 1/4 + 0.1 log 3/4), dx = p - t' = (-0.65, 0.65). */
Test(softmax_cross_entropy, label_smoothing_by_hand)
{
    clnet_context *ctx = clnet_test_device();
    const float x[2] = {0.0f, logf(3.0f)}, t[2] = {1.0f, 0.0f};
    float dx[2];
    const float loss = run(ctx, "label_smoothing = 0.2", 1, 2, x, t, 1.0f, dx);
    const float want = -(0.9f * logf(0.25f) + 0.1f * logf(0.75f));
    cr_assert_float_eq(loss, want, 1e-6f, "loss %g, want %g", loss, want);
    cr_assert_float_eq(dx[0], -0.65f, 1e-6f, "dx[0] = %g", dx[0]);
    cr_assert_float_eq(dx[1], 0.65f, 1e-6f, "dx[1] = %g", dx[1]);
}

/* Row weights by hand, as Keras's sample_weight: c = 2, logits (0, log 3) in both rows,
 * targets class 0 and class 1, ls = 0.2, weights (2, 0.5): per-row losses l0 = -(0.9 log
 * 1/4 + 0.1 log 3/4), l1 = -(0.1 log 1/4 + 0.9 log 3/4); loss = (2 l0 + 0.5 l1) / 2
 * (divided by the rows, not by the weights' sum); dx = u (p - t') / 2. */
Test(softmax_cross_entropy, row_weights_by_hand)
{
    clnet_context *ctx = clnet_test_device();
    const float x[4] = {0.0f, logf(3.0f), 0.0f, logf(3.0f)}, t[4] = {1.0f, 0.0f, 0.0f, 1.0f};
    const float u[2] = {2.0f, 0.5f}, dout = 1.0f;
    const clnet_shape s[3] = {{2, 1, 1, 2}, {2, 1, 1, 2}, {2, 1, 1, 1}};
    const float *xs[3] = {x, t, u};
    float dx[4], loss = NAN;
    float *dxs[3] = {dx, NULL, NULL};
    clnet_status st = clnet_test_run_inputs(ctx, "softmax_cross_entropy", "label_smoothing = 0.2",
                                            3, s, xs, 1, 1, &loss, 1, &dout, dxs);
    cr_assert_eq(st, CLNET_OK, "%s: %s", clnet_status_string(st), clnet_context_error(ctx));
    const float l0 = -(0.9f * logf(0.25f) + 0.1f * logf(0.75f));
    const float l1 = -(0.1f * logf(0.25f) + 0.9f * logf(0.75f));
    cr_expect_float_eq(loss, (2.0f * l0 + 0.5f * l1) / 2.0f, 1e-6f, "loss %g", loss);
    const float want[4] = {2.0f * -0.65f / 2, 2.0f * 0.65f / 2, 0.5f * 0.15f / 2,
                           0.5f * -0.15f / 2};
    for (int i = 0; i < 4; ++i)
        cr_expect_float_eq(dx[i], want[i], 1e-6f, "dx[%d] = %g, want %g", i, dx[i], want[i]);
    /* Weights that are not one per row are refused, naming input 2. */
    const clnet__op_desc *op = clnet__op_find("softmax_cross_entropy");
    const clnet_shape bad[3] = {{2, 1, 1, 2}, {2, 1, 1, 2}, {2, 1, 1, 2}};
    clnet__softmax_cross_entropy_params p = {0.0f};
    clnet_shape out;
    cr_assert_eq(op->infer(ctx, &p, bad, 3, &out), CLNET_ERR_SHAPE);
    cr_expect(strstr(clnet_context_error(ctx), "input 2"), "%s", clnet_context_error(ctx));
}

Test(softmax_cross_entropy, shape_mismatch_names_both_shapes)
{
    clnet_context *ctx = clnet_test_device();
    const clnet__op_desc *op = clnet__op_find("softmax_cross_entropy");
    cr_assert_not_null(op);
    cr_assert(op->flags & CLNET_OP_LABELS_INPUT1);
    const clnet_shape s[2] = {{8, 1, 1, 10}, {8, 1, 1, 11}};
    clnet__softmax_cross_entropy_params p = {0.0f};
    clnet_shape out;
    cr_assert_eq(op->infer(ctx, &p, s, 2, &out), CLNET_ERR_SHAPE);
    const char *msg = clnet_context_error(ctx);
    cr_assert(strstr(msg, "8x1x1x10") && strstr(msg, "8x1x1x11") && strstr(msg, "input 1"), "%s",
              msg);
}

Test(softmax_cross_entropy, parse_errors_name_the_key)
{
    clnet_context *ctx = clnet_test_device();
    const clnet__op_desc *op = clnet__op_find("softmax_cross_entropy");
    void *p = NULL;
    static const char *const bad[][2] = {
        {"label_smoothing = 1.5", "label_smoothing"},
        {"label_smoothing = -0.1", "label_smoothing"},
        {"label_smoothing = lots", "label_smoothing"},
        {"from_logits = false", "from_logits"},
    };
    for (size_t i = 0; i < CLNET_COUNTOF(bad); ++i) {
        cr_assert_eq(clnet__op_parse(ctx, op, bad[i][0], "net.spec [loss]", &p), CLNET_ERR_PARSE,
                     "%s", bad[i][0]);
        const char *msg = clnet_context_error(ctx);
        cr_assert(strstr(msg, bad[i][1]) && strstr(msg, "[loss]"), "%s: %s", bad[i][0], msg);
    }
}
