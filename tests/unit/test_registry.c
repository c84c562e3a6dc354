/* test_registry.c - the facts every op's descriptor carries for the graph code (src/graph
 * reads them, never the op's name): its Keras class name, its family in pictures, how it
 * describes its parameters, and which ops show a rank-2 output. No device needed. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "device/runtime.h"
#include "ops/op.h"

static clnet_context *fake_ctx(void)
{
    static struct clnet_context ctx;
    return &ctx;
}

Test(registry, every_op_has_a_keras_name_and_a_family)
{
    int n = 0;
    const clnet__op_desc *const *ops = clnet__op_all(&n);
    for (int i = 0; i < n; ++i) {
        const clnet__op_desc *op = ops[i];
        cr_expect(op->keras && op->keras[0], "%s has no Keras class name", op->name);
        cr_expect(op->family > CLNET_FAMILY_NONE && op->family < CLNET_FAMILY_COUNT,
                  "%s has no family (clnet__op_family)", op->name);
    }
}

/* An op with keys shows them: its describe writes a terminated line within the buffer for
 * each of its cases, and a buffer of one byte stays terminated. */
Test(registry, every_op_with_keys_describes_its_parameters)
{
    int n = 0;
    const clnet__op_desc *const *ops = clnet__op_all(&n);
    for (int i = 0; i < n; ++i) {
        const clnet__op_desc *op = ops[i];
        if (op->n_keys > 0)
            cr_expect_not_null(op->describe, "%s has keys but no describe", op->name);
        if (!op->describe)
            continue;
        for (int c = 0; c < op->n_cases; ++c) {
            void *params = NULL;
            cr_assert_eq(clnet__op_parse(fake_ctx(), op, op->cases[c].params, op->name, &params),
                         CLNET_OK, "%s: %s", op->name, clnet_context_error(fake_ctx()));
            char buf[128], one[1] = {'x'};
            memset(buf, 'x', sizeof buf);
            op->describe(params, buf, sizeof buf);
            cr_expect(memchr(buf, '\0', sizeof buf), "%s: describe wrote no terminator", op->name);
            op->describe(params, one, sizeof one);
            cr_expect_eq(one[0], '\0', "%s: describe overran a 1-byte buffer", op->name);
            free(params);
        }
    }
}

Test(registry, describe_shows_what_pictures_show)
{
    static const char *const want[][3] = {
        {"conv2d", "filters = 64\nkernel_size = 3\nstrides = 2\nactivation = relu",
         "3x3/2, 64 + ReLU"},
        {"depthwise_conv2d", "kernel_size = 3\ndepth_multiplier = 2\nactivation = hard_swish",
         "3x3, x2 + HardSwish"},
        {"dense", "units = 10\nactivation = softmax", "10 units + Softmax"},
        {"batch_norm", "activation = leaky_relu(0.1)", " + LeakyReLU(0.1)"},
        {"add", "", ""},
        {"max_pool", "pool_size = 3\nstrides = 2, 1", "3x3/2,1"},
        {"activation", "activation = gelu", "gelu"},
        {"leaky_relu", "", "negative_slope 0.3"},
        {"relu", "max_value = 6", "max 6"},
        {"zero_pad", "padding = 1, 2", "((1, 1), (2, 2))"},
    };
    for (size_t i = 0; i < CLNET_COUNTOF(want); ++i) {
        const clnet__op_desc *op = clnet__op_find(want[i][0]);
        cr_assert_not_null(op, "%s", want[i][0]);
        void *params = NULL;
        cr_assert_eq(clnet__op_parse(fake_ctx(), op, want[i][1], op->name, &params), CLNET_OK,
                     "%s: %s", op->name, clnet_context_error(fake_ctx()));
        char buf[128];
        op->describe(params, buf, sizeof buf);
        cr_expect_str_eq(buf, want[i][2], "%s", op->name);
        free(params);
    }
}

/* Keras shows Flatten and the global pools as (None, c). */
Test(registry, rank2_ops_are_flagged)
{
    static const char *const flat[] = {"flatten", "global_avg_pool", "global_max_pool"};
    for (size_t i = 0; i < CLNET_COUNTOF(flat); ++i) {
        const clnet__op_desc *op = clnet__op_find(flat[i]);
        cr_assert_not_null(op, "%s", flat[i]);
        cr_expect(op->flags & CLNET_OP_RANK2, "%s", flat[i]);
    }
    cr_expect_not(clnet__op_find("conv2d")->flags & CLNET_OP_RANK2);
}
