/* predict.c - `clnet predict MODEL IMAGE...`: each image's top classes by a saved model
 * (clnet_image_load, clnet_model_predict), as text or JSON. Tests:
 * tests/cli/test_cli.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: clnet predict MODEL.safetensors IMAGE... [--top K] [--json]\n"
               "                     [--device N|NAME] [--class dgpu|igpu|cpu]\n\n"
               "Prints, for each image file, the K most probable classes (default 3) with their\n"
               "probabilities; --json prints one JSON object per image instead.\n");
}

static void print_one(clnet_model *m, const char *path, const float *p, int classes, int top,
                      int json)
{
    int *order = malloc((size_t)classes * sizeof *order);
    if (!order)
        return;
    for (int k = 0; k < classes; ++k)
        order[k] = k;
    for (int i = 0; i < top; ++i) /* partial selection: top is small */
        for (int j = i + 1; j < classes; ++j)
            if (p[order[j]] > p[order[i]]) {
                const int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    if (json) {
        printf("{\"image\":");
        clnet_cli_json_string(path);
        printf(",\"top\":[");
    } else {
        printf("%s\n", path);
    }
    for (int i = 0; i < top; ++i) {
        const char *name = clnet_model_label(m, order[i]);
        char fallback[16];
        snprintf(fallback, sizeof fallback, "%d", order[i]);
        if (json) {
            printf("%s{\"class\":", i ? "," : "");
            clnet_cli_json_string(name ? name : fallback);
            printf(",\"index\":%d,\"probability\":%.6f}", order[i], p[order[i]]);
        } else {
            printf("  %6.2f%%  %s\n", 100.0 * p[order[i]], name ? name : fallback);
        }
    }
    if (json)
        printf("]}\n");
    free(order);
}

int clnet_cli_predict(int argc, char **argv)
{
    const char *path = NULL, *device = NULL, *cls = NULL;
    int top = 3, json = 0, n_images = 0;
    char **images = calloc((size_t)argc, sizeof *images);
    if (!images)
        return clnet_cli_error("predict", "out of memory");
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            free(images);
            return 0;
        }
        if ((!strcmp(a, "--top") || !strcmp(a, "--device") || !strcmp(a, "--class")) &&
            i + 1 >= argc) {
            free(images);
            return clnet_cli_error("predict", "%s needs a value (see --help)", a);
        }
        if (!strcmp(a, "--top"))
            top = atoi(argv[++i]);
        else if (!strcmp(a, "--device"))
            device = argv[++i];
        else if (!strcmp(a, "--class"))
            cls = argv[++i];
        else if (!strcmp(a, "--json"))
            json = 1;
        else if (a[0] == '-') {
            free(images);
            return clnet_cli_error("predict", "unexpected argument '%s' (see --help)", a);
        } else if (!path)
            path = a;
        else
            images[n_images++] = argv[i];
    }
    if (!path || !n_images || top < 1) {
        free(images);
        return clnet_cli_error("predict", "a model file and at least one image are needed, "
                                          "--top at least 1 (see --help)");
    }
    clnet_context *ctx = clnet_cli_context("predict", device, cls);
    clnet_model *m = NULL;
    int rc = ctx ? 0 : 1, failed = 0;
    if (rc == 0 && clnet_model_load(ctx, path, NULL, &m) != CLNET_OK)
        rc = clnet_cli_error("predict", "%s", clnet_context_error(ctx));
    const clnet_shape in = m ? clnet_graph_layer_shape(clnet_model_graph(m), 0) : (clnet_shape){0};
    const clnet_graph *g = m ? clnet_model_graph(m) : NULL;
    const int classes = g ? clnet_graph_layer_shape(g, clnet_graph_layer_count(g) - 1).c : 0;
    float *x = rc ? NULL : malloc((size_t)in.h * in.w * in.c * sizeof *x);
    float *p = rc ? NULL : malloc((size_t)classes * sizeof *p);
    if (rc == 0 && (!x || !p))
        rc = clnet_cli_error("predict", "out of memory");
    for (int i = 0; rc == 0 && i < n_images; ++i) {
        char err[1024] = "";
        if (clnet_image_load(images[i], in.h, in.w, in.c, x, err, sizeof err) != CLNET_OK) {
            clnet_cli_error("predict", "%s", err); /* the others still get predictions */
            ++failed;
            continue;
        }
        if (clnet_model_predict(m, x, 1, p) != CLNET_OK) {
            rc = clnet_cli_error("predict", "%s", clnet_context_error(ctx));
            break;
        }
        print_one(m, images[i], p, classes, top < classes ? top : classes, json);
    }
    free(x);
    free(p);
    free(images);
    clnet_model_destroy(m);
    clnet_context_destroy(ctx);
    return rc ? rc : failed ? 1 : 0;
}
