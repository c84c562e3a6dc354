/* gemm.c - bench_gemm: each GEMM implementation (src/gemm/gemm.c) on 1024^3 and the
 * ResNet-50 224x224 convolutions as GEMMs at batch 1 (m = H*W, n = Cout,
 * k = kh*kw*Cin) plus its dense layer at batch 1, 2, 4 and 8 and the input gradient
 * of that layer (NT), the small-m shapes of the gemv path. Warm-up, then the median of several runs
 * of wall time around clFinish (every enqueue of the call, packing included; CLBlast
 * reports only its last kernel's event), of the summed profiling-event time and of
 * the process CPU time (cpu_ms). One JSON line per (impl, shape) on stdout. A
 * benchmark, never a test.
 *
 *   bench_gemm [--impl clblast|packed|tiled|gemv|all] [--class dgpu|igpu|cpu]
 *              [--repeats R] [--shape MxNxK] [--trans NN|NT|TN|TT] [--only TEXT]
 * --trans applies to the shapes without their own; --only keeps the shapes whose
 * name holds TEXT. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gemm/gemm.h"
#include "tensor/tensor.h"

typedef struct shape {
    const char *name;
    int m, n, k;
    const char *trans; /* NULL: --trans */
} shape;

/* bench/compare/openblas_gemm.py times OpenBLAS on the same list: change both. */
static const shape shapes[] = {
    {"square", 1024, 1024, 1024, NULL},
    {"resnet50 conv1 7x7/2", 112 * 112, 64, 147, NULL},
    {"resnet50 res2 1x1 64", 56 * 56, 64, 64, NULL},
    {"resnet50 res2 3x3 64", 56 * 56, 64, 576, NULL},
    {"resnet50 res2 1x1 256", 56 * 56, 256, 64, NULL},
    {"resnet50 res3 3x3 128", 28 * 28, 128, 1152, NULL},
    {"resnet50 res4 3x3 256", 14 * 14, 256, 2304, NULL},
    {"resnet50 res5 3x3 512", 7 * 7, 512, 4608, NULL},
    {"resnet50 fc", 1, 1000, 2048, "NN"},
    {"resnet50 fc dx", 1, 2048, 1000, "NT"},
    {"resnet50 fc batch 2", 2, 1000, 2048, "NN"},
    {"resnet50 fc batch 4", 4, 1000, 2048, "NN"},
    {"resnet50 fc batch 8", 8, 1000, 2048, "NN"},
    {"resnet50 fc dx batch 8", 8, 2048, 1000, "NT"},
};

/* CPU seconds of every thread of the process: on a shared machine, less disturbed by
 * other processes than wall time (though blind to one thread idling). */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static clnet_status bench_one(clnet_context *ctx, clnet__gemm_impl impl, const shape *s,
                              int trans_a, int trans_b, int repeats)
{
    clnet_tensor *ta = NULL, *tb = NULL, *tc = NULL;
    double *wall = calloc((size_t)repeats, sizeof *wall),
           *dev = calloc((size_t)repeats, sizeof *dev), *cpu = calloc((size_t)repeats, sizeof *cpu);
    clnet_status st = wall && dev && cpu ? CLNET_OK : CLNET_ERR_OUT_OF_MEMORY;
    if (st == CLNET_OK)
        st = clnet_tensor_create(ctx, (clnet_shape){1, 1, s->m, s->k}, &ta);
    if (st == CLNET_OK)
        st = clnet_tensor_create(ctx, (clnet_shape){1, 1, s->k, s->n}, &tb);
    if (st == CLNET_OK)
        st = clnet_tensor_create(ctx, (clnet_shape){1, 1, s->m, s->n}, &tc);
    if (st == CLNET_OK)
        st = clnet_tensor_init(ta, CLNET_INIT_UNIFORM, -1.0f, 1.0f, 1);
    if (st == CLNET_OK)
        st = clnet_tensor_init(tb, CLNET_INIT_UNIFORM, -1.0f, 1.0f, 2);
    const clnet__gemm_args g = {trans_a,
                                trans_b,
                                s->m,
                                s->n,
                                s->k,
                                1.0f,
                                0.0f,
                                ta ? ta->buf : NULL,
                                0,
                                trans_a ? s->m : s->k,
                                tb ? tb->buf : NULL,
                                0,
                                trans_b ? s->k : s->n,
                                tc ? tc->buf : NULL,
                                0,
                                s->n,
                                NULL};
    double first_ms = 0.0;
    if (st == CLNET_OK) {
        /* First run (compiles), then a warm-up. */
        const double t0 = clnet__now();
        st = clnet__gemm_with(ctx, impl, &g);
        if (st == CLNET_OK)
            st = clnet_context_finish(ctx);
        first_ms = (clnet__now() - t0) * 1e3;
    }
    if (st == CLNET_OK)
        st = clnet__gemm_with(ctx, impl, &g);
    if (st == CLNET_OK)
        st = clnet_context_finish(ctx);
    for (int r = 0; r < repeats && st == CLNET_OK; ++r) {
        const double t0 = clnet__now(), c0 = cpu_now();
        clnet__profile_begin(ctx);
        st = clnet__gemm_with(ctx, impl, &g);
        double d = 0.0;
        const clnet_status st2 = clnet__profile_end(ctx, &d);
        if (st == CLNET_OK)
            st = st2;
        wall[r] = (clnet__now() - t0) * 1e3;
        cpu[r] = (cpu_now() - c0) * 1e3;
        dev[r] = d;
    }
    if (st == CLNET_OK) {
        qsort(wall, (size_t)repeats, sizeof *wall, cmp_double);
        qsort(dev, (size_t)repeats, sizeof *dev, cmp_double);
        qsort(cpu, (size_t)repeats, sizeof *cpu, cmp_double);
        const double ms = wall[repeats / 2], flop = 2.0 * s->m * (double)s->n * s->k;
        printf("{\"impl\":\"%s\",\"class\":\"%s\",\"shape\":\"%s\",\"trans\":\"%c%c\",\"m\":%d,"
               "\"n\":%d,\"k\":%d,\"first_ms\":%.2f,\"ms\":%.4f,\"min_ms\":%.4f,"
               "\"device_ms\":%.4f,\"cpu_ms\":%.4f,\"gflops\":%.2f}\n",
               clnet__gemm_impl_name(impl), clnet_device_class_name(clnet_context_class(ctx)),
               s->name, trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', s->m, s->n, s->k, first_ms, ms,
               wall[0], dev[repeats / 2], cpu[repeats / 2], ms > 0 ? flop / (ms * 1e6) : 0.0);
        fflush(stdout);
    }
    clnet_tensor_destroy(ta);
    clnet_tensor_destroy(tb);
    clnet_tensor_destroy(tc);
    free(wall);
    free(dev);
    free(cpu);
    return st;
}

static int usage(void)
{
    fprintf(stderr, "usage: bench_gemm [--impl clblast|packed|tiled|gemv|all] "
                    "[--class dgpu|igpu|cpu] [--repeats R] [--shape MxNxK] [--trans NN|NT|TN|TT] "
                    "[--only TEXT]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *impl_text = "all", *cls = NULL, *trans = "NN", *only = "";
    int repeats = 7;
    shape custom = {"custom", 0, 0, 0, NULL};
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--impl") == 0 && i + 1 < argc)
            impl_text = argv[++i];
        else if (strcmp(argv[i], "--class") == 0 && i + 1 < argc)
            cls = argv[++i];
        else if (strcmp(argv[i], "--repeats") == 0 && i + 1 < argc)
            repeats = atoi(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--trans") == 0 && i + 1 < argc && strlen(argv[i + 1]) == 2)
            trans = argv[++i];
        else if (strcmp(argv[i], "--shape") == 0 && i + 1 < argc &&
                 sscanf(argv[i + 1], "%dx%dx%d", &custom.m, &custom.n, &custom.k) == 3)
            ++i;
        else
            return usage();
    }
    if (repeats < 1 || custom.m < 0 || !strchr("NT", trans[0]) || !strchr("NT", trans[1]))
        return usage();
    clnet__gemm_impl impls[CLNET_GEMM_IMPL_COUNT];
    int n_impls = 0;
    for (int i = CLNET_GEMM_CLBLAST; i < CLNET_GEMM_IMPL_COUNT; ++i)
        if (strcmp(impl_text, "all") == 0 ||
            strcmp(impl_text, clnet__gemm_impl_name((clnet__gemm_impl)i)) == 0)
            impls[n_impls++] = (clnet__gemm_impl)i;
    if (n_impls == 0)
        return usage();
    char err[2048] = "";
    clnet_context_options co = {0};
    co.error = err;
    co.error_len = sizeof err;
    if (cls && clnet_device_class_parse(cls, &co.device_class) != CLNET_OK)
        return usage();
    clnet_context *ctx = NULL;
    if (clnet_context_create(&co, &ctx) != CLNET_OK) {
        fprintf(stderr, "bench_gemm: %s\n", err);
        return 1;
    }
    fprintf(stderr, "bench_gemm: %s, class %s, %d repeats\n", clnet_context_device(ctx)->name,
            clnet_device_class_name(clnet_context_class(ctx)), repeats);
    const int n_shapes = custom.m > 0 ? 1 : (int)CLNET_COUNTOF(shapes);
    int failures = 0;
    for (int i = 0; i < n_impls; ++i)
        for (int j = 0; j < n_shapes; ++j) {
            const shape *s = custom.m > 0 ? &custom : &shapes[j];
            const char *t = s->trans ? s->trans : trans;
            if (!strstr(s->name, only))
                continue;
            clnet_status st = bench_one(ctx, impls[i], s, t[0] == 'T', t[1] == 'T', repeats);
            if (st != CLNET_OK) {
                fprintf(stderr, "bench_gemm: %s %s: %s: %s\n", clnet__gemm_impl_name(impls[i]),
                        s->name, clnet_status_string(st), clnet_context_error(ctx));
                ++failures;
            }
        }
    clnet_context_destroy(ctx);
    return failures ? 1 : 0;
}
