/* context.c - context creation (device choice, queue), error recording, the status
 * strings and the version. Programs: program.c. Tests: tests/unit/test_context.c. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device/runtime.h"

const char *clnet_status_string(clnet_status status)
{
    switch (status) {
#define CLNET_STATUS_CASE(name, value, text)                                                       \
    case name:                                                                                     \
        return text;
        CLNET_STATUS_LIST(CLNET_STATUS_CASE)
#undef CLNET_STATUS_CASE
    }
    return "unknown status";
}

const char *clnet_version(void)
{
    return CLNET_VERSION_STRING; /* CMake's PROJECT_VERSION (CMakeLists.txt) */
}

double clnet__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void set_error_v(clnet_context *ctx, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int need = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (need < 0)
        return;
    if ((size_t)need + 1 > ctx->error_cap) {
        char *grown = realloc(ctx->error, (size_t)need + 1);
        if (!grown) {
            /* Keep what fits in the old buffer rather than losing the message. */
            if (ctx->error_cap > 0)
                vsnprintf(ctx->error, ctx->error_cap, fmt, ap);
            return;
        }
        ctx->error = grown;
        ctx->error_cap = (size_t)need + 1;
    }
    vsnprintf(ctx->error, ctx->error_cap, fmt, ap);
}

clnet_status clnet__fail(clnet_context *ctx, clnet_status status, const char *fmt, ...)
{
    if (ctx) {
        va_list ap;
        va_start(ap, fmt);
        set_error_v(ctx, fmt, ap);
        va_end(ap);
        clnet__log(ctx, 0, "%s", ctx->error ? ctx->error : "");
    }
    return status;
}

void clnet__log(clnet_context *ctx, int level, const char *fmt, ...)
{
    if (!ctx || !ctx->log)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ctx->log(ctx->log_user, level, buf);
}

const char *clnet__cl_error_name(cl_int err)
{
    switch (err) {
#define E(x)                                                                                       \
    case x:                                                                                        \
        return #x;
        E(CL_SUCCESS)
        E(CL_DEVICE_NOT_FOUND)
        E(CL_DEVICE_NOT_AVAILABLE)
        E(CL_COMPILER_NOT_AVAILABLE) E(CL_MEM_OBJECT_ALLOCATION_FAILURE) E(CL_OUT_OF_RESOURCES) E(
            CL_OUT_OF_HOST_MEMORY) E(CL_PROFILING_INFO_NOT_AVAILABLE) E(CL_MEM_COPY_OVERLAP)
            E(CL_IMAGE_FORMAT_MISMATCH) E(CL_IMAGE_FORMAT_NOT_SUPPORTED) E(
                CL_BUILD_PROGRAM_FAILURE) E(CL_MAP_FAILURE) E(CL_MISALIGNED_SUB_BUFFER_OFFSET)
                E(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST) E(CL_COMPILE_PROGRAM_FAILURE) E(
                    CL_LINKER_NOT_AVAILABLE) E(CL_LINK_PROGRAM_FAILURE)
                    E(CL_DEVICE_PARTITION_FAILED) E(CL_KERNEL_ARG_INFO_NOT_AVAILABLE) E(
                        CL_INVALID_VALUE) E(CL_INVALID_DEVICE_TYPE) E(CL_INVALID_PLATFORM)
                        E(CL_INVALID_DEVICE) E(CL_INVALID_CONTEXT) E(CL_INVALID_QUEUE_PROPERTIES) E(
                            CL_INVALID_COMMAND_QUEUE) E(CL_INVALID_HOST_PTR) E(CL_INVALID_MEM_OBJECT)
                            E(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR) E(CL_INVALID_IMAGE_SIZE) E(
                                CL_INVALID_SAMPLER) E(CL_INVALID_BINARY) E(CL_INVALID_BUILD_OPTIONS)
                                E(CL_INVALID_PROGRAM) E(CL_INVALID_PROGRAM_EXECUTABLE) E(
                                    CL_INVALID_KERNEL_NAME) E(CL_INVALID_KERNEL_DEFINITION)
                                    E(CL_INVALID_KERNEL) E(CL_INVALID_ARG_INDEX) E(
                                        CL_INVALID_ARG_VALUE) E(CL_INVALID_ARG_SIZE)
                                        E(CL_INVALID_KERNEL_ARGS) E(CL_INVALID_WORK_DIMENSION) E(
                                            CL_INVALID_WORK_GROUP_SIZE) E(CL_INVALID_WORK_ITEM_SIZE)
                                            E(CL_INVALID_GLOBAL_OFFSET) E(
                                                CL_INVALID_EVENT_WAIT_LIST) E(CL_INVALID_EVENT)
                                                E(CL_INVALID_OPERATION) E(CL_INVALID_GL_OBJECT) E(
                                                    CL_INVALID_BUFFER_SIZE) E(CL_INVALID_MIP_LEVEL)
                                                    E(CL_INVALID_GLOBAL_WORK_SIZE)
                                                        E(CL_INVALID_PROPERTY) E(
                                                            CL_INVALID_IMAGE_DESCRIPTOR)
                                                            E(CL_INVALID_COMPILER_OPTIONS) E(
                                                                CL_INVALID_LINKER_OPTIONS)
                                                                E(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef E
                                                                    case -1001
            : return "CL_PLATFORM_NOT_FOUND_KHR";
    }
    return "CL_UNKNOWN_ERROR";
}

clnet_status clnet__cl_fail(clnet_context *ctx, cl_int err, const char *call, const char *file,
                            int line)
{
    clnet_status st = (err == CL_OUT_OF_HOST_MEMORY || err == CL_MEM_OBJECT_ALLOCATION_FAILURE ||
                       err == CL_OUT_OF_RESOURCES)
                          ? CLNET_ERR_OUT_OF_MEMORY
                          : CLNET_ERR_OPENCL;
    return clnet__fail(ctx, st, "%s:%d: %s failed with %s (%d)", file, line, call,
                       clnet__cl_error_name(err), (int)err);
}

int clnet__contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; ++hay) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            ++i;
        if (i == n)
            return 1;
    }
    return n == 0;
}

static int is_index(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; ++s)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* Picks a device: by index or name substring, else the first GPU, else device 0. */
static clnet_status choose_device(clnet_context *ctx, const char *want, cl_device_id *dev_out)
{
    char err[512];
    clnet_device_info *list = NULL;
    int n = 0;
    clnet_status st = clnet_devices_list(&list, &n, err, sizeof err);
    if (st != CLNET_OK)
        return clnet__fail(ctx, st, "%s", err);
    int pick = -1;
    if (want && *want) {
        if (is_index(want)) {
            long i = strtol(want, NULL, 10);
            if (i >= n) {
                clnet_devices_free(list);
                return clnet__fail(ctx, CLNET_ERR_NO_DEVICE,
                                   "device index %s is out of range: there %s %d device%s "
                                   "(0..%d); see `clnet devices`",
                                   want, n == 1 ? "is" : "are", n, n == 1 ? "" : "s", n - 1);
            }
            pick = (int)i;
        } else {
            for (int i = 0; i < n && pick < 0; ++i)
                if (clnet__contains_nocase(list[i].name, want) ||
                    clnet__contains_nocase(list[i].vendor, want))
                    pick = i;
            if (pick < 0) {
                clnet_devices_free(list);
                return clnet__fail(ctx, CLNET_ERR_NO_DEVICE,
                                   "no device name or vendor contains \"%s\"; see `clnet devices`",
                                   want);
            }
        }
    } else {
        for (int i = 0; i < n && pick < 0; ++i)
            if (list[i].device_class != CLNET_CLASS_CPU)
                pick = i;
        if (pick < 0)
            pick = 0;
    }
    ctx->info = list[pick];
    clnet_devices_free(list);

    /* Walk the platforms again to the chosen flat index. */
    cl_uint np = 0;
    clGetPlatformIDs(0, NULL, &np);
    cl_platform_id plats[64];
    if (np > 64)
        np = 64;
    clGetPlatformIDs(np, plats, NULL);
    int flat = 0;
    for (cl_uint p = 0; p < np; ++p) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS)
            continue;
        if (pick < flat + (int)nd) {
            cl_device_id devs[64];
            if (nd > 64)
                nd = 64;
            CLNET_CL_TRY(ctx, clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, nd, devs, NULL));
            ctx->platform = plats[p];
            *dev_out = devs[pick - flat];
            return CLNET_OK;
        }
        flat += (int)nd;
    }
    return clnet__fail(ctx, CLNET_ERR_NO_DEVICE, "device %d disappeared while opening it", pick);
}

void clnet__user_path(const char *env_var, const char *xdg_var, const char *home_dir,
                      const char *name, char *buf, size_t len)
{
    const char *env = getenv(env_var);
    const char *xdg = getenv(xdg_var);
    const char *home = getenv("HOME");
    if (env)
        snprintf(buf, len, "%s", env);
    else if (xdg && *xdg)
        snprintf(buf, len, "%s/%s", xdg, name);
    else if (home && *home)
        snprintf(buf, len, "%s/%s/%s", home, home_dir, name);
    else
        buf[0] = '\0';
}

static clnet_status open_context(clnet_context *ctx, const clnet_context_options *opt)
{
    const char *want = opt->device ? opt->device : getenv("CLNET_DEVICE");
    cl_device_id dev = NULL;
    CLNET_TRY(choose_device(ctx, want, &dev));
    ctx->device = dev;
    clGetPlatformInfo(ctx->platform, CL_PLATFORM_VERSION, sizeof ctx->platform_version,
                      ctx->platform_version, NULL);
    ctx->platform_version[sizeof ctx->platform_version - 1] = '\0';
    clnet__quirks_apply(ctx);
    const char *host = getenv("CLNET_HOST_BUFFERS");
    ctx->host_buffers = ctx->info.device_class == CLNET_CLASS_CPU && !(host && !strcmp(host, "0"));

    ctx->cls = ctx->info.device_class;
    const char *forced = getenv("CLNET_DEVICE_CLASS");
    if (opt->device_class != CLNET_CLASS_AUTO) {
        ctx->cls = opt->device_class;
    } else if (forced && *forced) {
        if (clnet_device_class_parse(forced, &ctx->cls) != CLNET_OK)
            return clnet__fail(ctx, CLNET_ERR_INVALID_ARG,
                               "CLNET_DEVICE_CLASS=%s: expected dgpu, igpu or cpu", forced);
    }

    cl_int err = CL_SUCCESS;
    ctx->cl = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    if (err != CL_SUCCESS)
        return clnet__cl_fail(ctx, err, "clCreateContext", __FILE__, __LINE__);
    ctx->queue = clCreateCommandQueue(ctx->cl, dev, CL_QUEUE_PROFILING_ENABLE, &err);
    if (err != CL_SUCCESS)
        return clnet__cl_fail(ctx, err, "clCreateCommandQueue", __FILE__, __LINE__);

    if (opt->cache_dir)
        snprintf(ctx->stats.cache_dir, sizeof ctx->stats.cache_dir, "%s", opt->cache_dir);
    else
        clnet__user_path("CLNET_CACHE_DIR", "XDG_CACHE_HOME", ".cache", "clnet",
                         ctx->stats.cache_dir, sizeof ctx->stats.cache_dir);
    ctx->stats.driver_cache = (ctx->quirks & CLNET_QUIRK_OWN_CACHE) != 0;
    ctx->stats.cache_enabled = ctx->stats.cache_dir[0] != '\0' && !ctx->stats.driver_cache;

    clnet__tune_load(ctx, opt->tune_db);

    const char *sync = getenv("CLNET_SYNC");
    ctx->sync = sync && *sync && strcmp(sync, "0") != 0;
    const char *algo = getenv("CLNET_CONV_ALGO");
    snprintf(ctx->conv_algo, sizeof ctx->conv_algo, "%s", algo ? algo : "");
    const char *dir = getenv("CLNET_CL_DIR");
    ctx->cl_dir = dir && *dir ? dir : NULL;
    return CLNET_OK;
}

clnet_status clnet_context_create(const clnet_context_options *opt, clnet_context **out)
{
    static const clnet_context_options defaults = {0};
    if (!out)
        return CLNET_ERR_INVALID_ARG;
    *out = NULL;
    if (!opt)
        opt = &defaults;
    clnet_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        if (opt->error && opt->error_len)
            snprintf(opt->error, opt->error_len, "out of host memory creating a context");
        return CLNET_ERR_OUT_OF_MEMORY;
    }
    ctx->log = opt->log;
    ctx->log_user = opt->log_user;
    clnet_status st = open_context(ctx, opt);
    if (st != CLNET_OK) {
        if (opt->error && opt->error_len)
            snprintf(opt->error, opt->error_len, "%s", ctx->error ? ctx->error : "");
        clnet_context_destroy(ctx);
        return st;
    }
    clnet__log(ctx, 2, "device %d: %s (%s), kernels for class %s", ctx->info.index, ctx->info.name,
               ctx->info.platform, clnet_device_class_name(ctx->cls));
    *out = ctx;
    return CLNET_OK;
}

clnet_status clnet__context_create_host(clnet_context **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? CLNET_OK : CLNET_ERR_OUT_OF_MEMORY;
}

void clnet_context_destroy(clnet_context *ctx)
{
    if (!ctx)
        return;
    if (ctx->queue)
        clFinish(ctx->queue);
    if (ctx->before_destroy)
        ctx->before_destroy(ctx);
    for (int i = 0; i < ctx->n_events; ++i)
        if (ctx->events[i])
            clReleaseEvent(ctx->events[i]);
    free(ctx->events);
    if (ctx->zeros)
        clReleaseMemObject(ctx->zeros);
    for (int i = 0; i < ctx->n_kernels; ++i)
        clReleaseKernel(ctx->kernels[i].kernel);
    for (int i = 0; i < ctx->n_programs; ++i)
        clReleaseProgram(ctx->programs[i].program);
    if (ctx->queue)
        clReleaseCommandQueue(ctx->queue);
    if (ctx->cl)
        clReleaseContext(ctx->cl);
    clnet__tune_unload(ctx);
    free(ctx->error);
    free(ctx);
}

const char *clnet_context_error(const clnet_context *ctx)
{
    return ctx && ctx->error ? ctx->error : "";
}

const clnet_device_info *clnet_context_device(const clnet_context *ctx)
{
    return ctx ? &ctx->info : NULL;
}

clnet_device_class clnet_context_class(const clnet_context *ctx)
{
    return ctx ? ctx->cls : CLNET_CLASS_AUTO;
}

clnet_status clnet_context_finish(clnet_context *ctx)
{
    if (!ctx)
        return CLNET_ERR_INVALID_ARG;
    ++ctx->stats.host_waits;
    CLNET_CL_TRY(ctx, clFinish(ctx->queue));
    return CLNET_OK;
}

void clnet_context_get_stats(const clnet_context *ctx, clnet_context_stats *out)
{
    if (ctx && out)
        *out = ctx->stats;
}
