/* folder.c - an image folder: one sub-folder per class, sorted by name (strcmp); a
 * class's images are the files in its folder and every folder below it, in Keras's
 * order (list.c). Files named as images, or whose first bytes are an image's, are
 * decoded by content (decode.c) and converted by clnet__image_convert (dataset.c); the
 * others are counted as ignored. Hidden entries are left out.
 * Tests: tests/unit/test_folder.c, tests/unit/test_dataset.c (labels by name).
 *
 * Every image is decoded up front into 8-bit pixels at the target size. That is the
 * current design and it bounds the dataset by host memory: 100k images at 224x224x3
 * are 15 GB. Lazy decoding would plug in here: keep the sorted paths and labels in
 * the dataset instead of pixels, and have the batcher's worker decode each batch's
 * files where it now reads clnet__dataset_image. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "data/data.h"
#include "data/decode.h"

/* A growing array of owned strings. */
typedef struct names {
    char **items;
    int n, cap;
} names;

static void names_free(names *l)
{
    for (int i = 0; i < l->n; ++i)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = l->cap = 0;
}

static int names_push(names *l, const char *s)
{
    if (l->n == l->cap) {
        const int cap = l->cap ? 2 * l->cap : 16;
        char **items = realloc(l->items, (size_t)cap * sizeof *items);
        if (!items)
            return 0;
        l->items = items;
        l->cap = cap;
    }
    const size_t len = strlen(s) + 1;
    l->items[l->n] = malloc(len);
    if (!l->items[l->n])
        return 0;
    memcpy(l->items[l->n++], s, len);
    return 1;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names that say "image" (the formats decode.c reads, and their common spellings). Such
 * a file that does not decode is reported as skipped; another file is only taken when
 * its first bytes are an image's. */
static int has_image_name(const char *path)
{
    static const char *const exts[] = {"jpg",  "jpeg", "jpe", "jfif", "png", "webp",
                                       "heic", "heif", "hif", "avif", "bmp", "dib",
                                       "gif",  "tga",  "pgm", "ppm",  "pnm", "pbm"};
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash))
        return 0;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; ++i)
        if (strcasecmp(dot + 1, exts[i]) == 0)
            return 1;
    return 0;
}

/* The class folders being listed: sub-folders' names, and how many other entries. */
typedef struct top {
    names folders;
    int loose;
} top;

static clnet_status top_entry(void *user, const char *name, const char *path, const struct stat *sb)
{
    (void)path;
    top *t = user;
    if (!sb || !S_ISDIR(sb->st_mode))
        ++t->loose;
    else if (!names_push(&t->folders, name))
        return CLNET_ERR_OUT_OF_MEMORY;
    return CLNET_OK;
}

/* The non-hidden sub-folders of dir, sorted, into t; t->loose counts its other
 * non-hidden entries (files beside the class folders). */
static clnet_status class_folders(const char *dir, top *t, char *err, size_t err_len)
{
    const clnet_status st = clnet__dir_each(dir, top_entry, t, err, err_len);
    if (st == CLNET_ERR_OUT_OF_MEMORY)
        return clnet__data_fail(err, err_len, st, "%s: out of memory listing the folder", dir);
    if (st == CLNET_OK && t->folders.n > 1) /* qsort must not see the NULL of an empty list */
        qsort(t->folders.items, (size_t)t->folders.n, sizeof *t->folders.items, compare_names);
    return st;
}

/* Keeps the files of f that may be images, in order; counts and logs the others. */
static void keep_images(clnet__files *f, clnet_dataset *d, const clnet_dataset_options *opt)
{
    int kept = 0;
    d->ignored += f->others;
    for (int i = 0; i < f->n; ++i) {
        char *path = f->items[i].path;
        if (has_image_name(path) || clnet__image_sniff_file(path, 0) != CLNET__FORMAT_NONE) {
            f->items[kept++] = f->items[i];
        } else {
            ++d->ignored;
            clnet__data_log(opt, 3, "ignored %s: not an image (" CLNET__IMAGE_FORMATS ")", path);
            free(path);
        }
    }
    f->n = kept;
}

/* Decodes one file into image slot d->size at the target size (fixed by the first
 * image that decodes when opt leaves it 0), out of total slots. *decoded is 0, with the
 * reason in why, when the file is no usable image; the status is an error only when
 * the whole reading must stop (out of memory). */
static clnet_status decode(clnet_dataset *d, const char *path, int label, int total,
                           const clnet_dataset_options *opt, int *decoded, char *why,
                           size_t why_len)
{
    clnet__image im;
    *decoded = 0;
    clnet_status st = clnet__image_decode_file(path, opt->max_pixels, &im, why, why_len);
    if (st != CLNET_OK)
        return st == CLNET_ERR_OUT_OF_MEMORY ? st : CLNET_OK;
    if (!d->pixels) {
        d->h = opt->h ? opt->h : im.h;
        d->w = opt->w ? opt->w : im.w;
        d->c = opt->c ? opt->c : im.c <= 2 ? 1 : 3;
        d->pixels = malloc((size_t)total * d->h * d->w * d->c);
        if (!d->pixels)
            st = CLNET_ERR_OUT_OF_MEMORY;
    }
    if (st == CLNET_OK) {
        const size_t bytes = (size_t)d->h * d->w * d->c;
        st = clnet__image_convert(im.pixels, im.h, im.w, im.c, d->pixels + bytes * (size_t)d->size,
                                  d->h, d->w, d->c);
    }
    if (st == CLNET_OK) {
        d->labels[d->size++] = label;
        *decoded = 1;
    } else if (st != CLNET_ERR_OUT_OF_MEMORY) {
        clnet__data_fail(why, why_len, st, "%s: cannot convert %dx%dx%d to %dx%dx%d", path, im.h,
                         im.w, im.c, d->h, d->w, d->c);
        st = CLNET_OK;
    }
    clnet__image_free(&im);
    return st;
}

/* Decodes the listed files of class folder k into d with label label; warns when the
 * class ends up with no image. */
static clnet_status read_class(clnet_dataset *d, const char *class_dir, const clnet__files *f,
                               int label, int total, int ignored_before,
                               const clnet_dataset_options *opt)
{
    const int before = d->size, skipped = d->skipped;
    for (int j = 0; j < f->n; ++j) {
        char why[1024] = "";
        int decoded = 0;
        const clnet_status st =
            decode(d, f->items[j].path, label, total, opt, &decoded, why, sizeof why);
        if (st != CLNET_OK)
            return st;
        if (!decoded) {
            ++d->skipped;
            clnet__data_log(opt, 1, "skipped %s", why);
        }
    }
    if (d->size == before)
        clnet__data_log(opt, 1,
                        "%s: empty class folder, no image (" CLNET__IMAGE_FORMATS
                        "; %d files ignored, %d skipped); class %d keeps its label",
                        class_dir, d->ignored - ignored_before, d->skipped - skipped, label);
    return CLNET_OK;
}

clnet_status clnet__folder_open(clnet_dataset *d, const char *dir, const clnet_dataset_options *opt,
                                char *err, size_t err_len)
{
    top t = {{NULL, 0, 0}, 0};
    names classes = {NULL, 0, 0};
    clnet__files *files = NULL;
    int *label = NULL, *ignored_before = NULL;
    char *class_dir = NULL;
    int total = 0;
    clnet_status st = class_folders(dir, &t, err, err_len);
    classes = t.folders;
    if (st != CLNET_OK)
        goto done;
    if (classes.n == 0) {
        st = clnet__data_fail(err, err_len, CLNET_ERR_INVALID_ARG,
                              "%s: no class folders (expected one sub-folder of images per "
                              "class; found %d other entries)",
                              dir, t.loose);
        goto done;
    }
    d->ignored = t.loose;
    files = calloc((size_t)classes.n, sizeof *files);
    label = malloc((size_t)classes.n * sizeof *label);
    ignored_before = malloc((size_t)classes.n * sizeof *ignored_before);
    if (!files || !label || !ignored_before) {
        st = clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of memory", dir);
        goto done;
    }
    st = clnet__class_map(opt, (const char *const *)classes.items, classes.n, label, dir,
                          "class folder", err, err_len);
    for (int k = 0; st == CLNET_OK && k < classes.n; ++k) {
        class_dir = clnet__path_join(dir, classes.items[k]);
        st = class_dir ? clnet__files_list(class_dir, &files[k], err, err_len)
                       : clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY,
                                          "%s: out of memory", dir);
        free(class_dir);
        class_dir = NULL;
        if (st != CLNET_OK)
            break;
        ignored_before[k] = d->ignored;
        keep_images(&files[k], d, opt);
        if (files[k].n > 0x7fffffff - total)
            st = clnet__data_fail(err, err_len, CLNET_ERR_TOO_LARGE, "%s: too many images", dir);
        else
            total += files[k].n;
    }
    if (st != CLNET_OK)
        goto done;
    d->labels = malloc((size_t)(total ? total : 1) * sizeof *d->labels);
    if (!d->labels) {
        st = clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of memory", dir);
        goto done;
    }
    for (int k = 0; k < classes.n; ++k) {
        class_dir = clnet__path_join(dir, classes.items[k]);
        st = class_dir
                 ? read_class(d, class_dir, &files[k], label[k], total, ignored_before[k], opt)
                 : CLNET_ERR_OUT_OF_MEMORY;
        free(class_dir);
        class_dir = NULL;
        if (st != CLNET_OK) {
            st = clnet__data_fail(err, err_len, st, "%s: out of memory decoding %d images", dir,
                                  total);
            goto done;
        }
    }
    if (d->size == 0) {
        st = clnet__data_fail(err, err_len, CLNET_ERR_INVALID_ARG,
                              "%s: no image in any of its %d class folders (" CLNET__IMAGE_FORMATS
                              "; %d files ignored, %d skipped)",
                              dir, classes.n, d->ignored, d->skipped);
        goto done;
    }
    if (d->size < total) { /* give back the slots of skipped images */
        uint8_t *fewer = realloc(d->pixels, (size_t)d->size * d->h * d->w * d->c);
        d->pixels = fewer ? fewer : d->pixels;
    }
    st = opt->n_classes > 0
             ? clnet__dataset_set_names(d, opt->classes, opt->n_classes)
             : clnet__dataset_set_names(d, (const char *const *)classes.items, classes.n);
    if (st != CLNET_OK)
        clnet__data_fail(err, err_len, st, "%s: out of memory", dir);
    else
        clnet__data_log(opt, 2,
                        "%s: %d images in %d classes, %d skipped, %d ignored (not images), "
                        "%dx%dx%d",
                        dir, d->size, d->classes, d->skipped, d->ignored, d->h, d->w, d->c);
done:
    for (int k = 0; files && k < classes.n; ++k)
        clnet__files_free(&files[k]);
    free(files);
    free(label);
    free(ignored_before);
    names_free(&classes);
    free(class_dir);
    return st;
}
