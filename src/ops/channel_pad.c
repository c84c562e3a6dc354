/* channel_pad.c - the option-A ResNet shortcut (He et al. 2015, CIFAR ResNets): spatial
 * subsampling by `stride` and zero channels up to `channels`, `before` of them ahead of
 * the input's. Kernels: cl/channel_pad.cl. Reference: src/ref/channel_pad.c.
 * Tests: tests/ops/test_channel_pad.c. */
#include <stdio.h>

#include "ops/op.h"
#include "ref/ref.h"

#define PROG "channel_pad"

static clnet_status channel_pad_parse(clnet_context *ctx, clnet__kv *kv, void *params)
{
    clnet__channel_pad_params *p = params;
    CLNET_TRY(
        clnet__kv_int_in(ctx, kv, "channels", CLNET_KV_REQUIRED, 1, CLNET_MAX_DIM, &p->channels));
    CLNET_TRY(clnet__kv_int_in(ctx, kv, "stride", 1, 1, CLNET_MAX_DIM, &p->stride));
    return clnet__kv_int_in(ctx, kv, "before", 0, 0, CLNET_MAX_DIM, &p->before);
}

static clnet_status channel_pad_infer(clnet_context *ctx, const void *params, const clnet_shape *in,
                                      int n_in, clnet_shape *out)
{
    (void)n_in;
    const clnet__channel_pad_params *p = params;
    if ((int64_t)in[0].c + p->before > p->channels || clnet__shape_count(in[0]) == 0) {
        char s[48];
        return clnet__fail(ctx, CLNET_ERR_SHAPE,
                           "channel_pad: input %s with %d channels before does not fit in "
                           "channels = %d",
                           clnet__shape_str(in[0], s, sizeof s), p->before, p->channels);
    }
    return clnet__op_out_shape(ctx, "channel_pad: channels", in[0].n,
                               ((int64_t)in[0].h + p->stride - 1) / p->stride,
                               ((int64_t)in[0].w + p->stride - 1) / p->stride, p->channels, out);
}

static void channel_pad_describe(const void *params, char *buf, size_t len)
{
    const clnet__channel_pad_params *p = params;
    if (p->stride > 1)
        snprintf(buf, len, "/%d, %d", p->stride, p->channels);
    else
        snprintf(buf, len, "%d", p->channels);
}

static double channel_pad_flops(const void *params, const clnet_shape *in, int n_in,
                                clnet_shape out)
{
    (void)params;
    (void)in;
    (void)n_in;
    (void)out;
    return 0.0;
}

/* kernel over dst, whose shape is the output's forward and the input's backward. */
static clnet_status launch(const clnet__op_call *call, const char *kernel, cl_mem src, cl_mem dst,
                           clnet_shape dst_shape)
{
    const clnet__channel_pad_params *p = call->params;
    const clnet_shape in = call->in[0]->shape, out = call->out->shape;
    const clnet_arg args[] = {
        CLNET_ARG_MEM(src),       CLNET_ARG_MEM(dst),      CLNET_ARG_INT(in.n),
        CLNET_ARG_INT(in.h),      CLNET_ARG_INT(in.w),     CLNET_ARG_INT(in.c),
        CLNET_ARG_INT(out.h),     CLNET_ARG_INT(out.w),    CLNET_ARG_INT(out.c),
        CLNET_ARG_INT(p->stride), CLNET_ARG_INT(p->before)};
    const size_t rows = (size_t)dst_shape.n * dst_shape.h;
    if (clnet__param(call->ctx, PROG, "CLNET_GPU", 0)) {
        const size_t global[3] = {(size_t)dst_shape.c, (size_t)dst_shape.w, rows};
        return clnet__launch(call->ctx, PROG, kernel, args, (int)CLNET_COUNTOF(args), 3, global);
    }
    const size_t global[1] = {rows};
    return clnet__launch(call->ctx, PROG, kernel, args, (int)CLNET_COUNTOF(args), 1, global);
}

static clnet_status channel_pad_forward(const clnet__op_call *call)
{
    return launch(call, "channel_pad_forward", call->in[0]->buf, call->out->buf, call->out->shape);
}

static clnet_status channel_pad_backward(const clnet__op_call *call)
{
    if (!call->din[0])
        return CLNET_OK;
    return launch(call, "channel_pad_backward", call->dout->buf, call->din[0]->buf,
                  call->in[0]->shape);
}

/* The CIFAR ResNet shortcuts (16 -> 32 channels, stride 2, 8 zero channels either side),
 * odd sizes, float16 tails, stride 1, 1x1 inputs, all zeros after or all before. */
static const clnet__op_case channel_pad_cases[] = {
    {"channels = 32\nstride = 2\nbefore = 8", 1, {{3, 7, 9, 16}}, 0},
    {"channels = 33\nstride = 2", 1, {{1, 5, 6, 17}}, 0},
    {"channels = 5\nbefore = 4", 1, {{3, 1, 1, 1}}, 0},
    {"channels = 21\nstride = 3\nbefore = 2", 1, {{1, 7, 4, 17}}, 0},
};

static const clnet_op_key channel_pad_keys[] = {
    {"channels", "int", NULL, "output channels", "16"},
    {"stride", "int", "1", "keeps every stride-th row and column", "2"},
    {"before", "int >= 0", "0", "zero channels ahead of the input's", "4"},
};

const clnet__op_desc clnet__op_channel_pad = {
    .name = "channel_pad",
    .family = CLNET_FAMILY_RESHAPE,
    .describe = channel_pad_describe,
    .keras = "ChannelPad",
    .description = "zero channels around the input's, strided: the option-A ResNet shortcut",
    .keys = channel_pad_keys,
    .n_keys = (int)CLNET_COUNTOF(channel_pad_keys),
    .params_size = sizeof(clnet__channel_pad_params),
    .min_inputs = 1,
    .max_inputs = 1,
    .flags = CLNET_OP_BWD_INPUT_SHAPE_ONLY | CLNET_OP_BWD_NO_OUTPUT,
    .parse = channel_pad_parse,
    .infer = channel_pad_infer,
    .flops = channel_pad_flops,
    .forward = channel_pad_forward,
    .backward = channel_pad_backward,
    .ref_forward = clnet__ref_channel_pad_forward,
    .ref_backward = clnet__ref_channel_pad_backward,
    .cases = channel_pad_cases,
    .n_cases = (int)CLNET_COUNTOF(channel_pad_cases),
};
