/* max_pool.c - Keras MaxPooling2D, with PyTorch's / ONNX's ceil_mode as an option; ties and
 * gradients go to the first maximum of a window in row-major order. Geometry: src/ops/pool.c.
 * Kernels: cl/max_pool.cl. Reference: src/ref/max_pool.c. Tests: tests/ops/test_max_pool.c. */
#include "ops/pool.h"
#include "ref/ref.h"

#define PROG "max_pool"

static clnet_status max_pool_parse(clnet_context *ctx, clnet__kv *kv, void *params)
{
    return clnet__pool_parse(ctx, kv, params);
}

static clnet_status max_pool_infer(clnet_context *ctx, const void *params, const clnet_shape *in,
                                   int n_in, clnet_shape *out)
{
    (void)n_in;
    return clnet__pool_infer(ctx, PROG, params, in[0], out);
}

static clnet_status max_pool_forward(const clnet__op_call *call)
{
    clnet__pool_geom g;
    CLNET_TRY(clnet__pool_check(call->ctx, PROG, call->params, call->in[0]->shape, &g));
    clnet_arg args[16];
    int n = 0;
    args[n++] = CLNET_ARG_MEM(call->in[0]->buf);
    args[n++] = CLNET_ARG_MEM(call->out->buf);
    n += clnet__pool_args(&g, args + n);
    return clnet__pool_launch(call->ctx, PROG, "max_pool_forward", args, n, &g, 0);
}

/* Recomputes each window's maximum from the input: nothing is saved by forward. */
static clnet_status max_pool_backward(const clnet__op_call *call)
{
    if (!call->din[0])
        return CLNET_OK;
    clnet__pool_geom g;
    CLNET_TRY(clnet__pool_check(call->ctx, PROG, call->params, call->in[0]->shape, &g));
    clnet_arg args[16];
    int n = 0;
    args[n++] = CLNET_ARG_MEM(call->in[0]->buf);
    args[n++] = CLNET_ARG_MEM(call->dout->buf);
    args[n++] = CLNET_ARG_MEM(call->din[0]->buf);
    n += clnet__pool_args(&g, args + n);
    return clnet__pool_launch(call->ctx, PROG, "max_pool_backward", args, n, &g, 1);
}

/* Overlapping 3x3/2 windows with one cell of padding (the ResNet stem, 9 -> 5), Keras
 * 'same' on an even size, a float16 tail, pool_size != strides, 1x1 outputs, ceil_mode's
 * last windows overhanging an odd and an even size (SqueezeNet's 3x3/2 pools). */
static const clnet__op_case max_pool_cases[] = {
    {"", 1, {{1, 4, 4, 1}}, 0},
    {"pool_size = 3\nstrides = 2\npadding = 1", 1, {{3, 9, 9, 17}}, 0},
    {"pool_size = 3\nstrides = 2\npadding = same", 1, {{1, 8, 6, 5}}, 0},
    {"pool_size = 2\nstrides = 1", 1, {{3, 5, 7, 33}}, 0},
    {"pool_size = 3\nstrides = 2\nceil_mode = true", 1, {{3, 8, 7, 17}}, 0},
};

static const clnet_op_key max_pool_keys[] = {
    CLNET_POOL_KEYS,
};

const clnet__op_desc clnet__op_max_pool = {
    .name = "max_pool",
    .family = CLNET_FAMILY_POOLING,
    .describe = clnet__pool_describe,
    .keras = "MaxPooling2D",
    .description = "the maximum of each window",
    .keys = max_pool_keys,
    .n_keys = (int)CLNET_COUNTOF(max_pool_keys),
    .params_size = sizeof(clnet__pool_params),
    .min_inputs = 1,
    .max_inputs = 1,
    .flags = CLNET_OP_NOT_SMOOTH | CLNET_OP_BWD_NO_OUTPUT,
    .parse = max_pool_parse,
    .infer = max_pool_infer,
    .flops = clnet__pool_flops,
    .forward = max_pool_forward,
    .backward = max_pool_backward,
    .ref_forward = clnet__ref_max_pool_forward,
    .ref_backward = clnet__ref_max_pool_backward,
    .cases = max_pool_cases,
    .n_cases = (int)CLNET_COUNTOF(max_pool_cases),
};
