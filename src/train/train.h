/* train.h - training internals: the optimizer (optimizer.c, cl/optimizer.cl), its plain
 * C reference (src/ref/optimizer.c) and the loss (loss.c). */
#ifndef CLNET_TRAIN_TRAIN_H
#define CLNET_TRAIN_TRAIN_H

#include "plan/plan.h"

#define CLNET__OPT_STATES 3 /* state arrays an optimizer may keep per weight */

struct clnet_optimizer {
    clnet_model *model; /* borrowed: the model outlives its optimizer */
    clnet_optimizer_options opt;
    int64_t steps;
    /* Per model weight, NULL where unused and for non-trainable weights: slot 0 is SGD's
     * velocity (with momentum), Adam's first moment or RMSprop's squared-gradient
     * average; slot 1 Adam's second moment or RMSprop's momentum buffer (with
     * momentum); slot 2 RMSprop's gradient average (centered). Checkpoints store slot k
     * as "optimizer/<k>/...". */
    clnet_tensor **state[CLNET__OPT_STATES];
    clnet_tensor *finite; /* 0: the loss clnet_optimizer_step's updates read (always finite) */
    /* clnet_fit's class weights (one per class of the model, copied), or NULL. */
    float *class_weight;
};

/* The index of the largest of n scores (the first of equals): the predicted class. */
static inline int clnet__argmax(const float *row, int n)
{
    int best = 0;
    for (int k = 1; k < n; ++k)
        best = row[k] > row[best] ? k : best;
    return best;
}

/* One finished epoch's figures (NaN where there was no validation). */
typedef struct clnet__epoch_figures {
    double loss, accuracy, val_loss, val_accuracy, lr, seconds;
} clnet__epoch_figures;

/* What a run keeps besides weights and optimizer state, in its checkpoint. */
typedef struct clnet__run_record {
    int epochs;                    /* finished epochs */
    int n_history, cap;            /* history[0..n_history): epochs 0.. (an older checkpoint
                                    * has none); cap entries allocated */
    clnet__epoch_figures *history; /* malloc'd */
    char *note;                    /* malloc'd copy of clnet_fit_options.note, or NULL */
    double best;                   /* early stopping: the best monitored loss (HUGE_VAL: none) */
    int best_epoch, wait;          /* its 0-based epoch (-1: none); epochs since */
    clnet_tensor **best_w;         /* per model weight, the best epoch's values; NULL when the
                                    * run does not restore them */
    int64_t steps;                 /* loading: the optimizer's and the model's step counts */
    uint64_t steps_run;
} clnet__run_record;

clnet_status clnet__run_record_reserve(clnet__run_record *r, int epochs);
void clnet__run_record_free(clnet__run_record *r);

/* Checkpoints (checkpoint.c): the model's weights with the model file's metadata, plus
 * the optimizer's state and step count and the run record. Loading puts them back into
 * o, its model and r (the best epoch's weights into r->best_w when the file has them);
 * a missing file is not an error (r->epochs = 0: a fresh start). */
clnet_status clnet__checkpoint_save(clnet_optimizer *o, const char *path,
                                    const clnet__run_record *r);
clnet_status clnet__checkpoint_load(clnet_optimizer *o, const char *path, clnet__run_record *r);

/* A checkpoint's metadata, checked (checkpoint.c): the format, the architecture spec,
 * every number within its range, the history and the note (borrowed from the file), and
 * early stopping's state (best HUGE_VAL and best_epoch -1 when the file has none). */
typedef struct clnet__checkpoint_meta {
    const char *spec, *history, *note;
    int64_t epochs, optimizer_steps, training_steps, optimizer;
    double best;
    int64_t best_epoch, wait;
} clnet__checkpoint_meta;

struct clnet__st_file;
/* Reads and checks f's metadata into m; on failure err (len bytes) names the key and the
 * value (the caller adds the file). No device: the fuzz harness's entry too. */
clnet_status clnet__checkpoint_read_meta(const struct clnet__st_file *f, clnet__checkpoint_meta *m,
                                         char *err, size_t len);

/* Enqueues the update of every trainable, unfrozen weight at learning rate lr, which
 * the device skips when loss[0] (the training plan's loss step; NULL: none) is not
 * finite. Counts the step (optimizer.c). */
clnet_status clnet__optimizer_step_if_finite(clnet_optimizer *o, float lr, cl_mem loss);
/* Frees clnet_train_step's state (loss.c). */
void clnet__loss_free(clnet_optimizer *o);
/* Keeps a checked copy of w (one weight per class of o's model; NULL: none) as
 * o->class_weight, for clnet_fit's steps (loss.c). */
clnet_status clnet__loss_set_class_weight(clnet_optimizer *o, const float *w);

/* Whether optimizer options o (defaults filled) keep state slot k (see the struct). */
int clnet__optimizer_uses_state(const clnet_optimizer_options *o, int k);

/* One update of n doubles in place, exactly the kernel's arithmetic in double: w, g,
 * and the state arrays s[0..CLNET__OPT_STATES) laid out as the optimizer's slots (an
 * unused slot may be NULL). o has its defaults filled. t is the 1-based step. */
void clnet__ref_optimizer_step(const clnet_optimizer_options *o, double lr, int64_t t, double *w,
                               const double *g, double *const *s, size_t n);

#endif
