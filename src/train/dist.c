/* dist.c - one data-parallel run of clnet_fit over MPI, as Horovod and PyTorch's
 * DistributedDataParallel do it: every rank runs forward and backward on its shard of
 * the global batch; the trainable weights' gradients are copied to host memory (no MPI
 * is OpenCL-aware) in buckets of up to BUCKET_BYTES, each read back as soon as backward
 * has written its last gradient (the grad_hook of the backward loop) and summed over
 * the ranks by MPI_Iallreduce while backward goes on; then every rank writes the mean
 * back and takes the same update. Buckets follow the weights in reverse order, the order
 * backward finishes them. Each rank's loss is its images' share of the global batch's
 * mean (their loss summed and divided by the global batch's images), so the ranks'
 * gradients sum to the global batch's and shards of unequal size (a last batch,
 * unreadable files) average exactly as one process would. With --sync-bn the batch
 * norms sum their statistics over the ranks too (m->sync, batch_norm.c), and a rank
 * without images joins those exchanges with zeros. Tests: tests/mpi/. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "train/dist.h"

#ifndef CLNET_HAVE_MPI

clnet_status clnet__dist_create(clnet_comm *comm, clnet_model *m, int sync_bn, clnet__dist **out)
{
    (void)sync_bn;
    *out = NULL;
    return comm ? clnet__fail(m->ctx, CLNET_ERR_UNSUPPORTED, "this clnet was built without MPI")
                : CLNET_OK;
}

void clnet__dist_destroy(clnet__dist *d)
{
    (void)d;
}

clnet_status clnet__dist_broadcast(clnet__dist *d, clnet_optimizer *o, clnet_tensor **best,
                                   double *v, int n)
{
    (void)d, (void)o, (void)best, (void)v, (void)n;
    return CLNET_ERR_UNSUPPORTED;
}

clnet_status clnet__dist_train_step(clnet__dist *d, clnet_optimizer *o, const clnet_tensor *x,
                                    int n, const int *labels, const float *cw, float lr,
                                    float label_smoothing, double *loss, int *hits, int *images)
{
    (void)d, (void)o, (void)x, (void)n, (void)labels, (void)cw, (void)lr, (void)label_smoothing;
    (void)loss, (void)hits, (void)images;
    return CLNET_ERR_UNSUPPORTED;
}

clnet_status clnet__dist_reduce(clnet__dist *d, double *v, int n, int op)
{
    (void)d, (void)v, (void)n, (void)op;
    return CLNET_ERR_UNSUPPORTED;
}

double clnet__dist_take_sync_s(clnet__dist *d)
{
    (void)d;
    return 0.0;
}

clnet_status clnet__dist_same(clnet__dist *d, const double *v, const char *const *what, int n)
{
    (void)d, (void)v, (void)what, (void)n;
    return CLNET_ERR_UNSUPPORTED;
}

clnet_status clnet__dist_average_statistics(clnet__dist *d)
{
    (void)d;
    return CLNET_ERR_UNSUPPORTED;
}

int clnet__dist_sync_bn(const clnet__dist *d)
{
    (void)d;
    return 0;
}

clnet_status clnet__dist_statistics_forward(clnet__dist *d, const clnet_tensor *x, int n,
                                            double seen, int *images)
{
    (void)d, (void)x, (void)n, (void)seen, (void)images;
    return CLNET_ERR_UNSUPPORTED;
}

#else

/* Large enough that a bucket's MPI call costs far more than its latency, small enough
 * that the first ones start well before backward ends (PyTorch's default is 25 MB): at
 * most BUCKET_BYTES, and a quarter of a smaller model's gradients, but not below
 * MIN_BUCKET_BYTES. */
#define BUCKET_BYTES ((size_t)4 << 20)
#define MIN_BUCKET_BYTES ((size_t)256 << 10)

typedef struct bucket {
    size_t offset, count; /* floats of the host copy */
    int first, last;      /* its weights: indices first down to last (those with a bucket) */
    int pending;          /* weights whose gradients backward has still to write */
    int enqueued;         /* its reads are enqueued (this step) */
    cl_event read;        /* the last of them */
    MPI_Request req;
} bucket;

struct clnet__dist {
    clnet_comm *comm;
    clnet_model *m;
    int *bucket_of; /* per weight: its bucket; -1 when it has no gradient to share */
    size_t *offset; /* per weight: where its gradient lies in host */
    int *writers;   /* per weight: backward steps yet to write its gradient this step */
    float *host;    /* every shared gradient, in bucket order */
    float *staging; /* the largest weight, for broadcasts and statistics */
    size_t floats, largest;
    bucket *b;
    int n_buckets;
    int *order, n_ready; /* buckets in the order their reads were enqueued */
    MPI_Request *reqs;   /* the step's: one per bucket and the figures' */
    int counted;         /* writers[] counted for this step's plan */
    clnet_status error;  /* the hook's first failure */
    int sync_bn;         /* batch norms over the global batch (m->sync during steps) */
    clnet__op_sync sync;
    double sync_s;   /* waiting for the exchange after backward, since the last take */
    float result[2]; /* this rank's {mean loss, hits} */
};

static int shared(const clnet_model *m, int i)
{
    return m->dw[i] && !m->frozen[i];
}

void clnet__dist_destroy(clnet__dist *d)
{
    if (!d)
        return;
    for (int k = 0; d->b && k < d->n_buckets; ++k)
        if (d->b[k].read)
            clReleaseEvent(d->b[k].read);
    free(d->bucket_of);
    free(d->offset);
    free(d->writers);
    free(d->host);
    free(d->staging);
    free(d->b);
    free(d->order);
    free(d->reqs);
    free(d);
}

double clnet__dist_take_sync_s(clnet__dist *d)
{
    const double s = d->sync_s;
    d->sync_s = 0.0;
    return s;
}

static clnet_status await(clnet__dist *d, MPI_Request *reqs, int n, const char *what)
{
    return clnet__comm_wait(d->comm, d->m->ctx, reqs, n, what);
}

static clnet_status reduce(clnet__dist *d, double *v, int n, int op, const char *what)
{
    MPI_Request r;
    const int e = MPI_Iallreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, op ? MPI_MAX : MPI_SUM,
                                 clnet__comm_mpi(d->comm), &r);
    if (e != MPI_SUCCESS)
        return clnet__comm_fail(d->comm, d->m->ctx, e, "MPI_Iallreduce");
    return await(d, &r, 1, what);
}

clnet_status clnet__dist_reduce(clnet__dist *d, double *v, int n, int op)
{
    return reduce(d, v, n, op, "the run's figures");
}

/* m->sync's sum: what batch norms exchange with --sync-bn. */
static clnet_status sync_sum(void *user, double *v, int n, const char *what)
{
    return reduce(user, v, n, 0, what);
}

int clnet__dist_sync_bn(const clnet__dist *d)
{
    return d && d->sync_bn;
}

clnet_status clnet__dist_create(clnet_comm *comm, clnet_model *m, int sync_bn, clnet__dist **out)
{
    *out = NULL;
    if (clnet_comm_size(comm) < 2)
        return CLNET_OK;
    if (clnet__comm_broken(comm))
        return clnet__fail(m->ctx, CLNET_ERR_RANK_LOST,
                           "the communicator lost a rank in an earlier run: start again");
    clnet__dist *d = calloc(1, sizeof *d);
    const int nw = m->n_weights > 0 ? m->n_weights : 1;
    if (!d || !(d->bucket_of = malloc((size_t)nw * sizeof *d->bucket_of)) ||
        !(d->offset = calloc((size_t)nw, sizeof *d->offset)) ||
        !(d->writers = calloc((size_t)nw, sizeof *d->writers)) ||
        !(d->b = calloc((size_t)nw, sizeof *d->b)) ||
        !(d->order = calloc((size_t)nw, sizeof *d->order)) ||
        !(d->reqs = malloc((size_t)(nw + 1) * sizeof *d->reqs))) {
        clnet__dist_destroy(d);
        return clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    d->comm = comm;
    d->m = m;
    d->sync_bn = sync_bn != 0;
    d->sync = (clnet__op_sync){sync_sum, d};
    size_t total = 0;
    for (int i = 0; i < m->n_weights; ++i)
        total += shared(m, i) ? m->w[i]->count * sizeof(float) : 0;
    size_t cap = total / 4 < BUCKET_BYTES ? total / 4 : BUCKET_BYTES;
    cap = cap > MIN_BUCKET_BYTES ? cap : MIN_BUCKET_BYTES;
    bucket *cur = NULL;
    for (int i = m->n_weights - 1; i >= 0; --i) {
        const size_t count = m->w[i]->count;
        d->largest = count > d->largest ? count : d->largest;
        d->bucket_of[i] = -1;
        if (!shared(m, i))
            continue;
        if (!cur || cur->count * sizeof(float) >= cap) {
            cur = &d->b[d->n_buckets++];
            cur->offset = d->floats;
            cur->first = i;
        }
        d->bucket_of[i] = (int)(cur - d->b);
        d->offset[i] = d->floats;
        cur->count += count;
        cur->last = i;
        d->floats += count;
    }
    if (!(d->host = malloc((d->floats ? d->floats : 1) * sizeof *d->host)) ||
        !(d->staging = malloc((d->largest ? d->largest : 1) * sizeof *d->staging))) {
        clnet__dist_destroy(d);
        return clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory for %zu gradients",
                           d->floats);
    }
    /* The same model on every rank, or the sums mix unrelated numbers. */
    const double v[3] = {(double)m->n_weights, (double)d->floats, d->sync_bn};
    static const char *const what[3] = {"the model's weights", "the trainable parameters",
                                        "--sync-bn (1: on)"};
    const clnet_status st = clnet__dist_same(d, v, what, 3);
    if (st != CLNET_OK) {
        clnet__dist_destroy(d);
        return st;
    }
    *out = d;
    return CLNET_OK;
}

clnet_status clnet__dist_same(clnet__dist *d, const double *v, const char *const *what, int n)
{
    double *both = malloc((size_t)(2 * n) * sizeof *both);
    if (!both)
        return clnet__fail(d->m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    for (int k = 0; k < n; ++k) {
        both[k] = v[k];
        both[n + k] = -v[k];
    }
    clnet_status st = clnet__dist_reduce(d, both, 2 * n, 1);
    for (int k = 0; st == CLNET_OK && k < n; ++k)
        if (both[k] != -both[n + k])
            st = clnet__fail(d->m->ctx, CLNET_ERR_INVALID_ARG,
                             "the ranks disagree on %s: from %.17g to %.17g (every rank must "
                             "train the same model on the same data with the same options)",
                             what[k], -both[n + k], both[k]);
    free(both);
    return st;
}

/* Each of tensors' count floats from rank 0 to every rank, through staging. */
static clnet_status broadcast_tensor(clnet__dist *d, clnet_tensor *t)
{
    clnet_context *ctx = d->m->ctx;
    const int root = clnet_comm_rank(d->comm) == 0;
    if (root)
        CLNET_TRY(clnet_tensor_read(t, d->staging, t->count));
    MPI_Request r;
    const int e = MPI_Ibcast(d->staging, (int)t->count, MPI_FLOAT, 0, clnet__comm_mpi(d->comm), &r);
    if (e != MPI_SUCCESS)
        return clnet__comm_fail(d->comm, ctx, e, "MPI_Ibcast");
    CLNET_TRY(await(d, &r, 1, "rank 0's weights"));
    return root ? CLNET_OK : clnet_tensor_write(t, d->staging, t->count);
}

clnet_status clnet__dist_broadcast(clnet__dist *d, clnet_optimizer *o, clnet_tensor **best,
                                   double *v, int n)
{
    clnet_model *m = d->m;
    for (int i = 0; i < m->n_weights; ++i) {
        CLNET_TRY(broadcast_tensor(d, m->w[i]));
        if (best)
            CLNET_TRY(broadcast_tensor(d, best[i]));
        for (int k = 0; k < CLNET__OPT_STATES; ++k)
            if (o->state[k] && o->state[k][i])
                CLNET_TRY(broadcast_tensor(d, o->state[k][i]));
    }
    /* Step counts (bias correction, dropout seeds) and the caller's numbers. */
    double *all = malloc((size_t)(n + 2) * sizeof *all);
    if (!all)
        return clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    all[0] = (double)o->steps;
    all[1] = (double)m->steps_run;
    memcpy(all + 2, v, (size_t)n * sizeof *v);
    MPI_Request r;
    const int e = MPI_Ibcast(all, n + 2, MPI_DOUBLE, 0, clnet__comm_mpi(d->comm), &r);
    clnet_status st = e == MPI_SUCCESS ? await(d, &r, 1, "rank 0's run record")
                                       : clnet__comm_fail(d->comm, m->ctx, e, "MPI_Ibcast");
    if (st == CLNET_OK) {
        o->steps = (int64_t)all[0];
        m->steps_run = (uint64_t)all[1];
        memcpy(v, all + 2, (size_t)n * sizeof *v);
        clnet_model_weights_changed(m);
    }
    free(all);
    return st;
}

/* Enqueues the reads of bucket k's gradients into host. */
static clnet_status enqueue_reads(clnet__dist *d, int k)
{
    clnet_model *m = d->m;
    bucket *b = &d->b[k];
    if (b->read) {
        clReleaseEvent(b->read);
        b->read = NULL;
    }
    for (int i = b->first; i >= b->last; --i) {
        if (d->bucket_of[i] != k)
            continue;
        const int last = i == b->last;
        CLNET_CL_TRY(m->ctx,
                     clEnqueueReadBuffer(m->ctx->queue, m->dw[i]->buf, CL_FALSE, 0,
                                         m->dw[i]->count * sizeof(float), d->host + d->offset[i], 0,
                                         NULL, last ? &b->read : NULL));
    }
    b->enqueued = 1;
    d->order[d->n_ready++] = k;
    CLNET_CL_TRY(m->ctx, clFlush(m->ctx->queue)); /* started now, not at the next wait */
    return CLNET_OK;
}

/* Counts, for the plan backward runs, the steps writing each shared gradient. */
static void count_writers(clnet__dist *d, const clnet__plan *p)
{
    clnet_model *m = d->m;
    memset(d->writers, 0, (size_t)m->n_weights * sizeof *d->writers);
    for (int s = 0; s < p->n_steps; ++s) {
        const clnet__step *st = &p->steps[s];
        for (int k = 0; st->backward && k < st->n_w; ++k)
            if (st->w_grad[k] && st->w_index[k] >= 0 && d->bucket_of[st->w_index[k]] >= 0)
                ++d->writers[st->w_index[k]];
    }
    for (int k = 0; k < d->n_buckets; ++k) {
        bucket *b = &d->b[k];
        b->pending = 0;
        for (int i = b->first; i >= b->last; --i)
            b->pending += d->bucket_of[i] == k && d->writers[i] > 0;
    }
    d->counted = 1;
}

/* After backward step s's launches: a bucket whose gradients are all written is read. */
static void on_backward_step(void *user, const clnet__plan *p, int s)
{
    clnet__dist *d = user;
    if (!d->counted)
        count_writers(d, p);
    const clnet__step *st = &p->steps[s];
    for (int k = 0; k < st->n_w && d->error == CLNET_OK; ++k) {
        const int i = st->w_index[k];
        if (!st->w_grad[k] || i < 0 || d->bucket_of[i] < 0 || d->writers[i] <= 0)
            continue;
        bucket *b = &d->b[d->bucket_of[i]];
        if (--d->writers[i] == 0 && --b->pending == 0 && !b->enqueued)
            d->error = enqueue_reads(d, d->bucket_of[i]);
    }
}

/* Waits for ev, letting MPI progress the buckets already started (n_started of them in
 * order) meanwhile: polling with clnet__comm_nap's naps, or with none started, in the
 * device's own wait. */
static clnet_status wait_device(clnet__dist *d, cl_event ev, int n_started)
{
    clnet_context *ctx = d->m->ctx;
    if (n_started == 0)
        CLNET_CL_TRY(ctx, clWaitForEvents(1, &ev));
    long nap_ns = CLNET__NAP_MIN_NS;
    for (;;) {
        cl_int status = CL_QUEUED;
        CLNET_CL_TRY(ctx, clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status,
                                         &status, NULL));
        if (status < 0)
            return clnet__fail(ctx, CLNET_ERR_OPENCL,
                               "reading the gradients back failed on the device (%d)", status);
        if (status == CL_COMPLETE)
            return CLNET_OK;
        for (int j = 0; j < n_started; ++j) {
            int done = 0;
            MPI_Test(&d->b[d->order[j]].req, &done, MPI_STATUS_IGNORE);
        }
        clnet__comm_nap(&nap_ns);
    }
}

/* Forward, the loss over the global batch's images and backward of this rank's n
 * images, with the result read (*result) before backward; the buckets backward has not
 * finished are read after it. all: the request of the global images' sum (into
 * *images), awaited once forward is enqueued (its batch norms' exchanges, with
 * --sync-bn, come first). n 0: zero gradients, and the exchanges alone. */
static clnet_status shard_step(clnet__dist *d, const clnet_tensor *x, int n, const int *labels,
                               const float *cw, float label_smoothing, MPI_Request *all,
                               const double *images, cl_event *result)
{
    clnet_model *m = d->m;
    clnet_context *ctx = m->ctx;
    clnet_tensor *y = NULL, *dlogits = NULL;
    cl_mem res = NULL;
    if (n == 0) { /* nothing of this batch here: the exchanges alone */
        memset(d->host, 0, d->floats * sizeof *d->host);
        if (d->sync_bn)
            CLNET_TRY(clnet__model_sync_idle(m, 0, NULL));
        CLNET_TRY(await(d, all, 1, "the step's images"));
        return d->sync_bn && *images > 0 ? clnet__model_sync_idle(m, 1, NULL) : CLNET_OK;
    }
    CLNET_TRY(clnet_model_forward(m, x, 1, &y));
    CLNET_TRY(await(d, all, 1, "the step's images"));
    /* This rank's share of the global batch's mean: the ranks' sums are that mean. */
    CLNET_TRY(clnet__model_loss(m, labels, cw, label_smoothing, (int)*images, &dlogits, &res));
    /* Read before backward in the queue: the figures do not wait for backward. */
    CLNET_CL_TRY(ctx, clEnqueueReadBuffer(ctx->queue, res, CL_FALSE, 0, sizeof d->result, d->result,
                                          0, NULL, result));
    m->grad_hook = on_backward_step;
    m->grad_hook_user = d;
    clnet_status st = clnet_model_backward(m, dlogits);
    m->grad_hook = NULL;
    m->grad_hook_user = NULL;
    if (st == CLNET_OK)
        st = d->error;
    for (int k = 0; st == CLNET_OK && k < d->n_buckets; ++k)
        if (!d->b[k].enqueued)
            st = enqueue_reads(d, k);
    return st;
}

clnet_status clnet__dist_train_step(clnet__dist *d, clnet_optimizer *o, const clnet_tensor *x,
                                    int n, const int *labels, const float *cw, float lr,
                                    float label_smoothing, double *loss, int *hits, int *images)
{
    clnet_model *m = d->m;
    clnet_context *ctx = m->ctx;
    *loss = NAN;
    *hits = *images = 0;
    d->n_ready = 0;
    d->counted = 0;
    d->error = CLNET_OK;
    for (int k = 0; k < d->n_buckets; ++k)
        d->b[k].enqueued = 0;
    cl_event result = NULL;
    d->result[0] = 0.0f;
    d->result[1] = 0.0f;
    /* The global batch's images, summed while forward is enqueued: the loss divides by
     * them, so the gradients the ranks sum are the global batch's mean, however unequal
     * the shards (a last batch, unreadable files) and with --sync-bn too. */
    double all_images = (double)n;
    MPI_Request all;
    int e = MPI_Iallreduce(MPI_IN_PLACE, &all_images, 1, MPI_DOUBLE, MPI_SUM,
                           clnet__comm_mpi(d->comm), &all);
    if (e != MPI_SUCCESS)
        return clnet__comm_fail(d->comm, ctx, e, "MPI_Iallreduce");
    m->sync = d->sync_bn ? &d->sync : NULL;
    clnet_status st = shard_step(d, x, n, labels, cw, label_smoothing, &all, &all_images, &result);
    m->sync = NULL;
    if (st != CLNET_OK) {
        if (result)
            clReleaseEvent(result);
        clnet_context_finish(m->ctx); /* the reads write into host: let them land first */
        return st;
    }
    const int order_n = n > 0 ? d->n_ready : d->n_buckets;
    for (int j = 0; j < order_n && st == CLNET_OK; ++j) {
        const int k = n > 0 ? d->order[j] : j;
        if (n == 0)
            d->order[j] = k;
        bucket *b = &d->b[k];
        if (n > 0 && (st = wait_device(d, b->read, j)) != CLNET_OK)
            break;
        e = MPI_Iallreduce(MPI_IN_PLACE, d->host + b->offset, (int)b->count, MPI_FLOAT, MPI_SUM,
                           clnet__comm_mpi(d->comm), &b->req);
        if (e != MPI_SUCCESS)
            st = clnet__comm_fail(d->comm, ctx, e, "MPI_Iallreduce of the gradients");
        else
            d->n_ready = j + 1;
    }
    if (st == CLNET_OK && result)
        st = wait_device(d, result, d->n_ready);
    const double backward_done = clnet__now(); /* every gradient of this rank is on the host */
    if (result)
        clReleaseEvent(result);
    double fig[3] = {n > 0 ? (double)d->result[0] : 0.0, (double)d->result[1],
                     n > 0 && !isfinite(d->result[0]) ? 1.0 : 0.0};
    MPI_Request *reqs = d->reqs;
    int nreq = 0;
    for (int j = 0; st == CLNET_OK && j < d->n_ready; ++j)
        reqs[nreq++] = d->b[d->order[j]].req;
    if (st == CLNET_OK) {
        e = MPI_Iallreduce(MPI_IN_PLACE, fig, 3, MPI_DOUBLE, MPI_SUM, clnet__comm_mpi(d->comm),
                           &reqs[nreq]);
        st = e == MPI_SUCCESS ? await(d, reqs, nreq + 1, "the gradients of this step")
                              : clnet__comm_fail(d->comm, ctx, e, "MPI_Iallreduce");
    }
    d->sync_s += clnet__now() - backward_done;
    if (st != CLNET_OK)
        return st;
    *images = (int)all_images;
    *hits = (int)fig[1];
    if (*images == 0)
        return CLNET_OK; /* no rank had an image of this batch: no update anywhere */
    *loss = fig[0];
    if (fig[2] > 0.0 || !isfinite(*loss))
        return clnet__fail(ctx, CLNET_ERR_DIVERGED,
                           "the loss is %g on %.0f of the ranks: training diverged (try a "
                           "smaller learning rate)",
                           *loss, fig[2]);
    for (int i = 0; i < m->n_weights; ++i)
        if (d->bucket_of[i] >= 0)
            CLNET_CL_TRY(ctx, clEnqueueWriteBuffer(ctx->queue, m->dw[i]->buf, CL_FALSE, 0,
                                                   m->dw[i]->count * sizeof(float),
                                                   d->host + d->offset[i], 0, NULL, NULL));
    return clnet__optimizer_step_if_finite(o, lr, NULL);
}

clnet_status clnet__dist_statistics_forward(clnet__dist *d, const clnet_tensor *x, int n,
                                            double seen, int *images)
{
    double all = (double)n;
    CLNET_TRY(reduce(d, &all, 1, 0, "the batch's images"));
    *images = (int)all;
    if (all == 0.0)
        return CLNET_OK;
    d->m->sync = &d->sync;
    const float momentum = (float)(seen / (seen + all));
    const clnet_status st = n > 0 ? clnet__model_forward_momentum(d->m, x, momentum)
                                  : clnet__model_sync_idle(d->m, 0, &momentum);
    d->m->sync = NULL;
    return st;
}

clnet_status clnet__dist_average_statistics(clnet__dist *d)
{
    clnet_model *m = d->m;
    const float share = 1.0f / (float)clnet_comm_size(d->comm);
    for (int i = 0; i < m->n_weights; ++i) {
        if (m->info[i].trainable)
            continue;
        clnet_tensor *t = m->w[i];
        CLNET_TRY(clnet_tensor_read(t, d->staging, t->count));
        MPI_Request r;
        const int e = MPI_Iallreduce(MPI_IN_PLACE, d->staging, (int)t->count, MPI_FLOAT, MPI_SUM,
                                     clnet__comm_mpi(d->comm), &r);
        if (e != MPI_SUCCESS)
            return clnet__comm_fail(d->comm, m->ctx, e, "MPI_Iallreduce");
        CLNET_TRY(await(d, &r, 1, "the batch-norm statistics"));
        for (size_t k = 0; k < t->count; ++k)
            d->staging[k] *= share;
        CLNET_TRY(clnet_tensor_write(t, d->staging, t->count));
    }
    clnet_model_weights_changed(m);
    return CLNET_OK;
}

#endif
