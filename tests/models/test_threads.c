/* test_threads.c - include/clnet.h's threading rules, the part a test can show: contexts
 * used at the same time from different threads are independent (no hidden global state),
 * so two threads training the same model on their own contexts get exactly what one
 * thread gets alone. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"
#include "support/models.h"

typedef struct job {
    clnet_graph *g;
    float *weights; /* out: the weights after the steps, concatenated */
    size_t count;
    clnet_status status;
    char error[512];
} job;

/* A context of its own, a model from seed 5 and four SGD steps on a fixed batch. */
static void *train(void *arg)
{
    job *j = arg;
    clnet_context *ctx = NULL;
    j->status = clnet_context_create(NULL, &ctx);
    clnet_model *m = NULL;
    const clnet_model_options mo = {.seed = 5};
    if (j->status == CLNET_OK)
        j->status = clnet_model_create(ctx, j->g, &mo, &m);
    clnet_optimizer *o = NULL;
    if (j->status == CLNET_OK)
        j->status = clnet_optimizer_create(m, NULL, &o);
    clnet_tensor *x = NULL;
    if (j->status == CLNET_OK)
        j->status = clnet_tensor_create(ctx, (clnet_shape){6, 12, 12, 1}, &x);
    if (j->status == CLNET_OK)
        j->status = clnet_tensor_init(x, CLNET_INIT_UNIFORM, -1.0f, 1.0f, 9);
    const int labels[6] = {0, 1, 2, 2, 1, 0};
    for (int step = 0; j->status == CLNET_OK && step < 4; ++step)
        j->status = clnet_train_step(o, x, labels, 0.05f, 0.0f, NULL, NULL);
    for (int i = 0; j->status == CLNET_OK && i < m->n_weights; ++i)
        j->count += m->w[i]->count;
    j->weights = j->status == CLNET_OK ? malloc(j->count * sizeof(float)) : NULL;
    for (size_t i = 0, at = 0; j->weights && i < (size_t)m->n_weights; ++i) {
        j->status = clnet_tensor_read(m->w[i], j->weights + at, m->w[i]->count);
        at += m->w[i]->count;
    }
    if (j->status != CLNET_OK && ctx)
        snprintf(j->error, sizeof j->error, "%s", clnet_context_error(ctx));
    clnet_tensor_destroy(x);
    clnet_optimizer_destroy(o);
    clnet_model_destroy(m);
    clnet_context_destroy(ctx);
    return NULL;
}

Test(threads, contexts_on_two_threads_are_independent, .timeout = 600)
{
    clnet_test_device(); /* skips without a device */
    clnet_graph *g = clnet_test_small_resnet(12, 12, 1, 3);
    job alone = {.g = g}, jobs[2] = {{.g = g}, {.g = g}};
    train(&alone);
    cr_assert_eq(alone.status, CLNET_OK, "%s", alone.error);
    pthread_t t[2];
    for (int i = 0; i < 2; ++i)
        cr_assert_eq(pthread_create(&t[i], NULL, train, &jobs[i]), 0);
    for (int i = 0; i < 2; ++i)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 2; ++i) {
        cr_assert_eq(jobs[i].status, CLNET_OK, "thread %d: %s", i, jobs[i].error);
        cr_assert_eq(jobs[i].count, alone.count);
        cr_expect_eq(memcmp(jobs[i].weights, alone.weights, alone.count * sizeof(float)), 0,
                     "thread %d trained to other weights than one thread alone", i);
        free(jobs[i].weights);
    }
    free(alone.weights);
    clnet_graph_destroy(g);
}
