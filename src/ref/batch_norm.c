/* batch_norm.c - reference of batch_norm (src/ops/batch_norm.c), in double. Channel
 * statistics over all n * h * w rows; training uses (and updates) the batch's,
 * inference the moving ones. */
#include <math.h>

#include "ref/ref.h"

/* Mean and variance normalizing channel ch; in training the biased batch variance. */
static void stats(const clnet__ref_args *a, int ch, double *mean, double *var)
{
    const size_t rows = clnet__shape_count(a->in_shape[0]) / (size_t)a->in_shape[0].c;
    const int c = a->in_shape[0].c;
    if (!a->training) {
        *mean = a->w[2][ch];
        *var = a->w[3][ch];
        return;
    }
    double s = 0.0, ss = 0.0;
    for (size_t r = 0; r < rows; ++r)
        s += a->in[0][r * c + ch];
    *mean = s / (double)rows;
    for (size_t r = 0; r < rows; ++r) {
        const double d = a->in[0][r * c + ch] - *mean;
        ss += d * d;
    }
    *var = ss / (double)rows;
}

void clnet__ref_batch_norm_forward(const clnet__ref_args *a)
{
    const clnet__batch_norm_params *p = a->params;
    const int c = a->in_shape[0].c;
    const size_t rows = clnet__shape_count(a->in_shape[0]) / (size_t)c;
    for (int ch = 0; ch < c; ++ch) {
        double mean, var;
        stats(a, ch, &mean, &var);
        const double inv = 1.0 / sqrt(var + (double)p->epsilon);
        for (size_t r = 0; r < rows; ++r) {
            const size_t i = r * c + ch;
            a->out[i] =
                clnet__ref_act(p->act, a->w[0][ch] * (a->in[0][i] - mean) * inv + a->w[1][ch]);
        }
        if (a->training) {
            const double mom = (double)p->momentum;
            const double unb = p->unbiased && rows > 1 ? (double)rows / (double)(rows - 1) : 1.0;
            a->w[2][ch] = mom * a->w[2][ch] + (1.0 - mom) * mean;
            a->w[3][ch] = mom * a->w[3][ch] + (1.0 - mom) * var * unb;
        }
    }
}

/* Training: the batch statistics depend on x, so dx has the two correction terms;
 * inference (frozen BN): a fixed affine map. */
void clnet__ref_batch_norm_backward(const clnet__ref_args *a)
{
    const clnet__batch_norm_params *p = a->params;
    const int c = a->in_shape[0].c;
    const size_t rows = clnet__shape_count(a->in_shape[0]) / (size_t)c;
    const double m = (double)rows;
    for (int ch = 0; ch < c; ++ch) {
        double mean, var;
        stats(a, ch, &mean, &var);
        const double inv = 1.0 / sqrt(var + (double)p->epsilon), gamma = a->w[0][ch];
        double dbeta = 0.0, dgamma = 0.0;
        for (size_t r = 0; r < rows; ++r) {
            const size_t i = r * c + ch;
            const double xhat = (a->in[0][i] - mean) * inv;
            const double g = a->dout[i] * clnet__ref_act_grad(p->act, gamma * xhat + a->w[1][ch]);
            dbeta += g;
            dgamma += g * xhat;
        }
        if (a->dw[0])
            a->dw[0][ch] = dgamma;
        if (a->dw[1])
            a->dw[1][ch] = dbeta;
        if (!a->din[0])
            continue;
        for (size_t r = 0; r < rows; ++r) {
            const size_t i = r * c + ch;
            const double xhat = (a->in[0][i] - mean) * inv;
            const double g = a->dout[i] * clnet__ref_act_grad(p->act, gamma * xhat + a->w[1][ch]);
            a->din[0][i] =
                a->training ? gamma * inv / m * (m * g - dbeta - xhat * dgamma) : g * gamma * inv;
        }
    }
}
