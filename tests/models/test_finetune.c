/* test_finetune.c - fine-tuning (src/plan/finetune.c): the classifier head replaced
 * for a new class count keeps every other weight, and freezing all but the last
 * layers lets a training step move only those, with Keras's semantics (frozen batch
 * norms run in inference mode) and no backward work for the frozen layers. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"
#include "support/models.h"

#define MAX_W 64

Test(finetune, new_head_keeps_the_base)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = clnet_test_small_resnet(12, 12, 3, 3);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 4), *n = NULL;
    clnet_test_randomize_weights(m, 8);
    const float mean[3] = {0.1f, 0.2f, 0.3f}, std[3] = {0.5f, 0.6f, 0.7f};
    cr_assert_eq(clnet_model_set_normalization(m, mean, std, 3), CLNET_OK);
    cr_assert_eq(clnet_model_replace_head(m, 5, 9, &n), CLNET_OK, "%s", clnet_context_error(ctx));
    const clnet_graph *ng = clnet_model_graph(n);
    cr_expect_eq(clnet_graph_layer_shape(ng, clnet_graph_layer_count(ng) - 1).c, 5);
    cr_assert_eq(m->n_weights, n->n_weights);
    for (int i = 0; i < m->n_weights; ++i) {
        const int head = strcmp(m->info[i].layer, "logits") == 0;
        cr_expect_eq(clnet_test_tensors_equal(m->w[i], n->w[i]), !head, "%s/%s", m->info[i].layer,
                     m->info[i].name);
    }
    float nm[3], ns[3];
    clnet_model_normalization(n, nm, ns);
    cr_expect(memcmp(nm, mean, sizeof nm) == 0 && memcmp(ns, std, sizeof ns) == 0);
    /* A model that does not end in a dense layer has no head to replace. */
    clnet_graph *conv = NULL;
    cr_assert_eq(clnet_graph_create(&conv), CLNET_OK);
    clnet_layer x = clnet_graph_input(conv, NULL, 8, 8, 1);
    clnet_graph_layer(conv, "conv2d", NULL, "filters = 2\nkernel_size = 3", &x, 1);
    clnet_model *c = clnet_test_model(ctx, conv, 1, 1, 1), *d = NULL;
    cr_expect_eq(clnet_model_replace_head(c, 4, 1, &d), CLNET_ERR_UNSUPPORTED);
    cr_expect_null(d);
    clnet_model_destroy(c);
    clnet_graph_destroy(conv);
    clnet_model_destroy(n);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}

Test(finetune, frozen_layers_do_not_move)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = clnet_test_small_resnet(12, 12, 3, 3);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 4);
    int64_t trainable = 0, all = 0;
    cr_assert_eq(clnet_model_freeze(m, -1, &all), CLNET_OK);
    cr_assert_eq(clnet_model_freeze(m, 1, &trainable), CLNET_OK);
    cr_expect_eq(trainable, 12 * 3 + 3, "only the dense head: %lld", (long long)trainable);
    cr_expect_gt(all, trainable);
    float *before[MAX_W];
    cr_assert_leq(m->n_weights, MAX_W);
    for (int i = 0; i < m->n_weights; ++i)
        before[i] = clnet_test_host(m->w[i]);
    clnet_optimizer *o = NULL;
    const clnet_optimizer_options sgd = {CLNET_OPT_SGD, 0.9f, 0, 0.0f, 0, 0, 0, 0, 0, 0};
    cr_assert_eq(clnet_optimizer_create(m, &sgd, &o), CLNET_OK);
    clnet_tensor *x = clnet_test_input(ctx, g, 4, 2);
    const int labels[4] = {0, 1, 2, 1};
    cr_assert_eq(clnet_train_step(o, x, labels, 0.1f, 0.0f, NULL, NULL), CLNET_OK, "%s",
                 clnet_context_error(ctx));
    for (int i = 0; i < m->n_weights; ++i) {
        if (!m->info[i].trainable)
            continue; /* batch-norm moving statistics follow every training forward */
        float *after = clnet_test_host(m->w[i]);
        const int moved = memcmp(after, before[i], m->w[i]->count * sizeof(float)) != 0;
        const int head = strcmp(m->info[i].layer, "logits") == 0;
        cr_expect_eq(moved, head, "%s/%s moved %d", m->info[i].layer, m->info[i].name, moved);
        free(after);
    }
    for (int i = 0; i < m->n_weights; ++i)
        free(before[i]);
    clnet_tensor_destroy(x);
    clnet_optimizer_destroy(o);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}

/* Every weight's contents, host copies (free with free_all). */
static void snapshot(clnet_model *m, float **out, int grads)
{
    cr_assert_leq(m->n_weights, MAX_W);
    for (int i = 0; i < m->n_weights; ++i)
        out[i] = grads ? (m->dw[i] ? clnet_test_host(m->dw[i]) : NULL) : clnet_test_host(m->w[i]);
}

static void free_all(float **a, int n)
{
    for (int i = 0; i < n; ++i)
        free(a[i]);
}

static int same(clnet_tensor *t, const float *host)
{
    float *now = clnet_test_host(t);
    const int eq = memcmp(now, host, t->count * sizeof(float)) == 0;
    free(now);
    return eq;
}

static int is_bn_stat(const clnet_model *m, int i)
{
    return !m->info[i].trainable;
}

/* Keras: a frozen BatchNormalization runs in inference mode, so training steps leave its
 * moving statistics alone and the training forward is the inference forward; freezing
 * after a plan was built rebuilds it. */
Test(finetune, frozen_batch_norms_run_in_inference_mode)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = clnet_test_small_resnet(12, 12, 3, 3);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 4);
    clnet_test_randomize_weights(m, 5);
    clnet_optimizer *o = NULL;
    const clnet_optimizer_options sgd = {CLNET_OPT_SGD, 0.9f, 0, 0.0f, 0, 0, 0, 0, 0, 0};
    cr_assert_eq(clnet_optimizer_create(m, &sgd, &o), CLNET_OK);
    clnet_tensor *x = clnet_test_input(ctx, g, 4, 2);
    const int labels[4] = {0, 1, 2, 1};
    /* A step before freezing builds (and caches) the training plan. */
    cr_assert_eq(clnet_train_step(o, x, labels, 0.1f, 0.0f, NULL, NULL), CLNET_OK, "%s",
                 clnet_context_error(ctx));
    int64_t trainable = -1;
    cr_assert_eq(clnet_model_freeze(m, 1, &trainable), CLNET_OK);
    cr_expect_eq(trainable, 12 * 3 + 3);
    float *before[MAX_W];
    snapshot(m, before, 0);
    for (int k = 0; k < 2; ++k)
        cr_assert_eq(clnet_train_step(o, x, labels, 0.1f, 0.0f, NULL, NULL), CLNET_OK, "%s",
                     clnet_context_error(ctx));
    for (int i = 0; i < m->n_weights; ++i) {
        const int head = strcmp(m->info[i].layer, "logits") == 0;
        cr_expect_eq(same(m->w[i], before[i]), !head, "%s/%s", m->info[i].layer, m->info[i].name);
    }
    /* Inference-mode batch norms: the training forward is the inference forward (which
     * folds them into the convolutions, so not to the bit). */
    clnet_tensor *y = NULL;
    cr_assert_eq(clnet_model_forward(m, x, 1, &y), CLNET_OK, "%s", clnet_context_error(ctx));
    float *train = clnet_test_host(y);
    cr_assert_eq(clnet_model_forward(m, x, 0, &y), CLNET_OK);
    float *infer = clnet_test_host(y);
    cr_expect_lt(clnet_test_rel_diff(train, infer, 12), 1e-5);
    clnet_plan_stats ps;
    cr_assert_eq(clnet_model_plan_stats(m, 1, 4, &ps), CLNET_OK);
    cr_expect_eq(ps.frozen_batch_norms, 6);
    cr_expect_eq(ps.backward_steps, 1, "only the dense head's backward runs: %d",
                 ps.backward_steps);
    char *text = NULL, want[96];
    cr_assert_eq(clnet_model_plan_text(m, 1, 4, &text), CLNET_OK);
    snprintf(want, sizeof want, "backward runs in 1 of %d steps, 6 frozen batch norms", ps.steps);
    cr_expect(strstr(text, want), "%s", text);
    clnet_free(text);
    /* Unfreezing brings the training-mode batch norms back. */
    cr_assert_eq(clnet_model_freeze(m, -1, NULL), CLNET_OK);
    cr_assert_eq(clnet_train_step(o, x, labels, 0.1f, 0.0f, NULL, NULL), CLNET_OK);
    for (int i = 0; i < m->n_weights; ++i)
        cr_expect(!same(m->w[i], before[i]), "%s/%s did not move once unfrozen", m->info[i].layer,
                  m->info[i].name);
    free(train);
    free(infer);
    free_all(before, m->n_weights);
    clnet_tensor_destroy(x);
    clnet_optimizer_destroy(o);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}

/* conv(relu) x 2 -> conv -> batch norm -> relu -> pool -> dense: freezing the last three
 * layers with weights freezes no batch norm, so the forward is the unfrozen one. */
static clnet_graph *plain_then_bn(void)
{
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_create(&g), CLNET_OK);
    clnet_layer x = clnet_graph_input(g, NULL, 10, 10, 3);
    x = clnet_graph_layer(g, "conv2d", "a", "filters = 6\nkernel_size = 3\nactivation = relu", &x,
                          1);
    x = clnet_graph_layer(g, "conv2d", "b",
                          "filters = 8\nkernel_size = 3\nstrides = 2\nactivation = relu", &x, 1);
    x = clnet_graph_layer(g, "conv2d", "c", "filters = 8\nkernel_size = 3\npadding = same", &x, 1);
    x = clnet_graph_layer(g, "batch_norm", "bn", "", &x, 1);
    x = clnet_graph_layer(g, "relu", NULL, "", &x, 1);
    x = clnet_graph_layer(g, "global_avg_pool", NULL, "", &x, 1);
    clnet_graph_layer(g, "dense", "logits", "units = 3", &x, 1);
    cr_assert_eq(clnet_graph_status(g), CLNET_OK, "%s", clnet_graph_error(g));
    return g;
}

typedef struct launches {
    int steps;
} launches;

static void count_backward(void *user, const clnet__plan *p, int step, int backward, int after)
{
    (void)p;
    (void)step;
    if (backward && after)
        ++((launches *)user)->steps;
}

/* A backward of dy on m, counting the steps and the kernels it runs. */
static void backward(clnet_model *m, clnet_tensor *x, clnet_tensor *dy, int *steps, int *kernels)
{
    clnet_tensor *y = NULL;
    cr_assert_eq(clnet_model_forward(m, x, 1, &y), CLNET_OK, "%s", clnet_context_error(m->ctx));
    launches l = {0};
    m->hook = count_backward;
    m->hook_user = &l;
    clnet__profile_begin(m->ctx);
    cr_assert_eq(clnet_model_backward(m, dy), CLNET_OK, "%s", clnet_context_error(m->ctx));
    *kernels = m->ctx->n_events;
    double ms = 0.0;
    cr_assert_eq(clnet__profile_end(m->ctx, &ms), CLNET_OK);
    m->hook = NULL;
    *steps = l.steps;
}

/* The frozen layers' backward is skipped and their weight gradients not computed; the
 * trainable layers' gradients are the unfrozen model's to the bit, and the training
 * plan keeps less memory. */
Test(finetune, frozen_layers_cost_no_backward_work)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = plain_then_bn();
    clnet_model *all = clnet_test_model(ctx, g, 1, 1, 4), *part = clnet_test_model(ctx, g, 1, 1, 4);
    clnet_test_randomize_weights(all, 6);
    clnet_test_copy_weights(part, all);
    int64_t trainable = 0;
    cr_assert_eq(clnet_model_freeze(part, 3, &trainable), CLNET_OK);
    cr_expect_eq(trainable, 3 * 3 * 8 * 8 + 8 + 2 * 8 + 8 * 3 + 3);
    for (int i = 0; i < part->n_weights; ++i)
        if (part->dw[i])
            cr_assert_eq(clnet_tensor_fill(part->dw[i], 7.0f), CLNET_OK);
    float *stats[MAX_W];
    snapshot(part, stats, 0);
    clnet_tensor *x = clnet_test_input(ctx, g, 3, 8);
    float *r = clnet_test_random(9, 9);
    clnet_tensor *dy = clnet_test_tensor(ctx, (clnet_shape){3, 1, 1, 3}, r);
    int steps_all = 0, kernels_all = 0, steps_part = 0, kernels_part = 0;
    backward(all, x, dy, &steps_all, &kernels_all);
    backward(part, x, dy, &steps_part, &kernels_part);
    cr_expect_eq(steps_all, 6, "every step's backward: %d", steps_all);
    cr_expect_eq(steps_part, 4, "c, bn, pool and dense only: %d", steps_part);
    cr_expect_lt(kernels_part, kernels_all, "kernels launched backward: %d frozen, %d not",
                 kernels_part, kernels_all);
    for (int i = 0; i < part->n_weights; ++i) {
        if (!part->dw[i])
            continue;
        const int frozen = part->frozen[i];
        if (frozen) {
            float *d = clnet_test_host(part->dw[i]);
            for (size_t k = 0; k < part->dw[i]->count; ++k)
                cr_assert_eq(d[k], 7.0f, "%s/%s: frozen gradient written", part->info[i].layer,
                             part->info[i].name);
            free(d);
        } else {
            cr_expect(clnet_test_tensors_equal(part->dw[i], all->dw[i]), "%s/%s differs",
                      part->info[i].layer, part->info[i].name);
        }
    }
    /* The (trainable) batch norm ran in training mode in both. */
    for (int i = 0; i < part->n_weights; ++i)
        if (is_bn_stat(part, i))
            cr_expect(clnet_test_tensors_equal(part->w[i], all->w[i]) &&
                          !same(part->w[i], stats[i]),
                      "%s/%s", part->info[i].layer, part->info[i].name);
    clnet_plan_stats sa, sp;
    cr_assert_eq(clnet_model_plan_stats(all, 1, 3, &sa), CLNET_OK);
    cr_assert_eq(clnet_model_plan_stats(part, 1, 3, &sp), CLNET_OK);
    cr_expect_lt(sp.planned_bytes, sa.planned_bytes, "training memory: %llu frozen, %llu not",
                 (unsigned long long)sp.planned_bytes, (unsigned long long)sa.planned_bytes);
    free(r);
    free_all(stats, part->n_weights);
    clnet_tensor_destroy(dy);
    clnet_tensor_destroy(x);
    clnet_model_destroy(part);
    clnet_model_destroy(all);
    clnet_graph_destroy(g);
}

/* A frozen batch norm with a trainable layer before it (weights frozen by hand: freezing
 * the last layers never leaves one) passes the inference-form gradient back: the model
 * equals a convolution whose kernel and bias absorb the batch norm's fixed affine map
 * gamma / sqrt(var + eps) * (x - mean) + beta, and their gradients relate by that scale. */
Test(finetune, frozen_batch_norm_backward_is_the_inference_form)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = NULL, *h = NULL;
    cr_assert_eq(clnet_graph_create(&g), CLNET_OK);
    cr_assert_eq(clnet_graph_create(&h), CLNET_OK);
    clnet_layer x = clnet_graph_input(g, NULL, 6, 6, 2), z = clnet_graph_input(h, NULL, 6, 6, 2);
    x = clnet_graph_layer(g, "conv2d", "conv", "filters = 4\nkernel_size = 3\nuse_bias = false", &x,
                          1);
    x = clnet_graph_layer(g, "batch_norm", "bn", "epsilon = 0.01\nactivation = relu", &x, 1);
    z = clnet_graph_layer(h, "conv2d", "conv", "filters = 4\nkernel_size = 3\nactivation = relu",
                          &z, 1);
    x = clnet_graph_layer(g, "global_avg_pool", NULL, "", &x, 1);
    z = clnet_graph_layer(h, "global_avg_pool", NULL, "", &z, 1);
    clnet_graph_layer(g, "dense", "logits", "units = 3", &x, 1);
    clnet_graph_layer(h, "dense", "logits", "units = 3", &z, 1);
    cr_assert_eq(clnet_graph_status(g), CLNET_OK, "%s", clnet_graph_error(g));
    cr_assert_eq(clnet_graph_status(h), CLNET_OK, "%s", clnet_graph_error(h));
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 4), *f = clnet_test_model(ctx, h, 1, 1, 4);
    clnet_test_randomize_weights(m, 3);
    /* m: conv kernel [0], bn gamma beta mean var [1..4], dense [5, 6]; f: conv [0, 1]. */
    float *k = clnet_test_host(m->w[0]), *bn[4];
    for (int i = 0; i < 4; ++i)
        bn[i] = clnet_test_host(m->w[1 + i]);
    float scale[4], bias[4];
    for (int c = 0; c < 4; ++c) {
        scale[c] = (float)(bn[0][c] / sqrt((double)bn[3][c] + 0.01));
        bias[c] = (float)(bn[1][c] - bn[2][c] * (double)scale[c]);
    }
    float fk[3 * 3 * 2 * 4];
    for (int i = 0; i < 3 * 3 * 2 * 4; ++i)
        fk[i] = k[i] * scale[i % 4];
    cr_assert_eq(clnet_tensor_write(f->w[0], fk, 72), CLNET_OK);
    cr_assert_eq(clnet_tensor_write(f->w[1], bias, 4), CLNET_OK);
    for (int i = 0; i < 2; ++i) {
        float *d = clnet_test_host(m->w[5 + i]);
        cr_assert_eq(clnet_tensor_write(f->w[2 + i], d, m->w[5 + i]->count), CLNET_OK);
        free(d);
    }
    for (int i = 1; i <= 4; ++i)
        m->frozen[i] = 1;
    ++m->freeze_version;
    clnet_tensor *in = clnet_test_input(ctx, g, 2, 5);
    clnet_tensor *dy = clnet_test_backward(m, in, 6), *dy2 = clnet_test_backward(f, in, 6);
    float *got = clnet_test_host(m->dw[0]), *want = clnet_test_host(f->dw[0]);
    for (int i = 0; i < 72; ++i)
        want[i] *= scale[i % 4]; /* dL/dk = scale * dL/d(scale * k) */
    cr_expect_lt(clnet_test_rel_diff(got, want, 72), 1e-4);
    float *gd = clnet_test_host(m->dw[5]), *wd = clnet_test_host(f->dw[2]);
    cr_expect_lt(clnet_test_rel_diff(gd, wd, m->dw[5]->count), 1e-4);
    for (int i = 0; i < 4; ++i) {
        cr_expect(same(m->w[1 + i], bn[i]), "bn weight %d changed", i);
        free(bn[i]);
    }
    free(gd);
    free(wd);
    free(got);
    free(want);
    free(k);
    clnet_tensor_destroy(dy);
    clnet_tensor_destroy(dy2);
    clnet_tensor_destroy(in);
    clnet_model_destroy(f);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
    clnet_graph_destroy(h);
}

/* Freezing everything leaves nothing to train, said through the count. */
Test(finetune, freezing_everything_reports_zero)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = clnet_test_small_mobilenet(12, 12, 3, 3);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 4);
    int64_t trainable = -1;
    cr_assert_eq(clnet_model_freeze(m, 0, &trainable), CLNET_OK);
    cr_expect_eq(trainable, 0);
    clnet_plan_stats ps;
    cr_assert_eq(clnet_model_plan_stats(m, 1, 2, &ps), CLNET_OK);
    cr_expect_eq(ps.backward_steps, 0);
    cr_expect_gt(ps.frozen_batch_norms, 0);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}

/* Frozen layers after a trainable one (frozen by hand: freezing the last layers never
 * leaves them) still pass gradients back without their own: conv2d (a layer wide enough
 * for Winograd's dx), depthwise_conv2d and dense backward with NULL weight gradients give
 * the first convolution the unfrozen model's gradient to the bit. */
Test(finetune, frozen_layers_after_a_trainable_one_pass_gradients_back)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_create(&g), CLNET_OK);
    clnet_layer x = clnet_graph_input(g, NULL, 12, 11, 4);
    x = clnet_graph_layer(g, "conv2d", "a", "filters = 32\nkernel_size = 3\npadding = same", &x, 1);
    x = clnet_graph_layer(g, "depthwise_conv2d", "dw",
                          "kernel_size = 3\npadding = same\nactivation = relu", &x, 1);
    x = clnet_graph_layer(g, "conv2d", "c",
                          "filters = 32\nkernel_size = 3\npadding = same\nactivation = relu", &x,
                          1);
    x = clnet_graph_layer(g, "global_avg_pool", NULL, "", &x, 1);
    clnet_graph_layer(g, "dense", "logits", "units = 3", &x, 1);
    cr_assert_eq(clnet_graph_status(g), CLNET_OK, "%s", clnet_graph_error(g));
    clnet_model *all = clnet_test_model(ctx, g, 1, 1, 4), *part = clnet_test_model(ctx, g, 1, 1, 4);
    clnet_test_randomize_weights(all, 6);
    clnet_test_copy_weights(part, all);
    for (int i = 2; i < part->n_weights; ++i) {
        part->frozen[i] = 1;
        cr_assert_eq(clnet_tensor_fill(part->dw[i], 7.0f), CLNET_OK);
    }
    ++part->freeze_version;
    clnet_tensor *in = clnet_test_input(ctx, g, 2, 3);
    clnet_tensor *d1 = clnet_test_backward(all, in, 4), *d2 = clnet_test_backward(part, in, 4);
    for (int i = 0; i < part->n_weights; ++i) {
        if (i < 2) {
            cr_expect(clnet_test_tensors_equal(part->dw[i], all->dw[i]), "%s/%s differs",
                      part->info[i].layer, part->info[i].name);
            continue;
        }
        float *d = clnet_test_host(part->dw[i]);
        for (size_t k = 0; k < part->dw[i]->count; ++k)
            cr_assert_eq(d[k], 7.0f, "%s/%s: frozen gradient written", part->info[i].layer,
                         part->info[i].name);
        free(d);
    }
    clnet_tensor_destroy(d1);
    clnet_tensor_destroy(d2);
    clnet_tensor_destroy(in);
    clnet_model_destroy(part);
    clnet_model_destroy(all);
    clnet_graph_destroy(g);
}
