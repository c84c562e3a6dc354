/* add.c - add (Keras Add, the residual join, ONNX Add) of 2..8 same-shape inputs, with an
 * optional fused activation so the scheduler can merge add + ReLU; or of two inputs, the
 * second broadcast onto the first as multiply's is ([n, 1, 1, c], [1, 1, 1, c], ...: the
 * kernels of broadcast.c), without an activation.
 * Kernels: cl/add.cl, cl/broadcast.cl. Reference: src/ref/add.c. Tests: tests/ops/test_add.c. */
#include <stdio.h>

#include "ops/broadcast.h"
#include "ops/op.h"
#include "ref/ref.h"

static clnet_status add_parse(clnet_context *ctx, clnet__kv *kv, void *params)
{
    return clnet__act_parse(ctx, kv, "activation", 0, 0, &((clnet__add_params *)params)->act);
}

static clnet_status add_infer(clnet_context *ctx, const void *params, const clnet_shape *in,
                              int n_in, clnet_shape *out)
{
    if (n_in < 2 || n_in > CLNET_MAX_INPUTS)
        return clnet__fail(ctx, CLNET_ERR_INVALID_ARG, "add: needs 2 to %d inputs, got %d",
                           CLNET_MAX_INPUTS, n_in);
    char a[48], b[48];
    if (clnet__broadcast_differs(in, n_in)) {
        CLNET_TRY(clnet__broadcast_check(ctx, "add", in, n_in));
        if (((const clnet__add_params *)params)->act.id != CLNET_ACT_NONE)
            return clnet__fail(ctx, CLNET_ERR_UNSUPPORTED,
                               "add: input 1 (%s) is broadcast onto input 0 (%s), which takes no "
                               "fused activation: put an activation layer after the add",
                               clnet__shape_str(in[1], a, sizeof a),
                               clnet__shape_str(in[0], b, sizeof b));
        *out = in[0];
        return CLNET_OK;
    }
    for (int i = 1; i < n_in; ++i)
        if (!clnet__shape_eq(in[i], in[0]))
            return clnet__fail(ctx, CLNET_ERR_SHAPE,
                               "add: input %d has shape %s, input 0 has %s (all must match, or "
                               "two inputs the second of which broadcasts onto the first)",
                               i, clnet__shape_str(in[i], a, sizeof a),
                               clnet__shape_str(in[0], b, sizeof b));
    *out = in[0];
    return CLNET_OK;
}

/* Backward never reads the inputs (CLNET_OP_BWD_INPUT_SHAPE_ONLY keeps a ResNet's memory
 * low), so an activation whose backward reads the pre-activation keeps that sum instead. */
static int add_saved(const void *params, const clnet_shape *in, int n_in, clnet_shape *saved)
{
    (void)n_in;
    if (!clnet__act_from_input(((const clnet__add_params *)params)->act))
        return 0;
    saved[0] = in[0];
    return 1;
}

static void add_describe(const void *params, char *buf, size_t len)
{
    clnet__act_suffix(((const clnet__add_params *)params)->act, buf, len);
}

/* exec.algo: the second input broadcast, by broadcast.c's kernels (decided at prepare,
 * from the plan's shapes; a smaller batch keeps it: the kernels take equal shapes too). */
enum { ADD_SUM = 0, ADD_BROADCAST = 1 };

static clnet_status add_prepare(clnet_context *ctx, const void *params, const clnet_shape *in,
                                int n_in, clnet_shape out, int training, clnet__op_exec *e)
{
    (void)params;
    (void)out;
    if (!clnet__broadcast_differs(in, n_in))
        return CLNET_OK;
    e->algo = ADD_BROADCAST;
    CLNET_TRY(clnet__broadcast_prepare(ctx, "add", in, n_in, training, e));
    if (!e->backward[0])
        snprintf(e->backward, sizeof e->backward, "add_broadcast_backward");
    snprintf(e->forward, sizeof e->forward, "add_broadcast_forward");
    return CLNET_OK;
}

static double add_flops(const void *params, const clnet_shape *in, int n_in, clnet_shape out)
{
    (void)params;
    (void)in;
    return (double)(n_in - 1) * (double)clnet__shape_count(out);
}

/* The saved sum when the activation's backward reads it (training, or a backward call). */
static clnet_status pre_buffer(const clnet__op_call *call, int backward, cl_mem *pre)
{
    const clnet__add_params *p = call->params;
    *pre = NULL;
    if (!clnet__act_from_input(p->act) || (!call->training && !backward))
        return CLNET_OK;
    if (!call->saved || !call->saved[0])
        return clnet__fail(call->ctx, CLNET_ERR_INVALID_ARG,
                           "add: its activation needs the pre-activation saved in training");
    *pre = call->saved[0]->buf;
    return CLNET_OK;
}

static clnet_status add_forward(const clnet__op_call *call)
{
    const clnet__add_params *p = call->params;
    if (call->exec->algo == ADD_BROADCAST)
        return clnet__broadcast_forward(call->ctx, "add_broadcast_forward", call->in[0],
                                        call->in[1], call->out);
    const int count = (int)call->out->count;
    cl_mem pre = NULL;
    CLNET_TRY(pre_buffer(call, 0, &pre));
    clnet_arg args[15];
    for (int i = 0; i < 8; ++i)
        args[i] = CLNET_ARG_MEM(call->in[i < call->n_in ? i : 0]->buf);
    args[8] = CLNET_ARG_MEM(call->out->buf);
    args[9] = CLNET_ARG_MEM(pre ? pre : call->out->buf);
    args[10] = CLNET_ARG_INT(call->n_in);
    args[11] = CLNET_ARG_INT(count);
    args[12] = CLNET_ARG_INT(pre != NULL);
    args[13] = CLNET_ARG_INT(p->act.id);
    args[14] = CLNET_ARG_FLOAT(p->act.alpha);
    const size_t global[1] = {clnet__chunks(call->ctx, "add", (size_t)count)};
    return clnet__launch(call->ctx, "add", "add_forward", args, (int)CLNET_COUNTOF(args), 1,
                         global);
}

/* One launch writes every wanted input gradient (they are all the same). */
static clnet_status add_backward(const clnet__op_call *call)
{
    const clnet__add_params *p = call->params;
    if (call->exec->algo == ADD_BROADCAST)
        return clnet__broadcast_backward(call->ctx, call->scratch, "add_broadcast_backward",
                                         call->in[0], call->in[1], call->dout, call->din[0],
                                         call->din[1]);
    const int count = (int)call->out->count;
    cl_mem d[8];
    int n_out = 0;
    for (int i = 0; i < call->n_in; ++i)
        if (call->din[i])
            d[n_out++] = call->din[i]->buf;
    if (n_out == 0)
        return CLNET_OK;
    cl_mem pre = NULL;
    CLNET_TRY(pre_buffer(call, 1, &pre));
    clnet_arg args[14];
    args[0] = CLNET_ARG_MEM(pre ? pre : call->out->buf);
    args[1] = CLNET_ARG_MEM(call->dout->buf);
    for (int i = 0; i < 8; ++i)
        args[2 + i] = CLNET_ARG_MEM(d[i < n_out ? i : 0]);
    args[10] = CLNET_ARG_INT(n_out);
    args[11] = CLNET_ARG_INT(count);
    args[12] = CLNET_ARG_INT(p->act.id);
    args[13] = CLNET_ARG_FLOAT(p->act.alpha);
    const size_t global[1] = {clnet__chunks(call->ctx, "add", (size_t)count)};
    return clnet__launch(call->ctx, "add", "add_backward", args, (int)CLNET_COUNTOF(args), 1,
                         global);
}

/* Counts not a multiple of the vector width or chunk; the scaled relu case crosses 0. */
static const clnet__op_case add_cases[] = {
    {"", 2, {{1, 1, 1, 1}, {1, 1, 1, 1}}, 0},
    {"", 3, {{3, 5, 7, 3}, {3, 5, 7, 3}, {3, 5, 7, 3}}, 0},
    {"activation = relu", 2, {{2, 9, 11, 17}, {2, 9, 11, 17}}, 2.0f},
    {"activation = sigmoid", 3, {{3, 1, 1, 33}, {3, 1, 1, 33}, {3, 1, 1, 33}}, 2.0f},
    {"activation = swish", 2, {{1, 3, 5, 17}, {1, 3, 5, 17}}, 2.0f},
    {"", 2, {{3, 4, 5, 33}, {3, 1, 1, 33}}, 0},   /* broadcast: per image and channel */
    {"", 2, {{3, 13, 14, 17}, {1, 1, 1, 17}}, 0}, /* per channel, several reduce blocks */
    {"", 2, {{3, 5, 3, 17}, {3, 5, 3, 1}}, 0},    /* a spatial map */
};

static const clnet_op_key add_keys[] = {
    CLNET_KEY_ACTIVATION,
};

const clnet__op_desc clnet__op_add = {
    .name = "add",
    .keras = "Add",
    .family = CLNET_FAMILY_MERGE,
    .describe = add_describe,
    .description = "sum of 2 to 8 inputs of the same shape (the residual join), or of two, the "
                   "second broadcast ([n, 1, 1, c], [1, 1, 1, c], ...)",
    .keys = add_keys,
    .n_keys = (int)CLNET_COUNTOF(add_keys),
    .params_size = sizeof(clnet__add_params),
    .min_inputs = 2,
    .max_inputs = CLNET_MAX_INPUTS,
    .flags = CLNET_OP_NOT_SMOOTH | CLNET_OP_BWD_INPUT_SHAPE_ONLY | CLNET_OP_FUSED_ACT,
    .act_offset = offsetof(clnet__add_params, act),
    .parse = add_parse,
    .infer = add_infer,
    .saved = add_saved,
    .flops = add_flops,
    .prepare = add_prepare,
    .forward = add_forward,
    .backward = add_backward,
    .ref_forward = clnet__ref_add_forward,
    .ref_backward = clnet__ref_add_backward,
    .cases = add_cases,
    .n_cases = (int)CLNET_COUNTOF(add_cases),
};
