/* conv2d_winograd.c - conv2d's Winograd F(2x2, 3x3) algorithm for 3x3 stride-1 kernels
 * (2.25x fewer multiplies than direct / im2col), and the choice of algorithm
 * (conv2d_algo.h). Per chunk of whole images: input transform V = B^T d B, 16 GEMMs
 * M[i] = V[i] U[i] by one prepared GEMM plan, output transform with the fused epilogue.
 * Kernels: cl/conv2d_winograd.cl. Tests: tests/ops/test_conv2d_winograd.c (and the chunked
 * case in test_conv2d.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm/gemm.h"
#include "ops/conv2d_algo.h"

#define PROG "conv2d_winograd"
#define PLANES 16 /* 4x4 transformed cells per tile */

const char *clnet__conv_algo_name(clnet__conv_algo algo)
{
    static const char *const names[CLNET_CONV_ALGO_COUNT] = {"auto",    "im2col", "winograd",
                                                             "grouped", "direct", "implicit"};
    return algo >= 0 && algo < CLNET_CONV_ALGO_COUNT ? names[algo] : "?";
}

int clnet__conv2d_algo_ok(clnet__conv_algo algo, const clnet__conv_geom *g)
{
    if (algo == CLNET_CONV_WINOGRAD)
        return g->kh == 3 && g->kw == 3 && g->sh == 1 && g->sw == 1 && g->groups == 1;
    if (algo == CLNET_CONV_GROUPED)
        return g->groups > 1;
    if (algo == CLNET_CONV_DIRECT)
        return g->groups == 1 && g->cout % 16 == 0;
    if (algo == CLNET_CONV_IMPLICIT)
        return g->groups == 1 && !(g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 &&
                                   g->out_h == g->in_h && g->out_w == g->in_w);
    return algo == CLNET_CONV_AUTO || algo == CLNET_CONV_IM2COL;
}

void clnet__conv2d_key(const clnet__conv_geom *g, int backward_data, char *buf, size_t len)
{
    char grouped[24] = "";
    if (g->groups > 1)
        snprintf(grouped, sizeof grouped, " g%d", g->groups);
    snprintf(buf, len, "conv2d %dx%dx%dx%d k%dx%d s%dx%d p%d,%d -> %dx%dx%d%s%s", g->batch, g->in_h,
             g->in_w, g->cin, g->kh, g->kw, g->sh, g->sw, g->pad_t, g->pad_l, g->out_h, g->out_w,
             g->cout, grouped, backward_data ? " dx" : "");
}

/* The algorithm named name that applies to g, or AUTO. */
static clnet__conv_algo named(const char *name, const clnet__conv_geom *g)
{
    for (int a = CLNET_CONV_IM2COL; name && a < CLNET_CONV_ALGO_COUNT; ++a)
        if (strcmp(name, clnet__conv_algo_name((clnet__conv_algo)a)) == 0 &&
            clnet__conv2d_algo_ok((clnet__conv_algo)a, g))
            return (clnet__conv_algo)a;
    return CLNET_CONV_AUTO;
}

/* The database's algorithm for g on ctx, or AUTO when it has none that applies. */
static clnet__conv_algo tuned_algo(const clnet_context *ctx, const clnet__conv_geom *g,
                                   int backward_data)
{
    if (!ctx->n_tuned)
        return CLNET_CONV_AUTO;
    char key[96];
    clnet__conv2d_key(g, backward_data, key, sizeof key);
    const clnet__tuned *t = clnet__tune_find(ctx, key);
    return t ? named(t->choice, g) : CLNET_CONV_AUTO;
}

clnet__conv_algo clnet__conv2d_pick(const clnet_context *ctx, const clnet__conv_geom *g,
                                    int backward_data, int use_db, int *tuned)
{
    if (tuned)
        *tuned = 0;
    clnet__conv_algo algo = named(ctx->conv_algo, g); /* $CLNET_CONV_ALGO */
    if (algo != CLNET_CONV_AUTO)
        return algo;
    if (use_db && (algo = tuned_algo(ctx, g, backward_data)) != CLNET_CONV_AUTO) {
        if (tuned)
            *tuned = 1;
        return algo;
    }
    /* dX is the convolution with cin and cout swapped whose output is x. The transformed
     * kernel U must fit one allocation. */
    const int min_c = g->cin < g->cout ? g->cin : g->cout;
    const int h = backward_data ? g->in_h : g->out_h, w = backward_data ? g->in_w : g->out_w;
    const double tiles = (double)g->batch * ((h + 1) / 2) * ((w + 1) / 2);
    if (clnet__conv2d_algo_ok(CLNET_CONV_WINOGRAD, g) &&
        clnet__param(ctx, "conv2d", "WINOGRAD", 0) &&
        min_c >= clnet__param(ctx, "conv2d", "WINOGRAD_MIN_C", 1) &&
        tiles >= clnet__param(ctx, "conv2d", "WINOGRAD_MIN_TILES", 0) &&
        (uint64_t)PLANES * g->cin * g->cout * sizeof(float) <= ctx->info.max_alloc_bytes)
        return CLNET_CONV_WINOGRAD;
    /* Few input channels and a small window: the column matrix's rows would be too short
     * to copy well. */
    if (!backward_data && clnet__conv2d_algo_ok(CLNET_CONV_DIRECT, g) &&
        g->cin <= clnet__param(ctx, "conv2d", "DIRECT_MAX_CIN", 0) &&
        g->kh * g->kw * g->cin <= clnet__param(ctx, "conv2d", "DIRECT_MAX_K", 0))
        return CLNET_CONV_DIRECT;
    /* Narrow groups over rows wide enough to fill the direct kernels' pixel vectors. */
    const int widest = (g->cin > g->cout ? g->cin : g->cout) / g->groups;
    const char *max_c = backward_data ? "GROUPED_DX_MAX_CHANNELS" : "GROUPED_MAX_CHANNELS";
    const char *min_w = backward_data ? "GROUPED_DX_MIN_WIDTH" : "GROUPED_MIN_WIDTH";
    if (clnet__conv2d_algo_ok(CLNET_CONV_GROUPED, g) &&
        widest <= clnet__param(ctx, "conv2d", max_c, 0) &&
        w >= clnet__param(ctx, "conv2d", min_w, 0))
        return CLNET_CONV_GROUPED;
    /* Channel runs long enough for the k loop between two taps' row pointers. */
    const int min_cin = clnet__param(ctx, "conv2d", "IMPLICIT_MIN_CIN", 0);
    if (!backward_data && min_cin > 0 && g->cin >= min_cin &&
        clnet__conv2d_algo_ok(CLNET_CONV_IMPLICIT, g))
        return CLNET_CONV_IMPLICIT;
    return CLNET_CONV_IM2COL;
}

/* Launches a kernel of cl/conv2d_winograd.cl over items (tiles, or U rows) of channels
 * each: GPU global (channels, items); CPU global (items) in work-groups of CLNET_WG, since
 * POCL otherwise makes work-groups of thousands of items whose private transform arrays
 * (kilobytes of float16 each) overflow its work-group stack. */
static clnet_status launch(clnet_context *ctx, const char *kernel, const clnet_arg *args,
                           int n_args, int channels, int items)
{
    if (clnet__param(ctx, PROG, "CLNET_GPU", 0)) {
        const size_t global[2] = {(size_t)channels, (size_t)items};
        return clnet__launch(ctx, PROG, kernel, args, n_args, 2, global);
    }
    const size_t local[1] = {(size_t)clnet__param(ctx, PROG, "CLNET_WG", 16)};
    const size_t global[1] = {clnet__round_up((size_t)items, local[0])};
    return clnet__launch_local(ctx, PROG, kernel, args, n_args, 1, global, local);
}

/* Images per chunk: V [16][tiles][cin] (in the im2col slot) and M [16][tiles][cout] of a
 * chunk together stay within WINOGRAD_BYTES and the device's max allocation (one image at
 * least). */
static int chunk_images(const clnet_context *ctx, const clnet__conv_geom *g, int tiles_hw)
{
    uint64_t bound = (uint64_t)clnet__param(ctx, "conv2d", "WINOGRAD_BYTES", 64 << 20);
    if (bound > ctx->info.max_alloc_bytes)
        bound = ctx->info.max_alloc_bytes;
    const uint64_t per_image =
        (uint64_t)tiles_hw * PLANES * ((uint64_t)g->cin + g->cout) * sizeof(float);
    const uint64_t n = bound / per_image;
    return n < 1 ? 1 : n > (uint64_t)g->batch ? g->batch : (int)n;
}

/* U[16][cin][cout] from the HWIO kernel w {3, 3, cin, cout}, rotated by 180 degrees when
 * rotate (see the .cl). */
static clnet_status weights(clnet_context *ctx, cl_mem w, int cin, int cout, int rotate, cl_mem u)
{
    const clnet_arg args[] = {CLNET_ARG_MEM(w), CLNET_ARG_MEM(u), CLNET_ARG_INT(cin),
                              CLNET_ARG_INT(cout), CLNET_ARG_INT(rotate)};
    return launch(ctx, "conv2d_winograd_weights", args, (int)CLNET_COUNTOF(args), cout, cin);
}

/* The Winograd convolution g with kernel w (flip 0), or with w rotated by 180 degrees and
 * transposed (flip 1: w is {3, 3, g->cout, g->cin}, the data gradient's convolution): U
 * keeps w's channel order and the GEMMs read it transposed. */
/* The scratch of a convolution g by Winograd: U, V (in the im2col slot) and M. */
static void scratch_bytes(const clnet__conv_geom *g, int per_tiles, size_t *u, size_t *v, size_t *m)
{
    *u = (size_t)PLANES * g->cin * g->cout * sizeof(float);
    *v = PLANES * (size_t)per_tiles * (size_t)g->cin * sizeof(float);
    *m = PLANES * (size_t)per_tiles * (size_t)g->cout * sizeof(float);
}

/* The GEMM of one plane: M[i] = V[i] U[i], [tiles x cin] x [cin x cout] (U[i] stored
 * [cout x cin] when flip). */
static clnet__gemm_args plane_gemm(const clnet__conv_geom *g, int flip, int tiles)
{
    return (clnet__gemm_args){.trans_b = flip,
                              .m = tiles,
                              .n = g->cout,
                              .k = g->cin,
                              .alpha = 1.0f,
                              .lda = g->cin,
                              .ldb = flip ? g->cin : g->cout,
                              .ldc = g->cout};
}

/* The convolution whose output is the data gradient of g: dx(iy) = sum_ky dpre(iy + pad_t
 * - ky) w(ky) = sum_k dpre(iy - (2 - pad_t) + k) w(2 - k), a convolution of dpre padded by
 * 2 - pad (negative: cropped) with the rotated kernel. */
static clnet__conv_geom dx_geom(const clnet__conv_geom *g)
{
    return (clnet__conv_geom){g->batch,     g->out_h, g->out_w, g->cout, g->in_h, g->in_w,
                              g->cin,       3,        3,        1,       1,       2 - g->pad_t,
                              2 - g->pad_l, 1};
}

void clnet__conv2d_winograd_prepare(const clnet_context *ctx, const clnet__conv_geom *g, int dx,
                                    int use_db, size_t *scratch, clnet__gemm_plan *gp)
{
    const clnet__conv_geom d = dx ? dx_geom(g) : *g;
    const int tiles_hw = ((d.out_h + 1) / 2) * ((d.out_w + 1) / 2);
    const int per_tiles = chunk_images(ctx, &d, tiles_hw) * tiles_hw;
    size_t u, v, m;
    scratch_bytes(&d, per_tiles, &u, &v, &m);
    const clnet__gemm_args ga = plane_gemm(&d, dx, per_tiles);
    if (use_db)
        clnet__gemm_prepare(ctx, &ga, gp);
    else
        clnet__gemm_prepare_with(ctx, &ga, CLNET_GEMM_AUTO, NULL, gp);
    const size_t want[][2] = {{CLNET_SCRATCH_WINOGRAD_U, u},
                              {CLNET_SCRATCH_COL, v},
                              {CLNET_SCRATCH_WINOGRAD_M, m},
                              {CLNET_SCRATCH_PACK_B, gp->scratch}};
    for (size_t i = 0; i < CLNET_COUNTOF(want); ++i)
        if (scratch[want[i][0]] < want[i][1])
            scratch[want[i][0]] = want[i][1];
}

static clnet_status winograd(clnet_context *ctx, const clnet__scratch *s,
                             const clnet__gemm_plan *gp, const clnet__conv_geom *g, cl_mem x,
                             cl_mem w, int flip, cl_mem bias, cl_mem res, clnet__act act, cl_mem y,
                             int ldy, int y_off, cl_mem pre)
{
    const int tiles_h = (g->out_h + 1) / 2, tiles_w = (g->out_w + 1) / 2;
    const int tiles_hw = tiles_h * tiles_w, per = chunk_images(ctx, g, tiles_hw);
    cl_mem u = NULL, v = NULL, m = NULL;
    size_t u_bytes, v_bytes, m_bytes;
    scratch_bytes(g, per * tiles_hw, &u_bytes, &v_bytes, &m_bytes);
    CLNET_TRY(clnet__scratch_get(ctx, s, CLNET_SCRATCH_WINOGRAD_U, u_bytes, "conv2d winograd", &u));
    CLNET_TRY(clnet__scratch_get(ctx, s, CLNET_SCRATCH_COL, v_bytes, "conv2d winograd", &v));
    CLNET_TRY(clnet__scratch_get(ctx, s, CLNET_SCRATCH_WINOGRAD_M, m_bytes, "conv2d winograd", &m));
    if (flip)
        CLNET_TRY(weights(ctx, w, g->cout, g->cin, 1, u));
    else
        CLNET_TRY(weights(ctx, w, g->cin, g->cout, 0, u));
    for (int n0 = 0; n0 < g->batch; n0 += per) {
        const int images = g->batch - n0 < per ? g->batch - n0 : per;
        const int tiles = images * tiles_hw;
        const clnet_arg in_args[] = {
            CLNET_ARG_MEM(x),        CLNET_ARG_MEM(v),       CLNET_ARG_INT(n0),
            CLNET_ARG_INT(tiles),    CLNET_ARG_INT(g->in_h), CLNET_ARG_INT(g->in_w),
            CLNET_ARG_INT(g->cin),   CLNET_ARG_INT(tiles_w), CLNET_ARG_INT(tiles_hw),
            CLNET_ARG_INT(g->pad_t), CLNET_ARG_INT(g->pad_l)};
        CLNET_TRY(launch(ctx, "conv2d_winograd_input", in_args, (int)CLNET_COUNTOF(in_args), g->cin,
                         tiles));
        /* The planes at their offsets. */
        for (int i = 0; i < PLANES; ++i) {
            clnet__gemm_args ga = plane_gemm(g, flip, tiles);
            ga.a = v;
            ga.a_off = (size_t)i * tiles * g->cin;
            ga.b = u;
            ga.b_off = (size_t)i * g->cin * g->cout;
            ga.c = m;
            ga.c_off = (size_t)i * tiles * g->cout;
            CLNET_TRY(clnet__gemm_run(ctx, gp, s, &ga));
        }
        const clnet_arg out_args[] = {CLNET_ARG_MEM(m),
                                      CLNET_ARG_MEM(y),
                                      CLNET_ARG_MEM(bias ? bias : y),
                                      CLNET_ARG_MEM(res ? res : y),
                                      CLNET_ARG_MEM(pre ? pre : y),
                                      CLNET_ARG_INT(n0),
                                      CLNET_ARG_INT(tiles),
                                      CLNET_ARG_INT(g->out_h),
                                      CLNET_ARG_INT(g->out_w),
                                      CLNET_ARG_INT(g->cout),
                                      CLNET_ARG_INT(ldy),
                                      CLNET_ARG_INT(y_off),
                                      CLNET_ARG_INT(tiles_w),
                                      CLNET_ARG_INT(tiles_hw),
                                      CLNET_ARG_INT(bias != NULL),
                                      CLNET_ARG_INT(res != NULL),
                                      CLNET_ARG_INT(pre != NULL),
                                      CLNET_ARG_INT(act.id),
                                      CLNET_ARG_FLOAT(act.alpha)};
        CLNET_TRY(launch(ctx, "conv2d_winograd_output", out_args, (int)CLNET_COUNTOF(out_args),
                         g->cout, tiles));
    }
    return CLNET_OK;
}

clnet_status clnet__conv2d_winograd(clnet_context *ctx, const clnet__scratch *s,
                                    const clnet__gemm_plan *gp, const clnet__conv_geom *g, cl_mem x,
                                    cl_mem w, cl_mem bias, cl_mem res, clnet__act act, cl_mem y,
                                    int ldy, int y_off, cl_mem pre)
{
    return winograd(ctx, s, gp, g, x, w, 0, bias, res, act, y, ldy, y_off, pre);
}

clnet_status clnet__conv2d_winograd_dx(clnet_context *ctx, const clnet__scratch *s,
                                       const clnet__gemm_plan *gp, const clnet__conv_geom *g,
                                       cl_mem dpre, cl_mem w, cl_mem dx)
{
    const clnet__conv_geom d = dx_geom(g);
    const clnet__act none = {CLNET_ACT_NONE, 0.0f};
    return winograd(ctx, s, gp, &d, dpre, w, 1, NULL, NULL, none, dx, d.cout, 0, NULL);
}
