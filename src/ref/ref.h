/* ref.h - the plain C reference of every op (src/ref/<op>.c), in double: the
 * specification the kernels are checked against, obvious rather than fast.
 * Each op's forward and backward take a clnet__ref_args (src/ops/op.h). */
#ifndef CLNET_REF_REF_H
#define CLNET_REF_REF_H

#include "ops/op.h"

/* NHWC index of (n, y, x, c) in a tensor of shape s. */
static inline size_t clnet__ref_at(clnet_shape s, int n, int y, int x, int c)
{
    return (((size_t)n * s.h + y) * s.w + x) * s.c + c;
}

/* The activation table's formulas (src/ref/activation.c): clnet__ref_act_<name>(x, alpha)
 * and clnet__ref_act_<name>_grad(x, alpha), y and dy/dx at the pre-activation x. */
#define CLNET__REF_ACT_DECL(NAME, name, ...)                                                       \
    double clnet__ref_act_##name(double x, double alpha);                                          \
    double clnet__ref_act_##name##_grad(double x, double alpha);
CLNET_ACTIVATIONS(CLNET__REF_ACT_DECL)
#undef CLNET__REF_ACT_DECL
/* Activation a at x, and its derivative there (a is no softmax). */
double clnet__ref_act(clnet__act a, double x);
double clnet__ref_act_grad(clnet__act a, double x);

void clnet__ref_activation_forward(const clnet__ref_args *a);
void clnet__ref_activation_backward(const clnet__ref_args *a);
void clnet__ref_relu_forward(const clnet__ref_args *a);
void clnet__ref_relu_backward(const clnet__ref_args *a);
void clnet__ref_depthwise_conv2d_forward(const clnet__ref_args *a);
void clnet__ref_depthwise_conv2d_backward(const clnet__ref_args *a);
void clnet__ref_batch_norm_forward(const clnet__ref_args *a);
void clnet__ref_batch_norm_backward(const clnet__ref_args *a);
void clnet__ref_conv2d_forward(const clnet__ref_args *a);
void clnet__ref_conv2d_backward(const clnet__ref_args *a);
void clnet__ref_dense_forward(const clnet__ref_args *a);
void clnet__ref_dense_backward(const clnet__ref_args *a);
void clnet__ref_add_forward(const clnet__ref_args *a);
void clnet__ref_add_backward(const clnet__ref_args *a);
/* add of two inputs of different shapes, the second broadcast (src/ref/broadcast.c). */
void clnet__ref_add_broadcast_forward(const clnet__ref_args *a);
void clnet__ref_add_broadcast_backward(const clnet__ref_args *a);
void clnet__ref_dropout_forward(const clnet__ref_args *a);
void clnet__ref_dropout_backward(const clnet__ref_args *a);
/* Dropout's multiplier of element i, 0 or 1 / (1 - rate), for the op's seed and the call's
 * (the hash cl/dropout.cl defines); stochastic_depth draws image i with it. */
double clnet__ref_drop_factor(float rate, unsigned op_seed, uint64_t seed, size_t i);
void clnet__ref_softmax_forward(const clnet__ref_args *a);
/* One row of c: y = softmax(x) (y may be x). */
void clnet__ref_softmax_row(const double *x, double *y, size_t c);
void clnet__ref_softmax_backward(const clnet__ref_args *a);
void clnet__ref_softmax_cross_entropy_forward(const clnet__ref_args *a);
void clnet__ref_softmax_cross_entropy_backward(const clnet__ref_args *a);
void clnet__ref_max_pool_forward(const clnet__ref_args *a);
void clnet__ref_max_pool_backward(const clnet__ref_args *a);
void clnet__ref_avg_pool_forward(const clnet__ref_args *a);
void clnet__ref_avg_pool_backward(const clnet__ref_args *a);
void clnet__ref_global_avg_pool_forward(const clnet__ref_args *a);
void clnet__ref_global_avg_pool_backward(const clnet__ref_args *a);
void clnet__ref_global_max_pool_forward(const clnet__ref_args *a);
void clnet__ref_global_max_pool_backward(const clnet__ref_args *a);
void clnet__ref_zero_pad_forward(const clnet__ref_args *a);
void clnet__ref_zero_pad_backward(const clnet__ref_args *a);
void clnet__ref_channel_pad_forward(const clnet__ref_args *a);
void clnet__ref_channel_pad_backward(const clnet__ref_args *a);
void clnet__ref_flatten_forward(const clnet__ref_args *a);
void clnet__ref_flatten_backward(const clnet__ref_args *a);
void clnet__ref_layer_norm_forward(const clnet__ref_args *a);
void clnet__ref_layer_norm_backward(const clnet__ref_args *a);
void clnet__ref_stochastic_depth_forward(const clnet__ref_args *a);
void clnet__ref_stochastic_depth_backward(const clnet__ref_args *a);
void clnet__ref_layer_scale_forward(const clnet__ref_args *a);
void clnet__ref_layer_scale_backward(const clnet__ref_args *a);

void clnet__ref_multiply_forward(const clnet__ref_args *a);
void clnet__ref_multiply_backward(const clnet__ref_args *a);
void clnet__ref_subtract_forward(const clnet__ref_args *a);
void clnet__ref_subtract_backward(const clnet__ref_args *a);
void clnet__ref_divide_forward(const clnet__ref_args *a);
void clnet__ref_divide_backward(const clnet__ref_args *a);
void clnet__ref_concatenate_forward(const clnet__ref_args *a);
void clnet__ref_concatenate_backward(const clnet__ref_args *a);
void clnet__ref_channel_slice_forward(const clnet__ref_args *a);
void clnet__ref_channel_slice_backward(const clnet__ref_args *a);
void clnet__ref_channel_shuffle_forward(const clnet__ref_args *a);
void clnet__ref_channel_shuffle_backward(const clnet__ref_args *a);

#endif
