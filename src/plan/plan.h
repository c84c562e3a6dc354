/* plan.h - the scheduler: a graph becomes a list of steps (fuse.c: fused groups),
 * values get buffers by liveness (memory.c), and model.c runs the steps forward and
 * backward. fold.c folds batch norm into convolutions; describe.c prints a plan.
 * Tests: tests/models/test_plan.c, tests/models/test_model.c. */
#ifndef CLNET_PLAN_PLAN_H
#define CLNET_PLAN_PLAN_H

#include "graph/graph.h"

#define CLNET_MAX_MEMBERS 6

/* A tensor the plan materialises: the output of one graph layer (the last layer of
 * a fused group), at the plan's batch size. */
typedef struct clnet__value {
    int layer;
    int alias; /* -1, or the value owning the storage this view shares (never a view itself) */
    int def;   /* step that writes it; -1 for the model input */
    int first, last; /* interval on the plan's timeline during which the buffer is live */
    int slot; /* buffer, -1 for the input (the caller's tensor) and values placed in a host */
    /* Inference: -1, or the concatenation's output whose buffer holds this value in place,
     * as its channels [host_channel, host_channel + c) (memory.c): its producer writes it
     * strided (clnet__op_call's out_stride, out_offset) and the concatenation runs nothing. */
    int host, host_channel;
    clnet_tensor view; /* the value's shape on its slot's buffer (borrowed) */
    /* The caller reads it after the forward (clnet_model_keep_output): live to the end. */
    int kept;
    /* Training: its gradient, computed only when a trainable (unfrozen) weight lies
     * upstream of it (needs_grad). */
    int needs_grad;
    int grad_first, grad_last, grad_slot;
    clnet_tensor grad_view;
} clnet__value;

/* One launch group: an op (params possibly changed by fusion) on values. */
typedef struct clnet__step {
    const clnet__op_desc *op;
    void *params; /* owned copy */
    int n_members;
    int members[CLNET_MAX_MEMBERS]; /* graph layers run by this step, in order */
    int fold_bn;                    /* graph layer of a batch norm folded into w, or -1 */
    int n_in;
    int in[CLNET_MAX_INPUTS]; /* values */
    int out;                  /* value */
    int n_w;
    int w_index[CLNET_MAX_WEIGHTS]; /* model weight indices (-1: folded, owned below) */
    clnet_tensor *folded[2];        /* inference: kernel and bias with the BN folded in */
    clnet_tensor *prepacked;        /* inference: exec.prepacked_bytes of the op's (fold.c) */
    int n_saved;
    clnet_tensor *saved[CLNET_MAX_SAVED]; /* training: what backward needs from forward */
    /* Training plans, decided when the plan is built from the model's frozen weights: */
    int inference; /* runs in inference mode: a frozen op with moving statistics (Keras), or a
                    * dropout while dropout is off (clnet_model_set_dropout) */
    int backward;  /* its backward runs: a trainable weight lies in or upstream of it */
    int w_grad[CLNET_MAX_WEIGHTS]; /* weight k's gradient is computed (trainable, unfrozen) */
    /* What the op will do, recorded when the plan is built (fuse.c, clnet__op_prepare),
     * and its scratch for forward (0) and backward (1): buffers of the memory plan, live
     * during the step only (memory.c). */
    clnet__op_exec exec;
    clnet__scratch scratch[2];
    int scratch_slot[2][CLNET_SCRATCH_COUNT];
    /* Inference: a concatenation whose inputs the memory plan placed in its output (their
     * values' host): the step runs nothing. */
    int in_place;
} clnet__step;

/* The training plan's last step: the softmax cross-entropy of its output (the logits,
 * n x 1 x 1 x classes) against integer labels, its gradient and the step's figures
 * (loss_step.c). Buffers made with the plan, for its batch; counted in its memory. */
typedef struct clnet__loss_step {
    int classes;            /* 0: the output is not one score per class (no loss step) */
    cl_mem labels;          /* batch ints */
    cl_mem class_weight;    /* classes floats */
    cl_mem partial;         /* 2 * batch floats: each row's weighted loss and hit */
    cl_mem result;          /* 2 floats: the mean loss, the hits */
    clnet_tensor *dlogits;  /* the output's gradient, the plan's batch */
    clnet__scratch scratch; /* the fixed-order sum's partials */
    uint64_t bytes;
} clnet__loss_step;

typedef struct clnet__plan {
    int training;
    int batch; /* images its buffers and records are made for: the largest batch it runs */
    int n;     /* images of the batch the views describe now (clnet__plan_set_batch) */
    clnet__step *steps;
    int n_steps;
    clnet__value *values;
    int n_values;
    int input, output; /* values */
    cl_mem *slots;
    size_t *slot_bytes;
    int n_slots;
    /* Training: gradient temporaries for values read by several steps (their
     * contributions are summed). */
    clnet_tensor *acc[CLNET_MAX_INPUTS];
    int n_acc;
    uint64_t planned_bytes, unplanned_bytes;
    uint64_t scratch_bytes; /* the largest scratch of one step (included in the above) */
    int fused_bn, fused_act, fused_add, layers;
    int concat_in_place; /* concatenations whose inputs are written in place (memory.c) */
    /* Training: steps run backward; ops with moving statistics in training mode (updated
     * by a forward) and in inference mode (frozen). */
    int backward_steps, moving_stats, frozen_stats;
    uint64_t folded_version; /* the model's weights_version the folds were made from */
    uint64_t freeze_version; /* the model's freeze_version the plan was built for */
    uint64_t tune_version;   /* the context's tuning database the records were made from */
    /* The model's options_version (kept outputs, dropout) the plan was built for. */
    uint64_t options_version;
    clnet__loss_step loss; /* training plans */
} clnet__plan;

struct clnet_model {
    clnet_context *ctx;
    clnet_graph *graph; /* own copy */
    clnet_model_options opt;
    int n_weights;
    int *weight_base;        /* per layer: index of its first weight */
    clnet_weight_info *info; /* per weight */
    clnet_tensor **w, **dw;  /* per weight; dw NULL for non-trainable */
    int *frozen;             /* per weight: fine-tuning keeps it (finetune.c) */
    uint64_t freeze_version; /* changes with frozen[]: training plans are rebuilt */
    uint64_t weights_version;
    /* Plan options (outputs.c): layers whose outputs forwards keep, per layer (NULL: none),
     * and dropout turned off in training; options_version changes with them. */
    unsigned char *kept;
    int dropout_off;
    uint64_t options_version;
    clnet__plan *plans[2]; /* inference, training; rebuilt when the batch changes */
    clnet__plan *ran;      /* plan of the last forward */
    int ran_batch;         /* images of the last forward (more than ran's when sliced) */
    uint64_t step_seed;    /* seed of the last training forward (dropout) */
    uint64_t steps_run;
    int input_layer;
    uint64_t image_bytes;      /* the largest layer output of one image (slicing) */
    int image_bytes_layer;     /* its layer */
    clnet_tensor *output;      /* sliced inference: the whole batch's output */
    clnet_tensor *slice_input; /* sliced inference: one slice of x */
    int slice;                 /* images per inference slice; 0: the whole batch */
    char **labels;             /* class names (src/io/model_file.c), n_labels of them, owned */
    int n_labels;
    float mean[4], std[4]; /* input normalization per channel (identity: 0 and 1) */
    float center_crop;     /* the images' resize (clnet_model_set_center_crop) */
    int poison;            /* tests: fill dead buffers with NaN after each step */
    /* Profiling (profile.c): called before (after = 0) and after each step's launches. */
    void (*hook)(void *user, const clnet__plan *p, int step, int backward, int after);
    void *hook_user;
    /* Data parallelism (train/dist.c): called after each backward step's launches, so
     * gradients finished by then can be read back while backward goes on. */
    void (*grad_hook)(void *user, const clnet__plan *p, int step);
    void *grad_hook_user;
    /* --sync-bn (train/dist.c): given to every op call of a training plan, so its batch
     * norms compute their statistics over every rank's images. NULL: this process's. */
    const clnet__op_sync *sync;
    struct profile *profile;  /* the last clnet_model_profile's rows (profile.c) */
    struct tune_result *tune; /* the last clnet_model_tune's rows (tune.c) */
    uint64_t slice_limit;     /* tests: the largest buffer instead of the device's */
    uint64_t memory_limit;    /* tests: the global memory instead of the device's */
};

/* The value whose buffer v uses: itself, or the owner of the storage a view shares. */
static inline int clnet__value_owner(const clnet__plan *p, int v)
{
    return p->values[v].alias >= 0 ? p->values[v].alias : v;
}

/* The value whose buffer holds v's data: its owner, or the concatenation hosting it. */
static inline int clnet__value_storage(const clnet__plan *p, int v)
{
    const int o = clnet__value_owner(p, v);
    return p->values[o].host >= 0 ? p->values[o].host : o;
}

/* A step's fused activation and use_bias fields, where its op has them (else NULL). */
static inline clnet__act *clnet__params_act(const clnet__op_desc *op, void *params)
{
    return op->flags & CLNET_OP_FUSED_ACT ? (clnet__act *)((char *)params + op->act_offset) : NULL;
}

static inline int *clnet__params_use_bias(const clnet__op_desc *op, void *params)
{
    return op->flags & CLNET_OP_OPTIONAL_BIAS ? (int *)((char *)params + op->bias_offset) : NULL;
}

/* Where the logits of a graph ending in a softmax are: the input of a final softmax
 * layer (*fused = 0), or the last layer itself when its fused activation is softmax
 * (dense; *fused = 1: the layer without its activation gives the logits). -1 when the
 * output is not a softmax (or is the softmax of the model's input). The training plan
 * ends at the logits, since the loss is the softmax cross-entropy of the logits as
 * Keras computes it; inference gives the probabilities (clnet_evaluate and
 * clnet_model_predict then skip their own softmax). */
int clnet__graph_logits(const clnet_graph *g, int *fused);

/* clnet_model_create; init = 0 leaves the weights unset for a caller that writes them all
 * next (clnet_model_load). */
clnet_status clnet__model_create(clnet_context *ctx, const clnet_graph *g,
                                 const clnet_model_options *opt, int init, clnet_model **out);

/* Sets the views of every value and gradient of p to n images (n <= p->batch). */
void clnet__plan_set_batch(clnet__plan *p, int n);
/* Builds the steps of a plan: fused groups (unless no_fusion) in execution order,
 * and the values they read and write. The training plan's output is the logits of a
 * graph ending in a softmax (clnet__graph_logits). Then each step's prepare records what
 * its op will do on the model's device (exec). No device work. */
clnet_status clnet__plan_build(const clnet_model *m, int training, int batch, clnet__plan **out);
/* Assigns buffers to values by liveness (or one each when disabled) and allocates
 * them with the step state (saved tensors, gradient temporaries, folded weights). */
clnet_status clnet__plan_allocate(clnet_model *m, clnet__plan *p);
void clnet__plan_free(clnet__plan *p);
/* The plan a forward of batch images in this mode runs (built and allocated, or the
 * cached one when its batch is at least the slice), with its views set to a slice, and
 * the images per slice it runs them in. A plan serves every batch up to its own: a
 * partial last batch or alternating sizes neither re-plan nor re-allocate. */
clnet_status clnet__model_plan(clnet_model *m, int training, int batch, clnet__plan **p,
                               int *slice);
/* For a rank without an image of this step (m->sync set): joins, in order, the exchanges
 * a training forward (backward: a backward) would make (clnet__op_desc.sync_idle), the
 * moving statistics following the global batch's as the others' do (momentum not NULL:
 * clnet__model_forward_momentum's). */
clnet_status clnet__model_sync_idle(clnet_model *m, int backward, const float *momentum);
/* A training forward of x whose ops with moving statistics (batch norms in training
 * mode) use momentum instead of their own, so that over batches of n_i images with
 * momentum seen / (seen + n_i) the statistics become the exact batch-size-weighted mean
 * of the batch statistics (clnet_model_update_bn). No gradients are touched, and the
 * dropout stream of training (steps_run) does not advance. */
clnet_status clnet__model_forward_momentum(clnet_model *m, const clnet_tensor *x, float momentum);
/* The bytes of p's loss step (0 unless p trains a model with one score per class), and
 * its buffers; freed with the plan (loss_step.c). */
uint64_t clnet__loss_step_size(const clnet_model *m, clnet__plan *p);
clnet_status clnet__loss_step_allocate(clnet_model *m, clnet__plan *p);
void clnet__loss_step_free(clnet__loss_step *l);
/* Each of n labels a class in [0, classes), else CLNET_ERR_INVALID_ARG naming the first
 * that is not. */
clnet_status clnet__labels_check(clnet_context *ctx, const int *labels, int n, int classes);
/* Enqueues the loss step of the last training forward against labels (one per image in
 * [0, classes), checked here; read by the device later: they must stay unchanged until
 * the next host wait) with per-class weights cw (NULL: none; the same rule) and label
 * smoothing ls: *dlogits (borrowed) gets the gradient for clnet_model_backward and
 * *result the device buffer {mean loss, hits}. images > 0: the loss and gradient are
 * the sums over this batch divided by images instead of its size (a data-parallel
 * step's share of the global batch's mean). Nothing waits. */
clnet_status clnet__model_loss(clnet_model *m, const int *labels, const float *cw, float ls,
                               int images, clnet_tensor **dlogits, cl_mem *result);
/* The step's weights (the model's, or the plan's folded ones), and (dw not NULL) the
 * gradients its backward computes: NULL for frozen and non-trainable weights. */
void clnet__step_weights(clnet_model *m, const clnet__step *s, clnet_tensor **w, clnet_tensor **dw);
/* Refolds the batch norms of an inference plan into its convolutions (host, double) and
 * refills its steps' prepacked weights, when the model's weights changed since. */
clnet_status clnet__plan_fold(clnet_model *m, clnet__plan *p);

/* Whether the caller asked forwards to keep layer's output (clnet_model_keep_output): the
 * plan then materializes it (nothing fuses past it) and keeps its buffer to the end. */
int clnet__model_kept(const clnet_model *m, int layer);

/* Frees the last profile's rows (profile.c). */
void clnet__profile_free(clnet_model *m);
/* Frees the last tune's rows (tune.c). */
void clnet__tune_free(clnet_model *m);

/* The kernels of one step on this context, e.g. "im2col + gemm packed + epilogue(bias,
 * relu)" (describe.c). */
void clnet__step_kernels(const clnet_model *m, const clnet__plan *p, const clnet__step *s,
                         char *buf, size_t len);

/* Does op's backward read the data of its input i / its output? (conservative) */
int clnet__bwd_reads_input(const clnet__op_desc *op);
int clnet__bwd_reads_output(const clnet__op_desc *op);

#endif
