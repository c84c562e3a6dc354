/* test_bn_conventions.c - the zoo's batch norms (src/models/) follow the framework each
 * style copies, and a training forward moves their statistics exactly as that framework
 * does; the per-forward momentum of clnet_model_update_bn (src/plan/model.c) makes them
 * the image-weighted mean of the batch statistics.
 *
 * torch: torch.nn.BatchNorm2d(eps=1e-5, momentum=0.1): running = (1 - 0.1) * running +
 *   0.1 * batch, the running variance from the unbiased batch variance (n / (n - 1)); the
 *   output normalized with the biased one. torchvision's MnasNet uses momentum 0.0003.
 * keras: Keras 3's BatchNormalization (keras/src/layers/normalization/batch_normalization.py):
 *   moving = moving * momentum + batch * (1 - momentum), with batch mean and variance from
 *   ops.moments, the biased variance (mean(square(x)) - square(mean) in the numpy and torch
 *   backends, jnp.var in jax, tf.nn.moments in tensorflow). tf.keras 2 differed: its fused
 *   kernel, the default for 4-D inputs (keras/layers/normalization/batch_normalization.py,
 *   _fused_batch_norm with _bessels_correction_test_only = True), updated the moving
 *   variance with the fused op's Bessel-corrected (unbiased) batch variance. clnet follows
 *   Keras 3. Momentum and epsilon are keras.applications' own: ResNet50
 *   BatchNormalization(epsilon=1.001e-5) with the default momentum 0.99, MobileNetV2
 *   BatchNormalization(epsilon=1e-3, momentum=0.999); the layer's defaults are 0.99, 1e-3. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"
#include "support/models.h"

/* What one zoo model's batch norms must be. */
typedef struct convention {
    const char *model, *style;
    double epsilon, momentum; /* clnet's (Keras's) momentum: the weight of the old value */
    int unbiased;
} convention;

static const convention conventions[] = {
    {"resnet50", "torch", 1e-5, 1.0 - 0.1, 1},    {"resnet18", "torch", 1e-5, 1.0 - 0.1, 1},
    {"mobilenetv2", "torch", 1e-5, 1.0 - 0.1, 1}, {"mnasnet", "torch", 1e-5, 1.0 - 0.0003, 1},
    {"resnet50", "keras", 1.001e-5, 0.99, 0},     {"resnet18", "keras", 1.001e-5, 0.99, 0},
    {"mobilenetv2", "keras", 1e-3, 0.999, 0},
};

static clnet_graph *zoo(const convention *c)
{
    const clnet_zoo_options o = {32, 32, 3, 4, c->style, 0.0, 0};
    clnet_graph *g = NULL;
    char err[512] = "";
    cr_assert_eq(clnet_zoo_build(c->model, &o, &g, err, sizeof err), CLNET_OK, "%s", err);
    return g;
}

static int is_bn(const clnet__layer *l)
{
    return l->op && strcmp(l->op->name, "batch_norm") == 0;
}

Test(bn_conventions, zoo_batch_norms_take_their_frameworks_constants)
{
    for (size_t i = 0; i < CLNET_COUNTOF(conventions); ++i) {
        const convention *c = &conventions[i];
        clnet_graph *g = zoo(c);
        int n = 0;
        for (int k = 0; k < g->n; ++k) {
            if (!is_bn(&g->layers[k]))
                continue;
            const clnet__batch_norm_params *p = g->layers[k].params;
            ++n;
            cr_expect_float_eq(p->epsilon, (float)c->epsilon, 0.0f, "%s %s %s: epsilon %g",
                               c->model, c->style, g->layers[k].name, (double)p->epsilon);
            cr_expect_float_eq(p->momentum, (float)c->momentum, 0.0f, "%s %s %s: momentum %g",
                               c->model, c->style, g->layers[k].name, (double)p->momentum);
            cr_expect_eq(p->unbiased, c->unbiased, "%s %s %s: unbiased_variance %d", c->model,
                         c->style, g->layers[k].name, p->unbiased);
        }
        cr_expect_gt(n, 10, "%s %s: %d batch norms", c->model, c->style, n);
        clnet_graph_destroy(g);
    }
}

/* A model of one batch norm over 4 x 2 x 3 x C images with the params of the first batch
 * norm of the convention's zoo model, and known weights. */
#define N 4
#define H 2
#define W 3
#define C 3
#define COUNT (N * H * W * C)

static const float gamma0[C] = {1.2f, 0.7f, 1.0f}, beta0[C] = {0.1f, -0.3f, 0.0f};
static const float mean0[C] = {0.2f, -0.5f, 1.0f}, var0[C] = {1.5f, 0.6f, 2.0f};

static clnet_model *one_bn(const convention *c)
{
    clnet_graph *z = zoo(c), *g = NULL;
    int k = 0;
    while (!is_bn(&z->layers[k]))
        ++k;
    cr_assert_eq(clnet_graph_create(&g), CLNET_OK);
    clnet_layer x = clnet_graph_input(g, NULL, H, W, C);
    clnet_graph_layer(g, "batch_norm", "bn", z->layers[k].params_text, &x, 1);
    cr_assert_eq(clnet_graph_status(g), CLNET_OK, "%s", clnet_graph_error(g));
    clnet_graph_destroy(z);
    clnet_model *m = clnet_test_model(clnet_test_device(), g, 1, 1, 1);
    clnet_graph_destroy(g);
    const float *w[4] = {gamma0, beta0, mean0, var0};
    for (int i = 0; i < 4; ++i)
        cr_assert_eq(clnet_tensor_write(m->w[i], w[i], C), CLNET_OK);
    clnet_model_weights_changed(m);
    return m;
}

/* Known data for batch b of n images: channels at different scales and offsets. */
static void batch_data(int b, int n, float *x)
{
    for (int i = 0; i < n * H * W * C; ++i) {
        const int ch = i % C;
        x[i] = (float)((ch + 1) * sin(0.37 * i + 1.3 * b) + 0.5 * ch - 0.2 * b);
    }
}

/* Mean and variance (biased) of channel ch over n images of x, in double. */
static void moments(const float *x, int n, int ch, double *mean, double *var)
{
    const int rows = n * H * W;
    double s = 0.0, ss = 0.0;
    for (int r = 0; r < rows; ++r)
        s += x[r * C + ch];
    *mean = s / rows;
    for (int r = 0; r < rows; ++r)
        ss += (x[r * C + ch] - *mean) * (x[r * C + ch] - *mean);
    *var = ss / rows;
}

static int close_to(double got, double want, double tol)
{
    return fabs(got - want) <= tol * (1.0 + fabs(want));
}

/* Three training forwards on known data: the output is normalized by the biased batch
 * variance with the style's epsilon, and the moving statistics follow the framework's
 * update, written here in its own form. */
Test(bn_conventions, training_forwards_update_as_the_framework_does)
{
    for (size_t i = 0; i < CLNET_COUNTOF(conventions); ++i) {
        const convention *c = &conventions[i];
        if (strcmp(c->model, "resnet18") == 0)
            continue; /* same constants as resnet50 */
        const int torch = strcmp(c->style, "torch") == 0;
        clnet_model *m = one_bn(c);
        double mm[C], mv[C];
        for (int ch = 0; ch < C; ++ch) {
            mm[ch] = mean0[ch];
            mv[ch] = var0[ch];
        }
        float x[COUNT], y[COUNT], got_m[C], got_v[C];
        clnet_tensor *t = clnet_test_tensor(m->ctx, (clnet_shape){N, H, W, C}, NULL);
        for (int b = 0; b < 3; ++b) {
            batch_data(b, N, x);
            cr_assert_eq(clnet_tensor_write(t, x, COUNT), CLNET_OK);
            clnet_tensor *out = NULL;
            cr_assert_eq(clnet_model_forward(m, t, 1, &out), CLNET_OK, "%s",
                         clnet_context_error(m->ctx));
            clnet_test_read(out, y);
            clnet_test_read(m->w[2], got_m);
            clnet_test_read(m->w[3], got_v);
            const double rows = N * H * W;
            for (int ch = 0; ch < C; ++ch) {
                double mean, var;
                moments(x, N, ch, &mean, &var);
                if (torch) { /* momentum 0.1 (MnasNet 0.0003) is the weight of the batch */
                    const double mt = 1.0 - c->momentum;
                    mm[ch] = (1.0 - mt) * mm[ch] + mt * mean;
                    mv[ch] = (1.0 - mt) * mv[ch] + mt * var * rows / (rows - 1.0);
                } else { /* Keras: the weight of the old value */
                    mm[ch] = mm[ch] * c->momentum + mean * (1.0 - c->momentum);
                    mv[ch] = mv[ch] * c->momentum + var * (1.0 - c->momentum);
                }
                cr_expect(close_to(got_m[ch], mm[ch], 1e-5),
                          "%s %s batch %d ch %d: mean %g want %g", c->model, c->style, b, ch,
                          (double)got_m[ch], mm[ch]);
                cr_expect(close_to(got_v[ch], mv[ch], 1e-5), "%s %s batch %d ch %d: var %g want %g",
                          c->model, c->style, b, ch, (double)got_v[ch], mv[ch]);
                for (int r = 0; r < N * H * W; ++r) {
                    const double want =
                        gamma0[ch] * (x[r * C + ch] - mean) / sqrt(var + c->epsilon) + beta0[ch];
                    cr_expect(close_to(y[r * C + ch], want, 1e-5), "%s %s y %g want %g", c->model,
                              c->style, (double)y[r * C + ch], want);
                }
            }
        }
        clnet_tensor_destroy(t);
        clnet_model_destroy(m);
    }
}

/* The forwards of clnet_model_update_bn: batches of 4, 4 and 2 images with momentum
 * seen / (seen + n) leave the image-weighted mean of the batch means and of the batch
 * variances (unbiased where the layer says), whatever the statistics were before. */
Test(bn_conventions, recomputed_statistics_are_the_weighted_mean_of_the_batches)
{
    static const int sizes[3] = {4, 4, 2};
    for (size_t i = 0; i < CLNET_COUNTOF(conventions); ++i) {
        const convention *c = &conventions[i];
        if (strcmp(c->model, "resnet18") == 0 || strcmp(c->model, "mnasnet") == 0)
            continue;
        clnet_model *m = one_bn(c);
        double sum_m[C] = {0}, sum_v[C] = {0};
        int seen = 0;
        for (int b = 0; b < 3; ++b) {
            const int n = sizes[b];
            float x[COUNT];
            batch_data(b, n, x);
            clnet_tensor *t = clnet_test_tensor(m->ctx, (clnet_shape){n, H, W, C}, x);
            const float mom = (float)((double)seen / (seen + n));
            cr_assert_eq(clnet__model_forward_momentum(m, t, mom), CLNET_OK, "%s",
                         clnet_context_error(m->ctx));
            clnet_tensor_destroy(t);
            const double rows = n * H * W;
            for (int ch = 0; ch < C; ++ch) {
                double mean, var;
                moments(x, n, ch, &mean, &var);
                sum_m[ch] += n * mean;
                sum_v[ch] += n * (c->unbiased ? var * rows / (rows - 1.0) : var);
            }
            seen += n;
        }
        float got_m[C], got_v[C];
        clnet_test_read(m->w[2], got_m);
        clnet_test_read(m->w[3], got_v);
        for (int ch = 0; ch < C; ++ch) {
            cr_expect(close_to(got_m[ch], sum_m[ch] / seen, 1e-5), "%s %s ch %d: mean %g want %g",
                      c->model, c->style, ch, (double)got_m[ch], sum_m[ch] / seen);
            cr_expect(close_to(got_v[ch], sum_v[ch] / seen, 1e-5), "%s %s ch %d: var %g want %g",
                      c->model, c->style, ch, (double)got_v[ch], sum_v[ch] / seen);
        }
        cr_expect_eq(m->steps_run, 0, "the dropout stream moved");
        clnet_model_destroy(m);
    }
}
