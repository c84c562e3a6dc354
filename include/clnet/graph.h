/* clnet/graph.h - part of include/clnet.h (include that): graphs, the ops, the zoo. */
#ifndef CLNET_GRAPH_H
#define CLNET_GRAPH_H

#include "clnet/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- graphs: layers built in C, shapes inferred as they are added ---- */

typedef struct clnet_graph clnet_graph;

/* A layer of a graph (its index), or CLNET_LAYER_NONE after a failed call. Builder
 * calls return CLNET_LAYER_NONE on failure and keep the FIRST error on the graph
 * (clnet_graph_status / clnet_graph_error); a call given CLNET_LAYER_NONE as an input
 * returns CLNET_LAYER_NONE without a new error, so a block of calls can be written
 * straight through and checked once, as in Keras:
 *     x = clnet_graph_layer(g, "conv2d", NULL, "filters = 64\nkernel_size = 3", &x, 1); */
typedef int clnet_layer;
#define CLNET_LAYER_NONE (-1)

/* Limits of a graph, past which a builder call fails with CLNET_ERR_TOO_LARGE naming the
 * layer (a spec or model file cannot make clnet build more): at most CLNET_MAX_LAYERS
 * layers; every side, channel count and size key (kernel_size, strides, padding, filters,
 * units, ...) at most 2^24; every layer output of one image and every weight at most
 * 2^31 - 1 elements. Layer names have 1 to 63 bytes and hold no ',', '[', ']', '=', '#',
 * control character or white space at either end, which the text spec could not carry
 * (CLNET_ERR_INVALID_ARG). */
#define CLNET_MAX_LAYERS 16384

CLNET_API clnet_status clnet_graph_create(clnet_graph **out);
CLNET_API void clnet_graph_destroy(clnet_graph *g);
/* CLNET_OK, or the first failure's status; its message from clnet_graph_error. */
CLNET_API clnet_status clnet_graph_status(const clnet_graph *g);
CLNET_API const char *clnet_graph_error(const clnet_graph *g);

/* An input of h x w x c per image. name may be NULL ("input_1", "input_2", ...). */
CLNET_API clnet_layer clnet_graph_input(clnet_graph *g, const char *name, int h, int w, int c);
/* A layer of a registered op (conv2d, batch_norm, add, ...) on n_inputs earlier layers.
 * params are "key = value" lines with Keras's keys ("filters = 64\nkernel_size = 3").
 * name may be NULL (Keras-like "<op>", "<op>_1", ...); names are unique. The output
 * shape is inferred now: a mismatch names the layer and the shapes. */
CLNET_API clnet_layer clnet_graph_layer(clnet_graph *g, const char *op, const char *name,
                                        const char *params, const clnet_layer *inputs,
                                        int n_inputs);
CLNET_API int clnet_graph_layer_count(const clnet_graph *g);
/* The layer's output shape per image (n = 1); all zero for an invalid layer. */
CLNET_API clnet_shape clnet_graph_layer_shape(const clnet_graph *g, clnet_layer layer);
/* The layer's name (borrowed, valid while g lives), or NULL for an invalid layer. */
CLNET_API const char *clnet_graph_layer_name(const clnet_graph *g, clnet_layer layer);
/* The layer called name, or CLNET_LAYER_NONE. */
CLNET_API clnet_layer clnet_graph_find(const clnet_graph *g, const char *name);

/* Parameter counts as Keras reports them: batch-norm moving statistics count as
 * non-trainable parameters. */
typedef struct clnet_param_counts {
    int64_t total, trainable, non_trainable;
} clnet_param_counts;

CLNET_API clnet_param_counts clnet_graph_params(const clnet_graph *g);
/* Multiply-adds of one forward pass of one image. */
CLNET_API double clnet_graph_flops(const clnet_graph *g);
/* A Keras-style summary table (layer name and type, output shape, params, connected
 * to, multiply-adds) with the totals, malloc'd into *text: release with clnet_free. */
CLNET_API clnet_status clnet_graph_summary(const clnet_graph *g, const char *title, char **text);
/* Reads a text architecture spec: one [section] per layer named after it, with
 * `op = <op>` (or `op = input` and `shape = h, w, c`), `inputs = a, b` (default: the
 * layer above) and the op's Keras keys. source names the text in messages (a file
 * name). On failure *out is NULL and err (err_len bytes) holds "<source> line <n>
 * [<layer>]: ..." naming the key. */
CLNET_API clnet_status clnet_graph_from_spec(const char *text, const char *source,
                                             clnet_graph **out, char *err, size_t err_len);
/* Writes g as a spec that clnet_graph_from_spec reads back to the identical graph;
 * malloc'd into *text (release with clnet_free). */
CLNET_API clnet_status clnet_graph_to_spec(const clnet_graph *g, char **text);
/* Frees memory the library returned (summary and spec text). */
CLNET_API void clnet_free(void *p);

/* Graphviz DOT of the graph: one node per layer (name, type, output shape, params),
 * edges from inputs to users; renders with `dot -Tsvg`. malloc'd into *text (release
 * with clnet_free). title may be NULL. */
CLNET_API clnet_status clnet_graph_to_dot(const clnet_graph *g, const char *title, char **text);

/* ---- ops: what a spec section (or clnet_graph_layer) may use ---- */

/* One key of an op's spec section. Strings are static. */
typedef struct clnet_op_key {
    const char *name;          /* "kernel_size" */
    const char *type;          /* the values it takes: "int", "int or h, w", "float", "bool",
                                * "none|linear|relu|relu6", ... */
    const char *default_value; /* as spec text ("1", "valid", "none"); NULL: required */
    const char *description;   /* one line */
    const char *sample;        /* a value it accepts ("3, 3"): the tests parse each key with it */
} clnet_op_key;

/* What `clnet ops` prints about one op. Strings and keys are static. */
typedef struct clnet_op_info {
    const char *name;           /* the spec's op name: "conv2d" ("input" for the input layer) */
    const char *keras;          /* the Keras class it matches: "Conv2D" */
    const char *description;    /* one line */
    int min_inputs, max_inputs; /* layers it reads (0 for input) */
    const clnet_op_key *keys;   /* the keys its section takes besides op and inputs */
    int n_keys;
} clnet_op_info;

/* The number of ops clnet_op_info_at lists: the input pseudo-op (`op = input`, `shape =
 * h, w, c`), then every registered op in registry order. */
CLNET_API int clnet_op_count(void);
/* The facts of op i, 0 <= i < clnet_op_count() (static), or NULL out of range. Safe to
 * call from any thread. */
CLNET_API const clnet_op_info *clnet_op_info_at(int i);

/* ---- the zoo: reference architectures built as graphs ---- */

/* Options of clnet_zoo_build; zero fields take the defaults. */
typedef struct clnet_zoo_options {
    int h, w, c;       /* input per image; 0: 224 x 224 x 3. 1 or 3 channels, any size every
                        * layer keeps a pixel of (else the builder names the layer) */
    int classes;       /* channels of the logits (the final dense layer's units, SqueezeNet's
                        * last conv filters); 0: 1000 */
    const char *style; /* ResNets: "torch" (torchvision layout, default) or "keras" (the
                        * Keras tutorials' layout); MobileNetV2: "torch" (default) or "keras"
                        * (Keras padding and BN constants, no dropout); the others: "torch"
                        * only */
    double alpha;      /* width multiplier: mobilenetv2 0.35 .. 1.4, mnasnet 0.5 .. 1.3; 0: 1.0 */
    int shortcut_a;    /* ResNets: option-A shortcuts (zero-filled channels, no parameters)
                        * instead of 1x1 projections */
} clnet_zoo_options;

/* The names clnet_zoo_build knows ("resnet18", ..., "mnasnet", "squeezenet1_1", ...), a static
 * NULL-terminated array. */
CLNET_API const char *const *clnet_zoo_names(void);
/* The zoo's own name for name, matched ignoring case, '-', '_', '.' and spaces ("ResNet50",
 * "resnet-50", "MobileNet_V2", "MNASNet"), a static string; NULL when the zoo has no such
 * model. */
CLNET_API const char *clnet_zoo_name(const char *name);
/* Builds the zoo model name, any spelling clnet_zoo_name knows (opt may be NULL for all
 * defaults). The graph ends with
 * the logits (dense, no softmax). On failure *out is NULL and err (err_len bytes) says
 * what is wrong: an unknown name lists the known ones; a bad option names it. */
CLNET_API clnet_status clnet_zoo_build(const char *name, const clnet_zoo_options *opt,
                                       clnet_graph **out, char *err, size_t err_len);

#ifdef __cplusplus
}
#endif

#endif
