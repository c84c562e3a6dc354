/* op_params.h - the typed parameter struct of every op, shared by the op's host
 * code (src/ops/<op>.c) and its reference (src/ref/<op>.c). One block per op. */
#ifndef CLNET_OPS_OP_PARAMS_H
#define CLNET_OPS_OP_PARAMS_H

#include "ops/activation.h" /* clnet__act: the fused activation of several ops */

/* Padding of the ops that slide a window (conv2d, depthwise_conv2d, max_pool,
 * avg_pool); parsed and applied by src/ops/window.c. */
typedef enum clnet__padding {
    CLNET_PADDING_VALID = 0,
    CLNET_PADDING_SAME = 1,
    CLNET_PADDING_EXPLICIT = 2
} clnet__padding;

/* relu, relu6 (relu.c): max(x, 0), capped at `cap` when cap > 0. */
typedef struct clnet__relu_params {
    float cap; /* 0: no cap (relu); 6: relu6 */
} clnet__relu_params;

/* activation, leaky_relu, elu (activation.c): Keras Activation, LeakyReLU and ELU, any entry
 * of the activation table (activation.h) on its own. */
typedef struct clnet__activation_params {
    clnet__act act;
} clnet__activation_params;

/* depthwise_conv2d (depthwise_conv2d.c): Keras DepthwiseConv2D. Output channel
 * ci * mult + m filters input channel ci with kernel[ky][kx][ci][m]. */
typedef struct clnet__depthwise_conv2d_params {
    int kh, kw, sh, sw;
    clnet__padding padding;
    int pad_t, pad_b, pad_l, pad_r; /* explicit padding only; same is computed per shape */
    int mult;                       /* depth_multiplier */
    int use_bias;
    clnet__act act;
} clnet__depthwise_conv2d_params;

/* batch_norm (batch_norm.c): Keras BatchNormalization over the channel axis. */
typedef struct clnet__batch_norm_params {
    float epsilon;
    float momentum; /* moving = momentum * moving + (1 - momentum) * batch */
    int unbiased;   /* moving variance from n / (n - 1) * batch variance (PyTorch) */
    clnet__act act; /* fused after the affine map */
} clnet__batch_norm_params;

/* conv2d (conv2d.c): Keras Conv2D, kernel {kh, kw, cin / groups, filters}, with the fused
 * epilogue y = act(conv(x) + bias + residual) (the residual is an optional 2nd input).
 * Grouped (ResNeXt, RegNet): output channels [g * filters / groups, (g + 1) * filters /
 * groups) see only input channels [g * cin / groups, (g + 1) * cin / groups). */
typedef struct clnet__conv2d_params {
    int filters, kh, kw, sh, sw;
    clnet__padding padding;
    int pad_t, pad_b, pad_l, pad_r; /* explicit padding only; same is computed per shape */
    int use_bias;
    clnet__act act;
    int groups; /* 0 (params built in code, as dense's) means 1 */
} clnet__conv2d_params;

/* dense (dense.c): Keras Dense on the last axis, kernel {1, 1, c, units}; runs as a
 * 1x1 conv2d, then (act softmax) a softmax over the units. */
typedef struct clnet__dense_params {
    int units;
    int use_bias;
    clnet__act act;
} clnet__dense_params;

/* add (add.c): Keras Add of 2..8 same-shape inputs, then an optional fused activation
 * (the residual join + ReLU). */
typedef struct clnet__add_params {
    clnet__act act;
} clnet__add_params;

/* layer_norm (layer_norm.c): Keras LayerNormalization(axis=-1), ConvNeXt's LayerNorm on
 * NHWC: each pixel's c values normalized by their own mean and variance, then
 * y = gamma[c] * xhat + beta[c]. */
typedef struct clnet__layer_norm_params {
    float epsilon; /* added to the variance: Keras 1e-3, ConvNeXt 1e-6 */
} clnet__layer_norm_params;

/* layer_scale (layer_scale.c): Keras / Keras-CV ConvNeXt's LayerScale, torchvision CNBlock's
 * layer_scale: y = x * gamma[c], gamma trainable and initialized to init_value. */
typedef struct clnet__layer_scale_params {
    float init_value; /* gamma's initial value: ConvNeXt's 1e-6 */
} clnet__layer_scale_params;

/* dropout (dropout.c): Keras Dropout, inverted (kept elements scaled by 1 / (1 - rate)).
 * Also stochastic_depth's (stochastic_depth.c: torchvision StochasticDepth(mode="row"), a
 * residual branch dropped whole per image in training, the identity at inference). */
typedef struct clnet__dropout_params {
    float rate;    /* 0 <= rate < 1 */
    unsigned seed; /* mixed with the per-step call seed into the mask hash */
} clnet__dropout_params;

/* softmax (softmax.c): Keras Softmax over the last axis (channels). */
typedef struct clnet__softmax_params {
    int axis; /* always -1: parsed for Keras compatibility */
} clnet__softmax_params;

/* softmax_cross_entropy (softmax_cross_entropy.c): mean over rows of the categorical
 * cross-entropy of softmax(logits) against target distributions (input 1). */
typedef struct clnet__softmax_cross_entropy_params {
    float label_smoothing; /* t' = t * (1 - ls) + ls / c, as Keras */
} clnet__softmax_cross_entropy_params;

/* max_pool, avg_pool (max_pool.c, avg_pool.c; parsing and geometry in pool.c): Keras
 * MaxPooling2D / AveragePooling2D. Padding cells never win a max; avg_pool divides by
 * the input cells of the window, or when count_include_pad (PyTorch's default) by its
 * cells inside the padded input (kh * kw unless ceil_mode's last window overhangs it). */
typedef struct clnet__pool_params {
    int kh, kw, sh, sw;
    clnet__padding padding;
    int pad_t, pad_b, pad_l, pad_r; /* explicit padding only; same is computed per shape */
    int count_include_pad;          /* avg_pool only */
    /* PyTorch / ONNX ceil_mode: the output size rounds up, keeping a last window that
     * starts inside the input or its leading padding (clipped to the input: max_pool's
     * maximum and avg_pool's mean are over its input cells). */
    int ceil_mode;
} clnet__pool_params;

/* zero_pad (zero_pad.c): Keras ZeroPadding2D, cells of zeros on each side. */
typedef struct clnet__zero_pad_params {
    int top, bottom, left, right;
} clnet__zero_pad_params;

/* channel_pad (channel_pad.c): the option-A ResNet shortcut. Output pixel (y, x) is input
 * pixel (y * stride, x * stride) with `before` zero channels ahead of the input's and
 * zeros after, up to `channels`. */
typedef struct clnet__channel_pad_params {
    int channels, stride, before;
} clnet__channel_pad_params;

/* multiply, subtract, divide (broadcast.c) take no keys: y = a * b, a - b, a / b, where
 * input 1 (b) has input 0's shape or broadcasts to it (Keras Multiply / Subtract, ONNX
 * Mul / Sub / Div with the smaller operand second). */

/* concatenate (concatenate.c): Keras Concatenate of 2..8 inputs along the channels. */
typedef struct clnet__concatenate_params {
    int axis; /* always -1 (channels): parsed for Keras compatibility; 3 is accepted too */
} clnet__concatenate_params;

/* channel_slice (channel_slice.c): channels [start, start + size) of the input (PyTorch's
 * x.chunk / x[:, start:start + size] on channels). */
typedef struct clnet__channel_slice_params {
    int start, size;
} clnet__channel_slice_params;

/* channel_shuffle (channel_shuffle.c): ShuffleNet's shuffle, as torchvision's
 * channel_shuffle: channels viewed as (groups, c / groups), transposed, flattened, so output
 * channel j * groups + g is input channel g * (c / groups) + j. */
typedef struct clnet__channel_shuffle_params {
    int groups;
} clnet__channel_shuffle_params;

#endif
