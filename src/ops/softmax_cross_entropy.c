/* softmax_cross_entropy.c - the fused, numerically stable classification loss: mean over
 * rows of -u * sum_c t' * log softmax(logits), t' the (label-smoothed) targets of input 1
 * and u the row's weight from the optional input 2 ({n, h, w, 1}: per-sample weights, as
 * Keras's sample_weight / class_weight; 1 without it). Output {1, 1, 1, 1}. Targets are
 * distributions (one-hot or soft, rows summing to 1); targets and weights get no
 * gradient. Kernels: cl/softmax_cross_entropy.cl; the mean over rows is
 * clnet__reduce_rows (src/ops/reduce.c).
 * Reference: src/ref/softmax_cross_entropy.c. Tests: tests/ops/test_softmax_cross_entropy.c. */
#include <stdio.h>

#include "ops/op.h"
#include "ops/reduce.h"
#include "ops/softmax.h"
#include "ref/ref.h"

#define PROGRAM "softmax_cross_entropy"

static clnet_status sce_parse(clnet_context *ctx, clnet__kv *kv, void *params)
{
    clnet__softmax_cross_entropy_params *p = params;
    double ls = 0.0;
    CLNET_TRY(clnet__kv_float(ctx, kv, "label_smoothing", 0.0, &ls));
    if (!(ls >= 0.0 && ls <= 1.0))
        return clnet__kv_error(ctx, kv, clnet__kv_find(kv, "label_smoothing"), "label_smoothing",
                               "must be in [0, 1], got %g", ls);
    p->label_smoothing = (float)ls;
    return CLNET_OK;
}

static clnet_status sce_infer(clnet_context *ctx, const void *params, const clnet_shape *in,
                              int n_in, clnet_shape *out)
{
    (void)params;
    if (n_in != 2 && n_in != 3)
        return clnet__fail(ctx, CLNET_ERR_INVALID_ARG,
                           "softmax_cross_entropy: needs logits, targets and optional row weights, "
                           "got %d inputs",
                           n_in);
    if (!clnet__shape_eq(in[0], in[1])) {
        char a[48], b[48];
        return clnet__fail(ctx, CLNET_ERR_SHAPE,
                           "softmax_cross_entropy: targets (input 1) %s do not match logits "
                           "(input 0) %s",
                           clnet__shape_str(in[1], a, sizeof a),
                           clnet__shape_str(in[0], b, sizeof b));
    }
    const clnet_shape rows = {in[0].n, in[0].h, in[0].w, 1};
    if (n_in == 3 && !clnet__shape_eq(in[2], rows)) {
        char a[48], b[48];
        return clnet__fail(ctx, CLNET_ERR_SHAPE,
                           "softmax_cross_entropy: row weights (input 2) %s are not one per row "
                           "of the logits (%s)",
                           clnet__shape_str(in[2], a, sizeof a),
                           clnet__shape_str(rows, b, sizeof b));
    }
    *out = (clnet_shape){1, 1, 1, 1};
    return CLNET_OK;
}

/* exp, log-sum-exp and the weighted sum per element. */
static void sce_describe(const void *params, char *buf, size_t len)
{
    const clnet__softmax_cross_entropy_params *p = params;
    if (p->label_smoothing > 0.0f)
        snprintf(buf, len, "smoothing %g", (double)p->label_smoothing);
    else if (len)
        buf[0] = '\0';
}

static double sce_flops(const void *params, const clnet_shape *in, int n_in, clnet_shape out)
{
    (void)params;
    (void)n_in;
    (void)out;
    return 4.0 * (double)clnet__shape_count(in[0]);
}

/* The row weights' buffer and whether there are any (the kernels never read the buffer
 * otherwise, so the logits stand in). */
static cl_mem row_weights(const clnet__op_call *call, int *weighted)
{
    *weighted = call->n_in == 3;
    return (*weighted ? call->in[2] : call->in[0])->buf;
}

/* Forward: the row losses (TMP) and their fixed-order sum's partials (REDUCE). */
static clnet_status sce_prepare(clnet_context *ctx, const void *params, const clnet_shape *in,
                                int n_in, clnet_shape out, int training, clnet__op_exec *e)
{
    (void)params;
    (void)n_in;
    (void)out;
    (void)training;
    const int rows = in[0].n * in[0].h * in[0].w;
    e->scratch[0][CLNET_SCRATCH_TMP] = (size_t)rows * sizeof(float);
    e->scratch[0][CLNET_SCRATCH_REDUCE] = clnet__reduce_rows_scratch(ctx, rows, 1);
    return CLNET_OK;
}

static clnet_status sce_forward(const clnet__op_call *call)
{
    const clnet__softmax_cross_entropy_params *p = call->params;
    const clnet_shape s = call->in[0]->shape;
    const int rows = s.n * s.h * s.w;
    cl_mem partial = NULL;
    CLNET_TRY(clnet__scratch_get(call->ctx, call->scratch, CLNET_SCRATCH_TMP,
                                 (size_t)rows * sizeof(float), "softmax_cross_entropy row losses",
                                 &partial));
    int weighted = 0;
    const cl_mem sw = row_weights(call, &weighted);
    const clnet_arg args[] = {
        CLNET_ARG_MEM(call->in[0]->buf),
        CLNET_ARG_MEM(call->in[1]->buf),
        CLNET_ARG_MEM(sw),
        CLNET_ARG_INT(weighted),
        CLNET_ARG_MEM(partial),
        CLNET_ARG_INT(rows),
        CLNET_ARG_INT(s.c),
        CLNET_ARG_FLOAT(1.0f - p->label_smoothing),
        CLNET_ARG_FLOAT(p->label_smoothing / (float)s.c),
    };
    CLNET_TRY(clnet__softmax_launch_rows(call->ctx, PROGRAM, "softmax_cross_entropy_forward", args,
                                         (int)CLNET_COUNTOF(args), rows, s.c));
    /* The per-row losses come divided by rows: their fixed-order sum is the mean. */
    return clnet__reduce_rows(call->ctx, call->scratch, partial, 0, rows, 1, call->out->buf, 0);
}

clnet_status clnet__sce_sparse(clnet_context *ctx, const clnet__scratch *s, cl_mem x, cl_mem labels,
                               cl_mem cw, float ls, int rows, int denom, int c, cl_mem dx,
                               cl_mem partial, cl_mem result)
{
    const clnet_arg args[] = {
        CLNET_ARG_MEM(x),
        CLNET_ARG_MEM(labels),
        CLNET_ARG_MEM(cw ? cw : x),
        CLNET_ARG_INT(cw != 0),
        CLNET_ARG_MEM(dx),
        CLNET_ARG_MEM(partial),
        CLNET_ARG_INT(rows),
        CLNET_ARG_INT(c),
        CLNET_ARG_FLOAT(1.0f - ls),
        CLNET_ARG_FLOAT(ls / (float)c),
        CLNET_ARG_FLOAT((float)(denom > 0 ? denom : rows)),
    };
    CLNET_TRY(clnet__softmax_launch_rows(ctx, PROGRAM, "softmax_cross_entropy_sparse", args,
                                         (int)CLNET_COUNTOF(args), rows, c));
    return clnet__reduce_rows(ctx, s, partial, 0, rows, 2, result, 0);
}

static clnet_status sce_backward(const clnet__op_call *call)
{
    const clnet__softmax_cross_entropy_params *p = call->params;
    if (!call->din[0])
        return CLNET_OK;
    const clnet_shape s = call->in[0]->shape;
    const int rows = s.n * s.h * s.w;
    int weighted = 0;
    const cl_mem sw = row_weights(call, &weighted);
    const clnet_arg args[] = {
        CLNET_ARG_MEM(call->in[0]->buf),
        CLNET_ARG_MEM(call->in[1]->buf),
        CLNET_ARG_MEM(sw),
        CLNET_ARG_INT(weighted),
        CLNET_ARG_MEM(call->dout->buf),
        CLNET_ARG_MEM(call->din[0]->buf),
        CLNET_ARG_INT(rows),
        CLNET_ARG_INT(s.c),
        CLNET_ARG_FLOAT(1.0f - p->label_smoothing),
        CLNET_ARG_FLOAT(p->label_smoothing / (float)s.c),
    };
    return clnet__softmax_launch_rows(call->ctx, PROGRAM, "softmax_cross_entropy_backward", args,
                                      (int)CLNET_COUNTOF(args), rows, s.c);
}

/* One class, two, ten with smoothing, 17 over spatial rows, 1000 (ImageNet); with row
 * weights: one row, seven with smoothing, 17 over spatial rows. */
static const clnet__op_case sce_cases[] = {
    {"", 2, {{1, 1, 1, 1}, {1, 1, 1, 1}}, 0},
    {"", 2, {{3, 1, 1, 2}, {3, 1, 1, 2}}, 0},
    {"label_smoothing = 0.1", 2, {{3, 1, 1, 10}, {3, 1, 1, 10}}, 4.0f},
    {"", 2, {{2, 3, 5, 17}, {2, 3, 5, 17}}, 0},
    {"label_smoothing = 0.2", 2, {{3, 1, 1, 1000}, {3, 1, 1, 1000}}, 8.0f},
    {"", 3, {{1, 1, 1, 3}, {1, 1, 1, 3}, {1, 1, 1, 1}}, 0},
    {"label_smoothing = 0.1", 3, {{5, 1, 1, 7}, {5, 1, 1, 7}, {5, 1, 1, 1}}, 4.0f},
    {"", 3, {{2, 3, 5, 17}, {2, 3, 5, 17}, {2, 3, 5, 1}}, 0},
};

static const clnet_op_key softmax_cross_entropy_keys[] = {
    {"label_smoothing", "float in [0, 1]", "0", "targets t * (1 - ls) + ls / classes, as Keras",
     "0.1"},
};

const clnet__op_desc clnet__op_softmax_cross_entropy = {
    .name = "softmax_cross_entropy",
    .family = CLNET_FAMILY_LOSS,
    .describe = sce_describe,
    .keras = "SoftmaxCrossEntropy",
    .description = "mean cross-entropy of softmax(input 0) against target distributions (input 1)",
    .keys = softmax_cross_entropy_keys,
    .n_keys = (int)CLNET_COUNTOF(softmax_cross_entropy_keys),
    .params_size = sizeof(clnet__softmax_cross_entropy_params),
    .min_inputs = 2,
    .max_inputs = 3,
    .flags = CLNET_OP_LABELS_INPUT1,
    .parse = sce_parse,
    .infer = sce_infer,
    .flops = sce_flops,
    .prepare = sce_prepare,
    .forward = sce_forward,
    .backward = sce_backward,
    .ref_forward = clnet__ref_softmax_cross_entropy_forward,
    .ref_backward = clnet__ref_softmax_cross_entropy_backward,
    .cases = sce_cases,
    .n_cases = (int)CLNET_COUNTOF(sce_cases),
};
