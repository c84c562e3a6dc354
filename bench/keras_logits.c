/* keras_logits.c - bench_keras_logits: Keras files (.h5, .keras, TF.js model.json) run by
 * clnet on a batch of Keras inputs and compared with reference outputs and with one
 * another: tests/keras/mobilenetv2_formats.py's full-size MobileNetV2 in three formats
 * (the closing check of issue 14). A check tool, never a test.
 *
 *   bench_keras_logits INPUT.bin MODEL:EXPECTED.bin [MODEL:EXPECTED.bin ...]
 *
 * INPUT.bin is float32 NHWC (the batch is its size over the first model's input), given to
 * each model as it is (a model's own Rescaling / Normalization applied as predict would).
 * One line per model:
 *     MODEL: max_rel_err 1.2e-07 argmax 2/2 max_abs_diff_to_first 0
 * max_rel_err is max |clnet - ref| / max |ref| over all outputs; max_abs_diff_to_first
 * compares the raw outputs with the first model's (0: identical). A model clnet cannot read
 * prints "MODEL: error: ..." and exits 1. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clnet.h"

static float *read_floats(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    const long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    float *v = malloc((size_t)size + sizeof *v);
    *n = v ? fread(v, sizeof *v, (size_t)size / sizeof *v, f) : 0;
    fclose(f);
    return v;
}

/* The model's outputs for x (its batch from count), malloc'd, *n of them; NULL on error. */
static float *run(clnet_context *ctx, const char *path, const float *x, size_t count, size_t *n,
                  size_t *batch)
{
    clnet_model *m = NULL;
    if (clnet_model_load(ctx, path, NULL, &m) != CLNET_OK) {
        printf("%s: error: %s\n", path, clnet_context_error(ctx));
        return NULL;
    }
    const clnet_shape s = clnet_graph_layer_shape(clnet_model_graph(m), 0);
    const size_t per = (size_t)s.h * s.w * s.c;
    *batch = count / per;
    float mean[4], std[4];
    clnet_model_normalization(m, mean, std);
    float *in = malloc(count * sizeof *in);
    for (size_t i = 0; in && i < count; ++i) {
        const size_t c = i % (size_t)s.c;
        in[i] = mean[c] != 0 || std[c] != 1 ? (x[i] / 255.0f - mean[c]) / std[c] : x[i];
    }
    clnet_tensor *t = NULL, *y = NULL;
    float *out = NULL;
    if (in &&
        clnet_tensor_create(ctx, (clnet_shape){(int)(count / per), s.h, s.w, s.c}, &t) ==
            CLNET_OK &&
        clnet_tensor_write(t, in, count) == CLNET_OK &&
        clnet_model_forward(m, t, 0, &y) == CLNET_OK) {
        const clnet_shape ys = clnet_tensor_shape(y);
        *n = (size_t)ys.n * ys.h * ys.w * ys.c;
        out = malloc(*n * sizeof *out);
        if (out && clnet_tensor_read(y, out, *n) != CLNET_OK) {
            free(out);
            out = NULL;
        }
    }
    if (!out)
        printf("%s: error: %s\n", path, clnet_context_error(ctx));
    clnet_tensor_destroy(t);
    clnet_model_destroy(m);
    free(in);
    return out;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_keras_logits INPUT.bin MODEL:EXPECTED.bin ...\n");
        return 2;
    }
    clnet_context *ctx = NULL;
    if (clnet_context_create(NULL, &ctx) != CLNET_OK) {
        fprintf(stderr, "bench_keras_logits: no OpenCL device\n");
        return 1;
    }
    size_t count = 0, n_first = 0;
    float *x = read_floats(argv[1], &count), *first = NULL;
    int rc = x ? 0 : 1;
    for (int a = 2; !rc && a < argc; ++a) {
        char path[4096];
        snprintf(path, sizeof path, "%s", argv[a]);
        char *colon = strrchr(path, ':');
        if (colon)
            *colon = '\0';
        size_t n = 0, n_ref = 0, batch = 1;
        float *y = run(ctx, path, x, count, &n, &batch),
              *ref = colon ? read_floats(colon + 1, &n_ref) : NULL;
        if (!y) {
            rc = 1;
            break;
        }
        double d = 0, r = 1e-30, to_first = 0;
        int rows = 0, same = 0;
        for (size_t i = 0; ref && n_ref == n && i < n; ++i) {
            d = fmax(d, fabs((double)y[i] - ref[i]));
            r = fmax(r, fabs((double)ref[i]));
        }
        if (!first) {
            first = y;
            n_first = n;
        } else {
            for (size_t i = 0; i < n && i < n_first; ++i)
                to_first = fmax(to_first, fabs((double)y[i] - first[i]));
        }
        if (ref && n_ref == n) {
            const size_t per = n / (batch ? batch : 1); /* one image's outputs */
            for (size_t row = 0; row * per < n; ++row) {
                size_t a1 = 0, a2 = 0;
                for (size_t k = 1; k < per; ++k) {
                    a1 = y[row * per + k] > y[row * per + a1] ? k : a1;
                    a2 = ref[row * per + k] > ref[row * per + a2] ? k : a2;
                }
                ++rows;
                same += a1 == a2;
            }
        }
        printf("%s: max_rel_err %.3g argmax %d/%d max_abs_diff_to_first %.3g\n", path,
               ref && n_ref == n ? d / r : NAN, same, rows, to_first);
        if (y != first)
            free(y);
        free(ref);
    }
    free(first);
    free(x);
    clnet_context_destroy(ctx);
    return rc;
}
