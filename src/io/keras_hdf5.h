/* keras_hdf5.h - the little of an HDF5 file that Keras's files need: string attributes,
 * groups and float datasets, from a file or an image in memory (a .keras zip's
 * model.weights.h5, the fuzz harnesses). libhdf5 (Debian's hdf5-serial) reads the file in
 * a child process (keras_hdf5_walk.c), since it crashes on some damaged files; the
 * contents are then kept in memory, and every call here is a lookup. */
#ifndef CLNET_IO_KERAS_HDF5_H
#define CLNET_IO_KERAS_HDF5_H

#include <stddef.h>
#include <stdint.h>

#include "clnet.h"

#define CLNET_HDF5_MAX_RANK 8

typedef struct clnet__hdf5 clnet__hdf5;

/* Opens path read-only, or (path NULL) the HDF5 image of size bytes (name is what messages
 * call it). A file that is not HDF5 or is damaged is CLNET_ERR_PARSE naming it. Datasets
 * are read up to 256 times the file's size in all (at least 64 MB): Keras writes every
 * value, and only a damaged file claims more than it holds (a dataset past that reads as
 * damaged). */
clnet_status clnet__hdf5_open(const char *path, const void *image, size_t size, const char *name,
                              clnet__hdf5 **out, char *err, size_t len);
void clnet__hdf5_close(clnet__hdf5 *f);
/* Does the group or dataset at path ("/model_weights/conv1") exist. */
int clnet__hdf5_exists(clnet__hdf5 *f, const char *path);
/* The string attribute attr of the object at path (a scalar string, fixed or variable
 * length, or a one-element array of one), malloc'd; NULL when absent or not a string. */
char *clnet__hdf5_attr_string(clnet__hdf5 *f, const char *path, const char *attr);
/* The string-array attribute attr of the object at path as *out (malloc'd array of
 * malloc'd strings; clnet__hdf5_strings_free), its count returned: Keras 2's layer_names
 * and weight_names, also when Keras split a long one into attr0, attr1, ...; -1 when
 * absent or not strings. */
int clnet__hdf5_attr_strings(clnet__hdf5 *f, const char *path, const char *attr, char ***out);
void clnet__hdf5_strings_free(char **s, int n);
/* The names of the members of the group at path, in HDF5's name order (as *out, like
 * clnet__hdf5_attr_strings); -1 when it is no group. */
int clnet__hdf5_members(clnet__hdf5 *f, const char *path, char ***out);
/* The rank of the numeric (float or integer) dataset at path and its dims (up to
 * CLNET_HDF5_MAX_RANK); -1 when there is none, -2 when its data is kept outside the file
 * (external storage, virtual datasets: refused, as Keras does, since they read other
 * files). */
int clnet__hdf5_shape(clnet__hdf5 *f, const char *path, int64_t *dims);
/* Reads the dataset at path, which holds count values, into out as float32 (float, double,
 * float16 and integer data converted by libhdf5). Anything else, or a damaged dataset, is
 * CLNET_ERR_PARSE with err (len bytes) naming it. */
clnet_status clnet__hdf5_read(clnet__hdf5 *f, const char *path, float *out, int64_t count,
                              char *err, size_t len);

/* The CPU time the reader process may take (60 s; the fuzz harnesses lower it). */
extern int clnet__hdf5_cpu_seconds;

/* keras_hdf5_walk.c: writes the contents of the file at path (or of the image) to fd, as
 * keras_hdf5.c reads them, the values of datasets up to max_bytes in all; called in the
 * child. */
void clnet__hdf5_walk(int fd, const char *path, const void *image, size_t size, int64_t max_bytes);

#endif
