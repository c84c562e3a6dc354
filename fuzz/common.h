/* common.h - what the libFuzzer harnesses (fuzz/fuzz_<loader>.c) share: a scratch folder
 * per process for loaders that read files, and writing the input's pieces into it. */
#ifndef CLNET_FUZZ_COMMON_H
#define CLNET_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* The process's scratch folder ($TMPDIR, else /dev/shm, else /tmp), made on first use
 * and removed at exit with everything in it. */
const char *fuzz_dir(void);
/* "<fuzz_dir()>/<name>" in one of four rotating static buffers. */
const char *fuzz_path(const char *name);
/* Writes n bytes to fuzz_path(name), making the folders on the way. */
void fuzz_write(const char *name, const void *data, size_t n);
/* Empties the scratch folder (keeps the folder itself). */
void fuzz_clear(void);

/* A little-endian reader of the input: pieces of it in order. */
typedef struct fuzz_input {
    const uint8_t *p;
    size_t left;
} fuzz_input;

/* The next byte / 16-bit little-endian number, 0 when the input is used up. */
unsigned fuzz_u8(fuzz_input *in);
unsigned fuzz_u16(fuzz_input *in);
/* The next up to n bytes; *got says how many. */
const uint8_t *fuzz_bytes(fuzz_input *in, size_t n, size_t *got);

/* Opens a dataset (clnet_dataset_open's arguments) and, when that works, uses everything
 * of it a training run does: labels and class names, statistics, a split, and one epoch
 * of shuffled, augmented batches. Checks what must hold of any dataset that opened. */
struct clnet_dataset_options;
void fuzz_use_dataset(const char *source, const char *part,
                      const struct clnet_dataset_options *opt);

/* Reads every tensor of an opened safetensors file (src/io/safetensors.h): each read
 * of a file that opened must work. */
struct clnet__st_file;
void fuzz_read_tensors(struct clnet__st_file *f);

/* Prints why an input was refused when $FUZZ_VERBOSE is set: seeing that the seeds of a
 * corpus are accepted (FUZZ_VERBOSE=1 build-fuzz/fuzz/fuzz_x -runs=0 fuzz/corpus/x). */
void fuzz_note(const char *err);

/* Stops the process with libFuzzer's crash report when a harness's own check fails. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_fail(#cond, __FILE__, __LINE__);                                                  \
    } while (0)
void fuzz_fail(const char *what, const char *file, int line);

/* A Keras model config translated with its weights from src (NULL: the graph alone), and
 * the result checked: a graph with each weight on one of its layers, or an error that says
 * something (fuzz_keras_*.c). */
struct cJSON;
struct clnet__keras_source;
void fuzz_keras_import(const struct cJSON *model, const struct clnet__keras_source *src);

#endif
