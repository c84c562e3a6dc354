/* reduce.h - deterministic column sums over the rows of a matrix, shared by ops
 * (bias gradients of conv2d and dense). reduce.c, cl/reduce.cl.
 * Tests: tests/ops/test_reduce.c. */
#ifndef CLNET_OPS_REDUCE_H
#define CLNET_OPS_REDUCE_H

#include "device/runtime.h"

/* out[out_off + c] = sum over r < rows of x[x_off + r * cols + c], for c < cols, in a
 * fixed order that depends only on rows, cols and the device class (no atomics), so
 * the same call repeats bit for bit. Offsets in floats. Uses clnet__reduce_rows_scratch
 * bytes of CLNET_SCRATCH_REDUCE from s: x and out must not live there. rows == 0 writes
 * zeros. Only enqueues. */
clnet_status clnet__reduce_rows(clnet_context *ctx, const clnet__scratch *s, cl_mem x, size_t x_off,
                                int rows, int cols, cl_mem out, size_t out_off);
/* The REDUCE scratch bytes of clnet__reduce_rows over rows x cols (0: none), for prepare
 * steps; never smaller for more rows. */
size_t clnet__reduce_rows_scratch(const clnet_context *ctx, int rows, int cols);
/* out[g * cols + c] = sum over r < rows of x[(g * rows + r) * cols + c] for every group
 * g < groups: column sums of each block of rows (the broadcast operand's gradient of
 * src/ops/broadcast.c), a work-group (GPU) or work-item (CPU) per block summing its rows
 * in a fixed order. No scratch. Only enqueues. */
clnet_status clnet__reduce_groups(clnet_context *ctx, cl_mem x, int groups, int rows, int cols,
                                  cl_mem out);

#endif
