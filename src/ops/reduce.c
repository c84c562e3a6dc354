/* reduce.c - column sums over rows in two fixed-order stages, and per group of rows in the
 * first stage alone (see reduce.h).
 * Kernels: cl/reduce.cl. Tests: tests/ops/test_reduce.c. */
#include <limits.h>

#include "ops/reduce.h"

#define PROG "reduce"

/* Blocks of at least RED_ROWS rows, at most RED_BLOCKS of them: a function of rows and
 * the class only, so the order of the additions never changes. */
static int blocks_of(const clnet_context *ctx, int rows, int *rpb)
{
    const int min_rows = clnet__param(ctx, PROG, "RED_ROWS", 256);
    const int max_blocks = clnet__param(ctx, PROG, "RED_BLOCKS", 64);
    int blocks = (rows + min_rows - 1) / min_rows;
    blocks = blocks < 1 ? 1 : blocks > max_blocks ? max_blocks : blocks;
    *rpb = (rows + blocks - 1) / blocks;
    return (rows + *rpb - 1) / *rpb;
}

size_t clnet__reduce_rows_scratch(const clnet_context *ctx, int rows, int cols)
{
    int rpb;
    const int blocks = rows > 0 ? blocks_of(ctx, rows, &rpb) : 1;
    return blocks > 1 ? (size_t)blocks * (size_t)cols * sizeof(float) : 0;
}

/* Stage 1: block b of blocks sums rows [b * rpb, min((b + 1) * rpb, rows)) of every column
 * into dst[dst_off + b * cols + c]. */
static clnet_status partial(clnet_context *ctx, cl_mem x, size_t x_off, int rows, int cols, int rpb,
                            int blocks, cl_mem dst, size_t dst_off)
{
    const clnet_arg args[] = {CLNET_ARG_MEM(x),           CLNET_ARG_INT((int)x_off),
                              CLNET_ARG_INT(rows),        CLNET_ARG_INT(cols),
                              CLNET_ARG_INT(rpb),         CLNET_ARG_MEM(dst),
                              CLNET_ARG_INT((int)dst_off)};
    if (clnet__param(ctx, PROG, "CLNET_GPU", 0)) {
        const size_t ct = (size_t)clnet__param(ctx, PROG, "RED_CT", 16);
        const size_t rt = (size_t)clnet__param(ctx, PROG, "RED_RT", 4);
        if ((rt & (rt - 1)) != 0 || ct * rt > ctx->info.max_work_group_size)
            return clnet__fail(ctx, CLNET_ERR_UNSUPPORTED,
                               "reduce_rows: work-group %zu x %zu (RED_CT x RED_RT) needs a power "
                               "of two of lanes within %zu work-items on %s",
                               ct, rt, ctx->info.max_work_group_size, ctx->info.name);
        const size_t global[2] = {clnet__round_up((size_t)cols, ct), rt * (size_t)blocks};
        const size_t local[2] = {ct, rt};
        return clnet__launch_local(ctx, PROG, "reduce_rows_partial", args, (int)CLNET_COUNTOF(args),
                                   2, global, local);
    }
    const size_t cvec = (size_t)clnet__param(ctx, PROG, "CLNET_CVEC", 1);
    const size_t global[2] = {((size_t)cols + cvec - 1) / cvec, (size_t)blocks};
    return clnet__launch(ctx, PROG, "reduce_rows_partial", args, (int)CLNET_COUNTOF(args), 2,
                         global);
}

clnet_status clnet__reduce_rows(clnet_context *ctx, const clnet__scratch *s, cl_mem x, size_t x_off,
                                int rows, int cols, cl_mem out, size_t out_off)
{
    if (rows < 0 || cols < 0)
        return clnet__fail(ctx, CLNET_ERR_INVALID_ARG, "reduce_rows: %d rows x %d columns", rows,
                           cols);
    if (cols == 0)
        return CLNET_OK;
    if (rows == 0)
        return clnet__fill(ctx, out, out_off, (size_t)cols, 0.0f);
    if (x_off > INT_MAX || out_off > INT_MAX)
        return clnet__fail(ctx, CLNET_ERR_TOO_LARGE,
                           "reduce_rows: offsets beyond 2^31 floats (%zu, %zu)", x_off, out_off);
    int rpb;
    const int blocks = blocks_of(ctx, rows, &rpb);

    /* One block: stage 1 writes the sums straight into out. */
    cl_mem dst = out;
    size_t dst_off = out_off;
    if (blocks > 1) {
        CLNET_TRY(clnet__scratch_get(ctx, s, CLNET_SCRATCH_REDUCE,
                                     (size_t)blocks * (size_t)cols * sizeof(float), "reduce_rows",
                                     &dst));
        dst_off = 0;
    }
    CLNET_TRY(partial(ctx, x, x_off, rows, cols, rpb, blocks, dst, dst_off));
    if (blocks == 1)
        return CLNET_OK;
    const int gpu = clnet__param(ctx, PROG, "CLNET_GPU", 0) != 0;
    const size_t cvec = (size_t)clnet__param(ctx, PROG, "CLNET_CVEC", 1);
    const clnet_arg sum_args[] = {CLNET_ARG_MEM(dst), CLNET_ARG_INT(blocks), CLNET_ARG_INT(cols),
                                  CLNET_ARG_MEM(out), CLNET_ARG_INT((int)out_off)};
    const size_t global = gpu ? (size_t)cols : ((size_t)cols + cvec - 1) / cvec;
    return clnet__launch(ctx, PROG, "reduce_rows_sum", sum_args, (int)CLNET_COUNTOF(sum_args), 1,
                         &global);
}

clnet_status clnet__reduce_groups(clnet_context *ctx, cl_mem x, int groups, int rows, int cols,
                                  cl_mem out)
{
    if (groups < 1 || rows < 1 || cols < 1)
        return clnet__fail(ctx, CLNET_ERR_INVALID_ARG,
                           "reduce_groups: %d groups of %d rows x %d columns", groups, rows, cols);
    /* Stage 1 alone, a block per group: its sums are the output. */
    return partial(ctx, x, 0, groups * rows, cols, rows, groups, out, 0);
}
