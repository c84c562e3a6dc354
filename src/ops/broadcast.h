/* broadcast.h - the broadcast elementwise machinery of broadcast.c (multiply, subtract,
 * divide) that add.c shares for its two-input broadcast form: b (input 1) of a's shape or
 * with dimensions of size 1 that broadcast onto a's (input 0), viewed as
 * [groups][rows][cols]. Tests: tests/ops/test_multiply.c, test_add.c. */
#ifndef CLNET_OPS_BROADCAST_H
#define CLNET_OPS_BROADCAST_H

#include "ops/op.h"

/* Whether the inputs are two of different shapes (so the broadcast path runs). */
int clnet__bc_broadcasts(const clnet_shape *in, int n_in);
/* CLNET_ERR_SHAPE naming op and both shapes when in[1] does not broadcast onto in[0]. */
clnet_status clnet__bc_check(clnet_context *ctx, const char *op, const clnet_shape *in, int n_in);
/* The scratch b's gradient needs (summed over the broadcast cells), recorded in e. */
clnet_status clnet__bc_prepare(clnet_context *ctx, const char *op, const clnet_shape *in, int n_in,
                               int training, clnet__op_exec *e);
/* kernel is "<op>_forward" / "<op>_backward" of cl/broadcast.cl. */
clnet_status clnet__bc_forward(const clnet__op_call *call, const char *kernel);
clnet_status clnet__bc_backward(const clnet__op_call *call, const char *kernel);

#endif
