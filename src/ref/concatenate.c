/* concatenate.c - reference of concatenate (src/ops/concatenate.c): input k's channels
 * follow those of inputs 0 .. k-1 in every pixel. */
#include "ref/ref.h"

/* Output pixel p, channel offset + j <-> input k's pixel p, channel j. */
static void walk(const clnet__ref_args *a, int backward)
{
    const size_t pixels = (size_t)a->out_shape.n * a->out_shape.h * a->out_shape.w;
    const size_t cout = (size_t)a->out_shape.c;
    size_t offset = 0;
    for (int k = 0; k < a->n_in; ++k) {
        const size_t cin = (size_t)a->in_shape[k].c;
        for (size_t p = 0; p < pixels; ++p)
            for (size_t j = 0; j < cin; ++j) {
                if (!backward)
                    a->out[p * cout + offset + j] = a->in[k][p * cin + j];
                else if (a->din[k])
                    a->din[k][p * cin + j] = a->dout[p * cout + offset + j];
            }
        offset += cin;
    }
}

void clnet__ref_concatenate_forward(const clnet__ref_args *a)
{
    walk(a, 0);
}

void clnet__ref_concatenate_backward(const clnet__ref_args *a)
{
    walk(a, 1);
}
