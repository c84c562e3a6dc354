/* test_fit.c - clnet_fit and clnet_evaluate (src/train/fit.c) on an image folder made
 * here: a small ResNet learns it far above chance, a run resumed from its checkpoint
 * ends with exactly the weights of the uninterrupted run, and a diverging run stops
 * naming the epoch and step while the last checkpoint stays loadable. */
#include <criterion/criterion.h>
#include <math.h>
#include <stb/stb_image_write.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plan/plan.h"
#include "support/models.h"
#include "support/rewrite.h"
#include "tensor/rng.h"

/* DIR/{left,middle,right}/<i>.png: 12x12 gray images with a bright square in the
 * class's third, at a random row, on noise. */
static void make_folder(char *dir)
{
    static const char *const classes[3] = {"left", "middle", "right"};
    strcpy(dir, "/tmp/clnet-fit-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    clnet__rng r;
    clnet__rng_seed(&r, 3);
    for (int k = 0; k < 3; ++k) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, classes[k]);
        cr_assert_eq(mkdir(path, 0700), 0);
        for (int i = 0; i < 40; ++i) {
            unsigned char px[144];
            const int row = (int)(clnet__rng_next(&r) % 9);
            for (int p = 0; p < 144; ++p)
                px[p] = (unsigned char)(clnet__rng_next(&r) % 70);
            for (int dy = 0; dy < 4; ++dy)
                for (int dx = 0; dx < 4; ++dx)
                    px[(row + dy) * 12 + 4 * k + dx] = 230;
            snprintf(path, sizeof path, "%s/%s/%02d.png", dir, classes[k], i);
            cr_assert(stbi_write_png(path, 12, 12, 1, px, 12));
        }
    }
}

static void remove_folder(const char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

typedef struct seen {
    int batches, epochs;
    double busy, val_accuracy;
    int stop_after; /* epochs, or 0 */
} seen;

static int progress(void *user, const clnet_progress *p)
{
    seen *s = user;
    s->busy = p->device_busy;
    if (p->end_of_epoch) {
        ++s->epochs;
        s->val_accuracy = p->val_accuracy;
    } else {
        ++s->batches;
    }
    return s->stop_after && s->epochs == s->stop_after;
}

typedef struct fixture {
    char dir[64];
    clnet_dataset *all, *train, *val;
} fixture;

static void open_data(fixture *f)
{
    make_folder(f->dir);
    char err[512] = "";
    cr_assert_eq(clnet_dataset_open(f->dir, "train", NULL, &f->all, err, sizeof err), CLNET_OK,
                 "%s", err);
    cr_assert_eq(clnet_dataset_split(f->all, 0.25, 9, &f->train, &f->val), CLNET_OK);
}

static void close_data(fixture *f)
{
    clnet_dataset_destroy(f->train);
    clnet_dataset_destroy(f->val);
    clnet_dataset_destroy(f->all);
    remove_folder(f->dir);
}

static clnet_model *model(void)
{
    clnet_graph *g = clnet_test_small_resnet(12, 12, 1, 3);
    clnet_model *m = clnet_test_model(clnet_test_device(), g, 1, 1, 21);
    clnet_graph_destroy(g);
    return m;
}

static clnet_fit_options options(int epochs, const char *checkpoint, int resume)
{
    clnet_fit_options o;
    memset(&o, 0, sizeof o);
    o.epochs = epochs;
    o.batch = 16;
    o.optimizer = (clnet_optimizer_options){CLNET_OPT_SGD, 0.9f, 1, 1e-4f, 0, 0, 0, 0};
    o.schedule = (clnet_schedule){CLNET_LR_COSINE, 0.02f, 0.001f, 0.0f, 0, 2};
    o.seed = 5;
    o.checkpoint = checkpoint;
    o.resume = resume;
    return o;
}

Test(fit, learns_an_image_folder_and_evaluates, .timeout = 600)
{
    fixture f;
    open_data(&f);
    clnet_model *m = model();
    seen s = {0, 0, 0.0, 0.0, 0};
    clnet_fit_options o = options(10, NULL, 0);
    o.progress = progress;
    o.user = &s;
    cr_assert_eq(clnet_fit(m, f.train, f.val, &o), CLNET_OK, "%s", clnet_context_error(m->ctx));
    cr_expect_eq(s.epochs, 10);
    cr_expect_eq(s.batches, 10 * 6); /* 90 training images in batches of 16 */
    cr_expect(s.busy >= 0.0 && s.busy <= 1.0, "device busy %g", s.busy);
    cr_expect_gt(s.val_accuracy, 0.9, "validation accuracy %g (chance 0.33)", s.val_accuracy);
    clnet_eval_result r;
    cr_assert_eq(clnet_evaluate(m, f.val, 7, &r), CLNET_OK, "%s", clnet_context_error(m->ctx));
    cr_expect_eq(r.images, 30);
    cr_expect_float_eq(r.top1, s.val_accuracy, 1e-12);
    cr_expect_float_eq(r.top5, 1.0, 1e-12);
    int64_t total = 0, diagonal = 0;
    for (int i = 0; i < 9; ++i) {
        total += r.confusion[i];
        diagonal += i % 4 == 0 ? r.confusion[i] : 0;
    }
    cr_expect_eq(total, 30);
    cr_expect_float_eq((double)diagonal / 30.0, r.top1, 1e-12);
    clnet_eval_result_free(&r);
    clnet_model_destroy(m);
    close_data(&f);
}

/* Every weight (BN moving statistics included) of two models, equal to the bit. */
static void expect_same_weights(clnet_model *a, clnet_model *b)
{
    for (int i = 0; i < a->n_weights; ++i)
        cr_expect(clnet_test_tensors_equal(a->w[i], b->w[i]), "%s/%s differs", a->info[i].layer,
                  a->info[i].name);
}

Test(fit, resumed_run_equals_the_uninterrupted_one, .timeout = 600)
{
    fixture f;
    open_data(&f);
    char ckpt[96];
    snprintf(ckpt, sizeof ckpt, "%s/run.ckpt", f.dir);
    clnet_model *whole = model(), *parts = model();
    clnet_fit_options o = options(3, NULL, 0);
    cr_assert_eq(clnet_fit(whole, f.train, f.val, &o), CLNET_OK);
    /* Stopped after 2 epochs with a checkpoint; a new process's model resumes for the
     * third. */
    seen s = {0, 0, 0.0, 0.0, 2};
    o = options(3, ckpt, 0);
    o.progress = progress;
    o.user = &s;
    cr_assert_eq(clnet_fit(parts, f.train, f.val, &o), CLNET_OK, "%s",
                 clnet_context_error(parts->ctx));
    cr_expect_eq(s.epochs, 2);
    clnet_model_destroy(parts);
    parts = model();
    o = options(3, ckpt, 1);
    cr_assert_eq(clnet_fit(parts, f.train, f.val, &o), CLNET_OK, "%s",
                 clnet_context_error(parts->ctx));
    expect_same_weights(whole, parts);
    /* A checkpoint of another architecture is refused, naming the file. */
    clnet_graph *g = clnet_test_small_mobilenet(12, 12, 1, 3);
    clnet_model *other = clnet_test_model(clnet_test_device(), g, 1, 1, 1);
    cr_expect_eq(clnet_fit(other, f.train, NULL, &o), CLNET_ERR_MISMATCH);
    cr_expect(strstr(clnet_context_error(other->ctx), "run.ckpt"), "%s",
              clnet_context_error(other->ctx));
    clnet_model_destroy(other);
    clnet_graph_destroy(g);
    clnet_model_destroy(whole);
    clnet_model_destroy(parts);
    close_data(&f);
}

Test(fit, divergence_names_epoch_and_step_and_keeps_the_checkpoint, .timeout = 600)
{
    fixture f;
    open_data(&f);
    char ckpt[96];
    snprintf(ckpt, sizeof ckpt, "%s/run.ckpt", f.dir);
    clnet_model *m = model();
    clnet_fit_options o = options(1, ckpt, 0);
    cr_assert_eq(clnet_fit(m, f.train, NULL, &o), CLNET_OK);
    /* Epoch 2 with a NaN classifier: the loss is NaN at its first step. */
    cr_assert_eq(clnet_tensor_fill(m->w[m->n_weights - 2], NAN), CLNET_OK);
    o = options(2, ckpt, 0);
    o.resume = 0;
    struct stat before, after;
    cr_assert_eq(stat(ckpt, &before), 0);
    const clnet_status st = clnet_fit(m, f.train, NULL, &o);
    cr_expect_eq(st, CLNET_ERR_DIVERGED);
    cr_expect(strstr(clnet_context_error(m->ctx), "epoch 1, step 1"), "%s",
              clnet_context_error(m->ctx));
    cr_assert_eq(stat(ckpt, &after), 0);
    cr_expect_eq(before.st_mtime, after.st_mtime); /* the good checkpoint was not replaced */
    clnet_model *fresh = model();
    o = options(2, ckpt, 1);
    o.epochs = 1; /* the checkpoint has 1 epoch done: nothing left to run, weights load */
    cr_expect_eq(clnet_fit(fresh, f.train, NULL, &o), CLNET_OK, "%s",
                 clnet_context_error(fresh->ctx));
    clnet_model_destroy(fresh);
    clnet_model_destroy(m);
    close_data(&f);
}

/* Every number of a checkpoint's metadata is parsed strictly and range-checked: before,
 * optimizer_steps = 9223372036854775807 overflowed in the optimizer, epochs = -3 failed
 * with an empty message and optimizer_steps = -1 gave a NaN loss. A bad value is an
 * error naming the file, the key and the value, and the run does not start. */
Test(fit, bad_checkpoint_numbers_are_refused_naming_key_and_value, .timeout = 600)
{
    fixture f;
    open_data(&f);
    char good[96], bad[96];
    snprintf(good, sizeof good, "%s/good.ckpt", f.dir);
    snprintf(bad, sizeof bad, "%s/bad.ckpt", f.dir);
    clnet_model *m = model();
    clnet_fit_options o = options(1, good, 0);
    cr_assert_eq(clnet_fit(m, f.train, NULL, &o), CLNET_OK, "%s", clnet_context_error(m->ctx));
    clnet_model_destroy(m);
    static const struct {
        const char *key, *value;
    } cases[] = {
        {"optimizer_steps", "9223372036854775807"},
        {"optimizer_steps", "-1"},
        {"optimizer_steps", "9007199254740993"},
        {"epochs", "-3"},
        {"epochs", "1000001"},
        {"epochs", "1x"},
        {"epochs", " 1"},
        {"epochs", "+1"},
        {"epochs", ""},
        {"epochs", "1e3"},
        {"training_steps", "18446744073709551616"},
        {"training_steps", "-"},
        {"optimizer", "7"},
        {"optimizer", "sgd"},
    };
    for (size_t i = 0; i < CLNET_COUNTOF(cases); ++i) {
        const clnet_test_edit e = {.meta_key = cases[i].key, .meta_value = cases[i].value};
        clnet_test_rewrite_file(good, bad, &e);
        m = model();
        o = options(2, bad, 1);
        cr_expect_eq(clnet_fit(m, f.train, NULL, &o), CLNET_ERR_PARSE, "%s = '%s'", cases[i].key,
                     cases[i].value);
        char want[160];
        snprintf(want, sizeof want, "__metadata__ \"%s\" is \"%s\": not an integer in ",
                 cases[i].key, cases[i].value);
        const char *msg = clnet_context_error(m->ctx);
        cr_expect(strstr(msg, bad) && strstr(msg, want), "'%s' and '%s' not in: %s", bad, want,
                  msg);
        clnet_model_destroy(m);
    }
    /* The good one resumes: nothing is left of its 1 epoch. */
    m = model();
    o = options(1, good, 1);
    cr_expect_eq(clnet_fit(m, f.train, NULL, &o), CLNET_OK, "%s", clnet_context_error(m->ctx));
    clnet_model_destroy(m);
    close_data(&f);
}
