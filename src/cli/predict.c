/* predict.c - `clnet predict MODEL DIR|IMAGE...`: each image's top classes by a saved
 * model (clnet_image_load, clnet_model_predict in batches), as text, CSV or JSON lines.
 * A folder stands for every file below it (clnet_folder_list); its files that are no
 * image are skipped with a note. Tests: tests/cli/test_cli.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

/* Images per clnet_model_predict call: few plans (this and the last, smaller batch) and
 * one device transfer per batch instead of per image. */
#define BATCH 16

enum format { TEXT, CSV, JSON };

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clnet predict MODEL.safetensors DIR|IMAGE... [--top K] [--csv|--json]\n"
            "                     [--center-crop F] [--device N|NAME] [--class dgpu|igpu|cpu]\n\n"
            "Prints, for each image, the K most probable classes (default 3) with their\n"
            "probabilities. A folder stands for every image in it and in the folders below\n"
            "it (sorted by folder, then name); its files that are no image are skipped with\n"
            "a note. --csv prints a header, then one row per image (path, then class and\n"
            "probability K times); --json one JSON object per image. An image that cannot be\n"
            "read is reported and the others still predicted; the exit status is then 1.\n"
            "Images are resized as the model file says (as in training's "
            "validation);\n" CLNET_CLI_CENTER_CROP_HELP
            "                       (default: the model's)\n");
}

/* One input: a path and whether it came from a folder (where non-images are skipped). */
typedef struct input {
    char *path;
    int listed;
} input;

typedef struct inputs {
    input *items;
    int n, cap;
} inputs;

static int add(inputs *in, const char *path, int listed)
{
    if (in->n == in->cap) {
        const int cap = in->cap ? 2 * in->cap : 16;
        input *items = realloc(in->items, (size_t)cap * sizeof *items);
        if (!items)
            return 0;
        in->items = items;
        in->cap = cap;
    }
    const size_t len = strlen(path) + 1;
    char *copy = malloc(len);
    if (!copy)
        return 0;
    memcpy(copy, path, len);
    in->items[in->n].path = copy;
    in->items[in->n++].listed = listed;
    return 1;
}

static void inputs_free(inputs *in)
{
    for (int i = 0; i < in->n; ++i)
        free(in->items[i].path);
    free(in->items);
}

/* The files to predict, folders expanded; returns how many arguments failed (an
 * unreadable folder). */
static int expand(char **args, int n, inputs *out)
{
    int failed = 0;
    for (int i = 0; i < n; ++i) {
        struct stat sb;
        if (stat(args[i], &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            if (!add(out, args[i], 0))
                return -1;
            continue; /* a missing file is reported when it is read */
        }
        char **paths = NULL, err[1024] = "";
        int count = 0;
        if (clnet_folder_list(args[i], &paths, &count, err, sizeof err) != CLNET_OK) {
            clnet_cli_error("predict", "%s", err);
            ++failed;
            continue;
        }
        if (count == 0) {
            clnet_cli_error("predict", "%s: no files in this folder", args[i]);
            ++failed;
        }
        for (int k = 0; k < count; ++k)
            if (!add(out, paths[k], 1)) {
                clnet_folder_list_free(paths, count);
                return -1;
            }
        clnet_folder_list_free(paths, count);
    }
    return failed;
}

/* s as one CSV field (RFC 4180): quoted, with quotes doubled, when it holds a comma, a
 * quote, a line break or leading or trailing space. */
static void csv_field(const char *s)
{
    const size_t len = strlen(s);
    if (!strpbrk(s, ",\"\r\n") && !(len && (s[0] == ' ' || s[len - 1] == ' '))) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; ++s) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

static void csv_header(int top)
{
    printf("image");
    for (int i = 1; i <= top; ++i)
        printf(",class_%d,probability_%d", i, i);
    printf("\n");
}

static void print_one(clnet_model *m, const char *path, const float *p, int classes, int top,
                      enum format format)
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
    if (format == JSON) {
        printf("{\"image\":");
        clnet_cli_json_string(path);
        printf(",\"top\":[");
    } else if (format == CSV) {
        csv_field(path);
    } else {
        printf("%s\n", path);
    }
    for (int i = 0; i < top; ++i) {
        const char *name = clnet_model_label(m, order[i]);
        char fallback[16];
        snprintf(fallback, sizeof fallback, "%d", order[i]);
        if (!name)
            name = fallback;
        if (format == JSON) {
            printf("%s{\"class\":", i ? "," : "");
            clnet_cli_json_string(name);
            printf(",\"index\":%d,\"probability\":%.6f}", order[i], p[order[i]]);
        } else if (format == CSV) {
            putchar(',');
            csv_field(name);
            printf(",%.6f", p[order[i]]);
        } else {
            printf("  %6.2f%%  %s\n", 100.0 * p[order[i]], name);
        }
    }
    printf(format == JSON ? "]}\n" : format == CSV ? "\n" : "");
    free(order);
}

/* Loads, predicts and prints every input in batches of BATCH; returns how many images
 * failed, or -1 when prediction itself failed (printed). */
static int run(clnet_context *ctx, clnet_model *m, const inputs *in, int top, enum format format,
               float center_crop)
{
    const clnet_image_options load = {0, center_crop};
    const clnet_graph *g = clnet_model_graph(m);
    const clnet_shape s = clnet_graph_layer_shape(g, 0);
    const int classes = clnet_graph_layer_shape(g, clnet_graph_layer_count(g) - 1).c;
    const size_t size = (size_t)s.h * s.w * s.c;
    float *x = malloc(BATCH * size * sizeof *x), *p = malloc(BATCH * (size_t)classes * sizeof *p);
    const char *names[BATCH];
    int failed = 0, n = 0;
    if (!x || !p) {
        free(x);
        free(p);
        clnet_cli_error("predict", "out of memory");
        return -1;
    }
    if (top > classes)
        top = classes;
    if (format == CSV)
        csv_header(top);
    for (int i = 0; i <= in->n; ++i) {
        if (i < in->n) {
            char err[1024] = "";
            const clnet_status st = clnet_image_load_ex(in->items[i].path, s.h, s.w, s.c, &load,
                                                        x + n * size, err, sizeof err);
            if (st == CLNET_OK) {
                names[n++] = in->items[i].path;
            } else if (st == CLNET_ERR_UNSUPPORTED && in->items[i].listed) {
                fprintf(stderr, "clnet predict: skipped %s\n", err);
            } else {
                clnet_cli_error("predict", "%s", err); /* the others still get predictions */
                ++failed;
            }
        }
        if (n == BATCH || (i == in->n && n > 0)) {
            if (clnet_model_predict(m, x, n, p) != CLNET_OK) {
                clnet_cli_error("predict", "%s", clnet_context_error(ctx));
                failed = -1;
                break;
            }
            for (int k = 0; k < n; ++k)
                print_one(m, names[k], p + (size_t)k * classes, classes, top, format);
            fflush(stdout);
            n = 0;
        }
    }
    free(x);
    free(p);
    return failed;
}

int clnet_cli_predict(int argc, char **argv)
{
    const char *path = NULL, *device = NULL, *cls = NULL;
    int top = 3, n_args = 0;
    float crop = -1.0f; /* the model's */
    enum format format = TEXT;
    char **args = calloc((size_t)argc, sizeof *args);
    if (!args)
        return clnet_cli_error("predict", "out of memory");
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            free(args);
            return 0;
        }
        if ((!strcmp(a, "--top") || !strcmp(a, "--device") || !strcmp(a, "--class") ||
             !strcmp(a, "--center-crop")) &&
            i + 1 >= argc) {
            free(args);
            return clnet_cli_error("predict", "%s needs a value (see --help)", a);
        }
        if (!strcmp(a, "--top"))
            top = atoi(argv[++i]);
        else if (!strcmp(a, "--device"))
            device = argv[++i];
        else if (!strcmp(a, "--class"))
            cls = argv[++i];
        else if (!strcmp(a, "--center-crop")) {
            if (clnet_cli_center_crop("predict", argv[++i], &crop)) {
                free(args);
                return 1;
            }
        } else if (!strcmp(a, "--json") || !strcmp(a, "--csv")) {
            if (format != TEXT) {
                free(args);
                return clnet_cli_error("predict", "--csv and --json exclude each other");
            }
            format = !strcmp(a, "--json") ? JSON : CSV;
        } else if (a[0] == '-') {
            free(args);
            return clnet_cli_error("predict", "unexpected argument '%s' (see --help)", a);
        } else if (!path)
            path = a;
        else
            args[n_args++] = argv[i];
    }
    if (!path || !n_args || top < 1) {
        free(args);
        return clnet_cli_error("predict", "a model file and at least one image or folder are "
                                          "needed, --top at least 1 (see --help)");
    }
    inputs in = {NULL, 0, 0};
    int failed = expand(args, n_args, &in);
    free(args);
    if (failed < 0) {
        inputs_free(&in);
        return clnet_cli_error("predict", "out of memory");
    }
    clnet_context *ctx = clnet_cli_context("predict", device, cls);
    clnet_model *m = NULL;
    int rc = ctx ? 0 : 1;
    if (rc == 0 && clnet_model_load(ctx, path, NULL, &m) != CLNET_OK)
        rc = clnet_cli_error("predict", "%s", clnet_context_error(ctx));
    if (rc == 0) {
        const int bad =
            run(ctx, m, &in, top, format, crop >= 0.0f ? crop : clnet_model_center_crop(m));
        rc = bad < 0 ? 1 : 0;
        failed += bad > 0 ? bad : 0;
    }
    inputs_free(&in);
    clnet_model_destroy(m);
    clnet_context_destroy(ctx);
    return rc ? rc : failed ? 1 : 0;
}
