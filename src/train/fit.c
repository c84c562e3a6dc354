/* fit.c - clnet_fit: the Keras-like training loop over a dataset. Batches come from a
 * background batcher (src/data/batcher.c); each training batch is one
 * clnet_train_step (loss.c), or with a communicator of several ranks one data-parallel
 * step (dist.c) on this rank's shard. Validation and the batch-norm statistics that
 * precede it are passes.c's. Tests: tests/models/test_fit.c, tests/models/test_bn_update.c,
 * tests/mpi/. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/dist.h"
#include "train/passes.h"

/* A loss explodes when the mean of the last EXPLODE_WINDOW steps exceeds EXPLODE_FACTOR
 * times the larger of ln(classes) (a uniform guess) and the run's first loss: far past
 * any healthy run's spikes, long before NaN (lr 0.05 on ResNet-50 reached 1e20). */
#define EXPLODE_WINDOW 5
#define EXPLODE_FACTOR 10.0

/* Everything one run of clnet_fit holds. */
typedef struct run {
    clnet_model *m;
    const clnet_dataset *train;
    const clnet_fit_options *o;
    int bn_current; /* the last epoch ended with statistics from all the training data */
    clnet_optimizer *opt;
    clnet_batcher *b;
    clnet__dist *dist; /* several ranks (o->comm): the run's data-parallel state */
    clnet__staged x;
    int epochs, steps_per_epoch;
    clnet__run_record rec;
    /* Explosion watch: the last EXPLODE_WINDOW step losses and the run's reference. */
    double recent[EXPLODE_WINDOW], reference;
    int n_recent;
} run;

static clnet_status watch_loss(run *r, double loss, int epoch, int step, float lr)
{
    const int classes = r->m->graph->layers[r->m->graph->n - 1].out.c;
    if (r->reference == 0.0)
        r->reference = fmax(log(classes > 1 ? classes : 2), loss);
    r->recent[r->n_recent++ % EXPLODE_WINDOW] = loss;
    if (r->n_recent < EXPLODE_WINDOW)
        return CLNET_OK;
    double mean = 0.0;
    for (int i = 0; i < EXPLODE_WINDOW; ++i)
        mean += r->recent[i] / EXPLODE_WINDOW;
    if (!(mean > EXPLODE_FACTOR * r->reference))
        return CLNET_OK;
    return clnet__fail(r->m->ctx, CLNET_ERR_DIVERGED,
                       "epoch %d, step %d: the loss exploded to %.3g (the mean of the last %d "
                       "steps; it started at %.3g) at learning rate %.3g: the learning rate is "
                       "too high for this model and batch size; try a smaller one",
                       epoch + 1, step + 1, mean, EXPLODE_WINDOW, r->reference, (double)lr);
}

/* The batcher's figures of the epoch so far into p. */
static void data_figures(const clnet_batcher *b, clnet_progress *p)
{
    const clnet_batcher_stats st = clnet_batcher_epoch_stats(b);
    p->data_s = st.data_s;
    p->workers = st.workers;
    p->images = st.images;
    p->skipped = st.skipped;
}

/* *stop is set when the progress callback asks to stop. */
static clnet_status one_epoch(run *r, int epoch, const clnet_dataset *val, clnet_progress *p,
                              int *stop)
{
    clnet_model *m = r->m;
    const clnet_fit_options *o = r->o;
    CLNET_TRY(clnet_batcher_start(r->b, epoch));
    const double t0 = clnet__now();
    double waited = 0.0, loss_sum = 0.0;
    int64_t images = 0, hits = 0;
    clnet_shape s = m->graph->layers[m->input_layer].out;
    memset(p, 0, sizeof *p);
    p->epoch = epoch;
    p->epochs = r->epochs;
    p->batches = r->steps_per_epoch;
    p->val_loss = p->val_accuracy = NAN;
    p->best_epoch = r->rec.best_epoch;
    /* A shard returns every batch of the epoch, empty ones too: counted. */
    for (int k = 0; !r->dist || k < r->steps_per_epoch; ++k) {
        const float *img = NULL;
        const int *labels = NULL;
        int n = 0;
        double w = 0.0;
        CLNET_TRY(clnet_batcher_next(r->b, &img, &labels, &n, &w));
        waited += w * 1e-3;
        if (n == 0 && !r->dist)
            break;
        s.n = n;
        if (n > 0) /* the step reads back before the next */
            CLNET_TRY(clnet__upload(m->ctx, &r->x, s, img, 0));
        const int64_t step = (int64_t)epoch * r->steps_per_epoch + p->batch;
        const int64_t total = (int64_t)r->epochs * r->steps_per_epoch;
        p->lr = clnet_schedule_lr(&o->schedule, step, total, r->steps_per_epoch);
        if (o->schedule.kind == CLNET_LR_ONECYCLE) {
            const clnet_optimizer_options *q = &o->optimizer;
            const float own = q->kind != CLNET_OPT_ADAM ? q->momentum
                              : q->beta1 > 0.0f         ? q->beta1
                                                        : 0.9f;
            CLNET_TRY(clnet_optimizer_set_momentum(
                r->opt, clnet_schedule_momentum(&o->schedule, step, total, own)));
        }
        double loss = 0.0;
        int correct = 0;
        const clnet_status st =
            r->dist ? clnet__dist_train_step(r->dist, r->opt, &r->x.view, n, labels,
                                             r->opt->class_weight, p->lr, o->label_smoothing, &loss,
                                             &correct, &n)
                    : clnet_train_step_weighted(r->opt, &r->x.view, labels, r->opt->class_weight,
                                                p->lr, o->label_smoothing, &loss, &correct);
        if (st == CLNET_OK && n == 0)
            continue; /* no rank had an image of this batch */
        if (st == CLNET_ERR_DIVERGED)
            return clnet__fail(m->ctx, st,
                               "epoch %d, step %d: the loss is %g at learning rate %.3g; "
                               "training stopped (try a smaller learning rate)",
                               epoch + 1, p->batch + 1, loss, (double)p->lr);
        CLNET_TRY(st);
        CLNET_TRY(watch_loss(r, loss, epoch, p->batch, p->lr));
        loss_sum += loss * n;
        hits += correct;
        images += n;
        ++p->batch;
        p->epoch_s = clnet__now() - t0;
        p->loss = loss_sum / (double)images;
        p->accuracy = (double)hits / (double)images;
        p->images_per_s = (double)images / (p->epoch_s > 0.0 ? p->epoch_s : 1e-9);
        p->eta_s = p->epoch_s / p->batch * (p->batches - p->batch);
        p->device_busy = p->epoch_s > 0.0 ? 1.0 - waited / p->epoch_s : 1.0;
        data_figures(r->b, p);
        double halt = o->progress && o->progress(o->user, p) ? 1.0 : 0.0;
        if (r->dist) /* any rank's callback stops them all */
            CLNET_TRY(clnet__dist_reduce(r->dist, &halt, 1, 1));
        if (halt > 0.0) {
            *stop = 2; /* mid-epoch: no checkpoint of a half epoch */
            return CLNET_OK;
        }
    }
    data_figures(r->b, p);
    p->ranks = clnet_comm_size(o->comm);
    if (r->dist) { /* the epoch's data figures of all the ranks, the longest wait */
        double v[3] = {p->data_s, p->images, p->skipped}, wait = clnet__dist_take_sync_s(r->dist);
        CLNET_TRY(clnet__dist_reduce(r->dist, v, 3, 0));
        CLNET_TRY(clnet__dist_reduce(r->dist, &wait, 1, 1));
        p->data_s = v[0];
        p->images = (int)v[1];
        p->skipped = (int)v[2];
        p->sync_s = wait;
    }
    if (images == 0)
        return clnet__fail(m->ctx, CLNET_ERR_PARSE,
                           "epoch %d: none of the %d training images could be read (every one "
                           "was skipped as unreadable; the log names each)",
                           epoch + 1, clnet_dataset_size(r->train));
    /* Statistics that match the weights for validation: a sample of a large training set
     * per epoch, all of it at the end of the run (a checkpoint alone needs none: training
     * never reads the moving statistics, and the run's end recomputes them whole). */
    const int last = epoch + 1 == r->epochs;
    r->bn_current = 0;
    if (!o->keep_bn_statistics && (val || last)) {
        CLNET_TRY(clnet__update_bn(m, r->train, o->batch, last ? 0 : CLNET_FIT_BN_IMAGES, o->seed,
                                   epoch, o->workers, r->dist, o->comm));
        r->bn_current = last || clnet_dataset_size(r->train) <= CLNET_FIT_BN_IMAGES;
    }
    if (val) {
        clnet_eval_result er;
        CLNET_TRY(clnet__evaluate(m, val, r->o->batch, r->dist, o->comm, &er));
        p->val_loss = er.loss;
        p->val_accuracy = er.top1;
        clnet_eval_result_free(&er);
    }
    p->epoch_s = clnet__now() - t0;
    p->end_of_epoch = 1;
    return CLNET_OK;
}

/* Copies every weight of m into best (or back from it, restore). */
static clnet_status copy_weights(clnet_model *m, clnet_tensor **best, int restore)
{
    for (int i = 0; i < m->n_weights; ++i) {
        clnet_tensor *from = restore ? best[i] : m->w[i], *to = restore ? m->w[i] : best[i];
        CLNET_TRY(clnet__copy(m->ctx, from->buf, 0, to->buf, 0, from->count));
    }
    if (restore)
        ++m->weights_version;
    return CLNET_OK;
}

/* The end of an epoch: its figures into the history, early stopping's bookkeeping
 * (*stop = 1 when patience has run out). */
static clnet_status end_epoch(run *r, int epoch, clnet_progress *p, int *stop)
{
    clnet__run_record *rec = &r->rec;
    CLNET_TRY(clnet__run_record_reserve(rec, epoch + 1));
    rec->history[epoch] = (clnet__epoch_figures){p->loss,         p->accuracy, p->val_loss,
                                                 p->val_accuracy, p->lr,       p->epoch_s};
    rec->n_history = epoch + 1;
    rec->epochs = epoch + 1;
    const double monitored = isnan(p->val_loss) ? p->loss : p->val_loss;
    if (monitored < rec->best - r->o->min_delta || rec->best_epoch < 0) {
        rec->best = monitored;
        rec->best_epoch = epoch;
        rec->wait = 0;
        if (rec->best_w)
            CLNET_TRY(copy_weights(r->m, rec->best_w, 0));
    } else {
        ++rec->wait;
    }
    p->best_epoch = rec->best_epoch;
    p->early_stop = r->o->patience > 0 && rec->wait >= r->o->patience;
    if (p->early_stop)
        *stop = 1;
    return CLNET_OK;
}

/* Reports the epochs a resumed run finished before, from the checkpoint's history. */
static int replay(const run *r)
{
    const clnet__run_record *rec = &r->rec;
    for (int e = 0; e < rec->n_history && e < rec->epochs && e < r->epochs; ++e) {
        const clnet__epoch_figures *f = &rec->history[e];
        clnet_progress p;
        memset(&p, 0, sizeof p);
        p.epoch = e;
        p.epochs = r->epochs;
        p.batch = p.batches = r->steps_per_epoch;
        p.loss = f->loss;
        p.accuracy = f->accuracy;
        p.val_loss = f->val_loss;
        p.val_accuracy = f->val_accuracy;
        p.lr = (float)f->lr;
        p.epoch_s = f->seconds;
        p.end_of_epoch = p.restored = 1;
        p.best_epoch = rec->best_epoch <= e ? rec->best_epoch : -1;
        if (r->o->progress && r->o->progress(r->o->user, &p))
            return 1;
    }
    return 0;
}

static clnet_status make_best(run *r)
{
    clnet_model *m = r->m;
    if (!(r->rec.best_w = calloc((size_t)(m->n_weights ? m->n_weights : 1), sizeof(void *))))
        return clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    for (int i = 0; i < m->n_weights; ++i)
        CLNET_TRY(clnet_tensor_create(m->ctx, m->w[i]->shape, &r->rec.best_w[i]));
    return CLNET_OK;
}

static void free_run(run *r)
{
    for (int i = 0; r->rec.best_w && i < r->m->n_weights; ++i)
        clnet_tensor_destroy(r->rec.best_w[i]);
    free(r->rec.best_w);
    clnet__run_record_free(&r->rec);
    /* An upload still queued after a failure reads the batcher's memory: wait first. */
    clnet_context_finish(r->m->ctx);
    clnet_tensor_destroy(r->x.store);
    clnet_batcher_destroy(r->b);
    clnet__dist_destroy(r->dist);
    clnet_optimizer_destroy(r->opt);
}

clnet_status clnet_fit(clnet_model *m, const clnet_dataset *train, const clnet_dataset *val,
                       const clnet_fit_options *opt)
{
    if (!m || !train)
        return m ? clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG, "clnet_fit: no training data")
                 : CLNET_ERR_INVALID_ARG;
    clnet_fit_options o;
    memset(&o, 0, sizeof o);
    if (opt)
        o = *opt;
    o.epochs = o.epochs > 0 ? o.epochs : 1;
    o.batch = o.batch > 0 ? o.batch : 32;
    if (o.schedule.lr == 0.0f)
        o.schedule.lr = 0.01f;
    if (o.patience < 0 || !(o.min_delta >= 0.0f))
        return clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG,
                           "clnet_fit: patience %d and min_delta %g must not be negative",
                           o.patience, (double)o.min_delta);
    CLNET_TRY(clnet__check_data(m, train, "training"));
    if (val)
        CLNET_TRY(clnet__check_data(m, val, "validation"));
    run r;
    memset(&r, 0, sizeof r);
    r.m = m;
    r.train = train;
    r.o = &o;
    r.epochs = o.epochs;
    r.rec.best = HUGE_VAL;
    r.rec.best_epoch = -1;
    clnet_status st = o.restore_best ? make_best(&r) : CLNET_OK;
    if (st == CLNET_OK)
        st = clnet_optimizer_create(m, &o.optimizer, &r.opt);
    if (st == CLNET_OK)
        st = clnet__loss_set_class_weight(r.opt, o.class_weight);
    if (st == CLNET_OK)
        st =
            clnet__batcher(m, train, o.batch, 1, o.augment, o.aug, o.seed, o.workers, o.comm, &r.b);
    if (st == CLNET_OK)
        r.steps_per_epoch = clnet_batcher_batches(r.b);
    if (st == CLNET_OK)
        st = clnet__dist_create(o.comm, m, o.sync_bn, &r.dist);
    if (st == CLNET_OK && r.dist) { /* or the ranks' steps fall out of step */
        static const char *const what[] = {"the training images", "the batch", "the epochs",
                                           "the validation images", "the seed"};
        const double v[] = {clnet_dataset_size(train), o.batch, o.epochs,
                            val ? clnet_dataset_size(val) : -1.0, (double)o.seed};
        st = clnet__dist_same(r.dist, v, what, (int)(sizeof v / sizeof v[0]));
    }
    const int root = clnet_comm_rank(o.comm) == 0;
    if (st == CLNET_OK && o.checkpoint && o.resume && root)
        st = clnet__checkpoint_load(r.opt, o.checkpoint, &r.rec);
    if (st == CLNET_OK && r.dist) { /* rank 0's weights and where its run stands */
        double v[4] = {r.rec.epochs, r.rec.best, r.rec.best_epoch, r.rec.wait};
        st = clnet__dist_broadcast(r.dist, r.opt, r.rec.best_w, v, 4);
        r.rec.epochs = (int)v[0];
        r.rec.best = v[1];
        r.rec.best_epoch = (int)v[2];
        r.rec.wait = (int)v[3];
    }
    if (st == CLNET_OK && o.note) { /* the caller's note wins over a stored one */
        free(r.rec.note);
        if (!(r.rec.note = strdup(o.note)))
            st = clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    int stop = st == CLNET_OK && replay(&r) ? 1 : 0;
    if (st == CLNET_OK && !stop && o.patience > 0 && r.rec.wait >= o.patience)
        stop = 1; /* it had stopped early already */
    for (int epoch = r.rec.epochs; st == CLNET_OK && epoch < o.epochs && !stop; ++epoch) {
        clnet_progress p;
        st = one_epoch(&r, epoch, val, &p, &stop);
        if (st != CLNET_OK || stop == 2)
            break;
        st = end_epoch(&r, epoch, &p, &stop);
        double halt = st == CLNET_OK && o.progress && o.progress(o.user, &p) ? 1.0 : 0.0;
        if (st == CLNET_OK && r.dist) /* any rank's callback stops them all */
            st = clnet__dist_reduce(r.dist, &halt, 1, 1);
        if (halt > 0.0)
            stop = 1;
        if (st == CLNET_OK && stop == 1 && !o.keep_bn_statistics && !r.bn_current) {
            st = clnet__update_bn(m, train, o.batch, 0, o.seed, epoch, o.workers, r.dist,
                                  o.comm); /* the run ends */
            r.bn_current = 1;
        }
        if (st == CLNET_OK && o.checkpoint && root) /* one writer of the shared file */
            st = clnet__checkpoint_save(r.opt, o.checkpoint, &r.rec);
    }
    const int restore =
        r.rec.best_w && r.rec.best_epoch >= 0 && r.rec.best_epoch + 1 < r.rec.epochs;
    if (st == CLNET_OK && stop != 2 && restore) {
        st = copy_weights(m, r.rec.best_w, 1);
        /* The best epoch's statistics came from a sample when the data is large. */
        if (st == CLNET_OK && !o.keep_bn_statistics &&
            clnet_dataset_size(train) > CLNET_FIT_BN_IMAGES)
            st = clnet__update_bn(m, train, o.batch, 0, o.seed, r.rec.best_epoch, o.workers, r.dist,
                                  o.comm);
    }
    free_run(&r);
    return st;
}
