/* test_fuse_act.c - standalone activations of the activation table fold into the op before
 * them as relu does (src/plan/fuse.c): a batch norm + swish after a convolution, hard_swish
 * after a depthwise convolution, gelu after an add, leaky_relu after the head. The fused
 * model computes what the unfused one computes, forward and, in training (where the fused
 * ops keep or recompute the pre-activation), the weight gradients. MobileNetV3's and
 * EfficientNet's blocks: conv + BN + hard_swish is one step, and stochastic depth does not
 * keep a residual add out of its convolution. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"
#include "support/models.h"

static const char spec[] = "[image]\nop = input\nshape = 6, 5, 3\n\n"
                           "[c1]\nop = conv2d\ninputs = image\nfilters = 8\nkernel_size = 3\n"
                           "padding = same\nuse_bias = false\n\n"
                           "[bn1]\nop = batch_norm\ninputs = c1\n\n"
                           "[a1]\nop = activation\ninputs = bn1\nactivation = swish\n\n"
                           "[dw]\nop = depthwise_conv2d\ninputs = a1\nkernel_size = 3\n"
                           "padding = same\n\n"
                           "[a2]\nop = activation\ninputs = dw\nactivation = hard_swish\n\n"
                           "[sum]\nop = add\ninputs = a1, a2\n\n"
                           "[a3]\nop = activation\ninputs = sum\nactivation = gelu\n\n"
                           "[pool]\nop = global_avg_pool\ninputs = a3\n\n"
                           "[head]\nop = dense\ninputs = pool\nunits = 4\n\n"
                           "[a4]\nop = leaky_relu\ninputs = head\n";

static clnet_graph *graph(void)
{
    clnet_graph *g = NULL;
    char err[512] = "";
    cr_assert_eq(clnet_graph_from_spec(spec, "fuse.spec", &g, err, sizeof err), CLNET_OK, "%s",
                 err);
    return g;
}

Test(fuse_act, table_activations_fold_into_the_op_before, .timeout = 600)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = graph();
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 5);
    clnet_plan_stats inf, train;
    cr_assert_eq(clnet_model_plan_stats(m, 0, 2, &inf), CLNET_OK, "%s", clnet_context_error(ctx));
    cr_assert_eq(clnet_model_plan_stats(m, 1, 2, &train), CLNET_OK, "%s", clnet_context_error(ctx));
    /* Inference: c1 + bn1 + a1, dw + a2, sum + a3, pool, head + a4. */
    cr_expect_eq(inf.fused_bn, 1);
    cr_expect_eq(inf.fused_activations, 4);
    cr_expect_eq(inf.steps, 5);
    /* Training keeps the batch norm: c1, bn1 + a1, dw + a2, sum + a3, pool, head + a4. */
    cr_expect_eq(train.fused_activations, 4);
    cr_expect_eq(train.steps, 6);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}

static void expect_close(clnet_tensor *a, clnet_tensor *b, const char *what)
{
    float *ha = clnet_test_host(a), *hb = clnet_test_host(b);
    const double rel = clnet_test_rel_diff(ha, hb, clnet_tensor_count(a));
    cr_expect_lt(rel, 1e-4, "%s: fused and unfused differ by %g", what, rel);
    free(ha);
    free(hb);
}

/* The inference and the training forward of both models agree. */
static void expect_same_outputs(clnet_context *ctx, clnet_model *fused, clnet_model *plain,
                                clnet_tensor *x)
{
    for (int training = 0; training < 2; ++training) {
        clnet_tensor *ya = NULL, *yb = NULL;
        cr_assert_eq(clnet_model_forward(fused, x, training, &ya), CLNET_OK, "%s",
                     clnet_context_error(ctx));
        cr_assert_eq(clnet_model_forward(plain, x, training, &yb), CLNET_OK, "%s",
                     clnet_context_error(ctx));
        expect_close(ya, yb, training ? "training output" : "inference output");
    }
}

Test(fuse_act, fused_computes_what_unfused_computes, .timeout = 600)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = graph();
    clnet_model *fused = clnet_test_model(ctx, g, 1, 1, 5),
                *plain = clnet_test_model(ctx, g, 0, 1, 5);
    clnet_test_randomize_weights(plain, 3);
    clnet_test_copy_weights(fused, plain);
    clnet_tensor *x = clnet_test_input(ctx, g, 3, 8);
    expect_same_outputs(ctx, fused, plain, x);
    clnet_tensor *da = clnet_test_backward(fused, x, 11), *db = clnet_test_backward(plain, x, 11);
    for (int i = 0; i < clnet_model_weight_count(plain); ++i) {
        clnet_weight_info info;
        clnet_tensor *ga = NULL, *gb = NULL;
        cr_assert_eq(clnet_model_weight(fused, i, &info, NULL, &ga), CLNET_OK);
        cr_assert_eq(clnet_model_weight(plain, i, NULL, NULL, &gb), CLNET_OK);
        if (ga)
            expect_close(ga, gb, info.name);
    }
    clnet_tensor_destroy(da);
    clnet_tensor_destroy(db);
    clnet_tensor_destroy(x);
    clnet_model_destroy(fused);
    clnet_model_destroy(plain);
    clnet_graph_destroy(g);
}

/* An add whose second input is broadcast ([n, 1, 1, c]) runs broadcast.c's kernels: no
 * convolution takes it as its residual and no activation folds into it, and the fused model
 * still computes what the unfused one does. An activation written on it is refused. */
static const char bias_spec[] = "[image]\nop = input\nshape = 6, 5, 3\n\n"
                                "[c1]\nop = conv2d\ninputs = image\nfilters = 8\n"
                                "kernel_size = 3\npadding = same\n\n"
                                "[pool]\nop = global_avg_pool\ninputs = image\n\n"
                                "[shift]\nop = dense\ninputs = pool\nunits = 8\n\n"
                                "[sum]\nop = add\ninputs = c1, shift\n\n"
                                "[a1]\nop = relu\ninputs = sum\n\n"
                                "[gap]\nop = global_avg_pool\ninputs = a1\n\n"
                                "[head]\nop = dense\ninputs = gap\nunits = 3\n";

Test(fuse_act, broadcast_add_is_neither_residual_nor_activated, .timeout = 600)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = NULL;
    char err[512] = "";
    cr_assert_eq(clnet_graph_from_spec(bias_spec, "bias.spec", &g, err, sizeof err), CLNET_OK, "%s",
                 err);
    clnet_model *fused = clnet_test_model(ctx, g, 1, 1, 5),
                *plain = clnet_test_model(ctx, g, 0, 1, 5);
    clnet_plan_stats inf;
    cr_assert_eq(clnet_model_plan_stats(fused, 0, 2, &inf), CLNET_OK, "%s",
                 clnet_context_error(ctx));
    cr_expect_eq(inf.fused_adds, 0);
    cr_expect_eq(inf.fused_activations, 0);
    clnet_test_randomize_weights(plain, 3);
    clnet_test_copy_weights(fused, plain);
    clnet_tensor *x = clnet_test_input(ctx, g, 3, 8);
    expect_same_outputs(ctx, fused, plain, x);
    clnet_tensor_destroy(x);
    clnet_model_destroy(fused);
    clnet_model_destroy(plain);
    clnet_graph_destroy(g);

    char text[sizeof bias_spec + 32];
    snprintf(text, sizeof text, "%s", bias_spec);
    char *at = strstr(text, "[a1]");
    snprintf(at, sizeof text - (size_t)(at - text), "activation = relu\n");
    g = NULL;
    cr_expect_eq(clnet_graph_from_spec(text, "bias.spec", &g, err, sizeof err),
                 CLNET_ERR_UNSUPPORTED);
    cr_expect(strstr(err, "takes no fused activation"), "%s", err);
    cr_expect_null(g);
}

/* The inference plan of model at 32x32x3 (plan only: nothing runs). */
static const clnet__plan *zoo_plan(clnet_context *ctx, const char *model, clnet_graph **g,
                                   clnet_model **m, clnet_plan_stats *ps)
{
    const clnet_zoo_options zo = {32, 32, 3, 10, NULL, 0.0, 0};
    char err[512] = "";
    cr_assert_eq(clnet_zoo_build(model, &zo, g, err, sizeof err), CLNET_OK, "%s", err);
    *m = clnet_test_model(ctx, *g, 1, 1, 5);
    cr_assert_eq(clnet_model_plan_stats(*m, 0, 1, ps), CLNET_OK, "%s", clnet_context_error(ctx));
    return (*m)->plans[0];
}

/* mobilenetv3_large in inference: every conv or depthwise conv + BN + hard_swish is one
 * step (the stem, the expansion and depthwise convolutions of features_7 to 15, the last
 * conv: 20), and no activation runs on its own (hard_sigmoid and ReLU join the SE's 1x1
 * convolutions, the classifier's hard_swish its dense). */
Test(fuse_act, mobilenetv3_conv_bn_hard_swish_is_one_step, .timeout = 600)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = NULL;
    clnet_model *m = NULL;
    clnet_plan_stats ps;
    const clnet__plan *p = zoo_plan(ctx, "mobilenetv3_large", &g, &m, &ps);
    int hard_swish = 0;
    for (int s = 0; s < p->n_steps; ++s) {
        const clnet__step *st = &p->steps[s];
        const clnet__act *act = clnet__params_act(st->op, st->params);
        cr_expect_eq(st->op->flags & CLNET_OP_ACTIVATION, 0, "%s runs on its own",
                     g->layers[st->members[0]].name);
        hard_swish += st->fold_bn >= 0 && st->n_members == 3 && act->id == CLNET_ACT_HARD_SWISH;
    }
    cr_expect_eq(hard_swish, 20);
    cr_expect_str_eq(g->layers[p->steps[0].members[0]].name, "features_0_0");
    cr_expect_str_eq(g->layers[p->steps[0].members[2]].name, "features_0_2");
    cr_expect_eq(ps.fused_bn, 46);
    cr_expect_eq(ps.fused_activations, 48);
    cr_expect_eq(ps.fused_adds, 10);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}

/* efficientnet_b0 in inference: stochastic depth is the identity, so each residual
 * block's projection conv + BN + stochastic depth + add is one step (9 blocks); training
 * runs it. */
Test(fuse_act, stochastic_depth_keeps_the_residual_add_fused, .timeout = 600)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = NULL;
    clnet_model *m = NULL;
    clnet_plan_stats ps, train;
    const clnet__plan *p = zoo_plan(ctx, "efficientnet_b0", &g, &m, &ps);
    cr_expect_eq(ps.fused_adds, 9);
    for (int s = 0; s < p->n_steps; ++s)
        cr_expect_neq(p->steps[s].op, &clnet__op_stochastic_depth, "%s runs in inference",
                      g->layers[p->steps[s].members[0]].name);
    cr_assert_eq(clnet_model_plan_stats(m, 1, 2, &train), CLNET_OK, "%s", clnet_context_error(ctx));
    int dropped = 0;
    for (int s = 0; s < m->plans[1]->n_steps; ++s)
        dropped += m->plans[1]->steps[s].op == &clnet__op_stochastic_depth;
    cr_expect_eq(dropped, 9);
    cr_expect_eq(train.fused_adds, 0);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}
