/* channel_shuffle.c - reference of channel_shuffle (src/ops/channel_shuffle.c): output
 * channel j * groups + g is input channel g * (c / groups) + j. */
#include "ref/ref.h"

static void walk(const clnet__ref_args *a, int backward)
{
    const clnet__channel_shuffle_params *p = a->params;
    const clnet_shape s = a->out_shape;
    const int cpg = s.c / p->groups;
    if (backward && !a->din[0])
        return;
    for (int n = 0; n < s.n; ++n)
        for (int y = 0; y < s.h; ++y)
            for (int x = 0; x < s.w; ++x)
                for (int g = 0; g < p->groups; ++g)
                    for (int j = 0; j < cpg; ++j) {
                        const size_t o = clnet__ref_at(s, n, y, x, j * p->groups + g);
                        const size_t i = clnet__ref_at(s, n, y, x, g * cpg + j);
                        if (backward)
                            a->din[0][i] = a->dout[o];
                        else
                            a->out[o] = a->in[0][i];
                    }
}

void clnet__ref_channel_shuffle_forward(const clnet__ref_args *a)
{
    walk(a, 0);
}

void clnet__ref_channel_shuffle_backward(const clnet__ref_args *a)
{
    walk(a, 1);
}
