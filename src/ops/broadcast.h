/* broadcast.h - the broadcast elementwise kernels of multiply, subtract and divide
 * (broadcast.c), shared with layer_scale (layer_scale.c: x times a per-channel weight) and
 * add's two-input broadcast form (add.c).
 * Kernels: cl/broadcast.cl. Tests: tests/ops/test_multiply.c, test_layer_scale.c, test_add.c. */
#ifndef CLNET_OPS_BROADCAST_H
#define CLNET_OPS_BROADCAST_H

#include "ops/op.h"

/* Whether the inputs are two of different shapes (so an add runs the broadcast kernels). */
int clnet__broadcast_differs(const clnet_shape *in, int n_in);
/* CLNET_ERR_SHAPE naming op and both shapes when in[1] does not broadcast onto in[0]. */
clnet_status clnet__broadcast_check(clnet_context *ctx, const char *op, const clnet_shape *in,
                                    int n_in);
/* What kernel "<op>_backward" needs for a of shape in[0] and b of shape in[1] (which
 * broadcasts to it, else CLNET_ERR_SHAPE naming op): with CLNET_PREPARE_TRAINING, the
 * TMP and REDUCE scratch of b's gradient when it sums over broadcast cells. */
clnet_status clnet__broadcast_prepare(clnet_context *ctx, const char *op, const clnet_shape *in,
                                      int n_in, int training, clnet__op_exec *e);
/* y = a op b by kernel "<op>_forward" of cl/broadcast.cl. Only enqueues. */
clnet_status clnet__broadcast_forward(clnet_context *ctx, const char *kernel, clnet_tensor *a,
                                      clnet_tensor *b, clnet_tensor *y);
/* da and db (either NULL: not wanted) from dy by kernel "<op>_backward"; db summed over
 * its broadcast cells in a fixed order with scratch from clnet__broadcast_prepare. Only
 * enqueues. */
clnet_status clnet__broadcast_backward(clnet_context *ctx, const clnet__scratch *scratch,
                                       const char *kernel, clnet_tensor *a, clnet_tensor *b,
                                       clnet_tensor *dy, clnet_tensor *da, clnet_tensor *db);

#endif
