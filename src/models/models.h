/* models.h - what the zoo's builders share: resnet.c, mobilenetv2.c, mnasnet.c,
 * mobilenetv3.c, efficientnet.c, squeezenet.c, densenet.c and shufflenet.c build the
 * graphs, zoo.c checks the options, dispatches and holds the layer helpers.
 * Tests: tests/models/test_zoo.c. */
#ifndef CLNET_MODELS_MODELS_H
#define CLNET_MODELS_MODELS_H

#include "clnet.h"
#include "device/runtime.h" /* CLNET_COUNTOF */

/* The options of clnet_zoo_build, checked and with the defaults filled in. */
typedef struct clnet__zoo_args {
    int h, w, c, classes;
    int keras;      /* the Keras layout and constants instead of torchvision's */
    double alpha;   /* width multiplier (1.0 for models that have none) */
    int shortcut_a; /* ResNets: zero-filled channels instead of 1x1 projections */
    int depth;      /* ResNets: 18, 34, 50, 101 or 152 */
    int variant;    /* the zoo table's variant column: which EfficientNet, RegNet, ... */
} clnet__zoo_args;

/* How a source framework pads its convolutions. */
typedef enum clnet__zoo_pad {
    CLNET__ZOO_PAD_TORCH, /* explicit and symmetric: kernel / 2 on every side */
    CLNET__ZOO_PAD_SAME,  /* Keras 'same' for kernels above 1x1, 'valid' for 1x1 */
    CLNET__ZOO_PAD_VALID  /* none (Keras stems pad with a zero_pad layer first) */
} clnet__zoo_pad;

/* The conventions a model's convolutions and batch norms follow. */
typedef struct clnet__zoo_style {
    const char *bn; /* batch_norm lines: epsilon, momentum (Keras's convention), unbiased */
    int bias;       /* conv2d and depthwise_conv2d use_bias */
    clnet__zoo_pad pad;
} clnet__zoo_style;

/* torchvision's BatchNorm2d(eps=1e-5, momentum=0.1): Keras momentum 0.9, and the running
 * variance updated with the unbiased batch variance as PyTorch does. */
#define CLNET__ZOO_BN_TORCH "epsilon = 1e-5\nmomentum = 0.9\nunbiased_variance = true"

/* clnet_graph_layer named prefix followed by suffix, with printf-formatted parameters. */
clnet_layer clnet__zoo_layer(clnet_graph *g, const char *op, const char *prefix, const char *suffix,
                             clnet_layer x, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

/* An add of a and b named prefix followed by suffix. */
clnet_layer clnet__zoo_add(clnet_graph *g, const char *prefix, const char *suffix, clnet_layer a,
                           clnet_layer b);

/* A concatenate of a then b along the channels, named prefix followed by suffix. */
clnet_layer clnet__zoo_concat(clnet_graph *g, const char *prefix, const char *suffix, clnet_layer a,
                              clnet_layer b);

/* Activation act (any name of the activation table: "relu", "hard_swish", "silu" ...) on
 * its own layer named prefix + suffix; x itself when act is NULL. */
clnet_layer clnet__zoo_act(clnet_graph *g, const char *act, const char *prefix, const char *suffix,
                           clnet_layer x);

/* conv2d with filters outputs (a depthwise_conv2d when filters is 0), kernel x kernel, stride,
 * groups (1: an ordinary conv2d), padded and biased as st says, named prefix + name. */
clnet_layer clnet__zoo_conv(clnet_graph *g, const clnet__zoo_style *st, clnet_layer x, int filters,
                            int kernel, int stride, int groups, const char *prefix,
                            const char *name);

/* clnet__zoo_conv (groups 1) -> batch_norm -> act (an activation name, or NULL for none),
 * named prefix + names[0], [1], [2]. */
clnet_layer clnet__zoo_conv_bn(clnet_graph *g, const clnet__zoo_style *st, clnet_layer x,
                               int filters, int kernel, int stride, const char *act,
                               const char *prefix, const char *const names[3]);

/* clnet__zoo_conv_bn with a grouped conv2d (groups dividing the input channels and filters;
 * 1: an ordinary conv2d). */
clnet_layer clnet__zoo_grouped_conv_bn(clnet_graph *g, const clnet__zoo_style *st, clnet_layer x,
                                       int filters, int kernel, int stride, int groups,
                                       const char *act, const char *prefix,
                                       const char *const names[3]);

/* torchvision's SqueezeExcitation: global average pool -> 1x1 conv to squeeze channels
 * (biased) -> act -> 1x1 conv back (biased) -> gate -> multiply with x. Layers named
 * prefix + "_avgpool", "_fc1", "_activation", "_fc2", "_scale_activation", "_scale". */
clnet_layer clnet__zoo_se(clnet_graph *g, clnet_layer x, int squeeze, const char *act,
                          const char *gate, const char *prefix);

/* MobileNetV2's make_divisible(v, 8), which is also MnasNet's _round_to_multiple_of(v, 8):
 * the multiple of 8 nearest v, at least 8, rounded up when that loses over 10%. */
int clnet__zoo_round8(double v);

/* The classifier head: global average pool named pool -> dropout named drop with rate
 * (none when rate is 0) -> dense logits named fc. */
clnet_layer clnet__zoo_head(clnet_graph *g, clnet_layer x, const char *pool, const char *drop,
                            double rate, const char *fc, int classes);

/* MobileNetV2's inverted residual, MnasNet's too: 1x1 expansion to in * expand channels
 * (none when expand is 1) -> act -> depthwise kernel x kernel, stride -> act -> linear 1x1
 * to out, plus the input when stride is 1 and in = out (named prefix + "_add"). names
 * holds the name triplets of the convolutions in order (mobilenetv2.c). */
clnet_layer clnet__inverted_residual(clnet_graph *g, const clnet__zoo_style *st, clnet_layer x,
                                     int expand, int out, int kernel, int stride, const char *act,
                                     const char *prefix, const char *const (*names)[3]);

/* An MBConv block (MobileNetV3's InvertedResidual, EfficientNet's MBConv), torchvision's
 * layout. */
typedef struct clnet__mbconv {
    int expanded;    /* channels of the 1x1 expansion (none when equal to the input's) */
    int out;         /* channels of the linear 1x1 projection */
    int kernel;      /* of the depthwise convolution (padding kernel / 2) */
    int stride;      /* of the depthwise convolution */
    const char *act; /* after the expansion and the depthwise convolution */
    int squeeze;     /* squeeze-and-excitation's squeeze channels; 0: no SE */
    const char *se_act, *se_gate; /* SE's activation and its scale activation */
    double drop;                  /* stochastic depth rate on the residual branch; 0: none */
    int seed;                     /* the stochastic_depth layer's seed, its own per block */
} clnet__mbconv;

/* Block b on x: 1x1 expansion -> act -> depthwise -> act -> SE -> 1x1 projection (BN, no
 * activation), then (stochastic depth and) the input added when the stride is 1 and the
 * channels stay. Layers named prefix + "_block_<i>_0" ... as torchvision's nn.Sequential
 * numbers the modules present, "_stochastic_depth" and "_add" (mobilenetv3.c). */
clnet_layer clnet__zoo_mbconv(clnet_graph *g, const clnet__zoo_style *st, clnet_layer x,
                              const clnet__mbconv *b, const char *prefix);

/* The builders: each adds the input and all layers to g and returns the logits layer
 * (CLNET_LAYER_NONE after a failure, whose message is on g). */
clnet_layer clnet__resnet(clnet_graph *g, const clnet__zoo_args *a);
/* variant 0, 1, 2: resnext50_32x4d, resnext101_32x8d, resnext101_64x4d (resnet.c) */
clnet_layer clnet__resnext(clnet_graph *g, const clnet__zoo_args *a);
/* variant 0 to 7: regnet_y_400mf, 800mf, 1_6gf, 3_2gf, 8gf, 16gf, 32gf, 128gf (regnet.c) */
clnet_layer clnet__regnet(clnet_graph *g, const clnet__zoo_args *a);
/* variant 0 to 3: convnext_tiny, _small, _base, _large (convnext.c) */
clnet_layer clnet__convnext(clnet_graph *g, const clnet__zoo_args *a);
clnet_layer clnet__mobilenetv2(clnet_graph *g, const clnet__zoo_args *a);
clnet_layer clnet__mnasnet(clnet_graph *g, const clnet__zoo_args *a);
/* variant 0: Large, 1: Small. */
clnet_layer clnet__mobilenetv3(clnet_graph *g, const clnet__zoo_args *a);
/* variant 0 to 3: B0 to B3. */
clnet_layer clnet__efficientnet(clnet_graph *g, const clnet__zoo_args *a);
clnet_layer clnet__squeezenet(clnet_graph *g, const clnet__zoo_args *a);
clnet_layer clnet__densenet(clnet_graph *g, const clnet__zoo_args *a);
clnet_layer clnet__shufflenet(clnet_graph *g, const clnet__zoo_args *a);

#endif
