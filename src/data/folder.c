/* folder.c - an image folder: one sub-folder per class, sorted by name (strcmp); a
 * class's images are the files in its folder and every folder below it, in Keras's
 * order (list.c). Files named as images, or whose first bytes are an image's, are kept;
 * the others are counted as ignored. Hidden entries are left out.
 *
 * The dataset keeps only the paths and labels: each image is decoded when a batch needs
 * it (load.c, on the batcher's workers), so memory does not grow with the folder and
 * the first step comes without a pass over every file. A file that turns out not to
 * decode is skipped then, counted and reported once. Only the target size, when the
 * options leave it open, is taken from the first file that decodes.
 * Tests: tests/unit/test_folder.c, tests/unit/test_dataset.c (labels by name). */
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

/* Fixes the target size from opt, the sides it leaves 0 from the first file that decodes
 * (in the dataset's order; the files before it are recorded as skipped). CLNET_ERR_PARSE,
 * naming dir, when no file decodes. */
static clnet_status target_size(clnet_dataset *d, const char *dir, const clnet_dataset_options *opt,
                                char *err, size_t err_len)
{
    d->h = opt->h;
    d->w = opt->w;
    d->c = opt->c;
    for (int i = 0; i < d->size && (!d->h || !d->w || !d->c); ++i) {
        char why[1024] = "skipped ";
        const size_t at = strlen(why);
        clnet__image im;
        const clnet_status st =
            clnet__image_decode_file(d->paths[i], opt->max_pixels, &im, why + at, sizeof why - at);
        if (st == CLNET_ERR_OUT_OF_MEMORY)
            return clnet__data_fail(err, err_len, st, "%s", why + at);
        if (st != CLNET_OK) {
            clnet__skips_mark(d->skips, i, why);
            continue;
        }
        d->h = d->h ? d->h : im.h;
        d->w = d->w ? d->w : im.w;
        d->c = d->c ? d->c : im.c <= 2 ? 1 : 3;
        clnet__image_free(&im);
    }
    if (!d->h || !d->w || !d->c)
        return clnet__data_fail(err, err_len, CLNET_ERR_PARSE,
                                "%s: none of its %d image files decodes (" CLNET__IMAGE_FORMATS
                                "; %d files ignored)",
                                dir, d->size, d->ignored);
    return CLNET_OK;
}

/* Moves the listed files of class folder k into d (paths taken from f) with label
 * label; warns when the class has no image. */
static void take_class(clnet_dataset *d, const char *class_dir, clnet__files *f, int label,
                       int ignored_before, const clnet_dataset_options *opt)
{
    for (int j = 0; j < f->n; ++j) {
        d->paths[d->size] = f->items[j].path;
        f->items[j].path = NULL;
        d->labels[d->size++] = label;
    }
    if (f->n == 0)
        clnet__data_log(opt, 1,
                        "%s: empty class folder, no image (" CLNET__IMAGE_FORMATS
                        "; %d files ignored); class %d keeps its label",
                        class_dir, d->ignored - ignored_before, label);
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
    d->paths = calloc((size_t)(total ? total : 1), sizeof *d->paths);
    if (!d->labels || !d->paths) {
        st = clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of memory", dir);
        goto done;
    }
    for (int k = 0; k < classes.n; ++k) {
        class_dir = clnet__path_join(dir, classes.items[k]);
        if (!class_dir) {
            st = clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of memory", dir);
            goto done;
        }
        take_class(d, class_dir, &files[k], label[k], ignored_before[k], opt);
        free(class_dir);
        class_dir = NULL;
    }
    if (d->size == 0) {
        st = clnet__data_fail(err, err_len, CLNET_ERR_INVALID_ARG,
                              "%s: no image in any of its %d class folders (" CLNET__IMAGE_FORMATS
                              "; %d files ignored)",
                              dir, classes.n, d->ignored);
        goto done;
    }
    d->max_pixels = opt->max_pixels;
    if (clnet__skips_create(d, opt) != CLNET_OK) {
        st = clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of memory", dir);
        goto done;
    }
    if ((st = target_size(d, dir, opt, err, err_len)) != CLNET_OK)
        goto done;
    if (opt->cache_dir && (st = clnet__cache_open(d, dir, opt->cache_dir, opt, err, err_len)) !=
                              CLNET_OK)
        goto done;
    st = opt->n_classes > 0
             ? clnet__dataset_set_names(d, opt->classes, opt->n_classes)
             : clnet__dataset_set_names(d, (const char *const *)classes.items, classes.n);
    if (st != CLNET_OK)
        clnet__data_fail(err, err_len, st, "%s: out of memory", dir);
    else
        clnet__data_log(opt, 2,
                        "%s: %d images in %d classes, %d ignored (not images), %dx%dx%d, each "
                        "decoded when a batch needs it",
                        dir, d->size, d->classes, d->ignored, d->h, d->w, d->c);
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
