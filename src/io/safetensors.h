/* safetensors.h - a small reader and writer of safetensors files holding F32 tensors,
 * for model files (model_file.c) and checkpoints. No device, no context: errors go to
 * a caller's buffer. Tests: tests/unit/test_safetensors.c.
 *
 * Layout (https://github.com/huggingface/safetensors):
 *   u64 LE header length N | N bytes of JSON (padded with spaces so the data starts
 *   at a multiple of 8) | data section.
 * The JSON object maps each tensor name to {"dtype": "F32", "shape": [d0, ...],
 * "data_offsets": [begin, end]} (bytes within the data section, little-endian floats,
 * row-major) and the optional key "__metadata__" to an object of string values. */
#ifndef CLNET_IO_SAFETENSORS_H
#define CLNET_IO_SAFETENSORS_H

#include <stdint.h>
#include <stdio.h>

#include "clnet.h"

#define CLNET_ST_MAX_RANK 8
/* Headers above this are refused before anything is allocated. */
#define CLNET_ST_MAX_HEADER (100u * 1000u * 1000u)

/* A tensor to write: name and shape are borrowed. rank 0 is a scalar. */
typedef struct clnet__st_entry {
    const char *name;
    int rank;
    int64_t shape[CLNET_ST_MAX_RANK];
} clnet__st_entry;

/* Supplies tensor i's count floats (host order) into dst. On failure it writes a
 * message into err (len bytes) and returns the status. */
typedef clnet_status (*clnet__st_fill_fn)(void *user, int i, float *dst, size_t count, char *err,
                                          size_t len);

/* Writes n tensors (data from fill, in entry order) and meta (n_meta {key, value}
 * pairs, keys unique) to
 * "<path>.tmp.<pid>", fsyncs it and renames it over path; on any failure the temporary
 * file is removed and an existing file at path is left as it was. Names must be unique,
 * non-empty UTF-8 and not "__metadata__". Errors: CLNET_ERR_INVALID_ARG for bad
 * entries, CLNET_ERR_IO naming the path and the system's reason, or fill's status. */
clnet_status clnet__st_save(const char *path, const clnet__st_entry *t, int n,
                            const char *const (*meta)[2], int n_meta, clnet__st_fill_fn fill,
                            void *user, char *err, size_t len);

/* A tensor of an opened file. */
typedef struct clnet__st_tensor {
    char *name; /* owned by the file */
    int rank;
    int64_t shape[CLNET_ST_MAX_RANK];
    uint64_t count;      /* elements: the product of shape (1 for a scalar) */
    uint64_t begin, end; /* byte range within the data section */
} clnet__st_tensor;

/* An opened, validated file. tensors are in header order. */
typedef struct clnet__st_file {
    FILE *f;
    uint64_t size;       /* of the whole file */
    uint64_t data_start; /* 8 + the header length */
    int n;
    clnet__st_tensor *tensors;
    int *by_name; /* tensor indices sorted by name (clnet__st_find) */
    int has_meta; /* the header has "__metadata__" */
    int n_meta;
    char *(*meta)[2]; /* n_meta {key, value} pairs, owned */
} clnet__st_file;

/* Opens path and validates the whole header against the file: the length prefix
 * (<= CLNET_ST_MAX_HEADER and within the file), a UTF-8 JSON object, each entry's
 * dtype "F32", shape (non-negative integers, rank <= CLNET_ST_MAX_RANK), data_offsets
 * [begin, end) with end - begin = 4 * product(shape), no two tensors overlapping and
 * every byte of the data section covered (so a truncated file is refused here),
 * unique names, "__metadata__" values strings. On failure *out is NULL and err (len
 * bytes) says what is wrong, without the path (the caller adds it): CLNET_ERR_IO for
 * a file that cannot be read, CLNET_ERR_PARSE for a malformed one, CLNET_ERR_UNSUPPORTED
 * for a dtype other than F32. */
clnet_status clnet__st_open(const char *path, clnet__st_file **out, char *err, size_t len);
/* clnet__st_open of the size bytes at data, which must outlive the file (for the fuzz
 * harnesses, fuzz/, and anything that has a file in memory already). */
clnet_status clnet__st_open_memory(const void *data, size_t size, clnet__st_file **out, char *err,
                                   size_t len);
void clnet__st_close(clnet__st_file *f);
/* The index of the tensor called name, or -1. */
int clnet__st_find(const clnet__st_file *f, const char *name);
/* Reads tensor i into dst (count must equal its element count), in host order. */
clnet_status clnet__st_read(clnet__st_file *f, int i, float *dst, size_t count, char *err,
                            size_t len);
/* The metadata value of key (borrowed, lives as long as f), or NULL. */
const char *clnet__st_meta(const clnet__st_file *f, const char *key);
/* clnet__st_meta for a key that must be there: CLNET_ERR_PARSE naming what is missing
 * (the whole "__metadata__", or the key) otherwise. */
clnet_status clnet__st_meta_require(const clnet__st_file *f, const char *key, const char **value,
                                    char *err, size_t len);

/* A metadata value that must be a whole decimal integer ("-3", "17"; no spaces, signs
 * other than a leading '-', or anything after the digits) in lo..hi. The error names the
 * key and the value. */
clnet_status clnet__st_meta_int(const clnet__st_file *f, const char *key, int64_t lo, int64_t hi,
                                int64_t *value, char *err, size_t len);

/* Writes a printf-style message into err (len bytes; err may be NULL) and returns st: how
 * the readers here and their callers (model_check.c, checkpoint.c) report. */
clnet_status clnet__st_fail(char *err, size_t len, clnet_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* "[3,3,16,32]": shape[0..rank) into buf (len bytes); returns buf. */
const char *clnet__st_shape_text(const int64_t *shape, int rank, char *buf, size_t len);

/* Is text[0..n) well-formed UTF-8 (no overlong forms, surrogates or code points above
 * U+10FFFF)? Headers must be, for the reference implementation to read them. */
int clnet__utf8_valid(const char *text, size_t n);

#endif
