/* dense.c - reference of dense (src/ops/dense.c): y[r][u] = act(sum_c x[r][c] *
 * kernel[c][u] + bias[u]) over rows r = pixels of the NHWC input, in double; softmax
 * acts on a whole row (src/ref/softmax.c). */
#include <string.h>

#include "ref/ref.h"

static double pre(const clnet__ref_args *a, size_t r, int u)
{
    const clnet__dense_params *p = a->params;
    const int c = a->in_shape[0].c;
    double s = p->use_bias ? a->w[1][u] : 0.0;
    for (int ci = 0; ci < c; ++ci)
        s += a->in[0][r * c + ci] * a->w[0][(size_t)ci * p->units + u];
    return s;
}

void clnet__ref_dense_forward(const clnet__ref_args *a)
{
    const clnet__dense_params *p = a->params;
    const clnet_shape in = a->in_shape[0];
    for (size_t r = 0, rows = (size_t)in.n * in.h * in.w; r < rows; ++r) {
        double *y = a->out + r * p->units;
        const int softmax = p->act.id == CLNET_ACT_SOFTMAX;
        for (int u = 0; u < p->units; ++u)
            y[u] = softmax ? pre(a, r, u) : clnet__ref_act(p->act, pre(a, r, u));
        if (softmax)
            clnet__ref_softmax_row(y, y, (size_t)p->units);
    }
}

void clnet__ref_dense_backward(const clnet__ref_args *a)
{
    const clnet__dense_params *p = a->params;
    const clnet_shape in = a->in_shape[0];
    const int c = in.c;
    double *dx = a->din[0], *dk = a->dw[0], *db = p->use_bias ? a->dw[1] : NULL;
    if (dx)
        memset(dx, 0, clnet__shape_count(in) * sizeof *dx);
    if (dk)
        memset(dk, 0, (size_t)c * p->units * sizeof *dk);
    if (db)
        memset(db, 0, (size_t)p->units * sizeof *db);
    for (size_t r = 0, rows = (size_t)in.n * in.h * in.w; r < rows; ++r) {
        const double *dout = a->dout + r * p->units, *y = a->out + r * p->units;
        double dot = 0.0; /* softmax: the logits' gradient is y * (dout - sum(dout * y)) */
        const int softmax = p->act.id == CLNET_ACT_SOFTMAX;
        for (int u = 0; softmax && u < p->units; ++u)
            dot += dout[u] * y[u];
        for (int u = 0; u < p->units; ++u) {
            const double g = softmax ? y[u] * (dout[u] - dot)
                                     : dout[u] * clnet__ref_act_grad(p->act, pre(a, r, u));
            if (db)
                db[u] += g;
            for (int ci = 0; ci < c; ++ci) {
                if (dk)
                    dk[(size_t)ci * p->units + u] += a->in[0][r * c + ci] * g;
                if (dx)
                    dx[r * c + ci] += a->w[0][(size_t)ci * p->units + u] * g;
            }
        }
    }
}
