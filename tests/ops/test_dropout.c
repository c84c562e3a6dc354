/* test_dropout.c - dropout against src/ref/dropout.c on every class (the harness checks
 * that device and reference masks agree bit for bit), plus the kept fraction, seeds,
 * rate 0, inference, and parse errors. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/support.h"

static const clnet__op_case dropout_extra_cases[] = {
    {"rate = 0.9\nseed = 3", 1, {{3, 1, 1, 4099}}, 0}, /* several CPU chunks with a tail */
    {"rate = 0.5", 1, {{1, 7, 3, 5}}, 0},
};

CLNET_TEST_OP(dropout)

enum { BIG = 1 << 20 };

/* Forward of dropout on BIG ones; returns the output (free it). */
static float *drop_ones(clnet_context *ctx, const char *params, int training, uint64_t seed)
{
    const clnet_shape s = {1, 1, 1, BIG};
    float *ones = malloc(BIG * sizeof(float)), *out = malloc(BIG * sizeof(float));
    cr_assert(ones && out);
    for (int i = 0; i < BIG; ++i)
        ones[i] = 1.0f;
    const float *x[1] = {ones};
    clnet_status st = clnet_test_run_inputs(ctx, "dropout", params, 1, &s, x, training, seed, out,
                                            BIG, NULL, NULL);
    cr_assert_eq(st, CLNET_OK, "%s: %s", clnet_status_string(st), clnet_context_error(ctx));
    free(ones);
    return out;
}

ParameterizedTestParameters(dropout, keeps_about_one_minus_rate)
{
    return cr_make_param_array(clnet_device_class, (void *)clnet_test_classes, 3);
}

/* 2^20 Bernoulli(0.7) draws: the standard deviation of the kept fraction is 4.5e-4, so a
 * 0.003 bound is about 6.5 sigma (and the seed is fixed, so the test is deterministic). */
ParameterizedTest(clnet_device_class *cls, dropout, keeps_about_one_minus_rate)
{
    float *out = drop_ones(clnet_test_device_class(*cls), "rate = 0.3", 1, 12345);
    int kept = 0;
    for (int i = 0; i < BIG; ++i) {
        if (out[i] != 0.0f) {
            ++kept;
            cr_assert_float_eq(out[i], 1.0f / 0.7f, 1e-6f, "element %d = %g", i, out[i]);
        }
    }
    const double frac = (double)kept / BIG;
    cr_expect(fabs(frac - 0.7) < 0.003, "kept fraction %.5f, want 0.7", frac);
    free(out);
}

Test(dropout, seeds_change_the_mask)
{
    clnet_context *ctx = clnet_test_device();
    float *a = drop_ones(ctx, "rate = 0.5", 1, 1), *b = drop_ones(ctx, "rate = 0.5", 1, 2);
    float *c = drop_ones(ctx, "rate = 0.5\nseed = 9", 1, 1);
    float *a2 = drop_ones(ctx, "rate = 0.5", 1, 1);
    float *hi = drop_ones(ctx, "rate = 0.5", 1, 1ull << 32); /* only the high word differs */
    int ab = 0, ac = 0, ahi = 0;
    for (int i = 0; i < BIG; ++i) {
        ab += (a[i] != 0.0f) != (b[i] != 0.0f);
        ac += (a[i] != 0.0f) != (c[i] != 0.0f);
        ahi += (a[i] != 0.0f) != (hi[i] != 0.0f);
    }
    /* Independent masks differ in half the places. */
    cr_expect(fabs((double)ab / BIG - 0.5) < 0.01, "call seeds 1, 2: %d differ", ab);
    cr_expect(fabs((double)ac / BIG - 0.5) < 0.01, "op seeds 0, 9: %d differ", ac);
    cr_expect(fabs((double)ahi / BIG - 0.5) < 0.01, "call seeds 1, 2^32 + 1: %d differ", ahi);
    cr_expect(memcmp(a, a2, BIG * sizeof(float)) == 0, "the same seeds repeat the mask");
    free(a);
    free(b);
    free(c);
    free(a2);
    free(hi);
}

Test(dropout, rate_zero_and_inference_are_identity)
{
    clnet_context *ctx = clnet_test_device();
    const clnet_shape s = {3, 2, 2, 17};
    const size_t n = 3 * 2 * 2 * 17;
    float *x = clnet_test_random(n, 5), *out = malloc(n * sizeof(float));
    float *din = malloc(n * sizeof(float));
    const float *xs[1] = {x};
    float *dins[1] = {din};
    cr_assert_eq(
        clnet_test_run_inputs(ctx, "dropout", "rate = 0", 1, &s, xs, 1, 77, out, n, x, dins),
        CLNET_OK, "%s", clnet_context_error(ctx));
    cr_assert(memcmp(out, x, n * sizeof(float)) == 0, "rate 0 in training changed values");
    cr_assert(memcmp(din, x, n * sizeof(float)) == 0, "rate 0 backward changed values");
    cr_assert_eq(
        clnet_test_run_inputs(ctx, "dropout", "rate = 0.6", 1, &s, xs, 0, 77, out, n, NULL, NULL),
        CLNET_OK, "%s", clnet_context_error(ctx));
    cr_assert(memcmp(out, x, n * sizeof(float)) == 0, "inference changed values");
    free(x);
    free(out);
    free(din);
}

Test(dropout, parse_errors_name_the_key)
{
    clnet_context *ctx = clnet_test_device();
    const clnet__op_desc *op = clnet__op_find("dropout");
    void *p = NULL;
    static const char *const bad[][2] = {
        {"rate = 1.5", "rate"},  {"rate = 1", "rate"},  {"rate = -0.1", "rate"},
        {"rate = half", "rate"}, {"seed = -1", "seed"}, {"noise_shape = 1", "noise_shape"},
    };
    for (size_t i = 0; i < CLNET_COUNTOF(bad); ++i) {
        cr_assert_eq(clnet__op_parse(ctx, op, bad[i][0], "net.spec [drop]", &p), CLNET_ERR_PARSE,
                     "%s", bad[i][0]);
        const char *msg = clnet_context_error(ctx);
        cr_assert(strstr(msg, bad[i][1]) && strstr(msg, "[drop]"), "%s: %s", bad[i][0], msg);
    }
    cr_assert_eq(clnet__op_parse(ctx, op, "", "net.spec [drop]", &p), CLNET_OK);
    cr_assert_float_eq(((clnet__dropout_params *)p)->rate, 0.5f, 0.0f);
    free(p);
}
