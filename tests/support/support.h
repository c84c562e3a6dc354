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
/* The largest |a - b| over the largest |b| (how far outputs are from a reference's);
 * infinite when either holds a NaN. */
double clnet_test_scaled_diff(const float *a, const float *b, size_t count);
/* A tensor of shape s on ctx holding data (left unwritten when data is NULL), and a
 * blocking read of all of t into out; both assert success. */
clnet_tensor *clnet_test_tensor(clnet_context *ctx, clnet_shape s, const float *data);
void clnet_test_read(clnet_tensor *t, float *out);

/* Runs op (params as spec text; one input, no weights) on ctx with host data: forward in
 * training mode into out, then, when dout is not NULL, backward into din. The output
 * shape must be want_out, else CLNET_ERR_SHAPE. Parse and shape errors come back as the
 * status, with the message on ctx. */
clnet_status clnet_test_run_op(clnet_context *ctx, const char *op, const char *params,
                               clnet_shape in_shape, const float *in, clnet_shape want_out,
                               float *out, const float *dout, float *din);

/* Runs op (params as spec text) on ctx in training mode with one input x of shape s and
 * the weights w[i] (host data, in the op's order and shapes; no saved state): forward into
 * y and, when dy is not NULL, backward into dx and dw[i] (each NULL: not wanted). Asserts
 * success. */
void clnet_test_run_weighted(clnet_context *ctx, const char *op, const char *params, clnet_shape s,
                             const float *x, const float *const *w, float *y, const float *dy,
                             float *dx, float *const *dw);

/* Runs clnet_test_run_weighted twice on the same random data (x, dy and weights) and
 * expects dx and every weight's gradient to repeat bit for bit: fixed-order reductions. */
void clnet_test_expect_gradients_repeat(clnet_context *ctx, const char *op, const char *params,
                                        clnet_shape s);

/* clnet_test_run_op with n_in inputs (shapes in[], host data x[]), forward in either
 * mode (training != 0 with the step seed, as dropout needs) into out, whose count must be
 * out_count (else CLNET_ERR_SHAPE). When dout is not NULL, backward writes din[i] for
 * every non-NULL din[i]. Ops without weights and saved state only. */
clnet_status clnet_test_run_inputs(clnet_context *ctx, const char *op, const char *params, int n_in,
                                   const clnet_shape *in, const float *const *x, int training,
                                   uint64_t seed, float *out, size_t out_count, const float *dout,
                                   float *const *din);

/* Runs clnet_test_run_op on every class and expects out == want and, when dout is not
 * NULL, din == want_din, within tol * max(1, |want|) (0: exactly). */
void clnet_test_expect_op(const char *op, const char *params, clnet_shape in_shape, const float *in,
                          clnet_shape out_shape, const float *want, const float *dout,
                          const float *want_din, float tol);
/* clnet_test_expect_op for n_in inputs (shapes in[], data x[]): out (out_count values) ==
 * want and, when dout is not NULL, din[i] == want_din[i] for each non-NULL want_din[i]. */
void clnet_test_expect_inputs(const char *op, const char *params, int n_in, const clnet_shape *in,
                              const float *const *x, const float *want, size_t out_count,
                              const float *dout, const float *const *want_din, float tol);
/* clnet_test_expect_error for n_in inputs of shapes in[]. */
void clnet_test_expect_inputs_error(const char *op, const char *params, int n_in,
                                    const clnet_shape *in, clnet_status want, const char *needle1,
                                    const char *needle2);
/* Expects parsing params and inferring the output shape of op on in_shape to fail with
 * status want, the message holding needle1 and needle2. */
void clnet_test_expect_error(const char *op, const char *params, clnet_shape in_shape,
                             clnet_status want, const char *needle1, const char *needle2);

/* Expects parsing spec for op to fail with CLNET_ERR_PARSE, the message naming needle
 * (the key). */
void clnet_test_expect_parse_error(const char *op, const char *spec, const char *needle);

/* A clnet__check_fn for clnet__op_check / clnet__op_gradcheck: every row is a Criterion
 * expectation naming the op, cls, the check, the case and the errors. */
typedef struct clnet_test_check {
    const char *cls; /* class name, or "reference" */
} clnet_test_check;
void clnet_test_expect_row(void *user /* clnet_test_check */, const clnet__op_desc *op,
                           const clnet__op_case *c, const clnet__check_row *row);

/* Checks op on class cls against its reference: the desc's own cases, then
 * extra[0..n_extra). Every row is a Criterion expectation. */
void clnet_test_op_against_ref(const char *op, clnet_device_class cls, const clnet__op_case *extra,
                               int n_extra);
/* Checks the reference backward of op against finite differences, same cases. */
void clnet_test_op_gradient(const char *op, const clnet__op_case *extra, int n_extra);

/* conv2d with $CLNET_CONV_ALGO = algo on class cls against its reference for cases[0..n)
 * (clnet__op_check within rtol), each prepared for training to run a forward whose record
 * starts with forward and, unless NULL, a backward whose record starts with backward. */
void clnet_test_conv2d_algo(clnet_device_class cls, const char *algo, const clnet__op_case *cases,
                            int n, const char *forward, const char *backward, double rtol);

/* The parameters of ParameterizedTest(clnet_device_class *cls, suite, name): the three
 * classes. */
#define CLNET_TEST_CLASS_PARAMS(suite, name)                                                       \
    ParameterizedTestParameters(suite, name)                                                       \
    {                                                                                              \
        return cr_make_param_array(clnet_device_class, (void *)clnet_test_classes, 3);             \
    }

/* The standard tests of one op: reference on every class, and its gradient.
 * Extra cases come from a static array named <op>_extra_cases. */
#define CLNET_TEST_OP(op)                                                                          \
    CLNET_TEST_CLASS_PARAMS(op, matches_reference)                                                 \
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
