/* onnx.h - ONNX files through the protobuf-c code generated from Debian's onnx.proto
 * (build/generated/onnx/onnx.pb-c.h): reading and checking them (onnx_read.c), folding
 * their constant chains (onnx_fold.c), translating them onto the graph builder
 * (onnx_import.c, onnx_match.c) and writing clnet models out (onnx_export.c).
 * Tests: tests/io/test_onnx*.c; fuzz/fuzz_onnx.c. */
#ifndef CLNET_IO_ONNX_H
#define CLNET_IO_ONNX_H

#include <stddef.h>
#include <stdint.h>

#include "clnet.h"
#include "graph/graph.h"
#include "io/import.h"

/* The opsets and IR versions this clnet reads. */
#define CLNET_ONNX_MIN_OPSET 7
#define CLNET_ONNX_MAX_OPSET 17
#define CLNET_ONNX_MIN_IR 3
#define CLNET_ONNX_MAX_IR 8
/* Largest rank of a tensor the importer handles (ONNX's test data goes to 6). */
#define CLNET_ONNX_MAX_RANK 8
/* Files above this are refused before they are read (a model over 2 GB keeps its
 * weights in external data files; protobuf itself cannot hold more). */
#define CLNET_ONNX_MAX_FILE ((uint64_t)2 << 30)

/* A host tensor of float32 values, as the tests' .pb files and the importer use them. */
typedef struct clnet__onnx_tensor {
    int rank;
    int64_t dims[CLNET_ONNX_MAX_RANK];
    int64_t count; /* product of dims */
    float *data;   /* malloc'd */
} clnet__onnx_tensor;

/* A serialized TensorProto (the input_K.pb / output_K.pb files of ONNX's test data) as
 * float32: float, double, float16 and integer types are converted. On failure out is
 * empty and err (len bytes) names the file and what is wrong. */
clnet_status clnet__onnx_tensor_file(const char *path, clnet__onnx_tensor *out, char *err,
                                     size_t len);
void clnet__onnx_tensor_free(clnet__onnx_tensor *t);

/* Reads and translates the ONNX file at path (its external data files relative to its
 * directory) at the input size of opt (NULL or zeros: the model's own). On failure out is
 * empty and err (len bytes) says what is wrong: the file, the node, every unsupported
 * node. */
clnet_status clnet__onnx_import_file(const char *path, const clnet_onnx_options *opt,
                                     clnet__import *out, char *err, size_t len);
/* The same for a file in memory; external data is refused (no directory to find it in).
 * The entry of fuzz/fuzz_onnx.c. */
clnet_status clnet__onnx_import_memory(const void *data, size_t size, const clnet_onnx_options *opt,
                                       clnet__import *out, char *err, size_t len);
/* For graphs of constants alone (the folder's tests on ONNX's node tests, their inputs
 * made initializers): the graph output's folded value as float32 into out (empty on
 * failure, err saying why). */
clnet_status clnet__onnx_fold_memory(const void *data, size_t size, clnet__onnx_tensor *out,
                                     char *err, size_t len);

/* Does path name an ONNX file: ".onnx" at its end, any case. */
int clnet__onnx_path(const char *path);

#endif
