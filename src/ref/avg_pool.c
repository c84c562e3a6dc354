/* avg_pool.c - reference of avg_pool (src/ops/avg_pool.c): window sums over the input
 * cells divided by their count, or with count_include_pad by the window's cells inside the
 * padded input (kh * kw but for ceil_mode's overhang); the backward scatters, the device
 * gathers. */
#include "ops/pool.h"
#include "ref/ref.h"

/* Visits output (n, oy, ox, ch)'s window: with din NULL returns the window's average of
 * in; otherwise adds dout / divisor to din over the window and returns 0. */
static double window(const clnet__ref_args *a, const clnet__pool_geom *g, int n, int oy, int ox,
                     int ch, double dout, double *din)
{
    const clnet__pool_params *p = a->params;
    const clnet_shape in = a->in_shape[0];
    const int y0 = oy * g->sh - g->pad_t, x0 = ox * g->sw - g->pad_l;
    const int y1 = y0 + g->kh < in.h ? y0 + g->kh : in.h,
              x1 = x0 + g->kw < in.w ? x0 + g->kw : in.w;
    const int ya = y0 > 0 ? y0 : 0, xa = x0 > 0 ? x0 : 0;
    int end_h, end_w;
    clnet__pool_counted_end(p, g, &end_h, &end_w);
    const int ye = y0 + g->kh < end_h ? y0 + g->kh : end_h,
              xe = x0 + g->kw < end_w ? x0 + g->kw : end_w;
    const double div = p->count_include_pad ? (ye - y0) * (xe - x0) : (y1 - ya) * (x1 - xa);
    double s = 0.0;
    for (int iy = ya; iy < y1; ++iy)
        for (int ix = xa; ix < x1; ++ix) {
            const size_t i = clnet__ref_at(in, n, iy, ix, ch);
            if (din)
                din[i] += dout / div;
            else
                s += a->in[0][i];
        }
    return s / div;
}

void clnet__ref_avg_pool_forward(const clnet__ref_args *a)
{
    clnet__pool_geom g;
    clnet__pool_geometry(a->params, a->in_shape[0], &g);
    const clnet_shape o = a->out_shape;
    for (int n = 0; n < o.n; ++n)
        for (int oy = 0; oy < o.h; ++oy)
            for (int ox = 0; ox < o.w; ++ox)
                for (int ch = 0; ch < o.c; ++ch)
                    a->out[clnet__ref_at(o, n, oy, ox, ch)] =
                        window(a, &g, n, oy, ox, ch, 0.0, NULL);
}

void clnet__ref_avg_pool_backward(const clnet__ref_args *a)
{
    if (!a->din[0])
        return;
    clnet__pool_geom g;
    clnet__pool_geometry(a->params, a->in_shape[0], &g);
    const clnet_shape o = a->out_shape;
    for (size_t i = 0, n = clnet__shape_count(a->in_shape[0]); i < n; ++i)
        a->din[0][i] = 0.0;
    for (int n = 0; n < o.n; ++n)
        for (int oy = 0; oy < o.h; ++oy)
            for (int ox = 0; ox < o.w; ++ox)
                for (int ch = 0; ch < o.c; ++ch)
                    window(a, &g, n, oy, ox, ch, a->dout[clnet__ref_at(o, n, oy, ox, ch)],
                           a->din[0]);
}
