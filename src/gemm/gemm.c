/* gemm.c - the GEMM wrapper: argument checks, the per-class choice and the
 * implementations' launchers. Kernels: cl/gemm.cl, cl/gemv.cl. Reference: src/ref/gemm.c.
 * Checks: gemm_check.c. Tests: tests/ops/test_gemm.c. Benchmark: bench/gemm.c. */
#include <clblast_c.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "gemm/gemm.h"

/* Register tile of the packed kernel and the k run of one gemm_pack work-item; must
 * match PK_MR, PK_NR and PK_PB in cl/gemm.cl. */
#define PACK_MR 8
#define PACK_NR 32
#define PACK_PB 16
/* Epilogue bits of the packed kernels: PK_EP_* in cl/gemm.cl. */
enum { EP_BIAS = 1, EP_RES = 2, EP_PRE = 4, EP_ACT = 8 };
/* Bound on the packed B panels: a larger op(B) is packed and multiplied in column
 * chunks, so memory stays modest and below the max allocation. */
#define PACK_BUDGET_BYTES ((size_t)32 << 20)
/* gemm_gemv: columns a CPU work-item owns for an untransposed and a transposed B,
 * and the GPU work-group shape; must match GV_NW, GV_NC, GV_LX and GV_LY in
 * cl/gemv.cl. */
#define GEMV_NW 64
#define GEMV_NC 4
#define GEMV_LX 32
#define GEMV_LY 8
#define GEMV_CPU_WG 4

const char *clnet__gemm_impl_name(clnet__gemm_impl impl)
{
    switch (impl) {
    case CLNET_GEMM_CLBLAST:
        return "clblast";
    case CLNET_GEMM_PACKED:
        return "packed";
    case CLNET_GEMM_TILED:
        return "tiled";
    case CLNET_GEMM_GEMV:
        return "gemv";
    default:
        return "auto";
    }
}

clnet__gemm_impl clnet__gemm_impl_parse(const char *name)
{
    for (int i = 1; i < CLNET_GEMM_IMPL_COUNT; ++i)
        if (strcmp(name, clnet__gemm_impl_name((clnet__gemm_impl)i)) == 0)
            return (clnet__gemm_impl)i;
    return CLNET_GEMM_AUTO;
}

void clnet__gemm_key(const clnet__gemm_args *g, char *buf, size_t len)
{
    snprintf(buf, len, "gemm %c%c %dx%dx%d", g->trans_a ? 'T' : 'N', g->trans_b ? 'T' : 'N', g->m,
             g->n, g->k);
}

clnet__gemm_impl clnet__gemm_choice(const clnet_context *ctx)
{
    int v = clnet__param(ctx, "gemm", "GEMM_IMPL", CLNET_GEMM_TILED);
    if (v == CLNET_GEMM_CLBLAST && ctx->gemm_clblast_failed)
        return CLNET_GEMM_TILED;
    return v > CLNET_GEMM_AUTO && v < CLNET_GEMM_IMPL_COUNT ? (clnet__gemm_impl)v
                                                            : CLNET_GEMM_TILED;
}

/* A matrix-vector product: one row of C (m == 1) or one column (n == 1). */
static int is_gemv_shape(const clnet__gemm_args *g)
{
    return g->m == 1 || g->n == 1;
}

/* The rule's implementation for g, without the tuning database. */
static clnet__gemm_impl rule(const clnet_context *ctx, const clnet__gemm_args *g)
{
    const clnet__gemm_impl choice = clnet__gemm_choice(ctx);
    /* CLBlast serves a vector shape itself, with Sgemv (see gemm_clblast). */
    if (choice == CLNET_GEMM_CLBLAST && is_gemv_shape(g))
        return choice;
    return g->m <= clnet__param(ctx, "gemm", "GEMV_M", 0) ? CLNET_GEMM_GEMV : choice;
}

/* A launch parameter: the tuned candidate's value, else the variant table's. */
static int param(const clnet_context *ctx, const clnet__tuned *cand, const char *key, int fallback)
{
    int v = 0;
    return clnet__tuned_param(cand, key, &v) ? v : clnet__param(ctx, "gemm", key, fallback);
}

/* gemm_gemv's k slices: when the columns give too few work-items (CPU) or work-groups
 * (GPU) to fill the device, k is split into slices of at least GEMV_KMIN whose partial
 * sums gemm_gemv_reduce adds in a fixed order. Returns the slice depth (a multiple of 16,
 * no slice empty). */
static int gemv_slice_depth(const clnet_context *ctx, const clnet__tuned *cand,
                            const clnet__gemm_args *g, int gpu)
{
    const int per = gpu ? (g->trans_b ? GEMV_LY : GEMV_LX) : (g->trans_b ? GEMV_NC : GEMV_NW);
    const size_t items = (size_t)(g->n + per - 1) / (size_t)per;
    const size_t target =
        (size_t)ctx->info.compute_units * (size_t)param(ctx, cand, "GEMV_ITEMS_PER_CU", 4);
    const int kmin = param(ctx, cand, "GEMV_KMIN", 256);
    size_t ks = items >= target ? 1 : (target + items - 1) / items;
    const size_t ks_k = (size_t)(g->k / (kmin > 0 ? kmin : 1)),
                 ks_mem = PACK_BUDGET_BYTES / ((size_t)g->m * (size_t)g->n * sizeof(float));
    ks = ks > ks_k ? ks_k : ks;
    ks = ks > ks_mem ? ks_mem : ks;
    ks = ks < 1 ? 1 : ks;
    return (int)(((size_t)g->k + ks - 1) / ks + 15) / 16 * 16;
}

/* The depth of a packed panel: k rounded up to 4, zeros past k. */
static int panel_depth(int k)
{
    return (k + 3) / 4 * 4;
}

/* Bytes of the packed panels of cols columns of B at depth k (whole panels of PACK_NR). */
static size_t panel_bytes(int cols, int k)
{
    return (size_t)(cols + PACK_NR - 1) / PACK_NR * PACK_NR * (size_t)panel_depth(k) *
           sizeof(float);
}

/* Bytes of packed B panels for a product of n columns and depth k under gp's choices. */
static size_t packed_scratch(const clnet__gemm_plan *gp, int n, int k)
{
    const int nc = gp->b_direct || gp->nc >= n ? n : gp->nc;
    const size_t bytes = panel_bytes(gp->b_direct ? n % PACK_NR : nc, k);
    return bytes ? bytes : sizeof(float); /* the kernel takes the buffer even when unread */
}

static size_t gemv_scratch(const clnet__gemm_plan *gp, int m, int n, int k)
{
    const size_t ks = gp->gv_kc > 0 ? (size_t)((k + gp->gv_kc - 1) / gp->gv_kc) : 1;
    return ks > 1 ? ks * (size_t)m * (size_t)n * sizeof(float) : 0;
}

void clnet__gemm_prepare_with(const clnet_context *ctx, const clnet__gemm_args *g,
                              clnet__gemm_impl impl, const clnet__tuned *cand, clnet__gemm_plan *gp)
{
    memset(gp, 0, sizeof *gp);
    gp->args = *g;
    gp->args.a = gp->args.b = gp->args.c = NULL;
    if (impl == CLNET_GEMM_AUTO && cand)
        impl = clnet__gemm_impl_parse(cand->choice);
    if (impl == CLNET_GEMM_AUTO || (impl == CLNET_GEMM_CLBLAST && ctx->gemm_clblast_failed))
        impl = rule(ctx, g);
    gp->impl = impl;
    gp->wg_m = param(ctx, cand, "GEMM_WG_M", 32);
    gp->kc = param(ctx, cand, "GEMM_KC", 0);
    /* Packed reads an untransposed B in place (rather than packing it) for small m, and
     * runs gemm_packed_blocked (GEMM_KB > 0 its block depth) only where several tiles
     * share the blocks: not for a single row tile. */
    gp->b_direct = !g->trans_b && g->m <= param(ctx, cand, "GEMM_B_DIRECT_M", 0);
    gp->kb = param(ctx, cand, "GEMM_KB", 0);
    if (!(gp->kb > 0 && g->m > PACK_MR &&
          (g->trans_a || (gp->b_direct && g->k >= param(ctx, cand, "GEMM_KB_K", 0)))))
        gp->kb = 0;
    /* Columns per chunk: whole panels, each chunk's panels within the budget. */
    const size_t kp = (size_t)panel_depth(g->k > 4 ? g->k : 4);
    size_t fit = PACK_BUDGET_BYTES / (kp * sizeof(float) * PACK_NR);
    fit = fit < 1 ? 1 : fit > (size_t)(INT_MAX / PACK_NR) ? (size_t)(INT_MAX / PACK_NR) : fit;
    gp->nc = gp->b_direct || (int)fit * PACK_NR >= g->n ? g->n : (int)fit * PACK_NR;
    gp->tile = param(ctx, cand, "GEMM_TILE", 32);
    gp->tk = param(ctx, cand, "GEMM_TK", 16);
    gp->wpt = param(ctx, cand, "GEMM_WPT", 4);
    gp->gpu = clnet__param(ctx, "gemm", "CLNET_GPU", 0);
    gp->gv_kc = g->m > 0 && g->n > 0 && g->k > 0 ? gemv_slice_depth(ctx, cand, g, gp->gpu) : 0;
    gp->scratch = impl == CLNET_GEMM_PACKED ? packed_scratch(gp, g->n, g->k)
                  : impl == CLNET_GEMM_GEMV ? gemv_scratch(gp, g->m, g->n, g->k)
                                            : 0;
}

void clnet__gemm_prepare(const clnet_context *ctx, const clnet__gemm_args *g, clnet__gemm_plan *gp)
{
    const clnet__tuned *t = NULL;
    if (ctx->n_tuned) {
        char key[96];
        clnet__gemm_key(g, key, sizeof key);
        t = clnet__tune_find(ctx, key);
        const clnet__gemm_impl impl = t ? clnet__gemm_impl_parse(t->choice) : CLNET_GEMM_AUTO;
        if (impl == CLNET_GEMM_AUTO || (impl == CLNET_GEMM_CLBLAST && ctx->gemm_clblast_failed))
            t = NULL;
    }
    clnet__gemm_prepare_with(ctx, g, CLNET_GEMM_AUTO, t, gp);
    gp->tuned = t != NULL;
}

const char *clnet__gemm_plan_name(const clnet__gemm_plan *gp, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s%s%s%s", clnet__gemm_impl_name(gp->impl),
             gp->tuned || gp->prepacked ? " (" : "", gp->tuned ? "tuned" : "",
             gp->tuned && gp->prepacked ? ", " : "",
             gp->prepacked ? "prepacked)"
             : gp->tuned   ? ")"
                           : "");
    return buf;
}

static int clblast_out_of_memory(CLBlastStatusCode s)
{
    return s == CLBlastOpenCLOutOfResources || s == CLBlastOpenCLOutOfHostMemory ||
           (int)s == CL_MEM_OBJECT_ALLOCATION_FAILURE || s == CLBlastTempBufferAllocFailure;
}

/* C = beta*C (0 where beta is 0, whatever C held). */
static clnet_status scale_c(clnet_context *ctx, const clnet__gemm_args *g, float beta)
{
    const clnet_arg args[] = {CLNET_ARG_INT(g->m),          CLNET_ARG_INT(g->n),
                              CLNET_ARG_FLOAT(beta),        CLNET_ARG_MEM(g->c),
                              CLNET_ARG_INT((int)g->c_off), CLNET_ARG_INT(g->ldc)};
    const size_t global[2] = {(size_t)g->n, (size_t)g->m};
    return clnet__launch(ctx, "gemm", "gemm_scale", args, (int)CLNET_COUNTOF(args), 2, global);
}

/* Sgemv for one row of C (y = op(B)^T x, x = op(A)'s row, strided for a transposed A)
 * or one column (y = op(A) x, x = op(B)'s column, strided for an untransposed B, y
 * strided by ldc); Sgemm otherwise. */
static CLBlastStatusCode gemm_clblast(clnet_context *ctx, const clnet__gemm_args *g)
{
    const CLBlastTranspose yes = CLBlastTransposeYes, no = CLBlastTransposeNo;
    if (g->m == 1)
        return CLBlastSgemv(CLBlastLayoutRowMajor, g->trans_b ? no : yes,
                            (size_t)(g->trans_b ? g->n : g->k), (size_t)(g->trans_b ? g->k : g->n),
                            g->alpha, g->b, g->b_off, (size_t)g->ldb, g->a, g->a_off,
                            g->trans_a ? (size_t)g->lda : 1, g->beta, g->c, g->c_off, 1,
                            &ctx->queue, clnet__profile_slot(ctx));
    if (g->n == 1)
        return CLBlastSgemv(CLBlastLayoutRowMajor, g->trans_a ? yes : no,
                            (size_t)(g->trans_a ? g->k : g->m), (size_t)(g->trans_a ? g->m : g->k),
                            g->alpha, g->a, g->a_off, (size_t)g->lda, g->b, g->b_off,
                            g->trans_b ? 1 : (size_t)g->ldb, g->beta, g->c, g->c_off,
                            (size_t)g->ldc, &ctx->queue, clnet__profile_slot(ctx));
    return CLBlastSgemm(
        CLBlastLayoutRowMajor, g->trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
        g->trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, (size_t)g->m, (size_t)g->n,
        (size_t)g->k, g->alpha, g->a, g->a_off, (size_t)g->lda, g->b, g->b_off, (size_t)g->ldb,
        g->beta, g->c, g->c_off, (size_t)g->ldc, &ctx->queue, clnet__profile_slot(ctx));
}

/* CLBlast keeps its compiled programs, which hold our context, in a process-wide
 * cache until exit; releasing them after the context is gone is undefined (it
 * corrupts oclgrind's heap). Clear it when a context that used CLBlast goes. */
static void clblast_release(clnet_context *ctx)
{
    (void)ctx;
    CLBlastClearCache();
}

static clnet_status clblast_fail(clnet_context *ctx, const clnet__gemm_args *g, CLBlastStatusCode s)
{
    return clnet__fail(ctx, clblast_out_of_memory(s) ? CLNET_ERR_OUT_OF_MEMORY : CLNET_ERR_GEMM,
                       "CLBlast%s %dx%dx%d (trans %d%d) failed with CLBlast code %d",
                       is_gemv_shape(g) ? "Sgemv" : "Sgemm", g->m, g->n, g->k, g->trans_a,
                       g->trans_b, (int)s);
}

static clnet_status gemm_tiled(clnet_context *ctx, const clnet__gemm_plan *gp,
                               const clnet__gemm_args *g)
{
    const int tile = gp->tile, tk = gp->tk, wpt = gp->wpt;
    const size_t side = (size_t)(tile / wpt);
    const uint64_t local_bytes = (uint64_t)(tile * (tk + 1) + tk * tile) * sizeof(float);
    if (side * side > ctx->info.max_work_group_size || local_bytes > ctx->info.local_mem_bytes)
        return clnet__fail(ctx, CLNET_ERR_UNSUPPORTED,
                           "gemm_tiled: tile %d/%d/%d needs %zu work-items and %llu bytes of "
                           "local memory; %s allows %zu and %llu",
                           tile, tk, wpt, side * side, (unsigned long long)local_bytes,
                           ctx->info.name, ctx->info.max_work_group_size,
                           (unsigned long long)ctx->info.local_mem_bytes);
    const clnet_arg args[] = {
        CLNET_ARG_INT(g->trans_a), CLNET_ARG_INT(g->trans_b),    CLNET_ARG_INT(g->m),
        CLNET_ARG_INT(g->n),       CLNET_ARG_INT(g->k),          CLNET_ARG_FLOAT(g->alpha),
        CLNET_ARG_MEM(g->a),       CLNET_ARG_INT((int)g->a_off), CLNET_ARG_INT(g->lda),
        CLNET_ARG_MEM(g->b),       CLNET_ARG_INT((int)g->b_off), CLNET_ARG_INT(g->ldb),
        CLNET_ARG_FLOAT(g->beta),  CLNET_ARG_MEM(g->c),          CLNET_ARG_INT((int)g->c_off),
        CLNET_ARG_INT(g->ldc),
    };
    const size_t local[2] = {side, side};
    const size_t global[2] = {(size_t)(g->n + tile - 1) / (size_t)tile * side,
                              (size_t)(g->m + tile - 1) / (size_t)tile * side};
    return clnet__launch_local(ctx, "gemm", "gemm_tiled", args, (int)CLNET_COUNTOF(args), 2, global,
                               local);
}

/* Packs columns [0, cols) of op(B) (k x cols at x + off, row stride ld) into panels
 * (see gemm_pack in cl/gemm.cl). */
static clnet_status pack_b(clnet_context *ctx, const clnet__gemm_args *g, size_t off, int cols,
                           int kp, cl_mem out)
{
    const clnet_arg args[] = {
        CLNET_ARG_MEM(g->b), CLNET_ARG_INT((int)off),    CLNET_ARG_INT(g->ldb), CLNET_ARG_INT(cols),
        CLNET_ARG_INT(g->k), CLNET_ARG_INT(!g->trans_b), CLNET_ARG_INT(kp),     CLNET_ARG_MEM(out),
    };
    const size_t global[2] = {(size_t)(kp + PACK_PB - 1) / PACK_PB,
                              (size_t)((cols + PACK_NR - 1) / PACK_NR)};
    /* A fixed local size: POCL compiles a kernel once per local size. A work-group
     * writes 256 consecutive k of one panel: one contiguous run of the output. */
    const size_t local[2] = {16, 1};
    return clnet__launch_local(ctx, "gemm", "gemm_pack", args, (int)CLNET_COUNTOF(args), 2, global,
                               local);
}

/* The packed path. op(B) is packed into column panels, chunk by chunk within the
 * pack budget, except that a small-m product reads the whole panels of an
 * untransposed B in place (packing B would cost as much as the product) and packs
 * only the last, partial one. op(A) is read in place: packing it measured no faster
 * and costs a pass over A. GEMM_KC > 0 splits k into blocks of about that depth, one
 * launch each, accumulating into C, so the B panel and A rows a work-group shares
 * stay in cache (weight gradients have k = batch * H * W). Within a launch, products
 * with a transposed A (weight gradients) or with B read in place and k >= GEMM_KB_K
 * run gemm_packed_blocked, its k in blocks of about GEMM_KB: all the tiles of a
 * work-group finish one block before the next, so the cache lines of A neighbouring
 * tiles share and the B block are still in cache (CPU time, 2 cores: TN 576x64x8192
 * 263 -> 300 GFLOP/s, TN 4608x512x128 223 -> 346, NN 128x512x4608 238 -> 319). Others
 * keep gemm_packed: with it, untransposed k <= 1152 lost 5-15%, a packed op(B^T) 10-18%
 * (NT 196x256x2304 377 -> 346) and m <= 8 more than half (1x1000x2048 30 -> 12). */
/* gemm_packed_conv's arguments after the packed kernels' own. */
enum { CONV_ARGS = 11 };

static clnet_status gemm_packed(clnet_context *ctx, const clnet__gemm_plan *gp,
                                const clnet__scratch *scratch, const clnet__gemm_args *g,
                                const clnet__gemm_epilogue *ep, cl_mem b_packed)
{
    const size_t wg = (size_t)gp->wg_m;
    const int kc_param = gp->kc, kb_param = gp->kb, blocked = gp->kb > 0;
    const int kp = panel_depth(g->k);
    const int b_direct = gp->b_direct;
    const int nc = b_direct || gp->nc >= g->n ? g->n : gp->nc;
    /* k blocks of about kc, evenly split so that none is a sliver (an implicit im2col A's
     * plan has none: run() checks), with zeros for a kernel row outside the input. */
    const clnet__gemm_conv *cv = g->conv;
    const int n_kb = kc_param > 0 ? (g->k + kc_param - 1) / kc_param : 1;
    const int kc = (g->k + n_kb - 1) / n_kb;
    cl_mem zeros = NULL;
    if (cv)
        CLNET_TRY(clnet__zeros(ctx, (size_t)cv->kw * (size_t)cv->cin, &zeros));
    const int tiles = (g->m + PACK_MR - 1) / PACK_MR;
    const int ep_bits = !ep ? 0
                            : (ep->bias ? EP_BIAS : 0) | (ep->res ? EP_RES : 0) |
                                  (ep->pre ? EP_PRE : 0) | (ep->act != 0 ? EP_ACT : 0);
    if (ep && (ep->bias_off + (size_t)g->n > INT_MAX ||
               ep->res_off + (size_t)g->m * (size_t)ep->ldr > INT_MAX))
        return clnet__fail(ctx, CLNET_ERR_TOO_LARGE,
                           "GEMM %dx%dx%d: epilogue offsets beyond 2^31 floats", g->m, g->n, g->k);
    cl_mem bp = b_packed;
    if (!gp->prepacked)
        CLNET_TRY(clnet__scratch_get(ctx, scratch, CLNET_SCRATCH_PACK_B,
                                     packed_scratch(gp, g->n, g->k), "gemm_packed", &bp));
    for (int j0 = 0; j0 < g->n; j0 += nc) {
        const int ncur = g->n - j0 < nc ? g->n - j0 : nc;
        const int n_panels = (ncur + PACK_NR - 1) / PACK_NR;
        const int n_direct = b_direct ? ncur / PACK_NR : 0;
        const size_t b_off = g->b_off + (g->trans_b ? (size_t)j0 * (size_t)g->ldb : (size_t)j0);
        const size_t c_off = g->c_off + (size_t)j0;
        if (b_off > INT_MAX || c_off > INT_MAX)
            return clnet__fail(ctx, CLNET_ERR_TOO_LARGE,
                               "GEMM %dx%dx%d: offsets beyond 2^31 floats", g->m, g->n, g->k);
        if (n_direct < n_panels && !gp->prepacked) {
            const size_t skip = (size_t)n_direct * PACK_NR;
            CLNET_TRY(pack_b(ctx, g, b_off + (g->trans_b ? skip * (size_t)g->ldb : skip),
                             ncur - (int)skip, kp, bp));
        }
        const size_t global = (size_t)n_panels * (((size_t)tiles + wg - 1) / wg * wg);
        for (int k0 = 0; k0 < g->k; k0 += kc) {
            const int k1 = g->k - k0 < kc ? g->k : k0 + kc;
            /* In-kernel blocks of about kb_param, evenly split, multiples of 4. */
            const int nb = blocked ? (k1 - k0 + kb_param - 1) / kb_param : 0;
            const int kb = nb ? ((k1 - k0 + nb - 1) / nb + 3) / 4 * 4 : 0;
            const clnet_arg args[] = {
                CLNET_ARG_INT(g->trans_a),
                CLNET_ARG_MEM(g->a),
                CLNET_ARG_INT((int)g->a_off),
                CLNET_ARG_INT(g->lda),
                /* read only for the panels it serves in place; prepacked, it may be gone */
                CLNET_ARG_MEM(g->b ? g->b : bp),
                CLNET_ARG_INT((int)b_off),
                CLNET_ARG_INT(g->ldb),
                CLNET_ARG_INT(n_direct),
                CLNET_ARG_MEM(bp),
                CLNET_ARG_INT(g->m),
                CLNET_ARG_INT(ncur),
                CLNET_ARG_INT(k0),
                CLNET_ARG_INT(k1),
                CLNET_ARG_INT(kb),
                CLNET_ARG_INT(kp),
                CLNET_ARG_INT(n_panels),
                CLNET_ARG_FLOAT(g->alpha),
                /* later k blocks add to what the earlier ones stored */
                CLNET_ARG_FLOAT(k0 == 0 ? g->beta : 1.0f),
                CLNET_ARG_MEM(g->c),
                CLNET_ARG_INT((int)c_off),
                CLNET_ARG_INT(g->ldc),
                CLNET_ARG_MEM(ep && ep->bias ? ep->bias : g->c),
                CLNET_ARG_INT(ep ? (int)(ep->bias_off + (size_t)j0) : 0),
                CLNET_ARG_MEM(ep && ep->res ? ep->res : g->c),
                CLNET_ARG_MEM(ep && ep->pre ? ep->pre : g->c),
                CLNET_ARG_INT(ep ? (int)(ep->res_off + (size_t)j0) : 0),
                CLNET_ARG_INT(ep ? ep->ldr : 0),
                /* bias and res in the first k launch, pre and act in the last */
                CLNET_ARG_INT((k0 == 0 ? ep_bits & (EP_BIAS | EP_RES) : 0) |
                              (k1 == g->k ? ep_bits & (EP_PRE | EP_ACT) : 0)),
                CLNET_ARG_INT(ep ? ep->act : 0),
                CLNET_ARG_FLOAT(ep ? ep->act_alpha : 0.0f),
                /* gemm_packed_conv only: the last CONV_ARGS */
                CLNET_ARG_INT(cv ? cv->in_h : 0),
                CLNET_ARG_INT(cv ? cv->in_w : 0),
                CLNET_ARG_INT(cv ? cv->cin : 0),
                CLNET_ARG_INT(cv ? cv->out_h : 0),
                CLNET_ARG_INT(cv ? cv->out_w : 0),
                CLNET_ARG_INT(cv ? cv->kw : 0),
                CLNET_ARG_INT(cv ? cv->sh : 0),
                CLNET_ARG_INT(cv ? cv->sw : 0),
                CLNET_ARG_INT(cv ? cv->pad_t : 0),
                CLNET_ARG_INT(cv ? cv->pad_l : 0),
                CLNET_ARG_MEM(zeros),
            };
            const char *kernel = cv   ? "gemm_packed_conv"
                                 : kb ? "gemm_packed_blocked"
                                      : "gemm_packed";
            CLNET_TRY(clnet__launch_local(ctx, "gemm", kernel, args,
                                          (int)CLNET_COUNTOF(args) - (cv ? 0 : CONV_ARGS), 1,
                                          &global, &wg));
        }
    }
    return CLNET_OK;
}

/* The small-m path (gemm_gemv in cl/gemv.cl), correct for any m: op(B) is read once
 * per pass of 8 rows of C (4 for a transposed B), k in slices of gp->gv_kc (see
 * gemv_slice_depth). */
static clnet_status gemm_gemv(clnet_context *ctx, const clnet__gemm_plan *gp,
                              const clnet__scratch *scratch, const clnet__gemm_args *g)
{
    const int gpu = gp->gpu;
    const int per = gpu ? (g->trans_b ? GEMV_LY : GEMV_LX) : (g->trans_b ? GEMV_NC : GEMV_NW);
    const size_t items = (size_t)(g->n + per - 1) / (size_t)per;
    const int kc = gp->gv_kc > 0 ? gp->gv_kc : (g->k + 15) / 16 * 16;
    const size_t ks = (size_t)((g->k + kc - 1) / kc);
    cl_mem part = g->c;
    if (ks > 1)
        CLNET_TRY(clnet__scratch_get(ctx, scratch, CLNET_SCRATCH_PACK_B,
                                     gemv_scratch(gp, g->m, g->n, g->k), "gemm_gemv", &part));
    const char *kernel = g->trans_b ? "gemm_gemv_nt" : "gemm_gemv_nn";
    const clnet_arg args[] = {
        CLNET_ARG_INT(g->trans_a),
        CLNET_ARG_INT(g->m),
        CLNET_ARG_INT(g->n),
        CLNET_ARG_INT(g->k),
        CLNET_ARG_INT(kc),
        CLNET_ARG_FLOAT(g->alpha),
        CLNET_ARG_MEM(g->a),
        CLNET_ARG_INT((int)g->a_off),
        CLNET_ARG_INT(g->lda),
        CLNET_ARG_MEM(g->b),
        CLNET_ARG_INT((int)g->b_off),
        CLNET_ARG_INT(g->ldb),
        CLNET_ARG_FLOAT(g->beta),
        CLNET_ARG_MEM(g->c),
        CLNET_ARG_INT((int)g->c_off),
        CLNET_ARG_INT(g->ldc),
        CLNET_ARG_MEM(part),
        CLNET_ARG_INT(ks > 1),
    };
    if (gpu) {
        const size_t local[2] = {GEMV_LX, GEMV_LY};
        const size_t global[2] = {items * GEMV_LX, ks * GEMV_LY};
        if (GEMV_LX * GEMV_LY > ctx->info.max_work_group_size)
            return clnet__fail(ctx, CLNET_ERR_UNSUPPORTED,
                               "gemm_gemv: work-groups of %d work-items; %s allows %zu",
                               GEMV_LX * GEMV_LY, ctx->info.name, ctx->info.max_work_group_size);
        CLNET_TRY(clnet__launch_local(ctx, "gemv", kernel, args, (int)CLNET_COUNTOF(args), 2,
                                      global, local));
    } else {
        /* A CPU runtime runs a work-group on one thread: small fixed work-groups, not
         * the runtime's choice (it may make one group of all 63 column items of a
         * 1000-wide layer); 1, 4 and 16 measured alike for the ResNet-50 head. */
        const size_t wg = GEMV_CPU_WG;
        const size_t local[2] = {wg, 1};
        const size_t global[2] = {(items + wg - 1) / wg * wg, ks};
        CLNET_TRY(clnet__launch_local(ctx, "gemv", kernel, args, (int)CLNET_COUNTOF(args), 2,
                                      global, local));
    }
    if (ks == 1)
        return CLNET_OK;
    const clnet_arg rargs[] = {
        CLNET_ARG_INT(g->m), CLNET_ARG_INT(g->n),          CLNET_ARG_INT((int)ks),
        CLNET_ARG_MEM(part), CLNET_ARG_FLOAT(g->alpha),    CLNET_ARG_FLOAT(g->beta),
        CLNET_ARG_MEM(g->c), CLNET_ARG_INT((int)g->c_off), CLNET_ARG_INT(g->ldc),
    };
    const size_t rglobal[2] = {(size_t)g->n, (size_t)g->m};
    return clnet__launch(ctx, "gemv", "gemm_gemv_reduce", rargs, (int)CLNET_COUNTOF(rargs), 2,
                         rglobal);
}

/* b_packed: B's panels, packed from a B that need not exist any more (g->b NULL). */
static clnet_status check_args(clnet_context *ctx, const clnet__gemm_args *g, cl_mem b_packed)
{
    const int a_cols = g->trans_a ? g->m : g->k, b_cols = g->trans_b ? g->k : g->n;
    if (g->m < 0 || g->n < 0 || g->k < 0)
        return clnet__fail(ctx, CLNET_ERR_INVALID_ARG, "GEMM %dx%dx%d: negative size", g->m, g->n,
                           g->k);
    if (g->lda < (a_cols > 1 ? a_cols : 1) || g->ldb < (b_cols > 1 ? b_cols : 1) ||
        g->ldc < (g->n > 1 ? g->n : 1))
        return clnet__fail(ctx, CLNET_ERR_INVALID_ARG,
                           "GEMM %dx%dx%d (trans %d%d): bad leading dimensions lda=%d ldb=%d "
                           "ldc=%d (need at least %d, %d, %d)",
                           g->m, g->n, g->k, g->trans_a, g->trans_b, g->lda, g->ldb, g->ldc, a_cols,
                           b_cols, g->n);
    if (g->m > 0 && g->n > 0 && (!g->a || (!g->b && !b_packed) || !g->c))
        return clnet__fail(ctx, CLNET_ERR_INVALID_ARG, "GEMM %dx%dx%d: a NULL buffer", g->m, g->n,
                           g->k);
    if (g->a_off > INT_MAX || g->b_off > INT_MAX || g->c_off > INT_MAX)
        return clnet__fail(ctx, CLNET_ERR_TOO_LARGE,
                           "GEMM %dx%dx%d: offsets beyond 2^31 floats (%zu, %zu, %zu)", g->m, g->n,
                           g->k, g->a_off, g->b_off, g->c_off);
    const clnet__gemm_conv *cv = g->conv;
    if (cv && (g->trans_a || cv->cin < 1 || cv->kw < 1 || g->k % (cv->kw * cv->cin)))
        return clnet__fail(ctx, CLNET_ERR_INVALID_ARG,
                           "GEMM %dx%dx%d: an implicit im2col A needs an untransposed A and k a "
                           "multiple of kw %d x cin %d",
                           g->m, g->n, g->k, cv ? cv->kw : 0, cv ? cv->cin : 0);
    return CLNET_OK;
}

/* Runs g by impl; automatic: chosen by clnet__gemm_pick, so a CLBlast failure may fall
 * back to our kernels. */
static clnet_status dispatch(clnet_context *ctx, const clnet__gemm_plan *gp,
                             const clnet__scratch *scratch, const clnet__gemm_args *g,
                             const clnet__gemm_epilogue *ep, cl_mem b_packed)
{
    switch (gp->impl) {
    case CLNET_GEMM_CLBLAST: {
        ctx->before_destroy = clblast_release;
        /* Sgemv reads y even when beta is 0, and C may hold NaN: zero it first. */
        if (is_gemv_shape(g) && g->beta == 0.0f)
            CLNET_TRY(scale_c(ctx, g, 0.0f));
        CLBlastStatusCode s = gemm_clblast(ctx, g);
        if (s == CLBlastSuccess)
            return CLNET_OK;
        if (clblast_out_of_memory(s))
            return clblast_fail(ctx, g, s);
        /* A driver CLBlast cannot serve: our tiled kernel from now on, on this
         * context, rather than failing every GEMM. */
        clnet__log(ctx, 1,
                   "CLBlast%s %dx%dx%d failed with CLBlast code %d on %s: using our %s GEMM "
                   "kernel instead",
                   is_gemv_shape(g) ? "Sgemv" : "Sgemm", g->m, g->n, g->k, (int)s, ctx->info.name,
                   is_gemv_shape(g) ? "gemv" : "tiled");
        ctx->gemm_clblast_failed = 1;
        /* gemv in one k slice: it needs no scratch, which was planned for CLBlast. */
        clnet__gemm_plan one = *gp;
        one.gv_kc = 0;
        return is_gemv_shape(g) ? gemm_gemv(ctx, &one, scratch, g) : gemm_tiled(ctx, gp, g);
    }
    case CLNET_GEMM_GEMV:
        return gemm_gemv(ctx, gp, scratch, g);
    case CLNET_GEMM_PACKED:
        return gemm_packed(ctx, gp, scratch, g, ep, b_packed);
    case CLNET_GEMM_TILED:
    default:
        return gemm_tiled(ctx, gp, g);
    }
}

static clnet_status run(clnet_context *ctx, const clnet__gemm_plan *gp, const clnet__scratch *s,
                        const clnet__gemm_args *g, const clnet__gemm_epilogue *ep, cl_mem b_packed)
{
    CLNET_TRY(check_args(ctx, g, b_packed));
    const clnet__gemm_args *p = &gp->args;
    /* gemm_packed_conv runs the whole k in one launch, without in-kernel blocks: its runs
     * of A span a kernel row (k blocks made no difference to the ResNets). */
    if (g->conv && (gp->impl != CLNET_GEMM_PACKED || gp->kc > 0 || gp->kb > 0))
        return clnet__fail(ctx, CLNET_ERR_INTERNAL,
                           "GEMM %dx%dx%d: an implicit im2col A on the %s plan (k launch depth "
                           "%d, blocks %d)",
                           g->m, g->n, g->k, clnet__gemm_impl_name(gp->impl), gp->kc, gp->kb);
    if (g->trans_a != p->trans_a || g->trans_b != p->trans_b || g->m > p->m || g->n > p->n ||
        g->k > p->k)
        return clnet__fail(ctx, CLNET_ERR_INTERNAL,
                           "GEMM %dx%dx%d (trans %d%d) runs on the plan of %dx%dx%d (trans %d%d)",
                           g->m, g->n, g->k, g->trans_a, g->trans_b, p->m, p->n, p->k, p->trans_a,
                           p->trans_b);
    if (g->m == 0 || g->n == 0)
        return CLNET_OK;
    if (g->k == 0) {
        /* An empty product: C = beta*C (CLBlast rejects k = 0). */
        return scale_c(ctx, g, g->beta);
    }
    ctx->stats.tune_hits += gp->tuned;
    return dispatch(ctx, gp, s, g, ep, b_packed);
}

clnet_status clnet__gemm_run(clnet_context *ctx, const clnet__gemm_plan *gp,
                             const clnet__scratch *s, const clnet__gemm_args *g)
{
    if (gp->prepacked)
        return clnet__fail(ctx, CLNET_ERR_INTERNAL,
                           "GEMM %dx%dx%d: a prepacked plan run without its packed B", g->m, g->n,
                           g->k);
    return run(ctx, gp, s, g, NULL, NULL);
}

int clnet__gemm_fuses_epilogue(const clnet__gemm_plan *gp)
{
    return gp->impl == CLNET_GEMM_PACKED;
}

clnet_status clnet__gemm_run_with(clnet_context *ctx, const clnet__gemm_plan *gp,
                                  const clnet__scratch *s, const clnet__gemm_args *g,
                                  const clnet__gemm_epilogue *ep, cl_mem b_packed)
{
    if (ep && (!clnet__gemm_fuses_epilogue(gp) || g->k == 0))
        return clnet__fail(ctx, CLNET_ERR_INTERNAL,
                           "GEMM %dx%dx%d: an epilogue for %s, which does not apply one", g->m,
                           g->n, g->k, clnet__gemm_impl_name(gp->impl));
    if (!gp->prepacked != !b_packed ||
        (gp->prepacked && (g->n != gp->args.n || g->k != gp->args.k)))
        return clnet__fail(ctx, CLNET_ERR_INTERNAL,
                           "GEMM %dx%dx%d: packed B %s for a plan of %dx%dx%d that %s one", g->m,
                           g->n, g->k, b_packed ? "given" : "missing", gp->args.m, gp->args.n,
                           gp->args.k, gp->prepacked ? "takes" : "does not take");
    return run(ctx, gp, s, g, ep, b_packed);
}

/* Prepacked panels of more bytes than this stay packed per run (a huge dense layer's
 * weights would be held twice). */
#define PREPACK_MAX_BYTES ((size_t)64 << 20)

void clnet__gemm_prefer_prepacked(const clnet_context *ctx, clnet__gemm_plan *gp)
{
    if (gp->tuned || gp->impl != CLNET_GEMM_GEMV || clnet__gemm_choice(ctx) != CLNET_GEMM_PACKED)
        return;
    clnet__gemm_plan packed, probe;
    clnet__gemm_prepare_with(ctx, &gp->args, CLNET_GEMM_PACKED, NULL, &packed);
    probe = packed;
    if (clnet__gemm_plan_prepack(&probe))
        *gp = packed;
}

size_t clnet__gemm_plan_prepack(clnet__gemm_plan *gp)
{
    const clnet__gemm_args *g = &gp->args;
    if (gp->impl != CLNET_GEMM_PACKED || g->trans_b || g->n < 1 || g->k < 1 ||
        panel_bytes(g->n, g->k) > PREPACK_MAX_BYTES)
        return 0;
    gp->prepacked = 1;
    gp->b_direct = 0;
    gp->nc = g->n;
    gp->scratch = 0;
    /* No longer read in place, B takes no in-kernel k blocks either: a panel (ResNet-18's
     * layer4: 4608 x 32 floats, 590 KB) stays in the core's L2 for the row tiles that share
     * it, and the blocked form's barriers cost more than they saved (ResNet-18 b1 -7..-9%,
     * ResNet-50 -6%, 3 interleaved pairs); a cold start then generates no code for
     * gemm_packed_blocked (0.9 s: ResNet-18 predict 3.73-3.80 -> 3.19-3.32 s). */
    gp->kb = 0;
    return panel_bytes(g->n, g->k);
}

clnet_status clnet__gemm_prepack(clnet_context *ctx, const clnet__gemm_plan *gp, const float *b,
                                 int ldb, float *out)
{
    const int n = gp->args.n, k = gp->args.k, kp = panel_depth(k);
    if (!gp->prepacked || gp->args.trans_b || ldb < n)
        return clnet__fail(ctx, CLNET_ERR_INTERNAL,
                           "GEMM %dx%d: packing B (ldb %d) for a plan that takes none", n, k, ldb);
    /* gemm_pack's layout: panel-major, PACK_NR columns per k, zeros past n and k. */
    for (int j0 = 0; j0 < n; j0 += PACK_NR) {
        const size_t cols = (size_t)(n - j0 < PACK_NR ? n - j0 : PACK_NR);
        float *o = out + (size_t)j0 * (size_t)kp;
        for (int p = 0; p < kp; ++p, o += PACK_NR) {
            const size_t live = p < k ? cols : 0;
            if (live)
                memcpy(o, b + (size_t)p * (size_t)ldb + (size_t)j0, live * sizeof *o);
            memset(o + live, 0, (PACK_NR - live) * sizeof *o);
        }
    }
    return CLNET_OK;
}

clnet_status clnet__gemm_with(clnet_context *ctx, clnet__gemm_impl impl, const clnet__gemm_args *g)
{
    CLNET_TRY(check_args(ctx, g, NULL));
    clnet__gemm_plan gp;
    if (impl == CLNET_GEMM_AUTO)
        clnet__gemm_prepare(ctx, g, &gp);
    else
        clnet__gemm_prepare_with(ctx, g, impl, NULL, &gp);
    size_t bytes[CLNET_SCRATCH_COUNT] = {0};
    bytes[CLNET_SCRATCH_PACK_B] = gp.scratch;
    clnet__scratch s;
    CLNET_TRY(clnet__scratch_create(ctx, bytes, &s));
    const clnet_status st = clnet__gemm_run(ctx, &gp, &s, g);
    clnet__scratch_release(&s);
    return st;
}

static int add_candidate(clnet__tuned *out, int n, int max, clnet__gemm_impl impl, int n_params,
                         const char *const *keys, const int *values)
{
    if (n >= max)
        return n;
    clnet__tuned *t = &out[n];
    memset(t, 0, sizeof *t);
    snprintf(t->choice, sizeof t->choice, "%s", clnet__gemm_impl_name(impl));
    for (int i = 0; i < n_params && i < CLNET_TUNE_MAX_PARAMS; ++i) {
        snprintf(t->param_keys[i], sizeof t->param_keys[i], "%s", keys[i]);
        t->param_values[i] = values[i];
        t->n_params++;
    }
    return n + 1;
}

int clnet__gemm_candidates(const clnet_context *ctx, const clnet__gemm_args *g, int with_library,
                           clnet__tuned *out, int max)
{
    /* Packed: row tiles per work-group (the B panel they share) and the k launch depth
     * (0: none; only depths that split this k); then, where the in-kernel k blocks
     * apply, their depth (0: off) at the class's other settings. */
    static const int wgs[] = {8, 16, 32, 64}, kcs[] = {0, 1024, 2048, 4096}, kbs[] = {0, 128, 512};
    static const char *const packed_keys[] = {"GEMM_WG_M", "GEMM_KC", "GEMM_KB"};
    int n = 0;
    for (size_t i = 0; i < CLNET_COUNTOF(wgs); ++i)
        for (size_t j = 0; j < CLNET_COUNTOF(kcs); ++j) {
            if (kcs[j] && kcs[j] >= g->k)
                continue;
            const int v[] = {wgs[i], kcs[j]};
            n = add_candidate(out, n, max, CLNET_GEMM_PACKED, 2, packed_keys, v);
        }
    clnet__gemm_plan rule_plan;
    clnet__gemm_prepare_with(ctx, g, CLNET_GEMM_PACKED, NULL, &rule_plan);
    if (rule_plan.kb > 0)
        for (size_t i = 0; i < CLNET_COUNTOF(kbs); ++i) {
            const int v[] = {clnet__param(ctx, "gemm", "GEMM_WG_M", 32),
                             clnet__param(ctx, "gemm", "GEMM_KC", 0), kbs[i]};
            n = add_candidate(out, n, max, CLNET_GEMM_PACKED, 3, packed_keys, v);
        }
    n = add_candidate(out, n, max, CLNET_GEMM_TILED, 0, NULL, NULL);
    /* GEMV streams op(B) once per few rows: a candidate while m is small. */
    if (g->m <= 32)
        n = add_candidate(out, n, max, CLNET_GEMM_GEMV, 0, NULL, NULL);
    if ((with_library || clnet__gemm_choice(ctx) == CLNET_GEMM_CLBLAST) &&
        !ctx->gemm_clblast_failed)
        n = add_candidate(out, n, max, CLNET_GEMM_CLBLAST, 0, NULL, NULL);
    return n;
}
