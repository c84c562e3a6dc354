/* activation.c - the activation table's formulas in double (src/ops/activation.h): y at the
 * pre-activation x and dy/dx at x, which every fused op's reference and the standalone
 * activation ops (src/ops/activation.c) use. Derivatives at a kink take the side the
 * kernels take (cl/common.cl): relu's 0 at x = 0, hard_swish's 0 at -3 and 1 at 3. */
#include <math.h>

#include "ref/ref.h"

#define SQRT_HALF 0.70710678118654752440    /* 1 / sqrt(2) */
#define INV_SQRT_2PI 0.39894228040143267794 /* 1 / sqrt(2 pi) */
#define SQRT_2_PI 0.79788456080286535588    /* sqrt(2 / pi) */

double clnet__ref_act_none(double x, double alpha)
{
    (void)alpha;
    return x;
}

double clnet__ref_act_none_grad(double x, double alpha)
{
    (void)x;
    (void)alpha;
    return 1.0;
}

double clnet__ref_act_relu(double x, double alpha)
{
    (void)alpha;
    return x > 0.0 ? x : 0.0;
}

double clnet__ref_act_relu_grad(double x, double alpha)
{
    (void)alpha;
    return x > 0.0 ? 1.0 : 0.0;
}

double clnet__ref_act_relu6(double x, double alpha)
{
    (void)alpha;
    return x < 0.0 ? 0.0 : x > 6.0 ? 6.0 : x;
}

double clnet__ref_act_relu6_grad(double x, double alpha)
{
    (void)alpha;
    return x > 0.0 && x < 6.0 ? 1.0 : 0.0;
}

double clnet__ref_act_leaky_relu(double x, double alpha)
{
    return x > 0.0 ? x : alpha * x;
}

double clnet__ref_act_leaky_relu_grad(double x, double alpha)
{
    return x > 0.0 ? 1.0 : alpha;
}

double clnet__ref_act_elu(double x, double alpha)
{
    return x > 0.0 ? x : alpha * expm1(x);
}

double clnet__ref_act_elu_grad(double x, double alpha)
{
    return x > 0.0 ? 1.0 : alpha * exp(x);
}

double clnet__ref_act_sigmoid(double x, double alpha)
{
    (void)alpha;
    return 1.0 / (1.0 + exp(-x));
}

double clnet__ref_act_sigmoid_grad(double x, double alpha)
{
    const double s = clnet__ref_act_sigmoid(x, alpha);
    return s * (1.0 - s);
}

double clnet__ref_act_tanh(double x, double alpha)
{
    (void)alpha;
    return tanh(x);
}

double clnet__ref_act_tanh_grad(double x, double alpha)
{
    (void)alpha;
    const double t = tanh(x);
    return 1.0 - t * t;
}

/* Keras 3 and PyTorch: relu6(x + 3) / 6 (Keras 2's 0.2 x + 0.5 is another function). */
double clnet__ref_act_hard_sigmoid(double x, double alpha)
{
    (void)alpha;
    return clnet__ref_act_relu6(x + 3.0, 0.0) / 6.0;
}

double clnet__ref_act_hard_sigmoid_grad(double x, double alpha)
{
    (void)alpha;
    return x > -3.0 && x < 3.0 ? 1.0 / 6.0 : 0.0;
}

/* swish = SiLU: x * sigmoid(x). */
double clnet__ref_act_swish(double x, double alpha)
{
    return x * clnet__ref_act_sigmoid(x, alpha);
}

double clnet__ref_act_swish_grad(double x, double alpha)
{
    const double s = clnet__ref_act_sigmoid(x, alpha);
    return s * (1.0 + x * (1.0 - s));
}

/* x * relu6(x + 3) / 6 (MobileNetV3). */
double clnet__ref_act_hard_swish(double x, double alpha)
{
    return x * clnet__ref_act_hard_sigmoid(x, alpha);
}

double clnet__ref_act_hard_swish_grad(double x, double alpha)
{
    (void)alpha;
    return x <= -3.0 ? 0.0 : x >= 3.0 ? 1.0 : (2.0 * x + 3.0) / 6.0;
}

/* The erf form, keras.activations.gelu's default: x * Phi(x). */
double clnet__ref_act_gelu(double x, double alpha)
{
    (void)alpha;
    return 0.5 * x * (1.0 + erf(x * SQRT_HALF));
}

double clnet__ref_act_gelu_grad(double x, double alpha)
{
    (void)alpha;
    return 0.5 * (1.0 + erf(x * SQRT_HALF)) + x * INV_SQRT_2PI * exp(-0.5 * x * x);
}

/* The tanh approximation (keras.ops.gelu's default, PyTorch's approximate='tanh'):
 * 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))). */
double clnet__ref_act_gelu_tanh(double x, double alpha)
{
    (void)alpha;
    return 0.5 * x * (1.0 + tanh(SQRT_2_PI * (x + 0.044715 * x * x * x)));
}

double clnet__ref_act_gelu_tanh_grad(double x, double alpha)
{
    (void)alpha;
    const double t = tanh(SQRT_2_PI * (x + 0.044715 * x * x * x));
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * SQRT_2_PI * (1.0 + 3.0 * 0.044715 * x * x);
}

double clnet__ref_act(clnet__act a, double x)
{
    return clnet__act_table[a.id].ref(x, (double)a.alpha);
}

double clnet__ref_act_grad(clnet__act a, double x)
{
    return clnet__act_table[a.id].ref_grad(x, (double)a.alpha);
}

void clnet__ref_activation_forward(const clnet__ref_args *a)
{
    const clnet__activation_params *p = a->params;
    for (size_t i = 0, n = clnet__shape_count(a->out_shape); i < n; ++i)
        a->out[i] = clnet__ref_act(p->act, a->in[0][i]);
}

void clnet__ref_activation_backward(const clnet__ref_args *a)
{
    const clnet__activation_params *p = a->params;
    if (!a->din[0])
        return;
    for (size_t i = 0, n = clnet__shape_count(a->out_shape); i < n; ++i)
        a->din[0][i] = a->dout[i] * clnet__ref_act_grad(p->act, a->in[0][i]);
}
