/* conv2d_algo.h - conv2d's convolution algorithms and the choice between them, inside
 * src/ops: im2col + GEMM (conv2d.c) and Winograd F(2x2, 3x3) + 16 GEMMs
 * (conv2d_winograd.c, kernels cl/conv2d_winograd.cl). Tests: tests/ops/test_conv2d.c,
 * tests/ops/test_conv2d_winograd.c. */
#ifndef CLNET_OPS_CONV2D_ALGO_H
#define CLNET_OPS_CONV2D_ALGO_H

#include "ops/op.h"

typedef enum clnet__conv_algo {
    CLNET_CONV_AUTO = 0,
    CLNET_CONV_IM2COL = 1, /* im2col + GEMM (one GEMM on x itself for 1x1 stride 1) */
    CLNET_CONV_WINOGRAD = 2,
    CLNET_CONV_ALGO_COUNT
} clnet__conv_algo;

/* Everything the kernels need to address x, y and the workspaces: x {batch, in_h, in_w,
 * cin}, y {batch, out_h, out_w, cout}, kernel {kh, kw, cin, cout}, strides, and the padding
 * cells before the input (the ones after follow from the sizes). */
typedef struct clnet__conv_geom {
    int batch, in_h, in_w, cin, out_h, out_w, cout, kh, kw, sh, sw, pad_t, pad_l;
} clnet__conv_geom;

/* "auto", "im2col", "winograd" (the values of $CLNET_CONV_ALGO). */
const char *clnet__conv_algo_name(clnet__conv_algo algo);
/* Whether algo can run a convolution of this geometry (AUTO and IM2COL always;
 * WINOGRAD: 3x3 kernel, stride 1). */
int clnet__conv2d_algo_ok(clnet__conv_algo algo, const clnet__conv_geom *g);
/* The tuning database's key of a convolution problem (forward, or dX with
 * backward_data): "conv2d 1x56x56x64 k3x3 s1x1 p1,1 -> 56x56x64" (+ " dx"). */
void clnet__conv2d_key(const clnet__conv_geom *g, int backward_data, char *buf, size_t len);
/* The geometry of a convolution with params p on input in, checked (conv2d.c). */
clnet_status clnet__conv2d_geom(clnet_context *ctx, const clnet__conv2d_params *p, clnet_shape in,
                                clnet__conv_geom *g);
/* The algorithm for forward (backward_data = 0) or for the data gradient dX
 * (backward_data = 1) of g on ctx: $CLNET_CONV_ALGO when it names an algorithm that
 * applies, else the tuning database's entry for the problem, else the variant table's
 * rule ("conv2d" keys WINOGRAD, WINOGRAD_MIN_C, WINOGRAD_MIN_TILES; Winograd's
 * transformed kernel must fit the max allocation). Never AUTO. *tuned (may be NULL)
 * is 1 when the database decided. */
clnet__conv_algo clnet__conv2d_pick(const clnet_context *ctx, const clnet__conv_geom *g,
                                    int backward_data, int *tuned);
/* conv2d's forward with a forced algorithm (AUTO: clnet__conv2d_pick's), for tuners
 * timing candidates; CLNET_ERR_UNSUPPORTED when algo does not apply to the shapes.
 * conv2d.c. */
clnet_status clnet__conv2d_forward_with(const clnet__op_call *call, clnet__conv_algo algo);

/* dx = the data gradient of the convolution g from dpre (the gradient before the
 * activation) by algo (AUTO: clnet__conv2d_pick's for dX), for conv2d's backward and for
 * tuners; CLNET_ERR_UNSUPPORTED when algo does not apply. conv2d.c. */
clnet_status clnet__conv2d_dx_with(clnet_context *ctx, const clnet__conv_geom *g, cl_mem dpre,
                                   cl_mem w, cl_mem dx, clnet__conv_algo algo);

/* y = act(conv(x, w) + bias + res) by Winograd; bias and res may be NULL. g must pass
 * clnet__conv2d_algo_ok(CLNET_CONV_WINOGRAD, g). */
clnet_status clnet__conv2d_winograd(clnet_context *ctx, const clnet__conv_geom *g, cl_mem x,
                                    cl_mem w, cl_mem bias, cl_mem res, clnet__act act, cl_mem y);
/* dx = the data gradient of the convolution g from dpre (the gradient before the
 * activation, shaped like y): the 3x3 stride-1 convolution of dpre with w rotated by 180
 * degrees, cin and cout swapped, padding 2 - pad before each axis, by Winograd. */
clnet_status clnet__conv2d_winograd_dx(clnet_context *ctx, const clnet__conv_geom *g, cl_mem dpre,
                                       cl_mem w, cl_mem dx);

#endif
