/* models.h - helpers of the whole-model tests (tests/models/): small networks built
 * the way a Keras user writes them, random weights, and host copies of model tensors. */
#ifndef CLNET_TESTS_MODELS_H
#define CLNET_TESTS_MODELS_H

#include "support/support.h"

/* A small ResNet: conv-BN-ReLU stem, a basic block with identity shortcut, one with a
 * projection shortcut (stride 2), max pool, global average pool, dense. */
clnet_graph *clnet_test_small_resnet(int h, int w, int c, int classes);
/* A small MobileNetV2: conv-BN-ReLU6 stem, inverted residual blocks (expansion, depthwise,
 * linear projection, residual add), dropout-free head of 1x1 conv, global pool, dense. */
clnet_graph *clnet_test_small_mobilenet(int h, int w, int c, int classes);
/* A small MobileNetV3: conv-BN-hard_swish stem, MBConv blocks with ReLU and hard_swish,
 * squeeze-and-excitation with a hard_sigmoid gate (biased 1x1 convs, multiply by
 * [n, 1, 1, c]), residual adds, a 1x1 conv head, global pool, dense + hard_swish, dropout,
 * dense. */
clnet_graph *clnet_test_small_mobilenetv3(int h, int w, int c, int classes);
/* A small EfficientNet: SiLU throughout, MBConv blocks with squeeze-and-excitation (SiLU,
 * sigmoid gate) and stochastic depth (rate 0.4, each its own seed) before the residual
 * adds, a 1x1 conv head, global pool, dropout, dense. */
clnet_graph *clnet_test_small_efficientnet(int h, int w, int c, int classes);
/* A small network of the newer ops from a text spec: a ShuffleNetV2 unit (channel_slice,
 * concatenate, channel_shuffle), a squeeze-and-excitation scale (multiply by [n, 1, 1, c]),
 * subtract and divide by per-image [n, 1, 1, c] operands. */
clnet_graph *clnet_test_small_shufflenet(int h, int w, int c, int classes);

/* A model of g on ctx (asserts success): fuse 0 runs every layer on its own, plan_memory 0
 * gives every tensor its own buffer. */
clnet_model *clnet_test_model(clnet_context *ctx, clnet_graph *g, int fuse, int plan_memory,
                              uint64_t seed);

/* Gives every weight of m random values from seed: kernels keep their initializer's
 * scale, biases and BN beta / moving mean in (-0.5, 0.5), gamma and moving variance
 * in (0.5, 1.5), so folding batch norm changes something. */
void clnet_test_randomize_weights(clnet_model *m, uint64_t seed);
/* Copies every weight of src into dst (same graph). */
void clnet_test_copy_weights(clnet_model *dst, clnet_model *src);
/* A batch of n images for g's input, uniform in (-1, 1) from seed (asserts). */
clnet_tensor *clnet_test_input(clnet_context *ctx, const clnet_graph *g, int n, uint64_t seed);
/* A training forward of x and a backward of a random output gradient (from seed), which
 * it returns (the caller destroys it); asserts success. */
clnet_tensor *clnet_test_backward(clnet_model *m, clnet_tensor *x, uint64_t seed);
/* Whether two tensors hold the same bytes. */
int clnet_test_tensors_equal(clnet_tensor *a, clnet_tensor *b);
/* t's contents, malloc'd (free()). */
float *clnet_test_host(clnet_tensor *t);
/* max |a - b| / (|b| + rms(b)) over count elements; INFINITY when either has a NaN. */
double clnet_test_rel_diff(const float *a, const float *b, size_t count);

/* Under the sanitizers (test.sh --sanitize sets CLNET_TEST_SANITIZE), a test that runs
 * many zoo models skips the deeper repeats of a family (ResNet-34/50/101/152, EfficientNet-B1
 * to B3, ...), whose host code is the shallower one's: does it skip name. */
int clnet_test_sanitize_skips(const char *zoo_name);

#endif
