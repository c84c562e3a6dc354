/* op_params.h - the typed parameter struct of every op, shared by the op's host
 * code (src/ops/<op>.c) and its reference (src/ref/<op>.c). One block per op. */
#ifndef CLNET_OPS_OP_PARAMS_H
#define CLNET_OPS_OP_PARAMS_H

/* Fused activation of conv2d, dense and batch_norm: the kernels' ACT argument. */
typedef enum clnet__act { CLNET_ACT_NONE = 0, CLNET_ACT_RELU = 1, CLNET_ACT_RELU6 = 2 } clnet__act;

/* relu, relu6 (relu.c): max(x, 0), capped at `cap` when cap > 0. */
typedef struct clnet__relu_params {
    float cap; /* 0: no cap (relu); 6: relu6 */
} clnet__relu_params;

#endif
