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

/* Shared by tune.c (GEMMs, the whole run) and tune_conv.c (convolution algorithms). */

/* How much faster than the default a candidate must be to be stored. */
#define TUNE_MARGIN 0.03

/* The rows of a run (clnet_model::tune). */
typedef struct tune_result {
    clnet_tune_row *rows;
    char (*text)[3][128]; /* per row: problem, candidate, layers */
    int n, cap;
} tune_result;

/* One candidate's run, waited for: a GEMM (tune.c) or a convolution (tune_conv.c). */
typedef struct timed_run {
    clnet_context *ctx;
    void *problem;
    const void *prepared; /* the prepared GEMM, or the convolution's clnet__op_alone */
    clnet_status (*run)(const struct timed_run *r);
} timed_run;

/* Median wall time of repeats runs, in milliseconds. */
clnet_status clnet__tune_median_ms(const timed_run *r, int repeats, double *ms);
/* A new row of res (texts copied), or NULL out of host memory (ctx's error set). */
clnet_tune_row *clnet__tune_add_row(clnet_context *ctx, tune_result *res, const char *problem,
                                    const char *candidate, const char *layers);
/* The winners (one per problem) of the convolutions' algorithms of m's plan for o, appended
 * to *winners, their rows to m->tune. */
clnet_status clnet__tune_convs(clnet_model *m, const clnet_tune_options *o, clnet__tuned **winners,
                               int *n_winners);

#endif
