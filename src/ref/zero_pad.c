/* zero_pad.c - reference of zero_pad (src/ops/zero_pad.c). */
#include "ref/ref.h"

void clnet__ref_zero_pad_forward(const clnet__ref_args *a)
{
    const clnet__zero_pad_params *p = a->params;
    const clnet_shape in = a->in_shape[0], o = a->out_shape;
    for (size_t i = 0, n = clnet__shape_count(o); i < n; ++i)
        a->out[i] = 0.0;
    for (int n = 0; n < in.n; ++n)
        for (int y = 0; y < in.h; ++y)
            for (int x = 0; x < in.w; ++x)
                for (int ch = 0; ch < in.c; ++ch)
                    a->out[clnet__ref_at(o, n, y + p->top, x + p->left, ch)] =
                        a->in[0][clnet__ref_at(in, n, y, x, ch)];
}

void clnet__ref_zero_pad_backward(const clnet__ref_args *a)
{
    const clnet__zero_pad_params *p = a->params;
    const clnet_shape in = a->in_shape[0], o = a->out_shape;
    if (!a->din[0])
        return;
    for (int n = 0; n < in.n; ++n)
        for (int y = 0; y < in.h; ++y)
            for (int x = 0; x < in.w; ++x)
                for (int ch = 0; ch < in.c; ++ch)
                    a->din[0][clnet__ref_at(in, n, y, x, ch)] =
                        a->dout[clnet__ref_at(o, n, y + p->top, x + p->left, ch)];
}
