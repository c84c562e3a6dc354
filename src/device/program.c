/* program.c - builds cl/<name>.cl for a context: cl/common.cl prepended, the
 * class's -D parameters as options, binaries through the on-disk cache (cache.c).
 * Tests: tests/unit/test_cache.c, tests/unit/test_context.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/cache.h"
#include "device/cl_sources.h"
#include "device/runtime.h"

/* Bump when the cache entry format or the way sources are assembled changes. */
#define CACHE_FORMAT "clnet-program-cache 1"

/* The text of cl/<name>.cl, malloc'd: from $CLNET_CL_DIR when set, else embedded. */
static clnet_status load_source(clnet_context *ctx, const char *name, char **text, size_t *len)
{
    if (ctx->cl_dir) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.cl", ctx->cl_dir, name);
        *text = clnet__read_file(path, len);
        if (!*text)
            return clnet__fail(ctx, CLNET_ERR_IO, "cannot read kernel source %s (CLNET_CL_DIR)",
                               path);
        return CLNET_OK;
    }
    for (int i = 0; clnet__cl_sources[i].name; ++i) {
        if (strcmp(clnet__cl_sources[i].name, name) == 0) {
            *len = clnet__cl_sources[i].length;
            *text = malloc(*len + 1);
            if (!*text)
                return clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
            memcpy(*text, clnet__cl_sources[i].text, *len + 1);
            return CLNET_OK;
        }
    }
    return clnet__fail(ctx, CLNET_ERR_INVALID_ARG, "no kernel source cl/%s.cl in the library",
                       name);
}

/* common.cl, then a #line directive so the compiler reports the op file's own lines. */
static clnet_status assemble(clnet_context *ctx, const char *name, char **out)
{
    char *common = NULL, *body = NULL;
    size_t common_len = 0, body_len = 0;
    clnet_status st = load_source(ctx, "common", &common, &common_len);
    if (st == CLNET_OK && strcmp(name, "common") != 0)
        st = load_source(ctx, name, &body, &body_len);
    if (st == CLNET_OK) {
        size_t cap = common_len + body_len + 128;
        *out = malloc(cap);
        if (!*out)
            st = clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
        else
            snprintf(*out, cap, "%s\n#line 1 \"%s.cl\"\n%s", common, name, body ? body : "");
    }
    free(common);
    free(body);
    return st;
}

static void cache_key(const clnet_context *ctx, const char *source, const char *options,
                      unsigned char key[32])
{
    const char *parts_s[] = {CACHE_FORMAT,
                             ctx->info.name,
                             ctx->info.vendor,
                             ctx->info.driver_version,
                             ctx->info.device_version,
                             ctx->platform_version,
                             options,
                             source};
    const void *parts[CLNET_COUNTOF(parts_s)];
    size_t lens[CLNET_COUNTOF(parts_s)];
    for (size_t i = 0; i < CLNET_COUNTOF(parts_s); ++i) {
        parts[i] = parts_s[i];
        lens[i] = strlen(parts_s[i]);
    }
    clnet__sha256(parts, lens, (int)CLNET_COUNTOF(parts_s), key);
}

static cl_program from_binary(clnet_context *ctx, const unsigned char *bin, size_t size,
                              const char *options)
{
    cl_int err = CL_SUCCESS, status = CL_SUCCESS;
    cl_program p = clCreateProgramWithBinary(ctx->cl, 1, &ctx->device, &size, &bin, &status, &err);
    if (err != CL_SUCCESS || status != CL_SUCCESS) {
        if (p)
            clReleaseProgram(p);
        return NULL;
    }
    if (clBuildProgram(p, 1, &ctx->device, options, NULL, NULL) != CL_SUCCESS) {
        clReleaseProgram(p);
        return NULL;
    }
    return p;
}

static void store_binary(clnet_context *ctx, cl_program p, const unsigned char key[32])
{
    size_t size = 0;
    if (clGetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) != CL_SUCCESS ||
        size == 0)
        return;
    unsigned char *bin = malloc(size);
    if (!bin)
        return;
    if (clGetProgramInfo(p, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) == CL_SUCCESS) {
        if (clnet__cache_store(ctx->stats.cache_dir, key, bin, size) == 0) {
            ctx->stats.cache_writes++;
        } else {
            clnet__log(ctx, 1, "program cache %s is not writable: caching disabled",
                       ctx->stats.cache_dir);
            ctx->stats.cache_enabled = 0;
        }
    }
    free(bin);
}

/* Line of the assembled source holding the #line directive before the op file. */
static int directive_line(const char *source)
{
    const char *dir = strstr(source, "\n#line 1 \"");
    int line = 1;
    for (const char *p = source; dir && p <= dir; ++p)
        line += *p == '\n';
    return dir ? line : 0;
}

/* Compilers that ignore #line (oclgrind's, some vendors') report positions in the
 * assembled source ("input.cl:6:12:"). Rewrites each log line's leading
 * "<file>:<line>:" to the op file's (or common.cl's) own name and line. */
char *clnet__fix_build_log(const char *log, const char *name, int dir_line)
{
    char want[64];
    snprintf(want, sizeof want, "%s.cl:", name);
    if (dir_line == 0 || strstr(log, want))
        return NULL;
    size_t cap = strlen(log) * 2 + 64, used = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    for (const char *p = log; *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p + 1) : strlen(p);
        size_t tok = 0;
        while (tok < len && p[tok] != ':' && p[tok] != ' ' && p[tok] != '\n')
            ++tok;
        char *end = NULL;
        long line = tok < len && p[tok] == ':' ? strtol(p + tok + 1, &end, 10) : 0;
        if (tok > 0 && line > 0 && end && *end == ':' && used + len + 64 < cap) {
            const int in_op = line > dir_line;
            used += (size_t)snprintf(out + used, cap - used, "%s.cl:%ld", in_op ? name : "common",
                                     in_op ? line - dir_line : line);
            const size_t rest = len - (size_t)(end - p);
            memcpy(out + used, end, rest);
            used += rest;
        } else if (used + len + 1 < cap) {
            memcpy(out + used, p, len);
            used += len;
        }
        p += len;
    }
    out[used] = '\0';
    return out;
}

static clnet_status build_from_source(clnet_context *ctx, const char *name, const char *source,
                                      const char *options, cl_program *out)
{
    cl_int err = CL_SUCCESS;
    cl_program p = clCreateProgramWithSource(ctx->cl, 1, &source, NULL, &err);
    if (err != CL_SUCCESS)
        return clnet__cl_fail(ctx, err, "clCreateProgramWithSource", __FILE__, __LINE__);
    err = clBuildProgram(p, 1, &ctx->device, options, NULL, NULL);
    if (err != CL_SUCCESS) {
        size_t log_len = 0;
        clGetProgramBuildInfo(p, ctx->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &log_len);
        char *log = malloc(log_len + 1);
        if (log) {
            log[0] = '\0';
            clGetProgramBuildInfo(p, ctx->device, CL_PROGRAM_BUILD_LOG, log_len, log, NULL);
            log[log_len] = '\0';
            char *fixed = clnet__fix_build_log(log, name, directive_line(source));
            if (fixed) {
                free(log);
                log = fixed;
            }
        }
        clReleaseProgram(p);
        clnet_status st = clnet__fail(
            ctx, CLNET_ERR_BUILD, "building cl/%s.cl for %s failed (%s), options \"%s\":\n%s", name,
            ctx->info.name, clnet__cl_error_name(err), options, log ? log : "(no build log)");
        free(log);
        return st;
    }
    ctx->stats.programs_built++;
    *out = p;
    return CLNET_OK;
}

clnet_status clnet__program(clnet_context *ctx, const char *name, cl_program *out)
{
    for (int i = 0; i < ctx->n_programs; ++i) {
        if (strcmp(ctx->programs[i].name, name) == 0) {
            *out = ctx->programs[i].program;
            return CLNET_OK;
        }
    }
    if (ctx->n_programs == CLNET_MAX_PROGRAMS)
        return clnet__fail(ctx, CLNET_ERR_UNSUPPORTED,
                           "too many programs (raise CLNET_MAX_PROGRAMS)");
    if (strlen(name) >= sizeof ctx->programs[0].name)
        return clnet__fail(ctx, CLNET_ERR_INVALID_ARG, "program name %s is too long", name);

    double t0 = clnet__now();
    char *source = NULL;
    CLNET_TRY(assemble(ctx, name, &source));
    char options[2048];
    int used = snprintf(options, sizeof options, "-cl-std=CL1.2 ");
    clnet__param_defines(ctx, name, options + used, sizeof options - (size_t)used);

    unsigned char key[32];
    cl_program p = NULL;
    if (ctx->stats.cache_enabled) {
        cache_key(ctx, source, options, key);
        unsigned char *bin = NULL;
        size_t size = 0;
        int hit = clnet__cache_load(ctx->stats.cache_dir, key, &bin, &size);
        if (hit == 1) {
            p = from_binary(ctx, bin, size, options);
            if (p)
                ctx->stats.programs_cached++;
        }
        if (hit == -1 || (hit == 1 && !p)) {
            ctx->stats.cache_rejected++;
            clnet__log(ctx, 3, "cache entry for cl/%s.cl was unusable: rebuilding", name);
        }
        free(bin);
    }
    clnet_status st = CLNET_OK;
    if (!p) {
        st = build_from_source(ctx, name, source, options, &p);
        if (st == CLNET_OK && ctx->stats.cache_enabled)
            store_binary(ctx, p, key);
    }
    free(source);
    if (st != CLNET_OK)
        return st;
    ctx->stats.build_seconds += clnet__now() - t0;
    snprintf(ctx->programs[ctx->n_programs].name, sizeof ctx->programs[0].name, "%s", name);
    ctx->programs[ctx->n_programs++].program = p;
    *out = p;
    return CLNET_OK;
}

clnet_status clnet__kernel(clnet_context *ctx, const char *program, const char *kernel,
                           cl_kernel *out)
{
    for (int i = 0; i < ctx->n_kernels; ++i) {
        clnet__kernel_entry *e = &ctx->kernels[i];
        if (strcmp(e->name, kernel) == 0 && strcmp(e->program, program) == 0) {
            *out = e->kernel;
            return CLNET_OK;
        }
    }
    if (ctx->n_kernels == CLNET_MAX_KERNELS)
        return clnet__fail(ctx, CLNET_ERR_UNSUPPORTED,
                           "too many kernels (raise CLNET_MAX_KERNELS)");
    if (strlen(kernel) >= sizeof ctx->kernels[0].name)
        return clnet__fail(ctx, CLNET_ERR_INVALID_ARG, "kernel name %s is too long", kernel);
    cl_program p = NULL;
    CLNET_TRY(clnet__program(ctx, program, &p));
    cl_int err = CL_SUCCESS;
    cl_kernel k = clCreateKernel(p, kernel, &err);
    if (err != CL_SUCCESS)
        return clnet__fail(ctx, CLNET_ERR_OPENCL, "kernel %s not found in cl/%s.cl (%s)", kernel,
                           program, clnet__cl_error_name(err));
    clnet__kernel_entry *e = &ctx->kernels[ctx->n_kernels++];
    snprintf(e->program, sizeof e->program, "%s", program);
    snprintf(e->name, sizeof e->name, "%s", kernel);
    e->kernel = k;
    *out = k;
    return CLNET_OK;
}
