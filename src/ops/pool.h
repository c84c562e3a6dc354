/* pool.h - what max_pool and avg_pool share (pool.c): their parameters and their
 * window geometry, used by the launchers (src/ops/max_pool.c, avg_pool.c) and the
 * references (src/ref/max_pool.c, avg_pool.c). */
#ifndef CLNET_OPS_POOL_H
#define CLNET_OPS_POOL_H

#include "ops/op.h"

/* One pooling over one input shape: the kernels' POOL_GEOM arguments, in order.
 * Output (oy, ox) pools input rows oy * sh - pad_t + [0, kh), columns likewise. */
typedef struct clnet__pool_geom {
    int batch, in_h, in_w, c, out_h, out_w, kh, kw, sh, sw, pad_t, pad_l;
} clnet__pool_geom;

/* pool_size, strides (default pool_size), padding = valid | same | p | ph, pw | t, b, l, r,
 * ceil_mode (off for same, which rounds up already). Explicit padding must stay below the
 * pool size, so every window holds an input cell (ceil_mode's last window too: it starts
 * inside the input or its leading padding). */
clnet_status clnet__pool_parse(clnet_context *ctx, clnet__kv *kv, clnet__pool_params *p);
/* Their rows of the op's keys table. */
#define CLNET_POOL_KEYS                                                                            \
    {"pool_size", "int or h, w", "2", "window height and width", "3"},                             \
        {"strides", "int or h, w", "pool_size", "step of the window", "1"}, CLNET_KEY_PADDING,     \
    {                                                                                              \
        "ceil_mode", "bool", "false",                                                              \
            "round the output size up (PyTorch, ONNX): a last, partial window (same padding "      \
            "already does)",                                                                       \
            "true"                                                                                 \
    }
/* The geometry of p over input in; 0 when the pool does not fit (valid, too small). */
int clnet__pool_geometry(const clnet__pool_params *p, clnet_shape in, clnet__pool_geom *g);
/* avg_pool's count_include_pad divisor counts window cells above *end_h and left of
 * *end_w (input coordinates): the input and its padding, not what ceil_mode's last
 * window overhangs. */
void clnet__pool_counted_end(const clnet__pool_params *p, const clnet__pool_geom *g, int *end_h,
                             int *end_w);
/* clnet__pool_geometry, or CLNET_ERR_SHAPE naming op and the shapes. */
clnet_status clnet__pool_check(clnet_context *ctx, const char *op, const clnet__pool_params *p,
                               clnet_shape in, clnet__pool_geom *g);
/* The output shape {n, out_h, out_w, c}, or CLNET_ERR_SHAPE naming op and the shapes. */
clnet_status clnet__pool_infer(clnet_context *ctx, const char *op, const clnet__pool_params *p,
                               clnet_shape in, clnet_shape *out);
/* The desc's describe: the window, "3x3/2". */
void clnet__pool_describe(const void *params, char *buf, size_t len);
/* The desc's flops: one comparison or addition per window cell. */
double clnet__pool_flops(const void *params, const clnet_shape *in, int n_in, clnet_shape out);
/* Appends the POOL_GEOM kernel arguments to a; returns how many (12). */
int clnet__pool_args(const clnet__pool_geom *g, clnet_arg *a);
/* Enqueues kernel of program over g's output elements (forward) or input elements
 * (backward): GPU classes global (c, w, n * h), one element per work-item; CPU
 * (1, w, n * h), one pixel per work-item looping its channels. */
clnet_status clnet__pool_launch(clnet_context *ctx, const char *program, const char *kernel,
                                const clnet_arg *args, int n_args, const clnet__pool_geom *g,
                                int over_input);

#endif
