/* graph.h - the graph of layers behind clnet_graph (graph.c builds it, summary.c and
 * dot.c print it, with text.c's helpers). Layers are stored in the order they were
 * added, which is a topological order: a layer's inputs always come before it. */
#ifndef CLNET_GRAPH_GRAPH_H
#define CLNET_GRAPH_GRAPH_H

#include "ops/op.h"

typedef struct clnet__layer {
    char name[64];
    const clnet__op_desc *op; /* NULL: an input */
    void *params;             /* op's params struct, owned */
    char *params_text;        /* the spec lines it was parsed from, owned */
    int n_in;
    int in[CLNET_MAX_INPUTS];
    clnet_shape out; /* per image: n = 1 */
    int rank2;       /* shown as (None, c), as Keras shows Flatten / global pools / Dense */
    int n_w;
    clnet__weight_desc w[CLNET_MAX_WEIGHTS];
    double flops;
} clnet__layer;

struct clnet_graph {
    clnet__layer *layers;
    int n, cap;
    clnet_context *err;  /* host-only context: error messages of the op functions */
    clnet_status status; /* first failure, sticky */
};

/* clnet_graph_layer with the parameter text's origin: messages start with where
 * (default "layer '<name>' (<op>)") and count lines from first_line. */
clnet_layer clnet__graph_layer_at(clnet_graph *g, const char *op_name, const char *name,
                                  const char *params, const clnet_layer *inputs, int n_inputs,
                                  const char *where, int first_line);

/* Keras's class name of the layer's op, as model.summary() prints it ("InputLayer"
 * for inputs). */
const char *clnet__keras_type(const clnet__layer *l);

/* A growing text buffer, zero-initialized; on allocation failure it stops growing
 * and says so in failed. buf is malloc'd (the caller frees it). */
typedef struct clnet__text {
    char *buf;
    size_t len, cap;
    int failed;
} clnet__text;

void clnet__text_put(clnet__text *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* 23600006 -> "23,600,006" in buf (len bytes); returns buf. */
const char *clnet__grouped(double v, char *buf, size_t len);

#endif
