/* onnx_export_logits.c - bench_onnx_export_logits: a zoo model with seeded random weights
 * (biases and batch norm scales too, so nothing exports as a no-op) exported with
 * clnet_model_export_onnx, and clnet's own inference logits on a seeded random input, for
 * bench/compare/onnx_export_check.sh, which runs the file in ONNX Runtime on the same input.
 * A check tool, never a test (ONNX Runtime is not a clnet dependency).
 *
 *   bench_onnx_export_logits MODEL HxWxC CLASSES DIR [--nhwc] [--batch N] [--style S]
 *                            [--shortcut-a] [--unfused]
 *   bench_onnx_export_logits FILE.spec - - DIR ...   (a text spec instead of a zoo model)
 *   bench_onnx_export_logits --list          (the zoo's names, one a line)
 *
 * --style and --shortcut-a are clnet_zoo_options' (Keras-style ResNets pad with zero_pad,
 * option-A shortcuts with channel_pad); --unfused runs clnet's plan without fusion. Writes
 * DIR/MODEL.onnx, DIR/MODEL.input.f32 (the batch as the ONNX input takes it: NCHW, or NHWC
 * with --nhwc) and DIR/MODEL.logits.f32 (N x CLASSES; a spec whose output is images gives
 * them in the input's layout), raw little-endian floats. Prints one line: the model, the
 * export's seconds and the file's megabytes.
 *
 * The batch norms' moving statistics are those of a random batch (one training forward with
 * momentum 0), as a trained model's match its activations: with arbitrary statistics the
 * deeper models (RegNetY) amplify rounding so much that ONNX Runtime's own optimized and
 * unoptimized runs differ by 1e-3, and the comparison would say nothing about the export.
 * Each moving variance then gets its layer's mean variance added: a channel nearly dead on
 * the random batch would otherwise be scaled up by 1 / sqrt(epsilon), rounding noise and all,
 * and the deepest ResNets would differ by 2e-4 between two correct runtimes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clnet.h"
#include "plan/plan.h"

static int die(const char *what, const char *detail)
{
    fprintf(stderr, "bench_onnx_export_logits: %s%s%s\n", what, detail ? ": " : "",
            detail ? detail : "");
    return 1;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Every weight random from seed: kernels He-uniform, gamma and moving variance in
 * (0.5, 1.5), biases, beta and moving mean in (-0.5, 0.5) (tests/support's rule). */
static int randomize(clnet_model *m, uint64_t seed)
{
    for (int i = 0; i < clnet_model_weight_count(m); ++i) {
        clnet_weight_info info;
        clnet_tensor *t = NULL;
        if (clnet_model_weight(m, i, &info, &t, NULL) != CLNET_OK)
            return 0;
        const int one =
            strcmp(info.name, "gamma") == 0 || strcmp(info.name, "moving_variance") == 0;
        const int vec = one || strcmp(info.name, "beta") == 0 || strcmp(info.name, "bias") == 0 ||
                        strcmp(info.name, "moving_mean") == 0;
        const clnet_status st =
            vec ? clnet_tensor_init(t, CLNET_INIT_UNIFORM, one ? 0.5f : -0.5f, one ? 1.5f : 0.5f,
                                    seed + (uint64_t)i)
                : clnet_tensor_init(t, CLNET_INIT_HE_UNIFORM, 0, 0, seed + (uint64_t)i);
        if (st != CLNET_OK)
            return 0;
    }
    clnet_model_weights_changed(m);
    return 1;
}

/* moving_variance += its mean, for every batch norm (why: the top of the file). */
static int floor_variances(clnet_model *m)
{
    for (int i = 0; i < clnet_model_weight_count(m); ++i) {
        clnet_weight_info info;
        clnet_tensor *t = NULL;
        if (clnet_model_weight(m, i, &info, &t, NULL) != CLNET_OK)
            return 0;
        if (strcmp(info.name, "moving_variance") != 0)
            continue;
        const size_t n = clnet_tensor_count(t);
        float *v = malloc(n * sizeof *v);
        double mean = 0.0;
        int ok = v && clnet_tensor_read(t, v, n) == CLNET_OK;
        for (size_t k = 0; ok && k < n; ++k)
            mean += v[k] / (double)n;
        for (size_t k = 0; ok && k < n; ++k)
            v[k] += (float)mean;
        ok = ok && clnet_tensor_write(t, v, n) == CLNET_OK;
        free(v);
        if (!ok)
            return 0;
    }
    clnet_model_weights_changed(m);
    return 1;
}

static void nhwc_to_nchw(const float *src, clnet_shape s, float *dst)
{
    for (int n = 0; n < s.n; ++n)
        for (int y = 0; y < s.h; ++y)
            for (int x = 0; x < s.w; ++x)
                for (int c = 0; c < s.c; ++c)
                    dst[(((size_t)n * s.c + c) * s.h + y) * s.w + x] =
                        src[(((size_t)n * s.h + y) * s.w + x) * s.c + c];
}

static int write_floats(const char *dir, const char *model, const char *ext, const float *v,
                        size_t count)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.%s", dir, model, ext);
    FILE *f = fopen(path, "wb");
    const int ok = f && fwrite(v, sizeof *v, count, f) == count;
    if ((f && fclose(f) != 0) || !ok)
        return die("cannot write", path);
    return 0;
}

/* The graph of a text spec file; 0 with err set when it cannot be read. */
static int spec_graph(const char *path, clnet_graph **g, char *err, size_t len)
{
    FILE *f = fopen(path, "rb");
    char *text = f ? malloc(1 << 20) : NULL;
    const size_t n = text ? fread(text, 1, (1 << 20) - 1, f) : 0;
    if (f)
        fclose(f);
    if (!text) {
        snprintf(err, len, "cannot read the file");
        return 0;
    }
    text[n] = '\0';
    const int ok = clnet_graph_from_spec(text, path, g, err, len) == CLNET_OK;
    free(text);
    return ok;
}

static char base[256]; /* a spec's name without its directory and extension */

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (const char *const *n = clnet_zoo_names(); *n; ++n)
            printf("%s\n", *n);
        return 0;
    }
    if (argc < 5)
        return die("usage",
                   "bench_onnx_export_logits MODEL HxWxC CLASSES DIR [--nhwc] [--batch N]");
    clnet_zoo_options zo = {0, 0, 0, 0, "torch", 0.0, 0};
    if (sscanf(argv[2], "%dx%dx%d", &zo.h, &zo.w, &zo.c) != 3 && strcmp(argv[2], "-") != 0)
        return die("input is HxWxC, not", argv[2]);
    zo.classes = atoi(argv[3]);
    const char *dir = argv[4];
    clnet_onnx_export_options eo = {0};
    int batch = 2, unfused = 0;
    for (int i = 5; i < argc; ++i) {
        if (strcmp(argv[i], "--nhwc") == 0)
            eo.nhwc = 1;
        else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
            batch = atoi(argv[++i]);
        else if (strcmp(argv[i], "--style") == 0 && i + 1 < argc)
            zo.style = argv[++i];
        else if (strcmp(argv[i], "--shortcut-a") == 0)
            zo.shortcut_a = 1;
        else if (strcmp(argv[i], "--unfused") == 0)
            unfused = 1;
        else
            return die("unknown argument", argv[i]);
    }
    char err[512] = "", path[1024];
    clnet_graph *g = NULL;
    const char *name = argv[1];
    const size_t len = strlen(name);
    if (len > 5 && strcmp(name + len - 5, ".spec") == 0) {
        if (!spec_graph(name, &g, err, sizeof err))
            return die(name, err);
        const clnet_shape in = clnet_graph_layer_shape(g, 0);
        zo.h = in.h;
        zo.w = in.w;
        zo.c = in.c;
        /* Files are named after the spec: "dir/ops.spec" writes DIR/ops.onnx. */
        name = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
        snprintf(base, sizeof base, "%.*s", (int)strlen(name) - 5, name);
        name = base;
    } else if (clnet_zoo_build(name, &zo, &g, err, sizeof err) != CLNET_OK) {
        return die(name, err);
    }
    clnet_context *ctx = NULL;
    clnet_model *m = NULL;
    if (clnet_context_create(NULL, &ctx) != CLNET_OK)
        return die("no OpenCL device", NULL);
    const clnet_model_options mo = {1, unfused, unfused};
    if (clnet_model_create(ctx, g, &mo, &m) != CLNET_OK || !randomize(m, 7))
        return die(name, clnet_context_error(ctx));
    const clnet_shape s = {batch, zo.h, zo.w, zo.c};
    clnet_tensor *calib = NULL;
    if (clnet_tensor_create(ctx, s, &calib) != CLNET_OK ||
        clnet_tensor_init(calib, CLNET_INIT_UNIFORM, -1.0f, 1.0f, 13) != CLNET_OK ||
        clnet__model_forward_momentum(m, calib, 0.0f) != CLNET_OK)
        return die("calibrating the batch norms", clnet_context_error(ctx));
    clnet_tensor_destroy(calib);
    if (!floor_variances(m))
        return die("flooring the moving variances", clnet_context_error(ctx));
    snprintf(path, sizeof path, "%s/%s.onnx", dir, name);
    const double t0 = now();
    if (clnet_model_export_onnx(m, path, &eo) != CLNET_OK)
        return die("export", clnet_context_error(ctx));
    const double t1 = now();
    const size_t n_in = (size_t)batch * zo.h * zo.w * zo.c;
    float *in = malloc(n_in * sizeof *in), *nchw = malloc(n_in * sizeof *nchw), *out = NULL;
    clnet_tensor *x = NULL, *y = NULL;
    int rc = !in || !nchw;
    if (!rc && (clnet_tensor_create(ctx, s, &x) != CLNET_OK ||
                clnet_tensor_init(x, CLNET_INIT_UNIFORM, -1.0f, 1.0f, 11) != CLNET_OK ||
                clnet_tensor_read(x, in, n_in) != CLNET_OK ||
                clnet_model_forward(m, x, 0, &y) != CLNET_OK))
        rc = die("forward", clnet_context_error(ctx));
    if (!rc) {
        nhwc_to_nchw(in, s, nchw);
        const size_t count = clnet_tensor_count(y);
        const clnet_shape ys = clnet_tensor_shape(y);
        out = malloc(count * sizeof *out);
        float *out_nchw = malloc(count * sizeof *out_nchw);
        if (!out || !out_nchw || clnet_tensor_read(y, out, count) != CLNET_OK)
            rc = die("reading the logits", clnet_context_error(ctx));
        /* An output of images is NCHW too, unless the export is NHWC. */
        if (!rc)
            nhwc_to_nchw(out, ys, out_nchw);
        rc = rc || write_floats(dir, name, "input.f32", eo.nhwc ? in : nchw, n_in) ||
             write_floats(dir, name, "logits.f32", eo.nhwc ? out : out_nchw, count);
        free(out_nchw);
    }
    FILE *f = fopen(path, "rb");
    long bytes = f && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (f)
        fclose(f);
    if (!rc)
        printf("%s export %.2f s, %.1f MB\n", name, t1 - t0, (double)bytes / 1e6);
    free(in);
    free(nchw);
    free(out);
    clnet_tensor_destroy(x);
    clnet_model_destroy(m);
    clnet_context_destroy(ctx);
    clnet_graph_destroy(g);
    return rc;
}
