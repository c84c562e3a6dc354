/* test_softmax.c - softmax against src/ref/softmax.c on every class, plus known values,
 * extreme logits, determinism and parse errors. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/support.h"

/* Several GPU rows per work-group; 37 rows of 33 (two float16s and a tail). */
static const clnet__op_case softmax_extra_cases[] = {
    {"", 1, {{1, 1, 1, 3}}, 0},
    {"", 1, {{1, 37, 1, 33}}, 2.0f},
};

CLNET_TEST_OP(softmax)

static void run(clnet_context *ctx, clnet_shape s, const float *x, float *y, const float *dy,
                float *dx)
{
    const float *xs[1] = {x};
    float *dxs[1] = {dx};
    clnet_status st = clnet_test_run_inputs(ctx, "softmax", "", 1, &s, xs, 1, 1, y,
                                            clnet__shape_count(s), dy, dxs);
    cr_assert_eq(st, CLNET_OK, "%s: %s", clnet_status_string(st), clnet_context_error(ctx));
}

ParameterizedTestParameters(softmax, known_values_and_extreme_logits)
{
    return cr_make_param_array(clnet_device_class, (void *)clnet_test_classes, 3);
}

/* Row 0: equal logits give 1/c. Row 1: (1000, -1000, ...) stays finite, one-hot.
 * Row 2: log(1), log(2), log(3), log(4) give 0.1, 0.2, 0.3, 0.4. */
ParameterizedTest(clnet_device_class *cls, softmax, known_values_and_extreme_logits)
{
    clnet_context *ctx = clnet_test_device_class(*cls);
    const clnet_shape s = {3, 1, 1, 4};
    const float x[12] = {7.0f,     7.0f,   7.0f,       7.0f,       1000.0f,    -1000.0f,
                         -1000.0f, 999.0f, logf(1.0f), logf(2.0f), logf(3.0f), logf(4.0f)};
    const float want[12] = {0.25f,
                            0.25f,
                            0.25f,
                            0.25f,
                            1.0f / (1.0f + expf(-1.0f)),
                            0.0f,
                            0.0f,
                            expf(-1.0f) / (1.0f + expf(-1.0f)),
                            0.1f,
                            0.2f,
                            0.3f,
                            0.4f};
    float y[12], dx[12], dy[12];
    for (int i = 0; i < 12; ++i)
        dy[i] = 1.0f;
    run(ctx, s, x, y, dy, dx);
    for (int i = 0; i < 12; ++i) {
        cr_assert(isfinite(y[i]), "y[%d] = %g", i, y[i]);
        cr_assert_float_eq(y[i], want[i], 1e-6f, "y[%d] = %g, want %g", i, y[i], want[i]);
        /* A constant upstream gradient moves no probability. */
        cr_assert_float_eq(dx[i], 0.0f, 1e-6f, "dx[%d] = %g", i, dx[i]);
    }
}

Test(softmax, repeats_exactly)
{
    clnet_context *ctx = clnet_test_device();
    const clnet_shape s = {5, 1, 1, 1000};
    const size_t n = clnet__shape_count(s);
    float *x = clnet_test_random(n, 3), *dy = clnet_test_random(n, 4);
    float *y1 = malloc(n * sizeof(float)), *y2 = malloc(n * sizeof(float));
    float *d1 = malloc(n * sizeof(float)), *d2 = malloc(n * sizeof(float));
    run(ctx, s, x, y1, dy, d1);
    run(ctx, s, x, y2, dy, d2);
    cr_assert(memcmp(y1, y2, n * sizeof(float)) == 0);
    cr_assert(memcmp(d1, d2, n * sizeof(float)) == 0);
    double sum = 0.0;
    for (int j = 0; j < 1000; ++j)
        sum += y1[j];
    cr_assert_float_eq(sum, 1.0, 1e-5, "row sums to %.8f", sum);
    free(x);
    free(dy);
    free(y1);
    free(y2);
    free(d1);
    free(d2);
}

Test(softmax, parse_errors_name_the_key)
{
    clnet_context *ctx = clnet_test_device();
    const clnet__op_desc *op = clnet__op_find("softmax");
    void *p = NULL;
    cr_assert_eq(clnet__op_parse(ctx, op, "axis = 1", "net.spec [probs]", &p), CLNET_ERR_PARSE);
    const char *msg = clnet_context_error(ctx);
    cr_assert(strstr(msg, "axis") && strstr(msg, "[probs]"), "%s", msg);
    cr_assert_eq(clnet__op_parse(ctx, op, "temperature = 2", "net.spec [probs]", &p),
                 CLNET_ERR_PARSE);
    cr_assert(strstr(clnet_context_error(ctx), "temperature"), "%s", clnet_context_error(ctx));
    cr_assert_eq(clnet__op_parse(ctx, op, "axis = 3", "net.spec [probs]", &p), CLNET_OK);
    free(p);
}
