/* test_dense.c - dense against src/ref/dense.c on every class, and its parse errors. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "support/support.h"

/* One row, one unit, float16 tails on both sides, a big flat head. */
static const clnet__op_case dense_extra_cases[] = {
    {"units = 1", 1, {{1, 1, 1, 1}}, 0},
    {"units = 33\nactivation = relu6", 1, {{1, 1, 3, 17}}, 6.0f},
    {"units = 5\nuse_bias = false", 1, {{3, 1, 1, 130}}, 0},
};

CLNET_TEST_OP(dense)

/* Batch-1 and small-batch classifier heads, forward and backward (input, kernel and
 * bias gradients) against the reference on every class: their products have m = 1..8
 * and run the gemv path (forward NN, input gradient NT) on the cpu class. Too big
 * for the finite-difference check, so not in dense_extra_cases. */
static const clnet__op_case dense_head_cases[] = {
    {"units = 1000", 1, {{1, 1, 1, 2048}}, 0},
    {"units = 17\nactivation = relu", 1, {{1, 1, 1, 300}}, 0},
    {"units = 15\nuse_bias = false", 1, {{2, 1, 1, 33}}, 0},
    {"units = 1000\nactivation = relu6", 1, {{5, 1, 1, 129}}, 8.0f},
    {"units = 40", 1, {{8, 1, 1, 100}}, 0},
};

ParameterizedTestParameters(dense, small_batch_heads_match_reference)
{
    return cr_make_param_array(clnet_device_class, (void *)clnet_test_classes, 3);
}

ParameterizedTest(clnet_device_class *cls, dense, small_batch_heads_match_reference, .timeout = 600)
{
    clnet_test_op_against_ref("dense", *cls, dense_head_cases,
                              (int)CLNET_COUNTOF(dense_head_cases));
}

Test(dense, parse_errors_name_the_key)
{
    clnet_test_expect_parse_error("dense", "use_bias = false", "units");
    clnet_test_expect_parse_error("dense", "units = -2", "units");
    clnet_test_expect_parse_error("dense", "units = 4\nactivation = mish", "activation");
    clnet_test_expect_parse_error("dense", "units = 4\nkernel_size = 3", "kernel_size");
}

Test(dense, flops_are_multiply_adds)
{
    const clnet__op_desc *op = clnet__op_find("dense");
    void *params = NULL;
    cr_assert_eq(clnet__op_parse(clnet_test_device(), op, "units = 10", "test", &params), CLNET_OK);
    const clnet_shape in = {2, 3, 1, 7}, out = {2, 3, 1, 10};
    cr_expect_eq(op->flops(params, &in, 1, out), 2.0 * 3 * 7 * 10);
    free(params);
}
