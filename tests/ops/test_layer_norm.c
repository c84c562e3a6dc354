/* test_layer_norm.c - layer_norm against src/ref/layer_norm.c on every class, known values
 * (a constant pixel gives beta, a pixel {-1, 1} gives -gamma + beta, gamma + beta), the
 * gradients repeating bit for bit, and parse errors. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>

#include "support/support.h"

static const clnet__op_case layer_norm_extra_cases[] = {
    {"epsilon = 1e-6", 1, {{3, 1, 1, 4}}, 0},     /* one float4 */
    {"", 1, {{1, 2, 2, 300}}, 0},                 /* more channels than GPU lanes */
    {"epsilon = 1e-5", 1, {{3, 3, 5, 16}}, 4.0f}, /* one float16 */
};

CLNET_TEST_OP(layer_norm)

/* layer_norm on ctx: x of shape s, gamma and beta of s.c; forward (training) into y and,
 * with dy, backward into dx, dgamma, dbeta. */
static void run(clnet_context *ctx, const char *spec, clnet_shape s, const float *x,
                const float *gamma, const float *beta, float *y, const float *dy, float *dx,
                float *dgamma, float *dbeta)
{
    const float *const w[2] = {gamma, beta};
    float *const dw[2] = {dgamma, dbeta};
    clnet_test_run_weighted(ctx, "layer_norm", spec, s, x, w, y, dy, dx, dw);
}

CLNET_TEST_CLASS_PARAMS(layer_norm, known_values)

/* Pixels of 17 equal values (exact in float: their sum and mean are exact) have variance 0
 * and xhat 0, so y = beta whatever gamma and epsilon. A pixel {-1, 1} (2 channels) has
 * mean 0, variance 1: with epsilon 1e-6, y = (-gamma, gamma) / sqrt(1 + 1e-6) + beta. */
ParameterizedTest(clnet_device_class *cls, layer_norm, known_values)
{
    clnet_context *ctx = clnet_test_device_class(*cls);
    const clnet_shape s = {3, 1, 2, 17};
    float x[102], y[102], *gamma = clnet_test_random(17, 1), *beta = clnet_test_random(17, 2);
    for (int i = 0; i < 102; ++i)
        x[i] = (float)(i / 17) - 2.5f;
    run(ctx, "", s, x, gamma, beta, y, NULL, NULL, NULL, NULL);
    for (int i = 0; i < 102; ++i)
        cr_expect_eq(y[i], beta[i % 17], "y[%d] = %g, beta %g", i, (double)y[i],
                     (double)beta[i % 17]);
    const float x2[2] = {-1.0f, 1.0f}, g2[2] = {2.0f, 3.0f}, b2[2] = {0.5f, -0.5f};
    float y2[2];
    run(ctx, "epsilon = 1e-6", (clnet_shape){1, 1, 1, 2}, x2, g2, b2, y2, NULL, NULL, NULL, NULL);
    cr_expect_float_eq(y2[0], -2.0f + 0.5f, 1e-5f, "y = %g", (double)y2[0]);
    cr_expect_float_eq(y2[1], 3.0f - 0.5f, 1e-5f, "y = %g", (double)y2[1]);
    free(gamma);
    free(beta);
}

CLNET_TEST_CLASS_PARAMS(layer_norm, gradients_repeat_exactly)

/* The per-pixel sums and the column sums of dgamma / dbeta run in fixed orders: two
 * backward passes give the same bits (2 * 28 * 28 pixels: several reduction blocks). */
ParameterizedTest(clnet_device_class *cls, layer_norm, gradients_repeat_exactly)
{
    clnet_context *ctx = clnet_test_device_class(*cls);
    clnet_test_expect_gradients_repeat(ctx, "layer_norm", "epsilon = 1e-6",
                                       (clnet_shape){2, 28, 28, 33});
}

Test(layer_norm, parse_errors_name_the_key)
{
    clnet_test_expect_parse_error("layer_norm", "epsilon = 0", "epsilon");
    clnet_test_expect_parse_error("layer_norm", "epsilon = -1e-3", "epsilon");
    clnet_test_expect_parse_error("layer_norm", "axis = 1", "axis");
    clnet_test_expect_parse_error("layer_norm", "center = false", "center");
}
