/* test_model.c - whole models on the device (src/plan/model.c): the fused inference
 * plan against the unfused one, training-mode gradients against finite differences,
 * and the errors a caller can provoke. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"
#include "support/models.h"

typedef clnet_graph *(*builder)(int h, int w, int c, int classes);

/* y = model(x) in one mode, copied to the host. */
static float *run(clnet_model *m, clnet_tensor *x, int training, size_t *count)
{
    clnet_tensor *y = NULL;
    clnet_status st = clnet_model_forward(m, x, training, &y);
    cr_assert_eq(st, CLNET_OK, "%s: %s", clnet_status_string(st), clnet_context_error(m->ctx));
    *count = clnet_tensor_count(y);
    return clnet_test_host(y);
}

typedef struct fuse_case {
    int model; /* index into the builders below */
    clnet_device_class cls;
} fuse_case;

/* The small networks of tests/support/models.c, and an input size of each. */
static const struct {
    builder make;
    int h, w, c, classes;
} nets[] = {{clnet_test_small_resnet, 13, 11, 3, 5},
            {clnet_test_small_mobilenet, 17, 15, 3, 7},
            {clnet_test_small_mobilenetv3, 17, 15, 3, 7},
            {clnet_test_small_efficientnet, 15, 17, 3, 6}};

ParameterizedTestParameters(model, fused_inference_equals_unfused)
{
    static fuse_case cases[] = {{0, CLNET_CLASS_DGPU}, {0, CLNET_CLASS_IGPU}, {0, CLNET_CLASS_CPU},
                                {1, CLNET_CLASS_DGPU}, {1, CLNET_CLASS_IGPU}, {1, CLNET_CLASS_CPU},
                                {2, CLNET_CLASS_DGPU}, {2, CLNET_CLASS_CPU},  {3, CLNET_CLASS_IGPU},
                                {3, CLNET_CLASS_CPU}};
    return cr_make_param_array(fuse_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(fuse_case *k, model, fused_inference_equals_unfused, .timeout = 600)
{
    clnet_context *ctx = clnet_test_device_class(k->cls);
    clnet_graph *g = nets[k->model].make(nets[k->model].h, nets[k->model].w, nets[k->model].c,
                                         nets[k->model].classes);
    clnet_model *fused = clnet_test_model(ctx, g, 1, 1, 7),
                *plain = clnet_test_model(ctx, g, 0, 0, 7);
    clnet_test_randomize_weights(plain, 99);
    clnet_test_copy_weights(fused, plain);
    clnet_tensor *x = clnet_test_input(ctx, g, 3, 5);
    size_t n1, n2;
    float *a = run(fused, x, 0, &n1), *b = run(plain, x, 0, &n2);
    cr_assert_eq(n1, n2);
    const double rel = clnet_test_rel_diff(a, b, n1);
    cr_expect(rel <= 1e-4, "fused vs unfused inference: relative difference %g", rel);
    clnet_plan_stats ps;
    cr_assert_eq(clnet_model_plan_stats(fused, 0, 3, &ps), CLNET_OK);
    cr_expect_gt(ps.fused_bn, 0);
    cr_expect_gt(ps.fused_activations, 0);
    cr_expect_gt(ps.fused_adds, 0);
    cr_expect_lt(ps.steps, ps.layers);
    /* Training fuses only BN + activation and add + activation: same results. */
    free(a);
    free(b);
    a = run(fused, x, 1, &n1);
    b = run(plain, x, 1, &n2);
    const double rel_t = clnet_test_rel_diff(a, b, n1);
    cr_expect(rel_t <= 1e-4, "fused vs unfused training forward: relative difference %g", rel_t);
    free(a);
    free(b);
    clnet_tensor_destroy(x);
    clnet_model_destroy(fused);
    clnet_model_destroy(plain);
    clnet_graph_destroy(g);
}

/* L = sum(r * y) of a training forward: its gradient with respect to y is r. *size
 * gets sum |r * y|, the scale of L's float rounding. The forward runs as training step
 * `train_step` again (a training forward counts the steps up and draws its dropout and
 * stochastic depth masks from the count), so it drops what the checked backward's
 * forward dropped. */
static double loss(clnet_model *m, clnet_tensor *x, const float *r, uint64_t train_step,
                   double *size)
{
    m->steps_run = train_step - 1;
    size_t n;
    float *y = run(m, x, 1, &n);
    double l = 0.0, s = 0.0;
    for (size_t i = 0; i < n; ++i) {
        l += (double)r[i] * y[i];
        s += fabs((double)r[i] * y[i]);
    }
    free(y);
    if (size)
        *size = s;
    return l;
}

/* Backward against central differences on three elements of every trainable weight,
 * so every layer type (conv, depthwise, batch norm, dense; squeeze-and-excitation, table
 * activations, dropout and stochastic depth in the MBConv networks) is covered. The step is
 * small because small images and batch statistics of 3 images make the loss curve
 * fast (with a step of 1e-2 the differences are 10% off, converging to backward's
 * value as the step shrinks); the float rounding of L that a small step amplifies is
 * allowed for. */
static void gradient_check(builder make, int h, int w)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = make(h, w, 3, 4);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 3);
    clnet_test_randomize_weights(m, 11);
    clnet_tensor *x = clnet_test_input(ctx, g, 3, 21);
    clnet_tensor *dy = clnet_test_backward(m, x, 31);
    const uint64_t train_step = m->steps_run;
    float *r = clnet_test_host(dy);
    int checked = 0;
    for (int i = 0; i < clnet_model_weight_count(m); ++i) {
        clnet_weight_info info;
        clnet_tensor *t = NULL, *dt = NULL;
        cr_assert_eq(clnet_model_weight(m, i, &info, &t, &dt), CLNET_OK);
        if (!info.trainable)
            continue;
        float *grad = clnet_test_host(dt), *v = clnet_test_host(t);
        const size_t n = clnet_tensor_count(t);
        double scale = 0.0;
        for (size_t j = 0; j < n; ++j)
            scale = fabs(grad[j]) > scale ? fabs(grad[j]) : scale;
        const size_t picks[3] = {0, n / 2, n - 1};
        for (int p = 0; p < 3; ++p) {
            const size_t j = picks[p];
            const float keep = v[j], step = 3e-4f;
            v[j] = keep + step;
            cr_assert_eq(clnet_tensor_write(t, v, n), CLNET_OK);
            double size = 0.0;
            const double up = loss(m, x, r, train_step, &size);
            v[j] = keep - step;
            cr_assert_eq(clnet_tensor_write(t, v, n), CLNET_OK);
            const double down = loss(m, x, r, train_step, NULL);
            v[j] = keep;
            cr_assert_eq(clnet_tensor_write(t, v, n), CLNET_OK);
            const double numeric = (up - down) / (2.0 * ((double)(keep + step) - keep));
            const double err = fabs(numeric - grad[j]);
            const double rounding = 3e-7 * size / step;
            cr_expect(err <= 2e-2 * fabs(numeric) + 2e-3 * scale + rounding,
                      "%s/%s[%zu]: backward %g, finite differences %g", info.layer, info.name, j,
                      grad[j], numeric);
            ++checked;
        }
        free(grad);
        free(v);
    }
    cr_expect_gt(checked, 30);
    free(r);
    clnet_tensor_destroy(x);
    clnet_tensor_destroy(dy);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}

Test(model, resnet_gradient_matches_finite_differences, .timeout = 600)
{
    gradient_check(clnet_test_small_resnet, 9, 7);
}

Test(model, mobilenet_gradient_matches_finite_differences, .timeout = 600)
{
    gradient_check(clnet_test_small_mobilenet, 9, 11);
}

Test(model, mobilenetv3_gradient_matches_finite_differences, .timeout = 600)
{
    gradient_check(clnet_test_small_mobilenetv3, 9, 11);
}

Test(model, efficientnet_gradient_matches_finite_differences, .timeout = 600)
{
    gradient_check(clnet_test_small_efficientnet, 11, 9);
}

Test(model, wrong_input_and_order_are_clear_errors)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = clnet_test_small_resnet(8, 8, 3, 2);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 1);
    clnet_tensor *x = clnet_test_tensor(ctx, (clnet_shape){2, 8, 9, 3}, NULL), *y = NULL;
    cr_expect_eq(clnet_model_forward(m, x, 0, &y), CLNET_ERR_SHAPE);
    cr_expect(strstr(clnet_context_error(ctx), "8x8x3") != NULL, "%s", clnet_context_error(ctx));
    cr_expect_null(y);
    clnet_tensor *dy = clnet_test_tensor(ctx, (clnet_shape){2, 1, 1, 2}, NULL);
    cr_expect_eq(clnet_model_backward(m, dy), CLNET_ERR_INVALID_ARG);
    cr_expect(strstr(clnet_context_error(ctx), "training forward") != NULL);
    clnet_tensor_destroy(x);
    x = clnet_test_tensor(ctx, (clnet_shape){2, 8, 8, 3}, NULL);
    cr_assert_eq(clnet_tensor_fill(x, 0.5f), CLNET_OK);
    cr_assert_eq(clnet_model_forward(m, x, 1, &y), CLNET_OK, "%s", clnet_context_error(ctx));
    clnet_tensor *bad = clnet_test_tensor(ctx, (clnet_shape){2, 1, 1, 3}, NULL);
    cr_expect_eq(clnet_model_backward(m, bad), CLNET_ERR_SHAPE);
    cr_expect_eq(clnet_model_backward(m, dy), CLNET_OK, "%s", clnet_context_error(ctx));
    clnet_tensor_destroy(bad);
    clnet_tensor_destroy(dy);
    clnet_tensor_destroy(x);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);

    /* Two inputs: named in the error. */
    cr_assert_eq(clnet_graph_create(&g), CLNET_OK);
    clnet_layer in[2] = {clnet_graph_input(g, "left", 4, 4, 1),
                         clnet_graph_input(g, "right", 4, 4, 1)};
    clnet_graph_layer(g, "add", NULL, "", in, 2);
    cr_expect_eq(clnet_model_create(ctx, g, NULL, &m), CLNET_ERR_UNSUPPORTED);
    cr_expect_null(m);
    cr_expect(strstr(clnet_context_error(ctx), "'left', 'right'") != NULL, "%s",
              clnet_context_error(ctx));
    clnet_graph_destroy(g);
}
