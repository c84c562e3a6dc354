/* layer_scale.c - reference of layer_scale (src/ops/layer_scale.c), in double:
 * y = x * gamma[c]; dx = dy * gamma[c], dgamma[c] = the sum of dy * x over the pixels. */
#include "ref/ref.h"

void clnet__ref_layer_scale_forward(const clnet__ref_args *a)
{
    const int c = a->out_shape.c;
    for (size_t i = 0, n = clnet__shape_count(a->out_shape); i < n; ++i)
        a->out[i] = a->in[0][i] * a->w[0][i % (size_t)c];
}

void clnet__ref_layer_scale_backward(const clnet__ref_args *a)
{
    const int c = a->out_shape.c;
    double *dx = a->din[0], *dgamma = a->dw[0];
    for (int j = 0; dgamma && j < c; ++j)
        dgamma[j] = 0.0;
    for (size_t i = 0, n = clnet__shape_count(a->out_shape); i < n; ++i) {
        if (dx)
            dx[i] = a->dout[i] * a->w[0][i % (size_t)c];
        if (dgamma)
            dgamma[i % (size_t)c] += a->dout[i] * a->in[0][i];
    }
}
