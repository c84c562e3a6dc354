/* test_kv.c - the key = value parameter parser (src/ops/kv.c): values, defaults,
 * and errors that name the key, the line and the section. No device needed. */
#include <criterion/criterion.h>
#include <string.h>

#include "device/runtime.h"
#include "ops/kv.h"
#include "ops/op.h"

/* Errors are recorded on a context; a zeroed one is enough without a device. */
static clnet_context *fake_ctx(void)
{
    static struct clnet_context ctx;
    return &ctx;
}

Test(kv, parses_values_and_defaults)
{
    clnet_context *ctx = fake_ctx();
    clnet__kv kv;
    cr_assert_eq(clnet__kv_parse(ctx,
                                 "filters = 64\n# comment\n\nkernel_size=(3, 5)\n"
                                 "padding = same  # trailing\nuse_bias = false\nrate=0.25\n",
                                 "net.spec [conv1]", 10, &kv),
                 CLNET_OK);
    int filters = 0, k[2] = {0}, bias = 1, strides[2] = {0};
    double rate = 0;
    static const char *const pads[] = {"valid", "same"};
    int pad = -1;
    cr_assert_eq(clnet__kv_int(ctx, &kv, "filters", CLNET_KV_REQUIRED, &filters), CLNET_OK);
    cr_assert_eq(clnet__kv_int2(ctx, &kv, "kernel_size", CLNET_KV_REQUIRED, k), CLNET_OK);
    cr_assert_eq(clnet__kv_int2(ctx, &kv, "strides", 1, strides), CLNET_OK);
    cr_assert_eq(clnet__kv_bool(ctx, &kv, "use_bias", 1, &bias), CLNET_OK);
    cr_assert_eq(clnet__kv_enum(ctx, &kv, "padding", pads, 2, 0, &pad), CLNET_OK);
    cr_assert_eq(clnet__kv_float(ctx, &kv, "rate", 0.5, &rate), CLNET_OK);
    cr_assert_eq(filters, 64);
    cr_assert(k[0] == 3 && k[1] == 5);
    cr_assert(strides[0] == 1 && strides[1] == 1);
    cr_assert_eq(bias, 0);
    cr_assert_eq(pad, 1);
    cr_assert_float_eq(rate, 0.25, 1e-12);
    cr_assert_eq(clnet__kv_check_unused(ctx, &kv, "conv2d"), CLNET_OK);
}

Test(kv, errors_name_key_line_and_section)
{
    clnet_context *ctx = fake_ctx();
    clnet__kv kv;
    cr_assert_eq(clnet__kv_parse(ctx, "filters = sixty\nbogus = 1\n", "net.spec [conv1]", 7, &kv),
                 CLNET_OK);
    int v = 0;
    cr_assert_eq(clnet__kv_int(ctx, &kv, "filters", 1, &v), CLNET_ERR_PARSE);
    const char *msg = clnet_context_error(ctx);
    cr_assert(strstr(msg, "net.spec [conv1]") && strstr(msg, "line 7") && strstr(msg, "filters"),
              "%s", msg);
    cr_assert_eq(clnet__kv_int(ctx, &kv, "units", CLNET_KV_REQUIRED, &v), CLNET_ERR_PARSE);
    cr_assert(strstr(clnet_context_error(ctx), "units"), "%s", clnet_context_error(ctx));
    cr_assert_eq(clnet__kv_check_unused(ctx, &kv, "conv2d"), CLNET_ERR_PARSE);
    msg = clnet_context_error(ctx);
    cr_assert(strstr(msg, "bogus") && strstr(msg, "line 8") && strstr(msg, "conv2d"), "%s", msg);
}

Test(kv, rejects_malformed_lines)
{
    clnet_context *ctx = fake_ctx();
    clnet__kv kv;
    cr_assert_eq(clnet__kv_parse(ctx, "filters 64\n", "s", 1, &kv), CLNET_ERR_PARSE);
    cr_assert_eq(clnet__kv_parse(ctx, "a = 1\na = 2\n", "s", 1, &kv), CLNET_ERR_PARSE);
    cr_assert(strstr(clnet_context_error(ctx), "twice"));
    cr_assert_eq(clnet__kv_parse(ctx, "kernel_size = 3, x\n", "s", 1, &kv), CLNET_OK);
    int k[2];
    cr_assert_eq(clnet__kv_int2(ctx, &kv, "kernel_size", 1, k), CLNET_ERR_PARSE);
    static const char *const acts[] = {"none", "relu", "relu6"};
    int a;
    cr_assert_eq(clnet__kv_parse(ctx, "activation = gelu\n", "s", 1, &kv), CLNET_OK);
    cr_assert_eq(clnet__kv_enum(ctx, &kv, "activation", acts, 3, 0, &a), CLNET_ERR_PARSE);
    cr_assert(strstr(clnet_context_error(ctx), "relu6"), "%s", clnet_context_error(ctx));
}

Test(registry, every_op_is_complete)
{
    int n = 0;
    const clnet__op_desc *const *ops = clnet__op_all(&n);
    cr_assert_gt(n, 0);
    for (int i = 0; i < n; ++i) {
        const clnet__op_desc *op = ops[i];
        cr_expect(op->parse && op->infer && op->flops && op->forward && op->backward &&
                      op->ref_forward && op->ref_backward,
                  "op %s lacks a function", op->name);
        cr_expect_gt(op->n_cases, 0, "op %s has no self-test case", op->name);
        cr_expect_eq(clnet__op_find(op->name), op);
        for (int j = 0; j < i; ++j)
            cr_expect_neq(strcmp(ops[j]->name, op->name), 0, "op %s registered twice", op->name);
    }
    cr_expect_null(clnet__op_find("no_such_op"));
}
