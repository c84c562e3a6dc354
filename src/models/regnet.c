/* regnet.c - torchvision's RegNetY (regnet_y_400mf ... regnet_y_128gf): stage widths, depths
 * and group widths computed from each model's (depth, w_0, w_a, w_m, group_width) as
 * torchvision 0.14's BlockParams.from_init_params does, then ResBottleneckBlocks with
 * squeeze-and-excitation. torch layout only. Dispatched by zoo.c.
 * Tests: tests/models/test_zoo.c. */
#include <math.h>
#include <stdio.h>

#include "models/models.h"

/* torchvision's regnet_y_* arguments, by the zoo's variant; se_ratio is 0.25 in all. */
static const struct regnet_y {
    int depth, w_0;
    double w_a, w_m;
    int group_width;
} regnets[] = {
    {16, 48, 27.89, 2.09, 8},     /* 400mf */
    {14, 56, 38.84, 2.4, 16},     /* 800mf */
    {27, 48, 20.71, 2.65, 24},    /* 1_6gf */
    {21, 80, 42.63, 2.66, 24},    /* 3_2gf */
    {17, 192, 76.82, 2.19, 56},   /* 8gf */
    {18, 200, 106.23, 2.48, 112}, /* 16gf */
    {20, 232, 115.89, 2.53, 232}, /* 32gf */
    {27, 456, 160.83, 2.52, 264}, /* 128gf */
};

enum { MAX_STAGES = 8 };

/* One stage: its output width, blocks, and channels per group of its 3x3s. */
typedef struct stage {
    int width, depth, group_width;
} stage;

/* _make_divisible(v, d) of torchvision (models/_utils.py): the multiple of d nearest v, at
 * least d, rounded up when that loses over 10%. */
static int make_divisible(double v, int d)
{
    int n = (int)(v + d / 2.0) / d * d;
    n = n > d ? n : d;
    return n < 0.9 * v ? n + d : n;
}

/* BlockParams.from_init_params with bottleneck_multiplier 1: block k's width is w_0 * w_m
 * ^ round(log((k * w_a + w_0) / w_0) / log(w_m)) rounded to a multiple of 8; runs of equal
 * widths are the stages; then each group width is capped at its stage's width and the
 * width made a multiple of it. In float32 as torch computes it, rounding half to even as
 * torch.round does (rintf in the default rounding mode). Returns the stage count. */
static int regnet_stages(const struct regnet_y *r, stage *out)
{
    int n = 0;
    for (int k = 0; k < r->depth; ++k) {
        const float cont = (float)k * (float)r->w_a + (float)r->w_0;
        const float capacity = rintf(logf(cont / (float)r->w_0) / (float)log(r->w_m));
        const float width = rintf((float)r->w_0 * powf((float)r->w_m, capacity) / 8.0f) * 8.0f;
        if (n > 0 && out[n - 1].width == (int)width) {
            ++out[n - 1].depth;
            continue;
        }
        if (n == MAX_STAGES)
            break;
        out[n++] = (stage){(int)width, 1, r->group_width};
    }
    for (int i = 0; i < n; ++i) {
        if (out[i].group_width > out[i].width)
            out[i].group_width = out[i].width;
        out[i].width = make_divisible(out[i].width, out[i].group_width);
    }
    return n;
}

static const clnet__zoo_style style = {CLNET__ZOO_BN_TORCH, 0, CLNET__ZOO_PAD_TORCH};

/* Module names of a block (f_a, f_b, f_c and the projection). */
static const char *const names_a[3] = {"_f_a_0", "_f_a_1", "_f_a_2"};
static const char *const names_b[3] = {"_f_b_0", "_f_b_1", "_f_b_2"};
static const char *const names_c[3] = {"_f_c_0", "_f_c_1", NULL};
static const char *const names_proj[3] = {"_proj_0", "_proj_1", NULL};

/* ResBottleneckBlock: 1x1 -> BN -> ReLU, grouped 3x3 stride -> BN -> ReLU, SE squeezing
 * to round(0.25 * the block's input width), 1x1 -> BN; plus x, or its 1x1 stride
 * projection + BN when the width or size changes; ReLU. */
static clnet_layer block(clnet_graph *g, clnet_layer x, const stage *s, int stride,
                         const char *prefix)
{
    const int in = clnet_graph_layer_shape(g, x).c;
    clnet_layer shortcut = x;
    if (in != s->width || stride != 1)
        shortcut = clnet__zoo_conv_bn(g, &style, x, s->width, 1, stride, NULL, prefix, names_proj);
    clnet_layer y = clnet__zoo_conv_bn(g, &style, x, s->width, 1, 1, "relu", prefix, names_a);
    y = clnet__zoo_grouped_conv_bn(g, &style, y, s->width, 3, stride, s->width / s->group_width,
                                   "relu", prefix, names_b);
    char se[72];
    snprintf(se, sizeof se, "%s_f_se", prefix);
    y = clnet__zoo_se(g, y, (int)nearbyint(0.25 * in), "relu", "sigmoid", se);
    y = clnet__zoo_conv_bn(g, &style, y, s->width, 1, 1, NULL, prefix, names_c);
    y = clnet__zoo_add(g, prefix, "_add", shortcut, y);
    return clnet__zoo_layer(g, "relu", prefix, "_activation", y, "%s", "");
}

clnet_layer clnet__regnet(clnet_graph *g, const clnet__zoo_args *a)
{
    static const char *const stem[3] = {"stem_0", "stem_1", "stem_2"};
    stage stages[MAX_STAGES];
    const int n = regnet_stages(&regnets[a->variant], stages);
    clnet_layer x = clnet_graph_input(g, NULL, a->h, a->w, a->c);
    x = clnet__zoo_conv_bn(g, &style, x, 32, 3, 2, "relu", NULL, stem);
    char prefix[64];
    for (int i = 0; i < n; ++i)
        for (int k = 0; k < stages[i].depth; ++k) {
            snprintf(prefix, sizeof prefix, "trunk_output_block%d_block%d-%d", i + 1, i + 1, k);
            x = block(g, x, &stages[i], k == 0 ? 2 : 1, prefix);
        }
    return clnet__zoo_head(g, x, "avgpool", NULL, 0.0, "fc", a->classes);
}
