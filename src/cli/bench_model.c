/* bench_model.c - `clnet bench model MODEL`: latency and images/s of inference and of a
 * training step for each batch size, with compile, first-run and steady-state time
 * apart, and a per-layer profile from OpenCL profiling events (clnet_model_profile).
 * Text or JSON lines. A benchmark: it measures and asserts nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

typedef struct options {
    clnet_cli_model model;
    const char *device, *cls;
    int batches[16], n_batches, train, repeats, json, profile, unfused, startup, alternate;
    int freeze; /* -1: none */
} options;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clnet bench model MODEL [--batch 1,8,32] [--train] [--freeze N] [--repeats R]\n"
            "                         [--alternate]\n"
            "                         [--profile] [--unfused] [--startup] [--json] [--device "
            "N|NAME]\n"
            "                         [--class C] [model options]\n\n"
            "Times MODEL (a zoo name or a spec file; random weights) on the device: inference\n"
            "(the fused plan) and, with --train, a training step (forward, loss, backward,\n"
            "SGD update) for each batch size. Reports the first run (with the kernel\n"
            "compiles it triggers) apart from the steady state (min / median / p90 of R runs\n"
            "after it), images/s and GFLOP/s; --profile adds each fused group's device time,\n"
            "GFLOP/s, share of the total and the kernels chosen. --unfused runs every layer as\n"
            "its own op with a buffer per tensor (what the scheduler saves). --startup times\n"
            "a first and a second `clnet predict` of the model as new processes, the first\n"
            "with empty program caches. The \"tuned\" column counts the GEMMs and convolution\n"
            "algorithms of one run that came from the tuning database (`clnet tune`). --json "
            "prints one JSON\n"
            "object per batch and mode, for comparing devices.\n\n"
            "options:\n"
            "  --batch LIST   batch sizes, comma-separated (default 1)\n"
            "  --alternate    runs take turns between the batch and one image fewer (a\n"
            "                 partial batch); times are per run, images/s counts both\n"
            "  --repeats R    steady-state runs (default 10)\n"
            "  --freeze N     train only the last N layers with weights (clnet_model_freeze)\n"
            "%s",
            clnet_cli_model_usage);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One run: an inference forward waited for, or a training step. */
static clnet_status run_once(clnet_context *ctx, clnet_model *m, clnet_optimizer *o,
                             clnet_tensor *x, const int *labels)
{
    if (o)
        return clnet_train_step(o, x, labels, 1e-3f, 0.0f, NULL, NULL);
    clnet_tensor *y = NULL;
    const clnet_status st = clnet_model_forward(m, x, 0, &y);
    return st == CLNET_OK ? clnet_context_finish(ctx) : st;
}

typedef struct result {
    double first_ms, compile_ms, min_ms, median_ms, p90_ms;
    double images; /* per run: the batch, or half of a batch and one fewer (--alternate) */
    int tuned;     /* GEMMs and convolution algorithms of the first run from the database */
    const clnet_layer_profile *rows;
    int n_rows;
} result;

static clnet_status measure(clnet_context *ctx, clnet_model *m, const options *o, int batch,
                            int training, result *r)
{
    const clnet_graph *g = clnet_model_graph(m);
    clnet_shape s = clnet_graph_layer_shape(g, 0);
    const int classes = clnet_graph_layer_shape(g, clnet_graph_layer_count(g) - 1).c;
    s.n = batch;
    clnet_tensor *x = NULL, *fewer = NULL;
    clnet_optimizer *opt = NULL;
    int *labels = calloc((size_t)batch, sizeof *labels);
    double *t = calloc((size_t)o->repeats, sizeof *t);
    clnet_status st = labels && t ? clnet_tensor_create(ctx, s, &x) : CLNET_ERR_OUT_OF_MEMORY;
    if (st == CLNET_OK)
        st = clnet_tensor_init(x, CLNET_INIT_UNIFORM, -1.0f, 1.0f, 7);
    const int alternate = o->alternate && batch > 1;
    r->images = alternate ? batch - 0.5 : batch;
    s.n = batch - 1;
    if (st == CLNET_OK && alternate)
        st = clnet_tensor_create(ctx, s, &fewer);
    if (st == CLNET_OK && alternate)
        st = clnet_tensor_init(fewer, CLNET_INIT_UNIFORM, -1.0f, 1.0f, 8);
    for (int i = 0; labels && i < batch; ++i)
        labels[i] = i % classes;
    if (st == CLNET_OK && training)
        st = clnet_optimizer_create(m, NULL, &opt);
    clnet_context_stats before, after;
    clnet_context_get_stats(ctx, &before);
    double t0 = now_s();
    if (st == CLNET_OK)
        st = run_once(ctx, m, opt, x, labels);
    r->first_ms = (now_s() - t0) * 1e3;
    clnet_context_get_stats(ctx, &after);
    r->compile_ms = (after.build_seconds - before.build_seconds) * 1e3;
    r->tuned = after.tune_hits - before.tune_hits;
    for (int i = 0; st == CLNET_OK && i < o->repeats; ++i) {
        t0 = now_s();
        st = run_once(ctx, m, opt, x, labels);
        if (st == CLNET_OK && alternate) /* the mean of the two runs */
            st = run_once(ctx, m, opt, fewer, labels);
        t[i] = (now_s() - t0) * 1e3 / (alternate ? 2 : 1);
    }
    if (st == CLNET_OK) {
        qsort(t, (size_t)o->repeats, sizeof *t, cmp_double);
        r->min_ms = t[0];
        r->median_ms = t[o->repeats / 2];
        r->p90_ms = t[(o->repeats * 9) / 10 < o->repeats ? (o->repeats * 9) / 10 : o->repeats - 1];
    }
    if (st == CLNET_OK && o->profile)
        st = clnet_model_profile(m, x, training, &r->rows, &r->n_rows);
    clnet_optimizer_destroy(opt);
    clnet_tensor_destroy(x);
    clnet_tensor_destroy(fewer);
    free(labels);
    free(t);
    return st;
}

static void print_profile(const result *r)
{
    double total = 0.0;
    for (int i = 0; i < r->n_rows; ++i)
        total += r->rows[i].forward_ms + r->rows[i].backward_ms;
    printf("  %-4s %-56s %-44s %9s %9s %8s %6s\n", "step", "layers", "kernels", "fwd ms", "bwd ms",
           "GFLOP/s", "%");
    for (int i = 0; i < r->n_rows; ++i) {
        const clnet_layer_profile *p = &r->rows[i];
        const double ms = p->forward_ms + p->backward_ms;
        const double gf = p->forward_ms > 0 ? 2.0 * p->mult_adds / (p->forward_ms * 1e6) : 0.0;
        printf("  %-4d %-56.56s %-44.44s %9.3f %9.3f %8.1f %6.1f\n", i, p->layers, p->kernels,
               p->forward_ms, p->backward_ms, gf, total > 0 ? 100.0 * ms / total : 0.0);
    }
    printf("  device time of the steps one at a time: %.2f ms\n", total);
}

static void report(const options *o, const char *title, clnet_shape in, const char *device,
                   int batch, int training, double mult_adds, const result *r)
{
    const double per_step = training ? 3.0 : 1.0; /* backward: two GEMMs per forward one */
    const double gflops = 2.0 * per_step * mult_adds * r->images / (r->median_ms * 1e6);
    if (!o->json) {
        printf("%-9s %5d %10.1f %10.1f %10.2f %10.2f %10.2f %9.1f %8.1f %6d\n",
               training ? "training" : "inference", batch, r->first_ms, r->compile_ms, r->min_ms,
               r->median_ms, r->p90_ms, r->images * 1e3 / r->median_ms, gflops, r->tuned);
        if (r->rows)
            print_profile(r);
        return;
    }
    printf("{\"model\":");
    clnet_cli_json_string(title);
    printf(",\"input\":\"%dx%dx%d\",\"batch\":%d,\"mode\":\"%s\",\"fused\":%s,\"freeze\":%d,"
           "\"device\":",
           in.h, in.w, in.c, batch, training ? "training" : "inference",
           o->unfused ? "false" : "true", o->freeze);
    clnet_cli_json_string(device);
    printf(",\"first_ms\":%.3f,\"compile_ms\":%.3f,\"min_ms\":%.3f,\"median_ms\":%.3f,"
           "\"p90_ms\":%.3f,\"images_per_s\":%.2f,\"gflops\":%.2f,\"tuned_gemms\":%d",
           r->first_ms, r->compile_ms, r->min_ms, r->median_ms, r->p90_ms,
           r->images * 1e3 / r->median_ms, gflops, r->tuned);
    if (o->alternate)
        printf(",\"alternate\":true");
    if (r->rows) {
        printf(",\"layers\":[");
        for (int i = 0; i < r->n_rows; ++i) {
            printf("%s{\"layers\":", i ? "," : "");
            clnet_cli_json_string(r->rows[i].layers);
            printf(",\"kernels\":");
            clnet_cli_json_string(r->rows[i].kernels);
            printf(",\"forward_ms\":%.4f,\"backward_ms\":%.4f,\"mult_adds\":%.0f}",
                   r->rows[i].forward_ms, r->rows[i].backward_ms, r->rows[i].mult_adds);
        }
        printf("]");
    }
    printf("}\n");
    fflush(stdout);
}

static int parse(options *o, int argc, char **argv)
{
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        const int valued = !strcmp(a, "--batch") || !strcmp(a, "--repeats") ||
                           !strcmp(a, "--device") || !strcmp(a, "--class") ||
                           !strcmp(a, "--freeze");
        if (valued && i + 1 >= argc)
            return clnet_cli_error("bench", "%s needs a value (see --help)", a);
        if (!strcmp(a, "--batch")) {
            o->n_batches = 0;
            for (char *p = argv[++i], *end = NULL; *p && o->n_batches < 16;
                 p = end + (*end == ',')) {
                const long b = strtol(p, &end, 10);
                if (end == p || b < 1 || b > 65536 || (*end && *end != ','))
                    return clnet_cli_error("bench", "--batch: expected sizes like 1,8,32, got '%s'",
                                           argv[i]);
                o->batches[o->n_batches++] = (int)b;
            }
        } else if (!strcmp(a, "--repeats")) {
            if ((o->repeats = atoi(argv[++i])) < 1)
                return clnet_cli_error("bench", "--repeats: expected a positive number");
        } else if (!strcmp(a, "--freeze")) {
            char *end = NULL;
            const long n = strtol(argv[++i], &end, 10);
            if (end == argv[i] || *end || n < 0 || n > 1000000)
                return clnet_cli_error("bench",
                                       "--freeze: expected a number of layers >= 0, got "
                                       "'%s'",
                                       argv[i]);
            o->freeze = (int)n;
        } else if (!strcmp(a, "--device")) {
            o->device = argv[++i];
        } else if (!strcmp(a, "--class")) {
            o->cls = argv[++i];
        } else if (!strcmp(a, "--train")) {
            o->train = 1;
        } else if (!strcmp(a, "--json")) {
            o->json = 1;
        } else if (!strcmp(a, "--profile")) {
            o->profile = 1;
        } else if (!strcmp(a, "--unfused")) {
            o->unfused = 1;
        } else if (!strcmp(a, "--startup")) {
            o->startup = 1;
        } else if (!strcmp(a, "--alternate")) {
            o->alternate = 1;
        } else {
            const int taken = clnet_cli_model_arg("bench", argc, argv, &i, &o->model);
            if (taken < 0)
                return 1;
            static const char *const known[] = {"--batch",     "--repeats", "--device",
                                                "--class",     "--train",   "--json",
                                                "--profile",   "--unfused", "--startup",
                                                "--alternate", "--help",    CLNET_CLI_MODEL_OPTIONS,
                                                NULL};
            if (taken == 0)
                return clnet_cli_unknown("bench", a, known);
        }
    }
    return -1; /* go on */
}

int clnet_cli_bench_model(int argc, char **argv)
{
    options o;
    memset(&o, 0, sizeof o);
    o.batches[0] = 1;
    o.n_batches = 1;
    o.repeats = 10;
    o.freeze = -1;
    const int parsed = parse(&o, argc, argv);
    if (parsed >= 0)
        return parsed;
    const char *title = NULL;
    clnet_graph *g = clnet_cli_model_build("bench", &o.model, &title);
    if (!g)
        return 1;
    clnet_context *ctx = clnet_cli_context("bench", o.device, o.cls);
    clnet_model *m = NULL;
    int rc = ctx ? 0 : 1;
    const clnet_model_options mo = {1, o.unfused, o.unfused};
    if (rc == 0 && clnet_model_create(ctx, g, &mo, &m) != CLNET_OK)
        rc = clnet_cli_error("bench", "%s: %s", title, clnet_context_error(ctx));
    int64_t trainable = 0;
    if (rc == 0 && o.freeze >= 0 && clnet_model_freeze(m, o.freeze, &trainable) != CLNET_OK)
        rc = clnet_cli_error("bench", "%s: %s", title, clnet_context_error(ctx));
    const clnet_shape in = clnet_graph_layer_shape(g, 0);
    const char *device = ctx ? clnet_context_device(ctx)->name : "";
    if (rc == 0 && !o.json) {
        printf("%s %dx%dx%d on %s (%s kernels%s), %.2f G mult-adds per image\n", title, in.h, in.w,
               in.c, device, clnet_device_class_name(clnet_context_class(ctx)),
               o.unfused ? ", unfused" : "", clnet_graph_flops(g) * 1e-9);
        if (o.freeze >= 0)
            printf("training the last %d layers with weights: %lld trainable parameters\n",
                   o.freeze, (long long)trainable);
        clnet_context_stats s;
        clnet_context_get_stats(ctx, &s);
        if (s.tune_db[0])
            printf("tuning database %s: %d entries for this device\n", s.tune_db, s.tune_entries);
        printf("%-9s %5s %10s %10s %10s %10s %10s %9s %8s %6s\n", "mode", "batch", "first ms",
               "compile ms", "min ms", "median ms", "p90 ms", "img/s", "GFLOP/s", "tuned");
    }
    for (int mode = 0; rc == 0 && mode <= o.train; ++mode)
        for (int b = 0; rc == 0 && b < o.n_batches; ++b) {
            result r;
            memset(&r, 0, sizeof r);
            if (measure(ctx, m, &o, o.batches[b], mode, &r) != CLNET_OK)
                rc = clnet_cli_error("bench", "%s batch %d: %s", title, o.batches[b],
                                     clnet_context_error(ctx));
            else
                report(&o, title, in, device, o.batches[b], mode, clnet_graph_flops(g), &r);
        }
    if (rc == 0 && o.startup)
        rc = clnet_cli_bench_startup(ctx, m, o.device, o.cls, o.json);
    clnet_model_destroy(m);
    clnet_context_destroy(ctx);
    clnet_graph_destroy(g);
    return rc;
}
