/* test_batch_norm.c - batch_norm against src/ref/batch_norm.c on every class, plus known
 * values (constant channels, moving statistics by hand under both variance conventions),
 * the inference-mode (frozen) backward, and parse errors. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref/ref.h"
#include "support/support.h"

static const clnet__op_case batch_norm_extra_cases[] = {
    {"", 1, {{3, 17, 19, 5}}, 0}, /* several reduction blocks */
    {"momentum = 0\nactivation = relu", 1, {{3, 4, 5, 1}}, 0},
    {"epsilon = 1e-5\nactivation = relu6", 1, {{2, 3, 3, 16}}, 7.0f},
    {"unbiased_variance = true\nmomentum = 0.9", 1, {{3, 1, 1, 33}}, 0},
};

CLNET_TEST_OP(batch_norm)

static const clnet__op_desc *op(void)
{
    const clnet__op_desc *d = clnet__op_find("batch_norm");
    cr_assert_not_null(d);
    return d;
}

/* One batch_norm on the device: input, output, the four weights, saved mean / invstd. */
typedef struct bn {
    clnet_context *ctx;
    void *params;
    clnet_shape shape;
    clnet_tensor *x, *y, *w[4], *saved[2];
    clnet__op_alone alone;
} bn;

/* w holds gamma, beta, moving mean, moving variance, c values each. */
static void bn_make(bn *b, clnet_device_class cls, const char *params, clnet_shape s,
                    const float *x, const float *const w[4])
{
    memset(b, 0, sizeof *b);
    b->ctx = clnet_test_device_class(cls);
    b->shape = s;
    cr_assert_eq(clnet__op_parse(b->ctx, op(), params, "test", &b->params), CLNET_OK, "%s",
                 clnet_context_error(b->ctx));
    const clnet_shape v = {1, 1, 1, s.c};
    b->x = clnet_test_tensor(b->ctx, s, x);
    b->y = clnet_test_tensor(b->ctx, s, NULL);
    for (int i = 0; i < 4; ++i)
        b->w[i] = clnet_test_tensor(b->ctx, v, w[i]);
    for (int i = 0; i < 2; ++i)
        b->saved[i] = clnet_test_tensor(b->ctx, v, NULL);
    cr_assert_eq(clnet__op_alone_prepare(b->ctx, op(), b->params, &s, 1, 1, &b->alone), CLNET_OK);
}

static void bn_forward(bn *b, int training)
{
    const clnet__op_call call = {.ctx = b->ctx,
                                 .params = b->params,
                                 .n_in = 1,
                                 .in = &b->x,
                                 .out = b->y,
                                 .n_w = 4,
                                 .w = b->w,
                                 .saved = b->saved,
                                 .training = training,
                                 .exec = &b->alone.exec,
                                 .scratch = &b->alone.scratch};
    cr_assert_eq(op()->forward(&call), CLNET_OK, "%s", clnet_context_error(b->ctx));
}

static void bn_free(bn *b)
{
    clnet__op_alone_release(&b->alone);
    clnet_tensor_destroy(b->x);
    clnet_tensor_destroy(b->y);
    for (int i = 0; i < 4; ++i)
        clnet_tensor_destroy(b->w[i]);
    for (int i = 0; i < 2; ++i)
        clnet_tensor_destroy(b->saved[i]);
    free(b->params);
}

static int close_to(double got, double want, double tol)
{
    return fabs(got - want) <= tol * (1.0 + fabs(want));
}

ParameterizedTestParameters(batch_norm, constant_channels_normalize_to_beta)
{
    return cr_make_param_array(clnet_device_class, (void *)clnet_test_classes, 3);
}

/* A constant channel has mean = the constant and variance 0: y = beta, invstd = 1/sqrt(eps),
 * and one step of momentum 0.9 moves the statistics a tenth of the way. */
ParameterizedTest(clnet_device_class *cls, batch_norm, constant_channels_normalize_to_beta)
{
    const clnet_shape s = {2, 3, 3, 3};
    const float val[3] = {1.0f, -2.0f, 5.0f};
    float x[54], y[54], mean[3], invstd[3], mm[3], mv[3];
    for (int i = 0; i < 54; ++i)
        x[i] = val[i % 3];
    const float gamma[3] = {1, 2, 3}, beta[3] = {0.1f, 0.2f, 0.3f}, mm0[3] = {0, 1, 0},
                mv0[3] = {1, 1, 2};
    const float *const w[4] = {gamma, beta, mm0, mv0};
    bn b;
    bn_make(&b, *cls, "momentum = 0.9", s, x, w);
    bn_forward(&b, 1);
    clnet_test_read(b.y, y);
    clnet_test_read(b.saved[0], mean);
    clnet_test_read(b.saved[1], invstd);
    clnet_test_read(b.w[2], mm);
    clnet_test_read(b.w[3], mv);
    for (int i = 0; i < 54; ++i)
        cr_expect(close_to(y[i], beta[i % 3], 1e-6), "y[%d] = %g, want %g", i, y[i], beta[i % 3]);
    for (int c = 0; c < 3; ++c) {
        cr_expect(close_to(mean[c], val[c], 1e-6), "mean[%d] = %g", c, mean[c]);
        cr_expect(close_to(invstd[c], 1.0 / sqrt(1e-3), 1e-5), "invstd[%d] = %g", c, invstd[c]);
        cr_expect(close_to(mm[c], 0.9 * mm0[c] + 0.1 * val[c], 1e-6), "moving_mean[%d] = %g", c,
                  mm[c]);
        cr_expect(close_to(mv[c], 0.9 * mv0[c], 1e-6), "moving_variance[%d] = %g", c, mv[c]);
    }
    bn_free(&b);
}

typedef struct moving_case {
    clnet_device_class cls;
    int unbiased;
} moving_case;

ParameterizedTestParameters(batch_norm, moving_statistics_by_hand)
{
    static moving_case cases[6];
    for (int i = 0; i < 6; ++i)
        cases[i] = (moving_case){clnet_test_classes[i / 2], i % 2};
    return cr_make_param_array(moving_case, cases, 6);
}

/* x = {1, 2, 3, 6} over a batch of 4 at 1x1: mean 3, biased variance 14/4 = 3.5, unbiased
 * 14/3. Momentum 0.9 from (0, 1): moving mean 0.3; moving variance 0.9 + 0.35 = 1.25
 * (Keras) or 0.9 + 1.4/3 (PyTorch). Normalizing always uses the biased 3.5; inference
 * afterwards uses the moving statistics. */
ParameterizedTest(moving_case *k, batch_norm, moving_statistics_by_hand)
{
    const float x[4] = {1, 2, 3, 6}, one = 1.0f, zero = 0.0f;
    const float *const w[4] = {&one, &zero, &zero, &one};
    float y[4], mm, mv;
    bn b;
    bn_make(&b, k->cls, k->unbiased ? "momentum = 0.9\nunbiased_variance = true" : "momentum = 0.9",
            (clnet_shape){4, 1, 1, 1}, x, w);
    bn_forward(&b, 1);
    clnet_test_read(b.y, y);
    clnet_test_read(b.w[2], &mm);
    clnet_test_read(b.w[3], &mv);
    const double want_mv = k->unbiased ? 0.9 + 0.1 * 14.0 / 3.0 : 1.25;
    cr_expect(close_to(mm, 0.3, 1e-6), "moving_mean %g", mm);
    cr_expect(close_to(mv, want_mv, 1e-6), "moving_variance %g, want %g", mv, want_mv);
    for (int i = 0; i < 4; ++i)
        cr_expect(close_to(y[i], (x[i] - 3.0) / sqrt(3.5 + 1e-3), 1e-5), "y[%d] = %g", i, y[i]);
    bn_forward(&b, 0);
    clnet_test_read(b.y, y);
    for (int i = 0; i < 4; ++i)
        cr_expect(close_to(y[i], (x[i] - 0.3) / sqrt(want_mv + 1e-3), 1e-5), "inference y[%d] = %g",
                  i, y[i]);
    bn_free(&b);
}

/* The reference's inference-mode backward against central differences of its
 * inference-mode forward (the generic gradient check runs training mode only). */
static double inference_objective(const clnet__ref_args *a0, double *out, const double *dout,
                                  size_t count)
{
    clnet__ref_args a = *a0;
    a.training = 0;
    a.out = out;
    clnet__ref_batch_norm_forward(&a);
    double l = 0.0;
    for (size_t i = 0; i < count; ++i)
        l += out[i] * dout[i];
    return l;
}

ParameterizedTestParameters(batch_norm, inference_backward_is_the_frozen_affine_map)
{
    return cr_make_param_array(clnet_device_class, (void *)clnet_test_classes, 3);
}

/* Frozen BN (fine-tuning): forward and backward with training == 0 use the moving
 * statistics: dx = dpre * gamma / sqrt(var + eps), dgamma = sum dpre * xhat, dbeta = sum dpre.
 * Device against the reference, and the reference against finite differences. */
ParameterizedTest(clnet_device_class *cls, batch_norm, inference_backward_is_the_frozen_affine_map)
{
    const clnet_shape s = {2, 3, 4, 17}, v = {1, 1, 1, 17};
    const size_t n = clnet__shape_count(s);
    float *x = clnet_test_random(n, 11), *dy = clnet_test_random(n, 12);
    float gamma[17], beta[17], mm[17], mv[17];
    for (int c = 0; c < 17; ++c) {
        gamma[c] = 0.5f + 0.05f * (float)c;
        beta[c] = 0.3f - 0.04f * (float)c;
        mm[c] = 0.02f * (float)c - 0.1f;
        mv[c] = 0.5f + 0.06f * (float)c;
    }
    for (size_t i = 0; i < n; ++i)
        x[i] *= 8.0f; /* relu6 masks both ends */
    const float *const w[4] = {gamma, beta, mm, mv};
    bn b;
    bn_make(&b, *cls, "activation = relu6\nepsilon = 0.01", s, x, w);
    bn_forward(&b, 0);
    clnet_tensor *tdy = clnet_test_tensor(b.ctx, s, dy), *dx = clnet_test_tensor(b.ctx, s, NULL);
    clnet_tensor *dg = clnet_test_tensor(b.ctx, v, NULL), *db = clnet_test_tensor(b.ctx, v, NULL);
    cr_assert_eq(clnet_tensor_fill(dx, NAN), CLNET_OK);
    clnet_tensor *din[1] = {dx}, *dw[4] = {dg, db, NULL, NULL};
    const clnet__op_call call = {.ctx = b.ctx,
                                 .params = b.params,
                                 .n_in = 1,
                                 .in = &b.x,
                                 .out = b.y,
                                 .n_w = 4,
                                 .w = b.w,
                                 .saved = b.saved,
                                 .dout = tdy,
                                 .din = din,
                                 .dw = dw,
                                 .exec = &b.alone.exec,
                                 .scratch = &b.alone.scratch};
    cr_assert_eq(op()->backward(&call), CLNET_OK, "%s", clnet_context_error(b.ctx));

    /* The reference, in double, on the same float values. */
    double *hx = calloc(n, sizeof *hx), *hdy = calloc(n, sizeof *hdy),
           *hout = calloc(n, sizeof *hout);
    double *hdx = calloc(n, sizeof *hdx), hw[4][17], hdw[2][17];
    cr_assert(hx && hdy && hout && hdx);
    for (size_t i = 0; i < n; ++i) {
        hx[i] = x[i];
        hdy[i] = dy[i];
    }
    for (int c = 0; c < 17; ++c) {
        hw[0][c] = gamma[c];
        hw[1][c] = beta[c];
        hw[2][c] = mm[c];
        hw[3][c] = mv[c];
    }
    const clnet_shape ws[4] = {v, v, v, v};
    double *wp[4] = {hw[0], hw[1], hw[2], hw[3]}, *dwp[4] = {hdw[0], hdw[1], NULL, NULL};
    double *dinp[1] = {hdx};
    const double *inp[1] = {hx};
    clnet__ref_args a = {b.params, 1, &s, inp, s, hout, 4, ws, wp, 0, 0, hdy, dinp, dwp};
    clnet__ref_batch_norm_forward(&a);
    clnet__ref_batch_norm_backward(&a);

    float *got = malloc(n * sizeof *got), got_dw[2][17];
    cr_assert_not_null(got);
    clnet_test_read(dx, got);
    clnet_test_read(dg, got_dw[0]);
    clnet_test_read(db, got_dw[1]);
    for (size_t i = 0; i < n; ++i)
        cr_expect(close_to(got[i], hdx[i], 1e-5), "dx[%zu] = %g, want %g", i, got[i], hdx[i]);
    for (int k = 0; k < 2; ++k)
        for (int c = 0; c < 17; ++c)
            cr_expect(close_to(got_dw[k][c], hdw[k][c], 1e-4), "d%s[%d] = %g, want %g",
                      k ? "beta" : "gamma", c, got_dw[k][c], hdw[k][c]);
    /* By hand where relu6 passes: dx = dy * gamma / sqrt(var + eps). */
    for (size_t i = 0; i < n; ++i) {
        const int c = (int)(i % 17);
        const double pre = gamma[c] * (hx[i] - mm[c]) / sqrt(mv[c] + 0.01) + beta[c];
        if (pre > 0.01 && pre < 5.99)
            cr_expect(close_to(hdx[i], hdy[i] * gamma[c] / sqrt(mv[c] + 0.01), 1e-7), "dx[%zu]", i);
        else if (pre < -0.01 || pre > 6.01)
            cr_expect_eq(hdx[i], 0.0);
    }
    /* Reference against central differences at a spread of coordinates. */
    double *scratch = calloc(n, sizeof *scratch);
    cr_assert_not_null(scratch);
    for (int t = 0; t < 3; ++t) {
        double *var = t == 0 ? hx : hw[t - 1];
        const double *ana = t == 0 ? hdx : hdw[t - 1];
        const size_t len = t == 0 ? n : 17, step = t == 0 ? 7 : 1;
        for (size_t i = 0; i < len; i += step) {
            const double keep = var[i], eps = 1e-6;
            var[i] = keep + eps;
            const double lp = inference_objective(&a, scratch, hdy, n);
            var[i] = keep - eps;
            const double lm = inference_objective(&a, scratch, hdy, n);
            var[i] = keep;
            const double num = (lp - lm) / (2.0 * eps);
            cr_expect(fabs(num - ana[i]) <= 1e-6 * (1.0 + fabs(ana[i])),
                      "tensor %d [%zu]: numeric %g, analytic %g", t, i, num, ana[i]);
        }
    }
    free(scratch);
    free(got);
    free(hx);
    free(hdy);
    free(hout);
    free(hdx);
    free(x);
    free(dy);
    clnet_tensor_destroy(tdy);
    clnet_tensor_destroy(dx);
    clnet_tensor_destroy(dg);
    clnet_tensor_destroy(db);
    bn_free(&b);
}

Test(batch_norm, weights_saved_and_flags_follow_keras)
{
    const clnet_shape s = {2, 4, 4, 7};
    clnet__weight_desc wd[CLNET_MAX_WEIGHTS];
    clnet_shape saved[CLNET_MAX_SAVED];
    void *p = NULL;
    cr_assert_eq(clnet__op_parse(NULL, op(), "", "test", &p), CLNET_OK);
    const clnet__batch_norm_params *bp = p;
    cr_expect(close_to(bp->epsilon, 1e-3, 1e-6) && close_to(bp->momentum, 0.99, 1e-6));
    cr_expect_eq(bp->unbiased, 0);
    cr_expect_eq(bp->act.id, CLNET_ACT_NONE);
    cr_assert_eq(op()->weights(p, &s, 1, wd), 4);
    static const char *const names[4] = {"gamma", "beta", "moving_mean", "moving_variance"};
    static const int trainable[4] = {1, 1, 0, 0};
    static const float init[4] = {1, 0, 0, 1};
    for (int i = 0; i < 4; ++i) {
        cr_expect_str_eq(wd[i].name, names[i]);
        cr_expect_eq(wd[i].trainable, trainable[i], "%s", names[i]);
        cr_expect(wd[i].shape.n == 1 && wd[i].shape.h == 1 && wd[i].shape.w == 1 &&
                  wd[i].shape.c == 7);
        cr_expect(wd[i].init == CLNET_INIT_UNIFORM && wd[i].init_a == init[i] &&
                      wd[i].init_b == init[i],
                  "%s", names[i]);
    }
    cr_expect(wd[3].test_lo > 0.0f, "moving variance must stay positive in checks");
    cr_assert_eq(op()->saved(p, &s, 1, saved), 2);
    cr_expect_eq(saved[0].c, 7);
    cr_expect(op()->flags & CLNET_OP_MODE_DEPENDENT);
    clnet_shape out;
    cr_assert_eq(op()->infer(NULL, p, &s, 1, &out), CLNET_OK);
    cr_expect_eq(op()->flops(p, &s, 1, out), 2.0 * 2 * 4 * 4 * 7);
    free(p);
}

Test(batch_norm, parse_errors_name_the_key)
{
    static const char *const bad[][3] = {
        {"epsilon = 0", "epsilon", "positive"},
        {"epsilon = small", "epsilon", "small"},
        {"momentum = 1.5", "momentum", "[0, 1]"},
        {"momentum = -0.1", "momentum", "[0, 1]"},
        {"activation = mish", "activation", "mish"},
        {"unbiased_variance = maybe", "unbiased_variance", "maybe"},
        {"axis = -1", "axis", "unknown"},
    };
    for (size_t i = 0; i < CLNET_COUNTOF(bad); ++i)
        clnet_test_expect_error("batch_norm", bad[i][0], (clnet_shape){2, 3, 3, 4}, CLNET_ERR_PARSE,
                                bad[i][1], bad[i][2]);
}
