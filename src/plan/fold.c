/* fold.c - batch norm folded into the convolution before it, on the host in double:
 * with s = gamma / sqrt(moving_variance + epsilon), per output channel o
 *   kernel'[.., o] = kernel[.., o] * s[o]
 *   bias'[o]       = (bias[o] - moving_mean[o]) * s[o] + beta[o]
 * In HWIO kernels (conv2d {kh, kw, cin, cout}, dense {1, 1, c, units}, depthwise
 * {kh, kw, cin, mult} whose output channel is ci * mult + m) the output channel of
 * flat element i is i % cout in all three. Then the weights ops keep rearranged for
 * their kernels (op prepack steps: conv2d's GEMM panels) are made again from them; a
 * prepacked step's folded kernel is only staged on its way into the panels. Both run
 * when the model's weights changed since the last inference. Fusion: fuse.c. Tests:
 * tests/models/test_plan.c (fused inference equals unfused). */
#include <math.h>
#include <stdlib.h>

#include "plan/plan.h"

/* The host copies one fold works on. The kernel buffer is the plan's largest kernel,
 * allocated once: a fresh allocation per layer cost a page fault per 4 KB of every
 * kernel (a warm `clnet predict` of ResNet-18 spent about a tenth of its time folding). */
typedef struct fold_buf {
    float *k;
    size_t k_cap;
} fold_buf;

static clnet_status read_host(clnet_tensor *t, float **out)
{
    *out = malloc(t->count * sizeof **out);
    if (!*out)
        return clnet__fail(t->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory folding");
    return clnet_tensor_read(t, *out, t->count);
}

/* Folds step s's kernel and bias; the kernel goes to kernel (the step's folded[0], or the
 * staging buffer of a prepacked step, whose folded[0] has no buffer). */
static clnet_status fold_step(clnet_model *m, clnet__step *s, fold_buf *fb, clnet_tensor *kernel)
{
    const int conv = s->members[0];
    const int wb = m->weight_base[conv], bb = m->weight_base[s->fold_bn];
    const clnet__layer *cl = &m->graph->layers[conv];
    const int has_bias = cl->n_w > 1;
    const double eps =
        ((const clnet__batch_norm_params *)m->graph->layers[s->fold_bn].params)->epsilon;
    float *k = fb->k, *b = NULL, *bn[4] = {NULL, NULL, NULL, NULL};
    double *scale = NULL;
    const size_t n = m->w[wb]->count;
    clnet_status st = n <= fb->k_cap ? clnet_tensor_read(m->w[wb], k, n)
                                     : clnet__fail(m->ctx, CLNET_ERR_INTERNAL,
                                                   "folding: a kernel larger than planned");
    if (st == CLNET_OK && has_bias)
        st = read_host(m->w[wb + 1], &b);
    for (int i = 0; st == CLNET_OK && i < 4; ++i)
        st = read_host(m->w[bb + i], &bn[i]); /* gamma, beta, moving_mean, moving_variance */
    const int cout = (int)s->folded[1]->count;
    float *bias = st == CLNET_OK ? malloc((size_t)cout * sizeof *bias) : NULL;
    if (st == CLNET_OK && (!bias || !(scale = malloc((size_t)cout * sizeof *scale))))
        st = clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory folding");
    if (st == CLNET_OK) {
        for (int o = 0; o < cout; ++o) {
            scale[o] = (double)bn[0][o] / sqrt((double)bn[3][o] + eps);
            const double b0 = has_bias ? (double)b[o] : 0.0;
            bias[o] = (float)((b0 - (double)bn[2][o]) * scale[o] + (double)bn[1][o]);
        }
        /* Rows of cout output channels (n is a multiple of cout in all three layouts). */
        for (size_t r = 0; r < n; r += (size_t)cout)
            for (int o = 0; o < cout; ++o)
                k[r + (size_t)o] = (float)((double)k[r + (size_t)o] * scale[o]);
        st = clnet_tensor_write(kernel, k, n);
    }
    if (st == CLNET_OK)
        st = clnet_tensor_write(s->folded[1], bias, (size_t)cout);
    free(b);
    free(bias);
    free(scale);
    for (int i = 0; i < 4; ++i)
        free(bn[i]);
    return st;
}

/* A prepacked step's folded kernel: the forward reads only the panels packed from it. */
static int staged(const clnet__step *s)
{
    return s->fold_bn >= 0 && s->folded[0] && !s->folded[0]->buf;
}

clnet_status clnet__plan_fold(clnet_model *m, clnet__plan *p)
{
    if (p->folded_version == m->weights_version)
        return CLNET_OK;
    fold_buf fb = {NULL, 0};
    size_t stage_count = 0;
    for (int s = 0; s < p->n_steps; ++s)
        if (p->steps[s].fold_bn >= 0) {
            const size_t n = m->w[m->weight_base[p->steps[s].members[0]]]->count;
            fb.k_cap = n > fb.k_cap ? n : fb.k_cap;
            if (staged(&p->steps[s]))
                stage_count = n > stage_count ? n : stage_count;
        }
    if (fb.k_cap && !(fb.k = malloc(fb.k_cap * sizeof *fb.k)))
        return clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory folding");
    /* One device buffer stages the folded kernels of the prepacked steps, one at a time:
     * the queue is in order, so a step's write waits for the previous step's packing. */
    clnet_tensor *stage = NULL;
    clnet_status st = CLNET_OK;
    if (stage_count)
        st = clnet_tensor_create(m->ctx, (clnet_shape){1, 1, 1, (int)stage_count}, &stage);
    for (int s = 0; s < p->n_steps && st == CLNET_OK; ++s) {
        clnet__step *sp = &p->steps[s];
        clnet_tensor kernel = {0};
        if (staged(sp)) {
            kernel = *sp->folded[0];
            kernel.buf = stage->buf;
        }
        if (sp->fold_bn >= 0)
            st = fold_step(m, sp, &fb, staged(sp) ? &kernel : sp->folded[0]);
        /* Then what the op keeps of its (folded) weights, rearranged for its kernels. */
        if (st != CLNET_OK || !sp->prepacked)
            continue;
        clnet_tensor *w[CLNET_MAX_WEIGHTS];
        clnet_shape in[CLNET_MAX_INPUTS];
        clnet__step_weights(m, sp, w, NULL);
        if (staged(sp))
            w[0] = &kernel;
        for (int k = 0; k < sp->n_in; ++k)
            in[k] = p->values[sp->in[k]].view.shape;
        st = sp->op->prepack(m->ctx, sp->params, in, sp->n_in, &sp->exec, w, sp->prepacked->buf);
    }
    free(fb.k);
    clnet_tensor_destroy(stage);
    if (st == CLNET_OK)
        p->folded_version = m->weights_version;
    return st;
}
