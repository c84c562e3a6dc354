/* mobilenetv3.c - MobileNetV3 Large and Small exactly as torchvision's mobilenet_v3_large /
 * mobilenet_v3_small build them (width 1.0), and the MBConv block they share with
 * efficientnet.c. Dispatched by zoo.c. Tests: tests/models/test_zoo.c, test_zoo_run.c. */
#include <stdio.h>

#include "models/models.h"

/* torchvision's InvertedResidualConfig rows: input, kernel, expanded, output channels, SE,
 * hard_swish (else ReLU), stride. */
typedef struct bneck {
    int in, kernel, expanded, out, se, hs, stride;
} bneck;

static const bneck large[] = {
    {16, 3, 16, 16, 0, 0, 1},    {16, 3, 64, 24, 0, 0, 2},    {24, 3, 72, 24, 0, 0, 1},
    {24, 5, 72, 40, 1, 0, 2},    {40, 5, 120, 40, 1, 0, 1},   {40, 5, 120, 40, 1, 0, 1},
    {40, 3, 240, 80, 0, 1, 2},   {80, 3, 200, 80, 0, 1, 1},   {80, 3, 184, 80, 0, 1, 1},
    {80, 3, 184, 80, 0, 1, 1},   {80, 3, 480, 112, 1, 1, 1},  {112, 3, 672, 112, 1, 1, 1},
    {112, 5, 672, 160, 1, 1, 2}, {160, 5, 960, 160, 1, 1, 1}, {160, 5, 960, 160, 1, 1, 1},
};

static const bneck small[] = {
    {16, 3, 16, 16, 1, 0, 2},  {16, 3, 72, 24, 0, 0, 2},  {24, 3, 88, 24, 0, 0, 1},
    {24, 5, 96, 40, 1, 1, 2},  {40, 5, 240, 40, 1, 1, 1}, {40, 5, 240, 40, 1, 1, 1},
    {40, 5, 120, 48, 1, 1, 1}, {48, 5, 144, 48, 1, 1, 1}, {48, 5, 288, 96, 1, 1, 2},
    {96, 5, 576, 96, 1, 1, 1}, {96, 5, 576, 96, 1, 1, 1},
};

/* The variants (zoo.c's variant column): the table and the classifier's hidden width
 * (last_channel). */
static const struct {
    const bneck *rows;
    int n, last_channel;
} variants[] = {{large, (int)CLNET_COUNTOF(large), 1280}, {small, (int)CLNET_COUNTOF(small), 1024}};

/* torchvision's BatchNorm2d(eps=0.001, momentum=0.01): Keras's momentum 0.99. */
static const clnet__zoo_style style = {"epsilon = 1e-3\nmomentum = 0.99\nunbiased_variance = true",
                                       0, CLNET__ZOO_PAD_TORCH};

/* Conv2dNormActivation's modules: prefix_0 (conv), _1 (BN), _2 (activation). */
static const char *const seq[3] = {"_0", "_1", "_2"};

clnet_layer clnet__zoo_mbconv(clnet_graph *g, const clnet__zoo_style *st, clnet_layer x,
                              const clnet__mbconv *b, const char *prefix)
{
    const int in = clnet_graph_layer_shape(g, x).c;
    char name[64];
    int i = 0; /* the module index in the block's nn.Sequential: prefix_block_<i> */
    clnet_layer y = x;
    if (b->expanded != in) {
        snprintf(name, sizeof name, "%s_block_%d", prefix, i++);
        y = clnet__zoo_conv_bn(g, st, y, b->expanded, 1, 1, b->act, name, seq);
    }
    snprintf(name, sizeof name, "%s_block_%d", prefix, i++);
    y = clnet__zoo_conv_bn(g, st, y, 0, b->kernel, b->stride, b->act, name, seq);
    if (b->squeeze > 0) {
        snprintf(name, sizeof name, "%s_block_%d", prefix, i++);
        y = clnet__zoo_se(g, y, b->squeeze, b->se_act, b->se_gate, name);
    }
    snprintf(name, sizeof name, "%s_block_%d", prefix, i);
    y = clnet__zoo_conv_bn(g, st, y, b->out, 1, 1, NULL, name, seq);
    if (b->stride != 1 || in != b->out)
        return y;
    if (b->drop > 0.0)
        y = clnet__zoo_layer(g, "stochastic_depth", prefix, "_stochastic_depth", y,
                             "rate = %.9g\nseed = %d", b->drop, b->seed);
    return clnet__zoo_add(g, prefix, "_add", y, x);
}

clnet_layer clnet__mobilenetv3(clnet_graph *g, const clnet__zoo_args *a)
{
    const bneck *rows = variants[a->variant].rows;
    const int n = variants[a->variant].n;
    char prefix[32];
    clnet_layer x = clnet_graph_input(g, NULL, a->h, a->w, a->c);
    x = clnet__zoo_conv_bn(g, &style, x, rows[0].in, 3, 2, "hard_swish", "features_0", seq);
    for (int i = 0; i < n; ++i) {
        const bneck *r = &rows[i];
        const char *act = r->hs ? "hard_swish" : "relu";
        /* SqueezeExcitation(expanded, _make_divisible(expanded // 4, 8)), its scale
         * activation nn.Hardsigmoid: relu6(x + 3) / 6, the table's hard_sigmoid. */
        const clnet__mbconv b = {r->expanded, r->out,
                                 r->kernel,   r->stride,
                                 act,         r->se ? clnet__zoo_round8(r->expanded / 4) : 0,
                                 "relu",      "hard_sigmoid",
                                 0.0,         0};
        snprintf(prefix, sizeof prefix, "features_%d", i + 1);
        x = clnet__zoo_mbconv(g, &style, x, &b, prefix);
    }
    snprintf(prefix, sizeof prefix, "features_%d", n + 1);
    x = clnet__zoo_conv_bn(g, &style, x, 6 * rows[n - 1].out, 1, 1, "hard_swish", prefix, seq);
    /* classifier: Linear(last_channel), Hardswish, Dropout(0.2), Linear(classes). */
    x = clnet__zoo_head(g, x, "avgpool", NULL, 0.0, "classifier_0",
                        variants[a->variant].last_channel);
    x = clnet__zoo_act(g, "hard_swish", "classifier_1", NULL, x);
    x = clnet__zoo_layer(g, "dropout", "classifier_2", NULL, x, "rate = %g", 0.2);
    return clnet__zoo_layer(g, "dense", "classifier_3", NULL, x, "units = %d", a->classes);
}
