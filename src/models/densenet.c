/* densenet.c - DenseNet-121 exactly as torchvision's densenet121 (DenseNet-BC: growth 32,
 * blocks of 6, 12, 24 and 16 layers, bottlenecks of 4 * growth, 64 initial features,
 * transitions halving the channels). Dispatched by zoo.c. Tests: tests/models/test_zoo.c. */
#include <stdio.h>

#include "models/models.h"

enum { GROWTH = 32, BN_SIZE = 4, INIT_FEATURES = 64 };
static const int block_layers[4] = {6, 12, 24, 16};

static const clnet__zoo_style style = {CLNET__ZOO_BN_TORCH, 0, CLNET__ZOO_PAD_TORCH};

/* Pre-activation: batch_norm -> ReLU -> conv (no bias, stride 1, padding kernel / 2),
 * named prefix + names[0], [1], [2]. */
static clnet_layer norm_relu_conv(clnet_graph *g, clnet_layer x, int filters, int kernel,
                                  const char *prefix, const char *const names[3])
{
    x = clnet__zoo_layer(g, "batch_norm", prefix, names[0], x, "%s", style.bn);
    x = clnet__zoo_act(g, "relu", prefix, names[1], x);
    return clnet__zoo_conv(g, &style, x, filters, kernel, 1, 1, prefix, names[2]);
}

/* One dense layer on x (all the block's features so far): norm1 -> relu1 -> conv1 (1x1 to
 * BN_SIZE * GROWTH) -> norm2 -> relu2 -> conv2 (3x3 to GROWTH), whose output is appended to
 * x by prefix + "_concat". torchvision concatenates the whole list of features in every
 * layer; concatenate takes 8 inputs at most, and a chain of two-input joins moves the same
 * bytes in the fewest launches: each layer's input must be written whole either way, and
 * the chain reads it back exactly once. */
static clnet_layer dense_layer(clnet_graph *g, clnet_layer x, const char *prefix)
{
    static const char *const first[3] = {"_norm1", "_relu1", "_conv1"};
    static const char *const second[3] = {"_norm2", "_relu2", "_conv2"};
    clnet_layer y = norm_relu_conv(g, x, BN_SIZE * GROWTH, 1, prefix, first);
    y = norm_relu_conv(g, y, GROWTH, 3, prefix, second);
    return clnet__zoo_concat(g, prefix, "_concat", x, y);
}

clnet_layer clnet__densenet(clnet_graph *g, const clnet__zoo_args *a)
{
    static const char *const stem[3] = {"_conv0", "_norm0", "_relu0"};
    static const char *const transition[3] = {"_norm", "_relu", "_conv"};
    clnet_layer x = clnet_graph_input(g, NULL, a->h, a->w, a->c);
    x = clnet__zoo_conv_bn(g, &style, x, INIT_FEATURES, 7, 2, "relu", "features", stem);
    x = clnet__zoo_layer(g, "max_pool", "features", "_pool0", x,
                         "pool_size = 3\nstrides = 2\npadding = 1");
    char prefix[64];
    for (int b = 0; b < 4; ++b) {
        for (int k = 0; k < block_layers[b]; ++k) {
            snprintf(prefix, sizeof prefix, "features_denseblock%d_denselayer%d", b + 1, k + 1);
            x = dense_layer(g, x, prefix);
        }
        if (b == 3)
            break;
        snprintf(prefix, sizeof prefix, "features_transition%d", b + 1);
        x = norm_relu_conv(g, x, clnet_graph_layer_shape(g, x).c / 2, 1, prefix, transition);
        x = clnet__zoo_layer(g, "avg_pool", prefix, "_pool", x, "pool_size = 2\nstrides = 2");
    }
    x = clnet__zoo_layer(g, "batch_norm", "features", "_norm5", x, "%s", style.bn);
    /* forward()'s F.relu and adaptive_avg_pool2d have no modules: named after them. */
    x = clnet__zoo_act(g, "relu", NULL, "relu", x);
    return clnet__zoo_head(g, x, "avgpool", NULL, 0.0, "classifier", a->classes);
}
