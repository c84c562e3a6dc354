/* test_gemm.c - every GEMM implementation (src/gemm/gemm.c, cl/gemm.cl, cl/gemv.cl) against the
 * double reference (src/ref/gemm.c) through clnet__gemm_check_case (gemm_check.c):
 * transposes, awkward shapes, offsets and padded rows, alpha/beta, NaN in C. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gemm/gemm.h"
#include "support/support.h"

/* An implementation on a class: the classes compile the kernels differently. */
typedef struct impl_class {
    clnet__gemm_impl impl;
    clnet_device_class cls;
} impl_class;

static void check(clnet_context *ctx, clnet__gemm_impl impl, const clnet__gemm_case *c,
                  uint64_t seed)
{
    char shape[128];
    clnet__gemm_case_str(c, shape, sizeof shape);
    double max_abs = 0.0, max_rel = 0.0;
    clnet_status st = clnet__gemm_check_case(ctx, impl, c, seed, &max_abs, &max_rel);
    cr_assert_eq(st, CLNET_OK, "%s [%s] %s: %s: %s", clnet__gemm_impl_name(impl),
                 clnet_device_class_name(clnet_context_class(ctx)), shape, clnet_status_string(st),
                 clnet_context_error(ctx));
    cr_expect(max_rel <= CLNET_GEMM_RTOL, "%s [%s] %s: max abs err %.3g, rel %.3g",
              clnet__gemm_impl_name(impl), clnet_device_class_name(clnet_context_class(ctx)), shape,
              max_abs, max_rel);
}

ParameterizedTestParameters(gemm, matches_reference)
{
    static impl_class runs[] = {
        {CLNET_GEMM_CLBLAST, CLNET_CLASS_CPU}, {CLNET_GEMM_PACKED, CLNET_CLASS_CPU},
        {CLNET_GEMM_TILED, CLNET_CLASS_DGPU},  {CLNET_GEMM_TILED, CLNET_CLASS_IGPU},
        {CLNET_GEMM_TILED, CLNET_CLASS_CPU},   {CLNET_GEMM_GEMV, CLNET_CLASS_DGPU},
        {CLNET_GEMM_GEMV, CLNET_CLASS_IGPU},   {CLNET_GEMM_GEMV, CLNET_CLASS_CPU},
    };
    return cr_make_param_array(impl_class, runs, CLNET_COUNTOF(runs));
}

/* One case of a shape, a transpose combination (bit 0: A, bit 1: B) and a mode:
 * 0: alpha 1, beta 0, packed matrices;
 * 1: alpha 0.5, beta 0, offsets and padded rows, C pre-filled with NaN;
 * 2: alpha 1, beta 1 (accumulate), offsets and padded rows. */
static clnet__gemm_case case_of(int m, int n, int k, int t, int mode)
{
    clnet__gemm_case c;
    memset(&c, 0, sizeof c);
    c.trans_a = t & 1;
    c.trans_b = t >> 1;
    c.m = m;
    c.n = n;
    c.k = k;
    c.alpha = mode == 1 ? 0.5f : 1.0f;
    c.beta = mode == 2 ? 1.0f : 0.0f;
    if (mode > 0) {
        c.a_off = 3;
        c.b_off = 5;
        c.c_off = 7;
        c.lda_pad = 2;
        c.ldb_pad = 1;
        c.ldc_pad = 3;
    }
    c.nan_c = mode == 1;
    return c;
}

/* Every shape x transpose combination x mode (see case_of). */
ParameterizedTest(impl_class *r, gemm, matches_reference, .timeout = 600)
{
    static const int shapes[][3] = {
        {1, 1, 1},       {1, 1000, 2048}, {7, 33, 5}, {65, 31, 129},
        {200, 100, 300}, {300, 70, 40}, /* m > GEMM_B_DIRECT_M: an untransposed B is packed too */
        {37, 45, 701}, /* cpu, A transposed: k blocks of gemm_packed_blocked (GEMM_KB 256: 3
                          of 236, the last 229 deep), tiles past m at its barriers */
    };
    clnet_context *ctx = clnet_test_device_class(r->cls);
    uint64_t seed = 1;
    for (size_t s = 0; s < CLNET_COUNTOF(shapes); ++s)
        for (int t = 0; t < 4; ++t)
            for (int mode = 0; mode < 3; ++mode) {
                const clnet__gemm_case c =
                    case_of(shapes[s][0], shapes[s][1], shapes[s][2], t, mode);
                check(ctx, r->impl, &c, seed++);
            }
}

ParameterizedTestParameters(gemm, small_m_matches_reference)
{
    static impl_class runs[] = {
        {CLNET_GEMM_GEMV, CLNET_CLASS_DGPU},   {CLNET_GEMM_GEMV, CLNET_CLASS_IGPU},
        {CLNET_GEMM_GEMV, CLNET_CLASS_CPU},    {CLNET_GEMM_AUTO, CLNET_CLASS_CPU},
        {CLNET_GEMM_CLBLAST, CLNET_CLASS_CPU}, /* Sgemv for m == 1 and n == 1 */
    };
    return cr_make_param_array(impl_class, runs, CLNET_COUNTOF(runs));
}

/* The shapes of batch-1 and small-batch dense layers and their gradients, around the
 * gemv kernel's vector widths, row passes and k slices: every m x n x k, transpose
 * and mode. CLNET_GEMM_SMALL=1 keeps k <= 7 and n <= 17 (for oclgrind). */
ParameterizedTest(impl_class *r, gemm, small_m_matches_reference, .timeout = 1200)
{
    static const int ms[] = {1, 2, 3, 5, 9}, ns[] = {1, 15, 17, 1000}, ks[] = {1, 7, 2048};
    const char *small = getenv("CLNET_GEMM_SMALL");
    const int reduced = small && strcmp(small, "1") == 0;
    clnet_context *ctx = clnet_test_device_class(r->cls);
    uint64_t seed = 1000;
    for (size_t mi = 0; mi < CLNET_COUNTOF(ms); ++mi)
        for (size_t ni = 0; ni < CLNET_COUNTOF(ns) - (size_t)reduced; ++ni)
            for (size_t ki = 0; ki < CLNET_COUNTOF(ks) - (size_t)reduced; ++ki)
                for (int t = 0; t < 4; ++t)
                    for (int mode = 0; mode < 3; ++mode) {
                        const clnet__gemm_case c = case_of(ms[mi], ns[ni], ks[ki], t, mode);
                        check(ctx, r->impl, &c, seed++);
                    }
}

ParameterizedTestParameters(gemm, self_check_passes)
{
    static impl_class runs[] = {
        {CLNET_GEMM_CLBLAST, CLNET_CLASS_CPU}, {CLNET_GEMM_PACKED, CLNET_CLASS_CPU},
        {CLNET_GEMM_TILED, CLNET_CLASS_DGPU},  {CLNET_GEMM_GEMV, CLNET_CLASS_DGPU},
        {CLNET_GEMM_GEMV, CLNET_CLASS_CPU},    {CLNET_GEMM_AUTO, CLNET_CLASS_CPU},
    };
    return cr_make_param_array(impl_class, runs, CLNET_COUNTOF(runs));
}

static void expect_row(void *user, const char *shape, double max_abs, double max_rel, int passed)
{
    cr_expect(passed, "%s %s: max abs err %.3g, rel %.3g", (const char *)user, shape, max_abs,
              max_rel);
}

ParameterizedTest(impl_class *r, gemm, self_check_passes, .timeout = 600)
{
    clnet_context *ctx = clnet_test_device_class(r->cls);
    int failed = 0;
    clnet_status st = clnet__gemm_check(ctx, r->impl, expect_row,
                                        (void *)clnet__gemm_impl_name(r->impl), &failed);
    cr_assert_eq(st, CLNET_OK, "%s: %s", clnet_status_string(st), clnet_context_error(ctx));
    cr_expect_eq(failed, 0);
}

/* The packed path's chunks and blocks: op(B) above the 32 MiB panel budget is packed
 * and multiplied in column chunks, and k > GEMM_KC (cpu: 2048) runs in launches that
 * accumulate into C, after a first one that must not read C (beta 0, NaN C), each in
 * in-kernel blocks (GEMM_KB) when A is transposed, or B read in place and k >=
 * GEMM_KB_K: the untransposed long k, m off the tile and the work-group, is that case. */
Test(gemm, packed_chunks_and_k_blocks, .timeout = 600)
{
    clnet_context *ctx = clnet_test_device_class(CLNET_CLASS_CPU);
    const clnet__gemm_case wide_b = {0, 1, 9, 2100, 4100, 1.0f, 1.0f, 1, 2, 3, 0, 1, 0, 0};
    const clnet__gemm_case long_k = {1, 0, 300, 40, 4100, 0.5f, 0.0f, 0, 0, 0, 3, 0, 1, 1};
    check(ctx, CLNET_GEMM_PACKED, &wide_b, 11);
    check(ctx, CLNET_GEMM_PACKED, &long_k, 12);
    const clnet__gemm_case long_k_nn = {0, 0, 49, 70, 4609, 1.0f, 0.0f, 2, 0, 1, 1, 0, 0, 1};
    check(ctx, CLNET_GEMM_PACKED, &long_k_nn, 13);
}

/* The largest error of row i of C (n columns) against a double product of A (k columns)
 * and B (rows of ldb), relative to the sum of |a*b|; NaN when C is. */
static double row_error(const float *a, const float *b, int ldb, const float *c, int n, int k,
                        int i)
{
    double worst = 0.0;
    for (int j = 0; j < n; ++j) {
        double want = 0.0, mag = 0.0;
        for (int p = 0; p < k; ++p) {
            want += (double)a[(size_t)i * k + p] * b[(size_t)p * ldb + j];
            mag += fabs((double)a[(size_t)i * k + p] * b[(size_t)p * ldb + j]);
        }
        const double err = fabs(c[(size_t)i * n + j] - want) / (mag + 1e-7);
        worst = err > worst || isnan(err) ? err : worst;
    }
    return worst;
}

/* A ResNet 3x3 convolution at batch 32 as one GEMM (m = 32*56*56, k = 576): sampled
 * rows of C against a double dot product. */
Test(gemm, packed_large_m, .timeout = 600)
{
    clnet_context *ctx = clnet_test_device_class(CLNET_CLASS_CPU);
    const int m = 32 * 56 * 56, n = 64, k = 576;
    float *a = clnet_test_random((size_t)m * k, 21), *b = clnet_test_random((size_t)k * n, 22);
    float *c = malloc((size_t)m * n * sizeof *c);
    cr_assert_not_null(c);
    clnet_tensor *ta = NULL, *tb = NULL, *tc = NULL;
    cr_assert_eq(clnet_tensor_create(ctx, (clnet_shape){1, 1, m, k}, &ta), CLNET_OK);
    cr_assert_eq(clnet_tensor_create(ctx, (clnet_shape){1, 1, k, n}, &tb), CLNET_OK);
    cr_assert_eq(clnet_tensor_create(ctx, (clnet_shape){1, 1, m, n}, &tc), CLNET_OK);
    cr_assert_eq(clnet_tensor_write(ta, a, (size_t)m * k), CLNET_OK);
    cr_assert_eq(clnet_tensor_write(tb, b, (size_t)k * n), CLNET_OK);
    const clnet__gemm_args g = {0, 0,       m, n, k,       1.0f, 0.0f, ta->buf, 0,
                                k, tb->buf, 0, n, tc->buf, 0,    n,    NULL};
    clnet_status st = clnet__gemm_with(ctx, CLNET_GEMM_PACKED, &g);
    cr_assert_eq(st, CLNET_OK, "%s: %s", clnet_status_string(st), clnet_context_error(ctx));
    cr_assert_eq(clnet_tensor_read(tc, c, (size_t)m * n), CLNET_OK);
    double worst = 0.0;
    for (int i = 0; i < m; i += i < m - 8 ? 997 : 1)
        worst = fmax(worst, row_error(a, b, n, c, n, k, i));
    cr_expect(worst <= 1e-5, "max error relative to sum |a*b|: %.3g", worst);
    clnet_tensor_destroy(ta);
    clnet_tensor_destroy(tb);
    clnet_tensor_destroy(tc);
    free(a);
    free(b);
    free(c);
}

/* Inference weights are packed on the host (clnet__gemm_prepack) into the panels the
 * packed kernel reads: odd n (a partial panel) and k (padded to 4), a B whose rows are
 * longer than n with NaN past it, and no B at run time, only its panels. */
Test(gemm, prepacked_on_the_host, .timeout = 600)
{
    clnet_context *ctx = clnet_test_device_class(CLNET_CLASS_CPU);
    const int shapes[][3] = {{13, 37, 13}, {3, 64, 8}, {1, 100, 70}, {9, 33, 1}, {20, 5, 6}};
    for (size_t t = 0; t < CLNET_COUNTOF(shapes); ++t) {
        const int m = shapes[t][0], n = shapes[t][1], k = shapes[t][2], ldb = n + 5;
        float *a = clnet_test_random((size_t)m * k, 31 + t),
              *b = clnet_test_random((size_t)k * ldb, 41 + t);
        float *c = malloc((size_t)m * n * sizeof *c);
        cr_assert_not_null(c);
        for (int p = 0; p < k; ++p)
            for (int j = n; j < ldb; ++j)
                b[(size_t)p * ldb + j] = NAN;
        clnet__gemm_args g = {
            .m = m, .n = n, .k = k, .alpha = 1.0f, .lda = k, .ldb = ldb, .ldc = n};
        clnet__gemm_plan gp;
        clnet__gemm_prepare_with(ctx, &g, CLNET_GEMM_PACKED, NULL, &gp);
        const size_t bytes = clnet__gemm_plan_prepack(&gp);
        cr_assert_gt(bytes, 0, "%dx%dx%d: no prepacked plan", m, n, k);
        float *packed = malloc(bytes);
        cr_assert_not_null(packed);
        cr_assert_eq(clnet__gemm_prepack(ctx, &gp, b, ldb, packed), CLNET_OK, "%s",
                     clnet_context_error(ctx));
        clnet_tensor *ta = NULL, *tc = NULL, *tp = NULL;
        cr_assert_eq(clnet_tensor_create(ctx, (clnet_shape){1, 1, m, k}, &ta), CLNET_OK);
        cr_assert_eq(clnet_tensor_create(ctx, (clnet_shape){1, 1, m, n}, &tc), CLNET_OK);
        cr_assert_eq(clnet_tensor_create(ctx, (clnet_shape){1, 1, 1, (int)(bytes / 4)}, &tp),
                     CLNET_OK);
        cr_assert_eq(clnet_tensor_write(ta, a, (size_t)m * k), CLNET_OK);
        cr_assert_eq(clnet_tensor_write(tp, packed, bytes / 4), CLNET_OK);
        g.a = ta->buf;
        g.c = tc->buf;
        clnet__scratch s;
        size_t none[CLNET_SCRATCH_COUNT] = {0};
        cr_assert_eq(clnet__scratch_create(ctx, none, &s), CLNET_OK);
        clnet_status st = clnet__gemm_run_with(ctx, &gp, &s, &g, NULL, tp->buf);
        cr_assert_eq(st, CLNET_OK, "%dx%dx%d: %s", m, n, k, clnet_context_error(ctx));
        cr_assert_eq(clnet_tensor_read(tc, c, (size_t)m * n), CLNET_OK);
        double worst = 0.0;
        for (int i = 0; i < m; ++i) {
            const double e = row_error(a, b, ldb, c, n, k, i);
            worst = e > worst || isnan(e) ? e : worst;
        }
        cr_expect(worst <= 1e-5, "%dx%dx%d: max error relative to sum |a*b|: %.3g", m, n, k, worst);
        clnet__scratch_release(&s);
        clnet_tensor_destroy(ta);
        clnet_tensor_destroy(tc);
        clnet_tensor_destroy(tp);
        free(a);
        free(b);
        free(c);
        free(packed);
    }
}

Test(gemm, bad_leading_dimension_is_invalid_arg)
{
    clnet_context *ctx = clnet_test_device_class(CLNET_CLASS_CPU);
    cl_mem buf = NULL;
    cr_assert_eq(clnet__buffer(ctx, 64 * sizeof(float), "test", &buf), CLNET_OK);
    /* op(A) is 4x5 untransposed: lda must be at least 5. */
    const clnet__gemm_args g = {0, 0, 4, 3, 5, 1.0f, 0.0f, buf, 0, 4, buf, 0, 3, buf, 0, 3, NULL};
    for (int impl = CLNET_GEMM_AUTO; impl < CLNET_GEMM_IMPL_COUNT; ++impl) {
        clnet_status st = clnet__gemm_with(ctx, (clnet__gemm_impl)impl, &g);
        cr_expect_eq(st, CLNET_ERR_INVALID_ARG, "%s: %s", clnet__gemm_impl_name(impl),
                     clnet_status_string(st));
        cr_expect(strstr(clnet_context_error(ctx), "lda=4") != NULL, "message: %s",
                  clnet_context_error(ctx));
    }
    clnet__gemm_args t = g;
    t.trans_b = 1; /* op(B) 5x3 stored as 3x5: ldb 3 < 5 */
    t.lda = 5;
    cr_expect_eq(clnet__gemm_with(ctx, CLNET_GEMM_AUTO, &t), CLNET_ERR_INVALID_ARG);
    cr_expect(strstr(clnet_context_error(ctx), "ldb=3") != NULL, "message: %s",
              clnet_context_error(ctx));
    t.trans_b = 0;
    t.m = -1;
    cr_expect_eq(clnet__gemm_with(ctx, CLNET_GEMM_AUTO, &t), CLNET_ERR_INVALID_ARG);
    clReleaseMemObject(buf);
}

Test(gemm, class_choice)
{
    cr_expect_eq(clnet__gemm_choice(clnet_test_device_class(CLNET_CLASS_DGPU)), CLNET_GEMM_CLBLAST);
    cr_expect_eq(clnet__gemm_choice(clnet_test_device_class(CLNET_CLASS_IGPU)), CLNET_GEMM_CLBLAST);
    cr_expect_eq(clnet__gemm_choice(clnet_test_device_class(CLNET_CLASS_CPU)), CLNET_GEMM_PACKED);
}

/* The shape-aware choice: gemv for small m on the CPU class; CLBlast (Sgemv) on GPU
 * classes; the class choice for larger m. */
Test(gemm, shape_pick)
{
    clnet__gemm_args g;
    memset(&g, 0, sizeof g);
    g.n = 1000;
    g.k = 2048;
    g.m = 1;
    clnet_context *cpu = clnet_test_device_class(CLNET_CLASS_CPU);
    clnet_context *dgpu = clnet_test_device_class(CLNET_CLASS_DGPU);
    clnet__gemm_plan gp;
    clnet__gemm_prepare(cpu, &g, &gp);
    cr_expect_eq(gp.impl, CLNET_GEMM_GEMV);
    clnet__gemm_prepare(dgpu, &g, &gp);
    cr_expect_eq(gp.impl, CLNET_GEMM_CLBLAST);
    g.m = 256;
    clnet__gemm_prepare(cpu, &g, &gp);
    cr_expect_eq(gp.impl, CLNET_GEMM_PACKED);
    clnet__gemm_prepare(dgpu, &g, &gp);
    cr_expect_eq(gp.impl, CLNET_GEMM_CLBLAST);
}

/* Known values: [1 2; 3 4] * [5 6; 7 8] = [19 22; 43 50], then k = 0 leaves beta*C. */
Test(gemm, known_values_and_empty_k)
{
    clnet_context *ctx = clnet_test_device_class(CLNET_CLASS_CPU);
    const float ab[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    for (int impl = CLNET_GEMM_CLBLAST; impl < CLNET_GEMM_IMPL_COUNT; ++impl) {
        clnet_tensor *tab = NULL, *tc = NULL;
        cr_assert_eq(clnet_tensor_create(ctx, (clnet_shape){1, 1, 1, 8}, &tab), CLNET_OK);
        cr_assert_eq(clnet_tensor_create(ctx, (clnet_shape){1, 1, 1, 4}, &tc), CLNET_OK);
        cr_assert_eq(clnet_tensor_write(tab, ab, 8), CLNET_OK);
        clnet__gemm_args g = {0, 0,        2, 2, 2,       1.0f, 0.0f, tab->buf, 0,
                              2, tab->buf, 4, 2, tc->buf, 0,    2,    NULL};
        cr_assert_eq(clnet__gemm_with(ctx, (clnet__gemm_impl)impl, &g), CLNET_OK, "%s",
                     clnet_context_error(ctx));
        float c[4];
        cr_assert_eq(clnet_tensor_read(tc, c, 4), CLNET_OK);
        cr_expect(c[0] == 19 && c[1] == 22 && c[2] == 43 && c[3] == 50, "%s: %g %g %g %g",
                  clnet__gemm_impl_name(impl), c[0], c[1], c[2], c[3]);
        g.k = 0;
        g.beta = 2.0f;
        cr_assert_eq(clnet__gemm_with(ctx, (clnet__gemm_impl)impl, &g), CLNET_OK, "%s",
                     clnet_context_error(ctx));
        cr_assert_eq(clnet_tensor_read(tc, c, 4), CLNET_OK);
        cr_expect(c[0] == 38 && c[1] == 44 && c[2] == 86 && c[3] == 100, "%s, k = 0: %g %g %g %g",
                  clnet__gemm_impl_name(impl), c[0], c[1], c[2], c[3]);
        clnet_tensor_destroy(tab);
        clnet_tensor_destroy(tc);
    }
}
