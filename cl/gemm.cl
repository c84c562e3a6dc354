// gemm.cl - kernels for src/gemm/gemm.c. Row-major C = alpha*op(A)*op(B) + beta*C.
//
// gemm_tiled: the GPU-style kernel. A work-group of (GEMM_TILE/GEMM_WPT)^2
// work-items computes a GEMM_TILE x GEMM_TILE block of C; A and B tiles are staged
// in local memory; each work-item accumulates GEMM_WPT x GEMM_WPT outputs strided by
// the local size so neighbouring work-items touch neighbouring columns.
// global = (ceil(n/TILE)*TILE/WPT, ceil(m/TILE)*TILE/WPT).
#ifndef GEMM_TILE
#define GEMM_TILE 32
#endif
#ifndef GEMM_WPT
#define GEMM_WPT 4
#endif
#define GEMM_RTS (GEMM_TILE / GEMM_WPT)

kernel void gemm_tiled(int trans_a, int trans_b, int m, int n, int k, float alpha,
                       global const float *a, int a_off, int lda, global const float *b, int b_off,
                       int ldb, float beta, global float *c, int c_off, int ldc)
{
    local float As[GEMM_TILE][GEMM_TILE + 1];
    local float Bs[GEMM_TILE][GEMM_TILE + 1];
    const int lx = get_local_id(0), ly = get_local_id(1);
    const int col0 = get_group_id(0) * GEMM_TILE, row0 = get_group_id(1) * GEMM_TILE;
    a += a_off;
    b += b_off;
    float acc[GEMM_WPT][GEMM_WPT];
    for (int i = 0; i < GEMM_WPT; ++i)
        for (int j = 0; j < GEMM_WPT; ++j)
            acc[i][j] = 0.0f;
    for (int k0 = 0; k0 < k; k0 += GEMM_TILE) {
        // As[r][kk] = op(A)[row0 + r][k0 + kk], Bs[kk][cc] = op(B)[k0 + kk][col0 + cc]
        for (int i = ly; i < GEMM_TILE; i += GEMM_RTS) {
            for (int j = lx; j < GEMM_TILE; j += GEMM_RTS) {
                const int r = row0 + i, kk = k0 + j;
                float va = 0.0f;
                if (r < m && kk < k)
                    va = trans_a ? a[(size_t)kk * lda + r] : a[(size_t)r * lda + kk];
                As[i][j] = va;
                const int kb = k0 + i, cc = col0 + j;
                float vb = 0.0f;
                if (kb < k && cc < n)
                    vb = trans_b ? b[(size_t)cc * ldb + kb] : b[(size_t)kb * ldb + cc];
                Bs[i][j] = vb;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < GEMM_TILE; ++kk) {
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
                // beta == 0 must not read C: it may hold NaN garbage (BLAS semantics).
                *p = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * *p;
            }
        }
    }
}
