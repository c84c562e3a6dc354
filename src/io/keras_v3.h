/* keras_v3.h - what keras_v3.c (the .keras zip, the weight source) and keras_v3_path.c (where
 * a layer's variables are in model.weights.h5) share. Not part of the library's interface:
 * src/io/keras.h is. Tests: tests/io/test_keras_v3.c. */
#ifndef CLNET_IO_KERAS_V3_H
#define CLNET_IO_KERAS_V3_H

#include <stddef.h>

#include "io/keras.h"
#include "io/keras_hdf5.h"

/* The longest HDF5 path of a layer's group (keras_hdf5.c follows paths below 1024 bytes). */
#define CLNET_KERAS_V3_GROUP_MAX 1024

/* Finds the group of ref's variables in the weights h5 into group (len bytes,
 * "/layers/functional/layers/conv2d_1/vars"): 1 when found, 0 when not. It tries, in order,
 * ref->v3_path (a group there is taken as it is); the same with
 * "_layer_checkpoint_dependencies" for "layers" (tf.keras 2.14, as Keras 3 also tries); and a
 * walk of model (the config, as config.json holds it) level by level that takes, for the k-th
 * layer of a class in its list, the group of that class with the k-th smallest _N (tf.keras
 * 2.13 skipped numbers). */
int clnet__keras_v3_group(clnet__hdf5 *h5, const cJSON *model, const clnet__keras_layer_ref *ref,
                          char *group, size_t len);

/* Keras's naming.to_snake_case of name into out (len bytes): "Conv2D" -> "conv2d",
 * "BatchNormalization" -> "batch_normalization", "ReLU" -> "re_lu". */
void clnet__keras_snake_case(const char *name, char *out, size_t len);

#endif
