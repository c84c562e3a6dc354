/* test_layer_output.c - outputs of named layers read after a forward
 * (clnet_model_keep_output, clnet_model_layer_output; src/plan/outputs.c) and dropout
 * turned off in training (clnet_model_set_dropout). Kept outputs of a fused, memory-planned
 * model whose dead buffers are poisoned equal the same layers of a model with neither
 * fusion nor memory plan; keeping a layer that ends a fused group leaves the output
 * bitwise as it was. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"
#include "support/models.h"

/* Fused groups cut short by a kept layer, and views: conv's batch norm would be folded
 * into it, conv_b's relu would be its epilogue, flat and drop are views of conv_b's
 * output in inference. Ends in a softmax, which training leaves to the loss. */
static clnet_graph *views_net(void)
{
    static const char spec[] =
        "[image]\nop = input\nshape = 6, 5, 3\n"
        "[conv]\nop = conv2d\nfilters = 8\nkernel_size = 3\npadding = same\nuse_bias = false\n"
        "[bn]\nop = batch_norm\n"
        "[relu]\nop = relu\n"
        "[conv_b]\nop = conv2d\nfilters = 6\nkernel_size = 1\n"
        "[relu_b]\nop = relu\n"
        "[flat]\nop = flatten\n"
        "[drop]\nop = dropout\nrate = 0.3\n"
        "[fc]\nop = dense\nunits = 10\n"
        "[fc_relu]\nop = relu\n"
        "[out]\nop = dense\nunits = 4\nactivation = softmax\n";
    char err[512] = "";
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_from_spec(spec, "views.spec", &g, err, sizeof err), CLNET_OK, "%s",
                 err);
    return g;
}

static clnet_graph *resnet(void)
{
    return clnet_test_small_resnet(12, 10, 3, 4);
}

static clnet_graph *mobilenet(void)
{
    return clnet_test_small_mobilenet(12, 10, 3, 4);
}

typedef struct net {
    clnet_graph *(*make)(void);
    const char *kept[8]; /* NULL-terminated */
} net;

/* Layers of each kind fusion would swallow: a convolution whose batch norm is folded (the
 * first of each list), a batch norm whose activation is fused, a convolution whose
 * residual add is fused, an add whose relu is fused; and group ends, pools and views. */
static const net nets[] = {
    {resnet,
     {"conv2d_1", "batch_norm_3", "conv2d_4", "add", "relu", "max_pool", "global_avg_pool"}},
    {mobilenet, {"depthwise_conv2d", "batch_norm_1", "conv2d_1", "relu6_3", "add_1", "conv2d_5"}},
    {views_net, {"conv", "conv_b", "flat", "drop", "fc", "relu"}},
};

static void keep(clnet_model *m, const char *const *names)
{
    for (int i = 0; i < 8 && names[i]; ++i)
        cr_assert_eq(clnet_model_keep_output(m, names[i]), CLNET_OK, "%s: %s", names[i],
                     clnet_context_error(m->ctx));
}

/* Layer name's output in a and b: same shape, values within tol (relative). */
static void expect_same_output(clnet_model *a, clnet_model *b, const char *name, double tol,
                               const char *when)
{
    clnet_tensor *ta = NULL, *tb = NULL;
    cr_assert_eq(clnet_model_layer_output(a, name, &ta), CLNET_OK, "%s %s: %s", when, name,
                 clnet_context_error(a->ctx));
    cr_assert_eq(clnet_model_layer_output(b, name, &tb), CLNET_OK, "%s %s: %s", when, name,
                 clnet_context_error(b->ctx));
    cr_assert(clnet__shape_eq(clnet_tensor_shape(ta), clnet_tensor_shape(tb)), "%s %s", when, name);
    const clnet_shape want = clnet_graph_layer_shape(a->graph, clnet_graph_find(a->graph, name));
    cr_expect_eq(clnet_tensor_shape(ta).c, want.c, "%s %s: not the layer's own shape", when, name);
    float *x = clnet_test_host(ta), *y = clnet_test_host(tb);
    const double d = clnet_test_rel_diff(x, y, clnet_tensor_count(ta));
    cr_expect(d <= tol, "%s %s: kept output differs from the unfused model's by %g", when, name, d);
    free(x);
    free(y);
}

/* The kept outputs (and the final output) of a fused, planned, poisoned model equal an
 * unfused, unplanned model's after the forward, and in training still after the
 * backward. Fusion folds batch norms (other rounding), hence a tolerance. */
static void kept_equal_unfused(const net *n, int training)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = n->make();
    clnet_model *fused = clnet_test_model(ctx, g, 1, 1, 5),
                *plain = clnet_test_model(ctx, g, 0, 0, 5);
    fused->poison = 1;
    clnet_test_randomize_weights(plain, 3);
    clnet_test_copy_weights(fused, plain);
    keep(fused, n->kept);
    keep(plain, n->kept);
    clnet_tensor *x = clnet_test_input(ctx, g, 3, 8), *ya = NULL, *yb = NULL;
    cr_assert_eq(clnet_model_forward(fused, x, training, &ya), CLNET_OK, "%s",
                 clnet_context_error(ctx));
    cr_assert_eq(clnet_model_forward(plain, x, training, &yb), CLNET_OK, "%s",
                 clnet_context_error(ctx));
    const clnet__plan *p = fused->plans[training];
    cr_expect_gt(p->fused_bn + p->fused_act, 0, "the test graph fuses something");
    cr_expect_lt(p->planned_bytes, plain->plans[training]->planned_bytes, "buffers are shared");
    const char *when = training ? "training" : "inference";
    for (int i = 0; i < 8 && n->kept[i]; ++i)
        expect_same_output(fused, plain, n->kept[i], 1e-4, when);
    float *a = clnet_test_host(ya), *b = clnet_test_host(yb);
    cr_expect_leq(clnet_test_rel_diff(a, b, clnet_tensor_count(ya)), 1e-4, "outputs differ");
    if (training) {
        float *r = clnet_test_random(clnet_tensor_count(ya), 9);
        clnet_tensor *dy = clnet_test_tensor(ctx, clnet_tensor_shape(ya), r);
        cr_assert_eq(clnet_model_backward(fused, dy), CLNET_OK, "%s", clnet_context_error(ctx));
        cr_assert_eq(clnet_model_backward(plain, dy), CLNET_OK, "%s", clnet_context_error(ctx));
        for (int i = 0; i < 8 && n->kept[i]; ++i)
            expect_same_output(fused, plain, n->kept[i], 1e-4, "after backward");
        free(r);
        clnet_tensor_destroy(dy);
    }
    free(a);
    free(b);
    clnet_tensor_destroy(x);
    clnet_model_destroy(fused);
    clnet_model_destroy(plain);
    clnet_graph_destroy(g);
}

Test(layer_output, kept_outputs_equal_unfused_in_inference, .timeout = 600)
{
    for (size_t i = 0; i < CLNET_COUNTOF(nets); ++i)
        kept_equal_unfused(&nets[i], 0);
}

Test(layer_output, kept_outputs_equal_unfused_in_training, .timeout = 600)
{
    for (size_t i = 0; i < CLNET_COUNTOF(nets); ++i)
        kept_equal_unfused(&nets[i], 1);
}

/* A kept convolution whose batch norm inference would fold runs unfolded: its output is
 * the value before the batch norm, as Keras's conv layer gives it. */
Test(layer_output, kept_convolution_keeps_its_batch_norm_apart, .timeout = 600)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = resnet();
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 5);
    const int conv = clnet_graph_find(g, "conv2d_1"), bn = clnet_graph_find(g, "batch_norm_1");
    clnet_plan_stats before, after;
    cr_assert_eq(clnet_model_plan_stats(m, 0, 2, &before), CLNET_OK, "%s",
                 clnet_context_error(ctx));
    int folded = 0;
    for (int s = 0; s < m->plans[0]->n_steps; ++s)
        folded |= m->plans[0]->steps[s].fold_bn == bn;
    cr_expect(folded, "batch_norm_1 is folded when nothing is kept");
    cr_assert_eq(clnet_model_keep_output(m, "conv2d_1"), CLNET_OK);
    cr_assert_eq(clnet_model_plan_stats(m, 0, 2, &after), CLNET_OK, "%s", clnet_context_error(ctx));
    cr_expect_eq(after.fused_bn, before.fused_bn - 1);
    for (int s = 0; s < m->plans[0]->n_steps; ++s) {
        const clnet__step *st = &m->plans[0]->steps[s];
        if (st->members[0] == conv)
            cr_expect(st->n_members == 1 && st->fold_bn < 0, "conv2d_1 runs alone");
    }
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}

/* Keeping layers that end a fused group (or are views, or pools) changes no step and
 * leaves the output bitwise as it was, in both modes. */
Test(layer_output, keeping_group_ends_leaves_the_output_bitwise, .timeout = 600)
{
    static const net ends[] = {
        {resnet, {"relu", "max_pool", "relu_2", "relu_4", "global_avg_pool"}},
        {views_net, {"relu", "relu_b", "flat", "drop", "fc_relu"}},
    };
    clnet_context *ctx = clnet_test_device();
    for (size_t i = 0; i < CLNET_COUNTOF(ends); ++i)
        for (int training = 0; training < 2; ++training) {
            clnet_graph *g = ends[i].make();
            clnet_model *a = clnet_test_model(ctx, g, 1, 1, 5),
                        *b = clnet_test_model(ctx, g, 1, 1, 5);
            clnet_test_randomize_weights(a, 6);
            clnet_test_copy_weights(b, a);
            keep(b, ends[i].kept);
            clnet_tensor *x = clnet_test_input(ctx, g, 2, 4), *ya = NULL, *yb = NULL;
            cr_assert_eq(clnet_model_forward(a, x, training, &ya), CLNET_OK, "%s",
                         clnet_context_error(ctx));
            cr_assert_eq(clnet_model_forward(b, x, training, &yb), CLNET_OK, "%s",
                         clnet_context_error(ctx));
            cr_expect_eq(a->plans[training]->n_steps, b->plans[training]->n_steps);
            cr_expect(clnet_test_tensors_equal(ya, yb), "%zu, training %d: output changed", i,
                      training);
            clnet_tensor *t = NULL;
            for (int k = 0; ends[i].kept[k]; ++k)
                cr_expect_eq(clnet_model_layer_output(b, ends[i].kept[k], &t), CLNET_OK, "%s",
                             clnet_context_error(ctx));
            clnet_tensor_destroy(x);
            clnet_model_destroy(a);
            clnet_model_destroy(b);
            clnet_graph_destroy(g);
        }
}

static void expect_error(clnet_model *m, clnet_status got, clnet_status want, const char *a,
                         const char *b)
{
    const char *msg = clnet_context_error(m->ctx);
    cr_expect_eq(got, want, "%s: %s", clnet_status_string(got), msg);
    cr_expect(strstr(msg, a) && (!b || strstr(msg, b)), "%s", msg);
}

Test(layer_output, errors_name_the_layer_and_the_fix, .timeout = 600)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = views_net();
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 5);
    clnet_tensor *t = (clnet_tensor *)1, *y = NULL;
    expect_error(m, clnet_model_keep_output(m, "conv_c"), CLNET_ERR_INVALID_ARG, "'conv_c'",
                 "did you mean 'conv");
    expect_error(m, clnet_model_layer_output(m, "nope", &t), CLNET_ERR_INVALID_ARG, "'nope'", NULL);
    cr_expect_null(t);
    cr_assert_eq(clnet_model_keep_output(m, "fc"), CLNET_OK);
    cr_assert_eq(clnet_model_keep_output(m, "out"), CLNET_OK);
    expect_error(m, clnet_model_layer_output(m, "fc", &t), CLNET_ERR_INVALID_ARG, "no forward",
                 "clnet_model_forward");
    clnet_tensor *x = clnet_test_input(ctx, g, 2, 1);
    cr_assert_eq(clnet_model_forward(m, x, 0, &y), CLNET_OK, "%s", clnet_context_error(ctx));
    expect_error(m, clnet_model_layer_output(m, "conv_b", &t), CLNET_ERR_INVALID_ARG,
                 "'conv_b' was not kept", "clnet_model_keep_output(m, \"conv_b\") before");
    cr_assert_eq(clnet_model_keep_output(m, "conv_b"), CLNET_OK);
    expect_error(m, clnet_model_layer_output(m, "conv_b", &t), CLNET_ERR_INVALID_ARG,
                 "after the last forward", NULL);
    /* The plan the forward ran is still there: what it kept can be read. */
    cr_expect_eq(clnet_model_layer_output(m, "fc", &t), CLNET_OK, "%s", clnet_context_error(ctx));
    cr_expect_eq(clnet_model_layer_output(m, "out", &t), CLNET_OK, "%s", clnet_context_error(ctx));
    cr_expect(t && clnet__shape_eq(clnet_tensor_shape(t), clnet_tensor_shape(y)));
    /* Training ends at the logits: the softmax layer's probabilities are not computed. */
    cr_assert_eq(clnet_model_forward(m, x, 1, &y), CLNET_OK, "%s", clnet_context_error(ctx));
    expect_error(m, clnet_model_layer_output(m, "out", &t), CLNET_ERR_UNSUPPORTED, "logits",
                 "inference forward");
    cr_expect_eq(clnet_model_layer_output(m, "conv_b", &t), CLNET_OK, "%s",
                 clnet_context_error(ctx));
    /* NULL forgets every kept layer. */
    cr_assert_eq(clnet_model_keep_output(m, NULL), CLNET_OK);
    cr_assert_eq(clnet_model_forward(m, x, 0, &y), CLNET_OK, "%s", clnet_context_error(ctx));
    expect_error(m, clnet_model_layer_output(m, "fc", &t), CLNET_ERR_INVALID_ARG, "not kept", NULL);
    cr_expect_eq(clnet_model_layer_output(NULL, "fc", &t), CLNET_ERR_INVALID_ARG);
    cr_expect_eq(clnet_model_keep_output(NULL, "fc"), CLNET_ERR_INVALID_ARG);
    clnet_tensor_destroy(x);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}

/* A softmax layer after the logits: the training plan does not run it. */
Test(layer_output, softmax_layer_is_not_run_in_training, .timeout = 600)
{
    clnet_context *ctx = clnet_test_device();
    char err[512] = "";
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_from_spec("[image]\nop = input\nshape = 2, 2, 3\n[flat]\nop = "
                                       "flatten\n[logits]\nop = dense\nunits = 3\n[probs]\nop = "
                                       "softmax\n",
                                       "probs.spec", &g, err, sizeof err),
                 CLNET_OK, "%s", err);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 5);
    cr_assert_eq(clnet_model_keep_output(m, "probs"), CLNET_OK);
    clnet_tensor *x = clnet_test_input(ctx, g, 2, 1), *y = NULL, *t = NULL;
    cr_assert_eq(clnet_model_forward(m, x, 1, &y), CLNET_OK, "%s", clnet_context_error(ctx));
    expect_error(m, clnet_model_layer_output(m, "probs", &t), CLNET_ERR_UNSUPPORTED,
                 "does not run in a training forward", "inference forward");
    cr_assert_eq(clnet_model_forward(m, x, 0, &y), CLNET_OK, "%s", clnet_context_error(ctx));
    cr_expect_eq(clnet_model_layer_output(m, "probs", &t), CLNET_OK, "%s",
                 clnet_context_error(ctx));
    cr_expect(clnet_test_tensors_equal(t, y), "the kept softmax is the output");
    clnet_tensor_destroy(x);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}

/* A batch that runs in slices gives its output, but its layer outputs only with a clear
 * refusal naming the batch that would work. */
Test(layer_output, sliced_inference_is_refused, .timeout = 600)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = clnet_test_small_resnet(12, 12, 3, 4);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 5);
    m->slice_limit = 2 * 12 * 12 * 8 * sizeof(float) + 100; /* 2 images a slice */
    cr_assert_eq(clnet_model_keep_output(m, "relu"), CLNET_OK);
    clnet_tensor *x = clnet_test_input(ctx, g, 5, 2), *y = NULL, *t = NULL;
    cr_assert_eq(clnet_model_forward(m, x, 0, &y), CLNET_OK, "%s", clnet_context_error(ctx));
    expect_error(m, clnet_model_layer_output(m, "relu", &t), CLNET_ERR_UNSUPPORTED, "slices",
                 "at most 2");
    cr_expect_null(t);
    clnet_tensor *x2 = clnet_test_input(ctx, g, 2, 2);
    cr_assert_eq(clnet_model_forward(m, x2, 0, &y), CLNET_OK, "%s", clnet_context_error(ctx));
    cr_expect_eq(clnet_model_layer_output(m, "relu", &t), CLNET_OK, "%s", clnet_context_error(ctx));
    clnet_tensor_destroy(x);
    clnet_tensor_destroy(x2);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}

/* Dense layers around a dropout, without batch norm (whose modes differ). */
static clnet_graph *dropout_net(int with_dropout)
{
    char spec[512], err[512] = "";
    snprintf(spec, sizeof spec,
             "[image]\nop = input\nshape = 2, 2, 3\n[flat]\nop = flatten\n"
             "[fc]\nop = dense\nunits = 32\nactivation = relu\n%s"
             "[logits]\nop = dense\nunits = 5\n",
             with_dropout ? "[drop]\nop = dropout\nrate = 0.5\n" : "");
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_from_spec(spec, "dropout.spec", &g, err, sizeof err), CLNET_OK, "%s",
                 err);
    return g;
}

/* The training forward of m on x, copied to the host. */
static float *train_forward(clnet_model *m, clnet_tensor *x, size_t *count)
{
    clnet_tensor *y = NULL;
    cr_assert_eq(clnet_model_forward(m, x, 1, &y), CLNET_OK, "%s", clnet_context_error(m->ctx));
    *count = clnet_tensor_count(y);
    return clnet_test_host(y);
}

/* Dropout off: training forward and backward are those of the same model without its
 * dropout layer, and the forward is the inference forward; on (the default, and again
 * after off): the training forward differs. */
Test(layer_output, dropout_off_is_the_identity_in_training, .timeout = 600)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = dropout_net(1), *bare = dropout_net(0);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 5), *ref = clnet_test_model(ctx, bare, 1, 1, 5);
    clnet_test_randomize_weights(m, 2);
    clnet_test_copy_weights(ref, m);
    clnet_tensor *x = clnet_test_input(ctx, g, 4, 3), *y = NULL;
    size_t n = 0;
    float *want = train_forward(ref, x, &n), *on = train_forward(m, x, &n);
    cr_expect_gt(clnet_test_max_abs_diff(on, want, n), 1e-3f, "dropout is on by default");
    cr_assert_eq(clnet_model_set_dropout(m, 0), CLNET_OK);
    float *off = train_forward(m, x, &n);
    cr_expect_eq(clnet_test_max_abs_diff(off, want, n), 0.0f, "dropout off is the identity");
    cr_assert_eq(clnet_model_forward(m, x, 0, &y), CLNET_OK, "%s", clnet_context_error(ctx));
    float *inf = clnet_test_host(y);
    cr_expect_leq(clnet_test_rel_diff(off, inf, n), 1e-5, "training equals inference");
    /* Backward of the identity: the same weight gradients as without the layer. */
    float *r = clnet_test_random(n, 7);
    free(train_forward(m, x, &n));
    clnet_tensor *dy = clnet_test_tensor(ctx, (clnet_shape){4, 1, 1, 5}, r);
    cr_assert_eq(clnet_model_backward(m, dy), CLNET_OK, "%s", clnet_context_error(ctx));
    free(train_forward(ref, x, &n));
    cr_assert_eq(clnet_model_backward(ref, dy), CLNET_OK, "%s", clnet_context_error(ctx));
    for (int i = 0; i < clnet_model_weight_count(m); ++i) {
        clnet_tensor *ga = NULL, *gb = NULL;
        cr_assert_eq(clnet_model_weight(m, i, NULL, NULL, &ga), CLNET_OK);
        cr_assert_eq(clnet_model_weight(ref, i, NULL, NULL, &gb), CLNET_OK);
        cr_expect(clnet_test_tensors_equal(ga, gb), "weight %d: gradient differs", i);
    }
    cr_assert_eq(clnet_model_set_dropout(m, 1), CLNET_OK);
    float *again = train_forward(m, x, &n);
    cr_expect_gt(clnet_test_max_abs_diff(again, want, n), 1e-3f, "dropout is on again");
    free(want);
    free(on);
    free(off);
    free(inf);
    free(again);
    free(r);
    clnet_tensor_destroy(dy);
    clnet_tensor_destroy(x);
    clnet_model_destroy(m);
    clnet_model_destroy(ref);
    clnet_graph_destroy(g);
    clnet_graph_destroy(bare);
}
