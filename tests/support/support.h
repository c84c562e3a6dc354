/* support.h - helpers shared by the Criterion tests: one context per device class
 * per process, seeded data, and the generic op check against the reference. */
#ifndef CLNET_TESTS_SUPPORT_H
#define CLNET_TESTS_SUPPORT_H

#include <criterion/criterion.h>

#include "ops/op.h"

/* The device for this process, kernels of class cls (AUTO: detected or forced by
 * $CLNET_DEVICE_CLASS). Skips the test when there is no device, or fails it when
 * CLNET_TEST_REQUIRE_DEVICE=1. Owned by the support code. */
clnet_context *clnet_test_device_class(clnet_device_class cls);
clnet_context *clnet_test_device(void);

/* The three classes, for parameterized tests. */
extern const clnet_device_class clnet_test_classes[3];

/* count floats uniform in (-1, 1) from seed; free() the result. */
float *clnet_test_random(size_t count, uint64_t seed);
float clnet_test_max_abs_diff(const float *a, const float *b, size_t count);

/* Checks op on class cls against its reference: the desc's own cases, then
 * extra[0..n_extra). Every row is a Criterion expectation. */
void clnet_test_op_against_ref(const char *op, clnet_device_class cls,
                               const clnet__op_case *extra, int n_extra);
/* Checks the reference backward of op against finite differences, same cases. */
void clnet_test_op_gradient(const char *op, const clnet__op_case *extra, int n_extra);

/* The standard tests of one op: reference on every class, and its gradient.
 * Extra cases come from a static array named <op>_extra_cases. */
#define CLNET_TEST_OP(op)                                                                          \
    ParameterizedTestParameters(op, matches_reference)                                             \
    {                                                                                              \
        return cr_make_param_array(clnet_device_class, (void *)clnet_test_classes, 3);             \
    }                                                                                              \
    ParameterizedTest(clnet_device_class *cls, op, matches_reference, .timeout = 600)              \
    {                                                                                              \
        clnet_test_op_against_ref(#op, *cls, op##_extra_cases,                                     \
                                  (int)CLNET_COUNTOF(op##_extra_cases));                           \
    }                                                                                              \
    Test(op, gradient_matches_finite_differences, .timeout = 600)                                  \
    {                                                                                              \
        clnet_test_op_gradient(#op, op##_extra_cases, (int)CLNET_COUNTOF(op##_extra_cases));       \
    }

#endif
