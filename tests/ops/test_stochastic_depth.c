/* test_stochastic_depth.c - stochastic_depth against src/ref/stochastic_depth.c on every
 * class (the harness checks that device and reference draws agree bit for bit), plus: each
 * image whole, either 0 or x / (1 - rate); the kept fraction near 1 - rate; the seeds; the
 * identity at inference; parse errors. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/support.h"

static const clnet__op_case stochastic_depth_extra_cases[] = {
    {"rate = 0.5\nseed = 3", 1, {{5, 3, 3, 33}}, 0},
    {"rate = 0.2", 1, {{3, 7, 1, 5}}, 0},
};

CLNET_TEST_OP(stochastic_depth)

enum { IMAGES = 1 << 14, PER = 2 * 3 * 5 }; /* images of 2x3x5: a float16 and a tail */

/* stochastic_depth of x (IMAGES images of PER floats) in training with call seed seed;
 * returns the output (free it). */
static float *drop(clnet_context *ctx, const char *params, const float *x, int training,
                   uint64_t seed)
{
    const clnet_shape s = {IMAGES, 2, 3, 5};
    float *out = malloc((size_t)IMAGES * PER * sizeof(float));
    cr_assert(out);
    const float *xs[1] = {x};
    clnet_status st = clnet_test_run_inputs(ctx, "stochastic_depth", params, 1, &s, xs, training,
                                            seed, out, (size_t)IMAGES * PER, NULL, NULL);
    cr_assert_eq(st, CLNET_OK, "%s: %s", clnet_status_string(st), clnet_context_error(ctx));
    return out;
}

/* Image n kept: 1, dropped: 0, else (mixed or wrongly scaled) -1. */
static int kept(const float *x, const float *y, int n, float scale)
{
    int zeros = 0, scaled = 0;
    for (int i = n * PER; i < (n + 1) * PER; ++i) {
        zeros += y[i] == 0.0f;
        scaled += fabsf(y[i] - x[i] * scale) <= 1e-6f * fabsf(x[i] * scale);
    }
    return scaled == PER ? 1 : zeros == PER ? 0 : -1;
}

CLNET_TEST_CLASS_PARAMS(stochastic_depth, drops_whole_images_at_the_rate)

/* 2^14 Bernoulli(0.7) draws: the standard deviation of the kept fraction is 0.0036, so a
 * 0.03 bound is over 8 sigma (and the seed is fixed: the test is deterministic). */
ParameterizedTest(clnet_device_class *cls, stochastic_depth, drops_whole_images_at_the_rate)
{
    clnet_context *ctx = clnet_test_device_class(*cls);
    float *x = clnet_test_random((size_t)IMAGES * PER, 11);
    float *y = drop(ctx, "rate = 0.3", x, 1, 12345);
    int n_kept = 0;
    for (int n = 0; n < IMAGES; ++n) {
        const int k = kept(x, y, n, 1.0f / 0.7f);
        cr_assert_neq(k, -1, "image %d is neither dropped whole nor x / (1 - rate)", n);
        n_kept += k;
    }
    const double frac = (double)n_kept / IMAGES;
    cr_expect(fabs(frac - 0.7) < 0.03, "kept fraction %.4f, want about 0.7", frac);
    free(x);
    free(y);
}

Test(stochastic_depth, seeds_change_the_draw)
{
    clnet_context *ctx = clnet_test_device();
    float *x = clnet_test_random((size_t)IMAGES * PER, 12);
    float *a = drop(ctx, "rate = 0.5", x, 1, 1), *b = drop(ctx, "rate = 0.5", x, 1, 2);
    float *c = drop(ctx, "rate = 0.5\nseed = 9", x, 1, 1), *a2 = drop(ctx, "rate = 0.5", x, 1, 1);
    int ab = 0, ac = 0;
    for (int n = 0; n < IMAGES; ++n) {
        ab += kept(x, a, n, 2.0f) != kept(x, b, n, 2.0f);
        ac += kept(x, a, n, 2.0f) != kept(x, c, n, 2.0f);
    }
    /* Independent draws differ for half the images. */
    cr_expect(fabs((double)ab / IMAGES - 0.5) < 0.05, "call seeds 1, 2: %d differ", ab);
    cr_expect(fabs((double)ac / IMAGES - 0.5) < 0.05, "op seeds 0, 9: %d differ", ac);
    cr_expect(memcmp(a, a2, (size_t)IMAGES * PER * sizeof(float)) == 0,
              "the same seeds repeat the draw");
    free(x);
    free(a);
    free(b);
    free(c);
    free(a2);
}

CLNET_TEST_CLASS_PARAMS(stochastic_depth, inference_and_rate_zero_are_identity)

ParameterizedTest(clnet_device_class *cls, stochastic_depth, inference_and_rate_zero_are_identity)
{
    clnet_context *ctx = clnet_test_device_class(*cls);
    const clnet_shape s = {3, 1, 1, 17};
    const size_t n = 3 * 17;
    float *x = clnet_test_random(n, 5), out[3 * 17], din[3 * 17];
    const float *xs[1] = {x};
    float *dins[1] = {din};
    cr_assert_eq(clnet_test_run_inputs(ctx, "stochastic_depth", "rate = 0.9", 1, &s, xs, 0, 77, out,
                                       n, NULL, NULL),
                 CLNET_OK, "%s", clnet_context_error(ctx));
    cr_expect(memcmp(out, x, n * sizeof(float)) == 0, "inference changed values");
    cr_assert_eq(clnet_test_run_inputs(ctx, "stochastic_depth", "rate = 0", 1, &s, xs, 1, 77, out,
                                       n, x, dins),
                 CLNET_OK, "%s", clnet_context_error(ctx));
    cr_expect(memcmp(out, x, n * sizeof(float)) == 0, "rate 0 in training changed values");
    cr_expect(memcmp(din, x, n * sizeof(float)) == 0, "rate 0 backward changed values");
    free(x);
}

Test(stochastic_depth, parse_errors_name_the_key)
{
    clnet_test_expect_parse_error("stochastic_depth", "rate = 1", "rate");
    clnet_test_expect_parse_error("stochastic_depth", "rate = -0.1", "rate");
    clnet_test_expect_parse_error("stochastic_depth", "seed = -1", "seed");
    clnet_test_expect_parse_error("stochastic_depth", "mode = batch", "mode");
}

/* In a model, two stochastic-depth layers with the same seed key draw apart: the executor
 * mixes each layer's position into the step's seed. Branches a and b of 64 images are
 * concatenated; with one draw shared, every image would keep both or neither. */
Test(stochastic_depth, layers_with_equal_seeds_draw_apart)
{
    static const char spec[] = "[image]\nop = input\nshape = 1, 1, 2\n\n"
                               "[a]\nop = stochastic_depth\ninputs = image\nrate = 0.5\n\n"
                               "[b]\nop = stochastic_depth\ninputs = image\nrate = 0.5\n\n"
                               "[both]\nop = concatenate\ninputs = a, b\n";
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = NULL;
    char err[256] = "";
    cr_assert_eq(clnet_graph_from_spec(spec, "sd.spec", &g, err, sizeof err), CLNET_OK, "%s", err);
    clnet_model *m = NULL;
    cr_assert_eq(clnet_model_create(ctx, g, NULL, &m), CLNET_OK, "%s", clnet_context_error(ctx));
    enum { N = 64 };
    float x[N * 2], y[N * 4];
    for (int i = 0; i < N * 2; ++i)
        x[i] = 1.0f;
    clnet_tensor *t = clnet_test_tensor(ctx, (clnet_shape){N, 1, 1, 2}, x), *out = NULL;
    cr_assert_eq(clnet_model_forward(m, t, 1, &out), CLNET_OK, "%s", clnet_context_error(ctx));
    cr_assert_eq(clnet_tensor_read(out, y, N * 4), CLNET_OK);
    int apart = 0, kept_a = 0;
    for (int i = 0; i < N; ++i) {
        kept_a += y[4 * i] != 0.0f;
        apart += (y[4 * i] != 0.0f) != (y[4 * i + 2] != 0.0f);
    }
    cr_expect(kept_a > 0 && kept_a < N, "branch a kept %d of %d images", kept_a, N);
    cr_expect_gt(apart, 0, "both branches dropped the same images");
    clnet_tensor_destroy(t);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}
