/* train.h - training internals: the optimizer (optimizer.c, cl/optimizer.cl), its plain
 * C reference (src/ref/optimizer.c) and the loss (loss.c). */
#ifndef CLNET_TRAIN_TRAIN_H
#define CLNET_TRAIN_TRAIN_H

#include "plan/plan.h"

struct clnet_optimizer {
    clnet_model *model; /* borrowed: the model outlives its optimizer */
    clnet_optimizer_options opt;
    int64_t steps;
    /* Per model weight: SGD velocity (NULL without momentum) / Adam first moment, and
     * Adam's second moment; NULL for non-trainable weights. */
    clnet_tensor **state[2];
    /* clnet_train_step's loss workspace, sized for the last batch: one-hot targets,
     * the loss, its seed gradient (1) and the logits' gradient. */
    clnet_tensor *targets, *loss, *one, *dlogits;
    float *host_targets, *host_logits;
};

/* The index of the largest of n scores (the first of equals): the predicted class. */
static inline int clnet__argmax(const float *row, int n)
{
    int best = 0;
    for (int k = 1; k < n; ++k)
        best = row[k] > row[best] ? k : best;
    return best;
}

/* Checkpoints (checkpoint.c): the model's weights and labels as a model file, plus the
 * optimizer's state and step count and the number of finished epochs. Loading puts
 * them back into o and its model and sets *epochs; a missing file is not an error
 * (*epochs = 0: a fresh start). */
clnet_status clnet__checkpoint_save(clnet_optimizer *o, const char *path, int epochs);
clnet_status clnet__checkpoint_load(clnet_optimizer *o, const char *path, int *epochs);

/* A checkpoint's metadata, checked (checkpoint.c): the format, the architecture spec
 * (borrowed from the file) and every number within its range. */
typedef struct clnet__checkpoint_meta {
    const char *spec;
    int64_t epochs, optimizer_steps, training_steps, optimizer;
} clnet__checkpoint_meta;

struct clnet__st_file;
/* Reads and checks f's metadata into m; on failure err (len bytes) names the key and the
 * value (the caller adds the file). No device: the fuzz harness's entry too. */
clnet_status clnet__checkpoint_read_meta(const struct clnet__st_file *f, clnet__checkpoint_meta *m,
                                         char *err, size_t len);

/* Frees clnet_train_step's workspace (loss.c). */
void clnet__loss_free(clnet_optimizer *o);

/* One update of n doubles in place, exactly the kernel's arithmetic in double: w, g,
 * and the state arrays s0 (velocity or m) and s1 (v, Adam). t is the 1-based step. */
void clnet__ref_optimizer_step(const clnet_optimizer_options *o, double lr, int64_t t, double *w,
                               const double *g, double *s0, double *s1, size_t n);

#endif
