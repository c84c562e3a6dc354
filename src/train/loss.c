/* loss.c - clnet_train_step: the softmax cross-entropy of a model's logits against
 * integer labels (the softmax_cross_entropy op on one-hot targets, each image's loss
 * weighted by its class's weight when there are class weights), its gradient fed to the
 * model's backward, then the optimizer's update. Class weights follow Keras: fit turns
 * class_weight into per-sample weights (keras/src/trainers/data_adapters/
 * data_adapter_utils.py, class_weight_to_sample_weights) and the loss multiplies each
 * sample's loss by its weight, then sums and divides by the number of samples, not by the
 * weights' sum (keras/src/losses/loss.py, reduce_weighted_values and reduce_values with
 * the default "sum_over_batch_size"). Tests: tests/models/test_train.c,
 * tests/models/test_class_weight.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/train.h"

/* (Re)sizes the workspace for logits of shape s. */
static clnet_status workspace(clnet_optimizer *o, clnet_shape s)
{
    clnet_context *ctx = o->model->ctx;
    if (o->targets && clnet__shape_eq(o->targets->shape, s))
        return CLNET_OK;
    clnet_tensor_destroy(o->targets);
    clnet_tensor_destroy(o->row_weights);
    clnet_tensor_destroy(o->dlogits);
    o->targets = o->row_weights = o->dlogits = NULL;
    clnet__op_alone_release(&o->loss_op);
    free(o->host_targets);
    free(o->host_weights);
    free(o->host_logits);
    const size_t n = clnet__shape_count(s);
    o->host_targets = malloc(n * sizeof(float));
    o->host_weights = malloc((size_t)s.n * sizeof(float));
    o->host_logits = malloc(n * sizeof(float));
    if (!o->host_targets || !o->host_weights || !o->host_logits)
        return clnet__fail(ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    CLNET_TRY(clnet_tensor_create(ctx, s, &o->targets));
    CLNET_TRY(clnet_tensor_create(ctx, (clnet_shape){s.n, 1, 1, 1}, &o->row_weights));
    CLNET_TRY(clnet_tensor_create(ctx, s, &o->dlogits));
    /* The weighted form's record serves both: its scratch does not depend on the weights. */
    const clnet__softmax_cross_entropy_params p = {0.0f};
    const clnet_shape in[3] = {s, s, {s.n, 1, 1, 1}};
    CLNET_TRY(
        clnet__op_alone_prepare(ctx, &clnet__op_softmax_cross_entropy, &p, in, 3, 1, &o->loss_op));
    if (!o->loss) {
        CLNET_TRY(clnet_tensor_create(ctx, (clnet_shape){1, 1, 1, 1}, &o->loss));
        CLNET_TRY(clnet_tensor_create(ctx, (clnet_shape){1, 1, 1, 1}, &o->one));
        CLNET_TRY(clnet_tensor_fill(o->one, 1.0f));
    }
    return CLNET_OK;
}

void clnet__loss_free(clnet_optimizer *o)
{
    clnet_tensor_destroy(o->targets);
    clnet_tensor_destroy(o->row_weights);
    clnet_tensor_destroy(o->dlogits);
    clnet_tensor_destroy(o->loss);
    clnet_tensor_destroy(o->one);
    clnet__op_alone_release(&o->loss_op);
    free(o->host_targets);
    free(o->host_weights);
    free(o->host_logits);
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
    clnet_context *ctx = m->ctx;
    clnet_tensor *y = NULL;
    CLNET_TRY(clnet_model_forward(m, x, 1, &y));
    const clnet_shape s = y->shape;
    char buf[48];
    if (s.h != 1 || s.w != 1)
        return clnet__fail(ctx, CLNET_ERR_SHAPE,
                           "the model's output %s is not one score per class (n x 1 x 1 x classes)",
                           clnet__shape_str(s, buf, sizeof buf));
    if (class_weight && class_weight != o->class_weight) /* clnet_fit's copy was checked */
        CLNET_TRY(check_class_weight(ctx, class_weight, s.c));
    CLNET_TRY(workspace(o, s));
    memset(o->host_targets, 0, y->count * sizeof(float));
    for (int i = 0; i < s.n; ++i) {
        if (labels[i] < 0 || labels[i] >= s.c)
            return clnet__fail(ctx, CLNET_ERR_INVALID_ARG,
                               "label %d of image %d is not a class of the model's %d", labels[i],
                               i, s.c);
        o->host_targets[(size_t)i * s.c + labels[i]] = 1.0f;
        if (class_weight)
            o->host_weights[i] = class_weight[labels[i]];
    }
    CLNET_TRY(clnet_tensor_write(o->targets, o->host_targets, y->count));
    if (class_weight)
        CLNET_TRY(clnet_tensor_write(o->row_weights, o->host_weights, (size_t)s.n));
    /* Without class weights the op's two-input form: no weights are read. */
    const int n_in = class_weight ? 3 : 2;
    const clnet__softmax_cross_entropy_params p = {label_smoothing};
    clnet_tensor *in[3] = {y, o->targets, o->row_weights}, *din[3] = {o->dlogits, NULL, NULL};
    const clnet__op_call fwd = {.ctx = ctx,
                                .params = &p,
                                .n_in = n_in,
                                .in = in,
                                .out = o->loss,
                                .training = 1,
                                .exec = &o->loss_op.exec,
                                .scratch = &o->loss_op.scratch};
    CLNET_TRY(clnet__op_softmax_cross_entropy.forward(&fwd));
    float l = 0.0f;
    CLNET_TRY(clnet_tensor_read(o->loss, &l, 1));
    if (loss)
        *loss = l;
    if (!isfinite(l))
        return clnet__fail(ctx, CLNET_ERR_DIVERGED,
                           "the loss is %g: training diverged (try a smaller learning rate)",
                           (double)l);
    if (correct) {
        CLNET_TRY(clnet_tensor_read(y, o->host_logits, y->count));
        for (int i = 0; i < s.n; ++i)
            *correct += clnet__argmax(o->host_logits + (size_t)i * s.c, s.c) == labels[i];
    }
    clnet__op_call bwd = fwd;
    bwd.dout = o->one;
    bwd.din = din;
    CLNET_TRY(clnet__op_softmax_cross_entropy.backward(&bwd));
    CLNET_TRY(clnet_model_backward(m, o->dlogits));
    return clnet_optimizer_step(o, lr);
}
