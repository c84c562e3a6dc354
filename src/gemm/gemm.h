/* gemm.h - the one GEMM wrapper every matrix product goes through (dense layers,
 * 1x1 and im2col convolutions, their backward passes). Row-major:
 *   C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C
 * op(A) = A (lda >= k) or A^T (A stored k x m, lda >= m); likewise B.
 * Offsets and leading dimensions are in floats.
 * Implementations: CLBlast (GPU classes), packed register-tile kernels written for
 * CPU OpenCL runtimes (cpu class), a local-memory tiled kernel of ours (a GPU
 * candidate and fallback), and a small-m GEMV kernel (batch-1 dense layers, any m
 * correct). The variant table picks one per class ("gemm" program,
 * key GEMM_IMPL); every one is checked against the reference by tests/ops/test_gemm.c
 * and the self-test. gemm.c, cl/gemm.cl, gemm_check.c. */
#ifndef CLNET_GEMM_GEMM_H
#define CLNET_GEMM_GEMM_H

#include "device/runtime.h"

typedef enum clnet__gemm_impl {
    CLNET_GEMM_AUTO = 0, /* the variant table's choice for the context's class */
    CLNET_GEMM_CLBLAST = 1,
    CLNET_GEMM_PACKED = 2,
    CLNET_GEMM_TILED = 3,
    CLNET_GEMM_GEMV = 4, /* small m: one pass over op(B) (batch-1 and small-batch dense) */
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

/* g by clnet__gemm_pick's implementation (after the tuner's recorder, when set). */
clnet_status clnet__gemm(clnet_context *ctx, const clnet__gemm_args *g);
clnet_status clnet__gemm_with(clnet_context *ctx, clnet__gemm_impl impl, const clnet__gemm_args *g);
/* The implementation the class uses for a general product (variant key GEMM_IMPL). */
clnet__gemm_impl clnet__gemm_choice(const clnet_context *ctx);
/* The implementation clnet__gemm uses for g on this context: the tuning database's
 * entry for the problem (*tuned, may be NULL, gets it: its launch parameters apply),
 * else gemv when m <= GEMV_M (variant key; 0 turns it off), CLBlast for vector shapes
 * where CLBlast is the choice (it runs Sgemv for them), else clnet__gemm_choice. */
clnet__gemm_impl clnet__gemm_pick(const clnet_context *ctx, const clnet__gemm_args *g,
                                  const clnet__tuned **tuned);
const char *clnet__gemm_impl_name(clnet__gemm_impl impl);
/* The implementation named name ("packed"), or CLNET_GEMM_AUTO. */
clnet__gemm_impl clnet__gemm_impl_parse(const char *name);
/* The tuning database's key of a problem: "gemm NT 3136x64x576". */
void clnet__gemm_key(const clnet__gemm_args *g, char *buf, size_t len);

/* What the tuner (src/plan/tune.c) times for g: each implementation that applies
 * to it with its host-side launch parameters varied (choice and params set, key
 * left empty). The GEMM library only when with_library or the class picks it.
 * Returns how many were written to out (at most max). */
int clnet__gemm_candidates(const clnet_context *ctx, const clnet__gemm_args *g, int with_library,
                           clnet__tuned *out, int max);

/* ---- checks against the reference (gemm_check.c): tests, self-test, tuner ---- */

/* Relative tolerance of the checks: |got - want| <= 1e-4 * (|want| + rms(want)). */
#define CLNET_GEMM_RTOL 1e-4

/* One product to check. Each matrix sits at an offset in its buffer with padded
 * rows, so offsets and leading dimensions are exercised. */
typedef struct clnet__gemm_case {
    int trans_a, trans_b;
    int m, n, k;
    float alpha, beta;
    int a_off, b_off, c_off;       /* floats before each matrix in its buffer */
    int lda_pad, ldb_pad, ldc_pad; /* leading dimension minus the smallest valid one */
    int nan_c;                     /* C starts as NaN: with beta 0 it must not be read */
} clnet__gemm_case;

/* Runs c with impl on uniform(-1, 1) data from seed and compares the whole C buffer
 * with clnet__ref_gemm: the matrix by relative error (see CLNET_GEMM_RTOL), every
 * float around it (offset, row padding) must be unchanged (else max_rel is
 * INFINITY). A failed GEMM call returns its status. */
clnet_status clnet__gemm_check_case(clnet_context *ctx, clnet__gemm_impl impl,
                                    const clnet__gemm_case *c, uint64_t seed, double *max_abs,
                                    double *max_rel);
/* "65x31x129 TN alpha 0.5 beta 1 off 3/5/7 ld+2/0/3 nanC" into buf. */
void clnet__gemm_case_str(const clnet__gemm_case *c, char *buf, size_t len);
/* A few small awkward shapes and every transpose combination of one implementation
 * against the reference; report gets one row per shape, *failed counts failures. */
clnet_status clnet__gemm_check(clnet_context *ctx, clnet__gemm_impl impl,
                               void (*report)(void *user, const char *shape, double max_abs,
                                              double max_rel, int passed),
                               void *user, int *failed);

/* Plain C reference in double: C = alpha*op(A)*op(B) + beta*C. src/ref/gemm.c. */
void clnet__ref_gemm(int trans_a, int trans_b, int m, int n, int k, double alpha, const double *a,
                     int lda, const double *b, int ldb, double beta, double *c, int ldc);

#endif
