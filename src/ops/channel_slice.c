/* channel_slice.c - channels [start, start + size) of the input: ShuffleNetV2's split, as
 * torchvision's x.chunk(2, dim=1) (one channel_slice per chunk). The slice is
 * concatenate's backward for one input and its gradient concatenate's forward into zeros,
 * so it runs concatenate's kernels (src/ops/concatenate.h); its output may be written
 * strided, as a channel block of a wider tensor (exec.strided_out).
 * Kernels: cl/concatenate.cl. Reference: src/ref/channel_slice.c.
 * Tests: tests/ops/test_channel_slice.c. */
#include <stdio.h>

#include "ops/concatenate.h"
#include "ops/op.h"
#include "ref/ref.h"

static clnet_status channel_slice_parse(clnet_context *ctx, clnet__kv *kv, void *params)
{
    clnet__channel_slice_params *p = params;
    CLNET_TRY(clnet__kv_int_in(ctx, kv, "start", 0, 0, CLNET_MAX_DIM, &p->start));
    return clnet__kv_int_in(ctx, kv, "size", CLNET_KV_REQUIRED, 1, CLNET_MAX_DIM, &p->size);
}

static clnet_status channel_slice_infer(clnet_context *ctx, const void *params,
                                        const clnet_shape *in, int n_in, clnet_shape *out)
{
    (void)n_in;
    const clnet__channel_slice_params *p = params;
    if ((int64_t)p->start + p->size > in[0].c) {
        char s[48];
        return clnet__fail(ctx, CLNET_ERR_SHAPE,
                           "channel_slice: start = %d, size = %d needs %lld channels, input %s "
                           "has %d",
                           p->start, p->size, (long long)p->start + p->size,
                           clnet__shape_str(in[0], s, sizeof s), in[0].c);
    }
    return clnet__op_out_shape(ctx, "channel_slice: size", in[0].n, in[0].h, in[0].w, p->size, out);
}

static clnet_status channel_slice_forward(const clnet__op_call *call)
{
    const clnet__channel_slice_params *p = call->params;
    if (call->out_stride && (!call->exec->strided_out || call->out_stride < p->size ||
                             call->out_offset > (size_t)call->out_stride - (size_t)p->size))
        return clnet__fail(call->ctx, CLNET_ERR_INTERNAL,
                           "channel_slice: a strided output (stride %d, offset %zu) it cannot take",
                           call->out_stride, call->out_offset);
    return clnet__channel_block(call->ctx, 0, call->out->buf, call->out->shape, call->out_stride,
                                (int)call->out_offset, call->in[0]->buf, call->in[0]->shape.c,
                                p->start);
}

/* The copy writes its output strided as readily as packed (ShuffleNetV2's first half goes
 * straight into the unit's concatenation, src/plan/memory.c). */
static clnet_status channel_slice_prepare(clnet_context *ctx, const void *params,
                                          const clnet_shape *in, int n_in, clnet_shape out,
                                          int training, clnet__op_exec *e)
{
    (void)ctx;
    (void)params;
    (void)in;
    (void)n_in;
    (void)out;
    (void)training;
    e->strided_out = 1;
    return CLNET_OK;
}

/* Zeros, then the slice's gradient into its channels. */
static clnet_status channel_slice_backward(const clnet__op_call *call)
{
    const clnet__channel_slice_params *p = call->params;
    clnet_tensor *dx = call->din[0];
    if (!dx)
        return CLNET_OK;
    if (p->size < dx->shape.c)
        CLNET_TRY(clnet__fill(call->ctx, dx->buf, 0, dx->count, 0.0f));
    return clnet__channel_block(call->ctx, 1, call->dout->buf, call->dout->shape, 0, 0, dx->buf,
                                dx->shape.c, p->start);
}

/* The two halves of ShuffleNetV2's split, odd channel counts, the whole input, 1x1. */
static const clnet__op_case channel_slice_cases[] = {
    {"start = 0\nsize = 16", 1, {{3, 5, 7, 33}}, 0},
    {"start = 16\nsize = 17", 1, {{3, 5, 7, 33}}, 0},
    {"start = 5\nsize = 1", 1, {{1, 1, 1, 17}}, 0},
    {"size = 17", 1, {{3, 1, 1, 17}}, 0},
};

static const clnet_op_key channel_slice_keys[] = {
    {"start", "int >= 0", "0", "first channel taken", "0"},
    {"size", "int", NULL, "channels taken", "1"},
};

static void channel_slice_describe(const void *params, char *buf, size_t len)
{
    const clnet__channel_slice_params *p = params;
    snprintf(buf, len, "%d:%d", p->start, p->start + p->size);
}

const clnet__op_desc clnet__op_channel_slice = {
    .name = "channel_slice",
    .family = CLNET_FAMILY_RESHAPE,
    .describe = channel_slice_describe,
    .keras = "ChannelSlice",
    .description = "channels [start, start + size) of the input (ShuffleNetV2's split)",
    .keys = channel_slice_keys,
    .n_keys = (int)CLNET_COUNTOF(channel_slice_keys),
    .params_size = sizeof(clnet__channel_slice_params),
    .min_inputs = 1,
    .max_inputs = 1,
    .flags = CLNET_OP_BWD_INPUT_SHAPE_ONLY | CLNET_OP_BWD_NO_OUTPUT,
    .parse = channel_slice_parse,
    .infer = channel_slice_infer,
    .flops = clnet__op_flops_none,
    .prepare = channel_slice_prepare,
    .forward = channel_slice_forward,
    .backward = channel_slice_backward,
    .ref_forward = clnet__ref_channel_slice_forward,
    .ref_backward = clnet__ref_channel_slice_backward,
    .cases = channel_slice_cases,
    .n_cases = (int)CLNET_COUNTOF(channel_slice_cases),
};
