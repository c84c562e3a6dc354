/* tensor.h - the tensor struct, for the library's own layers (tensor.c). */
#ifndef CLNET_TENSOR_TENSOR_H
#define CLNET_TENSOR_TENSOR_H

#include "device/runtime.h"

struct clnet_tensor {
    clnet_context *ctx; /* borrowed: the context outlives its tensors */
    clnet_shape shape;
    size_t count;
    cl_mem buf; /* count floats, NHWC */
};

static inline size_t clnet__shape_count(clnet_shape s)
{
    return (size_t)s.n * (size_t)s.h * (size_t)s.w * (size_t)s.c;
}

static inline int clnet__shape_eq(clnet_shape a, clnet_shape b)
{
    return a.n == b.n && a.h == b.h && a.w == b.w && a.c == b.c;
}

/* Fills host data with the clnet_init distribution (same rules as clnet_tensor_init). */
clnet_status clnet__init_host(float *data, clnet_shape shape, clnet_init kind, float a, float b,
                              uint64_t seed);

#endif
