/* gemm.c - the GEMM wrapper: argument checks, the per-class choice and the
 * implementations' launchers. Kernels: cl/gemm.cl. Tests: tests/ops/test_gemm.c. */
#include <clblast_c.h>
#include <stdio.h>

#include "gemm/gemm.h"

const char *clnet__gemm_impl_name(clnet__gemm_impl impl)
{
    switch (impl) {
    case CLNET_GEMM_CLBLAST:
        return "clblast";
    case CLNET_GEMM_PACKED:
        return "packed";
    case CLNET_GEMM_TILED:
        return "tiled";
    default:
        return "auto";
    }
}

clnet__gemm_impl clnet__gemm_choice(const clnet_context *ctx)
{
    int v = clnet__param(ctx, "gemm", "GEMM_IMPL", CLNET_GEMM_TILED);
    return v > CLNET_GEMM_AUTO && v < CLNET_GEMM_IMPL_COUNT ? (clnet__gemm_impl)v
                                                            : CLNET_GEMM_TILED;
}

static clnet_status gemm_clblast(clnet_context *ctx, const clnet__gemm_args *g)
{
    CLBlastStatusCode s = CLBlastSgemm(
        CLBlastLayoutRowMajor, g->trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
        g->trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, (size_t)g->m, (size_t)g->n,
        (size_t)g->k, g->alpha, g->a, g->a_off, (size_t)g->lda, g->b, g->b_off, (size_t)g->ldb,
        g->beta, g->c, g->c_off, (size_t)g->ldc, &ctx->queue, NULL);
    if (s != CLBlastSuccess)
        return clnet__fail(ctx, s == CLBlastOpenCLOutOfResources || s == CLBlastOpenCLOutOfHostMemory ||
                                        (int)s == CL_MEM_OBJECT_ALLOCATION_FAILURE
                                    ? CLNET_ERR_OUT_OF_MEMORY
                                    : CLNET_ERR_GEMM,
                           "CLBlastSgemm %dx%dx%d (trans %d%d) failed with CLBlast code %d", g->m,
                           g->n, g->k, g->trans_a, g->trans_b, (int)s);
    return CLNET_OK;
}

/* Local-memory tiled kernel: each work-group computes a GEMM_TILE x GEMM_TILE
 * block of C, each work-item GEMM_WPT x GEMM_WPT of it. */
static clnet_status gemm_tiled(clnet_context *ctx, const clnet__gemm_args *g)
{
    const int tile = clnet__param(ctx, "gemm", "GEMM_TILE", 32);
    const int wpt = clnet__param(ctx, "gemm", "GEMM_WPT", 4);
    const clnet_arg args[] = {
        CLNET_ARG_INT(g->trans_a), CLNET_ARG_INT(g->trans_b), CLNET_ARG_INT(g->m),
        CLNET_ARG_INT(g->n),       CLNET_ARG_INT(g->k),       CLNET_ARG_FLOAT(g->alpha),
        CLNET_ARG_MEM(g->a),       CLNET_ARG_INT((int)g->a_off), CLNET_ARG_INT(g->lda),
        CLNET_ARG_MEM(g->b),       CLNET_ARG_INT((int)g->b_off), CLNET_ARG_INT(g->ldb),
        CLNET_ARG_FLOAT(g->beta),  CLNET_ARG_MEM(g->c),       CLNET_ARG_INT((int)g->c_off),
        CLNET_ARG_INT(g->ldc),
    };
    const size_t local[2] = {(size_t)(tile / wpt), (size_t)(tile / wpt)};
    const size_t global[2] = {(size_t)(g->n + tile - 1) / (size_t)tile * local[0],
                              (size_t)(g->m + tile - 1) / (size_t)tile * local[1]};
    return clnet__launch_local(ctx, "gemm", "gemm_tiled", args, (int)CLNET_COUNTOF(args), 2,
                               global, local);
}

static clnet_status check_args(clnet_context *ctx, const clnet__gemm_args *g)
{
    const int a_cols = g->trans_a ? g->m : g->k, b_cols = g->trans_b ? g->k : g->n;
    if (g->m < 0 || g->n < 0 || g->k < 0 || g->lda < (a_cols > 1 ? a_cols : 1) ||
        g->ldb < (b_cols > 1 ? b_cols : 1) || g->ldc < (g->n > 1 ? g->n : 1))
        return clnet__fail(ctx, CLNET_ERR_INVALID_ARG,
                           "GEMM %dx%dx%d: bad leading dimensions lda=%d ldb=%d ldc=%d", g->m,
                           g->n, g->k, g->lda, g->ldb, g->ldc);
    return CLNET_OK;
}

clnet_status clnet__gemm_with(clnet_context *ctx, clnet__gemm_impl impl, const clnet__gemm_args *g)
{
    CLNET_TRY(check_args(ctx, g));
    if (g->m == 0 || g->n == 0)
        return CLNET_OK;
    if (impl == CLNET_GEMM_AUTO)
        impl = clnet__gemm_choice(ctx);
    switch (impl) {
    case CLNET_GEMM_CLBLAST:
        return gemm_clblast(ctx, g);
    case CLNET_GEMM_PACKED:
    case CLNET_GEMM_TILED:
    default:
        return gemm_tiled(ctx, g);
    }
}

clnet_status clnet__gemm(clnet_context *ctx, const clnet__gemm_args *g)
{
    return clnet__gemm_with(ctx, CLNET_GEMM_AUTO, g);
}
