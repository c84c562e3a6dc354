/* channel_pad.c - reference of channel_pad (src/ops/channel_pad.c). */
#include "ref/ref.h"

void clnet__ref_channel_pad_forward(const clnet__ref_args *a)
{
    const clnet__channel_pad_params *p = a->params;
    const clnet_shape in = a->in_shape[0], o = a->out_shape;
    for (int n = 0; n < o.n; ++n)
        for (int y = 0; y < o.h; ++y)
            for (int x = 0; x < o.w; ++x)
                for (int co = 0; co < o.c; ++co) {
                    const int ci = co - p->before;
                    a->out[clnet__ref_at(o, n, y, x, co)] =
                        ci >= 0 && ci < in.c
                            ? a->in[0][clnet__ref_at(in, n, y * p->stride, x * p->stride, ci)]
                            : 0.0;
                }
}

void clnet__ref_channel_pad_backward(const clnet__ref_args *a)
{
    const clnet__channel_pad_params *p = a->params;
    const clnet_shape in = a->in_shape[0], o = a->out_shape;
    if (!a->din[0])
        return;
    for (size_t i = 0, n = clnet__shape_count(in); i < n; ++i)
        a->din[0][i] = 0.0;
    for (int n = 0; n < o.n; ++n)
        for (int y = 0; y < o.h; ++y)
            for (int x = 0; x < o.w; ++x)
                for (int ci = 0; ci < in.c; ++ci)
                    a->din[0][clnet__ref_at(in, n, y * p->stride, x * p->stride, ci)] =
                        a->dout[clnet__ref_at(o, n, y, x, ci + p->before)];
}
