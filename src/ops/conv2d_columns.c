/* conv2d_columns.c - what conv2d's im2col and GEMM paths share (conv2d.c: forward, dX,
 * dW): the column matrix (its chunks of whole images, im2col and col2im) and the GEMMs
 * of each role over it or over the activation itself, one per group.
 * Kernels: cl/conv2d.cl. Tests: tests/ops/test_conv2d.c. */
#include <limits.h>
#include <stdio.h>

#include "gemm/gemm.h"
#include "ops/conv2d_algo.h"

#define PROG "conv2d"

typedef clnet__conv_geom geom;

static int is_gpu(const clnet_context *ctx)
{
    return clnet__param(ctx, PROG, "CLNET_GPU", 0) != 0;
}

/* The convolution is one GEMM on the activation itself: [pixels, cin] x [cin, cout]. */
int clnet__conv2d_pointwise(const geom *g)
{
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->out_h == g->in_h &&
           g->out_w == g->in_w;
}

/* Images per im2col chunk: the column matrix stays within COL_BYTES and the device's
 * max allocation (one image at least). */
int clnet__conv2d_chunk_images(const clnet_context *ctx, const geom *g)
{
    uint64_t bound = (uint64_t)clnet__param(ctx, PROG, "COL_BYTES", 64 << 20);
    if (bound > ctx->info.max_alloc_bytes)
        bound = ctx->info.max_alloc_bytes;
    const uint64_t per_image =
        (uint64_t)g->out_h * g->out_w * g->kh * g->kw * g->cin * sizeof(float);
    const uint64_t n = bound / per_image;
    return n < 1 ? 1 : n > (uint64_t)g->batch ? g->batch : (int)n;
}

size_t clnet__conv2d_col_bytes(const geom *g, int per)
{
    return (size_t)per * g->out_h * g->out_w * (size_t)(g->kh * g->kw * g->cin) * sizeof(float);
}

/* The column buffer of a chunk of *per images (chunk_images), from the scratch. */
clnet_status clnet__conv2d_col_buffer(clnet_context *ctx, const clnet__scratch *s, const geom *g,
                                      int *per, cl_mem *col)
{
    *per = clnet__conv2d_chunk_images(ctx, g);
    return clnet__scratch_get(ctx, s, CLNET_SCRATCH_COL, clnet__conv2d_col_bytes(g, *per),
                              "conv2d im2col", col);
}

/* Appends the CV_GEOM kernel arguments; returns how many. */
static int geom_args(const geom *g, clnet_arg *a)
{
    const int v[] = {g->in_h, g->in_w, g->cin, g->out_h, g->out_w, g->kh,
                     g->kw,   g->sh,   g->sw,  g->pad_t, g->pad_l, g->groups};
    for (size_t i = 0; i < CLNET_COUNTOF(v); ++i)
        a[i] = CLNET_ARG_INT(v[i]);
    return (int)CLNET_COUNTOF(v);
}

/* col = the column matrix of images n0 .. n0 + images - 1 of x. */
clnet_status clnet__conv2d_im2col(clnet_context *ctx, const geom *g, cl_mem x, int n0, int images,
                                  cl_mem col)
{
    const int pixels = images * g->out_h * g->out_w, kk = g->kh * g->kw * g->cin;
    clnet_arg args[17];
    int n = 0;
    args[n++] = CLNET_ARG_MEM(x);
    args[n++] = CLNET_ARG_MEM(col);
    args[n++] = CLNET_ARG_INT(n0);
    args[n++] = CLNET_ARG_INT(pixels);
    n += geom_args(g, args + n);
    const size_t gpu[2] = {(size_t)kk, (size_t)pixels}, cpu[2] = {1, (size_t)pixels};
    return clnet__launch(ctx, PROG, "conv2d_im2col", args, n, 2, is_gpu(ctx) ? gpu : cpu);
}

/* dx of images n0 .. n0 + images - 1 from their column-matrix gradient dcol. */
clnet_status clnet__conv2d_col2im(clnet_context *ctx, const geom *g, cl_mem dcol, int n0,
                                  int images, cl_mem dx)
{
    clnet_arg args[17];
    int n = 0;
    args[n++] = CLNET_ARG_MEM(dcol);
    args[n++] = CLNET_ARG_MEM(dx);
    args[n++] = CLNET_ARG_INT(n0);
    args[n++] = CLNET_ARG_INT(images);
    n += geom_args(g, args + n);
    const size_t rows = (size_t)images * g->in_h;
    if (is_gpu(ctx)) {
        const size_t global[3] = {(size_t)g->cin, (size_t)g->in_w, rows};
        return clnet__launch(ctx, PROG, "conv2d_col2im", args, n, 3, global);
    }
    return clnet__launch(ctx, PROG, "conv2d_col2im", args, n, 1, &rows);
}

/* The product of role (CLNET_CONV_GEMM_*) for one group over rows output pixels, on the
 * group's slices: kin columns of the "input" matrix (the column matrix, or x itself for
 * pointwise; its rows kk = kh * kw * cin long) and og output channels of y, dpre and the
 * kernel (rows cout long). Every group's product has these sizes and leading dimensions;
 * group_step gives how far its operands move per group. One group: packed matrices. */
clnet__gemm_args clnet__conv2d_role_args(const geom *g, int role, int rows, float beta)
{
    const int og = g->cout / g->groups, kk = g->kh * g->kw * g->cin, kin = kk / g->groups;
    clnet__gemm_args a;
    if (role == CLNET_CONV_GEMM_FWD) /* y_g = in_g W_g */
        a = (clnet__gemm_args){
            .m = rows, .n = og, .k = kin, .lda = kk, .ldb = g->cout, .ldc = g->cout};
    else if (role == CLNET_CONV_GEMM_DX) /* din_g = dpre_g W_g^T */
        a = (clnet__gemm_args){
            .trans_b = 1, .m = rows, .n = kin, .k = og, .lda = g->cout, .ldb = g->cout, .ldc = kk};
    else /* dW_g = in_g^T dpre_g */
        a = (clnet__gemm_args){
            .trans_a = 1, .m = kin, .n = og, .k = rows, .lda = kk, .ldb = g->cout, .ldc = g->cout};
    a.alpha = 1.0f;
    a.beta = beta;
    return a;
}

/* Floats the A, B and C of role move from one group to the next. */
static void group_step(const geom *g, int role, size_t step[3])
{
    const size_t og = (size_t)(g->cout / g->groups),
                 kin = (size_t)(g->kh * g->kw * g->cin) / g->groups;
    step[0] = role == CLNET_CONV_GEMM_DX ? og : kin;
    step[1] = og;
    step[2] = role == CLNET_CONV_GEMM_DX ? kin : og;
}

/* The GEMMs of role (CLNET_CONV_GEMM_*) over rows output pixels as the record planned
 * them, one per group, the operands at a_off, b_off, c_off for group 0; ldc 0: C's rows
 * are the role's (else a forward's output rows ldc apart, inside a wider tensor). */
clnet_status clnet__conv2d_gemm(const clnet__conv2d_gemm_ctx *r, const geom *g, int role, int rows,
                                float beta, cl_mem a, size_t a_off, cl_mem b, size_t b_off,
                                cl_mem c, size_t c_off, int ldc)
{
    size_t step[3];
    group_step(g, role, step);
    for (int i = 0; i < g->groups; ++i) {
        clnet__gemm_args ga = clnet__conv2d_role_args(g, role, rows, beta);
        ga.a = a;
        ga.a_off = a_off + (size_t)i * step[0];
        ga.b = b;
        ga.b_off = b_off + (size_t)i * step[1];
        ga.c = c;
        ga.c_off = c_off + (size_t)i * step[2];
        if (ldc)
            ga.ldc = ldc;
        ga.conv = r->conv;
        CLNET_TRY(clnet__gemm_run_with(r->ctx, &r->e->gemm[role], r->s, &ga, r->ep, r->b_packed));
    }
    return CLNET_OK;
}
