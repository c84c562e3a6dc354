/* avg_pool.c - Keras AveragePooling2D, with PyTorch's / ONNX's count_include_pad and
 * ceil_mode as options (asymmetric padding is the padding key's t, b, l, r).
 * Geometry: src/ops/pool.c. Kernels: cl/avg_pool.cl. Reference: src/ref/avg_pool.c.
 * Tests: tests/ops/test_avg_pool.c. */
#include "ops/pool.h"
#include "ref/ref.h"

#define PROG "avg_pool"

static clnet_status avg_pool_parse(clnet_context *ctx, clnet__kv *kv, void *params)
{
    clnet__pool_params *p = params;
    CLNET_TRY(clnet__pool_parse(ctx, kv, p));
    /* Keras never counts padding; PyTorch does by default (say true to match it). */
    return clnet__kv_bool(ctx, kv, "count_include_pad", 0, &p->count_include_pad);
}

static clnet_status avg_pool_infer(clnet_context *ctx, const void *params, const clnet_shape *in,
                                   int n_in, clnet_shape *out)
{
    (void)n_in;
    return clnet__pool_infer(ctx, PROG, params, in[0], out);
}

/* Appends the kernels' divisor arguments (count_include_pad, end_h, end_w); returns 3. */
static int divisor_args(const clnet__pool_params *p, const clnet__pool_geom *g, clnet_arg *a)
{
    int end_h, end_w;
    clnet__pool_counted_end(p, g, &end_h, &end_w);
    a[0] = CLNET_ARG_INT(p->count_include_pad);
    a[1] = CLNET_ARG_INT(end_h);
    a[2] = CLNET_ARG_INT(end_w);
    return 3;
}

static clnet_status avg_pool_forward(const clnet__op_call *call)
{
    const clnet__pool_params *p = call->params;
    clnet__pool_geom g;
    CLNET_TRY(clnet__pool_check(call->ctx, PROG, p, call->in[0]->shape, &g));
    clnet_arg args[17];
    int n = 0;
    args[n++] = CLNET_ARG_MEM(call->in[0]->buf);
    args[n++] = CLNET_ARG_MEM(call->out->buf);
    n += clnet__pool_args(&g, args + n);
    n += divisor_args(p, &g, args + n);
    return clnet__pool_launch(call->ctx, PROG, "avg_pool_forward", args, n, &g, 0);
}

static clnet_status avg_pool_backward(const clnet__op_call *call)
{
    const clnet__pool_params *p = call->params;
    if (!call->din[0])
        return CLNET_OK;
    clnet__pool_geom g;
    CLNET_TRY(clnet__pool_check(call->ctx, PROG, p, call->in[0]->shape, &g));
    clnet_arg args[17];
    int n = 0;
    args[n++] = CLNET_ARG_MEM(call->dout->buf);
    args[n++] = CLNET_ARG_MEM(call->din[0]->buf);
    n += clnet__pool_args(&g, args + n);
    n += divisor_args(p, &g, args + n);
    return clnet__pool_launch(call->ctx, PROG, "avg_pool_backward", args, n, &g, 1);
}

/* Padded windows counted both ways, Keras 'same' on an even size, a float16 tail,
 * pool_size != strides, ceil_mode's overhanging last window counted both ways. */
static const clnet__op_case avg_pool_cases[] = {
    {"", 1, {{1, 4, 4, 1}}, 0},
    {"pool_size = 3\nstrides = 2\npadding = 1", 1, {{3, 9, 9, 17}}, 0},
    {"pool_size = 3\nstrides = 2\npadding = 1\ncount_include_pad = true", 1, {{1, 9, 9, 5}}, 0},
    {"pool_size = 3\nstrides = 2\npadding = same", 1, {{1, 8, 6, 5}}, 0},
    {"pool_size = 2\nstrides = 1", 1, {{3, 5, 7, 33}}, 0},
    {"pool_size = 3\nstrides = 2\npadding = 1\nceil_mode = true\ncount_include_pad = true",
     1,
     {{3, 8, 6, 17}},
     0},
};

static const clnet_op_key avg_pool_keys[] = {
    CLNET_POOL_KEYS,
    {"count_include_pad", "bool", "false",
     "divide by the whole window, padding included (PyTorch's default)", "true"},
};

const clnet__op_desc clnet__op_avg_pool = {
    .name = "avg_pool",
    .family = CLNET_FAMILY_POOLING,
    .describe = clnet__pool_describe,
    .keras = "AveragePooling2D",
    .description = "the mean of each window (of its input cells, unless count_include_pad)",
    .keys = avg_pool_keys,
    .n_keys = (int)CLNET_COUNTOF(avg_pool_keys),
    .params_size = sizeof(clnet__pool_params),
    .min_inputs = 1,
    .max_inputs = 1,
    .flags = CLNET_OP_BWD_INPUT_SHAPE_ONLY | CLNET_OP_BWD_NO_OUTPUT,
    .parse = avg_pool_parse,
    .infer = avg_pool_infer,
    .flops = clnet__pool_flops,
    .forward = avg_pool_forward,
    .backward = avg_pool_backward,
    .ref_forward = clnet__ref_avg_pool_forward,
    .ref_backward = clnet__ref_avg_pool_backward,
    .cases = avg_pool_cases,
    .n_cases = (int)CLNET_COUNTOF(avg_pool_cases),
};
