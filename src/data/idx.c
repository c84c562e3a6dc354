/* idx.c - MNIST and Fashion-MNIST in idx format: {train,t10k}-images-idx3-ubyte and
 * {train,t10k}-labels-idx1-ubyte, raw or gzipped (.gz). Layout: a big-endian magic
 * (0x00000803 images, 0x00000801 labels), big-endian dimensions, then unsigned bytes.
 * Tests: tests/unit/test_dataset.c. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "data/data.h"

#define IMAGES_MAGIC 0x00000803u
#define LABELS_MAGIC 0x00000801u
#define MAX_SIDE 4096

static const char *const digit_names[10] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
static const char *const fashion_names[10] = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                              "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                              "Bag",         "Ankle boot"};

typedef struct idx_file {
    gzFile f;
    char *path; /* malloc'd */
} idx_file;

/* DIR/NAME, else DIR/NAME.gz. gzopen reads a file that is not gzip as it is, so one
 * reader serves both. */
static clnet_status open_file(idx_file *x, const char *dir, const char *name, char *err,
                              size_t err_len)
{
    char gz[64];
    snprintf(gz, sizeof gz, "%s.gz", name);
    for (int i = 0; i < 2 && !x->f; ++i) {
        free(x->path);
        x->path = clnet__path_join(dir, i ? gz : name);
        if (!x->path)
            return clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of memory",
                                    dir);
        x->f = gzopen(x->path, "rb");
    }
    return x->f ? CLNET_OK
                : clnet__data_fail(err, err_len, CLNET_ERR_IO,
                                   "%s/%s[.gz]: not found or unreadable", dir, name);
}

/* Reads up to want bytes; *got says how many came. A read error other than the end of
 * a cut-off gzip stream is reported naming the file. */
static clnet_status read_bytes(idx_file *x, uint8_t *buf, size_t want, size_t *got, char *err,
                               size_t err_len)
{
    *got = 0;
    while (*got < want) {
        const size_t chunk = want - *got < (1u << 30) ? want - *got : (1u << 30);
        const int r = gzread(x->f, buf + *got, (unsigned)chunk);
        if (r == 0)
            return CLNET_OK;
        if (r < 0) {
            int code = 0;
            const char *msg = gzerror(x->f, &code);
            if (code == Z_BUF_ERROR) /* "unexpected end of file": treated as truncation */
                return CLNET_OK;
            return clnet__data_fail(err, err_len, CLNET_ERR_IO, "%s: %s", x->path, msg);
        }
        *got += (size_t)r;
    }
    return CLNET_OK;
}

/* The next big-endian 32-bit number; what names it in the message. */
static clnet_status read_be32(idx_file *x, const char *what, uint32_t *v, char *err, size_t err_len)
{
    uint8_t b[4];
    size_t got = 0;
    const clnet_status st = read_bytes(x, b, 4, &got, err, err_len);
    if (st != CLNET_OK)
        return st;
    if (got < 4)
        return clnet__data_fail(err, err_len, CLNET_ERR_PARSE, "%s: truncated header (no %s)",
                                x->path, what);
    *v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    return CLNET_OK;
}

/* The magic, checked first (a labels file given for images says so), then n
 * dimensions. */
static clnet_status read_header(idx_file *x, uint32_t magic, uint32_t *dims, int n, char *err,
                                size_t err_len)
{
    uint32_t v = 0;
    clnet_status st = read_be32(x, "magic number", &v, err, err_len);
    if (st == CLNET_OK && v != magic)
        return clnet__data_fail(err, err_len, CLNET_ERR_PARSE,
                                "%s: bad magic number 0x%08x (expected 0x%08x)", x->path,
                                (unsigned)v, (unsigned)magic);
    for (int i = 0; st == CLNET_OK && i < n; ++i)
        st = read_be32(x, "dimensions", &dims[i], err, err_len);
    return st;
}

/* count records of rec bytes into a buffer grown as data arrives, so a header that
 * claims billions of images fails as truncated rather than as a huge allocation. */
static clnet_status read_records(idx_file *x, size_t rec, size_t count, const char *what,
                                 uint8_t **out, char *err, size_t err_len)
{
    const size_t total = rec * count;
    size_t have = 0, cap = 0;
    for (;;) {
        if (have == cap) {
            size_t next = cap ? 2 * cap : 1u << 20;
            next = next < total ? next : total;
            uint8_t *p = realloc(*out, next);
            if (!p)
                return clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY,
                                        "%s: out of memory for %zu %s", x->path, count, what);
            *out = p;
            cap = next;
        }
        size_t got = 0;
        const clnet_status st = read_bytes(x, *out + have, cap - have, &got, err, err_len);
        if (st != CLNET_OK)
            return st;
        have += got;
        if (have == total)
            return CLNET_OK;
        if (have < cap)
            return clnet__data_fail(err, err_len, CLNET_ERR_PARSE, "%s: truncated: %zu of %zu %s",
                                    x->path, have / rec, count, what);
    }
}

/* The last component of dir names Fashion-MNIST when it contains "fashion". */
static int is_fashion(const char *dir)
{
    size_t end = strlen(dir);
    while (end > 1 && dir[end - 1] == '/')
        --end;
    size_t start = end;
    while (start > 0 && dir[start - 1] != '/')
        --start;
    static const char word[] = "fashion";
    for (size_t i = start; i + sizeof word - 1 <= end; ++i) {
        size_t k = 0;
        while (k < sizeof word - 1 && tolower((unsigned char)dir[i + k]) == word[k])
            ++k;
        if (k == sizeof word - 1)
            return 1;
    }
    return 0;
}

clnet_status clnet__idx_open(clnet_dataset *d, const char *dir, const char *part,
                             const clnet_dataset_options *opt, char *err, size_t err_len)
{
    (void)opt; /* read at the file's size; dataset.c converts */
    const char *prefix = strcmp(part, "test") == 0 ? "t10k" : "train";
    char name[64];
    idx_file img = {NULL, NULL}, lab = {NULL, NULL};
    uint8_t *labels = NULL;
    uint32_t idims[3], ldims[1];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", prefix);
    clnet_status st = open_file(&img, dir, name, err, err_len);
    if (st == CLNET_OK)
        st = read_header(&img, IMAGES_MAGIC, idims, 3, err, err_len);
    if (st != CLNET_OK)
        goto done;
    if (idims[0] == 0 || idims[0] > 0x7fffffffu || idims[1] == 0 || idims[1] > MAX_SIDE ||
        idims[2] == 0 || idims[2] > MAX_SIDE) {
        st =
            clnet__data_fail(err, err_len, CLNET_ERR_PARSE, "%s: bad dimensions %u images of %ux%u",
                             img.path, (unsigned)idims[0], (unsigned)idims[1], (unsigned)idims[2]);
        goto done;
    }
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", prefix);
    st = open_file(&lab, dir, name, err, err_len);
    if (st == CLNET_OK)
        st = read_header(&lab, LABELS_MAGIC, ldims, 1, err, err_len);
    if (st != CLNET_OK)
        goto done;
    if (ldims[0] != idims[0]) {
        st = clnet__data_fail(err, err_len, CLNET_ERR_PARSE, "%s: %u labels for %u images in %s",
                              lab.path, (unsigned)ldims[0], (unsigned)idims[0], img.path);
        goto done;
    }
    d->size = (int)idims[0];
    d->h = (int)idims[1];
    d->w = (int)idims[2];
    d->c = 1;
    st = read_records(&img, (size_t)d->h * (size_t)d->w, (size_t)d->size, "images", &d->pixels, err,
                      err_len);
    if (st == CLNET_OK)
        st = read_records(&lab, 1, (size_t)d->size, "labels", &labels, err, err_len);
    if (st != CLNET_OK)
        goto done;
    d->labels = malloc((size_t)d->size * sizeof *d->labels);
    if (!d->labels) {
        st = clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of memory", lab.path);
        goto done;
    }
    for (int i = 0; i < d->size; ++i) {
        if (labels[i] > 9) {
            st = clnet__data_fail(err, err_len, CLNET_ERR_PARSE,
                                  "%s: label %u of item %d is not in 0..9", lab.path,
                                  (unsigned)labels[i], i);
            goto done;
        }
        d->labels[i] = labels[i];
    }
    st = clnet__dataset_set_names(d, is_fashion(dir) ? fashion_names : digit_names, 10);
    if (st != CLNET_OK)
        clnet__data_fail(err, err_len, st, "%s: out of memory", dir);
done:
    free(labels);
    if (img.f)
        gzclose(img.f);
    if (lab.f)
        gzclose(lab.f);
    free(img.path);
    free(lab.path);
    return st;
}
