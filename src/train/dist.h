/* dist.h - data-parallel training over MPI (dist.c, comm.c): what clnet_fit does with a
 * communicator of several ranks. Every function here is a collective: all ranks call it
 * in the same order, and each waits at most the communicator's timeout for the others.
 * Tests: tests/mpi/ (run by mpirun from ctest). */
#ifndef CLNET_TRAIN_DIST_H
#define CLNET_TRAIN_DIST_H

#include "train/train.h"

/* One run's state: the host copies of the trainable weights' gradients, cut into
 * buckets in the order backward finishes them. */
typedef struct clnet__dist clnet__dist;

/* *out NULL (nothing to do) when comm is NULL or has one rank. sync_bn: the training
 * steps' batch norms compute their statistics over the global batch (--sync-bn). */
clnet_status clnet__dist_create(clnet_comm *comm, clnet_model *m, int sync_bn, clnet__dist **out);
/* Whether d synchronizes batch norms (0 when d is NULL). */
int clnet__dist_sync_bn(const clnet__dist *d);
void clnet__dist_destroy(clnet__dist *d);

/* Rank 0's weights, optimizer state and step count (after a resume, its checkpoint's)
 * onto every rank, with its best epoch's weights (best: one per model weight, or NULL)
 * and its n doubles of v (the run record's counters). */
clnet_status clnet__dist_broadcast(clnet__dist *d, clnet_optimizer *o, clnet_tensor **best,
                                   double *v, int n);

/* One step of the global batch, this rank's n images of it in x (n may be 0): forward,
 * the loss as this rank's share of the global batch's mean (its sum over the global
 * batch's images) and backward here, each bucket of gradients summed over the ranks as
 * soon as backward has finished it, then written back into the gradients and the update
 * applied, unless the global loss is not finite (CLNET_ERR_DIVERGED, no update on any
 * rank). *loss, *hits and *images get the global batch's mean loss, top-1 hits and
 * images (0: no rank had an image, and nothing changed). */
clnet_status clnet__dist_train_step(clnet__dist *d, clnet_optimizer *o, const clnet_tensor *x,
                                    int n, const int *labels, const float *cw, float lr,
                                    float label_smoothing, double *loss, int *hits, int *images);

/* Checks that every rank has the same n values v (what names each, for the error): the
 * settings a run's ranks must share, such as the data's size and the batch. */
clnet_status clnet__dist_same(clnet__dist *d, const double *v, const char *const *what, int n);

/* The seconds the steps since the last call waited for the exchange after this rank's
 * backward was done; zeroes the count. */
double clnet__dist_take_sync_s(clnet__dist *d);

/* Sums n doubles over the ranks, in place (op 0), or takes their maximum (op 1). */
clnet_status clnet__dist_reduce(clnet__dist *d, double *v, int n, int op);

/* With sync_bn: a training forward of this rank's n images in x (n may be 0; x unread
 * then) whose batch norms move their statistics towards the global batch's with
 * momentum seen / (seen + images) (clnet_model_update_bn's weighting over the ranks);
 * *images gets the global batch's images (0: nothing ran). */
clnet_status clnet__dist_statistics_forward(clnet__dist *d, const clnet_tensor *x, int n,
                                            double seen, int *images);

/* The model's non-trainable weights (batch-norm moving statistics) averaged over the
 * ranks, each having computed them from its shard. */
clnet_status clnet__dist_average_statistics(clnet__dist *d);

/* The naps between two polls of a wait for MPI (which progresses only when called) or
 * for the device while MPI requests are open: from the first, doubling up to the last.
 * Polling every 20 us through a step took so much of the cores from a CPU device's
 * threads that 2 ranks trained the quickstart model at 350-428 images/s, against 518-631
 * with naps doubling from 20 us to this cap or to 1 ms; a cap of 1 ms however delays the
 * many short exchanges of --sync-bn (467-556 images/s against 647-698 with this one). */
#define CLNET__NAP_MIN_NS 20000L
#define CLNET__NAP_MAX_NS 160000L

/* The communicator's internals for dist.c (comm.c). */
int clnet__comm_broken(const clnet_comm *c);
#ifdef CLNET_HAVE_MPI
#include <mpi.h>
MPI_Comm clnet__comm_mpi(const clnet_comm *c);
/* Sleeps *nap_ns, then doubles it up to CLNET__NAP_MAX_NS. */
void clnet__comm_nap(long *nap_ns);
/* Tells the other ranks this rank has reached its next exchange (a heartbeat), so that a
 * timeout can name the ranks that never did. */
void clnet__comm_beat(clnet_comm *c);
/* Beats, then waits for n requests (one collective exchange), progressing MPI, for at
 * most the communicator's timeout; then CLNET_ERR_RANK_LOST with the error naming what
 * was waited for (what) and the ranks that have not reached this exchange, and the
 * communicator marked broken. */
clnet_status clnet__comm_wait(clnet_comm *c, clnet_context *ctx, MPI_Request *reqs, int n,
                              const char *what);
/* An MPI call's error code as a failure naming the call. */
clnet_status clnet__comm_fail(clnet_comm *c, clnet_context *ctx, int code, const char *call);
#endif

#endif
