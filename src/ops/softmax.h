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

#endif
