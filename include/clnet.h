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

/* The API in parts along the layers of the design, each including the one before it. */
#include "clnet/tools.h"

#endif
