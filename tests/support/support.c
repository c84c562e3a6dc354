/* support.c - see support.h. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
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
    /* The built-in choices, whatever the user running the tests has tuned. */
    opt.tune_db = "";
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

double clnet_test_scaled_diff(const float *a, const float *b, size_t count)
{
    double d = 0, r = 1e-30;
    for (size_t i = 0; i < count; ++i) {
        if (isnan(a[i]) || isnan(b[i]))
            return INFINITY;
        d = fmax(d, fabs((double)a[i] - b[i]));
        r = fmax(r, fabs((double)b[i]));
    }
    return d / r;
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

clnet_tensor *clnet_test_tensor(clnet_context *ctx, clnet_shape s, const float *data)
{
    clnet_tensor *t = NULL;
    cr_assert_eq(clnet_tensor_create(ctx, s, &t), CLNET_OK, "%s", clnet_context_error(ctx));
    if (data)
        cr_assert_eq(clnet_tensor_write(t, data, t->count), CLNET_OK, "%s",
                     clnet_context_error(ctx));
    return t;
}

void clnet_test_read(clnet_tensor *t, float *out)
{
    cr_assert_eq(clnet_tensor_read(t, out, t->count), CLNET_OK, "%s", clnet_context_error(t->ctx));
}

void clnet_test_run_weighted(clnet_context *ctx, const char *op, const char *params, clnet_shape s,
                             const float *x, const float *const *w, float *y, const float *dy,
                             float *dx, float *const *dw)
{
    const clnet__op_desc *desc = clnet__op_find(op);
    cr_assert_not_null(desc, "op %s is not registered", op);
    void *p = NULL;
    cr_assert_eq(clnet__op_parse(ctx, desc, params, "test", &p), CLNET_OK, "%s",
                 clnet_context_error(ctx));
    clnet__weight_desc wd[CLNET_MAX_WEIGHTS];
    const int n_w = desc->weights ? desc->weights(p, &s, 1, wd) : 0;
    clnet_tensor *tw[CLNET_MAX_WEIGHTS] = {NULL}, *tdw[CLNET_MAX_WEIGHTS] = {NULL};
    for (int i = 0; i < n_w; ++i) {
        tw[i] = clnet_test_tensor(ctx, wd[i].shape, w[i]);
        tdw[i] = dy && dw[i] ? clnet_test_tensor(ctx, wd[i].shape, NULL) : NULL;
    }
    clnet_tensor *tx = clnet_test_tensor(ctx, s, x), *ty = clnet_test_tensor(ctx, s, NULL);
    clnet_tensor *tdy = dy ? clnet_test_tensor(ctx, s, dy) : NULL;
    clnet_tensor *tdx = dy && dx ? clnet_test_tensor(ctx, s, NULL) : NULL;
    clnet__op_alone a = {0};
    cr_assert_eq(clnet__op_alone_prepare(ctx, desc, p, &s, 1, CLNET_PREPARE_TRAINING, &a), CLNET_OK,
                 "%s", clnet_context_error(ctx));
    clnet_tensor *ins[1] = {tx}, *din[1] = {tdx};
    clnet__op_call call = {.ctx = ctx,
                           .params = p,
                           .n_in = 1,
                           .in = ins,
                           .out = ty,
                           .n_w = n_w,
                           .w = tw,
                           .training = 1,
                           .exec = &a.exec,
                           .scratch = &a.scratch};
    cr_assert_eq(desc->forward(&call), CLNET_OK, "%s", clnet_context_error(ctx));
    clnet_test_read(ty, y);
    if (dy) {
        call.dout = tdy;
        call.din = din;
        call.dw = tdw;
        cr_assert_eq(desc->backward(&call), CLNET_OK, "%s", clnet_context_error(ctx));
        if (tdx)
            clnet_test_read(tdx, dx);
        for (int i = 0; i < n_w; ++i)
            if (tdw[i])
                clnet_test_read(tdw[i], dw[i]);
    }
    clnet__op_alone_release(&a);
    for (int i = 0; i < n_w; ++i) {
        clnet_tensor_destroy(tw[i]);
        clnet_tensor_destroy(tdw[i]);
    }
    clnet_tensor *all[] = {tx, ty, tdy, tdx};
    for (size_t i = 0; i < CLNET_COUNTOF(all); ++i)
        clnet_tensor_destroy(all[i]);
    free(p);
}

void clnet_test_expect_gradients_repeat(clnet_context *ctx, const char *op, const char *params,
                                        clnet_shape s)
{
    const clnet__op_desc *desc = clnet__op_find(op);
    cr_assert_not_null(desc, "op %s is not registered", op);
    void *p = NULL;
    cr_assert_eq(clnet__op_parse(ctx, desc, params, "test", &p), CLNET_OK);
    clnet__weight_desc wd[CLNET_MAX_WEIGHTS];
    const int n_w = desc->weights ? desc->weights(p, &s, 1, wd) : 0;
    free(p);
    const size_t n = clnet__shape_count(s);
    float *x = clnet_test_random(n, 3), *dy = clnet_test_random(n, 4), *y = clnet_test_random(n, 0);
    float *w[CLNET_MAX_WEIGHTS], *dx[2], *dw[2][CLNET_MAX_WEIGHTS];
    for (int i = 0; i < n_w; ++i)
        w[i] = clnet_test_random(clnet__shape_count(wd[i].shape), 5 + (uint64_t)i);
    for (int k = 0; k < 2; ++k) {
        dx[k] = clnet_test_random(n, 0);
        for (int i = 0; i < n_w; ++i)
            dw[k][i] = clnet_test_random(clnet__shape_count(wd[i].shape), 0);
        clnet_test_run_weighted(ctx, op, params, s, x, (const float *const *)w, y, dy, dx[k],
                                dw[k]);
    }
    cr_expect(memcmp(dx[0], dx[1], n * sizeof(float)) == 0, "%s: dx differs between runs", op);
    for (int i = 0; i < n_w; ++i) {
        cr_expect(memcmp(dw[0][i], dw[1][i], clnet__shape_count(wd[i].shape) * sizeof(float)) == 0,
                  "%s: the gradient of %s differs between runs", op, wd[i].name);
        free(w[i]);
        free(dw[0][i]);
        free(dw[1][i]);
    }
    free(x);
    free(dy);
    free(y);
    free(dx[0]);
    free(dx[1]);
}

/* Tensors of clnet_test_run_inputs: inputs, their gradients, output, output gradient. */
typedef struct run_tensors {
    clnet_tensor *in[CLNET_MAX_INPUTS], *din[CLNET_MAX_INPUTS], *out, *dout;
    clnet__op_alone alone;
} run_tensors;

static clnet_status run_inputs(clnet_context *ctx, const clnet__op_desc *op, const void *params,
                               int n_in, const clnet_shape *in, const float *const *x, int training,
                               uint64_t seed, float *out, size_t out_count, const float *dout,
                               float *const *din, run_tensors *t)
{
    clnet_shape out_shape;
    CLNET_TRY(op->infer(ctx, params, in, n_in, &out_shape));
    CLNET_TRY(clnet__op_alone_prepare(ctx, op, params, in, n_in, 1, &t->alone));
    if (clnet__shape_count(out_shape) != out_count)
        return clnet__fail(ctx, CLNET_ERR_SHAPE, "%s: output has %zu values, the test expects %zu",
                           op->name, clnet__shape_count(out_shape), out_count);
    for (int i = 0; i < n_in; ++i) {
        CLNET_TRY(clnet_tensor_create(ctx, in[i], &t->in[i]));
        CLNET_TRY(clnet_tensor_write(t->in[i], x[i], clnet__shape_count(in[i])));
    }
    CLNET_TRY(clnet_tensor_create(ctx, out_shape, &t->out));
    clnet__op_call call = {.ctx = ctx,
                           .params = params,
                           .n_in = n_in,
                           .in = t->in,
                           .out = t->out,
                           .training = training,
                           .seed = seed,
                           .exec = &t->alone.exec,
                           .scratch = &t->alone.scratch};
    CLNET_TRY(op->forward(&call));
    CLNET_TRY(clnet_tensor_read(t->out, out, out_count));
    if (!dout)
        return CLNET_OK;
    CLNET_TRY(clnet_tensor_create(ctx, out_shape, &t->dout));
    CLNET_TRY(clnet_tensor_write(t->dout, dout, out_count));
    for (int i = 0; i < n_in; ++i)
        if (din[i])
            CLNET_TRY(clnet_tensor_create(ctx, in[i], &t->din[i]));
    call.dout = t->dout;
    call.din = t->din;
    CLNET_TRY(op->backward(&call));
    for (int i = 0; i < n_in; ++i)
        if (din[i])
            CLNET_TRY(clnet_tensor_read(t->din[i], din[i], clnet__shape_count(in[i])));
    return CLNET_OK;
}

clnet_status clnet_test_run_inputs(clnet_context *ctx, const char *op, const char *params, int n_in,
                                   const clnet_shape *in, const float *const *x, int training,
                                   uint64_t seed, float *out, size_t out_count, const float *dout,
                                   float *const *din)
{
    const clnet__op_desc *desc = clnet__op_find(op);
    cr_assert_not_null(desc, "op %s is not registered", op);
    cr_assert(n_in >= 1 && n_in <= CLNET_MAX_INPUTS);
    void *p = NULL;
    run_tensors t;
    memset(&t, 0, sizeof t);
    clnet_status st = clnet__op_parse(ctx, desc, params, op, &p);
    /* State depends on the params: add keeps a pre-activation for some activations. */
    clnet_shape saved[CLNET_MAX_SAVED];
    cr_assert(!desc->weights && !(st == CLNET_OK && desc->saved && desc->saved(p, in, n_in, saved)),
              "clnet_test_run_inputs: %s has state", op);
    if (st == CLNET_OK)
        st = run_inputs(ctx, desc, p, n_in, in, x, training, seed, out, out_count, dout, din, &t);
    for (int i = 0; i < CLNET_MAX_INPUTS; ++i) {
        clnet_tensor_destroy(t.in[i]);
        clnet_tensor_destroy(t.din[i]);
    }
    clnet_tensor_destroy(t.out);
    clnet_tensor_destroy(t.dout);
    clnet__op_alone_release(&t.alone);
    free(p);
    return st;
}

/* Parses params and infers op's output shape on in_shape; errors go to ctx. */
static clnet_status infer_shape(clnet_context *ctx, const char *op, const char *params,
                                clnet_shape in_shape, clnet_shape *out)
{
    const clnet__op_desc *desc = clnet__op_find(op);
    cr_assert_not_null(desc, "op %s is not registered", op);
    void *p = NULL;
    clnet_status st = clnet__op_parse(ctx, desc, params, op, &p);
    if (st == CLNET_OK)
        st = desc->infer(ctx, p, &in_shape, 1, out);
    free(p);
    return st;
}

clnet_status clnet_test_run_op(clnet_context *ctx, const char *op, const char *params,
                               clnet_shape in_shape, const float *in, clnet_shape want_out,
                               float *out, const float *dout, float *din)
{
    clnet_shape got;
    char a[48], b[48];
    CLNET_TRY(infer_shape(ctx, op, params, in_shape, &got));
    if (!clnet__shape_eq(got, want_out))
        return clnet__fail(ctx, CLNET_ERR_SHAPE, "%s: output %s, the test expects %s", op,
                           clnet__shape_str(got, a, sizeof a),
                           clnet__shape_str(want_out, b, sizeof b));
    float *const din_list[1] = {din};
    return clnet_test_run_inputs(ctx, op, params, 1, &in_shape, &in, 1, 1, out,
                                 clnet__shape_count(want_out), dout, din_list);
}

static void expect_near(const char *cls, const char *op, const char *what, const float *got,
                        const float *want, size_t n, float tol)
{
    for (size_t i = 0; i < n; ++i) {
        const float scale = want[i] > 1.0f ? want[i] : want[i] < -1.0f ? -want[i] : 1.0f;
        const float d = got[i] > want[i] ? got[i] - want[i] : want[i] - got[i];
        cr_expect(d <= tol * scale, "%s [%s] %s[%zu] = %.9g, want %.9g", op, cls, what, i, got[i],
                  want[i]);
    }
}

void clnet_test_expect_op(const char *op, const char *params, clnet_shape in_shape, const float *in,
                          clnet_shape out_shape, const float *want, const float *dout,
                          const float *want_din, float tol)
{
    const size_t n_in = clnet__shape_count(in_shape), n_out = clnet__shape_count(out_shape);
    float *out = malloc((n_out ? n_out : 1) * sizeof *out);
    float *din = malloc((n_in ? n_in : 1) * sizeof *din);
    cr_assert(out && din);
    for (int k = 0; k < 3; ++k) {
        clnet_context *ctx = clnet_test_device_class(clnet_test_classes[k]);
        const char *cls = clnet_device_class_name(clnet_test_classes[k]);
        clnet_status st =
            clnet_test_run_op(ctx, op, params, in_shape, in, out_shape, out, dout, din);
        cr_assert_eq(st, CLNET_OK, "%s [%s] \"%s\": %s", op, cls, params, clnet_context_error(ctx));
        expect_near(cls, op, "out", out, want, n_out, tol);
        if (dout)
            expect_near(cls, op, "din", din, want_din, n_in, tol);
    }
    free(out);
    free(din);
}

void clnet_test_expect_inputs(const char *op, const char *params, int n_in, const clnet_shape *in,
                              const float *const *x, const float *want, size_t out_count,
                              const float *dout, const float *const *want_din, float tol)
{
    float *out = malloc((out_count ? out_count : 1) * sizeof *out);
    float *din[CLNET_MAX_INPUTS] = {0};
    cr_assert(out && n_in >= 1 && n_in <= CLNET_MAX_INPUTS);
    for (int i = 0; i < n_in; ++i)
        if (dout && want_din[i])
            cr_assert_not_null(din[i] = malloc(clnet__shape_count(in[i]) * sizeof(float)));
    for (int k = 0; k < 3; ++k) {
        clnet_context *ctx = clnet_test_device_class(clnet_test_classes[k]);
        const char *cls = clnet_device_class_name(clnet_test_classes[k]);
        clnet_status st =
            clnet_test_run_inputs(ctx, op, params, n_in, in, x, 1, 1, out, out_count, dout, din);
        cr_assert_eq(st, CLNET_OK, "%s [%s] \"%s\": %s", op, cls, params, clnet_context_error(ctx));
        expect_near(cls, op, "out", out, want, out_count, tol);
        for (int i = 0; i < n_in; ++i) {
            char what[24];
            snprintf(what, sizeof what, "din[%d]", i);
            if (din[i])
                expect_near(cls, op, what, din[i], want_din[i], clnet__shape_count(in[i]), tol);
        }
    }
    for (int i = 0; i < n_in; ++i)
        free(din[i]);
    free(out);
}

void clnet_test_expect_inputs_error(const char *op, const char *params, int n_in,
                                    const clnet_shape *in, clnet_status want, const char *needle1,
                                    const char *needle2)
{
    clnet_context *ctx = clnet_test_device();
    const clnet__op_desc *desc = clnet__op_find(op);
    cr_assert_not_null(desc, "op %s is not registered", op);
    void *p = NULL;
    clnet_shape out;
    clnet_status st = clnet__op_parse(ctx, desc, params, op, &p);
    if (st == CLNET_OK)
        st = desc->infer(ctx, p, in, n_in, &out);
    free(p);
    const char *msg = st == CLNET_OK ? "" : clnet_context_error(ctx);
    cr_expect_eq(st, want, "%s \"%s\": got %s: %s", op, params, clnet_status_string(st), msg);
    cr_expect(strstr(msg, needle1) && strstr(msg, needle2),
              "%s \"%s\": message '%s' lacks '%s' or '%s'", op, params, msg, needle1, needle2);
}

void clnet_test_expect_error(const char *op, const char *params, clnet_shape in_shape,
                             clnet_status want, const char *needle1, const char *needle2)
{
    clnet_context *ctx = clnet_test_device();
    clnet_shape out;
    clnet_status st = infer_shape(ctx, op, params, in_shape, &out);
    const char *msg = st == CLNET_OK ? "" : clnet_context_error(ctx);
    cr_expect_eq(st, want, "%s \"%s\": got %s: %s", op, params, clnet_status_string(st), msg);
    cr_expect(strstr(msg, needle1) && strstr(msg, needle2),
              "%s \"%s\": message '%s' lacks '%s' or '%s'", op, params, msg, needle1, needle2);
}

void clnet_test_expect_row(void *user, const clnet__op_desc *op, const clnet__op_case *c,
                           const clnet__check_row *row)
{
    const clnet_test_check *cc = user;
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
    clnet_test_check cc;
} device_run;

static void run_device(const clnet__op_desc *op, const clnet__op_case *c, int seq, void *user)
{
    device_run *r = user;
    int failed = 0;
    clnet_status st = clnet__op_check(r->ctx, op, c, 1000u + (uint64_t)seq, 1e-4,
                                      clnet_test_expect_row, &r->cc, &failed);
    cr_expect_eq(st, CLNET_OK, "%s [%s] params \"%s\": %s: %s", op->name, r->cc.cls, c->params,
                 clnet_status_string(st), clnet_context_error(r->ctx));
}

void clnet_test_op_against_ref(const char *op, clnet_device_class cls, const clnet__op_case *extra,
                               int n_extra)
{
    device_run r = {clnet_test_device_class(cls), {clnet_device_class_name(cls)}};
    each_case(op, extra, n_extra, run_device, &r);
}

static void run_gradient(const clnet__op_desc *op, const clnet__op_case *c, int seq, void *user)
{
    clnet_test_check *cc = user;
    int failed = 0;
    clnet_status st =
        clnet__op_gradcheck(NULL, op, c, 2000u + (uint64_t)seq, clnet_test_expect_row, cc, &failed);
    cr_expect_eq(st, CLNET_OK, "%s gradient check, params \"%s\": %s", op->name, c->params,
                 clnet_status_string(st));
}

void clnet_test_op_gradient(const char *op, const clnet__op_case *extra, int n_extra)
{
    clnet_test_check cc = {"reference"};
    each_case(op, extra, n_extra, run_gradient, &cc);
}

void clnet_test_conv2d_algo(clnet_device_class cls, const char *algo, const clnet__op_case *cases,
                            int n, const char *forward, const char *backward, double rtol)
{
    clnet_context *ctx = clnet_test_device_class(cls);
    const clnet__op_desc *op = clnet__op_find("conv2d");
    snprintf(ctx->conv_algo, sizeof ctx->conv_algo, "%s", algo);
    clnet_test_check cc = {clnet_device_class_name(cls)};
    for (int i = 0; i < n; ++i) {
        const clnet__op_case *c = &cases[i];
        void *params = NULL;
        clnet__op_exec e;
        cr_assert_eq(clnet__op_parse(ctx, op, c->params, "test", &params), CLNET_OK);
        cr_assert_eq(clnet__op_prepare(ctx, op, params, c->in, c->n_in, CLNET_PREPARE_TRAINING, &e),
                     CLNET_OK, "%s", clnet_context_error(ctx));
        free(params);
        cr_expect(strncmp(e.forward, forward, strlen(forward)) == 0, "\"%s\" runs %s", c->params,
                  e.forward);
        cr_expect(!backward || strncmp(e.backward, backward, strlen(backward)) == 0,
                  "\"%s\" runs %s backward", c->params, e.backward);
        int failed = 0;
        clnet_status st = clnet__op_check(ctx, op, c, 57 + (uint64_t)i, rtol, clnet_test_expect_row,
                                          &cc, &failed);
        cr_expect_eq(st, CLNET_OK, "%s: %s", clnet_status_string(st), clnet_context_error(ctx));
    }
    ctx->conv_algo[0] = '\0';
}

void clnet_test_expect_parse_error(const char *op, const char *spec, const char *needle)
{
    void *params = NULL;
    clnet_context *ctx = clnet_test_device();
    const clnet__op_desc *desc = clnet__op_find(op);
    cr_assert_not_null(desc, "op %s is not registered", op);
    clnet_status st = clnet__op_parse(ctx, desc, spec, "test", &params);
    free(params);
    cr_expect_eq(st, CLNET_ERR_PARSE, "%s: \"%s\" gave %s", op, spec, clnet_status_string(st));
    cr_expect(strstr(clnet_context_error(ctx), needle) != NULL,
              "%s: \"%s\": message \"%s\" does not name '%s'", op, spec, clnet_context_error(ctx),
              needle);
}
