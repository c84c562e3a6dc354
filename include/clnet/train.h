/* clnet/train.h - part of include/clnet.h (include that): optimizers, training steps, profiling,
 * tuning, model files, fine-tuning, datasets, fit, evaluate, prediction. */
#ifndef CLNET_TRAIN_H
#define CLNET_TRAIN_H

#include "clnet/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- training: optimizers, learning-rate schedules ---- */

typedef struct clnet_optimizer clnet_optimizer;
typedef struct clnet_comm clnet_comm;

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
/* Sets the momentum of the next steps: SGD's and RMSprop's (which must have been created
 * with momentum, so that they keep its buffer), Adam's beta1. In [0, 1). */
CLNET_API clnet_status clnet_optimizer_set_momentum(clnet_optimizer *o, float momentum);

typedef enum clnet_schedule_kind {
    CLNET_LR_CONSTANT = 0,
    CLNET_LR_STEP = 1,   /* lr * gamma^(floor(epoch / step_epochs)) */
    CLNET_LR_COSINE = 2, /* from lr down to min_lr over the run, half a cosine */
    /* Smith's one-cycle policy, as PyTorch's OneCycleLR (anneal_strategy "cos",
     * three_phase False): from lr / div_factor up to lr over the first pct_start of the
     * run, then down to min_lr, each by half a cosine; the momentum (SGD, RMSprop) or
     * Adam's beta1 goes the other way, from the optimizer's own down to momentum_low at
     * the peak and back (clnet_schedule_momentum). */
    CLNET_LR_ONECYCLE = 3
} clnet_schedule_kind;

typedef struct clnet_schedule {
    clnet_schedule_kind kind;
    float lr;           /* base learning rate */
    float min_lr;       /* cosine: the final rate */
    float gamma;        /* step: factor every step_epochs epochs (0: 0.1) */
    int step_epochs;    /* step: 0 means 30 */
    int warmup_steps;   /* linear warm-up from lr / warmup_steps over these steps */
    float pct_start;    /* onecycle: the share of the run spent rising; 0: 0.3 */
    float div_factor;   /* onecycle: the run starts at lr / div_factor; 0: 25 */
    float momentum_low; /* onecycle: the momentum at the peak of lr; 0: 0.85 (not above the
                         * optimizer's own, and never when it has none) */
} clnet_schedule;

/* The learning rate at optimizer step `step` (0-based) of a run of total_steps steps,
 * steps_per_epoch of them per epoch. */
CLNET_API float clnet_schedule_lr(const clnet_schedule *s, int64_t step, int64_t total_steps,
                                  int64_t steps_per_epoch);

/* The momentum (SGD's or RMSprop's) or Adam's beta1 at step `step` of a run of total_steps,
 * given the optimizer's own, momentum: cycled by the one-cycle schedule, else momentum. */
CLNET_API float clnet_schedule_momentum(const clnet_schedule *s, int64_t step, int64_t total_steps,
                                        float momentum);

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
/* The resize the model was trained or is to be evaluated with, for clnet_dataset_options
 * and clnet_image_options' center_crop: 0 (the default) resizes a whole image to the
 * input size, f in (0, 1] keeps the centre crop of that fraction (0.875 is torchvision's
 * Resize(256) + CenterCrop(224)). Stored in the model file. */
CLNET_API clnet_status clnet_model_set_center_crop(clnet_model *m, float center_crop);
CLNET_API float clnet_model_center_crop(const clnet_model *m);

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

/* ---- ONNX: models from PyTorch, Keras (tf2onnx) and the rest, and back ---- */

/* Options of clnet_model_import_onnx; zero fields take the defaults. */
typedef struct clnet_onnx_options {
    int h, w, c; /* the input per image where the model's is symbolic (or to run it at
                  * another size); 0: the model's own */
} clnet_onnx_options;

/* Reads an ONNX model (opsets 7 to 17, IR versions 3 to 8, weights inside the file or in
 * external data files beside it) into a new model on ctx, its NCHW weights transposed to
 * clnet's layouts once, here. Constant chains (Shape, Gather, Unsqueeze, Concat, Reshape,
 * Slice, ...) are folded, and known subgraphs become clnet's ops (x * Sigmoid(x) a
 * swish, the LayerNorm and GELU subgraphs, transposes around NHWC ops...); layers are
 * named after the ONNX nodes. What cannot run is one error (CLNET_ERR_UNSUPPORTED) that
 * lists every such node with its name, op type, opset and the attribute or input at
 * fault. clnet_model_load reads .onnx files through this with default options (and Keras
 * files, .h5, .keras and TF.js .json, through clnet_model_import_keras). */
CLNET_API clnet_status clnet_model_import_onnx(clnet_context *ctx, const char *path,
                                               const clnet_onnx_options *onnx,
                                               const clnet_model_options *opt, clnet_model **out);

/* The architecture of an ONNX model alone (the importer's graph, its weights read and
 * dropped), for summaries and plans; errors go to err (err_len bytes), listing every node
 * clnet cannot run. */
CLNET_API clnet_status clnet_graph_from_onnx(const char *path, const clnet_onnx_options *onnx,
                                             clnet_graph **out, char *err, size_t err_len);

/* Options of clnet_model_import_keras: the input size, as ONNX's. */
typedef clnet_onnx_options clnet_keras_options;

/* Reads a Keras model into a new model on ctx: a Keras 2 .h5 (model.save), a Keras 3
 * .keras zip, or a TF.js layers model.json with its weight shards beside it (float32, or
 * quantized to uint8, uint16 or float16). Nested Functional and Sequential models are
 * flattened; layers keep their Keras names; Rescaling and Normalization on the input
 * become the model's normalization. Every layer or config key clnet cannot run is listed
 * in one error (CLNET_ERR_UNSUPPORTED) with its class name. keras (NULL or zeros: the
 * model's own) gives the input size where the model's is undefined. */
CLNET_API clnet_status clnet_model_import_keras(clnet_context *ctx, const char *path,
                                                const clnet_keras_options *keras,
                                                const clnet_model_options *opt, clnet_model **out);

/* The architecture of a Keras model alone (no weight read), for summaries and plans;
 * errors go to err (err_len bytes). */
CLNET_API clnet_status clnet_graph_from_keras(const char *path, const clnet_keras_options *keras,
                                              clnet_graph **out, char *err, size_t err_len);

/* Loads a Keras weights-only .h5 (model.save_weights, keras.applications' downloads) onto
 * m, a model of the same architecture (the zoo's with style "keras"): by layer name when
 * any layer of m with weights has a group of its name in the file (every group of the
 * file must then find its layer; the layers of m it lacks, a new head, keep their
 * weights), else layer by layer in order, as Keras's load_weights. Every size is checked
 * before any weight is written. *loaded (may be NULL) is the number of layers loaded. */
CLNET_API clnet_status clnet_model_load_keras_weights(clnet_model *m, const char *path,
                                                      int *loaded);

/* Makes a model that reads BGR images (Caffe's order, keras.applications' "caffe"
 * preprocessing) read RGB ones: the input channels of every convolution reading the input
 * are reversed, once. Refused (CLNET_ERR_UNSUPPORTED, naming the layer) when anything but
 * a convolution reads the input, or when the input has no 3 channels. */
CLNET_API clnet_status clnet_model_reverse_input_channels(clnet_model *m);

/* Options of clnet_model_export_onnx; zero fields take the defaults. */
typedef struct clnet_onnx_export_options {
    int nhwc;          /* 1: the input is NHWC, as clnet's ([N, h, w, c]); 0: NCHW, as PyTorch's */
    int external_data; /* 1: the weights go to "<path>.data" beside the file, as ONNX's
                        * save_as_external_data; always so for weights over 1 GB (one protobuf
                        * file holds at most 2 GB) */
} clnet_onnx_export_options;

/* Writes m as an ONNX model of opset 13 whose batch dimension is symbolic ("N"): input
 * [N, c, h, w] (or [N, h, w, c] with nhwc), output the logits (or probabilities) [N,
 * classes]. Written to a temporary file, then renamed over path (the external data file
 * too). opt may be NULL. */
CLNET_API clnet_status clnet_model_export_onnx(clnet_model *m, const char *path,
                                               const clnet_onnx_export_options *opt);

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

/* ---- datasets: labelled images, batched by background worker threads ---- */

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
     * why, once, when a batch or the statistics first read it), per empty class folder
     * (level 1), a summary (level 2: images, classes, ignored, size) and one line per
     * ignored file (level 3). A folder keeps log and log_user for the images it reads
     * later, so log_user must outlive the dataset; log may then be called from the
     * batchers' worker threads, one call at a time. */
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
    /* An image folder's decoded cache: a folder (made if missing) holding one file per
     * folder and target size, "clnet-<key>.u8", memory-mapped: each image at the target
     * size, made when a batch first needs it and read back by later epochs and runs (a
     * file changed since is decoded again). Random crops are then taken from those
     * pixels, not from the full-resolution file. A cache another process is using is
     * left out (logged). NULL: none; idx and CIFAR ignore it (they are in memory). */
    const char *cache_dir;
    /* How an image becomes the target size. 0: the whole image resized to it (aspect not
     * kept: Keras's image_dataset_from_directory default). f in (0, 1]: the centred
     * region of the target's aspect ratio whose sides are f times the largest such
     * region's, resized to it; 1 is Keras's crop_to_aspect_ratio=True, and 0.875 on a
     * square target is torchvision's eval transform Resize(round(S / 0.875)) +
     * CenterCrop(S) (the shorter side resized, the centre cropped). Random crops
     * (clnet_augment) pick from the whole image instead. */
    float center_crop;
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
 * part: "train" or "test" for idx and CIFAR (ignored for folders). idx and CIFAR are
 * read into memory now. A folder keeps only its files' paths and labels: each image is
 * decoded when a batch (or clnet_dataset_stats) needs it, into 8-bit pixels at the
 * target size (EXIF orientation applied; a JPEG at the smallest DCT scale covering the
 * target), so memory does not grow with the folder. In a folder, files that are no
 * image of those formats by name or first bytes are ignored and counted
 * (clnet_dataset_ignored); an image that fails to decode (corrupt, truncated, a side of
 * 0, over max_pixels) is skipped when first read, counted (clnet_dataset_skipped) and
 * logged once with the reason; an empty class folder is a warning and keeps its label
 * with no images. A folder without class folders, or whose classes hold no image file
 * at all, is an error, and so is one whose files all fail when the target size must be
 * taken from the first image. On failure *out is NULL and err (err_len bytes) says what
 * and where. */
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
/* Images skipped as unreadable or corrupt: when opening (idx, CIFAR), or for a folder
 * those found so far by batches, statistics and the opening (shared with its splits). */
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
/* Per-channel mean and standard deviation of the pixels scaled to [0, 1]: of every
 * image in memory, and for an image folder of at most 256 images picked by a fixed seed
 * (its unreadable files skipped; CLNET_ERR_PARSE when none decodes). */
CLNET_API clnet_status clnet_dataset_stats(const clnet_dataset *d, float *mean, float *std);
/* Keras's and scikit-learn's "balanced" class weights for training on d (for
 * clnet_fit_options.class_weight): class k gets size / (present * count_k), where count_k
 * is its images in d and present the number of classes with at least one image
 * (scikit-learn's n_classes), so the weights average 1 over d's images. A class with
 * no image in d (a split can leave one out) gets 1, the weight Keras gives a class
 * missing from class_weight. weights: clnet_dataset_class_count(d) floats. */
CLNET_API clnet_status clnet_dataset_class_weights(const clnet_dataset *d, float *weights);

typedef struct clnet_batcher clnet_batcher;

/* Augmentations of training images named after torchvision's transforms (Keras's layers
 * in brackets), applied in this order; zeroes: off. Every draw comes from a generator
 * seeded by (seed, epoch, position in the epoch), so batches stay reproducible. */
typedef struct clnet_augment {
    /* RandomResizedCrop(scale=(scale_min, scale_max), ratio=(ratio_min, ratio_max)): a crop
     * of that fraction of the image's area and aspect ratio (log-uniform), torchvision's
     * draws and fallback, taken from the full-resolution file (a JPEG decoded at the DCT
     * scale that still gives the crop the model's size) and resized to the model's size.
     * scale_min > 0 turns it on; scale_max 0: 1; ratios 0: 3/4 and 4/3. */
    float scale_min, scale_max, ratio_min, ratio_max;
    int horizontal_flip; /* RandomHorizontalFlip() [RandomFlip("horizontal")]: p = 0.5 */
    /* ColorJitter(brightness, contrast, saturation) [RandomBrightness, RandomContrast,
     * RandomSaturation]: factors uniform in [max(0, 1 - x), 1 + x], applied in this order
     * (torchvision shuffles it), pixels clamped to [0, 1] after each. */
    float brightness, contrast, saturation;
    /* RandomAffine(degrees=rotation, translate=(translate, translate)) [RandomRotation,
     * RandomTranslation]: a turn uniform in [-rotation, rotation] degrees about the centre
     * and a shift of up to translate of each side, bilinear, black outside. */
    float rotation, translate;
} clnet_augment;

typedef struct clnet_batch_options {
    int batch;   /* images per batch (the last of an epoch may be smaller) */
    int shuffle; /* reshuffle every epoch from seed and the epoch number */
    uint64_t seed;
    int augment;       /* random crop (zero padding of 4, or 2 under 32x32) and flip */
    const float *mean; /* per channel, applied to pixels scaled to [0, 1]; NULL: 0 */
    const float *std;  /* NULL: 1 */
    /* Threads that decode, augment and normalize images; 0: 1. Batches do not depend on
     * it: the same seed gives the same bytes with any number of workers. */
    int workers;
    const clnet_augment *aug; /* after the crop of augment, if both; NULL: none */
    /* Data-parallel shards (shards > 1): batch is the global batch, and this batcher
     * makes shard `shard` (0-based) of each: the global batch's images from position
     * shard * n / shards to (shard + 1) * n / shards (n its size). Every batch of the
     * epoch is then returned, an empty one as n = 0, so callers count
     * clnet_batcher_batches instead of stopping at the first empty one. */
    int shard, shards;
} clnet_batch_options;

/* The most worker threads a batcher takes. */
#define CLNET_MAX_WORKERS 64

/* Batches of d, prepared by background worker threads ahead of the caller (one batch
 * ahead with one worker, two with more) so the device need not wait for decoding,
 * augmentation or normalization. An image that turns out unreadable is left out of its
 * batch, which is then smaller (counted by clnet_dataset_skipped and
 * clnet_batcher_epoch_stats); a batch with no image left is passed over. d must outlive b. */
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
/* Batches in one epoch (as planned: batches left empty by unreadable images are not
 * handed out). */
CLNET_API int clnet_batcher_batches(const clnet_batcher *b);
/* What the batches the current epoch has handed out so far took. */
typedef struct clnet_batcher_stats {
    int images;    /* in them */
    int skipped;   /* left out of them as unreadable */
    double data_s; /* the workers' time making them (reading, decoding, augmenting,
                    * normalizing), summed over the workers */
    int workers;
} clnet_batcher_stats;
CLNET_API clnet_batcher_stats clnet_batcher_epoch_stats(const clnet_batcher *b);

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
    double data_s;                 /* worker time making this epoch's batches so far (summed) */
    int workers;                   /* the batcher's worker threads */
    int images;                    /* trained on this epoch so far */
    int skipped;                   /* left out of this epoch's batches so far as unreadable */
    /* Data-parallel runs (clnet_fit_options.comm): ranks, and the seconds this epoch the
     * steps waited for the gradient exchange after their own backward was done (the
     * allreduce not hidden behind backward, and waiting for slower ranks), the most of
     * any rank; 1 and 0 alone. */
    int ranks;
    double sync_s;
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
    const clnet_augment *aug;          /* torchvision's augmentations; NULL: none */
    /* Threads making the batches (clnet_batch_options.workers). 0: as many as leave the
     * device's cores alone: 1 on a CPU device, which computes on every core; on a GPU the
     * host's cores but one (at most 8). */
    int workers;
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
    /* Data-parallel training (clnet_comm_create): NULL, this process alone. With a
     * communicator of N ranks, each rank calls clnet_fit with the same model, data and
     * options; batch is the global batch, of which each rank trains on its shard of
     * about batch / N images (the epoch's order is the same seeded shuffle on every rank,
     * as PyTorch's DistributedSampler, and an image's augmentation draws follow its place
     * in the global batch, so N ranks see what one process would). Rank 0's weights (and,
     * after a resume, its checkpoint) are broadcast first; gradients are averaged over
     * the global batch in buckets while backward runs; the loss, accuracy, validation and
     * batch-norm statistics are reduced, so every rank gets the same figures and
     * weights; only rank 0 writes the checkpoint. */
    clnet_comm *comm;
    /* With comm: 1 computes each training batch norm's statistics over the global batch
     * (PyTorch's SyncBatchNorm, --sync-bn), with two small exchanges per batch norm in
     * forward and one in backward, so N ranks train as one process would; 0 (default):
     * over each rank's shard, as PyTorch's DistributedDataParallel without it. Every rank
     * must give the same value. No effect without comm. */
    int sync_bn;
} clnet_fit_options;

/* Images of the training set each per-epoch recomputation of the batch-norm statistics
 * uses at most (clnet_fit_options.keep_bn_statistics). */
#define CLNET_FIT_BN_IMAGES 4096

/* ---- data-parallel training over MPI ---- */

/* The processes of an MPI communicator that train one model together, one per device,
 * as with Horovod or PyTorch's DistributedDataParallel (clnet_fit_options.comm).
 * mpi_comm points to an MPI_Comm (NULL: MPI_COMM_WORLD), duplicated here. MPI is
 * initialized here (MPI_THREAD_FUNNELED: clnet calls MPI from the calling thread only)
 * unless the caller did, and then finalized by clnet_comm_destroy. Every collective
 * waits at most timeout_s seconds (0: 300) for the other ranks, then fails with an error
 * naming the ranks it heard nothing from, instead of hanging. CLNET_ERR_UNSUPPORTED when
 * clnet was built without MPI. Errors in err (err_len bytes). */
CLNET_API clnet_status clnet_comm_create(const void *mpi_comm, double timeout_s, clnet_comm **out,
                                         char *err, size_t err_len);
CLNET_API void clnet_comm_destroy(clnet_comm *c);
/* This process's rank and the number of ranks (0 and 1 for NULL). */
CLNET_API int clnet_comm_rank(const clnet_comm *c);
CLNET_API int clnet_comm_size(const clnet_comm *c);
/* The rank among those on this host: which of the host's devices this rank takes. */
CLNET_API int clnet_comm_local_rank(const clnet_comm *c);
/* 1 when an MPI launcher (mpirun, mpiexec, srun) started this process with more than one
 * rank, by its environment, without initializing MPI. */
CLNET_API int clnet_comm_launched(void);

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
/* Options of clnet_image_load_ex; zeroes: clnet_image_load's. */
typedef struct clnet_image_options {
    uint64_t max_pixels; /* 0: CLNET_DEFAULT_MAX_PIXELS */
    float center_crop;   /* as clnet_dataset_options' (a model's: clnet_model_center_crop) */
} clnet_image_options;

/* clnet_image_load with options (NULL: none). The pixels are those an image folder
 * opened with the same size, max_pixels and center_crop gives for the file. */
CLNET_API clnet_status clnet_image_load_ex(const char *path, int h, int w, int c,
                                           const clnet_image_options *opt, float *out, char *err,
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

#ifdef __cplusplus
}
#endif

#endif
