/* test_train.c - clnet_train_step (src/train/loss.c) end to end on the device: a small
 * ResNet learns a synthetic three-class problem far above chance with SGD, Adam and
 * RMSprop (plain, and centered with momentum), and a diverging step is reported without touching
 * the weights. A step waits for the device once, after the update is enqueued. */
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
    cr_expect_eq(clnet_optimizer_steps(o), 0, "a skipped update is not a step");
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

/* The step of issue 11: ResNet-18 at 64x64x3, batch 32. After the first step built the
 * plan, a step blocks the host once (reading the loss and hits after the update is
 * enqueued: nothing waits between the start of forward and the end of the update) and
 * allocates nothing, also for a smaller last batch; gradients alone wait once too and
 * leave the weights as they were. */
Test(train, a_step_waits_once, .timeout = 900)
{
    clnet_context *ctx = clnet_test_device();
    const clnet_zoo_options zo = {.h = 64, .w = 64, .c = 3, .classes = 10};
    clnet_graph *g = NULL;
    char err[256];
    cr_assert_eq(clnet_zoo_build("resnet18", &zo, &g, err, sizeof err), CLNET_OK, "%s", err);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 5);
    clnet_optimizer *o = NULL;
    const clnet_optimizer_options oo = {.kind = CLNET_OPT_SGD, .momentum = 0.9f};
    cr_assert_eq(clnet_optimizer_create(m, &oo, &o), CLNET_OK);
    clnet_tensor *x = clnet_test_input(ctx, g, 32, 3);
    int labels[32];
    for (int i = 0; i < 32; ++i)
        labels[i] = (i * 7) % 10;
    double loss = 0.0;
    int correct = -1;
    cr_assert_eq(clnet_train_step(o, x, labels, 0.01f, 0.1f, &loss, &correct), CLNET_OK, "%s",
                 clnet_context_error(ctx));
    cr_expect(isfinite(loss) && loss > 0.0 && correct >= 0 && correct <= 32, "%g %d", loss,
              correct);
    clnet_tensor last = *x; /* a partial last batch: the first 31 images */
    last.shape.n = 31;
    last.count = clnet__shape_count(last.shape);
    const clnet_tensor *batches[2] = {x, &last};
    for (int i = 0; i < 2; ++i) {
        clnet_context_stats before, after;
        clnet_context_get_stats(ctx, &before);
        cr_assert_eq(clnet_train_step(o, batches[i], labels, 0.01f, 0.1f, &loss, &correct),
                     CLNET_OK, "%s", clnet_context_error(ctx));
        clnet_context_get_stats(ctx, &after);
        cr_expect_eq(after.host_waits - before.host_waits, 1, "batch %d: %d host waits",
                     batches[i]->shape.n, after.host_waits - before.host_waits);
        cr_expect_eq(after.buffers_created, before.buffers_created, "batch %d allocated",
                     batches[i]->shape.n);
        cr_expect_eq(after.plans_built, before.plans_built);
    }
    float *w0 = clnet_test_host(m->w[0]);
    clnet_context_stats before, after;
    clnet_context_get_stats(ctx, &before);
    cr_assert_eq(clnet_model_gradients(m, x, labels, 0.0f, &loss, &correct), CLNET_OK, "%s",
                 clnet_context_error(ctx));
    clnet_context_get_stats(ctx, &after);
    cr_expect_eq(after.host_waits - before.host_waits, 1);
    float *w1 = clnet_test_host(m->w[0]);
    cr_expect_eq(memcmp(w0, w1, m->w[0]->count * sizeof(float)), 0, "gradients changed weights");
    cr_expect_eq(clnet_optimizer_steps(o), 3);
    free(w0);
    free(w1);
    clnet_tensor_destroy(x);
    clnet_optimizer_destroy(o);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}

/* clnet_model_gradients is the gradient of the batch's mean loss: for a dense classifier
 * on a flat input, dL/dW = x^T (softmax(xW + b) - onehot) / n, checked against a direct
 * computation in double on the host; an SGD step at lr 1 from those gradients is what
 * clnet_train_step does. */
Test(train, gradients_are_those_of_the_mean_loss)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = NULL;
    const char *spec = "[x]\nop = input\nshape = 1, 1, 5\n\n[head]\nop = dense\nunits = 4\n";
    char err[256];
    cr_assert_eq(clnet_graph_from_spec(spec, "t.spec", &g, err, sizeof err), CLNET_OK, "%s", err);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 5);
    const int n = 3, labels[3] = {1, 3, 0};
    float *xs = clnet_test_random(15, 4);
    clnet_tensor *x = clnet_test_tensor(ctx, (clnet_shape){n, 1, 1, 5}, xs);
    double loss = 0.0;
    cr_assert_eq(clnet_model_gradients(m, x, labels, 0.0f, &loss, NULL), CLNET_OK, "%s",
                 clnet_context_error(ctx));
    float w[20], b[4], dw[20], db[4];
    cr_assert_eq(clnet_tensor_read(m->w[0], w, 20), CLNET_OK);
    cr_assert_eq(clnet_tensor_read(m->w[1], b, 4), CLNET_OK);
    cr_assert_eq(clnet_tensor_read(m->dw[0], dw, 20), CLNET_OK);
    cr_assert_eq(clnet_tensor_read(m->dw[1], db, 4), CLNET_OK);
    double want_w[20] = {0}, want_b[4] = {0}, want_loss = 0.0;
    for (int i = 0; i < n; ++i) {
        double z[4], mx = -INFINITY, sum = 0.0;
        for (int k = 0; k < 4; ++k) {
            z[k] = b[k];
            for (int j = 0; j < 5; ++j)
                z[k] += (double)xs[i * 5 + j] * w[j * 4 + k];
            mx = z[k] > mx ? z[k] : mx;
        }
        for (int k = 0; k < 4; ++k)
            sum += exp(z[k] - mx);
        want_loss += (log(sum) + mx - z[labels[i]]) / n;
        for (int k = 0; k < 4; ++k) {
            const double d = (exp(z[k] - mx) / sum - (k == labels[i])) / n;
            want_b[k] += d;
            for (int j = 0; j < 5; ++j)
                want_w[j * 4 + k] += xs[i * 5 + j] * d;
        }
    }
    cr_expect(fabs(loss - want_loss) < 1e-5, "loss %g, want %g", loss, want_loss);
    for (int k = 0; k < 20; ++k)
        cr_expect(fabs(dw[k] - want_w[k]) < 1e-5, "dW[%d] %g, want %g", k, dw[k], want_w[k]);
    for (int k = 0; k < 4; ++k)
        cr_expect(fabs(db[k] - want_b[k]) < 1e-5, "db[%d] %g, want %g", k, db[k], want_b[k]);
    free(xs);
    clnet_tensor_destroy(x);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}

/* Every weight of m (moving statistics included) concatenated on the host. */
static float *all_weights(clnet_model *m, size_t *count)
{
    size_t total = 0;
    for (int i = 0; i < m->n_weights; ++i)
        total += m->w[i]->count;
    float *out = malloc(total * sizeof *out), *at = out;
    for (int i = 0; i < m->n_weights; ++i) {
        cr_assert_eq(clnet_tensor_read(m->w[i], at, m->w[i]->count), CLNET_OK);
        at += m->w[i]->count;
    }
    *count = total;
    return out;
}

/* Evaluation-mode loss changes nothing and is the cross-entropy of the inference output. */
Test(train, evaluate_batch_changes_nothing)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = clnet_test_small_resnet(12, 12, 1, 3);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 5);
    clnet_test_randomize_weights(m, 9);
    clnet_tensor *x = clnet_test_input(ctx, g, 4, 10);
    const int labels[4] = {2, 0, 1, 1};
    size_t nw = 0;
    float *before = all_weights(m, &nw);
    const uint64_t steps = m->steps_run;
    double loss = 0.0, again = 0.0;
    int correct = -1, correct2 = -1;
    cr_assert_eq(clnet_model_evaluate_batch(m, x, labels, &loss, &correct), CLNET_OK, "%s",
                 clnet_context_error(ctx));
    cr_assert_eq(clnet_model_evaluate_batch(m, x, labels, &again, &correct2), CLNET_OK);
    cr_expect_eq(loss, again);
    cr_expect_eq(correct, correct2);
    float *after = all_weights(m, &nw);
    cr_expect_eq(memcmp(before, after, nw * sizeof(float)), 0, "evaluation changed a weight");
    cr_expect_eq(m->steps_run, steps);
    clnet_tensor *y = NULL;
    cr_assert_eq(clnet_model_forward(m, x, 0, &y), CLNET_OK);
    float z[12];
    cr_assert_eq(clnet_tensor_read(y, z, 12), CLNET_OK);
    double want = 0.0;
    int hits = 0;
    for (int i = 0; i < 4; ++i) {
        const float *r = z + 3 * i;
        const double mx = fmax(fmax(r[0], r[1]), r[2]);
        want += (log(exp(r[0] - mx) + exp(r[1] - mx) + exp(r[2] - mx)) + mx - r[labels[i]]) / 4;
        hits += r[labels[i]] >= r[0] && r[labels[i]] >= r[1] && r[labels[i]] >= r[2];
    }
    cr_expect(fabs(loss - want) < 1e-6, "loss %g, want %g", loss, want);
    cr_expect_eq(correct, hits);
    const int bad[4] = {0, 0, 3, 0};
    cr_expect_eq(clnet_model_evaluate_batch(m, x, bad, NULL, NULL), CLNET_ERR_INVALID_ARG);
    free(before);
    free(after);
    clnet_tensor_destroy(x);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}
