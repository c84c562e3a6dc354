/* data.h - the dataset object shared by the readers (idx.c, cifar.c, folder.c), the
 * dataset functions (dataset.c) and the batcher (batcher.c). Knows nothing about
 * devices: images stay 8-bit in host memory until the batcher makes float batches.
 * Tests: tests/unit/test_dataset.c. */
#ifndef CLNET_DATA_DATA_H
#define CLNET_DATA_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "clnet.h"
#include "tensor/rng.h"

/* A root dataset owns pixels, labels and names. A split borrows all three from its
 * root and owns only index: its image i is the root's image index[i]. */
struct clnet_dataset {
    int size;        /* images */
    int h, w, c;     /* every image, after conversion to the target size */
    int classes;     /* names[0..classes) */
    int skipped;     /* unreadable images left out when opening */
    uint8_t *pixels; /* root: size images of h*w*c bytes, HWC, row-major */
    int *labels;     /* root: size labels in 0..classes */
    char **names;
    int *index; /* split: size root indices; NULL in a root */
};

/* The pixels of image i (h*w*c bytes, HWC) and its label, through a split's index. */
static inline const uint8_t *clnet__dataset_image(const clnet_dataset *d, int i)
{
    const size_t at = (size_t)(d->index ? d->index[i] : i);
    return d->pixels + at * (size_t)d->h * (size_t)d->w * (size_t)d->c;
}

static inline int clnet__dataset_label_at(const clnet_dataset *d, int i)
{
    return d->labels[d->index ? d->index[i] : i];
}

/* The readers fill a zeroed root dataset: size, h, w, c, pixels, labels, names and
 * classes (skipped for folders). On failure they return the status with a message in
 * err naming the file, and leave what they allocated in d for the caller to free.
 * opt is never NULL here. idx and CIFAR read at their own size (dataset.c converts
 * afterwards); folders decode straight to the target size. */
clnet_status clnet__idx_open(clnet_dataset *d, const char *dir, const char *part,
                             const clnet_dataset_options *opt, char *err, size_t err_len);
clnet_status clnet__cifar_open(clnet_dataset *d, const char *dir, const char *part,
                               const clnet_dataset_options *opt, char *err, size_t err_len);
clnet_status clnet__folder_open(clnet_dataset *d, const char *dir, const clnet_dataset_options *opt,
                                char *err, size_t err_len);

/* Writes the message into err (err_len bytes, may be 0) and returns status. */
clnet_status clnet__data_fail(char *err, size_t err_len, clnet_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Copies n names into d->names and sets d->classes. */
clnet_status clnet__dataset_set_names(clnet_dataset *d, const char *const *names, int n);

/* One image from sh x sw x sc (sc 1..4: gray, gray+alpha, RGB, RGBA) to dh x dw x dc
 * (dc 1 or 3): alpha dropped, gray replicated to RGB, RGB to gray by luminance
 * 0.299 R + 0.587 G + 0.114 B (rounded), resized with stbir_resize_uint8. Returns
 * CLNET_ERR_OUT_OF_MEMORY when a temporary buffer or the resizer fails. */
clnet_status clnet__image_convert(const uint8_t *src, int sh, int sw, int sc, uint8_t *dst, int dh,
                                  int dw, int dc);

/* Decodes the image file at path with stb_image at its own channels (decode.c), after
 * checking what its header claims against the file: stb_image allocates for the sizes a
 * header claims before it reads the data, so a 94-byte PNG made it reserve 1 GiB. Refused:
 * a file over 256 MiB, a side above 16384, more than 2^26 pixels, more pixel bytes than
 * 2048 times the file's size plus 64 KiB (no format packs pixels that densely: deflate
 * peaks near 1032:1), a PNG chunk longer than what is left of the file. The pixels
 * (free with stbi_image_free), or NULL with the reason in why (len bytes). */
uint8_t *clnet__image_decode(const char *path, int *w, int *h, int *comp, char *why, size_t len);

/* "dir/name", malloc'd, or NULL when out of memory. */
char *clnet__path_join(const char *dir, const char *name);

/* Fisher-Yates shuffle of a[0..n) drawing from r. */
void clnet__shuffle(int *a, int n, clnet__rng *r);

#endif
