/* test_layer_norm.c - layer_norm against src/ref/layer_norm.c on every class, known values
 * (a constant pixel gives beta, a pixel {-1, 1} gives -gamma + beta, gamma + beta), the
 * gradients repeating bit for bit, and parse errors. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

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
    const clnet__op_desc *op = clnet__op_find("layer_norm");
    void *params = NULL;
    cr_assert_eq(clnet__op_parse(ctx, op, spec, "test", &params), CLNET_OK, "%s",
                 clnet_context_error(ctx));
    const clnet_shape v = {1, 1, 1, s.c};
    clnet_tensor *tx = clnet_test_tensor(ctx, s, x), *ty = clnet_test_tensor(ctx, s, NULL);
    clnet_tensor *tg = clnet_test_tensor(ctx, v, gamma), *tb = clnet_test_tensor(ctx, v, beta);
    clnet_tensor *tdy = clnet_test_tensor(ctx, s, dy), *tdx = clnet_test_tensor(ctx, s, NULL);
    clnet_tensor *tdg = clnet_test_tensor(ctx, v, NULL), *tdb = clnet_test_tensor(ctx, v, NULL);
    clnet__op_alone a = {0};
    cr_assert_eq(clnet__op_alone_prepare(ctx, op, params, &s, 1, CLNET_PREPARE_TRAINING, &a),
                 CLNET_OK, "%s", clnet_context_error(ctx));
    clnet_tensor *ins[1] = {tx}, *ws[2] = {tg, tb}, *din[1] = {tdx}, *dw[2] = {tdg, tdb};
    clnet__op_call call = {.ctx = ctx,
                           .params = params,
                           .n_in = 1,
                           .in = ins,
                           .out = ty,
                           .n_w = 2,
                           .w = ws,
                           .training = 1,
                           .exec = &a.exec,
                           .scratch = &a.scratch};
    cr_assert_eq(op->forward(&call), CLNET_OK, "%s", clnet_context_error(ctx));
    clnet_test_read(ty, y);
    if (dy) {
        call.dout = tdy;
        call.din = din;
        call.dw = dw;
        cr_assert_eq(op->backward(&call), CLNET_OK, "%s", clnet_context_error(ctx));
        clnet_test_read(tdx, dx);
        clnet_test_read(tdg, dgamma);
        clnet_test_read(tdb, dbeta);
    }
    clnet__op_alone_release(&a);
    clnet_tensor *all[] = {tx, ty, tg, tb, tdy, tdx, tdg, tdb};
    for (size_t i = 0; i < CLNET_COUNTOF(all); ++i)
        clnet_tensor_destroy(all[i]);
    free(params);
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
    const clnet_shape s = {2, 28, 28, 33};
    const size_t n = clnet__shape_count(s);
    float *x = clnet_test_random(n, 3), *dy = clnet_test_random(n, 4);
    float *gamma = clnet_test_random(33, 5), *beta = clnet_test_random(33, 6);
    float *y = malloc(n * sizeof *y),
          *dx[2] = {malloc(n * sizeof(float)), malloc(n * sizeof(float))};
    float dg[2][33], db[2][33];
    cr_assert(y && dx[0] && dx[1]);
    for (int k = 0; k < 2; ++k)
        run(ctx, "epsilon = 1e-6", s, x, gamma, beta, y, dy, dx[k], dg[k], db[k]);
    cr_expect(memcmp(dx[0], dx[1], n * sizeof(float)) == 0, "dx differs between runs");
    cr_expect(memcmp(dg[0], dg[1], sizeof dg[0]) == 0, "dgamma differs between runs");
    cr_expect(memcmp(db[0], db[1], sizeof db[0]) == 0, "dbeta differs between runs");
    free(x);
    free(dy);
    free(gamma);
    free(beta);
    free(y);
    free(dx[0]);
    free(dx[1]);
}

Test(layer_norm, parse_errors_name_the_key)
{
    clnet_test_expect_parse_error("layer_norm", "epsilon = 0", "epsilon");
    clnet_test_expect_parse_error("layer_norm", "epsilon = -1e-3", "epsilon");
    clnet_test_expect_parse_error("layer_norm", "axis = 1", "axis");
    clnet_test_expect_parse_error("layer_norm", "center = false", "center");
}
