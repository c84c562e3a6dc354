/* zero_pad.c - Keras ZeroPadding2D: rows of zeros above and below, columns left and right;
 * the backward crops. Kernels: cl/zero_pad.cl. Reference: src/ref/zero_pad.c.
 * Tests: tests/ops/test_zero_pad.c. */
#include <stdio.h>

#include "ops/op.h"
#include "ref/ref.h"

#define PROG "zero_pad"

/* padding = p | ph, pw | t, b, l, r (Keras: int, 2-tuple, or ((t, b), (l, r))); default 1. */
static clnet_status zero_pad_parse(clnet_context *ctx, clnet__kv *kv, void *params)
{
    clnet__zero_pad_params *p = params;
    int v[4], n = 0;
    CLNET_TRY(clnet__kv_ints_in(ctx, kv, "padding", v, 4, &n, 0, CLNET_MAX_DIM));
    const clnet__kv_item *it = clnet__kv_find(kv, "padding");
    if (n == 0) {
        *p = (clnet__zero_pad_params){1, 1, 1, 1};
        return CLNET_OK;
    }
    if (n == 3)
        return clnet__kv_error(ctx, kv, it, "padding",
                               "expected 1, 2 (h, w) or 4 (top, bottom, left, right) integers, "
                               "got '%s'",
                               it->value);
    *p = (clnet__zero_pad_params){v[0], v[0], n == 1 ? v[0] : v[1], n == 1 ? v[0] : v[1]};
    if (n == 4)
        *p = (clnet__zero_pad_params){v[0], v[1], v[2], v[3]};
    return CLNET_OK;
}

static clnet_status zero_pad_infer(clnet_context *ctx, const void *params, const clnet_shape *in,
                                   int n_in, clnet_shape *out)
{
    (void)n_in;
    const clnet__zero_pad_params *p = params;
    return clnet__op_out_shape(ctx, "zero_pad: padding", in[0].n,
                               (int64_t)in[0].h + p->top + p->bottom,
                               (int64_t)in[0].w + p->left + p->right, in[0].c, out);
}

static void zero_pad_describe(const void *params, char *buf, size_t len)
{
    const clnet__zero_pad_params *p = params;
    if (p->top == p->bottom && p->top == p->left && p->top == p->right)
        snprintf(buf, len, "%d", p->top);
    else
        snprintf(buf, len, "((%d, %d), (%d, %d))", p->top, p->bottom, p->left, p->right);
}

static double zero_pad_flops(const void *params, const clnet_shape *in, int n_in, clnet_shape out)
{
    (void)params;
    (void)in;
    (void)n_in;
    (void)out;
    return 0.0;
}

/* kernel over dst (the output forward, the input backward); see cl/zero_pad.cl. */
static clnet_status shifted_copy(const clnet__op_call *call, const char *kernel, cl_mem src,
                                 cl_mem dst, clnet_shape dst_shape)
{
    const clnet__zero_pad_params *p = call->params;
    const clnet_shape in = call->in[0]->shape, out = call->out->shape;
    const clnet_arg args[] = {CLNET_ARG_MEM(src),    CLNET_ARG_MEM(dst),   CLNET_ARG_INT(in.n),
                              CLNET_ARG_INT(in.h),   CLNET_ARG_INT(in.w),  CLNET_ARG_INT(in.c),
                              CLNET_ARG_INT(out.h),  CLNET_ARG_INT(out.w), CLNET_ARG_INT(p->top),
                              CLNET_ARG_INT(p->left)};
    const size_t rows = (size_t)dst_shape.n * dst_shape.h;
    if (clnet__param(call->ctx, PROG, "CLNET_GPU", 0)) {
        const size_t global[3] = {(size_t)dst_shape.c, (size_t)dst_shape.w, rows};
        return clnet__launch(call->ctx, PROG, kernel, args, (int)CLNET_COUNTOF(args), 3, global);
    }
    const size_t global[1] = {rows};
    return clnet__launch(call->ctx, PROG, kernel, args, (int)CLNET_COUNTOF(args), 1, global);
}

static clnet_status zero_pad_forward(const clnet__op_call *call)
{
    return shifted_copy(call, "zero_pad_forward", call->in[0]->buf, call->out->buf,
                        call->out->shape);
}

static clnet_status zero_pad_backward(const clnet__op_call *call)
{
    if (!call->din[0])
        return CLNET_OK;
    return shifted_copy(call, "zero_pad_backward", call->dout->buf, call->din[0]->buf,
                        call->in[0]->shape);
}

/* One-sided and asymmetric padding, no padding, float16 tails, 1x1 inputs. */
static const clnet__op_case zero_pad_cases[] = {
    {"", 1, {{1, 1, 1, 1}}, 0},
    {"padding = 3", 1, {{3, 5, 7, 17}}, 0},
    {"padding = 1, 2", 1, {{1, 4, 3, 33}}, 0},
    {"padding = 0, 1, 2, 0", 1, {{3, 3, 5, 5}}, 0},
    {"padding = 0", 1, {{1, 2, 3, 16}}, 0},
};

static const clnet_op_key zero_pad_keys[] = {
    {"padding", "p|ph, pw|t, b, l, r", "1", "cells of zeros on each side", "1, 2, 3, 0"},
};

const clnet__op_desc clnet__op_zero_pad = {
    .name = "zero_pad",
    .family = CLNET_FAMILY_RESHAPE,
    .describe = zero_pad_describe,
    .keras = "ZeroPadding2D",
    .description = "rows and columns of zeros around the image",
    .keys = zero_pad_keys,
    .n_keys = (int)CLNET_COUNTOF(zero_pad_keys),
    .params_size = sizeof(clnet__zero_pad_params),
    .min_inputs = 1,
    .max_inputs = 1,
    .flags = CLNET_OP_BWD_INPUT_SHAPE_ONLY | CLNET_OP_BWD_NO_OUTPUT,
    .parse = zero_pad_parse,
    .infer = zero_pad_infer,
    .flops = zero_pad_flops,
    .forward = zero_pad_forward,
    .backward = zero_pad_backward,
    .ref_forward = clnet__ref_zero_pad_forward,
    .ref_backward = clnet__ref_zero_pad_backward,
    .cases = zero_pad_cases,
    .n_cases = (int)CLNET_COUNTOF(zero_pad_cases),
};
