/* onnx_import.h - what the importer's files share (onnx_read.c reads tensors and
 * attributes, onnx_values.c keeps the values, onnx_fold.c folds constant nodes,
 * onnx_match.c finds the subgraphs that become one clnet op, onnx_import.c walks the graph
 * and builds clnet's; the op handlers: onnx_ops.h). Not part of the library's interface:
 * src/io/onnx.h is. */
#ifndef CLNET_IO_ONNX_IMPORT_H
#define CLNET_IO_ONNX_IMPORT_H

#include "io/onnx.h"
#include "onnx/onnx.pb-c.h"

/* A constant tensor: integer and bool types in i, floating types in f (one of them). */
typedef struct ox_const {
    int rank;
    int64_t dims[CLNET_ONNX_MAX_RANK];
    int64_t count;
    int is_int;
    int64_t *i;
    float *f;
} ox_const;

/* The batch size inside folded shapes: Shape of an activation gives it as dim 0, and
 * Reshape reads it back as "the batch". Arithmetic on it is refused. */
#define OX_BATCH (-(INT64_C(1) << 60))

/* How an activation's ONNX dims lie on its clnet layer (h x w x c per image). */
enum ox_layout {
    OX_NCHW, /* [N, C, H, W] */
    OX_NHWC, /* [N, H, W, C]: an NCHW value transposed by perm 0,2,3,1 (no copy) */
    OX_NC,   /* [N, C]: a 1 x 1 x C layer */
    OX_G5,   /* [N, g, C/g, H, W]: NCHW viewed in channel groups (ShuffleNet) */
    OX_G5T,  /* [N, C/g, g, H, W]: the groups transposed, pending a channel_shuffle */
};

enum ox_kind { OX_UNSET, OX_CONST, OX_ACT, OX_ABSORBED, OX_BAD };

typedef struct ox_value {
    const char *name; /* borrowed from the model proto */
    int kind;
    ox_const c;  /* OX_CONST */
    int layer;   /* OX_ACT: its clnet layer */
    int layout;  /* OX_ACT */
    int groups;  /* OX_G5, OX_G5T */
    int pad[4];  /* pending zero padding top, bottom, left, right (OX_NCHW) */
    int padded;  /* the zero_pad layer made for the pending padding, or -1 */
    int flat_hw; /* OX_NC from flattening an NCHW map: its h * w (> 1: c-major order) */
    int flat_h, flat_w;
    int producer; /* node index, -1 for graph inputs and initializers */
    int uses;     /* node inputs naming it, plus one when it is the graph's output */
    int consumer; /* the last node reading it (the only one when uses is 1), or -1 */
    const Onnx__TensorProto *init; /* an initializer, decoded when first used */
} ox_value;

typedef struct ox_ctx {
    Onnx__ModelProto *model;
    Onnx__GraphProto *graph;
    int64_t opset;
    const char *dir; /* of the file, for external data; NULL: refused */
    ox_value *v;
    int n_v, cap_v;
    int *slot; /* open-addressing table of value indices by name */
    size_t n_slot;
    int *value_of_output; /* per node: its first output's value (more via find) */
    char *done;           /* per node: handled (absorbed into a match included) */
    clnet_graph *g;
    clnet__import_weight *w;
    int n_w, cap_w;
    int64_t static_batch; /* the input's dim 0 when it is a number, else 0 */
    int bad;              /* unsupported nodes listed in bad_text */
    int unknown_op;       /* one of them is an op clnet lacks: the error lists clnet's */
    clnet__text bad_text;
    clnet_status st;   /* a failure other than an unsupported node (memory, corrupt data) */
    int constant_only; /* clnet__onnx_fold_memory: no input, the output folds */
    int folded;        /* then: the output's value */
    char *err;
    size_t len;
} ox_ctx;

/* ---- onnx_read.c ---- */

/* The attribute called name of node n, or NULL. */
const Onnx__AttributeProto *ox_attr(const Onnx__NodeProto *n, const char *name);
int64_t ox_attr_int(const Onnx__NodeProto *n, const char *name, int64_t def);
float ox_attr_float(const Onnx__NodeProto *n, const char *name, float def);
/* The ints attribute name into out (at most max); its count, or -1 when absent. */
int ox_attr_ints(const Onnx__NodeProto *n, const char *name, int64_t *out, int max);
/* The string attribute name, or def. */
const char *ox_attr_str(const Onnx__NodeProto *n, const char *name, const char *def);
/* A TensorProto's values into c (dims checked, data found where the proto says: typed
 * fields, raw_data or an external file below dir). what names it in messages. */
clnet_status ox_tensor(const Onnx__TensorProto *t, const char *dir, const char *what, ox_const *c,
                       char *err, size_t len);
void ox_const_free(ox_const *c);
/* The whole ONNX file at path into a new buffer (at most CLNET_ONNX_MAX_FILE bytes). */
clnet_status clnet__onnx_read_file(const char *path, uint8_t **out, size_t *size, char *err,
                                   size_t len);

/* ---- onnx_values.c (used by every file of the importer) ---- */

/* The value called name (created unset when new), or -1 when out of memory. */
int ox_find(ox_ctx *x, const char *name);
/* Input i of node n as a value index, or -1 when the node has no such input (or it is
 * the empty name ONNX uses for an omitted optional input). */
int ox_input(ox_ctx *x, const Onnx__NodeProto *n, int i);
/* The constant behind value index, decoding an initializer on first use; NULL when it
 * is not a constant (or the decoding failed: x->st then says why). */
const ox_const *ox_constant(ox_ctx *x, int value);
/* Records node k as one the importer cannot run, with why; always returns -1. */
int ox_unsupported(ox_ctx *x, int k, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The ONNX dims of activation value v as its layout shows them (dim 0 OX_BATCH); the
 * rank. */
int ox_act_dims(ox_ctx *x, int v, int64_t *dims);

/* ---- onnx_fold.c ---- */

/* ONNX's Slice arithmetic on an axis of len: the first index and the count. */
void ox_slice_range(int64_t len, int64_t start, int64_t end, int64_t step, int64_t *first,
                    int64_t *count);
/* Reshape's target dims for an input of in_dims (0 copies, -1 is inferred); the rank, or
 * -1 when shape does not fit in_count values. */
int ox_reshape_dims(const int64_t *in_dims, int in_rank, int64_t in_count, const ox_const *shape,
                    int allowzero, int64_t *dims);

/* Does Dropout node k run in training mode (its training_mode input true or not a
 * constant) with a ratio that is not a constant 0: its output is then random, which
 * clnet does not import. */
int ox_dropout_trains(ox_ctx *x, int k);

/* Folds node k when all its inputs are constants (Shape also of an activation) and its
 * op is one the folder knows: 1 folded (outputs set), 0 not a fold, -1 failed (recorded). */
int ox_fold(ox_ctx *x, int k);

#endif
