/* profile.c - clnet_model_profile: a forward (and backward) with every plan step timed
 * by OpenCL profiling events, for `clnet bench model`. Each step is waited for on its
 * own, so the sum is the device time of the steps without overlap between them.
 * Tests: tests/models/test_plan.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"

/* The rows and their strings, kept on the model between profiles. */
typedef struct profile {
    clnet_layer_profile *rows;
    char *text; /* every row's layers and kernels strings */
    int n;
    clnet_status status; /* the first profiling failure inside the hook */
} profile;

static void hook(void *user, const clnet__plan *p, int step, int backward, int after)
{
    clnet_model *m = user;
    profile *pr = m->profile;
    (void)p;
    if (pr->status != CLNET_OK)
        return;
    if (!after) {
        clnet__profile_begin(m->ctx);
        return;
    }
    double ms = 0.0;
    pr->status = clnet__profile_end(m->ctx, &ms);
    if (backward)
        pr->rows[step].backward_ms += ms;
    else
        pr->rows[step].forward_ms += ms;
}

void clnet__profile_free(clnet_model *m)
{
    profile *pr = m->profile;
    if (!pr)
        return;
    free(pr->rows);
    free(pr->text);
    free(pr);
    m->profile = NULL;
}

/* Names and kernels of every step of p, and its multiply-adds for the batch. */
static clnet_status describe_rows(clnet_model *m, const clnet__plan *p, profile *pr)
{
    const size_t each = 768;
    pr->rows = calloc((size_t)(p->n_steps ? p->n_steps : 1), sizeof *pr->rows);
    pr->text = malloc((size_t)(p->n_steps ? p->n_steps : 1) * each);
    if (!pr->rows || !pr->text)
        return clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    pr->n = p->n_steps;
    for (int s = 0; s < p->n_steps; ++s) {
        const clnet__step *st = &p->steps[s];
        char *names = pr->text + (size_t)s * each, *kern = names + 512;
        names[0] = '\0';
        double flops = 0.0;
        for (int i = 0; i < st->n_members; ++i) {
            const clnet__layer *l = &m->graph->layers[st->members[i]];
            const size_t used = strlen(names);
            snprintf(names + used, 512 - used, "%s%s", i ? " + " : "", l->name);
            flops += l->flops;
        }
        clnet__step_kernels(m, p, st, kern, each - 512);
        pr->rows[s] = (clnet_layer_profile){names, kern, 0.0, 0.0, flops * p->n};
    }
    return CLNET_OK;
}

clnet_status clnet_model_profile(clnet_model *m, const clnet_tensor *x, int training,
                                 const clnet_layer_profile **rows, int *n)
{
    if (rows)
        *rows = NULL;
    if (n)
        *n = 0;
    if (!m || !x || !rows || !n)
        return m ? clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG, "clnet_model_profile: NULL argument")
                 : CLNET_ERR_INVALID_ARG;
    training = training != 0;
    clnet__plan *p = NULL;
    int slice = x->shape.n;
    CLNET_TRY(clnet__model_plan(m, training, x->shape.n, &p, &slice));
    if (slice != x->shape.n)
        return clnet__fail(m->ctx, CLNET_ERR_UNSUPPORTED,
                           "profiling a batch of %d that runs in slices of %d: profile %d images",
                           x->shape.n, slice, slice);
    clnet__profile_free(m);
    profile *pr = calloc(1, sizeof *pr);
    if (!pr)
        return clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    m->profile = pr;
    CLNET_TRY(describe_rows(m, p, pr));
    clnet_tensor *y = NULL, *dy = NULL;
    m->hook = hook;
    m->hook_user = m;
    clnet_status st = clnet_model_forward(m, x, training, &y);
    if (st == CLNET_OK && training) {
        st = clnet_tensor_create(m->ctx, y->shape, &dy);
        if (st == CLNET_OK)
            st = clnet_tensor_fill(dy, 1.0f);
        if (st == CLNET_OK)
            st = clnet_model_backward(m, dy);
    }
    m->hook = NULL;
    clnet_tensor_destroy(dy);
    if (st == CLNET_OK)
        st = pr->status;
    if (st != CLNET_OK)
        return st;
    *rows = pr->rows;
    *n = pr->n;
    return CLNET_OK;
}
