/* test_reduce.c - clnet__reduce_rows and clnet__reduce_groups (src/ops/reduce.c) against double
 * sums on every class: odd shapes, one row, one column, many rows (several blocks), offsets. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/reduce.h"
#include "support/support.h"
#include "tensor/tensor.h"

typedef struct reduce_case {
    int rows, cols;
    int x_off, out_off;
} reduce_case;

static const reduce_case cases[] = {
    {1, 1, 0, 0},     {1, 37, 3, 1},    {37, 1, 0, 5},    {3, 16, 0, 0},    {257, 17, 7, 2},
    {1000, 33, 1, 0}, {50000, 3, 2, 3}, {50000, 1, 0, 0}, {4099, 64, 0, 0}, {0, 5, 0, 1},
};

/* Runs one case twice; checks the sums, that nothing around them changed, and that
 * both runs agree bit for bit. */
static void check_case(clnet_context *ctx, const reduce_case *k, const char *cls)
{
    const size_t nx = (size_t)k->x_off + (size_t)k->rows * k->cols + 1;
    const size_t nout = (size_t)k->out_off + (size_t)k->cols + 2;
    float *x = clnet_test_random(nx, 77u + (uint64_t)k->rows);
    float *got = malloc(nout * sizeof *got), *again = malloc(nout * sizeof *again);
    cr_assert(got && again);
    clnet_tensor *tx = NULL, *tout = NULL;
    cr_assert_eq(clnet_tensor_create(ctx, (clnet_shape){1, 1, 1, (int)nx}, &tx), CLNET_OK);
    cr_assert_eq(clnet_tensor_create(ctx, (clnet_shape){1, 1, 1, (int)nout}, &tout), CLNET_OK);
    cr_assert_eq(clnet_tensor_write(tx, x, nx), CLNET_OK);
    /* Exactly the scratch the prepare steps would plan: more would be a failure. */
    size_t bytes[CLNET_SCRATCH_COUNT] = {0};
    bytes[CLNET_SCRATCH_REDUCE] = clnet__reduce_rows_scratch(ctx, k->rows, k->cols);
    clnet__scratch s;
    cr_assert_eq(clnet__scratch_create(ctx, bytes, &s), CLNET_OK);
    for (int run = 0; run < 2; ++run) {
        cr_assert_eq(clnet_tensor_fill(tout, -3.0f), CLNET_OK);
        clnet_status st = clnet__reduce_rows(ctx, &s, tx->buf, (size_t)k->x_off, k->rows, k->cols,
                                             tout->buf, (size_t)k->out_off);
        cr_assert_eq(st, CLNET_OK, "%s: %s", clnet_status_string(st), clnet_context_error(ctx));
        cr_assert_eq(clnet_tensor_read(tout, run ? again : got, nout), CLNET_OK);
    }
    double *want = calloc((size_t)k->cols + 1, sizeof *want), ss = 0.0;
    cr_assert_not_null(want);
    for (int r = 0; r < k->rows; ++r)
        for (int c = 0; c < k->cols; ++c)
            want[c] += x[(size_t)k->x_off + (size_t)r * k->cols + c];
    for (int c = 0; c < k->cols; ++c)
        ss += want[c] * want[c];
    const double rms = sqrt(ss / (k->cols ? k->cols : 1));
    for (size_t i = 0; i < nout; ++i) {
        const int c = (int)i - k->out_off;
        if (c < 0 || c >= k->cols) {
            cr_expect_eq(got[i], -3.0f, "[%s] %dx%d: out[%zu] outside the sums changed to %g", cls,
                         k->rows, k->cols, i, (double)got[i]);
            continue;
        }
        const double err = fabs((double)got[i] - want[c]) / (fabs(want[c]) + rms + 1e-7);
        cr_expect(err <= 1e-5, "[%s] %dx%d: column %d got %.9g want %.9g (rel %.3g)", cls, k->rows,
                  k->cols, c, (double)got[i], want[c], err);
    }
    cr_expect(memcmp(got, again, nout * sizeof *got) == 0, "[%s] %dx%d: runs differ", cls, k->rows,
              k->cols);
    clnet_tensor_destroy(tx);
    clnet_tensor_destroy(tout);
    clnet__scratch_release(&s);
    free(x);
    free(got);
    free(again);
    free(want);
}

ParameterizedTestParameters(reduce, rows_match_double_sums)
{
    return cr_make_param_array(clnet_device_class, (void *)clnet_test_classes, 3);
}

ParameterizedTest(clnet_device_class *cls, reduce, rows_match_double_sums)
{
    clnet_context *ctx = clnet_test_device_class(*cls);
    for (size_t i = 0; i < CLNET_COUNTOF(cases); ++i)
        check_case(ctx, &cases[i], clnet_device_class_name(*cls));
}

Test(reduce, rejects_negative_sizes)
{
    clnet_context *ctx = clnet_test_device();
    clnet_tensor *t = NULL;
    cr_assert_eq(clnet_tensor_create(ctx, (clnet_shape){1, 1, 1, 4}, &t), CLNET_OK);
    cr_expect_eq(clnet__reduce_rows(ctx, NULL, t->buf, 0, -1, 4, t->buf, 0), CLNET_ERR_INVALID_ARG);
    cr_expect(strstr(clnet_context_error(ctx), "-1 rows") != NULL, "%s", clnet_context_error(ctx));
    clnet_tensor_destroy(t);
}

/* clnet__reduce_groups: groups x cols sums of rows each (a squeeze-and-excitation gradient
 * of 3 images of 7x5 pixels x 17 channels, 30 groups of 17 channels, one big group) against
 * double sums; with no scratch at all. */
CLNET_TEST_CLASS_PARAMS(reduce, groups_match_double_sums)
ParameterizedTest(clnet_device_class *cls, reduce, groups_match_double_sums)
{
    clnet_context *ctx = clnet_test_device_class(*cls);
    const int forms[3][3] = {{3, 35, 17}, {30, 17, 1}, {1, 2000, 5}};
    for (int f = 0; f < 3; ++f) {
        const int groups = forms[f][0], rows = forms[f][1], cols = forms[f][2];
        const size_t n = (size_t)groups * rows * cols, nout = (size_t)groups * cols;
        float *x = clnet_test_random(n, 5u + (uint64_t)f), *got = malloc(nout * sizeof *got);
        cr_assert_not_null(got);
        clnet_tensor *tx = clnet_test_tensor(ctx, (clnet_shape){1, 1, 1, (int)n}, x);
        clnet_tensor *tout = clnet_test_tensor(ctx, (clnet_shape){1, 1, 1, (int)nout}, NULL);
        cr_assert_eq(clnet__reduce_groups(ctx, tx->buf, groups, rows, cols, tout->buf), CLNET_OK,
                     "%s", clnet_context_error(ctx));
        clnet_test_read(tout, got);
        for (int g = 0; g < groups; ++g)
            for (int c = 0; c < cols; ++c) {
                double want = 0.0;
                for (int r = 0; r < rows; ++r)
                    want += x[((size_t)g * rows + r) * cols + c];
                cr_expect(fabs(got[g * cols + c] - want) <= 1e-5 * (1.0 + fabs(want)),
                          "%dx%dx%d: group %d column %d got %.9g want %.9g", groups, rows, cols, g,
                          c, (double)got[g * cols + c], want);
            }
        clnet_tensor_destroy(tx);
        clnet_tensor_destroy(tout);
        free(x);
        free(got);
    }
}
