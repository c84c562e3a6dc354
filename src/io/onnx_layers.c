/* onnx_layers.c - the ONNX ops that carry weights: Conv (plain, grouped, depthwise),
 * BatchNormalization, Gemm, MatMul (+ Add: a dense with bias) and LayerNormalization.
 * Weights leave ONNX's layouts here ([O, I/g, kh, kw] kernels, [out, in] Gemm matrices)
 * for clnet's HWIO, once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/onnx_ops.h"

/* A float constant of count values at input i, or NULL. */
static const ox_const *floats(ox_ctx *x, const Onnx__NodeProto *n, int i, int64_t count)
{
    const ox_const *c = ox_constant(x, ox_input(x, n, i));
    return c && !c->is_int && (count < 0 || c->count == count) ? c : NULL;
}

static float *copy_floats(ox_ctx *x, const float *src, int64_t count, float scale)
{
    float *d = malloc((size_t)(count ? count : 1) * sizeof *d);
    if (!d) {
        x->st = CLNET_ERR_OUT_OF_MEMORY;
        return NULL;
    }
    for (int64_t j = 0; j < count; ++j)
        d[j] = src[j] * scale;
    return d;
}

/* "t, b, l, r" of pads, or "valid". */
static const char *padding_text(const int *p, char *buf, size_t len)
{
    if (!(p[0] | p[1] | p[2] | p[3]))
        return "valid";
    snprintf(buf, len, "%d, %d, %d, %d", p[0], p[1], p[2], p[3]);
    return buf;
}

int ox_window(ox_ctx *x, int k, const ox_value *a, int kh, int kw, const int *stride, int *pad)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    int64_t p[4] = {0, 0, 0, 0}, d[2];
    const int np = ox_attr_ints(n, "pads", p, 4);
    if (np >= 0 && np != 4)
        return ox_unsupported(x, k, "pads of %d values (2-d windows take 4)", np);
    const int nd = ox_attr_ints(n, "dilations", d, 2);
    if (nd >= 0 && (nd != 2 || d[0] != 1 || d[1] != 1))
        return ox_unsupported(x, k,
                              "attribute 'dilations' other than 1 (clnet has no dilated "
                              "windows)");
    for (int i = 0; i < 4; ++i)
        if (p[i] < 0 || p[i] > (1 << 20))
            return ox_unsupported(x, k, "pads %lld", (long long)p[i]);
    /* ONNX orders pads begin, begin, end, end: top, left, bottom, right. */
    pad[0] = (int)p[0] + a->pad[0];
    pad[1] = (int)p[2] + a->pad[1];
    pad[2] = (int)p[1] + a->pad[2];
    pad[3] = (int)p[3] + a->pad[3];
    /* clnet's windows take pads smaller than themselves: a pending Pad that would make
     * more is run as a zero_pad layer of its own. */
    if ((a->pad[0] | a->pad[1] | a->pad[2] | a->pad[3]) &&
        (pad[0] >= kh || pad[1] >= kh || pad[2] >= kw || pad[3] >= kw))
        return 1;
    const char *autopad = ox_attr_str(n, "auto_pad", "NOTSET");
    if (!strcmp(autopad, "SAME_UPPER") || !strcmp(autopad, "SAME_LOWER")) {
        const clnet_shape s = clnet_graph_layer_shape(x->g, a->layer);
        const int size[2] = {s.h + a->pad[0] + a->pad[1], s.w + a->pad[2] + a->pad[3]};
        const int kern[2] = {kh, kw};
        for (int i = 0; i < 2; ++i) {
            const int out = (size[i] + stride[i] - 1) / stride[i];
            int total = (out - 1) * stride[i] + kern[i] - size[i];
            total = total < 0 ? 0 : total;
            const int small = total / 2, big = total - small;
            pad[2 * i] += autopad[5] == 'U' ? small : big;
            pad[2 * i + 1] += autopad[5] == 'U' ? big : small;
        }
    } else if (strcmp(autopad, "NOTSET") && strcmp(autopad, "VALID")) {
        return ox_unsupported(x, k, "auto_pad '%s'", autopad);
    }
    return 0;
}

int ox_conv(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const ox_value *a = ox_act(x, n, 0);
    if (!a || a->layout != OX_NCHW)
        return ox_unsupported(x, k,
                              "input X is not an NCHW image tensor (only 2-d "
                              "convolutions of the network's activations run)");
    const ox_const *W = floats(x, n, 1, -1);
    if (!W || W->rank != 4)
        return ox_unsupported(x, k,
                              "weight W is not a constant 4-d float tensor (1-d and 3-d "
                              "convolutions are not supported)");
    const int O = (int)W->dims[0], Ig = (int)W->dims[1], kh = (int)W->dims[2], kw = (int)W->dims[3];
    const ox_const *B = ox_input(x, n, 2) >= 0 ? floats(x, n, 2, O) : NULL;
    if (ox_input(x, n, 2) >= 0 && !B)
        return ox_unsupported(x, k, "bias B is not a constant of %d floats", O);
    int64_t ks[2], st[2] = {1, 1};
    const int nk = ox_attr_ints(n, "kernel_shape", ks, 2);
    if (nk >= 0 && (nk != 2 || ks[0] != kh || ks[1] != kw))
        return ox_unsupported(x, k, "kernel_shape disagrees with W's %d x %d", kh, kw);
    const int ns = ox_attr_ints(n, "strides", st, 2);
    if (ns >= 0 && (ns != 2 || st[0] < 1 || st[1] < 1 || st[0] > (1 << 20) || st[1] > (1 << 20)))
        return ox_unsupported(x, k, "strides are not two positive numbers");
    const int stride[2] = {(int)st[0], (int)st[1]};
    int pad[4];
    ox_value own = *a;
    int r = ox_window(x, k, &own, kh, kw, stride, pad);
    if (r == 1) {
        if ((own.layer = ox_materialize(x, k, ox_input(x, n, 0))) < 0)
            return -1;
        memset(own.pad, 0, sizeof own.pad);
        r = ox_window(x, k, &own, kh, kw, stride, pad);
    }
    if (r)
        return -1;
    const int64_t group = ox_attr_int(n, "group", 1);
    const int cin = clnet_graph_layer_shape(x->g, a->layer).c;
    if (group < 1 || Ig * group != cin || O % group)
        return ox_unsupported(x, k,
                              "W [%d, %d, %d, %d] with group %lld does not fit %d input "
                              "channels",
                              O, Ig, kh, kw, (long long)group, cin);
    const int depthwise = group == cin && group > 1;
    char padbuf[64];
    const char *padding = padding_text(pad, padbuf, sizeof padbuf);
    const int in = own.layer;
    int l;
    if (depthwise)
        l = ox_layer(x, k, "", "depthwise_conv2d", &in, 1,
                     "kernel_size = %d, %d\nstrides = %d, %d\npadding = %s\ndepth_multiplier = "
                     "%d\nuse_bias = %s",
                     kh, kw, stride[0], stride[1], padding, O / cin, B ? "true" : "false");
    else
        l = ox_layer(x, k, "", "conv2d", &in, 1,
                     "filters = %d\nkernel_size = %d, %d\nstrides = %d, %d\npadding = %s\ngroups "
                     "= %lld\nuse_bias = %s",
                     O, kh, kw, stride[0], stride[1], padding, (long long)group,
                     B ? "true" : "false");
    if (l < 0)
        return -1;
    float *kernel = malloc((size_t)W->count * sizeof *kernel);
    if (!kernel) {
        x->st = CLNET_ERR_OUT_OF_MEMORY;
        return -1;
    }
    /* [O, I/g, kh, kw] -> HWIO {kh, kw, I/g, O}; depthwise {kh, kw, C, m} with output
     * channel c * m + j, which is ONNX's order of a group's outputs too. */
    const int m = O / cin;
    for (int o = 0; o < O; ++o)
        for (int i = 0; i < Ig; ++i)
            for (int y = 0; y < kh; ++y)
                for (int z = 0; z < kw; ++z) {
                    const float v = W->f[(((int64_t)o * Ig + i) * kh + y) * kw + z];
                    const int64_t dst = depthwise
                                            ? (((int64_t)y * kw + z) * cin + o / m) * m + o % m
                                            : (((int64_t)y * kw + z) * Ig + i) * O + o;
                    kernel[dst] = v;
                }
    if (ox_weight(x, l, "kernel", kernel, W->count))
        return -1;
    if (B && ox_weight(x, l, "bias", copy_floats(x, B->f, O, 1.0f), O))
        return -1;
    return ox_set_act(x, k, 0, l, OX_NCHW, NULL);
}

int ox_batch_norm(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const ox_value *a = ox_act(x, n, 0);
    if (!a || (a->layout != OX_NCHW && a->layout != OX_NC))
        return ox_unsupported(x, k, "input X is not an [N, C, H, W] or [N, C] activation");
    const int c = clnet_graph_layer_shape(x->g, a->layer).c;
    const ox_const *p[4];
    for (int i = 0; i < 4; ++i)
        if (!(p[i] = floats(x, n, i + 1, c)))
            return ox_unsupported(x, k, "input %d is not a constant of %d floats", i + 1, c);
    if (ox_attr_int(n, "training_mode", 0) || ox_attr_int(n, "spatial", 1) != 1)
        return ox_unsupported(x, k, "training_mode or non-spatial normalization");
    for (size_t o = 1; o < n->n_output; ++o) {
        const int v = ox_output(x, k, (int)o);
        if (v >= 0 && x->v[v].uses)
            return ox_unsupported(x, k, "its running statistics outputs are read");
    }
    const float eps = ox_attr_float(n, "epsilon", 1e-5f);
    const float momentum = ox_attr_float(n, "momentum", 0.9f);
    const int in = ox_materialize(x, k, ox_input(x, n, 0));
    /* PyTorch updates moving variances with the unbiased estimate, Keras (tf2onnx) with
     * the biased one: the producer says which the model was trained with. */
    const char *producer = x->model->producer_name ? x->model->producer_name : "";
    const int keras = strstr(producer, "tf2onnx") || strstr(producer, "keras");
    const int l = ox_layer(x, k, "", "batch_norm", &in, 1,
                           "epsilon = %.9g\nmomentum = %.9g\nunbiased_variance = %s", (double)eps,
                           (double)(momentum >= 0 && momentum <= 1 ? momentum : 0.9f),
                           keras ? "false" : "true");
    if (l < 0)
        return -1;
    static const char *const names[4] = {"gamma", "beta", "moving_mean", "moving_variance"};
    for (int i = 0; i < 4; ++i)
        if (ox_weight(x, l, names[i], copy_floats(x, p[i]->f, c, 1.0f), c))
            return -1;
    return ox_set_act(x, k, 0, l, a->layout, a);
}

/* A dense layer on activation a from matrix M (rows K = a's channels, in ONNX's order;
 * trans: M is [units, K]) times alpha, with bias (NULL: none) times beta. */
static int dense(ox_ctx *x, int k, const ox_value *a, const ox_const *M, int trans, float alpha,
                 const ox_const *bias, float beta, int out_node)
{
    const int K = (int)M->dims[trans ? 1 : 0], units = (int)M->dims[trans ? 0 : 1];
    const int c = clnet_graph_layer_shape(x->g, a->layer).c;
    if (K != c)
        return ox_unsupported(x, k, "a matrix of %d rows for %d input channels", K, c);
    if (bias && bias->count != units && bias->count != 1)
        return ox_unsupported(x, k, "a bias of %lld values for %d units", (long long)bias->count,
                              units);
    const int in = a->layer;
    const int l = ox_layer(x, k, "", "dense", &in, 1, "units = %d\nuse_bias = %s", units,
                           bias ? "true" : "false");
    if (l < 0)
        return -1;
    float *kernel = malloc((size_t)K * (size_t)units * sizeof *kernel);
    if (!kernel) {
        x->st = CLNET_ERR_OUT_OF_MEMORY;
        return -1;
    }
    /* Rows of a flattened NCHW map come channel-major; clnet flattens pixel-major. */
    const int hw = a->layout == OX_NC && a->flat_hw > 1 ? a->flat_hw : 1, ch = K / hw;
    for (int r = 0; r < K; ++r) {
        const int onnx_row = hw > 1 ? (r % ch) * hw + r / ch : r;
        for (int u = 0; u < units; ++u)
            kernel[(int64_t)r * units + u] =
                alpha * M->f[trans ? (int64_t)u * K + onnx_row : (int64_t)onnx_row * units + u];
    }
    if (ox_weight(x, l, "kernel", kernel, (int64_t)K * units))
        return -1;
    if (bias) {
        float *b = malloc((size_t)units * sizeof *b);
        if (!b) {
            x->st = CLNET_ERR_OUT_OF_MEMORY;
            return -1;
        }
        for (int u = 0; u < units; ++u)
            b[u] = beta * bias->f[bias->count == 1 ? 0 : u];
        if (ox_weight(x, l, "bias", b, units))
            return -1;
    }
    return ox_set_act(x, out_node, 0, l, a->layout, NULL);
}

int ox_gemm(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const ox_value *a = ox_act(x, n, 0);
    const ox_const *B = floats(x, n, 1, -1);
    if (!a || a->layout != OX_NC || ox_attr_int(n, "transA", 0))
        return ox_unsupported(x, k, "input A is not an [N, C] activation (transA = 0)");
    if (!B || B->rank != 2)
        return ox_unsupported(x, k, "input B is not a constant float matrix");
    const ox_const *C = ox_input(x, n, 2) >= 0 ? floats(x, n, 2, -1) : NULL;
    if (ox_input(x, n, 2) >= 0 && !C)
        return ox_unsupported(x, k, "input C is not a constant");
    return dense(x, k, a, B, (int)ox_attr_int(n, "transB", 0), ox_attr_float(n, "alpha", 1.0f), C,
                 ox_attr_float(n, "beta", 1.0f), k);
}

int ox_matmul(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const ox_value *a = ox_act(x, n, 0);
    const ox_const *B = floats(x, n, 1, -1);
    if (!a || (a->layout != OX_NC && a->layout != OX_NHWC) || !B || B->rank != 2)
        return ox_unsupported(x, k,
                              "not an [N, C] or [N, H, W, C] activation times a constant "
                              "matrix");
    /* MatMul + Add of a constant row: one dense layer with its bias. */
    const int out = ox_output(x, k, 0);
    for (size_t q = 0; out >= 0 && x->v[out].uses == 1 && q < x->graph->n_node; ++q) {
        const Onnx__NodeProto *m = x->graph->node[q];
        if (strcmp(m->op_type, "Add") || m->n_input != 2 || x->done[q])
            continue;
        const int i0 = ox_input(x, m, 0), i1 = ox_input(x, m, 1);
        if (i0 != out && i1 != out)
            continue;
        const ox_const *bias = ox_constant(x, i0 == out ? i1 : i0);
        if (!bias || bias->is_int || bias->count != B->dims[1])
            break;
        x->done[q] = 1;
        return dense(x, k, a, B, 0, 1.0f, bias, 1.0f, (int)q);
    }
    return dense(x, k, a, B, 0, 1.0f, NULL, 1.0f, k);
}

int ox_layer_norm(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const ox_value *a = ox_act(x, n, 0);
    if (!a || (a->layout != OX_NHWC && a->layout != OX_NC))
        return ox_unsupported(x, k,
                              "input X is not channels-last ([N, H, W, C] or [N, C]): "
                              "clnet normalizes over the channels only");
    const int rank = a->layout == OX_NC ? 2 : 4;
    const int64_t axis = ox_attr_int(n, "axis", -1);
    if (axis != -1 && axis != rank - 1)
        return ox_unsupported(x, k, "axis %lld (clnet normalizes the last axis only)",
                              (long long)axis);
    const int c = clnet_graph_layer_shape(x->g, a->layer).c;
    const ox_const *gamma = floats(x, n, 1, c);
    const ox_const *beta = ox_input(x, n, 2) >= 0 ? floats(x, n, 2, c) : NULL;
    if (!gamma || (ox_input(x, n, 2) >= 0 && !beta))
        return ox_unsupported(x, k, "Scale and B are not constants of %d floats", c);
    return ox_layer_norm_layer(x, k, k, a, ox_attr_float(n, "epsilon", 1e-5f), gamma->f,
                               beta ? beta->f : NULL);
}

int ox_layer_norm_layer(ox_ctx *x, int k, int out_node, const ox_value *a, float eps,
                        const float *gamma, const float *beta)
{
    const int c = clnet_graph_layer_shape(x->g, a->layer).c;
    const int in = a->layer;
    const int l = ox_layer(x, k, "", "layer_norm", &in, 1, "epsilon = %.9g", (double)eps);
    if (l < 0)
        return -1;
    float *b = calloc((size_t)c, sizeof *b);
    if (!b) {
        x->st = CLNET_ERR_OUT_OF_MEMORY;
        return -1;
    }
    for (int j = 0; beta && j < c; ++j)
        b[j] = beta[j];
    if (ox_weight(x, l, "gamma", copy_floats(x, gamma, c, 1.0f), c) ||
        ox_weight(x, l, "beta", b, c))
        return -1;
    return ox_set_act(x, out_node, 0, l, a->layout, NULL);
}
