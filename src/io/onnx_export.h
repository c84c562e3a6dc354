/* onnx_export.h - what the two halves of clnet_model_export_onnx share: onnx_export.c holds
 * the ModelProto under construction (nodes, attributes, initializers, all from one list of
 * allocations freed together), the graph's input and output, the metadata and the file;
 * onnx_export_layers.c translates each layer of the graph into ONNX nodes.
 * Tests: tests/io/test_onnx_export.c; against ONNX Runtime: bench/compare/onnx_export_check.sh. */
#ifndef CLNET_IO_ONNX_EXPORT_H
#define CLNET_IO_ONNX_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "graph/graph.h"
#include "onnx/onnx.pb-c.h"
#include "plan/plan.h"

#define CLNET_ONNX_EXPORT_OPSET 13
#define CLNET_ONNX_EXPORT_IR 7

/* A layer's output in the ONNX graph. clnet's per-image shape {1, h, w, c} is [N, c, h, w]
 * (rank 4), or [N, c] (rank 2) when h = w = 1 and the producer gives that (Gemm, Flatten).
 * Each rank's name is made once, when a consumer first needs it (Flatten or Reshape). */
typedef struct clnet__onnx_value {
    const char *name[5]; /* name[2], name[4]: the value at that rank; NULL: not made */
    int rank;            /* the rank its producer gives */
} clnet__onnx_value;

/* An export in progress. Every failure is sticky: once st is set, the helpers below do
 * nothing and return NULL, so a translation checks st once at its end. */
typedef struct clnet__onnx_export {
    int external; /* weights to "<path>.data" (clnet_onnx_export_options.external_data) */
    clnet_model *m;
    const clnet_graph *g;
    clnet_status st;
    char err[512]; /* what failed, when st is set */
    void **allocs; /* everything the ModelProto points to, freed together */
    size_t n_allocs, cap_allocs;
    Onnx__NodeProto **nodes;
    size_t n_nodes, cap_nodes;
    Onnx__TensorProto **inits;
    size_t n_inits, cap_inits;
    clnet__onnx_value *values;   /* one per graph layer */
    int layer;                   /* the layer being translated: its nodes carry its name */
    int named;                   /* a node of the layer is named after it already */
    const char *convert;         /* a rank conversion of this value is being made */
    Onnx__NodeProto *conversion; /* the last rank conversion made */
    int counter;                 /* makes generated names unique */
    float *wbuf;                 /* a weight read from the device, before its transpose */
    size_t wbuf_cap;
} clnet__onnx_export;

/* Records a failure (the first one stays) and returns e->st. */
clnet_status clnet__onnx_fail(clnet__onnx_export *e, clnet_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Zeroed memory (or a formatted string) owned by e; NULL after a failure. */
void *clnet__onnx_alloc(clnet__onnx_export *e, size_t size);
char *clnet__onnx_str(clnet__onnx_export *e, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Appends a node of op_type reading in[0..n_in) to the graph and returns the name of its
 * output. The layer's first node (rank conversions of its inputs aside) is named after the
 * layer, the others "<layer>/<op_type>_<k>"; outputs get generated names, and the value
 * that is the layer's result is renamed after the layer when the layer is done. */
const char *clnet__onnx_node(clnet__onnx_export *e, const char *op_type, int n_in,
                             const char *const *in);
/* The last node appended (to add attributes to); NULL after a failure. */
Onnx__NodeProto *clnet__onnx_last(clnet__onnx_export *e);
void clnet__onnx_attr_int(clnet__onnx_export *e, const char *name, int64_t v);
void clnet__onnx_attr_ints(clnet__onnx_export *e, const char *name, int n, const int64_t *v);
void clnet__onnx_attr_float(clnet__onnx_export *e, const char *name, float v);

/* A float32 initializer of the given dims named "<layer>/<what>" (*name): returns its
 * values for the caller to fill (raw_data, made little-endian when the file is written). */
float *clnet__onnx_init_f32(clnet__onnx_export *e, const char *what, int rank, const int64_t *dims,
                            const char **name);
/* A 1-D int64 initializer named "<layer>/<what>_<k>" (Slice, Pad and Reshape arguments). */
const char *clnet__onnx_init_i64(clnet__onnx_export *e, const char *what, int n, const int64_t *v);
/* A float scalar shared by every node that uses the same value ("clnet/const_<k>"). */
const char *clnet__onnx_scalar(clnet__onnx_export *e, float v);

/* Weight k of the current layer, read from the device: count floats in clnet's layout
 * (e->wbuf, valid until the next call), checked to be the weight called name. */
const float *clnet__import_weight(clnet__onnx_export *e, int k, const char *name, size_t count);

/* Layer l's output at rank 4 or 2 (2 only when it is 1x1 per image), converting once. */
const char *clnet__onnx_input(clnet__onnx_export *e, int l, int rank);

/* Translates the current layer (e->layer) into out: its result's names and rank. An
 * inference identity copies its input's value. Returns e->st. */
clnet_status clnet__onnx_layer(clnet__onnx_export *e, clnet__onnx_value *out);

#endif
