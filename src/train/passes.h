/* passes.h - what clnet_fit (fit.c) shares with the passes over a dataset of passes.c:
 * evaluation, the batch-norm statistics, and the batcher and upload all of them use. */
#ifndef CLNET_TRAIN_PASSES_H
#define CLNET_TRAIN_PASSES_H

#include "train/dist.h"

/* The dataset fits the model: same image shape, and the model ends in a classifier head
 * (one score per class of the data); else what to change, naming the output layer. */
clnet_status clnet__check_data(clnet_model *m, const clnet_dataset *d, const char *what);

/* A batcher over d normalized as the model says, made by workers threads (0: as many as
 * leave the device's cores alone), of this rank's shard of every batch when comm has
 * several ranks. */
clnet_status clnet__batcher(clnet_model *m, const clnet_dataset *d, int batch, int shuffle,
                            int augment, const clnet_augment *aug, uint64_t seed, int workers,
                            const clnet_comm *comm, clnet_batcher **b);

/* Batches on the device: a tensor of the largest batch so far, and a view of its first n
 * images, so a partial last batch or alternating sizes allocate nothing. */
typedef struct clnet__staged {
    clnet_tensor *store;
    clnet_tensor view;
} clnet__staged;

/* x->view as a {n, h, w, c} tensor holding images. Without wait, img must stay unchanged
 * until the caller's next wait on the device (a training step's or evaluation's read). */
clnet_status clnet__upload(clnet_context *ctx, clnet__staged *x, clnet_shape s, const float *img,
                           int wait);

/* clnet_evaluate of this rank's shard of every batch, the figures (not the confusion
 * matrix) reduced over the ranks of dist (NULL: this process alone). */
clnet_status clnet__evaluate(clnet_model *m, const clnet_dataset *d, int batch, clnet__dist *dist,
                             const clnet_comm *comm, clnet_eval_result *r);

/* clnet_model_update_bn over the first max_images (0: all) of d shuffled for epoch from
 * seed. Shuffled, because the mean of batch variances is the variance the batch norms
 * see in training only for batches drawn as training draws them: in an image folder's
 * order a batch holds one class, and the variance between classes would be lost. With
 * dist, each rank goes through its shard of those batches, and the statistics are then
 * averaged over the ranks. */
clnet_status clnet__update_bn(clnet_model *m, const clnet_dataset *d, int batch, int max_images,
                              uint64_t seed, int epoch, int workers, clnet__dist *dist,
                              const clnet_comm *comm);

#endif
