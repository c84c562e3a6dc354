/* test_activation.c - the activation table (src/ops/activation.h): every entry standalone
 * (the activation op) against src/ref/activation.c on every class at odd shapes, with the
 * reference's gradient against finite differences; known values of each entry, on the
 * reference and every class; the names the activation key accepts are exactly the table's;
 * the kernels' ACT_* codes are the table's ids. Also the leaky_relu and elu ops. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "device/cl_sources.h"
#include "ref/ref.h"
#include "support/support.h"

/* Every table entry at 1x1 with batch 3 and 33 channels, and at 3x5 with 17 (off the float16
 * width and the CPU chunk), scaled to cross relu6's and hard_swish's kinks. */
#define CASES(NAME, name, ...)                                                                     \
    {"activation = " #name, 1, {{3, 1, 1, 33}}, 4.0f},                                             \
        {"activation = " #name, 1, {{1, 3, 5, 17}}, 7.0f},
static const clnet__op_case activation_extra_cases[] = {CLNET_ACTIVATIONS(CASES)};
#undef CASES
static const clnet__op_case leaky_relu_extra_cases[] = {
    {"negative_slope = 0", 1, {{3, 1, 1, 17}}, 0},
};
static const clnet__op_case elu_extra_cases[] = {
    {"alpha = 2", 1, {{1, 1, 1, 33}}, 4.0f},
};

CLNET_TEST_OP(activation)
CLNET_TEST_OP(leaky_relu)
CLNET_TEST_OP(elu)

/* y and dy/dx of an activation (spec text) at x, from Keras / PyTorch or by hand. */
typedef struct known {
    const char *act;
    float x, y, dydx;
} known;

static const known knowns[] = {
    {"none", -1.5f, -1.5f, 1.0f},
    {"linear", 2.0f, 2.0f, 1.0f},
    {"relu", -1.0f, 0.0f, 0.0f},
    {"relu", 2.5f, 2.5f, 1.0f},
    {"relu6", 7.0f, 6.0f, 0.0f},
    {"relu6", 3.0f, 3.0f, 1.0f},
    {"leaky_relu", -2.0f, -0.4f, 0.2f}, /* keras.activations.leaky_relu: slope 0.2 */
    {"leaky_relu(0.01)", -3.0f, -0.03f, 0.01f},
    {"elu", -1.0f, -0.63212056f, 0.36787944f},
    {"elu(0.5)", 2.0f, 2.0f, 1.0f},
    {"sigmoid", 0.0f, 0.5f, 0.25f},
    {"sigmoid", 2.0f, 0.88079708f, 0.10499359f},
    {"tanh", 1.0f, 0.76159416f, 0.41997434f},
    {"hard_sigmoid", 1.0f, 0.66666667f, 0.16666667f},
    {"hard_sigmoid", -4.0f, 0.0f, 0.0f},
    {"swish", 1.0f, 0.73105858f, 0.92767051f},
    {"silu", -1.0f, -0.26894142f, 0.07232949f},
    {"hard_swish", -1.0f, -0.33333333f, 0.16666667f},
    {"hard_swish", 4.0f, 4.0f, 1.0f},
    {"hard_silu", -3.5f, 0.0f, 0.0f},
    {"gelu", 1.0f, 0.84134475f, 1.08331547f}, /* Keras's gelu(1), Phi(1) + phi(1) */
    {"gelu", -1.0f, -0.15865525f, -0.08331547f},
    {"gelu_tanh", 1.0f, 0.84119199f, 1.08296408f}, /* keras.ops.gelu(1), approximate */
    {"gelu_tanh", -1.0f, -0.15880801f, -0.08296408f},
};

/* The clnet__act the spec text act names, through the parser every op uses. */
static clnet__act parsed(const char *act)
{
    char text[96];
    snprintf(text, sizeof text, "activation = %s\n", act);
    clnet__activation_params *p = NULL;
    clnet_status st =
        clnet__op_parse(clnet_test_device(), &clnet__op_activation, text, "test", (void **)&p);
    cr_assert_eq(st, CLNET_OK, "%s: %s", act, clnet_context_error(clnet_test_device()));
    const clnet__act a = p->act;
    free(p);
    return a;
}

Test(activation, known_values_of_the_reference)
{
    for (size_t i = 0; i < CLNET_COUNTOF(knowns); ++i) {
        const known *k = &knowns[i];
        const clnet__act a = parsed(k->act);
        const double y = clnet__ref_act(a, k->x), d = clnet__ref_act_grad(a, k->x);
        cr_expect(fabs(y - k->y) <= 1e-7 * (1.0 + fabs(k->y)), "%s(%g) = %.9g, want %.9g", k->act,
                  (double)k->x, y, (double)k->y);
        cr_expect(fabs(d - k->dydx) <= 1e-7 * (1.0 + fabs(k->dydx)), "%s'(%g) = %.9g, want %.9g",
                  k->act, (double)k->x, d, (double)k->dydx);
    }
}

Test(activation, known_values_on_every_class, .timeout = 600)
{
    for (size_t i = 0; i < CLNET_COUNTOF(knowns); ++i) {
        const known *k = &knowns[i];
        char params[96];
        snprintf(params, sizeof params, "activation = %s", k->act);
        const float dout = 1.0f;
        clnet_test_expect_op("activation", params, (clnet_shape){1, 1, 1, 1}, &k->x,
                             (clnet_shape){1, 1, 1, 1}, &k->y, &dout, &k->dydx, 2e-6f);
    }
}

/* Adding an activation means adding its known values. */
Test(activation, every_entry_has_known_values)
{
    for (int id = 0; id < CLNET_ACT_COUNT; ++id) {
        int found = 0;
        for (size_t i = 0; i < CLNET_COUNTOF(knowns); ++i)
            found |= parsed(knowns[i].act).id == (clnet__act_id)id;
        cr_expect(found, "%s has no known values here", clnet__act_table[id].name);
    }
}

/* The '|'-separated names of list (CLNET_ACT_NAMES without its first '|') into names. */
static int split(const char *list, char names[][32], int max)
{
    int n = 0;
    for (const char *p = list; *p && n < max; ++n) {
        const size_t len = strcspn(p, "|");
        snprintf(names[n], sizeof names[n], "%.*s", (int)len, p);
        p += len + (p[len] == '|');
    }
    return n;
}

Test(activation, the_key_accepts_exactly_the_tables_names)
{
    char names[64][32];
    const int n = split(&CLNET_ACT_NAMES[1], names, 64);
    /* Each documented name is an entry's name or alias, and each entry's name and Keras name
     * is documented. */
    for (int i = 0; i < n; ++i) {
        const int id = clnet__act_lookup(names[i]);
        cr_assert(id >= 0, "documented name %s is in no table entry", names[i]);
        cr_expect_eq(parsed(names[i]).id, (clnet__act_id)id, "%s", names[i]);
    }
    for (int id = 0; id < CLNET_ACT_COUNT; ++id) {
        const clnet__act_info *a = &clnet__act_table[id];
        cr_expect_eq(clnet__act_lookup(a->name), id, "%s", a->name);
        if (a->keras)
            cr_expect_eq(clnet__act_lookup(a->keras), id, "Keras name %s of %s", a->keras, a->name);
    }
    /* Anything else is refused, by every op that fuses an activation. */
    static const char *const bad[] = {"mish",           "Relu",           "relu(1)",     "softmax",
                                      "leaky_relu(-1)", "elu(x)",         "gelu_approx", "",
                                      "swish(1)",       "leaky_relu(0.1", "relu6 6"};
    static const char *const fusing[] = {"conv2d\nfilters = 2\nkernel_size = 1",
                                         "depthwise_conv2d\nkernel_size = 1", "dense\nunits = 2",
                                         "batch_norm", "add"};
    for (size_t o = 0; o < CLNET_COUNTOF(fusing); ++o) {
        char op[32], text[4096];
        const char *rest = strchr(fusing[o], '\n');
        snprintf(op, sizeof op, "%.*s", rest ? (int)(rest - fusing[o]) : (int)strlen(fusing[o]),
                 fusing[o]);
        const clnet__op_desc *desc = clnet__op_find(op);
        cr_assert_not_null(desc, "%s", op);
        for (size_t b = 0; b < CLNET_COUNTOF(bad); ++b) {
            if (strcmp(bad[b], "softmax") == 0 && strcmp(op, "dense") == 0)
                continue;
            snprintf(text, sizeof text, "%s\nactivation = %s\n", rest ? rest + 1 : "", bad[b]);
            void *p = NULL;
            cr_expect_eq(clnet__op_parse(clnet_test_device(), desc, text, "test", &p),
                         CLNET_ERR_PARSE, "%s accepts activation '%s'", op, bad[b]);
            free(p);
        }
        for (int i = 0; i < n; ++i) {
            snprintf(text, sizeof text, "%s\nactivation = %s\n", rest ? rest + 1 : "", names[i]);
            void *p = NULL;
            cr_expect_eq(clnet__op_parse(clnet_test_device(), desc, text, "test", &p), CLNET_OK,
                         "%s refuses activation '%s': %s", op, names[i],
                         clnet_context_error(clnet_test_device()));
            free(p);
        }
        /* The documented values are the table's. */
        const clnet_op_key *key = NULL;
        for (int k = 0; k < desc->n_keys; ++k)
            if (strcmp(desc->keys[k].name, "activation") == 0)
                key = &desc->keys[k];
        cr_assert_not_null(key, "%s documents no activation key", op);
        cr_expect(strncmp(key->type, &CLNET_ACT_NAMES[1], strlen(&CLNET_ACT_NAMES[1])) == 0,
                  "%s documents %s", op, key->type);
    }
}

Test(activation, a_parameter_comes_in_parentheses)
{
    cr_expect_float_eq(parsed("leaky_relu").alpha, 0.2f, 1e-9);
    cr_expect_float_eq(parsed("leaky_relu( 0.05 )").alpha, 0.05f, 1e-9);
    cr_expect_float_eq(parsed("elu").alpha, 1.0f, 1e-9);
    cr_expect_float_eq(parsed("elu(0)").alpha, 0.0f, 1e-9);
    clnet_test_expect_parse_error("activation", "activation = relu(2)", "takes no parameter");
    clnet_test_expect_parse_error("activation", "activation = elu(-1)", ">= 0");
    clnet_test_expect_parse_error("activation", "", "activation");
    clnet_test_expect_parse_error("leaky_relu", "negative_slope = -0.1", "negative_slope");
    char buf[48];
    cr_expect_str_eq(clnet__act_str(parsed("leaky_relu(0.1)"), buf, sizeof buf), "leaky_relu(0.1)");
    cr_expect_str_eq(clnet__act_str(parsed("silu"), buf, sizeof buf), "swish");
}

/* cl/common.cl's ACT_<NAME> codes are the table's ids: a kernel never runs another entry. */
Test(activation, the_kernel_codes_are_the_table_ids)
{
    const char *common = NULL;
    for (int i = 0; clnet__cl_sources[i].name; ++i)
        if (strcmp(clnet__cl_sources[i].name, "common") == 0)
            common = clnet__cl_sources[i].text;
    cr_assert_not_null(common);
    for (int id = 0; id < CLNET_ACT_COUNT; ++id) {
        char line[64];
        snprintf(line, sizeof line, "#define ACT_%s %d\n", clnet__act_table[id].code, id);
        cr_expect(strstr(common, line), "cl/common.cl lacks \"%.*s\"", (int)strlen(line) - 1, line);
    }
}

/* The pre-activation an activation's backward reads, kept by a fused op in training: conv2d,
 * depthwise_conv2d, dense and add save it, batch_norm recomputes it; relu and the like keep
 * nothing more. */
Test(activation, only_input_reading_activations_add_saved_state)
{
    static const char *const ops[][2] = {{"conv2d", "filters = 4\nkernel_size = 3\n"},
                                         {"depthwise_conv2d", "kernel_size = 3\n"},
                                         {"dense", "units = 4\n"},
                                         {"add", ""},
                                         {"batch_norm", ""}};
    const clnet_shape in[2] = {{2, 5, 5, 4}, {2, 5, 5, 4}};
    for (size_t o = 0; o < CLNET_COUNTOF(ops); ++o) {
        const clnet__op_desc *desc = clnet__op_find(ops[o][0]);
        for (int id = 0; id < CLNET_ACT_COUNT; ++id) {
            char text[160];
            snprintf(text, sizeof text, "%sactivation = %s\n", ops[o][1],
                     clnet__act_table[id].name);
            void *p = NULL;
            cr_assert_eq(clnet__op_parse(clnet_test_device(), desc, text, "test", &p), CLNET_OK);
            clnet_shape saved[CLNET_MAX_SAVED];
            const int n = desc->saved ? desc->saved(p, in, desc->min_inputs, saved) : 0;
            const int base = strcmp(ops[o][0], "batch_norm") == 0 ? 2 : 0;
            const int from_input = (clnet__act_table[id].flags & CLNET_ACT_FROM_INPUT) != 0;
            cr_expect_eq(n, base + (from_input && base == 0), "%s with %s keeps %d tensors",
                         ops[o][0], clnet__act_table[id].name, n);
            free(p);
        }
    }
}
