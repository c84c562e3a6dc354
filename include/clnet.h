/* clnet.h - the whole public API of libclnet: a portable OpenCL deep-learning
 * framework for convolutional image classifiers.
 *
 * Conventions: opaque handles; every fallible call returns a clnet_status and
 * sets its out-parameters to NULL/0 on failure; the detail of the last failure
 * is kept on the context (clnet_context_error). Tensors are float32 NHWC.
 * Weights are HWIO, stored in a tensor whose shape is {kh, kw, in, out}.
 * Nothing here calls exit/abort or prints: diagnostics go to a log callback.
 *
 * Threads. libclnet takes no locks of its own, so the rules are those of SQLite's
 * "multi-thread" mode and of libuv's loops:
 * - A context and everything made on it (tensors, models, optimizers, batchers' device
 *   side) belong to one thread at a time. Calls on the same context from two threads at
 *   once are not allowed, reads included: a call may record its error, build a kernel,
 *   move a tensor's contents or re-plan a model. Hand a context to another thread only
 *   after the first has finished with it (a mutex or a join orders them).
 * - Different contexts may be used at the same time from different threads, on the same
 *   device or not: each has its own OpenCL context, queue, programs and error message.
 *   Their kernel binaries meet in the on-disk cache, which is written to a temporary file
 *   renamed into place, and their tuning databases in its file, saved the same way (the
 *   last save wins).
 * - Graphs, datasets and the values the library returns as const (zoo names, status
 *   strings, a list from clnet_devices_list, class names) may be read from many threads
 *   at once; a graph or dataset must not be changed or destroyed while another thread
 *   reads it. A batcher reads its dataset from a prefetch thread of its own until it is
 *   destroyed.
 * - The log callback runs on the thread of the call that logs, before that call returns.
 * - One exception to "different contexts are independent": CLBlast (the GEMM library of
 *   GPU-class devices) keeps compiled programs in a process-wide cache, which destroying a
 *   context that used it clears; do not destroy such a context while another thread runs
 *   a GPU-class model. */
#ifndef CLNET_H
#define CLNET_H

#include <stddef.h>
#include <stdint.h>

#include "clnet_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One list makes the enum and clnet_status_string(). OK is 0, errors negative. */
#define CLNET_STATUS_LIST(X)                                                                       \
    X(CLNET_OK, 0, "ok")                                                                           \
    X(CLNET_ERR_INVALID_ARG, -1, "invalid argument")                                               \
    X(CLNET_ERR_NO_PLATFORM, -2, "no OpenCL platform")                                             \
    X(CLNET_ERR_NO_DEVICE, -3, "no such OpenCL device")                                            \
    X(CLNET_ERR_OPENCL, -4, "OpenCL call failed")                                                  \
    X(CLNET_ERR_BUILD, -5, "kernel build failed")                                                  \
    X(CLNET_ERR_OUT_OF_MEMORY, -6, "out of memory")                                                \
    X(CLNET_ERR_TOO_LARGE, -7, "allocation exceeds the device limit")                              \
    X(CLNET_ERR_SHAPE, -8, "shape mismatch")                                                       \
    X(CLNET_ERR_PARSE, -9, "parse error")                                                          \
    X(CLNET_ERR_UNKNOWN_OP, -10, "unknown op")                                                     \
    X(CLNET_ERR_IO, -11, "input/output error")                                                     \
    X(CLNET_ERR_GEMM, -12, "GEMM library failed")                                                  \
    X(CLNET_ERR_UNSUPPORTED, -13, "unsupported")                                                   \
    X(CLNET_ERR_MISMATCH, -14, "result differs from the reference")                                \
    X(CLNET_ERR_DIVERGED, -15, "the loss is not finite")                                           \
    X(CLNET_ERR_INTERNAL, -16, "internal error (a bug in clnet: please report it)")

typedef enum clnet_status {
#define CLNET_STATUS_ENUM(name, value, text) name = value,
    CLNET_STATUS_LIST(CLNET_STATUS_ENUM)
#undef CLNET_STATUS_ENUM
} clnet_status;

/* A static string; never NULL (unknown codes give "unknown status"). */
CLNET_API const char *clnet_status_string(clnet_status status);

/* The library's version, "major.minor.patch" (a static string): the project version
 * it was built as, which `clnet --version` prints. */
CLNET_API const char *clnet_version(void);

typedef struct clnet_context clnet_context;
typedef struct clnet_tensor clnet_tensor;

/* Tensor shape, NHWC. Weights use {kh, kw, in, out}; vectors {1, 1, 1, c}. */
typedef struct clnet_shape {
    int n, h, w, c;
} clnet_shape;

/* ---- devices ---- */

/* dgpu: discrete GPU; igpu: GPU sharing memory with the host; cpu: CPU device. */
typedef enum clnet_device_class {
    CLNET_CLASS_AUTO = 0, /* detect (or $CLNET_DEVICE_CLASS) */
    CLNET_CLASS_DGPU = 1,
    CLNET_CLASS_IGPU = 2,
    CLNET_CLASS_CPU = 3
} clnet_device_class;

/* "dgpu", "igpu", "cpu" or "auto". */
CLNET_API const char *clnet_device_class_name(clnet_device_class cls);
/* Parses "dgpu"/"igpu"/"cpu"; returns CLNET_ERR_INVALID_ARG for anything else. */
CLNET_API clnet_status clnet_device_class_parse(const char *text, clnet_device_class *out);

typedef struct clnet_device_info {
    int index;          /* position in the flat list over all platforms */
    int platform_index; /* platform number as the ICD loader lists it */
    char platform[128];
    char name[128];
    char vendor[128];
    char driver_version[64];
    char device_version[128];
    char opencl_c_version[64];
    clnet_device_class device_class; /* detected class */
    unsigned compute_units;
    uint64_t global_mem_bytes;
    uint64_t max_alloc_bytes;
    uint64_t local_mem_bytes;
    size_t max_work_group_size;
    int fp16;           /* cl_khr_fp16 */
    int fp64;           /* cl_khr_fp64 or a double FP config */
    int unified_memory; /* host-unified memory */
} clnet_device_info;

/* Lists every device of every platform. On success *out is an array of *count
 * entries the caller frees with clnet_devices_free. On failure the message goes
 * into err (err_len bytes, may be 0) and *out is NULL. */
CLNET_API clnet_status clnet_devices_list(clnet_device_info **out, int *count, char *err,
                                          size_t err_len);
CLNET_API void clnet_devices_free(clnet_device_info *list);

/* ---- context: one device, one in-order queue, its programs and caches ---- */

/* level: 0 error, 1 warning, 2 info, 3 debug. msg is valid during the call only. */
typedef void (*clnet_log_fn)(void *user, int level, const char *msg);

typedef struct clnet_context_options {
    /* Device index ("1") or a case-insensitive name substring; NULL: $CLNET_DEVICE,
     * else the first GPU, else the first device. */
    const char *device;
    /* Force the kernel variants of a class; AUTO: $CLNET_DEVICE_CLASS, else detected. */
    clnet_device_class device_class;
    /* Program cache directory; NULL: $CLNET_CACHE_DIR, else $XDG_CACHE_HOME/clnet,
     * else ~/.cache/clnet. "" disables the cache. */
    const char *cache_dir;
    /* Tuning database (clnet_model_tune); NULL: $CLNET_TUNE_DB, else
     * $XDG_DATA_HOME/clnet/tune.json, else ~/.local/share/clnet/tune.json. "" or
     * $CLNET_TUNE=0: none, the variant table's defaults only. */
    const char *tune_db;
    clnet_log_fn log;
    void *log_user;
    /* Where the failure message goes when creation fails (there is no context to
     * hold it then). May be NULL. */
    char *error;
    size_t error_len;
} clnet_context_options;

/* opt may be NULL for all defaults. */
CLNET_API clnet_status clnet_context_create(const clnet_context_options *opt, clnet_context **out);
CLNET_API void clnet_context_destroy(clnet_context *ctx);
/* The last failure's message ("" if none). Valid until the next failing call. */
CLNET_API const char *clnet_context_error(const clnet_context *ctx);
/* The device of this context; the class is the effective (possibly forced) one. */
CLNET_API const clnet_device_info *clnet_context_device(const clnet_context *ctx);
CLNET_API clnet_device_class clnet_context_class(const clnet_context *ctx);
/* Blocks until every enqueued command has finished. */
CLNET_API clnet_status clnet_context_finish(clnet_context *ctx);

typedef struct clnet_context_stats {
    int programs_built;   /* compiled from source */
    int programs_cached;  /* loaded from the on-disk cache */
    int cache_writes;     /* binaries written to the cache */
    int cache_rejected;   /* corrupt or stale entries rebuilt */
    double build_seconds; /* wall time spent building programs (both kinds) */
    int cache_enabled;    /* 0 when there is no usable cache directory */
    char cache_dir[512];
    char tune_db[512];   /* the tuning database consulted ("" none; see clnet_model_tune) */
    int tune_entries;    /* its entries for this device, driver and kernel class */
    int tune_hits;       /* GEMMs and layers that ran a tuned choice */
    int plans_built;     /* model plans built (the first forward of a mode, a larger batch,
                          * freezing, a new tuning database): none for a smaller batch */
    int buffers_created; /* device buffers allocated by the library (tensors, plans) */
    int host_waits;      /* calls that blocked the host on the device: blocking reads and
                          * writes, clnet_context_finish */
} clnet_context_stats;

CLNET_API void clnet_context_get_stats(const clnet_context *ctx, clnet_context_stats *out);

/* ---- tensors: float32 NHWC on the device ---- */

CLNET_API clnet_status clnet_tensor_create(clnet_context *ctx, clnet_shape shape,
                                           clnet_tensor **out);
CLNET_API void clnet_tensor_destroy(clnet_tensor *t);
CLNET_API clnet_shape clnet_tensor_shape(const clnet_tensor *t);
CLNET_API size_t clnet_tensor_count(const clnet_tensor *t);
/* Copies count floats (must equal the tensor's count) from host to device; blocking. */
CLNET_API clnet_status clnet_tensor_write(clnet_tensor *t, const float *src, size_t count);
/* Copies count floats (must equal the tensor's count) from device to host; blocking. */
CLNET_API clnet_status clnet_tensor_read(clnet_tensor *t, float *dst, size_t count);
CLNET_API clnet_status clnet_tensor_fill(clnet_tensor *t, float value);

typedef enum clnet_init {
    CLNET_INIT_UNIFORM,        /* U(a, b) */
    CLNET_INIT_NORMAL,         /* N(mean a, stddev b) */
    CLNET_INIT_GLOROT_UNIFORM, /* U(-l, l), l = sqrt(6 / (fan_in + fan_out)) */
    CLNET_INIT_GLOROT_NORMAL,  /* truncated N(0, sqrt(2 / (fan_in + fan_out))) */
    CLNET_INIT_HE_UNIFORM,     /* U(-l, l), l = sqrt(6 / fan_in) */
    CLNET_INIT_HE_NORMAL       /* truncated N(0, sqrt(2 / fan_in)) */
} clnet_init;

/* Fills t from one seeded generator on the host, so a seed gives the same values
 * on every device. Fans come from the weight shape {kh, kw, in, out}:
 * fan_in = kh*kw*in, fan_out = kh*kw*out. a and b are used by UNIFORM and NORMAL only.
 * "Truncated" redraws beyond two standard deviations, as Keras does. */
CLNET_API clnet_status clnet_tensor_init(clnet_tensor *t, clnet_init kind, float a, float b,
                                         uint64_t seed);

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
    int classes;       /* units of the final dense layer (logits); 0: 1000 */
    const char *style; /* ResNets: "torch" (torchvision layout, default) or "keras" (the
                        * Keras tutorials' layout); MobileNetV2: "torch" (default) or "keras"
                        * (Keras padding and BN constants, no dropout); MnasNet: "torch" only */
    double alpha;      /* width multiplier: mobilenetv2 0.35 .. 1.4, mnasnet 0.5 .. 1.3; 0: 1.0 */
    int shortcut_a;    /* ResNets: option-A shortcuts (zero-filled channels, no parameters)
                        * instead of 1x1 projections */
} clnet_zoo_options;

/* The names clnet_zoo_build knows ("resnet18", ..., "mobilenetv2", "mnasnet"), a static
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

/* ---- models: a graph's weights on a device, run through a fused, memory-planned plan ---- */

typedef struct clnet_model clnet_model;

typedef struct clnet_model_options {
    uint64_t seed;      /* weight initialization and dropout masks */
    int no_fusion;      /* 1: run every layer as its own op (for checks against the fused plan) */
    int no_memory_plan; /* 1: every activation gets its own buffer */
} clnet_model_options;

/* A model of graph g (copied: g may be destroyed afterwards) on ctx, its weights
 * initialised from opt->seed with each layer's Keras default initializer. The graph
 * must have one input; its last layer is the output. opt may be NULL. */
CLNET_API clnet_status clnet_model_create(clnet_context *ctx, const clnet_graph *g,
                                          const clnet_model_options *opt, clnet_model **out);
CLNET_API void clnet_model_destroy(clnet_model *m);
/* The model's own copy of its graph (borrowed, lives as long as m). */
CLNET_API const clnet_graph *clnet_model_graph(const clnet_model *m);

/* Runs x ({batch, h, w, c} of the graph's input) through the model. training = 0:
 * inference plan (batch norm folded into convolutions, fused epilogues, buffers
 * reused by liveness; batches whose activations exceed the device's largest
 * allocation run in slices); training = 1: batch statistics, moving statistics
 * updated (frozen batch norms: their moving statistics, left as they are; see
 * clnet_model_freeze), everything backward needs kept. A graph that ends in a softmax (a
 * softmax layer, or dense with activation = softmax) gives the logits before it in
 * training, as Keras trains such a model on the softmax cross-entropy of its logits;
 * inference gives the probabilities. *y (borrowed) holds the output until the next
 * forward, clnet_model_plan_* call or clnet_model_destroy. After a training forward, x
 * must stay unchanged until clnet_model_backward. */
CLNET_API clnet_status clnet_model_forward(clnet_model *m, const clnet_tensor *x, int training,
                                           clnet_tensor **y);
/* Backpropagates dy (the gradient of the loss with respect to the last training
 * forward's output, same shape: the logits of a graph ending in a softmax) into the
 * gradients of every trainable weight that is not frozen (overwritten, not accumulated;
 * clnet_model_freeze). */
CLNET_API clnet_status clnet_model_backward(clnet_model *m, const clnet_tensor *dy);

/* Asks every later forward to keep the output of the layer called layer, for feature
 * extraction (as Keras's Model(inputs, layer.output) or a PyTorch forward hook): the next
 * plans materialize it (a convolution whose batch norm inference would fold into it runs
 * unfolded, an activation that would be its epilogue runs on its own; the final output
 * may then differ from a plan without kept layers by float rounding) and keep its buffer
 * to the end of the forward. Layers stay kept until clnet_model_keep_output(m, NULL)
 * forgets them all. Cached plans are rebuilt at the next forward. An unknown name is
 * CLNET_ERR_INVALID_ARG, with the nearest layer name in the message. */
CLNET_API clnet_status clnet_model_keep_output(clnet_model *m, const char *layer);
/* What layer computed in the last forward (after its own activation, as in Keras), for
 * the batch that ran: *out (borrowed) lives as long as the forward's *y. The layer must
 * have been kept before that forward (clnet_model_keep_output), else
 * CLNET_ERR_INVALID_ARG, as for an unknown name or when no forward has run. A training
 * forward ends at the logits of a graph ending in a softmax: the softmax (a softmax
 * layer, or the probabilities of a dense layer with activation = softmax) is then
 * CLNET_ERR_UNSUPPORTED, and so is an inference batch that ran in slices (reading layer
 * outputs needs batches whose activations fit the device's largest buffer). */
CLNET_API clnet_status clnet_model_layer_output(clnet_model *m, const char *layer,
                                                clnet_tensor **out);
/* enabled = 0: training forwards run dropout layers as the identity (their backward too),
 * as PyTorch's eval() on the dropout modules alone or Keras's Dropout(training=False);
 * batch norms still train. 1 (the default): dropout in training. Cached plans are rebuilt
 * at the next forward; model files and checkpoints do not store it. */
CLNET_API clnet_status clnet_model_set_dropout(clnet_model *m, int enabled);

typedef struct clnet_weight_info {
    const char *layer; /* layer name (borrowed, lives as long as the model) */
    const char *name;  /* Keras's weight name: "kernel", "bias", "gamma", "moving_mean", ... */
    clnet_shape shape; /* {kh, kw, in, out} for kernels, {1, 1, 1, c} for vectors */
    int trainable;     /* 0: batch-norm moving statistics */
} clnet_weight_info;

CLNET_API int clnet_model_weight_count(const clnet_model *m);
/* The i-th weight, in graph order: its description, its value and (trainable ones)
 * the gradient the last backward wrote; each out-parameter may be NULL. The tensors
 * are borrowed (they live as long as m). Writing a value through the tensor is how
 * weights are loaded: call clnet_model_weight again (or clnet_model_weights_changed)
 * after writing so the inference plan folds the new values. */
CLNET_API clnet_status clnet_model_weight(clnet_model *m, int i, clnet_weight_info *info,
                                          clnet_tensor **value, clnet_tensor **grad);
/* Tells the model its weights were written (the folded inference weights are rebuilt
 * on the next inference forward). */
CLNET_API void clnet_model_weights_changed(clnet_model *m);

/* The plan of one mode for a batch, as text: the fused groups in execution order with
 * the kernels chosen for this device, each activation buffer, and the peak activation
 * memory against the unplanned sum. malloc'd into *text (clnet_free). */
CLNET_API clnet_status clnet_model_plan_text(clnet_model *m, int training, int batch, char **text);

/* The plan of one mode for a batch as Graphviz DOT: one box per fused group (its
 * layers, kernels and output), edges along the tensors. malloc'd (clnet_free). */
CLNET_API clnet_status clnet_model_plan_dot(clnet_model *m, int training, int batch, char **text);

typedef struct clnet_plan_stats {
    int layers;               /* graph layers that run */
    int steps;                /* kernels groups after fusion */
    int fused_bn;             /* batch norms folded into a convolution */
    int fused_activations;    /* activations run as an epilogue */
    int fused_adds;           /* residual adds run as a convolution's epilogue */
    uint64_t planned_bytes;   /* activation (and, training, gradient) buffers allocated, the
                               * ops' scratch included: the plan's peak device memory */
    uint64_t unplanned_bytes; /* the same with one buffer per tensor of the fused plan */
    uint64_t scratch_bytes;   /* the most scratch one step uses (im2col columns, GEMM panels,
                               * reduction partials), inside planned_bytes */
    uint64_t layer_bytes;     /* every layer's output (and, training, gradient) in a buffer
                               * of its own: no fusion, no sharing */
    int buffers;              /* buffers allocated */
    int slices;               /* batch slices of one inference forward (1 when it fits) */
    int backward_steps;       /* training: steps whose backward runs (all but frozen ones) */
    int frozen_batch_norms;   /* training: frozen batch norms, run in inference mode */
} clnet_plan_stats;

/* Builds (or reuses) the plan of one mode for a batch and describes it. */
CLNET_API clnet_status clnet_model_plan_stats(clnet_model *m, int training, int batch,
                                              clnet_plan_stats *out);

/* ---- training: optimizers, learning-rate schedules ---- */

typedef struct clnet_optimizer clnet_optimizer;

typedef enum clnet_optimizer_kind {
    CLNET_OPT_SGD = 0,
    CLNET_OPT_ADAM = 1,
    CLNET_OPT_RMSPROP = 2
} clnet_optimizer_kind;

/* "sgd", "adam", "rmsprop" (the names the clnet command takes), or NULL for a value
 * that is none of them. */
CLNET_API const char *clnet_optimizer_kind_name(clnet_optimizer_kind kind);
/* Parses "sgd" / "adam" / "rmsprop"; returns CLNET_ERR_INVALID_ARG for anything else. */
CLNET_API clnet_status clnet_optimizer_kind_parse(const char *text, clnet_optimizer_kind *out);

/* Unset (zero) fields take the defaults given. RMSprop is PyTorch's update
 * (torch.optim.RMSprop, torch/optim/rmsprop.py) with Keras's defaults
 * (keras.optimizers.RMSprop, keras/src/optimizers/rmsprop.py: rho 0.9, epsilon 1e-7;
 * PyTorch's are alpha 0.99, eps 1e-8):
 *   g' = g + weight_decay * w (unless decoupled: w -= lr * weight_decay * w first)
 *   v = rho * v + (1 - rho) * g'^2;  centered: a = rho * a + (1 - rho) * g', v~ = v - a^2
 *   q = g' / (sqrt(v~) + epsilon);   momentum: b = momentum * b + q, q = b
 *   w -= lr * q
 * Keras differs in two places: epsilon inside the root, sqrt(v~ + epsilon), and lr
 * inside its momentum buffer (b = momentum * b + lr * g / ..., w -= b), which matters
 * only when lr changes between steps. Its weight decay is the decoupled form. */
typedef struct clnet_optimizer_options {
    clnet_optimizer_kind kind;
    float momentum;     /* SGD: v = momentum * v + g (PyTorch's form); RMSprop: above; 0: off */
    int nesterov;       /* SGD: Nesterov momentum */
    float weight_decay; /* L2 added to the gradient (SGD, Adam, RMSprop) or decoupled */
    int decoupled;      /* Adam (AdamW), RMSprop: decoupled weight decay */
    float beta1, beta2; /* Adam; 0: 0.9, 0.999 */
    float epsilon;      /* Adam, RMSprop; 0: 1e-8 (Adam), 1e-7 (RMSprop) */
    float rho;          /* RMSprop: decay of the squared-gradient average; 0: 0.9 */
    int centered;       /* RMSprop: divide by the gradient's estimated variance */
} clnet_optimizer_options;

/* An optimizer for m's trainable weights, its state zeroed on the device: per weight,
 * SGD's velocity (with momentum), Adam's two moments, or RMSprop's squared-gradient
 * average, momentum buffer (with momentum) and gradient average (centered). o may be
 * NULL: SGD without momentum. */
CLNET_API clnet_status clnet_optimizer_create(clnet_model *m, const clnet_optimizer_options *o,
                                              clnet_optimizer **out);
CLNET_API void clnet_optimizer_destroy(clnet_optimizer *o);
/* Updates every trainable, unfrozen weight from the gradient of the last
 * clnet_model_backward with learning rate lr. */
CLNET_API clnet_status clnet_optimizer_step(clnet_optimizer *o, float lr);
/* Steps taken (Adam's bias correction counts them). */
CLNET_API int64_t clnet_optimizer_steps(const clnet_optimizer *o);

typedef enum clnet_schedule_kind {
    CLNET_LR_CONSTANT = 0,
    CLNET_LR_STEP = 1,  /* lr * gamma^(floor(epoch / step_epochs)) */
    CLNET_LR_COSINE = 2 /* from lr down to min_lr over the run, half a cosine */
} clnet_schedule_kind;

typedef struct clnet_schedule {
    clnet_schedule_kind kind;
    float lr;         /* base learning rate */
    float min_lr;     /* cosine: the final rate */
    float gamma;      /* step: factor every step_epochs epochs (0: 0.1) */
    int step_epochs;  /* step: 0 means 30 */
    int warmup_steps; /* linear warm-up from lr / warmup_steps over these steps */
} clnet_schedule;

/* The learning rate at optimizer step `step` (0-based) of a run of total_steps steps,
 * steps_per_epoch of them per epoch. */
CLNET_API float clnet_schedule_lr(const clnet_schedule *s, int64_t step, int64_t total_steps,
                                  int64_t steps_per_epoch);

/* One optimization step on a batch: training forward of x, softmax cross-entropy of
 * the output ({n, 1, 1, classes} logits; a final softmax is left out of the training
 * forward, see clnet_model_forward) against labels (n class indices), backward,
 * and o's update with learning rate lr. *loss (may be NULL) gets the batch's mean
 * loss, *correct (may be NULL) its top-1 hits. The labels go to the device without a
 * wait and the loss is the training plan's last step: the host waits once, after the
 * update is enqueued, to read the loss and the hits. A loss that is NaN or Inf returns
 * CLNET_ERR_DIVERGED and the device has skipped the update, as PyTorch's GradScaler
 * skips a step (weights, optimizer state and step count unchanged; the forward has
 * updated the batch-norm moving statistics, as every training forward does). */
CLNET_API clnet_status clnet_train_step(clnet_optimizer *o, const clnet_tensor *x,
                                        const int *labels, float lr, float label_smoothing,
                                        double *loss, int *correct);
/* clnet_train_step with class weights, as Keras's fit(class_weight=...): image i's loss
 * (label smoothing included) counts class_weight[labels[i]] times, and the batch loss
 * reported in *loss and differentiated is sum_i w_i * loss_i / n (Keras's default
 * "sum_over_batch_size" reduction: divided by the batch size, not by the weights' sum).
 * class_weight: one finite, non-negative weight per class of the model's output, read
 * during the call; NULL: every weight 1, which is clnet_train_step. */
CLNET_API clnet_status clnet_train_step_weighted(clnet_optimizer *o, const clnet_tensor *x,
                                                 const int *labels, const float *class_weight,
                                                 float lr, float label_smoothing, double *loss,
                                                 int *correct);

/* Forward (training mode), loss and backward of a batch without an update, for gradient
 * accumulation and optimizers of one's own (PyTorch's loss.backward() without
 * optimizer.step()): every trainable, unfrozen weight's gradient (clnet_model_weight's
 * *grad) is overwritten with that of the batch's mean softmax cross-entropy (label
 * smoothing as clnet_train_step). *loss and *correct as clnet_train_step; a loss that is
 * not finite is CLNET_ERR_DIVERGED (the gradients are then not meaningful). The weights
 * are unchanged; batch-norm moving statistics move, as in any training forward. */
CLNET_API clnet_status clnet_model_gradients(clnet_model *m, const clnet_tensor *x,
                                             const int *labels, float label_smoothing, double *loss,
                                             int *correct);

/* The mean softmax cross-entropy (*loss) and top-1 hits (*correct) of a batch in
 * inference mode: batch norms use their moving statistics, dropout is off, and nothing
 * changes (weights, moving statistics, the dropout stream), as Keras's
 * model.evaluate(x, y) on one batch or PyTorch's model.eval() under torch.no_grad().
 * Without label smoothing or class weights; a model ending in a softmax is scored on its
 * probabilities (-log p[label]). Either output may be NULL. */
CLNET_API clnet_status clnet_model_evaluate_batch(clnet_model *m, const clnet_tensor *x,
                                                  const int *labels, double *loss, int *correct);

/* ---- profiling ---- */

/* One fused group of a profiled run. */
typedef struct clnet_layer_profile {
    const char *layers;  /* "conv1 + bn1 + relu" (borrowed, valid until the next profile) */
    const char *kernels; /* what this device runs for it, e.g. "im2col + gemm packed + ..." */
    double forward_ms;   /* device time from OpenCL profiling events */
    double backward_ms;  /* training profiles; 0 in inference */
    double mult_adds;    /* of the group's layers, for the whole batch */
} clnet_layer_profile;

/* Runs x through m once (training: forward, then backward of a gradient of ones) with
 * every step timed by profiling events, one step at a time. *rows (borrowed, valid until
 * the next profile or clnet_model_destroy) gets *n groups in execution order. */
CLNET_API clnet_status clnet_model_profile(clnet_model *m, const clnet_tensor *x, int training,
                                           const clnet_layer_profile **rows, int *n);

/* ---- tuning ---- */

typedef struct clnet_tune_options {
    int batch;    /* images of the problems tuned; 0: 1 */
    int training; /* also the training step's problems (backward GEMMs) */
    int repeats;  /* timed runs per candidate, the median kept; 0: 5, at most 64 */
    /* Also time the GEMM library (CLBlast) on classes whose variant table does not
     * pick it: its first use there compiles for seconds per kernel. */
    int gemm_library;
    int dry_run; /* measure, but leave the database as it is */
} clnet_tune_options;

/* One candidate of one problem. */
typedef struct clnet_tune_row {
    const char *problem;   /* "gemm NN 3136x64x576" (borrowed, valid until the next tune) */
    const char *candidate; /* "packed GEMM_WG_M=16 GEMM_KC=0", "default (packed)" */
    const char *layers;    /* where the model runs it: "conv1, layer1_0_conv2, ..." */
    double ms;             /* median wall time of one run; 0 when rejected */
    double max_rel_err;    /* against the plain C reference on sampled rows */
    clnet_status status;   /* CLNET_OK, CLNET_ERR_MISMATCH, or why it failed to run */
    int is_default;        /* what runs without a database entry */
    int is_winner;         /* fastest of those that matched the reference */
} clnet_tune_row;

/* Tunes the problems m runs on its device for a batch: collects them from one run
 * (forward, and backward when training), then for each times every candidate
 * implementation and launch parameter set, each first checked against the plain C
 * reference (a candidate that differs is rejected, never timed), and stores the
 * fastest in the context's tuning database (clnet_context_options.tune_db) keyed
 * by device name, driver version, kernel class and problem, replacing older entries
 * of the same key. Later contexts on the same device use them (stats.tune_hits).
 * *rows (borrowed: valid until the next tune or clnet_model_destroy) gets *n rows,
 * problem by problem. */
CLNET_API clnet_status clnet_model_tune(clnet_model *m, const clnet_tune_options *opt,
                                        const clnet_tune_row **rows, int *n);

/* ---- model metadata and model files ---- */

/* Class names, in label order (copied). n must equal the output's channels. */
CLNET_API clnet_status clnet_model_set_labels(clnet_model *m, const char *const *names, int n);
CLNET_API int clnet_model_label_count(const clnet_model *m);
/* The name of class i (borrowed, valid until the labels change), or NULL. */
CLNET_API const char *clnet_model_label(const clnet_model *m, int i);
/* The input normalization the model was trained with: pixels scaled to [0, 1], then
 * (x - mean[c]) / std[c] per channel; channels must equal the input's. Default: mean 0,
 * std 1 (none). */
CLNET_API clnet_status clnet_model_set_normalization(clnet_model *m, const float *mean,
                                                     const float *std, int channels);
/* Copies the normalization into mean and std (the input's channels each). */
CLNET_API void clnet_model_normalization(const clnet_model *m, float *mean, float *std);

/* Writes the model as safetensors: every weight as a little-endian F32 tensor named
 * "<layer>/<weight>", and in the header's __metadata__ the architecture spec, labels,
 * input size and normalization. Written to a temporary file, then renamed over path, so
 * an existing file is replaced only by a complete one. */
CLNET_API clnet_status clnet_model_save(clnet_model *m, const char *path);
/* Reads a model file written by clnet_model_save into a new model on ctx (opt as for
 * clnet_model_create; NULL: defaults). A truncated, corrupt or mismatched file (bad
 * header, missing tensor, wrong shape or dtype) is an error naming the file and what
 * is wrong, with *out NULL. The loaded model predicts bit-identically to the saved one. */
CLNET_API clnet_status clnet_model_load(clnet_context *ctx, const char *path,
                                        const clnet_model_options *opt, clnet_model **out);

/* ---- fine-tuning ---- */

/* A new model (on m's context, same options) whose graph is m's with the last dense
 * layer (the classifier head) resized to classes units and freshly initialised from
 * seed; every other weight, the normalization and (when classes is unchanged) the
 * labels are copied from m. Layers after the head (a softmax) must have no weights. */
CLNET_API clnet_status clnet_model_replace_head(clnet_model *m, int classes, uint64_t seed,
                                                clnet_model **out);
/* Freezes the trainable weights of every layer except the last n layers that have
 * trainable weights; n < 0 unfreezes everything. As with Keras's layer.trainable = False:
 * the optimizer leaves frozen weights alone, and a frozen batch norm runs in inference
 * mode in training forwards too (it normalizes with its moving statistics and leaves them
 * as they are). Frozen layers cost no backward work: their weight gradients are not
 * computed (their gradient tensors keep their old contents), and the backward pass stops
 * where no trainable weight lies upstream. Training plans are rebuilt for the new state
 * on their next use. *trainable (may be NULL) gets the number of trainable parameters
 * left unfrozen: 0 for n = 0, when training would change nothing (callers such as
 * `clnet train --freeze 0` should refuse); a warning goes to the log callback then. */
CLNET_API clnet_status clnet_model_freeze(clnet_model *m, int n, int64_t *trainable);

/* ---- datasets: labelled images in host memory, batched in a background thread ---- */

typedef struct clnet_dataset clnet_dataset;

/* Images whose width x height exceed this are refused before any pixel is allocated
 * (128 Mi pixels, 512 MiB once decoded to 8-bit RGBA). */
#define CLNET_DEFAULT_MAX_PIXELS ((uint64_t)1 << 27)

typedef struct clnet_dataset_options {
    /* Images are converted to this size (stb_image_resize) and channel count (gray <->
     * RGB, alpha dropped); 0: the data's own (idx 28x28x1, CIFAR 32x32x3; an image folder
     * then takes the first image's size and channels). */
    int h, w, c;
    /* Receives, for image folders, one line per skipped image (level 1: its path and
     * why), per empty class folder (level 1), a summary (level 2: images, classes,
     * skipped, ignored) and one line per ignored file (level 3). */
    clnet_log_fn log;
    void *log_user;
    /* When given (n_classes > 0), the dataset's classes are exactly these names in this
     * order, label k being classes[k] (a model's classes, clnet_model_label): each class
     * folder, idx or CIFAR class is mapped to its label by name, a source may hold only
     * some of them, and a name not in the list is an error naming it and listing the
     * known ones. Names must be distinct and non-empty; copied, not kept. NULL / 0: the
     * source's own classes (folder names sorted, idx digits or Fashion-MNIST names,
     * CIFAR's batches.meta.txt or the standard ten). */
    const char *const *classes;
    int n_classes;
    /* Largest width x height of a source image; 0: CLNET_DEFAULT_MAX_PIXELS. Bigger
     * images (and images with a side of 0) are skipped and reported. */
    uint64_t max_pixels;
} clnet_dataset_options;

/* Opens source:
 *   "DIR"           an image folder: one sub-folder per class (class names = folder
 *                   names, sorted by strcmp); each class's images are the files in its
 *                   folder and all folders below it (symbolic links followed, each folder
 *                   once, hidden entries left out), sorted by folder then name as Keras's
 *                   image_dataset_from_directory does. JPEG, PNG, WebP, HEIC/HEIF/AVIF,
 *                   BMP, GIF, TGA and binary PNM, recognized by content, not by name;
 *   "idx:DIR"       MNIST / Fashion-MNIST idx files (raw or .gz) in DIR;
 *   "cifar:DIR"     CIFAR-10 binary batches (data_batch_1..5.bin, test_batch.bin) in DIR.
 * part: "train" or "test" for idx and CIFAR (ignored for folders). Decodes every image
 * now (into 8-bit pixels at the target size, EXIF orientation applied). In a folder,
 * files that are no image of those formats are ignored and counted
 * (clnet_dataset_ignored); images that fail to decode (corrupt, truncated, a side of 0,
 * over max_pixels) are skipped, counted (clnet_dataset_skipped) and logged with the
 * reason; an empty class folder is a warning and keeps its label with no images. A
 * folder without class folders, or whose classes hold no image at all, is an error. On
 * failure *out is NULL and err (err_len bytes) says what and where. */
CLNET_API clnet_status clnet_dataset_open(const char *source, const char *part,
                                          const clnet_dataset_options *opt, clnet_dataset **out,
                                          char *err, size_t err_len);
CLNET_API void clnet_dataset_destroy(clnet_dataset *d);
CLNET_API int clnet_dataset_size(const clnet_dataset *d);
/* Per image: {1, h, w, c}. */
CLNET_API clnet_shape clnet_dataset_image_shape(const clnet_dataset *d);
CLNET_API int clnet_dataset_class_count(const clnet_dataset *d);
/* Borrowed, lives as long as d (a split shares its parent's names). */
CLNET_API const char *clnet_dataset_class_name(const clnet_dataset *d, int k);
/* Images skipped as unreadable or corrupt when opening. */
CLNET_API int clnet_dataset_skipped(const clnet_dataset *d);
/* Files of an image folder left out because they are no image of a supported format
 * (text files, videos, ...), loose files beside the class folders included. */
CLNET_API int clnet_dataset_ignored(const clnet_dataset *d);
/* Image i's label. */
CLNET_API int clnet_dataset_label(const clnet_dataset *d, int i);
/* Splits d into a shuffled (seeded) training part and a validation part of
 * round(fraction * size) images; both borrow d's images, so d must outlive them. */
CLNET_API clnet_status clnet_dataset_split(clnet_dataset *d, double fraction, uint64_t seed,
                                           clnet_dataset **train, clnet_dataset **val);
/* Per-channel mean and standard deviation of the pixels scaled to [0, 1]. */
CLNET_API clnet_status clnet_dataset_stats(const clnet_dataset *d, float *mean, float *std);
/* Keras's and scikit-learn's "balanced" class weights for training on d (for
 * clnet_fit_options.class_weight): class k gets size / (present * count_k), where count_k
 * is its images in d and present the number of classes with at least one image
 * (scikit-learn's n_classes), so the weights average 1 over d's images. A class with
 * no image in d (a split can leave one out) gets 1, the weight Keras gives a class
 * missing from class_weight. weights: clnet_dataset_class_count(d) floats. */
CLNET_API clnet_status clnet_dataset_class_weights(const clnet_dataset *d, float *weights);

typedef struct clnet_batcher clnet_batcher;

typedef struct clnet_batch_options {
    int batch;   /* images per batch (the last of an epoch may be smaller) */
    int shuffle; /* reshuffle every epoch from seed and the epoch number */
    uint64_t seed;
    int augment;       /* random crop (zero padding of 4, or 2 under 32x32) and flip */
    const float *mean; /* per channel, applied to pixels scaled to [0, 1]; NULL: 0 */
    const float *std;  /* NULL: 1 */
} clnet_batch_options;

/* Batches of d, prepared by a background thread one batch ahead so the device never
 * waits for decoding, augmentation or normalization. d must outlive b. */
CLNET_API clnet_status clnet_batcher_create(const clnet_dataset *d, const clnet_batch_options *o,
                                            clnet_batcher **out);
CLNET_API void clnet_batcher_destroy(clnet_batcher *b);
/* Starts epoch `epoch` (0-based: it picks the shuffle order and augmentation draws, so
 * an epoch can be replayed exactly after a resume). */
CLNET_API clnet_status clnet_batcher_start(clnet_batcher *b, int epoch);
/* The next batch of the epoch: *images NHWC floats ({*n, h, w, c}), *labels *n ints,
 * both borrowed until the next call; *n = 0 at the end of the epoch. *waited_ms (may be
 * NULL) gets how long the call waited for the background thread. */
CLNET_API clnet_status clnet_batcher_next(clnet_batcher *b, const float **images,
                                          const int **labels, int *n, double *waited_ms);
/* Batches in one epoch. */
CLNET_API int clnet_batcher_batches(const clnet_batcher *b);

/* ---- fit and evaluate: the Keras-like loops over datasets ---- */

/* One report of clnet_fit: after every batch (end_of_epoch 0) and at the end of each
 * epoch with the validation figures (end_of_epoch 1). */
typedef struct clnet_progress {
    int epoch, epochs;             /* 0-based epoch, and how many in the run */
    int batch, batches;            /* batches done in this epoch, and how many it has */
    double loss, accuracy;         /* running means over this epoch's batches so far */
    double val_loss, val_accuracy; /* end of epoch, when there is validation data; else NAN */
    double images_per_s;           /* this epoch so far */
    double eta_s;                  /* to the end of the epoch */
    double epoch_s;                /* seconds spent in this epoch */
    double device_busy;            /* fraction of the epoch's time not spent waiting for batches */
    float lr;                      /* learning rate of the last step */
    int end_of_epoch;
    /* 1: an epoch finished before a resume, reported again from the checkpoint's history
     * (end_of_epoch 1, its figures as they were then) before the run continues, so a
     * caller's history and charts cover the whole run. */
    int restored;
    /* Early stopping (clnet_fit_options.patience): the 0-based epoch with the best
     * monitored loss so far (-1 before the first end of epoch), and 1 on the end-of-epoch
     * report after which the run stops because it has not improved for patience epochs. */
    int best_epoch;
    int early_stop;
} clnet_progress;

/* Returns 0 to go on, non-zero to stop: at the end of an epoch the run stops after that
 * epoch's checkpoint; mid-epoch it stops at once (a resume repeats that epoch). */
typedef int (*clnet_progress_fn)(void *user, const clnet_progress *p);

typedef struct clnet_fit_options {
    int epochs;                        /* 0: 1 */
    int batch;                         /* 0: 32 */
    clnet_optimizer_options optimizer; /* zeroes: SGD without momentum */
    clnet_schedule schedule;           /* lr 0: 0.01 constant */
    int augment;                       /* random crop and flip (clnet_batch_options) */
    float label_smoothing;
    /* One weight per class (finite, not negative) for the training loss, as Keras's
     * class_weight (clnet_train_step_weighted; clnet_dataset_class_weights gives the
     * "balanced" ones); copied during the call. NULL: none. Validation loss stays
     * unweighted, as Keras's val_loss; checkpoints do not record the weights. */
    const float *class_weight;
    uint64_t seed; /* shuffling, augmentation, dropout */
    /* Written after every epoch (safetensors: weights, optimizer state, epoch, RNG
     * position; temporary file then rename). NULL: no checkpoint. */
    const char *checkpoint;
    int resume; /* continue from checkpoint when it exists */
    clnet_progress_fn progress;
    void *user;
    /* Early stopping, as Keras's EarlyStopping: the monitored figure is val_loss (loss
     * when there is no validation data); the run stops after patience end-of-epoch
     * reports without a decrease of more than min_delta (0: never stops early). */
    int patience;
    float min_delta;
    /* At the end of the run (finished, stopped early or stopped by the callback at the
     * end of an epoch) the weights are those of the epoch with the best monitored loss
     * (Keras's restore_best_weights); the checkpoint keeps them across a resume. */
    int restore_best;
    /* Stored in the checkpoint as it is (copied), for the caller to find again with
     * clnet_checkpoint_note: e.g. the options of the run, so that a resume needs only the
     * checkpoint's path. NULL: none. */
    const char *note;
    /* 0 (default): the batch-norm moving statistics are recomputed from the training data
     * (clnet_model_update_bn) so that they match the weights: before each epoch's
     * validation, and at the end of the run (the last epoch, or an epoch after which the
     * progress callback stopped it) before its checkpoint. Each pass is one training-mode
     * forward; the per-epoch ones use at most CLNET_FIT_BN_IMAGES images (a seeded sample)
     * of larger training sets, the final one all of them. 1: keep the moving averages
     * training left (they lag behind the weights, badly so after short runs with momentum
     * 0.99 as Keras's). */
    int keep_bn_statistics;
} clnet_fit_options;

/* Images of the training set each per-epoch recomputation of the batch-norm statistics
 * uses at most (clnet_fit_options.keep_bn_statistics). */
#define CLNET_FIT_BN_IMAGES 4096

/* The note (clnet_fit_options.note) and the finished epochs of the checkpoint at path,
 * without a device. *note is malloc'd (clnet_free), NULL when the run stored none;
 * epochs may be NULL. A missing, truncated or foreign file is an error in err
 * (err_len bytes) naming the path. */
CLNET_API clnet_status clnet_checkpoint_note(const char *path, char **note, int *epochs, char *err,
                                             size_t err_len);

/* Trains m on train (validation on val after each epoch, when val is not NULL), with
 * the input normalization stored in the model (clnet_model_set_normalization). A loss
 * that becomes NaN or Inf, or explodes (the mean of the last steps' losses above ten
 * times the larger of ln(classes) and the run's first loss), stops with
 * CLNET_ERR_DIVERGED naming the epoch, the step, the loss and the learning rate; the
 * checkpoint of the last finished epoch is kept. */
CLNET_API clnet_status clnet_fit(clnet_model *m, const clnet_dataset *train,
                                 const clnet_dataset *val, const clnet_fit_options *o);

/* Recomputes the moving statistics of m's batch norms from d, as PyTorch's
 * torch.optim.swa_utils.update_bn does: each image of d once, in an order shuffled from
 * the model's seed (clnet_model_options.seed) as training batches them (an image folder
 * in its own order gives batches of one class, whose variances miss the variance between
 * classes), without augmentation and normalized as the model says, goes through
 * training-mode forwards of batch images (0: 32). Each batch norm that runs in training
 * mode ends with the mean over the batches of their means, and of their variances
 * (unbiased where the layer's unbiased_variance says), each batch weighted by its images.
 * Frozen batch norms (clnet_model_freeze) run in inference mode and keep theirs. Nothing
 * else changes: no weight, no gradient, not the dropout stream of training (dropout acts
 * as in training). A model without batch norms is left as it is. Costs one training-mode
 * forward over d. */
CLNET_API clnet_status clnet_model_update_bn(clnet_model *m, const clnet_dataset *d, int batch);

typedef struct clnet_eval_result {
    int images, classes;
    double loss; /* mean softmax cross-entropy of the logits; for a model ending in a
                  * softmax, the mean -log(p[label]) of its probabilities */
    double top1, top5;
    int64_t *confusion; /* classes x classes, row = true class, column = predicted; malloc'd */
} clnet_eval_result;

/* Runs d through m's inference plan in batches (normalized as the model says). The
 * model's output must be one score per class of d (1x1xclasses): else the message
 * names the output layer, its shape and the head to add. */
CLNET_API clnet_status clnet_evaluate(clnet_model *m, const clnet_dataset *d, int batch,
                                      clnet_eval_result *r);
CLNET_API void clnet_eval_result_free(clnet_eval_result *r);

/* ---- prediction ---- */

/* Decodes an image file and converts it to h x w x c as the image-folder dataset does
 * (EXIF orientation, resize, gray <-> RGB, alpha dropped), pixels scaled to [0, 1], into
 * out (h * w * c floats, HWC). The format is found from the content, not the name:
 * JPEG (libjpeg-turbo), PNG (libpng), WebP (libwebp), HEIC/HEIF/AVIF (libheif), BMP,
 * GIF, TGA, binary PNM (stb_image). Errors, with err (err_len bytes) naming the file:
 *   CLNET_ERR_IO           missing or unreadable ("photo.jpg: no such file");
 *   CLNET_ERR_UNSUPPORTED  not an image of those formats;
 *   CLNET_ERR_PARSE        truncated or corrupt, a side of 0, or a feature the
 *                          format's library lacks;
 *   CLNET_ERR_TOO_LARGE    more than CLNET_DEFAULT_MAX_PIXELS pixels (width x height,
 *                          checked from the header before decoding);
 *   CLNET_ERR_INVALID_ARG, CLNET_ERR_OUT_OF_MEMORY. */
CLNET_API clnet_status clnet_image_load(const char *path, int h, int w, int c, float *out,
                                        char *err, size_t err_len);
/* clnet_image_load with another pixel limit: max_pixels (0: CLNET_DEFAULT_MAX_PIXELS). */
CLNET_API clnet_status clnet_image_load_ex(const char *path, int h, int w, int c,
                                           uint64_t max_pixels, float *out, char *err,
                                           size_t err_len);
/* The regular files under dir and all folders below it, as image folders list a class's
 * images: symbolic links followed (each folder once, so loops end), hidden entries
 * (".name") left out, sorted by folder then name (strcmp). *paths gets *n malloc'd "dir/sub/name"
 * strings in a malloc'd array, freed by clnet_folder_list_free. Which are images is
 * for clnet_image_load to say (CLNET_ERR_UNSUPPORTED for the others). CLNET_ERR_IO
 * when dir cannot be opened. */
CLNET_API clnet_status clnet_folder_list(const char *dir, char ***paths, int *n, char *err,
                                         size_t err_len);
CLNET_API void clnet_folder_list_free(char **paths, int n);
/* Class probabilities (softmax of the logits, or the output itself for a model ending in
 * a softmax) of n images: pixels in [0, 1], HWC at the model's input size, normalized here
 * as the model says; probs gets n * classes floats. */
CLNET_API clnet_status clnet_model_predict(clnet_model *m, const float *images, int n,
                                           float *probs);

/* ---- charts ----
 * PNG files drawn without a plotting library and written to a temporary file, then
 * renamed over path (an existing file is replaced only by a complete chart). They need
 * no context, so a failure is only the status: CLNET_ERR_INVALID_ARG for bad arguments,
 * CLNET_ERR_IO when path cannot be written, CLNET_ERR_OUT_OF_MEMORY. Nothing is printed. */

/* Training curves of epochs >= 1 epochs (epoch i + 1 is element i), 1200x540: loss (from
 * 0) and accuracy side by side. The accuracy axis is 0..1, so noise never looks like
 * progress; only when every value is at least 0.5 does it start at the tenth below the
 * smallest (0.93 -> 0.9..1, 0.6 -> 0.5..1). The
 * training curve in blue, validation in orange, with a legend and epochs on the x axes.
 * val_loss and val_accuracy may be NULL or hold NAN (no validation); a non-finite value
 * leaves a gap. title may be NULL. */
CLNET_API clnet_status clnet_plot_history(const char *path, const double *loss,
                                          const double *accuracy, const double *val_loss,
                                          const double *val_accuracy, int epochs,
                                          const char *title);
/* The confusion matrix of clnet_evaluate (classes x classes, 1..1000 classes, row = true
 * class, column = predicted, counts >= 0) as a heat map coloured by each count's share
 * of its row, counts written in the cells when they fit. names: classes class names for
 * the axes (cut to 16 characters), or NULL (or a NULL entry) for the class index. title
 * may be NULL. The image grows with the classes: cells shrink to 2 pixels and names are
 * then shown for every few classes. */
CLNET_API clnet_status clnet_plot_confusion(const char *path, const int64_t *confusion, int classes,
                                            const char *const *names, const char *title);

/* ---- benchmarks ---- */

/* What a device sustains, in the manner of clpeak (clnet_device_bench_run). Kernel
 * figures are medians of device times from OpenCL profiling events after a warm-up;
 * host-side figures (transfers, launch latency, compiles) are medians of wall times.
 * GB/s and GFLOP/s count 1e9 bytes and FLOPs per second. */
typedef struct clnet_device_bench {
    char device[128];                /* device name */
    clnet_device_class device_class; /* the context's effective class */
    unsigned compute_units;
    /* FP32 multiply-adds (2 FLOPs each) in float, float2, float4, float8 and float16
     * arithmetic: gflops[i] is vector width 1 << i. */
    double gflops[5];
    double gflops_best;    /* the highest of gflops[] */
    int gflops_best_width; /* its vector width */
    /* Global memory: a kernel reading a buffer of memory_bytes with float4 [0] and
     * float16 [1] loads; a kernel copying it to another buffer, counted as bytes read
     * plus bytes written (the STREAM convention), the better of float4 and float16. */
    double read_gbs[2];
    double read_gbs_best; /* the higher of read_gbs[] */
    double copy_gbs;
    size_t memory_bytes;
    /* Transfers of transfer_bytes: blocking clEnqueueWriteBuffer / clEnqueueReadBuffer
     * with malloc'd host memory, and through a mapped CL_MEM_ALLOC_HOST_PTR buffer (map,
     * memcpy, unmap, finish). */
    double host_to_device_gbs;
    double device_to_host_gbs;
    double map_host_to_device_gbs;
    double map_device_to_host_gbs;
    size_t transfer_bytes;
    /* An empty kernel: the wall time of enqueueing it and waiting for it, and its device
     * time (profiling end - start), which a device may report as 0. */
    double launch_us;
    double launch_device_us;
    /* Building cl/<compile_program>.cl ("gemm") as clnet does: cold, from source with a
     * unique -D so no cache answers, plus storing the binary in clnet's program cache;
     * cached, from that cache entry. compile_cached_ms is 0 when the cache is disabled
     * (clnet_context_stats). */
    double compile_cold_ms;
    double compile_cached_ms;
    char compile_program[32];
} clnet_device_bench;

/* Measures the device of ctx: a few seconds (quick: smaller sizes and fewer repeats,
 * for tests; most of its time is the cold compile). quick >= 2 runs the smallest sizes
 * once, to check the kernels under a simulator such as oclgrind: its figures mean
 * nothing. Allocates up to 2 x 256 MiB on the device and 256 MiB on the host, less
 * where the device's limits are lower. Enqueues on ctx's queue and waits for it. */
CLNET_API clnet_status clnet_device_bench_run(clnet_context *ctx, int quick,
                                              clnet_device_bench *out);

/* ---- self-test: every op and kernel variant against the plain C reference ---- */

typedef struct clnet_selftest_row {
    const char *op;      /* op name */
    const char *variant; /* class whose kernels ran: "dgpu", "igpu", "cpu" */
    const char *check;   /* "forward", "forward-inference", "backward", "gradient" */
    const char *shape;   /* the case, human-readable */
    double max_abs_err;
    double max_rel_err; /* max |got - want| / (|want| + rms(want)) */
    int passed;
} clnet_selftest_row;

/* Called once per checked case; rows are valid during the call only. */
typedef void (*clnet_selftest_fn)(void *user, const clnet_selftest_row *row);

/* Runs every op of every class in classes[0..n_classes) on the device chosen by
 * opt (opt->device_class is ignored). *failed receives the number of failing rows;
 * stats (may be NULL) the program-build statistics summed over the classes' contexts.
 * Returns an error status only when the run itself could not proceed (the message
 * goes to opt->error). */
CLNET_API clnet_status clnet_selftest(const clnet_context_options *opt,
                                      const clnet_device_class *classes, int n_classes,
                                      clnet_selftest_fn report, void *user, int *failed,
                                      clnet_context_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
