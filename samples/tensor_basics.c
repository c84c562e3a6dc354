/* tensor_basics.c - a complete program using only the public header: open the
 * default OpenCL device (or $CLNET_DEVICE), create a weight tensor, initialize it
 * with He-normal values from a seed, and read it back.
 *   build/samples/sample_tensor_basics */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "clnet.h"

int main(void)
{
    char err[1024] = "";
    clnet_context_options opt = {0};
    opt.error = err;
    opt.error_len = sizeof err;
    clnet_context *ctx = NULL;
    if (clnet_context_create(&opt, &ctx) != CLNET_OK) {
        fprintf(stderr, "cannot open a device: %s\n", err);
        return 1;
    }
    const clnet_device_info *dev = clnet_context_device(ctx);
    printf("device: %s (%s), kernels for class %s\n", dev->name, dev->vendor,
           clnet_device_class_name(clnet_context_class(ctx)));

    /* A 3x3 convolution kernel from 64 to 128 channels, HWIO. */
    clnet_shape shape = {3, 3, 64, 128};
    clnet_tensor *w = NULL;
    clnet_status st = clnet_tensor_create(ctx, shape, &w);
    if (st == CLNET_OK)
        st = clnet_tensor_init(w, CLNET_INIT_HE_NORMAL, 0.0f, 0.0f, 42);
    size_t n = clnet_tensor_count(w);
    float *host = malloc(n * sizeof *host);
    if (st == CLNET_OK && host)
        st = clnet_tensor_read(w, host, n);
    if (st != CLNET_OK || !host) {
        fprintf(stderr, "tensor: %s: %s\n", clnet_status_string(st), clnet_context_error(ctx));
        free(host);
        clnet_tensor_destroy(w);
        clnet_context_destroy(ctx);
        return 1;
    }
    double sum = 0.0, sq = 0.0;
    for (size_t i = 0; i < n; ++i) {
        sum += host[i];
        sq += (double)host[i] * host[i];
    }
    const double mean = sum / (double)n;
    printf("%zu weights: mean %.4f, stddev %.4f (He normal wants %.4f)\n", n, mean,
           sqrt(sq / (double)n - mean * mean), sqrt(2.0 / (3 * 3 * 64)));
    free(host);
    clnet_tensor_destroy(w);
    clnet_context_destroy(ctx);
    return 0;
}
