/* max_pool.c - reference of max_pool (src/ops/max_pool.c): the first maximum of each
 * window's input cells (neither padding nor what ceil_mode's last window overhangs) in
 * row-major order takes the value and the gradient; the backward scatters, the device
 * gathers. */
#include "ops/pool.h"
#include "ref/ref.h"

/* Index in a->in[0] of the first maximum of output (n, oy, ox, ch)'s window. */
static size_t window_argmax(const clnet__ref_args *a, const clnet__pool_geom *g, int n, int oy,
                            int ox, int ch)
{
    const clnet_shape in = a->in_shape[0];
    size_t best = 0;
    int found = 0;
    for (int ky = 0; ky < g->kh; ++ky)
        for (int kx = 0; kx < g->kw; ++kx) {
            const int iy = oy * g->sh - g->pad_t + ky, ix = ox * g->sw - g->pad_l + kx;
            if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w)
                continue; /* padding and ceil_mode's overhang never win */
            const size_t i = clnet__ref_at(in, n, iy, ix, ch);
            if (!found || a->in[0][i] > a->in[0][best])
                best = i;
            found = 1;
        }
    return best;
}

void clnet__ref_max_pool_forward(const clnet__ref_args *a)
{
    clnet__pool_geom g;
    clnet__pool_geometry(a->params, a->in_shape[0], &g);
    const clnet_shape o = a->out_shape;
    for (int n = 0; n < o.n; ++n)
        for (int oy = 0; oy < o.h; ++oy)
            for (int ox = 0; ox < o.w; ++ox)
                for (int ch = 0; ch < o.c; ++ch)
                    a->out[clnet__ref_at(o, n, oy, ox, ch)] =
                        a->in[0][window_argmax(a, &g, n, oy, ox, ch)];
}

void clnet__ref_max_pool_backward(const clnet__ref_args *a)
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
                    a->din[0][window_argmax(a, &g, n, oy, ox, ch)] +=
                        a->dout[clnet__ref_at(o, n, oy, ox, ch)];
}
