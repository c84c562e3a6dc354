/* model_file.h - the host-side half of clnet_model_load (model_file.c): everything a
 * model file is checked for before a model exists on a device, so a hostile header
 * costs no more than its own bytes. Also the entry of fuzz/fuzz_model_file.c.
 * Tests: tests/models/test_model_file.c. */
#ifndef CLNET_IO_MODEL_FILE_H
#define CLNET_IO_MODEL_FILE_H

#include "graph/graph.h"
#include "io/safetensors.h"

/* The "format_version" this clnet writes and reads. */
#define CLNET_MODEL_FORMAT_VERSION "1"

/* What a checked file holds besides its tensors. */
typedef struct clnet__model_file {
    clnet_graph *g; /* the architecture spec's graph, owned */
    int input;      /* its one input layer */
    char **labels;  /* n_labels class names (0: none), owned */
    int n_labels;
    int has_norm;          /* mean / std below are the file's (else 0 and 1) */
    float mean[4], std[4]; /* per input channel, when it has at most 4 */
    float center_crop;     /* the file's, 0 when it has none */
} clnet__model_file;

/* Checks an opened file against what it claims: format and version, a spec that builds
 * a graph with one input, every weight of that graph present as a tensor of its name
 * and shape (the weights' bytes within the file's data section, checked first from the
 * spec alone), no other tensor, labels (one per output class, UTF-8), input size and
 * normalization. On success out holds the graph and the metadata (release with
 * clnet__model_file_free); on failure out is empty and err (len bytes) says what is
 * wrong, naming the tensor, layer or key. No device, no allocation sized by the header
 * beyond the header itself. */
clnet_status clnet__model_file_check(clnet__st_file *f, clnet__model_file *out, char *err,
                                     size_t len);
void clnet__model_file_free(clnet__model_file *mf);

/* The file's name and shape of a weight: "<layer>/<weight>", kernels and anything of
 * more than one dimension as the 4-d shape, vectors {1, 1, 1, c} (bias, gamma, ...) as
 * [c]. name is NAME_LEN bytes (CLNET_MODEL_NAME_LEN); e->name points to it. */
#define CLNET_MODEL_NAME_LEN 128
void clnet__model_tensor_entry(const char *layer, const char *weight, clnet_shape s, char *name,
                               clnet__st_entry *e);

#endif
