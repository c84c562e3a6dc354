/* softmax.c - reference of softmax (src/ops/softmax.c), per row of c channels; the
 * row function also serves dense's softmax activation (src/ref/dense.c). */
#include <math.h>

#include "ref/ref.h"

void clnet__ref_softmax_row(const double *x, double *y, size_t c)
{
    double m = -INFINITY, sum = 0.0;
    for (size_t j = 0; j < c; ++j)
        m = x[j] > m ? x[j] : m;
    for (size_t j = 0; j < c; ++j)
        sum += exp(x[j] - m);
    for (size_t j = 0; j < c; ++j)
        y[j] = exp(x[j] - m) / sum;
}

void clnet__ref_softmax_forward(const clnet__ref_args *a)
{
    const clnet_shape s = a->out_shape;
    const size_t rows = (size_t)s.n * s.h * s.w, c = (size_t)s.c;
    for (size_t r = 0; r < rows; ++r)
        clnet__ref_softmax_row(a->in[0] + r * c, a->out + r * c, c);
}

void clnet__ref_softmax_backward(const clnet__ref_args *a)
{
    if (!a->din[0])
        return;
    const clnet_shape s = a->out_shape;
    const size_t rows = (size_t)s.n * s.h * s.w, c = (size_t)s.c;
    for (size_t r = 0; r < rows; ++r) {
        const double *y = a->out + r * c, *dy = a->dout + r * c;
        double *dx = a->din[0] + r * c, dot = 0.0;
        for (size_t j = 0; j < c; ++j)
            dot += dy[j] * y[j];
        for (size_t j = 0; j < c; ++j)
            dx[j] = y[j] * (dy[j] - dot);
    }
}
