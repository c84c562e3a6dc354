/* add.c - reference of add (src/ops/add.c): y = act(sum of the inputs), and every
 * input's gradient is the activation's derivative at the sum; two inputs of different
 * shapes broadcast the second (broadcast.c, no activation). */
#include "ref/ref.h"

void clnet__ref_add_forward(const clnet__ref_args *a)
{
    const clnet__add_params *p = a->params;
    if (a->n_in == 2 && !clnet__shape_eq(a->in_shape[0], a->in_shape[1])) {
        clnet__ref_add_broadcast_forward(a);
        return;
    }
    for (size_t i = 0, n = clnet__shape_count(a->out_shape); i < n; ++i) {
        double s = 0.0;
        for (int k = 0; k < a->n_in; ++k)
            s += a->in[k][i];
        a->out[i] = clnet__ref_act(p->act, s);
    }
}

void clnet__ref_add_backward(const clnet__ref_args *a)
{
    const clnet__add_params *p = a->params;
    if (a->n_in == 2 && !clnet__shape_eq(a->in_shape[0], a->in_shape[1])) {
        clnet__ref_add_broadcast_backward(a);
        return;
    }
    for (size_t i = 0, n = clnet__shape_count(a->out_shape); i < n; ++i) {
        double s = 0.0;
        for (int k = 0; k < a->n_in; ++k)
            s += a->in[k][i];
        const double g = a->dout[i] * clnet__ref_act_grad(p->act, s);
        for (int k = 0; k < a->n_in; ++k)
            if (a->din[k])
                a->din[k][i] = g;
    }
}
