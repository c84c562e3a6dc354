/* relu.c - relu and relu6 (Keras ReLU(max_value=...) and ReLU6).
 * Kernels: cl/relu.cl. Reference: src/ref/relu.c. Tests: tests/ops/test_relu.c. */
#include <stdio.h>

#include "ops/op.h"
#include "ref/ref.h"

static clnet_status relu_parse(clnet_context *ctx, clnet__kv *kv, void *params)
{
    clnet__relu_params *p = params;
    double cap = 0.0;
    CLNET_TRY(clnet__kv_float(ctx, kv, "max_value", 0.0, &cap));
    if (cap < 0.0)
        return clnet__kv_error(ctx, kv, clnet__kv_find(kv, "max_value"), "max_value",
                               "must be positive (0 means no cap)");
    p->cap = (float)cap;
    return CLNET_OK;
}

static clnet_status relu6_parse(clnet_context *ctx, clnet__kv *kv, void *params)
{
    (void)ctx;
    (void)kv;
    ((clnet__relu_params *)params)->cap = 6.0f;
    return CLNET_OK;
}

static clnet_status same_shape(clnet_context *ctx, const void *params, const clnet_shape *in,
                               int n_in, clnet_shape *out)
{
    (void)ctx;
    (void)params;
    (void)n_in;
    *out = in[0];
    return CLNET_OK;
}

static void relu_describe(const void *params, char *buf, size_t len)
{
    const clnet__relu_params *p = params;
    if (p->cap > 0.0f)
        snprintf(buf, len, "max %g", (double)p->cap);
    else if (len)
        buf[0] = '\0';
}

static double relu_flops(const void *params, const clnet_shape *in, int n_in, clnet_shape out)
{
    (void)params;
    (void)in;
    (void)n_in;
    return (double)clnet__shape_count(out);
}

static clnet_status relu_forward(const clnet__op_call *call)
{
    const clnet__relu_params *p = call->params;
    const int count = (int)call->out->count;
    const clnet_arg args[] = {CLNET_ARG_MEM(call->in[0]->buf), CLNET_ARG_MEM(call->out->buf),
                              CLNET_ARG_INT(count), CLNET_ARG_FLOAT(p->cap)};
    const size_t global[1] = {clnet__chunks(call->ctx, "relu", (size_t)count)};
    return clnet__launch(call->ctx, "relu", "relu_forward", args, (int)CLNET_COUNTOF(args), 1,
                         global);
}

static clnet_status relu_backward(const clnet__op_call *call)
{
    const clnet__relu_params *p = call->params;
    if (!call->din[0])
        return CLNET_OK;
    const int count = (int)call->out->count;
    const clnet_arg args[] = {CLNET_ARG_MEM(call->in[0]->buf), CLNET_ARG_MEM(call->dout->buf),
                              CLNET_ARG_MEM(call->din[0]->buf), CLNET_ARG_INT(count),
                              CLNET_ARG_FLOAT(p->cap)};
    const size_t global[1] = {clnet__chunks(call->ctx, "relu", (size_t)count)};
    return clnet__launch(call->ctx, "relu", "relu_backward", args, (int)CLNET_COUNTOF(args), 1,
                         global);
}

/* Counts not a multiple of the vector width or chunk; the scaled case crosses 6. */
static const clnet__op_case relu_cases[] = {
    {"", 1, {{1, 1, 1, 1}}, 0},
    {"", 1, {{3, 5, 7, 3}}, 0},
    {"max_value = 2.5", 1, {{2, 9, 11, 17}}, 4.0f},
};
static const clnet__op_case relu6_cases[] = {
    {"", 1, {{1, 1, 1, 5}}, 8.0f},
    {"", 1, {{3, 13, 13, 33}}, 8.0f},
};

static const clnet_op_key relu_keys[] = {
    {"max_value", "float", "0", "cap of the output; 0: no cap (6 gives relu6)", "6"},
};

const clnet__op_desc clnet__op_relu = {
    .name = "relu",
    .keras = "ReLU",
    .family = CLNET_FAMILY_ACTIVATION,
    .describe = relu_describe,
    .description = "max(x, 0), capped at max_value when it is given",
    .keys = relu_keys,
    .n_keys = (int)CLNET_COUNTOF(relu_keys),
    .params_size = sizeof(clnet__relu_params),
    .min_inputs = 1,
    .max_inputs = 1,
    .flags = CLNET_OP_NOT_SMOOTH | CLNET_OP_BWD_NO_OUTPUT,
    .parse = relu_parse,
    .infer = same_shape,
    .flops = relu_flops,
    .forward = relu_forward,
    .backward = relu_backward,
    .ref_forward = clnet__ref_relu_forward,
    .ref_backward = clnet__ref_relu_backward,
    .cases = relu_cases,
    .n_cases = (int)CLNET_COUNTOF(relu_cases),
};

const clnet__op_desc clnet__op_relu6 = {
    .name = "relu6",
    .keras = "ReLU",
    .family = CLNET_FAMILY_ACTIVATION,
    .describe = relu_describe,
    .description = "min(max(x, 0), 6): Keras ReLU(max_value=6), MobileNet's activation",
    .params_size = sizeof(clnet__relu_params),
    .min_inputs = 1,
    .max_inputs = 1,
    .flags = CLNET_OP_NOT_SMOOTH | CLNET_OP_BWD_NO_OUTPUT,
    .parse = relu6_parse,
    .infer = same_shape,
    .flops = relu_flops,
    .forward = relu_forward,
    .backward = relu_backward,
    .ref_forward = clnet__ref_relu_forward,
    .ref_backward = clnet__ref_relu_backward,
    .cases = relu6_cases,
    .n_cases = (int)CLNET_COUNTOF(relu6_cases),
};
