/* fit.c - clnet_fit and clnet_evaluate: the Keras-like loops over datasets. Batches
 * come from a background batcher (src/data/batcher.c); each training batch is one
 * clnet_train_step (loss.c). Tests: tests/models/test_fit.c. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/train.h"

/* The dataset fits the model: same image shape, and the model ends in a classifier head
 * (one score per class of the data); else what to change, naming the output layer. */
static clnet_status check_data(clnet_model *m, const clnet_dataset *d, const char *what)
{
    const clnet_shape in = m->graph->layers[m->input_layer].out;
    const clnet_shape img = clnet_dataset_image_shape(d);
    const clnet__layer *last = &m->graph->layers[m->graph->n - 1];
    const clnet_shape out = last->out;
    const int classes = clnet_dataset_class_count(d);
    if (img.h != in.h || img.w != in.w || img.c != in.c)
        return clnet__fail(m->ctx, CLNET_ERR_SHAPE,
                           "the %s images are %dx%dx%d but the model takes %dx%dx%d", what, img.h,
                           img.w, img.c, in.h, in.w, in.c);
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

/* A batcher over d normalized as the model says. */
static clnet_status batcher(clnet_model *m, const clnet_dataset *d, int batch, int shuffle,
                            int augment, uint64_t seed, clnet_batcher **b)
{
    const clnet_batch_options bo = {batch, shuffle, seed, augment, m->mean, m->std};
    const clnet_status st = clnet_batcher_create(d, &bo, b);
    return st == CLNET_OK ? st : clnet__fail(m->ctx, st, "cannot batch the data");
}

/* x as a {n, h, w, c} tensor holding images (re-created when n changes). */
static clnet_status upload(clnet_context *ctx, clnet_tensor **x, clnet_shape s, const float *img)
{
    if (*x && !clnet__shape_eq((*x)->shape, s)) {
        clnet_tensor_destroy(*x);
        *x = NULL;
    }
    if (!*x)
        CLNET_TRY(clnet_tensor_create(ctx, s, x));
    return clnet_tensor_write(*x, img, clnet__shape_count(s));
}

/* Mean loss, top-1 / top-5 hits and the confusion of one batch of logits, or of
 * probabilities when the model ends in a softmax (the loss is then -log p[label], an
 * underflowed p counting as the smallest float). */
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
            sum += exp((double)row[k] - top);
            above += row[k] > row[labels[i]];
        }
        if (probs)
            *loss_sum -= log(fmax((double)row[labels[i]], (double)FLT_TRUE_MIN));
        else
            *loss_sum += log(sum) - ((double)row[labels[i]] - top);
        r->top1 += best == labels[i];
        r->top5 += above < 5;
        r->confusion[(size_t)labels[i] * c + best] += 1;
    }
}

clnet_status clnet_evaluate(clnet_model *m, const clnet_dataset *d, int batch, clnet_eval_result *r)
{
    if (r)
        memset(r, 0, sizeof *r);
    if (!m || !d || !r)
        return m ? clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG, "clnet_evaluate: NULL argument")
                 : CLNET_ERR_INVALID_ARG;
    CLNET_TRY(check_data(m, d, "evaluation"));
    const int c = clnet_dataset_class_count(d);
    r->classes = c;
    if (!(r->confusion = calloc((size_t)c * c, sizeof *r->confusion)))
        return clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    clnet_batcher *b = NULL;
    clnet_tensor *x = NULL, *y = NULL;
    float *logits = NULL;
    double loss_sum = 0.0;
    int fused = 0;
    const int probs = clnet__graph_logits(m->graph, &fused) >= 0;
    clnet_status st = batcher(m, d, batch > 0 ? batch : 64, 0, 0, 0, &b);
    if (st == CLNET_OK)
        st = clnet_batcher_start(b, 0);
    clnet_shape s = clnet_dataset_image_shape(d);
    while (st == CLNET_OK) {
        const float *img = NULL;
        const int *labels = NULL;
        int n = 0;
        if ((st = clnet_batcher_next(b, &img, &labels, &n, NULL)) != CLNET_OK || n == 0)
            break;
        s.n = n;
        if ((st = upload(m->ctx, &x, s, img)) != CLNET_OK ||
            (st = clnet_model_forward(m, x, 0, &y)) != CLNET_OK)
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
    if (st == CLNET_OK && r->images > 0) {
        r->loss = loss_sum / r->images;
        r->top1 /= r->images;
        r->top5 /= r->images;
    }
    free(logits);
    clnet_tensor_destroy(x);
    clnet_batcher_destroy(b);
    if (st != CLNET_OK)
        clnet_eval_result_free(r);
    return st;
}

void clnet_eval_result_free(clnet_eval_result *r)
{
    if (!r)
        return;
    free(r->confusion);
    r->confusion = NULL;
}

/* Everything one run of clnet_fit holds. */
typedef struct run {
    clnet_model *m;
    const clnet_fit_options *o;
    clnet_optimizer *opt;
    clnet_batcher *b;
    clnet_tensor *x;
    int epochs, steps_per_epoch;
} run;

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
    for (;;) {
        const float *img = NULL;
        const int *labels = NULL;
        int n = 0;
        double w = 0.0;
        CLNET_TRY(clnet_batcher_next(r->b, &img, &labels, &n, &w));
        waited += w * 1e-3;
        if (n == 0)
            break;
        s.n = n;
        CLNET_TRY(upload(m->ctx, &r->x, s, img));
        const int64_t step = (int64_t)epoch * r->steps_per_epoch + p->batch;
        p->lr = clnet_schedule_lr(&o->schedule, step, (int64_t)r->epochs * r->steps_per_epoch,
                                  r->steps_per_epoch);
        double loss = 0.0;
        int correct = 0;
        const clnet_status st =
            clnet_train_step(r->opt, r->x, labels, p->lr, o->label_smoothing, &loss, &correct);
        if (st == CLNET_ERR_DIVERGED)
            return clnet__fail(m->ctx, st,
                               "epoch %d, step %d: the loss is %g; training stopped (try a "
                               "smaller learning rate)",
                               epoch + 1, p->batch + 1, loss);
        CLNET_TRY(st);
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
        if (o->progress && o->progress(o->user, p)) {
            *stop = 2; /* mid-epoch: no checkpoint of a half epoch */
            return CLNET_OK;
        }
    }
    if (val) {
        clnet_eval_result er;
        CLNET_TRY(clnet_evaluate(m, val, r->o->batch, &er));
        p->val_loss = er.loss;
        p->val_accuracy = er.top1;
        clnet_eval_result_free(&er);
    }
    p->epoch_s = clnet__now() - t0;
    p->end_of_epoch = 1;
    if (o->progress && o->progress(o->user, p))
        *stop = 1;
    return CLNET_OK;
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
    CLNET_TRY(check_data(m, train, "training"));
    if (val)
        CLNET_TRY(check_data(m, val, "validation"));
    run r = {m, &o, NULL, NULL, NULL, o.epochs, 0};
    clnet_status st = clnet_optimizer_create(m, &o.optimizer, &r.opt);
    if (st == CLNET_OK)
        st = batcher(m, train, o.batch, 1, o.augment, o.seed, &r.b);
    if (st == CLNET_OK)
        r.steps_per_epoch = clnet_batcher_batches(r.b);
    int first = 0;
    if (st == CLNET_OK && o.checkpoint && o.resume)
        st = clnet__checkpoint_load(r.opt, o.checkpoint, &first);
    int stop = 0;
    for (int epoch = first; st == CLNET_OK && epoch < o.epochs && !stop; ++epoch) {
        clnet_progress p;
        st = one_epoch(&r, epoch, val, &p, &stop);
        if (st == CLNET_OK && o.checkpoint && stop != 2)
            st = clnet__checkpoint_save(r.opt, o.checkpoint, epoch + 1);
    }
    clnet_tensor_destroy(r.x);
    clnet_batcher_destroy(r.b);
    clnet_optimizer_destroy(r.opt);
    return st;
}
