/* launch.c - kernel launches from typed argument tables, device buffers with
 * limit checks, and scratch buffers of op calls. */
/* madvise (MADV_HUGEPAGE) is not POSIX. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "device/runtime.h"

clnet_status clnet__launch_local(clnet_context *ctx, const char *program, const char *kernel,
                                 const clnet_arg *args, int n_args, int dims, const size_t *global,
                                 const size_t *local)
{
    cl_kernel k = NULL;
    CLNET_TRY(clnet__kernel(ctx, program, kernel, &k));
    for (int i = 0; i < n_args; ++i) {
        const clnet_arg *a = &args[i];
        cl_int err = CL_SUCCESS;
        switch (a->kind) {
        case CLNET_ARG_KIND_MEM:
            err = clSetKernelArg(k, (cl_uint)i, sizeof(cl_mem), &a->mem);
            break;
        case CLNET_ARG_KIND_INT:
            err = clSetKernelArg(k, (cl_uint)i, sizeof(cl_int), &a->i);
            break;
        case CLNET_ARG_KIND_FLOAT:
            err = clSetKernelArg(k, (cl_uint)i, sizeof(cl_float), &a->f);
            break;
        case CLNET_ARG_KIND_LOCAL:
            err = clSetKernelArg(k, (cl_uint)i, a->local_bytes, NULL);
            break;
        }
        if (err != CL_SUCCESS)
            return clnet__fail(ctx, CLNET_ERR_OPENCL, "kernel %s (cl/%s.cl) argument %d: %s",
                               kernel, program, i, clnet__cl_error_name(err));
    }
    /* The fixed size goes along the first dimension with more than one item: the
     * driver's loop over a group's items runs that one innermost, and in clnet's
     * launches it is the one whose neighbours are neighbours in memory. */
    size_t fixed[3] = {1, 1, 1};
    if (!local && ctx->local_size > 0) {
        int d = 0;
        while (d < dims - 1 && global[d] == 1)
            ++d;
        fixed[d] = (size_t)ctx->local_size;
        local = fixed;
    }
    size_t g[3] = {1, 1, 1};
    for (int d = 0; d < dims; ++d) {
        if (global[d] == 0)
            return CLNET_OK; /* nothing to do: an empty tensor */
        g[d] = local ? clnet__round_up(global[d], local[d]) : global[d];
    }
    cl_int err = clEnqueueNDRangeKernel(ctx->queue, k, (cl_uint)dims, NULL, g, local, 0, NULL,
                                        clnet__profile_slot(ctx));
    if (err != CL_SUCCESS)
        return clnet__fail(ctx,
                           err == CL_OUT_OF_RESOURCES ? CLNET_ERR_OUT_OF_MEMORY : CLNET_ERR_OPENCL,
                           "enqueueing kernel %s (cl/%s.cl), global %zux%zux%zu: %s", kernel,
                           program, g[0], g[1], g[2], clnet__cl_error_name(err));
    if (ctx->sync) {
        ++ctx->stats.host_waits;
        err = clFinish(ctx->queue);
        if (err != CL_SUCCESS)
            return clnet__fail(ctx, CLNET_ERR_OPENCL, "kernel %s (cl/%s.cl) failed: %s", kernel,
                               program, clnet__cl_error_name(err));
    }
    return CLNET_OK;
}

/* Buffers of at least this many bytes get huge-page host memory (ctx->host_buffers). */
#define HUGE_PAGE ((size_t)2 << 20)

static void CL_CALLBACK free_host(cl_mem m, void *host)
{
    (void)m;
    free(host);
}

void *clnet__host_alloc(size_t bytes)
{
    if (bytes < HUGE_PAGE)
        return malloc(bytes ? bytes : 1);
    void *host = NULL;
    if (posix_memalign(&host, HUGE_PAGE, bytes) != 0)
        return NULL;
    madvise(host, bytes, MADV_HUGEPAGE);
    return host;
}

clnet_status clnet__buffer(clnet_context *ctx, size_t bytes, const char *what, cl_mem *out)
{
    *out = NULL;
    if (bytes == 0)
        bytes = sizeof(float); /* OpenCL rejects empty buffers; keep one float */
    if ((uint64_t)bytes > ctx->info.max_alloc_bytes)
        return clnet__fail(ctx, CLNET_ERR_TOO_LARGE,
                           "%s needs %zu bytes (%.1f MiB) in one buffer, above the device's "
                           "max allocation of %llu bytes (%.1f MiB) on %s",
                           what, bytes, (double)bytes / 1048576.0,
                           (unsigned long long)ctx->info.max_alloc_bytes,
                           (double)ctx->info.max_alloc_bytes / 1048576.0, ctx->info.name);
    if ((uint64_t)bytes > ctx->info.global_mem_bytes)
        return clnet__fail(ctx, CLNET_ERR_TOO_LARGE,
                           "%s needs %zu bytes, more than the device's %llu bytes of memory (%s)",
                           what, bytes, (unsigned long long)ctx->info.global_mem_bytes,
                           ctx->info.name);
    cl_int err = CL_SUCCESS;
    cl_mem m = NULL;
    if (ctx->host_buffers && bytes >= HUGE_PAGE) {
        /* The device computes in host memory: allocate it ourselves, aligned to huge pages
         * and asking for them, so a weight upload touches 512 times fewer pages (a warm
         * `clnet predict` of ResNet-18 spent a third of its time in page faults). */
        void *host = clnet__host_alloc(bytes);
        if (host) {
            m = clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, bytes, host, &err);
            if (m && clSetMemObjectDestructorCallback(m, free_host, host) != CL_SUCCESS) {
                clReleaseMemObject(m);
                m = NULL;
            }
            if (!m)
                free(host);
            else
                ++ctx->stats.host_buffers;
        }
    }
    if (!m)
        m = clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE, bytes, NULL, &err);
    ++ctx->stats.buffers_created;
    if (err != CL_SUCCESS)
        return clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "allocating %zu bytes for %s on %s: %s",
                           bytes, what, ctx->info.name, clnet__cl_error_name(err));
    *out = m;
    return CLNET_OK;
}

const char *clnet__scratch_name(clnet__scratch_slot slot)
{
    static const char *const names[CLNET_SCRATCH_COUNT] = {
        "im2col workspace",          "GEMM B panels",
        "reduction partials",        "temporary workspace",
        "Winograd weight workspace", "Winograd product workspace"};
    return slot >= 0 && slot < CLNET_SCRATCH_COUNT ? names[slot] : "?";
}

clnet_status clnet__scratch_create(clnet_context *ctx, const size_t *bytes, clnet__scratch *s)
{
    memset(s, 0, sizeof *s);
    for (int k = 0; k < CLNET_SCRATCH_COUNT; ++k) {
        if (!bytes[k])
            continue;
        clnet_status st = clnet__buffer(ctx, bytes[k], clnet__scratch_name(k), &s->mem[k]);
        if (st != CLNET_OK) {
            clnet__scratch_release(s);
            return st;
        }
        s->bytes[k] = bytes[k];
    }
    return CLNET_OK;
}

void clnet__scratch_release(clnet__scratch *s)
{
    /* Safe while kernels using them are queued: OpenCL frees a buffer after its last use. */
    for (int k = 0; k < CLNET_SCRATCH_COUNT; ++k)
        if (s->mem[k])
            clReleaseMemObject(s->mem[k]);
    memset(s, 0, sizeof *s);
}

clnet_status clnet__scratch_get(clnet_context *ctx, const clnet__scratch *s,
                                clnet__scratch_slot slot, size_t bytes, const char *who,
                                cl_mem *out)
{
    *out = NULL;
    if (s && s->mem[slot] && s->bytes[slot] >= bytes) {
        *out = s->mem[slot];
        return CLNET_OK;
    }
    return clnet__fail(ctx, CLNET_ERR_INTERNAL,
                       "%s needs %zu bytes of %s but its prepare step planned %zu", who, bytes,
                       clnet__scratch_name(slot), s ? s->bytes[slot] : (size_t)0);
}

clnet_status clnet__zeros(clnet_context *ctx, size_t count, cl_mem *out)
{
    *out = NULL;
    if (count > ctx->zeros_count) {
        /* At least 16 KB, so that a plan's first few sizes need no regrowth; a kernel
         * already enqueued on the old buffer keeps it alive until it has run. */
        const size_t want = count > 4096 ? count : 4096;
        cl_mem m = NULL;
        CLNET_TRY(clnet__buffer(ctx, want * sizeof(float), "zeros", &m));
        const clnet_status st = clnet__fill(ctx, m, 0, want, 0.0f);
        if (st != CLNET_OK) {
            clReleaseMemObject(m);
            return st;
        }
        if (ctx->zeros)
            clReleaseMemObject(ctx->zeros);
        ctx->zeros = m;
        ctx->zeros_count = want;
    }
    *out = ctx->zeros;
    return CLNET_OK;
}

clnet_status clnet__fill(clnet_context *ctx, cl_mem mem, size_t offset, size_t count, float value)
{
    if (count == 0)
        return CLNET_OK;
    CLNET_CL_TRY(ctx,
                 clEnqueueFillBuffer(ctx->queue, mem, &value, sizeof value, offset * sizeof(float),
                                     count * sizeof(float), 0, NULL, NULL));
    return CLNET_OK;
}

clnet_status clnet__write_async(clnet_context *ctx, cl_mem mem, size_t bytes, const void *host)
{
    if (bytes == 0)
        return CLNET_OK;
    CLNET_CL_TRY(ctx,
                 clEnqueueWriteBuffer(ctx->queue, mem, CL_FALSE, 0, bytes, host, 0, NULL, NULL));
    return CLNET_OK;
}

clnet_status clnet__copy(clnet_context *ctx, cl_mem src, size_t src_off, cl_mem dst, size_t dst_off,
                         size_t count)
{
    if (count == 0)
        return CLNET_OK;
    CLNET_CL_TRY(ctx, clEnqueueCopyBuffer(ctx->queue, src, dst, src_off * sizeof(float),
                                          dst_off * sizeof(float), count * sizeof(float), 0, NULL,
                                          NULL));
    return CLNET_OK;
}

size_t clnet__chunks(const clnet_context *ctx, const char *program, size_t count)
{
    const size_t chunk = (size_t)clnet__param(ctx, program, "CLNET_CHUNK", 1);
    return (count + chunk - 1) / chunk;
}

void clnet__profile_begin(clnet_context *ctx)
{
    ctx->profiling = 1;
}

cl_event *clnet__profile_slot(clnet_context *ctx)
{
    if (!ctx->profiling)
        return NULL;
    if (ctx->n_events == ctx->cap_events) {
        int cap = ctx->cap_events ? 2 * ctx->cap_events : 64;
        cl_event *grown = realloc(ctx->events, (size_t)cap * sizeof *grown);
        if (!grown)
            return NULL; /* this launch goes untimed rather than failing */
        ctx->events = grown;
        ctx->cap_events = cap;
    }
    ctx->events[ctx->n_events] = NULL;
    return &ctx->events[ctx->n_events++];
}

clnet_status clnet__profile_end(clnet_context *ctx, double *device_ms)
{
    *device_ms = 0.0;
    ctx->profiling = 0;
    ++ctx->stats.host_waits;
    cl_int err = clFinish(ctx->queue);
    double ns = 0.0;
    for (int i = 0; i < ctx->n_events; ++i) {
        cl_event e = ctx->events[i];
        if (!e)
            continue;
        cl_ulong t0 = 0, t1 = 0;
        if (clGetEventProfilingInfo(e, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL) ==
                CL_SUCCESS &&
            clGetEventProfilingInfo(e, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL) ==
                CL_SUCCESS &&
            t1 > t0)
            ns += (double)(t1 - t0);
        clReleaseEvent(e);
    }
    ctx->n_events = 0;
    if (err != CL_SUCCESS)
        return clnet__cl_fail(ctx, err, "clFinish", __FILE__, __LINE__);
    *device_ms = ns * 1e-6;
    return CLNET_OK;
}
