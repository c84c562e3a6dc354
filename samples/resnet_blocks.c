/* resnet_blocks.c - a ResNet written the way a Keras tutorial writes it: a conv + batch
 * norm + relu helper and an identity block with an optional projection shortcut, each
 * an ordinary C function that takes and returns a layer. Prints the summary, then runs
 * a batch through the fused inference plan and a training step's backward.
 * Build: part of the samples (build/samples/sample_resnet_blocks). Uses clnet.h only. */
#include <stdio.h>
#include <stdlib.h>

#include "clnet.h"

static clnet_layer conv_bn_relu(clnet_graph *g, clnet_layer x, int filters, int k, int stride,
                                int relu)
{
    char p[128];
    snprintf(p, sizeof p, "filters = %d\nkernel_size = %d\nstrides = %d\npadding = same", filters,
             k, stride);
    x = clnet_graph_layer(g, "conv2d", NULL, p, &x, 1);
    x = clnet_graph_layer(g, "batch_norm", NULL, "", &x, 1);
    return relu ? clnet_graph_layer(g, "relu", NULL, "", &x, 1) : x;
}

/* Two 3x3 convolutions and a shortcut: identity, or a strided 1x1 projection when
 * the shape changes. */
static clnet_layer identity_block(clnet_graph *g, clnet_layer x, int filters, int stride,
                                  int project)
{
    clnet_layer y = conv_bn_relu(g, x, filters, 3, stride, 1);
    y = conv_bn_relu(g, y, filters, 3, 1, 0);
    const clnet_layer shortcut = project ? conv_bn_relu(g, x, filters, 1, stride, 0) : x;
    const clnet_layer both[2] = {y, shortcut};
    return clnet_graph_layer(g, "add", NULL, "activation = relu", both, 2);
}

int main(void)
{
    clnet_graph *g = NULL;
    if (clnet_graph_create(&g) != CLNET_OK)
        return 1;
    clnet_layer x = clnet_graph_input(g, "image", 64, 64, 3);
    x = conv_bn_relu(g, x, 32, 3, 1, 1);
    x = identity_block(g, x, 32, 1, 0);
    x = identity_block(g, x, 64, 2, 1);
    x = identity_block(g, x, 64, 1, 0);
    x = clnet_graph_layer(g, "global_avg_pool", NULL, "", &x, 1);
    clnet_graph_layer(g, "dense", "logits", "units = 6", &x, 1);
    if (clnet_graph_status(g) != CLNET_OK) { /* the first error, naming the layer */
        fprintf(stderr, "%s\n", clnet_graph_error(g));
        clnet_graph_destroy(g);
        return 1;
    }
    char *text = NULL;
    if (clnet_graph_summary(g, "small_resnet", &text) == CLNET_OK)
        fputs(text, stdout);
    clnet_free(text);

    char err[1024] = "";
    clnet_context_options opt = {0};
    opt.error = err;
    opt.error_len = sizeof err;
    clnet_context *ctx = NULL;
    clnet_model *model = NULL;
    clnet_tensor *batch = NULL, *dy = NULL, *y = NULL;
    int rc = 1;
    if (clnet_context_create(&opt, &ctx) != CLNET_OK) {
        fprintf(stderr, "no device: %s\n", err);
        goto done;
    }
    const clnet_model_options mo = {42, 0, 0};
    if (clnet_model_create(ctx, g, &mo, &model) != CLNET_OK ||
        clnet_tensor_create(ctx, (clnet_shape){8, 64, 64, 3}, &batch) != CLNET_OK ||
        clnet_tensor_init(batch, CLNET_INIT_UNIFORM, 0.0f, 1.0f, 7) != CLNET_OK ||
        clnet_model_forward(model, batch, 0, &y) != CLNET_OK) {
        fprintf(stderr, "%s\n", clnet_context_error(ctx));
        goto done;
    }
    float logits[8 * 6];
    if (clnet_tensor_read(y, logits, 8 * 6) != CLNET_OK)
        goto done;
    printf("\nlogits of image 0:");
    for (int i = 0; i < 6; ++i)
        printf(" %.4f", logits[i]);
    printf("\n");
    /* A training forward and backward: the gradient of sum(logits) reaches every weight. */
    if (clnet_model_forward(model, batch, 1, &y) != CLNET_OK ||
        clnet_tensor_create(ctx, clnet_tensor_shape(y), &dy) != CLNET_OK ||
        clnet_tensor_fill(dy, 1.0f) != CLNET_OK || clnet_model_backward(model, dy) != CLNET_OK) {
        fprintf(stderr, "%s\n", clnet_context_error(ctx));
        goto done;
    }
    clnet_plan_stats ps;
    if (clnet_model_plan_stats(model, 0, 8, &ps) == CLNET_OK)
        printf("inference plan: %d layers in %d steps, %.2f MiB of activations (%.2f unplanned)\n",
               ps.layers, ps.steps, ps.planned_bytes / 1048576.0, ps.unplanned_bytes / 1048576.0);
    rc = 0;
done:
    clnet_tensor_destroy(dy);
    clnet_tensor_destroy(batch);
    clnet_model_destroy(model);
    clnet_context_destroy(ctx);
    clnet_graph_destroy(g);
    return rc;
}
