/* model_file.h - what model files (model_file.c) share with checkpoints
 * (src/train/checkpoint.c): tensor names and shapes of weights, and the metadata that
 * makes a file loadable as a model (spec, labels, input size, normalization). */
#ifndef CLNET_IO_MODEL_FILE_H
#define CLNET_IO_MODEL_FILE_H

#include "io/safetensors.h"
#include "plan/plan.h"

/* "<layer>/<weight>": layer names are below 64 bytes, weight names short. */
#define CLNET_MODEL_NAME_LEN 128
/* Key/value pairs of clnet__model_meta. */
#define CLNET_MODEL_META 6

/* The file's name (CLNET_MODEL_NAME_LEN bytes) and shape of weight i. */
void clnet__model_weight_entry(const clnet_model *m, int i, char *name, clnet__st_entry *e);

/* The metadata pairs of m: format_version, spec, labels, input, mean, std (the "format"
 * key is the writer's: "clnet" or "clnet-checkpoint"). pairs[0..n) borrow the strings
 * the struct owns until clnet__model_meta_free. */
typedef struct clnet__model_meta {
    char *spec, *labels;
    char input[64];
    clnet__text mean, std;
    const char *pairs[CLNET_MODEL_META][2];
    int n;
} clnet__model_meta;

clnet_status clnet__model_meta_make(clnet_model *m, clnet__model_meta *mm, char *err, size_t len);
void clnet__model_meta_free(clnet__model_meta *mm);

#endif
