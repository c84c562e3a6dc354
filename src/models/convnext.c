/* convnext.c - torchvision's ConvNeXt (convnext_tiny, _small, _base, _large) on NHWC: a 4x4/4
 * patchify stem and channel LayerNorms, CNBlocks (depthwise 7x7, LayerNorm, the inverted
 * bottleneck as per-pixel dense layers with GELU, layer scale, stochastic depth at
 * torchvision's linearly growing rates), LayerNorm + 2x2/2 conv downsampling, and a pooled
 * LayerNorm + dense head. torch layout only. Dispatched by zoo.c.
 * Tests: tests/models/test_zoo.c. */
#include <stdio.h>

#include "models/models.h"

/* torchvision's block_setting and stochastic_depth_prob, by the zoo's variant: blocks per
 * stage, the first stage's channels (doubled by each downsampling). */
static const struct convnext {
    int blocks[4], dim;
    double drop_path;
} convnexts[] = {
    {{3, 3, 9, 3}, 96, 0.1},   /* tiny */
    {{3, 3, 27, 3}, 96, 0.4},  /* small */
    {{3, 3, 27, 3}, 128, 0.5}, /* base */
    {{3, 3, 27, 3}, 192, 0.5}, /* large */
};

/* LayerNorm2d and the blocks' nn.LayerNorm: eps 1e-6. */
#define LN "epsilon = 1e-6"

/* CNBlock: input + stochastic_depth(layer_scale(dense(gelu(dense(ln(dwconv7x7(x))))))),
 * the dense layers 4 * dim wide, layer scale starting at 1e-6, the branch dropped with
 * probability rate (each block its own seed, so blocks drop different images). */
static clnet_layer cn_block(clnet_graph *g, clnet_layer x, int dim, double rate, int seed,
                            const char *prefix)
{
    clnet_layer y = clnet__zoo_layer(g, "depthwise_conv2d", prefix, "_block_0", x,
                                     "kernel_size = 7\npadding = 3\nuse_bias = true");
    y = clnet__zoo_layer(g, "layer_norm", prefix, "_block_2", y, LN);
    y = clnet__zoo_layer(g, "dense", prefix, "_block_3", y, "units = %d", 4 * dim);
    y = clnet__zoo_act(g, "gelu", prefix, "_block_4", y);
    y = clnet__zoo_layer(g, "dense", prefix, "_block_5", y, "units = %d", dim);
    y = clnet__zoo_layer(g, "layer_scale", prefix, "_layer_scale", y, "init_value = 1e-6");
    y = clnet__zoo_layer(g, "stochastic_depth", prefix, "_stochastic_depth", y,
                         "rate = %g\nseed = %d", rate, seed);
    return clnet__zoo_add(g, prefix, "_add", y, x);
}

clnet_layer clnet__convnext(clnet_graph *g, const clnet__zoo_args *a)
{
    const struct convnext *c = &convnexts[a->variant];
    const int total = c->blocks[0] + c->blocks[1] + c->blocks[2] + c->blocks[3];
    clnet_layer x = clnet_graph_input(g, NULL, a->h, a->w, a->c);
    x = clnet__zoo_layer(g, "conv2d", NULL, "features_0_0", x,
                         "filters = %d\nkernel_size = 4\nstrides = 4\nuse_bias = true", c->dim);
    x = clnet__zoo_layer(g, "layer_norm", NULL, "features_0_1", x, LN);
    char prefix[64];
    int id = 0; /* torchvision's stage_block_id */
    for (int s = 0; s < 4; ++s) {
        const int dim = c->dim << s;
        if (s > 0) {
            snprintf(prefix, sizeof prefix, "features_%d", 2 * s);
            x = clnet__zoo_layer(g, "layer_norm", prefix, "_0", x, LN);
            x = clnet__zoo_layer(g, "conv2d", prefix, "_1", x,
                                 "filters = %d\nkernel_size = 2\nstrides = 2\nuse_bias = true",
                                 dim);
        }
        for (int k = 0; k < c->blocks[s]; ++k, ++id) {
            snprintf(prefix, sizeof prefix, "features_%d_%d", 2 * s + 1, k);
            x = cn_block(g, x, dim, c->drop_path * id / (total - 1.0), id, prefix);
        }
    }
    x = clnet__zoo_layer(g, "global_avg_pool", NULL, "avgpool", x, "%s", "");
    x = clnet__zoo_layer(g, "layer_norm", NULL, "classifier_0", x, LN);
    x = clnet__zoo_layer(g, "flatten", NULL, "classifier_1", x, "%s", "");
    return clnet__zoo_layer(g, "dense", NULL, "classifier_2", x, "units = %d", a->classes);
}
