/* resnet.c - ResNet-18/34/50/101/152 from one stage table, in torchvision's layout or the
 * Keras tutorials', with 1x1 projection (option B) or zero-filled (option A) shortcuts; and
 * torchvision's ResNeXt-50 32x4d, ResNeXt-101 32x8d and 64x4d, whose bottlenecks have a
 * grouped 3x3 (torch layout only). Dispatched by zoo.c. Tests: tests/models/test_zoo.c. */
#include <stdio.h>

#include "models/models.h"

/* Blocks per stage; stages have 64, 128, 256, 512 channels (times 4 out of a bottleneck). */
static const struct resnet {
    int depth, bottleneck, blocks[4];
} resnets[] = {
    {18, 0, {2, 2, 2, 2}},   {34, 0, {3, 4, 6, 3}},   {50, 1, {3, 4, 6, 3}},
    {101, 1, {3, 4, 23, 3}}, {152, 1, {3, 8, 36, 3}},
};

/* The ResNeXts by the zoo's variant: depth (a bottleneck row above), groups of the 3x3 and
 * torchvision's width_per_group (64 for the ResNets). */
static const struct resnext {
    int depth, groups, width_per_group;
} resnexts[] = {{50, 32, 4}, {101, 32, 8}, {101, 64, 4}};

/* Conv + BN (+ ReLU) names of a block: the shortcut's, then the main path's 1st to 3rd,
 * after the block prefix (Keras's "conv2_block1", torchvision's "layer1_0"). */
static const char *const keras_names[4][3] = {
    {"_0_conv", "_0_bn", NULL},
    {"_1_conv", "_1_bn", "_1_relu"},
    {"_2_conv", "_2_bn", "_2_relu"},
    {"_3_conv", "_3_bn", NULL},
};
static const char *const torch_names[4][3] = {
    {"_downsample_0", "_downsample_1", NULL},
    {"_conv1", "_bn1", "_relu1"},
    {"_conv2", "_bn2", "_relu2"},
    {"_conv3", "_bn3", NULL},
};

/* keras.applications' BatchNormalization(epsilon=1.001e-5), Keras's default momentum. */
static const clnet__zoo_style keras_style = {"epsilon = 1.001e-5\nmomentum = 0.99", 1,
                                             CLNET__ZOO_PAD_SAME};
static const clnet__zoo_style torch_style = {CLNET__ZOO_BN_TORCH, 0, CLNET__ZOO_PAD_TORCH};

/* What every block of one model shares. */
typedef struct block {
    clnet_graph *g;
    const clnet__zoo_style *st;
    const char *const (*names)[3];
    int keras, shortcut_a;
    int groups, width_per_group; /* of the bottleneck's 3x3: 1 and 64 but in ResNeXts */
    char prefix[48];
} block;

/* The shortcut from x to out channels subsampled by stride: x itself when nothing
 * changes, else zero-filled channels split around x's (option A, as the CIFAR ResNets
 * pad) or a 1x1 projection + BN (option B). */
static clnet_layer shortcut(const block *b, clnet_layer x, int out, int stride)
{
    const int in = clnet_graph_layer_shape(b->g, x).c;
    if (in == out && stride == 1)
        return x;
    if (b->shortcut_a)
        return clnet__zoo_layer(b->g, "channel_pad", b->prefix, "_shortcut", x,
                                "channels = %d\nstride = %d\nbefore = %d", out, stride,
                                (out - in) / 2);
    return clnet__zoo_conv_bn(b->g, b->st, x, out, 1, stride, NULL, b->prefix, b->names[0]);
}

/* Keras builds the shortcut before the main path, torchvision runs it after. */
static clnet_layer shortcut_first(const block *b, clnet_layer x, int out, int stride)
{
    return b->keras ? shortcut(b, x, out, stride) : CLNET_LAYER_NONE;
}

/* main + shortcut, then ReLU (Keras's "_add" and "_out"; torchvision's block relu). */
static clnet_layer join(const block *b, clnet_layer x, clnet_layer y, clnet_layer s, int out,
                        int stride)
{
    if (!b->keras)
        s = shortcut(b, x, out, stride);
    y = clnet__zoo_add(b->g, b->prefix, "_add", y, s);
    return clnet__zoo_layer(b->g, "relu", b->prefix, b->keras ? "_out" : "_relu", y, "%s", "");
}

/* Two 3x3 convolutions, the stride on the first (resnet18, resnet34). */
static clnet_layer basic(const block *b, clnet_layer x, int width, int stride)
{
    const clnet_layer s = shortcut_first(b, x, width, stride);
    clnet_layer y =
        clnet__zoo_conv_bn(b->g, b->st, x, width, 3, stride, "relu", b->prefix, b->names[1]);
    y = clnet__zoo_conv_bn(b->g, b->st, y, width, 3, 1, NULL, b->prefix, b->names[2]);
    return join(b, x, y, s, width, stride);
}

/* 1x1 to width, 3x3 (grouped in ResNeXts), 1x1 to 4 * planes; width is torchvision's
 * int(planes * (width_per_group / 64)) * groups, planes for the ResNets. Keras strides the
 * first 1x1 (ResNet v1), torchvision the 3x3 (ResNet v1.5); the parameters are the same. */
static clnet_layer bottleneck(const block *b, clnet_layer x, int planes, int stride)
{
    const int s1 = b->keras ? stride : 1;
    const int width = (int)(planes * (b->width_per_group / 64.0)) * b->groups;
    const clnet_layer s = shortcut_first(b, x, 4 * planes, stride);
    clnet_layer y =
        clnet__zoo_conv_bn(b->g, b->st, x, width, 1, s1, "relu", b->prefix, b->names[1]);
    y = clnet__zoo_grouped_conv_bn(b->g, b->st, y, width, 3, stride / s1, b->groups, "relu",
                                   b->prefix, b->names[2]);
    y = clnet__zoo_conv_bn(b->g, b->st, y, 4 * planes, 1, 1, NULL, b->prefix, b->names[3]);
    return join(b, x, y, s, 4 * planes, stride);
}

/* torchvision: conv 7x7/2 pad 3 -> BN -> ReLU -> max pool 3x3/2 pad 1. Keras: zero pad 3 ->
 * conv 7x7/2 valid -> BN -> ReLU -> max pool 3x3/2 valid (the tutorial's: no pool1_pad). */
static clnet_layer stem(const block *b, clnet_layer x)
{
    static const char *const torch_stem[3] = {"conv1", "bn1", "relu"};
    static const char *const keras_stem[3] = {"_conv", "_bn", "_relu"};
    if (!b->keras) {
        x = clnet__zoo_conv_bn(b->g, b->st, x, 64, 7, 2, "relu", NULL, torch_stem);
        return clnet__zoo_layer(b->g, "max_pool", NULL, "maxpool", x,
                                "pool_size = 3\nstrides = 2\npadding = 1");
    }
    clnet__zoo_style valid = *b->st;
    valid.pad = CLNET__ZOO_PAD_VALID;
    x = clnet__zoo_layer(b->g, "zero_pad", NULL, "conv1_pad", x, "padding = 3");
    x = clnet__zoo_conv_bn(b->g, &valid, x, 64, 7, 2, "relu", "conv1", keras_stem);
    return clnet__zoo_layer(b->g, "max_pool", NULL, "pool1_pool", x, "pool_size = 3\nstrides = 2");
}

/* torchvision: global average pool -> fc. Keras (the tutorial): average pool 2x2 (shrunk to
 * the feature map when that is smaller, for inputs under 64x64) -> flatten -> predictions. */
static clnet_layer head(const block *b, clnet_layer x, int classes)
{
    if (!b->keras)
        return clnet__zoo_head(b->g, x, "avgpool", NULL, 0.0, "fc", classes);
    const clnet_shape s = clnet_graph_layer_shape(b->g, x);
    x = clnet__zoo_layer(b->g, "avg_pool", NULL, "avg_pool", x, "pool_size = %d, %d",
                         s.h < 2 ? s.h : 2, s.w < 2 ? s.w : 2);
    x = clnet__zoo_layer(b->g, "flatten", NULL, "flatten", x, "%s", "");
    return clnet__zoo_layer(b->g, "dense", NULL, "predictions", x, "units = %d", classes);
}

/* The ResNet of depth with bottleneck 3x3s of groups x (width_per_group / 64) the planes. */
static clnet_layer build(clnet_graph *g, const clnet__zoo_args *a, int depth, int groups,
                         int width_per_group)
{
    const struct resnet *r = &resnets[0];
    for (size_t i = 0; i < CLNET_COUNTOF(resnets); ++i)
        if (resnets[i].depth == depth)
            r = &resnets[i];
    block b = {.g = g,
               .keras = a->keras,
               .shortcut_a = a->shortcut_a,
               .groups = groups,
               .width_per_group = width_per_group};
    b.st = a->keras ? &keras_style : &torch_style;
    b.names = a->keras ? keras_names : torch_names;
    clnet_layer x = stem(&b, clnet_graph_input(g, NULL, a->h, a->w, a->c));
    for (int s = 0; s < 4; ++s)
        for (int k = 0; k < r->blocks[s]; ++k) {
            if (a->keras)
                snprintf(b.prefix, sizeof b.prefix, "conv%d_block%d", s + 2, k + 1);
            else
                snprintf(b.prefix, sizeof b.prefix, "layer%d_%d", s + 1, k);
            const int stride = k == 0 && s > 0 ? 2 : 1;
            x = r->bottleneck ? bottleneck(&b, x, 64 << s, stride) : basic(&b, x, 64 << s, stride);
        }
    return head(&b, x, a->classes);
}

clnet_layer clnet__resnet(clnet_graph *g, const clnet__zoo_args *a)
{
    return build(g, a, a->depth, 1, 64);
}

clnet_layer clnet__resnext(clnet_graph *g, const clnet__zoo_args *a)
{
    const struct resnext *x = &resnexts[a->variant];
    return build(g, a, x->depth, x->groups, x->width_per_group);
}
