/* check.c - runs any op against its plain C reference: device forward (each mode)
 * and backward against src/ref/, and the reference's own backward against central
 * finite differences. Used by the tests (tests/ops/) and `clnet selftest`. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/op.h"
#include "tensor/rng.h"

/* Host (double) and device copies of everything one case touches. */
typedef struct bundle {
    const clnet__op_desc *op;
    void *params;
    int n_in, n_w, n_saved;
    clnet_shape in_shape[CLNET_MAX_INPUTS], out_shape, w_shape[CLNET_MAX_WEIGHTS],
        saved_shape[CLNET_MAX_SAVED];
    clnet__weight_desc wd[CLNET_MAX_WEIGHTS];
    double *in[CLNET_MAX_INPUTS], *w[CLNET_MAX_WEIGHTS], *w0[CLNET_MAX_WEIGHTS], *out, *dout,
        *din[CLNET_MAX_INPUTS], *dw[CLNET_MAX_WEIGHTS];
    clnet_tensor *t_in[CLNET_MAX_INPUTS], *t_w[CLNET_MAX_WEIGHTS], *t_saved[CLNET_MAX_SAVED],
        *t_out, *t_dout, *t_din[CLNET_MAX_INPUTS], *t_dw[CLNET_MAX_WEIGHTS];
    clnet__op_alone alone; /* the op prepared for training (both directions) */
} bundle;

/* Targets (input 1) and row weights (input 2) of a loss get no gradient. */
static int wants_din(const bundle *b, int i)
{
    return !(i >= 1 && (b->op->flags & CLNET_OP_LABELS_INPUT1));
}

static double *dalloc(size_t n)
{
    return calloc(n ? n : 1, sizeof(double));
}

static void bundle_free(bundle *b)
{
    free(b->params);
    for (int i = 0; i < CLNET_MAX_INPUTS; ++i) {
        free(b->in[i]);
        free(b->din[i]);
        clnet_tensor_destroy(b->t_in[i]);
        clnet_tensor_destroy(b->t_din[i]);
    }
    for (int i = 0; i < CLNET_MAX_WEIGHTS; ++i) {
        free(b->w[i]);
        free(b->w0[i]);
        free(b->dw[i]);
        clnet_tensor_destroy(b->t_w[i]);
        clnet_tensor_destroy(b->t_dw[i]);
    }
    for (int i = 0; i < CLNET_MAX_SAVED; ++i)
        clnet_tensor_destroy(b->t_saved[i]);
    free(b->out);
    free(b->dout);
    clnet_tensor_destroy(b->t_out);
    clnet_tensor_destroy(b->t_dout);
    clnet__op_alone_release(&b->alone);
}

/* Values are drawn as floats and kept in double, so device and reference see the
 * very same numbers. */
static void fill_uniform(clnet__rng *r, double *x, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; ++i)
        x[i] = (double)(float)(lo + (hi - lo) * clnet__rng_uniform(r));
}

/* One-hot rows (labels for losses): rows of c classes. */
static void fill_one_hot(clnet__rng *r, double *x, clnet_shape s)
{
    size_t rows = (size_t)s.n * s.h * s.w;
    memset(x, 0, rows * (size_t)s.c * sizeof *x);
    for (size_t i = 0; i < rows; ++i)
        x[i * (size_t)s.c + clnet__rng_next(r) % (uint64_t)s.c] = 1.0;
}

static clnet_status bundle_make(clnet_context *ctx, const clnet__op_desc *op,
                                const clnet__op_case *c, uint64_t seed, bundle *b)
{
    memset(b, 0, sizeof *b);
    b->op = op;
    char where[96];
    snprintf(where, sizeof where, "%s case", op->name);
    CLNET_TRY(clnet__op_parse(ctx, op, c->params, where, &b->params));
    b->n_in = c->n_in;
    if (b->n_in < op->min_inputs || b->n_in > op->max_inputs || b->n_in > CLNET_MAX_INPUTS)
        return clnet__fail(ctx, CLNET_ERR_INVALID_ARG, "%s: a case with %d inputs", op->name,
                           b->n_in);
    for (int i = 0; i < b->n_in; ++i)
        b->in_shape[i] = c->in[i];
    CLNET_TRY(op->infer(ctx, b->params, b->in_shape, b->n_in, &b->out_shape));
    b->n_w = op->weights ? op->weights(b->params, b->in_shape, b->n_in, b->wd) : 0;
    b->n_saved = op->saved ? op->saved(b->params, b->in_shape, b->n_in, b->saved_shape) : 0;

    clnet__rng r;
    clnet__rng_seed(&r, seed);
    const double scale = c->scale > 0.0f ? c->scale : 1.0;
    for (int i = 0; i < b->n_in; ++i) {
        size_t n = clnet__shape_count(b->in_shape[i]);
        if (!(b->in[i] = dalloc(n)) || !(b->din[i] = dalloc(n)))
            return clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
        if (!wants_din(b, i) && i == 1)
            fill_one_hot(&r, b->in[i], b->in_shape[i]);
        else if (!wants_din(b, i))
            fill_uniform(&r, b->in[i], n, 0.0, 3.0); /* row weights: not negative */
        else
            fill_uniform(&r, b->in[i], n, -scale, scale);
    }
    for (int i = 0; i < b->n_w; ++i) {
        b->w_shape[i] = b->wd[i].shape;
        size_t n = clnet__shape_count(b->w_shape[i]);
        if (!(b->w[i] = dalloc(n)) || !(b->w0[i] = dalloc(n)) || !(b->dw[i] = dalloc(n)))
            return clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
        double lo = b->wd[i].test_lo, hi = b->wd[i].test_hi;
        if (!(lo < hi)) {
            lo = -1.0;
            hi = 1.0;
        }
        fill_uniform(&r, b->w0[i], n, lo, hi);
        memcpy(b->w[i], b->w0[i], n * sizeof(double));
    }
    size_t n_out = clnet__shape_count(b->out_shape);
    if (!(b->out = dalloc(n_out)) || !(b->dout = dalloc(n_out)))
        return clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    fill_uniform(&r, b->dout, n_out, -1.0, 1.0);
    return CLNET_OK;
}

static clnet__ref_args ref_args(bundle *b, int training, uint64_t seed)
{
    clnet__ref_args a;
    memset(&a, 0, sizeof a);
    a.params = b->params;
    a.n_in = b->n_in;
    a.in_shape = b->in_shape;
    a.in = (const double *const *)b->in;
    a.out_shape = b->out_shape;
    a.out = b->out;
    a.n_w = b->n_w;
    a.w_shape = b->w_shape;
    a.w = b->w;
    a.training = training;
    a.seed = seed;
    a.dout = b->dout;
    a.din = b->din;
    a.dw = b->dw;
    return a;
}

static clnet_status upload(clnet_context *ctx, clnet_tensor **t, clnet_shape s, const double *src)
{
    size_t n = clnet__shape_count(s);
    if (!*t)
        CLNET_TRY(clnet_tensor_create(ctx, s, t));
    if (!src)
        return CLNET_OK;
    float *f = malloc(n * sizeof *f);
    if (!f)
        return clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    for (size_t i = 0; i < n; ++i)
        f[i] = (float)src[i];
    clnet_status st = clnet_tensor_write(*t, f, n);
    free(f);
    return st;
}

/* Folds the difference of a device tensor and a reference array into row. */
static clnet_status compare(clnet_tensor *t, const double *want, clnet__check_row *row)
{
    size_t n = t->count;
    float *got = malloc(n * sizeof *got);
    if (!got)
        return clnet__fail(t->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    clnet_status st = clnet_tensor_read(t, got, n);
    if (st == CLNET_OK) {
        double ss = 0.0;
        for (size_t i = 0; i < n; ++i)
            ss += want[i] * want[i];
        const double rms = sqrt(ss / (double)(n ? n : 1));
        for (size_t i = 0; i < n; ++i) {
            double d = fabs((double)got[i] - want[i]);
            if (isnan(got[i]) != isnan(want[i]) || isinf(got[i]))
                d = INFINITY;
            const double rel = d / (fabs(want[i]) + rms + 1e-7);
            if (d > row->max_abs)
                row->max_abs = d;
            if (rel > row->max_rel || isnan(rel))
                row->max_rel = isnan(rel) ? INFINITY : rel;
        }
    }
    free(got);
    return st;
}

static void report_row(clnet__check_row *row, double rtol, const clnet__op_desc *op,
                       const clnet__op_case *c, clnet__check_fn report, void *user, int *failed)
{
    row->passed = row->max_rel <= rtol;
    if (!row->passed)
        ++*failed;
    if (report)
        report(user, op, c, row);
}

/* A call of the bundle's op on its tensors, as prepared. */
static clnet__op_call bundle_call(clnet_context *ctx, bundle *b, int training, uint64_t seed)
{
    return (clnet__op_call){.ctx = ctx,
                            .params = b->params,
                            .n_in = b->n_in,
                            .in = b->t_in,
                            .out = b->t_out,
                            .n_w = b->n_w,
                            .w = b->t_w,
                            .saved = b->t_saved,
                            .training = training,
                            .seed = seed,
                            .exec = &b->alone.exec,
                            .scratch = &b->alone.scratch};
}

static clnet_status run_forward(clnet_context *ctx, bundle *b, int training, uint64_t seed,
                                clnet__check_row *row)
{
    /* Fresh weights each mode: training forward updates the moving statistics. */
    for (int i = 0; i < b->n_w; ++i) {
        memcpy(b->w[i], b->w0[i], clnet__shape_count(b->w_shape[i]) * sizeof(double));
        CLNET_TRY(upload(ctx, &b->t_w[i], b->w_shape[i], b->w0[i]));
    }
    for (int i = 0; i < b->n_saved; ++i)
        CLNET_TRY(upload(ctx, &b->t_saved[i], b->saved_shape[i], NULL));
    CLNET_TRY(upload(ctx, &b->t_out, b->out_shape, NULL));
    const clnet__op_call call = bundle_call(ctx, b, training, seed);
    CLNET_TRY(b->op->forward(&call));
    clnet__ref_args a = ref_args(b, training, seed);
    b->op->ref_forward(&a);
    CLNET_TRY(compare(b->t_out, b->out, row));
    for (int i = 0; i < b->n_w; ++i)
        if (!b->wd[i].trainable)
            CLNET_TRY(compare(b->t_w[i], b->w[i], row));
    return CLNET_OK;
}

static clnet_status run_backward(clnet_context *ctx, bundle *b, uint64_t seed,
                                 clnet__check_row *row)
{
    CLNET_TRY(upload(ctx, &b->t_dout, b->out_shape, b->dout));
    clnet_tensor *din[CLNET_MAX_INPUTS] = {0}, *dw[CLNET_MAX_WEIGHTS] = {0};
    for (int i = 0; i < b->n_in; ++i) {
        if (!wants_din(b, i))
            continue;
        CLNET_TRY(upload(ctx, &b->t_din[i], b->in_shape[i], NULL));
        /* Poison: a kernel that skips elements shows up as NaN. */
        CLNET_TRY(clnet_tensor_fill(b->t_din[i], NAN));
        din[i] = b->t_din[i];
    }
    for (int i = 0; i < b->n_w; ++i) {
        if (!b->wd[i].trainable)
            continue;
        CLNET_TRY(upload(ctx, &b->t_dw[i], b->w_shape[i], NULL));
        CLNET_TRY(clnet_tensor_fill(b->t_dw[i], NAN));
        dw[i] = b->t_dw[i];
    }
    clnet__op_call call = bundle_call(ctx, b, 1, seed);
    call.dout = b->t_dout;
    call.din = din;
    call.dw = dw;
    CLNET_TRY(b->op->backward(&call));
    double *ref_din[CLNET_MAX_INPUTS] = {0}, *ref_dw[CLNET_MAX_WEIGHTS] = {0};
    for (int i = 0; i < b->n_in; ++i)
        ref_din[i] = din[i] ? b->din[i] : NULL;
    for (int i = 0; i < b->n_w; ++i)
        ref_dw[i] = dw[i] ? b->dw[i] : NULL;
    clnet__ref_args a = ref_args(b, 1, seed);
    a.din = ref_din;
    a.dw = ref_dw;
    b->op->ref_backward(&a);
    for (int i = 0; i < b->n_in; ++i)
        if (din[i])
            CLNET_TRY(compare(din[i], b->din[i], row));
    for (int i = 0; i < b->n_w; ++i)
        if (dw[i])
            CLNET_TRY(compare(dw[i], b->dw[i], row));
    return CLNET_OK;
}

clnet_status clnet__op_check(clnet_context *ctx, const clnet__op_desc *op, const clnet__op_case *c,
                             uint64_t seed, double rtol, clnet__check_fn report, void *user,
                             int *failed)
{
    bundle b;
    clnet_status st = bundle_make(ctx, op, c, seed, &b);
    if (st == CLNET_OK)
        st = clnet__op_alone_prepare(ctx, op, b.params, b.in_shape, b.n_in, 1, &b.alone);
    for (int i = 0; st == CLNET_OK && i < b.n_in; ++i)
        st = upload(ctx, &b.t_in[i], b.in_shape[i], b.in[i]);
    const uint64_t step_seed = seed * 7919u + 17u;
    if (st == CLNET_OK && (op->flags & CLNET_OP_MODE_DEPENDENT)) {
        clnet__check_row row = {"forward-inference", 0.0, 0.0, 0};
        st = run_forward(ctx, &b, 0, step_seed, &row);
        if (st == CLNET_OK)
            report_row(&row, rtol, op, c, report, user, failed);
    }
    if (st == CLNET_OK) {
        clnet__check_row row = {"forward", 0.0, 0.0, 0};
        st = run_forward(ctx, &b, 1, step_seed, &row);
        if (st == CLNET_OK)
            report_row(&row, rtol, op, c, report, user, failed);
    }
    if (st == CLNET_OK) {
        clnet__check_row row = {"backward", 0.0, 0.0, 0};
        st = run_backward(ctx, &b, step_seed, &row);
        if (st == CLNET_OK)
            report_row(&row, rtol, op, c, report, user, failed);
    }
    bundle_free(&b);
    return st;
}

/* L = sum(out * dout) with the moving statistics reset first. */
static double objective(bundle *b, uint64_t seed)
{
    for (int i = 0; i < b->n_w; ++i)
        if (!b->wd[i].trainable)
            memcpy(b->w[i], b->w0[i], clnet__shape_count(b->w_shape[i]) * sizeof(double));
    clnet__ref_args a = ref_args(b, 1, seed);
    b->op->ref_forward(&a);
    double l = 0.0;
    for (size_t i = 0, n = clnet__shape_count(b->out_shape); i < n; ++i)
        l += b->out[i] * b->dout[i];
    return l;
}

/* Compares analytic gradients ana[] of x[] (n values) with central differences at
 * up to 40 evenly spread coordinates. */
static void fd_tensor(bundle *b, double *x, const double *ana, size_t n, uint64_t seed,
                      clnet__check_row *row)
{
    double ss = 0.0;
    for (size_t i = 0; i < n; ++i)
        ss += ana[i] * ana[i];
    const double rms = sqrt(ss / (double)(n ? n : 1));
    const size_t step = n > 40 ? n / 40 : 1;
    for (size_t i = step / 2; i < n; i += step) {
        const double keep = x[i], eps = 1e-6 * (fabs(keep) > 1.0 ? fabs(keep) : 1.0);
        x[i] = keep + eps;
        const double lp = objective(b, seed);
        x[i] = keep - eps;
        const double lm = objective(b, seed);
        x[i] = keep;
        const double num = (lp - lm) / (2.0 * eps), d = fabs(num - ana[i]);
        const double rel = d / (fabs(ana[i]) + rms + 1e-6);
        if (d > row->max_abs)
            row->max_abs = d;
        if (rel > row->max_rel || isnan(rel))
            row->max_rel = isnan(rel) ? INFINITY : rel;
    }
}

clnet_status clnet__op_gradcheck(clnet_context *ctx, const clnet__op_desc *op,
                                 const clnet__op_case *c, uint64_t seed, clnet__check_fn report,
                                 void *user, int *failed)
{
    bundle b;
    clnet_status st = bundle_make(ctx, op, c, seed, &b);
    if (st == CLNET_OK) {
        const uint64_t step_seed = seed * 7919u + 17u;
        objective(&b, step_seed);
        clnet__ref_args a = ref_args(&b, 1, step_seed);
        double *din[CLNET_MAX_INPUTS] = {0}, *dw[CLNET_MAX_WEIGHTS] = {0};
        for (int i = 0; i < b.n_in; ++i)
            din[i] = wants_din(&b, i) ? b.din[i] : NULL;
        for (int i = 0; i < b.n_w; ++i)
            dw[i] = b.wd[i].trainable ? b.dw[i] : NULL;
        a.din = din;
        a.dw = dw;
        op->ref_backward(&a);
        clnet__check_row row = {"gradient", 0.0, 0.0, 0};
        for (int i = 0; i < b.n_in; ++i)
            if (din[i])
                fd_tensor(&b, b.in[i], din[i], clnet__shape_count(b.in_shape[i]), step_seed, &row);
        for (int i = 0; i < b.n_w; ++i)
            if (dw[i]) {
                /* The objective resets only moving statistics: perturb the live copy. */
                fd_tensor(&b, b.w[i], dw[i], clnet__shape_count(b.w_shape[i]), step_seed, &row);
            }
        report_row(&row, 1e-4, op, c, report, user, failed);
    }
    bundle_free(&b);
    return st;
}
