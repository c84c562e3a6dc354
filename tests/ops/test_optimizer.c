/* test_optimizer.c - SGD, momentum, Nesterov, weight decay, Adam, AdamW and RMSprop
 * (plain, momentum, centered, both, coupled and decoupled weight decay) on the device
 * (src/train/optimizer.c, cl/optimizer.cl) against the double reference
 * (src/ref/optimizer.c), on every kernel class, over several steps with fresh
 * gradients, on tensor sizes that are not multiples of the vector width; RMSprop
 * against values torch.optim.RMSprop computed; option and kind-name checks. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/models.h"
#include "train/train.h"

typedef struct opt_case {
    clnet_optimizer_options o;
    float lr;
    clnet_device_class cls;
} opt_case;

/* kind, momentum, nesterov, weight decay, decoupled, beta1, beta2, epsilon, rho, centered */
#define OPT_CASES(cls)                                                                             \
    {{CLNET_OPT_SGD, 0.0f, 0, 0.0f, 0, 0, 0, 0, 0, 0}, 0.1f, cls},                                 \
        {{CLNET_OPT_SGD, 0.9f, 0, 1e-2f, 0, 0, 0, 0, 0, 0}, 0.05f, cls},                           \
        {{CLNET_OPT_SGD, 0.9f, 1, 5e-4f, 0, 0, 0, 0, 0, 0}, 0.05f, cls},                           \
        {{CLNET_OPT_ADAM, 0.0f, 0, 0.0f, 0, 0, 0, 0, 0, 0}, 1e-2f, cls},                           \
        {{CLNET_OPT_ADAM, 0.0f, 0, 1e-2f, 1, 0.8f, 0.99f, 1e-6f, 0, 0}, 1e-2f, cls},               \
        {{CLNET_OPT_ADAM, 0.0f, 0, 1e-2f, 0, 0, 0, 0, 0, 0}, 3e-3f, cls},                          \
        {{CLNET_OPT_RMSPROP, 0.0f, 0, 0.0f, 0, 0, 0, 0, 0, 0}, 1e-2f, cls},                        \
        {{CLNET_OPT_RMSPROP, 0.9f, 0, 1e-2f, 0, 0, 0, 0, 0.99f, 0}, 1e-2f, cls},                   \
        {{CLNET_OPT_RMSPROP, 0.0f, 0, 0.0f, 0, 0, 0, 1e-6f, 0.8f, 1}, 1e-2f, cls},                 \
        {{CLNET_OPT_RMSPROP, 0.5f, 0, 1e-2f, 1, 0, 0, 0, 0, 1}, 3e-3f, cls},                       \
    {                                                                                              \
        {CLNET_OPT_RMSPROP, 0.9f, 0, 5e-4f, 0, 0, 0, 1e-8f, 0.99f, 1}, 1e-3f, cls                  \
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
        double *w = calloc(n, sizeof *w), *g = calloc(n, sizeof *g);
        double *s[CLNET__OPT_STATES];
        for (int q = 0; q < CLNET__OPT_STATES; ++q)
            s[q] = calloc(n, sizeof *s[q]);
        float *f = clnet_test_host(m->w[i]);
        for (size_t j = 0; j < n; ++j)
            w[j] = f[j];
        free(f);
        for (int t = 1; t <= 4; ++t) {
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
            clnet__ref_optimizer_step(o, k->lr, opt->steps, w, g, s, n);
        }
        float *got = clnet_test_host(m->w[i]);
        double worst = 0.0;
        for (size_t j = 0; j < n; ++j)
            worst = fmax(worst, fabs(got[j] - w[j]) / (fabs(w[j]) + 1e-3));
        cr_expect(worst <= 1e-5, "%s weight %d: relative error %g after 4 steps",
                  clnet_optimizer_kind_name(o->kind), i, worst);
        free(got);
        free(w);
        free(g);
        for (int q = 0; q < CLNET__OPT_STATES; ++q)
            free(s[q]);
        /* Fresh state for the next weight's comparison. */
        clnet_optimizer_destroy(opt);
        cr_assert_eq(clnet_optimizer_create(m, &k->o, &opt), CLNET_OK);
    }
    clnet_optimizer_destroy(opt);
    clnet_model_destroy(m);
}

/* Weight j of tensor k (offset k) at the start and its gradient at step t: the formulas
 * the PyTorch fixture below was computed from. */
static float start_value(int j, int k)
{
    return (float)(0.5 * cos(0.37 * j + k));
}

static float gradient_value(int j, int t, int k)
{
    return (float)(sin(0.91 * j + 1.7 * t + k) * (1 + j % 3) + 0.2);
}

/* torch.optim.RMSprop (PyTorch 1.13.1, Debian's python3-torch, float32) on the dense
 * model's kernel (185 values) and bias (5), started from start_value, 5 steps with
 * gradient_value, lr 0.01: (a) alpha 0.99, eps 1e-8; (b) alpha 0.9, eps 1e-7, momentum
 * 0.9, centered, weight_decay 0.01. The values at kernel 0, 1, 36, 100, 184 and the
 * whole bias; the script: torch.optim.RMSprop([kernel, bias], lr=0.01, alpha=..., ...),
 * p.grad = gradient_value, opt.step(), 5 times. */
Test(optimizer, rmsprop_matches_pytorch)
{
    static const int at[10] = {0, 1, 36, 100, 184, 185, 186, 187, 188, 189};
    static const float want[2][10] = {
        {0.357591748f, 0.382590592f, 0.254850656f, 0.448137701f, 0.285389692f, 0.159310281f,
         0.212625623f, 0.00192546472f, -0.245251581f, -0.558480859f},
        {0.365936846f, 0.384413302f, 0.251715958f, 0.449798286f, 0.295272589f, 0.163848028f,
         0.264023185f, 0.0086251609f, -0.235979095f, -0.605539739f},
    };
    /* kind, momentum, nesterov, weight decay, decoupled, beta1, beta2, epsilon, rho, centered */
    const clnet_optimizer_options cases[2] = {
        {CLNET_OPT_RMSPROP, 0.0f, 0, 0.0f, 0, 0, 0, 1e-8f, 0.99f, 0},
        {CLNET_OPT_RMSPROP, 0.9f, 0, 1e-2f, 0, 0, 0, 1e-7f, 0.9f, 1},
    };
    clnet_context *ctx = clnet_test_device();
    clnet_model *m = dense_model(ctx);
    cr_assert_eq(m->n_weights, 2);
    for (int c = 0; c < 2; ++c) {
        clnet_optimizer *opt = NULL;
        cr_assert_eq(clnet_optimizer_create(m, &cases[c], &opt), CLNET_OK, "%s",
                     clnet_context_error(ctx));
        float buf[185];
        for (int k = 0; k < 2; ++k) {
            for (size_t j = 0; j < m->w[k]->count; ++j)
                buf[j] = start_value((int)j, k);
            cr_assert_eq(clnet_tensor_write(m->w[k], buf, m->w[k]->count), CLNET_OK);
        }
        for (int t = 1; t <= 5; ++t) {
            for (int k = 0; k < 2; ++k) {
                for (size_t j = 0; j < m->w[k]->count; ++j)
                    buf[j] = gradient_value((int)j, t, k);
                cr_assert_eq(clnet_tensor_write(m->dw[k], buf, m->w[k]->count), CLNET_OK);
            }
            cr_assert_eq(clnet_optimizer_step(opt, 0.01f), CLNET_OK);
        }
        float *kernel = clnet_test_host(m->w[0]), *bias = clnet_test_host(m->w[1]);
        for (int i = 0; i < 10; ++i) {
            const float got = at[i] < 185 ? kernel[at[i]] : bias[at[i] - 185];
            cr_expect(fabsf(got - want[c][i]) <= 2e-6f, "case %d, value %d: %.9g, torch %.9g", c,
                      at[i], got, want[c][i]);
        }
        free(kernel);
        free(bias);
        clnet_optimizer_destroy(opt);
    }
    clnet_model_destroy(m);
}

/* clnet_optimizer_set_momentum between steps (the one-cycle schedule's): SGD's momentum
 * and Adam's beta1 changed after two steps give the reference run with the same change;
 * an SGD created without momentum refuses one, and values outside [0, 1) are refused. */
Test(optimizer, momentum_set_between_steps)
{
    /* kind, momentum, nesterov, weight decay, decoupled, beta1, beta2, epsilon, rho, centered */
    const clnet_optimizer_options cases[3] = {
        {CLNET_OPT_SGD, 0.95f, 1, 5e-4f, 0, 0, 0, 0, 0, 0},
        {CLNET_OPT_ADAM, 0.0f, 0, 0.0f, 0, 0.95f, 0.999f, 1e-8f, 0, 0},
        {CLNET_OPT_RMSPROP, 0.9f, 0, 0.0f, 0, 0, 0, 0, 0.9f, 0},
    };
    clnet_context *ctx = clnet_test_device();
    clnet_model *m = dense_model(ctx);
    const size_t n = m->w[0]->count;
    for (int c = 0; c < 3; ++c) {
        clnet_optimizer *opt = NULL;
        cr_assert_eq(clnet_optimizer_create(m, &cases[c], &opt), CLNET_OK);
        clnet_optimizer_options o = opt->opt; /* with the defaults */
        double *w = calloc(n, sizeof *w), *g = calloc(n, sizeof *g), *st[CLNET__OPT_STATES];
        for (int q = 0; q < CLNET__OPT_STATES; ++q)
            st[q] = calloc(n, sizeof *st[q]);
        float *f = clnet_test_host(m->w[0]);
        for (size_t j = 0; j < n; ++j)
            w[j] = f[j];
        free(f);
        for (int t = 1; t <= 4; ++t) {
            if (t == 3) {
                cr_assert_eq(clnet_optimizer_set_momentum(opt, 0.6f), CLNET_OK);
                *(c == 1 ? &o.beta1 : &o.momentum) = 0.6f;
            }
            float *gf = clnet_test_random(n, (uint64_t)(31 * c + t));
            for (size_t j = 0; j < n; ++j)
                g[j] = gf[j];
            cr_assert_eq(clnet_tensor_write(m->dw[0], gf, n), CLNET_OK);
            cr_assert_eq(clnet_tensor_fill(m->dw[1], 0.5f), CLNET_OK);
            free(gf);
            cr_assert_eq(clnet_optimizer_step(opt, 0.05f), CLNET_OK);
            clnet__ref_optimizer_step(&o, 0.05f, opt->steps, w, g, st, n);
        }
        float *got = clnet_test_host(m->w[0]);
        double worst = 0.0;
        for (size_t j = 0; j < n; ++j)
            worst = fmax(worst, fabs(got[j] - w[j]) / (fabs(w[j]) + 1e-3));
        cr_expect(worst <= 1e-5, "%s: relative error %g", clnet_optimizer_kind_name(o.kind), worst);
        cr_expect_eq(clnet_optimizer_set_momentum(opt, 1.0f), CLNET_ERR_INVALID_ARG);
        cr_expect_eq(clnet_optimizer_set_momentum(opt, NAN), CLNET_ERR_INVALID_ARG);
        free(got);
        free(w);
        free(g);
        for (int q = 0; q < CLNET__OPT_STATES; ++q)
            free(st[q]);
        clnet_optimizer_destroy(opt);
    }
    const clnet_optimizer_options plain = {CLNET_OPT_SGD, 0.0f, 0, 0.0f, 0, 0, 0, 0, 0, 0};
    clnet_optimizer *opt = NULL;
    cr_assert_eq(clnet_optimizer_create(m, &plain, &opt), CLNET_OK);
    cr_expect_eq(clnet_optimizer_set_momentum(opt, 0.9f), CLNET_ERR_INVALID_ARG);
    cr_expect(strstr(clnet_context_error(ctx), "without momentum") != NULL, "%s",
              clnet_context_error(ctx));
    cr_expect_eq(clnet_optimizer_set_momentum(opt, 0.0f), CLNET_OK);
    cr_expect_eq(clnet_optimizer_set_momentum(NULL, 0.5f), CLNET_ERR_INVALID_ARG);
    clnet_optimizer_destroy(opt);
    clnet_model_destroy(m);
}

Test(optimizer, frozen_weights_and_bad_options)
{
    clnet_context *ctx = clnet_test_device();
    clnet_model *m = dense_model(ctx);
    m->frozen[0] = 1;
    const clnet_optimizer_options sgd = {CLNET_OPT_SGD, 0.0f, 0, 0.0f, 0, 0, 0, 0, 0, 0};
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
    const clnet_optimizer_options bad = {CLNET_OPT_SGD, 1.5f, 0, 0.0f, 0, 0, 0, 0, 0, 0};
    cr_expect_eq(clnet_optimizer_create(m, &bad, &opt), CLNET_ERR_INVALID_ARG);
    cr_expect_null(opt);
    free(before);
    free(after);
    free(bias);
    clnet_model_destroy(m);
}

/* The kind names the clnet command takes, RMSprop's Keras defaults, the state slots each
 * configuration keeps, and out-of-range RMSprop options refused. */
Test(optimizer, kind_names_defaults_and_state)
{
    static const char *const names[] = {"sgd", "adam", "rmsprop"};
    for (int k = 0; k < 3; ++k) {
        clnet_optimizer_kind kind = (clnet_optimizer_kind)-1;
        cr_expect_str_eq(clnet_optimizer_kind_name((clnet_optimizer_kind)k), names[k]);
        cr_expect_eq(clnet_optimizer_kind_parse(names[k], &kind), CLNET_OK);
        cr_expect_eq((int)kind, k);
    }
    clnet_optimizer_kind kind = CLNET_OPT_SGD;
    cr_expect_eq(clnet_optimizer_kind_parse("RMSprop", &kind), CLNET_ERR_INVALID_ARG);
    cr_expect_eq(clnet_optimizer_kind_parse(NULL, &kind), CLNET_ERR_INVALID_ARG);
    cr_expect_null(clnet_optimizer_kind_name((clnet_optimizer_kind)3));

    clnet_context *ctx = clnet_test_device();
    clnet_model *m = dense_model(ctx);
    /* momentum, centered: the slots kept (0: squared average, 1: buffer, 2: average). */
    static const struct {
        float momentum;
        int centered, slots[3];
    } configs[] = {
        {0.0f, 0, {1, 0, 0}}, {0.9f, 0, {1, 1, 0}}, {0.0f, 1, {1, 0, 1}}, {0.5f, 1, {1, 1, 1}}};
    for (size_t c = 0; c < CLNET_COUNTOF(configs); ++c) {
        clnet_optimizer_options o = {
            CLNET_OPT_RMSPROP, configs[c].momentum, 0, 0.0f, 0, 0, 0, 0, 0, configs[c].centered};
        clnet_optimizer *opt = NULL;
        cr_assert_eq(clnet_optimizer_create(m, &o, &opt), CLNET_OK, "%s", clnet_context_error(ctx));
        cr_expect_float_eq(opt->opt.rho, 0.9f, 0.0f);
        cr_expect_float_eq(opt->opt.epsilon, 1e-7f, 0.0f);
        for (int k = 0; k < CLNET__OPT_STATES; ++k)
            for (int i = 0; i < m->n_weights; ++i)
                cr_expect_eq(opt->state[k][i] != NULL, configs[c].slots[k], "config %zu slot %d", c,
                             k);
        clnet_optimizer_destroy(opt);
    }
    const float bad_rho[] = {1.0f, -0.5f, NAN};
    for (size_t i = 0; i < CLNET_COUNTOF(bad_rho); ++i) {
        clnet_optimizer_options o = {CLNET_OPT_RMSPROP, 0.0f, 0, 0.0f, 0, 0, 0, 0, bad_rho[i], 0};
        clnet_optimizer *opt = (clnet_optimizer *)&o;
        cr_expect_eq(clnet_optimizer_create(m, &o, &opt), CLNET_ERR_INVALID_ARG, "rho %g",
                     bad_rho[i]);
        cr_expect_null(opt);
        cr_expect(strstr(clnet_context_error(ctx), "rho"), "%s", clnet_context_error(ctx));
    }
    clnet_optimizer_options unknown = {(clnet_optimizer_kind)7, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    clnet_optimizer *opt = NULL;
    cr_expect_eq(clnet_optimizer_create(m, &unknown, &opt), CLNET_ERR_INVALID_ARG);
    clnet_model_destroy(m);
}
