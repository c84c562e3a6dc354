/* layer_norm.c - reference of layer_norm (src/ops/layer_norm.c), in double: each pixel's
 * channels normalized by their own biased variance; backward by the chain rule through
 * the row's mean and variance. */
#include <math.h>

#include "ref/ref.h"

/* Mean and 1 / sqrt(var + eps) of the c values at x. */
static void row_stats(const double *x, int c, double eps, double *mean, double *inv)
{
    double s = 0.0, q = 0.0;
    for (int j = 0; j < c; ++j)
        s += x[j];
    *mean = s / c;
    for (int j = 0; j < c; ++j)
        q += (x[j] - *mean) * (x[j] - *mean);
    *inv = 1.0 / sqrt(q / c + eps);
}

void clnet__ref_layer_norm_forward(const clnet__ref_args *a)
{
    const clnet__layer_norm_params *p = a->params;
    const int c = a->out_shape.c;
    const size_t rows = clnet__shape_count(a->out_shape) / (size_t)c;
    for (size_t r = 0; r < rows; ++r) {
        const double *x = a->in[0] + r * c;
        double mean, inv;
        row_stats(x, c, p->epsilon, &mean, &inv);
        for (int j = 0; j < c; ++j)
            a->out[r * c + j] = (x[j] - mean) * inv * a->w[0][j] + a->w[1][j];
    }
}

/* With g = dy * gamma: dx = inv * (g - mean(g) - xhat * mean(g * xhat)); dgamma sums
 * dy * xhat and dbeta dy over the pixels. */
void clnet__ref_layer_norm_backward(const clnet__ref_args *a)
{
    const clnet__layer_norm_params *p = a->params;
    const int c = a->out_shape.c;
    const size_t rows = clnet__shape_count(a->out_shape) / (size_t)c;
    double *dx = a->din[0], *dgamma = a->dw[0], *dbeta = a->dw[1];
    for (int j = 0; j < c; ++j) {
        if (dgamma)
            dgamma[j] = 0.0;
        if (dbeta)
            dbeta[j] = 0.0;
    }
    for (size_t r = 0; r < rows; ++r) {
        const double *x = a->in[0] + r * c, *dy = a->dout + r * c;
        double mean, inv, sg = 0.0, sgx = 0.0;
        row_stats(x, c, p->epsilon, &mean, &inv);
        for (int j = 0; j < c; ++j) {
            const double xh = (x[j] - mean) * inv, g = dy[j] * a->w[0][j];
            sg += g;
            sgx += g * xh;
            if (dgamma)
                dgamma[j] += dy[j] * xh;
            if (dbeta)
                dbeta[j] += dy[j];
        }
        sg /= c;
        sgx /= c;
        for (int j = 0; dx && j < c; ++j)
            dx[r * c + j] = inv * (dy[j] * a->w[0][j] - sg - (x[j] - mean) * inv * sgx);
    }
}
