/* model_arg.c - the MODEL argument of summary, spec, graph and plan (cli.h): a zoo name
 * with its options (clnet_zoo_build, src/models/zoo.c) or a text spec file.
 * Tests: tests/cli/test_cli.sh. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

const char clnet_cli_model_usage[] =
    "  MODEL              a zoo model: resnet18, resnet34, resnet50, resnet101,\n"
    "                     resnet152, mobilenetv2, mnasnet, mobilenetv3_large,\n"
    "                     mobilenetv3_small, efficientnet_b0 ... efficientnet_b3,\n"
    "                     squeezenet1_1, densenet121, shufflenet_v2_x0_5,\n"
    "                     shufflenet_v2_x1_0, resnext50_32x4d, resnext101_32x8d,\n"
    "                     resnext101_64x4d, regnet_y_400mf, regnet_y_800mf,\n"
    "                     regnet_y_1_6gf, regnet_y_3_2gf, regnet_y_8gf, regnet_y_16gf,\n"
    "                     regnet_y_32gf, regnet_y_128gf, convnext_tiny, convnext_small,\n"
    "                     convnext_base, convnext_large (any case: ResNet-50,\n"
    "                     MobileNet-V3 Large, RegNetY-1.6GF); or\n"
    "                     a spec file (one [section] per layer; `clnet ops` lists\n"
    "                     the ops and their keys); or an ONNX model (FILE.onnx) or\n"
    "                     a Keras one (FILE.h5, FILE.keras, TF.js model.json), at\n"
    "                     its own input size unless --input gives one\n"
    "  --input HxWxC      input per image, 1 or 3 channels (HxW: 3 channels);\n"
    "                     default 224x224x3; small inputs work while every layer\n"
    "                     keeps a pixel\n"
    "  --classes N        channels of the logits (the final dense layer's units);\n"
    "                     default 1000\n"
    "  --style S          torch: torchvision's layout and constants (default);\n"
    "                     keras: the Keras layout and constants (resnets,\n"
    "                     mobilenetv2)\n"
    "  --alpha A          width multiplier: mobilenetv2 0.35, 0.5, 0.75, 1.0, 1.3\n"
    "                     or 1.4; mnasnet 0.5, 0.75, 1.0 or 1.3; default 1.0\n"
    "  --shortcut a|b     resnets: a = zero-filled channels (option A, no\n"
    "                     parameters), b = 1x1 projections (option B, default)\n"
    "  The options apply to zoo models only.\n";

static const char *const options[] = {CLNET_CLI_MODEL_OPTIONS};

/* The value of option name at argv[*i] ("--name VALUE" or "--name=VALUE"), advancing *i
 * past it; NULL when argv[*i] is another argument; *missing when the value is absent. */
static const char *option_value(const char *name, int argc, char **argv, int *i, int *missing)
{
    const size_t n = strlen(name);
    const char *arg = argv[*i];
    if (strncmp(arg, name, n) != 0 || (arg[n] != '\0' && arg[n] != '='))
        return NULL;
    if (arg[n] == '=')
        return arg + n + 1;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

/* Stores the value of option k (0 input, 1 classes, 2 style, 3 alpha, 4 shortcut). */
static int set_option(const char *cmd, int k, const char *v, clnet_cli_model *m)
{
    char *end = NULL, extra;
    long n = 0;
    double a = 0.0;
    int h = 0, w = 0, c = 3;
    switch (k) {
    case 0:
        if ((sscanf(v, "%dx%dx%d%c", &h, &w, &c, &extra) != 3 &&
             sscanf(v, "%dx%d%c", &h, &w, &extra) != 2) ||
            h < 1 || w < 1 || c < 1)
            break;
        m->zoo.h = h;
        m->zoo.w = w;
        m->zoo.c = c;
        return 1;
    case 1:
        n = strtol(v, &end, 10);
        if (end == v || *end || n < 1 || n > 1 << 24)
            break;
        m->zoo.classes = (int)n;
        return 1;
    case 2:
        if (strcmp(v, "keras") != 0 && strcmp(v, "torch") != 0)
            break;
        m->zoo.style = v;
        return 1;
    case 3:
        a = strtod(v, &end);
        if (end == v || *end || !(a > 0.0))
            break;
        m->zoo.alpha = a;
        return 1;
    default:
        if (strcmp(v, "a") != 0 && strcmp(v, "b") != 0)
            break;
        m->zoo.shortcut_a = v[0] == 'a';
        return 1;
    }
    static const char *const expected[] = {"HxWxC or HxW with positive sizes, e.g. 64x64x3",
                                           "a positive number of classes", "keras or torch",
                                           "a positive width multiplier, e.g. 0.75", "a or b"};
    clnet_cli_error(cmd, "%s: expected %s, got '%s'", options[k], expected[k], v);
    return -1;
}

int clnet_cli_model_arg(const char *cmd, int argc, char **argv, int *i, clnet_cli_model *m)
{
    if (argv[*i][0] != '-') {
        if (m->model)
            return 0;
        m->model = argv[*i];
        return 1;
    }
    for (int k = 0; k < 5; ++k) {
        int missing = 0;
        const char *v = option_value(options[k], argc, argv, i, &missing);
        if (missing) {
            clnet_cli_error(cmd, "%s needs a value (see --help)", options[k]);
            return -1;
        }
        if (v)
            return set_option(cmd, k, v, m);
    }
    return 0;
}

/* The whole file, NUL-terminated and malloc'd, or NULL with errno set. */
static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    for (size_t n; buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0;) {
        len += n;
        if (len + 1 == cap) {
            char *grown = realloc(buf, cap *= 2);
            if (!grown)
                free(buf);
            buf = grown;
        }
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    const int saved = errno;
    fclose(f);
    errno = saved;
    if (buf)
        buf[len] = '\0';
    return buf;
}

static clnet_graph *from_spec_file(const char *cmd, const clnet_cli_model *m)
{
    const clnet_zoo_options *z = &m->zoo;
    if (z->h || z->w || z->c || z->classes || z->style || z->alpha != 0.0 || z->shortcut_a) {
        clnet_cli_error(cmd,
                        "--input, --classes, --style, --alpha and --shortcut apply to zoo "
                        "models only, not to the spec file %s",
                        m->model);
        return NULL;
    }
    errno = 0;
    char *text = read_all(m->model);
    if (!text) {
        clnet_cli_error(cmd, "cannot read %s: %s", m->model,
                        errno ? strerror(errno) : "out of memory");
        return NULL;
    }
    char err[1024] = "";
    clnet_graph *g = NULL;
    if (clnet_graph_from_spec(text, m->model, &g, err, sizeof err) != CLNET_OK)
        clnet_cli_error(cmd, "%s", err);
    free(text);
    return g;
}

int clnet_cli_ends_with(const char *path, const char *suffix)
{
    const size_t n = strlen(path), k = strlen(suffix);
    return n > k && !strcasecmp(path + n - k, suffix);
}

int clnet_cli_is_keras(const char *path)
{
    return clnet_cli_ends_with(path, ".h5") || clnet_cli_ends_with(path, ".hdf5") ||
           clnet_cli_ends_with(path, ".keras") || clnet_cli_ends_with(path, ".json");
}

/* An ONNX or Keras file's architecture, at its own input size or --input's. */
static clnet_graph *from_import(const char *cmd, const clnet_cli_model *m, const char **title)
{
    const clnet_zoo_options *z = &m->zoo;
    if (z->classes || z->style || z->alpha != 0.0 || z->shortcut_a) {
        clnet_cli_error(cmd,
                        "--classes, --style, --alpha and --shortcut apply to zoo models "
                        "only, not to the %s model %s",
                        clnet_cli_is_keras(m->model) ? "Keras" : "ONNX", m->model);
        return NULL;
    }
    const clnet_onnx_options o = {z->h, z->w, z->c};
    char err[8192] = "";
    clnet_graph *g = NULL;
    if ((clnet_cli_is_keras(m->model)
             ? clnet_graph_from_keras(m->model, &o, &g, err, sizeof err)
             : clnet_graph_from_onnx(m->model, &o, &g, err, sizeof err)) != CLNET_OK) {
        clnet_cli_error(cmd, "%s", err);
        return NULL;
    }
    if (title) {
        const char *slash = strrchr(m->model, '/');
        *title = slash ? slash + 1 : m->model;
    }
    return g;
}

int clnet_cli_model_is_spec(const clnet_cli_model *m)
{
    /* A readable file is a spec; so is a name that looks like a path, to say it is missing. */
    FILE *f = fopen(m->model, "rb");
    if (f)
        fclose(f);
    return f || strchr(m->model, '/') || strstr(m->model, ".spec");
}

clnet_graph *clnet_cli_model_build(const char *cmd, const clnet_cli_model *m, const char **title)
{
    if (!m->model) {
        clnet_cli_error(cmd, "which model? give a zoo name (resnet50, mobilenetv2, ...) or a "
                             "spec file (see --help)");
        return NULL;
    }
    const int known = clnet_zoo_name(m->model) != NULL; /* "ResNet-50" too */
    if (clnet_cli_ends_with(m->model, ".onnx") || clnet_cli_is_keras(m->model))
        return from_import(cmd, m, title);
    if (clnet_cli_model_is_spec(m)) {
        const char *slash = strrchr(m->model, '/');
        if (title)
            *title = slash ? slash + 1 : m->model;
        return from_spec_file(cmd, m);
    }
    char err[1024] = "";
    clnet_graph *g = NULL;
    if (clnet_zoo_build(m->model, &m->zoo, &g, err, sizeof err) != CLNET_OK) {
        clnet_cli_error(cmd, "%s%s", err, known ? "" : " (and no file has that name)");
        return NULL;
    }
    if (title)
        *title = clnet_zoo_name(m->model);
    return g;
}
