/* tensor.c - float32 NHWC tensors on the device: create, transfer, fill and
 * seeded init. Tests: tests/unit/test_tensor.c. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tensor/rng.h"
#include "tensor/tensor.h"

clnet_status clnet_tensor_create(clnet_context *ctx, clnet_shape shape, clnet_tensor **out)
{
    if (!out)
        return CLNET_ERR_INVALID_ARG;
    *out = NULL;
    if (!ctx)
        return CLNET_ERR_INVALID_ARG;
    if (shape.n <= 0 || shape.h <= 0 || shape.w <= 0 || shape.c <= 0)
        return clnet__fail(ctx, CLNET_ERR_SHAPE,
                           "tensor shape %dx%dx%dx%d: every dimension must be positive", shape.n,
                           shape.h, shape.w, shape.c);
    size_t count = 1;
    const int dims[4] = {shape.n, shape.h, shape.w, shape.c};
    for (int i = 0; i < 4; ++i) {
        if (count > SIZE_MAX / sizeof(float) / (size_t)dims[i])
            return clnet__fail(ctx, CLNET_ERR_TOO_LARGE,
                               "tensor shape %dx%dx%dx%d overflows the address space", shape.n,
                               shape.h, shape.w, shape.c);
        count *= (size_t)dims[i];
    }
    clnet_tensor *t = calloc(1, sizeof *t);
    if (!t)
        return clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    char what[96];
    snprintf(what, sizeof what, "a %dx%dx%dx%d tensor", shape.n, shape.h, shape.w, shape.c);
    clnet_status st = clnet__buffer(ctx, count * sizeof(float), what, &t->buf);
    if (st != CLNET_OK) {
        free(t);
        return st;
    }
    t->ctx = ctx;
    t->shape = shape;
    t->count = count;
    *out = t;
    return CLNET_OK;
}

void clnet_tensor_destroy(clnet_tensor *t)
{
    if (!t)
        return;
    if (t->buf)
        clReleaseMemObject(t->buf);
    free(t);
}

clnet_shape clnet_tensor_shape(const clnet_tensor *t)
{
    clnet_shape none = {0, 0, 0, 0};
    return t ? t->shape : none;
}

size_t clnet_tensor_count(const clnet_tensor *t)
{
    return t ? t->count : 0;
}

static clnet_status check_count(const clnet_tensor *t, size_t count, const char *what)
{
    if (count != t->count)
        return clnet__fail(t->ctx, CLNET_ERR_SHAPE,
                           "%s: %zu floats given for a %dx%dx%dx%d tensor of %zu", what, count,
                           t->shape.n, t->shape.h, t->shape.w, t->shape.c, t->count);
    return CLNET_OK;
}

clnet_status clnet_tensor_write(clnet_tensor *t, const float *src, size_t count)
{
    if (!t || !src)
        return CLNET_ERR_INVALID_ARG;
    CLNET_TRY(check_count(t, count, "clnet_tensor_write"));
    ++t->ctx->stats.host_waits;
    CLNET_CL_TRY(t->ctx, clEnqueueWriteBuffer(t->ctx->queue, t->buf, CL_TRUE, 0,
                                              count * sizeof(float), src, 0, NULL, NULL));
    return CLNET_OK;
}

clnet_status clnet_tensor_read(clnet_tensor *t, float *dst, size_t count)
{
    if (!t || !dst)
        return CLNET_ERR_INVALID_ARG;
    CLNET_TRY(check_count(t, count, "clnet_tensor_read"));
    ++t->ctx->stats.host_waits;
    CLNET_CL_TRY(t->ctx, clEnqueueReadBuffer(t->ctx->queue, t->buf, CL_TRUE, 0,
                                             count * sizeof(float), dst, 0, NULL, NULL));
    return CLNET_OK;
}

clnet_status clnet_tensor_fill(clnet_tensor *t, float value)
{
    if (!t)
        return CLNET_ERR_INVALID_ARG;
    return clnet__fill(t->ctx, t->buf, 0, t->count, value);
}

/* Keras's truncated normal: redraw beyond 2 sigma; the stddev is divided by the
 * truncated distribution's own stddev (0.8796...) so the variance stays as asked. */
static double truncated(clnet__rng *r, double stddev)
{
    double x;
    do
        x = clnet__rng_normal(r);
    while (fabs(x) > 2.0);
    return x * stddev / 0.87962566103423978;
}

clnet_status clnet__init_host(float *data, clnet_shape s, clnet_init kind, float a, float b,
                              uint64_t seed)
{
    const double fan_in = (double)s.n * s.h * s.w, fan_out = (double)s.n * s.h * s.c;
    const size_t count = clnet__shape_count(s);
    clnet__rng r;
    clnet__rng_seed(&r, seed);
    double limit = 0.0, stddev = 0.0;
    switch (kind) {
    case CLNET_INIT_UNIFORM:
        break;
    case CLNET_INIT_NORMAL:
        break;
    case CLNET_INIT_GLOROT_UNIFORM:
        limit = sqrt(6.0 / (fan_in + fan_out));
        break;
    case CLNET_INIT_GLOROT_NORMAL:
        stddev = sqrt(2.0 / (fan_in + fan_out));
        break;
    case CLNET_INIT_HE_UNIFORM:
        limit = sqrt(6.0 / fan_in);
        break;
    case CLNET_INIT_HE_NORMAL:
        stddev = sqrt(2.0 / fan_in);
        break;
    default:
        return CLNET_ERR_INVALID_ARG;
    }
    for (size_t i = 0; i < count; ++i) {
        double v;
        if (kind == CLNET_INIT_UNIFORM)
            v = a + (b - a) * clnet__rng_uniform(&r);
        else if (kind == CLNET_INIT_NORMAL)
            v = a + b * clnet__rng_normal(&r);
        else if (limit > 0.0)
            v = -limit + 2.0 * limit * clnet__rng_uniform(&r);
        else
            v = truncated(&r, stddev);
        data[i] = (float)v;
    }
    return CLNET_OK;
}

clnet_status clnet_tensor_init(clnet_tensor *t, clnet_init kind, float a, float b, uint64_t seed)
{
    if (!t)
        return CLNET_ERR_INVALID_ARG;
    if (kind < CLNET_INIT_UNIFORM || kind > CLNET_INIT_HE_NORMAL)
        return clnet__fail(t->ctx, CLNET_ERR_INVALID_ARG, "unknown init kind %d", (int)kind);
    float *host = malloc(t->count * sizeof(float));
    if (!host)
        return clnet__fail(t->ctx, CLNET_ERR_OUT_OF_MEMORY,
                           "out of host memory initializing %zu floats", t->count);
    clnet_status st = clnet__init_host(host, t->shape, kind, a, b, seed);
    if (st == CLNET_OK)
        st = clnet_tensor_write(t, host, t->count);
    free(host);
    return st;
}
