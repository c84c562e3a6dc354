/* cifar.c - CIFAR-10 binary batches: data_batch_1..5.bin (train), test_batch.bin
 * (test). Each record is 3073 bytes: the label, then 1024 red, 1024 green and 1024 blue
 * bytes of a 32x32 image (row-major planes), turned here into HWC. Class names come
 * from batches.meta.txt when present. Tests: tests/unit/test_dataset.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"

#define SIDE 32
#define PLANE (SIDE * SIDE)
#define RECORD (1 + 3 * PLANE)
#define MAX_CLASSES 256 /* a label is one byte */

static const char *const standard_names[10] = {"airplane", "automobile", "bird",  "cat",  "deer",
                                               "dog",      "frog",       "horse", "ship", "truck"};

/* The whole of path into *out (malloc'd), *len bytes. */
static clnet_status read_file(const char *path, uint8_t **out, size_t *len, char *err,
                              size_t err_len)
{
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return clnet__data_fail(err, err_len, CLNET_ERR_IO, "%s: not found or unreadable", path);
    clnet_status st = CLNET_OK;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        st = clnet__data_fail(err, err_len, CLNET_ERR_IO, "%s: cannot read its size", path);
        goto done;
    }
    *out = malloc(size ? (size_t)size : 1);
    if (!*out) {
        st = clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
        goto done;
    }
    *len = fread(*out, 1, (size_t)size, f);
    if (*len != (size_t)size)
        st = clnet__data_fail(err, err_len, CLNET_ERR_IO, "%s: read %zu of %ld bytes", path, *len,
                              size);
done:
    fclose(f);
    return st;
}

/* Class names, one a line, from DIR/batches.meta.txt; the standard ten when absent. */
static clnet_status read_names(clnet_dataset *d, const char *dir, char *err, size_t err_len)
{
    char *path = clnet__path_join(dir, "batches.meta.txt");
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) {
        free(path);
        const clnet_status st = clnet__dataset_set_names(d, standard_names, 10);
        return st == CLNET_OK ? st : clnet__data_fail(err, err_len, st, "%s: out of memory", dir);
    }
    char *names[MAX_CLASSES];
    char line[256];
    int n = 0;
    clnet_status st = CLNET_OK;
    while (fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ' ||
                           line[len - 1] == '\t'))
            line[--len] = '\0';
        if (len == 0)
            continue; /* the file ends with blank lines */
        if (n == MAX_CLASSES) {
            st = clnet__data_fail(err, err_len, CLNET_ERR_PARSE, "%s: more than %d class names",
                                  path, MAX_CLASSES);
            break;
        }
        names[n] = malloc(len + 1);
        if (!names[n]) {
            st = clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
            break;
        }
        memcpy(names[n++], line, len + 1);
    }
    fclose(f);
    if (st == CLNET_OK && n == 0)
        st = clnet__data_fail(err, err_len, CLNET_ERR_PARSE, "%s: no class names", path);
    if (st == CLNET_OK) {
        st = clnet__dataset_set_names(d, (const char *const *)names, n);
        if (st != CLNET_OK)
            clnet__data_fail(err, err_len, st, "%s: out of memory", path);
    }
    for (int k = 0; k < n; ++k)
        free(names[k]);
    free(path);
    return st;
}

/* Appends the records of one batch file to d, checking size and labels. */
static clnet_status read_batch(clnet_dataset *d, const char *path, char *err, size_t err_len)
{
    uint8_t *data = NULL;
    size_t len = 0;
    clnet_status st = read_file(path, &data, &len, err, err_len);
    if (st != CLNET_OK)
        goto done;
    if (len == 0 || len % RECORD != 0) {
        st = clnet__data_fail(err, err_len, CLNET_ERR_PARSE,
                              "%s: %zu bytes is not a whole number of %d-byte records%s", path, len,
                              RECORD, len % RECORD ? " (truncated?)" : "");
        goto done;
    }
    if (len / RECORD > (size_t)(0x7fffffff - d->size)) {
        st = clnet__data_fail(err, err_len, CLNET_ERR_TOO_LARGE,
                              "%s: %zu records: more than 2^31 - 1 images in all", path,
                              len / RECORD);
        goto done;
    }
    const int n = (int)(len / RECORD), size = d->size + n;
    uint8_t *pixels = realloc(d->pixels, (size_t)size * 3 * PLANE);
    if (pixels)
        d->pixels = pixels;
    int *labels = realloc(d->labels, (size_t)size * sizeof *labels);
    if (labels)
        d->labels = labels;
    if (!pixels || !labels) {
        st = clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
        goto done;
    }
    for (int i = 0; i < n; ++i) {
        const uint8_t *rec = data + (size_t)i * RECORD;
        if (rec[0] >= d->classes) {
            st = clnet__data_fail(err, err_len, CLNET_ERR_PARSE,
                                  "%s: label %u of record %d is not below %d classes", path,
                                  (unsigned)rec[0], i, d->classes);
            goto done;
        }
        uint8_t *out = d->pixels + (size_t)(d->size + i) * 3 * PLANE;
        for (int p = 0; p < PLANE; ++p)
            for (int ch = 0; ch < 3; ++ch)
                out[3 * p + ch] = rec[1 + ch * PLANE + p];
        labels[d->size + i] = rec[0];
    }
    d->size = size;
done:
    free(data);
    return st;
}

clnet_status clnet__cifar_open(clnet_dataset *d, const char *dir, const char *part,
                               const clnet_dataset_options *opt, char *err, size_t err_len)
{
    (void)opt; /* read at 32x32x3; dataset.c converts */
    d->h = d->w = SIDE;
    d->c = 3;
    clnet_status st = read_names(d, dir, err, err_len);
    const int test = strcmp(part, "test") == 0;
    for (int b = 1; st == CLNET_OK && b <= (test ? 1 : 5); ++b) {
        char name[32];
        if (test)
            snprintf(name, sizeof name, "test_batch.bin");
        else
            snprintf(name, sizeof name, "data_batch_%d.bin", b);
        char *path = clnet__path_join(dir, name);
        st = path ? read_batch(d, path, err, err_len)
                  : clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of memory",
                                     dir);
        free(path);
    }
    return st;
}
