/* support.c - see support.h. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "support/support.h"
#include "tensor/rng.h"

const clnet_device_class clnet_test_classes[3] = {CLNET_CLASS_DGPU, CLNET_CLASS_IGPU,
                                                  CLNET_CLASS_CPU};

/* One context per class, kept for the life of the test process and reachable
 * from here (so leak checkers do not count them). Not destroyed at exit: under
 * oclgrind, releasing OpenCL objects from an exit handler corrupts its heap. */
static clnet_context *contexts[4];

clnet_context *clnet_test_device_class(clnet_device_class cls)
{
    if (contexts[cls])
        return contexts[cls];
    char err[1024] = "";
    clnet_context_options opt = {0};
    opt.device_class = cls;
    opt.error = err;
    opt.error_len = sizeof err;
    clnet_status st = clnet_context_create(&opt, &contexts[cls]);
    if (st != CLNET_OK) {
        const char *req = getenv("CLNET_TEST_REQUIRE_DEVICE");
        if (req && strcmp(req, "1") == 0)
            cr_assert_fail("no OpenCL device (CLNET_TEST_REQUIRE_DEVICE=1): %s", err);
        cr_skip_test("no OpenCL device: %s", err);
    }
    return contexts[cls];
}

clnet_context *clnet_test_device(void)
{
    return clnet_test_device_class(CLNET_CLASS_AUTO);
}

float *clnet_test_random(size_t count, uint64_t seed)
{
    float *x = malloc((count ? count : 1) * sizeof *x);
    cr_assert_not_null(x);
    clnet__rng r;
    clnet__rng_seed(&r, seed);
    for (size_t i = 0; i < count; ++i)
        x[i] = (float)(2.0 * clnet__rng_uniform(&r) - 1.0);
    return x;
}

float clnet_test_max_abs_diff(const float *a, const float *b, size_t count)
{
    float m = 0.0f;
    for (size_t i = 0; i < count; ++i) {
        float d = a[i] > b[i] ? a[i] - b[i] : b[i] - a[i];
        if (d != d)
            return d;
        if (d > m)
            m = d;
    }
    return m;
}

typedef struct check_ctx {
    const char *cls;
} check_ctx;

static void expect_row(void *user, const clnet__op_desc *op, const clnet__op_case *c,
                       const clnet__check_row *row)
{
    const check_ctx *cc = user;
    char shape[48];
    cr_expect(row->passed, "%s [%s] %s, params \"%s\", input %s: max abs err %.3g, rel %.3g",
              op->name, cc->cls, row->check, c->params,
              clnet__shape_str(c->in[0], shape, sizeof shape), row->max_abs, row->max_rel);
}

static void each_case(const char *name, const clnet__op_case *extra, int n_extra,
                      void (*fn)(const clnet__op_desc *, const clnet__op_case *, int, void *),
                      void *user)
{
    const clnet__op_desc *op = clnet__op_find(name);
    cr_assert_not_null(op, "op %s is not registered", name);
    int seq = 0;
    for (int i = 0; i < op->n_cases; ++i)
        fn(op, &op->cases[i], seq++, user);
    for (int i = 0; i < n_extra; ++i)
        fn(op, &extra[i], seq++, user);
}

typedef struct device_run {
    clnet_context *ctx;
    check_ctx cc;
} device_run;

static void run_device(const clnet__op_desc *op, const clnet__op_case *c, int seq, void *user)
{
    device_run *r = user;
    int failed = 0;
    clnet_status st =
        clnet__op_check(r->ctx, op, c, 1000u + (uint64_t)seq, 1e-4, expect_row, &r->cc, &failed);
    cr_expect_eq(st, CLNET_OK, "%s [%s] params \"%s\": %s: %s", op->name, r->cc.cls, c->params,
                 clnet_status_string(st), clnet_context_error(r->ctx));
}

void clnet_test_op_against_ref(const char *op, clnet_device_class cls,
                               const clnet__op_case *extra, int n_extra)
{
    device_run r = {clnet_test_device_class(cls), {clnet_device_class_name(cls)}};
    each_case(op, extra, n_extra, run_device, &r);
}

static void run_gradient(const clnet__op_desc *op, const clnet__op_case *c, int seq, void *user)
{
    check_ctx *cc = user;
    int failed = 0;
    clnet_status st = clnet__op_gradcheck(NULL, op, c, 2000u + (uint64_t)seq, expect_row, cc,
                                          &failed);
    cr_expect_eq(st, CLNET_OK, "%s gradient check, params \"%s\": %s", op->name, c->params,
                 clnet_status_string(st));
}

void clnet_test_op_gradient(const char *op, const clnet__op_case *extra, int n_extra)
{
    check_ctx cc = {"reference"};
    each_case(op, extra, n_extra, run_gradient, &cc);
}
