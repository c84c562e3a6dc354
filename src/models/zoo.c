/* zoo.c - clnet_zoo_build: the zoo's names, its options checked and defaulted, dispatch to
 * the builders (resnet.c, mobilenetv2.c, mnasnet.c, mobilenetv3.c, efficientnet.c,
 * squeezenet.c, densenet.c, shufflenet.c), and the layer helpers they share (models.h).
 * Tests: tests/models/test_zoo.c. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "models/models.h"

static const double mobilenet_alphas[] = {0.35, 0.5, 0.75, 1.0, 1.3, 1.4, 0.0};
static const double mnasnet_alphas[] = {0.5, 0.75, 1.0, 1.3, 0.0};

/* name, builder, variant (the ResNets' depth; the builder's own index for the others),
 * width multipliers (0-terminated; NULL: none), Keras style */
#define ZOO_MODELS(X)                                                                              \
    X(resnet18, clnet__resnet, 18, NULL, 1)                                                        \
    X(resnet34, clnet__resnet, 34, NULL, 1)                                                        \
    X(resnet50, clnet__resnet, 50, NULL, 1)                                                        \
    X(resnet101, clnet__resnet, 101, NULL, 1)                                                      \
    X(resnet152, clnet__resnet, 152, NULL, 1)                                                      \
    X(mobilenetv2, clnet__mobilenetv2, 0, mobilenet_alphas, 1)                                     \
    X(mnasnet, clnet__mnasnet, 0, mnasnet_alphas, 0)                                               \
    X(mobilenetv3_large, clnet__mobilenetv3, 0, NULL, 0)                                           \
    X(mobilenetv3_small, clnet__mobilenetv3, 1, NULL, 0)                                           \
    X(efficientnet_b0, clnet__efficientnet, 0, NULL, 0)                                            \
    X(efficientnet_b1, clnet__efficientnet, 1, NULL, 0)                                            \
    X(efficientnet_b2, clnet__efficientnet, 2, NULL, 0)                                            \
    X(efficientnet_b3, clnet__efficientnet, 3, NULL, 0)                                            \
    X(squeezenet1_1, clnet__squeezenet, 0, NULL, 0)                                                \
    X(densenet121, clnet__densenet, 0, NULL, 0)                                                    \
    X(shufflenet_v2_x0_5, clnet__shufflenet, 0, NULL, 0)                                           \
    X(shufflenet_v2_x1_0, clnet__shufflenet, 1, NULL, 0)                                           \
    X(resnext50_32x4d, clnet__resnext, 0, NULL, 0)                                                 \
    X(resnext101_32x8d, clnet__resnext, 1, NULL, 0)                                                \
    X(resnext101_64x4d, clnet__resnext, 2, NULL, 0)                                                \
    X(regnet_y_400mf, clnet__regnet, 0, NULL, 0)                                                   \
    X(regnet_y_800mf, clnet__regnet, 1, NULL, 0)                                                   \
    X(regnet_y_1_6gf, clnet__regnet, 2, NULL, 0)                                                   \
    X(regnet_y_3_2gf, clnet__regnet, 3, NULL, 0)                                                   \
    X(regnet_y_8gf, clnet__regnet, 4, NULL, 0)                                                     \
    X(regnet_y_16gf, clnet__regnet, 5, NULL, 0)                                                    \
    X(regnet_y_32gf, clnet__regnet, 6, NULL, 0)                                                    \
    X(regnet_y_128gf, clnet__regnet, 7, NULL, 0)                                                   \
    X(convnext_tiny, clnet__convnext, 0, NULL, 0)                                                  \
    X(convnext_small, clnet__convnext, 1, NULL, 0)                                                 \
    X(convnext_base, clnet__convnext, 2, NULL, 0)                                                  \
    X(convnext_large, clnet__convnext, 3, NULL, 0)

typedef struct zoo_model {
    const char *name;
    clnet_layer (*build)(clnet_graph *g, const clnet__zoo_args *a);
    int variant;
    const double *alphas;
    int keras;
} zoo_model;

#define ZOO_ROW(name, build, variant, alphas, keras) {#name, build, variant, alphas, keras},
#define ZOO_NAME(name, build, variant, alphas, keras) #name,
static const zoo_model models[] = {ZOO_MODELS(ZOO_ROW)};
static const char *const names[] = {ZOO_MODELS(ZOO_NAME) NULL};

const char *const *clnet_zoo_names(void)
{
    return names;
}

/* name in lower case without '-', '_', ' ' and '.' into out (64 bytes): "MobileNet-V3 Large"
 * and "mobilenetv3_large" fold alike, as "ResNeXt-50 32x4d" and "resnext50_32x4d" do. One
 * of them between two digits stays, as '.': "regnet_y_1_6gf" and "RegNetY1.6GF" fold alike,
 * and apart from "regnet_y_16gf". */
static const char *fold(const char *name, char *out)
{
    size_t n = 0;
    for (const char *p = name; *p && n + 1 < 64; ++p)
        if (!strchr("-_ .", *p))
            out[n++] = (char)tolower((unsigned char)*p);
        else if (p > name && isdigit((unsigned char)p[-1]) && isdigit((unsigned char)p[1]))
            out[n++] = '.';
    out[n] = '\0';
    return out;
}

const char *clnet_zoo_name(const char *name)
{
    char folded[64], known[64];
    for (size_t i = 0; name && i < CLNET_COUNTOF(models); ++i)
        if (strcmp(fold(models[i].name, known), fold(name, folded)) == 0)
            return models[i].name;
    return NULL;
}

static clnet_status fail(char *err, size_t len, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static clnet_status fail(char *err, size_t len, const char *fmt, ...)
{
    if (err && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, len, fmt, ap);
        va_end(ap);
    }
    return CLNET_ERR_INVALID_ARG;
}

/* "0.35, 0.5, 0.75, ..." into buf. */
static const char *list_alphas(const double *alphas, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; alphas[i] > 0.0 && used < len; ++i)
        used += (size_t)snprintf(buf + used, len - used, "%s%g", i ? ", " : "", alphas[i]);
    return buf;
}

/* "resnet18, resnet34, ..." into buf. */
static const char *list_names(char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; names[i] && used < len; ++i)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", names[i]);
    return buf;
}

/* Fills a from opt (NULL: all defaults) for model m, or says what is wrong. */
static clnet_status check_options(const zoo_model *m, const clnet_zoo_options *opt,
                                  clnet__zoo_args *a, char *err, size_t len)
{
    static const clnet_zoo_options none = {0, 0, 0, 0, NULL, 0.0, 0};
    if (!opt)
        opt = &none;
    char list[128];
    *a = (clnet__zoo_args){224, 224, 3, 1000, 0, 1.0, opt->shortcut_a != 0, m->variant, m->variant};
    a->h = opt->h ? opt->h : a->h;
    a->w = opt->w ? opt->w : a->w;
    a->c = opt->c ? opt->c : a->c;
    a->classes = opt->classes ? opt->classes : a->classes;
    a->alpha = opt->alpha != 0.0 ? opt->alpha : a->alpha;
    /* No fixed minimum: too small an input for the model's downsampling fails in the
     * builder, naming the first layer whose output would be empty. */
    if (a->h < 1 || a->w < 1)
        return fail(err, len, "%s: input %dx%dx%d: height and width must be positive", m->name,
                    a->h, a->w, a->c);
    if (a->c != 1 && a->c != 3)
        return fail(err, len, "%s: input %dx%dx%d: channels must be 1 or 3, got %d", m->name, a->h,
                    a->w, a->c, a->c);
    if (a->classes < 1)
        return fail(err, len, "%s: classes must be at least 1, got %d", m->name, a->classes);
    const char *style = opt->style && opt->style[0] ? opt->style : "torch";
    if (strcmp(style, "keras") == 0 && !m->keras)
        return fail(err, len, "%s: style 'keras' is not available: %s has only the torch style",
                    m->name, m->name);
    if (strcmp(style, "keras") != 0 && strcmp(style, "torch") != 0)
        return fail(err, len, "%s: unknown style '%s' (expected torch or keras)", m->name, style);
    a->keras = strcmp(style, "keras") == 0;
    if (!m->alphas && a->alpha != 1.0)
        return fail(err, len,
                    "%s: alpha %g: %s has no width multiplier (alpha is for mobilenetv2 and "
                    "mnasnet)",
                    m->name, a->alpha, m->name);
    int known = !m->alphas;
    for (int i = 0; m->alphas && m->alphas[i] > 0.0; ++i)
        known |= fabs(m->alphas[i] - a->alpha) < 1e-9;
    if (!known)
        return fail(err, len, "%s: alpha %g is not one of %s", m->name, a->alpha,
                    list_alphas(m->alphas, list, sizeof list));
    if (a->shortcut_a && m->build != clnet__resnet)
        return fail(err, len, "%s: option-A shortcuts (shortcut_a) are for the ResNets only",
                    m->name);
    return CLNET_OK;
}

clnet_status clnet_zoo_build(const char *name, const clnet_zoo_options *opt, clnet_graph **out,
                             char *err, size_t err_len)
{
    if (!out)
        return fail(err, err_len, "no place for the graph (out is NULL)");
    *out = NULL;
    const zoo_model *m = NULL;
    const char *known = clnet_zoo_name(name);
    for (size_t i = 0; known && i < CLNET_COUNTOF(models); ++i)
        if (models[i].name == known)
            m = &models[i];
    char list[64 * CLNET_COUNTOF(models)]; /* every name, however many the table holds */
    if (!m)
        return fail(err, err_len, "unknown model '%s'; the zoo has %s", name ? name : "(null)",
                    list_names(list, sizeof list));
    clnet__zoo_args a;
    clnet_status st = check_options(m, opt, &a, err, err_len);
    if (st != CLNET_OK)
        return st;
    clnet_graph *g = NULL;
    st = clnet_graph_create(&g);
    if (st != CLNET_OK)
        return fail(err, err_len, "%s: %s", m->name, clnet_status_string(st));
    m->build(g, &a);
    st = clnet_graph_status(g);
    if (st != CLNET_OK) {
        fail(err, err_len, "%s: %s", m->name, clnet_graph_error(g));
        clnet_graph_destroy(g);
        return st;
    }
    *out = g;
    return CLNET_OK;
}

int clnet__zoo_round8(double v)
{
    int n = (int)(v + 4.0) / 8 * 8;
    n = n > 8 ? n : 8;
    return n < 0.9 * v ? n + 8 : n;
}

/* prefix + suffix into name (64 bytes, the graph's limit). */
static const char *join_name(char *name, const char *prefix, const char *suffix)
{
    snprintf(name, 64, "%s%s", prefix ? prefix : "", suffix ? suffix : "");
    return name;
}

clnet_layer clnet__zoo_layer(clnet_graph *g, const char *op, const char *prefix, const char *suffix,
                             clnet_layer x, const char *fmt, ...)
{
    char name[64], params[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(params, sizeof params, fmt, ap);
    va_end(ap);
    return clnet_graph_layer(g, op, join_name(name, prefix, suffix), params, &x, 1);
}

/* op (without keys) on a and b, named prefix + suffix. */
static clnet_layer join2(clnet_graph *g, const char *op, const char *prefix, const char *suffix,
                         clnet_layer a, clnet_layer b)
{
    char name[64];
    const clnet_layer both[2] = {a, b};
    return clnet_graph_layer(g, op, join_name(name, prefix, suffix), "", both, 2);
}

clnet_layer clnet__zoo_add(clnet_graph *g, const char *prefix, const char *suffix, clnet_layer a,
                           clnet_layer b)
{
    return join2(g, "add", prefix, suffix, a, b);
}

clnet_layer clnet__zoo_concat(clnet_graph *g, const char *prefix, const char *suffix, clnet_layer a,
                              clnet_layer b)
{
    return join2(g, "concatenate", prefix, suffix, a, b);
}

clnet_layer clnet__zoo_act(clnet_graph *g, const char *act, const char *prefix, const char *suffix,
                           clnet_layer x)
{
    if (!act)
        return x;
    if (strcmp(act, "relu") == 0 || strcmp(act, "relu6") == 0)
        return clnet__zoo_layer(g, act, prefix, suffix, x, "%s", "");
    return clnet__zoo_layer(g, "activation", prefix, suffix, x, "activation = %s", act);
}

clnet_layer clnet__zoo_conv_bn(clnet_graph *g, const clnet__zoo_style *st, clnet_layer x,
                               int filters, int kernel, int stride, const char *act,
                               const char *prefix, const char *const names3[3])
{
    return clnet__zoo_grouped_conv_bn(g, st, x, filters, kernel, stride, 1, act, prefix, names3);
}

clnet_layer clnet__zoo_conv(clnet_graph *g, const clnet__zoo_style *st, clnet_layer x, int filters,
                            int kernel, int stride, int groups, const char *prefix,
                            const char *name)
{
    char pad[16] = "valid";
    if (st->pad == CLNET__ZOO_PAD_TORCH && kernel / 2 > 0)
        snprintf(pad, sizeof pad, "%d", kernel / 2);
    else if (st->pad == CLNET__ZOO_PAD_SAME && kernel > 1)
        snprintf(pad, sizeof pad, "same");
    const char *bias = st->bias ? "true" : "false";
    char grouped[32] = "";
    if (groups > 1)
        snprintf(grouped, sizeof grouped, "\ngroups = %d", groups);
    if (filters > 0)
        return clnet__zoo_layer(g, "conv2d", prefix, name, x,
                                "filters = %d\nkernel_size = %d\nstrides = %d\npadding = %s%s\n"
                                "use_bias = %s",
                                filters, kernel, stride, pad, grouped, bias);
    return clnet__zoo_layer(g, "depthwise_conv2d", prefix, name, x,
                            "kernel_size = %d\nstrides = %d\npadding = %s\nuse_bias = %s", kernel,
                            stride, pad, bias);
}

clnet_layer clnet__zoo_grouped_conv_bn(clnet_graph *g, const clnet__zoo_style *st, clnet_layer x,
                                       int filters, int kernel, int stride, int groups,
                                       const char *act, const char *prefix,
                                       const char *const names3[3])
{
    x = clnet__zoo_conv(g, st, x, filters, kernel, stride, groups, prefix, names3[0]);
    x = clnet__zoo_layer(g, "batch_norm", prefix, names3[1], x, "%s", st->bn);
    return clnet__zoo_act(g, act, prefix, names3[2], x);
}

clnet_layer clnet__zoo_se(clnet_graph *g, clnet_layer x, int squeeze, const char *act,
                          const char *gate, const char *prefix)
{
    const int channels = clnet_graph_layer_shape(g, x).c;
    clnet_layer s = clnet__zoo_layer(g, "global_avg_pool", prefix, "_avgpool", x, "%s", "");
    s = clnet__zoo_layer(g, "conv2d", prefix, "_fc1", s, "filters = %d\nkernel_size = 1", squeeze);
    s = clnet__zoo_act(g, act, prefix, "_activation", s);
    s = clnet__zoo_layer(g, "conv2d", prefix, "_fc2", s, "filters = %d\nkernel_size = 1", channels);
    s = clnet__zoo_act(g, gate, prefix, "_scale_activation", s);
    return join2(g, "multiply", prefix, "_scale", x, s);
}

clnet_layer clnet__zoo_head(clnet_graph *g, clnet_layer x, const char *pool, const char *drop,
                            double rate, const char *fc, int classes)
{
    x = clnet__zoo_layer(g, "global_avg_pool", NULL, pool, x, "%s", "");
    if (rate > 0.0)
        x = clnet__zoo_layer(g, "dropout", NULL, drop, x, "rate = %g", rate);
    return clnet__zoo_layer(g, "dense", NULL, fc, x, "units = %d", classes);
}
