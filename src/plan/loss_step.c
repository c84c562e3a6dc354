/* loss_step.c - the training plan's last step: the softmax cross-entropy of the logits
 * against integer labels, uploaded without waiting like the images, its gradient for
 * backward and the step's loss and hits in one small buffer read once per step
 * (src/train/loss.c). Kernel: softmax_cross_entropy_sparse (cl/softmax_cross_entropy.cl).
 * Tests: tests/models/test_train.c. */
#include <math.h>
#include <string.h>

#include "ops/reduce.h"
#include "ops/softmax.h"
#include "plan/plan.h"

/* The classes of p's output when it is one score per class, else 0. */
static int classes_of(const clnet__plan *p)
{
    const clnet_shape s = p->values[p->output].view.shape;
    return p->training && s.h == 1 && s.w == 1 ? s.c : 0;
}

uint64_t clnet__loss_step_size(const clnet_model *m, clnet__plan *p)
{
    const int c = classes_of(p);
    if (!c)
        return 0;
    const uint64_t batch = (uint64_t)p->batch;
    p->loss.scratch.bytes[CLNET_SCRATCH_REDUCE] = clnet__reduce_rows_scratch(m->ctx, p->batch, 2);
    return batch * sizeof(cl_int) + (uint64_t)c * sizeof(float) + 2 * batch * sizeof(float) +
           2 * sizeof(float) + batch * (uint64_t)c * sizeof(float) +
           p->loss.scratch.bytes[CLNET_SCRATCH_REDUCE];
}

clnet_status clnet__loss_step_allocate(clnet_model *m, clnet__plan *p)
{
    clnet__loss_step *l = &p->loss;
    const int c = classes_of(p);
    if (!c)
        return CLNET_OK;
    clnet_context *ctx = m->ctx;
    const size_t batch = (size_t)p->batch;
    l->bytes = clnet__loss_step_size(m, p);
    CLNET_TRY(clnet__buffer(ctx, batch * sizeof(cl_int), "the loss step's labels", &l->labels));
    CLNET_TRY(clnet__buffer(ctx, (size_t)c * sizeof(float), "the loss step's class weights",
                            &l->class_weight));
    CLNET_TRY(clnet__buffer(ctx, 2 * batch * sizeof(float), "the loss step's rows", &l->partial));
    CLNET_TRY(clnet__buffer(ctx, 2 * sizeof(float), "the loss step's result", &l->result));
    CLNET_TRY(clnet_tensor_create(ctx, (clnet_shape){p->batch, 1, 1, c}, &l->dlogits));
    CLNET_TRY(clnet__scratch_create(ctx, l->scratch.bytes, &l->scratch));
    l->classes = c;
    return CLNET_OK;
}

void clnet__loss_step_free(clnet__loss_step *l)
{
    const cl_mem mems[] = {l->labels, l->class_weight, l->partial, l->result};
    for (size_t i = 0; i < CLNET_COUNTOF(mems); ++i)
        if (mems[i])
            clReleaseMemObject(mems[i]);
    clnet_tensor_destroy(l->dlogits);
    clnet__scratch_release(&l->scratch);
    memset(l, 0, sizeof *l);
}

clnet_status clnet__labels_check(clnet_context *ctx, const int *labels, int n, int classes)
{
    for (int i = 0; i < n; ++i)
        if (labels[i] < 0 || labels[i] >= classes)
            return clnet__fail(ctx, CLNET_ERR_INVALID_ARG,
                               "label %d of image %d is not a class of the model's %d", labels[i],
                               i, classes);
    return CLNET_OK;
}

clnet_status clnet__model_loss(clnet_model *m, const int *labels, const float *cw, float ls,
                               int images, clnet_tensor **dlogits, cl_mem *result)
{
    clnet_context *ctx = m->ctx;
    clnet__plan *p = m->ran;
    if (!p || !p->training)
        return clnet__fail(ctx, CLNET_ERR_INVALID_ARG, "the loss needs a training forward first");
    clnet__loss_step *l = &p->loss;
    const clnet_shape s = p->values[p->output].view.shape;
    char buf[48];
    if (!l->classes)
        return clnet__fail(ctx, CLNET_ERR_SHAPE,
                           "the model's output %s is not one score per class (n x 1 x 1 x classes)",
                           clnet__shape_str(s, buf, sizeof buf));
    if (!(ls >= 0.0f && ls <= 1.0f))
        return clnet__fail(ctx, CLNET_ERR_INVALID_ARG, "label smoothing %g must be in [0, 1]",
                           (double)ls);
    CLNET_TRY(clnet__labels_check(ctx, labels, s.n, s.c));
    CLNET_TRY(clnet__write_async(ctx, l->labels, (size_t)s.n * sizeof(cl_int), labels));
    if (cw)
        CLNET_TRY(clnet__write_async(ctx, l->class_weight, (size_t)s.c * sizeof(float), cw));
    clnet_tensor *d = l->dlogits;
    d->shape = s;
    d->count = clnet__shape_count(s);
    CLNET_TRY(clnet__sce_sparse(ctx, &l->scratch, p->values[p->output].view.buf, l->labels,
                                cw ? l->class_weight : NULL, ls, s.n, images, s.c, d->buf,
                                l->partial, l->result));
    *dlogits = d;
    *result = l->result;
    return CLNET_OK;
}
