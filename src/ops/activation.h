/* activation.h - the activation table: every activation clnet runs, fused into the epilogue
 * of conv2d, depthwise_conv2d, dense, batch_norm and add, or standalone (the activation,
 * leaky_relu and elu ops). An activation is one CLNET_ACTIVATIONS line here, its two
 * formulas in OpenCL (act_forward / act_backward in cl/common.cl, code ACT_<NAME>) and in
 * double (clnet__ref_act_<name> and _grad in src/ref/activation.c), and its known values in
 * tests/ops/test_activation.c. Table and parsing: src/ops/activation.c. */
#ifndef CLNET_OPS_ACTIVATION_H
#define CLNET_OPS_ACTIVATION_H

#include <stddef.h>

#include "ops/kv.h"

/* What an activation's derivative reads. FROM_OUTPUT: its output y says all (relu's y > 0,
 * sigmoid's y (1 - y)), so backward keeps the output the op writes anyway. FROM_INPUT: it
 * needs the pre-activation x (swish, GELU: not monotonic, y does not give x), which a fused
 * op keeps in a saved tensor or recomputes. ALPHA: it takes the parameter alpha. */
enum { CLNET_ACT_FROM_OUTPUT = 0, CLNET_ACT_FROM_INPUT = 1 << 0, CLNET_ACT_ALPHA = 1 << 1 };

/* X(NAME, name, aliases, keras, onnx, title, alpha, flags), one line per activation:
 *   name     the spec's name (activation = name), also the C reference's function names;
 *   aliases  further names the spec accepts, each after a '|' ("" for none);
 *   keras    Keras 3's activation string (NULL: Keras has none);
 *   onnx     the ONNX op computing it (HardSigmoid with alpha 1/6, Clip with 0, 6);
 *   title    how summaries and pictures show it after an op: "Conv2D + ReLU6";
 *   alpha    the default of its parameter (CLNET_ACT_ALPHA only): leaky_relu's negative
 *            slope is keras.activations.leaky_relu's 0.2 (the LeakyReLU layer's 0.3 and
 *            ONNX's 0.01 are the leaky_relu op's default and the importer's to pass), elu's
 *            alpha Keras's and ONNX's 1. */
#define CLNET_ACTIVATIONS(X)                                                                       \
    X(NONE, none, "|linear", "linear", "Identity", "", 0.0f, CLNET_ACT_FROM_OUTPUT)                \
    X(RELU, relu, "", "relu", "Relu", "ReLU", 0.0f, CLNET_ACT_FROM_OUTPUT)                         \
    X(RELU6, relu6, "", "relu6", "Clip", "ReLU6", 0.0f, CLNET_ACT_FROM_OUTPUT)                     \
    X(LEAKY_RELU, leaky_relu, "", "leaky_relu", "LeakyRelu", "LeakyReLU", 0.2f,                    \
      CLNET_ACT_FROM_OUTPUT | CLNET_ACT_ALPHA)                                                     \
    X(ELU, elu, "", "elu", "Elu", "ELU", 1.0f, CLNET_ACT_FROM_OUTPUT | CLNET_ACT_ALPHA)            \
    X(SIGMOID, sigmoid, "", "sigmoid", "Sigmoid", "Sigmoid", 0.0f, CLNET_ACT_FROM_OUTPUT)          \
    X(TANH, tanh, "", "tanh", "Tanh", "Tanh", 0.0f, CLNET_ACT_FROM_OUTPUT)                         \
    X(HARD_SIGMOID, hard_sigmoid, "", "hard_sigmoid", "HardSigmoid", "HardSigmoid", 0.0f,          \
      CLNET_ACT_FROM_OUTPUT)                                                                       \
    X(SWISH, swish, "|silu", "silu", "Swish", "Swish", 0.0f, CLNET_ACT_FROM_INPUT)                 \
    X(HARD_SWISH, hard_swish, "|hard_silu", "hard_silu", "HardSwish", "HardSwish", 0.0f,           \
      CLNET_ACT_FROM_INPUT)                                                                        \
    X(GELU, gelu, "", "gelu", "Gelu", "GELU", 0.0f, CLNET_ACT_FROM_INPUT)                          \
    X(GELU_TANH, gelu_tanh, "", NULL, "Gelu", "GELU(tanh)", 0.0f, CLNET_ACT_FROM_INPUT)

/* The kernels' ACT argument (cl/common.cl's ACT_<NAME> codes, checked by
 * tests/ops/test_activation.c). SOFTMAX (dense only) is no per-element epilogue: dense runs
 * the softmax op's row kernels after its GEMM, and the kernels never see it. */
typedef enum clnet__act_id {
#define CLNET__ACT_ENUM(NAME, ...) CLNET_ACT_##NAME,
    CLNET_ACTIVATIONS(CLNET__ACT_ENUM)
#undef CLNET__ACT_ENUM
        CLNET_ACT_COUNT,
    CLNET_ACT_SOFTMAX = CLNET_ACT_COUNT
} clnet__act_id;

/* An activation as an op's params hold it (zeroed: none). */
typedef struct clnet__act {
    clnet__act_id id;
    float alpha; /* the parameter of CLNET_ACT_ALPHA activations, else 0 */
} clnet__act;

/* Every name the activation key accepts, each after a '|', in table order (the keys'
 * documented type, without its first character). */
#define CLNET__ACT_DOC(NAME, name, aliases, ...) "|" #name aliases
#define CLNET_ACT_NAMES CLNET_ACTIVATIONS(CLNET__ACT_DOC)

typedef struct clnet__act_info {
    const char *name, *aliases, *keras, *onnx, *title;
    const char *code; /* "SWISH": cl/common.cl's ACT_SWISH */
    float alpha;
    unsigned flags;
    /* The specification in double: y at pre-activation x, and dy/dx at x. */
    double (*ref)(double x, double alpha);
    double (*ref_grad)(double x, double alpha);
} clnet__act_info;

/* The table, indexed by clnet__act_id (CLNET_ACT_COUNT entries). */
extern const clnet__act_info clnet__act_table[CLNET_ACT_COUNT];

/* Reads key (absent: none, or an error when required) as a table name or alias, with the
 * parameter in parentheses for CLNET_ACT_ALPHA ones ("leaky_relu(0.1)"; absent: the table's
 * default). softmax only when allow_softmax (dense). Errors name the key and the choices. */
clnet_status clnet__act_parse(clnet_context *ctx, clnet__kv *kv, const char *key, int required,
                              int allow_softmax, clnet__act *out);
/* The activation's table entry id when name is one of its names, else -1. */
int clnet__act_lookup(const char *name);
/* Whether backward needs the pre-activation (CLNET_ACT_FROM_INPUT). */
int clnet__act_from_input(clnet__act a);
/* a as the spec writes it: "relu6", "leaky_relu(0.1)", "softmax". */
const char *clnet__act_str(clnet__act a, char *buf, size_t len);
/* " + ReLU6" after an op's parameters in pictures and plans; "" for none. */
const char *clnet__act_suffix(clnet__act a, char *buf, size_t len);

#define CLNET_KEY_ACTIVATION                                                                       \
    {                                                                                              \
        "activation", &CLNET_ACT_NAMES[1], "none",                                                 \
            "applied to the output, fused into the op; leaky_relu and elu take alpha in "          \
            "parentheses: leaky_relu(0.1)",                                                        \
            "relu6"                                                                                \
    }

#endif
