/* test_channel_ops_graph.c - a network of the newer ops (tests/support/models.c:
 * clnet_test_small_shufflenet) read from a text spec: every layer's shape, the spec written
 * back reads as the same text, and training steps run without error, changing the weights
 * of the layers only the broadcast ops and the channel split, join and shuffle connect to
 * the loss. The memory plan of the same network: tests/models/test_plan.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/models.h"

static void expect_shape(const clnet_graph *g, const char *name, clnet_shape want)
{
    const clnet_layer l = clnet_graph_find(g, name);
    cr_assert_geq(l, 0, "no layer %s", name);
    const clnet_shape s = clnet_graph_layer_shape(g, l);
    cr_expect(clnet__shape_eq(s, want), "%s: %dx%dx%dx%d", name, s.n, s.h, s.w, s.c);
}

Test(channel_ops_graph, spec_infers_the_shapes_and_reads_back)
{
    clnet_graph *g = clnet_test_small_shufflenet(6, 5, 3, 4), *again = NULL;
    expect_shape(g, "left", (clnet_shape){1, 6, 5, 8});
    expect_shape(g, "right", (clnet_shape){1, 6, 5, 8});
    expect_shape(g, "join", (clnet_shape){1, 6, 5, 16});
    expect_shape(g, "shuffle", (clnet_shape){1, 6, 5, 16});
    expect_shape(g, "se_expand", (clnet_shape){1, 1, 1, 16});
    expect_shape(g, "se_scale", (clnet_shape){1, 6, 5, 16});
    expect_shape(g, "scaled", (clnet_shape){1, 6, 5, 16});
    expect_shape(g, "logits", (clnet_shape){1, 1, 1, 4});
    char *text = NULL, *text2 = NULL, err[512] = "";
    cr_assert_eq(clnet_graph_to_spec(g, &text), CLNET_OK);
    cr_expect(
        strstr(text, "[right]\nop = channel_slice\ninputs = stem_relu\nstart = 8\nsize = 8\n"),
        "%s", text);
    cr_assert_eq(clnet_graph_from_spec(text, "again.spec", &again, err, sizeof err), CLNET_OK, "%s",
                 err);
    cr_assert_eq(clnet_graph_to_spec(again, &text2), CLNET_OK);
    cr_expect_str_eq(text2, text);
    clnet_free(text);
    clnet_free(text2);
    clnet_graph_destroy(again);
    clnet_graph_destroy(g);
}

/* One weight of m's layer as host floats (free()). */
static float *weight_of(clnet_model *m, const char *layer, size_t *count)
{
    for (int i = 0; i < clnet_model_weight_count(m); ++i) {
        clnet_weight_info info;
        clnet_tensor *t = NULL;
        cr_assert_eq(clnet_model_weight(m, i, &info, &t, NULL), CLNET_OK);
        if (strcmp(info.layer, layer) == 0) {
            *count = clnet_tensor_count(t);
            return clnet_test_host(t);
        }
    }
    cr_assert_fail("no weight of layer %s", layer);
    return NULL;
}

Test(channel_ops_graph, trains_without_error, .timeout = 600)
{
    clnet_context *ctx = clnet_test_device();
    clnet_graph *g = clnet_test_small_shufflenet(6, 5, 3, 4);
    clnet_model *m = clnet_test_model(ctx, g, 1, 1, 7);
    clnet_optimizer *o = NULL;
    cr_assert_eq(clnet_optimizer_create(m, NULL, &o), CLNET_OK, "%s", clnet_context_error(ctx));
    const char *layers[3] = {"stem", "branch", "se_reduce"};
    float *before[3];
    size_t count[3];
    for (int k = 0; k < 3; ++k)
        before[k] = weight_of(m, layers[k], &count[k]);
    for (int step = 0; step < 2; ++step) {
        clnet_tensor *x = clnet_test_input(ctx, g, 3, 40 + (uint64_t)step);
        const int labels[3] = {0, 3, step};
        double loss = NAN;
        int correct = -1;
        cr_assert_eq(clnet_train_step(o, x, labels, 0.05f, 0.0f, &loss, &correct), CLNET_OK,
                     "step %d: %s", step, clnet_context_error(ctx));
        cr_expect(isfinite(loss) && loss > 0.0, "step %d: loss %g", step, loss);
        cr_expect(correct >= 0 && correct <= 3, "step %d: %d correct", step, correct);
        clnet_tensor_destroy(x);
    }
    for (int k = 0; k < 3; ++k) {
        size_t n = 0;
        float *after = weight_of(m, layers[k], &n);
        cr_expect_neq(memcmp(before[k], after, n * sizeof(float)), 0, "%s did not train",
                      layers[k]);
        free(after);
        free(before[k]);
    }
    clnet_optimizer_destroy(o);
    clnet_model_destroy(m);
    clnet_graph_destroy(g);
}
