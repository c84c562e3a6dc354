/* layer_norm.c - Keras LayerNormalization(axis=-1), ConvNeXt's LayerNorm on NHWC: each
 * pixel's channels normalized by their own statistics, then scaled and shifted per channel.
 * Per-pixel reductions in a fixed order; dgamma and dbeta are column sums over all pixels
 * by clnet__reduce_rows (reduce.h), equally fixed. Nothing is saved: backward recomputes a
 * pixel's statistics from x (c values, cheaper than keeping them).
 * Kernels: cl/layer_norm.cl. Reference: src/ref/layer_norm.c.
 * Tests: tests/ops/test_layer_norm.c. */
#include <stdio.h>

#include "ops/op.h"
#include "ops/reduce.h"
#include "ops/softmax.h"
#include "ref/ref.h"

#define PROG "layer_norm"

static clnet_status ln_parse(clnet_context *ctx, clnet__kv *kv, void *params)
{
    clnet__layer_norm_params *p = params;
    double eps = 1e-3;
    int axis = -1;
    CLNET_TRY(clnet__kv_float(ctx, kv, "epsilon", 1e-3, &eps));
    if (!(eps > 0.0))
        return clnet__kv_error(ctx, kv, clnet__kv_find(kv, "epsilon"), "epsilon",
                               "must be positive, got %g", eps);
    CLNET_TRY(clnet__kv_int(ctx, kv, "axis", -1, &axis));
    if (axis != -1 && axis != 3)
        return clnet__kv_error(ctx, kv, clnet__kv_find(kv, "axis"), "axis",
                               "only the last axis (-1, channels) is supported, got %d", axis);
    p->epsilon = (float)eps;
    return CLNET_OK;
}

/* gamma, beta: Keras's order and initializers (ones, zeros). */
static int ln_weights(const void *params, const clnet_shape *in, int n_in, clnet__weight_desc *w)
{
    (void)params;
    (void)n_in;
    const clnet_shape v = {1, 1, 1, in[0].c};
    w[0] = (clnet__weight_desc){"gamma", v, 1, CLNET_INIT_UNIFORM, 1.0f, 1.0f, 0.5f, 1.5f};
    w[1] = (clnet__weight_desc){"beta", v, 1, CLNET_INIT_UNIFORM, 0.0f, 0.0f, -0.5f, 0.5f};
    return 2;
}

/* Mean, variance, normalize, scale and shift: about 5 operations per element. */
static double ln_flops(const void *params, const clnet_shape *in, int n_in, clnet_shape out)
{
    (void)params;
    (void)in;
    (void)n_in;
    return 5.0 * (double)clnet__shape_count(out);
}

/* Backward: dy * xhat per element (TMP), then the two column sums (REDUCE). */
static clnet_status ln_prepare(clnet_context *ctx, const void *params, const clnet_shape *in,
                               int n_in, clnet_shape out, int training, clnet__op_exec *e)
{
    (void)params;
    (void)in;
    (void)n_in;
    if (!training)
        return CLNET_OK;
    const int rows = out.n * out.h * out.w;
    e->scratch[1][CLNET_SCRATCH_TMP] = clnet__shape_count(out) * sizeof(float);
    e->scratch[1][CLNET_SCRATCH_REDUCE] = clnet__reduce_rows_scratch(ctx, rows, out.c);
    return CLNET_OK;
}

static clnet_status ln_forward(const clnet__op_call *call)
{
    const clnet__layer_norm_params *p = call->params;
    const clnet_shape s = call->out->shape;
    const int rows = s.n * s.h * s.w;
    const clnet_arg args[] = {CLNET_ARG_MEM(call->in[0]->buf),
                              CLNET_ARG_MEM(call->out->buf),
                              CLNET_ARG_MEM(call->w[0]->buf),
                              CLNET_ARG_MEM(call->w[1]->buf),
                              CLNET_ARG_INT(rows),
                              CLNET_ARG_INT(s.c),
                              CLNET_ARG_FLOAT(p->epsilon)};
    return clnet__softmax_launch_rows(call->ctx, PROG, "layer_norm_forward", args,
                                      (int)CLNET_COUNTOF(args), rows, s.c);
}

static clnet_status ln_backward(const clnet__op_call *call)
{
    const clnet__layer_norm_params *p = call->params;
    clnet_context *ctx = call->ctx;
    const clnet_shape s = call->out->shape;
    const int rows = s.n * s.h * s.w;
    clnet_tensor *dx = call->din[0], *dgamma = call->dw[0], *dbeta = call->dw[1];
    if (dbeta)
        CLNET_TRY(
            clnet__reduce_rows(ctx, call->scratch, call->dout->buf, 0, rows, s.c, dbeta->buf, 0));
    if (!dx && !dgamma)
        return CLNET_OK;
    cl_mem xg = call->in[0]->buf; /* unwritten without dgamma */
    if (dgamma)
        CLNET_TRY(clnet__scratch_get(ctx, call->scratch, CLNET_SCRATCH_TMP,
                                     call->out->count * sizeof(float), "layer_norm dy * xhat",
                                     &xg));
    const clnet_arg args[] = {CLNET_ARG_MEM(call->in[0]->buf),
                              CLNET_ARG_MEM(call->dout->buf),
                              CLNET_ARG_MEM(call->w[0]->buf),
                              CLNET_ARG_MEM(dx ? dx->buf : call->in[0]->buf),
                              CLNET_ARG_MEM(xg),
                              CLNET_ARG_INT(rows),
                              CLNET_ARG_INT(s.c),
                              CLNET_ARG_FLOAT(p->epsilon),
                              CLNET_ARG_INT(dx != NULL),
                              CLNET_ARG_INT(dgamma != NULL)};
    CLNET_TRY(clnet__softmax_launch_rows(ctx, PROG, "layer_norm_backward", args,
                                         (int)CLNET_COUNTOF(args), rows, s.c));
    return dgamma ? clnet__reduce_rows(ctx, call->scratch, xg, 0, rows, s.c, dgamma->buf, 0)
                  : CLNET_OK;
}

/* One channel (every xhat 0), 1x1 spatial, batch 1 and 3, float16 tails (17, 33 channels),
 * ConvNeXt's epsilon and 96 channels, inputs scaled small so epsilon matters. */
static const clnet__op_case ln_cases[] = {
    {"", 1, {{3, 1, 1, 17}}, 0},
    {"epsilon = 1e-6", 1, {{1, 5, 7, 33}}, 0},
    {"", 1, {{3, 2, 3, 1}}, 0},
    {"epsilon = 1e-6", 1, {{1, 3, 2, 96}}, 0},
    {"epsilon = 0.01", 1, {{3, 4, 3, 5}}, 0.05f},
};

static const clnet_op_key layer_norm_keys[] = {
    {"epsilon", "float > 0", "0.001", "added to the variance (ConvNeXt: 1e-6, PyTorch: 1e-5)",
     "1e-6"},
    {"axis", "int (-1 only)", "-1", "normalized axis: the channels (Keras compatibility)", "-1"},
};

static void layer_norm_describe(const void *params, char *buf, size_t len)
{
    snprintf(buf, len, "eps %g", (double)((const clnet__layer_norm_params *)params)->epsilon);
}

const clnet__op_desc clnet__op_layer_norm = {
    .name = "layer_norm",
    .family = CLNET_FAMILY_NORMALIZATION,
    .describe = layer_norm_describe,
    .keras = "LayerNormalization",
    .description = "normalizes each pixel over its channels, then scales and shifts per channel",
    .keys = layer_norm_keys,
    .n_keys = (int)CLNET_COUNTOF(layer_norm_keys),
    .params_size = sizeof(clnet__layer_norm_params),
    .min_inputs = 1,
    .max_inputs = 1,
    .flags = CLNET_OP_BWD_NO_OUTPUT,
    .parse = ln_parse,
    .infer = clnet__op_same_shape,
    .weights = ln_weights,
    .flops = ln_flops,
    .prepare = ln_prepare,
    .forward = ln_forward,
    .backward = ln_backward,
    .ref_forward = clnet__ref_layer_norm_forward,
    .ref_backward = clnet__ref_layer_norm_backward,
    .cases = ln_cases,
    .n_cases = (int)CLNET_COUNTOF(ln_cases),
};
