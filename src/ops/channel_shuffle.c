/* channel_shuffle.c - ShuffleNet's channel shuffle, as torchvision's channel_shuffle: the c
 * channels viewed as (groups, c / groups), transposed and flattened, so that after a
 * grouped convolution every group sees channels of every other. A permutation of each
 * pixel's channels; its gradient is the inverse permutation.
 * Kernels: cl/channel_shuffle.cl. Reference: src/ref/channel_shuffle.c.
 * Tests: tests/ops/test_channel_shuffle.c. */
#include <stdio.h>

#include "ops/op.h"
#include "ref/ref.h"

#define PROG "channel_shuffle"

static clnet_status channel_shuffle_parse(clnet_context *ctx, clnet__kv *kv, void *params)
{
    clnet__channel_shuffle_params *p = params;
    return clnet__kv_int_in(ctx, kv, "groups", CLNET_KV_REQUIRED, 1, CLNET_MAX_DIM, &p->groups);
}

static clnet_status channel_shuffle_infer(clnet_context *ctx, const void *params,
                                          const clnet_shape *in, int n_in, clnet_shape *out)
{
    (void)n_in;
    const clnet__channel_shuffle_params *p = params;
    if (in[0].c % p->groups != 0) {
        char s[48];
        return clnet__fail(ctx, CLNET_ERR_SHAPE,
                           "channel_shuffle: the input's %d channels (shape %s) do not divide "
                           "into groups = %d",
                           in[0].c, clnet__shape_str(in[0], s, sizeof s), p->groups);
    }
    *out = in[0];
    return CLNET_OK;
}

static clnet_status launch(const clnet__op_call *call, const char *kernel, cl_mem src, cl_mem dst)
{
    const clnet__channel_shuffle_params *p = call->params;
    const clnet_shape s = call->out->shape;
    const size_t pixels = (size_t)s.n * s.h * s.w;
    const clnet_arg args[] = {CLNET_ARG_MEM(src),         CLNET_ARG_MEM(dst),
                              CLNET_ARG_INT((int)pixels), CLNET_ARG_INT(s.c),
                              CLNET_ARG_INT(p->groups),   CLNET_ARG_INT(s.w)};
    if (clnet__param(call->ctx, PROG, "CLNET_GPU", 0)) {
        const size_t global[2] = {(size_t)s.c, pixels};
        return clnet__launch(call->ctx, PROG, kernel, args, (int)CLNET_COUNTOF(args), 2, global);
    }
    const size_t global[1] = {(size_t)s.n * s.h}; /* a pixel row per work-item */
    return clnet__launch(call->ctx, PROG, kernel, args, (int)CLNET_COUNTOF(args), 1, global);
}

static clnet_status channel_shuffle_forward(const clnet__op_call *call)
{
    return launch(call, "channel_shuffle_forward", call->in[0]->buf, call->out->buf);
}

static clnet_status channel_shuffle_backward(const clnet__op_call *call)
{
    if (!call->din[0])
        return CLNET_OK;
    return launch(call, "channel_shuffle_backward", call->dout->buf, call->din[0]->buf);
}

/* ShuffleNetV2's groups = 2 with odd sizes, 3 groups of 11, one group (the identity), one
 * channel per group (also the identity), a 1x1 input. */
static const clnet__op_case channel_shuffle_cases[] = {
    {"groups = 2", 1, {{3, 5, 7, 34}}, 0},  {"groups = 3", 1, {{1, 1, 1, 33}}, 0},
    {"groups = 1", 1, {{3, 2, 3, 17}}, 0},  {"groups = 17", 1, {{3, 2, 3, 17}}, 0},
    {"groups = 4", 1, {{2, 3, 5, 116}}, 0},
};

static const clnet_op_key channel_shuffle_keys[] = {
    {"groups", "int", NULL, "groups the channels are viewed as (they must divide them)", "2"},
};

static void channel_shuffle_describe(const void *params, char *buf, size_t len)
{
    snprintf(buf, len, "%d groups", ((const clnet__channel_shuffle_params *)params)->groups);
}

const clnet__op_desc clnet__op_channel_shuffle = {
    .name = "channel_shuffle",
    .family = CLNET_FAMILY_RESHAPE,
    .describe = channel_shuffle_describe,
    .keras = "ChannelShuffle",
    .description = "channels as (groups, c / groups), transposed: ShuffleNet's shuffle",
    .keys = channel_shuffle_keys,
    .n_keys = (int)CLNET_COUNTOF(channel_shuffle_keys),
    .params_size = sizeof(clnet__channel_shuffle_params),
    .min_inputs = 1,
    .max_inputs = 1,
    .flags = CLNET_OP_BWD_INPUT_SHAPE_ONLY | CLNET_OP_BWD_NO_OUTPUT,
    .parse = channel_shuffle_parse,
    .infer = channel_shuffle_infer,
    .flops = clnet__op_flops_none,
    .forward = channel_shuffle_forward,
    .backward = channel_shuffle_backward,
    .ref_forward = clnet__ref_channel_shuffle_forward,
    .ref_backward = clnet__ref_channel_shuffle_backward,
    .cases = channel_shuffle_cases,
    .n_cases = (int)CLNET_COUNTOF(channel_shuffle_cases),
};
