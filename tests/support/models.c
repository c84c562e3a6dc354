/* models.c - see models.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/models.h"

/* Activation act after x: the relu and relu6 ops, any other table name by the activation
 * op; x itself when act is NULL. */
static clnet_layer activation(clnet_graph *g, clnet_layer x, const char *act)
{
    if (!act)
        return x;
    if (strcmp(act, "relu") == 0 || strcmp(act, "relu6") == 0)
        return clnet_graph_layer(g, act, NULL, "", &x, 1);
    char p[64];
    snprintf(p, sizeof p, "activation = %s", act);
    return clnet_graph_layer(g, "activation", NULL, p, &x, 1);
}

static clnet_layer conv_bn(clnet_graph *g, clnet_layer x, int filters, int k, int stride,
                           const char *act)
{
    char p[160];
    snprintf(p, sizeof p,
             "filters = %d\nkernel_size = %d\nstrides = %d\npadding = same\n"
             "use_bias = false",
             filters, k, stride);
    x = clnet_graph_layer(g, "conv2d", NULL, p, &x, 1);
    x = clnet_graph_layer(g, "batch_norm", NULL, "momentum = 0.9\nepsilon = 1e-5", &x, 1);
    return activation(g, x, act);
}

static clnet_layer basic_block(clnet_graph *g, clnet_layer x, int filters, int stride, int project)
{
    clnet_layer y = conv_bn(g, x, filters, 3, stride, "relu");
    y = conv_bn(g, y, filters, 3, 1, NULL);
    const clnet_layer s = project ? conv_bn(g, x, filters, 1, stride, NULL) : x;
    const clnet_layer both[2] = {y, s};
    y = clnet_graph_layer(g, "add", NULL, "", both, 2);
    return clnet_graph_layer(g, "relu", NULL, "", &y, 1);
}

/* A new graph with an h x w x c input, *x. */
static clnet_graph *start(int h, int w, int c, clnet_layer *x)
{
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_create(&g), CLNET_OK);
    *x = clnet_graph_input(g, NULL, h, w, c);
    return g;
}

/* g finished by dense logits after x (asserts it built). */
static clnet_graph *logits(clnet_graph *g, clnet_layer x, int classes)
{
    char p[32];
    snprintf(p, sizeof p, "units = %d", classes);
    clnet_graph_layer(g, "dense", "logits", p, &x, 1);
    cr_assert_eq(clnet_graph_status(g), CLNET_OK, "%s", clnet_graph_error(g));
    return g;
}

/* g finished by a global average pool and dense logits. */
static clnet_graph *head(clnet_graph *g, clnet_layer x, int classes)
{
    return logits(g, clnet_graph_layer(g, "global_avg_pool", NULL, "", &x, 1), classes);
}

clnet_graph *clnet_test_small_resnet(int h, int w, int c, int classes)
{
    clnet_layer x;
    clnet_graph *g = start(h, w, c, &x);
    x = conv_bn(g, x, 8, 3, 1, "relu");
    x = clnet_graph_layer(g, "max_pool", NULL, "pool_size = 3\nstrides = 2\npadding = same", &x, 1);
    x = basic_block(g, x, 8, 1, 0);
    x = basic_block(g, x, 12, 2, 1);
    return head(g, x, classes);
}

static clnet_layer inverted_residual(clnet_graph *g, clnet_layer x, int in, int out, int t,
                                     int stride)
{
    clnet_layer y = x;
    if (t != 1)
        y = conv_bn(g, y, in * t, 1, 1, "relu6");
    char p[96];
    snprintf(p, sizeof p, "kernel_size = 3\nstrides = %d\npadding = same\nuse_bias = false",
             stride);
    y = clnet_graph_layer(g, "depthwise_conv2d", NULL, p, &y, 1);
    y = clnet_graph_layer(g, "batch_norm", NULL, "momentum = 0.9\nepsilon = 1e-5", &y, 1);
    y = clnet_graph_layer(g, "relu6", NULL, "", &y, 1);
    y = conv_bn(g, y, out, 1, 1, NULL);
    if (stride == 1 && in == out) {
        const clnet_layer both[2] = {x, y};
        y = clnet_graph_layer(g, "add", NULL, "", both, 2);
    }
    return y;
}

clnet_graph *clnet_test_small_mobilenet(int h, int w, int c, int classes)
{
    clnet_layer x;
    clnet_graph *g = start(h, w, c, &x);
    x = conv_bn(g, x, 8, 3, 2, "relu6");
    x = inverted_residual(g, x, 8, 8, 1, 1);
    x = inverted_residual(g, x, 8, 12, 3, 2);
    x = inverted_residual(g, x, 12, 12, 3, 1);
    x = conv_bn(g, x, 16, 1, 1, "relu6");
    return head(g, x, classes);
}

/* Squeeze-and-excitation as torchvision's: pool, biased 1x1 conv to squeeze, act, biased
 * 1x1 conv back, gate, multiply by [n, 1, 1, c]. */
static clnet_layer squeeze_excite(clnet_graph *g, clnet_layer x, int channels, int squeeze,
                                  const char *act, const char *gate)
{
    char p[64];
    clnet_layer s = clnet_graph_layer(g, "global_avg_pool", NULL, "", &x, 1);
    snprintf(p, sizeof p, "filters = %d\nkernel_size = 1", squeeze);
    s = activation(g, clnet_graph_layer(g, "conv2d", NULL, p, &s, 1), act);
    snprintf(p, sizeof p, "filters = %d\nkernel_size = 1", channels);
    s = activation(g, clnet_graph_layer(g, "conv2d", NULL, p, &s, 1), gate);
    const clnet_layer both[2] = {x, s};
    return clnet_graph_layer(g, "multiply", NULL, "", both, 2);
}

/* An MBConv block: in -> expanded (1x1, none when equal) -> depthwise k x k, stride ->
 * SE (squeeze 0: none) -> linear 1x1 to out, plus the input when the shape stays, after
 * stochastic depth with rate drop (0: none) and seed. */
typedef struct mbconv {
    int in, expanded, out, k, stride;
    const char *act;
    int squeeze;
    const char *se_act, *gate;
    double drop;
    int seed;
} mbconv;

static clnet_layer mbconv_block(clnet_graph *g, clnet_layer x, mbconv b)
{
    clnet_layer y = b.expanded != b.in ? conv_bn(g, x, b.expanded, 1, 1, b.act) : x;
    char p[96];
    snprintf(p, sizeof p, "kernel_size = %d\nstrides = %d\npadding = same\nuse_bias = false", b.k,
             b.stride);
    y = clnet_graph_layer(g, "depthwise_conv2d", NULL, p, &y, 1);
    y = clnet_graph_layer(g, "batch_norm", NULL, "momentum = 0.9\nepsilon = 1e-5", &y, 1);
    y = activation(g, y, b.act);
    if (b.squeeze)
        y = squeeze_excite(g, y, b.expanded, b.squeeze, b.se_act, b.gate);
    y = conv_bn(g, y, b.out, 1, 1, NULL);
    if (b.stride != 1 || b.in != b.out)
        return y;
    if (b.drop > 0.0) {
        snprintf(p, sizeof p, "rate = %g\nseed = %d", b.drop, b.seed);
        y = clnet_graph_layer(g, "stochastic_depth", NULL, p, &y, 1);
    }
    const clnet_layer both[2] = {x, y};
    return clnet_graph_layer(g, "add", NULL, "", both, 2);
}

clnet_graph *clnet_test_small_mobilenetv3(int h, int w, int c, int classes)
{
    clnet_layer x;
    clnet_graph *g = start(h, w, c, &x);
    x = conv_bn(g, x, 8, 3, 2, "hard_swish");
    x = mbconv_block(g, x, (mbconv){8, 8, 8, 3, 1, "relu", 8, "relu", "hard_sigmoid", 0.0, 0});
    x = mbconv_block(g, x, (mbconv){8, 24, 12, 3, 2, "relu", 0, NULL, NULL, 0.0, 0});
    x = mbconv_block(g, x,
                     (mbconv){12, 36, 12, 5, 1, "hard_swish", 8, "relu", "hard_sigmoid", 0.0, 0});
    x = conv_bn(g, x, 24, 1, 1, "hard_swish");
    x = clnet_graph_layer(g, "global_avg_pool", NULL, "", &x, 1);
    x = activation(g, clnet_graph_layer(g, "dense", NULL, "units = 16", &x, 1), "hard_swish");
    x = clnet_graph_layer(g, "dropout", NULL, "rate = 0.2", &x, 1);
    return logits(g, x, classes);
}

clnet_graph *clnet_test_small_efficientnet(int h, int w, int c, int classes)
{
    clnet_layer x;
    clnet_graph *g = start(h, w, c, &x);
    x = conv_bn(g, x, 8, 3, 2, "silu");
    x = mbconv_block(g, x, (mbconv){8, 8, 8, 3, 1, "silu", 2, "silu", "sigmoid", 0.4, 1});
    x = mbconv_block(g, x, (mbconv){8, 48, 12, 3, 2, "silu", 2, "silu", "sigmoid", 0.0, 0});
    x = mbconv_block(g, x, (mbconv){12, 72, 12, 5, 1, "silu", 3, "silu", "sigmoid", 0.4, 2});
    x = conv_bn(g, x, 32, 1, 1, "silu");
    x = clnet_graph_layer(g, "global_avg_pool", NULL, "", &x, 1);
    x = clnet_graph_layer(g, "dropout", NULL, "rate = 0.3", &x, 1);
    return logits(g, x, classes);
}

clnet_model *clnet_test_model(clnet_context *ctx, clnet_graph *g, int fuse, int plan_memory,
                              uint64_t seed)
{
    const clnet_model_options opt = {seed, !fuse, !plan_memory};
    clnet_model *m = NULL;
    clnet_status st = clnet_model_create(ctx, g, &opt, &m);
    cr_assert_eq(st, CLNET_OK, "%s: %s", clnet_status_string(st), clnet_context_error(ctx));
    return m;
}

void clnet_test_randomize_weights(clnet_model *m, uint64_t seed)
{
    for (int i = 0; i < clnet_model_weight_count(m); ++i) {
        clnet_weight_info info;
        clnet_tensor *t = NULL;
        cr_assert_eq(clnet_model_weight(m, i, &info, &t, NULL), CLNET_OK);
        const int one =
            strcmp(info.name, "gamma") == 0 || strcmp(info.name, "moving_variance") == 0;
        const int vec = one || strcmp(info.name, "beta") == 0 || strcmp(info.name, "bias") == 0 ||
                        strcmp(info.name, "moving_mean") == 0;
        clnet_status st =
            vec ? clnet_tensor_init(t, CLNET_INIT_UNIFORM, one ? 0.5f : -0.5f, one ? 1.5f : 0.5f,
                                    seed + (uint64_t)i)
                : clnet_tensor_init(t, CLNET_INIT_HE_UNIFORM, 0, 0, seed + (uint64_t)i);
        cr_assert_eq(st, CLNET_OK);
    }
}

void clnet_test_copy_weights(clnet_model *dst, clnet_model *src)
{
    cr_assert_eq(clnet_model_weight_count(dst), clnet_model_weight_count(src));
    for (int i = 0; i < clnet_model_weight_count(src); ++i) {
        clnet_tensor *a = NULL, *b = NULL;
        cr_assert_eq(clnet_model_weight(src, i, NULL, &a, NULL), CLNET_OK);
        cr_assert_eq(clnet_model_weight(dst, i, NULL, &b, NULL), CLNET_OK);
        float *x = clnet_test_host(a);
        cr_assert_eq(clnet_tensor_write(b, x, clnet_tensor_count(b)), CLNET_OK);
        free(x);
    }
}

clnet_tensor *clnet_test_input(clnet_context *ctx, const clnet_graph *g, int n, uint64_t seed)
{
    clnet_shape s = clnet_graph_layer_shape(g, 0);
    s.n = n;
    float *x = clnet_test_random(clnet__shape_count(s), seed);
    clnet_tensor *t = clnet_test_tensor(ctx, s, x);
    free(x);
    return t;
}

clnet_tensor *clnet_test_backward(clnet_model *m, clnet_tensor *x, uint64_t seed)
{
    clnet_tensor *y = NULL;
    clnet_status st = clnet_model_forward(m, x, 1, &y);
    cr_assert_eq(st, CLNET_OK, "%s", clnet_context_error(x->ctx));
    float *r = clnet_test_random(clnet_tensor_count(y), seed);
    clnet_tensor *dy = clnet_test_tensor(x->ctx, clnet_tensor_shape(y), r);
    free(r);
    st = clnet_model_backward(m, dy);
    cr_assert_eq(st, CLNET_OK, "%s", clnet_context_error(x->ctx));
    return dy;
}

int clnet_test_tensors_equal(clnet_tensor *a, clnet_tensor *b)
{
    if (clnet_tensor_count(a) != clnet_tensor_count(b))
        return 0;
    float *x = clnet_test_host(a), *y = clnet_test_host(b);
    const int eq = memcmp(x, y, clnet_tensor_count(a) * sizeof(float)) == 0;
    free(x);
    free(y);
    return eq;
}

float *clnet_test_host(clnet_tensor *t)
{
    const size_t n = clnet_tensor_count(t);
    float *x = malloc((n ? n : 1) * sizeof *x);
    cr_assert_not_null(x);
    cr_assert_eq(clnet_tensor_read(t, x, n), CLNET_OK);
    return x;
}

double clnet_test_rel_diff(const float *a, const float *b, size_t count)
{
    double ss = 0.0, worst = 0.0;
    for (size_t i = 0; i < count; ++i)
        ss += (double)b[i] * b[i];
    const double rms = sqrt(ss / (double)(count ? count : 1));
    for (size_t i = 0; i < count; ++i) {
        if (isnan(a[i]) || isnan(b[i]))
            return INFINITY;
        const double d = fabs((double)a[i] - b[i]) / (fabs((double)b[i]) + rms + 1e-12);
        worst = d > worst ? d : worst;
    }
    return worst;
}

clnet_graph *clnet_test_small_shufflenet(int h, int w, int c, int classes)
{
    char text[2048], err[512] = "";
    snprintf(text, sizeof text,
             "[image]\nop = input\nshape = %d, %d, %d\n"
             "[stem]\nop = conv2d\nfilters = 16\nkernel_size = 3\npadding = same\n"
             "[stem_relu]\nop = relu\n"
             "# ShuffleNetV2 unit: split, one half through a branch, joined and shuffled\n"
             "[left]\nop = channel_slice\ninputs = stem_relu\nsize = 8\n"
             "[right]\nop = channel_slice\ninputs = stem_relu\nstart = 8\nsize = 8\n"
             "[branch]\nop = conv2d\nfilters = 8\nkernel_size = 1\nuse_bias = false\n"
             "[branch_bn]\nop = batch_norm\nactivation = relu\n"
             "[join]\nop = concatenate\ninputs = left, branch_bn\n"
             "[shuffle]\nop = channel_shuffle\ngroups = 2\n"
             "# squeeze-and-excitation: pool, reduce, expand, scale\n"
             "[se_pool]\nop = global_avg_pool\n"
             "[se_reduce]\nop = dense\nunits = 4\nactivation = relu\n"
             "[se_expand]\nop = dense\nunits = 16\nactivation = relu6\n"
             "[se_scale]\nop = multiply\ninputs = shuffle, se_expand\n"
             "# centred by the per-image channel means, divided by positive weights\n"
             "[centred]\nop = subtract\ninputs = se_scale, se_pool\n"
             "[weights]\nop = softmax\ninputs = se_pool\n"
             "[scaled]\nop = divide\ninputs = centred, weights\n"
             "[pool]\nop = global_avg_pool\n"
             "[logits]\nop = dense\nunits = %d\n",
             h, w, c, classes);
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_from_spec(text, "shufflenet.spec", &g, err, sizeof err), CLNET_OK,
                 "%s", err);
    return g;
}

int clnet_test_sanitize_skips(const char *zoo_name)
{
    static const char *const repeats[] = {
        "resnet50",         "resnet34",        "resnet101",       "resnet152",
        "efficientnet_b1",  "efficientnet_b2", "efficientnet_b3", "resnext101_32x8d",
        "resnext101_64x4d", "regnet_y_800mf",  "regnet_y_1_6gf",  "regnet_y_3_2gf",
        "regnet_y_8gf",     "regnet_y_16gf",   "regnet_y_32gf",   "regnet_y_128gf",
        "convnext_small",   "convnext_base",   "convnext_large",  "shufflenet_v2_x1_0"};
    if (!getenv("CLNET_TEST_SANITIZE"))
        return 0;
    for (size_t i = 0; i < sizeof repeats / sizeof *repeats; ++i)
        if (!strcmp(zoo_name, repeats[i]))
            return 1;
    return 0;
}
