/* eval.c - `clnet eval MODEL --data SOURCE`: loss, top-1 and top-5 accuracy, per-class
 * precision and recall and the confusion matrix of a saved model on a dataset
 * (clnet_evaluate). Tests: tests/cli/test_cli.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: clnet eval MODEL.safetensors --data SOURCE [--part test|train]\n"
               "                  [--batch N] [--device N|NAME] [--class dgpu|igpu|cpu]\n"
               "                  [--confusion FILE.png] [--center-crop F]\n\n"
               "Runs the images of SOURCE (an image folder, idx:DIR or cifar:DIR; --part picks\n"
               "the test (default) or train files of idx and CIFAR) through the model and prints\n"
               "the mean loss, top-1 and top-5 accuracy, each class's precision and recall, and\n"
               "the confusion matrix (rows: true class, columns: predicted); --confusion also\n"
               "draws it as a heat map into a PNG file. Images are resized as the model file\n"
               "says (as in training's validation):\n" CLNET_CLI_CENTER_CROP_HELP
               "                       (default: the model's)\n");
}

static const char *class_name(clnet_model *m, const clnet_dataset *d, int k)
{
    return clnet_model_label(m, k) ? clnet_model_label(m, k) : clnet_dataset_class_name(d, k);
}

static void report(clnet_model *m, const clnet_dataset *d, const clnet_eval_result *r)
{
    char a[32];
    printf("%d images: loss %s - top-1 %.4f - top-5 %.4f\n\n", r->images,
           clnet_cli_figure(a, sizeof a, r->loss), r->top1, r->top5);
    const int c = r->classes;
    int present = 0;
    printf("%-24s %9s %9s %7s\n", "class", "precision", "recall", "images");
    for (int k = 0; k < c; ++k) {
        int64_t row = 0, col = 0;
        for (int j = 0; j < c; ++j) {
            row += r->confusion[(size_t)k * c + j];
            col += r->confusion[(size_t)j * c + k];
        }
        present += row > 0;
        const int64_t hit = r->confusion[(size_t)k * c + k];
        printf("%-24.24s ", class_name(m, d, k));
        char precision[16] = "        -", recall[16] = "        -";
        if (col)
            snprintf(precision, sizeof precision, "%9.4f", (double)hit / (double)col);
        if (row)
            snprintf(recall, sizeof recall, "%9.4f", (double)hit / (double)row);
        printf("%s %s %7lld\n", precision, recall, (long long)row);
    }
    if (present < c)
        printf("(the data holds images of %d of the model's %d classes)\n", present, c);
    if (c > 20) {
        printf("\nconfusion: %d classes, too many to print (--confusion FILE.png draws it)\n", c);
        return;
    }
    /* Rows named in full, columns by their number in that list. */
    printf("\nconfusion (rows: true class, columns: predicted, numbered as the rows)\n%18s", "");
    for (int j = 0; j < c; ++j)
        printf(" %6d", j);
    printf("\n");
    for (int k = 0; k < c; ++k) {
        printf("%2d %-15.15s", k, class_name(m, d, k));
        for (int j = 0; j < c; ++j)
            printf(" %6lld", (long long)r->confusion[(size_t)k * c + j]);
        printf("\n");
    }
}

/* --confusion: the matrix as a PNG heat map with the model's class names. */
static int write_confusion(clnet_model *m, const clnet_dataset *d, const clnet_eval_result *r,
                           const char *model, const char *data, const char *png)
{
    const char **names = malloc((size_t)r->classes * sizeof *names);
    if (!names)
        return clnet_cli_error("eval", "out of memory");
    for (int k = 0; k < r->classes; ++k)
        names[k] = class_name(m, d, k);
    char title[512];
    const char *slash = strrchr(model, '/');
    snprintf(title, sizeof title, "%s on %s", slash ? slash + 1 : model, data);
    const clnet_status st = clnet_plot_confusion(png, r->confusion, r->classes, names, title);
    free(names);
    if (st != CLNET_OK)
        return clnet_cli_error("eval", "cannot write the chart %s: %s", png,
                               clnet_status_string(st));
    printf("\nWrote %s\n", png);
    return 0;
}

int clnet_cli_eval(int argc, char **argv)
{
    const char *path = NULL, *data = NULL, *part = "test", *device = NULL, *cls = NULL;
    const char *confusion = NULL;
    int batch = 64;
    float crop = -1.0f; /* the model's */
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        const int valued = !strcmp(a, "--data") || !strcmp(a, "--part") || !strcmp(a, "--batch") ||
                           !strcmp(a, "--device") || !strcmp(a, "--class") ||
                           !strcmp(a, "--confusion") || !strcmp(a, "--center-crop");
        if (valued && i + 1 >= argc)
            return clnet_cli_error("eval", "%s needs a value (see --help)", a);
        if (!strcmp(a, "--data"))
            data = argv[++i];
        else if (!strcmp(a, "--part"))
            part = argv[++i];
        else if (!strcmp(a, "--batch") && (batch = atoi(argv[++i])) < 1)
            return clnet_cli_error("eval", "--batch: expected a positive number");
        else if (!strcmp(a, "--device"))
            device = argv[++i];
        else if (!strcmp(a, "--class"))
            cls = argv[++i];
        else if (!strcmp(a, "--confusion"))
            confusion = argv[++i];
        else if (!strcmp(a, "--center-crop")) {
            if (clnet_cli_center_crop("eval", argv[++i], &crop))
                return 1;
        } else if (a[0] == '-' || path) {
            static const char *const known[] = {"--data",        "--part",  "--batch",
                                                "--device",      "--class", "--confusion",
                                                "--center-crop", "--help",  NULL};
            return clnet_cli_unknown("eval", a, known);
        } else if (!valued)
            path = a;
    }
    if (!path || !data)
        return clnet_cli_error("eval", "a model file and --data are needed (see --help)");
    clnet_context *ctx = clnet_cli_context("eval", device, cls);
    clnet_model *m = NULL;
    clnet_dataset *d = NULL;
    clnet_eval_result r;
    memset(&r, 0, sizeof r);
    int rc = ctx ? 0 : 1;
    if (rc == 0 && clnet_model_load(ctx, path, NULL, &m) != CLNET_OK)
        rc = clnet_cli_error("eval", "%s", clnet_context_error(ctx));
    if (rc == 0) {
        /* Labels by the model's class names, so data holding some of its classes, in
         * any order, is scored right. */
        const clnet_shape in = clnet_graph_layer_shape(clnet_model_graph(m), 0);
        const int n = clnet_model_label_count(m);
        const char **names = n > 0 ? malloc((size_t)n * sizeof *names) : NULL;
        for (int k = 0; names && k < n; ++k)
            names[k] = clnet_model_label(m, k);
        const clnet_dataset_options o = {.h = in.h,
                                         .w = in.w,
                                         .c = in.c,
                                         .log = clnet_cli_log,
                                         .log_user = (void *)"eval",
                                         .classes = names,
                                         .n_classes = names ? n : 0,
                                         .center_crop =
                                             crop >= 0.0f ? crop : clnet_model_center_crop(m)};
        char err[1024] = "";
        if (clnet_dataset_open(data, part, &o, &d, err, sizeof err) != CLNET_OK)
            rc = clnet_cli_error("eval", "%s", err);
        free(names);
    }
    if (rc == 0 && clnet_evaluate(m, d, batch, &r) != CLNET_OK)
        rc = clnet_cli_error("eval", "%s", clnet_context_error(ctx));
    if (rc == 0)
        report(m, d, &r);
    if (rc == 0 && confusion)
        rc = write_confusion(m, d, &r, path, data, confusion);
    clnet_eval_result_free(&r);
    clnet_dataset_destroy(d);
    clnet_model_destroy(m);
    clnet_context_destroy(ctx);
    return rc;
}
