/* mnasnet.c - MnasNet-B1 with depth multiplier alpha, exactly as torchvision's
 * mnasnet0_5 / 0_75 / 1_0 / 1_3; its blocks are mobilenetv2.c's inverted residuals.
 * Dispatched by zoo.c. Tests: tests/models/test_zoo.c. */
#include <stdio.h>

#include "models/models.h"

/* Stacks of inverted residuals: output depth (index into the depths), kernel, stride of
 * the first block, expansion, repeats. */
static const struct {
    int depth, kernel, stride, expand, repeats;
} stacks[] = {{2, 3, 2, 3, 3}, {3, 5, 2, 3, 3}, {4, 5, 2, 6, 3},
              {5, 3, 1, 6, 2}, {6, 5, 2, 6, 4}, {7, 3, 1, 6, 1}};

/* torchvision's BatchNorm2d(momentum=1 - 0.9997): Keras's momentum 0.9997. */
static const clnet__zoo_style style = {
    "epsilon = 1e-5\nmomentum = 0.9997\nunbiased_variance = true", 0, CLNET__ZOO_PAD_TORCH};

/* Modules of torchvision's nn.Sequential `layers` (layers_<i>): the stem's three
 * convolutions (0 to 7) and the head's (14 to 16); 8 to 13 are the stacks. */
static const char *const seq[4][3] = {
    {"_0", "_1", "_2"}, {"_3", "_4", "_5"}, {"_6", "_7", NULL}, {"_14", "_15", "_16"}};

/* The same numbering inside a block: layers_8_0_layers_0 ... _7. */
static const char *const block_names[3][3] = {
    {"_layers_0", "_layers_1", "_layers_2"},
    {"_layers_3", "_layers_4", "_layers_5"},
    {"_layers_6", "_layers_7", NULL},
};

clnet_layer clnet__mnasnet(clnet_graph *g, const clnet__zoo_args *a)
{
    static const int base[8] = {32, 16, 24, 40, 80, 96, 192, 320};
    int depths[8];
    for (int i = 0; i < 8; ++i)
        depths[i] = clnet__zoo_round8(base[i] * a->alpha);
    clnet_layer x = clnet_graph_input(g, NULL, a->h, a->w, a->c);
    x = clnet__zoo_conv_bn(g, &style, x, depths[0], 3, 2, "relu", "layers", seq[0]);
    x = clnet__zoo_conv_bn(g, &style, x, 0, 3, 1, "relu", "layers", seq[1]);
    x = clnet__zoo_conv_bn(g, &style, x, depths[1], 1, 1, NULL, "layers", seq[2]);
    char prefix[32];
    for (size_t i = 0; i < CLNET_COUNTOF(stacks); ++i)
        for (int k = 0; k < stacks[i].repeats; ++k) {
            snprintf(prefix, sizeof prefix, "layers_%d_%d", (int)i + 8, k);
            x = clnet__inverted_residual(g, &style, x, stacks[i].expand, depths[stacks[i].depth],
                                         stacks[i].kernel, k == 0 ? stacks[i].stride : 1, "relu",
                                         prefix, block_names);
        }
    x = clnet__zoo_conv_bn(g, &style, x, 1280, 1, 1, "relu", "layers", seq[3]);
    return clnet__zoo_head(g, x, "avgpool", "classifier_0", 0.2, "classifier_1", a->classes);
}
