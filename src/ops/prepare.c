/* prepare.c - an op's execution record (op.h, clnet__op_exec): made once when a plan is
 * built (src/plan/fuse.c) or before calls outside a plan. Tests: tests/ops/test_prepare.c. */
#include <stdio.h>
#include <string.h>

#include "ops/op.h"

clnet_status clnet__op_prepare(clnet_context *ctx, const clnet__op_desc *op, const void *params,
                               const clnet_shape *in, int n_in, int training, clnet__op_exec *e)
{
    memset(e, 0, sizeof *e);
    e->prepack = (training & CLNET_PREPARE_PREPACK) != 0;
    training &= ~CLNET_PREPARE_PREPACK;
    snprintf(e->forward, sizeof e->forward, "%s_forward", op->name);
    snprintf(e->backward, sizeof e->backward, "%s_backward", op->name);
    if (!op->prepare)
        return CLNET_OK;
    clnet_shape out;
    CLNET_TRY(op->infer(ctx, params, in, n_in, &out));
    return op->prepare(ctx, params, in, n_in, out, training, e);
}

clnet_status clnet__op_alone_prepare(clnet_context *ctx, const clnet__op_desc *op,
                                     const void *params, const clnet_shape *in, int n_in,
                                     int training, clnet__op_alone *a)
{
    memset(a, 0, sizeof *a);
    CLNET_TRY(clnet__op_prepare(ctx, op, params, in, n_in, training, &a->exec));
    size_t bytes[CLNET_SCRATCH_COUNT];
    for (int k = 0; k < CLNET_SCRATCH_COUNT; ++k) {
        const size_t f = a->exec.scratch[0][k], b = a->exec.scratch[1][k];
        bytes[k] = f > b ? f : b;
    }
    return clnet__scratch_create(ctx, bytes, &a->scratch);
}

void clnet__op_alone_release(clnet__op_alone *a)
{
    clnet__scratch_release(&a->scratch);
}
