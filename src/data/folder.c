/* folder.c - an image folder: one sub-folder per class, sorted by name (strcmp), image
 * files inside sorted the same way; hidden entries and other extensions are ignored.
 * Decoded by clnet__image_decode (decode.c: headers checked against the file first),
 * converted and resized by clnet__image_convert (dataset.c).
 * Tests: tests/unit/test_dataset.c.
 *
 * Every image is decoded up front into 8-bit pixels at the target size. That is the
 * current design and it bounds the dataset by host memory: 100k images at 224x224x3
 * are 15 GB. Lazy decoding would plug in here: keep the sorted paths and labels in
 * the dataset instead of pixels, and have the batcher's worker decode each batch's
 * files where it now reads clnet__dataset_image. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <stb/stb_image.h>

#include "data/data.h"

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

/* The extensions stb_image decodes that image folders use (PNM: netpbm gray and RGB). */
static int is_image_name(const char *name)
{
    static const char *const exts[] = {"jpg", "jpeg", "png", "bmp", "gif",
                                       "tga", "pgm",  "ppm", "pnm"};
    const char *dot = strrchr(name, '.');
    if (!dot)
        return 0;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; ++i)
        if (strcasecmp(dot + 1, exts[i]) == 0)
            return 1;
    return 0;
}

/* The non-hidden sub-folders (dirs) or image files (!dirs) of dir, sorted; *others
 * counts the non-hidden entries of the other kind. */
static clnet_status list_dir(const char *dir, int dirs, names *out, int *others, char *err,
                             size_t err_len)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return clnet__data_fail(err, err_len, CLNET_ERR_IO, "%s: cannot open the folder: %s", dir,
                                strerror(errno));
    clnet_status st = CLNET_OK;
    *others = 0;
    for (struct dirent *e; st == CLNET_OK && (e = readdir(dp));) {
        if (e->d_name[0] == '.')
            continue;
        char *path = clnet__path_join(dir, e->d_name);
        struct stat sb;
        if (!path) {
            st = CLNET_ERR_OUT_OF_MEMORY;
        } else if (stat(path, &sb) == 0 &&
                   (dirs ? S_ISDIR(sb.st_mode) : S_ISREG(sb.st_mode) && is_image_name(e->d_name))) {
            if (!names_push(out, e->d_name))
                st = CLNET_ERR_OUT_OF_MEMORY;
        } else {
            ++*others;
        }
        free(path);
    }
    closedir(dp);
    if (st != CLNET_OK)
        return clnet__data_fail(err, err_len, st, "%s: out of memory listing the folder", dir);
    if (out->n > 1) /* qsort must not see the NULL of an empty list */
        qsort(out->items, (size_t)out->n, sizeof *out->items, compare_names);
    return CLNET_OK;
}

static void log_line(const clnet_dataset_options *opt, int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void log_line(const clnet_dataset_options *opt, int level, const char *fmt, ...)
{
    if (!opt->log)
        return;
    char msg[4352];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    opt->log(opt->log_user, level, msg);
}

/* Decodes one file into image slot d->size at the target size (fixed by the first
 * image that decodes when opt leaves it 0), out of total slots. *decoded is 0 when
 * clnet__image_decode refuses the file; why (len bytes) says why. */
static clnet_status decode(clnet_dataset *d, const char *path, int label, int total,
                           const clnet_dataset_options *opt, int *decoded, char *why, size_t len)
{
    int w = 0, h = 0, comp = 0;
    uint8_t *img = clnet__image_decode(path, &w, &h, &comp, why, len);
    *decoded = img != NULL;
    if (!img)
        return CLNET_OK;
    clnet_status st = CLNET_OK;
    if (!d->pixels) {
        d->h = opt->h ? opt->h : h;
        d->w = opt->w ? opt->w : w;
        d->c = opt->c ? opt->c : comp <= 2 ? 1 : 3;
        d->pixels = malloc((size_t)total * d->h * d->w * d->c);
        if (!d->pixels)
            st = CLNET_ERR_OUT_OF_MEMORY;
    }
    if (st == CLNET_OK) {
        const size_t bytes = (size_t)d->h * d->w * d->c;
        st = clnet__image_convert(img, h, w, comp, d->pixels + bytes * (size_t)d->size, d->h, d->w,
                                  d->c);
    }
    if (st == CLNET_OK)
        d->labels[d->size++] = label;
    stbi_image_free(img);
    return st;
}

clnet_status clnet__folder_open(clnet_dataset *d, const char *dir, const clnet_dataset_options *opt,
                                char *err, size_t err_len)
{
    names classes = {NULL, 0, 0};
    names *files = NULL;
    char *class_dir = NULL, *path = NULL;
    int loose = 0, total = 0;
    clnet_status st = list_dir(dir, 1, &classes, &loose, err, err_len);
    if (st != CLNET_OK)
        goto done;
    if (classes.n == 0) {
        st = clnet__data_fail(err, err_len, CLNET_ERR_INVALID_ARG,
                              "%s: no class folders (expected one sub-folder of images per "
                              "class; found %d other entries)",
                              dir, loose);
        goto done;
    }
    files = calloc((size_t)classes.n, sizeof *files);
    if (!files) {
        st = clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of memory", dir);
        goto done;
    }
    for (int k = 0; k < classes.n; ++k) {
        class_dir = clnet__path_join(dir, classes.items[k]);
        int others = 0;
        st = class_dir ? list_dir(class_dir, 0, &files[k], &others, err, err_len)
                       : clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY,
                                          "%s: out of memory", dir);
        if (st == CLNET_OK && files[k].n == 0)
            st = clnet__data_fail(
                err, err_len, CLNET_ERR_INVALID_ARG,
                "%s: empty class folder (no JPEG, PNG, BMP, GIF, TGA or PNM files)", class_dir);
        if (st != CLNET_OK)
            goto done;
        if (files[k].n > 0x7fffffff - total) {
            st = clnet__data_fail(err, err_len, CLNET_ERR_TOO_LARGE, "%s: too many images", dir);
            goto done;
        }
        total += files[k].n;
        free(class_dir);
        class_dir = NULL;
    }
    d->labels = malloc((size_t)total * sizeof *d->labels);
    if (!d->labels) {
        st = clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of memory", dir);
        goto done;
    }
    for (int k = 0; k < classes.n; ++k) {
        const int before = d->size;
        class_dir = clnet__path_join(dir, classes.items[k]);
        for (int j = 0; st == CLNET_OK && class_dir && j < files[k].n; ++j) {
            path = clnet__path_join(class_dir, files[k].items[j]);
            int decoded = 0;
            char why[256] = "";
            st = path ? decode(d, path, k, total, opt, &decoded, why, sizeof why)
                      : CLNET_ERR_OUT_OF_MEMORY;
            if (st == CLNET_OK && !decoded) {
                ++d->skipped;
                log_line(opt, 1, "skipped %s: %s", path, why);
            }
            free(path);
            path = NULL;
        }
        if (st != CLNET_OK || !class_dir) {
            st = clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY,
                                  "%s: out of memory decoding %d images", dir, total);
            goto done;
        }
        if (d->size == before) {
            st = clnet__data_fail(err, err_len, CLNET_ERR_INVALID_ARG,
                                  "%s: none of its %d images could be decoded", class_dir,
                                  files[k].n);
            goto done;
        }
        free(class_dir);
        class_dir = NULL;
    }
    if (d->size < total) { /* give back the slots of skipped images */
        uint8_t *fewer = realloc(d->pixels, (size_t)d->size * d->h * d->w * d->c);
        d->pixels = fewer ? fewer : d->pixels;
    }
    st = clnet__dataset_set_names(d, (const char *const *)classes.items, classes.n);
    if (st != CLNET_OK)
        clnet__data_fail(err, err_len, st, "%s: out of memory", dir);
    else
        log_line(opt, 2, "%s: %d images in %d classes, %d skipped, %dx%dx%d", dir, d->size,
                 d->classes, d->skipped, d->h, d->w, d->c);
done:
    for (int k = 0; files && k < classes.n; ++k)
        names_free(&files[k]);
    free(files);
    names_free(&classes);
    free(class_dir);
    return st;
}
