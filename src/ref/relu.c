/* relu.c - reference of relu and relu6 (src/ops/relu.c). */
#include "ref/ref.h"

void clnet__ref_relu_forward(const clnet__ref_args *a)
{
    const clnet__relu_params *p = a->params;
    for (size_t i = 0, n = clnet__shape_count(a->out_shape); i < n; ++i) {
        double v = a->in[0][i] > 0.0 ? a->in[0][i] : 0.0;
        a->out[i] = p->cap > 0.0f && v > p->cap ? p->cap : v;
    }
}

void clnet__ref_relu_backward(const clnet__ref_args *a)
{
    const clnet__relu_params *p = a->params;
    if (!a->din[0])
        return;
    for (size_t i = 0, n = clnet__shape_count(a->out_shape); i < n; ++i) {
        const double x = a->in[0][i];
        a->din[0][i] = x > 0.0 && (p->cap <= 0.0f || x < p->cap) ? a->dout[i] : 0.0;
    }
}
