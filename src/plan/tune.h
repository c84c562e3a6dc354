/* tune.h - the tuner's GEMM problems (tune.c), shared with tests/models/test_tune.c,
 * which checks that a wrong result is caught. */
#ifndef CLNET_PLAN_TUNE_H
#define CLNET_PLAN_TUNE_H

#include "gemm/gemm.h"

/* Reference rows checked per problem: the edges of the row tiles and random ones. */
#define CLNET_TUNE_CHECK_ROWS 24

/* One recorded GEMM on buffers of its own (g's a, b, c; offsets 0, the recorded
 * leading dimensions), random data, with host copies and the reference of sampled
 * rows of C in double; prepacked: its plan takes op(B) prepacked (inference weights), so
 * the candidates run as such a plan would. */
typedef struct clnet__gemm_problem {
    clnet__gemm_args g;
    int prepacked;
    float *a, *b, *c0, *c;
    size_t a_count, b_count, c_count;
    int rows[CLNET_TUNE_CHECK_ROWS], n_rows;
    double *want; /* n_rows x n */
    double rms;
} clnet__gemm_problem;

clnet_status clnet__gemm_problem_init(clnet_context *ctx, const clnet__gemm_args *rec,
                                      uint64_t seed, clnet__gemm_problem *p);
void clnet__gemm_problem_free(clnet__gemm_problem *p);
/* Runs the candidate (NULL: the untuned default) once from the initial C and gives
 * the largest relative difference of the sampled rows from the reference, measured
 * as the GEMM tests do (gemm_check.c); a candidate passes at <= CLNET_GEMM_RTOL. */
clnet_status clnet__gemm_problem_check(clnet_context *ctx, clnet__gemm_problem *p,
                                       const clnet__tuned *cand, double *max_rel);

#endif
