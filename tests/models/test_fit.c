/* test_fit.c - clnet_fit and clnet_evaluate (src/train/fit.c, passes.c) on an image folder made
 * here: a small ResNet learns it far above chance, a run resumed from its checkpoint
 * ends with exactly the weights of the uninterrupted run (one-cycle's lr and momentum), and a
 * diverging run stops naming the epoch and step while the last checkpoint stays loadable, and a run
 * ends with batch-norm statistics recomputed for its weights. */
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
    float lr[64];   /* of the first 64 batches */
} seen;

static int progress(void *user, const clnet_progress *p)
{
    seen *s = user;
    s->busy = p->device_busy;
    if (p->end_of_epoch) {
        ++s->epochs;
        s->val_accuracy = p->val_accuracy;
    } else {
        if (s->batches < 64)
            s->lr[s->batches] = p->lr;
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
    o.optimizer = (clnet_optimizer_options){CLNET_OPT_SGD, 0.9f, 1, 1e-4f, 0, 0, 0, 0, 0, 0};
    o.schedule =
        (clnet_schedule){.kind = CLNET_LR_COSINE, .lr = 0.02f, .min_lr = 0.001f, .warmup_steps = 2};
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
    seen s = {0};
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
    /* One-cycle: its momentum changes every step, so the resumed run must set it from the
     * step count as the whole run did. */
    const clnet_schedule onecycle = {.kind = CLNET_LR_ONECYCLE, .lr = 0.05f, .min_lr = 2e-7f};
    seen w = {0};
    clnet_fit_options o = options(3, NULL, 0);
    o.schedule = onecycle;
    o.progress = progress;
    o.user = &w;
    cr_assert_eq(clnet_fit(whole, f.train, f.val, &o), CLNET_OK);
    cr_assert_eq(w.batches, 18);
    /* Up from lr / 25 to lr at step 0.3 x 18 - 1 = 4.4 (step 5 the highest), then down to
     * min_lr. */
    cr_expect_float_eq(w.lr[0], 0.002f, 1e-6f);
    for (int i = 1; i < 18; ++i)
        cr_expect(i <= 5 ? w.lr[i] > w.lr[i - 1] : w.lr[i] < w.lr[i - 1], "step %d: %g after %g", i,
                  w.lr[i], w.lr[i - 1]);
    cr_expect_float_eq(w.lr[17], 2e-7f, 1e-9f);
    /* Stopped after 2 epochs with a checkpoint; a new process's model resumes for the
     * third. */
    seen s = {.stop_after = 2};
    o = options(3, ckpt, 0);
    o.schedule = onecycle;
    o.progress = progress;
    o.user = &s;
    cr_assert_eq(clnet_fit(parts, f.train, f.val, &o), CLNET_OK, "%s",
                 clnet_context_error(parts->ctx));
    cr_expect_eq(s.epochs, 2);
    clnet_model_destroy(parts);
    parts = model();
    o = options(3, ckpt, 1);
    o.schedule = onecycle;
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

/* Scales the classifier's kernel by 1e4 after the third step of the run. */
typedef struct blow_up {
    clnet_model *m;
    int batches;
} blow_up;

static int scale_head(void *user, const clnet_progress *p)
{
    blow_up *b = user;
    if (p->end_of_epoch || ++b->batches != 3)
        return 0;
    clnet_tensor *w = b->m->w[b->m->n_weights - 2];
    float *k = clnet_test_host(w);
    for (size_t i = 0; i < w->count; ++i)
        k[i] *= 1e4f;
    cr_assert_eq(clnet_tensor_write(w, k, w->count), CLNET_OK);
    free(k);
    return 0;
}

/* A loss that grows huge but stays finite (the classifier scaled by 1e4 mid-run, a
 * learning rate too small to repair it) stops within a window of steps with the advice
 * to lower the learning rate, long before it would become NaN. */
Test(fit, exploding_loss_stops_with_advice, .timeout = 600)
{
    fixture f;
    open_data(&f);
    clnet_model *m = model();
    clnet_fit_options o = options(3, NULL, 0);
    o.schedule = (clnet_schedule){.kind = CLNET_LR_CONSTANT, .lr = 1e-30f};
    blow_up b = {m, 0};
    o.progress = scale_head;
    o.user = &b;
    cr_expect_eq(clnet_fit(m, f.train, NULL, &o), CLNET_ERR_DIVERGED);
    const char *msg = clnet_context_error(m->ctx);
    cr_expect(strstr(msg, "epoch 1, step ") && strstr(msg, "the loss exploded") &&
                  strstr(msg, "learning rate"),
              "%s", msg);
    cr_expect_leq(b.batches, 5, "stopped within the first window (%d batches)", b.batches);
    clnet_model_destroy(m);
    close_data(&f);
}

typedef struct history {
    int reports, restored;
    double loss[8], val_loss[8];
    int best_epoch, early_stop, last_epoch;
} history;

static int record(void *user, const clnet_progress *p)
{
    history *h = user;
    if (!p->end_of_epoch)
        return 0;
    cr_assert(p->epoch >= 0 && p->epoch < 8);
    h->reports++;
    h->restored += p->restored;
    h->loss[p->epoch] = p->loss;
    h->val_loss[p->epoch] = p->val_loss;
    h->best_epoch = p->best_epoch;
    h->early_stop = p->early_stop;
    h->last_epoch = p->epoch;
    return 0;
}

/* A resumed run reports the epochs before the resume again from the checkpoint, with
 * the figures they had, and the checkpoint carries the caller's note. */
Test(fit, resume_replays_the_history_and_keeps_the_note, .timeout = 600)
{
    fixture f;
    open_data(&f);
    char ckpt[96];
    snprintf(ckpt, sizeof ckpt, "%s/run.ckpt", f.dir);
    clnet_model *m = model();
    history first = {0}, second = {0};
    clnet_fit_options o = options(2, ckpt, 0);
    o.note = "{\"data\": \"photos\"}";
    o.progress = record;
    o.user = &first;
    cr_assert_eq(clnet_fit(m, f.train, f.val, &o), CLNET_OK, "%s", clnet_context_error(m->ctx));
    char *note = NULL, err[512] = "";
    int epochs = 0;
    cr_assert_eq(clnet_checkpoint_note(ckpt, &note, &epochs, err, sizeof err), CLNET_OK, "%s", err);
    cr_expect_str_eq(note, "{\"data\": \"photos\"}");
    cr_expect_eq(epochs, 2);
    clnet_free(note);
    clnet_model_destroy(m);
    m = model();
    o = options(4, ckpt, 1);
    o.progress = record;
    o.user = &second;
    cr_assert_eq(clnet_fit(m, f.train, f.val, &o), CLNET_OK, "%s", clnet_context_error(m->ctx));
    cr_expect_eq(second.reports, 4);
    cr_expect_eq(second.restored, 2);
    for (int e = 0; e < 2; ++e) {
        cr_expect_eq(second.loss[e], first.loss[e], "epoch %d loss", e + 1);
        cr_expect_eq(second.val_loss[e], first.val_loss[e], "epoch %d val_loss %.17g vs %.17g",
                     e + 1, second.val_loss[e], first.val_loss[e]);
    }
    /* A model file is not a checkpoint: the note call says so, naming it. */
    char path[96];
    snprintf(path, sizeof path, "%s/m.safetensors", f.dir);
    cr_assert_eq(clnet_model_save(m, path), CLNET_OK);
    cr_expect_eq(clnet_checkpoint_note(path, &note, &epochs, err, sizeof err), CLNET_ERR_PARSE);
    cr_expect(strstr(err, "m.safetensors") && strstr(err, "not a clnet checkpoint"), "%s", err);
    cr_expect_null(note);
    clnet_model_destroy(m);
    close_data(&f);
}

/* With a min_delta no later epoch can beat, patience 2 stops after epoch 3 and the
 * weights are epoch 1's, bit for bit those of a one-epoch run; the early stop survives
 * a resume (nothing more runs). */
Test(fit, early_stopping_keeps_the_best_epoch, .timeout = 600)
{
    fixture f;
    open_data(&f);
    char ckpt[96];
    snprintf(ckpt, sizeof ckpt, "%s/run.ckpt", f.dir);
    clnet_model *stopped = model(), *one = model();
    clnet_fit_options o = options(10, ckpt, 0);
    o.schedule.kind = CLNET_LR_CONSTANT;
    o.patience = 2;
    o.min_delta = 1e9f;
    o.restore_best = 1;
    history h = {0};
    o.progress = record;
    o.user = &h;
    cr_assert_eq(clnet_fit(stopped, f.train, f.val, &o), CLNET_OK, "%s",
                 clnet_context_error(stopped->ctx));
    cr_expect_eq(h.reports, 3);
    cr_expect_eq(h.best_epoch, 0);
    cr_expect_eq(h.early_stop, 1);
    clnet_fit_options first = options(10, NULL, 0);
    first.schedule.kind = CLNET_LR_CONSTANT;
    first.epochs = 1;
    first.schedule = o.schedule;
    cr_assert_eq(clnet_fit(one, f.train, f.val, &first), CLNET_OK);
    expect_same_weights(stopped, one);
    clnet_model_destroy(stopped);
    stopped = model();
    history again = {0};
    o.resume = 1;
    o.user = &again;
    cr_assert_eq(clnet_fit(stopped, f.train, f.val, &o), CLNET_OK, "%s",
                 clnet_context_error(stopped->ctx));
    cr_expect_eq(again.reports, 3, "the stopped run replays and stops again");
    cr_expect_eq(again.restored, 3);
    expect_same_weights(stopped, one);
    clnet_model_destroy(stopped);
    clnet_model_destroy(one);
    close_data(&f);
}

/* The first batch norm's moving mean (host copy): the only statistic that does not
 * depend on how the images are batched (later ones see batch-normalized inputs). */
static int first_moving_mean(clnet_model *m, float *out, int cap)
{
    int i = 0;
    while (strcmp(m->info[i].name, "moving_mean") != 0)
        ++i;
    cr_assert_leq((int)m->w[i]->count, cap);
    clnet_test_read(m->w[i], out);
    return (int)m->w[i]->count;
}

/* A run stopped at the end of an epoch (no validation, no checkpoint) ends with the
 * statistics clnet_model_update_bn gives its weights; with keep_bn_statistics it keeps the
 * moving averages. */
Test(fit, a_stopped_run_ends_with_statistics_for_its_weights, .timeout = 600)
{
    fixture f;
    open_data(&f);
    float got[256], want[256];
    for (int keep = 0; keep < 2; ++keep) {
        clnet_model *m = model();
        seen s = {.stop_after = 1};
        clnet_fit_options o = options(3, NULL, 0);
        o.progress = progress;
        o.user = &s;
        o.keep_bn_statistics = keep;
        cr_assert_eq(clnet_fit(m, f.train, NULL, &o), CLNET_OK, "%s", clnet_context_error(m->ctx));
        cr_expect_eq(s.epochs, 1);
        const int n = first_moving_mean(m, got, 256);
        cr_assert_eq(clnet_model_update_bn(m, f.train, 16), CLNET_OK);
        first_moving_mean(m, want, 256);
        const double d = clnet_test_rel_diff(got, want, (size_t)n);
        if (keep)
            cr_expect_gt(d, 1e-2, "kept moving averages equal the recomputed ones (%g)", d);
        else
            cr_expect_lt(d, 1e-5, "the run's statistics differ from the recomputed ones (%g)", d);
        clnet_model_destroy(m);
    }
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
