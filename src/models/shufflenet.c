/* shufflenet.c - ShuffleNetV2 x0.5 and x1.0 exactly as torchvision's shufflenet_v2_x0_5 and
 * shufflenet_v2_x1_0: units that split the channels in two (channel_slice), send one half
 * (or, downsampling, both copies of the input) through branches, concatenate and shuffle
 * them. Dispatched by zoo.c (the variant indexes the widths). Tests: tests/models/test_zoo.c. */
#include <stdio.h>

#include "models/models.h"

/* stages_out_channels: the stem, stages 2 to 4, conv5; by the zoo's variant. */
static const int widths[2][5] = {{24, 48, 96, 192, 1024}, {24, 116, 232, 464, 1024}};
static const int repeats[3] = {4, 8, 4};

static const clnet__zoo_style style = {CLNET__ZOO_BN_TORCH, 0, CLNET__ZOO_PAD_TORCH};

/* torchvision's InvertedResidual named prefix (stage2_0 ...): branch1 (stride 2 only):
 * depthwise 3x3 -> BN -> 1x1 -> BN -> ReLU; branch2: 1x1 -> BN -> ReLU -> depthwise 3x3 ->
 * BN -> 1x1 -> BN -> ReLU. With stride 1 the input's halves (x.chunk(2), prefix + "_chunk_0"
 * and "_chunk_1") are the identity branch and branch2's input. Then torch.cat ("_cat") and
 * channel_shuffle(2) ("_shuffle"). */
static clnet_layer unit(clnet_graph *g, clnet_layer x, int out, int stride, const char *prefix)
{
    static const char *const b1[2][3] = {{"_branch1_0", "_branch1_1", NULL},
                                         {"_branch1_2", "_branch1_3", "_branch1_4"}};
    static const char *const b2[3][3] = {{"_branch2_0", "_branch2_1", "_branch2_2"},
                                         {"_branch2_3", "_branch2_4", NULL},
                                         {"_branch2_5", "_branch2_6", "_branch2_7"}};
    const int half = out / 2, in = clnet_graph_layer_shape(g, x).c;
    clnet_layer left, right = x;
    if (stride == 1) {
        left = clnet__zoo_layer(g, "channel_slice", prefix, "_chunk_0", x, "size = %d", in / 2);
        right = clnet__zoo_layer(g, "channel_slice", prefix, "_chunk_1", x, "start = %d\nsize = %d",
                                 in / 2, in - in / 2);
    } else {
        left = clnet__zoo_conv_bn(g, &style, x, 0, 3, stride, NULL, prefix, b1[0]);
        left = clnet__zoo_conv_bn(g, &style, left, half, 1, 1, "relu", prefix, b1[1]);
    }
    clnet_layer y = clnet__zoo_conv_bn(g, &style, right, half, 1, 1, "relu", prefix, b2[0]);
    y = clnet__zoo_conv_bn(g, &style, y, 0, 3, stride, NULL, prefix, b2[1]);
    y = clnet__zoo_conv_bn(g, &style, y, half, 1, 1, "relu", prefix, b2[2]);
    y = clnet__zoo_concat(g, prefix, "_cat", left, y);
    return clnet__zoo_layer(g, "channel_shuffle", prefix, "_shuffle", y, "groups = 2");
}

clnet_layer clnet__shufflenet(clnet_graph *g, const clnet__zoo_args *a)
{
    static const char *const seq[3] = {"_0", "_1", "_2"}; /* nn.Sequential(conv, BN, ReLU) */
    const int *w = widths[a->variant];
    clnet_layer x = clnet_graph_input(g, NULL, a->h, a->w, a->c);
    x = clnet__zoo_conv_bn(g, &style, x, w[0], 3, 2, "relu", "conv1", seq);
    x = clnet__zoo_layer(g, "max_pool", NULL, "maxpool", x,
                         "pool_size = 3\nstrides = 2\npadding = 1");
    char prefix[32];
    for (int s = 0; s < 3; ++s)
        for (int k = 0; k < repeats[s]; ++k) {
            snprintf(prefix, sizeof prefix, "stage%d_%d", s + 2, k);
            x = unit(g, x, w[s + 1], k == 0 ? 2 : 1, prefix);
        }
    x = clnet__zoo_conv_bn(g, &style, x, w[4], 1, 1, "relu", "conv5", seq);
    /* x.mean([2, 3]) (commented "globalpool" in torchvision), then fc. */
    return clnet__zoo_head(g, x, "globalpool", NULL, 0.0, "fc", a->classes);
}
