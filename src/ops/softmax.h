/* softmax.h - the row-kernel launch shared by softmax.c and softmax_cross_entropy.c. */
#ifndef CLNET_OPS_SOFTMAX_H
#define CLNET_OPS_SOFTMAX_H

#include "device/runtime.h"

/* Launches kernel of program over rows of c floats, as cl/softmax.cl describes: on GPU
 * classes work-groups of lanes x (CLNET_WG / lanes) rows, lanes = min(CLNET_WG, c
 * rounded up to a power of two), global (lanes, rows); on CPUs a work-item per row. */
clnet_status clnet__softmax_launch_rows(clnet_context *ctx, const char *program, const char *kernel,
                                        const clnet_arg *args, int n_args, int rows, int c);
/* y = softmax(x) over rows of c floats; x may be y (each element is read and written by
 * the same work-item, after its row's reductions). */
clnet_status clnet__softmax_rows_forward(clnet_context *ctx, cl_mem x, cl_mem y, int rows, int c);
/* dx = y * (dy - sum(dy * y)) per row, from the softmax's output y. */
clnet_status clnet__softmax_rows_backward(clnet_context *ctx, cl_mem y, cl_mem dy, cl_mem dx,
                                          int rows, int c);

/* The training loss over rows x c logits x against integer labels (one per row, in
 * [0, c)): dx = the gradient of the mean loss, and result[0] = the mean of u * loss over
 * the rows (label smoothing ls; u = cw[label], or 1 when cw is NULL), result[1] = the
 * rows whose first largest logit is the label, summed in a fixed order. denom > 0
 * divides dx and result[0] instead of rows: the rows of every rank of a data-parallel
 * step, whose sums are then the global batch's. partial holds 2 * rows floats; s the
 * REDUCE scratch of clnet__reduce_rows_scratch(ctx, rows, 2). Only enqueues
 * (softmax_cross_entropy.c). */
clnet_status clnet__sce_sparse(clnet_context *ctx, const clnet__scratch *s, cl_mem x, cl_mem labels,
                               cl_mem cw, float ls, int rows, int denom, int c, cl_mem dx,
                               cl_mem partial, cl_mem result);

#endif
