/* conv2d.c - reference of conv2d (src/ops/conv2d.c): direct loops in double; the
 * backward scatters, the device gathers. Output channel co of a grouped convolution sums
 * the input channels of its group only, kernel {kh, kw, cin / groups, filters}. */
#include <string.h>

#include "ref/ref.h"

/* Cells of padding before the input: explicit, none (valid), or Keras 'same', whose
 * total max((out - 1) * s + k - in, 0) puts the odd cell after. */
static void pads(const clnet__conv2d_params *p, clnet_shape in, clnet_shape out, int *top,
                 int *left)
{
    *top = *left = 0;
    if (p->padding == CLNET_PADDING_EXPLICIT) {
        *top = p->pad_t;
        *left = p->pad_l;
    } else if (p->padding == CLNET_PADDING_SAME) {
        const int th = (out.h - 1) * p->sh + p->kh - in.h, tw = (out.w - 1) * p->sw + p->kw - in.w;
        *top = th > 0 ? th / 2 : 0;
        *left = tw > 0 ? tw / 2 : 0;
    }
}

static int groups(const clnet__conv2d_params *p)
{
    return p->groups > 1 ? p->groups : 1;
}

/* Index of kernel[ky][kx][ci][co], ci counted within the group (cg of them). */
static size_t widx(const clnet__conv2d_params *p, int cg, int ky, int kx, int ci, int co)
{
    return (((size_t)ky * p->kw + kx) * cg + ci) * p->filters + co;
}

/* The output before the activation at (n, oy, ox, co): taps, bias and residual. */
static double pre(const clnet__ref_args *a, int n, int oy, int ox, int co)
{
    const clnet__conv2d_params *p = a->params;
    const clnet_shape in = a->in_shape[0], o = a->out_shape;
    const int cg = in.c / groups(p), c0 = co / (p->filters / groups(p)) * cg;
    int top, left;
    pads(p, in, o, &top, &left);
    double s = p->use_bias ? a->w[1][co] : 0.0;
    if (a->n_in > 1)
        s += a->in[1][clnet__ref_at(o, n, oy, ox, co)];
    for (int ky = 0; ky < p->kh; ++ky)
        for (int kx = 0; kx < p->kw; ++kx) {
            const int iy = oy * p->sh - top + ky, ix = ox * p->sw - left + kx;
            if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w)
                continue;
            for (int ci = 0; ci < cg; ++ci)
                s += a->in[0][clnet__ref_at(in, n, iy, ix, c0 + ci)] *
                     a->w[0][widx(p, cg, ky, kx, ci, co)];
        }
    return s;
}

void clnet__ref_conv2d_forward(const clnet__ref_args *a)
{
    const clnet__conv2d_params *p = a->params;
    const clnet_shape o = a->out_shape;
    for (int n = 0; n < o.n; ++n)
        for (int oy = 0; oy < o.h; ++oy)
            for (int ox = 0; ox < o.w; ++ox)
                for (int co = 0; co < o.c; ++co) {
                    a->out[clnet__ref_at(o, n, oy, ox, co)] =
                        clnet__ref_act(p->act, pre(a, n, oy, ox, co));
                }
}

void clnet__ref_conv2d_backward(const clnet__ref_args *a)
{
    const clnet__conv2d_params *p = a->params;
    const clnet_shape in = a->in_shape[0], o = a->out_shape;
    double *dx = a->din[0], *dres = a->n_in > 1 ? a->din[1] : NULL;
    double *dk = a->dw[0], *db = p->use_bias ? a->dw[1] : NULL;
    const int cg = in.c / groups(p), og = p->filters / groups(p);
    int top, left;
    pads(p, in, o, &top, &left);
    if (dx)
        memset(dx, 0, clnet__shape_count(in) * sizeof *dx);
    if (dk)
        memset(dk, 0, (size_t)p->kh * p->kw * cg * p->filters * sizeof *dk);
    if (db)
        memset(db, 0, (size_t)p->filters * sizeof *db);
    for (int n = 0; n < o.n; ++n)
        for (int oy = 0; oy < o.h; ++oy)
            for (int ox = 0; ox < o.w; ++ox)
                for (int co = 0; co < o.c; ++co) {
                    const size_t oi = clnet__ref_at(o, n, oy, ox, co);
                    const double g =
                        a->dout[oi] * clnet__ref_act_grad(p->act, pre(a, n, oy, ox, co));
                    if (dres)
                        dres[oi] = g;
                    if (db)
                        db[co] += g;
                    for (int ky = 0; ky < p->kh; ++ky)
                        for (int kx = 0; kx < p->kw; ++kx) {
                            const int iy = oy * p->sh - top + ky, ix = ox * p->sw - left + kx;
                            if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w)
                                continue;
                            for (int ci = 0; ci < cg; ++ci) {
                                const size_t xi = clnet__ref_at(in, n, iy, ix, co / og * cg + ci);
                                const size_t wi = widx(p, cg, ky, kx, ci, co);
                                if (dk)
                                    dk[wi] += a->in[0][xi] * g;
                                if (dx)
                                    dx[xi] += a->w[0][wi] * g;
                            }
                        }
                }
}
