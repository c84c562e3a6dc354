/* window.h - the keys of ops that slide a window over the image (conv2d,
 * depthwise_conv2d, max_pool, avg_pool): positive size and stride pairs, Keras padding,
 * and the output size along one axis (window.c). */
#ifndef CLNET_OPS_WINDOW_H
#define CLNET_OPS_WINDOW_H

#include "ops/kv.h"
#include "ops/op_params.h"

/* A pair of integers in 1..CLNET_MAX_DIM ("3" or "3, 5"); def fills both when the key
 * is absent. */
clnet_status clnet__kv_positive2(clnet_context *ctx, clnet__kv *kv, const char *key, int def,
                                 int out[2]);
/* padding = valid | same | p | ph, pw | t, b, l, r (cells, 0..CLNET_MAX_DIM); absent is valid.
 * *mode gets a CLNET_PADDING_*; pad[] top, bottom, left, right (explicit only, else 0). */
clnet_status clnet__kv_padding(clnet_context *ctx, clnet__kv *kv, int *mode, int pad[4]);
/* Output size along one axis of size in for window k and stride s, and *pad, the cells
 * of padding before the input: Keras 'same' gives out = ceil(in / s) and puts the odd
 * cell of its total max((out - 1) * s + k - in, 0) after; explicit adds before and after.
 * 0 when the window does not fit. Computed in 64 bits, at most INT_MAX. */
int clnet__window_axis(int mode, int in, int k, int s, int before, int after, int *pad);
/* "3x3/2": a window and its stride, the stride left out when 1 (ops' describe). */
const char *clnet__window_str(int kh, int kw, int sh, int sw, char *buf, size_t len);

#endif
