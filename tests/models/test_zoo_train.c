/* test_zoo_train.c - one training run per zoo family (src/models/): the zoo model at
 * 32x32x3 with 4 classes, Adam on 16 fixed images (class k lights quadrant k) for the
 * case's steps, and the training loss falls well below its first value. Proves every op
 * of a family trains inside a whole network through the fused training plan. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "support/models.h"
#include "tensor/rng.h"

enum { SIDE = 32, IMAGES = 16, CLASSES = 4 };

typedef struct train_case {
    char name[24];
    char style[8];
    int steps;
} train_case;

ParameterizedTestParameters(zoo_train, loss_falls)
{
    static train_case cases[] = {
        {"resnet18", "torch", 24},
        {"mobilenetv2", "keras", 24},
        /* No batch norm, ReLU'd logits and Keras's Glorot initializers (torchvision's
         * Kaiming ones start faster): the loss stays near ln 4 for 20 steps, then falls. */
        {"squeezenet1_1", "torch", 48},
        {"densenet121", "torch", 24},
        {"shufflenet_v2_x0_5", "torch", 24},
        {"mobilenetv3_small", "torch", 24},
        {"efficientnet_b0", "torch", 24},
        {"resnext50_32x4d", "torch", 24},
        {"regnet_y_400mf", "torch", 24},
        {"convnext_tiny", "torch", 24},
    };
    return cr_make_param_array(train_case, cases, sizeof cases / sizeof cases[0]);
}

/* Image i: noise, plus a bright 8x8 square in quadrant labels[i] at a random offset. */
static void make_images(float *x, int *labels)
{
    clnet__rng r;
    clnet__rng_seed(&r, 5);
    for (int i = 0; i < IMAGES; ++i) {
        const int k = i % CLASSES, oy = (int)(clnet__rng_next(&r) % 8),
                  ox = (int)(clnet__rng_next(&r) % 8);
        labels[i] = k;
        float *img = x + (size_t)i * SIDE * SIDE * 3;
        for (int p = 0; p < SIDE * SIDE * 3; ++p)
            img[p] = (float)(0.3 * clnet__rng_uniform(&r));
        for (int y = 0; y < 8; ++y)
            for (int xx = 0; xx < 8; ++xx)
                for (int c = 0; c < 3; ++c)
                    img[((16 * (k / 2) + oy + y) * SIDE + 16 * (k % 2) + ox + xx) * 3 + c] += 1.0f;
    }
}

ParameterizedTest(train_case *k, zoo_train, loss_falls, .timeout = 900)
{
    clnet_context *ctx = clnet_test_device();
    clnet_zoo_options zo = {SIDE, SIDE, 3, CLASSES, k->style, 0.0, 0};
    clnet_graph *g = NULL;
    char err[512] = "";
    cr_assert_eq(clnet_zoo_build(k->name, &zo, &g, err, sizeof err), CLNET_OK, "%s", err);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 7);
    const clnet_optimizer_options oo = {CLNET_OPT_ADAM, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    clnet_optimizer *o = NULL;
    cr_assert_eq(clnet_optimizer_create(m, &oo, &o), CLNET_OK, "%s", clnet_context_error(ctx));
    static float x[IMAGES * SIDE * SIDE * 3];
    int labels[IMAGES];
    make_images(x, labels);
    clnet_tensor *batch = clnet_test_tensor(ctx, (clnet_shape){IMAGES, SIDE, SIDE, 3}, x);
    double first = 0.0, last = 0.0;
    for (int s = 0; s < k->steps; ++s) {
        double loss = 0.0;
        cr_assert_eq(clnet_train_step(o, batch, labels, 1e-3f, 0.0f, &loss, NULL), CLNET_OK,
                     "%s step %d: %s", k->name, s, clnet_context_error(ctx));
        cr_assert(isfinite(loss), "%s step %d: loss %g", k->name, s, loss);
        if (s == 0)
            first = loss;
        if (s >= k->steps - 3)
            last += loss / 3.0;
    }
    cr_expect_lt(last, 0.6 * first, "%s %s: loss %.4f at the first step, %.4f over the last 3",
                 k->name, k->style, first, last);
    clnet_tensor_destroy(batch);
    clnet_optimizer_destroy(o);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}
