/* convert.c - `clnet convert IN OUT`: an ONNX model (PyTorch's, tf2onnx's...) or a Keras one
 * (.h5, .keras, TF.js model.json; a weights-only .h5 onto a zoo model) into a clnet model
 * file with its class names and preprocessing, or a clnet model file out to ONNX.
 * Tests: tests/cli/test_cli.sh, tests/io/test_onnx_import.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clnet convert IN OUT.safetensors [--input HxWxC] [--labels FILE]\n"
            "                     [--preprocess torch|tf|caffe|none | --mean R,G,B --std R,G,B]\n"
            "                     [--center-crop F]\n"
            "       clnet convert WEIGHTS.h5 OUT.safetensors --model ZOO [--classes N]\n"
            "                     [--alpha A] [--input HxWxC] [--labels FILE] [--preprocess P]\n"
            "       clnet convert IN.safetensors OUT.onnx [--nhwc] [--external-data]\n\n"
            "IN is an ONNX model (IN.onnx: opsets 7 to 17, weights in the file or in external\n"
            "data files beside it) or a Keras one (IN.h5 from Keras 2's model.save, IN.keras\n"
            "from Keras 3, or a TF.js layers model.json with its shards beside it). The\n"
            "clnet model file written is what predict, eval, summary and train --from take.\n"
            "A weights-only Keras .h5 (model.save_weights, keras.applications' downloads)\n"
            "is loaded onto the zoo model --model (Keras style; --classes default 1000,\n"
            "--alpha for mobilenetv2). These files carry no class names nor preprocessing\n"
            "(a Keras model's own Rescaling or Normalization layers are kept as its\n"
            "normalization):\n"
            "  --input HxWxC     the input size where the model's is symbolic (or another)\n"
            "  --labels FILE     class names, one per line, as many as the model's outputs\n"
            "  --preprocess P    how the model's training images were prepared:\n"
            "                    torch: RGB in [0, 1], ImageNet's mean and std\n"
            "                    (torchvision's models); tf: scaled to [-1, 1]; caffe: BGR,\n"
            "                    ImageNet's mean subtracted on 0..255 (the first convolutions\n"
            "                    are changed to read RGB); none: RGB in [0, 1] (default)\n"
            "  --mean R,G,B --std R,G,B   or the normalization itself, in [0, 1] units:\n"
            "                    each channel becomes (x - mean) / std\n"
            "  --center-crop F   how images are resized for it, kept in the file for predict and\n"
            "                    eval: the centre F of each image, aspect kept (0.875 for\n"
            "                    torchvision's Resize(256) + CenterCrop(224)); 0: the whole\n"
            "                    image (default)\n"
            "ONNX out: writes opset 13 with a symbolic batch, input NCHW as PyTorch's\n"
            "  --nhwc            input NHWC, as clnet's own\n"
            "  --external-data   the weights in OUT.onnx.data beside it (always so above 1 GB)\n"
            "  --device D --class C   the OpenCL device that reads the weights\n");
}

/* Three numbers "a,b,c" (or one, for every channel) into v; the count, or -1. */
static int triple(const char *s, float *v)
{
    char *end;
    int n = 0;
    for (const char *p = s; n < 4; p = end + 1) {
        errno = 0;
        const double d = strtod(p, &end);
        if (end == p || errno)
            return -1;
        v[n++] = (float)d;
        if (*end != ',')
            break;
    }
    if (*end || (n != 1 && n != 3))
        return -1;
    for (int i = n; i < 3; ++i)
        v[i] = v[0];
    return 3;
}

/* Lines of path (class names), blank ones ignored at the end. */
static char **read_labels(const char *path, int *n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char **names = NULL, line[4096];
    int count = 0, cap = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (count == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(names, (size_t)cap * sizeof *grown);
            if (!grown)
                break;
            names = grown;
        }
        if (!(names[count] = strdup(line)))
            break;
        ++count;
    }
    fclose(f);
    while (count > 0 && !names[count - 1][0])
        free(names[--count]);
    *n = count;
    return names ? names : calloc(1, sizeof *names);
}

typedef struct options {
    const char *in, *out, *labels, *preprocess, *device, *cls;
    clnet_onnx_options onnx;
    float mean[3], std[3];
    int has_mean, has_std, nhwc, external;
    float center_crop;
    int has_crop;
    const char *zoo; /* --model: a weights-only .h5 goes onto this zoo model */
    int classes;
    double alpha;
} options;

/* Names the layers a weights-only file did not cover (a new head keeps its initial
 * weights), so a mismatch of names is seen. */
static void print_kept(clnet_model *m, int loaded)
{
    clnet_weight_info info, prev = {0};
    clnet_tensor *t;
    int layers = 0;
    for (int i = 0; i < clnet_model_weight_count(m); ++i) {
        clnet_model_weight(m, i, &info, &t, NULL);
        layers += !i || strcmp(info.layer, prev.layer);
        prev = info;
    }
    printf("loaded the weights of %d of %d layers", loaded, layers);
    if (loaded < layers)
        printf(" (the others keep their initial weights: a new head, or names that differ)");
    printf("\n");
}

/* The model IN holds: an ONNX or Keras import, or a zoo model with a weights-only file's
 * weights. NULL after saying why. */
static clnet_model *open_input(clnet_context *ctx, const options *o)
{
    clnet_model *m = NULL;
    if (o->zoo) {
        const clnet_zoo_options z = {o->onnx.h, o->onnx.w, o->onnx.c, o->classes,
                                     "keras",   o->alpha,  0};
        char err[1024] = "";
        clnet_graph *g = NULL;
        if (clnet_zoo_build(o->zoo, &z, &g, err, sizeof err) != CLNET_OK) {
            clnet_cli_error("convert", "--model: %s", err);
            return NULL;
        }
        int loaded = 0;
        if (clnet_model_create(ctx, g, NULL, &m) != CLNET_OK ||
            clnet_model_load_keras_weights(m, o->in, &loaded) != CLNET_OK) {
            clnet_cli_error("convert", "%s", clnet_context_error(ctx));
            clnet_model_destroy(m);
            m = NULL;
        } else {
            print_kept(m, loaded);
        }
        clnet_graph_destroy(g);
        return m;
    }
    const clnet_status st = clnet_cli_ends_with(o->in, ".onnx")
                                ? clnet_model_import_onnx(ctx, o->in, &o->onnx, NULL, &m)
                                : clnet_model_import_keras(ctx, o->in, &o->onnx, NULL, &m);
    if (st != CLNET_OK)
        clnet_cli_error("convert", "%s", clnet_context_error(ctx));
    return m;
}

/* Does the model normalize its input already (a Keras model's Rescaling layers). */
static int normalizes(const clnet_model *m)
{
    float mean[4] = {0}, std[4] = {1, 1, 1, 1};
    clnet_model_normalization(m, mean, std);
    for (int c = 0; c < 4; ++c)
        if (mean[c] != 0 || std[c] != 1)
            return 1;
    return 0;
}

/* ONNX or Keras in: import, preprocessing, labels, save. */
static int from_import(clnet_context *ctx, const options *o)
{
    clnet_model *m = open_input(ctx, o);
    if (!m)
        return 1;
    static const float torch_mean[3] = {0.485f, 0.456f, 0.406f},
                       torch_std[3] = {0.229f, 0.224f, 0.225f};
    /* Caffe's means are BGR on 0..255; after the reversal the model reads RGB. */
    static const float caffe_mean[3] = {123.68f / 255, 116.779f / 255, 103.939f / 255},
                       caffe_std[3] = {1.0f / 255, 1.0f / 255, 1.0f / 255};
    static const float half[3] = {0.5f, 0.5f, 0.5f};
    const float *mean = NULL, *std = NULL;
    const char *p = o->preprocess ? o->preprocess : "none";
    int rc = 0;
    if (!strcmp(p, "torch"))
        mean = torch_mean, std = torch_std;
    else if (!strcmp(p, "tf"))
        mean = half, std = half;
    else if (!strcmp(p, "caffe")) {
        mean = caffe_mean, std = caffe_std;
        if (clnet_model_reverse_input_channels(m) != CLNET_OK)
            rc = clnet_cli_error("convert", "--preprocess caffe: %s", clnet_context_error(ctx));
    }
    if (o->has_mean || o->has_std) {
        static const float zero[3] = {0, 0, 0}, one[3] = {1, 1, 1};
        mean = o->has_mean ? o->mean : zero;
        std = o->has_std ? o->std : one;
    }
    const clnet_shape in = clnet_graph_layer_shape(clnet_model_graph(m), 0);
    if (!rc && mean && normalizes(m))
        rc = clnet_cli_error("convert",
                             "%s normalizes its input itself (Rescaling or Normalization "
                             "layers); --preprocess and --mean / --std would replace that",
                             o->in);
    if (!rc && mean && in.c != 3)
        rc = clnet_cli_error("convert",
                             "the model takes %d channels; --preprocess and --mean / "
                             "--std are for RGB models",
                             in.c);
    if (!rc && mean && clnet_model_set_normalization(m, mean, std, 3) != CLNET_OK)
        rc = clnet_cli_error("convert", "%s", clnet_context_error(ctx));
    if (!rc && o->has_crop && clnet_model_set_center_crop(m, o->center_crop) != CLNET_OK)
        rc = clnet_cli_error("convert", "%s", clnet_context_error(ctx));
    if (!rc && o->labels) {
        int n = 0;
        char **names = read_labels(o->labels, &n);
        if (!names)
            rc = clnet_cli_error("convert", "cannot read %s: %s", o->labels, strerror(errno));
        else if (clnet_model_set_labels(m, (const char *const *)names, n) != CLNET_OK)
            rc = clnet_cli_error("convert", "--labels %s: %s", o->labels, clnet_context_error(ctx));
        for (int i = 0; names && i < n; ++i)
            free(names[i]);
        free(names);
    }
    if (!rc && clnet_model_save(m, o->out) != CLNET_OK)
        rc = clnet_cli_error("convert", "%s", clnet_context_error(ctx));
    if (!rc) {
        const clnet_param_counts c = clnet_graph_params(clnet_model_graph(m));
        printf("%s: %d layers, %lld parameters, input %dx%dx%d -> %s\n", o->in,
               clnet_graph_layer_count(clnet_model_graph(m)), (long long)c.total, in.h, in.w, in.c,
               o->out);
    }
    clnet_model_destroy(m);
    return rc;
}

static int to_onnx(clnet_context *ctx, const options *o)
{
    clnet_model *m = NULL;
    if (clnet_model_load(ctx, o->in, NULL, &m) != CLNET_OK)
        return clnet_cli_error("convert", "%s", clnet_context_error(ctx));
    const clnet_onnx_export_options e = {o->nhwc, o->external};
    int rc = 0;
    if (clnet_model_export_onnx(m, o->out, &e) != CLNET_OK)
        rc = clnet_cli_error("convert", "%s", clnet_context_error(ctx));
    else
        printf("%s -> %s (ONNX opset 13, input %s)\n", o->in, o->out, o->nhwc ? "NHWC" : "NCHW");
    clnet_model_destroy(m);
    return rc;
}

int clnet_cli_convert(int argc, char **argv)
{
    options o = {0};
    static const char *const known[] = {
        "--input", "--labels",      "--preprocess", "--mean",          "--std",
        "--nhwc",  "--device",      "--class",      "--model",         "--classes",
        "--alpha", "--center-crop", "--help",       "--external-data", NULL};
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--nhwc") || !strcmp(a, "--external-data")) {
            *(!strcmp(a, "--nhwc") ? &o.nhwc : &o.external) = 1;
            continue;
        }
        int valued = 0;
        for (int k = 0; known[k] && k < 12; ++k)
            valued |= !strcmp(a, known[k]) && k != 5;
        if (valued && i + 1 >= argc)
            return clnet_cli_error("convert", "%s needs a value (see --help)", a);
        const char *v = valued ? argv[++i] : NULL;
        char extra;
        if (!strcmp(a, "--input")) {
            int h, w, c = 3;
            if ((sscanf(v, "%dx%dx%d%c", &h, &w, &c, &extra) != 3 &&
                 sscanf(v, "%dx%d%c", &h, &w, &extra) != 2) ||
                h < 1 || w < 1 || c < 1)
                return clnet_cli_error("convert", "--input: expected HxWxC, got '%s'", v);
            o.onnx.h = h, o.onnx.w = w, o.onnx.c = c;
        } else if (!strcmp(a, "--labels"))
            o.labels = v;
        else if (!strcmp(a, "--preprocess")) {
            if (strcmp(v, "torch") && strcmp(v, "tf") && strcmp(v, "caffe") && strcmp(v, "none"))
                return clnet_cli_error(
                    "convert", "--preprocess: expected torch, tf, caffe or none, got '%s'", v);
            o.preprocess = v;
        } else if (!strcmp(a, "--mean") || !strcmp(a, "--std")) {
            const int mean = !strcmp(a, "--mean");
            if (triple(v, mean ? o.mean : o.std) < 0)
                return clnet_cli_error("convert", "%s: expected R,G,B numbers, got '%s'", a, v);
            for (int c = 0; !mean && c < 3; ++c)
                if (!(o.std[c] > 0))
                    return clnet_cli_error("convert", "--std: values must be positive");
            *(mean ? &o.has_mean : &o.has_std) = 1;
        } else if (!strcmp(a, "--center-crop")) {
            if (clnet_cli_center_crop("convert", v, &o.center_crop))
                return 1;
            o.has_crop = 1;
        } else if (!strcmp(a, "--model"))
            o.zoo = v;
        else if (!strcmp(a, "--classes")) {
            if (sscanf(v, "%d%c", &o.classes, &extra) != 1 || o.classes < 1)
                return clnet_cli_error("convert", "--classes: expected a positive number, got '%s'",
                                       v);
        } else if (!strcmp(a, "--alpha")) {
            if (sscanf(v, "%lf%c", &o.alpha, &extra) != 1 || !(o.alpha > 0))
                return clnet_cli_error("convert", "--alpha: expected a positive number, got '%s'",
                                       v);
        } else if (!strcmp(a, "--device"))
            o.device = v;
        else if (!strcmp(a, "--class"))
            o.cls = v;
        else if (a[0] == '-' && a[1])
            return clnet_cli_unknown("convert", a, known);
        else if (!o.in)
            o.in = a;
        else if (!o.out)
            o.out = a;
        else
            return clnet_cli_error("convert", "unexpected argument '%s' (see --help)", a);
    }
    if (!o.in || !o.out)
        return clnet_cli_error("convert", "an input and an output file are needed (see --help)");
    const int in_import = clnet_cli_ends_with(o.in, ".onnx") || clnet_cli_is_keras(o.in),
              out_onnx = clnet_cli_ends_with(o.out, ".onnx");
    if (in_import == out_onnx)
        return clnet_cli_error("convert",
                               "convert reads an ONNX or Keras model into a clnet model file, or "
                               "writes a clnet model file out as .onnx; %s -> %s is neither",
                               o.in, o.out);
    if (!in_import &&
        (o.labels || o.preprocess || o.has_mean || o.has_std || o.onnx.h || o.has_crop))
        return clnet_cli_error("convert", "--input, --labels, --preprocess, --mean, --std and "
                                          "--center-crop apply to ONNX and Keras input; a clnet "
                                          "model file has its own");
    if (in_import && (o.nhwc || o.external))
        return clnet_cli_error("convert", "--nhwc and --external-data apply to ONNX output");
    if ((o.classes || o.alpha != 0) && !o.zoo)
        return clnet_cli_error("convert", "--classes and --alpha go with --model (a weights-only "
                                          "Keras .h5 onto a zoo model)");
    if (o.zoo && !(clnet_cli_ends_with(o.in, ".h5") || clnet_cli_ends_with(o.in, ".hdf5")))
        return clnet_cli_error("convert",
                               "--model loads a weights-only Keras .h5 onto a zoo "
                               "model; %s is no .h5 file",
                               o.in);
    if (o.preprocess && (o.has_mean || o.has_std))
        return clnet_cli_error("convert", "give --preprocess or --mean / --std, not both");
    clnet_context *ctx = clnet_cli_context("convert", o.device, o.cls);
    if (!ctx)
        return 1;
    const int rc = in_import ? from_import(ctx, &o) : to_onnx(ctx, &o);
    clnet_context_destroy(ctx);
    return rc;
}
