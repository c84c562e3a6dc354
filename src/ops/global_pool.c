/* global_pool.c - global_avg_pool and global_max_pool (Keras GlobalAveragePooling2D /
 * GlobalMaxPooling2D with keepdims): [n, h, w, c] -> [n, 1, 1, c]. The max gradient goes
 * to the first maximum in pixel order. Kernels: cl/global_pool.cl.
 * Reference: src/ref/global_pool.c. Tests: tests/ops/test_global_pool.c. */
#include "ops/op.h"
#include "ref/ref.h"

#define PROG "global_pool"

/* The kernels' mode argument. */
enum { GP_AVG = 0, GP_MAX = 1, GP_ARGMAX = 2 };

static clnet_status global_pool_parse(clnet_context *ctx, clnet__kv *kv, void *params)
{
    (void)ctx;
    (void)kv;
    (void)params;
    return CLNET_OK; /* no keys: the caller rejects any */
}

static clnet_status global_pool_infer(clnet_context *ctx, const void *params, const clnet_shape *in,
                                      int n_in, clnet_shape *out)
{
    (void)params;
    (void)n_in;
    if (clnet__shape_count(in[0]) == 0) {
        char s[48];
        return clnet__fail(ctx, CLNET_ERR_SHAPE, "global pooling: empty input %s",
                           clnet__shape_str(in[0], s, sizeof s));
    }
    *out = (clnet_shape){in[0].n, 1, 1, in[0].c};
    return CLNET_OK;
}

static double global_pool_flops(const void *params, const clnet_shape *in, int n_in,
                                clnet_shape out)
{
    (void)params;
    (void)n_in;
    (void)out;
    return (double)clnet__shape_count(in[0]);
}

/* Reduces x over its pixels into y (GP_AVG, GP_MAX) or into the int argmax (GP_ARGMAX). */
static clnet_status reduce(clnet_context *ctx, clnet_tensor *x, cl_mem y, cl_mem arg, int mode)
{
    const clnet_shape s = x->shape;
    const clnet_arg args[] = {CLNET_ARG_MEM(x->buf), CLNET_ARG_MEM(y),         CLNET_ARG_MEM(arg),
                              CLNET_ARG_INT(s.n),    CLNET_ARG_INT(s.h * s.w), CLNET_ARG_INT(s.c),
                              CLNET_ARG_INT(mode)};
    if (clnet__param(ctx, PROG, "CLNET_GPU", 0)) {
        const size_t ct = (size_t)clnet__param(ctx, PROG, "GP_CT", 16);
        const size_t rt = (size_t)clnet__param(ctx, PROG, "GP_RT", 4);
        const size_t global[3] = {(size_t)s.c, rt, (size_t)s.n}, local[3] = {ct, rt, 1};
        return clnet__launch_local(ctx, PROG, "global_pool_forward", args, (int)CLNET_COUNTOF(args),
                                   3, global, local);
    }
    const size_t cvec = (size_t)clnet__param(ctx, PROG, "CLNET_CVEC", 1);
    const size_t global[2] = {((size_t)s.c + cvec - 1) / cvec, (size_t)s.n};
    return clnet__launch(ctx, PROG, "global_pool_forward", args, (int)CLNET_COUNTOF(args), 2,
                         global);
}

/* The argmax is unused by the avg/max modes: y stands in for it. */
static clnet_status global_avg_pool_forward(const clnet__op_call *call)
{
    return reduce(call->ctx, call->in[0], call->out->buf, call->out->buf, GP_AVG);
}

static clnet_status global_max_pool_forward(const clnet__op_call *call)
{
    return reduce(call->ctx, call->in[0], call->out->buf, call->out->buf, GP_MAX);
}

static clnet_status spread(const clnet__op_call *call, cl_mem arg, int is_max)
{
    clnet_context *ctx = call->ctx;
    const clnet_shape s = call->in[0]->shape;
    const int hw = s.h * s.w;
    const clnet_arg args[] = {CLNET_ARG_MEM(call->dout->buf),
                              CLNET_ARG_MEM(arg),
                              CLNET_ARG_MEM(call->din[0]->buf),
                              CLNET_ARG_INT(s.n),
                              CLNET_ARG_INT(hw),
                              CLNET_ARG_INT(s.c),
                              CLNET_ARG_INT(is_max)};
    if (clnet__param(ctx, PROG, "CLNET_GPU", 0)) {
        const size_t global[3] = {(size_t)s.c, (size_t)hw, (size_t)s.n};
        return clnet__launch(ctx, PROG, "global_pool_backward", args, (int)CLNET_COUNTOF(args), 3,
                             global);
    }
    const size_t run = (size_t)clnet__param(ctx, PROG, "GP_RUN", 16);
    const size_t global[2] = {((size_t)hw + run - 1) / run, (size_t)s.n};
    return clnet__launch(ctx, PROG, "global_pool_backward", args, (int)CLNET_COUNTOF(args), 2,
                         global);
}

/* dout stands in for the argmax, which avg never reads. */
static clnet_status global_avg_pool_backward(const clnet__op_call *call)
{
    if (!call->din[0])
        return CLNET_OK;
    return spread(call, call->dout->buf, 0);
}

/* Recomputes the argmax (n * c ints in scratch), then spreads dout to it. */
static clnet_status global_max_pool_backward(const clnet__op_call *call)
{
    if (!call->din[0])
        return CLNET_OK;
    const clnet_shape s = call->in[0]->shape;
    cl_mem arg = NULL;
    CLNET_TRY(clnet__scratch_get(call->ctx, call->scratch, CLNET_SCRATCH_TMP,
                                 (size_t)s.n * s.c * sizeof(cl_int), "global_max_pool argmax",
                                 &arg));
    CLNET_TRY(reduce(call->ctx, call->in[0], call->dout->buf, arg, GP_ARGMAX));
    return spread(call, arg, 1);
}

/* Backward recomputes the argmax: n * c ints. */
static clnet_status global_max_pool_prepare(clnet_context *ctx, const void *params,
                                            const clnet_shape *in, int n_in, clnet_shape out,
                                            int training, clnet__op_exec *e)
{
    (void)ctx;
    (void)params;
    (void)n_in;
    (void)out;
    if (training)
        e->scratch[1][CLNET_SCRATCH_TMP] = (size_t)in[0].n * (size_t)in[0].c * sizeof(cl_int);
    return CLNET_OK;
}

/* 1x1 inputs, float16 tails, more pixels than a GPU work-group has lanes. */
static const clnet__op_case global_pool_cases[] = {
    {"", 1, {{1, 1, 1, 1}}, 0},
    {"", 1, {{3, 5, 7, 17}}, 0},
    {"", 1, {{1, 9, 9, 33}}, 0},
    {"", 1, {{3, 2, 3, 5}}, 0},
};

const clnet__op_desc clnet__op_global_avg_pool = {
    .name = "global_avg_pool",
    .family = CLNET_FAMILY_POOLING,
    .keras = "GlobalAveragePooling2D",
    .description = "the mean of each channel over the image: h x w x c -> 1 x 1 x c",
    .min_inputs = 1,
    .max_inputs = 1,
    .flags = CLNET_OP_BWD_INPUT_SHAPE_ONLY | CLNET_OP_BWD_NO_OUTPUT | CLNET_OP_RANK2,
    .parse = global_pool_parse,
    .infer = global_pool_infer,
    .flops = global_pool_flops,
    .forward = global_avg_pool_forward,
    .backward = global_avg_pool_backward,
    .ref_forward = clnet__ref_global_avg_pool_forward,
    .ref_backward = clnet__ref_global_avg_pool_backward,
    .cases = global_pool_cases,
    .n_cases = (int)CLNET_COUNTOF(global_pool_cases),
};

const clnet__op_desc clnet__op_global_max_pool = {
    .name = "global_max_pool",
    .family = CLNET_FAMILY_POOLING,
    .keras = "GlobalMaxPooling2D",
    .description = "the maximum of each channel over the image: h x w x c -> 1 x 1 x c",
    .min_inputs = 1,
    .max_inputs = 1,
    .flags = CLNET_OP_NOT_SMOOTH | CLNET_OP_BWD_NO_OUTPUT | CLNET_OP_RANK2,
    .parse = global_pool_parse,
    .infer = global_pool_infer,
    .flops = global_pool_flops,
    .prepare = global_max_pool_prepare,
    .forward = global_max_pool_forward,
    .backward = global_max_pool_backward,
    .ref_forward = clnet__ref_global_max_pool_forward,
    .ref_backward = clnet__ref_global_max_pool_backward,
    .cases = global_pool_cases,
    .n_cases = (int)CLNET_COUNTOF(global_pool_cases),
};
