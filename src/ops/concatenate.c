/* concatenate.c - Keras Concatenate(axis=-1) of 2..8 inputs of the same batch, height and
 * width along the channels (SqueezeNet's fire modules, DenseNet's dense blocks): a copy
 * launch per input into its channel block of the output, and back for the gradients. An
 * inference plan runs none where the producers write the blocks in place (src/plan/memory.c,
 * CLNET_OP_CHANNEL_CONCAT); training plans keep the copies.
 * Kernels: cl/concatenate.cl. Reference: src/ref/concatenate.c.
 * Tests: tests/ops/test_concatenate.c. */
#include <stdio.h>

#include "ops/concatenate.h"
#include "ops/op.h"
#include "ref/ref.h"

#define PROG "concatenate"

clnet_status clnet__channel_block(clnet_context *ctx, int into_wide, cl_mem part, clnet_shape s,
                                  int part_stride, int part_off, cl_mem wide, int wide_c,
                                  int offset)
{
    const size_t pixels = (size_t)s.n * s.h * s.w;
    const int run = s.w; /* CPU: a work-item per pixel row */
    const clnet_arg args[] = {CLNET_ARG_MEM(into_wide ? part : wide),
                              CLNET_ARG_MEM(into_wide ? wide : part),
                              CLNET_ARG_INT((int)pixels),
                              CLNET_ARG_INT(s.c),
                              CLNET_ARG_INT(wide_c),
                              CLNET_ARG_INT(offset),
                              CLNET_ARG_INT(part_stride ? part_stride : s.c),
                              CLNET_ARG_INT(part_off),
                              CLNET_ARG_INT(run)};
    const char *kernel = into_wide ? "concatenate_forward" : "concatenate_backward";
    if (clnet__param(ctx, PROG, "CLNET_GPU", 0)) {
        const size_t global[2] = {(size_t)s.c, pixels};
        return clnet__launch(ctx, PROG, kernel, args, (int)CLNET_COUNTOF(args), 2, global);
    }
    const size_t global[1] = {(pixels + (size_t)run - 1) / (size_t)run};
    return clnet__launch(ctx, PROG, kernel, args, (int)CLNET_COUNTOF(args), 1, global);
}

static clnet_status concatenate_parse(clnet_context *ctx, clnet__kv *kv, void *params)
{
    clnet__concatenate_params *p = params;
    CLNET_TRY(clnet__kv_int(ctx, kv, "axis", -1, &p->axis));
    if (p->axis != -1 && p->axis != 3)
        return clnet__kv_error(ctx, kv, clnet__kv_find(kv, "axis"), "axis",
                               "only the channels (-1 or 3) are supported, got %d", p->axis);
    p->axis = -1;
    return CLNET_OK;
}

static clnet_status concatenate_infer(clnet_context *ctx, const void *params, const clnet_shape *in,
                                      int n_in, clnet_shape *out)
{
    (void)params;
    if (n_in < 2 || n_in > CLNET_MAX_INPUTS)
        return clnet__fail(ctx, CLNET_ERR_INVALID_ARG, "concatenate: needs 2 to %d inputs, got %d",
                           CLNET_MAX_INPUTS, n_in);
    int64_t c = 0;
    for (int i = 0; i < n_in; ++i) {
        if (in[i].n != in[0].n || in[i].h != in[0].h || in[i].w != in[0].w) {
            char a[48], b[48];
            return clnet__fail(ctx, CLNET_ERR_SHAPE,
                               "concatenate: input %d has shape %s, input 0 has %s (all but the "
                               "channels must match)",
                               i, clnet__shape_str(in[i], a, sizeof a),
                               clnet__shape_str(in[0], b, sizeof b));
        }
        c += in[i].c;
    }
    return clnet__op_out_shape(ctx, "concatenate: the channels", in[0].n, in[0].h, in[0].w, c, out);
}

static clnet_status concatenate_forward(const clnet__op_call *call)
{
    int offset = 0;
    for (int i = 0; i < call->n_in; ++i) {
        CLNET_TRY(clnet__channel_block(call->ctx, 1, call->in[i]->buf, call->in[i]->shape, 0, 0,
                                       call->out->buf, call->out->shape.c, offset));
        offset += call->in[i]->shape.c;
    }
    return CLNET_OK;
}

static clnet_status concatenate_backward(const clnet__op_call *call)
{
    int offset = 0;
    for (int i = 0; i < call->n_in; ++i) {
        if (call->din[i])
            CLNET_TRY(clnet__channel_block(call->ctx, 0, call->din[i]->buf, call->in[i]->shape, 0,
                                           0, call->dout->buf, call->dout->shape.c, offset));
        offset += call->in[i]->shape.c;
    }
    return CLNET_OK;
}

/* Channels 1, 17, 33 and multiples of 16 side by side, 1x1 and odd spatial sizes. */
static const clnet__op_case concatenate_cases[] = {
    {"", 2, {{3, 5, 7, 17}, {3, 5, 7, 33}}, 0},
    {"axis = -1", 3, {{1, 1, 1, 1}, {1, 1, 1, 3}, {1, 1, 1, 17}}, 0},
    {"axis = 3", 3, {{2, 4, 3, 16}, {2, 4, 3, 5}, {2, 4, 3, 1}}, 0},
    {"", 2, {{3, 1, 1, 64}, {3, 1, 1, 33}}, 0},
};

static const clnet_op_key concatenate_keys[] = {
    {"axis", "-1|3", "-1", "the channel axis (the only one supported), as Keras's", "3"},
};

static void concatenate_describe(const void *params, char *buf, size_t len)
{
    (void)params;
    snprintf(buf, len, "channels");
}

const clnet__op_desc clnet__op_concatenate = {
    .name = "concatenate",
    .family = CLNET_FAMILY_MERGE,
    .describe = concatenate_describe,
    .keras = "Concatenate",
    .description = "2 to 8 inputs side by side along the channels",
    .keys = concatenate_keys,
    .n_keys = (int)CLNET_COUNTOF(concatenate_keys),
    .params_size = sizeof(clnet__concatenate_params),
    .min_inputs = 2,
    .max_inputs = CLNET_MAX_INPUTS,
    .flags = CLNET_OP_BWD_INPUT_SHAPE_ONLY | CLNET_OP_BWD_NO_OUTPUT | CLNET_OP_CHANNEL_CONCAT,
    .parse = concatenate_parse,
    .infer = concatenate_infer,
    .flops = clnet__op_flops_none,
    .forward = concatenate_forward,
    .backward = concatenate_backward,
    .ref_forward = clnet__ref_concatenate_forward,
    .ref_backward = clnet__ref_concatenate_backward,
    .cases = concatenate_cases,
    .n_cases = (int)CLNET_COUNTOF(concatenate_cases),
};
