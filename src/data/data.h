/* data.h - the dataset object shared by the readers (idx.c, cifar.c, folder.c), the
 * dataset functions (dataset.c) and the batcher (batcher.c). Knows nothing about
 * devices: images stay 8-bit in host memory until the batcher makes float batches.
 * Tests: tests/unit/test_dataset.c. */
#ifndef CLNET_DATA_DATA_H
#define CLNET_DATA_DATA_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "clnet.h"
#include "tensor/rng.h"

/* A region of an image, in pixels. */
typedef struct clnet__region {
    int x, y, w, h;
} clnet__region;

/* Picks from an image's upright size (h x w) the region to keep and the size it will be
 * resized to (a random crop's draw, decode.h's clnet__shrink). */
typedef void (*clnet__pick_fn)(void *user, int h, int w, clnet__region *region, int *out_h,
                               int *out_w);

/* The images of a lazy root found unreadable so far, shared with its splits: the
 * batchers' workers decode at the same time, so everything here is under lock. */
typedef struct clnet__skips {
    pthread_mutex_t lock;
    uint8_t *bad; /* per root image: 1 once it failed to decode (reported then, once) */
    int count;
    clnet_log_fn log; /* the opening options' log, kept for the files found later */
    void *log_user;
} clnet__skips;

/* The decoded cache of a lazy root (cache.c), shared by its splits. */
typedef struct clnet__cache clnet__cache;

/* A root dataset owns its images (pixels, or for an image folder the files' paths, read
 * lazily), labels and names. A split borrows them from its root and owns only index: its
 * image i is the root's image index[i]. */
struct clnet_dataset {
    int size;        /* images (in a folder: the files that may be images) */
    int h, w, c;     /* every image, after conversion to the target size */
    int classes;     /* names[0..classes) */
    int skipped;     /* in-memory sources: unreadable images left out when opening */
    int ignored;     /* files of an image folder that are no image */
    uint8_t *pixels; /* in-memory root: size images of h*w*c bytes, HWC, row-major */
    char **paths;    /* lazy root (an image folder): size files, decoded when a batch needs them */
    uint64_t max_pixels;  /* lazy: the opening options' limit (0: the default) */
    clnet__skips *skips;  /* lazy: the root's, shared by its splits */
    clnet__cache *cache;  /* lazy, with opt->cache_dir: the root's, shared; NULL: none */
    int *labels;          /* root: size labels in 0..classes */
    char **names;
    int *index; /* split: size root indices; NULL in a root */
    float center_crop; /* the opening options' (in-memory roots: applied when opened) */
};

static inline int clnet__dataset_root_index(const clnet_dataset *d, int i)
{
    return d->index ? d->index[i] : i;
}

/* The pixels of image i (h*w*c bytes, HWC) of an in-memory dataset (pixels not NULL),
 * through a split's index. */
static inline const uint8_t *clnet__dataset_image(const clnet_dataset *d, int i)
{
    const size_t at = (size_t)clnet__dataset_root_index(d, i);
    return d->pixels + at * (size_t)d->h * (size_t)d->w * (size_t)d->c;
}

/* Image i at the target size, h*w*c bytes: a pointer into an in-memory dataset, or, for
 * a lazy one, decoded from its file into scratch (h*w*c bytes; JPEGs at the smallest
 * DCT scale that still covers the target, then resized). NULL when the file is no usable
 * image: the first time, it is counted in the root's skips and its path and reason go
 * to the log (level 1); afterwards it is not read again. Safe to call from several
 * threads at once. */
const uint8_t *clnet__dataset_load(const clnet_dataset *d, int i, uint8_t *scratch);

/* clnet__dataset_load of the region pick chooses from the image's own size (the file's
 * full resolution for a lazy dataset, decoded no smaller than the region needs), resized
 * to the target size. */
const uint8_t *clnet__dataset_load_crop(const clnet_dataset *d, int i, clnet__pick_fn pick,
                                        void *user, uint8_t *scratch);

/* Images found unreadable: at opening (in-memory sources) and, in a lazy dataset, by
 * clnet__dataset_load so far. */
int clnet__dataset_skipped(const clnet_dataset *d);

static inline int clnet__dataset_label_at(const clnet_dataset *d, int i)
{
    return d->labels[d->index ? d->index[i] : i];
}

/* The readers fill a zeroed root dataset: size, h, w, c, pixels, labels, names and
 * classes (skipped and ignored for folders). On failure they return the status with a
 * message in err naming the file, and leave what they allocated in d for the caller to
 * free. opt is never NULL here. idx and CIFAR read at their own size and name their own
 * classes (dataset.c converts and relabels by opt->classes afterwards); folders decode
 * straight to the target size and label by opt->classes themselves. */
clnet_status clnet__idx_open(clnet_dataset *d, const char *dir, const char *part,
                             const clnet_dataset_options *opt, char *err, size_t err_len);
clnet_status clnet__cifar_open(clnet_dataset *d, const char *dir, const char *part,
                               const clnet_dataset_options *opt, char *err, size_t err_len);
clnet_status clnet__folder_open(clnet_dataset *d, const char *dir, const clnet_dataset_options *opt,
                                char *err, size_t err_len);

/* Opens (or makes) the decoded cache of the lazy root d read from dir in cache_dir, into
 * d->cache; a cache another process holds is logged and left out (d->cache stays NULL).
 * CLNET_ERR_IO naming the file when it cannot be made or mapped. */
clnet_status clnet__cache_open(clnet_dataset *d, const char *dir, const char *cache_dir,
                               const clnet_dataset_options *opt, char *err, size_t err_len);
void clnet__cache_close(clnet__cache *c);

/* What the cache holds for root image i (its file path): HIT, *pixels its target-size
 * image; UNREADABLE, it failed to decode; MAKE, this caller now makes it into *pixels
 * and must call clnet__cache_publish with stamp; BUSY, another thread makes it (decode
 * without the cache). A record whose file changed (size, modification time) is made
 * again. */
enum { CLNET__CACHE_HIT, CLNET__CACHE_UNREADABLE, CLNET__CACHE_MAKE, CLNET__CACHE_BUSY };
int clnet__cache_claim(clnet__cache *c, int i, const char *path, const uint8_t **pixels,
                       int64_t stamp[2]);
/* made: 1 the image is in place, 0 the file is unreadable, -1 it could not be made now
 * (out of memory: tried again later). */
void clnet__cache_publish(clnet__cache *c, int i, const int64_t stamp[2], int made);

/* The skips of a lazy root of size images, taking opt's log (load.c). */
clnet_status clnet__skips_create(clnet_dataset *d, const clnet_dataset_options *opt);
void clnet__skips_destroy(clnet__skips *s);
/* Records root image as unreadable; the first call for it counts it and logs why (a
 * whole line, level 1). */
void clnet__skips_mark(clnet__skips *s, int root, const char *why);

/* Writes the message into err (err_len bytes, may be 0) and returns status. */
clnet_status clnet__data_fail(char *err, size_t err_len, clnet_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Copies n names into d->names and sets d->classes. */
clnet_status clnet__dataset_set_names(clnet_dataset *d, const char *const *names, int n);

/* map[k] = the label of the source's class names[k] (k < n): its index in opt->classes
 * when opt gives a class list, else k. A name not in the list is CLNET_ERR_INVALID_ARG:
 * "<where>: <kind> '<name>' is not one of the N classes given (a, b, ...)". */
clnet_status clnet__class_map(const clnet_dataset_options *opt, const char *const *names, int n,
                              int *map, const char *where, const char *kind, char *err,
                              size_t err_len);

/* Sends one formatted line to opt->log, when there is one. */
void clnet__data_log(const clnet_dataset_options *opt, int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* One image from sh x sw x sc (sc 1..4: gray, gray+alpha, RGB, RGBA) to dh x dw x dc
 * (dc 1 or 3): alpha dropped, gray replicated to RGB, RGB to gray by luminance
 * 0.299 R + 0.587 G + 0.114 B (rounded), resized with stbir_resize_uint8. Returns
 * CLNET_ERR_INVALID_ARG for a side below 1 or other channel counts (never reaching the
 * resizer, which would abort), CLNET_ERR_OUT_OF_MEMORY when a temporary buffer or the
 * resizer fails. */
clnet_status clnet__image_convert(const uint8_t *src, int sh, int sw, int sc, uint8_t *dst, int dh,
                                  int dw, int dc);
/* The same for the rw x rh region at (x, y) of the source (inside it, sides >= 1). */
clnet_status clnet__image_convert_region(const uint8_t *src, int sh, int sw, int sc, int x, int y,
                                         int rw, int rh, uint8_t *dst, int dh, int dw, int dc);

/* The centred region of an sh x sw image that becomes a th x tw target under
 * center_crop f in (0, 1] (clnet_dataset_options): the target's aspect ratio, sides f
 * times the largest such region's, at least 1 pixel. */
clnet__region clnet__center_region(int sh, int sw, int th, int tw, float f);

/* The file at path decoded into dst (th x tw x tc bytes) as an image folder makes it:
 * pick's region of its full resolution when pick is given, else the centre_crop region
 * (0: the whole image), decoded no smaller than that region needs (a JPEG's DCT scale).
 * Errors as clnet__image_decode_file's, the message in why (why_len bytes). */
clnet_status clnet__image_load_target(const char *path, uint64_t max_pixels, float center_crop,
                                      clnet__pick_fn pick, void *user, uint8_t *dst, int th,
                                      int tw, int tc, char *why, size_t why_len);

/* The files below a folder (list.c): path "dir/sub/name" (malloc'd) and the length of
 * its folder part "dir/sub". */
typedef struct clnet__file {
    char *path;
    size_t dir_len;
} clnet__file;

typedef struct clnet__files {
    clnet__file *items;
    int n, cap;
    int others; /* entries that are neither files nor folders (broken links, pipes) */
} clnet__files;

/* Called by clnet__dir_each for each non-hidden entry: its name, "dir/name" (valid
 * during the call) and its stat with links followed (NULL when that fails). Returns
 * CLNET_OK to go on; an error stops the listing and is returned. */
typedef clnet_status (*clnet__entry_fn)(void *user, const char *name, const char *path,
                                        const struct stat *sb);
/* Calls fn for the entries of dir, in the order the file system gives them; CLNET_ERR_IO
 * naming dir when it cannot be opened. */
clnet_status clnet__dir_each(const char *dir, clnet__entry_fn fn, void *user, char *err,
                             size_t err_len);

/* Every regular file in dir and the folders below it (links followed, each folder once,
 * hidden entries left out), sorted by folder then name as Keras does. CLNET_ERR_IO
 * naming the folder that cannot be opened. */
clnet_status clnet__files_list(const char *dir, clnet__files *out, char *err, size_t err_len);
void clnet__files_free(clnet__files *f);

/* "dir/name", malloc'd, or NULL when out of memory. */
char *clnet__path_join(const char *dir, const char *name);

/* Fisher-Yates shuffle of a[0..n) drawing from r. */
void clnet__shuffle(int *a, int n, clnet__rng *r);

#endif
