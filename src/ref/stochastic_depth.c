/* stochastic_depth.c - reference of stochastic_depth (src/ops/stochastic_depth.c): image n
 * is kept or dropped by dropout's draw for element n (cl/dropout.cl). */
#include "ref/ref.h"

/* Inference (or rate 0 in either mode): the identity. */
static void apply(const clnet__ref_args *a, const double *x, double *y)
{
    const clnet__dropout_params *p = a->params;
    const size_t per = clnet__shape_count(a->out_shape) / (size_t)a->out_shape.n;
    for (int n = 0; n < a->out_shape.n; ++n) {
        const double f =
            a->training ? clnet__ref_drop_factor(p->rate, p->seed, a->seed, (size_t)n) : 1.0;
        for (size_t i = (size_t)n * per; i < (size_t)(n + 1) * per; ++i)
            y[i] = x[i] * f;
    }
}

void clnet__ref_stochastic_depth_forward(const clnet__ref_args *a)
{
    apply(a, a->in[0], a->out);
}

void clnet__ref_stochastic_depth_backward(const clnet__ref_args *a)
{
    if (a->din[0])
        apply(a, a->dout, a->din[0]);
}
