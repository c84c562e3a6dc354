/* activation.c - the activation table (activation.h) with the one parser of every
 * activation key, and the ops that run one entry on its own: activation (Keras Activation),
 * leaky_relu (LeakyReLU) and elu (ELU). Kernels: cl/activation.cl, the formulas in
 * cl/common.cl. Reference: src/ref/activation.c. Tests: tests/ops/test_activation.c. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/op.h"
#include "ref/ref.h"

const clnet__act_info clnet__act_table[CLNET_ACT_COUNT] = {
#define CLNET__ACT_ROW(NAME, name, aliases, keras, onnx, title, alpha, flags)                      \
    {#name,                                                                                        \
     aliases,                                                                                      \
     keras,                                                                                        \
     onnx,                                                                                         \
     title,                                                                                        \
     #NAME,                                                                                        \
     alpha,                                                                                        \
     flags,                                                                                        \
     clnet__ref_act_##name,                                                                        \
     clnet__ref_act_##name##_grad},
    CLNET_ACTIVATIONS(CLNET__ACT_ROW)
#undef CLNET__ACT_ROW
};

/* Whether name is one of the '|'-separated names in list ("|silu"). */
static int in_list(const char *list, const char *name, size_t len)
{
    for (const char *p = list; (p = strchr(p, '|')) != NULL;) {
        ++p;
        const size_t n = strcspn(p, "|");
        if (n == len && strncmp(p, name, len) == 0)
            return 1;
    }
    return 0;
}

static int lookup(const char *name, size_t len)
{
    for (int i = 0; i < CLNET_ACT_COUNT; ++i) {
        const clnet__act_info *a = &clnet__act_table[i];
        if ((strlen(a->name) == len && strncmp(a->name, name, len) == 0) ||
            in_list(a->aliases, name, len))
            return i;
    }
    return -1;
}

int clnet__act_lookup(const char *name)
{
    return lookup(name, strlen(name));
}

int clnet__act_from_input(clnet__act a)
{
    return a.id < CLNET_ACT_COUNT && (clnet__act_table[a.id].flags & CLNET_ACT_FROM_INPUT);
}

clnet_status clnet__act_parse(clnet_context *ctx, clnet__kv *kv, const char *key, int required,
                              int allow_softmax, clnet__act *out)
{
    *out = (clnet__act){CLNET_ACT_NONE, 0.0f};
    const clnet__kv_item *it = clnet__kv_find(kv, key);
    if (!it)
        return required ? clnet__kv_error(ctx, kv, NULL, key, "required but missing") : CLNET_OK;
    const char *v = it->value, *open = strchr(v, '(');
    size_t len = open ? (size_t)(open - v) : strlen(v);
    while (len > 0 && isspace((unsigned char)v[len - 1]))
        --len;
    if (allow_softmax && !open && strcmp(v, "softmax") == 0) {
        out->id = CLNET_ACT_SOFTMAX;
        return CLNET_OK;
    }
    const int id = lookup(v, len);
    if (id < 0)
        return clnet__kv_error(ctx, kv, it, key, "'%s' is not one of: %s%s", v, &CLNET_ACT_NAMES[1],
                               allow_softmax ? "|softmax" : "");
    const clnet__act_info *info = &clnet__act_table[id];
    out->id = (clnet__act_id)id;
    out->alpha = info->alpha;
    if (!open)
        return CLNET_OK;
    if (!(info->flags & CLNET_ACT_ALPHA))
        return clnet__kv_error(ctx, kv, it, key, "%s takes no parameter (got '%s')", info->name, v);
    char *end = NULL;
    const double alpha = strtod(open + 1, &end);
    while (end && isspace((unsigned char)*end))
        ++end;
    /* alpha >= 0 keeps the output's sign the input's, which backward reads. */
    if (end == open + 1 || !end || strcmp(end, ")") != 0 || !(alpha >= 0.0) || alpha > 1e30)
        return clnet__kv_error(ctx, kv, it, key,
                               "'%s': %s's alpha must be a number >= 0 in parentheses, as in "
                               "%s(%g)",
                               v, info->name, info->name, (double)info->alpha);
    out->alpha = (float)alpha;
    return CLNET_OK;
}

/* prefix, then the activation's name (or its title) and its parameter in parentheses. */
static const char *show(clnet__act a, const char *prefix, int title, char *buf, size_t len)
{
    const clnet__act_info *info = a.id < CLNET_ACT_COUNT ? &clnet__act_table[a.id] : NULL;
    const char *name = !info ? (title ? "Softmax" : "softmax") : title ? info->title : info->name;
    if (info && (info->flags & CLNET_ACT_ALPHA))
        snprintf(buf, len, "%s%s(%g)", prefix, name, (double)a.alpha);
    else
        snprintf(buf, len, "%s%s", prefix, name);
    return buf;
}

const char *clnet__act_str(clnet__act a, char *buf, size_t len)
{
    return show(a, "", 0, buf, len);
}

const char *clnet__act_suffix(clnet__act a, char *buf, size_t len)
{
    return a.id == CLNET_ACT_NONE ? show(a, "", 1, buf, len) : show(a, " + ", 1, buf, len);
}

/* ---- the standalone ops ---- */

static clnet_status activation_parse(clnet_context *ctx, clnet__kv *kv, void *params)
{
    return clnet__act_parse(ctx, kv, "activation", 1, 0,
                            &((clnet__activation_params *)params)->act);
}

/* A float parameter >= 0 of a one-activation op (Keras's keys). */
static clnet_status alpha_param(clnet_context *ctx, clnet__kv *kv, const char *key, double def,
                                clnet__act_id id, void *params)
{
    clnet__activation_params *p = params;
    double alpha = def;
    CLNET_TRY(clnet__kv_float(ctx, kv, key, def, &alpha));
    if (!(alpha >= 0.0))
        return clnet__kv_error(ctx, kv, clnet__kv_find(kv, key), key,
                               "must be >= 0 (backward reads the input's sign from the output)");
    p->act = (clnet__act){id, (float)alpha};
    return CLNET_OK;
}

static clnet_status leaky_relu_parse(clnet_context *ctx, clnet__kv *kv, void *params)
{
    return alpha_param(ctx, kv, "negative_slope", 0.3, CLNET_ACT_LEAKY_RELU, params);
}

static clnet_status elu_parse(clnet_context *ctx, clnet__kv *kv, void *params)
{
    return alpha_param(ctx, kv, "alpha", 1.0, CLNET_ACT_ELU, params);
}

static void activation_describe(const void *params, char *buf, size_t len)
{
    clnet__act_str(((const clnet__activation_params *)params)->act, buf, len);
}

/* leaky_relu and elu: their parameter, as their Keras layer names it. */
static void alpha_describe(const void *params, char *buf, size_t len)
{
    const clnet__act a = ((const clnet__activation_params *)params)->act;
    snprintf(buf, len, "%s %g", a.id == CLNET_ACT_ELU ? "alpha" : "negative_slope",
             (double)a.alpha);
}

static clnet_status activation_forward(const clnet__op_call *call)
{
    const clnet__act act = ((const clnet__activation_params *)call->params)->act;
    const int count = (int)call->out->count;
    const clnet_arg args[] = {CLNET_ARG_MEM(call->in[0]->buf), CLNET_ARG_MEM(call->out->buf),
                              CLNET_ARG_INT(count), CLNET_ARG_INT(act.id),
                              CLNET_ARG_FLOAT(act.alpha)};
    const size_t global[1] = {clnet__chunks(call->ctx, "activation", (size_t)count)};
    return clnet__launch(call->ctx, "activation", "activation_forward", args,
                         (int)CLNET_COUNTOF(args), 1, global);
}

/* dx = dy * act'(v), v the output or the input as the table says. */
static clnet_status activation_backward(const clnet__op_call *call)
{
    const clnet__act act = ((const clnet__activation_params *)call->params)->act;
    if (!call->din[0])
        return CLNET_OK;
    const int count = (int)call->out->count;
    const clnet_tensor *v = clnet__act_from_input(act) ? call->in[0] : call->out;
    const clnet_arg args[] = {
        CLNET_ARG_MEM(v->buf), CLNET_ARG_MEM(call->dout->buf), CLNET_ARG_MEM(call->din[0]->buf),
        CLNET_ARG_INT(count),  CLNET_ARG_INT(act.id),          CLNET_ARG_FLOAT(act.alpha)};
    const size_t global[1] = {clnet__chunks(call->ctx, "activation", (size_t)count)};
    return clnet__launch(call->ctx, "activation", "activation_backward", args,
                         (int)CLNET_COUNTOF(args), 1, global);
}

/* Counts off the vector width and chunk; scale 4 crosses relu6's and hard_swish's kinks. Every
 * table entry is a case of the activation op (tests/ops/test_activation.c adds odd shapes). */
static const clnet__op_case activation_cases[] = {
    {"activation = relu6", 1, {{3, 5, 7, 3}}, 8.0f},
    {"activation = leaky_relu(0.1)", 1, {{1, 1, 1, 17}}, 0},
    {"activation = elu", 1, {{3, 1, 1, 33}}, 3.0f},
    {"activation = sigmoid", 1, {{1, 3, 3, 17}}, 4.0f},
    {"activation = tanh", 1, {{3, 1, 1, 5}}, 3.0f},
    {"activation = hard_sigmoid", 1, {{1, 2, 3, 33}}, 5.0f},
    {"activation = swish", 1, {{3, 2, 1, 17}}, 4.0f},
    {"activation = hard_swish", 1, {{1, 5, 3, 33}}, 5.0f},
    {"activation = gelu", 1, {{3, 1, 1, 17}}, 3.0f},
};
static const clnet__op_case leaky_relu_cases[] = {
    {"", 1, {{3, 5, 7, 3}}, 0},
    {"negative_slope = 0.01", 1, {{1, 1, 1, 33}}, 0},
};
static const clnet__op_case elu_cases[] = {
    {"", 1, {{3, 1, 1, 17}}, 3.0f},
    {"alpha = 0.5", 1, {{1, 3, 3, 5}}, 3.0f},
};

static const clnet_op_key activation_keys[] = {
    {"activation", &CLNET_ACT_NAMES[1], NULL,
     "the activation; leaky_relu and elu take alpha in parentheses: leaky_relu(0.1)", "swish"},
};
static const clnet_op_key leaky_relu_keys[] = {
    {"negative_slope", "float >= 0", "0.3",
     "slope below 0 (Keras 3's default; Keras 2's alpha, ONNX LeakyRelu's alpha is 0.01)", "0.01"},
};
static const clnet_op_key elu_keys[] = {
    {"alpha", "float >= 0", "1", "alpha * (exp(x) - 1) below 0", "0.5"},
};

/* Backward reads the output, or the input for the activations the table marks FROM_INPUT:
 * the memory plan keeps both. */
#define ACTIVATION_OP(op, keras_name, desc, describe_fn)                                           \
    .name = #op, .keras = keras_name, .family = CLNET_FAMILY_ACTIVATION, .describe = describe_fn,  \
    .description = desc, .keys = op##_keys, .n_keys = (int)CLNET_COUNTOF(op##_keys),               \
    .params_size = sizeof(clnet__activation_params), .min_inputs = 1, .max_inputs = 1,             \
    .flags = CLNET_OP_NOT_SMOOTH | CLNET_OP_ACTIVATION,                                            \
    .act_offset = offsetof(clnet__activation_params, act), .parse = op##_parse,                    \
    .infer = clnet__op_same_shape, .flops = clnet__op_flops_per_element,                           \
    .forward = activation_forward, .backward = activation_backward,                                \
    .ref_forward = clnet__ref_activation_forward, .ref_backward = clnet__ref_activation_backward,  \
    .cases = op##_cases, .n_cases = (int)CLNET_COUNTOF(op##_cases)

const clnet__op_desc clnet__op_activation = {ACTIVATION_OP(
    activation, "Activation", "any activation of the table on its own", activation_describe)};
const clnet__op_desc clnet__op_leaky_relu = {
    ACTIVATION_OP(leaky_relu, "LeakyReLU", "x above 0, negative_slope * x below", alpha_describe)};
const clnet__op_desc clnet__op_elu = {
    ACTIVATION_OP(elu, "ELU", "x above 0, alpha * (exp(x) - 1) below", alpha_describe)};
