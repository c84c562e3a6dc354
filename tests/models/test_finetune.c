/* test_finetune.c - fine-tuning (src/plan/finetune.c): the classifier head replaced
 * for a new class count keeps every other weight, and freezing all but the last
 * layers lets a training step move only those. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"
#include "support/models.h"

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
    float *before[64];
    cr_assert_leq(m->n_weights, 64);
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
