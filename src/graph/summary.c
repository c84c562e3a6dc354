/* summary.c - clnet_graph_summary: the Keras model.summary() table, with each
 * layer's multiply-adds added. Tests: tests/unit/test_graph.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"

/* Keras's class name of each op, as model.summary() prints it. */
static const char *keras_type(const clnet__layer *l)
{
    static const char *const names[][2] = {
        {"conv2d", "Conv2D"},
        {"depthwise_conv2d", "DepthwiseConv2D"},
        {"dense", "Dense"},
        {"batch_norm", "BatchNormalization"},
        {"relu", "ReLU"},
        {"relu6", "ReLU"},
        {"add", "Add"},
        {"zero_pad", "ZeroPadding2D"},
        {"channel_pad", "ChannelPad"},
        {"max_pool", "MaxPooling2D"},
        {"avg_pool", "AveragePooling2D"},
        {"global_avg_pool", "GlobalAveragePooling2D"},
        {"global_max_pool", "GlobalMaxPooling2D"},
        {"flatten", "Flatten"},
        {"dropout", "Dropout"},
        {"softmax", "Softmax"},
        {"softmax_cross_entropy", "SoftmaxCrossEntropy"},
    };
    if (!l->op)
        return "InputLayer";
    for (size_t i = 0; i < CLNET_COUNTOF(names); ++i)
        if (strcmp(names[i][0], l->op->name) == 0)
            return names[i][1];
    return l->op->name;
}

/* A growing text buffer; on allocation failure it stops growing and says so. */
typedef struct text {
    char *buf;
    size_t len, cap;
    int failed;
} text;

static void put(text *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void put(text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0 || t->len + (size_t)need + 1 > t->cap) {
        size_t cap = (t->cap ? t->cap * 2 : 4096) + (size_t)(need > 0 ? need : 0);
        char *grown = realloc(t->buf, cap);
        if (!grown || need < 0) {
            t->failed = 1;
            return;
        }
        t->buf = grown;
        t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)need;
}

/* 23600006 -> "23,600,006". */
static const char *grouped(double v, char *buf, size_t len)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%.0f", v);
    size_t n = strlen(digits), o = 0;
    for (size_t i = 0; i < n && o + 2 < len; ++i) {
        buf[o++] = digits[i];
        if ((n - i - 1) % 3 == 0 && i + 1 < n && o + 2 < len)
            buf[o++] = ',';
    }
    buf[o] = '\0';
    return buf;
}

static void rule(text *t, char c)
{
    for (int i = 0; i < 118; ++i)
        put(t, "%c", c);
    put(t, "\n");
}

clnet_status clnet_graph_summary(const clnet_graph *g, const char *title, char **out)
{
    if (!g || !out)
        return CLNET_ERR_INVALID_ARG;
    *out = NULL;
    text t = {NULL, 0, 0, 0};
    char num[48], shape[64], name[128];
    put(&t, "Model: \"%s\"\n", title ? title : "model");
    rule(&t, '_');
    put(&t, " %-40s %-22s %-12s %-14s %s\n", "Layer (type)", "Output Shape", "Param #", "Mult-adds",
        "Connected to");
    rule(&t, '=');
    for (int i = 0; i < g->n; ++i) {
        const clnet__layer *l = &g->layers[i];
        int64_t params = 0;
        for (int k = 0; k < l->n_w; ++k)
            params += (int64_t)clnet__shape_count(l->w[k].shape);
        snprintf(name, sizeof name, "%s (%s)", l->name, keras_type(l));
        if (l->rank2)
            snprintf(shape, sizeof shape, "(None, %d)", l->out.c);
        else
            snprintf(shape, sizeof shape, "(None, %d, %d, %d)", l->out.h, l->out.w, l->out.c);
        put(&t, " %-40s %-22s %-12s ", name, shape, grouped((double)params, num, sizeof num));
        put(&t, "%-14s ", grouped(l->flops, num, sizeof num));
        if (l->n_in == 0)
            put(&t, "[]");
        for (int k = 0; k < l->n_in; ++k)
            put(&t, "%s'%s'", k ? ", " : "", g->layers[l->in[k]].name);
        put(&t, "\n");
        rule(&t, i + 1 == g->n ? '=' : ' ');
    }
    if (g->n == 0)
        rule(&t, '=');
    const clnet_param_counts c = clnet_graph_params(g);
    put(&t, "Total params: %s\n", grouped((double)c.total, num, sizeof num));
    put(&t, "Trainable params: %s\n", grouped((double)c.trainable, num, sizeof num));
    put(&t, "Non-trainable params: %s\n", grouped((double)c.non_trainable, num, sizeof num));
    put(&t, "Mult-adds per image: %s\n", grouped(clnet_graph_flops(g), num, sizeof num));
    rule(&t, '_');
    if (t.failed) {
        free(t.buf);
        return CLNET_ERR_OUT_OF_MEMORY;
    }
    *out = t.buf;
    return CLNET_OK;
}
