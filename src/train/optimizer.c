/* optimizer.c - SGD (momentum, Nesterov, weight decay), Adam / AdamW and RMSprop
 * (momentum, centered, weight decay) on the device: one in-place update kernel per
 * weight tensor. Kernels: cl/optimizer.cl. Reference:
 * src/ref/optimizer.c. Tests: tests/ops/test_optimizer.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/train.h"

#define PROG "optimizer"

static const char *const kind_names[] = {"sgd", "adam", "rmsprop"};

const char *clnet_optimizer_kind_name(clnet_optimizer_kind kind)
{
    return (int)kind >= 0 && (int)kind < (int)CLNET_COUNTOF(kind_names) ? kind_names[kind] : NULL;
}

clnet_status clnet_optimizer_kind_parse(const char *text, clnet_optimizer_kind *out)
{
    for (int k = 0; text && out && k < (int)CLNET_COUNTOF(kind_names); ++k)
        if (strcmp(text, kind_names[k]) == 0) {
            *out = (clnet_optimizer_kind)k;
            return CLNET_OK;
        }
    return CLNET_ERR_INVALID_ARG;
}

/* Fills the defaults of unset (zero) fields and checks the ranges. */
static clnet_status check_options(clnet_context *ctx, clnet_optimizer_options *o)
{
    if (!clnet_optimizer_kind_name(o->kind))
        return clnet__fail(ctx, CLNET_ERR_INVALID_ARG, "optimizer: unknown kind %d", (int)o->kind);
    if (o->kind == CLNET_OPT_ADAM) {
        o->beta1 = o->beta1 == 0.0f ? 0.9f : o->beta1;
        o->beta2 = o->beta2 == 0.0f ? 0.999f : o->beta2;
        o->epsilon = o->epsilon == 0.0f ? 1e-8f : o->epsilon;
    }
    if (o->kind == CLNET_OPT_RMSPROP) { /* Keras's defaults */
        o->rho = o->rho == 0.0f ? 0.9f : o->rho;
        o->epsilon = o->epsilon == 0.0f ? 1e-7f : o->epsilon;
    }
    if (!(o->momentum >= 0.0f && o->momentum < 1.0f) || !(o->weight_decay >= 0.0f) ||
        !(o->beta1 >= 0.0f && o->beta1 < 1.0f) || !(o->beta2 >= 0.0f && o->beta2 < 1.0f) ||
        !(o->rho >= 0.0f && o->rho < 1.0f) || !(o->epsilon >= 0.0f) || !isfinite(o->weight_decay) ||
        !isfinite(o->epsilon))
        return clnet__fail(ctx, CLNET_ERR_INVALID_ARG,
                           "optimizer: momentum %g, beta1 %g, beta2 %g and rho %g must be in "
                           "[0, 1), weight decay %g and epsilon %g finite and not negative",
                           o->momentum, o->beta1, o->beta2, o->rho, o->weight_decay, o->epsilon);
    return CLNET_OK;
}

int clnet__optimizer_uses_state(const clnet_optimizer_options *o, int k)
{
    switch (o->kind) {
    case CLNET_OPT_SGD:
        return k == 0 && o->momentum != 0.0f;
    case CLNET_OPT_ADAM:
        return k <= 1;
    case CLNET_OPT_RMSPROP:
        return k == 0 || (k == 1 && o->momentum != 0.0f) || (k == 2 && o->centered);
    }
    return 0;
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
    for (int k = 0; k < CLNET__OPT_STATES && st == CLNET_OK; ++k)
        if (!(opt->state[k] = calloc((size_t)(m->n_weights ? m->n_weights : 1), sizeof(void *))))
            st = clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    for (int i = 0; i < m->n_weights && st == CLNET_OK; ++i)
        for (int k = 0; k < CLNET__OPT_STATES && st == CLNET_OK && m->dw[i]; ++k) {
            if (!clnet__optimizer_uses_state(&opt->opt, k))
                continue;
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
    clnet_tensor_destroy(o->finite);
    for (int k = 0; k < CLNET__OPT_STATES; ++k) {
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

clnet_status clnet_optimizer_set_momentum(clnet_optimizer *o, float momentum)
{
    if (!o)
        return CLNET_ERR_INVALID_ARG;
    clnet_context *ctx = o->model->ctx;
    if (!(momentum >= 0.0f && momentum < 1.0f))
        return clnet__fail(ctx, CLNET_ERR_INVALID_ARG, "optimizer: momentum %g is outside [0, 1)",
                           momentum);
    if (o->opt.kind == CLNET_OPT_ADAM) {
        o->opt.beta1 = momentum;
        return CLNET_OK;
    }
    /* Without momentum at creation there is no buffer to carry it. */
    if (o->opt.momentum == 0.0f && momentum != 0.0f)
        return clnet__fail(ctx, CLNET_ERR_INVALID_ARG,
                           "optimizer: %s was created without momentum; momentum %g needs one",
                           clnet_optimizer_kind_name(o->opt.kind), momentum);
    o->opt.momentum = momentum;
    return CLNET_OK;
}

static clnet_status update(clnet_optimizer *o, int i, float lr, double c1, double c2, cl_mem loss)
{
    clnet_model *m = o->model;
    clnet_context *ctx = m->ctx;
    const clnet_optimizer_options *p = &o->opt;
    clnet_tensor *w = m->w[i], *g = m->dw[i];
    const int count = (int)w->count;
    const size_t global[1] = {clnet__chunks(ctx, PROG, (size_t)count)};
    /* A state slot the options leave unused is never read: w's buffer stands in. */
    cl_mem s[CLNET__OPT_STATES];
    for (int k = 0; k < CLNET__OPT_STATES; ++k)
        s[k] = o->state[k][i] ? o->state[k][i]->buf : w->buf;
    if (p->kind == CLNET_OPT_SGD) {
        const clnet_arg args[] = {CLNET_ARG_MEM(w->buf),      CLNET_ARG_MEM(g->buf),
                                  CLNET_ARG_MEM(s[0]),        CLNET_ARG_INT(count),
                                  CLNET_ARG_FLOAT(lr),        CLNET_ARG_FLOAT(p->momentum),
                                  CLNET_ARG_INT(p->nesterov), CLNET_ARG_FLOAT(p->weight_decay),
                                  CLNET_ARG_MEM(loss)};
        return clnet__launch(ctx, PROG, "optimizer_sgd", args, (int)CLNET_COUNTOF(args), 1, global);
    }
    if (p->kind == CLNET_OPT_RMSPROP) {
        const clnet_arg args[] = {CLNET_ARG_MEM(w->buf),       CLNET_ARG_MEM(g->buf),
                                  CLNET_ARG_MEM(s[0]),         CLNET_ARG_MEM(s[1]),
                                  CLNET_ARG_MEM(s[2]),         CLNET_ARG_INT(count),
                                  CLNET_ARG_FLOAT(lr),         CLNET_ARG_FLOAT(p->rho),
                                  CLNET_ARG_FLOAT(p->epsilon), CLNET_ARG_FLOAT(p->momentum),
                                  CLNET_ARG_INT(p->centered),  CLNET_ARG_FLOAT(p->weight_decay),
                                  CLNET_ARG_INT(p->decoupled), CLNET_ARG_MEM(loss)};
        return clnet__launch(ctx, PROG, "optimizer_rmsprop", args, (int)CLNET_COUNTOF(args), 1,
                             global);
    }
    const clnet_arg args[] = {CLNET_ARG_MEM(w->buf),       CLNET_ARG_MEM(g->buf),
                              CLNET_ARG_MEM(s[0]),         CLNET_ARG_MEM(s[1]),
                              CLNET_ARG_INT(count),        CLNET_ARG_FLOAT(lr),
                              CLNET_ARG_FLOAT(p->beta1),   CLNET_ARG_FLOAT(p->beta2),
                              CLNET_ARG_FLOAT(p->epsilon), CLNET_ARG_FLOAT(p->weight_decay),
                              CLNET_ARG_INT(p->decoupled), CLNET_ARG_FLOAT((float)c1),
                              CLNET_ARG_FLOAT((float)c2),  CLNET_ARG_MEM(loss)};
    return clnet__launch(ctx, PROG, "optimizer_adam", args, (int)CLNET_COUNTOF(args), 1, global);
}

clnet_status clnet_optimizer_step(clnet_optimizer *o, float lr)
{
    return clnet__optimizer_step_if_finite(o, lr, NULL);
}

clnet_status clnet__optimizer_step_if_finite(clnet_optimizer *o, float lr, cl_mem loss)
{
    if (!o)
        return CLNET_ERR_INVALID_ARG;
    clnet_model *m = o->model;
    if (!(lr >= 0.0f) || !isfinite(lr))
        return clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG,
                           "optimizer: learning rate %g must be finite and not negative", lr);
    const int64_t t = o->steps + 1;
    const double c1 = 1.0 - pow(o->opt.beta1, (double)t), c2 = 1.0 - pow(o->opt.beta2, (double)t);
    if (!loss) { /* an update the caller asked for: a finite stand-in */
        if (!o->finite) {
            CLNET_TRY(clnet_tensor_create(m->ctx, (clnet_shape){1, 1, 1, 1}, &o->finite));
            CLNET_TRY(clnet_tensor_fill(o->finite, 0.0f));
        }
        loss = o->finite->buf;
    }
    for (int i = 0; i < m->n_weights; ++i)
        if (m->dw[i] && !m->frozen[i])
            CLNET_TRY(update(o, i, lr, c1, c2, loss));
    o->steps = t;
    ++m->weights_version;
    return CLNET_OK;
}
