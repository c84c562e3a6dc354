/* onnx_elementwise.c - activations, arithmetic, pools and softmax. Arithmetic between
 * two activations becomes add / subtract / multiply / divide (the second broadcast, as
 * squeeze-and-excitation's [N, C, 1, 1] scale); a product with a per-channel constant is
 * a layer_scale (ConvNeXt's gamma). Pools take a pending Pad as their own padding where
 * the result is the same. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/onnx_ops.h"

/* Adds op (params text) on input 0 of node k; the output keeps its layout. */
static int on_input(ox_ctx *x, int k, const char *op, const char *params)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const ox_value *a = ox_act(x, n, 0);
    if (!a)
        return ox_unsupported(x, k, "input is not an activation");
    const int v = ox_input(x, n, 0);
    const int in = ox_materialize(x, k, v);
    if (in < 0)
        return -1;
    const int l = ox_layer(x, k, "", op, &in, 1, "%s", params);
    return l < 0 ? -1 : ox_set_act(x, k, 0, l, x->v[v].layout, &x->v[v]);
}

/* A scalar bound of Clip: attribute before opset 11, optional input since; *has 0 when
 * absent. */
static int clip_bound(ox_ctx *x, int k, int input, const char *attr, float *value, int *has)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    *has = 0;
    if (x->opset < 11) {
        const Onnx__AttributeProto *a = ox_attr(n, attr);
        if (a && a->has_f) {
            *value = a->f;
            *has = 1;
        }
        return 0;
    }
    if (ox_input(x, n, input) < 0)
        return 0;
    const ox_const *c = ox_constant(x, ox_input(x, n, input));
    if (!c || c->count != 1)
        return -1;
    *value = c->is_int ? (float)c->i[0] : c->f[0];
    *has = 1;
    return 0;
}

int ox_unary(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const char *t = n->op_type;
    char params[128];
    if (!strcmp(t, "Relu"))
        return on_input(x, k, "relu", "");
    if (!strcmp(t, "Clip")) {
        float lo = -INFINITY, hi = INFINITY;
        int has_lo, has_hi;
        if (clip_bound(x, k, 1, "min", &lo, &has_lo) || clip_bound(x, k, 2, "max", &hi, &has_hi))
            return ox_unsupported(x, k, "min or max is not one constant");
        if (!has_lo || lo != 0.0f || (has_hi && !(hi > 0.0f)))
            return ox_unsupported(x, k, "a clip to [%g, %g] (clnet clips to [0, max])", (double)lo,
                                  (double)hi);
        if (!has_hi || isinf(hi))
            return on_input(x, k, "relu", "");
        if (hi == 6.0f)
            return on_input(x, k, "relu6", "");
        snprintf(params, sizeof params, "max_value = %.9g", (double)hi);
        return on_input(x, k, "relu", params);
    }
    if (!strcmp(t, "LeakyRelu")) {
        snprintf(params, sizeof params, "negative_slope = %.9g",
                 (double)ox_attr_float(n, "alpha", 0.01f));
        return on_input(x, k, "leaky_relu", params);
    }
    if (!strcmp(t, "Elu")) {
        snprintf(params, sizeof params, "alpha = %.9g", (double)ox_attr_float(n, "alpha", 1.0f));
        return on_input(x, k, "elu", params);
    }
    if (!strcmp(t, "HardSigmoid")) {
        const float alpha = ox_attr_float(n, "alpha", 0.2f), beta = ox_attr_float(n, "beta", 0.5f);
        if (fabsf(alpha - 1.0f / 6.0f) > 1e-6f || beta != 0.5f)
            return ox_unsupported(x, k,
                                  "alpha %g, beta %g (clnet's hard_sigmoid is x / 6 + 0.5, "
                                  "PyTorch's and Keras 3's)",
                                  (double)alpha, (double)beta);
        return on_input(x, k, "activation", "activation = hard_sigmoid");
    }
    const char *act = !strcmp(t, "Sigmoid")     ? "sigmoid"
                      : !strcmp(t, "Tanh")      ? "tanh"
                      : !strcmp(t, "HardSwish") ? "hard_swish"
                                                : NULL;
    if (!act)
        return ox_unsupported(x, k,
                              "%s outside the subgraphs clnet recognises (GELU: x * 0.5 * "
                              "(1 + Erf(x / sqrt 2)))",
                              t);
    snprintf(params, sizeof params, "activation = %s", act);
    return on_input(x, k, "activation", params);
}

/* Is c one value per channel of a (or one value), laid along a's channel axis? */
static int per_channel(const ox_value *a, const ox_const *c, int channels)
{
    if (c->count == 1)
        return 1;
    if (c->count != channels)
        return 0;
    /* Right-aligned against a's dims, the channel axis is the one that is not 1. */
    const int rank = a->layout == OX_NC ? 2 : 4;
    const int axis = a->layout == OX_NHWC ? 3 : 1;
    if (c->rank > rank)
        return 0;
    for (int d = 0; d < c->rank; ++d) {
        const int at = rank - c->rank + d;
        if (c->dims[d] != (at == axis ? channels : 1))
            return 0;
    }
    return 1;
}

/* What a per-channel constant c does to activation x. */
enum { TIMES, OVER, PLUS, MINUS, FROM }; /* x * c, x / c, x + c, x - c, c - x */

/* A per-channel constant applied to value v: a layer_scale of gamma c or 1 / c (TIMES,
 * OVER), or a 1 x 1 depthwise convolution of kernel +-1 and bias +-c (PLUS, MINUS, FROM:
 * a shift has no op of its own; this one computes it exactly and trains). */
static int with_constant(ox_ctx *x, int k, int v, const ox_const *c, int how)
{
    const ox_value *a = &x->v[v];
    const int ch = clnet_graph_layer_shape(x->g, a->layer).c;
    if (c->is_int || !per_channel(a, c, ch))
        return ox_unsupported(x, k,
                              "a constant operand that is not one value per channel "
                              "(clnet scales and shifts channels only)");
    const int in = ox_materialize(x, k, v);
    if (in < 0)
        return -1;
    const int scales = how == TIMES || how == OVER;
    const int l = scales ? ox_layer(x, k, "", "layer_scale", &in, 1, "%s", "init_value = 1")
                         : ox_layer(x, k, "", "depthwise_conv2d", &in, 1, "%s", "kernel_size = 1");
    if (l < 0)
        return -1;
    float *w = malloc((size_t)ch * sizeof *w),
          *bias = scales ? NULL : malloc((size_t)ch * sizeof *bias);
    if (!w || (!scales && !bias)) {
        free(w);
        free(bias);
        x->st = CLNET_ERR_OUT_OF_MEMORY;
        return -1;
    }
    for (int j = 0; j < ch; ++j) {
        const float value = c->f[c->count == 1 ? 0 : j];
        w[j] = how == TIMES ? value : how == OVER ? 1.0f / value : how == FROM ? -1.0f : 1.0f;
        if (bias)
            bias[j] = how == MINUS ? -value : value;
    }
    if (ox_weight(x, l, scales ? "gamma" : "kernel", w, ch) ||
        (bias && ox_weight(x, l, "bias", bias, ch)))
        return -1;
    return ox_set_act(x, k, 0, l, a->layout, a);
}

/* Sum of 2 to 8 activations of one shape: one add. */
int ox_sum(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const ox_value *first = ox_act(x, n, 0);
    if (n->n_input == 1 && first) {
        const int l = ox_materialize(x, k, ox_input(x, n, 0));
        return l < 0 ? -1 : ox_set_act(x, k, 0, l, first->layout, first);
    }
    if (!first || n->n_input < 2 || n->n_input > 8)
        return ox_unsupported(x, k, "a sum of other than 2 to 8 activations");
    int in[8];
    for (size_t i = 0; i < n->n_input; ++i) {
        const ox_value *a = ox_act(x, n, (int)i);
        if (!a || a->layout != first->layout)
            return ox_unsupported(x, k, "input %zu is a constant or lies otherwise", i);
        if ((in[i] = ox_materialize(x, k, ox_input(x, n, (int)i))) < 0)
            return -1;
    }
    const int l = ox_layer(x, k, "", "add", in, (int)n->n_input, "%s", "");
    return l < 0 ? -1 : ox_set_act(x, k, 0, l, first->layout, first);
}

/* PRelu with one slope for every channel: leaky_relu. */
int ox_prelu(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const ox_const *slope = ox_constant(x, ox_input(x, n, 1));
    int same = slope && !slope->is_int && slope->count >= 1;
    for (int64_t j = 1; same && j < slope->count; ++j)
        same = slope->f[j] == slope->f[0];
    if (!same || !(slope->f[0] >= 0.0f))
        return ox_unsupported(x, k,
                              "a slope that is not one constant >= 0 for every channel "
                              "(clnet's leaky_relu)");
    char params[64];
    snprintf(params, sizeof params, "negative_slope = %.9g", (double)slope->f[0]);
    return on_input(x, k, "leaky_relu", params);
}

int ox_binary(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const char *t = n->op_type;
    int v0 = ox_input(x, n, 0), v1 = ox_input(x, n, 1);
    const ox_value *a = ox_act(x, n, 0), *b = ox_act(x, n, 1);
    const int commutes = !strcmp(t, "Add") || !strcmp(t, "Mul");
    if (a && !b) {
        const ox_const *c = ox_constant(x, v1);
        if (!c)
            return ox_unsupported(x, k, "a second operand that is neither computed nor constant");
        return with_constant(x, k, v0, c,
                             t[0] == 'M'   ? TIMES
                             : t[0] == 'D' ? OVER
                             : t[0] == 'A' ? PLUS
                                           : MINUS);
    }
    if (b && !a) {
        const ox_const *c = ox_constant(x, v0);
        if (!c || !strcmp(t, "Div"))
            return ox_unsupported(x, k, "a constant first operand of %s", t);
        return with_constant(x, k, v1, c, t[0] == 'M' ? TIMES : t[0] == 'A' ? PLUS : FROM);
    }
    if (!a || !b)
        return ox_unsupported(x, k, "no activation operand");
    /* [N, C] and [N, C, 1, 1] lie alike on a 1 x 1 x C layer. */
    const int la = a->layout == OX_NC ? OX_NCHW : a->layout,
              lb = b->layout == OX_NC ? OX_NCHW : b->layout;
    if (la != lb)
        return ox_unsupported(x, k, "operands whose dims lie differently (NCHW and NHWC)");
    const clnet_shape sa = clnet_graph_layer_shape(x->g, a->layer),
                      sb = clnet_graph_layer_shape(x->g, b->layer);
    /* clnet broadcasts the second operand: a commuting op takes the smaller second. */
    if (commutes && sa.h * sa.w < sb.h * sb.w) {
        const int t_ = v0;
        v0 = v1;
        v1 = t_;
        const ox_value *t2 = a;
        a = b;
        b = t2;
    }
    int in[2];
    if ((in[0] = ox_materialize(x, k, v0)) < 0 || (in[1] = ox_materialize(x, k, v1)) < 0)
        return -1;
    const char *op = !strcmp(t, "Add")   ? "add"
                     : !strcmp(t, "Sub") ? "subtract"
                     : !strcmp(t, "Mul") ? "multiply"
                                         : "divide";
    const int l = ox_layer(x, k, "", op, in, 2, "%s", "");
    return l < 0 ? -1 : ox_set_act(x, k, 0, l, a->layout, a);
}

int ox_pool(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const ox_value *a = ox_act(x, n, 0);
    if (!a || a->layout != OX_NCHW)
        return ox_unsupported(x, k, "input is not an NCHW activation");
    const int max = !strcmp(n->op_type, "MaxPool");
    int64_t ks[2], st[2] = {1, 1};
    if (ox_attr_ints(n, "kernel_shape", ks, 2) != 2 || ks[0] < 1 || ks[1] < 1 ||
        ks[0] > (1 << 20) || ks[1] > (1 << 20))
        return ox_unsupported(x, k, "kernel_shape is not two positive sizes (2-d pools only)");
    const int ns = ox_attr_ints(n, "strides", st, 2);
    if (ns >= 0 && (ns != 2 || st[0] < 1 || st[1] < 1 || st[0] > (1 << 20) || st[1] > (1 << 20)))
        return ox_unsupported(x, k, "strides are not two positive numbers");
    if (max && ox_attr_int(n, "storage_order", 0))
        return ox_unsupported(x, k, "storage_order 1");
    const int idx = ox_output(x, k, 1);
    if (idx >= 0 && x->v[idx].uses)
        return ox_unsupported(x, k, "its Indices output is read");
    const int stride[2] = {(int)st[0], (int)st[1]};
    const int v = ox_input(x, n, 0);
    int include = (int)ox_attr_int(n, "count_include_pad", 0);
    /* A pending Pad is the pool's own padding when zeros join the average as cells
     * (count_include_pad); a max pool and an average without it see it as zeros. */
    ox_value own = *a;
    const int pending = a->pad[0] | a->pad[1] | a->pad[2] | a->pad[3];
    int64_t p[4] = {0, 0, 0, 0};
    const int has_pads = ox_attr_ints(n, "pads", p, 4) == 4 && (p[0] | p[1] | p[2] | p[3]);
    const int fold = pending && !max && (include || !has_pads) &&
                     !strcmp(ox_attr_str(n, "auto_pad", "NOTSET"), "NOTSET");
    if (pending && !fold) {
        if ((own.layer = ox_materialize(x, k, v)) < 0)
            return -1;
        memset(own.pad, 0, sizeof own.pad);
    }
    if (fold)
        include = 1;
    int pad[4];
    int r = ox_window(x, k, &own, (int)ks[0], (int)ks[1], stride, pad);
    if (r == 1) {
        if ((own.layer = ox_materialize(x, k, v)) < 0)
            return -1;
        memset(own.pad, 0, sizeof own.pad);
        include = (int)ox_attr_int(n, "count_include_pad", 0);
        r = ox_window(x, k, &own, (int)ks[0], (int)ks[1], stride, pad);
    }
    if (r)
        return -1;
    char padding[64] = "valid";
    if (pad[0] | pad[1] | pad[2] | pad[3])
        snprintf(padding, sizeof padding, "%d, %d, %d, %d", pad[0], pad[1], pad[2], pad[3]);
    const int in = own.layer;
    const int l = ox_layer(x, k, "", max ? "max_pool" : "avg_pool", &in, 1,
                           "pool_size = %lld, %lld\nstrides = %d, %d\npadding = %s\nceil_mode = "
                           "%s%s",
                           (long long)ks[0], (long long)ks[1], stride[0], stride[1], padding,
                           ox_attr_int(n, "ceil_mode", 0) ? "true" : "false",
                           max       ? ""
                           : include ? "\ncount_include_pad = true"
                                     : "");
    return l < 0 ? -1 : ox_set_act(x, k, 0, l, OX_NCHW, NULL);
}

int ox_global_pool(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const ox_value *a = ox_act(x, n, 0);
    if (!a || a->layout != OX_NCHW)
        return ox_unsupported(x, k, "input is not an NCHW activation");
    const int in = ox_materialize(x, k, ox_input(x, n, 0));
    if (in < 0)
        return -1;
    const int l =
        ox_layer(x, k, "", strstr(n->op_type, "Max") ? "global_max_pool" : "global_avg_pool", &in,
                 1, "%s", "");
    return l < 0 ? -1 : ox_set_act(x, k, 0, l, OX_NCHW, NULL);
}

int ox_reduce(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const ox_value *a = ox_act(x, n, 0);
    int64_t axes[8];
    const int na = ox_attr_ints(n, "axes", axes, 8);
    const int keep = (int)ox_attr_int(n, "keepdims", 1);
    /* Over H and W: a global pool ([N, C, 1, 1] kept, or [N, C]). */
    int hw = a && na == 2 &&
             ((a->layout == OX_NCHW &&
               ((axes[0] == 2 || axes[0] == -2) && (axes[1] == 3 || axes[1] == -1))) ||
              (a->layout == OX_NHWC &&
               ((axes[0] == 1 || axes[0] == -3) && (axes[1] == 2 || axes[1] == -2))));
    if (!hw)
        return ox_unsupported(x, k,
                              "a reduction over other axes than H and W (clnet's global "
                              "pools)");
    const int in = ox_materialize(x, k, ox_input(x, n, 0));
    if (in < 0)
        return -1;
    const int l =
        ox_layer(x, k, "", !strcmp(n->op_type, "ReduceMax") ? "global_max_pool" : "global_avg_pool",
                 &in, 1, "%s", "");
    /* NHWC with the dims kept is [N, 1, 1, C]: the same 1 x 1 x C layer. */
    return l < 0 ? -1 : ox_set_act(x, k, 0, l, keep ? a->layout : OX_NC, NULL);
}

int ox_softmax(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const ox_value *a = ox_act(x, n, 0);
    const int64_t axis = ox_attr_int(n, "axis", x->opset < 13 ? 1 : -1);
    const clnet_shape s = a ? clnet_graph_layer_shape(x->g, a->layer) : (clnet_shape){0};
    const int rows = a && (a->layout == OX_NC || (s.h == 1 && s.w == 1 && a->layout == OX_NCHW));
    if (!rows || !(axis == 1 || axis == -1 || (a->layout == OX_NCHW && axis == -3)))
        return ox_unsupported(x, k, "a softmax other than over the classes of [N, C]");
    return on_input(x, k, "softmax", "");
}

int ox_fold_only(ox_ctx *x, int k)
{
    return ox_unsupported(x, k,
                          "it computes on the image's values; clnet runs it on constants "
                          "only (shape chains)");
}
