/* channel_slice.c - reference of channel_slice (src/ops/channel_slice.c). */
#include "ref/ref.h"

void clnet__ref_channel_slice_forward(const clnet__ref_args *a)
{
    const clnet__channel_slice_params *p = a->params;
    const clnet_shape in = a->in_shape[0], o = a->out_shape;
    for (int n = 0; n < o.n; ++n)
        for (int y = 0; y < o.h; ++y)
            for (int x = 0; x < o.w; ++x)
                for (int c = 0; c < o.c; ++c)
                    a->out[clnet__ref_at(o, n, y, x, c)] =
                        a->in[0][clnet__ref_at(in, n, y, x, p->start + c)];
}

void clnet__ref_channel_slice_backward(const clnet__ref_args *a)
{
    const clnet__channel_slice_params *p = a->params;
    const clnet_shape in = a->in_shape[0], o = a->out_shape;
    if (!a->din[0])
        return;
    for (int n = 0; n < in.n; ++n)
        for (int y = 0; y < in.h; ++y)
            for (int x = 0; x < in.w; ++x)
                for (int c = 0; c < in.c; ++c)
                    a->din[0][clnet__ref_at(in, n, y, x, c)] =
                        c >= p->start && c < p->start + p->size
                            ? a->dout[clnet__ref_at(o, n, y, x, c - p->start)]
                            : 0.0;
}
