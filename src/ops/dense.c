/* dense.c - Keras Dense on the last axis: [n, h, w, c] -> [n, h, w, units], one GEMM
 * [n*h*w, c] x [c, units] with the fused bias + activation epilogue. Runs as the 1x1
 * stride-1 conv2d it is (src/ops/conv2d.c and its kernels in cl/conv2d.cl); activation =
 * softmax then runs the softmax op's row kernels over the units (cl/softmax.cl).
 * Reference: src/ref/dense.c. Tests: tests/ops/test_dense.c. */
#include <limits.h>
#include <stdio.h>

#include "ops/op.h"
#include "ops/softmax.h"
#include "ref/ref.h"

static clnet_status dense_parse(clnet_context *ctx, clnet__kv *kv, void *params)
{
    clnet__dense_params *p = params;
    CLNET_TRY(clnet__kv_int_in(ctx, kv, "units", CLNET_KV_REQUIRED, 1, CLNET_MAX_DIM, &p->units));
    CLNET_TRY(clnet__kv_bool(ctx, kv, "use_bias", 1, &p->use_bias));
    return clnet__act_parse(ctx, kv, "activation", 0, 1, &p->act);
}

static clnet_status dense_infer(clnet_context *ctx, const void *params, const clnet_shape *in,
                                int n_in, clnet_shape *out)
{
    (void)n_in;
    const clnet__dense_params *p = params;
    const double count = (double)in[0].n * in[0].h * in[0].w * p->units;
    if (clnet__shape_count(in[0]) == 0 || count > INT_MAX || (double)in[0].c * p->units > INT_MAX) {
        char s[48];
        return clnet__fail(ctx, in[0].c < 1 ? CLNET_ERR_SHAPE : CLNET_ERR_TOO_LARGE,
                           "dense: input %s with %d units: empty or beyond 2^31 elements",
                           clnet__shape_str(in[0], s, sizeof s), p->units);
    }
    return clnet__op_out_shape(ctx, "dense: units", in[0].n, in[0].h, in[0].w, p->units, out);
}

static int dense_weights(const void *params, const clnet_shape *in, int n_in, clnet__weight_desc *w)
{
    (void)n_in;
    const clnet__dense_params *p = params;
    w[0] = (clnet__weight_desc){
        "kernel", {1, 1, in[0].c, p->units}, 1, CLNET_INIT_GLOROT_UNIFORM, 0.0f, 0.0f, -0.5f, 0.5f};
    if (!p->use_bias)
        return 1;
    w[1] = (clnet__weight_desc){
        "bias", {1, 1, 1, p->units}, 1, CLNET_INIT_UNIFORM, 0.0f, 0.0f, -0.5f, 0.5f};
    return 2;
}

static void dense_describe(const void *params, char *buf, size_t len)
{
    const clnet__dense_params *p = params;
    char act[48];
    snprintf(buf, len, "%d units%s", p->units, clnet__act_suffix(p->act, act, sizeof act));
}

static double dense_flops(const void *params, const clnet_shape *in, int n_in, clnet_shape out)
{
    (void)params;
    (void)n_in;
    return (double)clnet__shape_count(out) * in[0].c;
}

/* The conv2d parameters of this layer: 1x1, stride 1, no padding; a softmax runs after. */
static clnet__conv2d_params as_conv(const clnet__dense_params *p)
{
    clnet__conv2d_params c = {0};
    c.filters = p->units;
    c.kh = c.kw = c.sh = c.sw = 1;
    c.padding = CLNET_PADDING_VALID;
    c.use_bias = p->use_bias;
    if (p->act.id != CLNET_ACT_SOFTMAX)
        c.act = p->act;
    return c;
}

/* conv2d's: the pre-activation of an activation whose backward reads it. */
static int dense_saved(const void *params, const clnet_shape *in, int n_in, clnet_shape *saved)
{
    const clnet__conv2d_params cp = as_conv(params);
    return clnet__op_conv2d.saved(&cp, in, n_in, saved);
}

/* conv2d's record of the same product; with softmax, its backward's logits gradient in TMP
 * (conv2d without an activation then uses no TMP itself). */
static clnet_status dense_prepare(clnet_context *ctx, const void *params, const clnet_shape *in,
                                  int n_in, clnet_shape out, int training, clnet__op_exec *e)
{
    const clnet__dense_params *p = params;
    const clnet__conv2d_params cp = as_conv(p);
    CLNET_TRY(clnet__op_conv2d.prepare(ctx, &cp, in, n_in, out, training, e));
    /* The softmax after the GEMM reads and writes packed rows. */
    e->strided_out = p->act.id != CLNET_ACT_SOFTMAX;
    const size_t tmp = clnet__shape_count(out) * sizeof(float);
    if (training && p->act.id == CLNET_ACT_SOFTMAX && e->scratch[1][CLNET_SCRATCH_TMP] < tmp)
        e->scratch[1][CLNET_SCRATCH_TMP] = tmp;
    return CLNET_OK;
}

/* Softmax rows: the pixels, of units each. */
static int rows_of(clnet_shape s)
{
    return s.n * s.h * s.w;
}

static clnet_status dense_prepack(clnet_context *ctx, const void *params, const clnet_shape *in,
                                  int n_in, const clnet__op_exec *e, const float *kernel,
                                  float *out)
{
    const clnet__conv2d_params cp = as_conv(params);
    return clnet__op_conv2d.prepack(ctx, &cp, in, n_in, e, kernel, out);
}

static clnet_status dense_forward(const clnet__op_call *call)
{
    const clnet__dense_params *p = call->params;
    const clnet__conv2d_params cp = as_conv(p);
    clnet__op_call c = *call;
    c.params = &cp;
    CLNET_TRY(clnet__op_conv2d.forward(&c));
    if (p->act.id != CLNET_ACT_SOFTMAX)
        return CLNET_OK;
    const clnet_shape s = call->out->shape;
    return clnet__softmax_rows_forward(call->ctx, call->out->buf, call->out->buf, rows_of(s), s.c);
}

/* With softmax: the logits' gradient y * (dy - sum(dy * y)) into a scratch tensor, then
 * the GEMM's backward from it. */
static clnet_status dense_backward(const clnet__op_call *call)
{
    const clnet__dense_params *p = call->params;
    const clnet__conv2d_params cp = as_conv(p);
    clnet__op_call c = *call;
    c.params = &cp;
    clnet_tensor dlogits;
    if (p->act.id == CLNET_ACT_SOFTMAX) {
        const clnet_shape s = call->out->shape;
        dlogits = *call->dout;
        CLNET_TRY(clnet__scratch_get(call->ctx, call->scratch, CLNET_SCRATCH_TMP,
                                     dlogits.count * sizeof(float), "dense softmax gradient",
                                     &dlogits.buf));
        CLNET_TRY(clnet__softmax_rows_backward(call->ctx, call->out->buf, call->dout->buf,
                                               dlogits.buf, rows_of(s), s.c));
        c.dout = &dlogits; /* conv2d without an activation reads it and uses no TMP scratch */
    }
    return clnet__op_conv2d.backward(&c);
}

/* A classifier head on a flat batch, dense on every pixel of an image, channel counts
 * off the float16 width, relu6 scaled to cross 0 and 6. */
static const clnet__op_case dense_cases[] = {
    {"units = 10", 1, {{3, 1, 1, 33}}, 0},
    {"units = 17\nactivation = relu", 1, {{1, 4, 3, 5}}, 0},
    {"units = 6\nuse_bias = false\nactivation = relu6", 1, {{3, 2, 3, 17}}, 8.0f},
    {"units = 10\nactivation = softmax", 1, {{3, 1, 1, 33}}, 0},
    {"units = 17\nuse_bias = false\nactivation = softmax", 1, {{2, 2, 3, 5}}, 2.0f},
    {"units = 9\nactivation = gelu", 1, {{3, 1, 1, 17}}, 2.0f},
};

static const clnet_op_key dense_keys[] = {
    {"units", "int", NULL, "output channels (the classes of a head)", "10"},
    CLNET_KEY_USE_BIAS,
    {"activation", &(CLNET_ACT_NAMES "|softmax")[1], "none",
     "applied to the output; softmax makes a head of probabilities (trained on its logits)",
     "softmax"},
};

const clnet__op_desc clnet__op_dense = {
    .name = "dense",
    .keras = "Dense",
    .family = CLNET_FAMILY_DENSE,
    .describe = dense_describe,
    .description = "fully connected on the channels of every pixel: the classifier head",
    .keys = dense_keys,
    .n_keys = (int)CLNET_COUNTOF(dense_keys),
    .params_size = sizeof(clnet__dense_params),
    .min_inputs = 1,
    .max_inputs = 1,
    /* any table activation, or softmax: a fused act no fusion pass mistakes for none */
    .flags = CLNET_OP_NOT_SMOOTH | CLNET_OP_FUSED_ACT | CLNET_OP_OPTIONAL_BIAS,
    .act_offset = offsetof(clnet__dense_params, act),
    .bias_offset = offsetof(clnet__dense_params, use_bias),
    .parse = dense_parse,
    .infer = dense_infer,
    .weights = dense_weights,
    .saved = dense_saved,
    .flops = dense_flops,
    .prepare = dense_prepare,
    .prepack = dense_prepack,
    .forward = dense_forward,
    .backward = dense_backward,
    .ref_forward = clnet__ref_dense_forward,
    .ref_backward = clnet__ref_dense_backward,
    .cases = dense_cases,
    .n_cases = (int)CLNET_COUNTOF(dense_cases),
};
