/* test_layer_scale.c - layer_scale against src/ref/layer_scale.c on every class (odd shapes,
 * the reference's gradient by finite differences), known values (y and dx exact products,
 * dgamma the column sums), the gradients repeating bit for bit, gamma's initial value in a
 * model (1e-6 by default, init_value otherwise), and parse errors. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "support/models.h"

static const clnet__op_case layer_scale_extra_cases[] = {
    {"", 1, {{3, 1, 1, 5}}, 0},                   /* rank-2 looking, batch 3 */
    {"init_value = -2", 1, {{2, 7, 9, 3}}, 4.0f}, /* channels below a float4 */
    {"", 1, {{1, 29, 31, 7}}, 0},                 /* many pixels: several sum blocks */
    {"init_value = 0.1", 1, {{3, 2, 1, 300}}, 0}, /* more channels than GPU lanes */
};

CLNET_TEST_OP(layer_scale)

/* layer_scale on ctx: x of shape s, gamma of s.c; forward (training) into y and, with dy,
 * backward into dx and dgamma. */
static void run(clnet_context *ctx, clnet_shape s, const float *x, const float *gamma, float *y,
                const float *dy, float *dx, float *dgamma)
{
    float *const dw[1] = {dgamma};
    clnet_test_run_weighted(ctx, "layer_scale", "", s, x, &gamma, y, dy, dx, dw);
}

CLNET_TEST_CLASS_PARAMS(layer_scale, known_values)

/* y = x * gamma and dx = dy * gamma are single float products (exact against the host's);
 * dgamma[c] sums dy * x over 3 * 5 * 7 pixels (within float rounding of a double sum). */
ParameterizedTest(clnet_device_class *cls, layer_scale, known_values)
{
    clnet_context *ctx = clnet_test_device_class(*cls);
    const clnet_shape s = {3, 5, 7, 19};
    const size_t n = clnet__shape_count(s);
    float *x = clnet_test_random(n, 1), *dy = clnet_test_random(n, 2);
    float *gamma = clnet_test_random(19, 3), *y = malloc(n * sizeof *y), *dx = malloc(n * 4);
    float dg[19];
    cr_assert(y && dx);
    run(ctx, s, x, gamma, y, dy, dx, dg);
    double want[19] = {0};
    for (size_t i = 0; i < n; ++i) {
        cr_expect_eq(y[i], x[i] * gamma[i % 19], "y[%zu]", i);
        cr_expect_eq(dx[i], dy[i] * gamma[i % 19], "dx[%zu]", i);
        want[i % 19] += (double)dy[i] * x[i];
    }
    for (int c = 0; c < 19; ++c)
        cr_expect(fabs(dg[c] - want[c]) <= 1e-5 * (1.0 + fabs(want[c])), "dgamma[%d] = %g, want %g",
                  c, (double)dg[c], want[c]);
    free(x);
    free(dy);
    free(gamma);
    free(y);
    free(dx);
}

CLNET_TEST_CLASS_PARAMS(layer_scale, gradients_repeat_exactly)

/* dgamma's column sums run in a fixed order: two backward passes give the same bits
 * (2 * 28 * 28 pixels: several reduction blocks). */
ParameterizedTest(clnet_device_class *cls, layer_scale, gradients_repeat_exactly)
{
    clnet_context *ctx = clnet_test_device_class(*cls);
    clnet_test_expect_gradients_repeat(ctx, "layer_scale", "", (clnet_shape){2, 28, 28, 33});
}

/* A model of one layer_scale layer on a 3x4x6 input: gamma starts at init_value, so the
 * output is x * init_value. */
static void expect_initial_gamma(const char *keys, float want)
{
    clnet_context *ctx = clnet_test_device();
    char spec[256], err[256] = "";
    snprintf(spec, sizeof spec,
             "[in]\nop = input\nshape = 3, 4, 6\n\n[scale]\nop = layer_scale\n%s", keys);
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_from_spec(spec, "test", &g, err, sizeof err), CLNET_OK, "%s", err);
    const clnet_param_counts pc = clnet_graph_params(g);
    cr_expect(pc.trainable == 6 && pc.non_trainable == 0, "%lld trainable, %lld not",
              (long long)pc.trainable, (long long)pc.non_trainable);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 3);
    clnet_weight_info info;
    clnet_tensor *gamma = NULL, *grad = NULL;
    cr_assert_eq(clnet_model_weight(m, 0, &info, &gamma, &grad), CLNET_OK);
    cr_expect_str_eq(info.name, "gamma");
    cr_expect(info.trainable && grad);
    float *got = clnet_test_host(gamma);
    for (int c = 0; c < 6; ++c)
        cr_expect_eq(got[c], want, "%s: gamma[%d] = %g, want %g", keys, c, (double)got[c],
                     (double)want);
    clnet_tensor *x = clnet_test_input(ctx, g, 2, 9), *y = NULL;
    cr_assert_eq(clnet_model_forward(m, x, 0, &y), CLNET_OK, "%s", clnet_context_error(ctx));
    float *xs = clnet_test_host(x), *ys = clnet_test_host(y);
    for (size_t i = 0; i < clnet_tensor_count(x); ++i)
        cr_expect_eq(ys[i], xs[i] * want, "y[%zu]", i);
    free(got);
    free(xs);
    free(ys);
    clnet_tensor_destroy(x);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}

Test(layer_scale, gamma_starts_at_init_value)
{
    expect_initial_gamma("", 1e-6f);
    expect_initial_gamma("init_value = 0.25", 0.25f);
    expect_initial_gamma("init_value = -3", -3.0f);
}

Test(layer_scale, parse_errors_name_the_key)
{
    clnet_test_expect_parse_error("layer_scale", "init_value = small", "init_value");
    clnet_test_expect_parse_error("layer_scale", "init_value = 1e39", "init_value");
    clnet_test_expect_parse_error("layer_scale", "init_values = 1e-6", "init_values");
}
