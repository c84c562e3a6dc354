// gemv.cl - the GEMM's small-m kernels for src/gemm/gemm.c (gemm_gemv), apart from
// gemm.cl so that a model whose GEMMs all run packed or tiled never compiles them (they
// were about half of gemm.cl's compile time).
//

// gemm_gemv: C = alpha*op(A)*op(B) + beta*C for a small m (batch-1 and small-batch
// dense layers), memory-bound: op(B) is read once per pass of up to 8 rows of C,
// op(A) is tiny and stays in cache. k may be split
// into ks slices [s*kc, min(k, (s+1)*kc)), the slice index s being dimension 1; a
// split writes raw partial sums to part[s][m][n] and gemm_gemv_reduce adds them in
// slice order (deterministic, no atomics), otherwise C is written directly (then part
// is any valid buffer, never touched).
// CPU (CLNET_CPU; global = (column items, ks)):
//   untransposed B (k x n, y = x W): a work-item owns GV_NW = 64 consecutive columns
//   as four float16 per row and walks k reading 256 contiguous bytes of a B row per
//   step, for up to 4 rows per pass; 5 to 8 rows take each half (32 columns) in turn,
//   so B is still read once;
//   transposed B (n x k, dx = dy W^T): a work-item owns GV_NC columns, each a float16
//   dot product along contiguous k, for up to 4 rows per pass.
// GPU (CLNET_GPU; local = (GV_LX, GV_LY)): a work-group owns GV_LX columns with
//   GV_LY lanes along k (untransposed B: neighbouring work-items read neighbouring
//   columns), or GV_LY columns with GV_LX lanes along k (transposed B: neighbouring
//   work-items read neighbouring k); lanes are summed by a tree in local memory.
//   global = (ceil(n/GV_LX)*GV_LX, ks*GV_LY), or (ceil(n/GV_LY)*GV_LX, ks*GV_LY).
// op(A)[r][p] is a[r*ar + p*ap]: (ar, ap) = (lda, 1), or (1, lda) for a transposed A.
#define GV_NV 16
#define GV_NW 64
#define GV_NC 4
#define GV_ROWS 8
#ifndef GV_LX
#define GV_LX 32
#endif
#ifndef GV_LY
#define GV_LY 8
#endif

// One output, or its partial sum when the k range is split.
inline void gemv_store(global float *c, int ldc, global float *part, int split, int m, int n, int r,
                       int j, float v, float alpha, float beta)
{
    if (split) {
        part[(size_t)r * n + j] = v;
        return;
    }
    global float *p = c + (size_t)r * ldc + j;
    *p = beta == 0.0f ? alpha * v : alpha * v + beta * *p;
}

#define GV_ARGS                                                                                    \
    int m, int n, int k0, int k1, global const float *a, int ar, int ap, global const float *b,    \
        int ldb, global float *c, int ldc, global float *part, int split, float alpha, float beta
#define GV_PASS m, n, k0, k1, a, ar, ap, b, ldb, c, ldc, part, split, alpha, beta

#ifndef CLNET_GPU
inline float gemv_hsum(float16 v)
{
    const float4 s = v.lo.lo + v.lo.hi + v.hi.lo + v.hi.hi;
    return (s.x + s.y) + (s.z + s.w);
}

// Columns col0.. (cols of them, up to 16) of B row p; zero past cols.
inline float16 gemv_brow(const global float *bp, int cols)
{
    if (cols >= GV_NV)
        return vload16(0, bp);
    float t[GV_NV];
    for (int j = 0; j < GV_NV; ++j)
        t[j] = j < cols ? bp[j] : 0.0f;
    return vload16(0, t);
}

// A row segment of C (cols columns from col0) from a float16.
inline void gemv_store_row(global float *c, int ldc, global float *part, int split, int m, int n,
                           int r, int col0, int cols, float16 v, float alpha, float beta)
{
    float t[GV_NV];
    vstore16(v, 0, t);
    for (int j = 0; j < cols; ++j)
        gemv_store(c, ldc, part, split, m, n, r, col0 + j, t[j], alpha, beta);
}

// Row lists of a pass: accumulators are named variables (acc00, acc01, ...) so that
// the compiler keeps them in vector registers.
#define GV_R1(X) X(0)
#define GV_R2(X) X(0) X(1)
#define GV_R4(X) X(0) X(1) X(2) X(3)

// One or two rows over all GV_NW columns of the work-item at once: per k, four
// neighbouring float16 of B (256 bytes), so that a thread has many cache lines in
// flight when B streams from memory (a 64-byte strip per row, a new page every row,
// reached 6 GB/s on 2 cores); one row also alternates two accumulator sets over k,
// so that consecutive fma do not wait on each other.
#define GV_WB(g) gemv_brow(bp + (g)*GV_NV, cols - (g)*GV_NV)
#define GV_WSTORE(r, v, g)                                                                         \
    if (cols > (g)*GV_NV)                                                                          \
        gemv_store_row(c, ldc, part, split, m, n, r, col0 + (g)*GV_NV,                             \
                       min(GV_NV, cols - (g)*GV_NV), v, alpha, beta);
inline void gemv_nn1(GV_ARGS, int r0, int col0)
{
    const int cols = min(GV_NW, n - col0);
    const global float *a0 = a + (size_t)min(r0, m - 1) * ar + (size_t)k0 * ap;
    const global float *bp = b + (size_t)k0 * ldb + col0;
    float16 c0 = (float16)(0.0f), c1 = c0, c2 = c0, c3 = c0, d0 = c0, d1 = c0, d2 = c0, d3 = c0;
    int p = k0;
    if (cols == GV_NW)
        for (; p + 2 <= k1; p += 2, bp += 2 * ldb, a0 += 2 * ap) {
            const float16 x = (float16)(a0[0]), y = (float16)(a0[ap]);
            const global float *bq = bp + ldb;
            c0 = fma(x, vload16(0, bp), c0);
            c1 = fma(x, vload16(1, bp), c1);
            c2 = fma(x, vload16(2, bp), c2);
            c3 = fma(x, vload16(3, bp), c3);
            d0 = fma(y, vload16(0, bq), d0);
            d1 = fma(y, vload16(1, bq), d1);
            d2 = fma(y, vload16(2, bq), d2);
            d3 = fma(y, vload16(3, bq), d3);
        }
    for (; p < k1; ++p, bp += ldb, a0 += ap) {
        const float16 x = (float16)(*a0);
        c0 = fma(x, GV_WB(0), c0);
        c1 = fma(x, GV_WB(1), c1);
        c2 = fma(x, GV_WB(2), c2);
        c3 = fma(x, GV_WB(3), c3);
    }
    GV_WSTORE(r0, c0 + d0, 0)
    GV_WSTORE(r0, c1 + d1, 1)
    GV_WSTORE(r0, c2 + d2, 2)
    GV_WSTORE(r0, c3 + d3, 3)
}

// Rows r0 .. r0+R-1 (rows past m repeat row m-1: read, never stored) over G float16
// of columns from col0: R x G accumulators (G is 4, all GV_NW columns, for up to 4
// rows; 2, half of them, for 8 rows, so that 16 accumulators fit in registers). The
// groups past G are dead code the compiler drops.
#define GV_W_DECL(i)                                                                               \
    const global float *a##i = a + (size_t)min(r0 + (i), m - 1) * ar + (size_t)k0 * ap;            \
    float16 acc##i##0 = (float16)(0.0f), acc##i##1 = acc##i##0, acc##i##2 = acc##i##0,             \
            acc##i##3 = acc##i##0;
#define GV_W_FMA(i)                                                                                \
    {                                                                                              \
        const float16 x = (float16)(*a##i);                                                        \
        a##i += ap;                                                                                \
        acc##i##0 = fma(x, b0, acc##i##0);                                                         \
        acc##i##1 = fma(x, b1, acc##i##1);                                                         \
        if (G > 2) {                                                                               \
            acc##i##2 = fma(x, b2, acc##i##2);                                                     \
            acc##i##3 = fma(x, b3, acc##i##3);                                                     \
        }                                                                                          \
    }
#define GV_W_STORE(i)                                                                              \
    if (r0 + (i) < m) {                                                                            \
        GV_WSTORE(r0 + (i), acc##i##0, 0)                                                          \
        GV_WSTORE(r0 + (i), acc##i##1, 1)                                                          \
        GV_WSTORE(r0 + (i), acc##i##2, 2)                                                          \
        GV_WSTORE(r0 + (i), acc##i##3, 3)                                                          \
    }
#define GV_R8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define GV_NNW(NAME, R, G_)                                                                        \
    inline void NAME(GV_ARGS, int r0, int col0)                                                    \
    {                                                                                              \
        const int G = (G_), cols = min(G * GV_NV, n - col0);                                       \
        const float16 zero = (float16)(0.0f);                                                      \
        GV_R##R(GV_W_DECL) const global float *bp = b + (size_t)k0 * ldb + col0;                   \
        if (cols == G * GV_NV) {                                                                   \
            for (int p = k0; p < k1; ++p, bp += ldb) {                                             \
                const float16 b0 = vload16(0, bp), b1 = vload16(1, bp);                            \
                const float16 b2 = G > 2 ? vload16(2, bp) : zero;                                  \
                const float16 b3 = G > 2 ? vload16(3, bp) : zero;                                  \
                GV_R##R(GV_W_FMA)                                                                  \
            }                                                                                      \
        } else {                                                                                   \
            for (int p = k0; p < k1; ++p, bp += ldb) {                                             \
                const float16 b0 = GV_WB(0), b1 = GV_WB(1);                                        \
                const float16 b2 = G > 2 ? GV_WB(2) : zero, b3 = G > 2 ? GV_WB(3) : zero;          \
                GV_R##R(GV_W_FMA)                                                                  \
            }                                                                                      \
        }                                                                                          \
        GV_R##R(GV_W_STORE)                                                                        \
    }
GV_NNW(gemv_nn2, 2, 4)
GV_NNW(gemv_nn4, 4, 4)
GV_NNW(gemv_nn8h, 8, 2)

// 16 consecutive k of op(A) row r from p: contiguous, or strided for a transposed A.
inline float16 gemv_arow(const global float *ar_, int ap, int p)
{
    if (ap == 1)
        return vload16(0, ar_ + p);
    float t[GV_NV];
    for (int q = 0; q < GV_NV; ++q)
        t[q] = ar_[(size_t)(p + q) * ap];
    return vload16(0, t);
}

// Transposed B, rows r0 .. r0+R-1, columns col0 .. col0+3 (GV_NC; past n: column
// n-1 is read, never stored): sixteen k at a time, a float16 product per row and
// column, summed across at the end; the k tail past the last whole 16 in t##i##j.
#define GV_NT_DECL(i)                                                                              \
    const global float *a##i = a + (size_t)min(r0 + (i), m - 1) * ar;                              \
    float16 acc##i##0 = (float16)(0.0f), acc##i##1 = acc##i##0, acc##i##2 = acc##i##0,             \
            acc##i##3 = acc##i##0;                                                                 \
    float t##i##0 = 0.0f, t##i##1 = 0.0f, t##i##2 = 0.0f, t##i##3 = 0.0f;
#define GV_NT_FMA(i)                                                                               \
    {                                                                                              \
        const float16 av = gemv_arow(a##i, ap, p);                                                 \
        acc##i##0 = fma(av, b0, acc##i##0);                                                        \
        acc##i##1 = fma(av, b1, acc##i##1);                                                        \
        acc##i##2 = fma(av, b2, acc##i##2);                                                        \
        acc##i##3 = fma(av, b3, acc##i##3);                                                        \
    }
#define GV_NT_TAIL(i)                                                                              \
    {                                                                                              \
        const float av = a##i[(size_t)p * ap];                                                     \
        t##i##0 = fma(av, bj0[p], t##i##0);                                                        \
        t##i##1 = fma(av, bj1[p], t##i##1);                                                        \
        t##i##2 = fma(av, bj2[p], t##i##2);                                                        \
        t##i##3 = fma(av, bj3[p], t##i##3);                                                        \
    }
#define GV_NT_STORE1(i, j)                                                                         \
    if (col0 + (j) < n)                                                                            \
        gemv_store(c, ldc, part, split, m, n, r0 + (i), col0 + (j),                                \
                   gemv_hsum(acc##i##j) + t##i##j, alpha, beta);
#define GV_NT_STORE(i)                                                                             \
    if (r0 + (i) < m) {                                                                            \
        GV_NT_STORE1(i, 0) GV_NT_STORE1(i, 1) GV_NT_STORE1(i, 2) GV_NT_STORE1(i, 3)                \
    }
#define GV_NT(R)                                                                                   \
    inline void gemv_nt##R(GV_ARGS, int r0, int col0)                                              \
    {                                                                                              \
        GV_R##R(GV_NT_DECL) const global float *bj0 = b + (size_t)min(col0, n - 1) * ldb;          \
        const global float *bj1 = b + (size_t)min(col0 + 1, n - 1) * ldb;                          \
        const global float *bj2 = b + (size_t)min(col0 + 2, n - 1) * ldb;                          \
        const global float *bj3 = b + (size_t)min(col0 + 3, n - 1) * ldb;                          \
        int p = k0;                                                                                \
        for (; p + GV_NV <= k1; p += GV_NV) {                                                      \
            const float16 b0 = vload16(0, bj0 + p), b1 = vload16(0, bj1 + p),                      \
                          b2 = vload16(0, bj2 + p), b3 = vload16(0, bj3 + p);                      \
            GV_R##R(GV_NT_FMA)                                                                     \
        }                                                                                          \
        for (; p < k1; ++p) {                                                                      \
            GV_R##R(GV_NT_TAIL)                                                                    \
        }                                                                                          \
        GV_R##R(GV_NT_STORE)                                                                       \
    }
GV_NT(1)
GV_NT(2)
GV_NT(4)
#endif

// One kernel per form of B (gemm_gemv_nn, gemm_gemv_nt): POCL generates a kernel's code
// when it is first launched, so a batch-1 inference compiles only the untransposed form
// (the whole gemv was 0.68 s of a cold `clnet predict`, the most of any kernel).
#ifdef CLNET_GPU
#define GV_LOCAL_ARG , local float (*red)[GV_LX]
#else
#define GV_LOCAL_ARG
#endif
__attribute__((always_inline)) void gemv_body(const int trans_b, int trans_a, int m, int n, int k,
                                              int kc, float alpha, global const float *a,
                                              int a_off, int lda, global const float *b,
                                              int b_off, int ldb, float beta, global float *c,
                                              int c_off, int ldc, global float *part,
                                              int split GV_LOCAL_ARG)
{
    const int ar = trans_a ? 1 : lda, ap = trans_a ? lda : 1;
#ifdef CLNET_GPU
    const int slice = get_group_id(1);
#else
    const int slice = get_global_id(1);
#endif
    const int k0 = slice * kc, k1 = min(k, k0 + kc);
    if (split)
        part += (size_t)slice * m * n; // this slice's partial sums
    a += a_off;
    b += b_off;
    c += c_off;
#ifdef CLNET_GPU
    const int lx = get_local_id(0), ly = get_local_id(1);
    // Column j, and this work-item's lane along k out of nl.
    const int j = trans_b ? get_group_id(0) * GV_LY + ly : get_global_id(0);
    const int lane = trans_b ? lx : ly, nl = trans_b ? GV_LX : GV_LY;
    for (int r0 = 0; r0 < m; r0 += GV_ROWS) {
        float acc[GV_ROWS];
        for (int i = 0; i < GV_ROWS; ++i)
            acc[i] = 0.0f;
        if (j < n)
            for (int p = k0 + lane; p < k1; p += nl) {
                const float bv = trans_b ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
                for (int i = 0; i < GV_ROWS; ++i)
                    if (r0 + i < m)
                        acc[i] = fma(a[(size_t)(r0 + i) * ar + (size_t)p * ap], bv, acc[i]);
            }
        for (int i = 0; i < GV_ROWS && r0 + i < m; ++i) {
            red[ly][lx] = acc[i];
            barrier(CLK_LOCAL_MEM_FENCE);
            for (int s = nl / 2; s > 0; s >>= 1) {
                if (lane < s) {
                    if (trans_b)
                        red[ly][lx] += red[ly][lx + s];
                    else
                        red[ly][lx] += red[ly + s][lx];
                }
                barrier(CLK_LOCAL_MEM_FENCE);
            }
            if (lane == 0 && j < n)
                gemv_store(c, ldc, part, split, m, n, r0 + i, j, red[ly][lx], alpha, beta);
            barrier(CLK_LOCAL_MEM_FENCE);
        }
    }
#else
    if (!trans_b) {
        const int col0 = get_global_id(0) * GV_NW;
        if (col0 >= n)
            return;
        for (int r0 = 0; r0 < m;) {
            const int rows = m - r0;
            if (rows == 1)
                gemv_nn1(GV_PASS, r0, col0);
            else if (rows == 2)
                gemv_nn2(GV_PASS, r0, col0);
            else if (rows <= 4)
                gemv_nn4(GV_PASS, r0, col0);
            else
                for (int h = col0; h < min(n, col0 + GV_NW); h += 2 * GV_NV)
                    gemv_nn8h(GV_PASS, r0, h);
            r0 += rows <= 4 ? 4 : 8;
        }
    } else {
        const int col0 = get_global_id(0) * GV_NC;
        if (col0 >= n)
            return;
        for (int r0 = 0; r0 < m; r0 += 4) {
            const int rows = m - r0;
            if (rows == 1)
                gemv_nt1(GV_PASS, r0, col0);
            else if (rows == 2)
                gemv_nt2(GV_PASS, r0, col0);
            else
                gemv_nt4(GV_PASS, r0, col0);
        }
    }
#endif
}

#define GV_KERNEL_ARGS                                                                             \
    int trans_a, int m, int n, int k, int kc, float alpha, global const float *a, int a_off,      \
        int lda, global const float *b, int b_off, int ldb, float beta, global float *c,          \
        int c_off, int ldc, global float *part, int split
#ifdef CLNET_GPU
#define GV_KERNEL(NAME, TRANS_B)                                                                   \
    kernel void NAME(GV_KERNEL_ARGS)                                                               \
    {                                                                                              \
        local float red[GV_LY][GV_LX];                                                             \
        gemv_body(TRANS_B, trans_a, m, n, k, kc, alpha, a, a_off, lda, b, b_off, ldb, beta, c,     \
                  c_off, ldc, part, split, red);                                                   \
    }
#else
#define GV_KERNEL(NAME, TRANS_B)                                                                   \
    kernel void NAME(GV_KERNEL_ARGS)                                                               \
    {                                                                                              \
        gemv_body(TRANS_B, trans_a, m, n, k, kc, alpha, a, a_off, lda, b, b_off, ldb, beta, c,     \
                  c_off, ldc, part, split);                                                        \
    }
#endif
GV_KERNEL(gemm_gemv_nn, 0)
GV_KERNEL(gemm_gemv_nt, 1)

// gemm_gemv_reduce: C = alpha * sum over the ks slices of part[s][m][n] (in slice
// order) + beta*C. One work-item per element; global = (n, m).
kernel void gemm_gemv_reduce(int m, int n, int ks, global const float *part, float alpha,
                             float beta, global float *c, int c_off, int ldc)
{
    const int j = get_global_id(0), i = get_global_id(1);
    if (j >= n || i >= m)
        return;
    float v = 0.0f;
    for (int s = 0; s < ks; ++s)
        v += part[((size_t)s * m + i) * n + j];
    global float *p = c + c_off + (size_t)i * ldc + j;
    *p = beta == 0.0f ? alpha * v : alpha * v + beta * *p;
}
