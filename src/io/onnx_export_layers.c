/* onnx_export_layers.c - each clnet layer as ONNX opset 13 nodes on NCHW tensors (the
 * message helpers and the file: onnx_export.c). Weights are transposed from clnet's HWIO
 * to ONNX's OIHW here; fused activations become nodes after their op; ops opset 13 lacks
 * are written as the subgraphs exporters use for them (LayerNormalization, HardSwish,
 * GELU, SiLU). Tests: tests/io/test_onnx_export.c. */
#include <math.h>
#include <string.h>

#include "io/onnx_export.h"
#include "ops/pool.h"
#include "ops/window.h"

typedef clnet__onnx_export exporter;

static const clnet__layer *cur(const exporter *e)
{
    return &e->g->layers[e->layer];
}

static clnet_shape in_shape(const exporter *e, int k)
{
    return e->g->layers[cur(e)->in[k]].out;
}

/* Input k of the current layer at rank 4 (or 2). */
static const char *in_at(exporter *e, int k, int rank)
{
    return clnet__onnx_input(e, cur(e)->in[k], rank);
}

/* The rank input k's producer gives. */
static int in_rank(const exporter *e, int k)
{
    return e->values[cur(e)->in[k]].rank;
}

static const char *node1(exporter *e, const char *type, const char *x)
{
    return clnet__onnx_node(e, type, 1, &x);
}

static const char *node2(exporter *e, const char *type, const char *a, const char *b)
{
    const char *in[2] = {a, b};
    return clnet__onnx_node(e, type, 2, in);
}

/* ---- activations: the table's entries (ops/activation.h) as nodes ---- */

static const char *hard_sigmoid(exporter *e, const char *x)
{
    /* clnet's relu6(x + 3) / 6 (Keras 3, PyTorch) is max(0, min(1, x / 6 + 1 / 2)). */
    const char *y = node1(e, "HardSigmoid", x);
    clnet__onnx_attr_float(e, "alpha", 1.0f / 6.0f);
    clnet__onnx_attr_float(e, "beta", 0.5f);
    return y;
}

/* Clip's bounds are inputs since opset 11. */
static const char *clip(exporter *e, const char *x, float lo, float hi)
{
    const char *in[3] = {x, clnet__onnx_scalar(e, lo), clnet__onnx_scalar(e, hi)};
    return clnet__onnx_node(e, "Clip", 3, in);
}

/* x * 0.5 * (1 + erf(x / sqrt(2))), as PyTorch exports nn.GELU() to opset 13. */
static const char *gelu(exporter *e, const char *x)
{
    const char *t = node2(e, "Div", x, clnet__onnx_scalar(e, (float)sqrt(2.0)));
    t = node1(e, "Erf", t);
    t = node2(e, "Add", t, clnet__onnx_scalar(e, 1.0f));
    t = node2(e, "Mul", x, t);
    return node2(e, "Mul", t, clnet__onnx_scalar(e, 0.5f));
}

/* 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), PyTorch's GELU(approximate='tanh'). */
static const char *gelu_tanh(exporter *e, const char *x)
{
    const char *t = node2(e, "Pow", x, clnet__onnx_scalar(e, 3.0f));
    t = node2(e, "Mul", t, clnet__onnx_scalar(e, 0.044715f));
    t = node2(e, "Add", x, t);
    t = node2(e, "Mul", t, clnet__onnx_scalar(e, (float)sqrt(2.0 / 3.14159265358979323846)));
    t = node1(e, "Tanh", t);
    t = node2(e, "Add", t, clnet__onnx_scalar(e, 1.0f));
    t = node2(e, "Mul", x, t);
    return node2(e, "Mul", t, clnet__onnx_scalar(e, 0.5f));
}

static const char *act(exporter *e, const char *x, clnet__act a)
{
    switch (a.id) {
    case CLNET_ACT_NONE:
        return x;
    case CLNET_ACT_RELU:
        return node1(e, "Relu", x);
    case CLNET_ACT_RELU6:
        return clip(e, x, 0.0f, 6.0f);
    case CLNET_ACT_LEAKY_RELU: {
        const char *y = node1(e, "LeakyRelu", x);
        clnet__onnx_attr_float(e, "alpha", a.alpha);
        return y;
    }
    case CLNET_ACT_ELU: {
        const char *y = node1(e, "Elu", x);
        clnet__onnx_attr_float(e, "alpha", a.alpha);
        return y;
    }
    case CLNET_ACT_SIGMOID:
        return node1(e, "Sigmoid", x);
    case CLNET_ACT_TANH:
        return node1(e, "Tanh", x);
    case CLNET_ACT_HARD_SIGMOID:
        return hard_sigmoid(e, x);
    case CLNET_ACT_SWISH: /* Swish / HardSwish are opset 14 and later */
        return node2(e, "Mul", x, node1(e, "Sigmoid", x));
    case CLNET_ACT_HARD_SWISH:
        return node2(e, "Mul", x, hard_sigmoid(e, x));
    case CLNET_ACT_GELU:
        return gelu(e, x);
    case CLNET_ACT_GELU_TANH:
        return gelu_tanh(e, x);
    case CLNET_ACT_SOFTMAX: { /* dense only: over the units, axis 1 of [N, C] or NCHW */
        const char *y = node1(e, "Softmax", x);
        clnet__onnx_attr_int(e, "axis", 1);
        return y;
    }
    }
    clnet__onnx_fail(e, CLNET_ERR_UNSUPPORTED, "layer '%s' (%s): activation %d has no ONNX form",
                     cur(e)->name, cur(e)->op->name, (int)a.id);
    return NULL;
}

/* ---- weights ---- */

/* Weight k, a vector of c values, as an initializer [c] (rank 2 consumers) or [c, 1, 1]
 * (rank 4: it broadcasts over [N, c, h, w]). */
static const char *vector(exporter *e, int k, const char *name, int c, int rank)
{
    const float *v = clnet__import_weight(e, k, name, (size_t)c);
    const int64_t dims[3] = {c, 1, 1};
    const char *id = NULL;
    float *w = clnet__onnx_init_f32(e, name, rank == 2 ? 1 : 3, dims, &id);
    if (v && w)
        memcpy(w, v, (size_t)c * sizeof *w);
    return id;
}

/* A kernel {kh, kw, in, out} (HWIO) as ONNX's [out, in, kh, kw]; rank 2 gives Gemm's B
 * [out, in] of a dense kernel {1, 1, in, out}. */
static const char *kernel_oihw(exporter *e, int kh, int kw, int in, int out, int rank)
{
    const size_t count = (size_t)kh * kw * in * out;
    const float *k = clnet__import_weight(e, 0, "kernel", count);
    const int64_t dims[4] = {out, in, kh, kw};
    const char *id = NULL;
    float *w = clnet__onnx_init_f32(e, "kernel", rank, dims, &id);
    if (!k || !w)
        return NULL;
    for (int o = 0; o < out; ++o)
        for (int i = 0; i < in; ++i)
            for (int y = 0; y < kh; ++y)
                for (int x = 0; x < kw; ++x)
                    w[(((size_t)o * in + i) * kh + y) * kw + x] =
                        k[(((size_t)y * kw + x) * in + i) * out + o];
    return id;
}

/* A depthwise kernel {kh, kw, c, mult} as a grouped convolution's [c * mult, 1, kh, kw]:
 * output channel ci * mult + m filters input channel ci with kernel[ky][kx][ci][m]
 * (depthwise_conv2d.c), which is group ci's m-th filter in ONNX's order. */
static const char *kernel_depthwise(exporter *e, int kh, int kw, int channels)
{
    const size_t count = (size_t)kh * kw * channels;
    const float *k = clnet__import_weight(e, 0, "kernel", count);
    const int64_t dims[4] = {channels, 1, kh, kw};
    const char *id = NULL;
    float *w = clnet__onnx_init_f32(e, "kernel", 4, dims, &id);
    if (!k || !w)
        return NULL;
    for (int o = 0; o < channels; ++o)
        for (int p = 0; p < kh * kw; ++p)
            w[(size_t)o * kh * kw + p] = k[(size_t)p * channels + o];
    return id;
}

/* ---- windows ---- */

/* ONNX's pads along one axis: Keras 'same' has its odd cell after, as TensorFlow. */
static void axis_pads(int mode, int in, int k, int s, int before, int after, int64_t *b, int64_t *a)
{
    if (mode == CLNET_PADDING_EXPLICIT) {
        *b = before;
        *a = after;
    } else if (mode == CLNET_PADDING_SAME) {
        const int64_t out = ((int64_t)in + s - 1) / s, total = (out - 1) * s + k - in;
        *b = total > 0 ? total / 2 : 0;
        *a = total > 0 ? total - *b : 0;
    } else {
        *b = *a = 0;
    }
}

/* kernel_shape, strides and pads ([top, left, bottom, right]) on the last node. */
static void window(exporter *e, int mode, int kh, int kw, int sh, int sw, const int pad[4])
{
    const clnet_shape s = in_shape(e, 0);
    int64_t pads[4];
    axis_pads(mode, s.h, kh, sh, pad[0], pad[1], &pads[0], &pads[2]);
    axis_pads(mode, s.w, kw, sw, pad[2], pad[3], &pads[1], &pads[3]);
    clnet__onnx_attr_ints(e, "kernel_shape", 2, (const int64_t[]){kh, kw});
    clnet__onnx_attr_ints(e, "strides", 2, (const int64_t[]){sh, sw});
    clnet__onnx_attr_ints(e, "pads", 4, pads);
}

/* ---- the ops ---- */

static const char *conv2d(exporter *e)
{
    const clnet__conv2d_params *p = cur(e)->params;
    const int groups = p->groups > 0 ? p->groups : 1, cin = in_shape(e, 0).c;
    const char *in[3] = {in_at(e, 0, 4), kernel_oihw(e, p->kh, p->kw, cin / groups, p->filters, 4),
                         p->use_bias ? vector(e, 1, "bias", p->filters, 2) : NULL};
    const char *y = clnet__onnx_node(e, "Conv", p->use_bias ? 3 : 2, in);
    window(e, p->padding, p->kh, p->kw, p->sh, p->sw,
           (const int[]){p->pad_t, p->pad_b, p->pad_l, p->pad_r});
    if (groups > 1)
        clnet__onnx_attr_int(e, "group", groups);
    if (cur(e)->n_in > 1) /* the fused residual: act(conv + bias + residual) */
        y = node2(e, "Add", y, in_at(e, 1, 4));
    return act(e, y, p->act);
}

static const char *depthwise_conv2d(exporter *e)
{
    const clnet__depthwise_conv2d_params *p = cur(e)->params;
    const int c = in_shape(e, 0).c, channels = c * p->mult;
    const char *in[3] = {in_at(e, 0, 4), kernel_depthwise(e, p->kh, p->kw, channels),
                         p->use_bias ? vector(e, 1, "bias", channels, 2) : NULL};
    const char *y = clnet__onnx_node(e, "Conv", p->use_bias ? 3 : 2, in);
    window(e, p->padding, p->kh, p->kw, p->sh, p->sw,
           (const int[]){p->pad_t, p->pad_b, p->pad_l, p->pad_r});
    clnet__onnx_attr_int(e, "group", c);
    return act(e, y, p->act);
}

/* On one value per image a Gemm [N, in] x B^T (B [units, in], PyTorch's Linear layout);
 * per pixel of a larger image (ConvNeXt's MLP) a 1x1 convolution. */
static const char *dense(exporter *e, int *rank)
{
    const clnet__dense_params *p = cur(e)->params;
    const clnet_shape s = in_shape(e, 0);
    *rank = s.h == 1 && s.w == 1 ? 2 : 4;
    const char *in[3] = {in_at(e, 0, *rank), kernel_oihw(e, 1, 1, s.c, p->units, *rank),
                         p->use_bias ? vector(e, 1, "bias", p->units, 2) : NULL};
    const char *y = clnet__onnx_node(e, *rank == 2 ? "Gemm" : "Conv", p->use_bias ? 3 : 2, in);
    if (*rank == 2)
        clnet__onnx_attr_int(e, "transB", 1);
    else
        clnet__onnx_attr_ints(e, "kernel_shape", 2, (const int64_t[]){1, 1});
    return act(e, y, p->act);
}

static const char *batch_norm(exporter *e, int rank)
{
    const clnet__batch_norm_params *p = cur(e)->params;
    const int c = in_shape(e, 0).c;
    const char *in[5] = {in_at(e, 0, rank), vector(e, 0, "gamma", c, 2), vector(e, 1, "beta", c, 2),
                         vector(e, 2, "moving_mean", c, 2), vector(e, 3, "moving_variance", c, 2)};
    const char *y = clnet__onnx_node(e, "BatchNormalization", 5, in);
    clnet__onnx_attr_float(e, "epsilon", p->epsilon);
    clnet__onnx_attr_float(e, "momentum", p->momentum);
    return act(e, y, p->act);
}

/* Over the channels (axis 1) of each pixel, as exporters write LayerNorm before opset 17:
 * (x - mean) / sqrt(mean((x - mean)^2) + eps) * gamma + beta. */
static const char *layer_norm(exporter *e, int rank)
{
    const clnet__layer_norm_params *p = cur(e)->params;
    const int c = in_shape(e, 0).c;
    const char *x = in_at(e, 0, rank);
    const char *mean = node1(e, "ReduceMean", x);
    clnet__onnx_attr_ints(e, "axes", 1, (const int64_t[]){1});
    const char *d = node2(e, "Sub", x, mean);
    const char *var = node1(e, "ReduceMean", node2(e, "Pow", d, clnet__onnx_scalar(e, 2.0f)));
    clnet__onnx_attr_ints(e, "axes", 1, (const int64_t[]){1});
    const char *sd = node1(e, "Sqrt", node2(e, "Add", var, clnet__onnx_scalar(e, p->epsilon)));
    const char *y = node2(e, "Mul", node2(e, "Div", d, sd), vector(e, 0, "gamma", c, rank));
    return node2(e, "Add", y, vector(e, 1, "beta", c, rank));
}

static const char *pool(exporter *e, const char *type)
{
    const clnet__pool_params *p = cur(e)->params;
    const char *y = node1(e, type, in_at(e, 0, 4));
    window(e, p->padding, p->kh, p->kw, p->sh, p->sw,
           (const int[]){p->pad_t, p->pad_b, p->pad_l, p->pad_r});
    if (p->ceil_mode)
        clnet__onnx_attr_int(e, "ceil_mode", 1);
    if (p->count_include_pad)
        clnet__onnx_attr_int(e, "count_include_pad", 1);
    return y;
}

/* clnet flattens NHWC images, so [N, C, H, W] goes to [N, H, W, C] first (a 1x1 image
 * needs no transpose). */
static const char *flatten(exporter *e)
{
    const clnet_shape s = in_shape(e, 0);
    if (s.h == 1 && s.w == 1)
        return in_at(e, 0, 2);
    const char *t = node1(e, "Transpose", in_at(e, 0, 4));
    clnet__onnx_attr_ints(e, "perm", 4, (const int64_t[]){0, 2, 3, 1});
    const char *y = node1(e, "Flatten", t);
    clnet__onnx_attr_int(e, "axis", 1);
    return y;
}

/* The rank all inputs of a merge meet at: 2 when the output is 1x1 and every input is
 * [N, C] already, else 4 (a [N, C] operand would broadcast along the wrong axes). */
static int merge_rank(const exporter *e)
{
    const clnet__layer *l = cur(e);
    if (l->out.h != 1 || l->out.w != 1)
        return 4;
    for (int k = 0; k < l->n_in; ++k)
        if (in_rank(e, k) != 2)
            return 4;
    return 2;
}

/* add (a chain of Adds, then its activation), multiply, subtract, divide. */
static const char *merge(exporter *e, const char *type, int rank)
{
    const clnet__layer *l = cur(e);
    const char *y = in_at(e, 0, rank);
    for (int k = 1; k < l->n_in; ++k)
        y = node2(e, type, y, in_at(e, k, rank));
    if (l->op == &clnet__op_add)
        y = act(e, y, ((const clnet__add_params *)l->params)->act);
    return y;
}

static const char *concatenate(exporter *e, int rank)
{
    const char *in[CLNET_MAX_INPUTS];
    for (int k = 0; k < cur(e)->n_in; ++k)
        in[k] = in_at(e, k, rank);
    const char *y = clnet__onnx_node(e, "Concat", cur(e)->n_in, in);
    clnet__onnx_attr_int(e, "axis", 1);
    return y;
}

/* Slice of x along axes[0..n) from starts to ends by steps (opset 13: all inputs). */
static const char *slice(exporter *e, const char *x, int n, const int64_t *starts,
                         const int64_t *ends, const int64_t *axes, const int64_t *steps)
{
    const char *in[5] = {
        x, clnet__onnx_init_i64(e, "starts", n, starts), clnet__onnx_init_i64(e, "ends", n, ends),
        clnet__onnx_init_i64(e, "axes", n, axes), clnet__onnx_init_i64(e, "steps", n, steps)};
    return clnet__onnx_node(e, "Slice", 5, in);
}

static const char *channel_slice(exporter *e, int rank)
{
    const clnet__channel_slice_params *p = cur(e)->params;
    return slice(e, in_at(e, 0, rank), 1, (const int64_t[]){p->start},
                 (const int64_t[]){(int64_t)p->start + p->size}, (const int64_t[]){1},
                 (const int64_t[]){1});
}

/* torchvision's channel_shuffle: [N, g, C / g, H, W], groups and channels swapped, back.
 * The batch is -1 in the shapes since it is symbolic. */
static const char *channel_shuffle(exporter *e)
{
    const clnet__channel_shuffle_params *p = cur(e)->params;
    const clnet_shape s = in_shape(e, 0);
    const int64_t split[5] = {-1, p->groups, s.c / p->groups, s.h, s.w};
    const int64_t back[4] = {-1, s.c, s.h, s.w};
    const char *y = node2(e, "Reshape", in_at(e, 0, 4), clnet__onnx_init_i64(e, "split", 5, split));
    y = node1(e, "Transpose", y);
    clnet__onnx_attr_ints(e, "perm", 5, (const int64_t[]){0, 2, 1, 3, 4});
    return node2(e, "Reshape", y, clnet__onnx_init_i64(e, "shape", 4, back));
}

/* Constant-zero Pad (opset 13: pads as an input, [begin of each axis, end of each axis]). */
static const char *pad(exporter *e, const char *x, const int64_t pads[8])
{
    return node2(e, "Pad", x, clnet__onnx_init_i64(e, "pads", 8, pads));
}

static const char *zero_pad(exporter *e)
{
    const clnet__zero_pad_params *p = cur(e)->params;
    return pad(e, in_at(e, 0, 4),
               (const int64_t[]){0, 0, p->top, p->left, 0, 0, p->bottom, p->right});
}

/* The option-A shortcut: every stride-th pixel from the first (a strided Slice), then
 * zero channels before and after. */
static const char *channel_pad(exporter *e)
{
    const clnet__channel_pad_params *p = cur(e)->params;
    const clnet_shape s = in_shape(e, 0);
    const char *x = in_at(e, 0, 4);
    if (p->stride > 1)
        x = slice(e, x, 2, (const int64_t[]){0, 0}, (const int64_t[]){s.h, s.w},
                  (const int64_t[]){2, 3}, (const int64_t[]){p->stride, p->stride});
    return pad(e, x, (const int64_t[]){0, p->before, 0, 0, 0, p->channels - s.c - p->before, 0, 0});
}

static const char *softmax(exporter *e, int rank)
{
    const char *y = node1(e, "Softmax", in_at(e, 0, rank));
    clnet__onnx_attr_int(e, "axis", 1);
    return y;
}

/* relu and relu6 (relu.c): max(x, 0), capped when cap > 0. */
static const char *relu(exporter *e, int rank)
{
    const float cap = ((const clnet__relu_params *)cur(e)->params)->cap;
    const char *x = in_at(e, 0, rank);
    return cap > 0.0f ? clip(e, x, 0.0f, cap) : node1(e, "Relu", x);
}

clnet_status clnet__onnx_layer(clnet__onnx_export *e, clnet__onnx_value *out)
{
    const clnet__layer *l = cur(e);
    const clnet__op_desc *op = l->op;
    /* Ops that keep their input's form: [N, C] stays [N, C]. */
    int rank = in_rank(e, 0);
    const char *y = NULL;
    if (op->flags & CLNET_OP_INFERENCE_IDENTITY) { /* dropout, stochastic_depth */
        *out = e->values[l->in[0]];
        return e->st;
    } else if (op == &clnet__op_conv2d) {
        y = conv2d(e);
        rank = 4;
    } else if (op == &clnet__op_depthwise_conv2d) {
        y = depthwise_conv2d(e);
        rank = 4;
    } else if (op == &clnet__op_dense) {
        y = dense(e, &rank);
    } else if (op == &clnet__op_batch_norm) {
        y = batch_norm(e, rank);
    } else if (op == &clnet__op_layer_norm) {
        y = layer_norm(e, rank);
    } else if (op == &clnet__op_layer_scale) {
        y = node2(e, "Mul", in_at(e, 0, rank), vector(e, 0, "gamma", l->out.c, rank));
    } else if (op == &clnet__op_relu || op == &clnet__op_relu6) {
        y = relu(e, rank);
    } else if (op->flags & CLNET_OP_ACTIVATION) { /* activation, leaky_relu, elu */
        y = act(e, in_at(e, 0, rank), ((const clnet__activation_params *)l->params)->act);
    } else if (op == &clnet__op_max_pool || op == &clnet__op_avg_pool) {
        y = pool(e, op == &clnet__op_max_pool ? "MaxPool" : "AveragePool");
        rank = 4;
    } else if (op == &clnet__op_global_avg_pool || op == &clnet__op_global_max_pool) {
        y = node1(e, op == &clnet__op_global_avg_pool ? "GlobalAveragePool" : "GlobalMaxPool",
                  in_at(e, 0, 4));
        rank = 4;
    } else if (op == &clnet__op_flatten) {
        y = flatten(e);
        rank = 2;
    } else if (op == &clnet__op_add || op == &clnet__op_multiply || op == &clnet__op_subtract ||
               op == &clnet__op_divide) {
        rank = merge_rank(e);
        y = merge(e,
                  op == &clnet__op_add        ? "Add"
                  : op == &clnet__op_multiply ? "Mul"
                  : op == &clnet__op_subtract ? "Sub"
                                              : "Div",
                  rank);
    } else if (op == &clnet__op_concatenate) {
        rank = merge_rank(e);
        y = concatenate(e, rank);
    } else if (op == &clnet__op_channel_slice) {
        y = channel_slice(e, rank);
    } else if (op == &clnet__op_channel_shuffle) {
        y = channel_shuffle(e);
        rank = 4;
    } else if (op == &clnet__op_zero_pad) {
        y = zero_pad(e);
        rank = 4;
    } else if (op == &clnet__op_channel_pad) {
        y = channel_pad(e);
        rank = 4;
    } else if (op == &clnet__op_softmax) {
        y = softmax(e, rank);
    } else {
        return clnet__onnx_fail(e, CLNET_ERR_UNSUPPORTED,
                                "layer '%s' (%s) has no ONNX form in this exporter", l->name,
                                op->name);
    }
    if (e->st == CLNET_OK && !y)
        clnet__onnx_fail(e, CLNET_ERR_INTERNAL, "layer '%s' (%s): no output", l->name, op->name);
    out->rank = rank;
    out->name[rank] = y;
    return e->st;
}
