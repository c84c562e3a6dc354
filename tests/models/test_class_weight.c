/* test_class_weight.c - class weights in training (src/train/loss.c, clnet_fit in
 * src/train/fit.c) and a dataset's balanced weights (src/data/dataset.c): the weights of
 * a generated imbalanced image folder and of a split missing a class; a weighted step
 * on every kernel class equals the double reference (loss, and the weights after an SGD
 * update), label smoothing included; bad weights are refused naming the class; on an
 * imbalanced separable problem, balanced weights raise the minority class's recall. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stb/stb_image_write.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/data.h"
#include "plan/plan.h"
#include "ref/ref.h"
#include "support/models.h"
#include "support/tempdir.h"
#include "tensor/rng.h"

TestSuite(class_weight, .init = clnet_test_make_dir, .fini = clnet_test_remove_dir);

/* DIR/<names[k]>/<i>.png for k < classes: count[k] gray 8x8 images on noise in
 * [0, noise); class k has a bright 3x3 square (+bright) at a random row, starting in the
 * k-th of `classes` column bands. */
static void make_folder(const char *dir, int classes, const char *const *names, const int *count,
                        int noise, int bright, uint64_t seed)
{
    clnet__rng r;
    clnet__rng_seed(&r, seed);
    cr_assert_eq(mkdir(dir, 0700), 0, "mkdir %s", dir);
    for (int k = 0; k < classes; ++k) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        cr_assert_eq(mkdir(path, 0700), 0);
        const int band = 8 / classes;
        for (int i = 0; i < count[k]; ++i) {
            unsigned char px[64];
            const int row = (int)(clnet__rng_next(&r) % 6);
            const int col =
                k * band + (int)(clnet__rng_next(&r) % (uint64_t)(band > 3 ? band - 2 : 1));
            for (int p = 0; p < 64; ++p)
                px[p] = (unsigned char)(clnet__rng_next(&r) % (uint64_t)noise);
            for (int dy = 0; dy < 3; ++dy)
                for (int dx = 0; dx < 3; ++dx)
                    px[(row + dy) * 8 + col + dx] += (unsigned char)bright;
            snprintf(path, sizeof path, "%s/%s/%03d.png", dir, names[k], i);
            cr_assert(stbi_write_png(path, 8, 8, 1, px, 8));
        }
    }
}

static clnet_dataset *open_folder(const char *dir)
{
    char err[512] = "";
    clnet_dataset *d = NULL;
    cr_assert_eq(clnet_dataset_open(dir, NULL, NULL, &d, err, sizeof err), CLNET_OK, "%s", err);
    return d;
}

Test(class_weight, balanced_weights_of_an_imbalanced_folder)
{
    static const char *const names[3] = {"a", "b", "c"};
    const int count[3] = {9, 3, 6};
    const char *dir = clnet_test_path("imbalanced");
    make_folder(dir, 3, names, count, 60, 150, 1);
    clnet_dataset *d = open_folder(dir);
    cr_assert_eq(clnet_dataset_size(d), 18);
    float w[3];
    cr_assert_eq(clnet_dataset_class_weights(d, w), CLNET_OK);
    /* n / (classes * count): 18 / 27, 18 / 9, 18 / 18; they average 1 over the images. */
    cr_expect_eq(w[0], (float)(18.0 / 27.0));
    cr_expect_eq(w[1], 2.0f);
    cr_expect_eq(w[2], 1.0f);
    cr_expect_float_eq(9 * w[0] + 3 * w[1] + 6 * w[2], 18.0f, 1e-5f);

    /* A part holding classes a and c only (images 0..8 are a, 12..17 c): b is absent and
     * gets 1; the others are balanced over the 2 present classes. */
    int index[8] = {0, 1, 2, 3, 4, 12, 13, 14};
    clnet_dataset part = *d;
    part.index = index;
    part.size = 8;
    cr_assert_eq(clnet_dataset_label(&part, 7), 2);
    cr_assert_eq(clnet_dataset_class_weights(&part, w), CLNET_OK);
    cr_expect_eq(w[0], (float)(8.0 / (2.0 * 5.0)));
    cr_expect_eq(w[1], 1.0f);
    cr_expect_eq(w[2], (float)(8.0 / (2.0 * 3.0)));
    cr_expect_eq(clnet_dataset_class_weights(NULL, w), CLNET_ERR_INVALID_ARG);
    cr_expect_eq(clnet_dataset_class_weights(d, NULL), CLNET_ERR_INVALID_ARG);
    clnet_dataset_destroy(d);
}

enum { N = 7, D = 13, C = 5 };

/* dense D -> C on 1 x 1 x D inputs: weight 0 the D x C kernel (HWIO), weight 1 the bias. */
static clnet_model *dense_model(clnet_context *ctx)
{
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_create(&g), CLNET_OK);
    clnet_layer x = clnet_graph_input(g, NULL, 1, 1, D);
    clnet_graph_layer(g, "dense", NULL, "units = 5", &x, 1);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 3);
    clnet_graph_destroy(g);
    cr_assert_eq(m->n_weights, 2);
    return m;
}

typedef struct step_case {
    clnet_device_class cls;
    float label_smoothing;
} step_case;

ParameterizedTestParameters(class_weight, weighted_step_matches_reference)
{
    static step_case cases[] = {{CLNET_CLASS_DGPU, 0.0f}, {CLNET_CLASS_IGPU, 0.0f},
                                {CLNET_CLASS_CPU, 0.0f},  {CLNET_CLASS_DGPU, 0.2f},
                                {CLNET_CLASS_IGPU, 0.2f}, {CLNET_CLASS_CPU, 0.2f}};
    return cr_make_param_array(step_case, cases, CLNET_COUNTOF(cases));
}

/* One SGD step (lr 0.5, no momentum) of a dense model on 7 images: the loss and the new
 * weights against the reference loss (src/ref/softmax_cross_entropy.c with the class
 * weights of the labels as row weights) and its gradient pushed through the dense layer
 * in double. */
ParameterizedTest(step_case *k, class_weight, weighted_step_matches_reference)
{
    clnet_context *ctx = clnet_test_device_class(k->cls);
    clnet_model *m = dense_model(ctx);
    const float cw[C] = {0.25f, 3.0f, 0.0f, 1.0f, 1.7f};
    const int labels[N] = {1, 0, 2, 4, 1, 3, 0};
    float *x = clnet_test_random(N * D, 21);
    float *w0 = clnet_test_host(m->w[0]), *b0 = clnet_test_host(m->w[1]);
    double logits[N * C], targets[N * C], rw[N], loss = 0.0, dlogits[N * C], one = 1.0;
    for (int i = 0; i < N; ++i) {
        for (int c = 0; c < C; ++c) {
            double z = b0[c];
            for (int j = 0; j < D; ++j)
                z += (double)x[i * D + j] * w0[j * C + c];
            logits[i * C + c] = z;
            targets[i * C + c] = c == labels[i];
        }
        rw[i] = cw[labels[i]];
    }
    const clnet__softmax_cross_entropy_params p = {k->label_smoothing};
    const clnet_shape shapes[3] = {{N, 1, 1, C}, {N, 1, 1, C}, {N, 1, 1, 1}};
    const double *in[3] = {logits, targets, rw};
    double *din[3] = {dlogits, NULL, NULL};
    clnet__ref_args a = {&p,   3,    shapes, in, {1, 1, 1, 1}, &loss, 0,
                         NULL, NULL, 1,      0,  &one,         din,   NULL};
    clnet__ref_softmax_cross_entropy_forward(&a);
    clnet__ref_softmax_cross_entropy_backward(&a);

    clnet_optimizer *o = NULL;
    cr_assert_eq(clnet_optimizer_create(m, NULL, &o), CLNET_OK);
    clnet_tensor *t = clnet_test_tensor(ctx, (clnet_shape){N, 1, 1, D}, x);
    double got_loss = NAN;
    int correct = -1;
    cr_assert_eq(
        clnet_train_step_weighted(o, t, labels, cw, 0.5f, k->label_smoothing, &got_loss, &correct),
        CLNET_OK, "%s", clnet_context_error(ctx));
    cr_expect(fabs(got_loss - loss) <= 1e-5 * fabs(loss), "loss %.9g, reference %.9g", got_loss,
              loss);
    float *w1 = clnet_test_host(m->w[0]), *b1 = clnet_test_host(m->w[1]);
    double worst = 0.0;
    for (int c = 0; c < C; ++c) {
        double db = 0.0;
        for (int i = 0; i < N; ++i)
            db += dlogits[i * C + c];
        worst = fmax(worst, fabs(b1[c] - (b0[c] - 0.5 * db)) / (fabs(b0[c]) + 1e-2));
        for (int j = 0; j < D; ++j) {
            double dw = 0.0;
            for (int i = 0; i < N; ++i)
                dw += (double)x[i * D + j] * dlogits[i * C + c];
            const double want = w0[j * C + c] - 0.5 * dw;
            worst = fmax(worst, fabs(w1[j * C + c] - want) / (fabs(want) + 1e-2));
        }
    }
    cr_expect(worst <= 1e-5, "weights after the step: relative error %g", worst);
    free(x);
    free(w0);
    free(b0);
    free(w1);
    free(b1);
    clnet_tensor_destroy(t);
    clnet_optimizer_destroy(o);
    clnet_model_destroy(m);
}

/* Weights of 1 change nothing (bit for bit); a negative, NaN or infinite weight is refused
 * naming the class, before anything moves. */
Test(class_weight, unit_weights_are_the_plain_step_and_bad_ones_are_refused)
{
    clnet_context *ctx = clnet_test_device();
    clnet_model *a = dense_model(ctx), *b = dense_model(ctx);
    clnet_optimizer *oa = NULL, *ob = NULL;
    cr_assert_eq(clnet_optimizer_create(a, NULL, &oa), CLNET_OK);
    cr_assert_eq(clnet_optimizer_create(b, NULL, &ob), CLNET_OK);
    const int labels[N] = {1, 0, 2, 4, 1, 3, 0};
    const float ones[C] = {1, 1, 1, 1, 1};
    float *x = clnet_test_random(N * D, 22);
    clnet_tensor *t = clnet_test_tensor(ctx, (clnet_shape){N, 1, 1, D}, x);
    double la = 0.0, lb = 0.0;
    cr_assert_eq(clnet_train_step(oa, t, labels, 0.3f, 0.1f, &la, NULL), CLNET_OK);
    cr_assert_eq(clnet_train_step_weighted(ob, t, labels, ones, 0.3f, 0.1f, &lb, NULL), CLNET_OK);
    cr_expect_eq(la, lb);
    for (int i = 0; i < a->n_weights; ++i)
        cr_expect(clnet_test_tensors_equal(a->w[i], b->w[i]), "weight %d differs", i);

    const float bad[3] = {-1.0f, NAN, INFINITY};
    float *before = clnet_test_host(b->w[0]);
    for (int i = 0; i < 3; ++i) {
        float cw[C] = {1, 1, 1, 1, 1};
        cw[3] = bad[i];
        double l = 0.0;
        cr_expect_eq(clnet_train_step_weighted(ob, t, labels, cw, 0.3f, 0.0f, &l, NULL),
                     CLNET_ERR_INVALID_ARG, "weight %g", bad[i]);
        cr_expect(strstr(clnet_context_error(ctx), "class_weight[3]"), "%s",
                  clnet_context_error(ctx));
    }
    float *after = clnet_test_host(b->w[0]);
    cr_expect_eq(clnet_test_max_abs_diff(before, after, b->w[0]->count), 0.0f);
    free(before);
    free(after);
    free(x);
    clnet_tensor_destroy(t);
    clnet_optimizer_destroy(oa);
    clnet_optimizer_destroy(ob);
    clnet_model_destroy(a);
    clnet_model_destroy(b);
}

/* flatten + dense 2 over 8x8x1 images. */
static clnet_model *linear_model(void)
{
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_create(&g), CLNET_OK);
    clnet_layer x = clnet_graph_input(g, NULL, 8, 8, 1);
    x = clnet_graph_layer(g, "flatten", NULL, "", &x, 1);
    clnet_graph_layer(g, "dense", NULL, "units = 2", &x, 1);
    clnet_model *m = clnet_test_model(clnet_test_device(), g, 1, 1, 7);
    clnet_graph_destroy(g);
    return m;
}

/* Overwrites the caller's class weights (user) after the first batch. */
static int scribble(void *user, const clnet_progress *p)
{
    float *cw = user;
    if (p->batch == 1 && !p->end_of_epoch)
        cw[0] = cw[1] = 0.0f;
    return 0;
}

/* A model trained on train for 4 epochs of batches of 8 (SGD, lr 0.2) with class weights
 * cw (NULL: none); the progress callback may be scribble. */
static clnet_model *trained(const clnet_dataset *train, const float *cw, clnet_progress_fn fn,
                            void *user)
{
    clnet_model *m = linear_model();
    clnet_fit_options o;
    memset(&o, 0, sizeof o);
    o.epochs = 4;
    o.batch = 8;
    o.schedule.lr = 0.2f;
    o.seed = 3;
    o.class_weight = cw;
    o.progress = fn;
    o.user = user;
    cr_assert_eq(clnet_fit(m, train, NULL, &o), CLNET_OK, "%s", clnet_context_error(m->ctx));
    return m;
}

/* Recall of class k (of 2) on test. */
static double recall(clnet_model *m, const clnet_dataset *test, int k)
{
    clnet_eval_result r;
    cr_assert_eq(clnet_evaluate(m, test, 16, &r), CLNET_OK, "%s", clnet_context_error(m->ctx));
    const int64_t hits = r.confusion[k * 2 + k], all = hits + r.confusion[k * 2 + 1 - k];
    clnet_eval_result_free(&r);
    return (double)hits / (double)all;
}

/* 64 "major" images against 6 "minor" ones, separable by the square's half of the image;
 * a linear model trained without weights calls every test image major (minority recall 0
 * on this device and seed), with the balanced weights (64 + 6) / (2 * 64) and
 * (64 + 6) / (2 * 6) it finds nearly all the minority (0.975) and keeps the majority. */
Test(class_weight, balanced_weights_raise_the_minority_recall, .timeout = 600)
{
    static const char *const names[2] = {"major", "minor"};
    const int count[2] = {64, 6}, test_count[2] = {40, 40};
    char train_dir[128], test_dir[128];
    snprintf(train_dir, sizeof train_dir, "%s", clnet_test_path("train"));
    snprintf(test_dir, sizeof test_dir, "%s", clnet_test_path("test"));
    make_folder(train_dir, 2, names, count, 100, 100, 5);
    make_folder(test_dir, 2, names, test_count, 100, 100, 6);
    clnet_dataset *train = open_folder(train_dir), *test = open_folder(test_dir);
    float cw[2];
    cr_assert_eq(clnet_dataset_class_weights(train, cw), CLNET_OK);
    cr_expect_eq(cw[1], (float)(70.0 / 12.0));

    clnet_model *plain = trained(train, NULL, NULL, NULL),
                *weighted = trained(train, cw, NULL, NULL);
    const double r_plain = recall(plain, test, 1), r_weighted = recall(weighted, test, 1);
    cr_expect_leq(r_plain, 0.3, "minority recall without weights %.3f", r_plain);
    cr_expect_geq(r_weighted, 0.8, "minority recall with balanced weights %.3f", r_weighted);
    cr_expect_geq(recall(weighted, test, 0), 0.8, "majority recall with weights");

    /* clnet_fit copies the weights: changing the caller's array mid-run changes nothing. */
    float scribbled[2] = {cw[0], cw[1]};
    clnet_model *copied = trained(train, scribbled, scribble, scribbled);
    cr_expect_eq(scribbled[1], 0.0f);
    for (int i = 0; i < weighted->n_weights; ++i)
        cr_expect(clnet_test_tensors_equal(weighted->w[i], copied->w[i]), "weight %d differs", i);

    /* Bad weights stop the run before it starts, naming the class. */
    const float bad[2] = {1.0f, -2.0f};
    clnet_model *m = linear_model();
    clnet_fit_options o;
    memset(&o, 0, sizeof o);
    o.class_weight = bad;
    float *before = clnet_test_host(m->w[0]);
    cr_expect_eq(clnet_fit(m, train, NULL, &o), CLNET_ERR_INVALID_ARG);
    cr_expect(strstr(clnet_context_error(m->ctx), "class_weight[1]"), "%s",
              clnet_context_error(m->ctx));
    float *after = clnet_test_host(m->w[0]);
    cr_expect_eq(clnet_test_max_abs_diff(before, after, m->w[0]->count), 0.0f);
    free(before);
    free(after);
    clnet_model_destroy(m);
    clnet_model_destroy(plain);
    clnet_model_destroy(weighted);
    clnet_model_destroy(copied);
    clnet_dataset_destroy(train);
    clnet_dataset_destroy(test);
}
