/* efficientnet.c - EfficientNet B0 to B3 exactly as torchvision's efficientnet_b0 ... b3
 * build them: MBConv blocks (mobilenetv3.c's clnet__zoo_mbconv) with SiLU, squeeze-and-
 * excitation and stochastic depth, scaled by width and depth multipliers. Dispatched by
 * zoo.c. Tests: tests/models/test_zoo.c, test_zoo_run.c. */
#include <math.h>
#include <stdio.h>

#include "models/models.h"

/* torchvision's MBConvConfig rows at width and depth 1: expansion, kernel, stride of the
 * first block, input and output channels, blocks. */
static const struct {
    int expand, kernel, stride, in, out, blocks;
} stages[] = {{1, 3, 1, 32, 16, 1},  {6, 3, 2, 16, 24, 2},  {6, 5, 2, 24, 40, 2},
              {6, 3, 2, 40, 80, 3},  {6, 5, 1, 80, 112, 3}, {6, 5, 2, 112, 192, 4},
              {6, 3, 1, 192, 320, 1}};

/* The variants (zoo.c's variant column): width and depth multipliers and the classifier's
 * dropout. */
static const struct {
    double width, depth, dropout;
} variants[] = {{1.0, 1.0, 0.2}, {1.0, 1.1, 0.2}, {1.1, 1.2, 0.3}, {1.2, 1.4, 0.3}};

/* B0 to B4 keep nn.BatchNorm2d's defaults (B5 to B7 take eps 0.001, momentum 0.01). */
static const clnet__zoo_style style = {CLNET__ZOO_BN_TORCH, 0, CLNET__ZOO_PAD_TORCH};

/* Conv2dNormActivation's modules: prefix_0 (conv), _1 (BN), _2 (activation). */
static const char *const seq[3] = {"_0", "_1", "_2"};

/* torchvision's stochastic_depth_prob. */
#define STOCHASTIC_DEPTH 0.2

clnet_layer clnet__efficientnet(clnet_graph *g, const clnet__zoo_args *a)
{
    const double width = variants[a->variant].width, depth = variants[a->variant].depth;
    /* MBConvConfig.adjust_depth: ceil(blocks * depth). */
    int blocks[CLNET_COUNTOF(stages)], total = 0;
    for (size_t i = 0; i < CLNET_COUNTOF(stages); ++i)
        total += blocks[i] = (int)ceil(stages[i].blocks * depth);
    clnet_layer x = clnet_graph_input(g, NULL, a->h, a->w, a->c);
    x = clnet__zoo_conv_bn(g, &style, x, clnet__zoo_round8(stages[0].in * width), 3, 2, "silu",
                           "features_0", seq);
    char prefix[32];
    int id = 0; /* the block's index over all stages: its stochastic depth rate and seed */
    for (size_t i = 0; i < CLNET_COUNTOF(stages); ++i)
        for (int k = 0; k < blocks[i]; ++k, ++id) {
            const int in = clnet_graph_layer_shape(g, x).c;
            const clnet__mbconv b = {clnet__zoo_round8((double)in * stages[i].expand),
                                     clnet__zoo_round8(stages[i].out * width),
                                     stages[i].kernel,
                                     k == 0 ? stages[i].stride : 1,
                                     "silu",
                                     in / 4 > 1 ? in / 4 : 1,
                                     "silu",
                                     "sigmoid",
                                     STOCHASTIC_DEPTH * id / total,
                                     id};
            snprintf(prefix, sizeof prefix, "features_%d_%d", (int)i + 1, k);
            x = clnet__zoo_mbconv(g, &style, x, &b, prefix);
        }
    snprintf(prefix, sizeof prefix, "features_%d", (int)CLNET_COUNTOF(stages) + 1);
    x = clnet__zoo_conv_bn(g, &style, x, 4 * clnet_graph_layer_shape(g, x).c, 1, 1, "silu", prefix,
                           seq);
    return clnet__zoo_head(g, x, "avgpool", "classifier_0", variants[a->variant].dropout,
                           "classifier_1", a->classes);
}
