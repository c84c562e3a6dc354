/* flatten.c - reference of flatten (src/ops/flatten.c): NHWC order is kept. */
#include "ref/ref.h"

void clnet__ref_flatten_forward(const clnet__ref_args *a)
{
    for (size_t i = 0, n = clnet__shape_count(a->out_shape); i < n; ++i)
        a->out[i] = a->in[0][i];
}

void clnet__ref_flatten_backward(const clnet__ref_args *a)
{
    if (!a->din[0])
        return;
    for (size_t i = 0, n = clnet__shape_count(a->out_shape); i < n; ++i)
        a->din[0][i] = a->dout[i];
}
