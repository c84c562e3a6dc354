/* test_zoo_run.c - every zoo model (src/models/) runs on the device through its plan:
 * the fused inference plan equals the unfused one within 1e-4 relative on random
 * weights, and a training forward and backward give finite gradients for every
 * trainable weight. Small inputs (32x32) keep it quick. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/models.h"

typedef struct zoo_case {
    char name[24];
    char style[8];
    double alpha;
} zoo_case;

ParameterizedTestParameters(zoo, fused_equals_unfused_and_trains)
{
    static zoo_case cases[] = {{"resnet18", "torch", 0},
                               {"resnet18", "keras", 0},
                               {"resnet34", "torch", 0},
                               {"resnet50", "torch", 0},
                               {"resnet50", "keras", 0},
                               {"resnet101", "torch", 0},
                               {"resnet152", "torch", 0},
                               {"mobilenetv2", "torch", 0},
                               {"mobilenetv2", "keras", 0.35},
                               {"mnasnet", "torch", 0.5},
                               {"mnasnet", "torch", 0},
                               {"mobilenetv3_large", "torch", 0},
                               {"mobilenetv3_small", "torch", 0},
                               {"efficientnet_b0", "torch", 0},
                               {"efficientnet_b1", "torch", 0},
                               {"efficientnet_b2", "torch", 0},
                               {"efficientnet_b3", "torch", 0},
                               {"squeezenet1_1", "torch", 0},
                               {"densenet121", "torch", 0},
                               {"shufflenet_v2_x0_5", "torch", 0},
                               {"shufflenet_v2_x1_0", "torch", 0},
                               {"resnext50_32x4d", "torch", 0},
                               {"regnet_y_400mf", "torch", 0},
                               {"convnext_tiny", "torch", 0}};
    return cr_make_param_array(zoo_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(zoo_case *k, zoo, fused_equals_unfused_and_trains, .timeout = 900)
{
    if (clnet_test_sanitize_skips(k->name))
        cr_skip_test("a deeper repeat of a family, under the sanitizers");
    clnet_context *ctx = clnet_test_device();
    clnet_zoo_options zo = {32, 32, 3, 10, k->style, k->alpha, 0};
    clnet_graph *g = NULL;
    char err[512] = "";
    cr_assert_eq(clnet_zoo_build(k->name, &zo, &g, err, sizeof err), CLNET_OK, "%s", err);
    clnet_model *fused = clnet_test_model(ctx, g, 1, 1, 1),
                *plain = clnet_test_model(ctx, g, 0, 0, 1);
    clnet_test_randomize_weights(plain, 17);
    clnet_test_copy_weights(fused, plain);
    clnet_tensor *x = clnet_test_input(ctx, g, 2, 3), *ya = NULL, *yb = NULL;
    cr_assert_eq(clnet_model_forward(fused, x, 0, &ya), CLNET_OK, "%s", clnet_context_error(ctx));
    cr_assert_eq(clnet_model_forward(plain, x, 0, &yb), CLNET_OK, "%s", clnet_context_error(ctx));
    float *a = clnet_test_host(ya), *b = clnet_test_host(yb);
    const double rel = clnet_test_rel_diff(a, b, clnet_tensor_count(ya));
    cr_expect(rel <= 1e-4, "%s %s: fused vs unfused relative difference %g", k->name, k->style,
              rel);
    free(a);
    free(b);
    clnet_model_destroy(plain);

    /* Training through the fused training plan: every trainable weight gets a finite
     * gradient, and not all of them are zero. */
    clnet_tensor *dy = clnet_test_backward(fused, x, 4);
    int nonzero = 0;
    for (int i = 0; i < clnet_model_weight_count(fused); ++i) {
        clnet_weight_info info;
        clnet_tensor *dw = NULL;
        cr_assert_eq(clnet_model_weight(fused, i, &info, NULL, &dw), CLNET_OK);
        if (!dw)
            continue;
        float *d = clnet_test_host(dw);
        int finite = 1;
        for (size_t j = 0; j < clnet_tensor_count(dw); ++j) {
            finite &= isfinite(d[j]) != 0;
            nonzero += d[j] != 0.0f;
        }
        cr_expect(finite, "%s %s: %s/%s has a non-finite gradient", k->name, k->style, info.layer,
                  info.name);
        free(d);
    }
    cr_expect_gt(nonzero, 0);
    clnet_tensor_destroy(dy);
    clnet_tensor_destroy(x);
    clnet_model_destroy(fused);
    clnet_graph_destroy(g);
}
