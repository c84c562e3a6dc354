/* models.c - bench_models: whole zoo models through their plans: inference with the
 * fused plan against the unfused one (each layer its own kernel, a buffer per
 * tensor), and a training step (forward + backward). Wall time per batch after a
 * warm-up (min / median / p90), images per second and GFLOP/s (2 * multiply-adds).
 * One JSON line per (model, mode) on stdout. A benchmark, never a test.
 *
 *   bench_models [--model NAME]... [--batch N] [--size S] [--repeats R]
 *                [--class dgpu|igpu|cpu] [--no-training]
 * Default models: resnet18 resnet50 mobilenetv2 mnasnet at 224x224, batch 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/runtime.h"

typedef struct options {
    const char *models[16];
    int n_models, batch, size, repeats, training;
    clnet_device_class cls;
} options;

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs one mode repeats times after a warm-up; times in ms into t (sorted). */
static clnet_status time_mode(clnet_context *ctx, clnet_model *m, clnet_tensor *x, clnet_tensor *dy,
                              int training, int repeats, double *t, double *first_ms)
{
    clnet_tensor *y = NULL;
    for (int r = -1; r < repeats; ++r) {
        const double t0 = clnet__now();
        CLNET_TRY(clnet_model_forward(m, x, training, &y));
        if (training)
            CLNET_TRY(clnet_model_backward(m, dy));
        CLNET_TRY(clnet_context_finish(ctx));
        const double ms = (clnet__now() - t0) * 1e3;
        if (r < 0)
            *first_ms = ms;
        else
            t[r] = ms;
    }
    qsort(t, (size_t)repeats, sizeof *t, cmp_double);
    return CLNET_OK;
}

static void report(const char *model, const char *mode, const options *o, double flops,
                   const double *t, double first_ms, const clnet_plan_stats *ps)
{
    const double med = t[o->repeats / 2], p90 = t[(o->repeats * 9) / 10];
    printf("{\"model\":\"%s\",\"mode\":\"%s\",\"batch\":%d,\"size\":%d,\"first_ms\":%.2f,"
           "\"min_ms\":%.2f,\"median_ms\":%.2f,\"p90_ms\":%.2f,\"images_per_s\":%.1f,"
           "\"gflops\":%.1f,\"steps\":%d,\"activation_mib\":%.2f}\n",
           model, mode, o->batch, o->size, first_ms, t[0], med, p90, o->batch * 1e3 / med,
           flops / (med * 1e-3) * 1e-9, ps ? ps->steps : 0,
           ps ? (double)ps->planned_bytes / 1048576.0 : 0.0);
    fflush(stdout);
}

static clnet_status bench_model(clnet_context *ctx, const char *name, const options *o)
{
    clnet_zoo_options zo = {o->size, o->size, 3, 1000, NULL, 0.0, 0};
    clnet_graph *g = NULL;
    char err[512] = "";
    clnet_status st = clnet_zoo_build(name, &zo, &g, err, sizeof err);
    if (st != CLNET_OK) {
        fprintf(stderr, "bench_models: %s\n", err);
        return st;
    }
    const double mult_adds = clnet_graph_flops(g) * o->batch;
    clnet_model *fused = NULL, *plain = NULL;
    clnet_tensor *x = NULL, *dy = NULL;
    double *t = calloc((size_t)o->repeats, sizeof *t), first = 0.0;
    const clnet_model_options fo = {1, 0, 0}, po = {1, 1, 1};
    clnet_plan_stats ps;
    st = t ? CLNET_OK : CLNET_ERR_OUT_OF_MEMORY;
    if (st == CLNET_OK)
        st = clnet_model_create(ctx, g, &fo, &fused);
    if (st == CLNET_OK)
        st = clnet_model_create(ctx, g, &po, &plain);
    if (st == CLNET_OK)
        st = clnet_tensor_create(ctx, (clnet_shape){o->batch, o->size, o->size, 3}, &x);
    if (st == CLNET_OK)
        st = clnet_tensor_init(x, CLNET_INIT_UNIFORM, -1.0f, 1.0f, 3);
    if (st == CLNET_OK)
        st = clnet_tensor_create(ctx, (clnet_shape){o->batch, 1, 1, 1000}, &dy);
    if (st == CLNET_OK)
        st = clnet_tensor_init(dy, CLNET_INIT_UNIFORM, -1.0f, 1.0f, 4);
    if (st == CLNET_OK &&
        (st = time_mode(ctx, fused, x, dy, 0, o->repeats, t, &first)) == CLNET_OK &&
        (st = clnet_model_plan_stats(fused, 0, o->batch, &ps)) == CLNET_OK)
        report(name, "inference-fused", o, 2.0 * mult_adds, t, first, &ps);
    if (st == CLNET_OK &&
        (st = time_mode(ctx, plain, x, dy, 0, o->repeats, t, &first)) == CLNET_OK &&
        (st = clnet_model_plan_stats(plain, 0, o->batch, &ps)) == CLNET_OK)
        report(name, "inference-unfused", o, 2.0 * mult_adds, t, first, &ps);
    clnet_model_destroy(plain);
    plain = NULL;
    /* A training step costs about three forwards: the forward and two GEMMs per layer
     * (data and weight gradients) in backward. */
    if (st == CLNET_OK && o->training &&
        (st = time_mode(ctx, fused, x, dy, 1, o->repeats, t, &first)) == CLNET_OK &&
        (st = clnet_model_plan_stats(fused, 1, o->batch, &ps)) == CLNET_OK)
        report(name, "training-step", o, 6.0 * mult_adds, t, first, &ps);
    if (st != CLNET_OK)
        fprintf(stderr, "bench_models: %s: %s\n", name, clnet_context_error(ctx));
    free(t);
    clnet_tensor_destroy(x);
    clnet_tensor_destroy(dy);
    clnet_model_destroy(fused);
    clnet_model_destroy(plain);
    clnet_graph_destroy(g);
    return st;
}

int main(int argc, char **argv)
{
    options o = {{0}, 0, 1, 224, 10, 1, CLNET_CLASS_AUTO};
    for (int i = 1; i < argc; ++i) {
        const int more = i + 1 < argc;
        if (strcmp(argv[i], "--model") == 0 && more && o.n_models < 16)
            o.models[o.n_models++] = argv[++i];
        else if (strcmp(argv[i], "--batch") == 0 && more)
            o.batch = atoi(argv[++i]);
        else if (strcmp(argv[i], "--size") == 0 && more)
            o.size = atoi(argv[++i]);
        else if (strcmp(argv[i], "--repeats") == 0 && more)
            o.repeats = atoi(argv[++i]);
        else if (strcmp(argv[i], "--class") == 0 && more &&
                 clnet_device_class_parse(argv[i + 1], &o.cls) == CLNET_OK)
            ++i;
        else if (strcmp(argv[i], "--no-training") == 0)
            o.training = 0;
        else {
            fprintf(stderr, "usage: bench_models [--model NAME]... [--batch N] [--size S] "
                            "[--repeats R] [--class dgpu|igpu|cpu] [--no-training]\n");
            return 2;
        }
    }
    if (o.batch < 1 || o.size < 32 || o.repeats < 1) {
        fprintf(stderr, "bench_models: batch and repeats must be positive, size at least 32\n");
        return 2;
    }
    static const char *const defaults[] = {"resnet18", "resnet50", "mobilenetv2", "mnasnet"};
    if (!o.n_models)
        for (size_t i = 0; i < CLNET_COUNTOF(defaults); ++i)
            o.models[o.n_models++] = defaults[i];
    char err[1024] = "";
    clnet_context_options co = {0};
    co.device_class = o.cls;
    co.error = err;
    co.error_len = sizeof err;
    clnet_context *ctx = NULL;
    if (clnet_context_create(&co, &ctx) != CLNET_OK) {
        fprintf(stderr, "bench_models: %s\n", err);
        return 1;
    }
    int failed = 0;
    for (int i = 0; i < o.n_models; ++i)
        failed += bench_model(ctx, o.models[i], &o) != CLNET_OK;
    clnet_context_destroy(ctx);
    return failed ? 1 : 0;
}
