/* onnx_import.c - an ONNX graph onto clnet's graph builder. Nodes are visited in
 * topological order; each either folds (its inputs are constants: onnx_fold.c), joins a
 * subgraph that becomes one clnet op (onnx_match.c), changes only how a value's dims lie
 * on an existing layer (Flatten of 1x1 maps, the transposes around NHWC ops, Dropout,
 * Identity, ShuffleNet's grouped view), or adds the clnet layer of its op. Weights are
 * transposed from ONNX's NCHW layouts to clnet's here, once. Whatever cannot run is
 * listed, node by node, in one error. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/onnx_import.h"
#include "io/onnx_ops.h"
#include "io/safetensors.h"

/* ---- the walk ---- */

/* Kahn's order of the nodes, their inputs produced first; a cycle or an input nobody
 * produces is an error naming a node. */
static clnet_status order_nodes(ox_ctx *x, int *order)
{
    const int n = (int)x->graph->n_node;
    int *wait = calloc((size_t)(n ? n : 1), sizeof *wait);
    int *head = malloc((size_t)(x->n_v ? x->n_v : 1) * sizeof *head);
    int *next = NULL, *edge_node = NULL, n_edges = 0;
    for (int k = 0; k < n; ++k)
        n_edges += (int)x->graph->node[k]->n_input;
    next = malloc((size_t)(n_edges ? n_edges : 1) * sizeof *next);
    edge_node = malloc((size_t)(n_edges ? n_edges : 1) * sizeof *edge_node);
    if (!wait || !head || !next || !edge_node) {
        free(wait), free(head), free(next), free(edge_node);
        return clnet__st_fail(x->err, x->len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    for (int v = 0; v < x->n_v; ++v)
        head[v] = -1;
    int e = 0;
    clnet_status st = CLNET_OK;
    for (int k = 0; k < n && st == CLNET_OK; ++k) {
        const Onnx__NodeProto *node = x->graph->node[k];
        for (size_t i = 0; i < node->n_input; ++i) {
            const int v = ox_input(x, node, (int)i);
            if (v < 0)
                continue;
            if (x->v[v].producer < 0 && !x->v[v].init && x->v[v].kind != OX_ACT)
                st = clnet__st_fail(x->err, x->len, CLNET_ERR_PARSE,
                                    "node '%.100s' (%.60s) reads '%.100s', which no node, "
                                    "initializer or graph input gives",
                                    node->name ? node->name : "", node->op_type, x->v[v].name);
            if (x->v[v].producer >= 0) {
                ++wait[k];
                edge_node[e] = k;
                next[e] = head[v];
                head[v] = e++;
            }
        }
    }
    int done = 0;
    for (int k = 0; k < n && st == CLNET_OK; ++k)
        if (!wait[k])
            order[done++] = k;
    for (int q = 0; q < done && st == CLNET_OK; ++q) {
        const Onnx__NodeProto *node = x->graph->node[order[q]];
        for (size_t o = 0; o < node->n_output; ++o) {
            const int v = ox_find(x, node->output[o]);
            for (int j = v >= 0 ? head[v] : -1; j >= 0; j = next[j])
                if (!--wait[edge_node[j]])
                    order[done++] = edge_node[j];
        }
    }
    if (st == CLNET_OK && done < n) {
        int k = 0;
        while (k < n && !wait[k])
            ++k;
        st = clnet__st_fail(
            x->err, x->len, CLNET_ERR_PARSE, "the graph has a cycle through node '%.100s' (%.60s)",
            x->graph->node[k]->name ? x->graph->node[k]->name : "", x->graph->node[k]->op_type);
    }
    free(wait), free(head), free(next), free(edge_node);
    return st;
}

/* Marks the nodes the output does not depend on (their layers would be dead weight). */
static void mark_dead(ox_ctx *x, const int *order)
{
    const int n = (int)x->graph->n_node;
    /* ox_find adds a value it does not know (an output no node makes): name the outputs
     * before sizing the table, and ignore values added after. */
    for (size_t o = 0; o < x->graph->n_output; ++o)
        ox_find(x, x->graph->output[o]->name ? x->graph->output[o]->name : "");
    const int n_live = x->n_v;
    char *live = calloc((size_t)(n_live ? n_live : 1), 1);
    if (!live)
        return;
    /* Every output: a model of several is refused, after its unsupported nodes are listed. */
    for (size_t o = 0; o < x->graph->n_output; ++o) {
        const int v = ox_find(x, x->graph->output[o]->name ? x->graph->output[o]->name : "");
        if (v >= 0 && v < n_live)
            live[v] = 1;
    }
    for (int q = n - 1; q >= 0; --q) {
        const Onnx__NodeProto *node = x->graph->node[order[q]];
        int used = 0;
        for (size_t o = 0; o < node->n_output; ++o) {
            const int v = ox_find(x, node->output[o]);
            used |= v >= 0 && v < n_live && live[v];
        }
        if (!used) {
            x->done[order[q]] = 1;
            continue;
        }
        for (size_t i = 0; i < node->n_input; ++i) {
            const int v = ox_input(x, node, (int)i);
            if (v >= 0 && v < n_live)
                live[v] = 1;
        }
    }
    free(live);
}

/* The graph's one runtime input: its layer, at the model's size or opt's. */
static clnet_status make_input(ox_ctx *x, const clnet_onnx_options *opt)
{
    const Onnx__ValueInfoProto *in = NULL;
    int count = 0;
    for (size_t i = 0; i < x->graph->n_input; ++i) {
        const int v = ox_find(x, x->graph->input[i]->name ? x->graph->input[i]->name : "");
        if (v >= 0 && !x->v[v].init) {
            in = x->graph->input[i];
            ++count;
        }
    }
    if (count != 1)
        return clnet__st_fail(x->err, x->len, CLNET_ERR_UNSUPPORTED,
                              "the graph has %d inputs besides its initializers; clnet models "
                              "take one image tensor",
                              count);
    /* A name the file leaves out is protobuf's NULL: the empty name, as the loop above. */
    const char *in_name = in->name ? in->name : "";
    const Onnx__TypeProto *t = in->type;
    if (!t || t->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !t->tensor_type ||
        (t->tensor_type->has_elem_type &&
         t->tensor_type->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT))
        return clnet__st_fail(x->err, x->len, CLNET_ERR_UNSUPPORTED,
                              "input '%.100s' is not a float32 tensor", in_name);
    const Onnx__TensorShapeProto *s = t->tensor_type->shape;
    int64_t d[4] = {0, 0, 0, 0};
    if (s && s->n_dim != 4)
        return clnet__st_fail(x->err, x->len, CLNET_ERR_UNSUPPORTED,
                              "input '%.100s' has rank %zu; clnet reads NCHW images (rank 4)",
                              in_name, s->n_dim);
    for (size_t i = 0; s && i < 4; ++i)
        if (s->dim[i]->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
            d[i] = s->dim[i]->dim_value;
    /* An input read only through Transpose(0, 3, 1, 2) is NHWC (tf2onnx's Keras models,
     * clnet's --nhwc exports): its dims are [N, H, W, C]. */
    int nhwc = 0;
    for (size_t k = 0; k < x->graph->n_node; ++k) {
        const Onnx__NodeProto *n = x->graph->node[k];
        for (size_t i = 0; i < n->n_input; ++i)
            if (!strcmp(n->input[i], in_name)) {
                int64_t perm[4];
                const int to_nchw = !strcmp(n->op_type, "Transpose") &&
                                    ox_attr_ints(n, "perm", perm, 4) == 4 && perm[0] == 0 &&
                                    perm[1] == 3 && perm[2] == 1 && perm[3] == 2;
                nhwc = nhwc >= 0 && to_nchw ? 1 : -1;
            }
    }
    if (nhwc > 0) {
        const int64_t c_ = d[3];
        d[3] = d[2];
        d[2] = d[1];
        d[1] = c_;
    }
    x->static_batch = d[0] > 0 ? d[0] : 0;
    const int h = opt && opt->h ? opt->h : (int)d[2], w = opt && opt->w ? opt->w : (int)d[3];
    const int c = opt && opt->c ? opt->c : (int)d[1];
    if (d[1] > 0 && opt && opt->c && opt->c != d[1])
        return clnet__st_fail(x->err, x->len, CLNET_ERR_INVALID_ARG,
                              "input '%.100s' has %lld channels, not the %d asked for", in_name,
                              (long long)d[1], opt->c);
    if (h <= 0 || w <= 0 || c <= 0 || d[2] < 0 || d[3] < 0 || d[1] < 0 || d[1] > (1 << 24) ||
        d[2] > (1 << 24) || d[3] > (1 << 24))
        return clnet__st_fail(x->err, x->len, CLNET_ERR_INVALID_ARG,
                              "input '%.100s' has no fixed size (%lld x %lld x %lld): give one "
                              "(--input HxWxC)",
                              in_name, (long long)d[2], (long long)d[3], (long long)d[1]);
    char name[64];
    snprintf(name, sizeof name, "%s", in_name);
    for (char *p = name; *p; ++p)
        if (*p == ',' || *p == '[' || *p == ']' || *p == '=' || *p == '#' ||
            (unsigned char)*p <= ' ')
            *p = '_';
    const clnet_layer l = clnet_graph_input(x->g, name[0] ? name : "input", h, w, c);
    if (l == CLNET_LAYER_NONE)
        return clnet__st_fail(x->err, x->len, clnet_graph_status(x->g), "input: %s",
                              clnet_graph_error(x->g));
    const int v = ox_find(x, in_name);
    x->v[v].kind = OX_ACT;
    x->v[v].layer = l;
    x->v[v].layout = nhwc > 0 ? OX_NHWC : OX_NCHW;
    x->v[v].flat_hw = 1;
    return CLNET_OK;
}

/* Opset of the default domain; other domains may be imported but no node may use them. */
static clnet_status check_model(ox_ctx *x)
{
    const Onnx__ModelProto *m = x->model;
    if (!m->graph)
        return clnet__st_fail(x->err, x->len, CLNET_ERR_PARSE, "the model has no graph");
    const int64_t ir = m->has_ir_version ? m->ir_version : 0;
    if (ir < CLNET_ONNX_MIN_IR || ir > CLNET_ONNX_MAX_IR)
        return clnet__st_fail(x->err, x->len, CLNET_ERR_UNSUPPORTED,
                              "IR version %lld; clnet reads %d to %d (ONNX 1.3 to 1.13's "
                              "files)",
                              (long long)ir, CLNET_ONNX_MIN_IR, CLNET_ONNX_MAX_IR);
    x->opset = 0;
    for (size_t i = 0; i < m->n_opset_import; ++i) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[i];
        if (!o->domain || !o->domain[0] || !strcmp(o->domain, "ai.onnx"))
            x->opset = o->has_version ? o->version : 0;
    }
    if (x->opset < CLNET_ONNX_MIN_OPSET || x->opset > CLNET_ONNX_MAX_OPSET)
        return clnet__st_fail(x->err, x->len, CLNET_ERR_UNSUPPORTED,
                              "opset %lld of the default domain; clnet reads opsets %d to %d "
                              "(re-export with opset_version=17 or lower)",
                              (long long)x->opset, CLNET_ONNX_MIN_OPSET, CLNET_ONNX_MAX_OPSET);
    return CLNET_OK;
}

static void run_node(ox_ctx *x, int k)
{
    const Onnx__NodeProto *n = x->graph->node[k];
    /* Nodes downstream of one that failed are not listed again. */
    for (size_t i = 0; i < n->n_input; ++i) {
        const int v = ox_input(x, n, (int)i);
        if (v >= 0 && x->v[v].kind == OX_BAD) {
            /* ...unless their own op is one clnet lacks: that is listed too. */
            if (!ox_op_find(n->op_type) && strcmp(n->op_type, "Constant")) {
                ox_unsupported(x, k, "an op clnet does not have");
                x->unknown_op = 1;
                return;
            }
            for (size_t o = 0; o < n->n_output; ++o) {
                const int w = ox_find(x, n->output[o]);
                if (w >= 0)
                    x->v[w].kind = OX_BAD;
            }
            return;
        }
    }
    if (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx")) {
        ox_unsupported(x, k, "a custom domain's op");
        return;
    }
    const ox_op *op = ox_op_find(n->op_type);
    if (!op && !strcmp(n->op_type, "Constant")) {
        ox_fold(x, k);
        return;
    }
    if (!op) {
        ox_unsupported(x, k, "an op clnet does not have");
        x->unknown_op = 1;
        return;
    }
    /* Attributes the handler does not read would change the result unnoticed. */
    char known[512];
    snprintf(known, sizeof known, " %s ", op->attrs);
    for (size_t i = 0; i < n->n_attribute; ++i) {
        const char *a = n->attribute[i]->name ? n->attribute[i]->name : "";
        char key[80];
        snprintf(key, sizeof key, " %s ", a);
        if (!strstr(known, key)) {
            ox_unsupported(x, k, "attribute '%s' is not supported", a);
            return;
        }
    }
    /* A constant node folds; the first node of a known subgraph (x * Sigmoid(x), GELU,
     * LayerNorm...) becomes its one op; any other runs its own handler. */
    if (ox_fold(x, k) || x->st != CLNET_OK || ox_match(x, k))
        return;
    op->run(x, k);
}

/* Outputs an import would get wrong or a model cannot have, recorded against the node
 * that makes them. */
static void check_output(ox_ctx *x, int out_v)
{
    const ox_value *o = &x->v[out_v];
    if (x->constant_only || o->kind != OX_ACT || o->producer < 0)
        return;
    /* clnet flattens a map pixel by pixel, ONNX channel by channel: a dense layer reading
     * the rows permutes its weights to match, but the model's output would come out in
     * another order than ONNX's. */
    if (o->layout == OX_NC && o->flat_hw > 1)
        ox_unsupported(x, o->producer,
                       "the model's output is a flattened [N, C, H, W] map, whose values "
                       "clnet orders pixel by pixel, not channel by channel");
    /* Identity, Dropout or a Reshape to the same dims alone leave no layer after the input. */
    else if (o->layer == 0 && !(o->pad[0] | o->pad[1] | o->pad[2] | o->pad[3]))
        ox_unsupported(x, o->producer,
                       "the model's output is its input unchanged (a clnet model needs a "
                       "layer after its input)");
}

static void free_ctx(ox_ctx *x)
{
    for (int v = 0; v < x->n_v; ++v)
        ox_const_free(&x->v[v].c);
    free(x->v);
    free(x->slot);
    free(x->done);
    free(x->bad_text.buf);
}

/* Comma-separated floats of text into v[0..4); their count, or -1. */
static int float_list(const char *text, float *v)
{
    int n = 0;
    for (const char *p = text; n < 4; ++p) {
        char *end;
        v[n++] = strtof(p, &end);
        if (end == p)
            return -1;
        p = end;
        if (!*p)
            return n;
        if (*p != ',')
            return -1;
    }
    return -1;
}

/* clnet's labels and normalization, when an export of clnet's left them. Malformed
 * entries are ignored: they are hints, not the model. */
static void read_metadata(const Onnx__ModelProto *m, clnet__import *out)
{
    float mean[4], std[4];
    int n_mean = -1, n_std = -2;
    for (size_t i = 0; i < m->n_metadata_props; ++i) {
        const Onnx__StringStringEntryProto *e = m->metadata_props[i];
        if (!e->key || !e->value)
            continue;
        if (!strcmp(e->key, "clnet.mean"))
            n_mean = float_list(e->value, mean);
        else if (!strcmp(e->key, "clnet.std"))
            n_std = float_list(e->value, std);
        else if (!strcmp(e->key, "clnet.labels") && !out->labels) {
            cJSON *a = cJSON_Parse(e->value);
            const int n = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0;
            char **labels = n > 0 ? calloc((size_t)n, sizeof *labels) : NULL;
            int ok = labels != NULL;
            for (int j = 0; ok && j < n; ++j) {
                const cJSON *s = cJSON_GetArrayItem(a, j);
                ok = cJSON_IsString(s) && (labels[j] = strdup(s->valuestring));
            }
            if (ok) {
                out->labels = labels;
                out->n_labels = n;
            } else {
                for (int j = 0; labels && j < n; ++j)
                    free(labels[j]);
                free(labels);
            }
            cJSON_Delete(a);
        }
    }
    if (n_mean > 0 && n_mean == n_std) {
        out->has_norm = 1;
        for (int k = 0; k < 4; ++k) {
            out->mean[k] = k < n_mean ? mean[k] : 0.0f;
            out->std[k] = k < n_std && std[k] > 0 ? std[k] : 1.0f;
        }
    }
}

static clnet_status import(ox_ctx *x, const clnet_onnx_options *opt, clnet__import *out)
{
    clnet_status st = check_model(x);
    if (st != CLNET_OK)
        return st;
    Onnx__GraphProto *gp = x->graph = x->model->graph;
    if (!gp->n_output)
        return clnet__st_fail(x->err, x->len, CLNET_ERR_PARSE, "the graph has no output");
    for (size_t i = 0; i < gp->n_initializer; ++i) {
        const int v = ox_find(x, gp->initializer[i]->name ? gp->initializer[i]->name : "");
        if (v < 0)
            return clnet__st_fail(x->err, x->len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
        x->v[v].init = gp->initializer[i];
    }
    for (size_t k = 0; k < gp->n_node; ++k) {
        const Onnx__NodeProto *n = gp->node[k];
        if (!n->op_type)
            return clnet__st_fail(x->err, x->len, CLNET_ERR_PARSE, "node %zu has no op type", k);
        for (size_t o = 0; o < n->n_output; ++o) {
            const int v = ox_find(x, n->output[o]);
            if (v < 0)
                return clnet__st_fail(x->err, x->len, CLNET_ERR_OUT_OF_MEMORY,
                                      "out of host memory");
            if (!n->output[o][0])
                continue;
            if (x->v[v].producer >= 0 || x->v[v].init)
                return clnet__st_fail(x->err, x->len, CLNET_ERR_PARSE,
                                      "value '%.100s' is given twice (node '%.100s')", n->output[o],
                                      n->name ? n->name : "");
            x->v[v].producer = (int)k;
        }
        for (size_t i = 0; i < n->n_input; ++i) {
            const int v = ox_input(x, n, (int)i);
            if (v >= 0) {
                ++x->v[v].uses;
                x->v[v].consumer = (int)k;
            }
        }
    }
    if ((st = clnet_graph_create(&x->g)) != CLNET_OK)
        return clnet__st_fail(x->err, x->len, st, "out of host memory");
    if (!x->constant_only && (st = make_input(x, opt)) != CLNET_OK)
        return st;
    const int out_v = ox_find(x, gp->output[0]->name ? gp->output[0]->name : "");
    ++x->v[out_v].uses;
    int *order = malloc((gp->n_node ? gp->n_node : 1) * sizeof *order);
    x->done = calloc(gp->n_node ? gp->n_node : 1, 1);
    if (!order || !x->done) {
        free(order);
        return clnet__st_fail(x->err, x->len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    if ((st = order_nodes(x, order)) != CLNET_OK) {
        free(order);
        return st;
    }
    mark_dead(x, order);
    for (size_t q = 0; q < gp->n_node && x->st == CLNET_OK; ++q)
        if (!x->done[order[q]]) {
            x->done[order[q]] = 1;
            run_node(x, order[q]);
        }
    free(order);
    if (x->st != CLNET_OK)
        return x->err[0] ? x->st : clnet__st_fail(x->err, x->len, x->st, "out of host memory");
    check_output(x, out_v);
    if (x->bad)
        return clnet__st_fail(x->err, x->len, CLNET_ERR_UNSUPPORTED,
                              "%d node%s clnet cannot run:%s%s%s%s%s", x->bad,
                              x->bad == 1 ? "" : "s", x->bad_text.buf ? x->bad_text.buf : "",
                              gp->n_output > 1 ? "\n  and the graph has several outputs; clnet "
                                                 "models have one"
                                               : "",
                              x->unknown_op ? "\n  (the ONNX ops clnet runs: " : "",
                              x->unknown_op ? ox_op_names() : "", x->unknown_op ? ")" : "");
    if (gp->n_output != 1)
        return clnet__st_fail(x->err, x->len, CLNET_ERR_UNSUPPORTED,
                              "the graph has %zu outputs; clnet models have one", gp->n_output);
    const ox_value *o = &x->v[out_v];
    if (x->constant_only) {
        if (o->kind != OX_CONST)
            return clnet__st_fail(x->err, x->len, CLNET_ERR_UNSUPPORTED,
                                  "output '%.100s' is not a constant", o->name);
        x->folded = out_v;
        return CLNET_OK;
    }
    if (o->kind != OX_ACT)
        return clnet__st_fail(x->err, x->len, CLNET_ERR_UNSUPPORTED,
                              "output '%.100s' does not depend on the input", o->name);
    if (ox_materialize(x, (int)gp->n_node - 1, out_v) != clnet_graph_layer_count(x->g) - 1)
        return clnet__st_fail(x->err, x->len, CLNET_ERR_UNSUPPORTED,
                              "output '%.100s' is not the graph's last layer", o->name);
    /* The graph's input named as its output, no node between (check_output names those). */
    if (clnet_graph_layer_count(x->g) < 2)
        return clnet__st_fail(x->err, x->len, CLNET_ERR_UNSUPPORTED,
                              "output '%.100s' is the graph's input (a clnet model needs a layer "
                              "after its input)",
                              o->name);
    out->g = x->g;
    out->w = x->w;
    out->n_w = x->n_w;
    x->g = NULL;
    x->w = NULL;
    x->n_w = 0;
    read_metadata(x->model, out);
    snprintf(out->producer, sizeof out->producer, "%s %s",
             x->model->producer_name ? x->model->producer_name : "",
             x->model->producer_version ? x->model->producer_version : "");
    return CLNET_OK;
}

static clnet_status import_bytes(const uint8_t *data, size_t size, const char *dir,
                                 const clnet_onnx_options *opt, clnet__import *out,
                                 clnet__onnx_tensor *folded, char *err, size_t len)
{
    memset(out, 0, sizeof *out);
    ox_ctx x = {0};
    x.constant_only = folded != NULL;
    x.folded = -1;
    x.dir = dir;
    x.err = err;
    x.len = len;
    err[0] = 0;
    x.model = onnx__model_proto__unpack(NULL, size, data);
    if (!x.model)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "not an ONNX model: its protobuf does not parse (truncated or "
                              "corrupt)");
    clnet_status st = import(&x, opt, out);
    if (st == CLNET_OK && folded) {
        const ox_const *c = &x.v[x.folded].c;
        memset(folded, 0, sizeof *folded);
        folded->rank = c->rank;
        memcpy(folded->dims, c->dims, sizeof c->dims);
        folded->count = c->count;
        folded->data = malloc((size_t)(c->count ? c->count : 1) * sizeof *folded->data);
        if (!folded->data)
            st = clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
        for (int64_t j = 0; folded->data && j < c->count; ++j)
            folded->data[j] = c->is_int ? (float)c->i[j] : c->f[j];
    }
    for (int i = 0; i < x.n_w; ++i)
        free(x.w[i].data);
    free(x.w);
    clnet_graph_destroy(x.g);
    free_ctx(&x);
    onnx__model_proto__free_unpacked(x.model, NULL);
    return st;
}

clnet_status clnet__onnx_import_memory(const void *data, size_t size, const clnet_onnx_options *opt,
                                       clnet__import *out, char *err, size_t len)
{
    return import_bytes(data, size, NULL, opt, out, NULL, err, len);
}

clnet_status clnet__onnx_fold_memory(const void *data, size_t size, clnet__onnx_tensor *out,
                                     char *err, size_t len)
{
    memset(out, 0, sizeof *out); /* empty on failure too: the caller may free it either way */
    clnet__import im;
    const clnet_status st = import_bytes(data, size, NULL, NULL, &im, out, err, len);
    clnet__import_free(&im);
    return st;
}

clnet_status clnet__onnx_import_file(const char *path, const clnet_onnx_options *opt,
                                     clnet__import *out, char *err, size_t len)
{
    memset(out, 0, sizeof *out);
    uint8_t *data;
    size_t size;
    clnet_status st = clnet__onnx_read_file(path, &data, &size, err, len);
    if (st != CLNET_OK)
        return st;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof dir, ".");
    st = import_bytes(data, size, dir, opt, out, NULL, err, len);
    free(data);
    return st;
}

int clnet__onnx_path(const char *path)
{
    const size_t n = path ? strlen(path) : 0;
    if (n < 5)
        return 0;
    const char *e = path + n - 5;
    return e[0] == '.' && (e[1] | 32) == 'o' && (e[2] | 32) == 'n' && (e[3] | 32) == 'n' &&
           (e[4] | 32) == 'x';
}
