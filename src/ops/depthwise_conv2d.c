/* depthwise_conv2d.c - Keras DepthwiseConv2D: a kh x kw filter per input channel and
 * depth_multiplier outputs per channel, optional bias and a fused activation (one whose
 * backward reads the pre-activation keeps it in a saved tensor: recomputing it in backward
 * would redo the taps once per tap that reads it).
 * Kernels: cl/depthwise_conv2d.cl. Reference: src/ref/depthwise_conv2d.c.
 * Tests: tests/ops/test_depthwise_conv2d.c. */
#include <stdio.h>

#include "ops/op.h"
#include "ops/window.h"
#include "ref/ref.h"

#define PROG "depthwise_conv2d"

/* Everything the kernels need to address x, y and the kernel (their DW_GEOM). */
typedef struct geom {
    int batch, in_h, in_w, cin, out_h, out_w, mult, kh, kw, sh, sw, pad_t, pad_l;
} geom;

static clnet_status dw_parse(clnet_context *ctx, clnet__kv *kv, void *params)
{
    clnet__depthwise_conv2d_params *p = params;
    int k[2], s[2], pad[4], mode = 0;
    CLNET_TRY(clnet__kv_positive2(ctx, kv, "kernel_size", CLNET_KV_REQUIRED, k));
    CLNET_TRY(clnet__kv_positive2(ctx, kv, "strides", 1, s));
    CLNET_TRY(clnet__kv_padding(ctx, kv, &mode, pad));
    CLNET_TRY(clnet__kv_int_in(ctx, kv, "depth_multiplier", 1, 1, CLNET_MAX_DIM, &p->mult));
    CLNET_TRY(clnet__kv_bool(ctx, kv, "use_bias", 1, &p->use_bias));
    CLNET_TRY(clnet__act_parse(ctx, kv, "activation", 0, 0, &p->act));
    p->kh = k[0];
    p->kw = k[1];
    p->sh = s[0];
    p->sw = s[1];
    p->padding = (clnet__padding)mode;
    p->pad_t = pad[0];
    p->pad_b = pad[1];
    p->pad_l = pad[2];
    p->pad_r = pad[3];
    return CLNET_OK;
}

static clnet_status dw_geom(clnet_context *ctx, const clnet__depthwise_conv2d_params *p,
                            clnet_shape in, geom *g)
{
    g->batch = in.n;
    g->in_h = in.h;
    g->in_w = in.w;
    g->cin = in.c;
    g->mult = p->mult;
    g->kh = p->kh;
    g->kw = p->kw;
    g->sh = p->sh;
    g->sw = p->sw;
    g->out_h = clnet__window_axis(p->padding, in.h, p->kh, p->sh, p->pad_t, p->pad_b, &g->pad_t);
    g->out_w = clnet__window_axis(p->padding, in.w, p->kw, p->sw, p->pad_l, p->pad_r, &g->pad_l);
    if (g->out_h < 1 || g->out_w < 1 || in.c < 1) {
        char s[48];
        return clnet__fail(ctx, CLNET_ERR_SHAPE,
                           "depthwise_conv2d: input %s is too small for kernel %dx%d with "
                           "padding %d, %d, %d, %d",
                           clnet__shape_str(in, s, sizeof s), p->kh, p->kw, p->pad_t, p->pad_b,
                           p->pad_l, p->pad_r);
    }
    return CLNET_OK;
}

/* Appends the DW_GEOM kernel arguments; returns how many. */
static int geom_args(const geom *g, clnet_arg *a)
{
    const int v[] = {g->batch, g->in_h, g->in_w, g->cin, g->out_h, g->out_w, g->mult,
                     g->kh,    g->kw,   g->sh,   g->sw,  g->pad_t, g->pad_l};
    for (size_t i = 0; i < CLNET_COUNTOF(v); ++i)
        a[i] = CLNET_ARG_INT(v[i]);
    return (int)CLNET_COUNTOF(v);
}

static clnet_status dw_infer(clnet_context *ctx, const void *params, const clnet_shape *in,
                             int n_in, clnet_shape *out)
{
    (void)n_in;
    const clnet__depthwise_conv2d_params *p = params;
    geom g;
    CLNET_TRY(dw_geom(ctx, p, in[0], &g));
    return clnet__op_out_shape(ctx,
                               "depthwise_conv2d: kernel_size, strides, padding and "
                               "depth_multiplier",
                               in[0].n, g.out_h, g.out_w, (int64_t)in[0].c * p->mult, out);
}

static int dw_weights(const void *params, const clnet_shape *in, int n_in, clnet__weight_desc *w)
{
    (void)n_in;
    const clnet__depthwise_conv2d_params *p = params;
    w[0] = (clnet__weight_desc){
        "kernel", {p->kh, p->kw, in[0].c, p->mult}, 1, CLNET_INIT_GLOROT_UNIFORM, 0.0f, 0.0f, -1.0f,
        1.0f};
    if (!p->use_bias)
        return 1;
    w[1] = (clnet__weight_desc){
        "bias", {1, 1, 1, in[0].c * p->mult}, 1, CLNET_INIT_UNIFORM, 0.0f, 0.0f, -0.5f, 0.5f};
    return 2;
}

/* The pre-activation of an activation whose backward reads it, output-shaped (as conv2d). */
static int dw_saved(const void *params, const clnet_shape *in, int n_in, clnet_shape *saved)
{
    const clnet__depthwise_conv2d_params *p = params;
    return clnet__act_from_input(p->act) && dw_infer(NULL, p, in, n_in, saved) == CLNET_OK;
}

/* What the activation's backward reads: the output, or the saved pre-activation (training
 * forward writes it); forward: where to save it, NULL when nothing is saved. */
static clnet_status act_input(const clnet__op_call *call, int backward, cl_mem *v)
{
    const clnet__depthwise_conv2d_params *p = call->params;
    *v = backward ? call->out->buf : NULL;
    if (!clnet__act_from_input(p->act) || (!backward && !call->training))
        return CLNET_OK;
    if (!call->saved || !call->saved[0])
        return clnet__fail(call->ctx, CLNET_ERR_INVALID_ARG,
                           "depthwise_conv2d: its activation needs the pre-activation saved in "
                           "training");
    *v = call->saved[0]->buf;
    return CLNET_OK;
}

static void dw_describe(const void *params, char *buf, size_t len)
{
    const clnet__depthwise_conv2d_params *p = params;
    char win[48], act[48];
    clnet__window_str(p->kh, p->kw, p->sh, p->sw, win, sizeof win);
    clnet__act_suffix(p->act, act, sizeof act);
    if (p->mult > 1)
        snprintf(buf, len, "%s, x%d%s", win, p->mult, act);
    else
        snprintf(buf, len, "%s%s", win, act);
}

static double dw_flops(const void *params, const clnet_shape *in, int n_in, clnet_shape out)
{
    (void)in;
    (void)n_in;
    const clnet__depthwise_conv2d_params *p = params;
    return (double)clnet__shape_count(out) * p->kh * p->kw; /* out counts cin * mult */
}

static int is_gpu(const clnet_context *ctx)
{
    return clnet__param(ctx, PROG, "CLNET_GPU", 0) != 0;
}

static size_t ceil_div(size_t a, size_t b)
{
    return (a + b - 1) / b;
}

/* The window of the CPU kernels for square 3x3 and 5x5 windows, strides 1 and 2 along the
 * rows (depthwise_conv2d_forward_k3 / _k5), or 0 for the general kernel. */
static int dw_window_kernel(const clnet_context *ctx, const geom *g)
{
    if (is_gpu(ctx) || g->mult != 1 || g->kh != g->kw || (g->kh != 3 && g->kh != 5) ||
        (g->sw != 1 && g->sw != 2))
        return 0;
    return g->kh;
}

static clnet_status dw_forward(const clnet__op_call *call)
{
    const clnet__depthwise_conv2d_params *p = call->params;
    clnet_context *ctx = call->ctx;
    geom g;
    CLNET_TRY(dw_geom(ctx, p, call->in[0]->shape, &g));
    const int run = clnet__param(ctx, PROG, "DW_RUN", 4);
    const size_t cvec = (size_t)clnet__param(ctx, PROG, "CLNET_CVEC", 1);
    const size_t cout = (size_t)g.cin * g.mult;
    cl_mem pre = NULL;
    CLNET_TRY(act_input(call, 0, &pre));
    clnet_arg args[24];
    int n = 0;
    args[n++] = CLNET_ARG_MEM(call->in[0]->buf);
    args[n++] = CLNET_ARG_MEM(call->w[0]->buf);
    args[n++] = CLNET_ARG_MEM(call->w[p->use_bias ? 1 : 0]->buf); /* unread without bias */
    args[n++] = CLNET_ARG_MEM(call->out->buf);
    args[n++] = CLNET_ARG_MEM(pre ? pre : call->out->buf);
    n += geom_args(&g, args + n);
    args[n++] = CLNET_ARG_INT(p->use_bias);
    args[n++] = CLNET_ARG_INT(pre != NULL);
    args[n++] = CLNET_ARG_INT(p->act.id);
    args[n++] = CLNET_ARG_FLOAT(p->act.alpha);
    args[n++] = CLNET_ARG_INT(run);
    const size_t rows = (size_t)g.batch * g.out_h;
    if (call->exec->algo) {
        const size_t kk[2] = {ceil_div(cout, cvec), rows};
        return clnet__launch(ctx, PROG,
                             call->exec->algo == 3 ? "depthwise_conv2d_forward_k3"
                                                   : "depthwise_conv2d_forward_k5",
                             args, n - 1, 2, kk);
    }
    const size_t gpu[3] = {cout, (size_t)g.out_w, rows};
    const size_t cpu[3] = {ceil_div(cout, cvec), ceil_div((size_t)g.out_w, (size_t)run), rows};
    return clnet__launch(ctx, PROG, "depthwise_conv2d_forward", args, n, 3,
                         is_gpu(ctx) ? gpu : cpu);
}

/* Blocks of the two-stage reductions over rows: at least RED_ROWS rows each and at most
 * RED_BLOCKS of them. A function of rows and the class only, so sums repeat exactly. */
static void reduce_plan(const clnet_context *ctx, int rows, int *blocks, int *rpb)
{
    const int min_rows = clnet__param(ctx, PROG, "RED_ROWS", 256);
    const int max_blocks = clnet__param(ctx, PROG, "RED_BLOCKS", 64);
    int b = (rows + min_rows - 1) / min_rows;
    b = b < 1 ? 1 : b > max_blocks ? max_blocks : b;
    *rpb = rows > 0 ? (rows + b - 1) / b : 1;
    *blocks = rows > 0 ? (rows + *rpb - 1) / *rpb : 1;
}

static clnet_status backward_data(const clnet__op_call *call, const geom *g)
{
    const clnet__depthwise_conv2d_params *p = call->params;
    clnet_context *ctx = call->ctx;
    const int run = clnet__param(ctx, PROG, "DW_RUN", 4);
    const size_t cvec = (size_t)clnet__param(ctx, PROG, "CLNET_CVEC", 1);
    cl_mem v = NULL;
    CLNET_TRY(act_input(call, 1, &v));
    clnet_arg args[24];
    int n = 0;
    args[n++] = CLNET_ARG_MEM(call->dout->buf);
    args[n++] = CLNET_ARG_MEM(v);
    args[n++] = CLNET_ARG_MEM(call->w[0]->buf);
    args[n++] = CLNET_ARG_MEM(call->din[0]->buf);
    n += geom_args(g, args + n);
    args[n++] = CLNET_ARG_INT(p->act.id);
    args[n++] = CLNET_ARG_FLOAT(p->act.alpha);
    args[n++] = CLNET_ARG_INT(run);
    const size_t rows = (size_t)g->batch * g->in_h;
    const size_t gpu[3] = {(size_t)g->cin, (size_t)g->in_w, rows};
    const size_t cpu[3] = {ceil_div((size_t)g->cin, cvec), ceil_div((size_t)g->in_w, (size_t)run),
                           rows};
    return clnet__launch(ctx, PROG, "depthwise_conv2d_backward", args, n, 3,
                         is_gpu(ctx) ? gpu : cpu);
}

/* Stage 2 of the weight gradients: taps tt0 .. tt0 + ntaps - 1 of the partials into out. */
static clnet_status sum_taps(clnet_context *ctx, cl_mem partial, int blocks, int nt, int tt0,
                             int ntaps, int cout, cl_mem out)
{
    const clnet_arg args[] = {CLNET_ARG_MEM(partial), CLNET_ARG_MEM(out), CLNET_ARG_INT(blocks),
                              CLNET_ARG_INT(nt),      CLNET_ARG_INT(tt0), CLNET_ARG_INT(ntaps),
                              CLNET_ARG_INT(cout)};
    const size_t global[2] = {(size_t)cout, (size_t)ntaps};
    return clnet__launch(ctx, PROG, "depthwise_conv2d_sum_backward", args, (int)CLNET_COUNTOF(args),
                         2, global);
}

/* dkernel and dbias share stage 1: the bias is tap kh * kw. */
static clnet_status backward_weights(const clnet__op_call *call, const geom *g)
{
    const clnet__depthwise_conv2d_params *p = call->params;
    clnet_context *ctx = call->ctx;
    clnet_tensor *dk = call->dw[0], *db = p->use_bias ? call->dw[1] : NULL;
    if (!dk && !db)
        return CLNET_OK;
    const int khw = g->kh * g->kw, cout = g->cin * g->mult;
    const int t0 = dk ? 0 : khw, nt = (dk ? khw : 0) + (db ? 1 : 0);
    int blocks, rpb;
    reduce_plan(ctx, g->batch * g->out_h * g->out_w, &blocks, &rpb);
    cl_mem partial = NULL;
    CLNET_TRY(clnet__scratch_get(ctx, call->scratch, CLNET_SCRATCH_REDUCE,
                                 (size_t)blocks * nt * cout * sizeof(float),
                                 "depthwise_conv2d weight gradients", &partial));
    cl_mem v = NULL;
    CLNET_TRY(act_input(call, 1, &v));
    clnet_arg args[24];
    int n = 0;
    args[n++] = CLNET_ARG_MEM(call->in[0]->buf);
    args[n++] = CLNET_ARG_MEM(call->dout->buf);
    args[n++] = CLNET_ARG_MEM(v);
    args[n++] = CLNET_ARG_MEM(partial);
    n += geom_args(g, args + n);
    args[n++] = CLNET_ARG_INT(p->act.id);
    args[n++] = CLNET_ARG_FLOAT(p->act.alpha);
    args[n++] = CLNET_ARG_INT(rpb);
    args[n++] = CLNET_ARG_INT(t0);
    args[n++] = CLNET_ARG_INT(nt);
    if (is_gpu(ctx)) {
        const size_t ct = (size_t)clnet__param(ctx, PROG, "RED_CT", 16);
        const size_t rt = (size_t)clnet__param(ctx, PROG, "RED_RT", 4);
        if (ct * rt > ctx->info.max_work_group_size)
            return clnet__fail(ctx, CLNET_ERR_UNSUPPORTED,
                               "depthwise_conv2d: work-group %zu x %zu (RED_CT x RED_RT) is above "
                               "the %zu work-items of %s",
                               ct, rt, ctx->info.max_work_group_size, ctx->info.name);
        const size_t global[3] = {(size_t)cout, rt * blocks, (size_t)nt}, local[3] = {ct, rt, 1};
        CLNET_TRY(clnet__launch_local(ctx, PROG, "depthwise_conv2d_partial_backward", args, n, 3,
                                      global, local));
    } else {
        const size_t cvec = (size_t)clnet__param(ctx, PROG, "CLNET_CVEC", 1);
        const size_t taps = (size_t)clnet__param(ctx, PROG, "DW_TAPS", 10);
        const size_t global[3] = {ceil_div((size_t)cout, cvec), (size_t)blocks,
                                  ceil_div((size_t)nt, taps)};
        CLNET_TRY(
            clnet__launch(ctx, PROG, "depthwise_conv2d_partial_backward", args, n, 3, global));
    }
    if (dk)
        CLNET_TRY(sum_taps(ctx, partial, blocks, nt, 0, khw, cout, dk->buf));
    if (db)
        CLNET_TRY(sum_taps(ctx, partial, blocks, nt, dk ? khw : 0, 1, cout, db->buf));
    return CLNET_OK;
}

/* Backward's weight-gradient partials: every tap and the bias, in REDUCE. */
static clnet_status dw_prepare(clnet_context *ctx, const void *params, const clnet_shape *in,
                               int n_in, clnet_shape out, int training, clnet__op_exec *e)
{
    (void)n_in;
    (void)out;
    const clnet__depthwise_conv2d_params *p = params;
    geom g;
    CLNET_TRY(dw_geom(ctx, p, in[0], &g));
    int blocks, rpb;
    reduce_plan(ctx, g.batch * g.out_h * g.out_w, &blocks, &rpb);
    const size_t taps = (size_t)g.kh * g.kw + (p->use_bias ? 1 : 0);
    e->algo = dw_window_kernel(ctx, &g);
    if (e->algo)
        snprintf(e->forward, sizeof e->forward, "depthwise_conv2d_forward_k%d", e->algo);
    if (training)
        e->scratch[1][CLNET_SCRATCH_REDUCE] =
            (size_t)blocks * taps * (size_t)(g.cin * g.mult) * sizeof(float);
    return CLNET_OK;
}

static clnet_status dw_backward(const clnet__op_call *call)
{
    geom g;
    CLNET_TRY(dw_geom(call->ctx, call->params, call->in[0]->shape, &g));
    if (call->din[0])
        CLNET_TRY(backward_data(call, &g));
    return backward_weights(call, &g);
}

/* Float16 tails (17, 33 channels), stride 2 on odd and even sizes, one-sided padding,
 * depth_multiplier 2, 1x1 inputs, a relu6 case scaled to cross 0 and 6. */
static const clnet__op_case dw_cases[] = {
    {"kernel_size = 3\npadding = same", 1, {{1, 5, 5, 3}}, 0},
    {"kernel_size = 3\nstrides = 2\npadding = same\nactivation = relu6", 1, {{3, 7, 7, 17}}, 4.0f},
    {"kernel_size = 5\nstrides = 2\npadding = same\nuse_bias = false", 1, {{1, 8, 6, 33}}, 0},
    {"kernel_size = 3\ndepth_multiplier = 2\nactivation = relu", 1, {{3, 6, 5, 3}}, 0},
    {"kernel_size = 3\nstrides = 2\npadding = same\nactivation = hard_swish",
     1,
     {{3, 7, 6, 17}},
     4.0f},
    /* Rows wide enough for the CPU's eight-pixel blocks: interior and edge blocks, a short
     * last block, whole channel vectors and a tail; ConvNeXt's 7x7, a saved pre-activation,
     * asymmetric padding. */
    {"kernel_size = 7\npadding = 3", 1, {{2, 9, 19, 33}}, 0},
    {"kernel_size = 3\nstrides = 2\npadding = same\nuse_bias = false\nactivation = swish",
     1,
     {{1, 5, 37, 17}},
     2.0f},
    {"kernel_size = 5\npadding = 2, 0, 0, 4\nactivation = gelu", 1, {{1, 4, 20, 16}}, 0},
    /* The CPU's 3x3 and 5x5 row kernels: blocks of 8 interior pixels, the last one
     * overlapping the one before, and the per-pixel ends; channel tails of 8 (MnasNet's 72
     * and 120) with a saved pre-activation, stride 2; rows of exactly 8 interior pixels,
     * and of fewer (MobileNetV2's 7x7 rows: per pixel only). */
    {"kernel_size = 3\npadding = same\nactivation = hard_swish", 1, {{2, 5, 30, 40}}, 2.0f},
    {"kernel_size = 5\nstrides = 2\npadding = same\nactivation = relu6", 1, {{1, 9, 41, 24}}, 4.0f},
    {"kernel_size = 5\npadding = same\nuse_bias = false", 1, {{1, 6, 17, 16}}, 0},
    {"kernel_size = 3\npadding = same\nactivation = relu6", 1, {{2, 3, 10, 16}}, 0},
    {"kernel_size = 3\npadding = same\nactivation = relu6", 1, {{1, 7, 7, 32}}, 0},
};

static const clnet_op_key depthwise_conv2d_keys[] = {
    CLNET_KEY_KERNEL_SIZE,
    CLNET_KEY_STRIDES,
    CLNET_KEY_PADDING,
    {"depth_multiplier", "int", "1", "output channels per input channel", "2"},
    CLNET_KEY_USE_BIAS,
    CLNET_KEY_ACTIVATION,
};

const clnet__op_desc clnet__op_depthwise_conv2d = {
    .name = "depthwise_conv2d",
    .keras = "DepthwiseConv2D",
    .family = CLNET_FAMILY_CONVOLUTION,
    .describe = dw_describe,
    .description =
        "a kh x kw filter per input channel (depth_multiplier of them), channels unmixed",
    .keys = depthwise_conv2d_keys,
    .n_keys = (int)CLNET_COUNTOF(depthwise_conv2d_keys),
    .params_size = sizeof(clnet__depthwise_conv2d_params),
    .min_inputs = 1,
    .max_inputs = 1,
    .flags = CLNET_OP_NOT_SMOOTH | CLNET_OP_FUSED_ACT | CLNET_OP_OPTIONAL_BIAS,
    .act_offset = offsetof(clnet__depthwise_conv2d_params, act),
    .bias_offset = offsetof(clnet__depthwise_conv2d_params, use_bias),
    .parse = dw_parse,
    .infer = dw_infer,
    .weights = dw_weights,
    .saved = dw_saved,
    .flops = dw_flops,
    .prepare = dw_prepare,
    .forward = dw_forward,
    .backward = dw_backward,
    .ref_forward = clnet__ref_depthwise_conv2d_forward,
    .ref_backward = clnet__ref_depthwise_conv2d_backward,
    .cases = dw_cases,
    .n_cases = (int)CLNET_COUNTOF(dw_cases),
};
