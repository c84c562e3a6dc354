/* keras_import.c - a Keras model config onto the graph builder: Sequential and Functional
 * models, nested ones flattened into one graph, inbound nodes as Keras 2 (and TF.js)
 * write them ([["conv1", 0, 0, {}]]) and as Keras 3 does ({"args": [{"class_name":
 * "__keras_tensor__", "config": {"keras_history": ["conv1", 0, 0]}}]}). Each layer is
 * built after its inputs, from the model's output back, so layers nothing reads are left
 * out and the output is the graph's last layer. keras_layers.c translates the layers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/keras_import.h"
#include "io/keras_v3.h"
#include "io/safetensors.h"

/* Error lines listed before "... and N more". */
#define MAX_LISTED 40

/* A (nested) model being imported. */
typedef struct kx_model {
    const cJSON *layers; /* its config's "layers" array */
    int n;
    int functional;
    clnet__keras_layer_ref ref; /* names/classes of the enclosing models: depth levels */
    int *out;                   /* per layer: the tensor its (only) call made, -2 unbuilt,
                                 * -3 being built (a cycle) */
    const int *inputs;          /* the tensors given to its input layers (nested models) */
    int n_inputs;
    int used_inputs;
    struct kx_model *parent;
} kx_model;

static int import_model(kx_ctx *x, const cJSON *model, kx_model *parent, int position,
                        const int *inputs, int n_inputs);

const char *kx_str(const cJSON *cfg, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int kx_pair(const cJSON *cfg, const char *key, int v[2])
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(cfg, key);
    if (cJSON_IsNumber(j)) {
        v[0] = v[1] = j->valueint;
        return j->valuedouble == (double)j->valueint ? 0 : -1;
    }
    if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) != 2)
        return -1;
    for (int i = 0; i < 2; ++i) {
        const cJSON *e = cJSON_GetArrayItem(j, i);
        if (!cJSON_IsNumber(e) || e->valuedouble != (double)e->valueint)
            return -1;
        v[i] = e->valueint;
    }
    return 0;
}

int kx_is_model(const char *class_name)
{
    return !strcmp(class_name, "Functional") || !strcmp(class_name, "Model") ||
           !strcmp(class_name, "Sequential");
}

static void vbad(kx_ctx *x, const char *name, const char *class_name, const char *fmt, va_list ap)
{
    if (x->n_bad++ >= MAX_LISTED)
        return;
    char why[512];
    vsnprintf(why, sizeof why, fmt, ap);
    clnet__text_put(&x->bad, "\n  layer '%.100s' (%.60s): %s", name, class_name, why);
}

int kx_bad(kx_layer *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vbad(l->x, l->name, l->class_name, fmt, ap);
    va_end(ap);
    return -1;
}

static int model_bad(kx_ctx *x, const char *name, const char *class_name, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static int model_bad(kx_ctx *x, const char *name, const char *class_name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vbad(x, name, class_name, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *layer_name(const cJSON *layer)
{
    const char *n = kx_str(layer, "name");
    if (!n)
        n = kx_str(cJSON_GetObjectItemCaseSensitive(layer, "config"), "name");
    return n ? n : "";
}

static const char *class_of(const cJSON *layer)
{
    const char *c = kx_str(layer, "class_name");
    return c ? c : "";
}

static int find_layer(const kx_model *m, const char *name)
{
    for (int i = 0; i < m->n; ++i)
        if (!strcmp(layer_name(cJSON_GetArrayItem(m->layers, i)), name))
            return i;
    return -1;
}

/* Keras 3's path of layer i's variables: each level's class in snake case, _N for the
 * N-th earlier layer of the same class in its list (saving_lib). */
static void v3_component(const kx_model *m, int i, char *out, size_t len)
{
    const char *c = class_of(cJSON_GetArrayItem(m->layers, i));
    char snake[128], other[128];
    clnet__keras_snake_case(c, snake, sizeof snake);
    /* A Sequential's list (its layers property) has no InputLayer; a Functional's has. */
    int same = 0;
    for (int j = 0; j < i; ++j) {
        const char *cj = class_of(cJSON_GetArrayItem(m->layers, j));
        clnet__keras_snake_case(cj, other, sizeof other);
        same += !strcmp(other, snake) && (m->functional || strcmp(cj, "InputLayer"));
    }
    if (same)
        snprintf(out, len, "%s_%d", snake, same);
    else
        snprintf(out, len, "%s", snake);
}

static void make_ref(const kx_model *m, int i, clnet__keras_layer_ref *ref)
{
    *ref = m->ref;
    const cJSON *layer = cJSON_GetArrayItem(m->layers, i);
    ref->names[ref->depth] = layer_name(layer);
    ref->classes[ref->depth] = class_of(layer);
    ++ref->depth;
    char part[160];
    v3_component(m, i, part, sizeof part);
    const size_t at = strlen(ref->v3_path);
    snprintf(ref->v3_path + at, sizeof ref->v3_path - at, "%slayers/%s", at ? "/" : "", part);
}

/* A clnet name for a Keras layer: its own, or prefixed by its model's when taken. */
/* name as clnet takes layer names: the characters its text spec cannot hold (',', '[',
 * ']', '=', '#', control characters and white space) made '_'. */
static void clean(const char *name, char out[64])
{
    snprintf(out, 64, "%.63s", name[0] ? name : "layer");
    for (char *p = out; *p; ++p)
        if (strchr(",[]=#", *p) || (unsigned char)*p <= ' ' || (unsigned char)*p == 0x7f)
            *p = '_';
}

static void unique_name(kx_ctx *x, const kx_model *m, const char *keras_name, char out[64])
{
    char name[64], model[64];
    clean(keras_name, name);
    clean(m->ref.depth ? m->ref.names[m->ref.depth - 1] : "", model);
    snprintf(out, 64, "%s", name);
    for (int k = 1; clnet_graph_find(x->g, out) != CLNET_LAYER_NONE; ++k) {
        if (k == 1 && m->ref.depth)
            snprintf(out, 64, "%.31s/%.31s", model, name);
        else
            snprintf(out, 64, "%.50s_%d", name, k % 100000);
    }
}

/* The shape in an InputLayer's config (batch_input_shape, Keras 3's batch_shape, or the
 * first layer's of an old Sequential): h, w, c with 0 for undefined; -1 when absent. */
static int input_shape(const cJSON *cfg, int hwc[3])
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(cfg, "batch_input_shape");
    if (!s)
        s = cJSON_GetObjectItemCaseSensitive(cfg, "batch_shape");
    if (!cJSON_IsArray(s))
        return -1;
    if (cJSON_GetArraySize(s) != 4)
        return -2;
    for (int d = 0; d < 3; ++d) {
        const cJSON *e = cJSON_GetArrayItem(s, d + 1);
        hwc[d] = cJSON_IsNumber(e) && e->valueint > 0 ? e->valueint : 0;
        if (!cJSON_IsNull(e) && !(cJSON_IsNumber(e) && e->valueint > 0))
            return -2;
    }
    return 0;
}

/* The graph's input layer, made from an InputLayer (or first layer) config. */
static int make_input(kx_ctx *x, const char *name, const char *class_name, const cJSON *cfg)
{
    if (x->input >= 0)
        return model_bad(x, name, class_name, "a second input (clnet models take one image)");
    int hwc[3];
    const int got = input_shape(cfg, hwc);
    if (got == -1)
        return model_bad(x, name, class_name,
                         "no batch_input_shape (or batch_shape): the input's size is unknown");
    if (got == -2)
        return model_bad(x, name, class_name,
                         "batch_input_shape is not [batch, height, width, channels] of "
                         "positive sizes or null");
    const clnet_onnx_options *o = x->opt;
    const int h = o && o->h ? o->h : hwc[0], w = o && o->w ? o->w : hwc[1],
              c = o && o->c ? o->c : hwc[2];
    if (!h || !w || !c)
        return model_bad(x, name, class_name,
                         "the input's %s is undefined (null) in the model: give the input "
                         "size (--input HxWxC)",
                         !h   ? "height"
                         : !w ? "width"
                              : "channel count");
    char n[64];
    clean(name[0] ? name : "input_1", n);
    x->input = clnet_graph_input(x->g, n, h, w, c);
    if (x->input == CLNET_LAYER_NONE) {
        x->input = -1;
        x->st =
            clnet__st_fail(x->err, x->len, clnet_graph_status(x->g), "%s", clnet_graph_error(x->g));
        return -1;
    }
    return x->input;
}

/* The tensor a layer reads at an InputLayer of m: the graph's input (outermost model) or
 * what the enclosing model gave. */
static int model_input(kx_ctx *x, kx_model *m, const cJSON *layer)
{
    if (m->parent)
        return m->used_inputs < m->n_inputs ? m->inputs[m->used_inputs++]
                                            : model_bad(x, layer_name(layer), "InputLayer",
                                                        "more inputs than the model is given");
    return make_input(x, layer_name(layer), "InputLayer",
                      cJSON_GetObjectItemCaseSensitive(layer, "config"));
}

/* The (layer, node) references of one inbound node, Keras 2's or Keras 3's, in order,
 * into names/nodes (at most max); their count, or -1 when malformed. */
static int node_refs(const cJSON *node, const char **names, int *nodes, int max);

static int tensor_refs(const cJSON *arg, const char **names, int *nodes, int max, int n)
{
    if (n < 0)
        return n;
    if (cJSON_IsArray(arg)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, arg) n = tensor_refs(e, names, nodes, max, n);
        return n;
    }
    const char *c = kx_str(arg, "class_name");
    if (!c || strcmp(c, "__keras_tensor__"))
        return n; /* a constant argument (Keras 3 passes some in args) */
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(arg, "config"), "keras_history");
    const cJSON *hn = cJSON_GetArrayItem(h, 0), *hi = cJSON_GetArrayItem(h, 1);
    if (!cJSON_IsString(hn) || !cJSON_IsNumber(hi) || n >= max)
        return -1;
    names[n] = hn->valuestring;
    nodes[n] = hi->valueint;
    return n + 1;
}

static int node_refs(const cJSON *node, const char **names, int *nodes, int max)
{
    if (cJSON_IsObject(node)) /* Keras 3 */
        return tensor_refs(cJSON_GetObjectItemCaseSensitive(node, "args"), names, nodes, max, 0);
    if (!cJSON_IsArray(node))
        return -1;
    /* Keras 2: [[name, node, tensor, kwargs], ...]; a lone [name, node, tensor] too. */
    if (cJSON_IsString(cJSON_GetArrayItem(node, 0))) {
        const cJSON *i = cJSON_GetArrayItem(node, 1);
        if (!cJSON_IsNumber(i) || max < 1)
            return -1;
        names[0] = cJSON_GetArrayItem(node, 0)->valuestring;
        nodes[0] = i->valueint;
        return 1;
    }
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, node)
    {
        const cJSON *nm = cJSON_GetArrayItem(e, 0), *i = cJSON_GetArrayItem(e, 1);
        if (!cJSON_IsString(nm) || !cJSON_IsNumber(i) || n >= max)
            return -1;
        names[n] = nm->valuestring;
        nodes[n++] = i->valueint;
    }
    return n;
}

static int build(kx_ctx *x, kx_model *m, int i);

/* Translates layer i of m (its inputs built) with its inputs in[]. */
static int translate(kx_ctx *x, kx_model *m, int i, const int *in, int n_in)
{
    const cJSON *layer = cJSON_GetArrayItem(m->layers, i);
    const char *class_name = class_of(layer);
    if (kx_is_model(class_name)) {
        if (m->ref.depth + 1 >= CLNET_KERAS_MAX_DEPTH)
            return model_bad(x, layer_name(layer), class_name, "models nested over %d deep",
                             CLNET_KERAS_MAX_DEPTH);
        return import_model(x, layer, m, i, in, n_in);
    }
    clnet__keras_layer_ref ref;
    make_ref(m, i, &ref);
    char name[64];
    unique_name(x, m, layer_name(layer), name);
    kx_layer l = {
        x, cJSON_GetObjectItemCaseSensitive(layer, "config"), class_name, name, &ref, in, n_in};
    if (!cJSON_IsObject(l.cfg))
        return kx_bad(&l, "no config");
    return kx_translate(&l);
}

/* Lists what is refused in layer i of m, whose inputs failed. */
static void check(kx_ctx *x, kx_model *m, int i)
{
    const cJSON *layer = cJSON_GetArrayItem(m->layers, i);
    if (kx_is_model(class_of(layer)))
        return;
    clnet__keras_layer_ref ref;
    make_ref(m, i, &ref);
    char name[64];
    clean(layer_name(layer), name);
    kx_layer l = {
        x, cJSON_GetObjectItemCaseSensitive(layer, "config"), class_of(layer), name, &ref, NULL, 0};
    kx_check(&l);
}

/* Builds layer i of a functional model m after the layers it reads. */
static int build(kx_ctx *x, kx_model *m, int i)
{
    if (m->out[i] >= -1 || x->st != CLNET_OK)
        return m->out[i] >= -1 ? m->out[i] : -1;
    const cJSON *layer = cJSON_GetArrayItem(m->layers, i);
    if (m->out[i] == -3)
        return model_bad(x, layer_name(layer), class_of(layer), "the model has a cycle through it");
    m->out[i] = -3;
    int t;
    if (!strcmp(class_of(layer), "InputLayer")) {
        t = model_input(x, m, layer);
    } else {
        const cJSON *inbound = cJSON_GetObjectItemCaseSensitive(layer, "inbound_nodes");
        const char *names[8];
        int nodes[8], in[8], n = -1;
        if (cJSON_GetArraySize(inbound) > 1)
            t = model_bad(x, layer_name(layer), class_of(layer),
                          "called %d times in the model (clnet layers do not share weights)",
                          cJSON_GetArraySize(inbound));
        else if ((n = node_refs(cJSON_GetArrayItem(inbound, 0), names, nodes, 8)) < 1)
            t = model_bad(x, layer_name(layer), class_of(layer),
                          n < 0 ? "inbound_nodes is malformed (or over 8 inputs)"
                                : "no inbound node: nothing calls it");
        else
            t = 0;
        /* Every input is built even after one failed, and the layer still checked, so
         * one error lists every layer clnet cannot import. */
        int failed = 0, missing = 0;
        for (int k = 0; t == 0 && k < n; ++k) {
            const int j = find_layer(m, names[k]);
            if (j < 0)
                missing = 1;
            in[k] = j < 0 ? model_bad(x, layer_name(layer), class_of(layer),
                                      "reads '%.100s', which is not a layer of its model", names[k])
                          : build(x, m, j);
            failed |= in[k] < 0;
        }
        if (t == 0 && failed && !missing)
            check(x, m, i);
        t = t < 0 || failed ? -1 : translate(x, m, i, in, n);
    }
    m->out[i] = t < 0 ? -1 : t;
    return t;
}

/* The one output of a functional model config: its layer index, or -1 (listed). */
static int output_layer(kx_ctx *x, const kx_model *m, const cJSON *cfg, const char *name,
                        const char *class_name)
{
    const cJSON *outs = cJSON_GetObjectItemCaseSensitive(cfg, "output_layers");
    /* [["predictions", 0, 0]], or Keras 3's ["predictions", 0, 0] for one output. */
    const cJSON *one =
        cJSON_IsString(cJSON_GetArrayItem(outs, 0)) ? outs : cJSON_GetArrayItem(outs, 0);
    if (!cJSON_IsArray(outs))
        return model_bad(x, name, class_name, "no output_layers");
    if (one != outs && cJSON_GetArraySize(outs) != 1)
        return model_bad(x, name, class_name, "%d outputs (clnet models have one)",
                         cJSON_GetArraySize(outs));
    const cJSON *on = cJSON_GetArrayItem(one, 0);
    const int j = cJSON_IsString(on) ? find_layer(m, on->valuestring) : -1;
    if (j < 0)
        return model_bad(x, name, class_name, "output_layers names no layer of the model");
    return j;
}

static int import_model(kx_ctx *x, const cJSON *model, kx_model *parent, int position,
                        const int *inputs, int n_inputs)
{
    const char *class_name = class_of(model), *name = layer_name(model);
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(model, "config");
    kx_model m = {0};
    m.layers = cJSON_GetObjectItemCaseSensitive(cfg, "layers");
    m.n = cJSON_GetArraySize(m.layers);
    m.functional = strcmp(class_name, "Sequential") != 0;
    m.inputs = inputs;
    m.n_inputs = n_inputs;
    m.parent = parent;
    if (parent)
        make_ref(parent, position, &m.ref);
    if (!cJSON_IsArray(m.layers) || m.n == 0)
        return model_bad(x, name, class_name, "no layers");
    if (!(m.out = malloc((size_t)m.n * sizeof *m.out))) {
        x->st = clnet__st_fail(x->err, x->len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
        return -1;
    }
    for (int i = 0; i < m.n; ++i)
        m.out[i] = -2;
    int t;
    if (m.functional) {
        const int j = output_layer(x, &m, cfg, name, class_name);
        t = j < 0 ? -1 : build(x, &m, j);
    } else {
        /* Sequential: each layer reads the one above; the first reads the model's input,
         * from an InputLayer or (older files) the first layer's batch_input_shape. */
        t = -1;
        int i = 0;
        const cJSON *first = cJSON_GetArrayItem(m.layers, 0);
        if (!strcmp(class_of(first), "InputLayer")) {
            t = model_input(x, &m, first);
            m.out[0] = t;
            i = 1;
        } else if (parent) {
            t = n_inputs == 1 ? inputs[0] : model_bad(x, name, class_name, "not given one input");
        } else {
            t = make_input(x, layer_name(first), class_of(first),
                           cJSON_GetObjectItemCaseSensitive(first, "config"));
        }
        for (; i < m.n && x->st == CLNET_OK; ++i) {
            if (t >= 0)
                t = translate(x, &m, i, &t, 1);
            else
                check(x, &m, i); /* listed too, so one error names every layer */
        }
    }
    free(m.out);
    return t;
}

/* The graph's input normalization of the folded Rescaling / Normalization layers: the
 * model reads pixels p in [0, 1] as (p - mean) / std = 255 p a + b. */
static void set_norm(kx_ctx *x, clnet__import *out)
{
    const int c = clnet_graph_layer_shape(x->g, x->input).c;
    for (int k = 0; k < c && k < 4; ++k) {
        out->std[k] = (float)(1.0 / (255.0 * x->a[k]));
        out->mean[k] = (float)(-x->b[k] / (255.0 * x->a[k]));
    }
    out->has_norm = 1;
}

clnet_status clnet__keras_import_config(const cJSON *model, const clnet__keras_source *src,
                                        const clnet_onnx_options *opt, clnet__import *out,
                                        char *err, size_t len)
{
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(model) || !kx_is_model(class_of(model)))
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "the model config is no Functional, Model or Sequential model "
                              "(class_name '%.60s')",
                              class_of(model));
    kx_ctx x = {.src = src, .opt = opt, .input = -1, .err = err, .len = len};
    /* tf.keras 2.12-2.15 wrote .keras files with "module" keys too: the version decides
     * when there is one (the .keras reader copies metadata.json's). */
    const char *version = kx_str(model, "keras_version");
    x.keras3 = version ? version[0] >= '3' : cJSON_HasObjectItem(model, "module");
    for (int k = 0; k < 4; ++k)
        x.a[k] = 1.0;
    clnet_status st = clnet_graph_create(&x.g);
    if (st != CLNET_OK)
        return clnet__st_fail(err, len, st, "out of host memory");
    const int t = import_model(&x, model, NULL, 0, NULL, 0);
    if (x.st == CLNET_OK && !x.n_bad && x.has_norm && x.raw_read)
        model_bad(&x, "", "",
                  "the model reads its input both before and after its Rescaling "
                  "or Normalization");
    if (x.st == CLNET_OK && !x.n_bad && (t & ~KX_PREPROCESSED) == x.input)
        model_bad(&x, layer_name(model), class_of(model),
                  "its output is its input (a clnet model needs a layer after its input)");
    if (x.st == CLNET_OK && x.bad.failed)
        x.st = clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    if (x.st == CLNET_OK && x.n_bad)
        x.st =
            clnet__st_fail(err, len, CLNET_ERR_UNSUPPORTED, "%d layer%s clnet cannot import:%s%s",
                           x.n_bad, x.n_bad == 1 ? "" : "s", x.bad.buf ? x.bad.buf : "",
                           x.n_bad > MAX_LISTED ? "\n  ..." : "");
    if (x.st == CLNET_OK && t < 0)
        x.st = clnet__st_fail(err, len, CLNET_ERR_INTERNAL, "the import made no output");
    free(x.bad.buf);
    out->g = x.g;
    out->w = x.w;
    out->n_w = x.n_w;
    if (x.st != CLNET_OK) {
        clnet__import_free(out);
        return x.st;
    }
    if (x.has_norm)
        set_norm(&x, out);
    snprintf(out->producer, sizeof out->producer, "keras %.40s", version ? version : "");
    return CLNET_OK;
}
