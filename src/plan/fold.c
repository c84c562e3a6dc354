/* fold.c - batch norm folded into the convolution before it, on the host in double:
 * with s = gamma / sqrt(moving_variance + epsilon), per output channel o
 *   kernel'[.., o] = kernel[.., o] * s[o]
 *   bias'[o]       = (bias[o] - moving_mean[o]) * s[o] + beta[o]
 * In HWIO kernels (conv2d {kh, kw, cin, cout}, dense {1, 1, c, units}, depthwise
 * {kh, kw, cin, mult} whose output channel is ci * mult + m) the output channel of
 * flat element i is i % cout in all three. Fusion: fuse.c. Tests:
 * tests/models/test_plan.c (fused inference equals unfused). */
#include <math.h>
#include <stdlib.h>

#include "plan/plan.h"

static clnet_status read_host(clnet_tensor *t, float **out)
{
    *out = malloc(t->count * sizeof **out);
    if (!*out)
        return clnet__fail(t->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory folding");
    return clnet_tensor_read(t, *out, t->count);
}

static clnet_status fold_step(clnet_model *m, clnet__step *s)
{
    const int conv = s->members[0];
    const int wb = m->weight_base[conv], bb = m->weight_base[s->fold_bn];
    const clnet__layer *cl = &m->graph->layers[conv];
    const int has_bias = cl->n_w > 1;
    const double eps =
        ((const clnet__batch_norm_params *)m->graph->layers[s->fold_bn].params)->epsilon;
    float *k = NULL, *b = NULL, *bn[4] = {NULL, NULL, NULL, NULL};
    double *scale = NULL;
    clnet_status st = read_host(m->w[wb], &k);
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
        const size_t n = m->w[wb]->count;
        for (size_t i = 0; i < n; ++i)
            k[i] = (float)((double)k[i] * scale[i % (size_t)cout]);
        st = clnet_tensor_write(s->folded[0], k, n);
    }
    if (st == CLNET_OK)
        st = clnet_tensor_write(s->folded[1], bias, (size_t)cout);
    free(k);
    free(b);
    free(bias);
    free(scale);
    for (int i = 0; i < 4; ++i)
        free(bn[i]);
    return st;
}

clnet_status clnet__plan_fold(clnet_model *m, clnet__plan *p)
{
    if (p->folded_version == m->weights_version)
        return CLNET_OK;
    for (int s = 0; s < p->n_steps; ++s)
        if (p->steps[s].fold_bn >= 0)
            CLNET_TRY(fold_step(m, &p->steps[s]));
    p->folded_version = m->weights_version;
    return CLNET_OK;
}
