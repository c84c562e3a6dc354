/* depthwise_conv2d.c - reference of depthwise_conv2d (src/ops/depthwise_conv2d.c):
 * direct loops in double; the backward scatters, the device gathers. */
#include "ref/ref.h"

/* Cells of padding before the input: explicit, none (valid), or Keras 'same', whose
 * total max((out - 1) * s + k - in, 0) puts the odd cell after. */
static void pads(const clnet__depthwise_conv2d_params *p, clnet_shape in, clnet_shape out, int *top,
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

/* The output before the activation at (n, oy, ox, ci * mult + m). */
static double pre(const clnet__ref_args *a, int n, int oy, int ox, int ci, int m)
{
    const clnet__depthwise_conv2d_params *p = a->params;
    const clnet_shape in = a->in_shape[0];
    int top, left;
    pads(p, in, a->out_shape, &top, &left);
    const int co = ci * p->mult + m;
    double s = p->use_bias ? a->w[1][co] : 0.0;
    for (int ky = 0; ky < p->kh; ++ky)
        for (int kx = 0; kx < p->kw; ++kx) {
            const int iy = oy * p->sh - top + ky, ix = ox * p->sw - left + kx;
            if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w)
                continue;
            s += a->in[0][clnet__ref_at(in, n, iy, ix, ci)] *
                 a->w[0][((size_t)(ky * p->kw + kx) * in.c + ci) * p->mult + m];
        }
    return s;
}

void clnet__ref_depthwise_conv2d_forward(const clnet__ref_args *a)
{
    const clnet__depthwise_conv2d_params *p = a->params;
    const clnet_shape o = a->out_shape;
    for (int n = 0; n < o.n; ++n)
        for (int oy = 0; oy < o.h; ++oy)
            for (int ox = 0; ox < o.w; ++ox)
                for (int ci = 0; ci < a->in_shape[0].c; ++ci)
                    for (int m = 0; m < p->mult; ++m) {
                        a->out[clnet__ref_at(o, n, oy, ox, ci * p->mult + m)] =
                            clnet__ref_act(p->act, pre(a, n, oy, ox, ci, m));
                    }
}

void clnet__ref_depthwise_conv2d_backward(const clnet__ref_args *a)
{
    const clnet__depthwise_conv2d_params *p = a->params;
    const clnet_shape in = a->in_shape[0], o = a->out_shape;
    double *dx = a->din[0], *dk = a->dw[0], *db = p->use_bias ? a->dw[1] : NULL;
    int top, left;
    pads(p, in, o, &top, &left);
    if (dx)
        for (size_t i = 0, n = clnet__shape_count(in); i < n; ++i)
            dx[i] = 0.0;
    if (dk)
        for (size_t i = 0, n = clnet__shape_count(a->w_shape[0]); i < n; ++i)
            dk[i] = 0.0;
    if (db)
        for (int i = 0; i < o.c; ++i)
            db[i] = 0.0;
    for (int n = 0; n < o.n; ++n)
        for (int oy = 0; oy < o.h; ++oy)
            for (int ox = 0; ox < o.w; ++ox)
                for (int ci = 0; ci < in.c; ++ci)
                    for (int m = 0; m < p->mult; ++m) {
                        const int co = ci * p->mult + m;
                        const double g = a->dout[clnet__ref_at(o, n, oy, ox, co)] *
                                         clnet__ref_act_grad(p->act, pre(a, n, oy, ox, ci, m));
                        if (db)
                            db[co] += g;
                        for (int ky = 0; ky < p->kh; ++ky)
                            for (int kx = 0; kx < p->kw; ++kx) {
                                const int iy = oy * p->sh - top + ky, ix = ox * p->sw - left + kx;
                                if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w)
                                    continue;
                                const size_t xi = clnet__ref_at(in, n, iy, ix, ci);
                                const size_t wi = (size_t)(ky * p->kw + kx) * o.c + co;
                                if (dx)
                                    dx[xi] += g * a->w[0][wi];
                                if (dk)
                                    dk[wi] += g * a->in[0][xi];
                            }
                    }
}
