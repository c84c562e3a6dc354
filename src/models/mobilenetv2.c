/* mobilenetv2.c - MobileNetV2 with width multiplier alpha, as torchvision's mobilenet_v2
 * (width_mult) or keras.applications' MobileNetV2 builds it; its inverted residual also
 * serves mnasnet.c. Dispatched by zoo.c. Tests: tests/models/test_zoo.c. */
#include <stdio.h>

#include "models/models.h"

/* Expansion t, channels c (times alpha), repeats n, stride s of the first repeat. */
static const struct {
    int t, c, n, s;
} settings[] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};

/* Names of a block's convolutions in order after its prefix: Keras's "block_3" (the first
 * block is "expanded_conv", without the expansion), torchvision's "features_3". */
static const char *const keras_names[3][3] = {
    {"_expand", "_expand_BN", "_expand_relu"},
    {"_depthwise", "_depthwise_BN", "_depthwise_relu"},
    {"_project", "_project_BN", NULL},
};
static const char *const torch_names[2][3][3] = {
    {{"_conv_0_0", "_conv_0_1", "_conv_0_2"}, {"_conv_1", "_conv_2", NULL}, {NULL}}, /* t = 1 */
    {{"_conv_0_0", "_conv_0_1", "_conv_0_2"},
     {"_conv_1_0", "_conv_1_1", "_conv_1_2"},
     {"_conv_2", "_conv_3", NULL}},
};

/* Keras pads 'same' (asymmetrically for stride 2 on even sizes, as its ZeroPadding2D +
 * 'valid' does), BatchNormalization(epsilon=1e-3, momentum=0.999). */
static const clnet__zoo_style keras_style = {"epsilon = 1e-3\nmomentum = 0.999", 0,
                                             CLNET__ZOO_PAD_SAME};
static const clnet__zoo_style torch_style = {CLNET__ZOO_BN_TORCH, 0, CLNET__ZOO_PAD_TORCH};

clnet_layer clnet__inverted_residual(clnet_graph *g, const clnet__zoo_style *st, clnet_layer x,
                                     int expand, int out, int kernel, int stride, const char *act,
                                     const char *prefix, const char *const (*names)[3])
{
    const int in = clnet_graph_layer_shape(g, x).c;
    clnet_layer y = x;
    if (expand != 1)
        y = clnet__zoo_conv_bn(g, st, y, in * expand, 1, 1, act, prefix, *names++);
    y = clnet__zoo_conv_bn(g, st, y, 0, kernel, stride, act, prefix, *names++);
    y = clnet__zoo_conv_bn(g, st, y, out, 1, 1, NULL, prefix, *names);
    return stride == 1 && in == out ? clnet__zoo_add(g, prefix, "_add", y, x) : y;
}

clnet_layer clnet__mobilenetv2(clnet_graph *g, const clnet__zoo_args *a)
{
    static const char *const keras_stem[3] = {"Conv1", "bn_Conv1", "Conv1_relu"};
    static const char *const keras_top[3] = {"Conv_1", "Conv_1_bn", "out_relu"};
    static const char *const torch_seq[3] = {"_0", "_1", "_2"}; /* Conv2dNormActivation */
    const clnet__zoo_style *st = a->keras ? &keras_style : &torch_style;
    char prefix[32];
    clnet_layer x = clnet_graph_input(g, NULL, a->h, a->w, a->c);
    x = clnet__zoo_conv_bn(g, st, x, clnet__zoo_round8(32 * a->alpha), 3, 2, "relu6",
                           a->keras ? "" : "features_0", a->keras ? keras_stem : torch_seq);
    int index = 0; /* of the block: Keras's block_<index>, torchvision's features_<index + 1> */
    for (size_t i = 0; i < CLNET_COUNTOF(settings); ++i)
        for (int k = 0; k < settings[i].n; ++k, ++index) {
            const int t = settings[i].t, stride = k == 0 ? settings[i].s : 1;
            if (!a->keras)
                snprintf(prefix, sizeof prefix, "features_%d", index + 1);
            else if (index == 0)
                snprintf(prefix, sizeof prefix, "expanded_conv");
            else
                snprintf(prefix, sizeof prefix, "block_%d", index);
            const char *const(*names)[3] = a->keras ? keras_names + (t == 1) : torch_names[t != 1];
            x = clnet__inverted_residual(g, st, x, t, clnet__zoo_round8(settings[i].c * a->alpha),
                                         3, stride, "relu6", prefix, names);
        }
    const int last = clnet__zoo_round8(1280 * (a->alpha > 1.0 ? a->alpha : 1.0));
    snprintf(prefix, sizeof prefix, "features_%d", index + 1);
    x = clnet__zoo_conv_bn(g, st, x, last, 1, 1, "relu6", a->keras ? "" : prefix,
                           a->keras ? keras_top : torch_seq);
    if (a->keras)
        return clnet__zoo_head(g, x, "global_average_pooling2d", NULL, 0.0, "predictions",
                               a->classes);
    return clnet__zoo_head(g, x, "avgpool", "classifier_0", 0.2, "classifier_1", a->classes);
}
