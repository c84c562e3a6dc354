/* keras_layers.c - one Keras layer as clnet layers: its config keys checked (a key whose
 * value clnet cannot run is listed, not ignored), the layer built with the graph builder,
 * its weights read from the file's source in Keras's layouts, which are clnet's (HWIO
 * kernels, depthwise {kh, kw, C, multiplier}, dense {in, units}), so nothing is
 * transposed. Rescaling and Normalization on the input become the model's normalization. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/keras_import.h"
#include "io/safetensors.h"

/* The clnet layer under input k of l; a read of the raw input is noted. */
static int in_layer(kx_layer *l, int k)
{
    const int t = l->in[k];
    if (t == l->x->input)
        l->x->raw_read = 1;
    return t & ~KX_PREPROCESSED;
}

/* A clnet layer of op on inputs (clnet layers), named name; the builder's refusal is
 * listed under l. */
static int add(kx_layer *l, const char *op, const char *name, const int *in, int n_in,
               const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

static int add(kx_layer *l, const char *op, const char *name, const int *in, int n_in,
               const char *fmt, ...)
{
    char params[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(params, sizeof params, fmt, ap);
    va_end(ap);
    clnet_graph *g = l->x->g;
    const clnet_layer y = clnet_graph_layer(g, op, name, params, in, n_in);
    if (y != CLNET_LAYER_NONE)
        return y;
    char why[600];
    snprintf(why, sizeof why, "%s", clnet_graph_error(g));
    /* The builder keeps its first error; the import goes on to list the others. */
    g->status = CLNET_OK;
    return kx_bad(l, "clnet's %s: %s", op, why);
}

/* add on l's own inputs, under l's name. */
static int add_on_inputs(kx_layer *l, const char *op, const char *params)
{
    int in[8];
    for (int k = 0; k < l->n_in && k < 8; ++k)
        in[k] = in_layer(l, k);
    return add(l, op, l->name, in, l->n_in, "%s", params);
}

static clnet_shape shape_of(kx_layer *l, int k)
{
    return clnet_graph_layer_shape(l->x->g, l->in[k] & ~KX_PREPROCESSED);
}

/* ---- config keys ---- */

static const cJSON *key(const kx_layer *l, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(l->cfg, k);
}

static double num(const kx_layer *l, const char *k, double def)
{
    const cJSON *v = key(l, k);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

static int flag(const kx_layer *l, const char *k, int def)
{
    const cJSON *v = key(l, k);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : def;
}

/* Listed unless data_format is channels_last (or absent). */
static int channels_last(kx_layer *l)
{
    const char *f = kx_str(l->cfg, "data_format");
    if (f && strcmp(f, "channels_last"))
        return kx_bad(l, "config key 'data_format' = '%.40s' (clnet is channels-last)", f);
    return 0;
}

/* kernel_size / pool_size / strides / dilation_rate as a pair; def when absent. */
static int pair(kx_layer *l, const char *k, int def, int v[2])
{
    if (!key(l, k) || cJSON_IsNull(key(l, k))) {
        v[0] = v[1] = def;
        return def > 0 ? 0 : kx_bad(l, "no config key '%s'", k);
    }
    if (kx_pair(l->cfg, k, v) || v[0] < 1 || v[1] < 1)
        return kx_bad(l, "config key '%s' is not one or two positive integers", k);
    return 0;
}

/* padding same or valid, into out ("same" / "valid"). */
static int padding(kx_layer *l, const char **out)
{
    const char *p = kx_str(l->cfg, "padding");
    *out = p ? p : "valid";
    if (strcmp(*out, "same") && strcmp(*out, "valid"))
        return kx_bad(l, "config key 'padding' = '%.40s' (clnet pads same or valid)", *out);
    return 0;
}

static int not_dilated(kx_layer *l)
{
    int d[2];
    if (pair(l, "dilation_rate", 1, d))
        return -1;
    if (d[0] != 1 || d[1] != 1)
        return kx_bad(l,
                      "config key 'dilation_rate' = %d, %d (clnet's convolutions are not "
                      "dilated)",
                      d[0], d[1]);
    return 0;
}

/* clnet's name of a Keras activation into out ("none" for linear); -1 when listed. */
static int activation(kx_layer *l, const char *k, char out[32])
{
    const cJSON *v = key(l, k);
    /* Keras 3 may write a function as {"class_name": "function", "config": "relu"}. */
    const char *a = cJSON_IsString(v)       ? v->valuestring
                    : cJSON_IsObject(v)     ? kx_str(v, "config")
                    : cJSON_IsNull(v) || !v ? "linear"
                                            : NULL;
    static const char *const same[] = {"relu", "relu6", "sigmoid", "tanh",
                                       "elu",  "swish", "gelu",    "softmax"};
    snprintf(out, 32, "%s", "none");
    if (!a)
        return kx_bad(l, "config key '%s' is no activation name", k);
    if (!strcmp(a, "linear"))
        return 0;
    for (size_t i = 0; i < sizeof same / sizeof *same; ++i)
        if (!strcmp(a, same[i])) {
            snprintf(out, 32, "%s", a);
            return 0;
        }
    if (!strcmp(a, "silu"))
        snprintf(out, 32, "swish");
    else if (!strcmp(a, "hard_silu") || !strcmp(a, "hard_swish"))
        snprintf(out, 32, "hard_swish");
    else if (!strcmp(a, "leaky_relu")) /* keras.activations.leaky_relu's slope */
        snprintf(out, 32, "leaky_relu(0.2)");
    else if (!strcmp(a, "hard_sigmoid") && l->x->keras3) /* relu6(x + 3) / 6 */
        snprintf(out, 32, "hard_sigmoid");
    else
        return kx_bad(l, "config key '%s' = '%.40s'%s", k, a,
                      !strcmp(a, "hard_sigmoid") ? " (Keras 2's 0.2 x + 0.5; clnet's is "
                                                   "Keras 3's relu6(x + 3) / 6)"
                                                 : " (an activation clnet lacks)");
    return 0;
}

/* The activation part of a layer's params ("" for none; softmax only on dense). */
static const char *act_param(const char *act, char buf[64])
{
    if (!strcmp(act, "none"))
        return "";
    snprintf(buf, 64, "\nactivation = %s", act);
    return buf;
}

/* ---- weights ---- */

/* Weight index of l (role, Keras dims) read from the file, malloc'd; NULL without a
 * source or on failure (x->st set). */
static float *read_weight(kx_layer *l, int index, const char *role, const int64_t *dims, int rank)
{
    kx_ctx *x = l->x;
    if (!x->src || x->st != CLNET_OK)
        return NULL;
    int64_t count = 1;
    for (int d = 0; d < rank; ++d)
        count *= dims[d];
    float *data = malloc((size_t)(count ? count : 1) * sizeof *data);
    if (!data) {
        x->st = clnet__st_fail(x->err, x->len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
        return NULL;
    }
    const clnet_status st =
        x->src->read(x->src->ctx, l->ref, index, role, dims, rank, data, x->err, x->len);
    if (st != CLNET_OK) {
        free(data);
        x->st = st;
        return NULL;
    }
    return data;
}

/* Gives layer its weight name (count floats, data malloc'd or NULL to read none). */
static void keep(kx_layer *l, int layer, const char *name, float *data, int64_t count)
{
    kx_ctx *x = l->x;
    if (!data)
        return;
    const clnet_status st =
        clnet__import_push_weight(&x->w, &x->n_w, &x->cap_w, layer, name, data, count);
    if (st != CLNET_OK && x->st == CLNET_OK)
        x->st = clnet__st_fail(x->err, x->len, st, "out of host memory");
}

/* Reads weight index (role, dims) of l onto clnet layer `layer` as `name`. */
static void weight(kx_layer *l, int layer, int index, const char *role, const char *name,
                   const int64_t *dims, int rank)
{
    int64_t count = 1;
    for (int d = 0; d < rank; ++d)
        count *= dims[d];
    keep(l, layer, name, read_weight(l, index, role, dims, rank), count);
}

/* The file must keep no more weights for l than the n it has: a config that disagrees
 * with its weights is refused, not half-loaded. */
static void weights_done(kx_layer *l, int n)
{
    kx_ctx *x = l->x;
    if (!x->src || !x->src->count || x->st != CLNET_OK)
        return;
    const int have = x->src->count(x->src->ctx, l->ref);
    if (have > n)
        x->st = clnet__st_fail(x->err, x->len, CLNET_ERR_PARSE,
                               "layer '%s' (%s) has %d weights in the file, and %d in its config",
                               l->name, l->class_name, have, n);
}

/* A softmax layer after y when act is softmax (only dense fuses it). */
static int softmax_after(kx_layer *l, int y, const char *act)
{
    if (y < 0 || strcmp(act, "softmax"))
        return y;
    char name[64];
    snprintf(name, sizeof name, "%.55s_softmax", l->name);
    return add(l, "softmax", name, &y, 1, "%s", "");
}

/* ---- the layers ---- */

static int conv2d(kx_layer *l)
{
    int k[2], s[2];
    const char *pad;
    char act[32], buf[64];
    const int filters = (int)num(l, "filters", 0), groups = (int)num(l, "groups", 1);
    const int use_bias = flag(l, "use_bias", 1);
    if (channels_last(l) | pair(l, "kernel_size", 0, k) | pair(l, "strides", 1, s) |
        padding(l, &pad) | not_dilated(l) | activation(l, "activation", act))
        return -1;
    const int cin = shape_of(l, 0).c;
    if (filters < 1 || groups < 1 || cin % groups)
        return kx_bad(l, "filters %d and groups %d do not fit %d input channels", filters, groups,
                      cin);
    const int in = in_layer(l, 0);
    const int y = add(l, "conv2d", l->name, &in, 1,
                      "filters = %d\nkernel_size = %d, %d\nstrides = %d, %d\npadding = %s\n"
                      "groups = %d\nuse_bias = %s%s",
                      filters, k[0], k[1], s[0], s[1], pad, groups, use_bias ? "true" : "false",
                      strcmp(act, "softmax") ? act_param(act, buf) : "");
    if (y < 0)
        return -1;
    weight(l, y, 0, "kernel", "kernel", (const int64_t[]){k[0], k[1], cin / groups, filters}, 4);
    if (use_bias)
        weight(l, y, 1, "bias", "bias", (const int64_t[]){filters}, 1);
    weights_done(l, 1 + use_bias);
    return softmax_after(l, y, act);
}

/* DepthwiseConv2D, and the depthwise half of SeparableConv2D (bias off, named name). */
static int depthwise(kx_layer *l, const char *name, int use_bias, const char *act, int *mult)
{
    int k[2], s[2];
    const char *pad;
    char buf[64];
    *mult = (int)num(l, "depth_multiplier", 1);
    if (channels_last(l) | pair(l, "kernel_size", 0, k) | pair(l, "strides", 1, s) |
        padding(l, &pad) | not_dilated(l))
        return -1;
    if (*mult < 1)
        return kx_bad(l, "config key 'depth_multiplier' = %d", *mult);
    const int c = shape_of(l, 0).c, in = in_layer(l, 0);
    const int y = add(l, "depthwise_conv2d", name, &in, 1,
                      "kernel_size = %d, %d\nstrides = %d, %d\npadding = %s\n"
                      "depth_multiplier = %d\nuse_bias = %s%s",
                      k[0], k[1], s[0], s[1], pad, *mult, use_bias ? "true" : "false",
                      strcmp(act, "softmax") ? act_param(act, buf) : "");
    if (y < 0)
        return -1;
    /* Keras 2 calls the kernel depthwise_kernel, Keras 3 kernel; sources match by index. */
    weight(l, y, 0,
           l->x->keras3 && !strcmp(l->class_name, "DepthwiseConv2D") ? "kernel"
                                                                     : "depthwise_kernel",
           "kernel", (const int64_t[]){k[0], k[1], c, *mult}, 4);
    return y;
}

static int depthwise_conv2d(kx_layer *l)
{
    char act[32];
    const int use_bias = flag(l, "use_bias", 1);
    int mult;
    if (activation(l, "activation", act))
        return -1;
    const int c = shape_of(l, 0).c;
    const int y = depthwise(l, l->name, use_bias, act, &mult);
    if (y >= 0 && use_bias)
        weight(l, y, 1, "bias", "bias", (const int64_t[]){(int64_t)c * mult}, 1);
    if (y >= 0)
        weights_done(l, 1 + use_bias);
    return softmax_after(l, y, act);
}

/* SeparableConv2D: a depthwise layer "<name>_depthwise", then the 1x1 pointwise conv2d
 * under the Keras name with the bias and activation (Keras's order: depthwise_kernel,
 * pointwise_kernel, bias). */
static int separable_conv2d(kx_layer *l)
{
    char act[32], buf[64], name[64];
    const int filters = (int)num(l, "filters", 0), use_bias = flag(l, "use_bias", 1);
    int mult;
    if (activation(l, "activation", act))
        return -1;
    if (filters < 1)
        return kx_bad(l, "config key 'filters' is not positive");
    const int c = shape_of(l, 0).c;
    snprintf(name, sizeof name, "%.50s_depthwise", l->name);
    const int d = depthwise(l, name, 0, "none", &mult);
    if (d < 0)
        return -1;
    const int y =
        add(l, "conv2d", l->name, &d, 1, "filters = %d\nkernel_size = 1\nuse_bias = %s%s", filters,
            use_bias ? "true" : "false", strcmp(act, "softmax") ? act_param(act, buf) : "");
    if (y < 0)
        return -1;
    weight(l, y, 1, "pointwise_kernel", "kernel",
           (const int64_t[]){1, 1, (int64_t)c * mult, filters}, 4);
    if (use_bias)
        weight(l, y, 2, "bias", "bias", (const int64_t[]){filters}, 1);
    weights_done(l, 2 + use_bias);
    return softmax_after(l, y, act);
}

static int dense(kx_layer *l)
{
    char act[32], buf[64];
    const int units = (int)num(l, "units", 0), use_bias = flag(l, "use_bias", 1);
    if (activation(l, "activation", act))
        return -1;
    if (units < 1)
        return kx_bad(l, "config key 'units' is not positive");
    const int cin = shape_of(l, 0).c, in = in_layer(l, 0);
    const int y = add(l, "dense", l->name, &in, 1, "units = %d\nuse_bias = %s%s", units,
                      use_bias ? "true" : "false", act_param(act, buf));
    if (y < 0)
        return -1;
    weight(l, y, 0, "kernel", "kernel", (const int64_t[]){cin, units}, 2);
    if (use_bias)
        weight(l, y, 1, "bias", "bias", (const int64_t[]){units}, 1);
    weights_done(l, 1 + use_bias);
    return y;
}

/* Is the axis key the channels (-1 or 3, or a list of one of them). */
static int channel_axis(const kx_layer *l, const char *k)
{
    const cJSON *a = key(l, k);
    if (cJSON_IsArray(a) && cJSON_GetArraySize(a) == 1)
        a = cJSON_GetArrayItem(a, 0);
    return !a || (cJSON_IsNumber(a) && (a->valueint == -1 || a->valueint == 3));
}

static int batch_norm(kx_layer *l)
{
    if (!channel_axis(l, "axis"))
        return kx_bad(l, "config key 'axis' is not the channels (-1 or 3)");
    if (flag(l, "renorm", 0))
        return kx_bad(l, "config key 'renorm' = true (batch renormalization)");
    const int scale = flag(l, "scale", 1), center = flag(l, "center", 1);
    const int c = shape_of(l, 0).c, in = in_layer(l, 0);
    const int y = add(l, "batch_norm", l->name, &in, 1, "epsilon = %.9g\nmomentum = %.9g",
                      num(l, "epsilon", 1e-3), num(l, "momentum", 0.99));
    if (y < 0)
        return -1;
    /* Keras's order: gamma (if scale), beta (if center), moving_mean, moving_variance;
     * clnet's batch norm always has gamma and beta, so a missing one is 1 or 0. */
    const int64_t dims[] = {c};
    int at = 0;
    static const char *const names[] = {"gamma", "beta", "moving_mean", "moving_variance"};
    for (int k = 0; k < 4; ++k) {
        if ((k == 0 && !scale) || (k == 1 && !center)) {
            float *v = l->x->src ? malloc((size_t)c * sizeof *v) : NULL;
            for (int i = 0; v && i < c; ++i)
                v[i] = k == 0 ? 1.0f : 0.0f;
            if (l->x->src && !v && l->x->st == CLNET_OK)
                l->x->st = clnet__st_fail(l->x->err, l->x->len, CLNET_ERR_OUT_OF_MEMORY,
                                          "out of host memory");
            keep(l, y, names[k], v, c);
            continue;
        }
        weight(l, y, at++, names[k], names[k], dims, 1);
    }
    weights_done(l, at);
    return y;
}

static int layer_norm(kx_layer *l)
{
    if (!channel_axis(l, "axis"))
        return kx_bad(l, "config key 'axis' is not the channels (-1 or 3)");
    if (!flag(l, "scale", 1) || !flag(l, "center", 1))
        return kx_bad(l, "config key '%s' = false", flag(l, "scale", 1) ? "center" : "scale");
    const int c = shape_of(l, 0).c, in = in_layer(l, 0);
    const int y = add(l, "layer_norm", l->name, &in, 1, "epsilon = %.9g", num(l, "epsilon", 1e-3));
    if (y >= 0) {
        weight(l, y, 0, "gamma", "gamma", (const int64_t[]){c}, 1);
        weight(l, y, 1, "beta", "beta", (const int64_t[]){c}, 1);
        weights_done(l, 2);
    }
    return y;
}

static int activation_layer(kx_layer *l)
{
    char act[32];
    if (activation(l, "activation", act))
        return -1;
    if (!strcmp(act, "none")) /* linear: the input itself */
        return l->in[0];
    if (!strcmp(act, "softmax"))
        return add_on_inputs(l, "softmax", "");
    if (!strcmp(act, "relu") || !strcmp(act, "relu6"))
        return add_on_inputs(l, act, "");
    char params[64];
    snprintf(params, sizeof params, "activation = %s", act);
    return add_on_inputs(l, "activation", params);
}

static int relu(kx_layer *l)
{
    const cJSON *max = key(l, "max_value");
    const double slope = num(l, "negative_slope", 0), threshold = num(l, "threshold", 0);
    char params[96];
    if (threshold != 0)
        return kx_bad(l, "config key 'threshold' = %g (clnet's ReLU starts at 0)", threshold);
    if (cJSON_IsNumber(max) && slope != 0)
        return kx_bad(l, "config keys 'max_value' and 'negative_slope' together");
    if (slope != 0) {
        snprintf(params, sizeof params, "negative_slope = %.9g", slope);
        return add_on_inputs(l, "leaky_relu", params);
    }
    if (cJSON_IsNumber(max) && max->valuedouble == 6.0)
        return add_on_inputs(l, "relu6", "");
    if (cJSON_IsNumber(max) && max->valuedouble <= 0)
        return kx_bad(l, "config key 'max_value' = %g", max->valuedouble);
    params[0] = '\0';
    if (cJSON_IsNumber(max))
        snprintf(params, sizeof params, "max_value = %.9g", max->valuedouble);
    return add_on_inputs(l, "relu", params);
}

static int leaky_relu(kx_layer *l)
{
    char params[64];
    /* Keras 2 calls the slope alpha, Keras 3 negative_slope; both default to 0.3. */
    snprintf(params, sizeof params, "negative_slope = %.9g",
             num(l, key(l, "negative_slope") ? "negative_slope" : "alpha", 0.3));
    return add_on_inputs(l, "leaky_relu", params);
}

static int elu(kx_layer *l)
{
    char params[64];
    snprintf(params, sizeof params, "alpha = %.9g", num(l, "alpha", 1.0));
    return add_on_inputs(l, "elu", params);
}

static int softmax(kx_layer *l)
{
    if (!channel_axis(l, "axis"))
        return kx_bad(l, "config key 'axis' is not the channels (-1 or 3)");
    return add_on_inputs(l, "softmax", "");
}

static int zero_pad(kx_layer *l)
{
    /* padding: p, (ph, pw) or ((top, bottom), (left, right)). */
    const cJSON *p = key(l, "padding");
    int v[4] = {1, 1, 1, 1}, ok = !p || cJSON_IsNumber(p);
    if (cJSON_IsNumber(p))
        v[0] = v[1] = v[2] = v[3] = p->valueint;
    else if (cJSON_IsArray(p) && cJSON_GetArraySize(p) == 2) {
        ok = 1;
        for (int a = 0; a < 2; ++a) {
            int two[2];
            const cJSON *e = cJSON_GetArrayItem(p, a);
            if (cJSON_IsNumber(e))
                two[0] = two[1] = e->valueint;
            else if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2 ||
                     !cJSON_IsNumber(cJSON_GetArrayItem(e, 0)) ||
                     !cJSON_IsNumber(cJSON_GetArrayItem(e, 1)))
                ok = 0;
            else
                two[0] = cJSON_GetArrayItem(e, 0)->valueint,
                two[1] = cJSON_GetArrayItem(e, 1)->valueint;
            if (ok)
                v[2 * a] = two[0], v[2 * a + 1] = two[1];
        }
    }
    if (!ok || channels_last(l) || v[0] < 0 || v[1] < 0 || v[2] < 0 || v[3] < 0)
        return ok ? -1 : kx_bad(l, "config key 'padding' is not p, (h, w) or ((t, b), (l, r))");
    char params[96];
    snprintf(params, sizeof params, "padding = %d, %d, %d, %d", v[0], v[1], v[2], v[3]);
    return add_on_inputs(l, "zero_pad", params);
}

static int pool(kx_layer *l)
{
    int k[2], s[2];
    const char *pad;
    if (channels_last(l) | pair(l, "pool_size", 2, k) | padding(l, &pad))
        return -1;
    if (pair(l, "strides", k[0], s))
        return -1;
    if (!key(l, "strides") || cJSON_IsNull(key(l, "strides")))
        s[0] = k[0], s[1] = k[1];
    char params[128];
    snprintf(params, sizeof params, "pool_size = %d, %d\nstrides = %d, %d\npadding = %s", k[0],
             k[1], s[0], s[1], pad);
    return add_on_inputs(l, strcmp(l->class_name, "MaxPooling2D") ? "avg_pool" : "max_pool",
                         params);
}

static int global_pool(kx_layer *l)
{
    if (channels_last(l))
        return -1;
    /* keepdims or not, clnet holds the result as 1 x 1 x C. */
    return add_on_inputs(
        l, strcmp(l->class_name, "GlobalMaxPooling2D") ? "global_avg_pool" : "global_max_pool", "");
}

static int merge(kx_layer *l)
{
    const char *op = !strcmp(l->class_name, "Add")        ? "add"
                     : !strcmp(l->class_name, "Multiply") ? "multiply"
                     : !strcmp(l->class_name, "Subtract") ? "subtract"
                                                          : "concatenate";
    if (!strcmp(op, "concatenate") && !channel_axis(l, "axis"))
        return kx_bad(l, "config key 'axis' is not the channels (-1 or 3)");
    return add_on_inputs(l, op, "");
}

static int flatten(kx_layer *l)
{
    return channels_last(l) ? -1 : add_on_inputs(l, "flatten", "");
}

static int dropout(kx_layer *l)
{
    char params[64];
    snprintf(params, sizeof params, "rate = %.9g", num(l, "rate", 0.5));
    return add_on_inputs(l, "dropout", params);
}

/* Layers that change nothing at inference: the input itself. */
static int identity(kx_layer *l)
{
    return l->in[0];
}

/* Reshape where it changes nothing: to (c), (1, 1, c) or the same (h, w, c). */
static int reshape(kx_layer *l)
{
    const clnet_shape s = shape_of(l, 0);
    const cJSON *t = key(l, "target_shape");
    const int n = cJSON_GetArraySize(t);
    int64_t v[3] = {1, 1, 1};
    const int64_t total = (int64_t)s.h * s.w * s.c;
    int free_at = -1;
    for (int i = 0; cJSON_IsArray(t) && i < n && n <= 3; ++i) {
        const cJSON *e = cJSON_GetArrayItem(t, i);
        v[3 - n + i] = cJSON_IsNumber(e) ? e->valueint : 0;
        if (v[3 - n + i] == -1)
            free_at = 3 - n + i;
    }
    if (free_at >= 0) {
        const int64_t rest = v[0] * v[1] * v[2] * -1;
        v[free_at] = rest > 0 && total % rest == 0 ? total / rest : 0;
    }
    if (!cJSON_IsArray(t) || n < 1 || n > 3 || v[0] != s.h || v[1] != s.w || v[2] != s.c)
        return kx_bad(l,
                      "config key 'target_shape' changes the %dx%dx%d layout (clnet takes "
                      "Reshape only where it changes nothing)",
                      s.h, s.w, s.c);
    return l->in[0];
}

/* The input's per-channel affine map a, b (x = pixel255 * a + b) composed with
 * x * scale + offset, for channel k. */
static void compose(kx_ctx *x, int k, double scale, double offset)
{
    x->a[k] *= scale;
    x->b[k] = x->b[k] * scale + offset;
}

/* Per-channel values of a config key (a number or a list of c), or of weight index. */
static int per_channel(kx_layer *l, const char *k, int c, double *v)
{
    const cJSON *j = key(l, k);
    if (cJSON_IsNumber(j)) {
        for (int i = 0; i < c; ++i)
            v[i] = j->valuedouble;
        return 0;
    }
    /* A list, possibly nested ([[[[m0, m1, m2]]]]) as Keras 3 writes broadcast shapes. */
    while (cJSON_IsArray(j) && cJSON_GetArraySize(j) == 1 &&
           cJSON_IsArray(cJSON_GetArrayItem(j, 0)))
        j = cJSON_GetArrayItem(j, 0);
    if (cJSON_IsArray(j) && (cJSON_GetArraySize(j) == c || cJSON_GetArraySize(j) == 1)) {
        for (int i = 0; i < c; ++i) {
            const cJSON *e = cJSON_GetArrayItem(j, cJSON_GetArraySize(j) == 1 ? 0 : i);
            if (!cJSON_IsNumber(e))
                return -1;
            v[i] = e->valuedouble;
        }
        return 0;
    }
    return -1;
}

/* Rescaling and Normalization on the model's input become its normalization; anywhere
 * else clnet has no layer for them. */
static int preprocessing(kx_layer *l)
{
    kx_ctx *x = l->x;
    if ((l->in[0] & ~KX_PREPROCESSED) != x->input || x->input < 0)
        return kx_bad(l, "not on the model's input (clnet takes Rescaling and Normalization as "
                         "the input's normalization)");
    const int c = shape_of(l, 0).c;
    if (c > 4)
        return kx_bad(l, "on an input of %d channels (at most 4)", c);
    double mean[4], var[4], scale[4], offset[4];
    if (!strcmp(l->class_name, "Rescaling")) {
        if (per_channel(l, "scale", c, scale))
            return kx_bad(l, "config key 'scale' is not a number or one per channel");
        if (!key(l, "offset"))
            offset[0] = offset[1] = offset[2] = offset[3] = 0;
        else if (per_channel(l, "offset", c, offset))
            return kx_bad(l, "config key 'offset' is not a number or one per channel");
        for (int k = 0; k < c; ++k)
            if (scale[k] == 0)
                return kx_bad(l, "config key 'scale' = 0");
        for (int k = 0; k < c; ++k)
            compose(x, k, scale[k], offset[k]);
    } else {
        if (flag(l, "invert", 0))
            return kx_bad(l, "config key 'invert' = true");
        if (!channel_axis(l, "axis"))
            return kx_bad(l, "config key 'axis' is not the channels (-1 or 3)");
        /* mean and variance in the config, or adapted ones as weights (mean, variance,
         * count). */
        if (per_channel(l, "mean", c, mean) || per_channel(l, "variance", c, var)) {
            float *m = read_weight(l, 0, "mean", (const int64_t[]){c}, 1);
            float *v = read_weight(l, 1, "variance", (const int64_t[]){c}, 1);
            for (int k = 0; m && v && k < c; ++k)
                mean[k] = m[k], var[k] = v[k];
            free(m), free(v);
            if (x->st != CLNET_OK)
                return -1;
            if (!x->src)
                for (int k = 0; k < c; ++k)
                    mean[k] = 0, var[k] = 1;
        }
        /* keras.layers.Normalization: (x - mean) / max(sqrt(variance), 1e-7). */
        for (int k = 0; k < c; ++k) {
            const double sd = fmax(sqrt(fmax(var[k], 0.0)), 1e-7);
            compose(x, k, 1.0 / sd, -mean[k] / sd);
        }
    }
    x->has_norm = 1;
    return x->input | KX_PREPROCESSED;
}

typedef struct kx_handler {
    const char *class_name;
    int (*fn)(kx_layer *l);
    int min_in, max_in;
} kx_handler;

static const kx_handler handlers[] = {
    {"Conv2D", conv2d, 1, 1},
    {"Convolution2D", conv2d, 1, 1},
    {"DepthwiseConv2D", depthwise_conv2d, 1, 1},
    {"SeparableConv2D", separable_conv2d, 1, 1},
    {"SeparableConvolution2D", separable_conv2d, 1, 1},
    {"Dense", dense, 1, 1},
    {"BatchNormalization", batch_norm, 1, 1},
    {"LayerNormalization", layer_norm, 1, 1},
    {"Activation", activation_layer, 1, 1},
    {"ReLU", relu, 1, 1},
    {"LeakyReLU", leaky_relu, 1, 1},
    {"ELU", elu, 1, 1},
    {"Softmax", softmax, 1, 1},
    {"ZeroPadding2D", zero_pad, 1, 1},
    {"MaxPooling2D", pool, 1, 1},
    {"MaxPool2D", pool, 1, 1},
    {"AveragePooling2D", pool, 1, 1},
    {"AvgPool2D", pool, 1, 1},
    {"GlobalAveragePooling2D", global_pool, 1, 1},
    {"GlobalAvgPool2D", global_pool, 1, 1},
    {"GlobalMaxPooling2D", global_pool, 1, 1},
    {"GlobalMaxPool2D", global_pool, 1, 1},
    {"Add", merge, 2, 8},
    {"Multiply", merge, 2, 2},
    {"Subtract", merge, 2, 2},
    {"Concatenate", merge, 2, 8},
    {"Flatten", flatten, 1, 1},
    {"Dropout", dropout, 1, 1},
    /* Noise and regularization layers do nothing at inference. */
    {"SpatialDropout2D", identity, 1, 1},
    {"GaussianNoise", identity, 1, 1},
    {"GaussianDropout", identity, 1, 1},
    {"AlphaDropout", identity, 1, 1},
    {"ActivityRegularization", identity, 1, 1},
    {"Reshape", reshape, 1, 1},
    {"Rescaling", preprocessing, 1, 1},
    {"Normalization", preprocessing, 1, 1},
};

int kx_translate(kx_layer *l)
{
    for (size_t i = 0; i < sizeof handlers / sizeof *handlers; ++i) {
        const kx_handler *h = &handlers[i];
        if (strcmp(h->class_name, l->class_name))
            continue;
        if (l->n_in < h->min_in || l->n_in > h->max_in)
            return kx_bad(l, "%d inputs (it takes %d to %d)", l->n_in, h->min_in, h->max_in);
        return h->fn(l);
    }
    return kx_bad(l, "an unknown layer class (clnet has no such layer)");
}

void kx_check(kx_layer *l)
{
    const kx_handler *h = NULL;
    for (size_t i = 0; i < sizeof handlers / sizeof *handlers && !h; ++i)
        if (!strcmp(handlers[i].class_name, l->class_name))
            h = &handlers[i];
    if (!h) {
        kx_bad(l, "an unknown layer class (clnet has no such layer)");
        return;
    }
    /* The keys whose values alone can be refused; each check lists l at most once. */
    const char *pad;
    char act[32];
    int ignored = (key(l, "data_format") && channels_last(l)) ||
                  (key(l, "padding") && h->fn != zero_pad && padding(l, &pad)) ||
                  (key(l, "dilation_rate") && not_dilated(l));
    if (!ignored && key(l, "activation"))
        activation(l, "activation", act);
}
