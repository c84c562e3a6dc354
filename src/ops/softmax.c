/* softmax.c - softmax (Keras Softmax over the last axis: rows = n * h * w of c).
 * Kernels: cl/softmax.cl. Reference: src/ref/softmax.c. Tests: tests/ops/test_softmax.c. */
#include "ops/softmax.h"
#include "ops/op.h"
#include "ref/ref.h"

#define PROGRAM "softmax"

static clnet_status softmax_parse(clnet_context *ctx, clnet__kv *kv, void *params)
{
    clnet__softmax_params *p = params;
    CLNET_TRY(clnet__kv_int(ctx, kv, "axis", -1, &p->axis));
    if (p->axis != -1 && p->axis != 3)
        return clnet__kv_error(ctx, kv, clnet__kv_find(kv, "axis"), "axis",
                               "only the last axis (-1, channels) is supported, got %d", p->axis);
    p->axis = -1;
    return CLNET_OK;
}

/* exp, add and scale per element. */
/* Nothing to show: axis is always the channels. */
static void softmax_describe(const void *params, char *buf, size_t len)
{
    (void)params;
    if (len)
        buf[0] = '\0';
}

static double softmax_flops(const void *params, const clnet_shape *in, int n_in, clnet_shape out)
{
    (void)params;
    (void)in;
    (void)n_in;
    return 3.0 * (double)clnet__shape_count(out);
}

clnet_status clnet__softmax_launch_rows(clnet_context *ctx, const char *program, const char *kernel,
                                        const clnet_arg *args, int n_args, int rows, int c)
{
    if (!clnet__param(ctx, program, "CLNET_GPU", 0)) {
        const size_t global[1] = {(size_t)rows};
        return clnet__launch(ctx, program, kernel, args, n_args, 1, global);
    }
    size_t wg = (size_t)clnet__param(ctx, program, "CLNET_WG", 64), lanes = 1;
    while (wg > ctx->info.max_work_group_size && wg > 1)
        wg /= 2;
    while (lanes < wg && lanes < (size_t)c)
        lanes *= 2;
    const size_t local[2] = {lanes, wg / lanes};
    const size_t global[2] = {lanes, (size_t)rows};
    return clnet__launch_local(ctx, program, kernel, args, n_args, 2, global, local);
}

clnet_status clnet__softmax_rows_forward(clnet_context *ctx, cl_mem x, cl_mem y, int rows, int c)
{
    const clnet_arg args[] = {CLNET_ARG_MEM(x), CLNET_ARG_MEM(y), CLNET_ARG_INT(rows),
                              CLNET_ARG_INT(c)};
    return clnet__softmax_launch_rows(ctx, PROGRAM, "softmax_forward", args,
                                      (int)CLNET_COUNTOF(args), rows, c);
}

clnet_status clnet__softmax_rows_backward(clnet_context *ctx, cl_mem y, cl_mem dy, cl_mem dx,
                                          int rows, int c)
{
    const clnet_arg args[] = {CLNET_ARG_MEM(y), CLNET_ARG_MEM(dy), CLNET_ARG_MEM(dx),
                              CLNET_ARG_INT(rows), CLNET_ARG_INT(c)};
    return clnet__softmax_launch_rows(ctx, PROGRAM, "softmax_backward", args,
                                      (int)CLNET_COUNTOF(args), rows, c);
}

static clnet_status softmax_forward(const clnet__op_call *call)
{
    const clnet_shape s = call->out->shape;
    return clnet__softmax_rows_forward(call->ctx, call->in[0]->buf, call->out->buf, s.n * s.h * s.w,
                                       s.c);
}

static clnet_status softmax_backward(const clnet__op_call *call)
{
    if (!call->din[0])
        return CLNET_OK;
    const clnet_shape s = call->out->shape;
    return clnet__softmax_rows_backward(call->ctx, call->out->buf, call->dout->buf,
                                        call->din[0]->buf, s.n * s.h * s.w, s.c);
}

/* One class, two, ten, 17 (a float16 and a tail), 1000 (ImageNet: every lane of a
 * GPU group busy); batch 1 and 3, spatial rows too. */
static const clnet__op_case softmax_cases[] = {
    {"", 1, {{1, 1, 1, 1}}, 0},       {"", 1, {{3, 1, 1, 2}}, 0},
    {"", 1, {{3, 1, 1, 10}}, 4.0f},   {"axis = -1", 1, {{2, 3, 5, 17}}, 0},
    {"", 1, {{3, 1, 1, 1000}}, 8.0f},
};

static const clnet_op_key softmax_keys[] = {
    {"axis", "-1 (or 3)", "-1", "the channels, the only axis supported", "-1"},
};

const clnet__op_desc clnet__op_softmax = {
    .name = "softmax",
    .family = CLNET_FAMILY_ACTIVATION,
    .describe = softmax_describe,
    .keras = "Softmax",
    .description = "exp(x) / sum(exp(x)) over the channels: class probabilities",
    .keys = softmax_keys,
    .n_keys = (int)CLNET_COUNTOF(softmax_keys),
    .params_size = sizeof(clnet__softmax_params),
    .min_inputs = 1,
    .max_inputs = 1,
    .flags = CLNET_OP_BWD_INPUT_SHAPE_ONLY | CLNET_OP_PROBABILITIES,
    .parse = softmax_parse,
    .infer = clnet__op_same_shape,
    .flops = softmax_flops,
    .forward = softmax_forward,
    .backward = softmax_backward,
    .ref_forward = clnet__ref_softmax_forward,
    .ref_backward = clnet__ref_softmax_backward,
    .cases = softmax_cases,
    .n_cases = (int)CLNET_COUNTOF(softmax_cases),
};
