/* import.h - what the importers of other frameworks' files (ONNX: onnx_*.c; Keras:
 * keras_*.c) produce, and the model made of it (import.c): a graph, each weight in
 * clnet's layout, and the labels and input normalization the file carried. */
#ifndef CLNET_IO_IMPORT_H
#define CLNET_IO_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "clnet.h"
#include "graph/graph.h"

/* One weight of an imported graph, in clnet's layout (HWIO kernels, vectors). */
typedef struct clnet__import_weight {
    int layer;     /* its layer in the graph */
    char name[32]; /* "kernel", "bias", "gamma", ... */
    int64_t count; /* floats */
    float *data;   /* malloc'd */
} clnet__import_weight;

/* What an import produces: the graph, every weight of it, and what the file said. */
typedef struct clnet__import {
    clnet_graph *g;
    clnet__import_weight *w;
    int n_w;
    char producer[64]; /* for messages ("pytorch 1.13.0", "keras 2.12.0") */
    /* Labels and normalization when the file keeps them (clnet's own ONNX exports keep
     * "clnet.labels", "clnet.mean", "clnet.std"; Keras's Rescaling and Normalization
     * layers become mean and std); absent otherwise. */
    char **labels;
    int n_labels;
    int has_norm;
    float mean[4], std[4];
} clnet__import;

void clnet__import_free(clnet__import *im);
/* Appends a weight of layer to the array *w of *n (room for *cap, grown here), taking data
 * (malloc'd; freed here on failure, and NULL data is a failure: CLNET_ERR_OUT_OF_MEMORY). */
clnet_status clnet__import_push_weight(clnet__import_weight **w, int *n, int *cap, int layer,
                                       const char *name, float *data, int64_t count);
/* A model on ctx of what im holds: its graph, every weight written once, labels and
 * normalization. On failure *out is NULL and err (len bytes) says why. */
clnet_status clnet__import_model(clnet_context *ctx, const clnet__import *im,
                                 const clnet_model_options *opt, clnet_model **out, char *err,
                                 size_t len);

#endif
