/* onnx_predict.c - run a classifier exported from PyTorch (torch.onnx.export) on your
 * photos: reads the .onnx file (at its own input size, or HxW where it is symbolic),
 * gives it torchvision's preprocessing (ImageNet's mean and std on RGB) and prints the
 * top 3 classes of each image; with an output file, saves the model for `clnet predict`.
 *     sample_onnx_predict MODEL.onnx IMAGE... [--size HxW] [--save OUT.safetensors]
 * Build: part of the samples (build/samples/sample_onnx_predict). Uses clnet.h only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clnet.h"

static int fail(clnet_context *ctx, const char *what)
{
    fprintf(stderr, "%s: %s\n", what, clnet_context_error(ctx));
    return 1;
}

int main(int argc, char **argv)
{
    const char *model_path = NULL, *save = NULL;
    const char *images[64];
    int n_images = 0;
    clnet_onnx_options onnx = {0, 0, 0};
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--size") && i + 1 < argc &&
            sscanf(argv[++i], "%dx%d", &onnx.h, &onnx.w) == 2)
            onnx.c = 3;
        else if (!strcmp(argv[i], "--save") && i + 1 < argc)
            save = argv[++i];
        else if (!model_path)
            model_path = argv[i];
        else if (n_images < 64)
            images[n_images++] = argv[i];
    }
    if (!model_path || !n_images) {
        fprintf(stderr, "usage: %s MODEL.onnx IMAGE... [--size HxW] [--save OUT.safetensors]\n",
                argv[0]);
        return 2;
    }
    clnet_context *ctx = NULL;
    if (clnet_context_create(NULL, &ctx) != CLNET_OK) {
        fprintf(stderr, "no OpenCL device\n");
        return 1;
    }
    clnet_model *m = NULL;
    /* Every node clnet cannot run is listed in one error, with its name and op type. */
    if (clnet_model_import_onnx(ctx, model_path, &onnx, NULL, &m) != CLNET_OK)
        return fail(ctx, model_path);
    const clnet_graph *g = clnet_model_graph(m);
    const clnet_shape in = clnet_graph_layer_shape(g, 0);
    const int classes = clnet_graph_layer_shape(g, clnet_graph_layer_count(g) - 1).c;
    if (in.c == 3) {
        /* torchvision's transforms.Normalize: ImageNet's statistics on pixels in [0, 1]. */
        const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
        if (clnet_model_set_normalization(m, mean, std, 3) != CLNET_OK)
            return fail(ctx, "normalization");
    }
    printf("%s: %d layers, input %dx%dx%d, %d classes\n", model_path, clnet_graph_layer_count(g),
           in.h, in.w, in.c, classes);
    const size_t pixels = (size_t)in.h * in.w * in.c;
    float *x = malloc(pixels * sizeof *x), *probs = malloc((size_t)classes * sizeof *probs);
    for (int i = 0; x && probs && i < n_images; ++i) {
        char err[512];
        if (clnet_image_load(images[i], in.h, in.w, in.c, x, err, sizeof err) != CLNET_OK) {
            fprintf(stderr, "%s\n", err);
            continue;
        }
        if (clnet_model_predict(m, x, 1, probs) != CLNET_OK)
            return fail(ctx, images[i]);
        printf("%s:", images[i]);
        for (int top = 0; top < 3 && top < classes; ++top) {
            int best = 0;
            for (int k = 1; k < classes; ++k)
                best = probs[k] > probs[best] ? k : best;
            printf("  class %d (%.1f%%)", best, 100.0 * probs[best]);
            probs[best] = -1.0f;
        }
        printf("\n");
    }
    if (save && clnet_model_save(m, save) != CLNET_OK)
        return fail(ctx, save);
    free(x);
    free(probs);
    clnet_model_destroy(m);
    clnet_context_destroy(ctx);
    return 0;
}
