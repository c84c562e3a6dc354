/* onnx_ops.h - the importer's op handlers: one table (onnx_ops.c) of the ONNX ops clnet
 * runs, each with the attributes its handler reads; the handlers by family in
 * onnx_layers.c (ops with weights), onnx_views.c (ops that reshape, transpose, join or
 * split) and onnx_elementwise.c (activations, arithmetic, pools and the subgraphs that
 * become one op). */
#ifndef CLNET_IO_ONNX_OPS_H
#define CLNET_IO_ONNX_OPS_H

#include "io/onnx_import.h"

typedef struct ox_op {
    const char *type;
    /* Adds node k's layers and sets its outputs; -1 after ox_unsupported (or x->st). */
    int (*run)(ox_ctx *x, int k);
    const char *attrs; /* the attributes the handler reads, space-separated */
} ox_op;

const ox_op *ox_op_find(const char *type);
/* "Add, AveragePool, ..." (static). */
const char *ox_op_names(void);

/* Input i of node n when it is an activation, else NULL. */
const ox_value *ox_act(ox_ctx *x, const Onnx__NodeProto *n, int i);
/* A unique layer name for node k (its ONNX name, cleaned, plus suffix) into out[64]. */
int ox_name(ox_ctx *x, int k, const char *suffix, char *out);
/* Adds a clnet layer for node k (named after it, plus suffix) from printf-style params;
 * its index, or -1 with the builder's message recorded against the node. */
int ox_layer(ox_ctx *x, int k, const char *suffix, const char *op, const int *inputs, int n_in,
             const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 7, 8)))
#endif
    ;
/* Output o of node k becomes the activation of layer in layout (like: the input whose
 * flattened channel order an elementwise result keeps, or NULL). */
int ox_set_act(ox_ctx *x, int k, int o, int layer, int layout, const ox_value *like);
/* A weight of layer (data malloc'd, taken). */
int ox_weight(ox_ctx *x, int layer, const char *name, float *data, int64_t count);
/* The layer holding value v with its pending zero padding applied (a zero_pad layer made
 * once, on first need); -1 on failure. */
int ox_materialize(ox_ctx *x, int k, int v);
/* The value index of node k's output o, or -1. */
int ox_output(ox_ctx *x, int k, int o);

/* Pads of a window op (pads, auto_pad, dilations 1) on activation a with kernel kh x kw,
 * a's pending padding included, as top, bottom, left, right into pad; -1 (recorded) when
 * they cannot be, 1 when a's pending padding would make pads as large as the window (the
 * caller materializes it and asks again). */
int ox_window(ox_ctx *x, int k, const ox_value *a, int kh, int kw, const int *stride, int *pad);
/* A layer_norm of a (channels last) with epsilon, gamma and beta (NULL: zeros) for node k,
 * setting node out_node's output. */
int ox_layer_norm_layer(ox_ctx *x, int k, int out_node, const ox_value *a, float eps,
                        const float *gamma, const float *beta);

/* Handlers. */
int ox_conv(ox_ctx *x, int k);
int ox_batch_norm(ox_ctx *x, int k);
int ox_gemm(ox_ctx *x, int k);
int ox_matmul(ox_ctx *x, int k);
int ox_layer_norm(ox_ctx *x, int k);
int ox_flatten(ox_ctx *x, int k);
int ox_reshape(ox_ctx *x, int k);
int ox_squeeze(ox_ctx *x, int k);
int ox_transpose(ox_ctx *x, int k);
int ox_concat(ox_ctx *x, int k);
int ox_split(ox_ctx *x, int k);
int ox_slice(ox_ctx *x, int k);
int ox_pad(ox_ctx *x, int k);
int ox_identity(ox_ctx *x, int k);
int ox_unary(ox_ctx *x, int k);
int ox_binary(ox_ctx *x, int k);
int ox_sum(ox_ctx *x, int k);
int ox_prelu(ox_ctx *x, int k);
int ox_pool(ox_ctx *x, int k);
int ox_global_pool(ox_ctx *x, int k);
int ox_reduce(ox_ctx *x, int k);
int ox_softmax(ox_ctx *x, int k);
int ox_fold_only(ox_ctx *x, int k);

/* onnx_match.c (the walk asks it before a node's handler): node k starts a subgraph that is one
 * clnet activation or op (x * Sigmoid(x), the erf GELU, the LayerNorm of
 * ReduceMean/Sub/Pow/Sqrt/Div...): 1 when it was translated (its nodes marked done), 0 when k
 * starts none. */
int ox_match(ox_ctx *x, int k);

#endif
