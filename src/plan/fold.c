/* fold.c - batch norm folded into the convolution before it, on the host in double:
 * with s = gamma / sqrt(moving_variance + epsilon), per output channel o
 *   kernel'[.., o] = kernel[.., o] * s[o]
 *   bias'[o]       = (bias[o] - moving_mean[o]) * s[o] + beta[o]
 * In HWIO kernels (conv2d {kh, kw, cin, cout}, dense {1, 1, c, units}, depthwise
 * {kh, kw, cin, mult} whose output channel is ci * mult + m) the output channel of
 * flat element i is i % cout in all three. Then the weights ops keep rearranged for
 * their kernels (op prepack steps: conv2d's GEMM panels) are made again from them, on
 * the host: a prepacked step's folded kernel never reaches the device. Both run when
 * the model's weights changed since the last inference. Fusion: fuse.c. Tests:
 * tests/models/test_plan.c (fused inference equals unfused). */
#include <math.h>
#include <stdlib.h>

#include "plan/plan.h"

/* The host copies one fold works on: the plan's largest kernel and largest panels,
 * allocated once (clnet__host_alloc): a fresh allocation per layer cost a page fault per
 * 4 KB of every kernel (a warm `clnet predict` of ResNet-18 spent about a tenth of its
 * time folding). */
typedef struct fold_buf {
    float *k, *packed;
    size_t k_cap, packed_cap;
} fold_buf;

static clnet_status read_host(clnet_tensor *t, float **out)
{
    *out = malloc(t->count * sizeof **out);
    if (!*out)
        return clnet__fail(t->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory folding");
    return clnet_tensor_read(t, *out, t->count);
}

/* Folds step s's kernel and bias: the kernel stays in fb->k, and goes to the step's
 * folded[0] unless that has no buffer (a prepacked step's). */
static clnet_status fold_step(clnet_model *m, clnet__step *s, fold_buf *fb)
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
        if (s->folded[0]->buf)
            st = clnet_tensor_write(s->folded[0], k, n);
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

/* Step s's prepacked panels, from its kernel: the folded one fold_step left in fb->k, or
 * the model's own read into it. */
static clnet_status prepack_step(clnet_model *m, clnet__plan *p, clnet__step *s, fold_buf *fb)
{
    clnet_tensor *w[CLNET_MAX_WEIGHTS];
    clnet_shape in[CLNET_MAX_INPUTS];
    clnet__step_weights(m, s, w, NULL);
    const size_t n = w[0]->count, bytes = s->exec.prepacked_bytes;
    if (n > fb->k_cap || bytes > fb->packed_cap)
        return clnet__fail(m->ctx, CLNET_ERR_INTERNAL, "prepacking: weights larger than planned");
    if (s->fold_bn < 0)
        CLNET_TRY(clnet_tensor_read(w[0], fb->k, n));
    for (int k = 0; k < s->n_in; ++k)
        in[k] = p->values[s->in[k]].view.shape;
    CLNET_TRY(s->op->prepack(m->ctx, s->params, in, s->n_in, &s->exec, fb->k, fb->packed));
    return clnet_tensor_write(s->prepacked, fb->packed, bytes / sizeof(float));
}

clnet_status clnet__plan_fold(clnet_model *m, clnet__plan *p)
{
    if (p->folded_version == m->weights_version)
        return CLNET_OK;
    fold_buf fb = {NULL, NULL, 0, 0};
    for (int s = 0; s < p->n_steps; ++s) {
        const clnet__step *sp = &p->steps[s];
        if (sp->fold_bn >= 0 || sp->prepacked) {
            const size_t n = m->w[m->weight_base[sp->members[0]]]->count;
            fb.k_cap = n > fb.k_cap ? n : fb.k_cap;
        }
        if (sp->prepacked && sp->exec.prepacked_bytes > fb.packed_cap)
            fb.packed_cap = sp->exec.prepacked_bytes;
    }
    clnet_status st = CLNET_OK;
    if ((fb.k_cap && !(fb.k = clnet__host_alloc(fb.k_cap * sizeof *fb.k))) ||
        (fb.packed_cap && !(fb.packed = clnet__host_alloc(fb.packed_cap))))
        st = clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory folding");
    for (int s = 0; s < p->n_steps && st == CLNET_OK; ++s) {
        clnet__step *sp = &p->steps[s];
        if (sp->fold_bn >= 0)
            st = fold_step(m, sp, &fb);
        if (st == CLNET_OK && sp->prepacked)
            st = prepack_step(m, p, sp, &fb);
    }
    free(fb.k);
    free(fb.packed);
    if (st == CLNET_OK)
        p->folded_version = m->weights_version;
    return st;
}
