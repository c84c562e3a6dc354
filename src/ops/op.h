/* op.h - the op interface: every op (src/ops/<op>.c) fills one clnet__op_desc with
 * its parameter parsing, shape inference, weights, FLOP count, device forward and
 * backward, and its plain C reference (src/ref/<op>.c). The registry is the X-macro
 * list in op_list.h. check.c runs any op against its reference. */
#ifndef CLNET_OPS_OP_H
#define CLNET_OPS_OP_H

#include <stddef.h>

#include "gemm/gemm.h"
#include "ops/kv.h"
#include "ops/op_params.h"
#include "tensor/tensor.h"

#define CLNET_MAX_INPUTS 8
#define CLNET_MAX_WEIGHTS 4
#define CLNET_MAX_SAVED 4

/* A parameter tensor of an op, in the order the op's kernels take them. */
typedef struct clnet__weight_desc {
    const char *name; /* Keras's: "kernel", "bias", "gamma", "beta", "moving_mean", ... */
    clnet_shape shape;
    int trainable;   /* 0: updated by forward (BN moving statistics), never by gradients */
    clnet_init init; /* default initializer with init_a, init_b (zeros: UNIFORM 0 0) */
    float init_a, init_b;
    float test_lo, test_hi; /* range of random values in checks (variance must be > 0) */
} clnet__weight_desc;

#define CLNET_EXEC_GEMMS 4

/* The training argument of prepare steps: 0 inference only; TRAINING forward in training
 * mode and backward; with NO_DX, backward never wants input 0's gradient (the step reads
 * the model's input), so what only that gradient needs is left out. */
/* PREPACK (inference plans, clnet__op_prepare only): the weights stay constant between
 * calls, so the op may keep them rearranged for its kernels (exec->prepacked_bytes); ops
 * see it as exec->prepack, never in training. */
enum { CLNET_PREPARE_TRAINING = 1, CLNET_PREPARE_NO_DX = 2, CLNET_PREPARE_PREPACK = 4 };

/* What an op will do on a device for its parameters and the largest shapes it runs,
 * decided once by its prepare step when a plan is built (or before a call outside a
 * plan): forward, backward, `clnet plan`, profiles and the tuner read it, and nothing on
 * the run path decides again (no environment, no tuning database). It serves any batch up
 * to the one it was made for: work sizes follow the actual shapes, the choices do not. */
typedef struct clnet__op_exec {
    char forward[96], backward[160]; /* what runs: "im2col + gemm packed (tuned)" */
    int algo, algo_dx; /* op-specific choices (conv2d: clnet__conv_algo of forward and dX) */
    int tuned;         /* choices the tuning database made */
    int tuned_algos;   /* conv2d: bit 0 forward's algorithm, bit 1 dX's, from the database */
    int chunk;         /* op-specific: images per im2col or Winograd chunk */
    int n_gemms;
    clnet__gemm_plan gemm[CLNET_EXEC_GEMMS]; /* op-specific roles (conv2d.c: fwd, dx, dw) */
    int gemm_backward[CLNET_EXEC_GEMMS];     /* the GEMM runs in backward only */
    /* Scratch bytes of each kind a forward (0) and a backward (1) call uses at most. */
    size_t scratch[2][CLNET_SCRATCH_COUNT];
    /* Forward can write its output strided (clnet__op_call's out_stride and out_offset):
     * the memory plan may then place the output inside a concatenation's buffer
     * (src/plan/memory.c). Ops that do not set it are never called with a strided output. */
    int strided_out;
    /* The forward's GEMM applies the epilogue (bias, residual, activation) as it stores
     * its output, with no pass of its own (conv2d on the packed GEMM). */
    int fused_epilogue;
    /* The forward runs its epilogue as a kernel of its own after the product (conv2d's
     * other GEMM and grouped paths); other ops' kernels apply theirs as they store. */
    int epilogue_pass;
    /* prepack: the caller allows weights kept rearranged (CLNET_PREPARE_PREPACK);
     * prepacked_bytes: what the op keeps, filled by its prepack step whenever the weights
     * change and passed to every forward as clnet__op_call.prepacked (0: none). */
    int prepack;
    size_t prepacked_bytes;
} clnet__op_exec;

/* Data-parallel ops (train/dist.c): sum sums n doubles over the ranks in place, a
 * collective every rank makes in the same order (what names it in a timeout's error). */
typedef struct clnet__op_sync {
    clnet_status (*sum)(void *user, double *v, int n, const char *what);
    void *user;
} clnet__op_sync;

/* One device invocation. Forward reads in/w (and saved, in backward) and writes
 * out; in training it may update non-trainable weights and fill saved. Backward
 * writes din[i] (NULL: not wanted) and dw[i] (NULL for non-trainable or frozen);
 * gradients are overwritten, never accumulated. Ops only enqueue. exec is what the op's
 * prepare step recorded for shapes at least as large as these; scratch holds what it
 * recorded for this direction. Fields are named at every call site. */
typedef struct clnet__op_call {
    clnet_context *ctx;
    const void *params;
    int n_in;
    clnet_tensor *const *in;
    clnet_tensor *out;
    int n_w;
    clnet_tensor *const *w;
    clnet_tensor *const *saved; /* op state kept from forward for backward */
    int training;
    uint64_t seed; /* per step: dropout masks */
    clnet_tensor *dout;
    clnet_tensor *const *din;
    clnet_tensor *const *dw;
    const clnet__op_exec *exec;
    const clnet__scratch *scratch;
    /* Forward's output inside a wider tensor: pixel p's channel c at out->buf[out_offset +
     * p * out_stride + c]. out_stride 0: contiguous (out->shape.c, offset 0). Only for ops
     * whose record says strided_out; the rest of the wide buffer is left alone. */
    int out_stride;
    size_t out_offset;
    /* exec->prepacked_bytes of weights the op's prepack step rearranged (NULL: none). */
    cl_mem prepacked;
    /* Training over several ranks whose ops of a sync_idle descriptor compute over the
     * global batch (batch norm's statistics, --sync-bn); NULL: this process's batch. */
    const clnet__op_sync *sync;
} clnet__op_call;

/* The same invocation for the plain C reference, in double. Forward may update
 * non-trainable w in training. Backward may recompute anything from in/out/w. */
typedef struct clnet__ref_args {
    const void *params;
    int n_in;
    const clnet_shape *in_shape;
    const double *const *in;
    clnet_shape out_shape;
    double *out;
    int n_w;
    const clnet_shape *w_shape;
    double *const *w;
    int training;
    uint64_t seed;
    const double *dout;
    double *const *din;
    double *const *dw;
} clnet__ref_args;

/* A self-test / test case: parameters as spec text and the input shapes. Inputs
 * are uniform in (-scale, scale); scale 0 means 1. */
typedef struct clnet__op_case {
    const char *params;
    int n_in;
    clnet_shape in[3];
    float scale;
} clnet__op_case;

enum {
    CLNET_OP_MODE_DEPENDENT = 1 << 0, /* training and inference differ (BN, dropout) */
    /* Input 1 holds target distributions and an input 2, if any, per-row weights (not
     * negative): neither gets a gradient. */
    CLNET_OP_LABELS_INPUT1 = 1 << 1,
    CLNET_OP_NOT_SMOOTH = 1 << 2, /* gradient check must avoid kinks (max, relu) */
    /* What backward reads, for the memory plan (src/plan/memory.c): without these flags an
     * op's backward may read the data of its inputs and of its output. */
    CLNET_OP_BWD_INPUT_SHAPE_ONLY = 1 << 3, /* backward reads its inputs' shapes, not data */
    CLNET_OP_BWD_NO_OUTPUT = 1 << 4,        /* backward never reads its output */
    /* The params hold a fused clnet__act at act_offset: any activation of the table
     * (activation.h) runs inside the op. */
    CLNET_OP_FUSED_ACT = 1 << 5,
    /* The params hold an int use_bias at bias_offset, weight 0 is an HWIO kernel with the
     * output channel last and weight 1 the bias: a batch norm after it folds in (fold.c). */
    CLNET_OP_OPTIONAL_BIAS = 1 << 6,
    /* The params hold a float momentum at momentum_offset: a training forward moves the op's
     * non-trainable weights (moving statistics) as moving = momentum * moving + (1 - momentum)
     * * batch. The executor may override it for one forward (clnet_model_update_bn), and runs
     * the op in inference mode when its trainable weights are frozen (Keras's semantics). */
    CLNET_OP_MOVING_STATS = 1 << 7,
    /* The output is a probability distribution over the channels (softmax): a graph ending
     * in this op is trained on the logits before it (src/plan/fuse.c, clnet__graph_logits). */
    CLNET_OP_PROBABILITIES = 1 << 8,
    /* The op applies the clnet__act at act_offset and nothing else (the activation table's
     * standalone ops): the fusion passes fold it into the epilogue of the op before it. */
    CLNET_OP_ACTIVATION = 1 << 9,
    /* Summaries and pictures show the output as (None, c), as Keras shows Flatten and the
     * global pools; other ops do when all their inputs are so shown and the output is 1x1. */
    CLNET_OP_RANK2 = 1 << 10,
    /* The identity in inference (dropout, stochastic depth): inference plans make it a view
     * of its input, and fusion looks through it (src/plan/fuse.c), so a residual branch's
     * stochastic depth does not keep its add out of the convolution. */
    CLNET_OP_INFERENCE_IDENTITY = 1 << 11,
    /* The output is the inputs side by side along the channels, in order (concatenate): an
     * inference memory plan may have the inputs' producers write straight into the output's
     * channel blocks and the step then runs nothing (src/plan/memory.c). */
    CLNET_OP_CHANNEL_CONCAT = 1 << 12,
};

/* Key rows several ops share (their parse functions read them through window.c / the
 * kv getters the same way). */
#define CLNET_KEY_PADDING                                                                          \
    {                                                                                              \
        "padding", "valid|same|p|ph, pw|t, b, l, r", "valid",                                      \
            "Keras valid (none) or same, or explicit cells of zeros (PyTorch's padding)", "same"   \
    }
#define CLNET_KEY_KERNEL_SIZE                                                                      \
    {                                                                                              \
        "kernel_size", "int or h, w", NULL, "window height and width", "3"                         \
    }
#define CLNET_KEY_STRIDES                                                                          \
    {                                                                                              \
        "strides", "int or h, w", "1", "step of the window", "2"                                   \
    }
#define CLNET_KEY_USE_BIAS                                                                         \
    {                                                                                              \
        "use_bias", "bool", "true", "add a learned bias per output channel", "false"               \
    }
/* CLNET_KEY_ACTIVATION: activation.h, its values from the activation table. */

/* The family an op belongs to in pictures (src/graph/dot.c colours and lists them).
 * NONE is no family: tests/unit/test_registry.c refuses it. */
typedef enum clnet__op_family {
    CLNET_FAMILY_NONE = 0,
    CLNET_FAMILY_CONVOLUTION,
    CLNET_FAMILY_NORMALIZATION,
    CLNET_FAMILY_ACTIVATION,
    CLNET_FAMILY_POOLING,
    CLNET_FAMILY_MERGE,
    CLNET_FAMILY_DENSE,
    CLNET_FAMILY_LOSS,
    CLNET_FAMILY_RESHAPE, /* padding, reshaping, dropout */
    CLNET_FAMILY_COUNT
} clnet__op_family;

typedef struct clnet__op_desc {
    const char *name;
    const char *keras;       /* Keras's class name ("Conv2D"): summaries, suggestions */
    clnet__op_family family; /* its group in pictures */
    /* The parameters a reader looks for after the Keras type in pictures, into buf ("3x3/2,
     * 64 + ReLU"; may be empty). NULL: nothing to show (only ops without keys). */
    void (*describe)(const void *params, char *buf, size_t len);
    const char *description; /* one line, for `clnet ops` */
    /* Every key parse reads, documented (tests/unit/test_op_keys.c checks both ways). */
    const clnet_op_key *keys;
    int n_keys;
    size_t params_size;
    int min_inputs, max_inputs;
    unsigned flags;
    /* Within params: see CLNET_OP_FUSED_ACT (and _ACTIVATION), _OPTIONAL_BIAS and
     * _MOVING_STATS. */
    size_t act_offset, bias_offset, momentum_offset;
    /* Fills params (params_size bytes, zeroed by the caller) from kv; the caller
     * (clnet__op_parse_at) rejects the keys it did not read, naming the op's keys. */
    clnet_status (*parse)(clnet_context *ctx, clnet__kv *kv, void *params);
    /* Output shape; a mismatch is CLNET_ERR_SHAPE naming the shapes. */
    clnet_status (*infer)(clnet_context *ctx, const void *params, const clnet_shape *in, int n_in,
                          clnet_shape *out);
    /* May be NULL (no weights). Returns the count written to w. */
    int (*weights)(const void *params, const clnet_shape *in, int n_in, clnet__weight_desc *w);
    /* May be NULL (nothing saved). Returns the count written to saved. */
    int (*saved)(const void *params, const clnet_shape *in, int n_in, clnet_shape *saved);
    /* Multiply-adds of one forward pass. */
    double (*flops)(const void *params, const clnet_shape *in, int n_in, clnet_shape out);
    /* May be NULL (no choices, no scratch: "<op>_forward" / "<op>_backward"). Records in e
     * (zeroed, names preset) what the op will do on ctx for inputs in (the largest batch
     * it will run) and output out; training (CLNET_PREPARE_*) adds what backward needs.
     * The only place an op consults the tuning database or ctx->conv_algo. */
    clnet_status (*prepare)(clnet_context *ctx, const void *params, const clnet_shape *in, int n_in,
                            clnet_shape out, int training, clnet__op_exec *e);
    clnet_status (*forward)(const clnet__op_call *call);
    /* May be NULL. Writes exec->prepacked_bytes of the op's kernel (its first weight, on
     * the host) rearranged to out (host memory; the caller uploads it). */
    clnet_status (*prepack)(clnet_context *ctx, const void *params, const clnet_shape *in, int n_in,
                            const clnet__op_exec *e, const float *kernel, float *out);
    clnet_status (*backward)(const clnet__op_call *call);
    /* May be NULL (the op never exchanges). With call->sync, the op's training forward
     * (backward: its backward) sums over the ranks; this joins the same exchanges with
     * nothing of its own, for a rank without an image of the batch, so every rank makes
     * the same collectives in the same order, and updates what the forward would from
     * the global sums (moving statistics). call is a training call whose out has n = 0;
     * in, dout, din and dw are unset. */
    clnet_status (*sync_idle)(const clnet__op_call *call, int backward);
    void (*ref_forward)(const clnet__ref_args *a);
    void (*ref_backward)(const clnet__ref_args *a);
    const clnet__op_case *cases; /* self-test cases, awkward shapes included */
    int n_cases;
} clnet__op_desc;

/* The registry (op_list.h). */
#define CLNET_OP(name) extern const clnet__op_desc clnet__op_##name;
#include "ops/op_list.h"
#undef CLNET_OP

const clnet__op_desc *clnet__op_find(const char *name);
/* The op a user probably meant by an unknown name: the same name in another case or
 * spelling ("Conv2D", "batchnorm", "MaxPool2D"), its Keras class name
 * ("BatchNormalization"), or the nearest by edit distance; NULL when nothing is close. */
const clnet__op_desc *clnet__op_suggest(const char *name);
/* "did you mean conv2d? `clnet ops` lists them: add, avg_pool, ..." into buf: the hint
 * appended to an unknown-op message. with_input adds the input pseudo-op to the list. */
const char *clnet__op_unknown_hint(const char *name, int with_input, char *buf, size_t len);
/* The edit distance of two names when a is close enough to b to suggest b for it (the
 * rule of the op suggestions, also used for layer names), else -1. */
int clnet__name_near(const char *a, const char *b);
/* All ops in registry order; *count gets their number. */
const clnet__op_desc *const *clnet__op_all(int *count);

/* op's execution record for inputs in (op->prepare, or the names alone). */
clnet_status clnet__op_prepare(clnet_context *ctx, const clnet__op_desc *op, const void *params,
                               const clnet_shape *in, int n_in, int training, clnet__op_exec *e);

/* An op prepared for calls outside a plan (checks, tests, benchmarks, the loss until it
 * joins the training plan): its record and scratch of its own for both directions. */
typedef struct clnet__op_alone {
    clnet__op_exec exec;
    clnet__scratch scratch;
} clnet__op_alone;
clnet_status clnet__op_alone_prepare(clnet_context *ctx, const clnet__op_desc *op,
                                     const void *params, const clnet_shape *in, int n_in,
                                     int training, clnet__op_alone *a);
void clnet__op_alone_release(clnet__op_alone *a);

/* Parses spec text into a malloc'd params block (caller frees). */
clnet_status clnet__op_parse(clnet_context *ctx, const clnet__op_desc *op, const char *text,
                             const char *where, void **params);
/* The same for text that starts at line first_line of a file, so messages give the
 * file's line numbers. */
clnet_status clnet__op_parse_at(clnet_context *ctx, const clnet__op_desc *op, const char *text,
                                const char *where, int first_line, void **params);

/* Shapes for messages: "2x7x9x16". buf of 48 bytes is enough. */
const char *clnet__shape_str(clnet_shape s, char *buf, size_t len);

/* Whether s is within the limits of kv.h: an activation (weight 0: its sides and
 * channels at most CLNET_MAX_DIM, an image h * w * c at most CLNET_MAX_ELEMENTS; n is the
 * batch) or a weight (weight 1: all four dimensions and their product). Otherwise
 * CLNET_ERR_TOO_LARGE (CLNET_ERR_SHAPE for a dimension below 1) with a message starting
 * with what. Computed in 64 bits. */
clnet_status clnet__check_shape(clnet_context *ctx, const char *what, clnet_shape s, int weight);
/* An infer's output {n, h, w, c} computed in 64 bits, checked as an activation by
 * clnet__check_shape (what: the op and the keys that made it) before it is narrowed. */
clnet_status clnet__op_out_shape(clnet_context *ctx, const char *what, int64_t n, int64_t h,
                                 int64_t w, int64_t c, clnet_shape *out);

/* rate (default 0.5, in [0, 1)) and seed (>= 0) into a clnet__dropout_params: the parse
 * of dropout and stochastic_depth (dropout.c). */
clnet_status clnet__dropout_parse(clnet_context *ctx, clnet__kv *kv, void *params);
/* y = x dropped in training by element (dropout) or, by_image, by whole image
 * (stochastic_depth), the kept values scaled by 1 / (1 - rate); a copy in inference.
 * Backward is the same map on dy (dropout.c, kernels cl/dropout.cl). */
clnet_status clnet__dropout_apply(const clnet__op_call *call, clnet_tensor *x, clnet_tensor *y,
                                  int by_image);

/* infer and flops of one-input ops whose output has the input's shape and costs one
 * operation per element (dropout, softmax, activations). */
clnet_status clnet__op_same_shape(clnet_context *ctx, const void *params, const clnet_shape *in,
                                  int n_in, clnet_shape *out);
double clnet__op_flops_per_element(const void *params, const clnet_shape *in, int n_in,
                                   clnet_shape out);
/* parse of ops without keys (the caller rejects any), and flops of ops that only move
 * data (copies, slices, permutations): 0. */
clnet_status clnet__op_parse_none(clnet_context *ctx, clnet__kv *kv, void *params);
double clnet__op_flops_none(const void *params, const clnet_shape *in, int n_in, clnet_shape out);

/* ---- checks against the reference (check.c) ---- */

typedef struct clnet__check_row {
    const char *check; /* "forward", "forward-inference", "backward", "gradient" */
    double max_abs, max_rel;
    int passed;
} clnet__check_row;

typedef void (*clnet__check_fn)(void *user, const clnet__op_desc *op, const clnet__op_case *c,
                                const clnet__check_row *row);

/* Runs the op on the device (forward in each mode, then backward) against its
 * reference on seeded random data; reports one row per check. Passing means
 * |got - want| <= rtol * (|want| + rms(want)) everywhere. *failed counts failures. */
clnet_status clnet__op_check(clnet_context *ctx, const clnet__op_desc *op, const clnet__op_case *c,
                             uint64_t seed, double rtol, clnet__check_fn report, void *user,
                             int *failed);
/* Checks the reference backward against central finite differences of the
 * reference forward, in double (no device). Reports one "gradient" row. */
clnet_status clnet__op_gradcheck(clnet_context *ctx, const clnet__op_desc *op,
                                 const clnet__op_case *c, uint64_t seed, clnet__check_fn report,
                                 void *user, int *failed);

#endif
