/* gemm_check.c - one GEMM implementation against the double reference (src/ref/gemm.c),
 * for tests/ops/test_gemm.c, the self-test and the tuner. Declared in gemm.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm/gemm.h"
#include "tensor/rng.h"

/* Buffer sizes in floats of one case. */
typedef struct layout {
    int lda, ldb, ldc;
    size_t na, nb, nc;
} layout;

static int at_least_1(int x)
{
    return x > 1 ? x : 1;
}

static layout layout_of(const clnet__gemm_case *c)
{
    layout l;
    l.lda = at_least_1(c->trans_a ? c->m : c->k) + c->lda_pad;
    l.ldb = at_least_1(c->trans_b ? c->k : c->n) + c->ldb_pad;
    l.ldc = at_least_1(c->n) + c->ldc_pad;
    l.na = (size_t)c->a_off + (size_t)(c->trans_a ? c->k : c->m) * (size_t)l.lda;
    l.nb = (size_t)c->b_off + (size_t)(c->trans_b ? c->n : c->k) * (size_t)l.ldb;
    l.nc = (size_t)c->c_off + (size_t)c->m * (size_t)l.ldc;
    return l;
}

void clnet__gemm_case_str(const clnet__gemm_case *c, char *buf, size_t len)
{
    snprintf(buf, len, "%dx%dx%d %c%c alpha %g beta %g off %d/%d/%d ld+%d/%d/%d%s", c->m, c->n,
             c->k, c->trans_a ? 'T' : 'N', c->trans_b ? 'T' : 'N', (double)c->alpha,
             (double)c->beta, c->a_off, c->b_off, c->c_off, c->lda_pad, c->ldb_pad, c->ldc_pad,
             c->nan_c ? " nanC" : "");
}

/* Floats uniform in (-1, 1), kept in double too so both sides see the same numbers. */
static void fill(clnet__rng *r, float *f, double *d, size_t n)
{
    for (size_t i = 0; i < n; ++i) {
        f[i] = (float)(2.0 * clnet__rng_uniform(r) - 1.0);
        d[i] = f[i];
    }
}

static clnet_status upload(clnet_context *ctx, const float *x, size_t n, const char *what,
                           cl_mem *out)
{
    CLNET_TRY(clnet__buffer(ctx, n * sizeof(float), what, out));
    CLNET_CL_TRY(ctx, clEnqueueWriteBuffer(ctx->queue, *out, CL_TRUE, 0, n * sizeof(float), x, 0,
                                           NULL, NULL));
    return CLNET_OK;
}

static int in_matrix(const clnet__gemm_case *c, const layout *l, size_t i)
{
    if (i < (size_t)c->c_off)
        return 0;
    return (int)((i - (size_t)c->c_off) % (size_t)l->ldc) < c->n;
}

/* Relative error of got against want over the matrix; anything else must be unchanged. */
static void compare(const clnet__gemm_case *c, const layout *l, const float *got,
                    const double *want, double *max_abs, double *max_rel)
{
    double ss = 0.0;
    size_t count = 0;
    for (size_t i = 0; i < l->nc; ++i)
        if (in_matrix(c, l, i) && isfinite(want[i])) {
            ss += want[i] * want[i];
            ++count;
        }
    const double rms = sqrt(ss / (double)(count ? count : 1));
    *max_abs = 0.0;
    *max_rel = 0.0;
    for (size_t i = 0; i < l->nc; ++i) {
        const double g = got[i];
        if (isnan(g) && isnan(want[i]))
            continue;
        double d = fabs(g - want[i]), rel = d / (fabs(want[i]) + rms + 1e-7);
        if (!in_matrix(c, l, i) && g != want[i])
            rel = INFINITY;
        if (isnan(d))
            d = rel = INFINITY;
        if (d > *max_abs)
            *max_abs = d;
        if (rel > *max_rel)
            *max_rel = rel;
    }
}

clnet_status clnet__gemm_check_case(clnet_context *ctx, clnet__gemm_impl impl,
                                    const clnet__gemm_case *c, uint64_t seed, double *max_abs,
                                    double *max_rel)
{
    *max_abs = *max_rel = INFINITY;
    const layout l = layout_of(c);
    const size_t total = l.na + l.nb + l.nc;
    float *f = malloc(total * sizeof *f);
    double *d = malloc(total * sizeof *d);
    cl_mem a = NULL, b = NULL, cm = NULL;
    clnet_status st = CLNET_OK;
    if (!f || !d) {
        st = clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "GEMM check: out of host memory");
        goto done;
    }
    clnet__rng r;
    clnet__rng_seed(&r, seed);
    fill(&r, f, d, total);
    float *fc = f + l.na + l.nb;
    double *dc = d + l.na + l.nb;
    if (c->nan_c)
        for (size_t i = 0; i < l.nc; ++i)
            dc[i] = fc[i] = NAN;
    if ((st = upload(ctx, f, l.na, "GEMM check A", &a)) != CLNET_OK ||
        (st = upload(ctx, f + l.na, l.nb, "GEMM check B", &b)) != CLNET_OK ||
        (st = upload(ctx, fc, l.nc, "GEMM check C", &cm)) != CLNET_OK)
        goto done;
    const clnet__gemm_args g = {c->trans_a, c->trans_b, c->m,
                                c->n,       c->k,       c->alpha,
                                c->beta,    a,          (size_t)c->a_off,
                                l.lda,      b,          (size_t)c->b_off,
                                l.ldb,      cm,         (size_t)c->c_off,
                                l.ldc,      NULL};
    if ((st = clnet__gemm_with(ctx, impl, &g)) != CLNET_OK)
        goto done;
    cl_int err =
        clEnqueueReadBuffer(ctx->queue, cm, CL_TRUE, 0, l.nc * sizeof(float), fc, 0, NULL, NULL);
    if (err != CL_SUCCESS) {
        st = clnet__cl_fail(ctx, err, "clEnqueueReadBuffer", __FILE__, __LINE__);
        goto done;
    }
    clnet__ref_gemm(c->trans_a, c->trans_b, c->m, c->n, c->k, c->alpha, d + c->a_off, l.lda,
                    d + l.na + c->b_off, l.ldb, c->beta, dc + c->c_off, l.ldc);
    compare(c, &l, fc, dc, max_abs, max_rel);
done:
    if (a)
        clReleaseMemObject(a);
    if (b)
        clReleaseMemObject(b);
    if (cm)
        clReleaseMemObject(cm);
    free(f);
    free(d);
    return st;
}

clnet_status clnet__gemm_check(clnet_context *ctx, clnet__gemm_impl impl,
                               void (*report)(void *user, const char *shape, double max_abs,
                                              double max_rel, int passed),
                               void *user, int *failed)
{
    /* trans_a, trans_b, m, n, k, alpha, beta, offsets, padding, nan_c: single rows and
     * columns, sizes off every tile multiple, transposes, accumulation, NaN in C. */
    static const clnet__gemm_case cases[] = {
        {0, 0, 1, 1, 1, 1.0f, 0.0f, 0, 0, 0, 0, 0, 0, 0},
        {0, 0, 7, 33, 5, 0.5f, 0.0f, 1, 2, 3, 2, 1, 3, 1},
        {0, 1, 7, 33, 5, 1.0f, 1.0f, 0, 0, 0, 0, 0, 0, 0},
        {1, 0, 9, 40, 70, 1.0f, 0.0f, 5, 0, 1, 1, 0, 2, 1},
        {1, 1, 17, 3, 37, 2.0f, -0.5f, 0, 3, 0, 0, 4, 0, 0},
        {0, 0, 1, 100, 300, 1.0f, 0.0f, 0, 0, 0, 0, 0, 0, 0},
        /* small m, as in batch-1 and small-batch dense layers and their input gradients
         * (the gemv path): a split k, a transposed B, a column of C */
        {0, 0, 1, 17, 2048, 1.0f, 0.0f, 1, 0, 2, 0, 3, 0, 1},
        {0, 1, 5, 33, 300, 0.5f, 1.0f, 0, 4, 0, 2, 0, 1, 0},
        {1, 1, 3, 1, 77, 1.0f, 0.0f, 2, 1, 0, 1, 2, 0, 1},
        {0, 1, 65, 31, 129, 0.5f, 1.0f, 3, 5, 7, 2, 0, 3, 0},
        {1, 0, 37, 45, 701, 1.0f, 0.5f, 2, 1, 0, 1, 3, 0, 0}, /* k blocks, off 4 */
    };
    clnet_status st = CLNET_OK;
    for (size_t i = 0; i < CLNET_COUNTOF(cases) && st == CLNET_OK; ++i) {
        double max_abs = 0.0, max_rel = 0.0;
        st = clnet__gemm_check_case(ctx, impl, &cases[i], 77u + i, &max_abs, &max_rel);
        if (st != CLNET_OK)
            break;
        const int passed = max_rel <= CLNET_GEMM_RTOL;
        if (!passed && failed)
            ++*failed;
        if (report) {
            char shape[128];
            clnet__gemm_case_str(&cases[i], shape, sizeof shape);
            report(user, shape, max_abs, max_rel, passed);
        }
    }
    return st;
}
