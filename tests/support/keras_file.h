/* keras_file.h - small Keras files made in C, for tests/io/test_keras_v3.c, the fuzz harness
 * fuzz/fuzz_keras_v3.c and its seeds (fuzz/make_corpus.c): HDF5 images of float datasets
 * (libhdf5, through a temporary file) and zips (libzip, in memory). No Criterion: each call returns
 * NULL or -1 on failure for its caller to assert. */
#ifndef CLNET_TESTS_KERAS_FILE_H
#define CLNET_TESTS_KERAS_FILE_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

/* An HDF5 file being written (a temporary file at path, its image taken once it is closed,
 * as Keras's is); file is libhdf5's, for what the helpers do not do. */
typedef struct clnet_test_h5 {
    hid_t file;
    char path[256];
} clnet_test_h5;

/* A new file: in libhdf5's earliest format, as h5py (and so Keras) writes by default, or
 * with compact set the latest, which is smaller (the fuzz seeds). */
clnet_test_h5 *clnet_test_h5_create(int compact);
/* A group at path ("/layers/conv2d/vars"), its parents made on the way; with a "name"
 * attribute (a variable-length UTF-8 string, as h5py writes Keras 3.6's) unless name is
 * NULL. 0 or -1. */
int clnet_test_h5_group(clnet_test_h5 *f, const char *path, const char *name);
/* A float32 dataset at path of dims (rank 0: a scalar) holding data, parents made. */
int clnet_test_h5_floats(clnet_test_h5 *f, const char *path, int rank, const int64_t *dims,
                         const float *data);
/* Closes f and returns the file's bytes (malloc'd, *size of them), or NULL; f is freed and its
 * file removed either way. */
unsigned char *clnet_test_h5_finish(clnet_test_h5 *f, size_t *size);

/* A zip member: its name and bytes, stored or deflated. */
typedef struct clnet_test_zip_member {
    const char *name;
    const void *data;
    size_t size;
    int deflate;
} clnet_test_zip_member;

/* A zip archive of n members in this order (malloc'd, *size bytes), or NULL. */
unsigned char *clnet_test_zip(const clnet_test_zip_member *m, int n, size_t *size);

/* A .keras file as Keras 3 writes it: metadata.json (left out when NULL), config.json and
 * model.weights.h5 (h5, h5_size bytes), stored, or with deflate set deflated. */
unsigned char *clnet_test_keras(const char *config, const char *metadata, const void *h5,
                                size_t h5_size, int deflate, size_t *size);

#endif
