/* broadcast.c - multiply, subtract and divide (Keras Multiply / Subtract, ONNX Mul / Sub /
 * Div), and the kernels of add's two-input broadcast form (add.c) and of layer_scale, of
 * input 0 (a) and input 1 (b), where b has a's shape or broadcasts to it: each of
 * b's dimensions is a's or 1, and the dimensions of size 1 (the broadcast ones) are
 * adjacent in NHWC order once a's own dimensions of size 1 are left out. That covers the
 * squeeze-and-excitation scale [n, 1, 1, c] of MobileNetV3 / EfficientNet / RegNetY, a
 * per-channel [1, 1, 1, c], a scalar [1, 1, 1, 1], a per-image [n, 1, 1, 1], a spatial map
 * [n, h, w, 1] and [1, h, w, c]; not [1, h, w, 1], whose broadcast dimensions are apart.
 * b's gradient is summed over the broadcast cells in a fixed order (no atomics).
 * Kernels: cl/broadcast.cl. Reference: src/ref/broadcast.c.
 * Tests: tests/ops/test_multiply.c, test_subtract.c, test_divide.c. */
#include <stdio.h>

#include "ops/broadcast.h"
#include "ops/op.h"
#include "ops/reduce.h"
#include "ref/ref.h"

#define PROG "broadcast"

/* a and y flat as [groups][rows][cols], b as [groups][cols]: rows is the product of b's
 * broadcast dimensions, groups of a's dimensions before them and cols of those after.
 * A dimension where a and b agree is never broadcast, so the view follows from the shapes
 * alone and a smaller batch never needs more scratch than the plan's. */
typedef struct bc_view {
    int groups, rows, cols;
} bc_view;

static clnet_status bc_view_of(clnet_context *ctx, const char *op, const clnet_shape *in, int n_in,
                               bc_view *v)
{
    char sa[48], sb[48];
    if (n_in != 2)
        return clnet__fail(ctx, CLNET_ERR_INVALID_ARG, "%s: needs 2 inputs, got %d", op, n_in);
    const int a[4] = {in[0].n, in[0].h, in[0].w, in[0].c};
    const int b[4] = {in[1].n, in[1].h, in[1].w, in[1].c};
    int first = -1, last = -1, after = 0; /* after: a kept dimension follows the run */
    for (int d = 0; d < 4; ++d) {
        if (b[d] != a[d] && b[d] != 1)
            return clnet__fail(ctx, CLNET_ERR_SHAPE,
                               "%s: input 1 has shape %s, which does not broadcast to input 0's "
                               "%s (each dimension must be input 0's or 1)",
                               op, clnet__shape_str(in[1], sb, sizeof sb),
                               clnet__shape_str(in[0], sa, sizeof sa));
        if (a[d] == 1) /* either way: it counts in no product */
            continue;
        if (b[d] == a[d]) {
            after = first >= 0;
            continue;
        }
        if (after)
            return clnet__fail(ctx, CLNET_ERR_SHAPE,
                               "%s: input 1 has shape %s, broadcast to input 0's %s along "
                               "dimensions that are not adjacent (unsupported: the broadcast "
                               "ones must be adjacent, as in [n, 1, 1, c] or [n, h, w, 1])",
                               op, clnet__shape_str(in[1], sb, sizeof sb),
                               clnet__shape_str(in[0], sa, sizeof sa));
        if (first < 0)
            first = d;
        last = d;
    }
    v->groups = 1;
    v->rows = 1;
    v->cols = 1;
    for (int d = 0; d < 4; ++d) {
        if (first < 0 || d > last)
            v->cols *= a[d];
        else if (d < first)
            v->groups *= a[d];
        else
            v->rows *= a[d];
    }
    return CLNET_OK;
}

int clnet__broadcast_differs(const clnet_shape *in, int n_in)
{
    return n_in == 2 && !clnet__shape_eq(in[0], in[1]);
}

clnet_status clnet__broadcast_check(clnet_context *ctx, const char *op, const clnet_shape *in,
                                    int n_in)
{
    bc_view v;
    return bc_view_of(ctx, op, in, n_in, &v);
}

static clnet_status bc_infer(clnet_context *ctx, const char *op, const clnet_shape *in, int n_in,
                             clnet_shape *out)
{
    bc_view v;
    CLNET_TRY(bc_view_of(ctx, op, in, n_in, &v));
    *out = in[0];
    return CLNET_OK;
}

clnet_status clnet__broadcast_prepare(clnet_context *ctx, const char *op, const clnet_shape *in,
                                      int n_in, int training, clnet__op_exec *e)
{
    bc_view v;
    CLNET_TRY(bc_view_of(ctx, op, in, n_in, &v));
    if (!(training & CLNET_PREPARE_TRAINING) || v.rows == 1)
        return CLNET_OK;
    /* b's gradient: the per-element terms in TMP, then summed over the rows, by
     * clnet__reduce_rows when there is one group (also at a smaller batch that makes one),
     * else clnet__reduce_groups. */
    e->scratch[1][CLNET_SCRATCH_TMP] = clnet__shape_count(in[0]) * sizeof(float);
    e->scratch[1][CLNET_SCRATCH_REDUCE] = clnet__reduce_rows_scratch(ctx, v.rows, v.cols);
    snprintf(e->backward, sizeof e->backward, "%s_backward + %s", op,
             v.groups == 1 ? "reduce_rows" : "reduce_groups");
    return CLNET_OK;
}

clnet_status clnet__broadcast_forward(clnet_context *ctx, const char *kernel, clnet_tensor *a,
                                      clnet_tensor *b, clnet_tensor *y)
{
    const clnet_shape in[2] = {a->shape, b->shape};
    bc_view v;
    CLNET_TRY(bc_view_of(ctx, kernel, in, 2, &v));
    const int count = (int)y->count;
    const clnet_arg args[] = {CLNET_ARG_MEM(a->buf), CLNET_ARG_MEM(b->buf), CLNET_ARG_MEM(y->buf),
                              CLNET_ARG_INT(count),  CLNET_ARG_INT(v.rows), CLNET_ARG_INT(v.cols)};
    const size_t global[1] = {clnet__chunks(ctx, PROG, (size_t)count)};
    return clnet__launch(ctx, PROG, kernel, args, (int)CLNET_COUNTOF(args), 1, global);
}

clnet_status clnet__broadcast_backward(clnet_context *ctx, const clnet__scratch *scratch,
                                       const char *kernel, clnet_tensor *a, clnet_tensor *b,
                                       clnet_tensor *dy, clnet_tensor *da, clnet_tensor *db)
{
    if (!da && !db)
        return CLNET_OK;
    const clnet_shape in[2] = {a->shape, b->shape};
    bc_view v;
    CLNET_TRY(bc_view_of(ctx, kernel, in, 2, &v));
    const int count = (int)dy->count;
    cl_mem t = db ? db->buf : NULL;
    if (db && v.rows > 1)
        CLNET_TRY(clnet__scratch_get(ctx, scratch, CLNET_SCRATCH_TMP, (size_t)count * sizeof(float),
                                     kernel, &t));
    const clnet_arg args[] = {CLNET_ARG_MEM(a->buf),          CLNET_ARG_MEM(b->buf),
                              CLNET_ARG_MEM(dy->buf),         CLNET_ARG_MEM(da ? da->buf : t),
                              CLNET_ARG_MEM(t ? t : da->buf), CLNET_ARG_INT(count),
                              CLNET_ARG_INT(v.rows),          CLNET_ARG_INT(v.cols),
                              CLNET_ARG_INT(da != NULL),      CLNET_ARG_INT(db != NULL)};
    const size_t global[1] = {clnet__chunks(ctx, PROG, (size_t)count)};
    CLNET_TRY(clnet__launch(ctx, PROG, kernel, args, (int)CLNET_COUNTOF(args), 1, global));
    if (!db || v.rows == 1)
        return CLNET_OK;
    if (v.groups == 1)
        return clnet__reduce_rows(ctx, scratch, t, 0, v.rows, v.cols, db->buf, 0);
    return clnet__reduce_groups(ctx, t, v.groups, v.rows, v.cols, db->buf);
}

/* Every broadcast form the view takes (rows 1; groups 1 with one and several reduce_rows
 * blocks; groups > 1 with cols > 1 and cols 1), awkward sizes, batch 1 and 3. */
static const clnet__op_case bc_cases[] = {
    {"", 2, {{3, 5, 7, 17}, {3, 5, 7, 17}}, 0},
    {"", 2, {{3, 4, 5, 33}, {3, 1, 1, 33}}, 0},   /* squeeze-and-excitation */
    {"", 2, {{1, 6, 5, 17}, {1, 1, 1, 17}}, 0},   /* the same at batch 1: one group */
    {"", 2, {{3, 13, 14, 17}, {1, 1, 1, 17}}, 0}, /* per channel, several blocks */
    {"", 2, {{3, 1, 1, 17}, {1, 1, 1, 1}}, 0},
    {"", 2, {{3, 5, 3, 17}, {3, 5, 3, 1}}, 0}, /* a spatial map */
    {"", 2, {{1, 1, 1, 1}, {1, 1, 1, 1}}, 0},
};

#define BC_OP(name_, keras_, what_, flags_)                                                        \
    static clnet_status name_##_infer(clnet_context *ctx, const void *params,                      \
                                      const clnet_shape *in, int n_in, clnet_shape *out)           \
    {                                                                                              \
        (void)params;                                                                              \
        return bc_infer(ctx, #name_, in, n_in, out);                                               \
    }                                                                                              \
    static clnet_status name_##_prepare(clnet_context *ctx, const void *params,                    \
                                        const clnet_shape *in, int n_in, clnet_shape out,          \
                                        int training, clnet__op_exec *e)                           \
    {                                                                                              \
        (void)params;                                                                              \
        (void)out;                                                                                 \
        return clnet__broadcast_prepare(ctx, #name_, in, n_in, training, e);                       \
    }                                                                                              \
    static clnet_status name_##_forward(const clnet__op_call *call)                                \
    {                                                                                              \
        return clnet__broadcast_forward(call->ctx, #name_ "_forward", call->in[0], call->in[1],    \
                                        call->out);                                                \
    }                                                                                              \
    static clnet_status name_##_backward(const clnet__op_call *call)                               \
    {                                                                                              \
        return clnet__broadcast_backward(call->ctx, call->scratch, #name_ "_backward",             \
                                         call->in[0], call->in[1], call->dout, call->din[0],       \
                                         call->din[1]);                                            \
    }                                                                                              \
    const clnet__op_desc clnet__op_##name_ = {                                                     \
        .name = #name_,                                                                            \
        .family = CLNET_FAMILY_MERGE,                                                              \
        .keras = keras_,                                                                           \
        .description = what_,                                                                      \
        .min_inputs = 2,                                                                           \
        .max_inputs = 2,                                                                           \
        .flags = CLNET_OP_BWD_NO_OUTPUT | (flags_),                                                \
        .parse = clnet__op_parse_none,                                                             \
        .infer = name_##_infer,                                                                    \
        .flops = clnet__op_flops_per_element,                                                      \
        .prepare = name_##_prepare,                                                                \
        .forward = name_##_forward,                                                                \
        .backward = name_##_backward,                                                              \
        .ref_forward = clnet__ref_##name_##_forward,                                               \
        .ref_backward = clnet__ref_##name_##_backward,                                             \
        .cases = bc_cases,                                                                         \
        .n_cases = (int)CLNET_COUNTOF(bc_cases),                                                   \
    };

BC_OP(multiply, "Multiply",
      "a * b, b the same shape or broadcast (the squeeze-and-excitation scale [n, 1, 1, c])", 0)
/* subtract's backward reads no data but dy. */
BC_OP(subtract, "Subtract", "a - b, b the same shape or broadcast ([1, 1, 1, c], [n, 1, 1, c])",
      CLNET_OP_BWD_INPUT_SHAPE_ONLY)
/* Keras has no Divide layer; ONNX's Div. */
BC_OP(divide, "Divide", "a / b, b the same shape or broadcast ([1, 1, 1, c], [n, 1, 1, c])", 0)
