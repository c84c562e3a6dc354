/* onnx_views.c - ONNX ops that move an activation's values rather than compute them.
 * Most change only how the value's dims lie on its clnet layer and add nothing: Flatten
 * and Reshape of 1 x 1 maps, the transposes around NHWC ops (ConvNeXt's permutes cancel
 * against clnet's NHWC storage), ShuffleNet's grouped view, Dropout, Identity, and Pad,
 * kept pending until a convolution or pooling takes it as its own padding. The rest
 * become flatten, concatenate, channel_slice, channel_shuffle or zero_pad layers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/onnx_ops.h"

/* Output o of node k is the input activation a, its record copied: an alias. */
static int alias(ox_ctx *x, int k, int o, const ox_value *a, int layout)
{
    const ox_value copy = *a;
    const int v = ox_output(x, k, o);
    if (v < 0)
        return 0;
    ox_value *out = &x->v[v];
    const char *name = out->name;
    const int producer = out->producer, uses = out->uses, consumer = out->consumer;
    *out = copy;
    out->c = (ox_const){0};
    out->init = NULL;
    out->name = name;
    out->producer = producer;
    out->uses = uses;
    out->consumer = consumer;
    out->layout = layout;
    return 0;
}

int ox_identity(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const ox_value *a = ox_act(x, n, 0);
    if (!a)
        return ox_unsupported(x, k, "input is not an activation");
    if (!strcmp(n->op_type, "Dropout")) {
        const int mask = ox_output(x, k, 1);
        if (mask >= 0 && x->v[mask].uses)
            return ox_unsupported(x, k, "its mask output is read");
        if (ox_attr_int(n, "training_mode", 0) || ox_dropout_trains(x, k))
            return ox_unsupported(x, k, "training_mode");
    }
    return alias(x, k, 0, a, a->layout);
}

/* a as [N, K] per image: an alias when it already lies so, else a flatten layer. */
static int to_rows(ox_ctx *x, int k, int v)
{
    const ox_value *a = &x->v[v];
    if (a->layout == OX_NC)
        return alias(x, k, 0, a, OX_NC);
    if (a->layout != OX_NCHW && a->layout != OX_NHWC)
        return ox_unsupported(x, k, "flattening a grouped view");
    const int in = ox_materialize(x, k, v);
    if (in < 0)
        return -1;
    const clnet_shape s = clnet_graph_layer_shape(x->g, in);
    if (s.h == 1 && s.w == 1) {
        ox_value copy = x->v[v];
        copy.layer = in;
        memset(copy.pad, 0, sizeof copy.pad);
        copy.flat_hw = 1;
        return alias(x, k, 0, &copy, OX_NC);
    }
    const int l = ox_layer(x, k, "", "flatten", &in, 1, "%s", "");
    if (l < 0 || ox_set_act(x, k, 0, l, OX_NC, NULL))
        return -1;
    /* Flattening NCHW orders values channel-major; clnet's rows are pixel-major: a dense
     * layer reading them permutes its weights (onnx_layers.c). */
    ox_value *out = &x->v[ox_output(x, k, 0)];
    if (a->layout == OX_NCHW) {
        out->flat_hw = s.h * s.w;
        out->flat_h = s.h;
        out->flat_w = s.w;
    }
    return 0;
}

int ox_flatten(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    if (!ox_act(x, n, 0) || ox_attr_int(n, "axis", 1) != 1)
        return ox_unsupported(x, k, "flattening other than [N, rest] (axis 1)");
    return to_rows(x, k, ox_input(x, n, 0));
}

/* Value v reshaped to the per-image dims td[0..r) (the batch kept). */
static int reshape_to(ox_ctx *x, int k, int v, int r, const int64_t *td)
{
    const ox_value *a = &x->v[v];
    int64_t d[CLNET_ONNX_MAX_RANK];
    const int rank = ox_act_dims(x, v, d);
    const int64_t *id = d + 1; /* per image */
    const int same = r == rank - 1 && !memcmp(td, id, (size_t)r * sizeof *td);
    if (same)
        return alias(x, k, 0, a, a->layout);
    if (r == 1)
        return to_rows(x, k, v);
    if (a->layout == OX_NC && r == 3 && td[0] == id[0] && td[1] == 1 && td[2] == 1)
        return alias(x, k, 0, a, OX_NCHW);
    if (a->layout == OX_NCHW && r == 4 && td[0] * td[1] == id[0] && td[2] == id[1] &&
        td[3] == id[2] && td[0] > 0 && !(a->pad[0] | a->pad[1] | a->pad[2] | a->pad[3])) {
        if (alias(x, k, 0, a, OX_G5))
            return -1;
        x->v[ox_output(x, k, 0)].groups = (int)td[0];
        return 0;
    }
    if ((a->layout == OX_G5 || a->layout == OX_G5T) && r == 3 && td[0] == id[0] * id[1] &&
        td[1] == id[2] && td[2] == id[3]) {
        if (a->layout == OX_G5)
            return alias(x, k, 0, a, OX_NCHW);
        const int in = a->layer;
        const int l = ox_layer(x, k, "", "channel_shuffle", &in, 1, "groups = %d", a->groups);
        return l < 0 ? -1 : ox_set_act(x, k, 0, l, OX_NCHW, NULL);
    }
    char from[128] = "", to[128] = "";
    for (int i = 0; i < rank - 1; ++i)
        snprintf(from + strlen(from), sizeof from - strlen(from), ", %lld", (long long)id[i]);
    for (int i = 0; i < r; ++i)
        snprintf(to + strlen(to), sizeof to - strlen(to), ", %lld", (long long)td[i]);
    return ox_unsupported(x, k,
                          "reshaping [N%s] to [N%s]: clnet reshapes to [N, C] rows, "
                          "[N, C, 1, 1] and ShuffleNet's channel groups only",
                          from, to);
}

int ox_reshape(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const int v = ox_input(x, n, 0);
    const ox_const *shape = ox_constant(x, ox_input(x, n, 1));
    if (!ox_act(x, n, 0) || !shape || !shape->is_int || shape->rank != 1 || shape->count < 1 ||
        shape->count > CLNET_ONNX_MAX_RANK)
        return ox_unsupported(x, k,
                              "the shape is not a constant list (or the data is not an "
                              "activation)");
    int64_t d[CLNET_ONNX_MAX_RANK];
    const int rank = ox_act_dims(x, v, d);
    /* Dim 0 is the batch: what Shape gave, 0 (copy), -1, or the export's fixed batch. */
    const int64_t b = shape->i[0];
    if (!(b == OX_BATCH || b == 0 || (x->static_batch && b == x->static_batch) || b == -1))
        return ox_unsupported(x, k, "the new shape's first dimension %lld is not the batch",
                              (long long)b);
    int64_t count = 1;
    for (int i = 1; i < rank; ++i)
        count *= d[i];
    ox_const rest = *shape;
    rest.i = shape->i + 1;
    rest.count = shape->count - 1;
    rest.dims[0] = rest.count;
    int64_t td[CLNET_ONNX_MAX_RANK];
    int r = 0;
    int has_infer = 0;
    for (int i = 0; i < rest.count; ++i)
        has_infer |= rest.i[i] == -1;
    if (b == -1 && has_infer)
        return ox_unsupported(x, k, "two dimensions to infer");
    r = ox_reshape_dims(d + 1, rank - 1, count, &rest, (int)ox_attr_int(n, "allowzero", 0), td);
    if (r < 0)
        return ox_unsupported(x, k, "the new shape does not hold the %lld values of an image",
                              (long long)count);
    return reshape_to(x, k, v, r, td);
}

int ox_squeeze(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const int v = ox_input(x, n, 0);
    if (!ox_act(x, n, 0))
        return ox_unsupported(x, k, "input is not an activation");
    int64_t axes[CLNET_ONNX_MAX_RANK], d[CLNET_ONNX_MAX_RANK], td[CLNET_ONNX_MAX_RANK];
    int na;
    if (x->opset < 13) {
        na = ox_attr_ints(n, "axes", axes, CLNET_ONNX_MAX_RANK);
    } else {
        const ox_const *c = ox_constant(x, ox_input(x, n, 1));
        na = c && c->is_int && c->count <= CLNET_ONNX_MAX_RANK ? (int)c->count
             : ox_input(x, n, 1) < 0                           ? -1
                                                               : -2;
        for (int i = 0; c && i < na; ++i)
            axes[i] = c->i[i];
    }
    const int rank = ox_act_dims(x, v, d);
    const int squeeze = !strcmp(n->op_type, "Squeeze");
    const int out_rank = squeeze ? rank - (na < 0 ? 0 : na) : rank + na;
    if (na < 1 || out_rank < 1 || out_rank > CLNET_ONNX_MAX_RANK)
        return ox_unsupported(x, k, "axes are not a constant list");
    char mark[CLNET_ONNX_MAX_RANK] = {0};
    for (int i = 0; i < na; ++i) {
        const int64_t r = squeeze ? rank : out_rank;
        const int64_t a = axes[i] < 0 ? axes[i] + r : axes[i];
        if (a <= 0 || a >= r || mark[a] || (squeeze && d[a] != 1))
            return ox_unsupported(x, k, "axis %lld (the batch, repeated, or not of size 1)",
                                  (long long)axes[i]);
        mark[a] = 1;
    }
    int r = 0;
    if (squeeze) {
        for (int i = 1; i < rank; ++i)
            if (!mark[i])
                td[r++] = d[i];
    } else {
        for (int i = 1, s = 1; i < out_rank; ++i)
            td[r++] = mark[i] ? 1 : d[s++];
    }
    return reshape_to(x, k, v, r, td);
}

int ox_transpose(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const ox_value *a = ox_act(x, n, 0);
    if (!a)
        return ox_unsupported(x, k, "input is not an activation");
    int64_t perm[CLNET_ONNX_MAX_RANK], d[CLNET_ONNX_MAX_RANK];
    const int rank = ox_act_dims(x, ox_input(x, n, 0), d);
    const int np = ox_attr_ints(n, "perm", perm, CLNET_ONNX_MAX_RANK);
    int identity = np == rank;
    for (int i = 0; identity && i < rank; ++i)
        identity = perm[i] == i;
    static const int64_t to_nhwc[4] = {0, 2, 3, 1}, to_nchw[4] = {0, 3, 1, 2},
                         groups[5] = {0, 2, 1, 3, 4};
    const int pending = a->pad[0] | a->pad[1] | a->pad[2] | a->pad[3];
    if (identity)
        return alias(x, k, 0, a, a->layout);
    if (!pending && np == 4 && a->layout == OX_NCHW && !memcmp(perm, to_nhwc, sizeof to_nhwc))
        return alias(x, k, 0, a, OX_NHWC);
    if (np == 4 && a->layout == OX_NHWC && !memcmp(perm, to_nchw, sizeof to_nchw))
        return alias(x, k, 0, a, OX_NCHW);
    if (np == 5 && (a->layout == OX_G5 || a->layout == OX_G5T) &&
        !memcmp(perm, groups, sizeof groups)) {
        const int g = a->groups;
        if (alias(x, k, 0, a, a->layout == OX_G5 ? OX_G5T : OX_G5))
            return -1;
        x->v[ox_output(x, k, 0)].groups = g;
        return 0;
    }
    return ox_unsupported(x, k,
                          "a permutation clnet cannot follow (it takes NCHW <-> NHWC and "
                          "ShuffleNet's channel groups)");
}

/* The channel axis of layout in a rank's numbering, or -1. */
static int channel_axis(int layout)
{
    return layout == OX_NCHW || layout == OX_NC ? 1 : layout == OX_NHWC ? 3 : -1;
}

static int is_channel_axis(int64_t axis, const ox_value *a)
{
    const int rank = a->layout == OX_NC ? 2 : 4;
    return channel_axis(a->layout) >= 0 &&
           (axis < 0 ? axis + rank : axis) == channel_axis(a->layout);
}

int ox_concat(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const ox_value *first = ox_act(x, n, 0);
    const int64_t axis = ox_attr_int(n, "axis", 1);
    if (!first || !is_channel_axis(axis, first))
        return ox_unsupported(x, k, "joining along axis %lld (clnet joins channels only)",
                              (long long)axis);
    int *in = calloc(n->n_input, sizeof *in);
    if (!in) {
        x->st = CLNET_ERR_OUT_OF_MEMORY;
        return -1;
    }
    int m = 0;
    for (size_t i = 0; i < n->n_input; ++i) {
        const ox_value *a = ox_act(x, n, (int)i);
        if (!a || a->layout != first->layout) {
            free(in);
            return ox_unsupported(x, k, "input %zu is a constant or lies otherwise than input 0",
                                  i);
        }
        if ((in[m++] = ox_materialize(x, k, ox_input(x, n, (int)i))) < 0) {
            free(in);
            return -1;
        }
    }
    /* clnet joins at most 8 inputs at once: DenseNet's wider joins become a chain. */
    int l = m ? in[0] : -1, done = 1, part = 0;
    while (done < m) {
        int take[8] = {l};
        int t = 1;
        while (t < 8 && done < m)
            take[t++] = in[done++];
        char suffix[16] = "";
        if (done < m || part)
            snprintf(suffix, sizeof suffix, "_%d", part);
        ++part;
        if ((l = ox_layer(x, k, suffix, "concatenate", take, t, "%s", "")) < 0)
            break;
    }
    free(in);
    if (l < 0)
        return -1;
    return m == 1 ? alias(x, k, 0, first, first->layout)
                  : ox_set_act(x, k, 0, l, first->layout, NULL);
}

/* Output o of node k: channels [start, start + size) of a. */
static int slice_channels(ox_ctx *x, int k, int o, int v, int start, int size)
{
    const ox_value *a = &x->v[v];
    const int c = clnet_graph_layer_shape(x->g, a->layer).c;
    if (start == 0 && size == c)
        return alias(x, k, o, a, a->layout);
    const int in = ox_materialize(x, k, v);
    char suffix[16] = ""; /* output 0 keeps the node's name */
    if (o)
        snprintf(suffix, sizeof suffix, "_%d", o);
    const int l =
        ox_layer(x, k, suffix, "channel_slice", &in, 1, "start = %d\nsize = %d", start, size);
    return l < 0 ? -1 : ox_set_act(x, k, o, l, a->layout, NULL);
}

int ox_split(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const ox_value *a = ox_act(x, n, 0);
    const int64_t axis = ox_attr_int(n, "axis", 0);
    if (!a || !is_channel_axis(axis, a))
        return ox_unsupported(x, k, "splitting along axis %lld (clnet splits channels only)",
                              (long long)axis);
    const int c = clnet_graph_layer_shape(x->g, a->layer).c;
    const int parts = (int)n->n_output;
    int64_t split[64];
    int ns;
    if (x->opset < 13) {
        ns = ox_attr_ints(n, "split", split, 64);
    } else {
        const ox_const *s = ox_constant(x, ox_input(x, n, 1));
        ns = s && s->is_int && s->count <= 64 ? (int)s->count : ox_input(x, n, 1) < 0 ? -1 : -2;
        for (int i = 0; s && i < ns; ++i)
            split[i] = s->i[i];
    }
    if (ns < -1 || parts > 64 || (ns >= 0 && ns != parts) || (ns < 0 && c % parts))
        return ox_unsupported(x, k, "split sizes that are not a constant list of one per output");
    const int v = ox_input(x, n, 0);
    for (int o = 0, start = 0; o < parts; ++o) {
        const int size = ns >= 0 ? (int)split[o] : c / parts;
        if (size < 0 || start + size > c)
            return ox_unsupported(x, k, "split sizes beyond %d channels", c);
        const int w = ox_output(x, k, o);
        if (w >= 0 && x->v[w].uses && slice_channels(x, k, o, v, start, size))
            return -1;
        start += size;
    }
    return 0;
}

int ox_slice(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const ox_value *a = ox_act(x, n, 0);
    if (!a)
        return ox_unsupported(x, k, "input is not an activation");
    int64_t s[CLNET_ONNX_MAX_RANK], e[CLNET_ONNX_MAX_RANK], ax[CLNET_ONNX_MAX_RANK],
        st[CLNET_ONNX_MAX_RANK], d[CLNET_ONNX_MAX_RANK];
    int count[4] = {-1, -1, -1, -1};
    int64_t *lists[4] = {s, e, ax, st};
    static const char *const names[4] = {"starts", "ends", "axes", "steps"};
    for (int j = 0; j < 4; ++j) {
        if (x->opset < 10) {
            count[j] = j == 3 ? -1 : ox_attr_ints(n, names[j], lists[j], CLNET_ONNX_MAX_RANK);
            continue;
        }
        if (ox_input(x, n, j + 1) < 0)
            continue;
        const ox_const *c = ox_constant(x, ox_input(x, n, j + 1));
        if (!c || !c->is_int || c->count > CLNET_ONNX_MAX_RANK)
            return ox_unsupported(x, k, "%s are not a constant list", names[j]);
        count[j] = (int)c->count;
        memcpy(lists[j], c->i, (size_t)c->count * sizeof *c->i);
    }
    const int rank = ox_act_dims(x, ox_input(x, n, 0), d);
    int start = 0, size = -1, step_h = 1, step_w = 1;
    for (int j = 0; j < count[0]; ++j) {
        const int64_t axis = count[2] >= 0 ? ax[j] : j;
        const int64_t step = count[3] >= 0 ? st[j] : 1;
        const int64_t a_ = axis < 0 ? axis + rank : axis;
        if (a_ < 0 || a_ >= rank || j >= count[1])
            return ox_unsupported(x, k, "axis %lld outside rank %d", (long long)axis, rank);
        int64_t first, len;
        ox_slice_range(d[a_], s[j], e[j], step ? step : 1, &first, &len);
        if (first == 0 && len == d[a_] && step == 1)
            continue; /* the whole axis */
        /* Every step-th row and column from the first: the option-A shortcut's subsampling. */
        if (a->layout == OX_NCHW && (a_ == 2 || a_ == 3) && first == 0 && step > 1 &&
            len == (d[a_] + step - 1) / step && step < (1 << 20)) {
            *(a_ == 2 ? &step_h : &step_w) = (int)step;
            continue;
        }
        if (!is_channel_axis(a_, a) || step != 1)
            return ox_unsupported(x, k, "slicing axis %lld (clnet slices channels, step 1 only)",
                                  (long long)axis);
        start = (int)first;
        size = (int)len;
    }
    const int c = clnet_graph_layer_shape(x->g, a->layer).c;
    if (step_h != step_w || (step_h > 1 && size >= 0))
        return ox_unsupported(x, k,
                              "subsampling rows and columns by different steps, or with "
                              "channels");
    if (step_h > 1) {
        const int in = ox_materialize(x, k, ox_input(x, n, 0));
        const int l = in < 0 ? -1
                             : ox_layer(x, k, "", "channel_pad", &in, 1,
                                        "channels = %d\nstride = %d", c, step_h);
        return l < 0 ? -1 : ox_set_act(x, k, 0, l, OX_NCHW, NULL);
    }
    return slice_channels(x, k, 0, ox_input(x, n, 0), start, size < 0 ? c : size);
}

int ox_pad(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    const ox_value *a = ox_act(x, n, 0);
    if (!a || a->layout != OX_NCHW)
        return ox_unsupported(x, k, "input is not an NCHW activation");
    if (strcmp(ox_attr_str(n, "mode", "constant"), "constant"))
        return ox_unsupported(x, k, "mode '%s' (clnet pads with zeros only)",
                              ox_attr_str(n, "mode", "constant"));
    int64_t p[8];
    int np;
    float value = 0.0f;
    if (x->opset < 11) {
        np = ox_attr_ints(n, x->opset < 2 ? "paddings" : "pads", p, 8);
        value = ox_attr_float(n, "value", 0.0f);
    } else {
        const ox_const *c = ox_constant(x, ox_input(x, n, 1));
        np = c && c->is_int && c->count <= 8 ? (int)c->count : -1;
        for (int i = 0; i < np; ++i)
            p[i] = c->i[i];
        const ox_const *cv = ox_input(x, n, 2) >= 0 ? ox_constant(x, ox_input(x, n, 2)) : NULL;
        if (ox_input(x, n, 2) >= 0 && (!cv || cv->count != 1))
            return ox_unsupported(x, k, "constant_value is not one constant");
        if (cv)
            value = cv->is_int ? (float)cv->i[0] : cv->f[0];
        if (ox_input(x, n, 3) >= 0)
            return ox_unsupported(x, k, "input 'axes'");
    }
    if (np != 8 || p[0] || p[4] || value != 0.0f)
        return ox_unsupported(x, k, "pads other than zeros around C, H and W");
    for (int i = 0; i < 8; ++i)
        if (p[i] < 0 || p[i] > (1 << 20))
            return ox_unsupported(x, k, "negative or huge pads (%lld)", (long long)p[i]);
    if (p[1] || p[5]) {
        /* Zero channels (the option-A shortcut's): channel_pad; no spatial pads with them. */
        if (p[2] || p[3] || p[6] || p[7])
            return ox_unsupported(x, k, "padding channels and pixels at once");
        const int in = ox_materialize(x, k, ox_input(x, n, 0));
        const int c = in < 0 ? 0 : clnet_graph_layer_shape(x->g, in).c;
        const int l =
            in < 0 ? -1
                   : ox_layer(x, k, "", "channel_pad", &in, 1, "channels = %lld\nbefore = %lld",
                              (long long)(c + p[1] + p[5]), (long long)p[1]);
        return l < 0 ? -1 : ox_set_act(x, k, 0, l, OX_NCHW, NULL);
    }
    if (alias(x, k, 0, a, OX_NCHW))
        return -1;
    ox_value *out = &x->v[ox_output(x, k, 0)];
    /* [N, C, H, W] begins then ends: top = H begin, bottom = H end, left, right. */
    out->pad[0] += (int)p[2];
    out->pad[1] += (int)p[6];
    out->pad[2] += (int)p[3];
    out->pad[3] += (int)p[7];
    out->padded = -1;
    return 0;
}
