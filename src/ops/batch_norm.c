/* batch_norm.c - Keras BatchNormalization over the channel axis, with the fused
 * activation the scheduler uses in training (normalize + scale + shift + activation; an
 * activation whose backward reads the pre-activation gets it recomputed from x, the
 * statistics, gamma and beta, so nothing more is kept).
 * Kernels: cl/batch_norm.cl. Reference: src/ref/batch_norm.c.
 * Tests: tests/ops/test_batch_norm.c. */
#include <stdlib.h>
#include <string.h>

#include "ops/op.h"
#include "ref/ref.h"

#define PROG "batch_norm"

/* batch_norm_reduce's modes (cl/batch_norm.cl). */
enum { BN_MEAN = 0, BN_VAR = 1, BN_GRAD = 2 };

static clnet_status bn_parse(clnet_context *ctx, clnet__kv *kv, void *params)
{
    clnet__batch_norm_params *p = params;
    double eps = 1e-3, mom = 0.99;
    CLNET_TRY(clnet__kv_float(ctx, kv, "epsilon", 1e-3, &eps));
    if (!(eps > 0.0))
        return clnet__kv_error(ctx, kv, clnet__kv_find(kv, "epsilon"), "epsilon",
                               "must be positive, got %g", eps);
    CLNET_TRY(clnet__kv_float(ctx, kv, "momentum", 0.99, &mom));
    if (mom < 0.0 || mom > 1.0)
        return clnet__kv_error(ctx, kv, clnet__kv_find(kv, "momentum"), "momentum",
                               "must be in [0, 1], got %g", mom);
    CLNET_TRY(clnet__kv_bool(ctx, kv, "unbiased_variance", 0, &p->unbiased));
    CLNET_TRY(clnet__act_parse(ctx, kv, "activation", 0, 0, &p->act));
    p->epsilon = (float)eps;
    p->momentum = (float)mom;
    return CLNET_OK;
}

static clnet_status bn_infer(clnet_context *ctx, const void *params, const clnet_shape *in,
                             int n_in, clnet_shape *out)
{
    (void)params;
    (void)n_in;
    if (in[0].c < 1) {
        char s[48];
        return clnet__fail(ctx, CLNET_ERR_SHAPE, "batch_norm: input %s has no channels",
                           clnet__shape_str(in[0], s, sizeof s));
    }
    *out = in[0];
    return CLNET_OK;
}

/* gamma, beta, moving_mean, moving_variance: Keras's order and initializers. */
static int bn_weights(const void *params, const clnet_shape *in, int n_in, clnet__weight_desc *w)
{
    (void)params;
    (void)n_in;
    const clnet_shape v = {1, 1, 1, in[0].c};
    w[0] = (clnet__weight_desc){"gamma", v, 1, CLNET_INIT_UNIFORM, 1.0f, 1.0f, 0.5f, 1.5f};
    w[1] = (clnet__weight_desc){"beta", v, 1, CLNET_INIT_UNIFORM, 0.0f, 0.0f, -0.5f, 0.5f};
    w[2] = (clnet__weight_desc){"moving_mean", v, 0, CLNET_INIT_UNIFORM, 0.0f, 0.0f, -0.5f, 0.5f};
    w[3] =
        (clnet__weight_desc){"moving_variance", v, 0, CLNET_INIT_UNIFORM, 1.0f, 1.0f, 0.5f, 1.5f};
    return 4;
}

/* Batch mean and invstd, kept from the training forward for backward. */
static int bn_saved(const void *params, const clnet_shape *in, int n_in, clnet_shape *saved)
{
    (void)params;
    (void)n_in;
    saved[0] = saved[1] = (clnet_shape){1, 1, 1, in[0].c};
    return 2;
}

static void bn_describe(const void *params, char *buf, size_t len)
{
    clnet__act_suffix(((const clnet__batch_norm_params *)params)->act, buf, len);
}

static double bn_flops(const void *params, const clnet_shape *in, int n_in, clnet_shape out)
{
    (void)params;
    (void)in;
    (void)n_in;
    return 2.0 * (double)clnet__shape_count(out);
}

static int is_gpu(const clnet_context *ctx)
{
    return clnet__param(ctx, PROG, "CLNET_GPU", 0) != 0;
}

/* Blocks of the two-stage reductions over rows: at least RED_ROWS rows each and at most
 * RED_BLOCKS of them. A function of rows and the class only, so sums repeat exactly. */
static void reduce_plan(const clnet_context *ctx, int rows, int *blocks, int *rpb)
{
    const int min_rows = clnet__param(ctx, PROG, "RED_ROWS", 256);
    const int max_blocks = clnet__param(ctx, PROG, "RED_BLOCKS", 64);
    int b = (rows + min_rows - 1) / min_rows;
    b = b < 1 ? 1 : b > max_blocks ? max_blocks : b;
    *rpb = rows > 0 ? (rows + b - 1) / b : 1;
    *blocks = rows > 0 ? (rows + *rpb - 1) / *rpb : 1;
}

/* What one batch_norm_reduce launch reads: the forward passes x for dy and y (unread). */
typedef struct reduce_src {
    cl_mem x, dy, y, mean, stat;
    int is_var, mode;
} reduce_src;

/* Stage 1 into partial: GPU work-groups of RED_CT x RED_RT, CPU CVEC channels per item. */
static clnet_status reduce(const clnet__op_call *call, const reduce_src *s, int rows, int blocks,
                           int rpb, cl_mem partial)
{
    const clnet__batch_norm_params *p = call->params;
    clnet_context *ctx = call->ctx;
    const int c = call->out->shape.c;
    const clnet_arg args[] = {CLNET_ARG_MEM(s->x),
                              CLNET_ARG_MEM(s->dy),
                              CLNET_ARG_MEM(s->y),
                              CLNET_ARG_MEM(call->w[0]->buf),
                              CLNET_ARG_MEM(call->w[1]->buf),
                              CLNET_ARG_MEM(s->mean),
                              CLNET_ARG_MEM(s->stat),
                              CLNET_ARG_INT(s->is_var),
                              CLNET_ARG_FLOAT(p->epsilon),
                              CLNET_ARG_INT(p->act.id),
                              CLNET_ARG_FLOAT(p->act.alpha),
                              CLNET_ARG_INT(clnet__act_from_input(p->act)),
                              CLNET_ARG_INT(rows),
                              CLNET_ARG_INT(c),
                              CLNET_ARG_INT(rpb),
                              CLNET_ARG_INT(blocks),
                              CLNET_ARG_INT(s->mode),
                              CLNET_ARG_MEM(partial)};
    if (is_gpu(ctx)) {
        const size_t ct = (size_t)clnet__param(ctx, PROG, "RED_CT", 16);
        const size_t rt = (size_t)clnet__param(ctx, PROG, "RED_RT", 4);
        if (ct * rt > ctx->info.max_work_group_size)
            return clnet__fail(ctx, CLNET_ERR_UNSUPPORTED,
                               "batch_norm: work-group %zu x %zu (RED_CT x RED_RT) is above the "
                               "%zu work-items of %s",
                               ct, rt, ctx->info.max_work_group_size, ctx->info.name);
        const size_t global[2] = {(size_t)c, rt * blocks}, local[2] = {ct, rt};
        return clnet__launch_local(ctx, PROG, "batch_norm_reduce", args, (int)CLNET_COUNTOF(args),
                                   2, global, local);
    }
    const size_t cvec = (size_t)clnet__param(ctx, PROG, "CLNET_CVEC", 1);
    const size_t global[2] = {((size_t)c + cvec - 1) / cvec, (size_t)blocks};
    return clnet__launch(ctx, PROG, "batch_norm_reduce", args, (int)CLNET_COUNTOF(args), 2, global);
}

/* Global size of the apply and dx kernels, and the rows a CPU work-item owns (about
 * CLNET_CHUNK elements). */
static size_t apply_global(const clnet_context *ctx, int rows, int c, int *run)
{
    if (is_gpu(ctx)) {
        *run = 1;
        return clnet__chunks(ctx, PROG, (size_t)rows * (size_t)c);
    }
    const int chunk = clnet__param(ctx, PROG, "CLNET_CHUNK", 1);
    *run = chunk / c > 1 ? chunk / c : 1;
    return ((size_t)rows + (size_t)*run - 1) / (size_t)*run;
}

/* y = act(gamma * (x - mean) * inv + beta); stat is invstd, or a variance when is_var. */
static clnet_status apply(const clnet__op_call *call, cl_mem mean, cl_mem stat, int is_var)
{
    const clnet__batch_norm_params *p = call->params;
    const clnet_shape s = call->out->shape;
    const int rows = s.n * s.h * s.w;
    int run = 1;
    const size_t global[1] = {apply_global(call->ctx, rows, s.c, &run)};
    const clnet_arg args[] = {CLNET_ARG_MEM(call->in[0]->buf),
                              CLNET_ARG_MEM(call->out->buf),
                              CLNET_ARG_MEM(call->w[0]->buf),
                              CLNET_ARG_MEM(call->w[1]->buf),
                              CLNET_ARG_MEM(mean),
                              CLNET_ARG_MEM(stat),
                              CLNET_ARG_INT(is_var),
                              CLNET_ARG_FLOAT(p->epsilon),
                              CLNET_ARG_INT(p->act.id),
                              CLNET_ARG_FLOAT(p->act.alpha),
                              CLNET_ARG_INT(rows),
                              CLNET_ARG_INT(s.c),
                              CLNET_ARG_INT(run)};
    return clnet__launch(call->ctx, PROG, "batch_norm_forward", args, (int)CLNET_COUNTOF(args), 1,
                         global);
}

/* With call->sync (--sync-bn): the sets x blocks x c partials at src (set k, block b,
 * channel ch at (k * blocks + b) * c + ch) summed over the blocks in order, then over the
 * ranks with the rows, written back as one block of the sums times scale(global rows).
 * *global (unless NULL): the ranks' rows. Drains the queue: the sums are needed on the host. */
static clnet_status rank_sums(const clnet__op_call *call, cl_mem src, int sets, int blocks,
                              int rows, int rescale, int *global)
{
    clnet_context *ctx = call->ctx;
    const int c = call->out->shape.c, n = sets * c;
    const size_t floats = (size_t)sets * (size_t)blocks * (size_t)c;
    double *v = malloc((size_t)(n + 1) * sizeof *v);
    float *f = malloc(floats * sizeof *f);
    clnet_status st =
        v && f ? CLNET_OK : clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    if (st == CLNET_OK && rows == 0) /* a rank without images: its sums are 0 */
        memset(f, 0, floats * sizeof *f);
    else if (st == CLNET_OK) {
        const cl_int e =
            clEnqueueReadBuffer(ctx->queue, src, CL_TRUE, 0, floats * sizeof *f, f, 0, NULL, NULL);
        if (e != CL_SUCCESS)
            st = clnet__fail(ctx, CLNET_ERR_OPENCL, "batch_norm: reading its sums failed (%d)", e);
    }
    if (st == CLNET_OK) {
        for (int k = 0; k < sets; ++k)
            for (int ch = 0; ch < c; ++ch) {
                double a = 0.0;
                for (int b = 0; b < blocks; ++b)
                    a += f[((size_t)k * blocks + b) * c + ch];
                v[k * c + ch] = a;
            }
        v[n] = rows;
        st = call->sync->sum(call->sync->user, v, n + 1, "the synchronized batch norm's sums");
    }
    if (st == CLNET_OK) {
        if (global)
            *global = (int)v[n];
        /* backward's dx kernel divides by its own rows: sums times rows / global make it
         * divide the global sums by the global rows */
        const double scale = rescale ? (double)rows / v[n] : 1.0;
        for (int i = 0; i < n; ++i)
            f[i] = (float)(v[i] * scale);
        const cl_int e = clEnqueueWriteBuffer(ctx->queue, src, CL_TRUE, 0, (size_t)n * sizeof *f, f,
                                              0, NULL, NULL);
        if (e != CL_SUCCESS)
            st = clnet__fail(ctx, CLNET_ERR_OPENCL, "batch_norm: writing its sums failed (%d)", e);
    }
    free(v);
    free(f);
    return st;
}

/* Training: mean, then the centred sum of squares (stable), then invstd and the moving
 * statistics in place, then the fused apply. Inference: the apply alone. With
 * call->sync each sum is over every rank's rows before it is finalized (one block of
 * the global sums), so the statistics are the global batch's. */
static clnet_status bn_forward(const clnet__op_call *call)
{
    const clnet__batch_norm_params *p = call->params;
    clnet_context *ctx = call->ctx;
    if (!call->training)
        return apply(call, call->w[2]->buf, call->w[3]->buf, 1);
    const clnet_shape s = call->out->shape;
    const int rows = s.n * s.h * s.w, c = s.c; /* 0 rows: a rank without images (sync) */
    cl_mem x = rows > 0 ? call->in[0]->buf : NULL;
    cl_mem mean = call->saved[0]->buf, invstd = call->saved[1]->buf;
    int blocks, rpb;
    reduce_plan(ctx, rows, &blocks, &rpb);
    cl_mem partial = NULL;
    CLNET_TRY(clnet__scratch_get(ctx, call->scratch, CLNET_SCRATCH_REDUCE,
                                 (size_t)blocks * c * sizeof(float), "batch_norm statistics",
                                 &partial));
    const size_t global[1] = {(size_t)c};

    const reduce_src sum_x = {x, x, x, mean, invstd, 0, BN_MEAN};
    if (rows > 0)
        CLNET_TRY(reduce(call, &sum_x, rows, blocks, rpb, partial));
    int sum_blocks = blocks, sum_rows = rows;
    if (call->sync) {
        CLNET_TRY(rank_sums(call, partial, 1, blocks, rows, 0, &sum_rows));
        sum_blocks = 1;
        if (sum_rows == 0)
            return CLNET_OK; /* no rank has an image: every rank stops here */
    }
    const clnet_arg mean_args[] = {CLNET_ARG_MEM(partial), CLNET_ARG_MEM(mean),
                                   CLNET_ARG_INT(sum_blocks), CLNET_ARG_INT(c),
                                   CLNET_ARG_INT(sum_rows)};
    CLNET_TRY(clnet__launch(ctx, PROG, "batch_norm_mean", mean_args, (int)CLNET_COUNTOF(mean_args),
                            1, global));

    const reduce_src sum_sq = {x, x, x, mean, invstd, 0, BN_VAR};
    if (rows > 0)
        CLNET_TRY(reduce(call, &sum_sq, rows, blocks, rpb, partial));
    if (call->sync)
        CLNET_TRY(rank_sums(call, partial, 1, blocks, rows, 0, &sum_rows));
    const clnet_arg var_args[] = {CLNET_ARG_MEM(partial),
                                  CLNET_ARG_MEM(mean),
                                  CLNET_ARG_MEM(invstd),
                                  CLNET_ARG_MEM(call->w[2]->buf),
                                  CLNET_ARG_MEM(call->w[3]->buf),
                                  CLNET_ARG_INT(sum_blocks),
                                  CLNET_ARG_INT(c),
                                  CLNET_ARG_INT(sum_rows),
                                  CLNET_ARG_FLOAT(p->epsilon),
                                  CLNET_ARG_FLOAT(p->momentum),
                                  CLNET_ARG_INT(p->unbiased)};
    CLNET_TRY(clnet__launch(ctx, PROG, "batch_norm_variance", var_args,
                            (int)CLNET_COUNTOF(var_args), 1, global));
    return rows > 0 ? apply(call, mean, invstd, 0) : CLNET_OK;
}

/* A rank without images (rows 0): the forward's two exchanges with zero sums, which
 * still moves its statistics to the global batch's as every rank's; backward's one. */
static clnet_status bn_sync_idle(const clnet__op_call *call, int backward)
{
    if (!backward)
        return bn_forward(call);
    const int c = call->out->shape.c, n = 2 * c + 1;
    double *v = calloc((size_t)n, sizeof *v);
    if (!v)
        return clnet__fail(call->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    const clnet_status st =
        call->sync->sum(call->sync->user, v, n, "the synchronized batch norm's sums");
    free(v);
    return st;
}

/* Training: the statistics' partials (forward), the gradient sums' partials and the sums
 * (backward). Inference forward needs nothing. */
static clnet_status bn_prepare(clnet_context *ctx, const void *params, const clnet_shape *in,
                               int n_in, clnet_shape out, int training, clnet__op_exec *e)
{
    (void)params;
    (void)in;
    (void)n_in;
    if (!training)
        return CLNET_OK;
    int blocks, rpb;
    reduce_plan(ctx, out.n * out.h * out.w, &blocks, &rpb);
    e->scratch[0][CLNET_SCRATCH_REDUCE] = (size_t)blocks * (size_t)out.c * sizeof(float);
    e->scratch[1][CLNET_SCRATCH_REDUCE] = 2 * e->scratch[0][CLNET_SCRATCH_REDUCE];
    e->scratch[1][CLNET_SCRATCH_TMP] = 2 * (size_t)out.c * sizeof(float);
    return CLNET_OK;
}

/* Training mode differentiates through the batch statistics (saved mean / invstd);
 * inference mode (frozen BN when fine-tuning) is the fixed affine map of the moving
 * statistics. Both need dgamma = sum dpre * xhat and dbeta = sum dpre, which land in
 * the TMP scratch and are copied to dw when wanted. */
static clnet_status bn_backward(const clnet__op_call *call)
{
    const clnet__batch_norm_params *p = call->params;
    clnet_context *ctx = call->ctx;
    const clnet_shape s = call->out->shape;
    const int rows = s.n * s.h * s.w, c = s.c, training = call->training != 0;
    clnet_tensor *dx = call->din[0], *dgamma = call->dw[0], *dbeta = call->dw[1];
    cl_mem mean = training ? call->saved[0]->buf : call->w[2]->buf;
    cl_mem stat = training ? call->saved[1]->buf : call->w[3]->buf;
    cl_mem sums = call->w[0]->buf; /* unread by the inference dx */
    if (training || dgamma || dbeta) {
        int blocks, rpb;
        reduce_plan(ctx, rows, &blocks, &rpb);
        cl_mem partial = NULL;
        CLNET_TRY(clnet__scratch_get(ctx, call->scratch, CLNET_SCRATCH_REDUCE,
                                     2 * (size_t)blocks * c * sizeof(float),
                                     "batch_norm gradient partials", &partial));
        CLNET_TRY(clnet__scratch_get(ctx, call->scratch, CLNET_SCRATCH_TMP,
                                     2 * (size_t)c * sizeof(float), "batch_norm gradient sums",
                                     &sums));
        const reduce_src grad = {call->in[0]->buf, call->dout->buf, call->out->buf, mean, stat,
                                 !training,        BN_GRAD};
        CLNET_TRY(reduce(call, &grad, rows, blocks, rpb, partial));
        const clnet_arg args[] = {CLNET_ARG_MEM(partial), CLNET_ARG_MEM(sums),
                                  CLNET_ARG_INT(blocks), CLNET_ARG_INT(c)};
        const size_t global[1] = {(size_t)c};
        CLNET_TRY(clnet__launch(ctx, PROG, "batch_norm_grad_sums", args, (int)CLNET_COUNTOF(args),
                                1, global));
        if (dgamma)
            CLNET_TRY(clnet__copy(ctx, sums, 0, dgamma->buf, 0, (size_t)c));
        if (dbeta)
            CLNET_TRY(clnet__copy(ctx, sums, (size_t)c, dbeta->buf, 0, (size_t)c));
        /* dgamma and dbeta stay this rank's (the gradients' exchange sums them); dx needs
         * the global batch's. */
        if (training && call->sync)
            CLNET_TRY(rank_sums(call, sums, 2, 1, rows, 1, NULL));
    }
    if (!dx)
        return CLNET_OK;
    int run = 1;
    const size_t global[1] = {apply_global(ctx, rows, c, &run)};
    const clnet_arg args[] = {CLNET_ARG_MEM(call->in[0]->buf),
                              CLNET_ARG_MEM(call->dout->buf),
                              CLNET_ARG_MEM(call->out->buf),
                              CLNET_ARG_MEM(call->w[0]->buf),
                              CLNET_ARG_MEM(call->w[1]->buf),
                              CLNET_ARG_MEM(mean),
                              CLNET_ARG_MEM(stat),
                              CLNET_ARG_MEM(sums),
                              CLNET_ARG_INT(!training),
                              CLNET_ARG_FLOAT(p->epsilon),
                              CLNET_ARG_INT(p->act.id),
                              CLNET_ARG_FLOAT(p->act.alpha),
                              CLNET_ARG_INT(clnet__act_from_input(p->act)),
                              CLNET_ARG_INT(rows),
                              CLNET_ARG_INT(c),
                              CLNET_ARG_INT(training),
                              CLNET_ARG_INT(run),
                              CLNET_ARG_MEM(dx->buf)};
    return clnet__launch(ctx, PROG, "batch_norm_backward", args, (int)CLNET_COUNTOF(args), 1,
                         global);
}

/* 1x1 spatial (statistics over the batch only; batch 1 at 1x1 has zero variance),
 * float16 tails (17, 33 channels), relu6 scaled to cross 0 and 6, both conventions. */
static const clnet__op_case bn_cases[] = {
    {"", 1, {{3, 1, 1, 5}}, 0},
    {"epsilon = 0.01\nmomentum = 0.9\nactivation = relu", 1, {{1, 5, 7, 17}}, 0},
    {"activation = relu6\nunbiased_variance = true", 1, {{3, 4, 3, 33}}, 8.0f},
    {"momentum = 0.5", 1, {{1, 1, 1, 3}}, 0},
    {"activation = swish", 1, {{3, 2, 3, 17}}, 0},
    {"activation = elu(0.5)\nunbiased_variance = true", 1, {{2, 3, 1, 5}}, 0},
};

static const clnet_op_key batch_norm_keys[] = {
    {"epsilon", "float > 0", "0.001", "added to the variance (PyTorch: 1e-5)", "1e-5"},
    {"momentum", "float in [0, 1]", "0.99",
     "moving = momentum * moving + (1 - momentum) * batch (PyTorch's 0.1 is 0.9 here)", "0.9"},
    {"unbiased_variance", "bool", "false",
     "moving variance from the n / (n - 1) corrected batch variance, as PyTorch", "true"},
    CLNET_KEY_ACTIVATION,
};

const clnet__op_desc clnet__op_batch_norm = {
    .name = "batch_norm",
    .keras = "BatchNormalization",
    .family = CLNET_FAMILY_NORMALIZATION,
    .describe = bn_describe,
    .description =
        "normalizes each channel: batch statistics in training, moving ones in inference",
    .keys = batch_norm_keys,
    .n_keys = (int)CLNET_COUNTOF(batch_norm_keys),
    .params_size = sizeof(clnet__batch_norm_params),
    .min_inputs = 1,
    .max_inputs = 1,
    .flags =
        CLNET_OP_MODE_DEPENDENT | CLNET_OP_NOT_SMOOTH | CLNET_OP_FUSED_ACT | CLNET_OP_MOVING_STATS,
    .act_offset = offsetof(clnet__batch_norm_params, act),
    .momentum_offset = offsetof(clnet__batch_norm_params, momentum),
    .parse = bn_parse,
    .infer = bn_infer,
    .weights = bn_weights,
    .saved = bn_saved,
    .flops = bn_flops,
    .prepare = bn_prepare,
    .forward = bn_forward,
    .backward = bn_backward,
    .sync_idle = bn_sync_idle,
    .ref_forward = clnet__ref_batch_norm_forward,
    .ref_backward = clnet__ref_batch_norm_backward,
    .cases = bn_cases,
    .n_cases = (int)CLNET_COUNTOF(bn_cases),
};
