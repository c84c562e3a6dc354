/* softmax_cross_entropy.c - reference of softmax_cross_entropy
 * (src/ops/softmax_cross_entropy.c): mean over rows of -u * sum t' * log softmax(x), u the
 * row's weight (input 2) or 1. */
#include <math.h>

#include "ref/ref.h"

/* log sum exp of one row, stable: the row max first. */
static double row_lse(const double *x, size_t c)
{
    double m = -INFINITY, s = 0.0;
    for (size_t j = 0; j < c; ++j)
        m = x[j] > m ? x[j] : m;
    for (size_t j = 0; j < c; ++j)
        s += exp(x[j] - m);
    return m + log(s);
}

/* Row r's weight: input 2 when present, else 1. */
static double row_weight(const clnet__ref_args *a, size_t r)
{
    return a->n_in == 3 ? a->in[2][r] : 1.0;
}

void clnet__ref_softmax_cross_entropy_forward(const clnet__ref_args *a)
{
    const clnet__softmax_cross_entropy_params *p = a->params;
    const clnet_shape s = a->in_shape[0];
    const size_t rows = (size_t)s.n * s.h * s.w, c = (size_t)s.c;
    const double ls = p->label_smoothing;
    double total = 0.0;
    for (size_t r = 0; r < rows; ++r) {
        const double *x = a->in[0] + r * c, *t = a->in[1] + r * c;
        const double lse = row_lse(x, c);
        double l = 0.0;
        for (size_t j = 0; j < c; ++j)
            l += (t[j] * (1.0 - ls) + ls / (double)c) * (lse - x[j]);
        total += row_weight(a, r) * l;
    }
    a->out[0] = total / (double)rows;
}

void clnet__ref_softmax_cross_entropy_backward(const clnet__ref_args *a)
{
    const clnet__softmax_cross_entropy_params *p = a->params;
    if (!a->din[0])
        return;
    const clnet_shape s = a->in_shape[0];
    const size_t rows = (size_t)s.n * s.h * s.w, c = (size_t)s.c;
    const double ls = p->label_smoothing;
    for (size_t r = 0; r < rows; ++r) {
        const double *x = a->in[0] + r * c, *t = a->in[1] + r * c;
        double *dx = a->din[0] + r * c;
        const double lse = row_lse(x, c), g = row_weight(a, r) * a->dout[0] / (double)rows;
        for (size_t j = 0; j < c; ++j)
            dx[j] = g * (exp(x[j] - lse) - (t[j] * (1.0 - ls) + ls / (double)c));
    }
}
