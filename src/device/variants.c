/* variants.c - the kernel variant table: per device class (and optionally vendor),
 * the integer parameters each program is compiled with (-Dkey=value) and that its
 * host launcher reads (work-group sizes, tiles, vector widths, local-memory use).
 *
 * Lookup order for one key: vendor + class, then class, then the default row (class
 * AUTO), as CLBlast's database falls back, so an unknown device is never
 * pathological. Program "*" rows apply to every program. The kernels' code paths
 * switch on these keys: CLNET_GPU selects local-memory cooperative kernels,
 * CLNET_CPU the wide per-work-item loops that CPU OpenCL runtimes vectorize. */
#include <stdio.h>
#include <string.h>

#include "device/runtime.h"

typedef struct param_row {
    clnet_device_class cls; /* AUTO: any class */
    const char *vendor;     /* substring of the vendor name, or NULL */
    const char *program;    /* "*" for all */
    const char *key;
    int value;
} param_row;

static const param_row rows[] = {
    /* Every program knows which family of code paths to compile. */
    {CLNET_CLASS_DGPU, NULL, "*", "CLNET_GPU", 1},
    {CLNET_CLASS_IGPU, NULL, "*", "CLNET_GPU", 1},
    {CLNET_CLASS_CPU, NULL, "*", "CLNET_CPU", 1},
    /* Work-group size of 1-D cooperative kernels (reductions, elementwise). */
    {CLNET_CLASS_AUTO, NULL, "*", "CLNET_WG", 64},
    {CLNET_CLASS_DGPU, NULL, "*", "CLNET_WG", 256},
    {CLNET_CLASS_IGPU, NULL, "*", "CLNET_WG", 128},
    {CLNET_CLASS_CPU, NULL, "*", "CLNET_WG", 16},
    /* Elements one work-item handles in elementwise kernels: GPUs want one per
     * work-item (coalesced, latency hidden by occupancy); integrated GPUs like a
     * float4; CPU runtimes vectorize a long contiguous loop per work-item. */
    {CLNET_CLASS_AUTO, NULL, "*", "CLNET_CHUNK", 1},
    {CLNET_CLASS_IGPU, NULL, "*", "CLNET_CHUNK", 4},
    {CLNET_CLASS_CPU, NULL, "*", "CLNET_CHUNK", 256},
    /* Channels a CPU work-item owns in reductions over rows (a float16 of them). */
    {CLNET_CLASS_AUTO, NULL, "*", "CLNET_CVEC", 1},
    {CLNET_CLASS_CPU, NULL, "*", "CLNET_CVEC", 16},
    /* GEMM (src/gemm/gemm.c). GEMM_IMPL is a clnet__gemm_impl: CLBlast (1) on GPUs;
     * on CPU runtimes our packed register-tile kernel (2), 7-16x faster there than
     * CLBlast; the tiled kernel (3) is the fallback. Tiled: GEMM_TILE x GEMM_TILE
     * blocks of C per work-group, GEMM_WPT^2 outputs per work-item, GEMM_TK-deep
     * local-memory slices (64/16/4: 256 work-items, 8.3 KiB, within any GPU's limits).
     * Packed: GEMM_WG_M row tiles share a B panel; products with m <= GEMM_B_DIRECT_M
     * read an untransposed B in place rather than pack it; GEMM_KC splits a longer k
     * into launches (2048: 89 -> 130 GFLOP/s at k = 100352, no loss at k <= 4608).
     * GEMM_KB > 0: products with a transposed A, or with B read in place and k >=
     * GEMM_KB_K, run their k in in-kernel blocks of about GEMM_KB (gemm_packed_blocked);
     * see src/gemm/gemm.c. */
    {CLNET_CLASS_AUTO, NULL, "gemm", "GEMM_IMPL", 3},
    {CLNET_CLASS_DGPU, NULL, "gemm", "GEMM_IMPL", 1},
    {CLNET_CLASS_IGPU, NULL, "gemm", "GEMM_IMPL", 1},
    {CLNET_CLASS_CPU, NULL, "gemm", "GEMM_IMPL", 2},
    {CLNET_CLASS_AUTO, NULL, "gemm", "GEMM_TILE", 32},
    {CLNET_CLASS_DGPU, NULL, "gemm", "GEMM_TILE", 64},
    {CLNET_CLASS_AUTO, NULL, "gemm", "GEMM_TK", 16},
    {CLNET_CLASS_AUTO, NULL, "gemm", "GEMM_WPT", 4},
    {CLNET_CLASS_AUTO, NULL, "gemm", "GEMM_WG_M", 32},
    {CLNET_CLASS_AUTO, NULL, "gemm", "GEMM_B_DIRECT_M", 256},
    {CLNET_CLASS_AUTO, NULL, "gemm", "GEMM_KC", 0},
    {CLNET_CLASS_CPU, NULL, "gemm", "GEMM_KC", 2048},
    {CLNET_CLASS_AUTO, NULL, "gemm", "GEMM_KB", 0},
    {CLNET_CLASS_CPU, NULL, "gemm", "GEMM_KB", 256},
    {CLNET_CLASS_AUTO, NULL, "gemm", "GEMM_KB_K", 2048},
    /* GEMV (gemm_gemv): clnet__gemm uses it when m <= GEMV_M (0: never; GPU classes run
     * CLBlast, which serves m == 1 with Sgemv). cpu 8, from the ResNet-50 head on POCL,
     * 2 cores, against the packed kernel: forward (m x 1000 x 2048 NN) 0.14 vs 0.22 ms
     * at m = 1..4, level at m = 5..12, behind at 16; input gradient (m x 2048 x 1000
     * NT) 0.10 vs 0.6 ms at m = 1, 0.23 vs 0.64 ms at m = 8, still ahead at 16.
     * k is split into slices of at least GEMV_KMIN when the columns give fewer than
     * GEMV_ITEMS_PER_CU work-items (CPU) or work-groups (GPU) per compute unit. On the
     * CPU class one work-item per core is enough: a thread streams B as fast as the
     * memory allows (1x16x10^6 NN and 1x8x2*10^6 NT timed the same split and unsplit
     * on 2 cores). */
    {CLNET_CLASS_AUTO, NULL, "gemm", "GEMV_M", 0},
    {CLNET_CLASS_CPU, NULL, "gemm", "GEMV_M", 8},
    {CLNET_CLASS_AUTO, NULL, "gemm", "GEMV_ITEMS_PER_CU", 4},
    {CLNET_CLASS_CPU, NULL, "gemm", "GEMV_ITEMS_PER_CU", 1},
    {CLNET_CLASS_AUTO, NULL, "gemm", "GEMV_KMIN", 256},
    /* depthwise_conv2d and batch_norm: per-channel sums over rows in two fixed-order
     * stages. Blocks of >= RED_ROWS rows, at most RED_BLOCKS of them; a GPU work-group is
     * RED_CT channels x RED_RT row lanes (a power of two) reduced by a local tree.
     * DW_RUN: output pixels a CPU work-item owns in depthwise loops; DW_TAPS: kernel taps
     * (+ bias) whose weight gradients one CPU work-item accumulates in one pass. */
    {CLNET_CLASS_DGPU, NULL, "depthwise_conv2d", "RED_CT", 32},
    {CLNET_CLASS_DGPU, NULL, "depthwise_conv2d", "RED_RT", 8},
    {CLNET_CLASS_IGPU, NULL, "depthwise_conv2d", "RED_CT", 16},
    {CLNET_CLASS_IGPU, NULL, "depthwise_conv2d", "RED_RT", 8},
    {CLNET_CLASS_AUTO, NULL, "depthwise_conv2d", "RED_ROWS", 512},
    {CLNET_CLASS_AUTO, NULL, "depthwise_conv2d", "RED_BLOCKS", 128},
    {CLNET_CLASS_CPU, NULL, "depthwise_conv2d", "RED_ROWS", 256},
    {CLNET_CLASS_CPU, NULL, "depthwise_conv2d", "RED_BLOCKS", 32},
    {CLNET_CLASS_CPU, NULL, "depthwise_conv2d", "DW_RUN", 8},
    {CLNET_CLASS_CPU, NULL, "depthwise_conv2d", "DW_TAPS", 10},
    {CLNET_CLASS_DGPU, NULL, "batch_norm", "RED_CT", 32},
    {CLNET_CLASS_DGPU, NULL, "batch_norm", "RED_RT", 8},
    {CLNET_CLASS_IGPU, NULL, "batch_norm", "RED_CT", 16},
    {CLNET_CLASS_IGPU, NULL, "batch_norm", "RED_RT", 8},
    {CLNET_CLASS_AUTO, NULL, "batch_norm", "RED_ROWS", 512},
    {CLNET_CLASS_AUTO, NULL, "batch_norm", "RED_BLOCKS", 128},
    {CLNET_CLASS_CPU, NULL, "batch_norm", "RED_ROWS", 256},
    {CLNET_CLASS_CPU, NULL, "batch_norm", "RED_BLOCKS", 32},
    /* reduce (src/ops/reduce.c): column sums for bias gradients, same scheme. */
    {CLNET_CLASS_DGPU, NULL, "reduce", "RED_CT", 32},
    {CLNET_CLASS_DGPU, NULL, "reduce", "RED_RT", 8},
    {CLNET_CLASS_IGPU, NULL, "reduce", "RED_CT", 16},
    {CLNET_CLASS_IGPU, NULL, "reduce", "RED_RT", 8},
    {CLNET_CLASS_AUTO, NULL, "reduce", "RED_ROWS", 512},
    {CLNET_CLASS_AUTO, NULL, "reduce", "RED_BLOCKS", 128},
    {CLNET_CLASS_CPU, NULL, "reduce", "RED_ROWS", 256},
    {CLNET_CLASS_CPU, NULL, "reduce", "RED_BLOCKS", 32},
    /* conv2d: bound on the im2col workspace (bytes; max allocation bounds it too):
     * the batch is lowered and multiplied in chunks of whole images. */
    {CLNET_CLASS_AUTO, NULL, "conv2d", "COL_BYTES", 64 << 20},
    /* conv2d: 3x3 stride-1 convolutions (forward and dX) run Winograd F(2x2, 3x3)
     * (conv2d_winograd.c) where WINOGRAD is 1, min(cin, cout) >= WINOGRAD_MIN_C and the
     * call has >= WINOGRAD_MIN_TILES 2x2 output tiles; else im2col. $CLNET_CONV_ALGO
     * overrides. GPUs: the usual rule, from 32 channels. POCL CPU (2-core EPYC, ResNet
     * 3x3 layers 56x56x64 .. 7x7x512, batch 1 and 8): forward 1.2-1.8x and backward
     * 1.1-1.45x faster than im2col, except 7x7x512 at batch 1 (16 tiles: 0.7x), where
     * the per-call weight transform (16 cin cout floats) outweighs the GEMM savings, both
     * scaling with cin cout: hence WINOGRAD_MIN_TILES, a tile count. Chunks of V + M
     * within WINOGRAD_BYTES: 4 MiB on CPU kept in cache beat 64 MiB by 1.2-1.5x at batch 8.
     * Whole models disagree with those single layers, so the CPU class runs im2col unless
     * `clnet tune` measured Winograd faster for a layer: whole-process pairs of `clnet
     * bench model` (farm-bench, AMD EPYC host), im2col / this rule's time: Fashion-MNIST's
     * small ResNet training at batch 128 0.89, ResNet-18 64x64 training at batch 32 0.90,
     * ResNet-18 and ResNet-50 224 inference at batch 1 and 8 0.97 and 1.00. */
    {CLNET_CLASS_AUTO, NULL, "conv2d", "WINOGRAD", 1},
    {CLNET_CLASS_CPU, NULL, "conv2d", "WINOGRAD", 0},
    {CLNET_CLASS_AUTO, NULL, "conv2d", "WINOGRAD_MIN_C", 32},
    {CLNET_CLASS_AUTO, NULL, "conv2d", "WINOGRAD_MIN_TILES", 0},
    {CLNET_CLASS_AUTO, NULL, "conv2d", "WINOGRAD_BYTES", 64 << 20},
    {CLNET_CLASS_CPU, NULL, "conv2d", "WINOGRAD_BYTES", 4 << 20},
    /* conv2d: grouped convolutions whose groups have at most GROUPED_MAX_CHANNELS input
     * and output channels, on output rows of at least GROUPED_MIN_WIDTH pixels, run
     * forward by conv2d_grouped.c's direct kernel instead of one GEMM per group (0: never);
     * the GROUPED_DX_ keys decide the same for dX (input rows). POCL CPU (2-core EPYC,
     * batch 1, bench_ops min ms against im2col + GEMMs): forward 2.1-5x faster for
     * ResNeXt-50's and RegNetY-400MF's 4, 8 and 16 channels per group at 7 to 56 pixels
     * (56x56x128 / 32 groups 2.19 -> 0.42, 14x14x512 / 32 0.57 -> 0.22), even at 24
     * channels, slower at 32 on 7-pixel rows and at 56; dX faster at 4 and 8 channels
     * on rows of 14 and more (the whole backward 11.8 -> 5.9 ms at 56x56x128), even on
     * 7-pixel rows, 2x slower at 16 channels. GPU classes keep the GEMMs until measured on
     * a GPU ($CLNET_CONV_ALGO=grouped or `clnet tune` choose it there). */
    /* conv2d: convolutions of at most DIRECT_MAX_CIN input channels whose column rows
     * (kh * kw * cin) are at most DIRECT_MAX_K floats, with cout a multiple of 16, run
     * forward by conv2d_direct.c's kernel, with no column matrix (0: never). POCL CPU
     * (2-core EPYC), bench model --profile against im2col + GEMM: MobileNetV2's 224x224x3
     * stem (3x3, stride 2, 32 filters) 0.47 -> 0.15 ms at batch 1, 3.5 -> 1.15 ms at 8.
     * The ResNets' 7x7 stride-2 stem (rows of 147) ran 1.9 -> 1.37 ms, but generating the
     * kernel's code costs ~0.8 s of a cold start that im2col, compiled for the other
     * layers anyway, does not: left to im2col. GPU classes keep im2col until measured on
     * a GPU. */
    {CLNET_CLASS_AUTO, NULL, "conv2d", "DIRECT_MAX_CIN", 0},
    {CLNET_CLASS_CPU, NULL, "conv2d", "DIRECT_MAX_CIN", 4},
    {CLNET_CLASS_AUTO, NULL, "conv2d", "DIRECT_MAX_K", 0},
    {CLNET_CLASS_CPU, NULL, "conv2d", "DIRECT_MAX_K", 36},
    /* conv2d: one-group convolutions of at least IMPLICIT_MIN_CIN input channels (0: never)
     * that no rule above took run forward as the packed GEMM reading the column matrix from
     * the input as it goes (gemm_packed_conv), with no im2col pass and no column buffer.
     * POCL CPU (2-core EPYC), clnet bench model min ms, interleaved, against im2col:
     * ResNet-18 224 batch 1 14.6-14.8 -> 12.0-12.9, batch 8 105-109 -> 90.5-90.9; ResNet-50
     * batch 1 31.0-32.1 -> 28.0-28.5, batch 8 223-227 -> 207-210; training (64x64, batch 32)
     * unchanged. The im2col pass it saves was a fifth of ResNet-18's device time (3.4 of
     * 16.3 ms). From 1 channel: reading whole kernel rows, the ResNets' 7x7 stem of 3
     * channels runs in 0.77-0.79 ms against im2col's 1.10-1.14 (and tap by tap in 2.5), and
     * a ResNet inference compiles no im2col kernel; MobileNetV2's 3x3 stem stays direct
     * (0.16-0.28 against 0.21-0.41 ms). */
    {CLNET_CLASS_AUTO, NULL, "conv2d", "IMPLICIT_MIN_CIN", 0},
    {CLNET_CLASS_CPU, NULL, "conv2d", "IMPLICIT_MIN_CIN", 1},
    {CLNET_CLASS_AUTO, NULL, "conv2d", "GROUPED_MAX_CHANNELS", 0},
    {CLNET_CLASS_CPU, NULL, "conv2d", "GROUPED_MAX_CHANNELS", 16},
    {CLNET_CLASS_AUTO, NULL, "conv2d", "GROUPED_MIN_WIDTH", 0},
    {CLNET_CLASS_CPU, NULL, "conv2d", "GROUPED_MIN_WIDTH", 7},
    {CLNET_CLASS_AUTO, NULL, "conv2d", "GROUPED_DX_MAX_CHANNELS", 0},
    {CLNET_CLASS_CPU, NULL, "conv2d", "GROUPED_DX_MAX_CHANNELS", 8},
    {CLNET_CLASS_AUTO, NULL, "conv2d", "GROUPED_DX_MIN_WIDTH", 0},
    {CLNET_CLASS_CPU, NULL, "conv2d", "GROUPED_DX_MIN_WIDTH", 12},
    /* global_pool: a GPU work-group of GP_CT channels x GP_RT pixel lanes (a power of
     * two) per image; GP_RUN pixels per CPU work-item when spreading the gradient. */
    {CLNET_CLASS_DGPU, NULL, "global_pool", "GP_CT", 32},
    {CLNET_CLASS_DGPU, NULL, "global_pool", "GP_RT", 8},
    {CLNET_CLASS_IGPU, NULL, "global_pool", "GP_CT", 16},
    {CLNET_CLASS_IGPU, NULL, "global_pool", "GP_RT", 8},
    {CLNET_CLASS_CPU, NULL, "global_pool", "GP_RUN", 16},
};

/* The parameters a tuning database entry may set, with the values their launchers
 * accept (tune_db.c checks every entry against this when it reads the database). Only
 * host-side launch parameters: programs are built with the table's values above, so a
 * compile-time key (GEMM_TILE, ...) must never change under them. */
typedef struct tunable {
    const char *key;
    int lo, hi;
    int pow2; /* a work-group size: a power of two */
} tunable;

static const tunable tunables[] = {
    /* gemm_packed's local size: rows of tiles sharing a B panel (the tuner tries 8..64). */
    {"GEMM_WG_M", 1, 1024, 1},
    /* k launch depth and in-kernel k block depth; 0 is off. */
    {"GEMM_KC", 0, 1 << 24, 0},
    {"GEMM_KB", 0, 1 << 24, 0},
};

int clnet__param_tunable(const clnet_context *ctx, const char *key, double value, char *why,
                         size_t len)
{
    const tunable *t = NULL;
    for (size_t i = 0; i < CLNET_COUNTOF(tunables) && !t; ++i)
        t = strcmp(tunables[i].key, key) == 0 ? &tunables[i] : NULL;
    if (!t) {
        snprintf(why, len, "'%s' is not a parameter a tuned entry may set", key);
        return 0;
    }
    const int whole = value >= t->lo && value <= t->hi && value == (double)(int)value;
    const int v = whole ? (int)value : 0;
    const size_t wg = ctx->info.max_work_group_size; /* 0 on a host-only context */
    if (!whole || (t->pow2 && (v & (v - 1)) != 0) || (t->pow2 && wg && (size_t)v > wg)) {
        snprintf(why, len, "%s = %g is not %s in %d..%d%s", key, value,
                 t->pow2 ? "a power of two" : "an integer", t->lo,
                 t->pow2 && wg && (size_t)t->hi > wg ? (int)wg : t->hi,
                 t->pow2 ? " (a work-group size of this device)" : "");
        return 0;
    }
    return 1;
}

/* 3: vendor + class, 2: class, 1: default, 0: no match. */
static int match(const clnet_context *ctx, const param_row *r, const char *program)
{
    if (strcmp(r->program, "*") != 0 && strcmp(r->program, program) != 0)
        return 0;
    if (r->cls != CLNET_CLASS_AUTO && r->cls != ctx->cls)
        return 0;
    if (r->vendor && !strstr(ctx->info.vendor, r->vendor))
        return 0;
    int score = r->cls == CLNET_CLASS_AUTO ? 1 : 2;
    if (r->vendor)
        score++;
    /* A program's own row beats a "*" row of the same rank. */
    return score * 2 + (strcmp(r->program, "*") != 0);
}

static const param_row *lookup(const clnet_context *ctx, const char *program, const char *key)
{
    const param_row *best = NULL;
    int best_score = 0;
    for (size_t i = 0; i < CLNET_COUNTOF(rows); ++i) {
        if (strcmp(rows[i].key, key) != 0)
            continue;
        int s = match(ctx, &rows[i], program);
        if (s > best_score) {
            best_score = s;
            best = &rows[i];
        }
    }
    return best;
}

int clnet__param(const clnet_context *ctx, const char *program, const char *key, int fallback)
{
    const param_row *r = lookup(ctx, program, key);
    return r ? r->value : fallback;
}

void clnet__param_defines(const clnet_context *ctx, const char *program, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < CLNET_COUNTOF(rows); ++i) {
        const param_row *r = &rows[i];
        if (!match(ctx, r, program))
            continue;
        /* Emit each key once, with its winning value. */
        int seen = 0;
        for (size_t j = 0; j < i && !seen; ++j)
            seen = strcmp(rows[j].key, r->key) == 0 && match(ctx, &rows[j], program);
        if (seen)
            continue;
        const param_row *win = lookup(ctx, program, r->key);
        int n = snprintf(buf + used, len - used, "-D%s=%d ", win->key, win->value);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
}
