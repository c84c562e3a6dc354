/* test_softmax_head.c - a model whose graph ends in a softmax (dense with activation =
 * softmax, or a softmax layer) trains as Keras trains it, on the logits: step by step to
 * the same weights as the same model without the softmax; it evaluates to the same loss
 * and accuracy from its probabilities, and predicts probabilities equal to the softmax
 * of the other model's logits (no second softmax). Also the messages of clnet_fit for a
 * model without a classifier head and for a head of the wrong width. */
#include <criterion/criterion.h>
#include <math.h>
#include <stb/stb_image_write.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plan/plan.h"
#include "support/models.h"

/* The body shared by every model: conv + BN + ReLU, global pool; then `head`. */
static clnet_graph *spec_model(const char *head)
{
    char text[1024], err[512] = "";
    snprintf(text, sizeof text,
             "[image]\nop = input\nshape = 8, 8, 1\n"
             "[c1]\nop = conv2d\nfilters = 6\nkernel_size = 3\npadding = same\nuse_bias = false\n"
             "[bn]\nop = batch_norm\nactivation = relu\n"
             "[pool]\nop = global_avg_pool\n%s",
             head);
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_from_spec(text, "head.spec", &g, err, sizeof err), CLNET_OK, "%s",
                 err);
    return g;
}

static clnet_model *model_of(const char *head)
{
    clnet_graph *g = spec_model(head);
    clnet_model *m = clnet_test_model(clnet_test_device(), g, 1, 1, 17);
    clnet_graph_destroy(g);
    return m;
}

static const char logits_head[] = "[logits]\nop = dense\nunits = 3\n";
static const char dense_softmax_head[] = "[logits]\nop = dense\nunits = 3\nactivation = softmax\n";
static const char softmax_layer_head[] = "[logits]\nop = dense\nunits = 3\n[probs]\nop = softmax\n";

/* Every weight of a and b holds the same bytes. */
static void expect_same_weights(clnet_model *a, clnet_model *b, int step)
{
    cr_assert_eq(clnet_model_weight_count(a), clnet_model_weight_count(b));
    for (int i = 0; i < clnet_model_weight_count(a); ++i) {
        clnet_tensor *ta = NULL, *tb = NULL;
        clnet_weight_info info;
        cr_assert_eq(clnet_model_weight(a, i, &info, &ta, NULL), CLNET_OK);
        cr_assert_eq(clnet_model_weight(b, i, NULL, &tb, NULL), CLNET_OK);
        cr_expect(clnet_test_tensors_equal(ta, tb), "step %d: %s/%s differs", step, info.layer,
                  info.name);
    }
}

/* Trains the logits model and m side by side on the same batches with SGD + momentum. */
static void trains_like_the_logits_model(const char *head)
{
    clnet_context *ctx = clnet_test_device();
    clnet_model *a = model_of(logits_head), *b = model_of(head);
    clnet_test_copy_weights(b, a);
    const clnet_optimizer_options sgd = {CLNET_OPT_SGD, 0.9f, 0, 1e-4f, 0, 0, 0, 0, 0, 0};
    clnet_optimizer *oa = NULL, *ob = NULL;
    cr_assert_eq(clnet_optimizer_create(a, &sgd, &oa), CLNET_OK);
    cr_assert_eq(clnet_optimizer_create(b, &sgd, &ob), CLNET_OK);
    for (int step = 0; step < 6; ++step) {
        clnet_tensor *x = clnet_test_input(ctx, clnet_model_graph(a), 5, 100 + (uint64_t)step);
        const int labels[5] = {step % 3, 1, 2, 0, (step + 1) % 3};
        double la = 0.0, lb = 0.0;
        int ca = -1, cb = -2;
        cr_assert_eq(clnet_train_step(oa, x, labels, 0.1f, 0.1f, &la, &ca), CLNET_OK, "%s",
                     clnet_context_error(ctx));
        cr_assert_eq(clnet_train_step(ob, x, labels, 0.1f, 0.1f, &lb, &cb), CLNET_OK, "%s",
                     clnet_context_error(ctx));
        cr_expect_eq(la, lb, "step %d: loss %.9g against %.9g", step, la, lb);
        cr_expect_eq(ca, cb, "step %d: %d against %d correct", step, ca, cb);
        expect_same_weights(a, b, step);
        clnet_tensor_destroy(x);
    }
    clnet_optimizer_destroy(oa);
    clnet_optimizer_destroy(ob);
    clnet_model_destroy(a);
    clnet_model_destroy(b);
}

Test(softmax_head, dense_softmax_trains_on_the_logits, .timeout = 600)
{
    trains_like_the_logits_model(dense_softmax_head);
}

Test(softmax_head, a_softmax_layer_trains_on_the_logits, .timeout = 600)
{
    trains_like_the_logits_model(softmax_layer_head);
}

Test(softmax_head, the_training_plan_leaves_the_softmax_out)
{
    clnet_model *b = model_of(dense_softmax_head);
    int fused = 0;
    cr_expect_eq(clnet__graph_logits(clnet_model_graph(b), &fused), 4);
    cr_expect_eq(fused, 1);
    char *text = NULL;
    cr_assert_eq(clnet_model_plan_text(b, 0, 2, &text), CLNET_OK);
    cr_expect(strstr(text, "+ softmax"), "inference runs the softmax:\n%s", text);
    clnet_free(text);
    cr_assert_eq(clnet_model_plan_text(b, 1, 2, &text), CLNET_OK);
    cr_expect_null(strstr(text, "softmax"), "training stops at the logits:\n%s", text);
    clnet_free(text);
    clnet_model_destroy(b);
    clnet_model *c = model_of(softmax_layer_head);
    cr_expect_eq(clnet__graph_logits(clnet_model_graph(c), &fused), 4);
    cr_expect_eq(fused, 0);
    clnet_model_destroy(c);
    clnet_model *a = model_of(logits_head);
    cr_expect_eq(clnet__graph_logits(clnet_model_graph(a), &fused), -1);
    clnet_model_destroy(a);
}

Test(softmax_head, predicts_the_softmax_of_the_logits_once)
{
    clnet_model *a = model_of(logits_head), *b = model_of(dense_softmax_head),
                *c = model_of(softmax_layer_head);
    clnet_test_randomize_weights(a, 8);
    clnet_test_copy_weights(b, a);
    clnet_test_copy_weights(c, a);
    float images[4 * 64], pa[12], pb[12], pc[12];
    for (int i = 0; i < 4 * 64; ++i)
        images[i] = (float)((i * 37 % 101) / 100.0);
    cr_assert_eq(clnet_model_predict(a, images, 4, pa), CLNET_OK);
    cr_assert_eq(clnet_model_predict(b, images, 4, pb), CLNET_OK);
    cr_assert_eq(clnet_model_predict(c, images, 4, pc), CLNET_OK);
    for (int i = 0; i < 4; ++i) {
        double sum = 0.0;
        for (int k = 0; k < 3; ++k) {
            sum += pb[i * 3 + k];
            cr_expect(fabsf(pb[i * 3 + k] - pa[i * 3 + k]) <= 1e-6f, "image %d class %d: %g, %g", i,
                      k, (double)pb[i * 3 + k], (double)pa[i * 3 + k]);
            cr_expect(fabsf(pc[i * 3 + k] - pa[i * 3 + k]) <= 1e-6f, "image %d class %d: %g, %g", i,
                      k, (double)pc[i * 3 + k], (double)pa[i * 3 + k]);
        }
        cr_expect(fabs(sum - 1.0) <= 1e-6, "image %d: probabilities sum to %.9g", i, sum);
    }
    clnet_model_destroy(a);
    clnet_model_destroy(b);
    clnet_model_destroy(c);
}

/* DIR/<k>/<i>.png for k = 0, 1, 2: 8x8 gray images, class k brightest in rows 2k..2k+2. */
static clnet_dataset *make_folder(char *dir)
{
    strcpy(dir, "/tmp/clnet-head-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    for (int k = 0; k < 3; ++k) {
        char path[256];
        snprintf(path, sizeof path, "%s/%d", dir, k);
        cr_assert_eq(mkdir(path, 0700), 0);
        for (int i = 0; i < 10; ++i) {
            unsigned char px[64];
            for (int p = 0; p < 64; ++p)
                px[p] = (unsigned char)((p * 29 + i * 53) % 90 + (p / 8 / 2 == k ? 150 : 0));
            snprintf(path, sizeof path, "%s/%d/%d.png", dir, k, i);
            cr_assert(stbi_write_png(path, 8, 8, 1, px, 8));
        }
    }
    char err[512] = "";
    clnet_dataset *d = NULL;
    cr_assert_eq(clnet_dataset_open(dir, "train", NULL, &d, err, sizeof err), CLNET_OK, "%s", err);
    return d;
}

static void remove_folder(const char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

Test(softmax_head, evaluates_to_the_loss_and_accuracy_of_the_logits, .timeout = 600)
{
    char dir[64];
    clnet_dataset *d = make_folder(dir);
    clnet_model *a = model_of(logits_head), *b = model_of(dense_softmax_head);
    clnet_test_randomize_weights(a, 4);
    clnet_test_copy_weights(b, a);
    clnet_eval_result ra, rb;
    cr_assert_eq(clnet_evaluate(a, d, 7, &ra), CLNET_OK, "%s",
                 clnet_context_error(clnet_test_device()));
    cr_assert_eq(clnet_evaluate(b, d, 7, &rb), CLNET_OK, "%s",
                 clnet_context_error(clnet_test_device()));
    cr_expect_eq(ra.images, 30);
    cr_expect(fabs(ra.loss - rb.loss) <= 1e-5 * ra.loss, "loss %.9g against %.9g", ra.loss,
              rb.loss);
    cr_expect_eq(ra.top1, rb.top1);
    cr_expect_eq(ra.top5, rb.top5);
    cr_expect_eq(memcmp(ra.confusion, rb.confusion, 9 * sizeof *ra.confusion), 0);
    clnet_eval_result_free(&ra);
    clnet_eval_result_free(&rb);
    clnet_model_destroy(a);
    clnet_model_destroy(b);
    clnet_dataset_destroy(d);
    remove_folder(dir);
}

Test(softmax_head, fit_names_a_missing_or_mismatched_head, .timeout = 600)
{
    char dir[64];
    clnet_dataset *d = make_folder(dir);
    clnet_context *ctx = clnet_test_device();
    clnet_fit_options o;
    memset(&o, 0, sizeof o);
    o.batch = 8;
    clnet_graph *g = NULL;
    char err[512] = "";
    cr_assert_eq(clnet_graph_from_spec("[image]\nop = input\nshape = 8, 8, 1\n[c1]\nop = conv2d\n"
                                       "filters = 4\nkernel_size = 3\n",
                                       "no-head.spec", &g, err, sizeof err),
                 CLNET_OK, "%s", err);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 1);
    clnet_graph_destroy(g);
    cr_expect_eq(clnet_fit(m, d, NULL, &o), CLNET_ERR_SHAPE);
    cr_expect(strstr(clnet_context_error(ctx),
                     "the model has no classifier head: its output layer 'c1' (Conv2D) is 6x6x4, "
                     "not one score per class (1x1x3); end the spec with global_avg_pool (or "
                     "flatten) and a dense layer of 3 units"),
              "%s", clnet_context_error(ctx));
    clnet_eval_result r;
    cr_expect_eq(clnet_evaluate(m, d, 8, &r), CLNET_ERR_SHAPE);
    cr_expect(strstr(clnet_context_error(ctx), "no classifier head"), "%s",
              clnet_context_error(ctx));
    clnet_model_destroy(m);
    m = model_of("[logits]\nop = dense\nunits = 5\n");
    cr_expect_eq(clnet_fit(m, d, NULL, &o), CLNET_ERR_SHAPE);
    cr_expect(strstr(clnet_context_error(ctx), "the model's output layer 'logits' (Dense) has 5 "
                                               "units but the training data has 3 classes"),
              "%s", clnet_context_error(ctx));
    clnet_model_destroy(m);
    clnet_dataset_destroy(d);
    remove_folder(dir);
}
