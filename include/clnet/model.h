/* clnet/model.h - part of include/clnet.h (include that): models and their plans. */
#ifndef CLNET_MODEL_H
#define CLNET_MODEL_H

#include "clnet/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

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
    int concat_in_place;      /* inference: channel concatenations that copy nothing, their
                               * inputs written by their producers into the output's buffer */
} clnet_plan_stats;

/* Builds (or reuses) the plan of one mode for a batch and describes it. */
CLNET_API clnet_status clnet_model_plan_stats(clnet_model *m, int training, int batch,
                                              clnet_plan_stats *out);

#ifdef __cplusplus
}
#endif

#endif
