/* bench.c - clnet_device_bench_run: what a device sustains, in the manner of clpeak:
 * FP32 GFLOP/s per vector width, global memory read and copy GB/s, host <-> device
 * transfers, kernel launch latency and program compile times.
 * Kernels: cl/bench.cl. Tests: tests/ops/test_bench_device.c. Command:
 * src/cli/bench_device.c (`clnet bench device`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device/cache.h"
#include "device/cl_sources.h"
#include "device/runtime.h"

/* How much one run measures. */
typedef struct bench_sizes {
    double target_ms;    /* device time a peak launch is scaled to; 0: one round only */
    int repeats;         /* timed runs after the warm-up, of which the median is kept */
    size_t memory_bytes; /* the buffer read (and each of the copy's two) */
    size_t transfer_bytes;
    int launches;     /* empty kernels timed */
    int items_per_cu; /* peak work-items per compute unit; 0: one work-group */
} bench_sizes;

/* The full run reads 256 MiB, far beyond any last-level cache (32 MiB L3 on the
 * reference CPU); quick still reads twice such a cache. */
static const bench_sizes full_sizes = {40.0, 7, (size_t)256 << 20, (size_t)256 << 20, 2000, 2048};
static const bench_sizes quick_sizes = {4.0, 3, (size_t)64 << 20, (size_t)16 << 20, 200, 2048};
static const bench_sizes tiny_sizes = {0.0, 1, (size_t)64 << 10, (size_t)64 << 10, 3, 0};

/* Peak kernels run this many rounds at most, so a slow device cannot overflow the count. */
#define MAX_ITERS (1 << 24)

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of v[0..n), n >= 1; sorts v. */
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static size_t floor_pow2(size_t x)
{
    size_t p = 1;
    while (p <= x / 2)
        p *= 2;
    return p;
}

/* A power-of-two work-group size for kernel: at most 256, the kernel's and the
 * device's limit, and limit (the global size, so it divides it). */
static clnet_status local_size(clnet_context *ctx, const char *kernel, size_t limit, size_t *out)
{
    cl_kernel k = NULL;
    CLNET_TRY(clnet__kernel(ctx, "bench", kernel, &k));
    size_t wg = 0;
    CLNET_CL_TRY(ctx, clGetKernelWorkGroupInfo(k, ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg,
                                               &wg, NULL));
    if (wg > ctx->info.max_work_group_size)
        wg = ctx->info.max_work_group_size;
    if (wg > 256)
        wg = 256;
    if (wg > limit)
        wg = limit;
    *out = floor_pow2(wg ? wg : 1);
    return CLNET_OK;
}

/* One launch of a cl/bench.cl kernel, waited for; *ms gets its device time. */
static clnet_status timed(clnet_context *ctx, const char *kernel, const clnet_arg *args, int n_args,
                          size_t global, size_t local, double *ms)
{
    clnet__profile_begin(ctx);
    const clnet_status st =
        clnet__launch_local(ctx, "bench", kernel, args, n_args, 1, &global, &local);
    double dev = 0.0;
    const clnet_status end = clnet__profile_end(ctx, &dev); /* also when the launch failed */
    *ms = dev;
    return st != CLNET_OK ? st : end;
}

/* The median device time of sz->repeats launches, after one warm-up launch. */
static clnet_status timed_median(clnet_context *ctx, const bench_sizes *sz, const char *kernel,
                                 const clnet_arg *args, int n_args, size_t global, size_t local,
                                 double *ms)
{
    double t[16];
    const int n = sz->repeats < (int)CLNET_COUNTOF(t) ? sz->repeats : (int)CLNET_COUNTOF(t);
    CLNET_TRY(timed(ctx, kernel, args, n_args, global, local, &t[0]));
    for (int i = 0; i < n; ++i)
        CLNET_TRY(timed(ctx, kernel, args, n_args, global, local, &t[i]));
    *ms = median(t, n);
    return CLNET_OK;
}

/* FP32 multiply-add throughput of bench_peak_<type> (width 1 << w): the round count is
 * scaled until a launch takes about sz->target_ms of device time. */
static clnet_status peak(clnet_context *ctx, const bench_sizes *sz, cl_mem out, int w,
                         double *gflops)
{
    static const char *const kernels[5] = {"bench_peak_float", "bench_peak_float2",
                                           "bench_peak_float4", "bench_peak_float8",
                                           "bench_peak_float16"};
    /* PEAK_ACC of cl/bench.cl: CLNET_CPU is defined for the CPU class (variants.c). */
    const double acc = ctx->cls == CLNET_CLASS_CPU ? 16.0 : 8.0;
    size_t local = 0;
    CLNET_TRY(local_size(ctx, kernels[w], 256, &local));
    const size_t items =
        sz->items_per_cu
            ? clnet__round_up((size_t)ctx->info.compute_units * sz->items_per_cu, local)
            : local;
    /* m < 1 and c keep every chain near c / (1 - m) = 1 (see cl/bench.cl). */
    int iters = 1;
    clnet_arg args[] = {CLNET_ARG_MEM(out), CLNET_ARG_FLOAT(0.999f), CLNET_ARG_FLOAT(0.001f),
                        CLNET_ARG_INT(iters)};
    double ms = 0.0;
    CLNET_TRY(timed(ctx, kernels[w], args, 4, items, local, &ms)); /* compiles for this size */
    while (sz->target_ms > 0.0 && iters < MAX_ITERS) {
        CLNET_TRY(timed(ctx, kernels[w], args, 4, items, local, &ms));
        if (ms >= sz->target_ms / 4)
            break;
        /* Grow 16x while the time is too short to trust, then in proportion. */
        const double grow = ms * 16.0 < sz->target_ms / 4 ? 16.0 : sz->target_ms / ms;
        iters = (int)((double)iters * grow < MAX_ITERS ? (double)iters * grow : MAX_ITERS);
        args[3] = CLNET_ARG_INT(iters);
    }
    if (sz->target_ms > 0.0 && ms > 0.0) {
        const double scaled = (double)iters * sz->target_ms / ms;
        iters = scaled < 1.0 ? 1 : scaled > MAX_ITERS ? MAX_ITERS : (int)scaled;
        args[3] = CLNET_ARG_INT(iters);
    }
    CLNET_TRY(timed_median(ctx, sz, kernels[w], args, 4, items, local, &ms));
    const double flops = (double)items * iters * 16.0 * acc * 2.0 * (double)(1 << w);
    *gflops = ms > 0.0 ? flops / (ms * 1e6) : 0.0;
    return CLNET_OK;
}

/* Read and copy GB/s of the float4 (v = 0) or float16 (v = 1) kernels over buffers of
 * bytes each (a multiple of 64, a power of two). */
static clnet_status memory(clnet_context *ctx, const bench_sizes *sz, cl_mem a, cl_mem b,
                           cl_mem sums, size_t bytes, int v, double *read_gbs, double *copy_gbs)
{
    static const char *const reads[2] = {"bench_read_float4", "bench_read_float16"};
    static const char *const copies[2] = {"bench_copy_float4", "bench_copy_float16"};
    const size_t n = bytes / (v ? 64 : 16); /* vectors */
    /* Work-items: a power of two, at most 2048 per compute unit and one per vector. */
    size_t items = floor_pow2((size_t)ctx->info.compute_units * 2048);
    if (items > n)
        items = n;
    const int per_item = (int)(n / items);
    size_t local = 0;
    double ms = 0.0;
    CLNET_TRY(local_size(ctx, reads[v], items, &local));
    const clnet_arg read_args[] = {CLNET_ARG_MEM(a), CLNET_ARG_MEM(sums), CLNET_ARG_INT(per_item)};
    CLNET_TRY(timed_median(ctx, sz, reads[v], read_args, 3, items, local, &ms));
    *read_gbs = ms > 0.0 ? (double)bytes / (ms * 1e6) : 0.0;
    CLNET_TRY(local_size(ctx, copies[v], items, &local));
    const clnet_arg copy_args[] = {CLNET_ARG_MEM(a), CLNET_ARG_MEM(b), CLNET_ARG_INT(per_item)};
    CLNET_TRY(timed_median(ctx, sz, copies[v], copy_args, 3, items, local, &ms));
    *copy_gbs = ms > 0.0 ? 2.0 * (double)bytes / (ms * 1e6) : 0.0;
    return CLNET_OK;
}

/* One host <-> device transfer of bytes, waited for; kind 0: write, 1: read, 2: map and
 * write, 3: map and read. */
static clnet_status transfer(clnet_context *ctx, int kind, cl_mem buf, cl_mem mapped, void *host,
                             size_t bytes)
{
    if (kind == 0)
        CLNET_CL_TRY(ctx,
                     clEnqueueWriteBuffer(ctx->queue, buf, CL_TRUE, 0, bytes, host, 0, NULL, NULL));
    else if (kind == 1)
        CLNET_CL_TRY(ctx,
                     clEnqueueReadBuffer(ctx->queue, buf, CL_TRUE, 0, bytes, host, 0, NULL, NULL));
    if (kind < 2)
        return CLNET_OK;
    cl_int err = CL_SUCCESS;
    void *p = clEnqueueMapBuffer(ctx->queue, mapped, CL_TRUE,
                                 kind == 2 ? CL_MAP_WRITE_INVALIDATE_REGION : CL_MAP_READ, 0, bytes,
                                 0, NULL, NULL, &err);
    if (err != CL_SUCCESS)
        return clnet__cl_fail(ctx, err, "clEnqueueMapBuffer", __FILE__, __LINE__);
    if (kind == 2)
        memcpy(p, host, bytes);
    else
        memcpy(host, p, bytes);
    CLNET_CL_TRY(ctx, clEnqueueUnmapMemObject(ctx->queue, mapped, p, 0, NULL, NULL));
    CLNET_CL_TRY(ctx, clFinish(ctx->queue));
    return CLNET_OK;
}

/* The four transfer figures, median wall GB/s of sz->repeats transfers after a warm-up. */
static clnet_status transfers(clnet_context *ctx, const bench_sizes *sz, size_t bytes,
                              clnet_device_bench *out)
{
    double *const gbs[4] = {&out->host_to_device_gbs, &out->device_to_host_gbs,
                            &out->map_host_to_device_gbs, &out->map_device_to_host_gbs};
    cl_mem buf = NULL, mapped = NULL;
    char *host = malloc(bytes);
    clnet_status st =
        host ? clnet__buffer(ctx, bytes, "the transfer benchmark", &buf)
             : clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory (%zu bytes)", bytes);
    if (st == CLNET_OK) {
        memset(host, 1, bytes); /* page faults are not part of a transfer */
        cl_int err = CL_SUCCESS;
        mapped =
            clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, bytes, NULL, &err);
        if (err != CL_SUCCESS)
            st = clnet__cl_fail(ctx, err, "clCreateBuffer", __FILE__, __LINE__);
    }
    double t[16];
    const int n = sz->repeats < (int)CLNET_COUNTOF(t) ? sz->repeats : (int)CLNET_COUNTOF(t);
    for (int kind = 0; st == CLNET_OK && kind < 4; ++kind) {
        st = transfer(ctx, kind, buf, mapped, host, bytes);
        for (int i = 0; st == CLNET_OK && i < n; ++i) {
            const double t0 = clnet__now();
            st = transfer(ctx, kind, buf, mapped, host, bytes);
            t[i] = clnet__now() - t0;
        }
        if (st == CLNET_OK) {
            const double s = median(t, n);
            *gbs[kind] = s > 0.0 ? (double)bytes / (s * 1e9) : 0.0;
        }
    }
    if (mapped)
        clReleaseMemObject(mapped);
    if (buf)
        clReleaseMemObject(buf);
    free(host);
    return st;
}

/* Launch latency: the median wall time of enqueueing bench_empty and waiting for it, and
 * the median of its device times, over sz->launches launches each after a warm-up. */
static clnet_status launches(clnet_context *ctx, const bench_sizes *sz, clnet_device_bench *out)
{
    const size_t one = 1;
    double *t = malloc((size_t)sz->launches * sizeof *t);
    if (!t)
        return clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    double ms = 0.0;
    clnet_status st = timed(ctx, "bench_empty", NULL, 0, one, one, &ms);
    for (int i = 0; st == CLNET_OK && i < sz->launches; ++i) {
        const double t0 = clnet__now();
        st = clnet__launch_local(ctx, "bench", "bench_empty", NULL, 0, 1, &one, &one);
        if (st == CLNET_OK)
            st = clnet_context_finish(ctx);
        t[i] = clnet__now() - t0;
    }
    if (st == CLNET_OK)
        out->launch_us = median(t, sz->launches) * 1e6;
    for (int i = 0; st == CLNET_OK && i < sz->launches; ++i) {
        st = timed(ctx, "bench_empty", NULL, 0, one, one, &ms);
        t[i] = ms * 1e3;
    }
    if (st == CLNET_OK)
        out->launch_device_us = median(t, sz->launches);
    free(t);
    return st;
}

static const clnet__cl_source *embedded(const char *name)
{
    for (int i = 0; clnet__cl_sources[i].name; ++i)
        if (strcmp(clnet__cl_sources[i].name, name) == 0)
            return &clnet__cl_sources[i];
    return NULL;
}

/* Builds program from source, as program.c assembles it, with options. */
static clnet_status build_source(clnet_context *ctx, const char *source, const char *options,
                                 cl_program *out)
{
    cl_int err = CL_SUCCESS;
    *out = clCreateProgramWithSource(ctx->cl, 1, &source, NULL, &err);
    if (err != CL_SUCCESS)
        return clnet__cl_fail(ctx, err, "clCreateProgramWithSource", __FILE__, __LINE__);
    CLNET_CL_TRY(ctx, clBuildProgram(*out, 1, &ctx->device, options, NULL, NULL));
    return CLNET_OK;
}

/* Builds a program from a cache entry, as program.c does on a hit. */
static clnet_status build_binary(clnet_context *ctx, const unsigned char *bin, size_t size,
                                 const char *options, cl_program *out)
{
    cl_int err = CL_SUCCESS, status = CL_SUCCESS;
    *out = clCreateProgramWithBinary(ctx->cl, 1, &ctx->device, &size, &bin, &status, &err);
    if (err == CL_SUCCESS)
        err = status;
    if (err != CL_SUCCESS)
        return clnet__cl_fail(ctx, err, "clCreateProgramWithBinary", __FILE__, __LINE__);
    CLNET_CL_TRY(ctx, clBuildProgram(*out, 1, &ctx->device, options, NULL, NULL));
    return CLNET_OK;
}

/* Compile times of cl/<out->compile_program>.cl. Cold: the source build that a first
 * run pays in program.c (common.cl prepended, the class's -D parameters) plus storing
 * the binary, with -DCLNET_BENCH_NONCE=<unique> so neither clnet's cache nor the
 * driver's own (POCL keeps one) can answer. Cached: loading that entry back from
 * clnet's cache directory and building the binary, as a second start does. The entry's
 * key names the device but not the nonce, so each run replaces the previous run's
 * entry rather than adding one. */
static clnet_status compile(clnet_context *ctx, clnet_device_bench *out)
{
    const clnet__cl_source *common = embedded("common"), *body = embedded(out->compile_program);
    if (!common || !body)
        return clnet__fail(ctx, CLNET_ERR_INVALID_ARG, "no kernel source cl/%s.cl in the library",
                           out->compile_program);
    const size_t cap = common->length + body->length + 128;
    char *source = malloc(cap);
    if (!source)
        return clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    snprintf(source, cap, "%s\n#line 1 \"%s.cl\"\n%s", common->text, out->compile_program,
             body->text);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char options[2048];
    int used = snprintf(options, sizeof options, "-cl-std=CL1.2 ");
    clnet__param_defines(ctx, out->compile_program, options + used, sizeof options - (size_t)used);
    used = (int)strlen(options);
    snprintf(options + used, sizeof options - (size_t)used, "-DCLNET_BENCH_NONCE=%lld%09ld_%d_%p",
             (long long)now.tv_sec, (long)now.tv_nsec, (int)getpid(), (void *)ctx);

    const char *parts_s[] = {"clnet-bench-compile 1",  ctx->info.name,
                             ctx->info.vendor,         ctx->info.driver_version,
                             ctx->info.device_version, ctx->platform_version,
                             out->compile_program};
    const void *parts[CLNET_COUNTOF(parts_s)];
    size_t lens[CLNET_COUNTOF(parts_s)];
    for (size_t i = 0; i < CLNET_COUNTOF(parts_s); ++i) {
        parts[i] = parts_s[i];
        lens[i] = strlen(parts_s[i]);
    }
    unsigned char key[32];
    clnet__sha256(parts, lens, (int)CLNET_COUNTOF(parts_s), key);

    cl_program cold = NULL, cached = NULL;
    unsigned char *bin = NULL;
    size_t size = 0;
    int stored = 0;
    double t0 = clnet__now();
    clnet_status st = build_source(ctx, source, options, &cold);
    if (st == CLNET_OK && ctx->stats.cache_enabled &&
        clGetProgramInfo(cold, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) == CL_SUCCESS &&
        size > 0 && (bin = malloc(size)) != NULL &&
        clGetProgramInfo(cold, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) == CL_SUCCESS)
        stored = clnet__cache_store(ctx->stats.cache_dir, key, bin, size) == 0;
    out->compile_cold_ms = (clnet__now() - t0) * 1e3;
    free(bin);
    bin = NULL;

    if (st == CLNET_OK && stored) {
        t0 = clnet__now();
        if (clnet__cache_load(ctx->stats.cache_dir, key, &bin, &size) == 1)
            st = build_binary(ctx, bin, size, options, &cached);
        else
            st = clnet__fail(ctx, CLNET_ERR_IO,
                             "the compile benchmark's cache entry in %s "
                             "could not be read back",
                             ctx->stats.cache_dir);
        out->compile_cached_ms = (clnet__now() - t0) * 1e3;
    } else if (st == CLNET_OK) {
        clnet__log(ctx, 1, "program cache %s is disabled or not writable: no cached compile time",
                   ctx->stats.cache_dir);
    }
    free(bin);
    if (cold)
        clReleaseProgram(cold);
    if (cached)
        clReleaseProgram(cached);
    free(source);
    return st;
}

clnet_status clnet_device_bench_run(clnet_context *ctx, int quick, clnet_device_bench *out)
{
    if (!ctx || !out)
        return CLNET_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    const bench_sizes *sz = quick >= 2 ? &tiny_sizes : quick ? &quick_sizes : &full_sizes;
    snprintf(out->device, sizeof out->device, "%s", ctx->info.name);
    out->device_class = ctx->cls;
    out->compute_units = ctx->info.compute_units;
    snprintf(out->compile_program, sizeof out->compile_program, "gemm");

    /* Buffers within the device's limits: a power of two, at most a quarter of its
     * memory (the read and copy buffers live together) and its largest allocation. */
    size_t bytes = sz->memory_bytes, xfer = sz->transfer_bytes;
    while (bytes > (size_t)64 << 10 &&
           (bytes > ctx->info.max_alloc_bytes || bytes > ctx->info.global_mem_bytes / 4))
        bytes /= 2;
    while (xfer > (size_t)64 << 10 &&
           (xfer > ctx->info.max_alloc_bytes || xfer > ctx->info.global_mem_bytes / 4))
        xfer /= 2;
    out->memory_bytes = bytes;
    out->transfer_bytes = xfer;

    /* Peak sums: one float16 per work-item; read sums: one float16 per work-item. */
    const size_t items_max = clnet__round_up((size_t)ctx->info.compute_units * 2048, 256);
    cl_mem a = NULL, b = NULL, sums = NULL;
    clnet_status st = clnet__buffer(ctx, items_max * 64, "the benchmark's sums", &sums);
    if (st == CLNET_OK)
        st = clnet__buffer(ctx, bytes, "the memory benchmark's source", &a);
    if (st == CLNET_OK)
        st = clnet__buffer(ctx, bytes, "the memory benchmark's destination", &b);
    if (st == CLNET_OK)
        st = clnet__fill(ctx, a, 0, bytes / sizeof(float), 1.0f);
    if (st == CLNET_OK)
        st = clnet__fill(ctx, b, 0, bytes / sizeof(float), 0.0f);

    for (int w = 0; st == CLNET_OK && w < 5; ++w) {
        st = peak(ctx, sz, sums, w, &out->gflops[w]);
        if (st == CLNET_OK && out->gflops[w] > out->gflops_best) {
            out->gflops_best = out->gflops[w];
            out->gflops_best_width = 1 << w;
        }
    }
    for (int v = 0; st == CLNET_OK && v < 2; ++v) {
        double copy = 0.0;
        st = memory(ctx, sz, a, b, sums, bytes, v, &out->read_gbs[v], &copy);
        if (out->read_gbs[v] > out->read_gbs_best)
            out->read_gbs_best = out->read_gbs[v];
        if (copy > out->copy_gbs)
            out->copy_gbs = copy;
    }
    /* Free the device memory before the transfers allocate theirs. */
    if (a)
        clReleaseMemObject(a);
    if (b)
        clReleaseMemObject(b);
    if (sums)
        clReleaseMemObject(sums);
    if (st == CLNET_OK)
        st = transfers(ctx, sz, xfer, out);
    if (st == CLNET_OK)
        st = launches(ctx, sz, out);
    if (st == CLNET_OK)
        st = compile(ctx, out);
    return st;
}
