/* gemm.h - the one GEMM wrapper every matrix product goes through (dense layers,
 * 1x1 and im2col convolutions, their backward passes). Row-major:
 *   C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C
 * op(A) = A (lda >= k) or A^T (A stored k x m, lda >= m); likewise B.
 * Offsets and leading dimensions are in floats.
 * Implementations: CLBlast (GPU classes), packed register-tile kernels written for
 * CPU OpenCL runtimes (cpu class), a local-memory tiled kernel of ours (a GPU
 * candidate and fallback). The variant table picks one per class ("gemm" program,
 * key GEMM_IMPL); every one is checked against the reference by tests/ops/test_gemm.c
 * and the self-test. gemm.c, cl/gemm.cl. */
#ifndef CLNET_GEMM_GEMM_H
#define CLNET_GEMM_GEMM_H

#include "device/runtime.h"

typedef enum clnet__gemm_impl {
    CLNET_GEMM_AUTO = 0, /* the variant table's choice for the context's class */
    CLNET_GEMM_CLBLAST = 1,
    CLNET_GEMM_PACKED = 2,
    CLNET_GEMM_TILED = 3,
    CLNET_GEMM_IMPL_COUNT
} clnet__gemm_impl;

typedef struct clnet__gemm_args {
    int trans_a, trans_b;
    int m, n, k;
    float alpha, beta;
    cl_mem a;
    size_t a_off;
    int lda;
    cl_mem b;
    size_t b_off;
    int ldb;
    cl_mem c;
    size_t c_off;
    int ldc;
} clnet__gemm_args;

clnet_status clnet__gemm(clnet_context *ctx, const clnet__gemm_args *g);
clnet_status clnet__gemm_with(clnet_context *ctx, clnet__gemm_impl impl, const clnet__gemm_args *g);
/* The implementation clnet__gemm uses on this context. */
clnet__gemm_impl clnet__gemm_choice(const clnet_context *ctx);
const char *clnet__gemm_impl_name(clnet__gemm_impl impl);

/* Plain C reference in double: C = alpha*op(A)*op(B) + beta*C. src/ref/gemm.c. */
void clnet__ref_gemm(int trans_a, int trans_b, int m, int n, int k, double alpha, const double *a,
                     int lda, const double *b, int ldb, double beta, double *c, int ldc);

#endif
