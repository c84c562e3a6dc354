// gemm.cl - kernels for src/gemm/gemm.c. Row-major C = alpha*op(A)*op(B) + beta*C.
// beta == 0 never reads C: it may hold NaN garbage (BLAS semantics).
//
// gemm_tiled: the GPU-style kernel. A work-group of (GEMM_TILE/GEMM_WPT)^2
// work-items computes a GEMM_TILE x GEMM_TILE block of C, staging GEMM_TILE x GEMM_TK
// slices of op(A) and GEMM_TK x GEMM_TILE slices of op(B) in local memory; each
// work-item accumulates GEMM_WPT x GEMM_WPT outputs strided by the local size so
// neighbouring work-items touch neighbouring columns.
// global = (ceil(n/TILE)*TILE/WPT, ceil(m/TILE)*TILE/WPT), local = (TILE/WPT, TILE/WPT).
//
// The packed path, for CPU OpenCL runtimes (a work-item is one thread's loop, so the
// work-item itself must hold a register tile and use explicit wide vectors):
// gemm_pack copies op(B) into column panels of PK_NR columns, [panel][kp][PK_NR],
// zero-padded to whole panels; kp = k rounded up to 4. global = (ceil(kp/PK_PB),
// panels), local = (16, 1): a work-group writes one contiguous run of a panel.
// gemm_packed: each work-item computes one PK_MR x PK_NR tile of C in 16 float16
// accumulators (8 rows x 2 float16), per k, two vload16 of the B
// panel (packed, or a row of an untransposed B read in place) and eight broadcast A
// values, read in place (packing A cost more than it saved). The work-item covers
// k in [k0, k1): the host splits a long k into blocks (GEMM_KC) so what a work-group
// shares stays in cache; later blocks accumulate with beta = 1. 1-D: a work-group
// is GEMM_WG_M consecutive row tiles sharing one B panel, which then stays in cache;
// consecutive work-groups walk the column panels of one row block, so those rows of
// A stay in cache as well. global = n_panels * row_blocks * GEMM_WG_M.
// gemm_packed_blocked: the same, its k run in in-kernel blocks of kc with a barrier
// after each (see there); the host takes it for a transposed A, and for a long k with
// B read in place.
// gemm_packed_conv: the same with op(A) a convolution's column matrix read from its
// NHWC input (see there).
// gemm_scale: C = beta*C, one work-item per element; global = (n, m).
#ifndef GEMM_TILE
#define GEMM_TILE 32
#endif
#ifndef GEMM_TK
#define GEMM_TK 16
#endif
#ifndef GEMM_WPT
#define GEMM_WPT 4
#endif
#define GEMM_RTS (GEMM_TILE / GEMM_WPT)

kernel void gemm_tiled(int trans_a, int trans_b, int m, int n, int k, float alpha,
                       global const float *a, int a_off, int lda, global const float *b, int b_off,
                       int ldb, float beta, global float *c, int c_off, int ldc)
{
    local float As[GEMM_TILE][GEMM_TK + 1];
    local float Bs[GEMM_TK][GEMM_TILE];
    const int lx = get_local_id(0), ly = get_local_id(1);
    const int lin = ly * GEMM_RTS + lx;
    const int col0 = get_group_id(0) * GEMM_TILE, row0 = get_group_id(1) * GEMM_TILE;
    a += a_off;
    b += b_off;
    float acc[GEMM_WPT][GEMM_WPT];
    for (int i = 0; i < GEMM_WPT; ++i)
        for (int j = 0; j < GEMM_WPT; ++j)
            acc[i][j] = 0.0f;
    for (int k0 = 0; k0 < k; k0 += GEMM_TK) {
        // As[r][kk] = op(A)[row0 + r][k0 + kk], Bs[kk][cc] = op(B)[k0 + kk][col0 + cc].
        // The linear work-item index walks the slice along its contiguous direction in
        // memory, so neighbouring work-items load neighbouring floats.
        for (int e = lin; e < GEMM_TILE * GEMM_TK; e += GEMM_RTS * GEMM_RTS) {
            const int r = trans_a ? e % GEMM_TILE : e / GEMM_TK;
            const int kk = trans_a ? e / GEMM_TILE : e % GEMM_TK;
            const int gr = row0 + r, gk = k0 + kk;
            float v = 0.0f;
            if (gr < m && gk < k)
                v = trans_a ? a[(size_t)gk * lda + gr] : a[(size_t)gr * lda + gk];
            As[r][kk] = v;
            const int cc = trans_b ? e / GEMM_TK : e % GEMM_TILE;
            const int kb = trans_b ? e % GEMM_TK : e / GEMM_TILE;
            const int gc = col0 + cc, gkb = k0 + kb;
            float w = 0.0f;
            if (gkb < k && gc < n)
                w = trans_b ? b[(size_t)gc * ldb + gkb] : b[(size_t)gkb * ldb + gc];
            Bs[kb][cc] = w;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < GEMM_TK; ++kk) {
            float bv[GEMM_WPT];
            for (int j = 0; j < GEMM_WPT; ++j)
                bv[j] = Bs[kk][lx + j * GEMM_RTS];
            for (int i = 0; i < GEMM_WPT; ++i) {
                const float av = As[ly + i * GEMM_RTS][kk];
                for (int j = 0; j < GEMM_WPT; ++j)
                    acc[i][j] = fma(av, bv[j], acc[i][j]);
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int i = 0; i < GEMM_WPT; ++i) {
        const int r = row0 + ly + i * GEMM_RTS;
        if (r >= m)
            continue;
        for (int j = 0; j < GEMM_WPT; ++j) {
            const int cc = col0 + lx + j * GEMM_RTS;
            if (cc < n) {
                global float *p = c + c_off + (size_t)r * ldc + cc;
                *p = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * *p;
            }
        }
    }
}

// gemm_scale: C = beta*C, for k == 0 (an empty product). global = (n, m).
kernel void gemm_scale(int m, int n, float beta, global float *c, int c_off, int ldc)
{
    const int j = get_global_id(0), i = get_global_id(1);
    if (j >= n || i >= m)
        return;
    global float *p = c + c_off + (size_t)i * ldc + j;
    *p = beta == 0.0f ? 0.0f : beta * *p;
}

// out[panel][p][j] = X[panel*PK_NR + j][p], zero outside rows x k, where X = op(B)^T:
// X[i][p] is x[p*ld + i] when contiguous (an untransposed B: a panel's row is
// contiguous in memory) and x[i*ld + p] otherwise. A work-item packs PK_PB values
// of p of one panel with whole vector loads and stores where it can.
#define PK_MR 8
#define PK_NR 32
#define PK_PB 16
#define PK_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define PK_K16(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(a) X(b) X(c) X(d) X(e) X(f)
#define PK_LOAD_ROW(r) const float16 v##r = vload16(0, src + (size_t)(r) * ld);
#define PK_STORE_COL(q)                                                                            \
    vstore8((float8)(v0.s##q, v1.s##q, v2.s##q, v3.s##q, v4.s##q, v5.s##q, v6.s##q, v7.s##q), 0,   \
            dst + 0x##q * PK_NR);
kernel void gemm_pack(global const float *x, int x_off, int ld, int rows, int k, int contiguous,
                      int kp, global float *out)
{
    const int p0 = get_global_id(0) * PK_PB, panel = get_global_id(1);
    if (p0 >= kp || panel * PK_NR >= rows)
        return;
    const int p1 = min(p0 + PK_PB, kp), i0 = panel * PK_NR;
    const int full = i0 + PK_NR <= rows;
    global float *o = out + (size_t)panel * kp * PK_NR;
    x += x_off;
    if (contiguous) {
        for (int p = p0; p < p1; ++p) {
            global float *dst = o + (size_t)p * PK_NR;
            const global float *src = x + (size_t)min(p, k - 1) * ld + i0;
            if (p < k && full) {
                vstore16(vload16(0, src), 0, dst);
                vstore16(vload16(0, src + 16), 0, dst + 16);
            } else {
                for (int j = 0; j < PK_NR; ++j)
                    dst[j] = p < k && i0 + j < rows ? src[j] : 0.0f;
            }
        }
        return;
    }
    // Eight rows at a time: eight float16 along k, transposed in registers into
    // sixteen float8 (one per k) of the panel.
    for (int j = 0; j < PK_NR; j += 8) {
        if (i0 + j + 8 <= rows && p0 + PK_PB <= k) {
            const global float *src = x + (size_t)(i0 + j) * ld + p0;
            PK_ROWS(PK_LOAD_ROW)
            global float *dst = o + (size_t)p0 * PK_NR + j;
            PK_K16(PK_STORE_COL)
            continue;
        }
        for (int jj = j; jj < j + 8; ++jj) {
            const int i = i0 + jj;
            const global float *src = x + (size_t)min(i, rows - 1) * ld;
            for (int p = p0; p < p1; ++p)
                o[(size_t)p * PK_NR + jj] = i < rows && p < k ? src[p] : 0.0f;
        }
    }
}

// The epilogue a convolution asks of the packed kernels, applied as a tile is stored
// instead of in a pass of its own (ep: PK_EP_* bits). With C = alpha*AB + beta*C:
// c += bias[j] (BIAS), c += res[i][j] (RES), pre[i][j] = c (PRE), c = act(c) (ACT);
// res and pre rows are ldr apart. When the host splits k over launches, the first
// launch adds bias and res and the last saves pre and applies act: a res that is C's
// own buffer is then read by each work-item just before it writes the same element.
#define PK_EP_BIAS 1
#define PK_EP_RES 2
#define PK_EP_PRE 4
#define PK_EP_ACT 8
#define PK_EP_ARGS                                                                                 \
    global const float *ep_bias, int bias_off, global const float *ep_res, global float *ep_pre,  \
        int res_off, int ldr, int ep, int act, float act_alpha
// The activation of a segment and of one output (common.cl).
#define PK_ACT_SEG(v) ACT_FORWARD_FAST(float16, act_forward16, v, act, act_alpha)
#define PK_ACT_ONE(v) ACT_FORWARD_FAST(float, act_forward, v, act, act_alpha)

// Unaligned whole-vector access to 16 floats: POCL's vstore16 reaches the code as three
// stores (16 + 16 + 32 bytes), a float16 type aligned to 4 bytes as one.
typedef float16 pk_float16u __attribute__((aligned(4)));
#define PK_LD16(p) (*(const global pk_float16u *)(p))
#define PK_ST16(v, p) (*(global pk_float16u *)(p) = (v))

// 16 columns of a C row from acc, with the epilogue; eb, er and ep_p are the bias,
// residual and pre-activation at the first of them.
inline void pk_store16(global float *cr, float16 acc, float alpha, float beta,
                       const global float *eb, const global float *er, global float *ep_p, int ep,
                       int act, float act_alpha)
{
    float16 v = alpha * acc;
    if (beta != 0.0f)
        v += beta * PK_LD16(cr);
    if (ep & PK_EP_BIAS)
        v += PK_LD16(eb);
    if (ep & PK_EP_RES)
        v += PK_LD16(er);
    if (ep & PK_EP_PRE)
        PK_ST16(v, ep_p);
    if (ep & PK_EP_ACT)
        v = PK_ACT_SEG(v);
    PK_ST16(v, cr);
}

// The same for the first cols (< 16) columns only.
inline void pk_store_part(global float *cr, int cols, float16 acc, float alpha, float beta,
                          const global float *eb, const global float *er, global float *ep_p,
                          int ep, int act, float act_alpha)
{
    float t[16];
    vstore16(acc, 0, t);
    for (int j = 0; j < cols; ++j) {
        float v = beta == 0.0f ? alpha * t[j] : alpha * t[j] + beta * cr[j];
        if (ep & PK_EP_BIAS)
            v += eb[j];
        if (ep & PK_EP_RES)
            v += er[j];
        if (ep & PK_EP_PRE)
            ep_p[j] = v;
        if (ep & PK_EP_ACT)
            v = PK_ACT_ONE(v);
        cr[j] = v;
    }
}

// C row segment of up to PK_NR columns (cols of them in the matrix) from two float16:
// whole 16-column halves as vectors (a partial panel of 16 or more columns too).
__attribute__((always_inline)) inline void
packed_store(global float *cr, int cols, float16 lo, float16 hi, float alpha, float beta,
             const global float *eb, const global float *er, global float *ep_p, int ep, int act,
             float act_alpha)
{
    if (cols >= 16)
        pk_store16(cr, lo, alpha, beta, eb, er, ep_p, ep, act, act_alpha);
    else
        pk_store_part(cr, cols, lo, alpha, beta, eb, er, ep_p, ep, act, act_alpha);
    if (cols >= PK_NR)
        pk_store16(cr + 16, hi, alpha, beta, eb + 16, er + 16, ep_p + 16, ep, act, act_alpha);
    else if (cols > 16)
        pk_store_part(cr + 16, cols - 16, hi, alpha, beta, eb + 16, er + 16, ep_p + 16, ep, act,
                      act_alpha);
}

#define PK_DECL(r) float16 lo##r = (float16)(0.0f), hi##r = (float16)(0.0f);
// One k step q: two float16 of the B panel times eight broadcast A values.
#define PK_FMA(r)                                                                                  \
    {                                                                                              \
        const float16 av = (float16)(PK_A(r, q));                                                  \
        lo##r = fma(av, b0, lo##r);                                                                \
        hi##r = fma(av, b1, hi##r);                                                                \
    }
#define PK_STEP(qq)                                                                                \
    {                                                                                              \
        const int q = (qq);                                                                        \
        const float16 b0 = vload16(0, bq + (size_t)q * bs);                                        \
        const float16 b1 = vload16(0, bq + (size_t)q * bs + 16);                                   \
        PK_ROWS(PK_FMA)                                                                            \
    }
// The tile's rows from its accumulators, spilled to a private array so that one copy of
// the store code (inlined, in a loop kept rolled) serves all eight: a call of packed_store
// per row cost a third of a narrow layer's GEMM (MobileNetV2's 16 -> 96 expansion), and
// eight inlined copies seconds of code generation.
#define PK_SPILL(r)                                                                                \
    t_[2 * (r)] = lo##r;                                                                           \
    t_[2 * (r) + 1] = hi##r;
#define PK_STORE_TILE()                                                                            \
    {                                                                                              \
        float16 t_[2 * PK_MR];                                                                     \
        PK_ROWS(PK_SPILL)                                                                          \
        const int nr_ = min(PK_MR, m - row0);                                                      \
        _Pragma("nounroll") for (int r = 0; r < nr_; ++r)                                          \
        {                                                                                          \
            const size_t er_ = (size_t)res_off + (size_t)(row0 + r) * ldr + col0;                  \
            packed_store(c + (size_t)(row0 + r) * ldc, cols, t_[2 * r], t_[2 * r + 1], alpha,      \
                         beta, ep_bias + bias_off + col0, ep_res + er_, ep_pre + er_, ep, act,     \
                         act_alpha);                                                               \
        }                                                                                          \
    }

// Which tile this work-item owns (see the top of the file), and where its B panel
// is: the first n_direct panels are read in place from b (row stride ldb), the
// others from the packed panels bp (row stride PK_NR).
#define PK_TILE()                                                                                  \
    const int g_ = get_group_id(0), wg_ = get_local_size(0);                                       \
    const int panel = g_ % n_panels, tile = g_ / n_panels * wg_ + get_local_id(0);                 \
    const int row0 = tile * PK_MR, col0 = panel * PK_NR;                                           \
    const int live = row0 < m;                                                                     \
    const int cols = n - col0;                                                                     \
    const int direct = panel < n_direct, bs = direct ? ldb : PK_NR;                                \
    const global float *bq =                                                                       \
        direct ? b + b_off + col0 : bp + (size_t)(panel - n_direct) * kp * PK_NR;                  \
    c += c_off + col0;
#define PK_B_ARGS                                                                                  \
    global const float *b, int b_off, int ldb, int n_direct, global const float *bp

// op(A) row row0 + r is a##r (rows past m repeat the last one: read in bounds,
// never stored); its k step q is a##r[q] for an untransposed A, a##r[q * lda] for a
// transposed one (then the tile's eight values of one k are neighbours in memory).
#define PK_ROWPTR(r) const global float *a##r = a + (size_t)min(row0 + r, m - 1) * lda;
#define PK_COLPTR(r) const global float *a##r = a + min(row0 + r, m - 1);
// k runs over [k0, k1); B read in place has no zero padding past k. Not unrolled by
// hand: POCL's LLVM then hoisted the loads of four steps above their FMAs and spilled
// broadcasts to the stack (16 accumulators + 40 loaded values > 32 zmm registers); the
// plain loop compiles to 2 loads, 8 broadcasts and 16 FMAs a step, with no spill
// (1024^3: 278 -> 329 GFLOP/s on 2 EPYC cores).
#define PK_K_LOOP()                                                                                \
    for (int p = kb; p < ke; ++p)                                                                  \
        PK_STEP(p)
// Both packed kernels take the same arguments; gemm_packed ignores kc.
#define PK_ARGS                                                                                    \
    int trans_a, global const float *a, int a_off, int lda, PK_B_ARGS, int m, int n, int k0,       \
        int k1, int kc, int kp, int n_panels, float alpha, float beta, global float *c, int c_off, \
        int ldc, PK_EP_ARGS

// gemm_packed: the work-item's whole k run at once.
kernel void gemm_packed(PK_ARGS)
{
    PK_TILE()
    if (!live)
        return;
    PK_ROWS(PK_DECL)
    a += a_off;
    const int kb = k0, ke = k1;
    if (!trans_a) {
        PK_ROWS(PK_ROWPTR)
#define PK_A(r, q) a##r[q]
        PK_K_LOOP()
#undef PK_A
    } else {
        PK_ROWS(PK_COLPTR)
#define PK_A(r, q) a##r[(size_t)(q) * lda]
        PK_K_LOOP()
#undef PK_A
    }
    PK_STORE_TILE()
}

// gemm_packed_blocked: the same in k blocks of kc (a multiple of 4), a barrier after
// each. A CPU runtime runs the work-items of a group one after another between
// barriers, so all of them finish one block before any starts the next: the block of
// the B panel they share, and for a transposed A the cache lines of A neighbouring
// tiles share, stay in cache (POCL keeps the accumulators in memory across a barrier:
// 16 float16 stored and loaded per block). Tiles past m (the last group's) only keep
// the barriers company.
kernel void gemm_packed_blocked(PK_ARGS)
{
    PK_TILE()
    PK_ROWS(PK_DECL)
    a += a_off;
    for (int kb = k0; kb < k1; kb += kc) {
        const int ke = min(kb + kc, k1);
        if (live && !trans_a) {
            PK_ROWS(PK_ROWPTR)
#define PK_A(r, q) a##r[q]
            PK_K_LOOP()
#undef PK_A
        } else if (live) {
            PK_ROWS(PK_COLPTR)
#define PK_A(r, q) a##r[(size_t)(q) * lda]
            PK_K_LOOP()
#undef PK_A
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (live)
        PK_STORE_TILE()
}

// gemm_packed_conv: gemm_packed with op(A) the im2col matrix of an NHWC input a (one
// group), never materialized: row i is output pixel i, column (ky * kw + kx) * cin + c.
// The k loop of gemm_packed runs over runs of A's columns that are contiguous in the
// input, each row of the tile pointing at its run, or at zeros (kw * cin or more floats of
// 0) where the run lies outside the input: a whole kernel row (kw * cin floats) when every
// row's window fits the input's width, else one tap (cin floats) at a time. One launch:
// k0 = 0, k1 = k.
#define PK_PIXEL(r)                                                                                \
    const int p##r = min(row0 + r, m - 1), n##r = p##r / opix, q##r = p##r - n##r * opix;          \
    const int oy##r = q##r / out_w;                                                                \
    const int iy##r = oy##r * sh - pad_t, ix##r = (q##r - oy##r * out_w) * sw - pad_l;             \
    const global float *x##r = a + (size_t)n##r * in_h * in_w * cin;                               \
    inside &= ix##r >= 0 && ix##r + kw <= in_w;
#define PK_RUNPTR(r, dx)                                                                           \
    const int y##r = iy##r + ky, xx##r = ix##r + (dx);                                             \
    const global float *a##r = (uint)y##r < (uint)in_h && (uint)xx##r < (uint)in_w                 \
                                   ? x##r + ((size_t)y##r * in_w + xx##r) * cin                    \
                                   : zeros;
#define PK_ROWPTR_K(r) PK_RUNPTR(r, 0)
#define PK_TAPPTR(r) PK_RUNPTR(r, kx)
kernel void gemm_packed_conv(PK_ARGS, int in_h, int in_w, int cin, int out_h, int out_w, int kw,
                             int sh, int sw, int pad_t, int pad_l, global const float *zeros)
{
    PK_TILE()
    if (!live)
        return;
    PK_ROWS(PK_DECL)
    a += a_off;
    const int opix = out_h * out_w, run = kw * cin;
    int inside = 1;
    PK_ROWS(PK_PIXEL)
#define PK_A(r, q) a##r[q]
    for (int ky = 0; ky * run < k1; ++ky) {
        if (inside) {
            PK_ROWS(PK_ROWPTR_K)
            const int kb = 0, ke = run;
            PK_K_LOOP()
            bq += (size_t)run * bs;
        } else {
            for (int kx = 0; kx < kw; ++kx) {
                PK_ROWS(PK_TAPPTR)
                const int kb = 0, ke = cin;
                PK_K_LOOP()
                bq += (size_t)cin * bs;
            }
        }
    }
#undef PK_A
    PK_STORE_TILE()
}
