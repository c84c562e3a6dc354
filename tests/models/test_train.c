/* test_train.c - clnet_train_step (src/train/loss.c) end to end on the device: a small
 * ResNet learns a synthetic three-class problem far above chance with SGD, Adam and
 * RMSprop (plain, and centered with momentum), and a diverging step is reported without touching
 * the weights. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"
#include "support/models.h"
#include "tensor/rng.h"

/* Images of 12x12x1: class k has a bright 4x4 square in the k-th third of the image
 * (left, middle, right) at a random row, on noise. */
static void make_batch(clnet__rng *r, int n, float *x, int *labels)
{
    for (int i = 0; i < n; ++i) {
        const int k = (int)(clnet__rng_next(r) % 3), row = (int)(clnet__rng_next(r) % 9);
        labels[i] = k;
        for (int p = 0; p < 144; ++p)
            x[i * 144 + p] = (float)(0.3 * clnet__rng_uniform(r));
        for (int dy = 0; dy < 4; ++dy)
            for (int dx = 0; dx < 4; ++dx)
                x[i * 144 + (row + dy) * 12 + 4 * k + dx] += 1.0f;
    }
}

/* Trains for steps batches of 16; returns the accuracy on 96 fresh images. */
static double train(const clnet_optimizer_options *oo, float lr, int steps, double *first_loss,
                    double *last_loss)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = clnet_test_small_resnet(12, 12, 1, 3);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 5);
    clnet_optimizer *o = NULL;
    cr_assert_eq(clnet_optimizer_create(m, oo, &o), CLNET_OK, "%s", clnet_context_error(ctx));
    clnet__rng r;
    clnet__rng_seed(&r, 11);
    float x[96 * 144];
    int labels[96];
    clnet_tensor *batch = clnet_test_tensor(ctx, (clnet_shape){16, 12, 12, 1}, NULL);
    for (int s = 0; s < steps; ++s) {
        make_batch(&r, 16, x, labels);
        cr_assert_eq(clnet_tensor_write(batch, x, 16 * 144), CLNET_OK);
        double loss = 0.0;
        int correct = -1;
        cr_assert_eq(clnet_train_step(o, batch, labels, lr, 0.0f, &loss, &correct), CLNET_OK, "%s",
                     clnet_context_error(ctx));
        cr_assert(correct >= 0 && correct <= 16);
        if (s == 0)
            *first_loss = loss;
        *last_loss = loss;
    }
    clnet_tensor *test = clnet_test_tensor(ctx, (clnet_shape){96, 12, 12, 1}, NULL), *y = NULL;
    make_batch(&r, 96, x, labels);
    cr_assert_eq(clnet_tensor_write(test, x, 96 * 144), CLNET_OK);
    cr_assert_eq(clnet_model_forward(m, test, 0, &y), CLNET_OK, "%s", clnet_context_error(ctx));
    float *logits = clnet_test_host(y);
    int hits = 0;
    for (int i = 0; i < 96; ++i) {
        int best = 0;
        for (int k = 1; k < 3; ++k)
            best = logits[i * 3 + k] > logits[i * 3 + best] ? k : best;
        hits += best == labels[i];
    }
    free(logits);
    clnet_tensor_destroy(test);
    clnet_tensor_destroy(batch);
    clnet_optimizer_destroy(o);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
    return hits / 96.0;
}

typedef struct learn_case {
    clnet_optimizer_options o;
    float lr;
} learn_case;

ParameterizedTestParameters(train, learns_far_above_chance)
{
    /* kind, momentum, nesterov, weight decay, decoupled, beta1, beta2, epsilon, rho, centered */
    static learn_case cases[] = {
        {{CLNET_OPT_SGD, 0.9f, 1, 1e-4f, 0, 0, 0, 0, 0, 0}, 0.02f},
        {{CLNET_OPT_ADAM, 0.0f, 0, 0.0f, 0, 0, 0, 0, 0, 0}, 3e-3f},
        {{CLNET_OPT_RMSPROP, 0.0f, 0, 0.0f, 0, 0, 0, 0, 0, 0}, 2e-3f},
        {{CLNET_OPT_RMSPROP, 0.9f, 0, 1e-4f, 0, 0, 0, 0, 0, 1}, 3e-4f},
    };
    return cr_make_param_array(learn_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(learn_case *k, train, learns_far_above_chance, .timeout = 600)
{
    double first = 0, last = 0;
    const double acc = train(&k->o, k->lr, 60, &first, &last);
    cr_expect_gt(acc, 0.9, "%s: accuracy %.3f after 60 steps (chance 0.33)",
                 clnet_optimizer_kind_name(k->o.kind), acc);
    cr_expect_lt(last, first, "%s: loss %g -> %g", clnet_optimizer_kind_name(k->o.kind), first,
                 last);
}

/* A NaN in the classifier makes the loss NaN: the step says so and changes no weight.
 * (Non-finite images would not do: batch norm and relu turn them into finite values.) */
Test(train, diverged_step_is_reported_and_changes_nothing)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = clnet_test_small_resnet(12, 12, 1, 3);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 5);
    clnet_optimizer *o = NULL;
    cr_assert_eq(clnet_optimizer_create(m, NULL, &o), CLNET_OK);
    clnet_tensor *batch = clnet_test_tensor(ctx, (clnet_shape){2, 12, 12, 1}, NULL);
    cr_assert_eq(clnet_tensor_fill(batch, 0.5f), CLNET_OK);
    cr_assert_eq(clnet_tensor_fill(m->w[m->n_weights - 2], NAN), CLNET_OK); /* logits kernel */
    float *before = clnet_test_host(m->w[0]);
    const int labels[2] = {0, 2};
    double loss = 0.0;
    cr_expect_eq(clnet_train_step(o, batch, labels, 0.1f, 0.0f, &loss, NULL), CLNET_ERR_DIVERGED);
    cr_expect(!isfinite(loss));
    float *after = clnet_test_host(m->w[0]);
    cr_expect_eq(memcmp(before, after, m->w[0]->count * sizeof(float)), 0);
    const int bad[2] = {0, 3};
    cr_expect_eq(clnet_train_step(o, batch, bad, 0.1f, 0.0f, NULL, NULL), CLNET_ERR_INVALID_ARG);
    cr_expect(strstr(clnet_context_error(ctx), "label 3") != NULL, "%s", clnet_context_error(ctx));
    free(before);
    free(after);
    clnet_tensor_destroy(batch);
    clnet_optimizer_destroy(o);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}
