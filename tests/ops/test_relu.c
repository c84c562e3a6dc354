/* test_relu.c - relu and relu6 against src/ref/relu.c on every class. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "support/support.h"

static const clnet__op_case relu_extra_cases[] = {
    {"", 1, {{3, 1, 1, 4099}}, 0}, /* several CPU chunks with a tail */
};
static const clnet__op_case relu6_extra_cases[] = {
    {"", 1, {{1, 7, 3, 5}}, 10.0f},
};

CLNET_TEST_OP(relu)
CLNET_TEST_OP(relu6)
