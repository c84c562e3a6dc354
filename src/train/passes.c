/* passes.c - passes over a dataset: clnet_evaluate, the batch-norm statistics
 * (clnet_model_update_bn), and what they share with clnet_fit (fit.c): the checks of
 * the data against the model, the batcher normalizing as the model says, and the
 * upload of a batch. With a communicator of several ranks each rank passes over its
 * shard and the figures are reduced (dist.c). Tests: tests/models/test_fit.c,
 * tests/models/test_bn_update.c, tests/mpi/. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/augment.h"
#include "train/dist.h"
#include "train/passes.h"

/* The dataset's images have the model's input shape. */
static clnet_status check_images(clnet_model *m, const clnet_dataset *d, const char *what)
{
    const clnet_shape in = m->graph->layers[m->input_layer].out;
    const clnet_shape img = clnet_dataset_image_shape(d);
    if (img.h != in.h || img.w != in.w || img.c != in.c)
        return clnet__fail(m->ctx, CLNET_ERR_SHAPE,
                           "the %s images are %dx%dx%d but the model takes %dx%dx%d", what, img.h,
                           img.w, img.c, in.h, in.w, in.c);
    return CLNET_OK;
}

clnet_status clnet__check_data(clnet_model *m, const clnet_dataset *d, const char *what)
{
    const clnet__layer *last = &m->graph->layers[m->graph->n - 1];
    const clnet_shape out = last->out;
    const int classes = clnet_dataset_class_count(d);
    CLNET_TRY(check_images(m, d, what));
    if (out.h != 1 || out.w != 1)
        return clnet__fail(m->ctx, CLNET_ERR_SHAPE,
                           "the model has no classifier head: its output layer '%s' (%s) is "
                           "%dx%dx%d, not one score per class (1x1x%d); end the spec with "
                           "global_avg_pool (or flatten) and a dense layer of %d units",
                           last->name, clnet__keras_type(last), out.h, out.w, out.c, classes,
                           classes);
    if (out.c != classes)
        return clnet__fail(m->ctx, CLNET_ERR_SHAPE,
                           "the model's output layer '%s' (%s) has %d units but the %s data has "
                           "%d classes (an image folder's class sub-folders); give it %d units, "
                           "or fine-tune from a saved model, which replaces the head",
                           last->name, clnet__keras_type(last), out.c, what, classes, classes);
    return CLNET_OK;
}

/* The batchers' worker threads: as asked, else as many as leave the device's cores
 * alone. A CPU device computes on every core of the host, so its batches get one worker
 * (the background thread the batcher always had); a GPU leaves the host's cores free but
 * one, for the thread that drives it. */
static int data_workers(const clnet_model *m, int asked)
{
    if (asked > 0)
        return asked < CLNET_MAX_WORKERS ? asked : CLNET_MAX_WORKERS;
    if (m->ctx->info.device_class == CLNET_CLASS_CPU)
        return 1;
    const long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores > 2 ? (int)(cores - 1 < 8 ? cores - 1 : 8) : 1;
}

clnet_status clnet__batcher(clnet_model *m, const clnet_dataset *d, int batch, int shuffle,
                            int augment, const clnet_augment *aug, uint64_t seed, int workers,
                            const clnet_comm *comm, clnet_batcher **b)
{
    clnet_batch_options bo = {batch, shuffle, seed, augment, m->mean, m->std, 0, aug, 0, 0};
    bo.workers = data_workers(m, workers);
    bo.shard = clnet_comm_rank(comm);
    bo.shards = clnet_comm_size(comm);
    if (aug && !clnet__augment_valid(aug))
        return clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG,
                           "augmentations out of range: RandomResizedCrop's scale %g..%g (within "
                           "0..1) and ratio %g..%g, ColorJitter %g, %g, %g (not negative), "
                           "rotation %g (0..180 degrees), translate %g (0..1)",
                           (double)aug->scale_min, (double)aug->scale_max, (double)aug->ratio_min,
                           (double)aug->ratio_max, (double)aug->brightness, (double)aug->contrast,
                           (double)aug->saturation, (double)aug->rotation, (double)aug->translate);
    const clnet_status st = clnet_batcher_create(d, &bo, b);
    return st == CLNET_OK ? st : clnet__fail(m->ctx, st, "cannot batch the data");
}

clnet_status clnet__upload(clnet_context *ctx, clnet__staged *x, clnet_shape s, const float *img,
                           int wait)
{
    const clnet_shape *have = x->store ? &x->store->shape : NULL;
    if (have && (have->n < s.n || have->h != s.h || have->w != s.w || have->c != s.c)) {
        clnet_tensor_destroy(x->store);
        x->store = NULL;
    }
    if (!x->store)
        CLNET_TRY(clnet_tensor_create(ctx, s, &x->store));
    x->view = *x->store;
    x->view.shape = s;
    x->view.count = clnet__shape_count(s);
    if (wait)
        return clnet_tensor_write(&x->view, img, x->view.count);
    return clnet__write_async(ctx, x->view.buf, x->view.count * sizeof(float), img);
}

/* Mean loss, top-1 / top-5 hits and the confusion (when r has one) of one batch of
 * logits, or of probabilities when the model ends in a softmax (the loss is then
 * -log p[label], an underflowed p counting as the smallest float). */
static void score(const float *logits, int probs, const int *labels, int n, int c,
                  clnet_eval_result *r, double *loss_sum)
{
    for (int i = 0; i < n; ++i) {
        const float *row = logits + (size_t)i * c;
        const int best = clnet__argmax(row, c);
        const double top = row[best];
        double sum = 0.0;
        int above = 0;
        for (int k = 0; k < c; ++k) {
            sum += probs ? 0.0 : exp((double)row[k] - top);
            above += row[k] > row[labels[i]];
        }
        if (probs)
            *loss_sum -= log(fmax((double)row[labels[i]], (double)FLT_TRUE_MIN));
        else
            *loss_sum += log(sum) - ((double)row[labels[i]] - top);
        r->top1 += best == labels[i];
        r->top5 += above < 5;
        if (r->confusion)
            r->confusion[(size_t)labels[i] * c + best] += 1;
    }
}

clnet_status clnet_model_evaluate_batch(clnet_model *m, const clnet_tensor *x, const int *labels,
                                        double *loss, int *correct)
{
    if (loss)
        *loss = NAN;
    if (correct)
        *correct = 0;
    if (!m || !x || !labels)
        return m ? clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG,
                               "clnet_model_evaluate_batch: no input or labels")
                 : CLNET_ERR_INVALID_ARG;
    clnet_tensor *y = NULL;
    CLNET_TRY(clnet_model_forward(m, x, 0, &y));
    const clnet_shape s = y->shape;
    char buf[48];
    if (s.h != 1 || s.w != 1)
        return clnet__fail(m->ctx, CLNET_ERR_SHAPE,
                           "the model's output %s is not one score per class (n x 1 x 1 x classes)",
                           clnet__shape_str(s, buf, sizeof buf));
    CLNET_TRY(clnet__labels_check(m->ctx, labels, s.n, s.c));
    float *out = malloc(y->count * sizeof *out);
    if (!out)
        return clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    clnet_status st = clnet_tensor_read(y, out, y->count);
    if (st == CLNET_OK) {
        int fused = 0;
        clnet_eval_result r = {0};
        double sum = 0.0;
        score(out, clnet__graph_logits(m->graph, &fused) >= 0, labels, s.n, s.c, &r, &sum);
        if (loss)
            *loss = sum / s.n;
        if (correct)
            *correct = (int)r.top1;
    }
    free(out);
    return st;
}

clnet_status clnet__evaluate(clnet_model *m, const clnet_dataset *d, int batch, clnet__dist *dist,
                             const clnet_comm *comm, clnet_eval_result *r)
{
    memset(r, 0, sizeof *r);
    const int c = clnet_dataset_class_count(d);
    r->classes = c;
    if (!(r->confusion = calloc((size_t)c * c, sizeof *r->confusion)))
        return clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    clnet_batcher *b = NULL;
    clnet__staged x = {0};
    clnet_tensor *y = NULL;
    float *logits = NULL;
    double loss_sum = 0.0;
    int fused = 0;
    const int probs = clnet__graph_logits(m->graph, &fused) >= 0;
    clnet_status st =
        clnet__batcher(m, d, batch > 0 ? batch : 64, 0, 0, NULL, 0, 0, dist ? comm : NULL, &b);
    if (st == CLNET_OK)
        st = clnet_batcher_start(b, 0);
    clnet_shape s = clnet_dataset_image_shape(d);
    /* Shards return every batch, empty ones too: counted, not ended by the first. */
    for (int k = 0; st == CLNET_OK && (!dist || k < clnet_batcher_batches(b)); ++k) {
        const float *img = NULL;
        const int *labels = NULL;
        int n = 0;
        if ((st = clnet_batcher_next(b, &img, &labels, &n, NULL)) != CLNET_OK)
            break;
        if (n == 0 && !dist)
            break;
        if (n == 0)
            continue;
        s.n = n;
        if ((st = clnet__upload(m->ctx, &x, s, img, 0)) != CLNET_OK ||
            (st = clnet_model_forward(m, &x.view, 0, &y)) != CLNET_OK)
            break;
        float *grown = realloc(logits, y->count * sizeof *logits);
        if (!grown) {
            st = clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
            break;
        }
        logits = grown;
        if ((st = clnet_tensor_read(y, logits, y->count)) != CLNET_OK)
            break;
        score(logits, probs, labels, n, c, r, &loss_sum);
        r->images += n;
    }
    if (st == CLNET_OK && dist) {
        double v[4] = {loss_sum, r->top1, r->top5, r->images};
        if ((st = clnet__dist_reduce(dist, v, 4, 0)) == CLNET_OK) {
            loss_sum = v[0];
            r->top1 = v[1];
            r->top5 = v[2];
            r->images = (int)v[3];
        }
    }
    if (st == CLNET_OK && r->images > 0) {
        r->loss = loss_sum / r->images;
        r->top1 /= r->images;
        r->top5 /= r->images;
    }
    free(logits);
    /* An upload still queued after a failure reads the batcher's memory: wait first. */
    clnet_context_finish(m->ctx);
    clnet_tensor_destroy(x.store);
    clnet_batcher_destroy(b);
    if (st != CLNET_OK)
        clnet_eval_result_free(r);
    return st;
}

clnet_status clnet_evaluate(clnet_model *m, const clnet_dataset *d, int batch, clnet_eval_result *r)
{
    if (r)
        memset(r, 0, sizeof *r);
    if (!m || !d || !r)
        return m ? clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG, "clnet_evaluate: NULL argument")
                 : CLNET_ERR_INVALID_ARG;
    CLNET_TRY(clnet__check_data(m, d, "evaluation"));
    return clnet__evaluate(m, d, batch, NULL, NULL, r);
}

void clnet_eval_result_free(clnet_eval_result *r)
{
    if (!r)
        return;
    free(r->confusion);
    r->confusion = NULL;
}

clnet_status clnet__update_bn(clnet_model *m, const clnet_dataset *d, int batch, int max_images,
                              uint64_t seed, int epoch, int workers, clnet__dist *dist,
                              const clnet_comm *comm)
{
    const int size = clnet_dataset_size(d);
    const int images = max_images > 0 && max_images < size ? max_images : size;
    batch = batch > 0 ? batch : 32;
    batch = batch < images ? batch : images > 0 ? images : 1;
    clnet__plan *p = NULL;
    int slice = batch;
    CLNET_TRY(clnet__model_plan(m, 1, batch, &p, &slice));
    if (p->moving_stats == 0 || images == 0)
        return CLNET_OK; /* no batch norm, or all frozen: nothing to recompute */
    clnet_batcher *b = NULL;
    clnet__staged x = {0};
    clnet_shape s = clnet_dataset_image_shape(d);
    clnet_status st =
        clnet__batcher(m, d, batch, 1, 0, NULL, seed, workers, dist ? comm : NULL, &b);
    if (st == CLNET_OK)
        st = clnet_batcher_start(b, epoch);
    /* With momentum seen / (seen + n) the moving statistics become the mean of the batch
     * statistics weighted by their images (the first batch's replace them). A shard
     * stops after the batches that cover the images. With --sync-bn a batch's statistics
     * are the global batch's, the same on every rank, and seen counts every rank's. */
    const int batches = (images + batch - 1) / batch, sync = clnet__dist_sync_bn(dist);
    for (int seen = 0, k = 0; st == CLNET_OK && (dist ? k < batches : seen < images); ++k) {
        const float *img = NULL;
        const int *labels = NULL;
        int n = 0;
        if ((st = clnet_batcher_next(b, &img, &labels, &n, NULL)) != CLNET_OK || (n == 0 && !dist))
            break;
        s.n = dist || n < images - seen ? n : images - seen;
        if (s.n == 0 && !sync)
            continue;
        /* Nothing reads back before the next batch is drawn: the copy must be done. */
        if (s.n > 0)
            st = clnet__upload(m->ctx, &x, s, img, 1);
        int all = s.n; /* the images these statistics are of */
        if (st == CLNET_OK)
            st = sync ? clnet__dist_statistics_forward(dist, &x.view, s.n, seen, &all)
                      : clnet__model_forward_momentum(m, &x.view,
                                                      (float)((double)seen / (seen + s.n)));
        seen += all;
    }
    clnet_tensor_destroy(x.store);
    clnet_batcher_destroy(b);
    if (st == CLNET_OK && dist && !sync)
        st = clnet__dist_average_statistics(dist);
    return st;
}

clnet_status clnet_model_update_bn(clnet_model *m, const clnet_dataset *d, int batch)
{
    if (!m || !d)
        return m ? clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG, "clnet_model_update_bn: no data")
                 : CLNET_ERR_INVALID_ARG;
    CLNET_TRY(check_images(m, d, "batch-norm statistics"));
    return clnet__update_bn(m, d, batch, 0, m->opt.seed, 0, 0, NULL, NULL);
}
