/* test_bn_update.c - batch-norm statistics that match the weights (clnet_model_update_bn,
 * src/train/passes.c): after a short clnet_fit run the saved model scores its own training
 * data as training reported (issue 10: ResNet-50 ended at training accuracy 1.0 and
 * evaluated at 0.28), and without the recomputation (keep_bn_statistics) the Keras
 * style, whose moving averages (momentum 0.99) lag far behind the weights, is far worse. */
#include <criterion/criterion.h>
#include <stb/stb_image_write.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plan/plan.h"
#include "support/models.h"
#include "tensor/rng.h"

#define SIDE 32
#define CLASSES 4
#define PER_CLASS 24

/* DIR/c<k>/<i>.png: SIDE x SIDE RGB images, one pattern per class (horizontal stripes,
 * vertical stripes, a checkerboard, diagonal stripes) in the class's colour, at a random
 * phase, with noise. */
static void make_folder(char *dir, size_t len)
{
    static const unsigned char colour[CLASSES][3] = {
        {220, 60, 50}, {60, 200, 70}, {50, 80, 220}, {210, 200, 60}};
    snprintf(dir, len, "/tmp/clnet-bn-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    clnet__rng r;
    clnet__rng_seed(&r, 10);
    for (int k = 0; k < CLASSES; ++k) {
        char path[256];
        snprintf(path, sizeof path, "%s/c%d", dir, k);
        cr_assert_eq(mkdir(path, 0700), 0);
        for (int i = 0; i < PER_CLASS; ++i) {
            unsigned char px[SIDE * SIDE * 3];
            const int phase = (int)(clnet__rng_next(&r) % 8);
            for (int y = 0; y < SIDE; ++y)
                for (int x = 0; x < SIDE; ++x) {
                    const int u = (k == 0   ? y
                                   : k == 1 ? x
                                   : k == 2 ? x / 4 + y / 4
                                            : x + y) +
                                  phase;
                    const int on = k == 2 ? u % 2 == 0 : u % 8 < 4;
                    for (int c = 0; c < 3; ++c) {
                        const int noise = (int)(clnet__rng_next(&r) % 81) - 40;
                        const int v = (on ? colour[k][c] : 30) + noise;
                        px[(y * SIDE + x) * 3 + c] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
                    }
                }
            snprintf(path, sizeof path, "%s/c%d/%02d.png", dir, k, i);
            cr_assert(stbi_write_png(path, SIDE, SIDE, 3, px, SIDE * 3));
        }
    }
}

static void remove_folder(const char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

static clnet_dataset *data;
static char dir[64];

static void open_data(void)
{
    make_folder(dir, sizeof dir);
    char err[512] = "";
    cr_assert_eq(clnet_dataset_open(dir, "train", NULL, &data, err, sizeof err), CLNET_OK, "%s",
                 err);
    cr_assert_eq(clnet_dataset_size(data), CLASSES * PER_CLASS);
}

static void close_data(void)
{
    clnet_dataset_destroy(data);
    remove_folder(dir);
}

TestSuite(bn_update, .init = open_data, .fini = close_data, .timeout = 600);

static int last_epoch(void *user, const clnet_progress *p)
{
    if (p->end_of_epoch)
        *(double *)user = p->accuracy;
    return 0;
}

/* A zoo model trained by clnet_fit (Adam, batch 16, seeded) on the folder; *accuracy gets
 * the training accuracy of its last epoch. */
static clnet_model *trained(const char *name, const char *style, int epochs, int keep,
                            double *accuracy)
{
    const clnet_zoo_options zo = {SIDE, SIDE, 3, CLASSES, style, 0.0, 0};
    clnet_graph *g = NULL;
    char err[512] = "";
    cr_assert_eq(clnet_zoo_build(name, &zo, &g, err, sizeof err), CLNET_OK, "%s", err);
    clnet_context *ctx = clnet_test_device();
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 3);
    clnet_graph_destroy(g);
    float mean[3], std[3];
    cr_assert_eq(clnet_dataset_stats(data, mean, std), CLNET_OK);
    cr_assert_eq(clnet_model_set_normalization(m, mean, std, 3), CLNET_OK);
    clnet_fit_options o;
    memset(&o, 0, sizeof o);
    o.epochs = epochs;
    o.batch = 16;
    o.optimizer.kind = CLNET_OPT_ADAM;
    o.schedule.lr = 2e-3f;
    o.seed = 7;
    o.keep_bn_statistics = keep;
    o.progress = last_epoch;
    o.user = accuracy;
    cr_assert_eq(clnet_fit(m, data, NULL, &o), CLNET_OK, "%s %s: %s", name, style,
                 clnet_context_error(ctx));
    return m;
}

static double top1(clnet_model *m)
{
    clnet_eval_result r;
    cr_assert_eq(clnet_evaluate(m, data, 32, &r), CLNET_OK, "%s", clnet_context_error(m->ctx));
    const double t = r.top1;
    clnet_eval_result_free(&r);
    return t;
}

/* The model evaluates on its training data within 0.1 of the last epoch's accuracy, which
 * shows it learnt (well above chance, 0.25). */
static void expect_matches(const char *what, double evaluated, double training)
{
    cr_log_info("%s: evaluated top-1 %g, training reported %g", what, evaluated, training);
    cr_expect_gt(training, 0.6, "%s: training accuracy %g: the data was not learnt", what,
                 training);
    cr_expect(evaluated >= training - 0.1 && evaluated <= training + 0.1,
              "%s: evaluated top-1 %g, training reported %g", what, evaluated, training);
}

Test(bn_update, fit_leaves_resnet50_torch_statistics_that_match)
{
    double acc = 0.0;
    clnet_model *m = trained("resnet50", "torch", 5, 0, &acc);
    expect_matches("resnet50 torch", top1(m), acc);
    clnet_model_destroy(m);
}

Test(bn_update, fit_leaves_mobilenetv2_statistics_that_match)
{
    double acc = 0.0;
    clnet_model *m = trained("mobilenetv2", "torch", 10, 0, &acc);
    expect_matches("mobilenetv2", top1(m), acc);
    clnet_model_destroy(m);
}

/* Keras's momentum 0.99: after 32 steps the moving averages still hold 0.99^32 = 72% of
 * their initial values, and the model predicts nearly one class. Recomputing them for the
 * same weights brings it back to what training reported, as clnet_fit does by default. */
Test(bn_update, keras_statistics_lag_unless_recomputed)
{
    double kept = 0.0, fresh = 0.0;
    clnet_model *lagging = trained("resnet50", "keras", 5, 1, &kept);
    const double before = top1(lagging);
    cr_log_info("resnet50 keras, kept: evaluated top-1 %g, training reported %g", before, kept);
    cr_expect_lt(before, kept - 0.3, "kept moving averages: top-1 %g, training reported %g", before,
                 kept);
    cr_assert_eq(clnet_model_update_bn(lagging, data, 16), CLNET_OK, "%s",
                 clnet_context_error(lagging->ctx));
    expect_matches("resnet50 keras, recomputed", top1(lagging), kept);
    clnet_model *m = trained("resnet50", "keras", 5, 0, &fresh);
    cr_expect_float_eq(fresh, kept, 1e-12, "the statistics do not change the training");
    expect_matches("resnet50 keras, fit", top1(m), fresh);
    clnet_model_destroy(m);
    clnet_model_destroy(lagging);
}

static int same(clnet_tensor *t, const float *host)
{
    float *now = clnet_test_host(t);
    const int eq = memcmp(now, host, clnet_tensor_count(t) * sizeof(float)) == 0;
    free(now);
    return eq;
}

/* conv -> batch norm -> relu -> conv -> batch norm -> pool -> dropout -> dense on the folder's
 * images, or the same without batch norms. */
static clnet_model *small(int with_bn)
{
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_create(&g), CLNET_OK);
    clnet_layer x = clnet_graph_input(g, NULL, SIDE, SIDE, 3);
    x = clnet_graph_layer(g, "conv2d", NULL, "filters = 4\nkernel_size = 3\nstrides = 2", &x, 1);
    if (with_bn)
        x = clnet_graph_layer(g, "batch_norm", NULL, "", &x, 1);
    x = clnet_graph_layer(g, "relu", NULL, "", &x, 1);
    x = clnet_graph_layer(g, "conv2d", NULL, "filters = 6\nkernel_size = 3\nstrides = 2", &x, 1);
    if (with_bn)
        x = clnet_graph_layer(g, "batch_norm", NULL, "unbiased_variance = true", &x, 1);
    x = clnet_graph_layer(g, "global_avg_pool", NULL, "", &x, 1);
    x = clnet_graph_layer(g, "dropout", NULL, "rate = 0.5", &x, 1);
    clnet_graph_layer(g, "dense", NULL, "units = 4", &x, 1);
    cr_assert_eq(clnet_graph_status(g), CLNET_OK, "%s", clnet_graph_error(g));
    clnet_model *m = clnet_test_model(clnet_test_device(), g, 1, 1, 5);
    clnet_graph_destroy(g);
    clnet_test_randomize_weights(m, 2);
    return m;
}

/* clnet_model_update_bn changes the moving statistics of the batch norms that train and
 * nothing else: not the weights, the gradients, frozen batch norms or the dropout stream;
 * a model without batch norms stays as it is. Each image counts once, so the batch size
 * moves the means only by rounding. */
Test(bn_update, only_training_mode_statistics_change)
{
    clnet_model *m = small(1), *plain = small(0);
    float *w[16], *dw[16], *pw[16];
    cr_assert_leq(m->n_weights, 16);
    for (int i = 0; i < m->n_weights; ++i) {
        if (m->dw[i])
            cr_assert_eq(clnet_tensor_fill(m->dw[i], 3.0f), CLNET_OK);
        w[i] = clnet_test_host(m->w[i]);
        dw[i] = m->dw[i] ? clnet_test_host(m->dw[i]) : NULL;
    }
    for (int i = 0; i < plain->n_weights; ++i)
        pw[i] = clnet_test_host(plain->w[i]);
    /* Weights: conv 0-1, batch_norm 2-5 (gamma, beta, mean, variance), conv 6-7,
     * batch_norm_1 8-11, dense 12-13. Freeze the first batch norm by hand. */
    for (int i = 0; i < m->n_weights; ++i)
        m->frozen[i] = i >= 2 && i < 6;
    ++m->freeze_version;
    cr_assert_eq(clnet_model_update_bn(m, data, 10), CLNET_OK, "%s", clnet_context_error(m->ctx));
    cr_assert_eq(clnet_model_update_bn(plain, data, 10), CLNET_OK);
    cr_expect_eq(m->steps_run, 0);
    for (int i = 0; i < m->n_weights; ++i) {
        const int moved = !same(m->w[i], w[i]);
        cr_expect_eq(moved, i == 10 || i == 11, "%s/%s moved %d", m->info[i].layer, m->info[i].name,
                     moved);
        if (dw[i])
            cr_expect(same(m->dw[i], dw[i]), "%s/%s gradient written", m->info[i].layer,
                      m->info[i].name);
    }
    for (int i = 0; i < plain->n_weights; ++i)
        cr_expect(same(plain->w[i], pw[i]), "%s/%s", plain->info[i].layer, plain->info[i].name);
    /* Another batch size, the same means (to rounding). */
    float mean10[6], mean7[6];
    clnet_test_read(m->w[10], mean10);
    cr_assert_eq(clnet_model_update_bn(m, data, 7), CLNET_OK);
    clnet_test_read(m->w[10], mean7);
    cr_expect_lt(clnet_test_rel_diff(mean7, mean10, 6), 1e-5);
    /* Images of another size are refused, naming both. */
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_create(&g), CLNET_OK);
    clnet_layer x = clnet_graph_input(g, NULL, 8, 8, 3);
    clnet_graph_layer(g, "batch_norm", NULL, "", &x, 1);
    clnet_model *other = clnet_test_model(clnet_test_device(), g, 1, 1, 1);
    cr_expect_eq(clnet_model_update_bn(other, data, 4), CLNET_ERR_SHAPE);
    cr_expect(strstr(clnet_context_error(other->ctx), "32x32x3"), "%s",
              clnet_context_error(other->ctx));
    clnet_model_destroy(other);
    clnet_graph_destroy(g);
    for (int i = 0; i < m->n_weights; ++i) {
        free(w[i]);
        free(dw[i]);
    }
    for (int i = 0; i < plain->n_weights; ++i)
        free(pw[i]);
    clnet_model_destroy(plain);
    clnet_model_destroy(m);
}

/* Every zoo model recomputes its statistics (a few images, small inputs: whether it
 * runs, not what it learns); every batch norm's moving mean leaves its initial zeros. */
Test(bn_update, every_zoo_model)
{
    clnet_dataset *few = NULL, *rest = NULL;
    cr_assert_eq(clnet_dataset_split(data, 0.05, 1, &rest, &few), CLNET_OK);
    for (const char *const *name = clnet_zoo_names(); *name; ++name) {
        if (clnet_test_sanitize_skips(*name))
            continue;
        const clnet_zoo_options zo = {SIDE, SIDE, 3, CLASSES, NULL, 0.0, 0};
        clnet_graph *g = NULL;
        char err[512] = "";
        cr_assert_eq(clnet_zoo_build(*name, &zo, &g, err, sizeof err), CLNET_OK, "%s", err);
        clnet_model *m = clnet_test_model(clnet_test_device(), g, 1, 1, 1);
        clnet_graph_destroy(g);
        cr_assert_eq(clnet_model_update_bn(m, few, 3), CLNET_OK, "%s: %s", *name,
                     clnet_context_error(m->ctx));
        for (int i = 0; i < m->n_weights; ++i)
            if (strcmp(m->info[i].name, "moving_mean") == 0) {
                float *mean = clnet_test_host(m->w[i]);
                int zeros = 0;
                for (size_t k = 0; k < m->w[i]->count; ++k)
                    zeros += mean[k] == 0.0f;
                cr_expect_lt(zeros, (int)m->w[i]->count, "%s: %s/moving_mean unchanged", *name,
                             m->info[i].layer);
                free(mean);
            }
        clnet_model_destroy(m);
    }
    clnet_dataset_destroy(few);
    clnet_dataset_destroy(rest);
}
