/* optimizer.c - SGD (momentum, Nesterov, weight decay) and Adam / AdamW on the device:
 * one in-place update kernel per weight tensor. Kernels: cl/optimizer.cl. Reference:
 * src/ref/optimizer.c. Tests: tests/ops/test_optimizer.c. */
#include <math.h>
#include <stdlib.h>

#include "train/train.h"

#define PROG "optimizer"

static clnet_status check_options(clnet_context *ctx, clnet_optimizer_options *o)
{
    if (o->kind != CLNET_OPT_SGD && o->kind != CLNET_OPT_ADAM)
        return clnet__fail(ctx, CLNET_ERR_INVALID_ARG, "optimizer: unknown kind %d", (int)o->kind);
    if (o->kind == CLNET_OPT_ADAM) {
        o->beta1 = o->beta1 == 0.0f ? 0.9f : o->beta1;
        o->beta2 = o->beta2 == 0.0f ? 0.999f : o->beta2;
        o->epsilon = o->epsilon == 0.0f ? 1e-8f : o->epsilon;
    }
    if (!(o->momentum >= 0.0f && o->momentum < 1.0f) || !(o->weight_decay >= 0.0f) ||
        !(o->beta1 >= 0.0f && o->beta1 < 1.0f) || !(o->beta2 >= 0.0f && o->beta2 < 1.0f) ||
        !(o->epsilon >= 0.0f))
        return clnet__fail(ctx, CLNET_ERR_INVALID_ARG,
                           "optimizer: momentum %g, beta1 %g and beta2 %g must be in [0, 1), "
                           "weight decay %g and epsilon %g not negative",
                           o->momentum, o->beta1, o->beta2, o->weight_decay, o->epsilon);
    return CLNET_OK;
}

clnet_status clnet_optimizer_create(clnet_model *m, const clnet_optimizer_options *o,
                                    clnet_optimizer **out)
{
    if (!out)
        return CLNET_ERR_INVALID_ARG;
    *out = NULL;
    if (!m)
        return CLNET_ERR_INVALID_ARG;
    clnet_optimizer *opt = calloc(1, sizeof *opt);
    if (!opt)
        return clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    opt->model = m;
    if (o)
        opt->opt = *o;
    clnet_status st = check_options(m->ctx, &opt->opt);
    const int states = opt->opt.kind == CLNET_OPT_ADAM ? 2 : opt->opt.momentum != 0.0f ? 1 : 0;
    for (int k = 0; k < 2 && st == CLNET_OK; ++k)
        if (!(opt->state[k] = calloc((size_t)(m->n_weights ? m->n_weights : 1), sizeof(void *))))
            st = clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    for (int i = 0; i < m->n_weights && st == CLNET_OK; ++i)
        for (int k = 0; k < states && st == CLNET_OK && m->dw[i]; ++k) {
            st = clnet_tensor_create(m->ctx, m->w[i]->shape, &opt->state[k][i]);
            if (st == CLNET_OK)
                st = clnet_tensor_fill(opt->state[k][i], 0.0f);
        }
    if (st != CLNET_OK) {
        clnet_optimizer_destroy(opt);
        return st;
    }
    *out = opt;
    return CLNET_OK;
}

void clnet_optimizer_destroy(clnet_optimizer *o)
{
    if (!o)
        return;
    clnet__loss_free(o);
    for (int k = 0; k < 2; ++k) {
        for (int i = 0; o->state[k] && i < o->model->n_weights; ++i)
            clnet_tensor_destroy(o->state[k][i]);
        free(o->state[k]);
    }
    free(o);
}

int64_t clnet_optimizer_steps(const clnet_optimizer *o)
{
    return o ? o->steps : 0;
}

static clnet_status update(clnet_optimizer *o, int i, float lr, double c1, double c2)
{
    clnet_model *m = o->model;
    clnet_context *ctx = m->ctx;
    const clnet_optimizer_options *p = &o->opt;
    clnet_tensor *w = m->w[i], *g = m->dw[i];
    const int count = (int)w->count;
    const size_t global[1] = {clnet__chunks(ctx, PROG, (size_t)count)};
    if (p->kind == CLNET_OPT_SGD) {
        cl_mem v = o->state[0][i] ? o->state[0][i]->buf : w->buf; /* unread without momentum */
        const clnet_arg args[] = {CLNET_ARG_MEM(w->buf),      CLNET_ARG_MEM(g->buf),
                                  CLNET_ARG_MEM(v),           CLNET_ARG_INT(count),
                                  CLNET_ARG_FLOAT(lr),        CLNET_ARG_FLOAT(p->momentum),
                                  CLNET_ARG_INT(p->nesterov), CLNET_ARG_FLOAT(p->weight_decay)};
        return clnet__launch(ctx, PROG, "optimizer_sgd", args, (int)CLNET_COUNTOF(args), 1, global);
    }
    const clnet_arg args[] = {CLNET_ARG_MEM(w->buf),
                              CLNET_ARG_MEM(g->buf),
                              CLNET_ARG_MEM(o->state[0][i]->buf),
                              CLNET_ARG_MEM(o->state[1][i]->buf),
                              CLNET_ARG_INT(count),
                              CLNET_ARG_FLOAT(lr),
                              CLNET_ARG_FLOAT(p->beta1),
                              CLNET_ARG_FLOAT(p->beta2),
                              CLNET_ARG_FLOAT(p->epsilon),
                              CLNET_ARG_FLOAT(p->weight_decay),
                              CLNET_ARG_INT(p->decoupled),
                              CLNET_ARG_FLOAT((float)c1),
                              CLNET_ARG_FLOAT((float)c2)};
    return clnet__launch(ctx, PROG, "optimizer_adam", args, (int)CLNET_COUNTOF(args), 1, global);
}

clnet_status clnet_optimizer_step(clnet_optimizer *o, float lr)
{
    if (!o)
        return CLNET_ERR_INVALID_ARG;
    clnet_model *m = o->model;
    if (!(lr >= 0.0f) || !isfinite(lr))
        return clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG,
                           "optimizer: learning rate %g must be finite and not negative", lr);
    const int64_t t = o->steps + 1;
    const double c1 = 1.0 - pow(o->opt.beta1, (double)t), c2 = 1.0 - pow(o->opt.beta2, (double)t);
    for (int i = 0; i < m->n_weights; ++i)
        if (m->dw[i] && !m->frozen[i])
            CLNET_TRY(update(o, i, lr, c1, c2));
    o->steps = t;
    ++m->weights_version;
    return CLNET_OK;
}
