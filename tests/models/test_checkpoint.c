/* test_checkpoint.c - optimizer state in checkpoints (src/train/checkpoint.c): every state
 * slot of every optimizer kind and configuration (SGD momentum, Adam, RMSprop plain, with
 * momentum, centered, both) comes back bit for bit with the step count, the resumed
 * optimizer's next step equals the uninterrupted one's, and a checkpoint written with one
 * kind or configuration is refused by another, naming the file and the kind. */
#include <criterion/criterion.h>
#include <math.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "support/models.h"
#include "support/tempdir.h"
#include "train/train.h"

TestSuite(checkpoint, .init = clnet_test_make_dir, .fini = clnet_test_remove_dir);

/* Two dense layers (37 -> 9 -> 5): four trainable weights of odd sizes. */
static clnet_model *dense_model(uint64_t seed)
{
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_create(&g), CLNET_OK);
    clnet_layer x = clnet_graph_input(g, NULL, 1, 1, 37);
    x = clnet_graph_layer(g, "dense", NULL, "units = 9", &x, 1);
    clnet_graph_layer(g, "dense", NULL, "units = 5", &x, 1);
    clnet_model *m = clnet_test_model(clnet_test_device(), g, 1, 1, seed);
    clnet_graph_destroy(g);
    return m;
}

/* Fresh gradients from seed, then one step. */
static void step(clnet_optimizer *o, uint64_t seed)
{
    clnet_model *m = o->model;
    for (int i = 0; i < m->n_weights; ++i) {
        float *g = clnet_test_random(m->w[i]->count, seed * 31 + (uint64_t)i);
        cr_assert_eq(clnet_tensor_write(m->dw[i], g, m->w[i]->count), CLNET_OK);
        free(g);
    }
    cr_assert_eq(clnet_optimizer_step(o, 0.01f), CLNET_OK, "%s", clnet_context_error(m->ctx));
}

static void expect_same(clnet_optimizer *a, clnet_optimizer *b)
{
    clnet_model *m = a->model;
    cr_expect_eq(a->steps, b->steps);
    for (int i = 0; i < m->n_weights; ++i) {
        cr_expect(clnet_test_tensors_equal(m->w[i], b->model->w[i]), "%s/%s differs",
                  m->info[i].layer, m->info[i].name);
        for (int k = 0; k < CLNET__OPT_STATES; ++k) {
            cr_assert_eq(!a->state[k][i], !b->state[k][i]);
            if (a->state[k][i])
                cr_expect(clnet_test_tensors_equal(a->state[k][i], b->state[k][i]),
                          "optimizer/%d/%s/%s differs", k, m->info[i].layer, m->info[i].name);
        }
    }
}

ParameterizedTestParameters(checkpoint, optimizer_state_round_trips)
{
    /* kind, momentum, nesterov, weight decay, decoupled, beta1, beta2, epsilon, rho, centered */
    static clnet_optimizer_options cases[] = {
        {CLNET_OPT_SGD, 0.9f, 1, 1e-4f, 0, 0, 0, 0, 0, 0},
        {CLNET_OPT_ADAM, 0.0f, 0, 1e-2f, 1, 0, 0, 0, 0, 0},
        {CLNET_OPT_RMSPROP, 0.0f, 0, 0.0f, 0, 0, 0, 0, 0, 0},
        {CLNET_OPT_RMSPROP, 0.9f, 0, 1e-3f, 0, 0, 0, 0, 0, 0},
        {CLNET_OPT_RMSPROP, 0.0f, 0, 0.0f, 0, 0, 0, 0, 0.95f, 1},
        {CLNET_OPT_RMSPROP, 0.5f, 0, 1e-3f, 1, 0, 0, 0, 0, 1},
    };
    return cr_make_param_array(clnet_optimizer_options, cases, CLNET_COUNTOF(cases));
}

/* A run record of epochs finished epochs and nothing else. */
static clnet__run_record record_of(int epochs)
{
    clnet__run_record r;
    memset(&r, 0, sizeof r);
    r.epochs = epochs;
    r.best = HUGE_VAL;
    r.best_epoch = -1;
    return r;
}

ParameterizedTest(clnet_optimizer_options *oo, checkpoint, optimizer_state_round_trips)
{
    const char *path = clnet_test_path("run.ckpt");
    clnet_model *ma = dense_model(3), *mb = dense_model(4);
    clnet_optimizer *a = NULL, *b = NULL;
    cr_assert_eq(clnet_optimizer_create(ma, oo, &a), CLNET_OK);
    cr_assert_eq(clnet_optimizer_create(mb, oo, &b), CLNET_OK);
    for (int t = 0; t < 3; ++t)
        step(a, (uint64_t)t);
    clnet__run_record saved = record_of(2), loaded = record_of(0);
    cr_assert_eq(clnet__checkpoint_save(a, path, &saved), CLNET_OK, "%s",
                 clnet_context_error(ma->ctx));
    cr_assert_eq(clnet__checkpoint_load(b, path, &loaded), CLNET_OK, "%s",
                 clnet_context_error(mb->ctx));
    cr_expect_eq(loaded.epochs, 2);
    clnet__run_record_free(&loaded);
    expect_same(a, b);
    /* The next step of both from the same gradients: the same weights and state. */
    step(a, 9);
    step(b, 9);
    expect_same(a, b);
    clnet_optimizer_destroy(a);
    clnet_optimizer_destroy(b);
    clnet_model_destroy(ma);
    clnet_model_destroy(mb);
}

/* Loading path into a fresh optimizer with options o fails with a message holding want. */
static void refused(const char *path, const clnet_optimizer_options *o, const char *want)
{
    clnet_model *m = dense_model(5);
    clnet_optimizer *opt = NULL;
    cr_assert_eq(clnet_optimizer_create(m, o, &opt), CLNET_OK);
    clnet__run_record r = record_of(0);
    cr_expect_eq(clnet__checkpoint_load(opt, path, &r), CLNET_ERR_MISMATCH);
    clnet__run_record_free(&r);
    const char *msg = clnet_context_error(m->ctx);
    cr_expect(strstr(msg, want) && strstr(msg, "run.ckpt"), "'%s' does not say '%s'", msg, want);
    cr_expect_eq(opt->steps, 0);
    clnet_optimizer_destroy(opt);
    clnet_model_destroy(m);
}

Test(checkpoint, another_kind_or_configuration_is_refused)
{
    const char *path = clnet_test_path("run.ckpt");
    const clnet_optimizer_options rms = {CLNET_OPT_RMSPROP, 0.9f, 0, 0.0f, 0, 0, 0, 0, 0, 0};
    clnet_model *m = dense_model(3);
    clnet_optimizer *o = NULL;
    cr_assert_eq(clnet_optimizer_create(m, &rms, &o), CLNET_OK);
    step(o, 1);
    const clnet__run_record one = record_of(1);
    cr_assert_eq(clnet__checkpoint_save(o, path, &one), CLNET_OK, "%s", clnet_context_error(m->ctx));
    clnet_optimizer_destroy(o);
    clnet_model_destroy(m);

    const clnet_optimizer_options sgd = {CLNET_OPT_SGD, 0.9f, 0, 0.0f, 0, 0, 0, 0, 0, 0};
    const clnet_optimizer_options adam = {CLNET_OPT_ADAM, 0.0f, 0, 0.0f, 0, 0, 0, 0, 0, 0};
    refused(path, &sgd, "written with the rmsprop optimizer, not sgd");
    refused(path, &adam, "written with the rmsprop optimizer, not adam");
    /* RMSprop without momentum keeps fewer tensors; centered ones keep slot 2 instead. */
    const clnet_optimizer_options plain = {CLNET_OPT_RMSPROP, 0.0f, 0, 0.0f, 0, 0, 0, 0, 0, 0};
    const clnet_optimizer_options centered = {CLNET_OPT_RMSPROP, 0.0f, 0, 0.0f, 0, 0, 0, 0, 0, 1};
    refused(path, &plain, "tensors");
    refused(path, &centered, "optimizer/2/");
}
