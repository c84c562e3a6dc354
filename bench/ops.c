/* ops.c - bench_ops: per op and shape (ResNet-50, MobileNetV2, ConvNeXt-T, ResNeXt-50 and
 * RegNetY layers at 224x224), device time from OpenCL profiling events and wall time, min / median
 * / p90, GFLOP/s and GB/s, with compile, first-run and steady-state apart. One JSON
 * line per (case, direction) on stdout. A benchmark, never a test: it asserts nothing.
 *
 *   bench_ops [--batch N] [--repeats R] [--class dgpu|igpu|cpu] [--filter TEXT]
 *             [--backward] [--cold]
 * --cold disables the program cache so compile times are real compiles. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/op.h"

typedef struct bench_case {
    const char *model;
    const char *op;
    const char *params;
    int h, w, c;  /* input 0 per image */
    int residual; /* conv2d: a second input of the output shape */
    int training; /* forward in training mode (batch_norm, dropout) */
} bench_case;

static const bench_case cases[] = {
    /* ResNet-50 (torchvision v1.5: the stride on the 3x3), 224x224. */
    {"resnet50", "conv2d", "filters=64\nkernel_size=7\nstrides=2\npadding=3\nuse_bias=false", 224,
     224, 3, 0, 0},
    {"resnet50", "max_pool", "pool_size=3\nstrides=2\npadding=1", 112, 112, 64, 0, 0},
    {"resnet50", "conv2d", "filters=64\nkernel_size=1\nuse_bias=false", 56, 56, 64, 0, 0},
    {"resnet50", "conv2d", "filters=64\nkernel_size=3\npadding=1\nactivation=relu", 56, 56, 64, 0,
     0},
    {"resnet50", "conv2d", "filters=256\nkernel_size=1\nactivation=relu", 56, 56, 64, 1, 0},
    {"resnet50", "conv2d", "filters=128\nkernel_size=1", 56, 56, 256, 0, 0},
    {"resnet50", "conv2d", "filters=128\nkernel_size=3\nstrides=2\npadding=1", 56, 56, 128, 0, 0},
    {"resnet50", "conv2d", "filters=512\nkernel_size=1\nstrides=2", 56, 56, 256, 0, 0},
    {"resnet50", "conv2d", "filters=128\nkernel_size=3\npadding=1", 28, 28, 128, 0, 0},
    {"resnet50", "conv2d", "filters=256\nkernel_size=3\npadding=1", 14, 14, 256, 0, 0},
    {"resnet50", "conv2d", "filters=256\nkernel_size=1", 14, 14, 1024, 0, 0},
    {"resnet50", "conv2d", "filters=512\nkernel_size=3\npadding=1", 7, 7, 512, 0, 0},
    {"resnet50", "conv2d", "filters=2048\nkernel_size=1", 7, 7, 512, 0, 0},
    {"resnet50", "batch_norm", "activation=relu", 56, 56, 256, 0, 1},
    {"resnet50", "batch_norm", "activation=relu", 56, 56, 256, 0, 0},
    {"resnet50", "relu", "", 56, 56, 256, 0, 0},
    {"resnet50", "add", "activation=relu", 56, 56, 256, 1, 0},
    {"resnet50", "global_avg_pool", "", 7, 7, 2048, 0, 0},
    {"resnet50", "dense", "units=1000", 1, 1, 2048, 0, 0},
    {"resnet50", "softmax", "", 1, 1, 1000, 0, 0},
    /* MobileNetV2 (alpha 1.0), 224x224. */
    {"mobilenetv2", "conv2d", "filters=32\nkernel_size=3\nstrides=2\npadding=same\nuse_bias=false",
     224, 224, 3, 0, 0},
    {"mobilenetv2", "depthwise_conv2d", "kernel_size=3\npadding=same\nactivation=relu6", 112, 112,
     32, 0, 0},
    {"mobilenetv2", "conv2d", "filters=16\nkernel_size=1\nuse_bias=false", 112, 112, 32, 0, 0},
    {"mobilenetv2", "conv2d", "filters=96\nkernel_size=1\nactivation=relu6", 112, 112, 16, 0, 0},
    {"mobilenetv2", "depthwise_conv2d", "kernel_size=3\nstrides=2\npadding=same\nactivation=relu6",
     112, 112, 96, 0, 0},
    {"mobilenetv2", "conv2d", "filters=144\nkernel_size=1\nactivation=relu6", 56, 56, 24, 0, 0},
    {"mobilenetv2", "depthwise_conv2d", "kernel_size=3\npadding=same\nactivation=relu6", 56, 56,
     144, 0, 0},
    {"mobilenetv2", "conv2d", "filters=24\nkernel_size=1", 56, 56, 144, 1, 0},
    {"mobilenetv2", "depthwise_conv2d", "kernel_size=3\npadding=same\nactivation=relu6", 28, 28,
     192, 0, 0},
    {"mobilenetv2", "depthwise_conv2d", "kernel_size=3\npadding=same\nactivation=relu6", 14, 14,
     576, 0, 0},
    {"mobilenetv2", "depthwise_conv2d", "kernel_size=3\npadding=same\nactivation=relu6", 7, 7, 960,
     0, 0},
    {"mobilenetv2", "conv2d", "filters=1280\nkernel_size=1\nactivation=relu6", 7, 7, 320, 0, 0},
    {"mobilenetv2", "batch_norm", "activation=relu6", 112, 112, 96, 0, 1},
    {"mobilenetv2", "relu6", "", 112, 112, 96, 0, 0},
    {"mobilenetv2", "dense", "units=1000", 1, 1, 1280, 0, 0},
    /* ConvNeXt-T's first stage (7x7 depthwise, channel LayerNorm) and ResNeXt-50 32x4d's
     * first grouped 3x3, 224x224. */
    {"convnext_t", "depthwise_conv2d", "kernel_size=7\npadding=same", 56, 56, 96, 0, 0},
    {"convnext_t", "layer_norm", "epsilon=1e-6", 56, 56, 96, 0, 0},
    {"resnext50", "conv2d", "filters=128\nkernel_size=3\npadding=1\ngroups=32", 56, 56, 128, 0, 0},
    /* The other ResNeXt-50 and RegNetY grouped 3x3s: 8 to 56 channels per group, strided. */
    {"resnext50", "conv2d", "filters=256\nkernel_size=3\nstrides=2\npadding=1\ngroups=32", 56, 56,
     256, 0, 0},
    {"resnext50", "conv2d", "filters=256\nkernel_size=3\npadding=1\ngroups=32", 28, 28, 256, 0, 0},
    {"resnext50", "conv2d", "filters=512\nkernel_size=3\npadding=1\ngroups=32", 14, 14, 512, 0, 0},
    {"resnext50", "conv2d", "filters=1024\nkernel_size=3\npadding=1\ngroups=32", 7, 7, 1024, 0, 0},
    {"regnet_y_400mf", "conv2d", "filters=104\nkernel_size=3\npadding=1\ngroups=13", 28, 28, 104, 0,
     0},
    {"regnet_y_400mf", "conv2d", "filters=208\nkernel_size=3\npadding=1\ngroups=26", 14, 14, 208, 0,
     0},
    {"regnet_y_400mf", "conv2d", "filters=440\nkernel_size=3\npadding=1\ngroups=55", 7, 7, 440, 0,
     0},
    {"regnet_y_1_6gf", "conv2d", "filters=120\nkernel_size=3\npadding=1\ngroups=5", 28, 28, 120, 0,
     0},
    {"regnet_y_1_6gf", "conv2d", "filters=336\nkernel_size=3\npadding=1\ngroups=14", 14, 14, 336, 0,
     0},
    {"regnet_y_8gf", "conv2d", "filters=448\nkernel_size=3\npadding=1\ngroups=8", 28, 28, 448, 0,
     0},
};

typedef struct options {
    int batch, repeats, backward, cold;
    const char *cls, *filter;
} options;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void one_line(char *s)
{
    for (; *s; ++s)
        if (*s == '\n')
            *s = ' ';
}

/* Everything one case needs on the device. */
typedef struct setup {
    void *params;
    clnet_shape in_shape[2], out_shape, w_shape[CLNET_MAX_WEIGHTS], saved_shape[CLNET_MAX_SAVED];
    clnet__weight_desc wd[CLNET_MAX_WEIGHTS];
    int n_in, n_w, n_saved;
    clnet_tensor *in[2], *out, *w[CLNET_MAX_WEIGHTS], *saved[CLNET_MAX_SAVED], *dout, *din[2],
        *dw[CLNET_MAX_WEIGHTS];
    clnet__op_alone alone; /* prepared once, as a plan would */
} setup;

static void setup_free(setup *s)
{
    free(s->params);
    for (int i = 0; i < 2; ++i) {
        clnet_tensor_destroy(s->in[i]);
        clnet_tensor_destroy(s->din[i]);
    }
    for (int i = 0; i < CLNET_MAX_WEIGHTS; ++i) {
        clnet_tensor_destroy(s->w[i]);
        clnet_tensor_destroy(s->dw[i]);
    }
    for (int i = 0; i < CLNET_MAX_SAVED; ++i)
        clnet_tensor_destroy(s->saved[i]);
    clnet_tensor_destroy(s->out);
    clnet_tensor_destroy(s->dout);
    clnet__op_alone_release(&s->alone);
}

static clnet_status make_setup(clnet_context *ctx, const clnet__op_desc *op, const bench_case *bc,
                               int batch, setup *s)
{
    memset(s, 0, sizeof *s);
    CLNET_TRY(clnet__op_parse(ctx, op, bc->params, bc->op, &s->params));
    s->in_shape[0] = (clnet_shape){batch, bc->h, bc->w, bc->c};
    s->n_in = 1;
    if (bc->residual) {
        /* The second input has the output's shape (conv2d residual, add operand). */
        s->in_shape[1] = s->in_shape[0];
        s->n_in = 2;
        clnet_shape out;
        if (op->infer(ctx, s->params, s->in_shape, 1, &out) == CLNET_OK)
            s->in_shape[1] = out;
    }
    CLNET_TRY(op->infer(ctx, s->params, s->in_shape, s->n_in, &s->out_shape));
    CLNET_TRY(clnet__op_alone_prepare(ctx, op, s->params, s->in_shape, s->n_in, 1, &s->alone));
    s->n_w = op->weights ? op->weights(s->params, s->in_shape, s->n_in, s->wd) : 0;
    s->n_saved = op->saved ? op->saved(s->params, s->in_shape, s->n_in, s->saved_shape) : 0;
    for (int i = 0; i < s->n_in; ++i) {
        CLNET_TRY(clnet_tensor_create(ctx, s->in_shape[i], &s->in[i]));
        CLNET_TRY(clnet_tensor_init(s->in[i], CLNET_INIT_UNIFORM, -1.0f, 1.0f, 1u + (uint64_t)i));
        CLNET_TRY(clnet_tensor_create(ctx, s->in_shape[i], &s->din[i]));
    }
    for (int i = 0; i < s->n_w; ++i) {
        s->w_shape[i] = s->wd[i].shape;
        CLNET_TRY(clnet_tensor_create(ctx, s->w_shape[i], &s->w[i]));
        float lo = s->wd[i].test_lo < s->wd[i].test_hi ? s->wd[i].test_lo : -0.1f;
        float hi = s->wd[i].test_lo < s->wd[i].test_hi ? s->wd[i].test_hi : 0.1f;
        CLNET_TRY(clnet_tensor_init(s->w[i], CLNET_INIT_UNIFORM, lo, hi, 10u + (uint64_t)i));
        if (s->wd[i].trainable)
            CLNET_TRY(clnet_tensor_create(ctx, s->w_shape[i], &s->dw[i]));
    }
    for (int i = 0; i < s->n_saved; ++i)
        CLNET_TRY(clnet_tensor_create(ctx, s->saved_shape[i], &s->saved[i]));
    CLNET_TRY(clnet_tensor_create(ctx, s->out_shape, &s->out));
    CLNET_TRY(clnet_tensor_create(ctx, s->out_shape, &s->dout));
    CLNET_TRY(clnet_tensor_init(s->dout, CLNET_INIT_UNIFORM, -1.0f, 1.0f, 99));
    return clnet_context_finish(ctx);
}

static clnet_status run_once(const clnet__op_desc *op, clnet_context *ctx, setup *s, int backward,
                             int training)
{
    const clnet__op_call call = {.ctx = ctx,
                                 .params = s->params,
                                 .n_in = s->n_in,
                                 .in = s->in,
                                 .out = s->out,
                                 .n_w = s->n_w,
                                 .w = s->w,
                                 .saved = s->saved,
                                 .training = training,
                                 .seed = 7,
                                 .dout = s->dout,
                                 .din = s->din,
                                 .dw = s->dw,
                                 .exec = &s->alone.exec,
                                 .scratch = &s->alone.scratch};
    return backward ? op->backward(&call) : op->forward(&call);
}

static clnet_status bench_dir(clnet_context *ctx, const clnet__op_desc *op, const bench_case *bc,
                              setup *s, const options *o, int backward)
{
    const int training = backward ? 1 : bc->training;
    if (backward) /* backward needs the forward's saved state */
        CLNET_TRY(run_once(op, ctx, s, 0, 1));
    CLNET_TRY(clnet_context_finish(ctx));
    clnet_context_stats before, after;
    clnet_context_get_stats(ctx, &before);
    double t0 = clnet__now();
    CLNET_TRY(run_once(op, ctx, s, backward, training));
    CLNET_TRY(clnet_context_finish(ctx));
    const double first_ms = (clnet__now() - t0) * 1e3;
    clnet_context_get_stats(ctx, &after);
    const double compile_ms = (after.build_seconds - before.build_seconds) * 1e3;
    CLNET_TRY(run_once(op, ctx, s, backward, training)); /* warm-up */
    CLNET_TRY(clnet_context_finish(ctx));

    double *dev = calloc((size_t)o->repeats, sizeof *dev);
    double *wall = calloc((size_t)o->repeats, sizeof *wall);
    if (!dev || !wall) {
        free(dev);
        free(wall);
        return CLNET_ERR_OUT_OF_MEMORY;
    }
    clnet_status st = CLNET_OK;
    for (int r = 0; r < o->repeats && st == CLNET_OK; ++r) {
        double w0 = clnet__now();
        clnet__profile_begin(ctx);
        st = run_once(op, ctx, s, backward, training);
        double d = 0.0;
        clnet_status st2 = clnet__profile_end(ctx, &d);
        if (st == CLNET_OK)
            st = st2;
        wall[r] = (clnet__now() - w0) * 1e3;
        dev[r] = d;
    }
    if (st == CLNET_OK) {
        qsort(dev, (size_t)o->repeats, sizeof *dev, cmp_double);
        qsort(wall, (size_t)o->repeats, sizeof *wall, cmp_double);
        const double
            med = dev[o->repeats / 2],
            p90 = dev[(o->repeats * 9) / 10 < o->repeats ? (o->repeats * 9) / 10 : o->repeats - 1];
        /* Backward of a layer with weights costs about twice the forward. */
        double macs = op->flops(s->params, s->in_shape, s->n_in, s->out_shape);
        if (backward)
            macs *= s->n_w > 0 ? 2.0 : 1.0;
        double floats = (double)clnet__shape_count(s->out_shape);
        for (int i = 0; i < s->n_in; ++i)
            floats += (double)clnet__shape_count(s->in_shape[i]);
        for (int i = 0; i < s->n_w; ++i)
            floats += (double)clnet__shape_count(s->w_shape[i]);
        if (backward)
            floats *= 2.0;
        char params[256], in[48], out[48];
        snprintf(params, sizeof params, "%s", bc->params);
        one_line(params);
        printf("{\"model\":\"%s\",\"op\":\"%s\",\"params\":\"%s\",\"in\":\"%s\",\"out\":\"%s\","
               "\"dir\":\"%s\",\"class\":\"%s\",\"compile_ms\":%.2f,\"first_ms\":%.3f,"
               "\"min_ms\":%.4f,\"median_ms\":%.4f,\"p90_ms\":%.4f,\"wall_median_ms\":%.4f,"
               "\"gflops\":%.2f,\"gbps\":%.2f}\n",
               bc->model, bc->op, params, clnet__shape_str(s->in_shape[0], in, sizeof in),
               clnet__shape_str(s->out_shape, out, sizeof out),
               backward ? "backward" : (training ? "forward-train" : "forward"),
               clnet_device_class_name(clnet_context_class(ctx)), compile_ms, first_ms, dev[0], med,
               p90, wall[o->repeats / 2], med > 0 ? 2.0 * macs / (med * 1e6) : 0.0,
               med > 0 ? floats * 4.0 / (med * 1e6) : 0.0);
        fflush(stdout);
    }
    free(dev);
    free(wall);
    return st;
}

int main(int argc, char **argv)
{
    options o = {1, 10, 0, 0, NULL, NULL};
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
            o.batch = atoi(argv[++i]);
        else if (strcmp(argv[i], "--repeats") == 0 && i + 1 < argc)
            o.repeats = atoi(argv[++i]);
        else if (strcmp(argv[i], "--class") == 0 && i + 1 < argc)
            o.cls = argv[++i];
        else if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc)
            o.filter = argv[++i];
        else if (strcmp(argv[i], "--backward") == 0)
            o.backward = 1;
        else if (strcmp(argv[i], "--cold") == 0)
            o.cold = 1;
        else {
            fprintf(stderr, "usage: bench_ops [--batch N] [--repeats R] [--class dgpu|igpu|cpu] "
                            "[--filter TEXT] [--backward] [--cold]\n");
            return 2;
        }
    }
    if (o.batch < 1 || o.repeats < 1) {
        fprintf(stderr, "bench_ops: --batch and --repeats must be positive\n");
        return 2;
    }
    char err[2048] = "";
    clnet_context_options co = {0};
    co.error = err;
    co.error_len = sizeof err;
    if (o.cold)
        co.cache_dir = "";
    if (o.cls && clnet_device_class_parse(o.cls, &co.device_class) != CLNET_OK) {
        fprintf(stderr, "bench_ops: --class %s: expected dgpu, igpu or cpu\n", o.cls);
        return 2;
    }
    clnet_context *ctx = NULL;
    if (clnet_context_create(&co, &ctx) != CLNET_OK) {
        fprintf(stderr, "bench_ops: %s\n", err);
        return 1;
    }
    fprintf(stderr, "bench_ops: %s, class %s, batch %d, %d repeats\n",
            clnet_context_device(ctx)->name, clnet_device_class_name(clnet_context_class(ctx)),
            o.batch, o.repeats);
    int failures = 0;
    for (size_t i = 0; i < CLNET_COUNTOF(cases); ++i) {
        const bench_case *bc = &cases[i];
        const clnet__op_desc *op = clnet__op_find(bc->op);
        if (!op) {
            fprintf(stderr, "bench_ops: op %s is not registered, skipped\n", bc->op);
            continue;
        }
        if (o.filter && !strstr(bc->op, o.filter) && !strstr(bc->model, o.filter))
            continue;
        setup s;
        clnet_status st = make_setup(ctx, op, bc, o.batch, &s);
        if (st == CLNET_OK)
            st = bench_dir(ctx, op, bc, &s, &o, 0);
        if (st == CLNET_OK && o.backward)
            st = bench_dir(ctx, op, bc, &s, &o, 1);
        if (st != CLNET_OK) {
            fprintf(stderr, "bench_ops: %s %s: %s: %s\n", bc->model, bc->op,
                    clnet_status_string(st), clnet_context_error(ctx));
            ++failures;
        }
        setup_free(&s);
    }
    clnet_context_destroy(ctx);
    return failures ? 1 : 0;
}
