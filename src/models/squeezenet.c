/* squeezenet.c - SqueezeNet 1.1 exactly as torchvision's squeezenet1_1: fire modules
 * (squeeze 1x1, then 1x1 and 3x3 expands concatenated), biased convolutions, no batch norm,
 * 3x3/2 max pools with ceil_mode, a convolutional classifier. Dispatched by zoo.c.
 * Tests: tests/models/test_zoo.c. */
#include <stdio.h>

#include "models/models.h"

/* Squeeze and expand (each of the 1x1 and 3x3 expands) channels of the fire modules. */
static const struct {
    int squeeze, expand;
} fires[] = {{16, 64}, {16, 64}, {32, 128}, {32, 128}, {48, 192}, {48, 192}, {64, 256}, {64, 256}};

/* torchvision's Conv2d defaults (biased) with padding kernel / 2; the stem is unpadded. */
static const clnet__zoo_style style = {NULL, 1, CLNET__ZOO_PAD_TORCH};
static const clnet__zoo_style stem_style = {NULL, 1, CLNET__ZOO_PAD_VALID};

/* MaxPool2d(kernel_size=3, stride=2, ceil_mode=True) named features_<index>. */
static clnet_layer pool(clnet_graph *g, clnet_layer x, int index)
{
    char name[32];
    snprintf(name, sizeof name, "features_%d", index);
    return clnet__zoo_layer(g, "max_pool", NULL, name, x,
                            "pool_size = 3\nstrides = 2\nceil_mode = true");
}

/* One fire module, as torchvision's Fire named prefix + "_squeeze" ... "_expand3x3_activation";
 * the join (torch.cat in its forward) is prefix + "_cat". */
static clnet_layer fire(clnet_graph *g, clnet_layer x, int squeeze, int expand, const char *prefix)
{
    x = clnet__zoo_conv(g, &style, x, squeeze, 1, 1, 1, prefix, "_squeeze");
    x = clnet__zoo_act(g, "relu", prefix, "_squeeze_activation", x);
    clnet_layer e1 = clnet__zoo_conv(g, &style, x, expand, 1, 1, 1, prefix, "_expand1x1");
    e1 = clnet__zoo_act(g, "relu", prefix, "_expand1x1_activation", e1);
    clnet_layer e3 = clnet__zoo_conv(g, &style, x, expand, 3, 1, 1, prefix, "_expand3x3");
    e3 = clnet__zoo_act(g, "relu", prefix, "_expand3x3_activation", e3);
    return clnet__zoo_concat(g, prefix, "_cat", e1, e3);
}

clnet_layer clnet__squeezenet(clnet_graph *g, const clnet__zoo_args *a)
{
    clnet_layer x = clnet_graph_input(g, NULL, a->h, a->w, a->c);
    x = clnet__zoo_conv(g, &stem_style, x, 64, 3, 2, 1, NULL, "features_0");
    x = clnet__zoo_act(g, "relu", NULL, "features_1", x);
    x = pool(g, x, 2);
    /* features_3, 4 are fires, 5 a pool, 6 and 7 fires, 8 a pool, 9 to 12 fires. */
    int index = 3;
    char prefix[32];
    for (size_t i = 0; i < CLNET_COUNTOF(fires); ++i) {
        if (i == 2 || i == 4)
            x = pool(g, x, index++);
        snprintf(prefix, sizeof prefix, "features_%d", index++);
        x = fire(g, x, fires[i].squeeze, fires[i].expand, prefix);
    }
    /* Dropout(0.5), the 1x1 conv to the classes, ReLU, AdaptiveAvgPool2d: the pooled
     * (non-negative) class scores are the logits. */
    x = clnet__zoo_layer(g, "dropout", NULL, "classifier_0", x, "rate = 0.5");
    x = clnet__zoo_conv(g, &style, x, a->classes, 1, 1, 1, NULL, "classifier_1");
    x = clnet__zoo_act(g, "relu", NULL, "classifier_2", x);
    return clnet__zoo_layer(g, "global_avg_pool", NULL, "classifier_3", x, "%s", "");
}
