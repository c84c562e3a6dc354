/* pool.c - parameters and window geometry shared by max_pool and avg_pool (pool.h).
 * Ops: src/ops/max_pool.c, avg_pool.c. References: src/ref/max_pool.c, avg_pool.c. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "ops/pool.h"
#include "ops/window.h"

clnet_status clnet__pool_parse(clnet_context *ctx, clnet__kv *kv, clnet__pool_params *p)
{
    int k[2], s[2], mode, pad[4];
    CLNET_TRY(clnet__kv_positive2(ctx, kv, "pool_size", 2, k));
    /* Keras: strides default to pool_size. */
    s[0] = k[0];
    s[1] = k[1];
    if (clnet__kv_find(kv, "strides"))
        CLNET_TRY(clnet__kv_positive2(ctx, kv, "strides", 1, s));
    CLNET_TRY(clnet__kv_padding(ctx, kv, &mode, pad));
    int ceil_mode;
    CLNET_TRY(clnet__kv_bool(ctx, kv, "ceil_mode", 0, &ceil_mode));
    /* 'same' already rounds up (ceil(in / strides) outputs, from its own padding): the key
     * changes nothing there. */
    if (mode == CLNET_PADDING_SAME)
        ceil_mode = 0;
    *p = (clnet__pool_params){k[0],   k[1],   s[0],   s[1], mode,     pad[0],
                              pad[1], pad[2], pad[3], 0,    ceil_mode};
    /* A window of padding alone would have no maximum and nothing to average. */
    if (pad[0] >= k[0] || pad[1] >= k[0] || pad[2] >= k[1] || pad[3] >= k[1])
        return clnet__kv_error(ctx, kv, clnet__kv_find(kv, "padding"), "padding",
                               "%d, %d, %d, %d must be smaller than pool_size %d, %d", pad[0],
                               pad[1], pad[2], pad[3], k[0], k[1]);
    return CLNET_OK;
}

/* ceil_mode's output size along one axis, PyTorch's rule: windows of k every s over in
 * cells with before and after cells of padding, floor((in + before + after - k + s - 1) / s)
 * + 1 of them (a window may overhang the padded input by less than a stride), less a last
 * window that would start in the trailing padding; 0 when none fits. */
static int ceil_axis(int in, int k, int s, int before, int after)
{
    const int64_t num = (int64_t)in + before + after - k + s - 1;
    if (num < 0)
        return 0; /* floor(num / s) + 1 <= 0 */
    int64_t out = num / s + 1;
    if ((out - 1) * s >= (int64_t)in + before)
        --out;
    return out > INT_MAX ? 0 : (int)out;
}

int clnet__pool_geometry(const clnet__pool_params *p, clnet_shape in, clnet__pool_geom *g)
{
    *g = (clnet__pool_geom){in.n, in.h, in.w, in.c, 0, 0, p->kh, p->kw, p->sh, p->sw, 0, 0};
    if (p->ceil_mode) { /* valid (pads 0) or explicit: parse rejects same */
        g->out_h = ceil_axis(in.h, p->kh, p->sh, p->pad_t, p->pad_b);
        g->out_w = ceil_axis(in.w, p->kw, p->sw, p->pad_l, p->pad_r);
        g->pad_t = p->pad_t;
        g->pad_l = p->pad_l;
    } else {
        g->out_h =
            clnet__window_axis(p->padding, in.h, p->kh, p->sh, p->pad_t, p->pad_b, &g->pad_t);
        g->out_w =
            clnet__window_axis(p->padding, in.w, p->kw, p->sw, p->pad_l, p->pad_r, &g->pad_l);
    }
    return in.n > 0 && in.c > 0 && g->out_h > 0 && g->out_w > 0;
}

void clnet__pool_counted_end(const clnet__pool_params *p, const clnet__pool_geom *g, int *end_h,
                             int *end_w)
{
    /* Without ceil_mode every window ends inside the padded input, so its far edge is the
     * last window's end (clipping there changes nothing). */
    const int64_t last_h = (int64_t)(g->out_h - 1) * g->sh - g->pad_t + g->kh;
    const int64_t last_w = (int64_t)(g->out_w - 1) * g->sw - g->pad_l + g->kw;
    *end_h = p->ceil_mode ? g->in_h + p->pad_b : (int)(last_h > g->in_h ? last_h : g->in_h);
    *end_w = p->ceil_mode ? g->in_w + p->pad_r : (int)(last_w > g->in_w ? last_w : g->in_w);
}

clnet_status clnet__pool_check(clnet_context *ctx, const char *op, const clnet__pool_params *p,
                               clnet_shape in, clnet__pool_geom *g)
{
    if (clnet__pool_geometry(p, in, g))
        return CLNET_OK;
    char s[48];
    return clnet__fail(ctx, CLNET_ERR_SHAPE,
                       "%s: input %s is too small for pool_size %dx%d with padding %d, %d, %d, "
                       "%d",
                       op, clnet__shape_str(in, s, sizeof s), p->kh, p->kw, p->pad_t, p->pad_b,
                       p->pad_l, p->pad_r);
}

clnet_status clnet__pool_infer(clnet_context *ctx, const char *op, const clnet__pool_params *p,
                               clnet_shape in, clnet_shape *out)
{
    clnet__pool_geom g;
    CLNET_TRY(clnet__pool_check(ctx, op, p, in, &g));
    char what[64];
    snprintf(what, sizeof what, "%s: pool_size, strides and padding", op);
    return clnet__op_out_shape(ctx, what, g.batch, g.out_h, g.out_w, g.c, out);
}

void clnet__pool_describe(const void *params, char *buf, size_t len)
{
    const clnet__pool_params *p = params;
    clnet__window_str(p->kh, p->kw, p->sh, p->sw, buf, len);
}

double clnet__pool_flops(const void *params, const clnet_shape *in, int n_in, clnet_shape out)
{
    (void)in;
    (void)n_in;
    const clnet__pool_params *p = params;
    return (double)clnet__shape_count(out) * p->kh * p->kw;
}

int clnet__pool_args(const clnet__pool_geom *g, clnet_arg *a)
{
    const int v[] = {g->batch, g->in_h, g->in_w, g->c,  g->out_h, g->out_w,
                     g->kh,    g->kw,   g->sh,   g->sw, g->pad_t, g->pad_l};
    for (size_t i = 0; i < CLNET_COUNTOF(v); ++i)
        a[i] = CLNET_ARG_INT(v[i]);
    return (int)CLNET_COUNTOF(v);
}

clnet_status clnet__pool_launch(clnet_context *ctx, const char *program, const char *kernel,
                                const clnet_arg *args, int n_args, const clnet__pool_geom *g,
                                int over_input)
{
    const int h = over_input ? g->in_h : g->out_h, w = over_input ? g->in_w : g->out_w;
    const int gpu = clnet__param(ctx, program, "CLNET_GPU", 0) != 0;
    const size_t global[3] = {gpu ? (size_t)g->c : 1, (size_t)w, (size_t)g->batch * h};
    return clnet__launch(ctx, program, kernel, args, n_args, 3, global);
}
