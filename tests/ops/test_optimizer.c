/* test_optimizer.c - SGD, momentum, Nesterov, weight decay, Adam and AdamW on the
 * device (src/train/optimizer.c, cl/optimizer.cl) against the double reference
 * (src/ref/optimizer.c), on every kernel class, over several steps with fresh
 * gradients, on tensor sizes that are not multiples of the vector width. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdlib.h>

#include "support/models.h"
#include "train/train.h"

typedef struct opt_case {
    clnet_optimizer_options o;
    float lr;
    clnet_device_class cls;
} opt_case;

#define OPT_CASES(cls)                                                                             \
    {{CLNET_OPT_SGD, 0.0f, 0, 0.0f, 0, 0, 0, 0}, 0.1f, cls},                                       \
        {{CLNET_OPT_SGD, 0.9f, 0, 1e-2f, 0, 0, 0, 0}, 0.05f, cls},                                 \
        {{CLNET_OPT_SGD, 0.9f, 1, 5e-4f, 0, 0, 0, 0}, 0.05f, cls},                                 \
        {{CLNET_OPT_ADAM, 0.0f, 0, 0.0f, 0, 0, 0, 0}, 1e-2f, cls},                                 \
        {{CLNET_OPT_ADAM, 0.0f, 0, 1e-2f, 1, 0.8f, 0.99f, 1e-6f}, 1e-2f, cls},                     \
    {                                                                                              \
        {CLNET_OPT_ADAM, 0.0f, 0, 1e-2f, 0, 0, 0, 0}, 3e-3f, cls                                   \
    }

ParameterizedTestParameters(optimizer, matches_reference)
{
    static opt_case cases[] = {OPT_CASES(CLNET_CLASS_DGPU), OPT_CASES(CLNET_CLASS_IGPU),
                               OPT_CASES(CLNET_CLASS_CPU)};
    return cr_make_param_array(opt_case, cases, sizeof cases / sizeof cases[0]);
}

/* A model whose weights are a 1x1x37x5 kernel and a bias of 5 (dense 37 -> 5). */
static clnet_model *dense_model(clnet_context *ctx)
{
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_create(&g), CLNET_OK);
    clnet_layer x = clnet_graph_input(g, NULL, 1, 1, 37);
    clnet_graph_layer(g, "dense", NULL, "units = 5", &x, 1);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 3);
    clnet_graph_destroy(g);
    return m;
}

ParameterizedTest(opt_case *k, optimizer, matches_reference)
{
    clnet_context *ctx = clnet_test_device_class(k->cls);
    clnet_model *m = dense_model(ctx);
    clnet_optimizer *opt = NULL;
    cr_assert_eq(clnet_optimizer_create(m, &k->o, &opt), CLNET_OK, "%s", clnet_context_error(ctx));
    const clnet_optimizer_options filled = opt->opt, *o = &filled; /* with the defaults */
    for (int i = 0; i < m->n_weights; ++i) {
        const size_t n = m->w[i]->count;
        double *w = calloc(n, sizeof *w), *g = calloc(n, sizeof *g), *s0 = calloc(n, sizeof *s0),
               *s1 = calloc(n, sizeof *s1);
        float *f = clnet_test_host(m->w[i]);
        for (size_t j = 0; j < n; ++j)
            w[j] = f[j];
        free(f);
        for (int t = 1; t <= 3; ++t) {
            float *gf = clnet_test_random(n, (uint64_t)(100 * i + t));
            for (size_t j = 0; j < n; ++j)
                g[j] = gf[j];
            /* Every weight gets a gradient; only weight i is compared this round. */
            for (int q = 0; q < m->n_weights; ++q) {
                float *other = clnet_test_random(m->w[q]->count, (uint64_t)(7 * q + t));
                cr_assert_eq(clnet_tensor_write(m->dw[q], q == i ? gf : other, m->w[q]->count),
                             CLNET_OK);
                free(other);
            }
            free(gf);
            cr_assert_eq(clnet_optimizer_step(opt, k->lr), CLNET_OK, "%s",
                         clnet_context_error(ctx));
            clnet__ref_optimizer_step(o, k->lr, opt->steps, w, g, s0, s1, n);
        }
        float *got = clnet_test_host(m->w[i]);
        double worst = 0.0;
        for (size_t j = 0; j < n; ++j)
            worst = fmax(worst, fabs(got[j] - w[j]) / (fabs(w[j]) + 1e-3));
        cr_expect(worst <= 1e-5, "%s weight %d: relative error %g after 3 steps",
                  o->kind == CLNET_OPT_SGD ? "sgd" : "adam", i, worst);
        free(got);
        free(w);
        free(g);
        free(s0);
        free(s1);
        /* Fresh state for the next weight's comparison. */
        clnet_optimizer_destroy(opt);
        cr_assert_eq(clnet_optimizer_create(m, &k->o, &opt), CLNET_OK);
    }
    clnet_optimizer_destroy(opt);
    clnet_model_destroy(m);
}

Test(optimizer, frozen_weights_and_bad_options)
{
    clnet_context *ctx = clnet_test_device();
    clnet_model *m = dense_model(ctx);
    m->frozen[0] = 1;
    const clnet_optimizer_options sgd = {CLNET_OPT_SGD, 0.0f, 0, 0.0f, 0, 0, 0, 0};
    clnet_optimizer *opt = NULL;
    cr_assert_eq(clnet_optimizer_create(m, &sgd, &opt), CLNET_OK);
    float *before = clnet_test_host(m->w[0]);
    for (int q = 0; q < m->n_weights; ++q)
        cr_assert_eq(clnet_tensor_fill(m->dw[q], 1.0f), CLNET_OK);
    cr_assert_eq(clnet_optimizer_step(opt, 0.5f), CLNET_OK);
    float *after = clnet_test_host(m->w[0]), *bias = clnet_test_host(m->w[1]);
    cr_expect_eq(clnet_test_max_abs_diff(before, after, m->w[0]->count), 0.0f, "frozen moved");
    cr_expect_float_eq(bias[0], -0.5f, 1e-6f); /* zero-initialised bias, one step of -0.5 */
    cr_expect_eq(clnet_optimizer_step(opt, NAN), CLNET_ERR_INVALID_ARG);
    cr_expect_eq(clnet_optimizer_step(opt, -1.0f), CLNET_ERR_INVALID_ARG);
    clnet_optimizer_destroy(opt);
    const clnet_optimizer_options bad = {CLNET_OPT_SGD, 1.5f, 0, 0.0f, 0, 0, 0, 0};
    cr_expect_eq(clnet_optimizer_create(m, &bad, &opt), CLNET_ERR_INVALID_ARG);
    cr_expect_null(opt);
    free(before);
    free(after);
    free(bias);
    clnet_model_destroy(m);
}
