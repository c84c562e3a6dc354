/* layer_scale.c - Keras-CV / Keras ConvNeXt's LayerScale, torchvision CNBlock's layer_scale:
 * y = x * gamma[c], gamma a trainable weight of c values initialized to init_value (1e-6
 * in ConvNeXt, so a residual branch starts near silent). It is multiply with the second
 * operand a weight broadcast as [1, 1, 1, c], so it runs multiply's kernels (broadcast.h):
 * dgamma is their fixed-order column sum of dy * x over the pixels, no atomics.
 * Kernels: cl/broadcast.cl (multiply_forward, multiply_backward). Reference:
 * src/ref/layer_scale.c. Tests: tests/ops/test_layer_scale.c. */
#include <float.h>
#include <math.h>
#include <stdio.h>

#include "ops/broadcast.h"
#include "ref/ref.h"

static clnet_status ls_parse(clnet_context *ctx, clnet__kv *kv, void *params)
{
    clnet__layer_scale_params *p = params;
    double v = 1e-6;
    CLNET_TRY(clnet__kv_float(ctx, kv, "init_value", 1e-6, &v));
    if (fabs(v) > FLT_MAX)
        return clnet__kv_error(ctx, kv, clnet__kv_find(kv, "init_value"), "init_value",
                               "must be a finite float, got %g", v);
    p->init_value = (float)v;
    return CLNET_OK;
}

/* gamma: every value init_value (Keras's initializers.Constant, torchvision's
 * torch.ones(dim, 1, 1) * layer_scale); checks draw it from (-1.5, 1.5). */
static int ls_weights(const void *params, const clnet_shape *in, int n_in, clnet__weight_desc *w)
{
    const clnet__layer_scale_params *p = params;
    (void)n_in;
    const clnet_shape v = {1, 1, 1, in[0].c};
    w[0] = (clnet__weight_desc){"gamma",       v,     1,   CLNET_INIT_UNIFORM, p->init_value,
                                p->init_value, -1.5f, 1.5f};
    return 1;
}

/* The view multiply's kernels take: x, and gamma as a [1, 1, 1, c] operand. */
static clnet_status ls_prepare(clnet_context *ctx, const void *params, const clnet_shape *in,
                               int n_in, clnet_shape out, int training, clnet__op_exec *e)
{
    (void)params;
    (void)n_in;
    (void)out;
    const clnet_shape both[2] = {in[0], {1, 1, 1, in[0].c}};
    snprintf(e->forward, sizeof e->forward, "multiply_forward");
    snprintf(e->backward, sizeof e->backward, "multiply_backward");
    return clnet__broadcast_prepare(ctx, "multiply", both, 2, training, e);
}

static clnet_status ls_forward(const clnet__op_call *call)
{
    return clnet__broadcast_forward(call->ctx, "multiply_forward", call->in[0], call->w[0],
                                    call->out);
}

static clnet_status ls_backward(const clnet__op_call *call)
{
    return clnet__broadcast_backward(call->ctx, call->scratch, "multiply_backward", call->in[0],
                                     call->w[0], call->dout, call->din[0], call->dw[0]);
}

/* One element; batch 1 and 3; odd sides and channels (float16 tails at 17 and 33); enough
 * pixels for several column-sum blocks; 1x1 spatial at batch 1 (no sum: dgamma is written
 * directly); ConvNeXt's 96 channels. */
static const clnet__op_case ls_cases[] = {
    {"", 1, {{1, 1, 1, 1}}, 0},  {"init_value = 0.5", 1, {{3, 5, 7, 17}}, 0},
    {"", 1, {{1, 6, 5, 33}}, 0}, {"", 1, {{3, 13, 14, 17}}, 0},
    {"", 1, {{1, 1, 1, 33}}, 0}, {"init_value = 1", 1, {{2, 3, 3, 96}}, 0},
};

static const clnet_op_key layer_scale_keys[] = {
    {"init_value", "float", "1e-6", "the initial value of every gamma (ConvNeXt: 1e-6)", "0.1"},
};

static void layer_scale_describe(const void *params, char *buf, size_t len)
{
    snprintf(buf, len, "init %g", (double)((const clnet__layer_scale_params *)params)->init_value);
}

const clnet__op_desc clnet__op_layer_scale = {
    .name = "layer_scale",
    .family = CLNET_FAMILY_NORMALIZATION,
    .describe = layer_scale_describe,
    .keras = "LayerScale",
    .description = "scales each channel by a learned gamma (ConvNeXt's layer scale)",
    .keys = layer_scale_keys,
    .n_keys = (int)CLNET_COUNTOF(layer_scale_keys),
    .params_size = sizeof(clnet__layer_scale_params),
    .min_inputs = 1,
    .max_inputs = 1,
    .flags = CLNET_OP_BWD_NO_OUTPUT,
    .parse = ls_parse,
    .infer = clnet__op_same_shape,
    .weights = ls_weights,
    .flops = clnet__op_flops_per_element,
    .prepare = ls_prepare,
    .forward = ls_forward,
    .backward = ls_backward,
    .ref_forward = clnet__ref_layer_scale_forward,
    .ref_backward = clnet__ref_layer_scale_backward,
    .cases = ls_cases,
    .n_cases = (int)CLNET_COUNTOF(ls_cases),
};
