/* gemm.c - plain C reference of the GEMM wrapper (src/gemm/gemm.c), in double. */
#include "gemm/gemm.h"

void clnet__ref_gemm(int trans_a, int trans_b, int m, int n, int k, double alpha, const double *a,
                     int lda, const double *b, int ldb, double beta, double *c, int ldc)
{
    for (int i = 0; i < m; ++i) {
        for (int j = 0; j < n; ++j) {
            double sum = 0.0;
            for (int p = 0; p < k; ++p) {
                const double av = trans_a ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
                const double bv = trans_b ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
                sum += av * bv;
            }
            double *out = &c[(size_t)i * ldc + j];
            *out = beta == 0.0 ? alpha * sum : alpha * sum + beta * *out;
        }
    }
}
