/* dropout.c - reference of dropout (src/ops/dropout.c). The mask hash is defined in
 * cl/dropout.cl's header comment; this is the same computation, bit for bit. */
#include "ref/ref.h"

static uint32_t mix(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x85ebca6bu;
    x ^= x >> 13;
    x *= 0xc2b2ae35u;
    x ^= x >> 16;
    return x;
}

double clnet__ref_drop_factor(float rate, unsigned op_seed, uint64_t seed, size_t i)
{
    const uint32_t key = mix((uint32_t)seed ^ mix((uint32_t)(seed >> 32) ^ mix(op_seed)));
    const uint32_t h = mix(mix((uint32_t)i ^ key) + key);
    const double u = (double)(h >> 8) / 16777216.0;
    return u >= (double)rate ? 1.0 / (1.0 - (double)rate) : 0.0;
}

/* Inference (or rate 0 in either mode): the identity. */
static void apply(const clnet__ref_args *a, const double *x, double *y)
{
    const clnet__dropout_params *p = a->params;
    for (size_t i = 0, n = clnet__shape_count(a->out_shape); i < n; ++i)
        y[i] = a->training ? x[i] * clnet__ref_drop_factor(p->rate, p->seed, a->seed, i) : x[i];
}

void clnet__ref_dropout_forward(const clnet__ref_args *a)
{
    apply(a, a->in[0], a->out);
}

void clnet__ref_dropout_backward(const clnet__ref_args *a)
{
    if (a->din[0])
        apply(a, a->dout, a->din[0]);
}
