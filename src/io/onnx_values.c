/* onnx_values.c - the importer's values and what its op handlers share: the table of
 * ONNX values by name (constants decoded on first use, activations with how their dims
 * lie on a clnet layer), the list of unsupported nodes, layer names from node names,
 * adding layers and their weights, and pending padding made real when needed. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/onnx_import.h"
#include "io/onnx_ops.h"
#include "io/safetensors.h"

/* ---- values by name ---- */

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603u;
    for (; *s; ++s)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static int grow_slots(ox_ctx *x)
{
    const size_t n = x->n_slot ? x->n_slot * 2 : 1024;
    int *slot = malloc(n * sizeof *slot);
    if (!slot)
        return -1;
    for (size_t i = 0; i < n; ++i)
        slot[i] = -1;
    for (int v = 0; v < x->n_v; ++v) {
        size_t i = hash(x->v[v].name) & (n - 1);
        while (slot[i] >= 0)
            i = (i + 1) & (n - 1);
        slot[i] = v;
    }
    free(x->slot);
    x->slot = slot;
    x->n_slot = n;
    return 0;
}

int ox_find(ox_ctx *x, const char *name)
{
    if (x->n_slot) {
        for (size_t i = hash(name) & (x->n_slot - 1); x->slot[i] >= 0;
             i = (i + 1) & (x->n_slot - 1))
            if (!strcmp(x->v[x->slot[i]].name, name))
                return x->slot[i];
    }
    if ((size_t)(x->n_v + 1) * 2 > x->n_slot && grow_slots(x))
        return -1;
    if (x->n_v == x->cap_v) {
        const int cap = x->cap_v ? x->cap_v * 2 : 256;
        ox_value *v = realloc(x->v, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        x->v = v;
        x->cap_v = cap;
    }
    const int v = x->n_v++;
    memset(&x->v[v], 0, sizeof x->v[v]);
    x->v[v].name = name;
    x->v[v].producer = -1;
    x->v[v].padded = -1;
    x->v[v].layer = -1;
    x->v[v].consumer = -1;
    size_t i = hash(name) & (x->n_slot - 1);
    while (x->slot[i] >= 0)
        i = (i + 1) & (x->n_slot - 1);
    x->slot[i] = v;
    return v;
}

int ox_input(ox_ctx *x, const Onnx__NodeProto *n, int i)
{
    if (i < 0 || (size_t)i >= n->n_input || !n->input[i][0])
        return -1;
    return ox_find(x, n->input[i]);
}

const ox_const *ox_constant(ox_ctx *x, int v)
{
    if (v < 0)
        return NULL;
    ox_value *val = &x->v[v];
    if (val->kind == OX_UNSET && val->init) {
        char what[256];
        snprintf(what, sizeof what, "initializer '%.200s'", val->name);
        const clnet_status st = ox_tensor(val->init, x->dir, what, &val->c, x->err, x->len);
        if (st != CLNET_OK) {
            x->st = st;
            val->kind = OX_BAD;
            return NULL;
        }
        val->kind = OX_CONST;
    }
    return val->kind == OX_CONST ? &val->c : NULL;
}

int ox_unsupported(ox_ctx *x, int k, const char *fmt, ...)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    ++x->bad;
    clnet__text_put(&x->bad_text, "\n  node '%.100s' (%.60s%s%.60s, opset %lld): %s",
                    n->name && n->name[0] ? n->name : "(unnamed)", n->op_type,
                    n->domain && n->domain[0] ? ", domain " : "",
                    n->domain && n->domain[0] ? n->domain : "", (long long)x->opset, why);
    for (size_t o = 0; o < n->n_output; ++o) {
        const int v = ox_find(x, n->output[o]);
        if (v >= 0)
            x->v[v].kind = OX_BAD;
    }
    return -1;
}

int ox_act_dims(ox_ctx *x, int v, int64_t *dims)
{
    const ox_value *a = &x->v[v];
    const clnet_shape s = clnet_graph_layer_shape(x->g, a->layer);
    const int64_t h = s.h + a->pad[0] + a->pad[1], w = s.w + a->pad[2] + a->pad[3], c = s.c;
    dims[0] = OX_BATCH;
    switch (a->layout) {
    case OX_NC:
        dims[1] = c;
        return 2;
    case OX_NHWC:
        dims[1] = h;
        dims[2] = w;
        dims[3] = c;
        return 4;
    case OX_G5:
    case OX_G5T:
        dims[a->layout == OX_G5 ? 1 : 2] = a->groups;
        dims[a->layout == OX_G5 ? 2 : 1] = c / a->groups;
        dims[3] = h;
        dims[4] = w;
        return 5;
    default:
        dims[1] = c;
        dims[2] = h;
        dims[3] = w;
        return 4;
    }
}

/* ---- what op handlers share (onnx_ops.h) ---- */

const ox_value *ox_act(ox_ctx *x, const Onnx__NodeProto *n, int i)
{
    const int v = ox_input(x, n, i);
    return v >= 0 && x->v[v].kind == OX_ACT ? &x->v[v] : NULL;
}

int ox_name(ox_ctx *x, int k, const char *suffix, char *out)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    char base[256];
    if (n->name && n->name[0])
        snprintf(base, sizeof base, "%s%s", n->name + (n->name[0] == '/'), suffix);
    else
        snprintf(base, sizeof base, "%s_%d%s", n->op_type, k, suffix);
    /* Bytes the text spec cannot carry become '_'; the end of a long name is kept, as it
     * is the specific part ("/features/features.3/block/block.0/block.0.0/Conv"). */
    for (char *p = base; *p; ++p)
        if (*p == ',' || *p == '[' || *p == ']' || *p == '=' || *p == '#' ||
            (unsigned char)*p <= ' ' || (unsigned char)*p == 0x7f)
            *p = '_';
    const size_t len = strlen(base);
    char tail[57];
    memcpy(tail, len > 56 ? base + len - 56 : base, (len > 56 ? 56 : len) + 1);
    tail[56] = 0;
    memcpy(out, tail, sizeof tail);
    for (int i = 2; clnet_graph_find(x->g, out) != CLNET_LAYER_NONE && i < 1000000; ++i) {
        char number[8];
        snprintf(number, sizeof number, "_%u", (unsigned)i % 1000000u);
        memcpy(out, tail, sizeof tail);
        strcat(out, number);
    }
    return 0;
}

int ox_layer(ox_ctx *x, int k, const char *suffix, const char *op, const int *inputs, int n_in,
             const char *fmt, ...)
{
    char params[1024], name[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(params, sizeof params, fmt, ap);
    va_end(ap);
    ox_name(x, k, suffix, name);
    const clnet_layer l = clnet_graph_layer(x->g, op, name, params, inputs, n_in);
    if (l == CLNET_LAYER_NONE) {
        char why[600];
        snprintf(why, sizeof why, "%s", clnet_graph_error(x->g));
        /* The builder keeps its first error; the import goes on to list the others. */
        x->g->status = CLNET_OK;
        return ox_unsupported(x, k, "clnet's %s: %s", op, why);
    }
    return l;
}

int ox_set_act(ox_ctx *x, int k, int o, int layer, int layout, const ox_value *like)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    if ((size_t)o >= n->n_output || !n->output[o][0])
        return 0;
    const int v = ox_find(x, n->output[o]);
    if (v < 0) {
        x->st = CLNET_ERR_OUT_OF_MEMORY;
        return -1;
    }
    ox_value *out = &x->v[v];
    out->kind = OX_ACT;
    out->layer = layer;
    out->layout = layout;
    out->padded = -1;
    memset(out->pad, 0, sizeof out->pad);
    out->flat_hw = 1;
    out->groups = 0;
    /* A layer made from a flattened map keeps its channel order's record when the
     * caller says so (elementwise ops). */
    if (like && like->flat_hw > 1 && layout == OX_NC) {
        out->flat_hw = like->flat_hw;
        out->flat_h = like->flat_h;
        out->flat_w = like->flat_w;
    }
    return 0;
}

int ox_weight(ox_ctx *x, int layer, const char *name, float *data, int64_t count)
{
    const clnet_status st =
        clnet__import_push_weight(&x->w, &x->n_w, &x->cap_w, layer, name, data, count);
    if (st != CLNET_OK)
        x->st = st;
    return st == CLNET_OK ? 0 : -1;
}

int ox_materialize(ox_ctx *x, int k, int v)
{
    ox_value *a = &x->v[v];
    if (!(a->pad[0] | a->pad[1] | a->pad[2] | a->pad[3]))
        return a->layer;
    if (a->padded < 0) {
        const int in = a->layer;
        a->padded = ox_layer(x, k, "_pad", "zero_pad", &in, 1, "padding = %d, %d, %d, %d",
                             a->pad[0], a->pad[1], a->pad[2], a->pad[3]);
    }
    return a->padded;
}
