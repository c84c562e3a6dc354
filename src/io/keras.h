/* keras.h - Keras models: the model config (JSON, Keras 2's and Keras 3's serializations)
 * translated onto the graph builder (keras_import.c, keras_layers.c), the weights found
 * where each format keeps them:
 *   keras_h5.c     Keras 2 .h5 (model_config attribute, /model_weights/<layer>/...) and
 *                  weights-only .h5 files, through libhdf5 (keras_hdf5.c wraps it);
 *   keras_v3.c     Keras 3 .keras zips (config.json, model.weights.h5 with
 *                  /layers/<class>[_N]/vars/K), through libzip;
 *   keras_tfjs.c   TF.js layers models (model.json: modelTopology and weightsManifest,
 *                  float32 or quantized shards).
 * Tests: tests/io/test_keras*.c (fixtures: tests/keras/); fuzz/fuzz_keras_*.c. */
#ifndef CLNET_IO_KERAS_H
#define CLNET_IO_KERAS_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "clnet.h"
#include "io/import.h"

/* Nesting of Functional/Sequential models inside one another that is followed. */
#define CLNET_KERAS_MAX_DEPTH 8

/* One layer of the config as a weight source sees it: where it sits among the (nested)
 * models, so each format can find its variables. Level 0 is the outermost model's layer
 * list; names[depth - 1] is the layer itself. */
typedef struct clnet__keras_layer_ref {
    int depth;
    const char *names[CLNET_KERAS_MAX_DEPTH];   /* layer names ("sequential", "conv1") */
    const char *classes[CLNET_KERAS_MAX_DEPTH]; /* Keras class names ("Sequential", "Conv2D") */
    /* Keras 3's path of the layer's variables in model.weights.h5 ("layers/sequential/layers/
     * conv2d_1"): each level is the class name in snake case, with _N for the N-th earlier
     * layer of that class in the same list (saving_lib's naming). */
    char v3_path[512];
} clnet__keras_layer_ref;

/* Where a file keeps the weights. The importer asks for every weight of every layer, in
 * Keras's own order for the layer (kernel, bias; gamma, beta, moving_mean,
 * moving_variance; depthwise_kernel, pointwise_kernel, bias), with the shape Keras gives it
 * (HWIO kernels {kh, kw, in, out}, depthwise {kh, kw, in, multiplier}, dense {in, out}). */
typedef struct clnet__keras_source {
    void *ctx;
    /* Reads weight `index` of ref (its Keras name `role`: "kernel", "depthwise_kernel",
     * "gamma", ...) into out (count floats, count the product of dims). A missing weight or
     * one of another shape is CLNET_ERR_PARSE with err (len bytes) naming the layer, the
     * weight and where it was looked for. */
    clnet_status (*read)(void *ctx, const clnet__keras_layer_ref *ref, int index, const char *role,
                         const int64_t *dims, int rank, float *out, char *err, size_t len);
    /* How many weights the file keeps for ref, or -1 when it cannot tell (the importer
     * then only checks the ones it reads): more than the layer has is an error, so a
     * config that disagrees with its weights is not half-loaded. */
    int (*count)(void *ctx, const clnet__keras_layer_ref *ref);
} clnet__keras_source;

/* Translates a Keras model config onto a new graph: model is the object with "class_name"
 * ("Functional", "Model", "Sequential") and "config" (Keras 2's model_config, TF.js's
 * modelTopology.model_config, Keras 3's config.json), src the weights (NULL: the graph
 * alone, no weight read). opt (NULL or zeros: the model's own) gives the input size where
 * the config's is undefined. Rescaling and Normalization layers right after the input
 * become out's mean and std. Every layer or config key clnet cannot run is listed in one
 * error (CLNET_ERR_UNSUPPORTED) with its class name and the key. */
clnet_status clnet__keras_import_config(const cJSON *model, const clnet__keras_source *src,
                                        const clnet_onnx_options *opt, clnet__import *out,
                                        char *err, size_t len);

/* Reads the Keras file at path, by its kind: .h5/.hdf5 (Keras 2 model; weights-only
 * files are refused, naming clnet_model_load_keras_weights), .keras (Keras 3), .json
 * (TF.js layers model, shards beside it); its weights too unless graph_only. On failure
 * out is empty and err says why. */
clnet_status clnet__keras_import_file(const char *path, const clnet_onnx_options *opt,
                                      int graph_only, clnet__import *out, char *err, size_t len);

/* Does path name a Keras file: .h5, .hdf5, .keras or .json at its end, any case. */
int clnet__keras_path(const char *path);

/* The formats' readers, each making the config and a source of its weights; *free_ctx
 * frees the source's ctx. Used by clnet__keras_import_file and the fuzz harnesses. */
clnet_status clnet__keras_h5_open(const char *path, const void *image, size_t image_size,
                                  cJSON **model, clnet__keras_source *src, char *err, size_t len);
void clnet__keras_h5_close(clnet__keras_source *src);
clnet_status clnet__keras_v3_open(const char *path, const void *zip, size_t zip_size, cJSON **model,
                                  clnet__keras_source *src, char *err, size_t len);
void clnet__keras_v3_close(clnet__keras_source *src);
/* Each reads the file at path, or (path NULL) the file's bytes in memory (image/zip/json),
 * for the fuzz harnesses; TF.js reads its shards from model.json's directory, and refuses
 * them from memory (no directory to find them in). */
clnet_status clnet__keras_tfjs_open(const char *path, const char *json, size_t json_size,
                                    cJSON **model, clnet__keras_source *src, char *err, size_t len);
void clnet__keras_tfjs_close(clnet__keras_source *src);

#endif
