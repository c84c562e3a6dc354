/* train_folder.c - train a classifier on your own images: a folder with one sub-folder
 * per class (the folder names are the class names). Opens it at 64x64x3, holds 20% out
 * for validation, trains a small ResNet built from Keras-style blocks, evaluates it,
 * saves model.safetensors, loads it back and predicts the first image of each class.
 *     sample_train_folder DIR [epochs]
 * Build: part of the samples (build/samples/sample_train_folder). Uses clnet.h only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clnet.h"

enum { SIZE = 64, CHANNELS = 3, BATCH = 32 };

static clnet_layer conv_bn(clnet_graph *g, clnet_layer x, int filters, int k, int stride)
{
    char p[128];
    snprintf(p, sizeof p, "filters = %d\nkernel_size = %d\nstrides = %d\npadding = same", filters,
             k, stride);
    x = clnet_graph_layer(g, "conv2d", NULL, p, &x, 1);
    /* Keras's defaults (momentum 0.99): clnet_fit recomputes the moving statistics for
     * the weights before validating and at the end, so they never lag behind. */
    return clnet_graph_layer(g, "batch_norm", NULL, "", &x, 1);
}

/* Two 3x3 convolutions plus a shortcut (a strided 1x1 projection when the shape
 * changes), added and passed through relu. */
static clnet_layer residual_block(clnet_graph *g, clnet_layer x, int filters, int stride)
{
    clnet_layer y = conv_bn(g, x, filters, 3, stride);
    y = clnet_graph_layer(g, "relu", NULL, "", &y, 1);
    y = conv_bn(g, y, filters, 3, 1);
    const clnet_layer shortcut = stride > 1 ? conv_bn(g, x, filters, 1, stride) : x;
    const clnet_layer both[2] = {y, shortcut};
    return clnet_graph_layer(g, "add", NULL, "activation = relu", both, 2);
}

/* 64x64 -> stem at 32x32 (16 channels) -> blocks at 32x32, 16x16, 8x8 -> logits. About
 * 12 million multiply-adds per image: quick to train on a CPU device. */
static clnet_graph *small_resnet(int classes)
{
    clnet_graph *g = NULL;
    if (clnet_graph_create(&g) != CLNET_OK)
        return NULL;
    clnet_layer x = clnet_graph_input(g, "image", SIZE, SIZE, CHANNELS);
    x = conv_bn(g, x, 16, 3, 2);
    x = clnet_graph_layer(g, "relu", NULL, "", &x, 1);
    x = residual_block(g, x, 16, 1);
    x = residual_block(g, x, 32, 2);
    x = residual_block(g, x, 64, 2);
    x = clnet_graph_layer(g, "global_avg_pool", NULL, "", &x, 1);
    char p[32];
    snprintf(p, sizeof p, "units = %d", classes);
    clnet_graph_layer(g, "dense", "logits", p, &x, 1);
    if (clnet_graph_status(g) != CLNET_OK) { /* the first error, naming the layer */
        fprintf(stderr, "%s\n", clnet_graph_error(g));
        clnet_graph_destroy(g);
        return NULL;
    }
    return g;
}

/* One line per epoch; mid-epoch reports are skipped. Returning 0 goes on. */
static int progress(void *user, const clnet_progress *p)
{
    (void)user;
    if (p->end_of_epoch)
        printf("epoch %d/%d: loss %.4f accuracy %.4f - val_loss %.4f val_accuracy %.4f - "
               "%.1f s, %.0f images/s\n",
               p->epoch + 1, p->epochs, p->loss, p->accuracy, p->val_loss, p->val_accuracy,
               p->epoch_s, p->images_per_s);
    return 0;
}

/* Warnings (level 1: each skipped, unreadable image) from the dataset reader. */
static void log_line(void *user, int level, const char *msg)
{
    (void)user;
    if (level <= 1)
        fprintf(stderr, "%s\n", msg);
}

/* The first file of dir/class (in the dataset's order) that loads as an image, into
 * image and its path into path; 0 if none does. */
static int first_image(const char *dir, const char *class_name, clnet_shape in, float *image,
                       char *path, size_t len)
{
    char folder[4096], err[1024];
    snprintf(folder, sizeof folder, "%s/%s", dir, class_name);
    char **files = NULL;
    int n = 0, found = 0;
    if (clnet_folder_list(folder, &files, &n, err, sizeof err) != CLNET_OK)
        fprintf(stderr, "%s\n", err);
    for (int i = 0; i < n && !found; ++i)
        found = clnet_image_load(files[i], in.h, in.w, in.c, image, err, sizeof err) == CLNET_OK &&
                (size_t)snprintf(path, len, "%s", files[i]) < len;
    clnet_folder_list_free(files, n);
    return found;
}

/* The indices of the (up to) k most probable classes into top, most probable first;
 * returns how many. */
static int top_classes(const float *p, int classes, int *top, int k)
{
    int n = 0;
    for (; n < k && n < classes; ++n) {
        top[n] = -1;
        for (int c = 0; c < classes; ++c) {
            int taken = 0;
            for (int j = 0; j < n; ++j)
                taken |= top[j] == c;
            if (!taken && (top[n] < 0 || p[c] > p[top[n]]))
                top[n] = c;
        }
    }
    return n;
}

static int failed(clnet_status st, const clnet_context *ctx, const char *what)
{
    if (st == CLNET_OK)
        return 0;
    fprintf(stderr, "%s: %s: %s\n", what, clnet_status_string(st), clnet_context_error(ctx));
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s DIR [epochs]\n  DIR: one sub-folder of images per class\n",
                argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    const int epochs = argc > 2 ? atoi(argv[2]) : 5;
    if (epochs < 1) {
        fprintf(stderr, "epochs must be a positive number\n");
        return 2;
    }
    char err[1024] = "";
    clnet_context_options copt = {0};
    copt.error = err;
    copt.error_len = sizeof err;
    clnet_context *ctx = NULL;
    clnet_dataset *all = NULL, *train = NULL, *val = NULL;
    clnet_graph *g = NULL;
    clnet_model *model = NULL, *loaded = NULL;
    clnet_eval_result r = {0};
    float *image = NULL, *probs = NULL;
    const char **names = NULL;
    int rc = 1;

    if (clnet_context_create(&copt, &ctx) != CLNET_OK) {
        fprintf(stderr, "no OpenCL device: %s\n", err);
        goto done;
    }
    printf("device: %s\n", clnet_context_device(ctx)->name);

    /* Every image is decoded now, resized to SIZE x SIZE and converted to RGB. */
    const clnet_dataset_options dopt = {.h = SIZE, .w = SIZE, .c = CHANNELS, .log = log_line};
    if (clnet_dataset_open(dir, "train", &dopt, &all, err, sizeof err) != CLNET_OK) {
        fprintf(stderr, "%s\n", err);
        goto done;
    }
    const int classes = clnet_dataset_class_count(all);
    printf("%s: %d images in %d classes (%d skipped, %d ignored)\n", dir, clnet_dataset_size(all),
           classes, clnet_dataset_skipped(all), clnet_dataset_ignored(all));
    clnet_status st = clnet_dataset_split(all, 0.2, 1, &train, &val);
    if (st != CLNET_OK) {
        fprintf(stderr, "split: %s\n", clnet_status_string(st));
        goto done;
    }
    printf("training on %d, validating on %d\n", clnet_dataset_size(train),
           clnet_dataset_size(val));

    g = small_resnet(classes);
    names = malloc((size_t)classes * sizeof *names);
    if (!g || !names)
        goto done;
    for (int k = 0; k < classes; ++k)
        names[k] = clnet_dataset_class_name(all, k);
    /* The labels and the normalization travel in the model file, so whoever loads it
     * gets class names and feeds pixels exactly as they were during training. */
    float mean[CHANNELS], std[CHANNELS];
    const clnet_model_options mopt = {42, 0, 0};
    if (failed(clnet_model_create(ctx, g, &mopt, &model), ctx, "model") ||
        failed(clnet_model_set_labels(model, names, classes), ctx, "labels") ||
        failed(clnet_dataset_stats(train, mean, std), ctx, "stats") ||
        failed(clnet_model_set_normalization(model, mean, std, CHANNELS), ctx, "normalization"))
        goto done;

    clnet_fit_options fit = {0};
    fit.epochs = epochs;
    fit.batch = BATCH;
    fit.optimizer.kind = CLNET_OPT_ADAM;
    fit.schedule.kind = CLNET_LR_COSINE;
    fit.schedule.lr = 1e-3f;
    fit.augment = 0; /* 1 (random crops, flips) pays off on small data over more epochs */
    fit.seed = 1;
    fit.progress = progress;
    if (failed(clnet_fit(model, train, val, &fit), ctx, "fit") ||
        failed(clnet_evaluate(model, val, BATCH, &r), ctx, "evaluate"))
        goto done;
    printf("validation: %d images, loss %.4f, top-1 %.4f, top-5 %.4f\n", r.images, r.loss, r.top1,
           r.top5);

    if (failed(clnet_model_save(model, "model.safetensors"), ctx, "save") ||
        failed(clnet_model_load(ctx, "model.safetensors", NULL, &loaded), ctx, "load"))
        goto done;
    printf("saved and reloaded model.safetensors\n");

    /* The first image of each class folder, at the loaded model's input size (layer 0
     * is the input). */
    const clnet_shape in = clnet_graph_layer_shape(clnet_model_graph(loaded), 0);
    image = malloc((size_t)in.h * in.w * in.c * sizeof *image);
    probs = malloc((size_t)classes * sizeof *probs);
    if (!image || !probs)
        goto done;
    for (int k = 0; k < classes; ++k) {
        char path[4096];
        if (!first_image(dir, clnet_dataset_class_name(all, k), in, image, path, sizeof path))
            continue;
        if (failed(clnet_model_predict(loaded, image, 1, probs), ctx, "predict"))
            goto done;
        int top[3];
        const int shown = top_classes(probs, classes, top, 3);
        printf("%s:", path);
        for (int j = 0; j < shown; ++j)
            printf(" %s %.3f", clnet_model_label(loaded, top[j]), probs[top[j]]);
        printf("\n");
    }
    rc = 0;
done:
    free(probs);
    free(image);
    free(names);
    clnet_eval_result_free(&r);
    clnet_model_destroy(loaded);
    clnet_model_destroy(model);
    clnet_graph_destroy(g);
    clnet_dataset_destroy(train); /* the splits borrow the images of all */
    clnet_dataset_destroy(val);
    clnet_dataset_destroy(all);
    clnet_context_destroy(ctx);
    return rc;
}
