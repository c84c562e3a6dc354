/* loss.c - clnet_train_step and clnet_model_gradients: a training forward, the training
 * plan's loss step (the softmax cross-entropy of the logits against integer labels, each
 * image's loss weighted by its class's weight when there are class weights; loss_step.c),
 * backward, then (a train step) the optimizer's update, which the device skips when the
 * loss is not finite. The host waits once per step, reading the loss and the hits. Class weights
 * follow Keras: fit turns class_weight into per-sample weights (keras/src/trainers/data_adapters/
 * data_adapter_utils.py, class_weight_to_sample_weights) and the loss multiplies each
 * sample's loss by its weight, then sums and divides by the number of samples, not by the
 * weights' sum (keras/src/losses/loss.py, reduce_weighted_values and reduce_values with
 * the default "sum_over_batch_size"). Tests: tests/models/test_train.c,
 * tests/models/test_class_weight.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/train.h"

void clnet__loss_free(clnet_optimizer *o)
{
    free(o->class_weight);
}

/* Class weights must be finite and not negative: a negative one would train the model
 * away from its class. */
static clnet_status check_class_weight(clnet_context *ctx, const float *w, int classes)
{
    for (int k = 0; k < classes; ++k)
        if (!(w[k] >= 0.0f) || !isfinite(w[k]))
            return clnet__fail(ctx, CLNET_ERR_INVALID_ARG,
                               "class_weight[%d] is %g: class weights must be finite and not "
                               "negative",
                               k, (double)w[k]);
    return CLNET_OK;
}

clnet_status clnet__loss_set_class_weight(clnet_optimizer *o, const float *w)
{
    clnet_model *m = o->model;
    free(o->class_weight);
    o->class_weight = NULL;
    if (!w)
        return CLNET_OK;
    const int classes = m->graph->layers[m->graph->n - 1].out.c;
    CLNET_TRY(check_class_weight(m->ctx, w, classes));
    if (!(o->class_weight = malloc((size_t)classes * sizeof *w)))
        return clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    memcpy(o->class_weight, w, (size_t)classes * sizeof *w);
    return CLNET_OK;
}

/* Enqueues forward, the loss step and backward of x; *result gets the device's {mean
 * loss, hits}. checked: cw is a copy already checked. */
static clnet_status forward_backward(clnet_model *m, const clnet_tensor *x, const int *labels,
                                     const float *cw, int checked, float ls, cl_mem *result)
{
    clnet_tensor *y = NULL, *dlogits = NULL;
    CLNET_TRY(clnet_model_forward(m, x, 1, &y));
    if (cw && !checked)
        CLNET_TRY(check_class_weight(m->ctx, cw, y->shape.c));
    CLNET_TRY(clnet__model_loss(m, labels, cw, ls, 0, &dlogits, result));
    return clnet_model_backward(m, dlogits);
}

/* The one wait of a step: the loss and hits of result. */
static clnet_status read_result(clnet_model *m, cl_mem result, double *loss, int *correct)
{
    float r[2] = {NAN, 0.0f};
    ++m->ctx->stats.host_waits;
    CLNET_CL_TRY(
        m->ctx, clEnqueueReadBuffer(m->ctx->queue, result, CL_TRUE, 0, sizeof r, r, 0, NULL, NULL));
    if (loss)
        *loss = r[0];
    if (correct)
        *correct = (int)r[1];
    if (!isfinite(r[0]))
        return clnet__fail(m->ctx, CLNET_ERR_DIVERGED,
                           "the loss is %g: training diverged (try a smaller learning rate)",
                           (double)r[0]);
    return CLNET_OK;
}

clnet_status clnet_train_step(clnet_optimizer *o, const clnet_tensor *x, const int *labels,
                              float lr, float label_smoothing, double *loss, int *correct)
{
    return clnet_train_step_weighted(o, x, labels, NULL, lr, label_smoothing, loss, correct);
}

clnet_status clnet_train_step_weighted(clnet_optimizer *o, const clnet_tensor *x, const int *labels,
                                       const float *class_weight, float lr, float label_smoothing,
                                       double *loss, int *correct)
{
    if (loss)
        *loss = NAN;
    if (correct)
        *correct = 0;
    if (!o || !x || !labels)
        return o ? clnet__fail(o->model->ctx, CLNET_ERR_INVALID_ARG,
                               "clnet_train_step: no input or labels")
                 : CLNET_ERR_INVALID_ARG;
    clnet_model *m = o->model;
    cl_mem result = NULL;
    /* clnet_fit's copy was checked when it was made. */
    CLNET_TRY(forward_backward(m, x, labels, class_weight, class_weight == o->class_weight,
                               label_smoothing, &result));
    CLNET_TRY(clnet__optimizer_step_if_finite(o, lr, result));
    const clnet_status st = read_result(m, result, loss, correct);
    if (st == CLNET_ERR_DIVERGED) /* the device skipped the update: so does the count */
        --o->steps;
    return st;
}

clnet_status clnet_model_gradients(clnet_model *m, const clnet_tensor *x, const int *labels,
                                   float label_smoothing, double *loss, int *correct)
{
    if (loss)
        *loss = NAN;
    if (correct)
        *correct = 0;
    if (!m || !x || !labels)
        return m ? clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG,
                               "clnet_model_gradients: no input or labels")
                 : CLNET_ERR_INVALID_ARG;
    cl_mem result = NULL;
    CLNET_TRY(forward_backward(m, x, labels, NULL, 0, label_smoothing, &result));
    return read_result(m, result, loss, correct);
}
