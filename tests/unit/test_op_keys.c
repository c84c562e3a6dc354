/* test_op_keys.c - every op's documented keys (clnet__op_desc.keys, listed by
 * clnet_op_info_at and `clnet ops`) against what its parse function reads: each
 * documented key is accepted with its sample value, each key parse looks up is
 * documented, required keys are exactly those without a default, and an undocumented
 * key is still rejected, naming the op's keys. Also the suggestions for unknown op names.
 * No device needed. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/runtime.h"
#include "ops/op.h"

/* Errors are recorded on a context; a zeroed one is enough without a device. */
static clnet_context *fake_ctx(void)
{
    static struct clnet_context ctx;
    return &ctx;
}

/* "key = sample" lines of op's keys into buf: the required ones, plus key `also` (NULL:
 * every key). */
static const char *key_lines(const clnet__op_desc *op, const char *also, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < op->n_keys; ++k) {
        const clnet_op_key *key = &op->keys[k];
        if (key->default_value && also && strcmp(also, key->name) != 0)
            continue;
        used += (size_t)snprintf(buf + used, len - used, "%s = %s\n", key->name, key->sample);
    }
    return buf;
}

static const clnet_op_key *documented(const clnet__op_desc *op, const char *name)
{
    for (int k = 0; k < op->n_keys; ++k)
        if (strcmp(op->keys[k].name, name) == 0)
            return &op->keys[k];
    return NULL;
}

Test(op_keys, every_key_parse_reads_is_documented)
{
    int n = 0;
    const clnet__op_desc *const *ops = clnet__op_all(&n);
    for (int i = 0; i < n; ++i) {
        const clnet__op_desc *op = ops[i];
        char text[1024];
        clnet__kv kv;
        void *params = calloc(1, op->params_size ? op->params_size : 1);
        cr_assert_eq(
            clnet__kv_parse(fake_ctx(), key_lines(op, NULL, text, sizeof text), op->name, 1, &kv),
            CLNET_OK);
        cr_expect_eq(op->parse(fake_ctx(), &kv, params), CLNET_OK, "%s with every key: %s",
                     op->name, clnet_context_error(fake_ctx()));
        for (int a = 0; a < kv.n_asked; ++a)
            cr_expect_not_null(documented(op, kv.asked[a]), "%s reads key '%s', not documented",
                               op->name, kv.asked[a]);
        for (int k = 0; k < kv.n; ++k)
            cr_expect(kv.items[k].used, "%s documents key '%s' but its parse does not read it",
                      op->name, kv.items[k].key);
        free(params);
    }
}

Test(op_keys, every_documented_key_is_accepted_alone)
{
    int n = 0;
    const clnet__op_desc *const *ops = clnet__op_all(&n);
    for (int i = 0; i < n; ++i) {
        const clnet__op_desc *op = ops[i];
        cr_expect(op->keras && op->keras[0] && op->description && op->description[0],
                  "%s lacks a Keras name or a description", op->name);
        for (int k = 0; k < op->n_keys; ++k) {
            const clnet_op_key *key = &op->keys[k];
            cr_expect(key->type && key->description && key->sample, "%s.%s is incomplete", op->name,
                      key->name);
            char text[1024];
            void *params = NULL;
            const clnet_status st = clnet__op_parse(
                fake_ctx(), op, key_lines(op, key->name, text, sizeof text), op->name, &params);
            cr_expect_eq(st, CLNET_OK, "%s with %s = %s: %s", op->name, key->name, key->sample,
                         clnet_context_error(fake_ctx()));
            free(params);
        }
    }
}

Test(op_keys, required_keys_are_those_without_a_default)
{
    int n = 0;
    const clnet__op_desc *const *ops = clnet__op_all(&n);
    for (int i = 0; i < n; ++i) {
        const clnet__op_desc *op = ops[i];
        for (int k = 0; k < op->n_keys; ++k) {
            if (op->keys[k].default_value)
                continue;
            /* Every required key but this one. */
            char text[1024] = "";
            size_t used = 0;
            for (int j = 0; j < op->n_keys; ++j)
                if (j != k && !op->keys[j].default_value)
                    used += (size_t)snprintf(text + used, sizeof text - used, "%s = %s\n",
                                             op->keys[j].name, op->keys[j].sample);
            void *params = NULL;
            cr_expect_eq(clnet__op_parse(fake_ctx(), op, text, op->name, &params), CLNET_ERR_PARSE,
                         "%s parses without its required key %s", op->name, op->keys[k].name);
            cr_expect(strstr(clnet_context_error(fake_ctx()), op->keys[k].name), "%s: %s", op->name,
                      clnet_context_error(fake_ctx()));
            free(params);
        }
        /* Without the required keys nothing else is needed. */
        char text[1024];
        void *params = NULL;
        cr_expect_eq(clnet__op_parse(fake_ctx(), op, key_lines(op, "", text, sizeof text), op->name,
                                     &params),
                     CLNET_OK, "%s with its required keys only: %s", op->name,
                     clnet_context_error(fake_ctx()));
        free(params);
    }
}

Test(op_keys, an_undocumented_key_is_rejected_naming_the_keys)
{
    int n = 0;
    const clnet__op_desc *const *ops = clnet__op_all(&n);
    for (int i = 0; i < n; ++i) {
        const clnet__op_desc *op = ops[i];
        char text[1024];
        key_lines(op, "", text, sizeof text);
        strcat(text, "no_such_key = 1\n");
        void *params = NULL;
        cr_expect_eq(clnet__op_parse(fake_ctx(), op, text, "net.spec [x]", &params),
                     CLNET_ERR_PARSE, "%s accepts no_such_key", op->name);
        cr_expect_null(params);
        const char *msg = clnet_context_error(fake_ctx());
        cr_expect(strstr(msg, "key 'no_such_key'"), "%s", msg);
        for (int k = 0; k < op->n_keys; ++k)
            cr_expect(strstr(msg, op->keys[k].name), "%s: the message lacks %s: %s", op->name,
                      op->keys[k].name, msg);
    }
}

Test(op_keys, a_misspelt_key_gets_a_suggestion)
{
    void *params = NULL;
    cr_assert_eq(clnet__op_parse(fake_ctx(), clnet__op_find("conv2d"),
                                 "filters = 8\nkernel_size = 3\nstride = 2\n", "net.spec [c1]",
                                 &params),
                 CLNET_ERR_PARSE);
    cr_expect(strstr(clnet_context_error(fake_ctx()),
                     "net.spec [c1] line 3: key 'stride': unknown key for op conv2d (did you mean "
                     "strides? it takes filters, kernel_size, strides,"),
              "%s", clnet_context_error(fake_ctx()));
}

Test(op_keys, the_public_list_is_the_input_then_the_registry)
{
    int n = 0;
    const clnet__op_desc *const *ops = clnet__op_all(&n);
    cr_assert_eq(clnet_op_count(), n + 1);
    const clnet_op_info *input = clnet_op_info_at(0);
    cr_assert_not_null(input);
    cr_expect_str_eq(input->name, "input");
    cr_expect_eq(input->n_keys, 1);
    cr_expect_str_eq(input->keys[0].name, "shape");
    for (int i = 0; i < n; ++i) {
        const clnet_op_info *info = clnet_op_info_at(i + 1);
        cr_assert_not_null(info);
        cr_expect_str_eq(info->name, ops[i]->name);
        cr_expect_str_eq(info->keras, ops[i]->keras);
        cr_expect_eq(info->keys, ops[i]->keys);
        cr_expect_eq(info->n_keys, ops[i]->n_keys);
        cr_expect_eq(info->min_inputs, ops[i]->min_inputs);
    }
    cr_expect_null(clnet_op_info_at(-1));
    cr_expect_null(clnet_op_info_at(n + 1));
}

Test(op_keys, the_input_key_sample_reads_as_a_spec)
{
    const clnet_op_info *input = clnet_op_info_at(0);
    char text[256], err[256] = "";
    snprintf(text, sizeof text, "[x]\nop = input\n%s = %s\n", input->keys[0].name,
             input->keys[0].sample);
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_from_spec(text, "t.spec", &g, err, sizeof err), CLNET_OK, "%s", err);
    clnet_graph_destroy(g);
}

Test(op_keys, unknown_op_names_get_the_nearest_op)
{
    static const char *const pairs[][2] = {
        {"Conv2D", "conv2d"},
        {"Dense", "dense"},
        {"BatchNormalization", "batch_norm"},
        {"GlobalAveragePooling2D", "global_avg_pool"},
        {"MaxPool2D", "max_pool"},
        {"MaxPooling2D", "max_pool"},
        {"AveragePooling2D", "avg_pool"},
        {"DepthwiseConv2D", "depthwise_conv2d"},
        {"ZeroPadding2D", "zero_pad"},
        {"ReLU", "relu"},
        {"batchnorm", "batch_norm"},
        {"conv2", "conv2d"},
        {"softmx", "softmax"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; ++i) {
        const clnet__op_desc *op = clnet__op_suggest(pairs[i][0]);
        cr_expect(op && strcmp(op->name, pairs[i][1]) == 0, "%s gave %s, not %s", pairs[i][0],
                  op ? op->name : "nothing", pairs[i][1]);
    }
    cr_expect_null(clnet__op_suggest("transformer"));
    cr_expect_null(clnet__op_suggest(""));
}

Test(op_keys, the_unknown_op_error_lists_the_ops_and_suggests_one)
{
    char err[1024] = "";
    clnet_graph *g = NULL;
    cr_assert_eq(clnet_graph_from_spec("[image]\nop = input\nshape = 8, 8, 1\n\n[c1]\nop = Conv2D\n"
                                       "filters = 4\nkernel_size = 3\n",
                                       "net.spec", &g, err, sizeof err),
                 CLNET_ERR_UNKNOWN_OP);
    cr_expect(strstr(err, "net.spec line 5 [c1]: unknown op 'Conv2D' (did you mean conv2d? "
                          "`clnet ops` lists them: activation, add, avg_pool, batch_norm,"),
              "%s", err);
    cr_expect(strstr(err, ", input, "), "the spec's list names input: %s", err);
    cr_assert_eq(clnet_graph_from_spec("[image]\nop = Input\nshape = 8, 8, 1\n", "net.spec", &g,
                                       err, sizeof err),
                 CLNET_ERR_UNKNOWN_OP);
    cr_expect(strstr(err, "unknown op 'Input' (did you mean input?"), "%s", err);
    /* The C builder says the same, without input (clnet_graph_input adds those). */
    cr_assert_eq(clnet_graph_create(&g), CLNET_OK);
    clnet_layer x = clnet_graph_input(g, NULL, 8, 8, 1);
    cr_expect_eq(clnet_graph_layer(g, "BatchNormalization", "bn", "", &x, 1), CLNET_LAYER_NONE);
    cr_expect(strstr(clnet_graph_error(g), "layer 'bn': unknown op 'BatchNormalization' (did you "
                                           "mean batch_norm? `clnet ops` lists them:"),
              "%s", clnet_graph_error(g));
    cr_expect_null(strstr(clnet_graph_error(g), "input"), "%s", clnet_graph_error(g));
    clnet_graph_destroy(g);
}
