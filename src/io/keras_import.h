/* keras_import.h - what the Keras importer's two files share: keras_import.c walks the
 * model config (Sequential, Functional, nested ones, both serializations of inbound
 * nodes) and keras_layers.c translates one layer. Not part of the library's interface:
 * src/io/keras.h is. */
#ifndef CLNET_IO_KERAS_IMPORT_H
#define CLNET_IO_KERAS_IMPORT_H

#include "graph/graph.h"
#include "io/keras.h"

/* A tensor handle for the graph's input after Rescaling / Normalization layers that
 * became the model's normalization: the input layer with this bit. */
#define KX_PREPROCESSED (1 << 30)

/* The import's state. */
typedef struct kx_ctx {
    const clnet__keras_source *src; /* NULL: the graph alone */
    const clnet_onnx_options *opt;
    clnet_graph *g;
    clnet__import_weight *w;
    int n_w, cap_w;
    int keras3;   /* the config is Keras 3's (hard_sigmoid differs) */
    int input;    /* the graph's input layer, or -1 */
    int raw_read; /* a layer other than preprocessing read the input as it came */
    int has_norm; /* Rescaling / Normalization folded: x = pixel255 * a + b */
    double a[4], b[4];
    clnet__text bad; /* the unsupported layers, one a line */
    int n_bad;
    clnet_status st; /* a failure other than an unsupported layer */
    char *err;
    size_t len;
} kx_ctx;

/* One call of one layer, to translate. */
typedef struct kx_layer {
    kx_ctx *x;
    const cJSON *cfg;       /* its "config" */
    const char *class_name; /* "Conv2D" */
    const char *name;       /* the clnet layer's name (Keras's, made unique) */
    const clnet__keras_layer_ref *ref;
    const int *in; /* input tensors: clnet layers (the input's maybe KX_PREPROCESSED) */
    int n_in;
} kx_layer;

/* Translates l: returns its output tensor, or -1 when it is unsupported (listed) or failed
 * (x->st). */
int kx_translate(kx_layer *l);
/* Lists what can be refused in l without its inputs (an unknown class, a config key of a
 * value clnet lacks): for layers after one that failed, so one error lists them all. */
void kx_check(kx_layer *l);
/* Is class_name a model (Functional, Model, Sequential) whose layers are imported in its
 * place. */
int kx_is_model(const char *class_name);

/* Lists l as unsupported, with why; returns -1. */
int kx_bad(kx_layer *l, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The integer (JSON number) or [h, w] pair at key of cfg into v[2] (a number is both). 0,
 * or -1 when absent or malformed. */
int kx_pair(const cJSON *cfg, const char *key, int v[2]);
/* The string at key of cfg, or NULL. */
const char *kx_str(const cJSON *cfg, const char *key);

#endif
