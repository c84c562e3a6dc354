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
 * and the self-test. gemm.c, cl/gemm.cl, cl/gemv.cl, gemm_check.c. */
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

/* op(A) as the im2col matrix of a one-group convolution's NHWC input, never materialized
 * (the packed implementation only, A untransposed): row i is output pixel i, column
 * (ky * kw + kx) * cin + c, zero where the window leaves the input; A is the input from
 * a_off on, lda unused. */
typedef struct clnet__gemm_conv {
    int in_h, in_w, cin, out_h, out_w, kw, sh, sw, pad_t, pad_l;
} clnet__gemm_conv;

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
    const clnet__gemm_conv *conv; /* NULL: A is a matrix; set per run, never in a plan */
} clnet__gemm_args;

/* What one GEMM of an op will run, decided when the op is prepared (a plan is built):
 * the implementation, whether the tuning database chose it, and every host-side launch
 * parameter, for the largest problem it serves. It runs any problem of the same
 * transposes and leading-dimension pattern whose m, n and k are not larger (a smaller
 * batch), with the same choices and at most the scratch recorded here. */
typedef struct clnet__gemm_plan {
    clnet__gemm_impl impl;
    int tuned;             /* the tuning database's entry chose it */
    clnet__gemm_args args; /* the planned problem (no buffers): the tuner's key and shapes */
    /* packed: row tiles per work-group, k launch depth (0: one launch), in-kernel k blocks
     * (0: off), op(B) read in place, columns per packed chunk */
    int wg_m, kc, kb, b_direct, nc;
    int tile, tk, wpt; /* tiled */
    int gpu, gv_kc;    /* gemv: the GPU form, depth of a k slice (k itself: no slices) */
    /* packed: op(B) is a constant (inference weights) packed once into panels by
     * clnet__gemm_prepack and passed to every run, rather than packed or read in place
     * per run (clnet__gemm_plan_prepack) */
    int prepacked;
    size_t scratch; /* bytes of CLNET_SCRATCH_PACK_B */
} clnet__gemm_plan;

/* The plan of problem g (buffers unused) on ctx: the tuning database's entry for its key,
 * else gemv when m <= GEMV_M (variant key; 0 turns it off), CLBlast for vector shapes
 * where CLBlast is the choice (it runs Sgemv for them), else clnet__gemm_choice; launch
 * parameters from the entry or the variant table. The only place a GEMM consults the
 * tuning database. */
void clnet__gemm_prepare(const clnet_context *ctx, const clnet__gemm_args *g, clnet__gemm_plan *gp);
/* The same with the choice given: cand's implementation and parameters (the tuner's
 * candidates), or with cand NULL the built-in rule without the database; impl forces an
 * implementation (AUTO: cand's or the rule's). */
void clnet__gemm_prepare_with(const clnet_context *ctx, const clnet__gemm_args *g,
                              clnet__gemm_impl impl, const clnet__tuned *cand,
                              clnet__gemm_plan *gp);
/* Runs g as gp decided, with gp->scratch bytes of PACK_B from s. g must fit gp (same
 * transposes, m, n, k not larger): else CLNET_ERR_INTERNAL. Only enqueues. */
clnet_status clnet__gemm_run(clnet_context *ctx, const clnet__gemm_plan *gp,
                             const clnet__scratch *s, const clnet__gemm_args *g);

/* A convolution's epilogue, applied to C as the packed kernels store it rather than in
 * a pass of its own: c += bias[j] + res[i][j], pre[i][j] = c, c = act(c), each part
 * only when given (NULL, CLNET_ACT_NONE). res and pre rows are ldr floats apart from
 * res_off; bias starts at bias_off. */
typedef struct clnet__gemm_epilogue {
    cl_mem bias, res, pre;
    size_t bias_off, res_off;
    int ldr;
    int act;
    float act_alpha;
} clnet__gemm_epilogue;

/* Whether gp's implementation applies an epilogue itself (the packed kernels); others
 * leave it to a pass of the caller's. Fixed when the plan is built. */
int clnet__gemm_fuses_epilogue(const clnet__gemm_plan *gp);
/* clnet__gemm_run with an epilogue ep (NULL: none), for a plan that fuses one, and for
 * a prepacked plan op(B)'s panels b_packed (clnet__gemm_prepack; NULL otherwise);
 * CLNET_ERR_INTERNAL when they do not fit the plan. */
clnet_status clnet__gemm_run_with(clnet_context *ctx, const clnet__gemm_plan *gp,
                                  const clnet__scratch *s, const clnet__gemm_args *g,
                                  const clnet__gemm_epilogue *ep, cl_mem b_packed);

/* Makes gp (a packed plan of an untransposed op(B) that does not change between runs:
 * inference weights) take op(B) packed ahead of time, and returns the bytes that takes;
 * 0 leaves gp as it was (another implementation, or panels beyond the budget). Each run
 * then reads contiguous panels, without a packing pass or a strided B, and its whole k in
 * the plain kernel (no in-kernel k blocks). */
size_t clnet__gemm_plan_prepack(clnet__gemm_plan *gp);
/* An inference GEMM the rule gave to gemv (a small batch: dense layers, 1x1 convolutions)
 * becomes the packed plan of its problem when its B can be prepacked: the panels then
 * stream from memory as fast as gemv reads B, the epilogue needs no kernel of its own
 * (ResNet-50's head 0.19-0.23 -> 0.15-0.18 ms, MobileNetV2's 0.18 -> 0.09 ms), and a cold
 * start generates code for neither gemv nor that epilogue. A plan the tuning database
 * chose stays as it is: the tuner timed its candidates prepacked as well (tune.c). The
 * caller then prepacks it (clnet__gemm_plan_prepack). */
void clnet__gemm_prefer_prepacked(const clnet_context *ctx, clnet__gemm_plan *gp);
/* Packs B (k rows of ldb floats, its first n columns used; the plan's n and k), on the
 * host, into out (the bytes clnet__gemm_plan_prepack returned) for prepacked plan gp:
 * the panels gemm_pack would write. On the host, a plan's cold start generates no code
 * for gemm_pack, and a warm one reuses host buffers instead of staging on the device. */
clnet_status clnet__gemm_prepack(clnet_context *ctx, const clnet__gemm_plan *gp, const float *b,
                                 int ldb, float *out);
/* Prepares, runs and releases in one call, with scratch of its own: for checks, tests and
 * benchmarks of one product, never on a plan's run path. impl AUTO: the rule's choice
 * (tuning database included). */
clnet_status clnet__gemm_with(clnet_context *ctx, clnet__gemm_impl impl, const clnet__gemm_args *g);
/* The implementation the class uses for a general product (variant key GEMM_IMPL). */
clnet__gemm_impl clnet__gemm_choice(const clnet_context *ctx);
const char *clnet__gemm_impl_name(clnet__gemm_impl impl);
/* The implementation named name ("packed"), or CLNET_GEMM_AUTO. */
clnet__gemm_impl clnet__gemm_impl_parse(const char *name);
/* The tuning database's key of a problem: "gemm NT 3136x64x576". */
void clnet__gemm_key(const clnet__gemm_args *g, char *buf, size_t len);
/* "packed", "packed (tuned)", "packed (prepacked)": what gp runs, for plans and profiles. */
const char *clnet__gemm_plan_name(const clnet__gemm_plan *gp, char *buf, size_t len);

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
