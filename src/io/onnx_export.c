/* onnx_export.c - clnet_model_export_onnx: a model as an ONNX file of opset 13 (IR 7) with a
 * symbolic batch "N", built as protobuf-c messages (onnx.pb-c.h, generated from Debian's
 * onnx.proto) whose memory is all listed in the export and freed together. This half holds
 * the message helpers, the graph's input and output, the metadata (labels, normalization)
 * and the file, written to "<path>.tmp.<pid>" and renamed over path; the layers are
 * onnx_export_layers.c's. Tests: tests/io/test_onnx_export.c. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/onnx_export.h"

/* ONNX files are single protobuf messages, which hold at most 2 GiB; larger models need
 * external data files, which this writer does not make. */
#define MAX_MESSAGE ((uint64_t)INT32_MAX)

clnet_status clnet__onnx_fail(clnet__onnx_export *e, clnet_status st, const char *fmt, ...)
{
    if (e->st != CLNET_OK)
        return e->st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->err, sizeof e->err, fmt, ap);
    va_end(ap);
    e->st = st;
    return st;
}

static int oom(clnet__onnx_export *e)
{
    clnet__onnx_fail(e, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    return 0;
}

/* Makes room for one more pointer in *a (n used of *cap). */
static int grow(clnet__onnx_export *e, void ***a, size_t n, size_t *cap)
{
    if (n < *cap)
        return 1;
    const size_t want = *cap ? *cap * 2 : 64;
    void **p = realloc(*a, want * sizeof *p);
    if (!p)
        return oom(e);
    *a = p;
    *cap = want;
    return 1;
}

void *clnet__onnx_alloc(clnet__onnx_export *e, size_t size)
{
    if (e->st != CLNET_OK || !grow(e, &e->allocs, e->n_allocs, &e->cap_allocs))
        return NULL;
    void *p = calloc(1, size ? size : 1);
    if (!p) {
        oom(e);
        return NULL;
    }
    e->allocs[e->n_allocs++] = p;
    return p;
}

char *clnet__onnx_str(clnet__onnx_export *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? clnet__onnx_alloc(e, (size_t)n + 1) : NULL;
    if (s) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return s;
}

static const char *layer_name(const clnet__onnx_export *e)
{
    return e->g->layers[e->layer].name;
}

const char *clnet__onnx_node(clnet__onnx_export *e, const char *op_type, int n_in,
                             const char *const *in)
{
    Onnx__NodeProto *n = clnet__onnx_alloc(e, sizeof *n);
    char **inputs = clnet__onnx_alloc(e, (size_t)n_in * sizeof *inputs);
    char **outputs = clnet__onnx_alloc(e, sizeof *outputs);
    /* A rank conversion is named after the value it converts (e->convert), not the layer. */
    const char *prefix = e->convert ? e->convert : layer_name(e);
    const int first = !e->convert && !e->named;
    const int k = e->counter++;
    char *name = first ? clnet__onnx_str(e, "%s", prefix)
                       : clnet__onnx_str(e, "%s/%s_%d", prefix, op_type, k);
    char *out = clnet__onnx_str(e, "%s/%s_%d:0", prefix, op_type, k);
    char *type = clnet__onnx_str(e, "%s", op_type);
    if (!n || !inputs || !outputs || !name || !out || !type ||
        !grow(e, (void ***)&e->nodes, e->n_nodes, &e->cap_nodes))
        return NULL;
    onnx__node_proto__init(n);
    for (int i = 0; i < n_in; ++i) {
        if (!in[i])
            return NULL; /* a failure before this node (sticky) */
        inputs[i] = (char *)in[i];
    }
    outputs[0] = out;
    e->named |= first;
    n->n_input = (size_t)n_in;
    n->input = inputs;
    n->n_output = 1;
    n->output = outputs;
    n->name = name;
    n->op_type = type;
    e->nodes[e->n_nodes++] = n;
    return out;
}

Onnx__NodeProto *clnet__onnx_last(clnet__onnx_export *e)
{
    return e->st == CLNET_OK && e->n_nodes ? e->nodes[e->n_nodes - 1] : NULL;
}

/* A new attribute on the last node (its list regrown from e: nodes have few). */
static Onnx__AttributeProto *attr(clnet__onnx_export *e, const char *name,
                                  Onnx__AttributeProto__AttributeType type)
{
    Onnx__NodeProto *n = clnet__onnx_last(e);
    Onnx__AttributeProto *a = clnet__onnx_alloc(e, sizeof *a);
    Onnx__AttributeProto **list = clnet__onnx_alloc(e, (n ? n->n_attribute + 1 : 1) * sizeof *list);
    char *copy = clnet__onnx_str(e, "%s", name);
    if (!n || !a || !list || !copy)
        return NULL;
    onnx__attribute_proto__init(a);
    a->name = copy;
    a->has_type = 1;
    a->type = type;
    if (n->n_attribute)
        memcpy(list, n->attribute, n->n_attribute * sizeof *list);
    list[n->n_attribute++] = a;
    n->attribute = list;
    return a;
}

void clnet__onnx_attr_int(clnet__onnx_export *e, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = attr(e, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    if (a) {
        a->has_i = 1;
        a->i = v;
    }
}

void clnet__onnx_attr_ints(clnet__onnx_export *e, const char *name, int n, const int64_t *v)
{
    Onnx__AttributeProto *a = attr(e, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    int64_t *copy = clnet__onnx_alloc(e, (size_t)n * sizeof *copy);
    if (a && copy) {
        memcpy(copy, v, (size_t)n * sizeof *copy);
        a->n_ints = (size_t)n;
        a->ints = copy;
    }
}

void clnet__onnx_attr_float(clnet__onnx_export *e, const char *name, float v)
{
    Onnx__AttributeProto *a = attr(e, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    if (a) {
        a->has_f = 1;
        a->f = v;
    }
}

/* A tensor proto named name with the given dims, in the initializer list. */
static Onnx__TensorProto *tensor(clnet__onnx_export *e, const char *name, int32_t type, int rank,
                                 const int64_t *dims)
{
    Onnx__TensorProto *t = clnet__onnx_alloc(e, sizeof *t);
    int64_t *d = clnet__onnx_alloc(e, (size_t)rank * sizeof *d);
    char *copy = clnet__onnx_str(e, "%s", name);
    if (!t || !d || !copy || !grow(e, (void ***)&e->inits, e->n_inits, &e->cap_inits))
        return NULL;
    onnx__tensor_proto__init(t);
    if (rank > 0) /* a scalar's dims are NULL */
        memcpy(d, dims, (size_t)rank * sizeof *d);
    t->n_dims = (size_t)rank;
    t->dims = d;
    t->has_data_type = 1;
    t->data_type = type;
    t->name = copy;
    e->inits[e->n_inits++] = t;
    return t;
}

float *clnet__onnx_init_f32(clnet__onnx_export *e, const char *what, int rank, const int64_t *dims,
                            const char **name)
{
    char full[160];
    snprintf(full, sizeof full, "%s/%s", layer_name(e), what);
    size_t count = 1;
    for (int i = 0; i < rank; ++i)
        count *= (size_t)dims[i];
    Onnx__TensorProto *t = tensor(e, full, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, rank, dims);
    float *data = clnet__onnx_alloc(e, count * sizeof *data);
    *name = t ? t->name : NULL;
    if (!t || !data)
        return NULL;
    t->has_raw_data = 1;
    t->raw_data.len = count * sizeof *data;
    t->raw_data.data = (uint8_t *)data;
    return data;
}

/* raw_data is little-endian: on a big-endian host every float initializer is swapped once
 * its values are all in. */
static void raw_little_endian(clnet__onnx_export *e)
{
    const uint32_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    for (size_t i = 0; first != 1 && i < e->n_inits; ++i) {
        const ProtobufCBinaryData *r = &e->inits[i]->raw_data;
        for (size_t k = 0; e->inits[i]->has_raw_data && k + 4 <= r->len; k += 4) {
            unsigned char *b = r->data + k, b0 = b[0], b1 = b[1];
            b[0] = b[3];
            b[1] = b[2];
            b[2] = b1;
            b[3] = b0;
        }
    }
}

const char *clnet__onnx_init_i64(clnet__onnx_export *e, const char *what, int n, const int64_t *v)
{
    char name[160];
    snprintf(name, sizeof name, "%s/%s_%d", layer_name(e), what, e->counter++);
    const int64_t dims[1] = {n};
    Onnx__TensorProto *t = tensor(e, name, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, dims);
    int64_t *copy = clnet__onnx_alloc(e, (size_t)n * sizeof *copy);
    if (!t || !copy)
        return NULL;
    memcpy(copy, v, (size_t)n * sizeof *copy);
    t->n_int64_data = (size_t)n;
    t->int64_data = copy;
    return t->name;
}

const char *clnet__onnx_scalar(clnet__onnx_export *e, float v)
{
    for (size_t i = 0; i < e->n_inits; ++i) {
        const Onnx__TensorProto *t = e->inits[i];
        if (t->n_dims == 0 && t->n_float_data == 1 && memcmp(&t->float_data[0], &v, sizeof v) == 0)
            return t->name;
    }
    char name[48];
    snprintf(name, sizeof name, "clnet/const_%d", e->counter++);
    Onnx__TensorProto *t = tensor(e, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 0, NULL);
    float *f = clnet__onnx_alloc(e, sizeof *f);
    if (!t || !f)
        return NULL;
    *f = v;
    t->n_float_data = 1;
    t->float_data = f;
    return t->name;
}

const float *clnet__import_weight(clnet__onnx_export *e, int k, const char *name, size_t count)
{
    if (e->st != CLNET_OK)
        return NULL;
    clnet_weight_info info;
    clnet_tensor *t = NULL;
    const int i = e->m->weight_base[e->layer] + k;
    if (k >= e->g->layers[e->layer].n_w ||
        clnet_model_weight(e->m, i, &info, &t, NULL) != CLNET_OK || strcmp(info.name, name) != 0 ||
        clnet_tensor_count(t) != count) {
        clnet__onnx_fail(e, CLNET_ERR_INTERNAL, "layer '%s': weight %d is not its %s of %zu values",
                         layer_name(e), k, name, count);
        return NULL;
    }
    if (count > e->wbuf_cap) {
        float *p = realloc(e->wbuf, count * sizeof *p);
        if (!p) {
            oom(e);
            return NULL;
        }
        e->wbuf = p;
        e->wbuf_cap = count;
    }
    if (clnet_tensor_read(t, e->wbuf, count) != CLNET_OK) {
        clnet__onnx_fail(e, CLNET_ERR_OPENCL, "reading weight '%s/%s' from the device: %s",
                         layer_name(e), name, clnet_context_error(e->m->ctx));
        return NULL;
    }
    return e->wbuf;
}

const char *clnet__onnx_input(clnet__onnx_export *e, int l, int rank)
{
    clnet__onnx_value *v = &e->values[l];
    if (e->st != CLNET_OK || v->name[rank])
        return v->name[rank];
    const clnet_shape s = e->g->layers[l].out;
    const char *src = v->name[v->rank];
    e->convert = e->g->layers[l].name;
    if (rank == 2) {
        if (s.h != 1 || s.w != 1) {
            e->convert = NULL;
            clnet__onnx_fail(e, CLNET_ERR_INTERNAL, "layer '%s' is %dx%d per image, not 1x1",
                             e->g->layers[l].name, s.h, s.w);
            return NULL;
        }
        v->name[2] = clnet__onnx_node(e, "Flatten", 1, &src);
        clnet__onnx_attr_int(e, "axis", 1);
    } else {
        const int64_t shape[4] = {-1, s.c, 1, 1};
        const char *in[2] = {src, clnet__onnx_init_i64(e, "shape_nc11", 4, shape)};
        v->name[4] = clnet__onnx_node(e, "Reshape", 2, in);
    }
    e->conversion = clnet__onnx_last(e);
    e->convert = NULL;
    return v->name[rank];
}

/* ---- the graph's input and output ---- */

/* A float tensor value [N, d1, ...] (the batch symbolic) named name. */
static Onnx__ValueInfoProto *value_info(clnet__onnx_export *e, const char *name, int rank,
                                        const int *dims)
{
    Onnx__ValueInfoProto *v = clnet__onnx_alloc(e, sizeof *v);
    Onnx__TypeProto *type = clnet__onnx_alloc(e, sizeof *type);
    Onnx__TypeProto__Tensor *tt = clnet__onnx_alloc(e, sizeof *tt);
    Onnx__TensorShapeProto *shape = clnet__onnx_alloc(e, sizeof *shape);
    Onnx__TensorShapeProto__Dimension **d = clnet__onnx_alloc(e, (size_t)rank * sizeof *d);
    char *copy = clnet__onnx_str(e, "%s", name), *batch = clnet__onnx_str(e, "N");
    if (!v || !type || !tt || !shape || !d || !copy || !batch)
        return NULL;
    for (int i = 0; i < rank; ++i) {
        if (!(d[i] = clnet__onnx_alloc(e, sizeof *d[i])))
            return NULL;
        onnx__tensor_shape_proto__dimension__init(d[i]);
        if (i == 0) {
            d[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d[i]->dim_param = batch;
        } else {
            d[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d[i]->dim_value = dims[i - 1];
        }
    }
    onnx__tensor_shape_proto__init(shape);
    shape->n_dim = (size_t)rank;
    shape->dim = d;
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tt->shape = shape;
    onnx__type_proto__init(type);
    type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    type->tensor_type = tt;
    onnx__value_info_proto__init(v);
    v->name = copy;
    v->type = type;
    return v;
}

/* The input layer: [N, c, h, w], or [N, h, w, c] and a Transpose to NCHW. */
static Onnx__ValueInfoProto *graph_input(clnet__onnx_export *e, int nhwc)
{
    const int l = e->m->input_layer;
    const clnet__layer *in = &e->g->layers[l];
    const int nchw_dims[3] = {in->out.c, in->out.h, in->out.w};
    const int nhwc_dims[3] = {in->out.h, in->out.w, in->out.c};
    Onnx__ValueInfoProto *v = value_info(e, in->name, 4, nhwc ? nhwc_dims : nchw_dims);
    e->values[l].rank = 4;
    e->values[l].name[4] = v ? v->name : NULL;
    if (nhwc && v) {
        e->layer = l;
        e->named = 0;
        const char *src = v->name;
        e->values[l].name[4] = clnet__onnx_node(e, "Transpose", 1, &src);
        clnet__onnx_attr_ints(e, "perm", 4, (const int64_t[]){0, 3, 1, 2});
    }
    return v;
}

/* The last layer: [N, classes] when it is 1x1 per image (a Flatten when its producer gave
 * [N, C, 1, 1]), else [N, c, h, w] (with nhwc: transposed back to [N, h, w, c]). */
static Onnx__ValueInfoProto *graph_output(clnet__onnx_export *e, int nhwc)
{
    const int l = e->g->n - 1;
    const clnet__layer *last = &e->g->layers[l];
    e->layer = l;
    e->named = 1; /* the layer's node has its name already */
    if (last->out.h == 1 && last->out.w == 1) {
        const char *name = clnet__onnx_input(e, l, 2);
        return value_info(e, name ? name : "", 2, (const int[]){last->out.c});
    }
    const char *name = clnet__onnx_input(e, l, 4);
    if (!nhwc)
        return value_info(e, name ? name : "", 4,
                          (const int[]){last->out.c, last->out.h, last->out.w});
    name = clnet__onnx_node(e, "Transpose", 1, &name);
    clnet__onnx_attr_ints(e, "perm", 4, (const int64_t[]){0, 2, 3, 1});
    return value_info(e, name ? name : "", 4, (const int[]){last->out.h, last->out.w, last->out.c});
}

/* Every layer after the input, in graph order (a topological one). The node that gives a
 * layer's result is renamed after the layer, so the file reads like the model's summary. */
static void layers(clnet__onnx_export *e)
{
    for (int l = 0; l < e->g->n && e->st == CLNET_OK; ++l) {
        if (l == e->m->input_layer)
            continue;
        e->layer = l;
        e->named = 0;
        const size_t first = e->n_nodes;
        clnet__onnx_value v = {{NULL}, 0};
        if (clnet__onnx_layer(e, &v) != CLNET_OK)
            break;
        Onnx__NodeProto *last = e->n_nodes > first ? e->nodes[e->n_nodes - 1] : NULL;
        /* A conversion's output is its source's too (flatten of [N, C, 1, 1]): kept. */
        if (last && last != e->conversion && last->output[0] == v.name[v.rank])
            v.name[v.rank] = last->output[0] = clnet__onnx_str(e, "%s", e->g->layers[l].name);
        e->values[l] = v;
    }
}

/* ---- metadata and the file ---- */

static Onnx__StringStringEntryProto *entry(clnet__onnx_export *e, const char *key,
                                           const char *value)
{
    Onnx__StringStringEntryProto *p = clnet__onnx_alloc(e, sizeof *p);
    char *k = clnet__onnx_str(e, "%s", key), *v = clnet__onnx_str(e, "%s", value ? value : "");
    if (!p || !k || !v)
        return NULL;
    onnx__string_string_entry_proto__init(p);
    p->key = k;
    p->value = v;
    return p;
}

/* "clnet.labels" (a JSON array, when the model has labels), "clnet.mean", "clnet.std" (one
 * number per input channel): what clnet's own model files carry, for tools that read them
 * (onnx.helper ignores unknown keys). */
static void metadata(clnet__onnx_export *e, Onnx__ModelProto *model)
{
    const int c = e->g->layers[e->m->input_layer].out.c;
    float *mean = clnet__onnx_alloc(e, (size_t)c * sizeof *mean);
    float *std = clnet__onnx_alloc(e, (size_t)c * sizeof *std);
    clnet__text means = {0}, stds = {0};
    if (!mean || !std)
        return;
    clnet_model_normalization(e->m, mean, std);
    for (int k = 0; k < c; ++k) {
        clnet__text_put(&means, "%s%.9g", k ? "," : "", (double)mean[k]);
        clnet__text_put(&stds, "%s%.9g", k ? "," : "", (double)std[k]);
    }
    if (means.failed || stds.failed)
        oom(e);
    char *labels = NULL;
    if (e->m->n_labels) {
        cJSON *array = cJSON_CreateArray();
        for (int i = 0; array && i < e->m->n_labels; ++i)
            if (!cJSON_AddItemToArray(array, cJSON_CreateString(e->m->labels[i]))) {
                cJSON_Delete(array);
                array = NULL;
            }
        labels = array ? cJSON_PrintUnformatted(array) : NULL;
        cJSON_Delete(array);
        if (!labels)
            oom(e);
    }
    Onnx__StringStringEntryProto **p = clnet__onnx_alloc(e, 3 * sizeof *p);
    size_t n = 0;
    if (p && labels)
        p[n++] = entry(e, "clnet.labels", labels);
    if (p) {
        p[n++] = entry(e, "clnet.mean", means.buf);
        p[n++] = entry(e, "clnet.std", stds.buf);
    }
    cJSON_free(labels);
    free(means.buf);
    free(stds.buf);
    if (e->st == CLNET_OK) {
        model->n_metadata_props = n;
        model->metadata_props = p;
    }
}

/* protobuf-c's output sink, appending to a file. */
typedef struct file_sink {
    ProtobufCBuffer base;
    FILE *f;
    int failed;
} file_sink;

static void sink_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
    file_sink *s = (file_sink *)b;
    if (!s->failed && fwrite(data, 1, len, s->f) != len)
        s->failed = 1;
}

/* model into the file tmp. */
static void write_tmp(clnet__onnx_export *e, const Onnx__ModelProto *model, const char *tmp)
{
    const size_t size = onnx__model_proto__get_packed_size(model);
    if (size > MAX_MESSAGE) {
        clnet__onnx_fail(e, CLNET_ERR_TOO_LARGE,
                         "the model takes %.2f GB in ONNX, over protobuf's 2 GB limit for one "
                         "file",
                         (double)size / 1e9);
        return;
    }
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        clnet__onnx_fail(e, CLNET_ERR_IO, "cannot create the temporary file '%s': %s", tmp,
                         strerror(errno));
        return;
    }
    file_sink sink = {{sink_append}, f, 0};
    onnx__model_proto__pack_to_buffer(model, &sink.base);
    const int failed = sink.failed || fflush(f) != 0;
    const int closed = fclose(f) == 0;
    if (failed || !closed)
        clnet__onnx_fail(e, CLNET_ERR_IO, "writing '%s': %s", tmp, strerror(errno));
}

static void rename_over(clnet__onnx_export *e, const char *tmp, const char *path)
{
    if (e->st == CLNET_OK && rename(tmp, path) != 0)
        clnet__onnx_fail(e, CLNET_ERR_IO, "cannot rename '%s' to '%s': %s", tmp, path,
                         strerror(errno));
}

/* The sum of the model's weights in bytes: refused before anything is read when it cannot
 * fit one protobuf message. */
static void check_size(clnet__onnx_export *e)
{
    uint64_t bytes = 0;
    for (int i = 0; i < e->m->n_weights; ++i)
        bytes += clnet__shape_count(e->m->info[i].shape) * sizeof(float);
    /* Past 1 GB the weights leave the protobuf message for a file of their own. */
    if (bytes > MAX_MESSAGE / 2)
        e->external = 1;
}

/* The tail of path after its last '/'. */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Moves every float initializer's bytes into data_path's temporary file tmp, leaving in
 * each its location (the data file's name, beside the model), offset and length, as
 * ONNX's external data. Offsets are multiples of 64. */
static void write_external(clnet__onnx_export *e, const char *path, const char *tmp)
{
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        clnet__onnx_fail(e, CLNET_ERR_IO, "cannot create the temporary file '%s': %s", tmp,
                         strerror(errno));
        return;
    }
    static const uint8_t zeros[64];
    uint64_t offset = 0;
    const char *location = clnet__onnx_str(e, "%s.data", base_name(path));
    for (size_t i = 0; i < e->n_inits && e->st == CLNET_OK; ++i) {
        Onnx__TensorProto *t = e->inits[i];
        if (!t->has_raw_data || t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
            continue;
        const size_t pad = (size_t)((64 - offset % 64) % 64);
        Onnx__StringStringEntryProto **kv = clnet__onnx_alloc(e, 3 * sizeof *kv);
        for (int k = 0; kv && k < 3; ++k)
            if ((kv[k] = clnet__onnx_alloc(e, sizeof **kv)))
                onnx__string_string_entry_proto__init(kv[k]);
        if (!kv || !kv[0] || !kv[1] || !kv[2] || !location)
            break;
        if ((pad && fwrite(zeros, 1, pad, f) != pad) ||
            fwrite(t->raw_data.data, 1, t->raw_data.len, f) != t->raw_data.len) {
            clnet__onnx_fail(e, CLNET_ERR_IO, "writing '%s': %s", tmp, strerror(errno));
            break;
        }
        offset += pad;
        kv[0]->key = clnet__onnx_str(e, "location");
        kv[0]->value = (char *)location;
        kv[1]->key = clnet__onnx_str(e, "offset");
        kv[1]->value = clnet__onnx_str(e, "%llu", (unsigned long long)offset);
        kv[2]->key = clnet__onnx_str(e, "length");
        kv[2]->value = clnet__onnx_str(e, "%zu", t->raw_data.len);
        offset += t->raw_data.len;
        t->n_external_data = 3;
        t->external_data = kv;
        t->has_data_location = 1;
        t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
        t->has_raw_data = 0;
        t->raw_data.len = 0;
    }
    if (fclose(f) != 0 && e->st == CLNET_OK)
        clnet__onnx_fail(e, CLNET_ERR_IO, "writing '%s': %s", tmp, strerror(errno));
}

static void build(clnet__onnx_export *e, const char *path, int nhwc)
{
    check_size(e);
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    Onnx__OperatorSetIdProto opset;
    onnx__model_proto__init(&model);
    onnx__graph_proto__init(&graph);
    onnx__operator_set_id_proto__init(&opset);
    Onnx__ValueInfoProto *input = e->st == CLNET_OK ? graph_input(e, nhwc) : NULL;
    layers(e);
    Onnx__ValueInfoProto *output = e->st == CLNET_OK ? graph_output(e, nhwc) : NULL;
    if (e->st == CLNET_OK && e->values[e->g->n - 1].name[4] == e->values[e->m->input_layer].name[4])
        clnet__onnx_fail(e, CLNET_ERR_UNSUPPORTED,
                         "the model's output is its input (no layer computes anything)");
    opset.domain = clnet__onnx_str(e, "%s", "");
    opset.has_version = 1;
    opset.version = CLNET_ONNX_EXPORT_OPSET;
    Onnx__OperatorSetIdProto *opsets[1] = {&opset};
    graph.name = clnet__onnx_str(e, "clnet");
    graph.n_node = e->n_nodes;
    graph.node = e->nodes;
    graph.n_initializer = e->n_inits;
    graph.initializer = e->inits;
    graph.n_input = 1;
    graph.input = &input;
    graph.n_output = 1;
    graph.output = &output;
    model.has_ir_version = 1;
    model.ir_version = CLNET_ONNX_EXPORT_IR;
    model.n_opset_import = 1;
    model.opset_import = opsets;
    model.producer_name = clnet__onnx_str(e, "clnet");
    model.producer_version = clnet__onnx_str(e, "%s", clnet_version());
    model.graph = &graph;
    metadata(e, &model);
    raw_little_endian(e);
    if (e->st != CLNET_OK)
        return;
    /* Written to temporary files renamed over path (and "<path>.data") once all is
     * written: a failure leaves what was there as it was. */
    char *tmp = clnet__onnx_str(e, "%s.tmp.%ld", path, (long)getpid());
    char *data_path = clnet__onnx_str(e, "%s.data", path);
    char *data_tmp = clnet__onnx_str(e, "%s.data.tmp.%ld", path, (long)getpid());
    if (!tmp || !data_path || !data_tmp)
        return;
    if (e->external)
        write_external(e, path, data_tmp);
    if (e->st == CLNET_OK)
        write_tmp(e, &model, tmp);
    if (e->external)
        rename_over(e, data_tmp, data_path);
    rename_over(e, tmp, path);
    if (e->st != CLNET_OK) {
        remove(tmp);
        remove(data_tmp);
    }
}

clnet_status clnet_model_export_onnx(clnet_model *m, const char *path,
                                     const clnet_onnx_export_options *opt)
{
    if (!m || !path)
        return m ? clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG, "clnet_model_export_onnx: no path")
                 : CLNET_ERR_INVALID_ARG;
    clnet__onnx_export e = {0};
    e.m = m;
    e.g = m->graph;
    e.values = calloc((size_t)e.g->n, sizeof *e.values);
    if (!e.values)
        oom(&e);
    else {
        e.external = opt && opt->external_data;
        build(&e, path, opt ? opt->nhwc : 0);
    }
    for (size_t i = 0; i < e.n_allocs; ++i)
        free(e.allocs[i]);
    free(e.allocs);
    free(e.nodes);
    free(e.inits);
    free(e.values);
    free(e.wbuf);
    return e.st == CLNET_OK ? CLNET_OK
                            : clnet__fail(m->ctx, e.st, "exporting ONNX '%s': %s", path, e.err);
}
