/* reduce.h - deterministic column sums over the rows of a matrix, shared by ops
 * (bias gradients of conv2d and dense). reduce.c, cl/reduce.cl.
 * Tests: tests/ops/test_reduce.c. */
#ifndef CLNET_OPS_REDUCE_H
#define CLNET_OPS_REDUCE_H

#include "device/runtime.h"

/* out[out_off + c] = sum over r < rows of x[x_off + r * cols + c], for c < cols, in a
 * fixed order that depends only on rows, cols and the device class (no atomics), so
 * the same call repeats bit for bit. Offsets in floats. Uses CLNET_SCRATCH_REDUCE: x
 * and out must not live there. rows == 0 writes zeros. Only enqueues. */
clnet_status clnet__reduce_rows(clnet_context *ctx, cl_mem x, size_t x_off, int rows, int cols,
                                cl_mem out, size_t out_off);

#endif
