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
    /* clnet_train_step's loss workspace, sized for the last batch: one-hot targets,
     * each image's loss weight, the loss, its seed gradient (1) and the logits'
     * gradient. */
    clnet_tensor *targets, *row_weights, *loss, *one, *dlogits;
    float *host_targets, *host_weights, *host_logits;
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

/* Checkpoints (checkpoint.c): the model's weights and labels as a model file, plus the
 * optimizer's state and step count and the number of finished epochs. Loading puts
 * them back into o and its model and sets *epochs; a missing file is not an error
 * (*epochs = 0: a fresh start). */
clnet_status clnet__checkpoint_save(clnet_optimizer *o, const char *path, int epochs);
clnet_status clnet__checkpoint_load(clnet_optimizer *o, const char *path, int *epochs);

/* Frees clnet_train_step's workspace (loss.c). */
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
