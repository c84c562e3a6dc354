/* conv2d_grouped.c - conv2d's direct algorithm for grouped convolutions (conv2d_algo.h):
 * forward and the data gradient as one kernel each, with no column matrix and none of the
 * per-group GEMMs whose few columns (ResNeXt-50's first stage: 4) waste them. On CPUs the
 * forward first transposes chunks of x into rows of one channel (scratch COL), so the
 * kernel's pixel vectors load contiguously. The weight gradient stays im2col + GEMM.
 * clnet__conv2d_pick chooses it for narrow groups.
 * Kernels: cl/conv2d_grouped.cl. Tests: tests/ops/test_conv2d.c. */
#include "ops/conv2d_algo.h"

#define PROG "conv2d_grouped"

static int is_gpu(const clnet_context *ctx)
{
    return clnet__param(ctx, PROG, "CLNET_GPU", 0) != 0;
}

/* VW as common.cl sets it from CLNET_CHUNK. */
static int vector_width(const clnet_context *ctx)
{
    const int chunk = clnet__param(ctx, PROG, "CLNET_CHUNK", 1);
    return chunk >= 16 ? 16 : chunk >= 4 ? 4 : 1;
}

/* Cells of a transposed row (cl/conv2d_grouped.cl): the output row rounded up to whole
 * vectors, plus the taps past its end. */
static int row_cells(const clnet_context *ctx, const clnet__conv_geom *g)
{
    const int vw = vector_width(ctx);
    return (g->out_w + vw - 1) / vw * vw + (g->kw - 1) / g->sw + 1;
}

static size_t rows_bytes(const clnet_context *ctx, const clnet__conv_geom *g, int images)
{
    return (size_t)images * g->in_h * g->cin * g->sw * (size_t)row_cells(ctx, g) * sizeof(float);
}

/* Images per transposed chunk: within conv2d's COL_BYTES and the max allocation (one image
 * at least). */
static int chunk_images(const clnet_context *ctx, const clnet__conv_geom *g)
{
    uint64_t bound = (uint64_t)clnet__param(ctx, "conv2d", "COL_BYTES", 64 << 20);
    if (bound > ctx->info.max_alloc_bytes)
        bound = ctx->info.max_alloc_bytes;
    const uint64_t n = bound / rows_bytes(ctx, g, 1);
    return n < 1 ? 1 : n > (uint64_t)g->batch ? g->batch : (int)n;
}

size_t clnet__conv2d_grouped_scratch(const clnet_context *ctx, const clnet__conv_geom *g)
{
    return is_gpu(ctx) ? 0 : rows_bytes(ctx, g, chunk_images(ctx, g));
}

/* The GC_GEOM arguments of the kernels into a; returns how many. */
static int geom_args(const clnet__conv_geom *g, clnet_arg *a)
{
    const int v[] = {g->batch, g->in_h, g->in_w, g->cin, g->out_h, g->out_w, g->cout,
                     g->kh,    g->kw,   g->sh,   g->sw,  g->pad_t, g->pad_l, g->groups};
    for (size_t i = 0; i < CLNET_COUNTOF(v); ++i)
        a[i] = CLNET_ARG_INT(v[i]);
    return (int)CLNET_COUNTOF(v);
}

/* CPU global size over rows of wide pixels and c channels in groups of gc: (groups *
 * ceil(gc / GC_OB), ceil(wide / VW), rows). */
static void cpu_global(const clnet_context *ctx, const clnet__conv_geom *g, int gc, int wide,
                       size_t rows, size_t global[3])
{
    const size_t vw = (size_t)vector_width(ctx), ob = 4; /* the .cl's GC_OB */
    global[0] = (size_t)g->groups * (((size_t)gc + ob - 1) / ob);
    global[1] = ((size_t)wide + vw - 1) / vw;
    global[2] = rows;
}

/* y of images n0 .. n0 + images - 1 from x (on CPUs its chunk's transposed rows). */
static clnet_status forward(clnet_context *ctx, const clnet__conv_geom *g, cl_mem x, cl_mem w,
                            cl_mem y, int n0, int images)
{
    clnet_arg args[20];
    int n = 0;
    args[n++] = CLNET_ARG_MEM(x);
    args[n++] = CLNET_ARG_MEM(w);
    args[n++] = CLNET_ARG_MEM(y);
    args[n++] = CLNET_ARG_INT(n0);
    args[n++] = CLNET_ARG_INT(images);
    args[n++] = CLNET_ARG_INT(row_cells(ctx, g));
    n += geom_args(g, args + n);
    const size_t rows = (size_t)images * g->out_h;
    size_t global[3] = {(size_t)g->cout, (size_t)g->out_w, rows};
    if (!is_gpu(ctx))
        cpu_global(ctx, g, g->cout / g->groups, g->out_w, rows, global);
    return clnet__launch(ctx, PROG, "conv2d_grouped_forward", args, n, 3, global);
}

clnet_status clnet__conv2d_grouped(clnet_context *ctx, const clnet__scratch *s,
                                   const clnet__conv_geom *g, cl_mem x, cl_mem w, cl_mem y)
{
    if (is_gpu(ctx))
        return forward(ctx, g, x, w, y, 0, g->batch);
    const int per = chunk_images(ctx, g), wq = row_cells(ctx, g);
    cl_mem xt = NULL;
    CLNET_TRY(clnet__scratch_get(ctx, s, CLNET_SCRATCH_COL, rows_bytes(ctx, g, per),
                                 "conv2d grouped rows", &xt));
    for (int n0 = 0; n0 < g->batch; n0 += per) {
        const int images = g->batch - n0 < per ? g->batch - n0 : per;
        const clnet_arg args[] = {CLNET_ARG_MEM(x),        CLNET_ARG_MEM(xt),
                                  CLNET_ARG_INT(n0),       CLNET_ARG_INT(images),
                                  CLNET_ARG_INT(g->in_h),  CLNET_ARG_INT(g->in_w),
                                  CLNET_ARG_INT(g->cin),   CLNET_ARG_INT(g->sw),
                                  CLNET_ARG_INT(g->pad_l), CLNET_ARG_INT(wq)};
        const size_t global[2] = {(size_t)g->cin, (size_t)images * g->in_h};
        CLNET_TRY(clnet__launch(ctx, PROG, "conv2d_grouped_rows", args, (int)CLNET_COUNTOF(args), 2,
                                global));
        CLNET_TRY(forward(ctx, g, xt, w, y, n0, images));
    }
    return CLNET_OK;
}

clnet_status clnet__conv2d_grouped_dx(clnet_context *ctx, const clnet__conv_geom *g, cl_mem dpre,
                                      cl_mem w, cl_mem dx)
{
    clnet_arg args[17];
    int n = 0;
    args[n++] = CLNET_ARG_MEM(dpre);
    args[n++] = CLNET_ARG_MEM(w);
    args[n++] = CLNET_ARG_MEM(dx);
    n += geom_args(g, args + n);
    const size_t rows = (size_t)g->batch * g->in_h;
    size_t global[3] = {(size_t)g->cin, (size_t)g->in_w, rows};
    if (!is_gpu(ctx))
        cpu_global(ctx, g, g->cin / g->groups, g->in_w, rows, global);
    return clnet__launch(ctx, PROG, "conv2d_grouped_backward", args, n, 3, global);
}
