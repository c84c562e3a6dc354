/* onnx_logits.c - bench_onnx_logits: an ONNX model laid out as ONNX's node tests, run by
 * clnet and compared with the logits its exporter computed: the fixtures of tests/onnx/ and
 * the full-size models of bench/compare/onnx_torchvision.sh (whose ONNX Runtime side is
 * bench/compare/onnx_ort_logits.js). A check tool, never a test.
 *
 *   bench_onnx_logits DIR [--repeats N]
 *
 * Reads DIR/model.onnx with clnet_model_load, DIR/test_data_set_0/input_0.pb (NCHW float
 * [n, c, h, w], given to clnet transposed to NHWC) and output_0.pb ([n, classes, ...]),
 * and prints one line:
 *     DIR: max_rel_err 1.2e-07 argmax 2/2 median_ms 3.456 repeats 10
 * max_rel_err is max |clnet - ref| / max |ref| over all logits, argmax the rows whose
 * largest logit is the same one; the time is the inference forward and the read-back of
 * its logits, the median of N runs (default 10) after one warm-up. A model or data clnet
 * cannot read or run prints "DIR: error: ..." (the importer's message) and exits 1. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clnet.h"
#include "io/onnx.h"

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

static int compare_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int fail(const char *dir, const char *what, const char *detail)
{
    printf("%s: error: %s%s%s\n", dir, what, detail ? ": " : "", detail ? detail : "");
    return 1;
}

/* NCHW [n, c, h, w] -> NHWC, into a new buffer (NULL when out of memory). */
static float *to_nhwc(const clnet__onnx_tensor *t)
{
    const int64_t n = t->dims[0], c = t->dims[1], h = t->dims[2], w = t->dims[3];
    float *out = malloc((size_t)t->count * sizeof *out);
    if (!out)
        return NULL;
    for (int64_t b = 0; b < n; ++b)
        for (int64_t ch = 0; ch < c; ++ch)
            for (int64_t y = 0; y < h; ++y)
                for (int64_t x = 0; x < w; ++x)
                    out[((b * h + y) * w + x) * c + ch] = t->data[((b * c + ch) * h + y) * w + x];
    return out;
}

/* The index of the largest of v[0..count). */
static int64_t argmax(const float *v, int64_t count)
{
    int64_t best = 0;
    for (int64_t i = 1; i < count; ++i)
        if (v[i] > v[best])
            best = i;
    return best;
}

int main(int argc, char **argv)
{
    if (argc < 2 || (argc != 2 && !(argc == 4 && strcmp(argv[2], "--repeats") == 0))) {
        fprintf(stderr, "usage: bench_onnx_logits DIR [--repeats N]\n");
        return 2;
    }
    const char *dir = argv[1];
    const int repeats = argc == 4 ? atoi(argv[3]) : 10;
    if (repeats < 1) {
        fprintf(stderr, "bench_onnx_logits: --repeats takes a positive count\n");
        return 2;
    }
    char path[4096], err[1024] = "";
    clnet__onnx_tensor in = {0}, ref = {0};
    clnet_context *ctx = NULL;
    clnet_model *m = NULL;
    clnet_tensor *x = NULL, *y = NULL;
    float *nhwc = NULL, *got = NULL;
    double *ms = NULL;
    int rc = 1;

    snprintf(path, sizeof path, "%s/test_data_set_0/input_0.pb", dir);
    if (clnet__onnx_tensor_file(path, &in, err, sizeof err) != CLNET_OK) {
        fail(dir, err, NULL);
        goto done;
    }
    snprintf(path, sizeof path, "%s/test_data_set_0/output_0.pb", dir);
    if (clnet__onnx_tensor_file(path, &ref, err, sizeof err) != CLNET_OK) {
        fail(dir, err, NULL);
        goto done;
    }
    if (in.rank != 4 || ref.rank < 1 || ref.dims[0] != in.dims[0]) {
        fail(dir, "input_0.pb is not [n, c, h, w] with output_0.pb's n rows", NULL);
        goto done;
    }
    if (clnet_context_create(NULL, &ctx) != CLNET_OK) {
        fail(dir, "no OpenCL device", NULL);
        goto done;
    }
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    if (clnet_model_load(ctx, path, NULL, &m) != CLNET_OK) {
        fail(dir, clnet_context_error(ctx), NULL);
        goto done;
    }
    const clnet_shape shape = {(int)in.dims[0], (int)in.dims[2], (int)in.dims[3], (int)in.dims[1]};
    nhwc = to_nhwc(&in);
    got = malloc((size_t)ref.count * sizeof *got);
    ms = malloc((size_t)repeats * sizeof *ms);
    if (!nhwc || !got || !ms) {
        fail(dir, "out of memory", NULL);
        goto done;
    }
    if (clnet_tensor_create(ctx, shape, &x) != CLNET_OK ||
        clnet_tensor_write(x, nhwc, (size_t)in.count) != CLNET_OK) {
        fail(dir, "input", clnet_context_error(ctx));
        goto done;
    }
    /* Run 0 is the untimed warm-up (plan, kernels, buffers); the last run's logits are compared. */
    for (int r = 0; r <= repeats; ++r) {
        const double t0 = now_ms();
        if (clnet_model_forward(m, x, 0, &y) != CLNET_OK) {
            fail(dir, "forward", clnet_context_error(ctx));
            goto done;
        }
        if (clnet_tensor_count(y) != (size_t)ref.count) {
            char detail[96];
            snprintf(detail, sizeof detail, "clnet gives %zu logits, output_0.pb has %lld",
                     clnet_tensor_count(y), (long long)ref.count);
            fail(dir, "output size", detail);
            goto done;
        }
        if (clnet_tensor_read(y, got, (size_t)ref.count) != CLNET_OK) {
            fail(dir, "read-back", clnet_context_error(ctx));
            goto done;
        }
        if (r > 0)
            ms[r - 1] = now_ms() - t0;
    }
    qsort(ms, (size_t)repeats, sizeof *ms, compare_double);

    double diff = 0.0, scale = 0.0;
    for (int64_t i = 0; i < ref.count; ++i) {
        diff = fmax(diff, fabs((double)got[i] - ref.data[i]));
        scale = fmax(scale, fabs((double)ref.data[i]));
    }
    const int64_t rows = ref.dims[0], per = ref.count / rows;
    int64_t agree = 0;
    for (int64_t r = 0; r < rows; ++r)
        agree += argmax(got + r * per, per) == argmax(ref.data + r * per, per);
    printf("%s: max_rel_err %.3g argmax %lld/%lld median_ms %.3f repeats %d\n", dir,
           diff / fmax(scale, 1e-30), (long long)agree, (long long)rows, ms[repeats / 2], repeats);
    rc = 0;
done:
    free(ms);
    free(got);
    free(nhwc);
    clnet_tensor_destroy(x);
    clnet_model_destroy(m);
    clnet_context_destroy(ctx);
    clnet__onnx_tensor_free(&in);
    clnet__onnx_tensor_free(&ref);
    return rc;
}
