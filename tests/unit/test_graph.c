/* test_graph.c - building graphs (src/graph/graph.c): shapes inferred as layers are
 * added, Keras's parameter counts, sticky errors that name the layer, and the
 * summary table. No device needed. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "clnet.h"

/* A Keras-tutorial block is an ordinary C function taking and returning a layer. */
static clnet_layer conv_bn(clnet_graph *g, clnet_layer x, int filters, int k, int stride,
                           const char *padding, int relu)
{
    char p[160];
    snprintf(p, sizeof p, "filters = %d\nkernel_size = %d\nstrides = %d\npadding = %s", filters, k,
             stride, padding);
    x = clnet_graph_layer(g, "conv2d", NULL, p, &x, 1);
    x = clnet_graph_layer(g, "batch_norm", NULL, "epsilon = 1.001e-5", &x, 1);
    return relu ? clnet_graph_layer(g, "relu", NULL, "", &x, 1) : x;
}

/* Keras ResNet-50 bottleneck: the stride on the first 1x1, a projection shortcut on
 * the first block of a stage. */
static clnet_layer bottleneck(clnet_graph *g, clnet_layer x, int width, int stride, int project)
{
    clnet_layer shortcut = x;
    clnet_layer y = conv_bn(g, x, width, 1, stride, "valid", 1);
    y = conv_bn(g, y, width, 3, 1, "same", 1);
    y = conv_bn(g, y, 4 * width, 1, 1, "valid", 0);
    if (project)
        shortcut = conv_bn(g, x, 4 * width, 1, stride, "valid", 0);
    const clnet_layer both[2] = {y, shortcut};
    return clnet_graph_layer(g, "add", NULL, "activation = relu", both, 2);
}

static clnet_graph *keras_resnet50(int h, int w, int c, int classes)
{
    static const struct {
        int width, blocks, stride;
    } stages[] = {{64, 3, 1}, {128, 4, 2}, {256, 6, 2}, {512, 3, 2}};
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_create(&g), CLNET_OK);
    clnet_layer x = clnet_graph_input(g, NULL, h, w, c);
    x = clnet_graph_layer(g, "zero_pad", NULL, "padding = 3", &x, 1);
    x = conv_bn(g, x, 64, 7, 2, "valid", 1);
    x = clnet_graph_layer(g, "max_pool", NULL, "pool_size = 3\nstrides = 2", &x, 1);
    for (size_t s = 0; s < sizeof stages / sizeof stages[0]; ++s)
        for (int b = 0; b < stages[s].blocks; ++b)
            x = bottleneck(g, x, stages[s].width, b == 0 ? stages[s].stride : 1, b == 0);
    x = clnet_graph_layer(g, "avg_pool", NULL, "pool_size = 2", &x, 1);
    x = clnet_graph_layer(g, "flatten", NULL, "", &x, 1);
    char p[32];
    snprintf(p, sizeof p, "units = %d", classes);
    x = clnet_graph_layer(g, "dense", "fc", p, &x, 1);
    clnet_graph_layer(g, "softmax", NULL, "", &x, 1);
    cr_assert_eq(clnet_graph_status(g), CLNET_OK, "%s", clnet_graph_error(g));
    return g;
}

Test(graph, keras_resnet50_counts_match_keras)
{
    clnet_graph *g = keras_resnet50(64, 64, 3, 6);
    const clnet_param_counts c = clnet_graph_params(g);
    cr_expect_eq(c.total, 23600006, "total %lld", (long long)c.total);
    cr_expect_eq(c.trainable, 23546886, "trainable %lld", (long long)c.trainable);
    cr_expect_eq(c.non_trainable, 53120, "non-trainable %lld", (long long)c.non_trainable);
    /* The spatial sizes of the tutorial: 32 (conv1), 15 (pool), 15, 8, 4, 2, then 1. */
    const struct {
        const char *layer;
        int size;
    } sizes[] = {{"conv2d", 32}, {"max_pool", 15}, {"add_2", 15},  {"add_6", 8},
                 {"add_12", 4},  {"add_15", 2},    {"avg_pool", 1}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; ++i) {
        clnet_layer l = clnet_graph_find(g, sizes[i].layer);
        cr_assert_neq(l, CLNET_LAYER_NONE, "no layer %s", sizes[i].layer);
        cr_expect_eq(clnet_graph_layer_shape(g, l).h, sizes[i].size, "%s: %d", sizes[i].layer,
                     clnet_graph_layer_shape(g, l).h);
    }
    clnet_shape fc = clnet_graph_layer_shape(g, clnet_graph_find(g, "fc"));
    cr_expect(fc.h == 1 && fc.w == 1 && fc.c == 6);
    clnet_graph_destroy(g);
}

Test(graph, small_convnet_counts_and_summary)
{
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_create(&g), CLNET_OK);
    clnet_layer x = clnet_graph_input(g, "image", 64, 64, 3);
    x = clnet_graph_layer(g, "conv2d", NULL, "filters = 32\nkernel_size = 3", &x, 1);
    x = clnet_graph_layer(g, "batch_norm", NULL, "", &x, 1);
    x = clnet_graph_layer(g, "relu", NULL, "", &x, 1);
    x = clnet_graph_layer(g, "max_pool", NULL, "", &x, 1);
    x = clnet_graph_layer(g, "flatten", NULL, "", &x, 1);
    x = clnet_graph_layer(g, "dense", "logits", "units = 6", &x, 1);
    cr_assert_eq(clnet_graph_status(g), CLNET_OK, "%s", clnet_graph_error(g));
    cr_assert_eq(clnet_graph_layer_count(g), 7);
    /* conv 3*3*3*32 + 32; BN 4 * 32 (half non-trainable); dense 31*31*32*6 + 6. */
    const clnet_param_counts c = clnet_graph_params(g);
    cr_expect_eq(c.total, 896 + 128 + 184518);
    cr_expect_eq(c.non_trainable, 64);
    cr_expect_eq(clnet_graph_layer_shape(g, clnet_graph_find(g, "flatten")).c, 31 * 31 * 32);
    cr_expect_str_eq(clnet_graph_layer_name(g, x), "logits");
    /* conv: 62*62 outputs x 32 filters x 27 taps; dense: 30752 x 6. */
    cr_expect_gt(clnet_graph_flops(g), 62.0 * 62 * 32 * 27 + 30752.0 * 6 - 1);
    char *text = NULL;
    cr_assert_eq(clnet_graph_summary(g, "convnet", &text), CLNET_OK);
    cr_expect(strstr(text, "Model: \"convnet\""), "%s", text);
    cr_expect(strstr(text, "image (InputLayer)"), "%s", text);
    cr_expect(strstr(text, "conv2d (Conv2D)") && strstr(text, "(None, 62, 62, 32)"), "%s", text);
    cr_expect(strstr(text, "flatten (Flatten)") && strstr(text, "(None, 30752)"), "%s", text);
    cr_expect(strstr(text, "logits (Dense)") && strstr(text, "184,518"), "%s", text);
    cr_expect(strstr(text, "'flatten'"), "connected to: %s", text);
    cr_expect(strstr(text, "Total params: 185,542\n"), "%s", text);
    cr_expect(strstr(text, "Trainable params: 185,478\n"), "%s", text);
    cr_expect(strstr(text, "Non-trainable params: 64\n"), "%s", text);
    clnet_free(text);
    clnet_graph_destroy(g);
}

Test(graph, errors_name_the_layer_and_stick)
{
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_create(&g), CLNET_OK);
    clnet_layer x = clnet_graph_input(g, NULL, 8, 8, 3);
    cr_expect_str_eq(clnet_graph_layer_name(g, x), "input_1");
    clnet_layer a = clnet_graph_layer(g, "conv2d", "a", "filters = 4\nkernel_size = 3", &x, 1);
    const clnet_layer both[2] = {a, x}; /* 6x6x4 and 8x8x3 */
    clnet_layer bad = clnet_graph_layer(g, "add", "join", "", both, 2);
    cr_expect_eq(bad, CLNET_LAYER_NONE);
    cr_expect_eq(clnet_graph_status(g), CLNET_ERR_SHAPE);
    const char *msg = clnet_graph_error(g);
    cr_expect(strstr(msg, "join") && strstr(msg, "1x6x6x4") && strstr(msg, "1x8x8x3"), "%s", msg);
    /* Later calls fail quietly and keep the first message. */
    cr_expect_eq(clnet_graph_layer(g, "relu", NULL, "", &bad, 1), CLNET_LAYER_NONE);
    cr_expect_eq(clnet_graph_layer(g, "relu", NULL, "", &x, 1), CLNET_LAYER_NONE);
    cr_expect(strstr(clnet_graph_error(g), "join"), "%s", clnet_graph_error(g));
    clnet_graph_destroy(g);
}

static void expect_error(const char *op, const char *name, const char *params, clnet_status want,
                         const char *needle)
{
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_create(&g), CLNET_OK);
    clnet_layer x = clnet_graph_input(g, NULL, 8, 8, 3);
    clnet_graph_layer(g, "relu", "r", "", &x, 1);
    cr_expect_eq(clnet_graph_layer(g, op, name, params, &x, 1), CLNET_LAYER_NONE);
    cr_expect_eq(clnet_graph_status(g), want, "%s: %s", op, clnet_graph_error(g));
    cr_expect(strstr(clnet_graph_error(g), needle), "%s: '%s' not in: %s", op, needle,
              clnet_graph_error(g));
    clnet_graph_destroy(g);
}

Test(graph, bad_layers_are_clear_errors)
{
    expect_error("conv3d", "c", "", CLNET_ERR_UNKNOWN_OP, "conv3d");
    expect_error("conv2d", "c", "kernel_size = 3", CLNET_ERR_PARSE, "filters");
    expect_error("conv2d", "c", "filters = 2\nkernel_size = 3\nbogus = 1", CLNET_ERR_PARSE,
                 "layer 'c' (conv2d)");
    expect_error("conv2d", "c", "filters = 2\nkernel_size = 9", CLNET_ERR_SHAPE, "layer 'c'");
    expect_error("relu", "r", "", CLNET_ERR_INVALID_ARG, "used twice");
    expect_error("add", "a", "", CLNET_ERR_INVALID_ARG, "2 to 8 inputs");
}

Test(graph, automatic_names_follow_keras)
{
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_create(&g), CLNET_OK);
    clnet_layer x = clnet_graph_input(g, NULL, 4, 4, 2);
    clnet_layer a = clnet_graph_layer(g, "relu", NULL, "", &x, 1);
    clnet_layer b = clnet_graph_layer(g, "relu", NULL, "", &a, 1);
    clnet_layer i2 = clnet_graph_input(g, NULL, 4, 4, 2);
    cr_expect_str_eq(clnet_graph_layer_name(g, a), "relu");
    cr_expect_str_eq(clnet_graph_layer_name(g, b), "relu_1");
    cr_expect_str_eq(clnet_graph_layer_name(g, i2), "input_2");
    cr_expect_eq(clnet_graph_find(g, "relu_1"), b);
    cr_expect_eq(clnet_graph_find(g, "nope"), CLNET_LAYER_NONE);
    cr_expect_null(clnet_graph_layer_name(g, 99));
    clnet_graph_destroy(g);
    clnet_graph_destroy(NULL);
}

/* A graph holds at most CLNET_MAX_LAYERS layers, so a spec (a model file's header may be
 * 100 MB) cannot make clnet build millions of them; unnamed layers up to the limit get
 * their Keras names in one pass each (probing name after name cost n^3 compares). */
Test(graph, layers_are_limited_and_auto_names_stay_cheap, .timeout = 120)
{
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_create(&g), CLNET_OK);
    clnet_layer x = clnet_graph_input(g, NULL, 2, 2, 1);
    for (int i = 1; i < CLNET_MAX_LAYERS; ++i)
        x = clnet_graph_layer(g, "relu", NULL, "", &x, 1);
    cr_assert_eq(clnet_graph_status(g), CLNET_OK, "%s", clnet_graph_error(g));
    cr_assert_eq(clnet_graph_layer_count(g), CLNET_MAX_LAYERS);
    cr_expect_str_eq(clnet_graph_layer_name(g, 1), "relu");
    cr_expect_str_eq(clnet_graph_layer_name(g, CLNET_MAX_LAYERS - 1), "relu_16382");
    cr_expect_eq(clnet_graph_layer(g, "relu", NULL, "", &x, 1), CLNET_LAYER_NONE);
    cr_expect_eq(clnet_graph_status(g), CLNET_ERR_TOO_LARGE);
    cr_expect(strstr(clnet_graph_error(g), "at most 16384 layers"), "%s", clnet_graph_error(g));
    clnet_graph_destroy(g);

    /* Names a user gave in between are skipped, the smallest free suffix is taken. */
    cr_assert_eq(clnet_graph_create(&g), CLNET_OK);
    x = clnet_graph_input(g, NULL, 2, 2, 1);
    x = clnet_graph_layer(g, "relu", "relu_2", "", &x, 1);
    x = clnet_graph_layer(g, "relu", NULL, "", &x, 1);
    x = clnet_graph_layer(g, "relu", NULL, "", &x, 1);
    const clnet_layer y = clnet_graph_layer(g, "relu", NULL, "", &x, 1);
    cr_expect_str_eq(clnet_graph_layer_name(g, x), "relu_1");
    cr_expect_str_eq(clnet_graph_layer_name(g, y), "relu_3");
    clnet_graph_destroy(g);
}
