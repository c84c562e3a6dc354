/* add.c - reference of add (src/ops/add.c): y = act(sum of the inputs), and every
 * input's gradient is the activation's gradient read from the output. */
#include "ref/ref.h"

static double act_forward(double x, clnet__act act)
{
    if (act != CLNET_ACT_NONE && x < 0.0)
        return 0.0;
    if (act == CLNET_ACT_RELU6 && x > 6.0)
        return 6.0;
    return x;
}

void clnet__ref_add_forward(const clnet__ref_args *a)
{
    const clnet__add_params *p = a->params;
    for (size_t i = 0, n = clnet__shape_count(a->out_shape); i < n; ++i) {
        double s = 0.0;
        for (int k = 0; k < a->n_in; ++k)
            s += a->in[k][i];
        a->out[i] = act_forward(s, p->act);
    }
}

void clnet__ref_add_backward(const clnet__ref_args *a)
{
    const clnet__add_params *p = a->params;
    for (size_t i = 0, n = clnet__shape_count(a->out_shape); i < n; ++i) {
        const double y = a->out[i];
        int pass = 1;
        if (p->act == CLNET_ACT_RELU)
            pass = y > 0.0;
        else if (p->act == CLNET_ACT_RELU6)
            pass = y > 0.0 && y < 6.0;
        for (int k = 0; k < a->n_in; ++k)
            if (a->din[k])
                a->din[k][i] = pass ? a->dout[i] : 0.0;
    }
}
