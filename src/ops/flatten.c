/* flatten.c - Keras Flatten: [n, h, w, c] -> [n, 1, 1, h * w * c] in NHWC order, so the
 * data does not move: forward and backward are device copies (no kernel).
 * Reference: src/ref/flatten.c. Tests: tests/ops/test_flatten.c. */
#include "ops/op.h"
#include "ref/ref.h"

static clnet_status flatten_parse(clnet_context *ctx, clnet__kv *kv, void *params)
{
    (void)ctx;
    (void)kv;
    (void)params;
    return CLNET_OK; /* no keys: the caller rejects any */
}

static clnet_status flatten_infer(clnet_context *ctx, const void *params, const clnet_shape *in,
                                  int n_in, clnet_shape *out)
{
    (void)params;
    (void)n_in;
    return clnet__op_out_shape(ctx, "flatten: the features", in[0].n, 1, 1,
                               (int64_t)in[0].h * in[0].w * in[0].c, out);
}

static double flatten_flops(const void *params, const clnet_shape *in, int n_in, clnet_shape out)
{
    (void)params;
    (void)in;
    (void)n_in;
    (void)out;
    return 0.0;
}

static clnet_status flatten_forward(const clnet__op_call *call)
{
    return clnet__copy(call->ctx, call->in[0]->buf, 0, call->out->buf, 0, call->out->count);
}

static clnet_status flatten_backward(const clnet__op_call *call)
{
    if (!call->din[0])
        return CLNET_OK;
    return clnet__copy(call->ctx, call->dout->buf, 0, call->din[0]->buf, 0, call->dout->count);
}

static const clnet__op_case flatten_cases[] = {
    {"", 1, {{1, 1, 1, 1}}, 0},
    {"", 1, {{3, 5, 7, 17}}, 0},
    {"", 1, {{2, 1, 1, 33}}, 0},
};

const clnet__op_desc clnet__op_flatten = {
    .name = "flatten",
    .family = CLNET_FAMILY_RESHAPE,
    .keras = "Flatten",
    .description = "h x w x c -> 1 x 1 x (h * w * c), in NHWC order",
    .min_inputs = 1,
    .max_inputs = 1,
    .flags = CLNET_OP_BWD_INPUT_SHAPE_ONLY | CLNET_OP_BWD_NO_OUTPUT | CLNET_OP_RANK2,
    .parse = flatten_parse,
    .infer = flatten_infer,
    .flops = flatten_flops,
    .forward = flatten_forward,
    .backward = flatten_backward,
    .ref_forward = clnet__ref_flatten_forward,
    .ref_backward = clnet__ref_flatten_backward,
    .cases = flatten_cases,
    .n_cases = (int)CLNET_COUNTOF(flatten_cases),
};
