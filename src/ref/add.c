/* add.c - reference of add (src/ops/add.c): y = act(sum of the inputs), and every
 * input's gradient is the activation's derivative at the sum. */
#include "ref/ref.h"

void clnet__ref_add_forward(const clnet__ref_args *a)
{
    const clnet__add_params *p = a->params;
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
