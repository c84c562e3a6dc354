/* test_zoo.c - the zoo (src/models/): every model's parameter counts against Keras's and
 * torchvision's own, shapes and names, options and their errors, spec round trips of every
 * model, and the shipped samples/models/ specs. No device needed. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clnet.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static clnet_graph *build(const char *name, const clnet_zoo_options *opt)
{
    char err[512] = "";
    clnet_graph *g = NULL;
    const clnet_status st = clnet_zoo_build(name, opt, &g, err, sizeof err);
    cr_assert_eq(st, CLNET_OK, "%s: %s: %s", name, clnet_status_string(st), err);
    cr_assert_not_null(g);
    return g;
}

static void expect_counts(const clnet_graph *g, const char *what, long long total,
                          long long trainable, long long non_trainable)
{
    const clnet_param_counts c = clnet_graph_params(g);
    if (total >= 0)
        cr_expect_eq(c.total, total, "%s: total %lld, want %lld", what, (long long)c.total, total);
    cr_expect_eq(c.trainable, trainable, "%s: trainable %lld, want %lld", what,
                 (long long)c.trainable, trainable);
    cr_expect_eq(c.non_trainable, non_trainable, "%s: non-trainable %lld, want %lld", what,
                 (long long)c.non_trainable, non_trainable);
}

static void expect_size(const clnet_graph *g, const char *layer, int h, int w, int c)
{
    const clnet_layer l = clnet_graph_find(g, layer);
    cr_assert_neq(l, CLNET_LAYER_NONE, "no layer %s", layer);
    const clnet_shape s = clnet_graph_layer_shape(g, l);
    cr_expect(s.h == h && s.w == w && (c == 0 || s.c == c), "%s: %dx%dx%d, want %dx%dx%d", layer,
              s.h, s.w, s.c, h, w, c);
}

/* The Keras ResNet-50 of the tutorials: the counts model.summary() prints. */
Test(zoo, keras_resnet50_matches_the_tutorial)
{
    const clnet_zoo_options opt = {64, 64, 3, 6, "keras", 0.0, 0};
    clnet_graph *g = build("resnet50", &opt);
    expect_counts(g, "keras resnet50", 23600006, 23546886, 53120);
    /* 32 (conv1), 15 (pool), 15, 8, 4, 2, then 1 after the average pool. */
    expect_size(g, "conv1_conv", 32, 32, 64);
    expect_size(g, "pool1_pool", 15, 15, 64);
    expect_size(g, "conv2_block3_out", 15, 15, 256);
    expect_size(g, "conv3_block4_out", 8, 8, 512);
    expect_size(g, "conv4_block6_out", 4, 4, 1024);
    expect_size(g, "conv5_block3_out", 2, 2, 2048);
    expect_size(g, "avg_pool", 1, 1, 2048);
    const int last = clnet_graph_layer_count(g) - 1;
    cr_expect_str_eq(clnet_graph_layer_name(g, last), "predictions");
    expect_size(g, "predictions", 1, 1, 6);
    clnet_graph_destroy(g);
}

/* keras.applications.MobileNetV2(alpha=1.0) with its top, as model.summary() counts it. */
Test(zoo, keras_mobilenetv2_matches_keras)
{
    const clnet_zoo_options opt = {0, 0, 0, 0, "keras", 1.0, 0};
    clnet_graph *g = build("mobilenetv2", &opt);
    expect_counts(g, "keras mobilenetv2", 3538984, 3504872, 34112);
    expect_size(g, "block_1_depthwise", 56, 56, 96); /* 'same' stride 2 */
    expect_size(g, "out_relu", 7, 7, 1280);
    cr_expect_str_eq(clnet_graph_layer_name(g, clnet_graph_layer_count(g) - 1), "predictions");
    clnet_graph_destroy(g);
}

/* torchvision 0.14.1 (Debian's python3-torchvision), 224x224x3 and 1000 classes:
 * trainable = sum(p.numel() for p in m.parameters()), non-trainable = the BN running
 * means and variances, sum(b.numel() for n, b in m.named_buffers() if "num_batches" not in
 * n), printed by
 *   /usr/bin/python3 -c 'import torchvision.models as M; m = M.resnet18();
 *                        print(sum(p.numel() for p in m.parameters()))'
 * with M.resnet34() ... M.mnasnet1_3(), M.mobilenet_v3_large(), M.efficientnet_b0() ...,
 * M.squeezenet1_1(), M.densenet121(), M.shufflenet_v2_x1_0(), M.shufflenet_v2_x0_5(),
 * M.resnext50_32x4d() ... M.regnet_y_128gf(), M.convnext_tiny() ... M.convnext_large() and
 * M.mobilenet_v2(width_mult=a) for resnet18(). */
static const struct torch_count {
    const char *name;
    double alpha;
    long long trainable, non_trainable;
} torch_counts[] = {
    {"resnet18", 0.0, 11689512, 9600},
    {"resnet34", 0.0, 21797672, 17024},
    {"resnet50", 0.0, 25557032, 53120},
    {"resnet101", 0.0, 44549160, 105344},
    {"resnet152", 0.0, 60192808, 151424},
    {"mobilenetv2", 0.35, 1677128, 14080},
    {"mobilenetv2", 0.5, 1968680, 18544},
    {"mobilenetv2", 0.75, 2636424, 26640},
    {"mobilenetv2", 1.0, 3504872, 34112},
    {"mobilenetv2", 1.3, 5386792, 44256},
    {"mobilenetv2", 1.4, 6108776, 47936},
    {"mnasnet", 0.5, 2218512, 20624},
    {"mnasnet", 0.75, 3170208, 29808},
    {"mnasnet", 1.0, 4383312, 37920},
    {"mnasnet", 1.3, 6282256, 48816},
    {"mobilenetv3_large", 0.0, 5483032, 24400},
    {"mobilenetv3_small", 0.0, 2542856, 12112},
    {"efficientnet_b0", 0.0, 5288548, 42016},
    {"efficientnet_b1", 0.0, 7794184, 62048},
    {"efficientnet_b2", 0.0, 9109994, 67568},
    {"efficientnet_b3", 0.0, 12233232, 87296},
    {"mnasnet", 1.3, 6282256, 48816},
    {"squeezenet1_1", 0.0, 1235496, 0},
    {"densenet121", 0.0, 7978856, 83648},
    {"shufflenet_v2_x1_0", 0.0, 2278604, 16180},
    {"shufflenet_v2_x0_5", 0.0, 1366792, 7952},
    {"resnext50_32x4d", 0.0, 25028904, 68224},
    {"resnext101_32x8d", 0.0, 88791336, 202880},
    {"resnext101_64x4d", 0.0, 83455272, 202880},
    {"regnet_y_400mf", 0.0, 4344144, 27152},
    {"regnet_y_800mf", 0.0, 6432512, 30432},
    {"regnet_y_1_6gf", 0.0, 11202430, 52672},
    {"regnet_y_3_2gf", 0.0, 19436338, 66160},
    {"regnet_y_8gf", 0.0, 39381472, 86528},
    {"regnet_y_16gf", 0.0, 83590140, 122816},
    {"regnet_y_32gf", 0.0, 145046770, 158288},
    {"regnet_y_128gf", 0.0, 644812894, 415072},
    {"convnext_tiny", 0.0, 28589128, 0},
    {"convnext_small", 0.0, 50223688, 0},
    {"convnext_base", 0.0, 88591464, 0},
    {"convnext_large", 0.0, 197767336, 0},
};

Test(zoo, torch_style_matches_torchvision)
{
    for (size_t i = 0; i < COUNT(torch_counts); ++i) {
        const struct torch_count *t = &torch_counts[i];
        const clnet_zoo_options opt = {224, 224, 3, 1000, "torch", t->alpha, 0};
        clnet_graph *g = build(t->name, &opt);
        char what[64];
        snprintf(what, sizeof what, "%s alpha %g", t->name, t->alpha);
        expect_counts(g, what, -1, t->trainable, t->non_trainable);
        clnet_graph_destroy(g);
    }
}

/* Names a torchvision or Keras user recognizes; the logits come last. */
Test(zoo, layers_carry_the_source_models_names)
{
    static const struct {
        const char *model, *style, *names[6];
    } cases[] = {
        {"resnet50",
         "torch",
         {"conv1", "maxpool", "layer1_0_downsample_0", "layer4_2_bn3", "avgpool", "fc"}},
        {"resnet18",
         "torch",
         {"bn1", "layer1_1_relu", "layer2_0_downsample_1", "layer4_1_conv2", "layer4_1_add", "fc"}},
        {"resnet101",
         "keras",
         {"conv1_pad", "conv2_block1_0_conv", "conv4_block23_3_bn", "avg_pool", "flatten",
          "predictions"}},
        {"mobilenetv2",
         "torch",
         {"features_0_0", "features_1_conv_2", "features_17_conv_3", "features_18_2",
          "classifier_0", "classifier_1"}},
        {"mobilenetv2",
         "keras",
         {"Conv1_relu", "expanded_conv_project_BN", "block_2_add", "block_16_project", "out_relu",
          "predictions"}},
        {"mnasnet",
         "torch",
         {"layers_0", "layers_7", "layers_8_1_add", "layers_13_0_layers_7", "layers_16",
          "classifier_1"}},
        {"mobilenetv3_large",
         "torch",
         {"features_1_block_0_0", "features_2_block_0_2", "features_4_block_2_fc2",
          "features_15_block_2_scale_activation", "classifier_1", "classifier_3"}},
        {"mobilenetv3_small",
         "torch",
         {"features_0_2", "features_1_block_1_fc1", "features_11_add", "features_12_0",
          "classifier_2", "classifier_3"}},
        {"efficientnet_b0",
         "torch",
         {"features_1_0_block_1_avgpool", "features_2_1_stochastic_depth", "features_7_0_block_3_1",
          "features_8_2", "classifier_0", "classifier_1"}},
        {"efficientnet_b3",
         "torch",
         {"features_1_1_block_0_0", "features_1_1_add", "features_6_5_block_2_activation",
          "features_7_1_block_3_0", "avgpool", "classifier_1"}},
        {"squeezenet1_1",
         "torch",
         {"features_0", "features_2", "features_3_expand3x3_activation", "features_12_cat",
          "classifier_1", "classifier_3"}},
        {"densenet121",
         "torch",
         {"features_pool0", "features_denseblock1_denselayer1_norm1",
          "features_denseblock3_denselayer24_conv2", "features_transition3_pool", "features_norm5",
          "classifier"}},
        {"shufflenet_v2_x1_0",
         "torch",
         {"conv1_2", "stage2_0_branch1_4", "stage3_7_branch2_7", "stage4_3_shuffle", "conv5_1",
          "fc"}},
        {"shufflenet_v2_x0_5",
         "torch",
         {"maxpool", "stage2_1_chunk_0", "stage2_1_chunk_1", "stage4_0_branch1_0", "globalpool",
          "fc"}},
        {"resnext50_32x4d",
         "torch",
         {"layer1_0_conv2", "layer1_0_downsample_1", "layer3_5_bn2", "layer4_2_relu", "avgpool",
          "fc"}},
        {"regnet_y_400mf",
         "torch",
         {"stem_2", "trunk_output_block1_block1-0_proj_1", "trunk_output_block2_block2-2_f_se_fc1",
          "trunk_output_block3_block3-5_f_b_0", "trunk_output_block4_block4-5_activation", "fc"}},
        {"convnext_tiny",
         "torch",
         {"features_0_1", "features_1_0_block_4", "features_2_1", "features_5_8_layer_scale",
          "features_7_2_stochastic_depth", "classifier_2"}},
    };
    for (size_t i = 0; i < COUNT(cases); ++i) {
        const clnet_zoo_options opt = {0, 0, 0, 0, cases[i].style, 0.0, 0};
        clnet_graph *g = build(cases[i].model, &opt);
        for (size_t k = 0; k < 6; ++k)
            cr_expect_neq(clnet_graph_find(g, cases[i].names[k]), CLNET_LAYER_NONE,
                          "%s %s: no layer %s", cases[i].model, cases[i].style, cases[i].names[k]);
        cr_expect_str_eq(clnet_graph_layer_name(g, clnet_graph_layer_count(g) - 1),
                         cases[i].names[5]);
        clnet_graph_destroy(g);
    }
}

/* Option A drops exactly the projections: in * out weights (+ out biases in Keras) and
 * 4 * out BN values (2 * out trainable) per projected stage. */
Test(zoo, option_a_has_no_projection_parameters)
{
    static const struct {
        const char *name;
        int bottleneck;
    } nets[] = {
        {"resnet18", 0}, {"resnet34", 0}, {"resnet50", 1}, {"resnet101", 1}, {"resnet152", 1}};
    for (size_t i = 0; i < COUNT(nets); ++i)
        for (int keras = 0; keras < 2; ++keras) {
            clnet_zoo_options opt = {0, 0, 0, 0, keras ? "keras" : "torch", 0.0, 0};
            clnet_graph *b = build(nets[i].name, &opt);
            opt.shortcut_a = 1;
            clnet_graph *a = build(nets[i].name, &opt);
            long long total = 0, trainable = 0;
            for (int s = 0; s < 4; ++s) {
                const int mult = nets[i].bottleneck ? 4 : 1, out = (64 << s) * mult;
                const int in = s == 0 ? 64 : (64 << (s - 1)) * mult;
                if (in == out && s == 0)
                    continue; /* resnet18/34 stage 1: identity in both */
                total += (long long)in * out + (keras ? out : 0) + 4 * out;
                trainable += (long long)in * out + (keras ? out : 0) + 2 * out;
            }
            const clnet_param_counts pa = clnet_graph_params(a), pb = clnet_graph_params(b);
            cr_expect_eq(pb.total - pa.total, total, "%s %s: %lld fewer, want %lld", nets[i].name,
                         opt.style, (long long)(pb.total - pa.total), total);
            cr_expect_eq(pb.trainable - pa.trainable, trainable, "%s %s", nets[i].name, opt.style);
            const char *pad = keras ? "conv3_block1_shortcut" : "layer2_0_shortcut";
            cr_expect_neq(clnet_graph_find(a, pad), CLNET_LAYER_NONE, "%s", pad);
            cr_expect_eq(clnet_graph_layer_count(a) < clnet_graph_layer_count(b), 1);
            clnet_graph_destroy(a);
            clnet_graph_destroy(b);
        }
}

/* Whether the zoo builds name in Keras's layout too. */
static int has_keras(const char *name)
{
    return strncmp(name, "resnet", 6) == 0 || strcmp(name, "mobilenetv2") == 0;
}

/* Whether name takes a width multiplier (alpha). */
static int has_alpha(const char *name)
{
    return strcmp(name, "mobilenetv2") == 0 || strcmp(name, "mnasnet") == 0;
}

/* Every model, style and width at small and odd inputs: 32x32x1 down to 1x1 without a
 * shape error, and the logits have the requested classes. */
Test(zoo, every_model_builds_at_other_sizes)
{
    static const double alphas[] = {0.0, 0.35, 0.5, 0.75, 1.3, 1.4};
    static const int sizes[][4] = {{32, 32, 1, 10}, {33, 47, 3, 7}, {64, 64, 3, 6}};
    for (const char *const *name = clnet_zoo_names(); *name; ++name)
        for (int keras = 0; keras < 2; ++keras)
            for (size_t a = 0; a < COUNT(alphas); ++a)
                for (size_t s = 0; s < COUNT(sizes); ++s) {
                    const int mnasnet = strcmp(*name, "mnasnet") == 0;
                    if ((keras && !has_keras(*name)) || (a > 0 && !has_alpha(*name)) ||
                        (mnasnet && (alphas[a] == 0.35 || alphas[a] == 1.4)))
                        continue;
                    const clnet_zoo_options opt = {sizes[s][0],
                                                   sizes[s][1],
                                                   sizes[s][2],
                                                   sizes[s][3],
                                                   keras ? "keras" : "torch",
                                                   alphas[a],
                                                   0};
                    clnet_graph *g = build(*name, &opt);
                    const clnet_shape out =
                        clnet_graph_layer_shape(g, clnet_graph_layer_count(g) - 1);
                    cr_expect(out.h == 1 && out.w == 1 && out.c == sizes[s][3],
                              "%s %s alpha %g %dx%d: logits %dx%dx%d", *name, opt.style, alphas[a],
                              sizes[s][0], sizes[s][1], out.h, out.w, out.c);
                    clnet_graph_destroy(g);
                }
}

static void expect_refused(const char *name, clnet_zoo_options opt, const char *needle)
{
    char err[1024] = ""; /* the unknown-model message lists every zoo name */
    clnet_graph *g = (clnet_graph *)&err; /* must come back NULL */
    cr_expect_eq(clnet_zoo_build(name, &opt, &g, err, sizeof err), CLNET_ERR_INVALID_ARG,
                 "%s: accepted", name ? name : "(null)");
    cr_expect_null(g);
    cr_expect(strstr(err, needle), "'%s' not in: %s", needle, err);
}

Test(zoo, bad_options_are_named)
{
    const clnet_zoo_options d = {0, 0, 0, 0, NULL, 0.0, 0};
    expect_refused("nosuchnet", d,
                   "'nosuchnet'; the zoo has resnet18, resnet34, resnet50, resnet101, resnet152, "
                   "mobilenetv2, mnasnet, mobilenetv3_large, mobilenetv3_small, efficientnet_b0, "
                   "efficientnet_b1, efficientnet_b2, efficientnet_b3, squeezenet1_1, "
                   "densenet121, shufflenet_v2_x0_5, shufflenet_v2_x1_0, resnext50_32x4d, "
                   "resnext101_32x8d, resnext101_64x4d, regnet_y_400mf, regnet_y_800mf, "
                   "regnet_y_1_6gf, regnet_y_3_2gf, regnet_y_8gf, regnet_y_16gf, regnet_y_32gf, "
                   "regnet_y_128gf, convnext_tiny, convnext_small, convnext_base, convnext_large");

    expect_refused(NULL, d, "unknown model");
    expect_refused("mobilenetv2", (clnet_zoo_options){0, 0, 0, 0, NULL, 0.6, 0},
                   "alpha 0.6 is not one of 0.35, 0.5, 0.75, 1, 1.3, 1.4");
    expect_refused("mnasnet", (clnet_zoo_options){0, 0, 0, 0, NULL, 1.4, 0},
                   "not one of 0.5, 0.75, 1, 1.3");
    expect_refused("resnet50", (clnet_zoo_options){0, 0, 0, 0, NULL, 0.5, 0},
                   "resnet50 has no width multiplier");
    /* Keras' valid 7x7 stem and 3x3 pool leave nothing of 4x4; the error names where. */
    char err[512] = "";
    clnet_graph *g = NULL;
    const clnet_zoo_options tiny = {4, 4, 3, 0, "keras", 0.0, 0};
    cr_expect_eq(clnet_zoo_build("resnet18", &tiny, &g, err, sizeof err), CLNET_ERR_SHAPE);
    cr_expect_null(g);
    cr_expect(strstr(err, "layer 'pool1_pool' (max_pool): max_pool: input 1x2x2x64 is too small"),
              "%s", err);
    expect_refused("mnasnet", (clnet_zoo_options){224, -31, 3, 0, NULL, 0.0, 0},
                   "input 224x-31x3: height and width must be positive");
    expect_refused("mobilenetv2", (clnet_zoo_options){64, 64, 2, 0, NULL, 0.0, 0},
                   "channels must be 1 or 3, got 2");
    expect_refused("resnet34", (clnet_zoo_options){0, 0, 0, -3, NULL, 0.0, 0},
                   "classes must be at least 1, got -3");
    expect_refused("resnet34", (clnet_zoo_options){0, 0, 0, 0, "caffe", 0.0, 0},
                   "unknown style 'caffe'");
    expect_refused("mnasnet", (clnet_zoo_options){0, 0, 0, 0, "keras", 0.0, 0},
                   "mnasnet has only the torch style");
    expect_refused("resnext50_32x4d", (clnet_zoo_options){0, 0, 0, 0, "keras", 0.0, 0},
                   "resnext50_32x4d has only the torch style");
    expect_refused("mobilenetv2", (clnet_zoo_options){0, 0, 0, 0, NULL, 0.0, 1}, "ResNets only");
    cr_expect_eq(clnet_zoo_build("resnet18", NULL, NULL, NULL, 0), CLNET_ERR_INVALID_ARG);
}

Test(zoo, names_match_in_any_case_and_spelling)
{
    static const char *const pairs[][2] = {
        {"ResNet50", "resnet50"},
        {"resnet-50", "resnet50"},
        {"RESNET_18", "resnet18"},
        {"MobileNet_V2", "mobilenetv2"},
        {"mobilenet-v2", "mobilenetv2"},
        {"MNASNet", "mnasnet"},
        {"ResNet 152", "resnet152"},
        {"MobileNet-V3 Large", "mobilenetv3_large"},
        {"mobilenet_v3_small", "mobilenetv3_small"},
        {"EfficientNet-B3", "efficientnet_b3"},
        {"SqueezeNet1_1", "squeezenet1_1"},
        {"DenseNet-121", "densenet121"},
        {"ShuffleNetV2 x1.0", "shufflenet_v2_x1_0"},
        {"shufflenet_v2_x0.5", "shufflenet_v2_x0_5"},
        {"ResNeXt-50 32x4d", "resnext50_32x4d"},
        {"RegNetY1.6GF", "regnet_y_1_6gf"},
        {"regnet-y-16gf", "regnet_y_16gf"},
        {"RegNetY 3.2GF", "regnet_y_3_2gf"},
        {"RegNet_Y_32GF", "regnet_y_32gf"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; ++i) {
        const char *name = clnet_zoo_name(pairs[i][0]);
        cr_expect(name && strcmp(name, pairs[i][1]) == 0, "%s gave %s", pairs[i][0],
                  name ? name : "NULL");
    }
    cr_expect_null(clnet_zoo_name("resnet51"));
    cr_expect_null(clnet_zoo_name("vgg16"));
    cr_expect_null(clnet_zoo_name(NULL));
    /* The builder takes them too, and builds what the zoo's own name builds. */
    const clnet_zoo_options small = {32, 32, 3, 10, NULL, 0.0, 0};
    clnet_graph *a = NULL, *b = NULL;
    char err[256] = "";
    cr_assert_eq(clnet_zoo_build("MobileNet_V2", &small, &a, err, sizeof err), CLNET_OK, "%s", err);
    cr_assert_eq(clnet_zoo_build("mobilenetv2", &small, &b, err, sizeof err), CLNET_OK, "%s", err);
    cr_expect_eq(clnet_graph_layer_count(a), clnet_graph_layer_count(b));
    cr_expect_eq(clnet_graph_params(a).total, clnet_graph_params(b).total);
    clnet_graph_destroy(a);
    clnet_graph_destroy(b);
}

/* Each style's batch-norm constants, padding and dropout, as the spec text shows them. */
Test(zoo, styles_keep_their_constants)
{
    static const struct {
        const char *model, *style, *has[3], *lacks;
    } cases[] = {
        {"mobilenetv2",
         "torch",
         {"epsilon = 1e-5\nmomentum = 0.9\nunbiased_variance = true", "padding = 1\n",
          "op = dropout\ninputs = avgpool\nrate = 0.2\n"},
         "same"},
        {"mobilenetv2",
         "keras",
         {"epsilon = 1e-3\nmomentum = 0.999\n", "same", "relu6"},
         "dropout"},
        {"mnasnet",
         "torch",
         {"momentum = 0.9997\n", "kernel_size = 5\nstrides = 2\npadding = 2\n", "rate = 0.2"},
         "relu6"},
        {"resnet50",
         "keras",
         {"epsilon = 1.001e-5\nmomentum = 0.99\n", "use_bias = true", "op = avg_pool"},
         "use_bias = false"},
        {"resnet50", "torch", {"padding = 3", "use_bias = false", "op = global_avg_pool"}, "same"},
        {"mobilenetv3_large",
         "torch",
         {"epsilon = 1e-3\nmomentum = 0.99\nunbiased_variance = true", "activation = hard_sigmoid",
          "op = dropout\ninputs = classifier_1\nrate = 0.2\n"},
         "relu6"},
        {"efficientnet_b3",
         "torch",
         {"epsilon = 1e-5\nmomentum = 0.9\nunbiased_variance = true",
          "op = dropout\ninputs = avgpool\nrate = 0.3\n",
          "[features_7_1_stochastic_depth]\nop = stochastic_depth\ninputs = "
          "features_7_1_block_3_1\n"
          "rate = 0.192307692\nseed = 25\n"},
         "hard_swish"},
        {"squeezenet1_1",
         "torch",
         {"pool_size = 3\nstrides = 2\nceil_mode = true\n", "rate = 0.5\n",
          "kernel_size = 3\nstrides = 1\npadding = 1\nuse_bias = true\n"},
         "batch_norm"},
        {"densenet121",
         "torch",
         {"epsilon = 1e-5\nmomentum = 0.9\nunbiased_variance = true",
          "op = avg_pool\ninputs = features_transition1_conv\npool_size = 2\nstrides = 2\n",
          "op = concatenate\ninputs = features_pool0, features_denseblock1_denselayer1_conv2\n"},
         "use_bias = true"},
        {"shufflenet_v2_x1_0",
         "torch",
         {"epsilon = 1e-5\nmomentum = 0.9\nunbiased_variance = true",
          "op = channel_slice\ninputs = stage2_0_shuffle\nstart = 58\nsize = 58\n",
          "op = channel_shuffle\ninputs = stage4_3_cat\ngroups = 2\n"},
         "dropout"},
        {"regnet_y_400mf",
         "torch",
         {"epsilon = 1e-5\nmomentum = 0.9\nunbiased_variance = true", "padding = 1\ngroups = 6\n",
          "activation = sigmoid"},
         "dropout"},
        {"convnext_tiny",
         "torch",
         {"op = layer_norm\ninputs = features_0_0\nepsilon = 1e-6\n",
          "op = layer_scale\ninputs = features_1_0_block_5\ninit_value = 1e-6\n",
          "op = activation\ninputs = features_7_2_block_3\nactivation = gelu\n"},
         "batch_norm"},
    };
    for (size_t i = 0; i < COUNT(cases); ++i) {
        const clnet_zoo_options opt = {0, 0, 0, 0, cases[i].style, 0.0, 0};
        clnet_graph *g = build(cases[i].model, &opt);
        char *spec = NULL;
        cr_assert_eq(clnet_graph_to_spec(g, &spec), CLNET_OK);
        for (int k = 0; k < 3; ++k)
            cr_expect(strstr(spec, cases[i].has[k]), "%s %s: no '%s'", cases[i].model,
                      cases[i].style, cases[i].has[k]);
        cr_expect_null(strstr(spec, cases[i].lacks), "%s %s: '%s'", cases[i].model, cases[i].style,
                       cases[i].lacks);
        clnet_free(spec);
        clnet_graph_destroy(g);
    }
}

/* Same layers, names, shapes and counts; returns the spec text of a (caller frees). */
static char *expect_same_graph(const clnet_graph *a, const clnet_graph *b, const char *what)
{
    cr_assert_eq(clnet_graph_layer_count(a), clnet_graph_layer_count(b), "%s: layer count", what);
    for (int i = 0; i < clnet_graph_layer_count(a); ++i) {
        const clnet_shape sa = clnet_graph_layer_shape(a, i), sb = clnet_graph_layer_shape(b, i);
        cr_assert_str_eq(clnet_graph_layer_name(a, i), clnet_graph_layer_name(b, i), "%s", what);
        cr_expect(sa.h == sb.h && sa.w == sb.w && sa.c == sb.c, "%s: %s", what,
                  clnet_graph_layer_name(a, i));
    }
    const clnet_param_counts ca = clnet_graph_params(a), cb = clnet_graph_params(b);
    cr_expect(ca.total == cb.total && ca.trainable == cb.trainable, "%s: params", what);
    cr_expect_eq(clnet_graph_flops(a), clnet_graph_flops(b), "%s: mult-adds", what);
    char *ta = NULL, *tb = NULL;
    cr_assert_eq(clnet_graph_to_spec(a, &ta), CLNET_OK);
    cr_assert_eq(clnet_graph_to_spec(b, &tb), CLNET_OK);
    cr_expect(strcmp(ta, tb) == 0, "%s: the re-written spec differs", what);
    clnet_free(tb);
    return ta;
}

Test(zoo, every_model_round_trips_through_its_spec)
{
    for (const char *const *name = clnet_zoo_names(); *name; ++name)
        for (int variant = 0; variant < 3; ++variant) {
            const int resnet = strncmp(*name, "resnet", 6) == 0;
            if (variant && !has_keras(*name))
                continue;
            if (variant == 2 && !resnet)
                continue;
            const clnet_zoo_options opt = {48,  40,          1, 5, variant ? "keras" : "torch",
                                           0.0, variant == 2};
            clnet_graph *g = build(*name, &opt), *back = NULL;
            char *text = NULL, err[512] = "";
            cr_assert_eq(clnet_graph_to_spec(g, &text), CLNET_OK);
            cr_assert_eq(clnet_graph_from_spec(text, *name, &back, err, sizeof err), CLNET_OK,
                         "%s %s: %s", *name, opt.style, err);
            clnet_free(expect_same_graph(g, back, *name));
            clnet_free(text);
            clnet_graph_destroy(back);
            clnet_graph_destroy(g);
        }
}

/* The whole file, or NULL. */
static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

/* samples/models/ holds `clnet spec MODEL` of every model at its defaults (and the
 * tutorial's Keras ResNet-50): each must read back to the zoo's graph, and be exactly what
 * `clnet spec` writes now. The directory is found from this file's path. */
Test(zoo, shipped_specs_match_the_zoo)
{
    static const struct {
        const char *file, *model;
        clnet_zoo_options opt;
    } specs[] = {
        {"resnet18.spec", "resnet18", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"resnet34.spec", "resnet34", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"resnet50.spec", "resnet50", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"resnet101.spec", "resnet101", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"resnet152.spec", "resnet152", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"mobilenetv2.spec", "mobilenetv2", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"mnasnet.spec", "mnasnet", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"mobilenetv3_large.spec", "mobilenetv3_large", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"mobilenetv3_small.spec", "mobilenetv3_small", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"efficientnet_b0.spec", "efficientnet_b0", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"efficientnet_b1.spec", "efficientnet_b1", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"efficientnet_b2.spec", "efficientnet_b2", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"efficientnet_b3.spec", "efficientnet_b3", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"squeezenet1_1.spec", "squeezenet1_1", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"densenet121.spec", "densenet121", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"shufflenet_v2_x0_5.spec", "shufflenet_v2_x0_5", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"shufflenet_v2_x1_0.spec", "shufflenet_v2_x1_0", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"resnext50_32x4d.spec", "resnext50_32x4d", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"resnext101_32x8d.spec", "resnext101_32x8d", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"resnext101_64x4d.spec", "resnext101_64x4d", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"regnet_y_400mf.spec", "regnet_y_400mf", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"regnet_y_800mf.spec", "regnet_y_800mf", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"regnet_y_1_6gf.spec", "regnet_y_1_6gf", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"regnet_y_3_2gf.spec", "regnet_y_3_2gf", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"regnet_y_8gf.spec", "regnet_y_8gf", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"regnet_y_16gf.spec", "regnet_y_16gf", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"regnet_y_32gf.spec", "regnet_y_32gf", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"regnet_y_128gf.spec", "regnet_y_128gf", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"convnext_tiny.spec", "convnext_tiny", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"convnext_small.spec", "convnext_small", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"convnext_base.spec", "convnext_base", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"convnext_large.spec", "convnext_large", {0, 0, 0, 0, NULL, 0.0, 0}},
        {"resnet50_keras_64x64_6.spec", "resnet50", {64, 64, 3, 6, "keras", 0.0, 0}},
    };
    const char *here = __FILE__, *tail = strstr(here, "tests/models/test_zoo.c");
    cr_assert_not_null(tail, "cannot find the source tree from %s", here);
    for (size_t i = 0; i < COUNT(specs); ++i) {
        char path[4096], err[512] = "";
        snprintf(path, sizeof path, "%.*ssamples/models/%s", (int)(tail - here), here,
                 specs[i].file);
        char *text = read_file(path);
        cr_assert_not_null(text, "cannot read %s", path);
        clnet_graph *g = build(specs[i].model, &specs[i].opt), *back = NULL;
        cr_assert_eq(clnet_graph_from_spec(text, specs[i].file, &back, err, sizeof err), CLNET_OK,
                     "%s", err);
        char *zoo_text = expect_same_graph(g, back, specs[i].file);
        cr_expect(strcmp(text, zoo_text) == 0, "%s is not what `clnet spec %s` writes now", path,
                  specs[i].model);
        clnet_free(zoo_text);
        free(text);
        clnet_graph_destroy(back);
        clnet_graph_destroy(g);
    }
}
