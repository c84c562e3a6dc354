/* conv2d.c - Keras Conv2D with the fused epilogue y = act(conv(x) + bias + residual):
 * a 1x1 stride-1 unpadded convolution is one GEMM on the NHWC activation, any other is
 * im2col (in chunks of whole images) + GEMM, the implicit GEMM (the packed kernel reading
 * the column matrix from x: gemm_packed_conv, cl/gemm.cl), or for 3x3 stride 1 Winograd,
 * as clnet__conv2d_pick says (conv2d_winograd.c). Grouped convolutions run one GEMM per
 * group on strided slices (leading dimensions of the whole rows), or for narrow groups the
 * direct kernels of conv2d_grouped.c. Every path but the grouped direct one can write its
 * output as a channel block of a wider tensor (exec.strided_out: the memory plan's in-place
 * concatenation). Also runs dense (dense.c).
 * The column matrix and the GEMMs of each role: conv2d_columns.c.
 * Kernels: cl/conv2d.cl. Reference: src/ref/conv2d.c. Tests: tests/ops/test_conv2d.c,
 * test_conv2d_implicit.c. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "gemm/gemm.h"
#include "ops/conv2d_algo.h"
#include "ops/op.h"
#include "ops/reduce.h"
#include "ops/window.h"
#include "ref/ref.h"

#define PROG "conv2d"

/* Everything the kernels need to address x, y and the column matrix (their CV_GEOM). */
typedef clnet__conv_geom geom;

static clnet_status conv2d_parse(clnet_context *ctx, clnet__kv *kv, void *params)
{
    clnet__conv2d_params *p = params;
    int k[2], s[2], d[2];
    CLNET_TRY(
        clnet__kv_int_in(ctx, kv, "filters", CLNET_KV_REQUIRED, 1, CLNET_MAX_DIM, &p->filters));
    CLNET_TRY(clnet__kv_positive2(ctx, kv, "kernel_size", CLNET_KV_REQUIRED, k));
    CLNET_TRY(clnet__kv_positive2(ctx, kv, "strides", 1, s));
    CLNET_TRY(clnet__kv_positive2(ctx, kv, "dilation_rate", 1, d));
    if (d[0] != 1 || d[1] != 1)
        return clnet__kv_error(ctx, kv, clnet__kv_find(kv, "dilation_rate"), "dilation_rate",
                               "dilated convolutions are not supported (got %d, %d; only 1)", d[0],
                               d[1]);
    int mode = CLNET_PADDING_VALID, pad[4];
    CLNET_TRY(clnet__kv_padding(ctx, kv, &mode, pad));
    p->padding = (clnet__padding)mode;
    p->pad_t = pad[0];
    p->pad_b = pad[1];
    p->pad_l = pad[2];
    p->pad_r = pad[3];
    CLNET_TRY(clnet__kv_bool(ctx, kv, "use_bias", 1, &p->use_bias));
    CLNET_TRY(clnet__act_parse(ctx, kv, "activation", 0, 0, &p->act));
    CLNET_TRY(clnet__kv_int_in(ctx, kv, "groups", 1, 1, CLNET_MAX_DIM, &p->groups));
    if (p->filters % p->groups)
        return clnet__kv_error(ctx, kv, clnet__kv_find(kv, "groups"), "groups",
                               "%d groups do not divide the %d filters", p->groups, p->filters);
    p->kh = k[0];
    p->kw = k[1];
    p->sh = s[0];
    p->sw = s[1];
    return CLNET_OK;
}

clnet_status clnet__conv2d_geom(clnet_context *ctx, const clnet__conv2d_params *p, clnet_shape in,
                                geom *g)
{
    char s[48];
    const int groups = p->groups > 1 ? p->groups : 1;
    *g = (geom){in.n, in.h, in.w, in.c, 0, 0, p->filters, p->kh, p->kw, p->sh, p->sw, 0, 0, groups};
    if (in.c % groups || p->filters % groups)
        return clnet__fail(ctx, CLNET_ERR_SHAPE,
                           "conv2d: groups = %d must divide the input channels (%d, input %s) "
                           "and the filters (%d)",
                           groups, in.c, clnet__shape_str(in, s, sizeof s), p->filters);
    g->out_h = clnet__window_axis(p->padding, in.h, p->kh, p->sh, p->pad_t, p->pad_b, &g->pad_t);
    g->out_w = clnet__window_axis(p->padding, in.w, p->kw, p->sw, p->pad_l, p->pad_r, &g->pad_l);
    if (g->out_h < 1 || g->out_w < 1 || in.n < 1 || in.c < 1)
        return clnet__fail(ctx, CLNET_ERR_SHAPE,
                           "conv2d: input %s is too small for kernel %dx%d with padding %d, %d, "
                           "%d, %d",
                           clnet__shape_str(in, s, sizeof s), p->kh, p->kw, p->pad_t, p->pad_b,
                           p->pad_l, p->pad_r);
    /* Kernels index with int element counts (size_t only for whole tensors). */
    const double out_count = (double)in.n * g->out_h * g->out_w * p->filters;
    const double k_count = (double)p->kh * p->kw * in.c / groups;
    if (clnet__shape_count(in) > INT_MAX || out_count > INT_MAX || k_count * p->filters > INT_MAX)
        return clnet__fail(ctx, CLNET_ERR_TOO_LARGE,
                           "conv2d: input %s with kernel %dx%d and %d filters exceeds 2^31 "
                           "elements per tensor",
                           clnet__shape_str(in, s, sizeof s), p->kh, p->kw, p->filters);
    return CLNET_OK;
}

static clnet_status conv2d_infer(clnet_context *ctx, const void *params, const clnet_shape *in,
                                 int n_in, clnet_shape *out)
{
    const clnet__conv2d_params *p = params;
    geom g;
    CLNET_TRY(clnet__conv2d_geom(ctx, p, in[0], &g));
    CLNET_TRY(clnet__op_out_shape(ctx, "conv2d: kernel_size, strides and padding", in[0].n, g.out_h,
                                  g.out_w, p->filters, out));
    if (n_in > 1 && !clnet__shape_eq(in[1], *out)) {
        char a[48], b[48], c[48];
        return clnet__fail(ctx, CLNET_ERR_SHAPE,
                           "conv2d: residual input %s does not match the output %s of input %s",
                           clnet__shape_str(in[1], a, sizeof a),
                           clnet__shape_str(*out, b, sizeof b),
                           clnet__shape_str(in[0], c, sizeof c));
    }
    return CLNET_OK;
}

static int conv2d_weights(const void *params, const clnet_shape *in, int n_in,
                          clnet__weight_desc *w)
{
    (void)n_in;
    const clnet__conv2d_params *p = params;
    const int groups = p->groups > 1 ? p->groups : 1;
    w[0] = (clnet__weight_desc){"kernel", {p->kh, p->kw, in[0].c / groups, p->filters},
                                1,        CLNET_INIT_GLOROT_UNIFORM,
                                0.0f,     0.0f,
                                -0.5f,    0.5f};
    if (!p->use_bias)
        return 1;
    w[1] = (clnet__weight_desc){
        "bias", {1, 1, 1, p->filters}, 1, CLNET_INIT_UNIFORM, 0.0f, 0.0f, -0.5f, 0.5f};
    return 2;
}

/* Training with an activation whose backward reads the pre-activation keeps it, output-shaped
 * (a second GEMM in backward would cost more than the memory). The graph has inferred the
 * shapes already, so the inference cannot fail here. */
static int conv2d_saved(const void *params, const clnet_shape *in, int n_in, clnet_shape *saved)
{
    const clnet__conv2d_params *p = params;
    return clnet__act_from_input(p->act) && conv2d_infer(NULL, p, in, n_in, saved) == CLNET_OK;
}

static void conv2d_describe(const void *params, char *buf, size_t len)
{
    const clnet__conv2d_params *p = params;
    char win[48], act[48];
    snprintf(buf, len, "%s, %d%s", clnet__window_str(p->kh, p->kw, p->sh, p->sw, win, sizeof win),
             p->filters, clnet__act_suffix(p->act, act, sizeof act));
}

static double conv2d_flops(const void *params, const clnet_shape *in, int n_in, clnet_shape out)
{
    (void)n_in;
    const clnet__conv2d_params *p = params;
    const int groups = p->groups > 1 ? p->groups : 1;
    return (double)clnet__shape_count(out) * p->kh * p->kw * (in[0].c / groups);
}

static int is_gpu(const clnet_context *ctx)
{
    return clnet__param(ctx, PROG, "CLNET_GPU", 0) != 0;
}

/* y = act(y + bias + res) in place over rows x cout, the value before act into pre; bias,
 * res and pre may be NULL. y's rows are ldy apart from y_off; res and pre are packed. */
static clnet_status epilogue(clnet_context *ctx, cl_mem y, int ldy, int y_off, cl_mem bias,
                             cl_mem res, cl_mem pre, int rows, int cout, clnet__act act)
{
    if (!bias && !res && act.id == CLNET_ACT_NONE)
        return CLNET_OK;
    const int chunk = clnet__param(ctx, PROG, "CLNET_CHUNK", 1);
    const int run = chunk > cout ? chunk / cout : 1;
    const clnet_arg args[] = {CLNET_ARG_MEM(y),
                              CLNET_ARG_MEM(bias ? bias : y),
                              CLNET_ARG_MEM(res ? res : y),
                              CLNET_ARG_MEM(pre ? pre : y),
                              CLNET_ARG_INT(rows),
                              CLNET_ARG_INT(cout),
                              CLNET_ARG_INT(ldy),
                              CLNET_ARG_INT(y_off),
                              CLNET_ARG_INT(bias != NULL),
                              CLNET_ARG_INT(res != NULL),
                              CLNET_ARG_INT(pre != NULL),
                              CLNET_ARG_INT(act.id),
                              CLNET_ARG_FLOAT(act.alpha),
                              CLNET_ARG_INT(run)};
    const size_t gpu[2] = {(size_t)cout, (size_t)rows};
    const size_t cpu[1] = {((size_t)rows + (size_t)run - 1) / (size_t)run};
    return clnet__launch(ctx, PROG, "conv2d_epilogue_forward", args, (int)CLNET_COUNTOF(args),
                         is_gpu(ctx) ? 2 : 1, is_gpu(ctx) ? gpu : cpu);
}

/* The tensors of a call against the geometry (the graph inferred them; a mismatch here
 * is a caller's bug, reported rather than written out of bounds). */
static clnet_status check_call(const clnet__op_call *call, const geom *g)
{
    const clnet__conv2d_params *p = call->params;
    const clnet_shape want = {g->kh, g->kw, g->cin / g->groups, g->cout};
    const clnet_shape got = call->w[0]->shape;
    const clnet_shape bias = {1, 1, 1, g->cout}, out = {g->batch, g->out_h, g->out_w, g->cout};
    char a[48], b[48], c[48];
    if (!clnet__shape_eq(got, want) ||
        (p->use_bias && (call->n_w < 2 || !clnet__shape_eq(call->w[1]->shape, bias))))
        return clnet__fail(call->ctx, CLNET_ERR_SHAPE,
                           "conv2d: kernel %s (and bias) do not fit input %s: expected kernel %s",
                           clnet__shape_str(got, a, sizeof a),
                           clnet__shape_str(call->in[0]->shape, b, sizeof b),
                           clnet__shape_str(want, c, sizeof c));
    const clnet_tensor *other = NULL;
    if (!clnet__shape_eq(call->out->shape, out))
        other = call->out;
    else if (call->n_in > 1 && !clnet__shape_eq(call->in[1]->shape, out))
        other = call->in[1];
    if (other)
        return clnet__fail(
            call->ctx, CLNET_ERR_SHAPE, "conv2d: %s %s does not match the output %s of input %s",
            other == call->out ? "output tensor" : "residual input",
            clnet__shape_str(other->shape, a, sizeof a), clnet__shape_str(out, b, sizeof b),
            clnet__shape_str(call->in[0]->shape, c, sizeof c));
    return CLNET_OK;
}

/* Scratch kind k of direction dir needs at least bytes. */
static void need(clnet__op_exec *e, int dir, clnet__scratch_slot k, size_t bytes)
{
    if (e->scratch[dir][k] < bytes)
        e->scratch[dir][k] = bytes;
}

/* Plans the GEMM of role for problem ga (the database only when use_db). */
static void plan_gemm(const clnet_context *ctx, clnet__op_exec *e, int role, int backward,
                      clnet__gemm_args ga, int use_db)
{
    if (use_db)
        clnet__gemm_prepare(ctx, &ga, &e->gemm[role]);
    else
        clnet__gemm_prepare_with(ctx, &ga, CLNET_GEMM_AUTO, NULL, &e->gemm[role]);
    e->gemm_backward[role] = backward;
    e->tuned += e->gemm[role].tuned;
    if (e->n_gemms < role + 1)
        e->n_gemms = role + 1;
    need(e, backward, CLNET_SCRATCH_PACK_B, e->gemm[role].scratch);
}

/* The implicit convolution's GEMM runs on the packed kernel (what reads A through the
 * input), with the database's parameters when its entry chose them, in one launch without
 * in-kernel k blocks (its runs of A span a kernel row). */
static void implicit_packed(const clnet_context *ctx, clnet__gemm_plan *gp)
{
    if (gp->impl != CLNET_GEMM_PACKED) {
        const clnet__gemm_args g = gp->args;
        clnet__gemm_prepare_with(ctx, &g, CLNET_GEMM_PACKED, NULL, gp);
    }
    gp->kc = 0;
    gp->kb = 0;
}

static clnet_status check_algo(clnet_context *ctx, clnet__conv_algo algo, const geom *g)
{
    if (clnet__conv2d_algo_ok(algo, g))
        return CLNET_OK;
    return clnet__fail(ctx, CLNET_ERR_UNSUPPORTED,
                       "conv2d: algorithm %s does not apply to a %dx%d kernel with strides %d, "
                       "%d in %d groups (winograd needs 3x3, stride 1, one group)",
                       clnet__conv_algo_name(algo), g->kh, g->kw, g->sh, g->sw, g->groups);
}

/* The algorithm of forward (dx 0) or dX: forced, else clnet__conv2d_pick's. */
static clnet_status choose(clnet_context *ctx, const geom *g, int dx, clnet__conv_algo forced,
                           int use_db, clnet__op_exec *e, clnet__conv_algo *algo)
{
    int tuned = 0;
    *algo = forced != CLNET_CONV_AUTO ? forced : clnet__conv2d_pick(ctx, g, dx, use_db, &tuned);
    e->tuned += tuned;
    e->tuned_algos |= tuned << dx;
    return check_algo(ctx, *algo, g);
}

clnet_status clnet__conv2d_prepare_with(clnet_context *ctx, const clnet__conv2d_params *p,
                                        const clnet_shape *in, int n_in, int training,
                                        clnet__conv_algo fwd, clnet__conv_algo dx, int use_db,
                                        clnet__op_exec *e)
{
    (void)n_in;
    geom g;
    CLNET_TRY(clnet__conv2d_geom(ctx, p, in[0], &g));
    const int opix = g.out_h * g.out_w, rows = g.batch * opix;
    const int per = clnet__conv2d_chunk_images(ctx, &g), pw = clnet__conv2d_pointwise(&g);
    clnet__conv_algo algo;
    char name[48], grouped[24] = "";
    if (g.groups > 1)
        snprintf(grouped, sizeof grouped, " x %d groups", g.groups);
    e->chunk = per;
    CLNET_TRY(choose(ctx, &g, 0, fwd, use_db, e, &algo));
    e->algo = algo;
    if (algo == CLNET_CONV_WINOGRAD) {
        clnet__conv2d_winograd_prepare(ctx, &g, 0, use_db, e->scratch[0],
                                       &e->gemm[CLNET_CONV_GEMM_FWD]);
        e->tuned += e->gemm[CLNET_CONV_GEMM_FWD].tuned;
        e->n_gemms = 1;
    } else if (algo == CLNET_CONV_GROUPED) {
        need(e, 0, CLNET_SCRATCH_COL, clnet__conv2d_grouped_scratch(ctx, &g));
    } else if (algo == CLNET_CONV_IMPLICIT) {
        plan_gemm(ctx, e, CLNET_CONV_GEMM_FWD, 0,
                  clnet__conv2d_role_args(&g, CLNET_CONV_GEMM_FWD, rows, 0.0f), use_db);
        implicit_packed(ctx, &e->gemm[CLNET_CONV_GEMM_FWD]);
        need(e, 0, CLNET_SCRATCH_PACK_B, e->gemm[CLNET_CONV_GEMM_FWD].scratch);
    } else if (algo != CLNET_CONV_DIRECT) {
        plan_gemm(ctx, e, CLNET_CONV_GEMM_FWD, 0,
                  clnet__conv2d_role_args(&g, CLNET_CONV_GEMM_FWD, pw ? rows : per * opix, 0.0f),
                  use_db);
        if (!pw)
            need(e, 0, CLNET_SCRATCH_COL, clnet__conv2d_col_bytes(&g, per));
        if (!training && e->prepack && g.groups == 1) {
            clnet__gemm_prefer_prepacked(ctx, &e->gemm[CLNET_CONV_GEMM_FWD]);
            need(e, 0, CLNET_SCRATCH_PACK_B, e->gemm[CLNET_CONV_GEMM_FWD].scratch);
        }
    }
    if (algo == CLNET_CONV_IM2COL || algo == CLNET_CONV_IMPLICIT) {
        e->fused_epilogue =
            g.groups == 1 && clnet__gemm_fuses_epilogue(&e->gemm[CLNET_CONV_GEMM_FWD]);
        /* Inference weights packed once into the GEMM's panels (the plan refills them when
         * the weights change): no packing pass per call, and contiguous panels where a
         * small m read B in place, a row of cout floats per k. */
        if (!training && e->prepack && e->fused_epilogue) {
            e->prepacked_bytes = clnet__gemm_plan_prepack(&e->gemm[CLNET_CONV_GEMM_FWD]);
            if (e->prepacked_bytes)
                e->scratch[0][CLNET_SCRATCH_PACK_B] = 0;
        }
    }
    e->epilogue_pass =
        algo != CLNET_CONV_WINOGRAD && algo != CLNET_CONV_DIRECT && !e->fused_epilogue;
    /* Every forward path but the grouped direct kernels writes its output rows with a
     * leading dimension (GEMM ldc, the epilogue's and Winograd's output ldy). */
    e->strided_out = algo != CLNET_CONV_GROUPED;
    /* The epilogue fusion adds is named by the plan (src/plan/describe.c). */
    if (algo == CLNET_CONV_GROUPED)
        snprintf(e->forward, sizeof e->forward, "grouped direct%s", grouped);
    else if (algo == CLNET_CONV_DIRECT)
        snprintf(e->forward, sizeof e->forward, "direct");
    else
        snprintf(e->forward, sizeof e->forward, "%sgemm %s%s",
                 algo == CLNET_CONV_WINOGRAD   ? "winograd F(2x2,3x3) + "
                 : algo == CLNET_CONV_IMPLICIT ? "implicit "
                 : pw                          ? ""
                                               : "im2col + ",
                 clnet__gemm_plan_name(&e->gemm[CLNET_CONV_GEMM_FWD], name, sizeof name), grouped);
    if (!training)
        return CLNET_OK;
    /* Backward: the activation's gradient (TMP unless a residual input takes it), the bias
     * gradient, dX, then dW. */
    if (p->act.id != CLNET_ACT_NONE)
        need(e, 1, CLNET_SCRATCH_TMP, (size_t)rows * g.cout * sizeof(float));
    if (p->use_bias)
        need(e, 1, CLNET_SCRATCH_REDUCE, clnet__reduce_rows_scratch(ctx, rows, g.cout));
    const int want_dx = !(training & CLNET_PREPARE_NO_DX);
    if (want_dx) {
        CLNET_TRY(choose(ctx, &g, 1, dx, use_db, e, &algo));
        e->algo_dx = algo;
        if (algo == CLNET_CONV_WINOGRAD) {
            clnet__conv2d_winograd_prepare(ctx, &g, 1, use_db, e->scratch[1],
                                           &e->gemm[CLNET_CONV_GEMM_DX]);
            e->tuned += e->gemm[CLNET_CONV_GEMM_DX].tuned;
            e->gemm_backward[CLNET_CONV_GEMM_DX] = 1;
            e->n_gemms = 2;
        } else if (algo != CLNET_CONV_GROUPED) {
            plan_gemm(ctx, e, CLNET_CONV_GEMM_DX, 1,
                      clnet__conv2d_role_args(&g, CLNET_CONV_GEMM_DX, pw ? rows : per * opix, 0.0f),
                      use_db);
            if (!pw)
                need(e, 1, CLNET_SCRATCH_COL, clnet__conv2d_col_bytes(&g, per));
        }
    }
    plan_gemm(ctx, e, CLNET_CONV_GEMM_DW, 1,
              clnet__conv2d_role_args(&g, CLNET_CONV_GEMM_DW, pw ? rows : per * opix, 0.0f),
              use_db);
    if (!pw)
        need(e, 1, CLNET_SCRATCH_COL, clnet__conv2d_col_bytes(&g, per));
    char dx_name[64] = "";
    if (want_dx && algo == CLNET_CONV_GROUPED)
        snprintf(dx_name, sizeof dx_name, "dx: grouped direct; ");
    else if (want_dx)
        snprintf(dx_name, sizeof dx_name, "dx: %sgemm %s; ",
                 algo == CLNET_CONV_WINOGRAD ? "winograd + "
                 : pw                        ? ""
                                             : "col2im + ",
                 clnet__gemm_plan_name(&e->gemm[CLNET_CONV_GEMM_DX], name, sizeof name));
    snprintf(e->backward, sizeof e->backward, "%sdw: %sgemm %s%s", dx_name, pw ? "" : "im2col + ",
             clnet__gemm_plan_name(&e->gemm[CLNET_CONV_GEMM_DW], name, sizeof name), grouped);
    return CLNET_OK;
}

static clnet_status conv2d_prepare(clnet_context *ctx, const void *params, const clnet_shape *in,
                                   int n_in, clnet_shape out, int training, clnet__op_exec *e)
{
    (void)out;
    return clnet__conv2d_prepare_with(ctx, params, in, n_in, training, CLNET_CONV_AUTO,
                                      CLNET_CONV_AUTO, 1, e);
}

/* The row stride and offset (floats) of the call's output: packed, or a channel block of a
 * wider tensor where the record allows it (the memory plan's in-place concatenation). */
static clnet_status strided_output(const clnet__op_call *call, const geom *g, int *ldy, int *y_off)
{
    if (!call->out_stride)
        return CLNET_OK;
    const size_t rows = (size_t)g->batch * g->out_h * g->out_w;
    if (!call->exec->strided_out || call->out_stride < g->cout ||
        call->out_offset + (rows - 1) * (size_t)call->out_stride + (size_t)g->cout > INT_MAX)
        return clnet__fail(call->ctx, CLNET_ERR_INTERNAL,
                           "conv2d: a strided output (stride %d, offset %zu) it cannot take",
                           call->out_stride, call->out_offset);
    *ldy = call->out_stride;
    *y_off = (int)call->out_offset;
    return CLNET_OK;
}

/* The saved pre-activation of an activation whose backward reads it (training), else NULL. */
static clnet_status pre_buffer(const clnet__op_call *call, cl_mem *pre)
{
    const clnet__conv2d_params *p = call->params;
    *pre = NULL;
    if (!clnet__act_from_input(p->act) || (!call->training && !call->dout))
        return CLNET_OK;
    if (!call->saved || !call->saved[0]) {
        char name[48];
        return clnet__fail(call->ctx, CLNET_ERR_INVALID_ARG,
                           "conv2d: activation %s needs the pre-activation saved in training",
                           clnet__act_str(p->act, name, sizeof name));
    }
    *pre = call->saved[0]->buf;
    return CLNET_OK;
}

/* The forward GEMM's B (the kernel, HWIO: k rows of cout) into the plan's panels. */
static clnet_status conv2d_prepack(clnet_context *ctx, const void *params, const clnet_shape *in,
                                   int n_in, const clnet__op_exec *e, const float *kernel,
                                   float *out)
{
    (void)n_in;
    geom g;
    CLNET_TRY(clnet__conv2d_geom(ctx, params, in[0], &g));
    const clnet__gemm_args ga = clnet__conv2d_role_args(&g, CLNET_CONV_GEMM_FWD, 1, 0.0f);
    return clnet__gemm_prepack(ctx, &e->gemm[CLNET_CONV_GEMM_FWD], kernel, ga.ldb, out);
}

static clnet_status conv2d_forward(const clnet__op_call *call)
{
    const clnet__conv2d_params *p = call->params;
    clnet_context *ctx = call->ctx;
    const clnet__op_exec *e = call->exec;
    geom g;
    CLNET_TRY(clnet__conv2d_geom(ctx, p, call->in[0]->shape, &g));
    CLNET_TRY(check_call(call, &g));
    const int opix = g.out_h * g.out_w, rows = g.batch * opix;
    cl_mem x = call->in[0]->buf, w = call->w[0]->buf, y = call->out->buf;
    cl_mem bias = p->use_bias ? call->w[1]->buf : NULL,
           res = call->n_in > 1 ? call->in[1]->buf : NULL, pre = NULL;
    CLNET_TRY(pre_buffer(call, &pre));
    int ldy = g.cout, y_off = 0;
    CLNET_TRY(strided_output(call, &g, &ldy, &y_off));
    ctx->stats.tune_hits += e->tuned_algos & 1;
    if (e->algo == CLNET_CONV_WINOGRAD)
        return clnet__conv2d_winograd(ctx, call->scratch, &e->gemm[CLNET_CONV_GEMM_FWD], &g, x, w,
                                      bias, res, p->act, y, ldy, y_off, pre);
    if (e->algo == CLNET_CONV_DIRECT)
        return clnet__conv2d_direct(ctx, &g, x, w, bias, res, p->act, y, ldy, y_off, pre);
    /* res_off follows the im2col chunks below (res and pre are packed rows of cout). */
    clnet__gemm_epilogue ep = {.bias = bias,
                               .res = res,
                               .pre = pre,
                               .ldr = g.cout,
                               .act = p->act.id,
                               .act_alpha = p->act.alpha};
    const clnet__gemm_conv cv = {g.in_h, g.in_w, g.cin, g.out_h, g.out_w,
                                 g.kw,   g.sh,   g.sw,  g.pad_t, g.pad_l};
    const clnet__conv2d_gemm_ctx r = {ctx,
                                      e,
                                      call->scratch,
                                      e->fused_epilogue ? &ep : NULL,
                                      e->prepacked_bytes ? call->prepacked : NULL,
                                      e->algo == CLNET_CONV_IMPLICIT ? &cv : NULL};
    if (e->algo == CLNET_CONV_GROUPED) {
        CLNET_TRY(clnet__conv2d_grouped(ctx, call->scratch, &g, x, w, y));
    } else if (clnet__conv2d_pointwise(&g) || e->algo == CLNET_CONV_IMPLICIT) {
        CLNET_TRY(clnet__conv2d_gemm(&r, &g, CLNET_CONV_GEMM_FWD, rows, 0.0f, x, 0, w, 0, y,
                                     (size_t)y_off, ldy));
    } else {
        int per = 0;
        cl_mem col = NULL;
        CLNET_TRY(clnet__conv2d_col_buffer(ctx, call->scratch, &g, &per, &col));
        for (int n0 = 0; n0 < g.batch; n0 += per) {
            const int images = g.batch - n0 < per ? g.batch - n0 : per;
            CLNET_TRY(clnet__conv2d_im2col(ctx, &g, x, n0, images, col));
            ep.res_off = (size_t)n0 * opix * g.cout;
            CLNET_TRY(clnet__conv2d_gemm(&r, &g, CLNET_CONV_GEMM_FWD, images * opix, 0.0f, col, 0,
                                         w, 0, y, (size_t)y_off + (size_t)n0 * opix * ldy, ldy));
        }
    }
    return e->fused_epilogue ? CLNET_OK
                             : epilogue(ctx, y, ldy, y_off, bias, res, pre, rows, g.cout, p->act);
}

/* dpre = act_backward(dout, v) into dst (NULL: a scratch buffer), v the output or the saved
 * pre-activation as the activation table says, or dout itself without an activation (then
 * copied to dst when dst is given). */
static clnet_status act_backward(const clnet__op_call *call, clnet__act act, cl_mem dst,
                                 cl_mem *dpre)
{
    clnet_context *ctx = call->ctx;
    const size_t count = call->out->count;
    cl_mem v = call->out->buf;
    CLNET_TRY(pre_buffer(call, &v));
    if (!v)
        v = call->out->buf;
    if (act.id == CLNET_ACT_NONE) {
        *dpre = call->dout->buf;
        return dst ? clnet__copy(ctx, call->dout->buf, 0, dst, 0, count) : CLNET_OK;
    }
    if (!dst)
        CLNET_TRY(clnet__scratch_get(ctx, call->scratch, CLNET_SCRATCH_TMP, count * sizeof(float),
                                     "conv2d activation gradient", &dst));
    *dpre = dst;
    const clnet_arg args[] = {
        CLNET_ARG_MEM(call->dout->buf), CLNET_ARG_MEM(v),      CLNET_ARG_MEM(dst),
        CLNET_ARG_INT((int)count),      CLNET_ARG_INT(act.id), CLNET_ARG_FLOAT(act.alpha)};
    const size_t global[1] = {clnet__chunks(ctx, PROG, count)};
    return clnet__launch(ctx, PROG, "conv2d_epilogue_backward", args, (int)CLNET_COUNTOF(args), 1,
                         global);
}

/* dX of the im2col path chunk by chunk: dcol = dpre W^T reuses the chunk's column
 * buffer, scattered back by col2im. */
clnet_status clnet__conv2d_dx(clnet_context *ctx, const clnet__op_exec *e, const clnet__scratch *s,
                              const clnet__conv_geom *g, cl_mem dpre, cl_mem w, cl_mem dx)
{
    const clnet__conv2d_gemm_ctx r = {ctx, e, s, NULL, NULL, NULL};
    if (e->algo_dx == CLNET_CONV_WINOGRAD)
        return clnet__conv2d_winograd_dx(ctx, s, &e->gemm[CLNET_CONV_GEMM_DX], g, dpre, w, dx);
    if (e->algo_dx == CLNET_CONV_GROUPED)
        return clnet__conv2d_grouped_dx(ctx, g, dpre, w, dx);
    const int opix = g->out_h * g->out_w;
    if (clnet__conv2d_pointwise(g))
        return clnet__conv2d_gemm(&r, g, CLNET_CONV_GEMM_DX, g->batch * opix, 0.0f, dpre, 0, w, 0,
                                  dx, 0, 0);
    int per = 0;
    cl_mem col = NULL;
    CLNET_TRY(clnet__conv2d_col_buffer(ctx, s, g, &per, &col));
    for (int n0 = 0; n0 < g->batch; n0 += per) {
        const int images = g->batch - n0 < per ? g->batch - n0 : per;
        CLNET_TRY(clnet__conv2d_gemm(&r, g, CLNET_CONV_GEMM_DX, images * opix, 0.0f, dpre,
                                     (size_t)n0 * opix * g->cout, w, 0, col, 0, 0));
        CLNET_TRY(clnet__conv2d_col2im(ctx, g, col, n0, images, dx));
    }
    return CLNET_OK;
}

/* dW = col^T dpre (x itself for 1x1 stride 1), accumulated over chunks of images (beta 1
 * after the first). */
static clnet_status backward_weights(const clnet__op_call *call, const geom *g, cl_mem dpre)
{
    clnet_context *ctx = call->ctx;
    const clnet__conv2d_gemm_ctx r = {ctx, call->exec, call->scratch, NULL, NULL, NULL};
    cl_mem dw = call->dw[0]->buf;
    const int opix = g->out_h * g->out_w;
    if (clnet__conv2d_pointwise(g))
        return clnet__conv2d_gemm(&r, g, CLNET_CONV_GEMM_DW, g->batch * opix, 0.0f,
                                  call->in[0]->buf, 0, dpre, 0, dw, 0, 0);
    int per = 0;
    cl_mem col = NULL;
    CLNET_TRY(clnet__conv2d_col_buffer(ctx, call->scratch, g, &per, &col));
    for (int n0 = 0; n0 < g->batch; n0 += per) {
        const int images = g->batch - n0 < per ? g->batch - n0 : per;
        CLNET_TRY(clnet__conv2d_im2col(ctx, g, call->in[0]->buf, n0, images, col));
        CLNET_TRY(clnet__conv2d_gemm(&r, g, CLNET_CONV_GEMM_DW, images * opix, n0 ? 1.0f : 0.0f,
                                     col, 0, dpre, (size_t)n0 * opix * g->cout, dw, 0, 0));
    }
    return CLNET_OK;
}

static clnet_status conv2d_backward(const clnet__op_call *call)
{
    const clnet__conv2d_params *p = call->params;
    clnet_context *ctx = call->ctx;
    geom g;
    CLNET_TRY(clnet__conv2d_geom(ctx, p, call->in[0]->shape, &g));
    CLNET_TRY(check_call(call, &g));
    const int rows = g.batch * g.out_h * g.out_w;
    clnet_tensor *dres = call->n_in > 1 ? call->din[1] : NULL;
    cl_mem dpre = NULL;
    /* The residual's gradient is dpre itself: compute it there when wanted. */
    CLNET_TRY(act_backward(call, p->act, dres ? dres->buf : NULL, &dpre));
    if (p->use_bias && call->dw[1])
        CLNET_TRY(
            clnet__reduce_rows(ctx, call->scratch, dpre, 0, rows, g.cout, call->dw[1]->buf, 0));
    if (call->din[0]) {
        ctx->stats.tune_hits += call->exec->tuned_algos >> 1 & 1;
        CLNET_TRY(clnet__conv2d_dx(ctx, call->exec, call->scratch, &g, dpre, call->w[0]->buf,
                                   call->din[0]->buf));
    }
    return call->dw[0] ? backward_weights(call, &g, dpre) : CLNET_OK;
}

/* 1x1 (the direct GEMM), 'same' with stride 2 on odd sizes, the 7x7 stem whose 'same'
 * padding is 2 before and 3 after, a residual input, relu6 scaled to cross 0 and 6, a
 * 3x3 stride-1 layer wide enough (32 channels, 36 tiles) for the GPU classes' default rule
 * to run it by Winograd (with gelu, whose backward reads the saved pre-activation; the
 * cpu class runs Winograd only where `clnet tune`, which checks it, chose it),
 * hard_swish by im2col, 2 groups of 3 input and 5 output channels, and 4 groups of 3 and 4
 * on 19-pixel rows (the cpu class's rule runs them by the grouped direct kernels). */
static const clnet__op_case conv2d_cases[] = {
    {"filters = 8\nkernel_size = 1", 1, {{3, 5, 7, 17}}, 0},
    {"filters = 6\nkernel_size = 3\nstrides = 2\npadding = same\nactivation = relu6",
     1,
     {{3, 7, 7, 5}},
     4.0f},
    {"filters = 5\nkernel_size = 3\npadding = same\nactivation = relu",
     2,
     {{1, 6, 5, 3}, {1, 6, 5, 5}},
     0},
    {"filters = 4\nkernel_size = 7\nstrides = 2\npadding = same\nuse_bias = false",
     1,
     {{1, 8, 8, 3}},
     0},
    {"filters = 32\nkernel_size = 3\npadding = same\nactivation = gelu",
     2,
     {{1, 12, 11, 32}, {1, 12, 11, 32}},
     0},
    {"filters = 7\nkernel_size = 3\nstrides = 2\nactivation = hard_swish", 1, {{3, 7, 6, 5}}, 4.0f},
    {"filters = 10\nkernel_size = 3\nstrides = 2\npadding = same\ngroups = 2",
     1,
     {{3, 7, 7, 6}},
     0},
    {"filters = 16\nkernel_size = 3\npadding = same\ngroups = 4\nactivation = relu",
     1,
     {{2, 5, 19, 12}},
     0},
};

static const clnet_op_key conv2d_keys[] = {
    {"filters", "int", NULL, "output channels", "8"},
    CLNET_KEY_KERNEL_SIZE,
    CLNET_KEY_STRIDES,
    CLNET_KEY_PADDING,
    {"dilation_rate", "int or h, w (1 only)", "1", "dilated convolutions are not supported", "1"},
    {"groups", "int", "1",
     "grouped convolution (ResNeXt): channels split in groups convolved apart; divides the "
     "input channels and filters",
     "4"},
    CLNET_KEY_USE_BIAS,
    CLNET_KEY_ACTIVATION,
};

const clnet__op_desc clnet__op_conv2d = {
    .name = "conv2d",
    .keras = "Conv2D",
    .family = CLNET_FAMILY_CONVOLUTION,
    .describe = conv2d_describe,
    .description = "2-D convolution, kernel h x w x in / groups x filters, with a fused bias and "
                   "activation",
    .keys = conv2d_keys,
    .n_keys = (int)CLNET_COUNTOF(conv2d_keys),
    .params_size = sizeof(clnet__conv2d_params),
    .min_inputs = 1,
    .max_inputs = 2,
    .flags = CLNET_OP_NOT_SMOOTH | CLNET_OP_FUSED_ACT | CLNET_OP_OPTIONAL_BIAS,
    .act_offset = offsetof(clnet__conv2d_params, act),
    .bias_offset = offsetof(clnet__conv2d_params, use_bias),
    .parse = conv2d_parse,
    .infer = conv2d_infer,
    .weights = conv2d_weights,
    .saved = conv2d_saved,
    .flops = conv2d_flops,
    .prepare = conv2d_prepare,
    .prepack = conv2d_prepack,
    .forward = conv2d_forward,
    .backward = conv2d_backward,
    .ref_forward = clnet__ref_conv2d_forward,
    .ref_backward = clnet__ref_conv2d_backward,
    .cases = conv2d_cases,
    .n_cases = (int)CLNET_COUNTOF(conv2d_cases),
};
