/* onnx_ops.c - the ONNX ops the importer runs, with the attributes each handler reads
 * (any other attribute on a node is reported, not ignored). Ops listed with
 * ox_fold_only run on constants alone, at import (onnx_fold.c). */
#include <string.h>

#include "io/onnx_ops.h"

static const ox_op ops[] = {
    {"Add", ox_binary, ""},
    {"AveragePool", ox_pool, "auto_pad ceil_mode count_include_pad kernel_shape pads strides"},
    {"BatchNormalization", ox_batch_norm, "epsilon momentum spatial training_mode"},
    {"Cast", ox_fold_only, "to"},
    {"Ceil", ox_fold_only, ""},
    {"Clip", ox_unary, "min max"},
    {"Concat", ox_concat, "axis"},
    {"ConstantOfShape", ox_fold_only, "value"},
    {"Conv", ox_conv, "auto_pad dilations group kernel_shape pads strides"},
    {"Div", ox_binary, ""},
    {"Dropout", ox_identity, "ratio seed training_mode"},
    {"Elu", ox_unary, "alpha"},
    {"Erf", ox_unary, ""},
    {"Flatten", ox_flatten, "axis"},
    {"Floor", ox_fold_only, ""},
    {"Gather", ox_fold_only, "axis"},
    {"Gemm", ox_gemm, "alpha beta transA transB"},
    {"GlobalAveragePool", ox_global_pool, ""},
    {"GlobalMaxPool", ox_global_pool, ""},
    {"HardSigmoid", ox_unary, "alpha beta"},
    {"HardSwish", ox_unary, ""},
    {"Identity", ox_identity, ""},
    {"LayerNormalization", ox_layer_norm, "axis epsilon stash_type"},
    {"LeakyRelu", ox_unary, "alpha"},
    {"MatMul", ox_matmul, ""},
    {"MaxPool", ox_pool, "auto_pad ceil_mode dilations kernel_shape pads storage_order strides"},
    {"Mul", ox_binary, ""},
    {"Neg", ox_fold_only, ""},
    {"Pad", ox_pad, "mode pads paddings value"},
    {"Pow", ox_fold_only, ""},
    {"PRelu", ox_prelu, ""},
    {"Range", ox_fold_only, ""},
    {"ReduceMax", ox_reduce, "axes keepdims"},
    {"ReduceMean", ox_reduce, "axes keepdims"},
    {"Relu", ox_unary, ""},
    {"Reshape", ox_reshape, "allowzero"},
    {"Shape", ox_fold_only, "end start"},
    {"Sigmoid", ox_unary, ""},
    {"Slice", ox_slice, "axes ends starts"},
    {"Softmax", ox_softmax, "axis"},
    {"Split", ox_split, "axis split"},
    {"Sqrt", ox_fold_only, ""},
    {"Squeeze", ox_squeeze, "axes"},
    {"Sub", ox_binary, ""},
    {"Sum", ox_sum, ""},
    {"Tanh", ox_unary, ""},
    {"Transpose", ox_transpose, "perm"},
    {"Unsqueeze", ox_squeeze, "axes"},
};

const ox_op *ox_op_find(const char *type)
{
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; ++i)
        if (!strcmp(ops[i].type, type))
            return &ops[i];
    return NULL;
}

const char *ox_op_names(void)
{
    static _Thread_local char names[1024];
    if (!names[0])
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; ++i) {
            strcat(names, i ? ", " : "");
            strcat(names, ops[i].type);
        }
    return names;
}

int ox_output(ox_ctx *x, int k, int o)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    if (o < 0 || (size_t)o >= n->n_output || !n->output[o][0])
        return -1;
    return ox_find(x, n->output[o]);
}
